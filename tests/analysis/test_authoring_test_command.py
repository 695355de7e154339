"""``tierkit test RULESET [TESTS]`` end to end: the golden tests of every bundled ruleset,
the output format, failures with their reasons, and every error as one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, TIERKIT, run

GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.yaml"))
FIXTURES = ROOT / "tests" / "ruleset_tests"


def one_line(code: int, out: str, err: str, exit_code: int = 2) -> str:
    assert code == exit_code and out == ""
    assert err.count("\n") == 1 and err.startswith("tierkit: "), err
    return err.rstrip("\n")


@pytest.mark.parametrize("golden", GOLDEN, ids=[path.stem for path in GOLDEN])
def test_every_bundled_rulesets_golden_tests_pass(capsys, golden):
    code, out, err = run(capsys, "test", golden.stem, golden)
    lines = out.splitlines()
    assert code == 0 and err == "", out
    assert lines[0].startswith(f"{golden}: ")
    assert all(line.startswith("PASSED ") for line in lines[1:-1])
    assert lines[-1] == f"{len(lines) - 2} passed, 0 failed"


def test_tests_yaml_beside_the_ruleset_is_the_default(capsys):
    code, out, _ = run(capsys, "test", FIXTURES / "ruleset.yaml")
    assert code == 0
    assert out.splitlines() == [
        f"{FIXTURES / 'tests.yaml'}: 6 cases · ruleset-tests 1",
        "PASSED by id, with order features",
        "PASSED orders after the as-of date do not count",
        "PASSED an id keeps its leading zeros",
        "PASSED a bad row by id is rejected",
        "PASSED ids and inline customers together, ranked",
        "PASSED a customer of the orders alone",
        "6 passed, 0 failed",
    ]


def test_k_selects_cases_by_name(capsys):
    code, out, _ = run(capsys, "test", FIXTURES / "ruleset.yaml", "-k", "BY ID")
    assert code == 0
    assert out.splitlines()[1:] == ["PASSED by id, with order features", "PASSED a bad row by id is rejected", "2 passed, 0 failed"]


FAILING = """\
ruleset: b2b-manufacturing
as_of: 2026-11-01
cases:
  - name: right
    customer: {id: G5, name: 苏州小商品零售店, industry: retail, annual_procurement: 5.0e6, our_revenue_12m: 0, gross_margin_pct: 12}
    expect: {track: general}
  - name: wrong track and plan
    customer: {id: G1, name: 杭州市财政局, industry: government, annual_procurement: 2.0e9}
    expect: {track: finance, allocation: {rule: nowhere}}
  - name: broken inline ruleset
    ruleset: broken
    customer: {id: X}
    expect: {}
rulesets:
  broken: {tierkit: 1, name: broken, version: "1", fields: {id: {type: string}}, schemes: [{id: s, kind: rules, rules: [{id: a, when: "nope > 1"}]}]}
"""


@pytest.fixture
def failing(tmp_path) -> Path:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING, encoding="utf-8")
    return path


def test_a_failure_shows_expected_actual_and_reasons(capsys, failing):
    code, out, err = run(capsys, "test", "b2b-manufacturing", failing)
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[1] == "PASSED right"
    assert lines[2] == "FAILED wrong track and plan"
    assert lines[3].startswith("    G1.track.label: expected 'finance', got 'government' — because: ")
    assert "Industry is Government" in lines[3]  # the rule's condition in words
    assert lines[4].startswith("    G1.allocation.rule: expected 'nowhere', got ")
    assert lines[5] == f"    (case at {failing}:7:5)"
    assert lines[6] == "FAILED broken inline ruleset"
    assert "unknown name 'nope'" in lines[7]
    assert lines[-1] == "1 passed, 2 failed"


def test_an_invalid_ruleset_fails_with_its_errors(capsys, tmp_path):
    bad = ROOT / "tests" / "rulesets" / "bad-expr" / "several.yaml"
    code, out, err = run(capsys, "test", bad, FIXTURES / "tests.yaml")
    assert code == 1 and out == ""
    assert err.startswith(f"{bad}:") and err.count("\n") == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["b2b-manufacturing"], "tierkit: 'b2b-manufacturing' is a bundled ruleset, whose tests are not installed with it: give the tests file"
                                " (e.g. tierkit test b2b-manufacturing tests/golden/b2b-manufacturing.yaml in tierkit's source tree)"),
        (["b2b-manufacturing", "missing.yaml"], "tierkit: missing.yaml: cannot read file: No such file or directory"),
        (["no-such-ruleset", "x.yaml"], "tierkit: unknown ruleset 'no-such-ruleset': no such file or bundled ruleset"),
        ([str(FIXTURES / "ruleset.yaml"), "-k", "zzz"], f"tierkit: no test cases whose name contains 'zzz' ({FIXTURES / 'tests.yaml'})"),
        ([], "tierkit: Missing argument 'RULESET'."),
    ],
)
def test_errors_are_one_line(capsys, args, message):
    line = one_line(*run(capsys, "test", *args))
    assert line.startswith(message)


def test_no_tests_beside_a_ruleset_file(capsys, tmp_path):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text((FIXTURES / "ruleset.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    line = one_line(*run(capsys, "test", ruleset))
    assert line == f"tierkit: no tests file: {tmp_path / 'tests.yaml'} does not exist (give one: tierkit test RULESET TESTS)"


def test_help(capsys):
    code, out, _ = run(capsys, "test", "--help")
    assert code == 0 and out.startswith("Usage: tierkit test [OPTIONS] RULESET [TESTS]")


def test_console_script(failing):
    golden = ROOT / "tests" / "golden" / "b2b-manufacturing.yaml"
    passed = subprocess.run([*TIERKIT, "test", "b2b-manufacturing", str(golden)], capture_output=True, text=True, timeout=120)
    assert passed.returncode == 0 and passed.stderr == ""
    assert passed.stdout.splitlines()[-1].endswith(" passed, 0 failed")
    failed = subprocess.run([*TIERKIT, "test", "b2b-manufacturing", str(failing)], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stdout.splitlines()[-1] == "1 passed, 2 failed"
    missing = subprocess.run([*TIERKIT, "test", "b2b-manufacturing"], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
