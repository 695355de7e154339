"""The weighted kind's reasons say what really happened, in both languages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.analysis.explanation import render_explanation
from tierkit.engine.evaluation import BoundPlan, compile_ruleset
from tierkit.errors import RulesetError
from tierkit.io.tables import table_from_rows
from tierkit.ruleset.labels import show_score
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset, fingerprint_of, load_ruleset

from tests.conftest import examples

SHARES = """tierkit: 1
name: shares
version: "1"
fields: {id: {type: string, required: true}, v: {type: number}, big: {type: boolean, default: false}, logo: {type: boolean, default: false}}
schemes:
  - id: grade
    kind: weighted
    indicators: [{id: v, weight: 1, value: v, linear: {from: 0, to: 100}}]
    grades: [{id: S, share: 0.2}, {id: A, share: 0.3}, {id: B}]
    promote:
      - {when: "big", grade: S, reason: {en: huge procurement, zh: 年采购额超过百亿}}
      - {when: "logo", grade: A, reason: {en: a flagship logo, zh: 标杆品牌}}
"""


def evaluate(tmp_path, registry, text, customers):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    plan = compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    table = table_from_rows("c.csv", plan.fields, enumerate(customers, 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    return {row[0]: row for row in evaluation.rows}, evaluation


def texts(evaluation, row, lang="en"):
    return [reason["text"] for reason in evaluation.record(row, lang)["outcomes"]["grade"]["reasons"]]


def test_a_promotion_under_share_grades_names_its_rule_and_the_true_share(tmp_path, registry):
    customers = [{"id": f"c{i}", "v": 10 * i} for i in range(1, 10)] + [{"id": "c0", "v": 5, "logo": True}]
    rows, evaluation = evaluate(tmp_path, registry, SHARES, customers)
    assert evaluation.label(list(rows).index("c0"), "grade") == "A"
    lines = texts(evaluation, rows["c0"])
    assert "score 5.0 is below the top 50% → B" in lines
    assert "promoted to A: a flagship logo" in lines
    zh = texts(evaluation, rows["c0"], "zh")
    assert "升级为 A：标杆品牌" in zh and not any("百亿" in line for line in zh)


def test_the_highest_promotion_wins_under_share_grades(tmp_path, registry):
    customers = [{"id": f"c{i}", "v": 10 * i} for i in range(1, 10)] + [{"id": "c0", "v": 5, "logo": True, "big": True}]
    rows, evaluation = evaluate(tmp_path, registry, SHARES, customers)
    assert evaluation.label(list(rows).index("c0"), "grade") == "S"
    assert "promoted to S: huge procurement" in texts(evaluation, rows["c0"])


THRESHOLDS = """tierkit: 1
name: thresholds
version: "1"
fields: {id: {type: string, required: true}, a: {type: number}, b: {type: number}}
schemes:
  - id: grade
    kind: weighted
    missing: {tolerance: 1}
    indicators:
      - {id: a, weight: 0.5, value: a, linear: {from: 0, to: 100}}
      - {id: b, weight: 0.5, value: b, linear: {from: 0, to: 100}}
    grades: [{id: A, min: 40}, {id: B, min: 0}]
"""


def test_a_score_just_under_a_threshold_never_reads_as_reaching_it(tmp_path, registry):
    rows, evaluation = evaluate(tmp_path, registry, THRESHOLDS, [{"id": "x", "a": 39.96, "b": 39.96}])
    lines = texts(evaluation, rows["x"])
    assert "score 39.9 ≥ 0 → B" in lines
    assert lines[-1].startswith("0.1 points short of A")


def test_renormalised_contributions_show_the_weight_they_really_had(tmp_path, registry):
    rows, evaluation = evaluate(tmp_path, registry, THRESHOLDS, [{"id": "x", "a": 50}])
    lines = texts(evaluation, rows["x"])
    assert "a: 50 → 50.0 points × 1 = 50.0" in lines


def test_insufficient_data_shows_points_but_no_contributions(tmp_path, registry):
    text = THRESHOLDS.replace("missing: {tolerance: 1}", "missing: {tolerance: 0}")
    rows, evaluation = evaluate(tmp_path, registry, text, [{"id": "x", "a": 50}])
    lines = texts(evaluation, rows["x"])
    assert "a: 50 → 50.0 points" in lines
    assert not any("=" in line for line in lines)


def test_bins_listed_lowest_first_are_a_ruleset_error(tmp_path, registry):
    text = THRESHOLDS.replace("linear: {from: 0, to: 100}}\n      - {id: b", "bins: [{min: 0, points: 10}, {min: 100, points: 100}]}\n      - {id: b", 1)
    with pytest.raises(RulesetError, match="bins must be listed highest min first"):
        evaluate(tmp_path, registry, text, [])


# -- one rounding rule: the shown score, contributions and comparison agree -------------

REGISTRY = make_registry()


def weighted_plan(weights: list[float], mins: list[float], policy: str) -> object:
    fields = {"id": {"type": "string", "required": True}, **{f"v{i}": {"type": "number"} for i in range(len(weights))}}
    scheme = {"id": "grade", "kind": "weighted", "weights_total": policy, "missing": {"tolerance": len(weights) - 1},
              "indicators": [{"id": f"i{i}", "weight": w, "value": f"v{i}", "linear": {"from": 0, "to": 100}}
                             for i, w in enumerate(weights)],
              "grades": [{"id": f"G{i}", "min": m} for i, m in enumerate(sorted(mins, reverse=True))]}
    data = {"tierkit": 1, "name": "rounding", "version": "1", "fields": fields, "schemes": [scheme]}
    return compile_ruleset(Ruleset(data, Path("rounding.yaml"), {}, fingerprint_of(data)), REGISTRY)


SHOWN = re.compile(r"(?:score|得分) (-?[\d.]+) (≥|<) (-?[\d.e+-]+)")


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.floats(0.01, 3, allow_nan=False).map(lambda w: round(w, 3)), min_size=1, max_size=6),
       st.lists(st.integers(0, 1000).map(lambda m: m / 10), min_size=1, max_size=4, unique=True),
       st.sampled_from(["normalise", "as-is"]),
       st.lists(st.lists(st.one_of(st.none(), st.floats(-10, 110, allow_nan=False)), min_size=6, max_size=6), min_size=1, max_size=8))
def test_shown_contributions_add_up_to_the_shown_score_and_the_shown_comparison_holds(weights, mins, policy, values):
    plan = weighted_plan(weights, mins, policy)
    customers = [{"id": f"c{n}", **{f"v{i}": row[i] for i in range(len(weights))}} for n, row in enumerate(values)]
    table = table_from_rows("c.csv", plan.fields, enumerate(customers, 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    decimals = plan.schemes[0].compiled.score_decimals
    for row in evaluation.rows:
        for lang in ("en", "zh"):
            record = evaluation.record(row, lang)
            outcome = record["outcomes"]["grade"]
            if outcome["score"] is None:
                continue
            shown = show_score(outcome["score"], decimals)
            parts = [Decimal(r["contribution_shown"]) for r in outcome["reasons"] if "contribution_shown" in r]
            assert sum(parts, Decimal(0)) == Decimal(shown)
            assert all(f"= {r['contribution_shown']}" in r["text"] for r in outcome["reasons"] if "contribution_shown" in r)
            said = [SHOWN.search(r["text"]) for r in outcome["reasons"] if "threshold" in r]
            score_text, op, threshold = said[0].groups()
            assert score_text == shown
            assert (Decimal(score_text) >= Decimal(threshold)) == (op == "≥")
            assert f"score {shown}" in render_explanation(evaluation, record, lang)


def test_the_issue_example_reads_74_0_with_contributions_adding_to_74_0(tmp_path, registry):
    """74.07 from five contributions that, each rounded, would add up to 74.1."""
    plan = weighted_plan([0.3, 0.25, 0.1, 0.1, 0.25], [60, 0], "normalise")
    customer = {"id": "x", "v0": 100, "v1": 71.08, "v2": 40, "v3": 73, "v4": 60}
    table = table_from_rows("c.csv", plan.fields, enumerate([customer], 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    outcome = evaluation.record(evaluation.rows[0], "zh")["outcomes"]["grade"]
    assert round(outcome["score"], 2) == 74.07
    assert [r["contribution_shown"] for r in outcome["reasons"] if "contribution_shown" in r] == ["30.0", "17.7", "4.0", "7.3", "15.0"]
    assert "得分 74.0 ≥ 60 → G0" in [r["text"] for r in outcome["reasons"]]


def test_a_threshold_with_two_decimals_shows_scores_with_two(tmp_path, registry):
    plan = weighted_plan([1.0], [59.95, 0], "normalise")
    table = table_from_rows("c.csv", plan.fields, enumerate([{"id": "x", "v0": 59.97}], 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    texts_ = [r["text"] for r in evaluation.record(evaluation.rows[0], "en")["outcomes"]["grade"]["reasons"]]
    assert "score 59.97 ≥ 59.95 → G0" in texts_ and "i0: 59.97 → 60.0 points × 1 = 59.97" in texts_


def test_a_score_below_every_threshold_says_so(tmp_path, registry):
    plan = weighted_plan([1.0], [60, 25], "normalise")
    table = table_from_rows("c.csv", plan.fields, enumerate([{"id": "x", "v0": 10.06}], 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    texts_ = [r["text"] for r in evaluation.record(evaluation.rows[0], "zh")["outcomes"]["grade"]["reasons"]]
    assert "得分 10.0 < 25，低于所有门槛 → G1" in texts_
