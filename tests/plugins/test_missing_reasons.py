"""A "missing" reason names the inputs that are actually blank for this customer, by
their labels: a derived feature by the blank fields it reads, on every kind that says
what was missing."""

from __future__ import annotations

import datetime as dt

from tierkit.engine.evaluation import BoundPlan, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.ruleset.load import load_ruleset

RULESET = """tierkit: 1
name: blanks
version: "1"
fields:
  id: {type: string, required: true}
  growth: {type: number, label: {en: revenue growth, zh: 营收增长率}}
  urgency: {type: number, label: {en: digital urgency, zh: 数字化转型紧迫度}}
  revenue: {type: number, label: {en: revenue, zh: 营收}}
  industry: {type: string, label: {en: industry, zh: 行业}}
  last_order_date: {type: date, label: {en: last order, zh: 最近下单日}}
  first_order_date: {type: date, label: {en: first order, zh: 首次下单日}}
  order_count: {type: integer}
derive:
  growth_urgency: "growth * 10 + urgency"
  urgent_revenue: "revenue + growth_urgency"
schemes:
  - id: grade
    kind: weighted
    indicators:
      - {id: gu, label: {en: growth and urgency, zh: 成长性与紧迫度}, weight: 0.5, value: growth_urgency, linear: {from: 0, to: 100}}
      - {id: rev, label: {en: size, zh: 规模}, weight: 0.5, value: revenue, linear: {from: 0, to: 100}}
    grades: [{id: A, min: 60}, {id: B, min: 0}]
    missing: {tolerance: 1}
  - {id: share, kind: pareto, value: urgent_revenue, value_label: {en: value, zh: 价值}}
  - id: offer
    kind: value_proposition
    signals:
      - {id: hot, label: {en: hot, zh: 急迫}, when: "growth_urgency > 5", type: innovation_driven}
  - id: track
    kind: industry
    code: industry
    tracks: [{id: banks, codes: [J66]}]
  - id: stage
    kind: lifecycle
"""

BLANK_GROWTH = {"id": "c1", "growth": None, "urgency": 4, "revenue": 50, "industry": None,
                "last_order_date": None, "first_order_date": None, "order_count": 3}
BOTH_KNOWN = {"id": "c2", "growth": 1, "urgency": 4, "revenue": 50, "industry": "J66",
              "last_order_date": "2026-10-01", "first_order_date": "2025-01-01", "order_count": 3}


def evaluate(tmp_path, registry, customers):
    path = tmp_path / "r.yaml"
    path.write_text(RULESET, encoding="utf-8")
    plan = compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    table = table_from_rows("c.csv", plan.fields, enumerate(customers, 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    return evaluation, {row[0]: row for row in evaluation.rows}


def reasons(evaluation, row, scheme, lang):
    return evaluation.record(row, lang)["outcomes"][scheme]["reasons"]


def test_a_derived_feature_is_named_by_its_blank_input(tmp_path, registry):
    evaluation, rows = evaluate(tmp_path, registry, [BLANK_GROWTH, BOTH_KNOWN])
    zh = [r["text"] for r in reasons(evaluation, rows["c1"], "grade", "zh")]
    assert "成长性与紧迫度：缺失（营收增长率），不计入得分" in zh
    assert not any("growth_urgency" in text for text in zh)
    en = [r for r in reasons(evaluation, rows["c1"], "grade", "en") if r.get("missing")]
    assert en[0]["fields"] == ["growth"] and "growth and urgency: missing (revenue growth)" in en[0]["text"]


def test_the_blank_input_is_found_through_derived_features(tmp_path, registry):
    """urgent_revenue reads revenue and growth_urgency; only growth is blank."""
    evaluation, rows = evaluate(tmp_path, registry, [BLANK_GROWTH, BOTH_KNOWN])
    pareto = reasons(evaluation, rows["c1"], "share", "zh")
    assert pareto[0]["fields"] == ["growth"] and pareto[0]["text"] == "价值缺失（营收增长率）：无法分层"
    offer = [r for r in reasons(evaluation, rows["c1"], "offer", "zh") if r.get("missing")]
    assert offer[0]["fields"] == ["growth"] and "营收增长率" in offer[0]["text"]


def test_a_known_input_is_never_named(tmp_path, registry):
    blank_urgency = {**BOTH_KNOWN, "id": "c3", "urgency": None, "growth": 2}
    evaluation, rows = evaluate(tmp_path, registry, [blank_urgency, BOTH_KNOWN])
    missing = [r for r in reasons(evaluation, rows["c3"], "grade", "en") if r.get("missing")]
    assert missing[0]["fields"] == ["urgency"] and "(digital urgency)" in missing[0]["text"]
    both = {**blank_urgency, "id": "c4", "growth": None}
    evaluation, rows = evaluate(tmp_path, registry, [both, BOTH_KNOWN])
    missing = [r for r in reasons(evaluation, rows["c4"], "grade", "zh") if r.get("missing")]
    assert missing[0]["fields"] == ["growth", "urgency"] and "（营收增长率、数字化转型紧迫度）" in missing[0]["text"]


def test_plain_fields_by_their_labels_on_industry_and_lifecycle(tmp_path, registry):
    evaluation, rows = evaluate(tmp_path, registry, [BLANK_GROWTH, BOTH_KNOWN])
    track = reasons(evaluation, rows["c1"], "track", "zh")
    assert track[0]["missing"] == ["industry"] and "行业" in track[0]["text"]
    stage = reasons(evaluation, rows["c1"], "stage", "zh")
    assert stage[-1]["missing_fields"] == ["first_order_date", "last_order_date"]
    assert "首次下单日" in stage[-1]["text"] and "first_order_date" not in stage[-1]["text"]
    assert not any(r.get("missing") or r.get("missing_fields") for r in reasons(evaluation, rows["c2"], "grade", "zh"))


POOLED = """tierkit: 1
name: pooled
version: "1"
fields:
  id: {type: string, required: true}
  growth: {type: number, label: {en: revenue growth, zh: 营收增长率}}
  urgency: {type: number, label: {en: digital urgency, zh: 数字化转型紧迫度}}
  revenue: {type: number, label: {en: revenue, zh: 营收}}
derive:
  growth_urgency: "growth * 10 + urgency"
schemes:
  - id: quadrant
    kind: matrix
    x: {value: growth_urgency, cut: 5, label: {en: growth, zh: 成长性}}
    y: {value: revenue, cut: 10}
  - id: funnel
    kind: pipeline
    on_missing: unknown
    closed: "growth_urgency > 100"
    seed: "revenue > 5"
    potential: false
    silent: false
"""


def test_kinds_that_pool_blank_inputs_name_them_per_axis_and_stage(tmp_path, registry):
    """matrix and pipeline find the blank inputs of all their expressions at once and
    give each axis or stage those it reads, through derived features."""
    path = tmp_path / "p.yaml"
    path.write_text(POOLED, encoding="utf-8")
    plan = compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    customers = [{"id": "c1", "growth": None, "urgency": 4, "revenue": 50}, {"id": "c2", "growth": 1, "urgency": 1, "revenue": 1}]
    table = table_from_rows("c.csv", plan.fields, enumerate(customers, 2))
    evaluation = BoundPlan(plan, dt.date(2026, 11, 1)).run(table.rows, table.row_numbers, table.file)
    row = next(row for row in evaluation.rows if row[0] == "c1")
    axis = [r for r in reasons(evaluation, row, "quadrant", "zh") if r.get("missing")]
    assert axis[0]["fields"] == ["growth"] and axis[0]["text"] == "成长性：缺失（营收增长率）"
    stage = [r for r in reasons(evaluation, row, "funnel", "zh") if r.get("missing_fields")]
    assert stage[0]["missing_fields"] == ["growth"] and "营收增长率" in stage[0]["text"]
