"""Every declarative case population, evaluated on the Python engine and on the SQL
engines: labels, tags, attributes, ranks and allocation rules identical, scores to
1e-9.  The case files cover each kind's boundaries (ties, missing values, populations
of one, every preset) and the bundled rulesets' golden customers."""

from __future__ import annotations

import pytest

from tierkit.manager import make_registry
from tierkit.testing import CaseRunner, load_cases

from .conftest import ROOT
from .engine_harness import differences, python_outcomes, shared_engine, sql_outcomes

CASE_FILES = sorted((ROOT / "tests" / "cases").glob("*.yml")) + sorted((ROOT / "tests" / "golden").glob("*.yaml"))


def _cases():
    registry = make_registry()
    return [(path, case) for path in CASE_FILES for case in load_cases(path, registry)]


CASES = _cases()


@pytest.fixture(scope="module")
def runner(registry):
    return CaseRunner(registry)


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
@pytest.mark.parametrize("path, case", CASES, ids=[f"{path.stem}_{case.name}" for path, case in CASES])
def test_case_population_is_the_same_on_every_engine(path, case, engine_name, runner, registry):
    evaluation = runner.evaluate(case)
    expected = python_outcomes(evaluation, registry)
    actual = sql_outcomes(evaluation, registry, shared_engine(engine_name))
    assert differences(expected, actual) == []
