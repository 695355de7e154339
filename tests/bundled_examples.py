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
