"""One definition per kind: design (a) DuckDB only against design (b) Python + SQL.

    python benchmarks/bench_one_definition.py                      # 600, 200,000, 1,000,000
    python benchmarks/bench_one_definition.py --sizes 600 --repeat 5   # start-up: the fastest of 5

The ``grade`` (weighted) and ``pareto`` schemes of
``benchmarks/one_definition/b2b-pareto.yaml``, CSV in, Parquet or JSON Lines out,
on the bundled b2b customers resampled (fixed seed, new ids) to each size:

* ``a-duckdb``: the IR lowered to SQL, one DuckDB statement (typed read_csv → query → COPY), reasons as codes;
* ``b-python``: the IR lowered to Python row and population steps, reasons as codes;
* ``ref-polars`` / ``ref-duckdb``: the same rules written by hand, no reasons (the peers);
* ``tierkit-python`` / ``tierkit-duckdb``: today's whole ``python -m tierkit evaluate``
  with ``b2b-grade-pareto.yaml`` (the same two schemes), at the sizes up to 200,000.

Each run is a child process; the table gives its wall time, the ratio to
``ref-polars`` writing the same format, rows/s, and the child's peak RSS (from
``/usr/bin/time``).  Every output is then checked against ``a-duckdb`` row by row:
labels, scores to 1e-9, and for ``b-python`` every reason code and parameter.
Finally the reasons of the 200,000-row JSON Lines are put into zh words, timed.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "benchmarks" / "_data"
CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
HERE = ROOT / "benchmarks" / "one_definition"
AS_OF = "2026-11-01"
VARIANTS = ("a-duckdb", "b-python", "ref-polars", "ref-duckdb", "tierkit-python", "tierkit-duckdb")


def customers(size: int) -> Path:
    """The bundled customers resampled to ``size`` rows with new ids (kept under _data/)."""
    path = DATA / f"b2b-customers-{size}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    lines = CUSTOMERS.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    draw = random.Random(13)
    with open(path.with_suffix(".partial"), "w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        for index in range(size):
            row = draw.choice(rows)
            handle.write(f"C{index:08d}{row[row.index(','):]}\n")
    path.with_suffix(".partial").rename(path)
    return path


def child(variant: str, source: Path, output: Path) -> None:
    """Run one variant in this process (the parent times it from outside); each imports
    only what it runs, so that the peers do not pay for the IR's imports."""
    if variant.startswith("ref-"):
        from benchmarks.one_definition import references

        {"ref-polars": references.run_polars, "ref-duckdb": references.run_duckdb}[variant](source, output)
        return
    from benchmarks.one_definition import engines, program

    run = {"a-duckdb": engines.run_duckdb, "b-python": engines.run_python}.get(variant)
    if run is None:
        raise SystemExit(f"unknown variant {variant}")
    run(program.load(), source, output)


def command(variant: str, source: Path, output: Path) -> list[str]:
    if variant.startswith("tierkit-"):
        return [sys.executable, "-m", "tierkit", "evaluate", str(HERE / "b2b-grade-pareto.yaml"), str(source),
                "--as-of", AS_OF, "--engine", variant.split("-")[1], "-o", str(output), "--no-progress"]
    return [sys.executable, __file__, "--child", variant, str(source), str(output)]


def measure(variant: str, source: Path, output: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child run."""
    output.unlink(missing_ok=True)
    return peak_run(variant, command(variant, source, output))


def peak_run(name: str, argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, from ``/usr/bin/time``) of ``argv`` run as a child;
    a failed run stops the benchmark with its error."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def check(outputs: dict[str, Path]) -> list[str]:
    """Differences of every output from a-duckdb's (labels, scores; all columns for b-python)."""
    import polars as pl

    def frame(path: Path) -> pl.DataFrame:
        table = jsonl_frame(path) if path.suffix == ".jsonl" else pl.read_parquet(path)
        renames = {c: c.removeprefix("outcomes.") for c in table.columns if c.startswith("outcomes.")}
        return table.rename(renames)

    base = frame(outputs["a-duckdb"])
    found = []
    for variant, path in outputs.items():
        if variant == "a-duckdb":
            continue
        other = frame(path)
        if other.height != base.height:
            found.append(f"{variant}: {other.height} rows, a-duckdb {base.height}")
            continue
        columns = [c for c in base.columns if c in other.columns and c != "id"]
        if variant == "b-python" and set(columns) != set(base.columns) - {"id"}:
            found.append(f"b-python lacks {sorted(set(base.columns) - set(columns) - {'id'})}")
        joined = base.select("id", *columns).join(other.select("id", *columns), on="id", suffix=":other")
        for column in columns:
            left, right = pl.col(column), pl.col(f"{column}:other")
            if base.schema[column] == pl.Float64:
                equal = (left - right.cast(pl.Float64)).abs() <= 1e-9 * pl.max_horizontal(left.abs(), 1.0)
            elif isinstance(base.schema[column], pl.List):  # reasons: the same codes in the same order
                equal = left == right
            else:
                equal = left == right.cast(base.schema[column])
            bad = joined.filter(~(equal.fill_null(False) | (left.is_null() & right.is_null()))).height
            if bad or joined.height != base.height:
                found.append(f"{variant}: {column} differs on {bad} rows ({joined.height} joined)")
    return found


def jsonl_frame(path: Path):
    """A JSON Lines output as a polars frame, each reasons list cut to its codes (read by
    DuckDB: polars' reader takes over 10 GiB for a million rows of nested reasons)."""
    import duckdb
    import polars as pl

    with open(path, encoding="utf-8") as handle:
        keys = list(json.loads(handle.readline()))
    types = {key: "JSON" if key.endswith(".reasons") else "DOUBLE" if "score" in key or "share" in key else "VARCHAR"
             for key in keys}
    spec = "{" + ", ".join(f"'{k}': '{t}'" for k, t in types.items()) + "}"
    columns = ", ".join(f"json_extract_string(\"{k}\", '$[*].code') AS \"{k}\"" if t == "JSON" else f"\"{k}\""
                        for k, t in types.items())
    arrow = duckdb.connect().sql(f"SELECT {columns} FROM read_json('{path}', columns = {spec}, format = 'newline_delimited')").to_arrow_table()
    return pl.from_arrow(arrow)


def words_timing(jsonl: Path) -> tuple[int, int, float]:
    """Rows, reasons, and seconds to put every reason of ``jsonl`` into zh words."""
    from benchmarks.one_definition import program, words

    logics = program.load().schemes
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    renderers = [(f"{logic.scheme}.reasons", words.Words(logic.names, "zh")) for logic in logics]
    started = time.perf_counter()
    count = 0
    for row in rows:
        for column, renderer in renderers:
            texts = [renderer.render(reason) for reason in row[column]]
            count += len(texts)
    return len(rows), count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "SOURCE", "OUTPUT"))
    parser.add_argument("--sizes", default="600,200000,1000000")
    parser.add_argument("--formats", default="parquet,jsonl")
    parser.add_argument("--repeat", type=int, default=1, help="run each variant this many times, interleaved; report the fastest")
    parser.add_argument("--tierkit-up-to", type=int, default=200_000)
    parser.add_argument("--skip-tierkit", action="store_true")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="which variants to run (ref-polars always runs)")
    parser.add_argument("--check-existing", action="store_true",
                        help="check the outputs a previous run left under _data/ and time the words; run nothing")
    args = parser.parse_args()
    if args.child:
        variant, source, output = args.child
        child(variant, Path(source), Path(output))
        return
    out = DATA / "one_definition"
    out.mkdir(parents=True, exist_ok=True)
    print("| rows | format | variant | wall s | × ref-polars | rows/s | peak RSS MiB |")
    print("|---:|---|---|---:|---:|---:|---:|")
    problems, words_jsonl = [], None
    for size in (int(s) for s in args.sizes.split(",")):
        source = customers(size)
        for fmt in args.formats.split(","):
            chosen = set(args.variants.split(",")) | {"ref-polars", "a-duckdb"}
            variants = [v for v in VARIANTS if v in chosen and (not v.startswith("tierkit-")
                        or (not args.skip_tierkit and size <= args.tierkit_up_to and fmt == "parquet"))]
            outputs, results = {v: out / f"{v}-{size}.{fmt}" for v in variants}, {}
            if args.check_existing:
                outputs = {v: path for v, path in outputs.items() if path.exists()}
            else:
                for _ in range(args.repeat):  # the fastest of the repeats: the least disturbed by other work
                    for variant in variants:
                        wall, rss = measure(variant, source, outputs[variant])
                        best = results.get(variant, (wall, rss))
                        results[variant] = (min(wall, best[0]), max(rss, best[1]))
            floor = results.get("ref-polars", (1.0,))[0]
            for variant, (wall, rss) in results.items():
                print(f"| {size:,} | {fmt} | {variant} | {wall:.2f} | {wall / floor:.2f} | {size / wall:,.0f} | {rss:,.0f} |",
                      flush=True)
            problems += [f"{size} {fmt} {p}" for p in check(outputs)]
            if fmt == "jsonl" and size == 200_000:
                words_jsonl = outputs["a-duckdb"]
    print()
    print("row-by-row check:", "all variants agree" if not problems else "\n  " + "\n  ".join(problems))
    if words_jsonl is not None:
        rows, reasons, seconds = words_timing(words_jsonl)
        print(f"words: {reasons:,} reasons of {rows:,} rows into zh text in {seconds:.2f} s ({reasons / seconds:,.0f} reasons/s)")


if __name__ == "__main__":
    main()
