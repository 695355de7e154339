"""Properties of the ``pareto`` kind over random populations, its reasons in both
languages, and its config errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset, fingerprint_of

from tests.conftest import examples

REGISTRY = make_registry()
AS_OF = dt.date(2026, 11, 1)
FIELDS = {"id": {"type": "string", "required": True}, "revenue": {"type": "number"}}


def ruleset(schemes: list[dict], fields: dict = FIELDS) -> Ruleset:
    data = {"tierkit": 1, "name": "pareto-properties", "version": "1", "fields": fields, "schemes": schemes}
    return Ruleset(data, Path("pareto-properties.yaml"), {}, fingerprint_of(data))


PLAN = compile_ruleset(ruleset([{"id": "pareto", "kind": "pareto", "value_label": {"en": "revenue", "zh": "收入"}}]), REGISTRY)
CUTS = compile_ruleset(ruleset([{"id": "pareto", "kind": "pareto", "top": 0.1, "bottom": 0.3}]), REGISTRY)


def evaluate(values: list, plan=PLAN):
    rows = [{"id": f"C{i}", "revenue": value} for i, value in enumerate(values)]
    table = table_from_rows("properties", plan.fields, enumerate(rows, 1))
    evaluation = BoundPlan(plan, AS_OF).run(table.rows, table.row_numbers)
    assert not evaluation.rejected and not table.rejected
    return evaluation


def outcomes(values: list, plan=PLAN) -> list[tuple]:
    slot = plan.schemes[0].slot.index
    return [row[slot] for row in evaluate(values, plan).rows]


revenues = st.lists(st.one_of(st.none(), st.integers(-20, 60), st.floats(-1e3, 1e9, allow_nan=False)), max_size=40)
tied = st.lists(st.one_of(st.none(), st.integers(-2, 12)), max_size=40)


@settings(max_examples=examples(50), deadline=None)
@given(revenues)
def test_cumulative_shares_rise_along_the_order_and_end_at_one(values):
    results = outcomes(values)
    known = sorted(((v, o) for v, o in zip(values, results) if v is not None), key=lambda pair: -pair[0])
    shares = [o[3][0] for _, o in known]
    if any(v > 0 for v, _ in known):
        assert shares == sorted(shares)
        assert shares[-1] == 1.0
        assert all(0 < share <= 1.0 for share in shares)
    else:
        assert all(share is None for share in shares)
    customer_shares = [o[3][1] for _, o in known]
    assert customer_shares == sorted(customer_shares)
    for value, outcome in known:
        assert outcome[3][1] == sum(other >= value for other, _ in known) / len(known)


@settings(max_examples=examples(50), deadline=None)
@given(st.one_of(revenues, tied))
def test_segments_partition_the_known_population(values):
    explain = PLAN.schemes[0].compiled.explain
    for value, outcome in zip(values, outcomes(values)):
        label, score, _tags, detail = outcome
        if value is None:
            assert (label, score, detail[:2]) == ("unknown", None, (None, None))
            assert explain(outcome, None) == [{"code": "pareto.missing", "fields": ["revenue"]}]
        else:
            assert label in ("top", "middle", "bottom") and score == value
            if value <= 0:
                assert label == "bottom"


def _check_cuts(values: list, plan, top: float, bottom: float) -> None:
    results = outcomes(values, plan)
    known = [(v, o[0]) for v, o in zip(values, results) if v is not None]
    n = len(known)
    for value, label in known:  # ties share a segment
        assert all(other_label == label for other, other_label in known if other == value)
    # Top: the fewest whole tie groups, largest first, that reach the top share,
    # among the positive values.
    tops = [v for v, label in known if label == "top"]
    positive = [v for v, _ in known if v > 0]
    if tops:
        smallest = min(tops)
        assert sorted(positive, reverse=True)[: len(tops)] == sorted(tops, reverse=True)
        without_last = len([v for v in tops if v != smallest])
        assert without_last < top * n
        assert len(tops) >= top * n or len(tops) == len(positive)
    else:
        assert not positive or top == 0
    # Bottom: every value at or below zero, and whole tie groups from the end that
    # stay within the bottom share.
    bottoms = [v for v, label in known if label == "bottom"]
    for value in {v for v in bottoms if v > 0}:
        assert sum(other <= value for other, _ in known) <= bottom * n
    for value in {v for v, label in known if label == "middle"}:
        assert sum(other <= value for other, _ in known) > bottom * n


@settings(max_examples=examples(50), deadline=None)
@given(tied)
def test_top_is_as_close_to_its_share_as_ties_allow(values):
    _check_cuts(values, PLAN, 0.2, 0.2)


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.integers(1, 10_000), unique=True, min_size=1, max_size=40))
def test_distinct_values_give_exactly_the_share_rounded_up_to_a_customer(values):
    labels = [o[0] for o in outcomes(values)]
    n = len(values)
    assert labels.count("top") == -(-n // 5)  # ceil(0.2 n): the first customer past the cut straddles it
    assert labels.count("bottom") == n // 5
    _check_cuts(values, CUTS, 0.1, 0.3)


def test_reasons_in_english_and_chinese():
    values = [500, 300, 100, 60, 40, None, 0]
    evaluation = evaluate(values)
    en = [evaluation.record(row, "en")["outcomes"]["pareto"] for row in evaluation.rows]
    zh = [evaluation.record(row, "zh")["outcomes"]["pareto"] for row in evaluation.rows]
    # six known customers: top 2 (the second straddles 20%), bottom 1 (40 straddles 80%; 0 is not positive)
    assert [r["label"] for r in en] == ["top", "top", "middle", "middle", "middle", "unknown", "bottom"]
    assert [r["text"] for r in en[0]["reasons"]] == [
        "revenue 500: the customers at or above it are 16.7% of customers and bring 50.0% of revenue",
        "fewer than 20% of customers rank above it → top",
        "the Top 20% segment: 33.3% of customers bring 80.0% of revenue",
    ]
    assert [r["text"] for r in zh[0]["reasons"]] == [
        "收入 500：不低于它的客户占客户数的 16.7%，贡献了 50.0% 的收入",
        "排在它前面的客户不足 20% → 头部",
        "头部 20%：33.3% 的客户贡献了 80.0% 的收入",
    ]
    assert [r["text"] for r in en[3]["reasons"]][1:] == [
        "below the top 20% and above the bottom 20% of customers → middle",
        "the Middle 60% segment: 50.0% of customers bring 20.0% of revenue",
    ]
    assert [r["text"] for r in zh[3]["reasons"]][1:] == [
        "位于前 20% 之后、后 20% 之前 → 腰部",
        "腰部 60%：50.0% 的客户贡献了 20.0% 的收入",
    ]
    assert [r["text"] for r in en[6]["reasons"]][1:] == [
        "revenue is not positive, so it brings no share → bottom",
        "the Bottom 20% segment: 16.7% of customers bring 0.0% of revenue",
    ]
    assert [r["text"] for r in zh[6]["reasons"]][1] == "收入不为正，不贡献价值 → 尾部"
    assert [r["text"] for r in en[5]["reasons"]] == ["revenue missing (revenue): segment unknown"]
    assert [r["text"] for r in zh[5]["reasons"]] == ["收入缺失（revenue）：无法分层"]
    assert en[5]["reasons"][0]["fields"] == ["revenue"]


def test_bottom_reason_and_no_positive_total():
    evaluation = evaluate([10, 5, 4, 3, 2, 1])
    last = evaluation.record(evaluation.rows[-1], "en")["outcomes"]["pareto"]
    assert [r["text"] for r in last["reasons"]][1:] == [
        "within the bottom 20% of customers → bottom",
        "the Bottom 20% segment: 16.7% of customers bring 4.0% of revenue",
    ]
    evaluation = evaluate([0, -5])
    first = evaluation.record(evaluation.rows[0], "en")["outcomes"]["pareto"]
    assert [r["text"] for r in first["reasons"]] == [
        "revenue 0: the customers at or above it are 50.0% of customers; no customer has a positive revenue, "
        "so there are no value shares",
        "revenue is not positive, so it brings no share → bottom",
    ]


def test_labels_and_playbooks():
    compiled = PLAN.schemes[0].compiled
    assert compiled.labels["top"] == {"en": "Top 20%", "zh": "头部 20%"}
    assert compiled.labels["middle"] == {"en": "Middle 60%", "zh": "腰部 60%"}
    assert compiled.labels["bottom"] == {"en": "Bottom 20%", "zh": "尾部 20%"}
    assert set(compiled.about) == {"top", "middle", "bottom", "unknown"}
    for about in compiled.about.values():
        assert set(about["strategy"]) == {"en", "zh"} and about["actions"]
    assert CUTS.schemes[0].compiled.labels["middle"] == {"en": "Middle 60%", "zh": "腰部 60%"}


def errors(schemes: list[dict], fields: dict = FIELDS) -> list[str]:
    plan, diagnostics = check_ruleset(ruleset(schemes, fields), REGISTRY)
    assert plan is None
    return [d.message for d in diagnostics if d.severity == "error"]


def test_config_errors():
    assert errors([{"id": "p", "kind": "pareto", "top": 0.6, "bottom": 0.5}]) == [
        "top (0.6) and bottom (0.5) add up to more than 1"
    ]
    assert errors([{"id": "p", "kind": "pareto"}], {"id": {"type": "string", "required": True}}) == [
        "value defaults to `revenue`, which is not a field or derived feature of this ruleset"
    ]
    assert any("expected a number" in m for m in errors([{"id": "p", "kind": "pareto", "value": "id"}]))
