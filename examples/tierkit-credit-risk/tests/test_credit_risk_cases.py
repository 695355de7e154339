"""Run the kind's declarative cases (``tests/cases/*.yml``) with tierkit's own loader,
as tierkit runs the built-in kinds' cases: one pytest test per case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierkit.manager import make_registry
from tierkit.analysis.testing import CaseRunner, load_cases

CASE_FILES = sorted((Path(__file__).parent / "cases").glob("*.yml"))


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        registry = make_registry()
        cases = [(path, case) for path in CASE_FILES for case in load_cases(path, registry)]
        metafunc.parametrize("case", [case for _, case in cases], ids=[f"{path.stem}_{case.name}" for path, case in cases])


@pytest.fixture(scope="module")
def runner():
    return CaseRunner(make_registry())


def test_case(case, runner):
    result = runner.run(case)
    assert result.passed, "\n".join(result.failures)
