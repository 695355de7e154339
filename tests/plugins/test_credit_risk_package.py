"""The example third-party plugin package ``examples/tierkit-credit-risk``: found through
the ``tierkit`` entry point group like any installed plugin, its ruleset's tests pass
through ``tierkit test``, and, written on ``tierkit.kinds``, it gives the same outcomes
and reasons on every engine.  ``scripts/test`` installs it."""

from __future__ import annotations

import datetime as dt
import subprocess
from importlib import metadata

import pytest

from tierkit.cli import main
from tierkit.manager import make_registry
from tierkit.analysis.testing import CaseRunner, load_cases

from tests.conftest import ROOT, TIERKIT
from tests.engine_harness import (case_groups, compare_batch, compare_engines, engine_params, require_engine, run_sample,
                             shared_engine, sql_outcomes)

PACKAGE = ROOT / "examples" / "tierkit-credit-risk"


def installed() -> bool:
    return any(ep.name == "credit_risk" for ep in metadata.entry_points(group="tierkit"))


pytestmark = pytest.mark.skipif(
    not installed(), reason="tierkit-credit-risk is not installed: pip install -e examples/tierkit-credit-risk (scripts/test does)"
)


def test_plugins_lists_the_kind_and_function_with_their_distribution(capsys):
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  credit_risk  (tierkit-credit-risk 0.1.0)" in lines
    kinds = lines[lines.index("scheme kinds:") + 1 : lines.index("functions:")]
    functions = lines[lines.index("functions:") + 1 : lines.index("readers:")]
    assert any(line.split()[:2] == ["credit_risk", "credit_risk"] for line in kinds)
    assert any(line.split()[:2] == ["overdue_ratio", "credit_risk"] for line in functions)


def test_its_ruleset_passes_its_tests(capsys):
    code = main(["test", str(PACKAGE / "ruleset.yaml"), str(PACKAGE / "tests.yaml")])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", out
    assert out.splitlines()[-1] == "11 passed, 0 failed"


def test_its_ruleset_through_the_console_script():
    done = subprocess.run(
        [*TIERKIT, "test", str(PACKAGE / "ruleset.yaml"), str(PACKAGE / "tests.yaml")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "11 passed, 0 failed"


def test_the_plugin_kind_is_in_the_schema(capsys):
    assert main(["schema"]) == 0
    assert '"credit_risk"' in capsys.readouterr().out


# -- every engine ------------------------------------------------------------------------

CASE_FILE = PACKAGE / "tests" / "cases" / "credit_risk.yml"
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def registry():
    return make_registry()


@pytest.mark.parametrize("engine_name", engine_params())
def test_its_cases_agree_on_every_engine(engine_name, registry):
    """The kind's boundary cases, pooled by ruleset, on DuckDB and Spark: labels, scores,
    tags, attributes, ranks and the reasons (codes and parameters) equal the Python engine's."""
    runner = CaseRunner(registry)
    for group in case_groups(load_cases(CASE_FILE, registry)).values():
        evaluations = {case.name: runner.evaluate(case) for case in group}
        assert compare_batch(evaluations, registry, shared_engine(engine_name)) == []


@pytest.mark.parametrize("engine_name", engine_params())
def test_its_ruleset_on_its_sample_data_agrees_on_every_engine(engine_name, registry):
    """ruleset.yaml on customers.csv and orders.csv (order features, a derived feature
    calling the plugin's overdue_ratio function, allocation): every outcome and reason."""
    assert compare_engines(PACKAGE / "ruleset.yaml", registry, engine_name, PACKAGE / "customers.csv",
                           PACKAGE / "orders.csv", AS_OF) == []


@pytest.mark.duckdb
def test_the_sql_engines_give_its_reason_codes(registry):
    """The reasons compared are there: a customer with every signal known has a reason
    per signal and one for the outcome, read from DuckDB's result columns."""
    evaluation = run_sample(PACKAGE / "ruleset.yaml", registry, PACKAGE / "customers.csv", PACKAGE / "orders.csv", AS_OF)
    actual = sql_outcomes(evaluation, registry, shared_engine("duckdb"))
    def codes(customer):
        return [reason["code"] for reason in actual[customer]["risk.reasons"]]

    assert codes("K002") == ["credit_risk.overdue_ratio", "credit_risk.days_late", "credit_risk.rating", "credit_risk.worst"]
    assert codes("K001") == ["credit_risk.overdue_ratio", "credit_risk.in_terms", "credit_risk.rating", "credit_risk.worst"]
    assert codes("K006") == ["credit_risk.overdue_ratio_missing", "credit_risk.days_late_missing",
                             "credit_risk.rating_missing", "credit_risk.unknown"]
    assert actual["K002"]["risk"][:3] == ("medium", 1.0, ("overdue",))
    assert actual["K002"]["risk.reasons"][0]["percent"] == 6.7


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_the_command_line_evaluates_it_on_each_engine(engine, tmp_path):
    if engine != "python":
        require_engine(engine)
    out = tmp_path / "risk.csv"
    done = subprocess.run([*TIERKIT, "evaluate", str(PACKAGE / "ruleset.yaml"), str(PACKAGE / "customers.csv"), "--orders",
                           str(PACKAGE / "orders.csv"), "--as-of", "2026-11-01", "--engine", engine, "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "evaluated 10 · rejected 0" in done.stderr
