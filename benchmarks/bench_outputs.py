"""Peak memory of ``tierkit evaluate`` by output format: every format should stream.

    python benchmarks/bench_outputs.py                          # 200,000 customers
    python benchmarks/bench_outputs.py --size 20000 --engines python

The bundled b2b customers resampled to ``--size`` rows (fixed seed, new ids: the file
``bench_one_definition`` makes), evaluated by the whole user command
``python -m tierkit -q evaluate b2b-manufacturing big.csv -o out.<fmt> --engine <engine>``
for each format (JSON Lines, CSV, Parquet, XLSX) and engine.  Each run is a child
process timed from outside, with its peak RSS from ``/usr/bin/time``; the table gives
wall seconds, customers per second, peak MiB and the ratio of the peak to the JSON
Lines run's on the same engine (the bar: 1.2).  Wall times share the machine with
whatever else runs; the memory figures do not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_one_definition import AS_OF, DATA, customers, peak_run  # noqa: E402

FORMATS = ("jsonl", "csv", "parquet", "xlsx")
ENGINES = ("python", "duckdb")
BAR = 1.2


def command(source: Path, output: Path, engine: str) -> list[str]:
    return [sys.executable, "-m", "tierkit", "-q", "evaluate", "b2b-manufacturing", str(source), "-o", str(output),
            "--as-of", AS_OF, "--engine", engine]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200_000, help="customers (default 200,000)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--formats", default=",".join(FORMATS), help="JSON Lines always runs: it is the yardstick")
    parser.add_argument("--out", type=Path, default=DATA / "outputs", help="where the outputs are left (default _data/outputs)")
    args = parser.parse_args(argv)
    source = customers(args.size)
    formats = ["jsonl", *(fmt for fmt in args.formats.split(",") if fmt != "jsonl")]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"{args.size:,} customers from {source.name}")
    print("| engine | format | wall s | customers/s | peak MiB | × JSON Lines peak |")
    print("|---|---|---:|---:|---:|---:|")
    over = []
    for engine in args.engines.split(","):
        floor = None
        for fmt in formats:
            output = out / f"{engine}-{args.size}.{fmt}"
            output.unlink(missing_ok=True)
            wall, peak = peak_run(f"{engine} → {fmt}", command(source, output, engine))
            floor = floor or peak
            ratio = peak / floor
            if ratio > BAR:
                over.append(f"{engine} {fmt}")
            print(f"| {engine} | {fmt} | {wall:.1f} | {args.size / wall:,.0f} | {peak:,.0f} | {ratio:.2f} |", flush=True)
    print(f"over {BAR}× the JSON Lines peak: {', '.join(over) if over else 'none'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
