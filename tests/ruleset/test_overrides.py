"""Managers' overrides: pinned labels and tags, before ranking and allocation, with
expiry, warnings for what cannot apply, and errors at file:line for a broken file.

``tests/history/pinned.yaml`` extends the graded fixture with
``tests/history/overrides.yaml``: C1 (computed B) pinned to S, C2 tagged at_risk,
C3's pin expired, C404 unknown, and one entry naming an unknown scheme.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TIERKIT, run
from tests.store.test_history import FIXTURES, graded_beside, save

PINNED = FIXTURES / "pinned.yaml"
CUSTOMERS = FIXTURES / "customers.csv"
AS_OF = "2026-09-01"


@pytest.fixture
def pinned(capsys) -> tuple[dict, str]:
    code, out, err = run(capsys, "evaluate", PINNED, CUSTOMERS, "--as-of", AS_OF)
    assert code == 0, err
    return {record["id"]: record for record in map(json.loads, out.splitlines()[1:])}, err


def test_a_pinned_grade_gets_the_pinned_allocation_and_rank(pinned):
    records, _err = pinned
    grade = records["C1"]["outcomes"]["grade"]
    assert (grade["label"], grade["display"], grade["score"]) == ("S", "S", 50.0)
    assert records["C1"]["allocation"]["rule"] == "strategic"
    assert records["C1"]["rank"] == 2  # rank follows the score (50, after C2's 70), which the pin leaves alone


def test_the_record_shows_the_override_beside_the_computed_value(pinned):
    records, _err = pinned
    grade = records["C1"]["outcomes"]["grade"]
    assert grade["override"] == {
        "label": "S", "computed": "B", "reason": "framework contract signed", "expires": "2027-03-31",
        "by": "Wang Lei", "source": f"{FIXTURES / 'overrides.yaml'}:2:3",
    }
    texts = [reason["text"] for reason in grade["reasons"]]
    assert "score 50.0 ≥ 40 → B" in texts  # what the model computed
    assert texts[-1] == "overridden: S (computed B) by Wang Lei until 2027-03-31: framework contract signed"
    assert "override" not in records["C4"]["outcomes"]["grade"]


def test_added_tags_are_shown_with_the_computed_ones(pinned):
    records, _err = pinned
    watch = records["C2"]["outcomes"]["watch"]
    assert watch["tags"] == ["reference", "benchmark", "at_risk"]
    assert watch["override"]["add_tags"] == ["at_risk"]
    assert watch["override"]["computed_tags"] == ["reference", "benchmark"]
    assert "label" not in watch["override"]


def test_expired_unknown_customer_and_unknown_scheme_are_warnings(pinned):
    records, err = pinned
    assert records["C3"]["outcomes"]["grade"]["label"] == "B"  # the expired pin to A fell away
    overrides = FIXTURES / "overrides.yaml"
    assert f"{overrides}:4:3: warning: override of C3 (grade) expired on 2026-03-31" in err
    assert f"{overrides}:5:3: warning: override names customer 'C404', who is not among the evaluated customers" in err
    assert f"{overrides}:6:3: warning: override of C4 names scheme 'nosuch', which the ruleset does not have" in err


def test_an_override_in_force_on_its_last_day(capsys):
    code, out, _err = run(capsys, "evaluate", PINNED, CUSTOMERS, "--as-of", "2026-03-31")
    records = {record["id"]: record for record in map(json.loads, out.splitlines()[1:])}
    assert code == 0 and records["C3"]["outcomes"]["grade"]["label"] == "A"


def test_validate_reports_the_unknown_scheme(capsys):
    code, out, _err = run(capsys, "validate", PINNED)
    assert code == 0
    assert "overrides.yaml:6:3: warning: override of C4 names scheme 'nosuch'" in out


def write_ruleset(tmp_path: Path, overrides: str, extra: str = "") -> Path:
    (tmp_path / "overrides.yaml").write_text(overrides, encoding="utf-8")
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(f"extends: {graded_beside(tmp_path)}\nname: pinned-tmp\noverrides: overrides.yaml\n{extra}", encoding="utf-8")
    return ruleset


def evaluate(capsys, ruleset: Path, as_of: str = AS_OF) -> dict:
    code, out, err = run(capsys, "evaluate", ruleset, CUSTOMERS, "--as-of", as_of)
    assert code == 0, err
    return {record["id"]: record for record in map(json.loads, out.splitlines()[1:])}


def test_a_later_scheme_reads_the_pinned_label(tmp_path, capsys):
    extra = (
        "schemes:\n  - id: focus\n    kind: rules\n    rules:\n"
        "      - {id: top, when: \"grade.label == 'S'\"}\n    default: {id: rest}\n"
    )
    ruleset = write_ruleset(tmp_path, "- {customer: C4, scheme: grade, label: S, reason: r, expires: 2027-01-01}\n", extra)
    records = evaluate(capsys, ruleset)
    assert records["C4"]["outcomes"]["focus"]["label"] == "top"
    assert records["C1"]["outcomes"]["focus"]["label"] == "rest"


def test_removed_tags_and_a_later_entry_winning(tmp_path, capsys):
    ruleset = write_ruleset(tmp_path, (
        "- {customer: C4, scheme: watch, remove_tags: [at_risk], reason: paid in full, expires: 2027-01-01}\n"
        "- {customer: C1, scheme: grade, label: A, reason: first, expires: 2027-01-01}\n"
        "- {customer: C1, scheme: grade, label: C, reason: second thoughts, expires: 2027-01-01}\n"
    ))
    code, out, err = run(capsys, "evaluate", ruleset, CUSTOMERS, "--as-of", AS_OF)
    records = {record["id"]: record for record in map(json.loads, out.splitlines()[1:])}
    assert code == 0
    assert records["C4"]["outcomes"]["watch"]["tags"] == ["risky"]
    assert records["C1"]["outcomes"]["grade"]["label"] == "C"
    assert "overrides.yaml:3:3: warning: override of C1 (grade) replaces the one at line 2" in err


def test_whole_number_customer_ids(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("id,points\n17,50\n", encoding="utf-8")
    ruleset = write_ruleset(tmp_path, "- {customer: 17, scheme: grade, label: A, reason: r, expires: 2027-01-01}\n")
    code, out, _err = run(capsys, "evaluate", ruleset, tmp_path / "c.csv", "--as-of", AS_OF)
    assert code == 0 and json.loads(out.splitlines()[1])["outcomes"]["grade"]["label"] == "A"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("customer: C1\n", "overrides.yaml:1:1: an overrides file is a list of entries"),
        ("- C1\n", "overrides.yaml:1:3: an override is a mapping"),
        ("- {customer: C1, scheme: grade, label: A, expires: 2027-01-01}\n", "overrides.yaml:1:3: an override needs reason"),
        ("- {customer: C1, scheme: grade, label: A, reason: r, expires: soon}\n",
         "overrides.yaml:1:63: expires must be a date YYYY-MM-DD, not 'soon'"),
        ("- {customer: C1, scheme: grade, lable: A, reason: r, expires: 2027-01-01}\n",
         "overrides.yaml:1:33: unknown key 'lable' in an override"),
        ("- {customer: C1, scheme: grade, reason: r, expires: 2027-01-01}\n",
         "overrides.yaml:1:3: an override pins a label, or adds or removes tags"),
        ("- {customer: C1, scheme: grade, add_tags: at_risk, reason: r, expires: 2027-01-01}\n",
         "overrides.yaml:1:43: add_tags must be a list of tags"),
        ("- {customer: C1, scheme: grade, label: Z, reason: r, expires: 2027-01-01}\n",
         "overrides.yaml:1:3: override of C1 pins grade to 'Z', which is not one of its labels"),
        ("- {customer: C1, scheme: grade\n", "overrides.yaml:2:1: invalid YAML"),
    ],
)
def test_a_broken_overrides_file_is_an_error_at_file_line(tmp_path, capsys, text, message):
    ruleset = write_ruleset(tmp_path, text)
    for command in (["evaluate", ruleset, CUSTOMERS], ["validate", ruleset]):
        code, out, err = run(capsys, *command)
        assert code == 1
        assert message in out + err


def test_a_missing_overrides_file_points_at_the_ruleset(tmp_path, capsys):
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(f"extends: {graded_beside(tmp_path)}\noverrides: nowhere.yaml\n", encoding="utf-8")
    code, _out, err = run(capsys, "evaluate", ruleset, CUSTOMERS)
    assert code == 1
    assert err.strip() == f"{ruleset}:2:12: overrides file not found: {tmp_path / 'nowhere.yaml'}"


def test_explain_shows_the_override(capsys):
    code, out, _err = run(capsys, "explain", PINNED, CUSTOMERS, "--customer", "C1", "--as-of", AS_OF)
    assert code == 0
    assert "grade (grade): S (S)  score 50.0" in out
    assert "  - overridden: S (computed B) by Wang Lei until 2027-03-31: framework contract signed" in out


def test_zh_reason_text(capsys):
    code, out, _err = run(capsys, "explain", PINNED, CUSTOMERS, "--customer", "C2", "--as-of", AS_OF, "--lang", "zh")
    assert code == 0
    assert "人工调整：+at_risk（系统计算为 reference, benchmark），管理者，有效期至 2026-12-31：buyer left" in out


def test_a_saved_run_keeps_the_computed_label(tmp_path, capsys):
    save(capsys, tmp_path, {"C1": 50}, AS_OF, ruleset=write_ruleset(
        tmp_path, "- {customer: C1, scheme: grade, label: S, reason: r, expires: 2027-01-01}\n"))
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        assert db.execute("SELECT label, computed FROM outcomes WHERE scheme = 'grade'").fetchall() == [("S", "B")]


def test_overrides_through_the_installed_command(tmp_path):
    done = subprocess.run([*TIERKIT, "evaluate", str(PINNED), str(CUSTOMERS), "--as-of", AS_OF, "-o", str(tmp_path / "o.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "expired on 2026-03-31" in done.stderr
    broken = write_ruleset(tmp_path, "- {customer: C1\n")
    failed = subprocess.run([*TIERKIT, "evaluate", str(broken), str(CUSTOMERS)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "overrides.yaml:" in failed.stderr and "Traceback" not in failed.stderr
