"""The credit_risk kind and the overdue_ratio function, through tierkit's public API:
found through the entry point, validated, explained in both languages, and the
package's own ruleset tested with ``tierkit test``."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from tierkit.cli import main
from tierkit.engine.evaluation import BoundPlan, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.manager import make_registry
from tierkit.ruleset.load import load_ruleset
from tierkit.ruleset.schema import ruleset_schema, undocumented_properties
from tierkit_credit_risk import overdue_ratio

HERE = Path(__file__).resolve().parent.parent
RULESET = HERE / "ruleset.yaml"
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def registry():
    return make_registry()


@pytest.mark.parametrize(
    "overdue, revenue, ratio",
    [(0, 100, 0.0), (-5, 100, 0.0), (0, 0, 0.0), (25, 100, 0.25), (10, 0, 1.0), (300, 100, 1.0)],
)
def test_overdue_ratio(overdue, revenue, ratio):
    assert overdue_ratio(overdue, revenue) == ratio


def test_found_through_the_entry_point(registry):
    assert registry.origin("kind", "credit_risk") == "credit_risk"
    assert registry.origin("function", "overdue_ratio") == "credit_risk"


def test_every_config_key_is_documented(registry):
    missing = undocumented_properties(ruleset_schema(registry.kinds))
    assert [where for where in missing if "credit_risk" in where] == []


RULESET_TEXT = (
    "tierkit: 1\nname: t\nversion: '1'\n"
    "fields: {id: {type: string, required: true}, overdue_amount: {type: number}, revenue_last_12m: {type: number},"
    " avg_days_to_pay: {type: number}, credit_rating: {type: string}}\n"
    "schemes: [{id: risk, kind: credit_risk}]\n"
)


def explained(registry, tmp_path, customer: dict, lang: str, ruleset: str = RULESET_TEXT) -> list[str]:
    path = tmp_path / "r.yaml"
    path.write_text(ruleset, encoding="utf-8")
    plan = compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    table = table_from_rows("t", plan.fields, [(1, customer)])
    evaluation = BoundPlan(plan, AS_OF).run(table.rows)
    return [reason["text"] for reason in evaluation.record(evaluation.rows[0], lang)["outcomes"]["risk"]["reasons"]]


CUSTOMER = {"id": "A", "overdue_amount": 20000, "revenue_last_12m": 100000, "avg_days_to_pay": 80, "credit_rating": "Q"}


def test_reasons_in_english(registry, tmp_path):
    assert explained(registry, tmp_path, CUSTOMER, "en") == [
        "overdue 20,000 of revenue 100,000 = 20% → High risk (medium from 5%, high from 15%, blocked from 30%)",
        "pays in 80 days on average against terms of 30: 50 days late → High risk (medium from 15, high from 45, blocked from 90)",
        "credit rating Q is not in the rating table (AAA, AA, A, BBB, BB, B, CCC, CC, C, D); not counted",
        "the worst signal gives High risk",
    ]


def test_reasons_in_chinese(registry, tmp_path):
    assert explained(registry, tmp_path, {"id": "A", "avg_days_to_pay": 20, "credit_rating": "aa"}, "zh") == [
        "逾期比例：缺失（overdue_amount、revenue_last_12m），不计入",
        "平均 20 天回款，账期 30 天：在账期内 → 低风险（15 天起为中风险，45 天起为高风险，90 天起停止赊销）",
        "信用评级 aa → 低风险",
        "取最差信号：低风险",
    ]


def test_a_missing_signal_names_only_its_blank_inputs_by_their_labels(registry, tmp_path):
    """Revenue given, overdue read through a derived feature of two fields of which one
    is blank: the reason names that field, by its label, and not the revenue."""
    ruleset = (
        "tierkit: 1\nname: t\nversion: '1'\n"
        "fields: {id: {type: string, required: true}, revenue_last_12m: {type: number, label: {en: Revenue, zh: 近12月收入}},"
        " overdue_goods: {type: number, label: {en: Overdue goods, zh: 货款逾期}},"
        " overdue_service: {type: number, label: {en: Overdue service, zh: 服务费逾期}}}\n"
        "derive: {overdue_total: overdue_goods + overdue_service}\n"
        "schemes: [{id: risk, kind: credit_risk, overdue: overdue_total, rating: \"'A'\"}]\n"
    )
    customer = {"id": "A", "revenue_last_12m": 5000, "overdue_goods": 300}
    assert explained(registry, tmp_path, customer, "en", ruleset)[0] == "overdue ratio: missing (Overdue service); not counted"
    assert explained(registry, tmp_path, customer, "zh", ruleset)[0] == "逾期比例：缺失（服务费逾期），不计入"


def test_unknown_names_what_is_missing(registry, tmp_path):
    assert explained(registry, tmp_path, {"id": "A"}, "en")[-1] == "no signal is known: credit risk unknown"


@pytest.mark.parametrize(
    "scheme, message",
    [
        ("{id: risk, kind: credit_risk}", "no credit data"),
        ("{id: risk, kind: credit_risk, rating: r, cuts: {days_late: {medium: 50, high: 40}}}",
         "the cuts of days_late must rise from medium to high to blocked"),
        ("{id: risk, kind: credit_risk, rating: r, ratings: {A: good}}", "ratings"),
    ],
)
def test_config_errors_point_at_the_ruleset(tmp_path, capsys, scheme, message):
    path = tmp_path / "r.yaml"
    path.write_text(f"tierkit: 1\nname: t\nversion: '1'\nfields: {{id: {{type: string}}, r: {{type: string}}}}\nschemes: [{scheme}]\n",
                    encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}:5:") and message in out


def test_the_package_ruleset_passes_its_tests(capsys):
    assert main(["test", str(RULESET)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "11 passed, 0 failed"


def test_the_console_script_runs_the_tests():
    done = subprocess.run([sys.executable, "-m", "tierkit", "test", str(RULESET), str(HERE / "tests.yaml")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILED" not in done.stdout
