"""The weighted kind's reasons say what really happened, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from tierkit.engine import BoundPlan, compile_ruleset
from tierkit.errors import RulesetError
from tierkit.io import table_from_rows
from tierkit.ruleset import load_ruleset

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
