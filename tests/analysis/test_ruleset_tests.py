"""The tests-file format of ``tierkit.analysis.testing``: customers by id from a data file, order
features from an order file, ``features`` expectations, and the errors a broken file
gives (one line, with its position)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierkit.cli import main
from tierkit.errors import TierkitError
from tierkit.ruleset.load import load_ruleset
from tierkit.analysis.testing import CaseRunner, load_cases

from tests.case_files import CASE_FILES, cases_by_file
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "ruleset_tests"
RULESET = FIXTURES / "ruleset.yaml"


@pytest.fixture
def runner(registry):
    return CaseRunner(registry)


def cases_of(tmp_path: Path, registry, text: str):
    """A tests file in a copy of the fixture folder, loaded."""
    for name in ("ruleset.yaml", "customers.csv", "orders.csv"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path, load_cases(path, registry)


def test_every_fixture_case_passes(registry, runner):
    for case in load_cases(FIXTURES / "tests.yaml", registry):
        assert runner.run(case).failures == [], case.name


def test_a_customer_by_id_is_its_row_of_the_data_file(registry):
    case = next(c for c in load_cases(FIXTURES / "tests.yaml", registry) if c.name == "by id, with order features")
    assert case.customers == [{"客户编号": "A1", "规模": "150", "region": "south"}]
    assert case.ids == ["A1"] and case.orders == FIXTURES / "orders.csv"


def test_defaults_go_under_inline_customers_only(registry):
    case = next(c for c in load_cases(FIXTURES / "tests.yaml", registry) if c.name.startswith("ids and inline"))
    assert case.customers[1] == {"region": "west", "id": "N1", "size": 500}
    assert "west" not in case.customers[0].values()


def test_failures_name_expected_and_actual_with_reasons(tmp_path, registry, runner):
    _, cases = cases_of(tmp_path, registry, (
        "ruleset: ruleset.yaml\ndata: customers.csv\norders: orders.csv\nas_of: 2026-11-01\ncases:\n"
        "  - {name: wrong, customer: A2, expect: {band: big, features: {overdue_amount: 1}, allocation: {cadence_days: 14}}}\n"
    ))
    assert runner.run(cases[0]).failures == [
        "A2.band.label: expected 'big', got 'owing' — because: matched rule owing: Overdue receivables > 0",
        "A2.features.overdue_amount: expected 1, got 300.0",
        "A2.allocation.cadence_days: expected 14, got 90",
    ]


def test_the_given_ruleset_replaces_the_files_own(tmp_path, registry, runner):
    other = tmp_path / "other.yaml"
    other.write_text(RULESET.read_text(encoding="utf-8").replace("size >= 100", "size >= 10"), encoding="utf-8")
    path, _ = cases_of(tmp_path, registry, "ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customer: A2, expect: {band: big}}\n")
    cases = load_cases(path, registry, ruleset=load_ruleset(other, registry.ruleset_dirs))
    assert cases[0].name == "case 1" and runner.run(cases[0]).passed


@pytest.mark.parametrize(
    "text, position, message",
    [
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customer: Z9}\n", "4:16",
         "customer 'Z9' is not in"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - customers: [A1, Z9]\n", "4:21",
         "customer 'Z9' is not in"),
        ("ruleset: ruleset.yaml\ndata: nowhere.csv\ncases:\n  - {customer: A1}\n", "2:7", "data file not found"),
        ("ruleset: ruleset.yaml\ncases:\n  - {customer: A1, orders: none.csv}\n", "3:28", "orders file not found"),
        ("ruleset: ruleset.yaml\ncases: {}\n", "1:1", "a test file needs a list under 'cases'"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customers: [A1, A2], expect: [small]}\n", "4:35",
         "'expect' is a mapping, not a list"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customers: [A1, A2], expect: {A1: small}}\n", "4:40",
         "the expectations for customer 'A1' are a mapping of scheme ids"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customers: [A1], expect: {A1: [small]}}\n", "4:36",
         "the expectations for customer 'A1' are a mapping of scheme ids (or rank, allocation, features, rejected)"
         " to what they must be, not a list, e.g. A1: {grade: A}"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customer: A1, expect: [small]}\n", "4:28",
         "'expect' is a mapping, not a list, e.g. expect: {grade: A, rank: 1}"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customer: A1, expect: small}\n", "4:28",
         "'expect' is a mapping, not the single value 'small'"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customer: A1, expect: {features: 3}}\n", "4:39",
         "'features' expects a mapping of feature names to values"),
        ("ruleset: ruleset.yaml\ndata: customers.csv\ncases:\n  - {customers: [A1, A2], order: A1}\n", "4:34",
         "'order' is a list of customer ids"),
    ],
)
def test_a_broken_tests_file_is_one_line_with_its_position(tmp_path, registry, capsys, text, position, message):
    path = tmp_path / "t.yaml"
    with pytest.raises(TierkitError) as raised:
        cases_of(tmp_path, registry, text)
    assert str(raised.value).startswith(f"{path}:{position}: ") and message in str(raised.value)
    assert main(["test", str(tmp_path / "ruleset.yaml"), str(path)]) == 2
    _out, err = capsys.readouterr()
    assert err.count("\n") == 1 and message in err


def test_a_case_needs_a_ruleset(tmp_path, registry):
    with pytest.raises(TierkitError, match=r"t\.yaml:2:5: no ruleset for this case"):
        cases_of(tmp_path, registry, "cases:\n  - {customer: A1}\n")


def test_an_id_without_a_data_file_is_a_customer_of_the_orders(tmp_path, registry, capsys):
    path, cases = cases_of(tmp_path, registry, (
        "ruleset: ruleset.yaml\norders: orders.csv\nas_of: 2026-11-01\ncases:\n  - {name: id only, customer: A1}\n"
    ))
    assert cases[0].customers == [{"id": "A1"}]
    # this ruleset requires a size, which the order file cannot give: the case fails, the run goes on
    assert main(["test", str(tmp_path / "ruleset.yaml"), str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "FAILED id only",
        "    id only: missing column for required field 'size' (looked for: size, 规模)",
        f"    (case at {path}:5:5)",
        "0 passed, 1 failed",
    ]


def test_the_golden_and_kind_case_files_still_load():
    """(As read for test_cases.py and test_engines_cases.py, once per process.)"""
    assert len(cases_by_file()) == len(CASE_FILES) > 10
    for cases in cases_by_file().values():
        assert cases and all(len(case.ids) == len(case.customers) for case in cases)


def test_a_list_feature_is_expected_as_a_list(tmp_path, registry, runner):
    """A list field's value (a tuple) equals the YAML list the tests file gives."""
    ruleset = tmp_path / "lists.yaml"
    ruleset.write_text(
        "tierkit: 1\nname: lists\nversion: '1'\nfields:\n  id: {type: string, required: true}\n  products: {type: list}\n"
        "schemes:\n  - id: band\n    kind: rules\n    rules: [{id: both, when: \"products == ['a', 'b']\"}]\n    default: {id: other}\n",
        encoding="utf-8",
    )
    path = tmp_path / "t.yaml"
    path.write_text(
        "ruleset: lists.yaml\ncases:\n  - customers: [{id: X, products: 'a,b'}, {id: Y, products: [a]}]\n"
        "    expect: {X: {band: both, features: {products: [a, b]}}, Y: {band: other, features: {products: [a]}}}\n",
        encoding="utf-8",
    )
    (case,) = load_cases(path, registry)
    assert runner.run(case).failures == []
