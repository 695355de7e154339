"""How long the command takes to start: ``tierkit --help`` and ``tierkit validate`` against
the floor of any click + YAML + Jinja program (``python -c "import click, yaml, jinja2"``).

Each command is a fresh process, run ``--repeat`` times; the best wall time counts (the
least disturbed by the rest of the machine).  ``--importtime`` adds the modules that
``tierkit --help`` imports, heaviest first, from ``python -X importtime``.

    python benchmarks/bench_startup.py --repeat 15 --importtime
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

TIERKIT = [sys.executable, "-m", "tierkit"]
COMMANDS = {
    "floor: import click, yaml, jinja2": [sys.executable, "-c", "import click, yaml, jinja2"],
    "tierkit --help": [*TIERKIT, "--help"],
    "tierkit validate b2b-manufacturing": [*TIERKIT, "validate", "b2b-manufacturing"],
}


def best_wall(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def heaviest_imports(count: int) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of ``tierkit --help``'s imports, heaviest first."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "tierkit", "--help"], capture_output=True, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            if not name.startswith("  "):  # top-level imports only; nested ones are inside them
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    floor = None
    print(f"best of {args.repeat}; Python {sys.version.split()[0]}")
    print(f"{'command':<40} {'seconds':>8} {'x floor':>8}")
    for name, command in COMMANDS.items():
        seconds = best_wall(command, args.repeat)
        floor = floor or seconds
        print(f"{name:<40} {seconds:8.3f} {seconds / floor:7.2f}x")
    if args.importtime:
        print("\nheaviest top-level imports of `tierkit --help` (cumulative ms):")
        for micros, name in heaviest_imports(8):
            print(f"  {micros / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
