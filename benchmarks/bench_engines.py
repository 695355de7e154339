"""The engines end to end: `tierkit evaluate retail-membership --orders orders.parquet`.

    python benchmarks/bench_engines.py --customers 10000,100000,1000000 --engines python,duckdb
    python benchmarks/bench_engines.py --customers 1000000 --engines spark
    python benchmarks/bench_engines.py --customers 10000000 --orders-per-customer 10 --engines duckdb

Generates members and their orders (fixed seed; DuckDB writes the Parquet file, with a
few members ordering most), then runs the real command line once per engine and size
as a child process, and prints wall time, customers/s, orders/s and the child's peak
RSS.  The retail chain of the issue: 10 million members with 100 million orders must
run on the DuckDB engine in under 3 minutes and 8 GiB on this 2-core machine.
Generated data is kept under benchmarks/_data/ (ignored by git) and reused.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "_data"
AS_OF = "2026-11-01"


def orders_file(customers: int, per_customer: int) -> Path:
    """``customers`` members with ``per_customer`` orders each on average, as Parquet."""
    import duckdb

    path = DATA / f"orders-{customers}x{per_customer}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    orders = customers * per_customer
    partial = path.with_suffix(".partial")
    connection = duckdb.connect()
    connection.execute("SET preserve_insertion_order = false")
    connection.execute("SET enable_progress_bar = false")
    # hash() spreads ids; squaring a uniform draw skews them: a few members order most.
    connection.execute(f"""
        COPY (
          SELECT
            'O' || lpad(CAST(i AS VARCHAR), 10, '0') AS order_id,
            'M' || lpad(CAST(CAST(floor({customers} * pow((hash(i, 1) % 4294967296) / 4294967296.0, 2)) AS BIGINT) AS VARCHAR), 8, '0') AS customer_id,
            DATE '2021-11-01' + CAST(hash(i, 2) % 1826 AS INTEGER) AS order_date,
            round(exp(5 + (hash(i, 3) % 1000) / 400.0), 2) AS amount
          FROM range({orders}) AS t(i)
        ) TO '{partial}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """)
    connection.close()
    partial.rename(path)
    return path


def run(engine: str, orders: Path, output: Path, memory_limit: str | None = None) -> tuple[float, float, str]:
    """Run the CLI in a child process; its wall time, its own peak RSS (MiB) and summary line."""
    command = [
        str(Path(sys.executable).with_name("tierkit")), "evaluate", "retail-membership", "--orders", str(orders),
        "--as-of", AS_OF, "--engine", engine, "-o", str(output), "--rejected", str(output) + ".rejected.csv",
        "--no-progress",
    ] + (["--memory-limit", memory_limit] if memory_limit and engine != "python" else [])
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # the usage of this child alone
        seconds = time.perf_counter() - start
        stderr.seek(0)
        messages = stderr.read().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{engine} failed: {messages[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, messages.splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", default="10000,100000,1000000", help="Comma-separated member counts.")
    parser.add_argument("--orders-per-customer", type=int, default=10)
    parser.add_argument("--engines", default="python,duckdb", help="Comma-separated: python, duckdb, spark.")
    parser.add_argument("--output", choices=["parquet", "jsonl", "csv"], default="parquet")
    parser.add_argument("--memory-limit", help="Passed to the SQL engines (e.g. 6GB).")
    args = parser.parse_args(argv)
    print(f"{'engine':<8} {'members':>12} {'orders':>13} {'seconds':>9} {'members/s':>11} {'orders/s':>12} {'peak RSS':>10}")
    for customers in (int(n) for n in args.customers.split(",")):
        orders = orders_file(customers, args.orders_per_customer)
        for engine in args.engines.split(","):
            output = DATA / f"results-{engine}-{customers}.{args.output}"
            seconds, peak, summary = run(engine, orders, output, args.memory_limit)
            total = customers * args.orders_per_customer
            print(f"{engine:<8} {customers:>12,} {total:>13,} {seconds:>9.1f} {customers / seconds:>11,.0f} "
                  f"{total / seconds:>12,.0f} {peak:>8,.0f} MiB", flush=True)
            print(f"         {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
