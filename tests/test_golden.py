"""Snapshot of every bundled ruleset on its sample data: any change in a label, score,
rank or allocation shows up as a diff.  Regenerate deliberately with
``TIERKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``."""

from __future__ import annotations

import csv
import io
import os

import pytest

from .bundled_examples import INPUTS, evaluated
from .conftest import ROOT


def snapshot(name: str) -> str:
    """The session's one evaluation of ``name`` on its example data, as CSV."""
    evaluation = evaluated(name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    scheme_ids = [scheme.id for scheme in evaluation.plan.schemes]
    writer.writerow(["id", "rank", *(f"{s}.label" for s in scheme_ids), *(f"{s}.score" for s in scheme_ids), "allocation"])
    for record in evaluation.records("en"):
        outcomes = record["outcomes"]
        scores = [outcomes[s]["score"] for s in scheme_ids]
        writer.writerow([
            record["id"], record["rank"], *(outcomes[s]["label"] for s in scheme_ids),
            *("" if score is None else f"{score:.9f}" for score in scores), record["allocation"]["rule"],
        ])
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_sample_results_match_the_golden_snapshot(name):
    golden = ROOT / "tests" / "golden" / f"{name}.results.csv"
    actual = snapshot(name)
    if os.environ.get("TIERKIT_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == actual
