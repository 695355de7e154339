"""Properties of the ``rfm`` kind over random populations, its reasons in both
languages, and its config errors."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset, fingerprint_of

from tests.conftest import examples

REGISTRY = make_registry()
AS_OF = dt.date(2026, 11, 1)
FIELDS = {
    "id": {"type": "string", "required": True},
    "recency_days": {"type": "integer"},
    "order_count": {"type": "integer"},
    "revenue": {"type": "number"},
}

# The documented standard grid, written out cell by cell: GRID[R][FM - 1].
GRID = {
    5: ["new_customers", "potential_loyalist", "potential_loyalist", "champions", "champions"],
    4: ["promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"],
    3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    1: ["lost", "lost", "at_risk", "at_risk", "cant_lose"],
}


def ruleset(schemes: list[dict], fields: dict = FIELDS) -> Ruleset:
    data = {"tierkit": 1, "name": "rfm-properties", "version": "1", "fields": fields, "schemes": schemes}
    return Ruleset(data, Path("rfm-properties.yaml"), {}, fingerprint_of(data))


PLAN = compile_ruleset(ruleset([{"id": "rfm", "kind": "rfm"}]), REGISTRY)
SLOT = next(scheme for scheme in PLAN.schemes if scheme.id == "rfm").slot.index


def outcomes(customers: list[dict]) -> list[tuple]:
    rows = [{"id": f"C{i}", **customer} for i, customer in enumerate(customers)]
    table = table_from_rows("properties", PLAN.fields, enumerate(rows, 1))
    evaluation = BoundPlan(PLAN, AS_OF).run(table.rows, table.row_numbers)
    assert not evaluation.rejected and not table.rejected
    return [row[SLOT] for row in evaluation.rows]


def records(customers: list[dict], lang: str) -> list[dict]:
    rows = [{"id": f"C{i}", **customer} for i, customer in enumerate(customers)]
    table = table_from_rows("properties", PLAN.fields, enumerate(rows, 1))
    evaluation = BoundPlan(PLAN, AS_OF).run(table.rows, table.row_numbers)
    return [evaluation.record(row, lang)["outcomes"]["rfm"] for row in evaluation.rows]


maybe = st.one_of(st.none(), st.integers(0, 12))
customer = st.fixed_dictionaries({"recency_days": maybe, "order_count": maybe, "revenue": maybe})


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(customer, max_size=30))
def test_equal_values_equal_scores_and_scores_follow_the_values(customers):
    results = outcomes(customers)
    for dimension, key, better in ((0, "recency_days", -1), (1, "order_count", 1), (2, "revenue", 1)):
        pairs = [(c[key], o[3][dimension]) for c, o in zip(customers, results)]
        assert all((value is None) == (score is None) for value, score in pairs)
        known = [(value, score) for value, score in pairs if value is not None]
        assert all(1 <= score <= 5 for _, score in known)
        for a, sa in known:
            for b, sb in known:
                if a == b:
                    assert sa == sb
                elif (a - b) * better > 0:  # a is better: never a lower score
                    assert sa >= sb


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.integers(0, 10_000), unique=True, max_size=40), st.randoms(use_true_random=False))
def test_distinct_values_fill_each_quintile_evenly(values, random):
    shuffled = list(values)
    random.shuffle(shuffled)
    customers = [{"recency_days": r, "order_count": f, "revenue": m} for r, f, m in zip(values, shuffled, reversed(values))]
    results = outcomes(customers)
    n = len(values)
    for dimension in range(3):
        counts = Counter(outcome[3][dimension] for outcome in results)
        for score in range(1, 6):
            assert n // 5 <= counts.get(score, 0) <= -(-n // 5)


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(customer, max_size=30))
def test_segments_follow_the_grid_and_missing_values_give_unknown(customers):
    for c, (label, score, tags, detail) in zip(customers, outcomes(customers)):
        r, f, m, rfm, fm = detail[:5]  # the attributes; the reason columns follow
        if None in (c["recency_days"], c["order_count"], c["revenue"]):
            assert (label, score, rfm, fm) == ("unknown", None, None, None)
            continue
        assert fm == (f + m + 1) // 2
        assert rfm == f"{r}{f}{m}"
        assert score == r + f + m
        assert label == GRID[r][fm - 1]
        assert tags == ()


def test_reasons_in_english_and_chinese():
    customers = [
        {"recency_days": 1, "order_count": 50, "revenue": 5000.0},
        {"recency_days": 2, "order_count": 40, "revenue": 1000.0},
        {"recency_days": 3, "order_count": 30},
        {"recency_days": 4, "order_count": 20, "revenue": 3000.0},
        {"recency_days": 5, "order_count": 10, "revenue": 2000.0},
    ]
    en, zh = records(customers, "en"), records(customers, "zh")
    assert [r["text"] for r in en[0]["reasons"]] == [
        "recency 1 (recency_days) → R 5 of 5",
        "frequency 50 (order_count) → F 5 of 5",
        "monetary 5,000 (revenue) → M 5 of 5",
        "R 5 × FM 5 (F 5, M 5) → Champions",
    ]
    assert [r["text"] for r in zh[0]["reasons"]] == [
        "最近一次消费 1（recency_days）→ R 5 分（满分 5）",
        "消费频率 50（order_count）→ F 5 分（满分 5）",
        "消费金额 5,000（revenue）→ M 5 分（满分 5）",
        "R 5 × FM 5（F 5，M 5）→ 重要价值客户",
    ]
    assert en[1]["reasons"][-1]["text"] == "R 4 × FM 3 (F 4, M 1) → Potential loyalist"
    assert [r["text"] for r in en[2]["reasons"]][2:] == [
        "monetary: missing (revenue); no M score",
        "segment unknown: missing revenue",
    ]
    assert [r["text"] for r in zh[2]["reasons"]][2:] == ["消费金额：缺失（revenue），无 M 分", "无法细分：缺少 revenue"]
    assert en[2]["reasons"][-1]["missing_fields"] == ["revenue"]
    assert (en[2]["label"], en[2]["display"], zh[2]["display"]) == ("unknown", "Unknown (missing data)", "未知（数据缺失）")


def test_a_missing_dimension_names_the_blank_inputs_behind_it_by_their_labels():
    """Monetary read through a derived feature: the reason names the blank field the
    feature reads, by its label, not the feature's code."""
    fields = {**FIELDS, "gross": {"type": "number", "label": {"en": "Gross sales", "zh": "销售总额"}},
              "refunds": {"type": "number", "label": {"en": "Refunds", "zh": "退款额"}}}
    data = {"tierkit": 1, "name": "rfm-blank", "version": "1", "fields": fields, "derive": {"net": "gross - refunds"},
            "schemes": [{"id": "rfm", "kind": "rfm", "monetary": "net"}]}
    plan = compile_ruleset(Ruleset(data, Path("rfm-blank.yaml"), {}, fingerprint_of(data)), REGISTRY)
    rows = [{"id": "C1", "recency_days": 3, "order_count": 2, "gross": 900.0, "refunds": 100.0},
            {"id": "C2", "recency_days": 5, "order_count": 1, "refunds": 50.0},
            {"id": "C3", "order_count": 1}]
    table = table_from_rows("blank", plan.fields, enumerate(rows, 1))
    evaluation = BoundPlan(plan, AS_OF).run(table.rows, table.row_numbers)
    en, zh = ([evaluation.record(row, lang)["outcomes"]["rfm"]["reasons"] for row in evaluation.rows] for lang in ("en", "zh"))
    assert [r["text"] for r in en[1]] [2:] == ["monetary: missing (Gross sales); no M score", "segment unknown: missing Gross sales"]
    assert [r["text"] for r in zh[1]][2:] == ["消费金额：缺失（销售总额），无 M 分", "无法细分：缺少 销售总额"]
    assert en[1][-1]["missing_fields"] == ["gross"]
    # several dimensions blank: each names its own inputs, the segment all of them
    assert [r["text"] for r in en[2]] == ["recency: missing (recency_days); no R score", "frequency 1 (order_count) → F 2 of 5",
                                          "monetary: missing (Gross sales, Refunds); no M score",
                                          "segment unknown: missing recency_days, Gross sales, Refunds"]


def test_every_standard_segment_has_bilingual_labels_and_a_playbook():
    compiled = next(scheme for scheme in PLAN.schemes if scheme.id == "rfm").compiled
    segments = {label for row in GRID.values() for label in row} | {"unknown"}
    assert set(compiled.labels) == segments == set(compiled.about)
    for segment in segments:
        assert set(compiled.labels[segment]) == {"en", "zh"}
        about = compiled.about[segment]
        assert set(about["strategy"]) == {"en", "zh"}
        assert about["actions"] and all(set(action) == {"en", "zh"} for action in about["actions"])


def test_custom_segments_keep_standard_labels_and_playbooks_by_id():
    plan = compile_ruleset(ruleset([{
        "id": "rfm", "kind": "rfm",
        "segments": [
            {"id": "champions", "r": [4, 5], "fm": [4, 5]},
            {"id": "vip", "m": 5, "label": {"en": "VIP", "zh": "贵宾"}, "strategy": "Keep close", "actions": ["Call"]},
            {"id": "rest"},
        ],
    }]), REGISTRY)
    compiled = plan.schemes[0].compiled
    assert compiled.labels == {"champions": {"en": "Champions", "zh": "重要价值客户"}, "vip": {"en": "VIP", "zh": "贵宾"},
                               "rest": "rest", "unknown": {"en": "Unknown (missing data)", "zh": "未知（数据缺失）"}}
    assert compiled.about["vip"] == {"strategy": "Keep close", "actions": ["Call"]}
    assert "rest" not in compiled.about and "champions" in compiled.about


def errors(schemes: list[dict], fields: dict = FIELDS) -> list[str]:
    plan, diagnostics = check_ruleset(ruleset(schemes, fields), REGISTRY)
    assert plan is None
    return [d.message for d in diagnostics if d.severity == "error"]


def test_a_default_expression_naming_an_absent_field_is_a_clear_error():
    fields = {"id": {"type": "string", "required": True}, "recency_days": {"type": "number"}}
    messages = errors([{"id": "rfm", "kind": "rfm", "frequency": "recency_days"}], fields)
    assert messages == ["monetary defaults to `revenue`, which is not a field or derived feature of this ruleset"]


def test_segments_must_cover_every_score_combination():
    messages = errors([{"id": "rfm", "kind": "rfm", "segments": [{"id": "a", "r": [2, 5]}, {"id": "b", "r": 1, "f": [1, 4]}]}])
    assert messages == ["no segment takes the RFM scores 151, 152, 153, 154, 155"]


def test_a_reversed_range_is_an_error():
    messages = errors([{"id": "rfm", "kind": "rfm", "segments": [{"id": "a", "r": [5, 1]}, {"id": "b"}]}])
    assert messages == ["the r range of segment 'a' runs from 5 down to 1"]


def test_a_segment_that_never_applies_is_a_warning():
    plan, diagnostics = check_ruleset(ruleset([{"id": "rfm", "kind": "rfm", "segments": [{"id": "all"}, {"id": "late", "r": 5}]}]), REGISTRY)
    assert plan is not None
    assert [(d.severity, d.message) for d in diagnostics] == [
        ("warning", "segment 'late' never applies: the segments before it take all its scores")
    ]


@pytest.mark.parametrize("bad", ["'text'", "order_count > 1"])
def test_dimensions_must_be_numbers(bad):
    assert any("expected a number" in message for message in errors([{"id": "rfm", "kind": "rfm", "frequency": bad}]))
