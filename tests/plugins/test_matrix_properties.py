"""The ``matrix`` kind: its cells partition the population, cuts follow percentile_cont,
reasons in both languages, and config errors."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset, fingerprint_of

from tests.conftest import examples
from tests.population_reference import percentile_cont

AS_OF = dt.date(2026, 11, 1)
FIELDS = {
    "id": {"type": "string", "required": True},
    "orders_per_year": {"type": "number"},
    "revenue_last_12m": {"type": "number"},
    "overdue_amount": {"type": "number"},
}
CUTS = ["median", "p75", "p0", "p100", {"percentile": 0.3}, 5, 0]
CELLS = {(True, True): "star", (False, True): "traffic", (True, False): "stream", (False, False): "burden"}


def ruleset(scheme: dict, fields: dict = FIELDS) -> Ruleset:
    data = {"tierkit": 1, "name": "t", "version": "1", "fields": fields, "schemes": [scheme]}
    return Ruleset(data, Path("inline.yaml"), {}, fingerprint_of(data))


@cache
def registry():
    return make_registry()


def plan(x_cut, y_cut):
    return _plan(json.dumps(x_cut), json.dumps(y_cut))


@cache
def _plan(x_cut: str, y_cut: str):
    scheme = {"id": "fv", "kind": "matrix", "preset": "frequency_volume", "x": {"cut": json.loads(x_cut)}, "y": {"cut": json.loads(y_cut)}}
    return compile_ruleset(ruleset(scheme), registry())


def evaluate(the_plan, customers: list[dict], lang: str = "en"):
    """Each customer's (outcome tuple, record of the scheme)."""
    table = table_from_rows("t", the_plan.fields, enumerate(customers, 1))
    evaluation = BoundPlan(the_plan, AS_OF).run(table.rows)
    assert not evaluation.rejected
    slot = next(s for s in the_plan.schemes if s.id == "fv").slot.index
    return [(row[slot], evaluation.record(row, lang)["outcomes"]["fv"]) for row in evaluation.rows]


def cut_value(cut, values):
    if isinstance(cut, (int, float)):
        return cut
    fraction = 0.5 if cut == "median" else cut["percentile"] if isinstance(cut, dict) else int(cut[1:]) / 100
    return percentile_cont(values, fraction)


values = st.one_of(st.none(), st.integers(min_value=0, max_value=20), st.floats(min_value=0, max_value=1e6, allow_nan=False))


@settings(max_examples=examples(50), deadline=None)
@given(
    st.sampled_from(CUTS),
    st.sampled_from(CUTS),
    st.lists(st.tuples(values, values, st.one_of(st.none(), st.sampled_from([0, 10]))), max_size=25),
)
def test_cells_partition_the_customers_with_known_axes(x_cut, y_cut, rows):
    the_plan = plan(x_cut, y_cut)
    customers = [
        {"id": f"C{i}", "orders_per_year": x, "revenue_last_12m": y, "overdue_amount": overdue}
        for i, (x, y, overdue) in enumerate(rows)
    ]
    results = evaluate(the_plan, customers)
    xc = cut_value(x_cut, [x for x, _, _ in rows])
    yc = cut_value(y_cut, [y for _, y, _ in rows])
    known = [(x, y, overdue) for x, y, overdue in rows if x is not None and y is not None]
    counts = Counter(outcome[0] for outcome, _ in results)
    # Every customer with both axes known is in exactly one of the four cells; the others are unknown.
    assert sum(counts[cell] for cell in CELLS.values()) == len(known)
    assert counts["unknown"] == len(rows) - len(known)
    assert sum(counts.values()) == len(rows)
    for (x, y, overdue), (outcome, record) in zip(rows, results):
        label, _score, tags, detail = outcome
        if x is None or y is None:
            assert label == "unknown" and tags == ()
            continue
        assert detail[:4] == (x >= xc, y >= yc, x, y)
        assert label == CELLS[x >= xc, y >= yc]
        assert ("receivables_risk" in tags) == (label == "traffic" and overdue is not None and overdue > 0)
        assert len(record["reasons"]) >= 3


def test_reasons_in_both_languages():
    the_plan = plan("median", 12)
    customers = [
        {"id": "A", "orders_per_year": 2, "revenue_last_12m": 500, "overdue_amount": 30},
        {"id": "B", "orders_per_year": 20, "revenue_last_12m": 5},
        {"id": "C", "revenue_last_12m": 1},
    ]
    (a, a_en), (b, b_en), (c, c_en) = evaluate(the_plan, customers)
    assert [r["text"] for r in a_en["reasons"]] == [
        "Purchase frequency: 2 < 11 (population median) → low",
        "Purchase volume: 500 ≥ 12 (fixed cut) → high",
        "Purchase frequency low, Purchase volume high → Traffic customer",
        "receivables at risk (overdue_amount > 0 holds) → tagged receivables_risk",
    ]
    assert a[2] == ("receivables_risk",)
    assert [r["text"] for r in c_en["reasons"]] == [
        "Purchase frequency: missing (orders_per_year)",
        "Purchase volume: 1 < 12 (fixed cut) → low",
        "unknown: orders_per_year missing",
    ]
    assert c_en["reasons"][-1]["missing_fields"] == ["orders_per_year"]
    (_, a_zh), (_, b_zh), (_, c_zh) = evaluate(the_plan, customers, "zh")
    assert [r["text"] for r in a_zh["reasons"]] == [
        "进货频次：2 < 11（全体中位数）→ 低",
        "进货量：500 ≥ 12（固定分界）→ 高",
        "进货频次低、进货量高 → 流量客户",
        "回款有风险（overdue_amount > 0 成立）→ 标记 receivables_risk",
    ]
    assert b_zh["display"] == "小溪客户" and b_en["display"] == "Stream customer"
    assert c_zh["reasons"][0]["text"] == "进货频次：缺失（orders_per_year）"


def test_percentile_reason_and_about():
    the_plan = compile_ruleset(ruleset({"id": "fv", "kind": "matrix", "preset": "value_potential",
                                        "x": {"value": "orders_per_year", "cut": "p75"},
                                        "y": {"value": "revenue_last_12m", "cut": {"percentile": 0.25}}}), registry())
    customers = [{"id": str(i), "orders_per_year": i, "revenue_last_12m": i} for i in range(1, 6)]
    results = evaluate(the_plan, customers)
    _, top = results[4]
    assert top["reasons"][0]["text"] == "Value: 5 ≥ 4 (75th percentile of the population) → high"
    assert top["reasons"][1]["text"] == "Potential: 5 ≥ 2 (25th percentile of the population) → high"
    _, top_zh = evaluate(the_plan, customers, "zh")[4]
    assert top_zh["reasons"][0]["text"] == "价值：5 ≥ 4（全体第 75 百分位）→ 高"
    scheme = next(s for s in the_plan.schemes if s.id == "fv")
    assert set(scheme.compiled.about) == {"star", "cash_cow", "potential", "long_tail", "unknown"}
    assert scheme.compiled.about["cash_cow"]["strategy"]["zh"] == "保持稳定，适度交叉销售"


def test_traffic_about_says_watch_receivables():
    scheme = next(s for s in plan("median", "median").schemes if s.id == "fv")
    actions = scheme.compiled.about["traffic"]["actions"]
    assert any("receivables" in action["en"] for action in actions)
    assert scheme.compiled.labels["burden"] == {"en": "Burden customer", "zh": "负担客户"}


def test_config_errors_are_reported():
    fields = {"id": {"type": "string", "required": True}, "a": {"type": "number"}, "flag": {"type": "boolean"}}
    cases = [
        ({"x": {"value": "a"}}, "y.value is missing"),
        ({"preset": "importance_urgency"}, "none of the preset's default fields is declared (importance)"),
        ({"x": {"value": "a", "cut": "p101"}, "y": {"value": "a"}}, "cut 'p101' is not a number"),
        ({"x": {"value": "flag", "cut": 1}, "y": {"value": "a"}}, "takes no cut"),
        ({"x": {"value": "a"}, "y": {"value": "a"}, "cells": {"high_high": "same", "low_low": "same"}}, "the same id 'same'"),
        ({"x": {"value": "a"}, "y": {"value": "a"}, "receivables": "a > 0"}, "frequency_volume preset's traffic cell only"),
        ({"x": {"value": "a"}, "y": {"value": "a"}, "cells": {"low_low": "unknown"}}, "cannot use the id 'unknown'"),
    ]
    for config, message in cases:
        _, diagnostics = check_ruleset(ruleset({"id": "m", "kind": "matrix", **config}, fields), registry())
        assert any(message in d.message for d in diagnostics), (config, [d.message for d in diagnostics])


def test_receivables_left_out_when_the_field_is_not_declared():
    fields = {k: v for k, v in FIELDS.items() if k != "overdue_amount"}
    the_plan = compile_ruleset(ruleset({"id": "fv", "kind": "matrix", "preset": "frequency_volume"}, fields), registry())
    [(_, low), (outcome, traffic)] = evaluate(the_plan, [
        {"id": "A", "orders_per_year": 9, "revenue_last_12m": 1},
        {"id": "B", "orders_per_year": 1, "revenue_last_12m": 9},
    ])
    assert outcome[0] == "traffic" and outcome[2] == ()
    assert traffic["reasons"][-1]["text"] == "watch receivables (no receivables condition)"
