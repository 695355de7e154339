"""Throughput and memory of tierkit against a hand-written and a naive evaluator.

    python benchmarks/bench_evaluate.py [--customers N] [--repeat R]

Generates N synthetic ``b2b-manufacturing`` customers (fixed seed), writes them to a CSV
in a temporary folder, then measures customers per second for:

1. the tierkit evaluation stage, on already-typed rows (no parsing timed);
2. tierkit end to end, CSV in to JSON Lines out, through ``tierkit.cli.main`` in-process;
3. the hand-written Python function (``handwritten.evaluate_handwritten``);
4. the naive evaluator calling Jinja's sandboxed expressions per customer
   (on at most 20,000 customers, because it is slow).

Stages 1-3 report the best of R runs. Every stage runs with the cycle collector paused,
as tierkit's own evaluation stage does (``tierkit.engine.evaluation.paused_gc``), so the ratios
compare the code, not the collector.  Every tierkit result is checked against the
hand-written function (track, grade, score within 1e-9, rank, allocation, matrix cell); any
disagreement prints the first few differences and exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib.util
import io
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from tierkit.engine.evaluation import paused_gc

HERE = Path(__file__).resolve().parent
RULESET = "b2b-manufacturing"
AS_OF = datetime.date(2026, 11, 1)
SEED = 20261122
NAIVE_LIMIT = 20_000
SCORE_TOLERANCE = 1e-9
SHOW_DIFFS = 10


def _load(name: str, path: Path):
    """Import a sibling script by path; ``examples/`` and ``benchmarks/`` are not packages."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generate = _load("tierkit_examples_generate", HERE.parent / "examples" / "generate.py")
handwritten = _load("tierkit_bench_handwritten", HERE / "handwritten.py")


def best_of(repeat: int, run, setup=None):
    """Return (best seconds, last result) of ``run(setup())`` over ``repeat`` runs."""
    best, result = float("inf"), None
    for _ in range(repeat):
        arg = setup() if setup else None
        gc.collect()
        with paused_gc():
            start = time.perf_counter()
            result = run(arg)
            best = min(best, time.perf_counter() - start)
    return best, result


def tierkit_results(evaluation, customers: list[dict]) -> list[dict]:
    """Read an evaluation back into the shape the reference evaluators return."""
    return [{"id": c["id"], "track": evaluation.label(i, "track"),
             "grade": evaluation.label(i, "grade"), "score": evaluation.score(i, "grade"),
             "rank": evaluation.rank(i), "allocation": evaluation.allocation_rule(i),
             "matrix": evaluation.label(i, "value_matrix")}
            for i, c in enumerate(customers)]


def differences(customers: list[dict], got: list[dict], expected: list[dict]) -> list[str]:
    """One line per customer whose result differs; score compared within 1e-9."""
    diffs = []
    for customer, g, e in zip(customers, got, expected):
        wrong = []
        for key in ("track", "grade", "rank", "allocation", "matrix"):
            if g[key] != e[key]:
                wrong.append(f"{key} {g[key]!r} != {e[key]!r}")
        gs, es = g["score"], e["score"]
        if (gs is None) != (es is None) or (gs is not None and abs(gs - es) > SCORE_TOLERANCE):
            wrong.append(f"score {gs!r} != {es!r}")
        if wrong:
            diffs.append(f"{customer['id']}: " + "; ".join(wrong))
    if len(got) != len(expected):
        diffs.append(f"{len(got)} results for {len(expected)} customers")
    return diffs


def run_tierkit(customers: list[dict], csv_path: Path, out_dir: Path, repeat: int):
    """Time the evaluation stage and the CLI end to end.

    Returns (evaluation seconds, end-to-end seconds, results, rejected rows as text).
    """
    from tierkit import cli
    from tierkit.engine.evaluation import load_plan
    from tierkit.manager import make_registry

    plan = load_plan(RULESET, make_registry(), as_of=AS_OF)
    names = [f.name for f in plan.fields]

    def typed_rows():  # fresh lists each run: plan.run mutates and extends them
        return [[c[name] for name in names] for c in customers]

    eval_seconds, evaluation = best_of(repeat, plan.run, typed_rows)
    rejected = [f"rejected: {r}" for r in getattr(evaluation, "rejected", [])]
    results = [] if rejected else tierkit_results(evaluation, customers)

    out = out_dir / "results.jsonl"
    args = ["evaluate", RULESET, str(csv_path), "-o", str(out), "--as-of", AS_OF.isoformat()]

    def end_to_end(_):
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            code = cli.main(args)  # the console script's entry point, minus sys.exit
        if code:
            raise SystemExit(f"tierkit {' '.join(args)} exited with {code}:\n"
                             f"{captured.getvalue()}")

    e2e_seconds, _ = best_of(repeat, end_to_end)
    if not out.exists() or out.stat().st_size == 0:
        raise SystemExit(f"tierkit evaluate wrote nothing to {out}")
    return eval_seconds, e2e_seconds, results, rejected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="R")
    args = parser.parse_args(argv)
    n, repeat = args.customers, max(1, args.repeat)

    customers = generate.generate_b2b(n, SEED)
    naive_n = min(n, NAIVE_LIMIT)
    with tempfile.TemporaryDirectory(prefix="tierkit-bench-") as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "customers.csv"
        generate.write_csv(csv_path, customers)

        hand_seconds, expected = best_of(
            repeat, lambda _: handwritten.evaluate_handwritten(customers, AS_OF))
        ruleset = handwritten.load_ruleset()
        with paused_gc():
            start = time.perf_counter()
            naive = handwritten.evaluate_naive(customers[:naive_n], AS_OF, ruleset)
            naive_seconds = time.perf_counter() - start
        naive_diffs = differences(
            customers, naive, handwritten.evaluate_handwritten(customers[:naive_n], AS_OF))

        try:
            eval_seconds, e2e_seconds, got, rejected = run_tierkit(
                customers, csv_path, tmp, repeat)
            diffs = rejected or differences(customers, got, expected)
        except ImportError as exc:  # the engine is not importable: report the rest
            unavailable = f"tierkit could not be imported ({exc}); nothing was compared"
            eval_seconds = e2e_seconds = None
            diffs = []
        else:
            unavailable = None

    def rate(count, seconds):
        return count / seconds if seconds else float("inf")

    rows = [
        ("tierkit evaluation stage", n, eval_seconds),
        ("tierkit end to end (CSV -> JSONL)", n, e2e_seconds),
        ("hand-written Python", n, hand_seconds),
        ("naive sandboxed Jinja", naive_n, naive_seconds),
    ]
    print(f"{RULESET}: {n:,} customers, as of {AS_OF}, best of {repeat}; "
          f"Python {platform.python_version()} on {platform.machine()}")
    print(f"{'stage':<36}{'customers':>11}{'seconds':>10}{'customers/s':>14}")
    for label, count, seconds in rows:
        if seconds is None:
            print(f"{label:<36}{count:>11,}{'n/a':>10}{'n/a':>14}")
        else:
            print(f"{label:<36}{count:>11,}{seconds:>10.3f}{rate(count, seconds):>14,.0f}")
    if eval_seconds is not None:
        tierkit_rate = rate(n, eval_seconds)
        print(f"tierkit / hand-written: {tierkit_rate / rate(n, hand_seconds):.2f}x   "
              f"tierkit / naive: {tierkit_rate / rate(naive_n, naive_seconds):.1f}x   "
              "(evaluation stage)")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak RSS: {peak_kib / 1024:.1f} MiB")

    failed = unavailable is not None
    if unavailable:
        print(f"\n{unavailable}")
    for name, found in (("tierkit", diffs), ("naive evaluator", naive_diffs)):
        if found:
            failed = True
            print(f"\n{name} disagrees with the hand-written function on "
                  f"{len(found):,} customers; first {min(len(found), SHOW_DIFFS)}:")
            for line in found[:SHOW_DIFFS]:
                print(f"  {line}")
    if not failed:
        print(f"agreement: all {n:,} tierkit results match the hand-written function")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
