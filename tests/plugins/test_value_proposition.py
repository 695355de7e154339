"""The ``value_proposition`` kind: reasons in both languages, playbooks, config errors, and
the winner over random signals."""

from __future__ import annotations

import datetime as dt
import textwrap
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.ruleset.load import Ruleset, fingerprint_of, load_ruleset

from tests.conftest import examples

AS_OF = dt.date(2026, 11, 1)
HEAD = """\
tierkit: 1
name: t
version: "1"
fields:
  id: {type: string, required: true}
  discount_requests: {type: integer}
  certificates: {type: boolean}
  pilots: {type: number}
schemes:
"""

SCHEME = """\
- id: need
  kind: value_proposition
  signals:
    - {id: haggler, when: "discount_requests >= 3", type: cost_sensitive, weight: 2}
    - {id: loyal, when: "discount_requests == 0", type: cost_sensitive, weight: -1}
    - {when: "certificates", type: quality_seeking, weight: 2}
    - {id: pilots, label: {en: Pilot projects, zh: 试点项目}, value: "pilots", type: [innovation_driven, quality_seeking], weight: 0.5}
"""


@pytest.fixture
def check(tmp_path, registry):
    """Validate and compile a ruleset with the given schemes: (plan or None, diagnostics)."""

    def run(scheme: str, head: str = HEAD):
        path = tmp_path / "r.yaml"
        path.write_text(head + textwrap.indent(textwrap.dedent(scheme), "  "), encoding="utf-8")
        return check_ruleset(load_ruleset(path, []), registry)

    return run


def outcomes(plan, customers, lang):
    table = table_from_rows("t", plan.fields, enumerate(customers, 1))
    evaluation = BoundPlan(plan, AS_OF).run(table.rows)
    return {str(row[plan.id_index]): evaluation.record(row, lang)["outcomes"]["need"] for row in evaluation.rows}


def texts(outcome):
    return [reason["text"] for reason in outcome["reasons"]]


CUSTOMERS = [
    {"id": "WIN", "discount_requests": 4, "certificates": True, "pilots": 6},
    {"id": "TIE", "discount_requests": 3, "certificates": True},
    {"id": "NONE", "discount_requests": 1, "certificates": False, "pilots": 0},
    {"id": "CANCEL", "discount_requests": 0, "certificates": False},
]


def test_reasons_in_english(check):
    plan, diagnostics = check(SCHEME)
    assert [d for d in diagnostics if d.severity == "error"] == []
    got = outcomes(plan, CUSTOMERS, "en")
    assert texts(got["WIN"]) == [
        "haggler: +2 → Cost-sensitive",
        "certificates: +2 → Quality-seeking",
        "Pilot projects: +3 → Innovation-driven, Quality-seeking",
        "highest total 5 → Quality-seeking (Value-driven)",
    ]
    assert got["WIN"]["reasons"][-1]["totals"] == {"cost_sensitive": 2.0, "quality_seeking": 5.0, "innovation_driven": 3.0}
    assert texts(got["TIE"])[-2:] == [
        "highest total 2 → Cost-sensitive (Price-sensitive)",
        "tied at 2 with Quality-seeking; Cost-sensitive is declared first",
    ]
    assert texts(got["NONE"]) == ["Pilot projects: +0 → Innovation-driven, Quality-seeking", "no signal points to a type"]
    assert texts(got["CANCEL"]) == [
        "loyal: -1 → Cost-sensitive",
        "Pilot projects: missing (pilots), not counted",
        "the signals cancel out: no type has a total above 0",
    ]
    missing = outcomes(plan, [{"id": "M"}], "en")["M"]
    assert texts(missing) == [
        "haggler: missing (discount_requests), not counted",
        "loyal: missing (discount_requests), not counted",
        "certificates: missing (certificates), not counted",
        "Pilot projects: missing (pilots), not counted",
        "no signal points to a type",
    ]
    assert missing["label"] == "unknown" and missing["score"] is None


def test_reasons_in_chinese(check):
    plan, _ = check(SCHEME)
    got = outcomes(plan, CUSTOMERS + [{"id": "M"}], "zh")
    assert texts(got["WIN"])[-1] == "总分最高 5 → 品质追求型（价值导向型）"
    assert texts(got["WIN"])[2] == "试点项目：+3 → 创新驱动型, 品质追求型"
    assert texts(got["TIE"])[-1] == "与 品质追求型 同为 2 分；成本敏感型 排在前面"
    assert texts(got["CANCEL"])[-1] == "信号相互抵消：没有类型的总分大于 0"
    assert texts(got["M"])[0] == "haggler：缺失（discount_requests），不计入"
    assert texts(got["M"])[-1] == "没有任何信号指向某一类型"


def test_about_says_whether_to_fight_on_price_or_on_value(check):
    plan, _ = check(SCHEME)
    about = next(s for s in plan.schemes if s.id == "need").compiled.about
    assert set(about) == {"cost_sensitive", "quality_seeking", "innovation_driven", "unknown"}
    assert "price" in about["cost_sensitive"]["strategy"]["en"]
    assert "value" in about["quality_seeking"]["strategy"]["en"]
    assert about["innovation_driven"]["group"] == {"en": "Value-driven", "zh": "价值导向型"}
    assert about["cost_sensitive"]["group"]["zh"] == "价格敏感型"
    for entry in about.values():
        assert entry["strategy"]["en"] and entry["strategy"]["zh"]
        assert all({"en", "zh"} <= set(item) for item in entry["actions"])


@pytest.mark.parametrize(
    ("scheme", "message"),
    [
        ("- {id: need, kind: value_proposition, signals: [{when: certificates, type: quality}]}\n",
         "signal type 'quality' is not among the types"),
        ("- {id: need, kind: value_proposition, signals: [{when: certificates, value: pilots, type: quality_seeking}]}\n",
         "exactly one of when"),
        ("- {id: need, kind: value_proposition, signals: [{type: quality_seeking}]}\n", "exactly one of when"),
        ("- {id: need, kind: value_proposition, signals: [{value: certificates, type: quality_seeking}]}\n",
         "expected a number"),
        ("- {id: need, kind: value_proposition, signals: [{when: pilots, type: quality_seeking}]}\n", "expected a boolean"),
        ("- {id: need, kind: value_proposition, types: [cost_sensitive, frugal], signals: [{when: certificates, type: frugal}]}\n",
         "needs a group"),
        ("- {id: need, kind: value_proposition, types: [cost_sensitive, unknown], signals: [{when: certificates, type: cost_sensitive}]}\n",
         "reserved"),
        ("- {id: need, kind: value_proposition, types: [cost_sensitive, cost_sensitive], signals: [{when: certificates, type: cost_sensitive}]}\n",
         "listed twice"),
        ("- {id: need, kind: value_proposition}\n", "signals"),
    ],
)
def test_config_errors(check, scheme, message):
    plan, diagnostics = check(scheme)
    assert plan is None
    found = [d.message for d in diagnostics if d.severity == "error"]
    assert any(message in text for text in found), found


def test_a_misspelt_type_gets_a_suggestion(check):
    _, diagnostics = check("- {id: need, kind: value_proposition, signals: [{when: certificates, type: cost_sensitiv}]}\n")
    [error] = [d for d in diagnostics if d.severity == "error"]
    assert error.hint == "did you mean 'cost_sensitive'?"


@cache
def _signals_plan():
    from tierkit.manager import make_registry

    fields = {"id": {"type": "string", "required": True}, **{f"s{i}": {"type": "boolean"} for i in range(4)}}
    signals = [
        {"when": "s0", "type": "cost_sensitive", "weight": 2},
        {"when": "s1", "type": "quality_seeking", "weight": 2},
        {"when": "s2", "type": ["innovation_driven", "quality_seeking"], "weight": 1},
        {"when": "s3", "type": "innovation_driven", "weight": 1},
    ]
    data = {"tierkit": 1, "name": "t", "version": "1", "fields": fields,
            "schemes": [{"id": "need", "kind": "value_proposition", "signals": signals}]}
    return compile_ruleset(Ruleset(data, Path("inline.yaml"), {}, fingerprint_of(data)), make_registry()), signals


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.one_of(st.none(), st.booleans()), min_size=4, max_size=4))
def test_the_winner_is_the_first_type_with_the_highest_positive_total(values):
    plan, signals = _signals_plan()
    customer = {"id": "X", **{f"s{i}": value for i, value in enumerate(values)}}
    [outcome] = outcomes(plan, [customer], "en").values()
    types = ["cost_sensitive", "quality_seeking", "innovation_driven"]
    totals = dict.fromkeys(types, 0.0)
    for value, signal in zip(values, signals):
        if value:
            for name in signal["type"] if isinstance(signal["type"], list) else [signal["type"]]:
                totals[name] += signal["weight"]
    best = max(totals.values())
    if best <= 0:
        assert outcome["label"] == "unknown" and outcome["score"] is None and outcome["tags"] == []
    else:
        assert outcome["label"] == next(name for name in types if totals[name] == best)
        assert outcome["score"] == best
        assert outcome["tags"] == ["price_sensitive" if outcome["label"] == "cost_sensitive" else "value_driven"]
