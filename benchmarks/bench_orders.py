"""Throughput and memory of order aggregation: N orders (CSV) into customer features.

    python benchmarks/bench_orders.py [--orders N] [--customers M] [--engine python|duckdb]

Writes N synthetic orders (fixed seed) for M customers, then times reading the CSV and
aggregating it (what ``tierkit evaluate … --orders`` does before evaluating), and
prints orders/s and peak RSS.  The issue's bar: 1,000,000 orders in under 10 s.

``--engine duckdb`` times the DuckDB engine's order SQL (``tierkit.engine.sql.orders``) in two
stages, the typing of the text cells and the one grouped pass with the features, and
in the same run a polars script of the same features (a typed ``read_csv`` and one
``group_by``), checking that both give the same features for every customer.
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

from tierkit.engine.evaluation import paused_gc
from tierkit.io.tables import read_rows
from tierkit.manager import make_registry
from tierkit.engine.orders import aggregate_orders

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


def duckdb_run(path: Path) -> dict:
    """The DuckDB engine's order features: (typing seconds, grouping seconds, features by id)."""
    import dataclasses

    from sqlglot import exp

    from tierkit.engine.sql.dialect import DUCKDB
    from tierkit.engine.sql.connection import open_engine
    from tierkit.engine.sql.orders import order_aggregation

    engine = open_engine("duckdb")
    start = time.perf_counter()
    source_types = engine.register_file("raw_orders", str(path), "csv")
    order_sql = order_aggregation(DUCKDB, "raw_orders", source_types, None, AS_OF, str(path))
    engine.register_udfs(order_sql.udfs)
    engine.materialize("typed_orders", order_sql.typed_sql)
    typed = time.perf_counter()
    grouped = dataclasses.replace(order_sql, typed=exp.select(exp.Star()).from_("typed_orders"))
    engine.materialize("per_key", grouped.per_key)
    rows = engine.rows(grouped.features_from('"per_key"'))
    done = time.perf_counter()
    names = [row[0] for row in engine.connection.execute(f"DESCRIBE {grouped.features_from('per_key')}").fetchall()]
    return {"typing": typed - start, "grouping": done - typed,
            "features": {row[0]: dict(zip(names, row)) for row in rows}}


def polars_run(path: Path) -> dict:
    """The same features as a polars script: a typed read and one group_by."""
    import polars as pl

    start = time.perf_counter()
    orders = pl.read_csv(path, schema={"customer_id": pl.Utf8, "order_date": pl.Date, "amount": pl.Float64,
                                       "paid_amount": pl.Float64, "due_date": pl.Date})
    typed = time.perf_counter()
    as_of, last_start, prev_start = AS_OF, AS_OF - dt.timedelta(days=365), AS_OF - dt.timedelta(days=730)
    units = (pl.col("amount") * 1e6 + 0.5).floor().cast(pl.Int64)
    paid = (pl.col("paid_amount") * 1e6 + 0.5).floor().cast(pl.Int64).fill_null(0)
    day = pl.col("order_date")
    totals = orders.lazy().filter(day <= as_of).group_by("customer_id").agg(
        pl.len().alias("n"), units.sum().alias("revenue"), day.min().alias("first"), day.max().alias("last"),
        units.filter(day > last_start).sum().alias("last_12m"),
        units.filter((day <= last_start) & (day > prev_start)).sum().alias("prev_12m"),
        (units - paid).filter((pl.col("due_date") < as_of) & (paid < units)).sum().alias("overdue"),
    ).collect()
    # polars divides a column by a constant through its reciprocal (off by one ulp); numpy divides
    money = lambda name: pl.col(name).map_batches(lambda s: pl.Series(s.to_numpy() / 1e6), return_dtype=pl.Float64)  # noqa: E731
    tenure = (pl.lit(as_of) - pl.col("first")).dt.total_days()
    features = totals.select(
        "customer_id", pl.col("n").alias("order_count"), money("revenue").alias("revenue"),
        pl.col("first").alias("first_order_date"), pl.col("last").alias("last_order_date"),
        (pl.lit(as_of) - pl.col("last")).dt.total_days().alias("recency_days"), tenure.alias("tenure_days"),
        (money("revenue") / pl.col("n")).alias("avg_order_value"),
        (pl.col("n") * 365 / pl.max_horizontal(tenure, pl.lit(365))).alias("orders_per_year"),
        money("last_12m").alias("revenue_last_12m"), money("prev_12m").alias("revenue_prev_12m"),
        pl.when(pl.col("prev_12m") != 0).then(money("last_12m") / money("prev_12m")).alias("revenue_trend"),
        money("overdue").alias("overdue_amount"),
    )
    done = time.perf_counter()
    return {"typing": typed - start, "grouping": done - typed,
            "features": {row["customer_id"]: row for row in features.iter_rows(named=True)}}


def compare_engines(path: Path, orders: int) -> int:
    duck, polars = duckdb_run(path), polars_run(path)
    wrong = [key for key, row in polars["features"].items()
             if any(row[name] != duck["features"].get(key, {}).get(name) for name in row if name != "customer_id")]
    assert duck["features"].keys() == polars["features"].keys(), "different customers"
    print(f"order features: {orders:,} orders, {len(duck['features']):,} customers, as of {AS_OF}; "
          f"customers with a different feature: {len(wrong)}")
    print("engine    typing s   grouping s   total s")
    for name, run in (("duckdb", duck), ("polars", polars)):
        print(f"{name:8} {run['typing']:9.2f} {run['grouping']:12.2f} {run['typing'] + run['grouping']:9.2f}")
    ratio = (duck["typing"] + duck["grouping"]) / (polars["typing"] + polars["grouping"])
    print(f"duckdb / polars: total {ratio:.2f}x   grouping {duck['grouping'] / polars['grouping']:.2f}x")
    return 1 if wrong else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--engine", choices=("python", "duckdb"), default="python")
    args = parser.parse_args(argv)
    registry = make_registry()
    with tempfile.TemporaryDirectory(prefix="tierkit-orders-") as tmp:
        path = Path(tmp) / "orders.csv"
        write_orders(path, args.orders, args.customers)
        if args.engine == "duckdb":
            return compare_engines(path, args.orders)
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
