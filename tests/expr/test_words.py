"""Words, not codes: conditions said from their syntax tree, and no raw code or operator
on any printed page of a bundled ruleset in Chinese."""

from __future__ import annotations

import html
import re

import pytest

from tierkit.manager import make_plugin_manager, make_registry
from tierkit.render.environment import Renderer
from tierkit.render.brief import BriefBuilder
from tierkit.render.report import ReportBuilder
from tierkit.expr.words import Vocabulary, say

from tests.bundled_examples import INPUTS, evaluated

VOCABULARY = {
    "fields": {
        "industry": {"type": "enum", "values": ["finance", "energy", "other"], "label": {"en": "Industry", "zh": "行业"},
                     "labels": {"finance": {"en": "Finance", "zh": "金融"}, "energy": {"en": "Energy", "zh": "能源"}}},
        "created_date": {"type": "date", "label": {"en": "Created", "zh": "建档日期"}},
        "share": {"type": "number", "label": {"en": "Share of wallet", "zh": "钱包份额"}},
        "flag": {"type": "boolean"},
    },
    "schemes": [{"id": "grade", "kind": "weighted", "label": {"en": "Grade", "zh": "客户等级"}}],
}
# ASCII operators and quotes a sentence never holds; "[" and "]" of list literals too
OPERATORS = ("==", "!=", ">=", "<=", " and ", " or ", " not ", "'", "[", "]", "`")


@pytest.fixture(scope="module")
def vocabulary():
    words = Vocabulary(VOCABULARY)
    words.add_scheme("grade", {"S": {"en": "S: strategic", "zh": "S 战略客户"}})
    return words


@pytest.mark.parametrize(("source", "zh", "en"), [
    ("industry == 'finance'", "行业属于 金融", "Industry is Finance"),
    ("industry in ['finance', 'energy']", "行业属于 金融、能源", "Industry is Finance or Energy"),
    ("industry != 'other'", "行业不属于 other", "Industry is not other"),
    ("share < 0.05 and days_since(created_date) >= 365", "钱包份额 < 0.05，且距建档日期的天数 ≥ 365",
     "Share of wallet < 0.05 and days since Created ≥ 365"),
    ("grade.label == 'S' and (flag or share is none)", "客户等级属于 S 战略客户，且（flag或钱包份额缺失）",
     "Grade is S: strategic and (flag or Share of wallet is missing)"),
    ("share is not none", "钱包份额已知", "Share of wallet is known"),
    ("grade.score >= 70", "客户等级得分 ≥ 70", "Grade score ≥ 70"),
    ("flag == true", "flag属于 是", "flag is yes"),
])
def test_conditions_are_said_in_words(vocabulary, source, zh, en):
    assert say(source, vocabulary, "zh") == zh
    assert say(source, vocabulary, "en") == en


def test_an_expression_that_does_not_parse_is_given_back(vocabulary):
    assert say("industry ==", vocabulary, "zh") == "industry =="


def codes(plan) -> set[str]:
    """The ruleset's own codes: field and scheme names, enum values, label ids and tags."""
    found = set()
    for spec in plan.fields:
        found |= {spec.name, *spec.values}
    found |= {name for name, _slot, _config in plan.derived}
    for scheme in plan.schemes:
        found |= {scheme.id, *map(str, scheme.compiled.labels), *map(str, scheme.compiled.tag_labels)}
    return {code for code in found if len(code) > 2}  # S, A, B… are grades printed with their words


def varied_rows(evaluation) -> list:
    """One account per distinct (scheme, label, tags) of the run: every kind of reason."""
    seen, rows = set(), []
    for row in evaluation.ranked():
        record = evaluation.record(row, "en")
        keys = {(scheme, outcome["label"], tuple(outcome["tags"])) for scheme, outcome in record["outcomes"].items()}
        if not keys <= seen:
            seen |= keys
            rows.append(row)
    return rows


def words_read(page: str) -> list[str]:
    """The text lines of a page as a reader sees them (styles out, SVG text in)."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'<[^>]+>', "\n", page)
    return [line.strip() for line in html.unescape(page).splitlines() if line.strip()]


@pytest.mark.parametrize("ruleset", sorted(INPUTS))
def test_no_code_or_operator_on_the_chinese_briefs_and_report(ruleset):
    evaluation = evaluated(ruleset)
    registry, pm = make_registry(), make_plugin_manager()
    renderer = Renderer(pm, registry.functions, evaluation.plan.ruleset.source, "zh", evaluation.bound.as_of)
    briefs = renderer.render("brief.html", BriefBuilder(evaluation, "zh", pm).book(varied_rows(evaluation)).variables())
    report = ReportBuilder(evaluation, registry, renderer.env, "zh").report(len(evaluation.rows), None, None, None)
    pages = renderer.render("report.html", report.variables()) + briefs
    own = codes(evaluation.plan)
    found = {}
    for line in words_read(pages):
        for token in re.findall(r"[A-Za-z_][A-Za-z0-9_-]*", line):
            if token in own:
                found.setdefault(token, line)
        for operator in OPERATORS:
            if operator in line:
                found.setdefault(operator, line)
    assert found == {}
