"""The ``industry`` kind: reasons in both languages, playbook content, config errors, and
hierarchical code matching."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, check_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.plugins.industry import code_matches, fold
from tierkit.ruleset.load import load_ruleset

from tests.conftest import examples
from tests.engine_harness import compile_yaml, evaluate_rows

AS_OF = dt.date(2026, 11, 1)
HEAD = """\
tierkit: 1
name: t
version: "1"
fields:
  id: {type: string, required: true}
  name: {type: string}
  industry: {type: string}
  revenue: {type: number}
schemes:
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
    return {str(row[plan.id_index]): evaluation.record(row, lang)["outcomes"]["track"] for row in evaluation.rows}


def errors(diagnostics, severity="error"):
    return [d.message for d in diagnostics if d.severity == severity]


PRESET = """\
- id: track
  kind: industry
  preset: china-b2b
  tracks:
    - government
    - finance
    - manufacturing
    - {id: vip, when: "revenue > 1000"}
"""

CUSTOMERS = [
    {"id": "CODE", "industry": "C3411", "name": "Acme"},
    {"id": "KEYWORD", "name": "中国工商银行"},
    {"id": "WHEN", "name": "Acme", "revenue": 5000},
    {"id": "NONE", "industry": "Z99", "name": "Acme"},
    {"id": "MISSING"},
]


def texts(outcome):
    return [reason["text"] for reason in outcome["reasons"]]


def test_reasons_in_english(check):
    plan, diagnostics = check(PRESET)
    assert errors(diagnostics) == []
    got = outcomes(plan, CUSTOMERS, "en")
    assert texts(got["CODE"]) == ["industry C3411 matches code C → Manufacturing"]
    assert got["CODE"]["reasons"][0]["matched_by"] == "code"
    assert texts(got["KEYWORD"]) == ["name contains “银行” → Finance"]
    assert texts(got["WHEN"]) == ["revenue > 1,000 → vip"]
    assert texts(got["NONE"]) == [
        "industry Z99 matches no track's code",
        "name contains no track's keyword",
        "no track's condition holds",
        "no track matched → General",
    ]
    assert texts(got["MISSING"]) == [
        "industry is missing",
        "name is missing",
        "no track's condition holds",
        "no track matched → General",
    ]
    assert got["MISSING"]["reasons"][-1]["missing_fields"] == ["industry", "name"]


def test_reasons_in_chinese(check):
    plan, _ = check(PRESET)
    got = outcomes(plan, CUSTOMERS, "zh")
    assert texts(got["CODE"]) == ["industry C3411 匹配代码 C → 制造业"]
    assert texts(got["KEYWORD"]) == ["name 包含“银行” → 金融"]
    assert texts(got["WHEN"]) == ["revenue > 1,000 → vip"]
    assert texts(got["MISSING"]) == ["industry 缺失", "name 缺失", "没有赛道的条件成立", "未匹配任何赛道 → 通用"]


def test_missing_inputs_behind_an_expression_are_named(check):
    plan, diagnostics = check("""\
        - id: track
          kind: industry
          preset: china-b2b
          text: "name ~ ' ' ~ industry"
          code: "industry"
        """)
    assert errors(diagnostics) == []
    got = outcomes(plan, [{"id": "A", "industry": "Z99"}], "en")["A"]
    assert "name industry is missing (name)" in texts(got)  # the blank input only: industry is Z99


def test_preset_content_goes_to_about_and_overrides_replace_keys(check):
    plan, _ = check("""\
        - id: track
          kind: industry
          preset: china-b2b
          tracks:
            - government
            - id: finance
              talking_points: [{en: Our own line, zh: 我们自己的话术}]
        """)
    about = next(s for s in plan.schemes if s.id == "track").compiled.about
    assert set(about) == {"government", "finance", "general"}
    government = about["government"]
    assert {"strategy", "pain_points", "talking_points", "sales_motion"} <= set(government)
    assert all({"en", "zh"} <= set(item) for item in government["pain_points"] + government["sales_motion"])
    assert about["finance"]["talking_points"] == [{"en": "Our own line", "zh": "我们自己的话术"}]
    assert about["finance"]["pain_points"]  # kept from the preset
    assert about["general"]["strategy"]["zh"]


def test_a_preset_alone_takes_all_its_tracks(check):
    plan, _ = check("- {id: track, kind: industry, preset: china-b2b}\n")
    labels = next(s for s in plan.schemes if s.id == "track").compiled.labels
    assert set(labels) == {"government", "finance", "energy", "manufacturing", "education", "healthcare", "retail", "general"}


@pytest.mark.parametrize(
    ("scheme", "message"),
    [
        ("- {id: track, kind: industry}\n", "an industry scheme needs tracks"),
        ("- {id: track, kind: industry, tracks: [finance]}\n", "track 'finance' has no content"),
        ("- {id: track, kind: industry, preset: china-b2b, tracks: [finanse]}\n", "track 'finanse' has no content"),
        ("- {id: track, kind: industry, tracks: [{id: x, tags: [a]}]}\n", "track 'x' has no codes, keywords or when"),
        ("- {id: track, kind: industry, preset: china-b2b, tracks: [finance, finance]}\n", "track 'finance' is listed twice"),
        ("- {id: track, kind: industry, preset: china-b2b, tracks: [finance], fallback: finance}\n",
         "the fallback 'finance' is also a track"),
        ("- {id: track, kind: industry, code: sector, tracks: [{id: x, codes: [A]}]}\n", "unknown name 'sector'"),
        ("- {id: track, kind: industry, tracks: [{id: x, when: \"revenue\"}]}\n", "expected a boolean"),
    ],
)
def test_config_errors(check, scheme, message):
    plan, diagnostics = check(scheme)
    assert plan is None
    assert any(message in text for text in errors(diagnostics)), errors(diagnostics)


def test_codes_or_keywords_with_nothing_to_compare_are_an_error(check):
    head = 'tierkit: 1\nname: t\nversion: "1"\nfields:\n  id: {type: string, required: true}\nschemes:\n'
    plan, diagnostics = check("- {id: track, kind: industry, tracks: [{id: x, codes: [A]}]}\n", head)
    assert plan is None
    assert any("no 'industry' to compare them with" in text for text in errors(diagnostics))
    plan, diagnostics = check("- {id: track, kind: industry, preset: china-b2b}\n", head)
    assert plan is None
    assert any("no track can match" in text for text in errors(diagnostics))


def test_a_code_that_is_not_an_enum_value_warns(check):
    head = HEAD.replace("industry: {type: string}", "industry: {type: enum, values: [government, finance]}")
    plan, diagnostics = check("""\
        - id: track
          kind: industry
          tracks: [{id: gov, codes: [goverment]}]
        """, head)
    assert plan is not None
    [warning] = [d for d in diagnostics if d.severity == "warning"]
    assert "'goverment' is not a value of industry" in warning.message
    assert warning.hint == "did you mean 'government'?"


sections = st.sampled_from("ABCDJSQ")
digits = st.text(alphabet="0123456789", min_size=0, max_size=4)


@settings(max_examples=examples(50), deadline=None)
@given(sections, digits, digits, st.text(alphabet="ABCXYZ", min_size=1, max_size=3))
def test_a_code_matches_itself_and_the_codes_below_it_only(section, head, tail, letters):
    code = fold(section + head)
    assert code_matches(code, code)
    assert code_matches(code, fold(section + head + tail))
    assert not code_matches(code, fold(section + head + letters))
    if tail:
        assert not code_matches(fold(section + head + tail), code)


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.tuples(sections, digits), min_size=1, max_size=5), sections, digits)
def test_the_most_specific_code_wins_then_the_earlier_track(track_codes, section, code_digits):
    tracks = "".join(f"\n      - {{id: t{index}, codes: [{s + d}]}}" for index, (s, d) in enumerate(track_codes))
    plan = compile_yaml("codes", f"""
fields:
  id: {{type: string, required: true}}
  industry: {{type: string}}
schemes:
  - id: track
    kind: industry
    tracks:{tracks}
""", _REGISTRY)
    [record] = evaluate_rows(plan, [{"id": "A", "industry": section + code_digits}]).records("en")
    outcome = record["outcomes"]["track"]
    customer = fold(section + code_digits)
    matching = [(len(fold(s + d)), -index) for index, (s, d) in enumerate(track_codes) if code_matches(fold(s + d), customer)]
    if not matching:
        assert outcome["label"] == "general"
    else:
        length, negative_index = max(matching)
        assert outcome["label"] == f"t{-negative_index}"
        assert outcome["reasons"][0]["value"] == section + code_digits


_REGISTRY = make_registry()
