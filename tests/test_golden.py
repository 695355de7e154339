"""Snapshot of every bundled ruleset on its sample data: any change in a label, score,
rank or allocation shows up as a diff.  Regenerate deliberately with
``TIERKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os

import pytest

from tierkit.engine import load_plan
from tierkit.job import run_job

from .conftest import ROOT

AS_OF = dt.date(2026, 11, 1)
EXAMPLES = ROOT / "examples"
# ruleset -> (customer file or None, order file or None), as `tierkit evaluate` takes them
SAMPLES = {
    "b2b-manufacturing": (EXAMPLES / "b2b-manufacturing" / "customers.csv", None),
    "fmcg-distribution": (EXAMPLES / "fmcg-distribution" / "distributors.csv", EXAMPLES / "fmcg-distribution" / "orders.csv"),
    "retail-membership": (None, EXAMPLES / "retail-membership" / "orders.csv"),
    "saas-enterprise": (EXAMPLES / "saas-enterprise" / "accounts.csv", EXAMPLES / "saas-enterprise" / "invoices.csv"),
}


def snapshot(name: str, registry) -> str:
    bound = load_plan(name, registry, AS_OF)
    customers, orders = SAMPLES[name]
    job = run_job(bound.plan, registry, customers and str(customers), orders and str(orders), AS_OF)
    evaluation = job.evaluation
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    scheme_ids = [scheme.id for scheme in bound.plan.schemes]
    writer.writerow(["id", "rank", *(f"{s}.label" for s in scheme_ids), *(f"{s}.score" for s in scheme_ids), "allocation"])
    for record in evaluation.records("en"):
        outcomes = record["outcomes"]
        scores = [outcomes[s]["score"] for s in scheme_ids]
        writer.writerow([
            record["id"], record["rank"], *(outcomes[s]["label"] for s in scheme_ids),
            *("" if score is None else f"{score:.9f}" for score in scores), record["allocation"]["rule"],
        ])
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_results_match_the_golden_snapshot(name, registry):
    golden = ROOT / "tests" / "golden" / f"{name}.results.csv"
    actual = snapshot(name, registry)
    if os.environ.get("TIERKIT_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == actual
