"""The ``lifecycle`` kind: stage properties over random order histories, reasons in both
languages, and config errors."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset, fingerprint_of

from tests.conftest import examples

AS_OF = dt.date(2026, 11, 1)
FIELDS = {
    "id": {"type": "string", "required": True},
    "first_order_date": {"type": "date"},
    "last_order_date": {"type": "date"},
    "order_count": {"type": "integer"},
}
ORDER = {"new": 0, "active": 0, "dormant": 1, "lost": 2}
WINDOWS = [(180, 180, 365), (90, 120, 120), (0, 0, 0), (365, 30, 60)]


def ruleset(scheme: dict, fields: dict = FIELDS) -> Ruleset:
    data = {"tierkit": 1, "name": "t", "version": "1", "fields": fields, "schemes": [scheme]}
    return Ruleset(data, Path("inline.yaml"), {}, fingerprint_of(data))


@cache
def registry():
    return make_registry()


@cache
def plan(windows: tuple[int, int, int]):
    new, dormant, lost = windows
    scheme = {"id": "stage", "kind": "lifecycle", "new_days": new, "dormant_days": dormant, "lost_days": lost}
    return compile_ruleset(ruleset(scheme), registry())


def evaluate(windows, customers: list[dict], lang: str = "en"):
    """Each customer's (label, days_since_last attribute, record)."""
    the_plan = plan(windows)
    table = table_from_rows("t", the_plan.fields, enumerate(customers, 1))
    evaluation = BoundPlan(the_plan, AS_OF).run(table.rows)
    slot = next(s for s in the_plan.schemes if s.id == "stage").slot.index
    assert not evaluation.rejected
    return [(row[slot][0], row[slot][3][0], evaluation.record(row, lang)["outcomes"]["stage"]) for row in evaluation.rows]


days = st.integers(min_value=0, max_value=1500)
counts = st.one_of(st.none(), st.integers(min_value=1, max_value=50))


def ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


@settings(max_examples=examples(50), deadline=None)
@given(st.sampled_from(WINDOWS), days, days, counts)
def test_known_dates_give_the_stage_of_the_windows(windows, a, b, count):
    new, dormant, lost = windows
    last_days, first_days = min(a, b), max(a, b)
    [(label, attribute, record)] = evaluate(windows, [
        {"id": "X", "first_order_date": ago(first_days), "last_order_date": ago(last_days), "order_count": count}
    ])
    assert attribute == last_days
    if last_days > lost:
        assert label == "lost"
    elif last_days > dormant:
        assert label == "dormant"
    else:
        assert label == ("new" if first_days <= new else "active")
    assert record["reasons"][-1]["text"].endswith(f"→ {label}")


@settings(max_examples=examples(50), deadline=None)
@given(st.sampled_from(WINDOWS), days, st.integers(min_value=0, max_value=400), days)
def test_an_older_last_order_never_makes_a_customer_more_active(windows, last_days, later_by, extra):
    first_days = last_days + later_by + extra
    customers = [
        {"id": "NOW", "first_order_date": ago(first_days), "last_order_date": ago(last_days), "order_count": 3},
        {"id": "OLDER", "first_order_date": ago(first_days), "last_order_date": ago(last_days + later_by), "order_count": 3},
    ]
    (now, _, _), (older, _, _) = evaluate(windows, customers)
    assert ORDER[older] >= ORDER[now]


dates = st.one_of(st.none(), days.map(ago), st.integers(min_value=1, max_value=30).map(lambda n: AS_OF + dt.timedelta(days=n)))


@settings(max_examples=examples(50), deadline=None)
@given(st.sampled_from(WINDOWS), dates, dates, st.one_of(st.none(), st.integers(min_value=-2, max_value=5)))
def test_any_input_gives_a_stage_and_missing_data_is_never_confident(windows, first, last, count):
    [(label, attribute, record)] = evaluate(windows, [
        {"id": "X", "first_order_date": first, "last_order_date": last, "order_count": count}
    ])
    assert label in {"potential", "new", "active", "dormant", "lost", "unknown"}
    assert record["reasons"] and all(reason["text"] for reason in record["reasons"])
    no_dates = first is None and last is None
    if no_dates:
        assert label == ("potential" if count is None or count <= 0 else "unknown")
    if label == "potential":
        assert no_dates and attribute is None
    if not no_dates and count is not None and count <= 0:
        assert label == "unknown"
    future = any(day is not None and day > AS_OF for day in (first, last))
    if future or (first and last and first > last):
        assert label == "unknown"
    if label != "unknown" and last is not None:
        assert attribute == (AS_OF - last).days


def test_reasons_in_english_and_chinese():
    customers = [
        {"id": "ACTIVE", "first_order_date": ago(400), "last_order_date": ago(180), "order_count": 4},
        {"id": "DORMANT", "first_order_date": ago(400), "last_order_date": ago(181), "order_count": 4},
        {"id": "POTENTIAL", "order_count": 0},
        {"id": "NODATES", "order_count": 3},
        {"id": "NOFIRST", "last_order_date": ago(30), "order_count": 3},
    ]
    ids = [customer["id"] for customer in customers]
    en = dict(zip(ids, evaluate(WINDOWS[0], customers, "en")))
    zh = dict(zip(ids, evaluate(WINDOWS[0], customers, "zh")))

    def texts(result):
        return [reason["text"] for reason in result[2]["reasons"]]

    assert texts(en["ACTIVE"]) == [
        "last order 2026-05-05, 180 days ago",
        "first order 2025-09-27, 400 days ago",
        "last order within dormant_days 180; first order 400 days ago > new_days 180 → active",
    ]
    assert texts(zh["ACTIVE"])[-1] == "最近下单在休眠期 180 天内；首次下单距今 400 天 > 新客期 180 天 → 老客户"
    assert texts(en["DORMANT"])[-1] == "181 days since the last order > dormant_days 180 (lost after 365) → dormant"
    assert texts(zh["DORMANT"])[-1] == "距上次下单 181 天 > 休眠期 180 天（超过 365 天为流失）→ 休眠"
    assert texts(en["POTENTIAL"]) == ["no orders: no order dates and an order count of 0"]
    assert texts(zh["POTENTIAL"]) == ["无订单：没有下单日期，订单数为 0"]
    assert texts(en["NODATES"]) == ["order count 3 but no order dates (first_order_date, last_order_date)"]
    assert en["NODATES"][2]["reasons"][0]["missing_fields"] == ["first_order_date", "last_order_date"]
    assert texts(zh["NODATES"]) == ["订单数为 3，但没有下单日期（first_order_date、last_order_date）"]
    assert texts(en["NOFIRST"]) == [
        "first order date missing: with the last order 30 days ago (≤ new_days 180), new and active cannot be told apart"
    ]
    assert texts(zh["NOFIRST"]) == ["首次下单日期缺失：最近下单距今 30 天（≤ 新客期 180 天），无法区分新客户与老客户"]
    assert en["ACTIVE"][2]["reasons"][-1]["days_since_last"] == 180


def test_labels_and_playbooks_cover_every_stage():
    compiled = next(s for s in plan(WINDOWS[0]).schemes if s.id == "stage").compiled
    stages = {"potential", "new", "active", "dormant", "lost", "unknown"}
    assert set(compiled.labels) == stages == set(compiled.about)
    assert compiled.labels["dormant"] == {"en": "Dormant", "zh": "休眠客户"}
    assert "Break the ice" in compiled.about["potential"]["strategy"]["en"]
    assert "Deepen" in compiled.about["active"]["strategy"]["en"]


@pytest.mark.parametrize(
    ("scheme", "fields", "message"),
    [
        ({"dormant_days": 200, "lost_days": 100}, FIELDS, "lost_days (100) is shorter than dormant_days (200)"),
        ({}, {"id": {"type": "string", "required": True}}, "no order data"),
        ({"last_order_date": "order_count"}, FIELDS, "expected a date"),
        ({"order_count": "last_order_date"}, FIELDS, "expected a number"),
        ({"as_of": "signup"}, FIELDS, "unknown name 'signup'"),
    ],
)
def test_config_errors(scheme, fields, message):
    plan_, diagnostics = check_ruleset(ruleset({"id": "stage", "kind": "lifecycle", **scheme}, fields), registry())
    assert plan_ is None
    found = [d.message for d in diagnostics if d.severity == "error"]
    assert any(message in text for text in found), found


def test_only_an_order_count_warns():
    fields = {"id": {"type": "string", "required": True}, "order_count": {"type": "integer"}}
    plan_, diagnostics = check_ruleset(ruleset({"id": "stage", "kind": "lifecycle"}, fields), registry())
    assert plan_ is not None
    assert any("no order dates" in d.message for d in diagnostics if d.severity == "warning")
