"""Throughput and memory of order aggregation: N orders (CSV) into customer features.

    python benchmarks/bench_orders.py [--orders N] [--customers M]

Writes N synthetic orders (fixed seed) for M customers, then times reading the CSV and
aggregating it (what ``tierkit evaluate … --orders`` does before evaluating), and
prints orders/s and peak RSS.  The issue's bar: 1,000,000 orders in under 10 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from tierkit.engine import paused_gc
from tierkit.io import read_rows
from tierkit.manager import make_registry
from tierkit.orders import aggregate_orders

AS_OF = dt.date(2026, 11, 1)


def write_orders(path: Path, orders: int, customers: int, seed: int = 20261122) -> None:
    rng = random.Random(seed)
    start = AS_OF - dt.timedelta(days=3 * 365)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "order_date", "amount", "paid_amount", "due_date"])
        for _ in range(orders):
            day = start + dt.timedelta(days=rng.randrange(3 * 365 + 30))
            amount = round(rng.lognormvariate(7, 1.2), 2)
            writer.writerow([
                f"M{int(customers * rng.random() ** 2):07d}",  # skewed: a few customers order most
                day.isoformat(),
                amount,
                amount if rng.random() < 0.9 else round(amount / 2, 2),
                (day + dt.timedelta(days=30)).isoformat(),
            ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args(argv)
    registry = make_registry()
    with tempfile.TemporaryDirectory(prefix="tierkit-orders-") as tmp:
        path = Path(tmp) / "orders.csv"
        write_orders(path, args.orders, args.customers)
        start = time.perf_counter()
        with paused_gc():
            summary = aggregate_orders(str(path), read_rows(path, registry), AS_OF)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"order aggregation: {args.orders:,} orders, {len(summary.features):,} customers, as of {AS_OF}; Python {sys.version.split()[0]}")
    print(f"{summary.describe()}")
    print(f"seconds {seconds:.2f}   orders/s {args.orders / seconds:,.0f}   peak RSS {peak:.1f} MiB")
    return 0 if summary.read == args.orders else 1


if __name__ == "__main__":
    sys.exit(main())
