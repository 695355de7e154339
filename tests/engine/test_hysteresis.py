"""Hysteresis: a saved customer keeps its grade until the score passes a threshold by
the margin.  The fixture grades S >= 80, A >= 60, B >= 40, else C, margin 2.5, and
the score is the ``points`` column itself, so every boundary is exact.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run
from tests.store.test_history import GRADED, graded_beside, save, write_customers

# (previous points → previous grade, points now, grade now, kept?)
BOUNDARIES = {
    "B_up_short": (50, 62.4, "B", True),      # A needs 60 + 2.5
    "B_up_exact": (50, 62.5, "A", False),
    "B_down_exact": (50, 37.5, "B", True),    # leaving B needs < 40 - 2.5
    "B_down_past": (50, 37.4, "C", False),
    "B_jump": (50, 85, "S", False),
    "S_down_exact": (90, 77.5, "S", True),
    "S_down_past": (90, 77.4, "A", False),
    "C_up_short": (10, 42.4, "C", True),
    "C_up_exact": (10, 42.5, "B", False),
    "A_up_short": (70, 82.4, "A", True),
    "A_up_exact": (70, 82.5, "S", False),
    "B_inside": (50, 41, "B", False),
}


def evaluate(capsys, tmp_path: Path, customers: dict, as_of: str, *args, ruleset: Path = GRADED) -> dict:
    source = write_customers(tmp_path / f"now-{as_of}.csv", customers)
    code, out, err = run(capsys, "evaluate", ruleset, source, "--as-of", as_of, *args)
    assert code == 0, err
    return {record["id"]: record for record in map(json.loads, out.splitlines()[1:])}


def grade(record: dict) -> str:
    return record["outcomes"]["grade"]["label"]


@pytest.fixture(scope="module")
def saved_boundaries(tmp_path_factory) -> tuple[Path, dict]:
    """The boundary customers saved, then graded and saved again, once for the module: the
    folder of their store, and their records of the second run."""
    folder = tmp_path_factory.mktemp("boundaries")
    save(None, folder, {name: before for name, (before, *_rest) in BOUNDARIES.items()}, "2026-08-01")
    return folder, save(None, folder, {name: now for name, (_before, now, *_rest) in BOUNDARIES.items()}, "2026-09-01")


@pytest.fixture
def boundaries(saved_boundaries) -> dict:
    return saved_boundaries[1]


@pytest.mark.parametrize("name", BOUNDARIES)
def test_exact_boundaries(boundaries, name):
    _before, _now, expected, kept = BOUNDARIES[name]
    outcome = boundaries[name]["outcomes"]["grade"]
    assert outcome["label"] == expected
    assert any(reason.get("hysteresis") for reason in outcome["reasons"]) is kept


def test_the_kept_grade_drives_allocation(boundaries):
    assert boundaries["A_up_short"]["allocation"]["rule"] == "key"
    assert boundaries["S_down_exact"]["allocation"]["rule"] == "strategic"


def test_reasons_say_the_previous_grade_was_kept(boundaries):
    up = [reason["text"] for reason in boundaries["B_up_short"]["outcomes"]["grade"]["reasons"]]
    assert up[-2:] == [
        "score 62.4 ≥ 60 → A",
        "kept B from the previous run: score 62.4 is under 62.5 (60 + margin 2.5) needed for A",
    ]
    down = boundaries["B_down_exact"]["outcomes"]["grade"]["reasons"][-1]
    assert down["text"] == "kept B from the previous run: score 37.5 is not under 37.5 (40 - margin 2.5) needed to drop to C"
    assert {key: down[key] for key in ("grade", "computed", "margin", "edge")} == {"grade": "B", "computed": "C", "margin": 2.5, "edge": 37.5}


def test_a_kept_grade_is_saved_and_kept_again(tmp_path, capsys, saved_boundaries):
    folder, _records = saved_boundaries
    with contextlib.closing(sqlite3.connect(folder / "runs.sqlite")) as saved, \
            contextlib.closing(sqlite3.connect(tmp_path / "runs.sqlite")) as copy:
        saved.backup(copy)  # a copy of the store to save a third run to
    again = save(capsys, tmp_path, {"B_up_short": 62.4, "B_down_exact": 37.5}, "2026-10-01")
    assert (grade(again["B_up_short"]), grade(again["B_down_exact"])) == ("B", "B")


def test_without_a_store_there_is_no_effect(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERKIT_STORE", raising=False)
    records = evaluate(capsys, tmp_path, {"X": 62.4, "Y": 37.5}, "2026-09-01")
    assert (grade(records["X"]), grade(records["Y"])) == ("A", "C")
    records = evaluate(capsys, tmp_path, {"X": 62.4}, "2026-09-01", "--store", tmp_path / "absent.sqlite")
    assert grade(records["X"]) == "A" and not (tmp_path / "absent.sqlite").exists()


def test_a_run_of_another_ruleset_is_no_previous_run(tmp_path, capsys):
    other = tmp_path / "other.yaml"
    other.write_text(GRADED.read_text().replace("name: history-test", "name: other-test"))
    save(capsys, tmp_path, {"X": 50}, "2026-08-01", ruleset=other)
    records = evaluate(capsys, tmp_path, {"X": 62.4}, "2026-09-01", "--store", tmp_path / "runs.sqlite")
    assert grade(records["X"]) == "A"


def test_the_default_store_is_read_by_evaluate_and_explain(tmp_path, capsys, monkeypatch):
    save(capsys, tmp_path, {"X": 50}, "2026-08-01")
    monkeypatch.setenv("TIERKIT_STORE", str(tmp_path / "runs.sqlite"))
    assert grade(evaluate(capsys, tmp_path, {"X": 62.4}, "2026-09-01")["X"]) == "B"
    code, out, _err = run(capsys, "explain", GRADED, tmp_path / "now-2026-09-01.csv", "--customer", "X", "--as-of", "2026-09-01")
    assert code == 0 and "grade (grade): B (B)  score 62.4" in out and "kept B from the previous run" in out


def owned_customers(path: Path, points: float) -> Path:
    path.write_text(f"id,name,points,owner\nX,name of X,{points},wang\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("given", ["--store", "env", "default"])
def test_every_evaluating_command_keeps_the_saved_grade(tmp_path, capsys, monkeypatch, given):
    """X was B; 62.4 alone gives A, but A needs 62.5 to leave B: every command says B."""
    monkeypatch.delenv("TIERKIT_STORE", raising=False)
    owned = variant(tmp_path, "fields:\n  owner: {type: string}\n")
    store = tmp_path / "runs.sqlite"
    code, _out, err = run(capsys, "evaluate", owned, owned_customers(tmp_path / "before.csv", 50), "--as-of", "2026-08-01",
                          "--save", "--store", store)
    assert code == 0, err
    if given == "env":
        monkeypatch.setenv("TIERKIT_STORE", str(store))
    elif given == "default":
        monkeypatch.chdir(tmp_path)
        store.rename(tmp_path / "tierkit-runs.sqlite")
    now = owned_customers(tmp_path / "now.csv", 62.4)
    common = ("--as-of", "2026-09-01", *(("--store", store) if given == "--store" else ()))

    code, out, err = run(capsys, "evaluate", owned, now, *common)
    assert code == 0, err
    assert grade(json.loads(out.splitlines()[1])) == "B"
    code, out, err = run(capsys, "explain", owned, now, "--customer", "X", *common)
    assert code == 0, err
    assert "grade (grade): B (B)  score 62.4" in out and "kept B from the previous run" in out
    code, out, err = run(capsys, "brief", owned, now, "--customer", "X", "-o", tmp_path / "brief.html", *common)
    assert code == 0, err
    page = (tmp_path / "brief.html").read_text(encoding="utf-8")
    assert 'data-grade="B"' in page and "kept B from the previous run" in page
    code, out, err = run(capsys, "calllist", owned, now, "--owner", "wang", "-o", tmp_path / "calls.csv", *common)
    assert code == 0, err
    with open(tmp_path / "calls.csv", encoding="utf-8-sig", newline="") as handle:
        assert [row["Grade"] for row in csv.DictReader(handle)] == ["B"]
    code, out, err = run(capsys, "report", owned, now, "-o", tmp_path / "report.html", *common)
    assert code == 0, err
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert re.search(r'<tr data-label="B">\s*<td>B</td>\s*<td class="n">1</td>', report)
    # The score moves a little under the change, not past 62.5: kept B on both sides.
    code, out, err = run(capsys, "whatif", owned, now, "--set", "schemes.grade.indicators.points.weight=1.001", "--json", *common)
    assert code == 0, err
    (mover,) = json.loads(out)["movers"]
    (change,) = mover["changes"]
    assert (change["before"]["label"], change["after"]["label"]) == ("B", "B")


def test_whatif_keeps_the_saved_grade_when_it_reads_the_input_twice(tmp_path, capsys):
    save(capsys, tmp_path, {"X": 50}, "2026-08-01")
    now = write_customers(tmp_path / "now.csv", {"X": 62.4})
    code, out, err = run(capsys, "whatif", GRADED, now, "--as-of", "2026-09-01", "--store", tmp_path / "runs.sqlite", "--json",
                         "--set", "schemes.grade.indicators.points.weight=1.001", "--set", "fields.influence.type=integer")
    assert code == 0, err
    (change,) = json.loads(out)["movers"][0]["changes"]
    assert (change["before"]["label"], change["after"]["label"]) == ("B", "B")


def test_backtest_ignores_the_run_store(tmp_path, capsys, monkeypatch):
    """A past as-of date is graded from the data alone, not from runs saved since."""
    save(capsys, tmp_path, {"X": 50}, "2026-08-01")
    monkeypatch.setenv("TIERKIT_STORE", str(tmp_path / "runs.sqlite"))
    orders = tmp_path / "orders.csv"
    orders.write_text("customer_id,order_date,amount\nX,2026-01-10,100\nX,2026-07-10,100\n", encoding="utf-8")
    customers = write_customers(tmp_path / "then.csv", {"X": 62.4})
    code, out, err = run(capsys, "backtest", GRADED, customers, "--orders", orders, "--as-of", "2026-03-01", "--json")
    assert code == 0, err
    assert [(grade["label"], grade["customers"]) for grade in json.loads(out)["grades"] if grade["customers"]] == [("A", 1)]


def variant(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variant.yaml"
    path.write_text(f"extends: {graded_beside(tmp_path)}\n{text}", encoding="utf-8")
    return path


def test_a_promotion_is_not_undone(tmp_path, capsys):
    promoting = variant(tmp_path, "schemes:\n  - id: grade\n    promote: [{when: 'influence >= 50', grade: S}]\n")
    save(capsys, tmp_path, {"X": 50}, "2026-08-01", ruleset=promoting)
    records = save(capsys, tmp_path, {"X": {"points": 55, "influence": 60}}, "2026-09-01", ruleset=promoting)
    assert grade(records["X"]) == "S"


def test_missing_data_is_not_covered_by_the_previous_grade(tmp_path, capsys):
    optional = variant(tmp_path, "fields:\n  points: {type: number}\n")
    save(capsys, tmp_path, {"X": 50}, "2026-08-01", ruleset=optional)
    records = save(capsys, tmp_path, {"X": {"points": ""}}, "2026-09-01", ruleset=optional)
    assert grade(records["X"]) == "insufficient_data"


def test_the_previous_run_is_readable_in_expressions(tmp_path, capsys):
    moved = variant(tmp_path, (
        "schemes:\n  - id: grade\n    hysteresis: 0\n  - id: moved\n    kind: rules\n    rules:\n"
        "      - {id: downgraded, when: \"previous_run.grade == 'A' and grade.label == 'B'\", tags: [at_risk]}\n"
        "    default: {id: same}\n"
    ))
    save(capsys, tmp_path, {"X": 70, "Y": 70}, "2026-08-01", ruleset=moved)
    records = save(capsys, tmp_path, {"X": 59, "Y": 61}, "2026-09-01", ruleset=moved)
    assert records["X"]["outcomes"]["moved"]["tags"] == ["at_risk"]
    assert records["Y"]["outcomes"]["moved"]["label"] == "same"


def test_hysteresis_needs_threshold_grades(tmp_path, capsys):
    shares = variant(tmp_path, "schemes:\n  - id: grade\n    grades: [{id: A, share: 0.5}, {id: B}]\n")
    code, out, _err = run(capsys, "validate", shares)
    assert code == 1
    assert f"{tmp_path / GRADED.name}:16:17: hysteresis needs threshold grades (min), not shares" in out


def test_previous_run_is_a_reserved_name(tmp_path, capsys):
    reserved = variant(tmp_path, "fields:\n  previous_run: {type: string}\n")
    code, out, _err = run(capsys, "validate", reserved)
    assert code == 1
    assert f"{reserved}:3:17: 'previous_run' is a reserved name" in out


def test_a_negative_margin_is_a_schema_error(tmp_path, capsys):
    negative = variant(tmp_path, "schemes:\n  - id: grade\n    hysteresis: -1\n")
    code, out, _err = run(capsys, "validate", negative)
    assert code == 1 and f"{negative}:4:17:" in out


def test_chinese_reasons(tmp_path, capsys):
    save(capsys, tmp_path, {"X": 50, "Y": 50}, "2026-08-01")
    records = evaluate(capsys, tmp_path, {"X": 62.4, "Y": 37.5}, "2026-09-01", "--store", tmp_path / "runs.sqlite", "--lang", "zh")
    assert records["X"]["outcomes"]["grade"]["reasons"][-1]["text"] == "保持上次的 B：得分 62.4 未达 62.5（60 + 缓冲 2.5），不升为 A"
    assert records["Y"]["outcomes"]["grade"]["reasons"][-1]["text"] == "保持上次的 B：得分 37.5 未低于 37.5（40 − 缓冲 2.5），不降为 C"
