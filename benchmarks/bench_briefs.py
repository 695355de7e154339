"""How fast briefs render: N ``b2b-manufacturing`` customers, one HTML brief each.

    python benchmarks/bench_briefs.py [--customers N] [--lang zh|en]

Generates N synthetic customers (fixed seed) into a temporary CSV, then times, in
process and with the cycle collector as the CLI leaves it:

1. ``tierkit brief … --all -o DIR/``: evaluate, build each page's context, render one
   HTML file per account (the whole command, reading and evaluating included);
2. the same briefs as one booklet, ``-o briefs.html``;
3. the rendering alone: building contexts and rendering templates for already
   evaluated customers, no files written.

Prints seconds and briefs per second for each, and the peak RSS.  The bar: 1,000
briefs to HTML in under 10 seconds.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULESET = "b2b-manufacturing"
AS_OF = datetime.date(2026, 11, 1)
SEED = 20261122
BAR_SECONDS = 10.0


def _load(name: str, path: Path):
    """Import a sibling script by path; ``examples/`` is not a package."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    options = parser.parse_args(argv)
    n = options.customers

    from tierkit.cli import main as tierkit
    from tierkit.engine import compile_ruleset
    from tierkit.job import run_job
    from tierkit.manager import make_plugin_manager, make_registry
    from tierkit.render import Renderer
    from tierkit.render_brief import BriefBuilder
    from tierkit.ruleset import load_ruleset

    generate = _load("tierkit_examples_generate", HERE.parent / "examples" / "generate.py")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        customers = folder / "customers.csv"
        generate.write_csv(customers, generate.generate_b2b(n, SEED))
        common = [RULESET, str(customers), "--all", "--as-of", AS_OF.isoformat(), "--lang", options.lang]

        def per_account() -> None:
            assert tierkit(["brief", *common, "-o", f"{folder / 'briefs'}/"]) == 0

        def booklet() -> None:
            assert tierkit(["brief", *common, "-o", str(folder / "briefs.html")]) == 0

        rows = []
        rows.append(("brief --all -o DIR/ (end to end)", timed(per_account)))
        written = len(list((folder / "briefs").glob("*.html")))
        assert written == n, f"{written} files for {n} customers"
        rows.append(("brief --all -o briefs.html (end to end)", timed(booklet)))

        registry = make_registry()
        pm = make_plugin_manager()
        plan = compile_ruleset(load_ruleset(RULESET, registry.ruleset_dirs), registry)
        evaluation = run_job(plan, registry, str(customers), None, AS_OF).evaluation
        renderer = Renderer(pm, registry.functions, plan.ruleset.source, options.lang, AS_OF)
        builder = BriefBuilder(evaluation, options.lang, pm)
        ranked = evaluation.ranked()

        def render_only() -> None:
            for row in ranked:
                renderer.render("brief.html", builder.book([row]).variables())

        rows.append(("contexts + templates only", timed(render_only)))
        size = (folder / "briefs.html").stat().st_size

    print(f"{RULESET}: {n:,} briefs ({options.lang}), as of {AS_OF}; Python {platform.python_version()} on {platform.machine()}")
    print(f"{'stage':<42}{'seconds':>9}{'briefs/s':>11}")
    for name, seconds in rows:
        print(f"{name:<42}{seconds:>9.2f}{n / seconds:>11,.0f}")
    print(f"booklet size: {size / 2**20:.1f} MiB")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    slowest = max(seconds for _, seconds in rows)
    verdict = "under" if slowest < BAR_SECONDS * n / 1000 else "OVER"
    print(f"bar: {n:,} briefs in under {BAR_SECONDS * n / 1000:.0f} s — {verdict}")
    return 0 if verdict == "under" else 1


if __name__ == "__main__":
    sys.exit(main())
