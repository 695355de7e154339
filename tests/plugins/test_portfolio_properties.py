"""The ``portfolio`` kind: tags, label priority and attributes against a reference over
random customers (missing values included); reasons in both languages; config errors."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.analysis.overlap import overlap_warnings
from tierkit.ruleset.load import Ruleset, fingerprint_of

from tests.conftest import examples
from tests.population_reference import percentile_cont

AS_OF = dt.date(2026, 11, 1)
FIELDS = {
    "id": {"type": "string", "required": True},
    "influence": {"type": "number"},
    "satisfaction": {"type": "number"},
    "cooperation": {"type": "number"},
    "annual_procurement": {"type": "number"},
    "stalemate_days": {"type": "integer"},
    "reason": {"type": "enum", "values": ["no_trust", "competitor_offer", "internal_conflict"]},
    "revenue_trend": {"type": "number"},
    "days_since_visit": {"type": "integer"},
    "complaints_90d": {"type": "integer"},
    "competitor_contact": {"type": "boolean"},
}
SIGNALS = [
    ("revenue_trend", lambda v: v < 0.7),
    ("days_since_visit", lambda v: v > 60),
    ("complaints_90d", lambda v: v >= 2),
    ("competitor_contact", lambda v: v),
]


def ruleset(scheme: dict, fields: dict = FIELDS) -> Ruleset:
    data = {"tierkit": 1, "name": "t", "version": "1", "fields": fields, "schemes": [scheme]}
    return Ruleset(data, Path("inline.yaml"), {}, fingerprint_of(data))


@cache
def registry():
    return make_registry()


@cache
def plan(min_value=None, min_signals=1, value_cut="p80", both=True):
    """``both``: benchmark_and_nail, so most tests see every tag a customer meets."""
    nail = {"value_cut": value_cut} if min_value is None else {"value_cut": value_cut, "min_value": min_value}
    scheme = {"id": "pf", "kind": "portfolio", "nail": nail, "at_risk": {"min_signals": min_signals}, "benchmark_and_nail": both}
    return compile_ruleset(ruleset(scheme), registry())


def evaluate(the_plan, customers: list[dict], lang: str = "en"):
    table = table_from_rows("t", the_plan.fields, enumerate(customers, 1))
    evaluation = BoundPlan(the_plan, AS_OF).run(table.rows)
    assert not evaluation.rejected
    slot = next(s for s in the_plan.schemes if s.id == "pf").slot.index
    return [(row[slot], evaluation.record(row, lang)["outcomes"]["pf"]) for row in evaluation.rows]


def k_and(*values):
    return False if False in values else (None if None in values else True)


def reference(c: dict, cut, min_value, min_signals, both=True):
    """(label, tags, benchmark, nail, at_risk, level) by the documented rules."""
    bench = k_and(*(None if c.get(n) is None else c[n] >= 70 for n in ("influence", "satisfaction", "cooperation")))
    level = None
    if bench:
        influence = c["influence"]
        level = "national" if influence >= 95 else "provincial" if influence >= 85 else "local" if influence >= 75 else "surrounding"
    value, days = c.get("annual_procurement"), c.get("stalemate_days")
    nail = k_and(None if value is None or cut is None else value >= cut, None if days is None else days >= 180)
    drop = bool(nail and min_value is not None and value < min_value)
    if drop:
        nail = False
    if bench and not both:  # a benchmark is no nail
        nail, drop = False, False
    results = [None if c.get(name) is None else bool(test(c[name])) for name, test in SIGNALS]
    fired = sum(1 for r in results if r)
    risk = True if fired >= min_signals else (None if all(r is None for r in results) else False)
    tags = tuple(t for t, on in (("at_risk", risk), ("nail", nail), ("nail_drop", drop), ("benchmark", bench)) if on)
    carried = [t for t in tags if t != "nail_drop"]
    label = carried[0] if carried else ("unknown" if None in (risk, nail, bench) else "none")
    return label, tags, bench, nail, risk, level


def maybe(strategy):
    return st.one_of(st.none(), strategy)


scores = maybe(st.sampled_from([0, 69.9, 70, 74, 75, 85, 94.9, 95, 100]))
customers = st.fixed_dictionaries({
    "influence": scores,
    "satisfaction": scores,
    "cooperation": scores,
    "annual_procurement": maybe(st.sampled_from([0, 10, 100, 1000, 5000])),
    "stalemate_days": maybe(st.sampled_from([0, 179, 180, 400])),
    "revenue_trend": maybe(st.sampled_from([0.2, 0.69, 0.7, 1.5])),
    "days_since_visit": maybe(st.sampled_from([0, 60, 61])),
    "complaints_90d": maybe(st.sampled_from([0, 1, 2])),
    "competitor_contact": maybe(st.booleans()),
})


@settings(max_examples=examples(50), deadline=None)
@given(maybe(st.sampled_from([100, 1000])), st.sampled_from([1, 2]), st.sampled_from(["p80", 1000]), st.booleans(),
       st.lists(customers, max_size=12))
def test_tags_label_and_attributes_follow_the_rules(min_value, min_signals, value_cut, both, people):
    rows = [{"id": f"C{i}", **person} for i, person in enumerate(people)]
    cut = value_cut if isinstance(value_cut, int) else percentile_cont([p["annual_procurement"] for p in people], 0.8)
    for person, (outcome, record) in zip(rows, evaluate(plan(min_value, min_signals, value_cut, both), rows)):
        label, tags, bench, nail, risk, level = reference(person, cut, min_value, min_signals, both)
        assert (outcome[0], outcome[2]) == (label, tags), (person, [r["text"] for r in record["reasons"]])
        assert outcome[3][:4] == (bench, nail, risk, level)
        assert record["tags"] == list(tags)


def test_reasons_in_both_languages():
    the_plan = plan(min_value=500, value_cut=1000)
    people = [
        {"id": "N", "influence": 96, "satisfaction": 80, "cooperation": 70, "annual_procurement": 2000, "stalemate_days": 200,
         "reason": "competitor_offer", "revenue_trend": 0.5, "days_since_visit": 10, "complaints_90d": 0},
        {"id": "D", "annual_procurement": 1000, "stalemate_days": 180, "revenue_trend": 1},
    ]
    [_, (drop, drop_en)] = evaluate(plan(min_value=1500, value_cut=1000), people)
    [(nail, nail_en), (kept, kept_en)] = evaluate(the_plan, people)
    assert nail[0] == "at_risk" and nail[2] == ("at_risk", "nail", "benchmark") and nail[3][3] == "national"
    texts = [r["text"] for r in nail_en["reasons"]]
    assert texts[:6] == [
        "influence: 96 ≥ 70",
        "satisfaction: 80 ≥ 70",
        "cooperation: 70 ≥ 70",
        "benchmark: all three at or above their thresholds",
        "benchmark level national: influence 96 ≥ 95",
        "value 2,000 ≥ 1,000 (fixed cut): high value",
    ]
    assert "value check: return 2,000 ≥ 500, worth pursuing" in texts
    assert "stage: mid market; attack this nail" in texts
    assert "reason: a competitor's better offer; counter on value, service and terms" in texts
    assert "escalate when stuck: rep → supervisor → regional manager" in texts
    assert "signal Orders declining: revenue_trend < 0.7 fired" in texts
    assert "signal In contact with a competitor: competitor_contact missing; counted as not fired" in texts
    assert texts[-1] == "at risk: 1 of 4 signals fired (at least 1 needed)"
    fired = nail_en["reasons"][-1]
    assert fired["signals_fired"] == ["order_decline"]
    # D under min_value 1500: a low-return nail, and no benchmark data
    assert drop[0] == "unknown" and drop[2] == ("nail_drop",)
    drop_texts = [r["text"] for r in drop_en["reasons"]]
    assert "value check: return 1,000 < 1,500, a low-return nail: drop it (nail_drop)" in drop_texts
    assert drop_texts[-1] == "no tag carried and benchmark could not be decided → unknown"
    assert kept[0] == "nail"
    assert "reason not known: find out first (no trust, a competitor's offer, internal conflict?)" in [r["text"] for r in kept_en["reasons"]]
    [(_, nail_zh), (_, kept_zh)] = evaluate(the_plan, people, "zh")
    zh = [r["text"] for r in nail_zh["reasons"]]
    assert nail_zh["display"] == "危险客户" and kept_zh["display"] == "钉子客户"
    assert zh[0] == "影响力：96 ≥ 70"
    assert "标杆级别：全国，影响力 96 ≥ 95" in zh
    assert "阶段：市场中期，攻坚此钉子客户" in zh
    assert "僵持不下时逐级升级：销售 → 主管 → 区域经理" in zh
    assert "信号 与竞争对手接触：缺少 competitor_contact，按未触发处理" in zh
    assert zh[-1] == "危险：4 个信号中 1 个触发（至少需要 1 个）"


VERDICTS = {
    "nail": ("nail: high value and a long stalemate", "钉子：高价值且长期僵持"),
    "low": ("not a nail: value below the cut", "不是钉子：价值低于分界"),
    "quiet": ("not a nail: no long stalemate", "不是钉子：未长期僵持"),
    "neither": ("not a nail: value below the cut; no long stalemate", "不是钉子：价值低于分界，未长期僵持"),
    "drop": ("nail, but the return is too low: no-go (nail_drop)", "是钉子，但回报太低：不攻坚（nail_drop）"),
    "no_value": ("nail: cannot tell, annual_procurement missing", "钉子：无法判断，缺少 annual_procurement"),
    "no_days": ("nail: cannot tell, stalemate_days missing", "钉子：无法判断，缺少 stalemate_days"),
}


def test_the_nail_part_ends_with_its_verdict_in_both_languages():
    """Nail, not a nail (and why), a low-return nail dropped, or undecided (and what is
    missing): the last nail reason says which, whatever the checks before it."""
    people = [
        {"id": "nail", "annual_procurement": 2000, "stalemate_days": 200, "reason": "no_trust"},
        {"id": "low", "annual_procurement": 500, "stalemate_days": 400},
        {"id": "quiet", "annual_procurement": 2000, "stalemate_days": 10},
        {"id": "neither", "annual_procurement": 500, "stalemate_days": 10},
        {"id": "drop", "annual_procurement": 1200, "stalemate_days": 200},
        {"id": "no_value", "stalemate_days": 200},
        {"id": "no_days", "annual_procurement": 2000},
    ]
    the_plan = plan(min_value=1500, value_cut=1000)
    for lang, column in (("en", 0), ("zh", 1)):
        for person, (outcome, record) in zip(people, evaluate(the_plan, people, lang)):
            nail_part = [r for r in record["reasons"] if r.get("section") == "nail"]
            assert nail_part[-1]["text"] == VERDICTS[person["id"]][column], (lang, person["id"])
            assert nail_part[-1]["nail"] == outcome[3][1] and nail_part[-1]["nail_drop"] == ("nail_drop" in outcome[2])
    [(_, low)] = evaluate(the_plan, people[1:2], "zh")
    texts = [r["text"] for r in low["reasons"] if r.get("section") == "nail"]
    assert texts == ["价值 500 < 1,000（固定分界）：非高价值", "僵持：stalemate_days ≥ 180 成立", "不是钉子：价值低于分界"]
    [(_, kept)] = evaluate(the_plan, people[:1])
    texts = [r["text"] for r in kept["reasons"] if r.get("section") == "nail"]
    assert texts[-2:] == ["escalate when stuck: rep → supervisor → regional manager", "nail: high value and a long stalemate"]
    # benchmark and at-risk parts still end with theirs
    benchmark = [r for r in kept["reasons"] if r.get("section") == "benchmark"]
    risk = [r for r in kept["reasons"] if r.get("section") == "at_risk"]
    assert benchmark[-1]["text"] == "benchmark: cannot tell, influence, satisfaction, cooperation missing"
    assert risk[-1]["text"] == "at risk: cannot tell, every signal's input is missing"


def test_early_market_and_level_expression():
    fields = {**FIELDS, "market_stage": {"type": "string"}, "benchmark_level": {"type": "string"}}
    scheme = {"id": "pf", "kind": "portfolio", "nail": {"value_cut": 10}, "benchmark": {"level": "benchmark_level"},
              "benchmark_and_nail": True}
    the_plan = compile_ruleset(ruleset(scheme, fields), registry())
    people = [
        {"id": "E", "annual_procurement": 50, "stalemate_days": 999, "market_stage": "early", "influence": 80,
         "satisfaction": 80, "cooperation": 80, "benchmark_level": "provincial", "revenue_trend": 1},
        {"id": "F", "influence": 72, "satisfaction": 80, "cooperation": 80, "annual_procurement": 1, "stalemate_days": 0},
    ]
    [(early, early_en), (local, local_en)] = evaluate(the_plan, people)
    assert early[0] == "nail" and early[3][3] == "provincial"
    texts = [r["text"] for r in early_en["reasons"]]
    assert "benchmark level provincial (from benchmark_level)" in texts
    assert "stage: early market; take the easy high-value customers first, this nail can wait" in texts
    assert local[3][3] == "surrounding"
    assert "benchmark level surrounding-area: influence 72 under every level threshold" in [r["text"] for r in local_en["reasons"]]


def test_about_carries_the_playbooks():
    about = next(s for s in plan().schemes if s.id == "pf").compiled.about
    assert set(about) == {"at_risk", "nail", "benchmark", "none", "unknown"}
    fronts = " ".join(a["en"] for a in about["at_risk"]["actions"])
    assert "Relationship:" in fronts and "Commercial:" in fronts and "Risk:" in fronts
    assert any("rep → supervisor → regional manager" in a["en"] for a in about["nail"]["actions"])
    assert about["benchmark"]["strategy"]["zh"].startswith("维护")


def test_config_errors_are_reported():
    bare = {"id": {"type": "string", "required": True}, "x": {"type": "number"}}
    _, diagnostics = check_ruleset(ruleset({"id": "p", "kind": "portfolio"}, bare), registry())
    messages = " | ".join(d.message for d in diagnostics)
    for part in ("benchmark.influence: no value given", "nail.value: no value given", "nail.stalemate: no condition given",
                 "at_risk: no signals"):
        assert part in messages
    off = {"benchmark": False, "nail": False, "at_risk": False}
    _, diagnostics = check_ruleset(ruleset({"id": "p", "kind": "portfolio", **off}, bare), registry())
    assert [d.message for d in diagnostics] == ["benchmark, nail and at_risk are all turned off: the scheme has nothing to tag"]
    scheme = {"id": "p", "kind": "portfolio", "benchmark": False, "nail": False,
              "at_risk": {"signals": {"big": "x > 1"}, "min_signals": 2}}
    _, diagnostics = check_ruleset(ruleset(scheme, bare), registry())
    assert [d.message for d in diagnostics] == ["at_risk.min_signals is 2 but there are only 1 signals"]
    scheme = {"id": "p", "kind": "portfolio", "benchmark": {"levels": {"national": 50}}, "nail": {"value_cut": "p200"}}
    _, diagnostics = check_ruleset(ruleset(scheme), registry())
    messages = [d.message for d in diagnostics]
    assert "benchmark.levels must fall from national to provincial to local" in messages
    assert "cut 'p200' is not a number, 'median', 'pNN' or {percentile: 0-1}" in messages


def test_a_benchmark_is_no_nail_unless_the_ruleset_says_so():
    person = [{"id": "B", "influence": 90, "satisfaction": 90, "cooperation": 90, "annual_procurement": 5000,
               "stalemate_days": 400, "revenue_trend": 1.5}]
    [(exclusive, exclusive_zh)] = evaluate(plan(value_cut=1000, both=False), person, "zh")
    assert exclusive[0] == "benchmark" and exclusive[2] == ("benchmark",)
    assert "不是钉子：已是标杆客户" in [r["text"] for r in exclusive_zh["reasons"]]
    [(both, _)] = evaluate(plan(value_cut=1000), person)
    assert both[0] == "nail" and both[2] == ("nail", "benchmark")
    assert [d.message for d in overlap_warnings(plan(value_cut=1000)) if "both benchmark and nail" in d.message]
    assert not overlap_warnings(plan(value_cut=1000, both=False))
