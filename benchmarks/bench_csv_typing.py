"""CSV input typing on each engine: `tierkit evaluate b2b-manufacturing customers.csv -o out.parquet`.

    python benchmarks/bench_csv_typing.py --customers 600,200000,500000 --engines python,duckdb
    python benchmarks/bench_csv_typing.py --customers 200000 --lenient 0.1
    python benchmarks/bench_csv_typing.py --customers 200000 --messy 0.1

The 600-row case is the bundled examples/b2b-manufacturing/customers.csv; larger files
resample its rows (fixed seed) with new ids ``R0000001`` … and are kept under
benchmarks/_data/ (ignored by git).  Each run is the real command line in a child
process (wall time, the child's peak RSS); the size of the DuckDB typing query for the
file's header is printed too.  Run the engines of one size back to back and compare
ratios: the machine is shared.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
DATA = Path(__file__).resolve().parent / "_data"


def customers_file(count: int, lenient: float = 0.0, messy: float = 0.0) -> Path:
    """The bundled customers, or ``count`` rows resampled from them with new ids; in a
    ``lenient`` share of the rows the procurement is written with thousands separators
    (``2,734,000``) and the last order date with slashes (``2026/02/10``), as a
    spreadsheet export does; a ``messy`` share of all the cells is written in a form
    that is not its type's plain one (:func:`messy_cell`)."""
    if count == 600 and not lenient and not messy:
        return EXAMPLE
    suffix = (f"-lenient{lenient:g}" if lenient else "") + (f"-messy{messy:g}" if messy else "")
    path = DATA / f"b2b-customers-{count}{suffix}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    with EXAMPLE.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        header, rows = next(reader), list(reader)
    procurement, last_order = header.index("annual_procurement"), header.index("last_order_date")
    draw = random.Random(13)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(header)
        for number in range(1, count + 1):
            row = list(draw.choice(rows))
            row[0] = f"R{number:07d}"
            if draw.random() < lenient:
                row[procurement] = f"{int(row[procurement]):,}" if row[procurement].isdigit() else row[procurement]
                row[last_order] = row[last_order].replace("-", "/")
            if messy:
                row = [messy_cell(cell, draw) if index and draw.random() < messy else cell
                       for index, cell in enumerate(row)]
            writer.writerow(row)
    partial.rename(path)
    return path


_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def messy_cell(cell: str, draw: random.Random) -> str:
    """``cell`` as people type it in a spreadsheet: a number with thousands separators,
    a currency mark, 万 or full-width digits; a date in Chinese or with slashes; a
    yes/no as 是/否; other text with spaces around it."""
    if cell.isdigit():
        number = int(cell)
        forms = [f"{number:,}", f"¥{number:,}", cell.translate(_FULL_WIDTH), f" {cell} "]
        if number and number % 100 == 0:
            forms.append(f"{number / 10000:g}万")
        return draw.choice(forms)
    if cell.replace(".", "", 1).isdigit():
        return draw.choice([cell.translate(_FULL_WIDTH), f"{cell}%", f" {cell}"])
    if len(cell) == 10 and cell[4] == "-" and cell[7] == "-":
        year, month, day = cell.split("-")
        return draw.choice([f"{year}年{int(month)}月{int(day)}日", cell.replace("-", "/"), cell.replace("-", "")])
    if cell in ("true", "false"):
        return draw.choice(["是", "Y", "yes"] if cell == "true" else ["否", "N", "no"])
    return f" {cell} " if cell else cell


def typing_sql_size(path: Path) -> int:
    """Bytes (UTF-8) of the SQL that types the file on DuckDB (the query the command builds)."""
    probe = (
        "import sys, tierkit.engine.sql.run as r\n"
        "built = r.typed_input\n"
        "def typed_input(*args, **kwargs):\n"
        "    typed = built(*args, **kwargs); print(len(typed.sql.encode()), file=sys.stderr); return typed\n"
        "r.typed_input = typed_input\n"
        "from tierkit.cli import main\n"
        f"main(['evaluate', 'b2b-manufacturing', {str(path)!r}, '--engine', 'duckdb', '-o', {str(DATA / 'typing-size.parquet')!r}, '--no-progress'])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    return int(done.stderr.split()[0])


def run(engine: str, path: Path) -> tuple[float, float]:
    command = [sys.executable, "-m", "tierkit", "evaluate", "b2b-manufacturing", str(path), "--engine", engine,
               "-o", str(DATA / f"typing-{engine}.parquet"), "--no-progress"]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        stderr.seek(0)
        messages = stderr.read().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{engine} failed: {messages[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", default="600,200000", help="Comma-separated row counts (600: the bundled file).")
    parser.add_argument("--engines", default="python,duckdb")
    parser.add_argument("--lenient", type=float, default=0.0,
                        help="Share of rows with a spreadsheet's number and date forms (0: none).")
    parser.add_argument("--messy", type=float, default=0.0,
                        help="Share of cells written otherwise than their type's plain form (0: none).")
    parser.add_argument("--repeat", type=int, default=1, help="Runs per engine and size (the best is kept).")
    args = parser.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    print(f"load average: {os.getloadavg()}")
    print(f"{'rows':>9} {'engine':<8} {'seconds':>9} {'rows/s':>10} {'peak RSS':>10} {'vs python':>9}")
    for count in (int(n) for n in args.customers.split(",")):
        path = customers_file(count, args.lenient, args.messy)
        best: dict[str, float] = {}
        for engine in args.engines.split(","):
            seconds, peak = min(run(engine, path) for _ in range(args.repeat))
            best[engine] = seconds
            ratio = f"{seconds / best['python']:.2f}×" if "python" in best else ""
            print(f"{count:>9,} {engine:<8} {seconds:>9.2f} {count / seconds:>10,.0f} {peak:>6,.0f} MiB {ratio:>9}", flush=True)
    print(f"typing query for {EXAMPLE.name}: {typing_sql_size(EXAMPLE):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
