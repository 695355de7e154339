"""Run every declarative case file: each kind's boundary cases and the golden tests
of the bundled rulesets (``tests/cases/*.yml``, ``tests/golden/*.yaml``)."""

from __future__ import annotations

import pytest

from tierkit.manager import make_registry
from tierkit.testing import CaseRunner, load_cases

from .conftest import ROOT

CASE_FILES = sorted((ROOT / "tests" / "cases").glob("*.yml")) + sorted((ROOT / "tests" / "golden").glob("*.yaml"))


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        registry = make_registry()
        cases = [(path, case) for path in CASE_FILES for case in load_cases(path, registry)]
        metafunc.parametrize("case", [case for _, case in cases], ids=[f"{path.stem}_{case.name}" for path, case in cases])


@pytest.fixture(scope="module")
def runner(registry):
    return CaseRunner(registry)


def test_case(case, runner):
    result = runner.run(case)
    assert result.passed, "\n".join(result.failures)
