"""The bundled rulesets with their example data, evaluated once per test session."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = dt.date(2026, 11, 1)
# ruleset -> (customer file, orders file) as ``tierkit evaluate`` takes them
INPUTS = {
    "b2b-manufacturing": (EXAMPLES / "b2b-manufacturing" / "customers.csv", None),
    "saas-enterprise": (EXAMPLES / "saas-enterprise" / "accounts.csv", EXAMPLES / "saas-enterprise" / "invoices.csv"),
    "fmcg-distribution": (EXAMPLES / "fmcg-distribution" / "distributors.csv", EXAMPLES / "fmcg-distribution" / "orders.csv"),
    "retail-membership": (None, EXAMPLES / "retail-membership" / "orders.csv"),
}


def evaluated(name: str):
    """The evaluation of a bundled ruleset on its example data."""
    return evaluated_job(name).evaluation


@cache
def evaluated_job(name: str):
    """The run of a bundled ruleset on its example data (its evaluation and what the
    input files held), once per test session."""
    from tierkit.engine.evaluation import compile_ruleset
    from tierkit.engine.job import run_job
    from tierkit.manager import make_registry
    from tierkit.ruleset.load import load_ruleset

    registry = make_registry()
    customers, orders = INPUTS[name]
    plan = compile_ruleset(load_ruleset(name, registry.ruleset_dirs), registry)
    return run_job(plan, registry, customers and str(customers), orders and str(orders), AS_OF)


@cache
def brief_lengths(name: str, lang: str) -> tuple[tuple[int, int], ...]:
    """Per row of :func:`evaluated` ``name``, in its order: the tightest fit the row's brief
    page needs in ``lang``, and the page's lines.  Measuring every page costs seconds for
    a sample, so the PDF and browser tests that print the fullest pages measure them once
    per session."""
    from tierkit.manager import make_plugin_manager
    from tierkit.render.brief import BriefBuilder, _lines

    evaluation = evaluated(name)
    builder = BriefBuilder(evaluation, lang, make_plugin_manager())
    pages = (builder.page(row) for row in evaluation.rows)
    return tuple((page.fit, _lines(page)) for page in pages)


def briefs_by_length(name: str, lang: str) -> list:
    """The rows of :func:`evaluated` ``name``, the accounts with the most to say first: by
    the fit, then the lines of their brief page in ``lang`` (equal ones in the
    evaluation's order)."""
    pairs = zip(brief_lengths(name, lang), evaluated(name).rows)
    return [row for _length, row in sorted(pairs, key=lambda pair: pair[0], reverse=True)]
