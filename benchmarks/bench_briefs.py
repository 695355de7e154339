"""How fast briefs render: N ``b2b-manufacturing`` customers, one HTML brief each.

    python benchmarks/bench_briefs.py [--customers N] [--lang zh|en]
    python benchmarks/bench_briefs.py --pdf --customers 50


Generates N synthetic customers (fixed seed) into a temporary CSV, then times, in
process and with the cycle collector as the CLI leaves it:

1. ``tierkit brief … --all -o DIR/``: evaluate, build each page's context, render one
   HTML file per account (the whole command, reading and evaluating included);
2. the same briefs as one booklet, ``-o briefs.html``;
3. the rendering alone: building contexts and rendering templates for already
   evaluated customers, no files written.

Prints seconds and briefs per second for each, and the peak RSS.  The bar: 1,000
briefs to HTML in under 10 seconds.

With ``--pdf``: ``tierkit brief … --all -o briefs.pdf`` end to end (chunks printed by
worker processes, merged), with wall and CPU seconds per page (user + system of this
process and its workers: less disturbed by other load than the wall time), KB per page,
the peak RSS of this process and of the largest worker, and the load average.  The
bars: 80 KB a page, 1 GiB peak, 0.28 s of CPU and 0.15 s of wall a page (600 pages in
90 s on two cores).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
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
# 600 pages in 90 s on two cores: 0.15 s of wall a page, and at most 0.28 s of CPU a page
# (two cores busy for 84 s, the rest for reading, merging and starting the workers).
PDF_BARS = {"KB a page": 80, "peak MiB": 1024, "CPU s a page": 0.28, "wall s a page": 0.15}


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
    parser.add_argument("--pdf", action="store_true", help="time a PDF booklet of the customers instead")
    options = parser.parse_args(argv)
    n = options.customers
    if options.pdf:
        return pdf_booklet(n, options.lang)

    from tierkit.cli import main as tierkit
    from tierkit.engine.evaluation import compile_ruleset
    from tierkit.engine.job import run_job
    from tierkit.manager import make_plugin_manager, make_registry
    from tierkit.render.environment import Renderer
    from tierkit.render.brief import BriefBuilder
    from tierkit.ruleset.load import load_ruleset

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


def pdf_booklet(n: int, lang: str) -> int:
    """``brief --all -o briefs.pdf`` for ``n`` customers: time, CPU, size and memory per page."""
    import pypdf

    from tierkit.cli import main as tierkit

    generate = _load("tierkit_examples_generate", HERE.parent / "examples" / "generate.py")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        customers, booklet = folder / "customers.csv", folder / "briefs.pdf"
        generate.write_csv(customers, generate.generate_b2b(n, SEED))
        load_before, cpu_before = os.getloadavg()[0], _cpu()
        seconds = timed(lambda: tierkit(["brief", RULESET, str(customers), "--all", "--as-of", AS_OF.isoformat(),
                                         "--lang", lang, "-o", str(booklet)]))
        cpu, load_after = _cpu() - cpu_before, os.getloadavg()[0]
        pages = len(pypdf.PdfReader(str(booklet)).pages)
        size = booklet.stat().st_size
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    figures = {"KB a page": size / 1024 / pages, "peak MiB": peak, "CPU s a page": cpu / pages,
               "wall s a page": seconds / pages}
    print(f"{RULESET}: {n:,} briefs ({lang}) to one PDF, as of {AS_OF}; Python {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} cores")
    print(f"pages {pages:,}; {seconds:.1f} s wall; {cpu:.1f} s CPU (user+sys, this process and its workers); "
          f"{size / 2**20:.2f} MiB; load average {load_before:.1f} before, {load_after:.1f} after")
    verdict = "under"
    for name, value in figures.items():
        over = value > PDF_BARS[name]
        verdict = "OVER" if over else verdict
        print(f"{name:<14}{value:>10.3f}   bar {PDF_BARS[name]:g} — {'OVER' if over else 'under'}")
    return 0 if verdict == "under" and pages == n else 1


def _cpu() -> float:
    """User and system CPU seconds of this process and of its children waited for."""
    return sum(usage.ru_utime + usage.ru_stime for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


if __name__ == "__main__":
    sys.exit(main())
