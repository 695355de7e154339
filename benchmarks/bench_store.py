"""Saving a run to the run store and comparing two runs, for N customers.

    python benchmarks/bench_store.py [--customers 100000]

Times ``Store.save`` (what ``evaluate --save`` adds to a run) and ``Store.compare``
(what ``tierkit diff`` does) against a plain reference in the same run: the same
outcome rows inserted with one ``executemany`` into a bare SQLite table.  Prints
seconds, customers/s, the ratio to the reference and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from tierkit.engine.evaluation import load_plan
from tierkit.manager import make_registry
from tierkit.store.runs import Store

RULESET = Path(__file__).resolve().parent.parent / "tests" / "history" / "graded.yaml"
AS_OF = dt.date(2026, 9, 1)


def plain_reference(folder: Path, evaluation) -> float:
    """The floor: every (customer, scheme, label) row written with one executemany."""
    rows = [(row[0], scheme.id, str(row[scheme.slot.index][0]))
            for row in evaluation.rows for scheme in evaluation.plan.schemes]
    started = time.perf_counter()
    with sqlite3.connect(folder / "plain.sqlite") as db:
        db.execute("CREATE TABLE outcomes (customer TEXT, scheme TEXT, label TEXT)")
        db.executemany("INSERT INTO outcomes VALUES (?, ?, ?)", rows)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    count = args.customers
    bound = load_plan(RULESET, make_registry(), AS_OF)
    evaluation = bound.run([[f"C{i:07d}", None, float(i % 100), float(i % 300), float(i % 97)] for i in range(count)])
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        reference = plain_reference(folder, evaluation)
        with Store.open(folder / "runs.sqlite", create=True) as store:
            started = time.perf_counter()
            first = store.save(evaluation, "customers.csv")
            saved = time.perf_counter() - started
            second = store.save(evaluation, "customers.csv")
            started = time.perf_counter()
            store.compare(first, second, ("at_risk",))
            compared = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"run store: {count:,} customers, {len(bound.plan.schemes)} schemes; Python {sys.version.split()[0]}")
    print(f"{'stage':<36} {'seconds':>8} {'customers/s':>12} {'x plain':>8}")
    for name, seconds in (("plain executemany (reference)", reference), ("Store.save (evaluate --save)", saved),
                          ("Store.compare (tierkit diff)", compared)):
        print(f"{name:<36} {seconds:8.3f} {count / seconds:12,.0f} {seconds / reference:7.2f}x")
    print(f"peak RSS: {peak:.1f} MiB")


if __name__ == "__main__":
    main()
