"""Run every declarative case file: each kind's boundary cases and the golden tests
of the bundled rulesets (``tests/cases/*.yml``, ``tests/golden/*.yaml``)."""

from __future__ import annotations

import pytest

from tierkit.analysis.testing import CaseRunner

from tests.case_files import cases_by_file


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = [(path, case) for path, in_file in cases_by_file().items() for case in in_file]
        metafunc.parametrize("case", [case for _, case in cases], ids=[f"{path.stem}_{case.name}" for path, case in cases])


@pytest.fixture(scope="module")
def runner(registry):
    return CaseRunner(registry)


def test_case(case, runner):
    result = runner.run(case)
    assert result.passed, "\n".join(result.failures)
