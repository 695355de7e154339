"""``tierkit runs`` and ``tierkit diff`` end to end, on small saved runs.

The fixture ruleset (``tests/history/graded.yaml``) takes its score straight from a
``points`` column, so every grade is known; ``watch`` tags ``at_risk`` (unpaid > 100)
and ``benchmark`` (influence >= 80).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TIERKIT, run, run_captured, TESTS

FIXTURES = TESTS / "history"
GRADED = FIXTURES / "graded.yaml"
COLUMNS = ("id", "name", "points", "unpaid", "influence")


def one_line_error(code: int, err: str, exit_code: int = 2) -> str:
    assert code == exit_code
    assert err.count("\n") == 1 and err.startswith("tierkit: "), err
    return err.rstrip("\n")


def graded_beside(folder: Path) -> str:
    """A copy of the graded fixture in ``folder``, for a ruleset there to extend (``extends``
    reaches no further than the ruleset's own folder): its file name."""
    shutil.copy(GRADED, folder / GRADED.name)
    return GRADED.name


def write_customers(path: Path, customers: dict[str, dict | float]) -> Path:
    """One row per customer; a bare number is its points."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, restval="")
        writer.writeheader()
        for customer, values in customers.items():
            values = {"points": values} if not isinstance(values, dict) else values
            writer.writerow({"id": customer, "name": f"name of {customer}", **values})
    return path


def save(capsys, tmp_path: Path, customers: dict, as_of: str, ruleset: Path = GRADED, store: Path | None = None) -> dict:
    """Evaluate and save; returns each customer's record by id (``capsys`` None in a module
    fixture, which captures the output itself)."""
    source = write_customers(tmp_path / f"customers-{as_of}.csv", customers)
    args = ("evaluate", ruleset, source, "--as-of", as_of, "--save", "--store", store or tmp_path / "runs.sqlite")
    code, out, err = run(capsys, *args) if capsys else run_captured(*args)
    assert code == 0, err
    assert "saved run " in err
    return {record["id"]: record for record in map(json.loads, out.splitlines()[1:])}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """Run 1 then run 2 of the same ruleset, with known changes between them: saved once
    for the module, whose tests only read the store (``runs``, ``diff``)."""
    tmp_path = tmp_path_factory.mktemp("two-runs")
    save(None, tmp_path, {
        "K1": 70, "K2": 50, "K3": {"points": 30, "unpaid": 500}, "K4": 90, "K5": 45, "GONE": 10,
    }, "2026-08-01")
    save(None, tmp_path, {
        "K1": 50,                                   # A → B
        "K2": 30,                                   # B → C
        "K3": 30,                                   # at-risk cleared
        "K4": {"points": 90, "influence": 95},      # new benchmark candidate
        "K5": {"points": 45, "unpaid": 200},        # new at-risk
        "NEW": {"points": 10, "unpaid": 999},       # a new customer, at risk
    }, "2026-09-01")
    return tmp_path / "runs.sqlite"


# -- runs ----------------------------------------------------------------------------


def test_runs_lists_every_saved_run(two_runs, capsys):
    code, out, _err = run(capsys, "runs", "--store", two_runs)
    assert code == 0
    header, first, second = out.splitlines()
    assert header.split()[:4] == ["run", "saved", "(UTC)", "as"]
    assert first.split()[0] == "1" and "2026-08-01" in first and "history-test" in first
    assert second.split()[0] == "2" and "2026-09-01" in second and "customers-2026-09-01.csv" in second


def test_runs_json_has_every_field(two_runs, capsys):
    code, out, _err = run(capsys, "runs", "--store", two_runs, "--json")
    assert code == 0
    runs = json.loads(out)
    assert [r["id"] for r in runs] == [1, 2]
    assert set(runs[0]) == {"id", "saved_at", "as_of", "ruleset", "ruleset_version", "fingerprint",
                            "customers_file", "orders_file", "customers", "tierkit"}
    assert runs[0]["ruleset"] == "history-test" and runs[0]["ruleset_version"] == "1"
    assert runs[0]["fingerprint"].startswith("sha256:") and runs[0]["customers"] == 6
    assert runs[1]["customers_file"].endswith("customers-2026-09-01.csv") and runs[1]["orders_file"] is None


def test_runs_reads_the_store_named_by_the_environment(two_runs, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TIERKIT_STORE", str(two_runs))
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capsys, "runs", "--json")
    assert code == 0 and len(json.loads(out)) == 2


def test_runs_without_a_store_is_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERKIT_STORE", raising=False)
    code, _out, err = run(capsys, "runs")
    assert "no run store at tierkit-runs.sqlite" in one_line_error(code, err)


def test_runs_of_a_file_that_is_no_store(tmp_path, capsys):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("not a database, just text\n" * 100)
    code, _out, err = run(capsys, "runs", "--store", bogus)
    assert "is not a usable tierkit run store" in one_line_error(code, err)


# -- diff ----------------------------------------------------------------------------


def test_diff_counts_migrations_per_pair_and_lists_customers(two_runs, capsys):
    code, out, _err = run(capsys, "diff", "1", "2", "--store", two_runs, "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["from"]["id"] == 1 and result["to"]["id"] == 2 and result["ruleset_changed"] is False
    grade = result["migrations"]["grade"]
    assert grade["count"] == 2
    assert grade["pairs"] == [{"from": "A", "to": "B", "count": 1}, {"from": "B", "to": "C", "count": 1}]
    assert grade["customers"] == [
        {"id": "K1", "name": "name of K1", "owner": None, "scheme": "grade", "from": "A", "to": "B", "cause": "data changed"},
        {"id": "K2", "name": "name of K2", "owner": None, "scheme": "grade", "from": "B", "to": "C", "cause": "data changed"},
    ]
    assert result["customers"] == {"from": 6, "to": 6, "new": ["NEW"], "gone": ["GONE"]}


def test_diff_reports_new_and_cleared_at_risk_and_new_benchmarks(two_runs, capsys):
    _code, out, _err = run(capsys, "diff", "previous", "latest", "--store", two_runs, "--format", "json")
    result = json.loads(out)
    assert [c["id"] for c in result["at_risk"]["new"]] == ["K5", "NEW"]
    assert [c["id"] for c in result["at_risk"]["cleared"]] == ["K3"]
    assert result["at_risk"]["cleared"][0] == {"id": "K3", "name": "name of K3", "owner": None, "scheme": "watch",
                                              "from": "at_risk", "to": None, "cause": "data changed"}
    assert [c["id"] for c in result["benchmark"]["new"]] == ["K4"]


def test_diff_table_says_it_in_words(two_runs, capsys):
    code, out, _err = run(capsys, "diff", "previous", "latest", "--store", two_runs)
    assert code == 0
    assert "from run 1 (history-test 1, as of 2026-08-01, 6 customers)" in out
    assert "ruleset unchanged" in out and "customers: 1 new, 1 gone" in out
    assert "grade migrations: 2" in out and "  A → B: 1" in out
    assert "at-risk: 2 new, 1 cleared" in out and "benchmark candidates: 1 new" in out
    lines = out.splitlines()
    assert any(line.split() == ["K1", "name", "of", "K1", "A", "B", "data", "changed"] for line in lines)
    assert any(line.split() == ["cleared", "K3", "name", "of", "K3", "watch", "data", "changed"] for line in lines)


def test_diff_csv_is_one_row_per_change(two_runs, capsys):
    code, out, _err = run(capsys, "diff", "1", "2", "--store", two_runs, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
    assert list(rows[0]) == ["change", "scheme", "customer", "from", "to", "cause", "name", "owner"]
    changes = {(row["change"], row["customer"]) for row in rows}
    assert ("migration", "K1") in changes and ("at_risk_cleared", "K3") in changes
    assert ("at_risk_new", "NEW") in changes and ("benchmark_new", "K4") in changes
    assert {row["scheme"] for row in rows if row["change"] == "migration"} == {"grade", "watch"}


def test_diff_of_one_scheme(two_runs, capsys):
    _code, out, _err = run(capsys, "diff", "1", "2", "--store", two_runs, "--format", "json", "--scheme", "grade")
    result = json.loads(out)
    assert list(result["migrations"]) == ["grade"]
    assert result["at_risk"] == {"new": [], "cleared": []}  # grade carries no tags


def test_a_ruleset_change_is_told_apart_from_a_data_change(tmp_path, capsys):
    save(capsys, tmp_path, {"R1": 62, "R2": 62}, "2026-08-01")
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(GRADED.read_text().replace("{id: A, min: 60}", "{id: A, min: 63}").replace("hysteresis: 2.5", ""))
    save(capsys, tmp_path, {"R1": 62, "R2": 61}, "2026-09-01", ruleset=stricter)
    _code, out, _err = run(capsys, "diff", "1", "2", "--store", tmp_path / "runs.sqlite", "--format", "json")
    result = json.loads(out)
    assert result["ruleset_changed"] is True
    causes = {c["id"]: c["cause"] for c in result["migrations"]["grade"]["customers"]}
    assert causes == {"R1": "ruleset changed", "R2": "both"}


UNUSED_FIELD = """\
tierkit: 1
name: d
version: "1"
fields:
  id: {type: string, required: true}
  v: {type: number}
  r: {type: boolean, default: false}
  b: {type: boolean, default: false}
schemes:
  - id: grade
    kind: rules
    rules:
      - {id: A, when: "v >= 50"}
    default: {id: B}
  - id: flags
    kind: rules
    hit_policy: collect
    rules:
      - {id: x1, when: "r", tags: [at_risk]}
      - {id: x2, when: "b", tags: [benchmark]}
    default: {id: none}
"""


def test_a_new_field_without_values_is_no_data_change(tmp_path, capsys):
    """The same customers file, then a ruleset with another threshold that also declares
    a field the file does not have: every change is the ruleset's."""
    (tmp_path / "d.yaml").write_text(UNUSED_FIELD, encoding="utf-8")
    (tmp_path / "d3.yaml").write_text(
        UNUSED_FIELD.replace("v >= 50", "v >= 30").replace("  b: {type: boolean, default: false}\n",
                                                           "  b: {type: boolean, default: false}\n  note: {type: string}\n"),
        encoding="utf-8",
    )
    customers = tmp_path / "c.csv"
    customers.write_text("id,v,r,b\na,60,true,false\nb,40,false,false\nc,70,true,true\ng,10,true,false\n", encoding="utf-8")
    store = tmp_path / "runs.sqlite"
    for ruleset in ("d.yaml", "d3.yaml"):
        code, _out, err = run(capsys, "evaluate", tmp_path / ruleset, customers, "--as-of", "2026-09-01", "--save", "--store", store)
        assert code == 0, err
    _code, out, _err = run(capsys, "diff", "1", "2", "--store", store, "--format", "json")
    result = json.loads(out)
    assert result["ruleset_changed"] is True
    assert result["migrations"]["grade"]["customers"] == [
        {"id": "b", "name": None, "owner": None, "scheme": "grade", "from": "B", "to": "A", "cause": "ruleset changed"}
    ]


def test_an_overridden_change_says_so(tmp_path, capsys):
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(GRADED.read_text().replace("hysteresis: 2.5", "") + "overrides: overrides.yaml\n")
    (tmp_path / "overrides.yaml").write_text("[]\n")
    save(capsys, tmp_path, {"P1": 50}, "2026-08-01", ruleset=pinned)
    (tmp_path / "overrides.yaml").write_text("- {customer: P1, scheme: grade, label: S, reason: key deal, expires: 2027-01-01}\n")
    save(capsys, tmp_path, {"P1": 50}, "2026-09-01", ruleset=pinned)
    _code, out, _err = run(capsys, "diff", "1", "2", "--store", tmp_path / "runs.sqlite", "--format", "json")
    assert json.loads(out)["migrations"]["grade"]["customers"] == [
        {"id": "P1", "name": "name of P1", "owner": None, "scheme": "grade", "from": "B", "to": "S", "cause": "override"}
    ]


def test_previous_is_the_run_of_the_same_ruleset_before_the_latest(tmp_path, capsys):
    other = tmp_path / "other.yaml"
    other.write_text(GRADED.read_text().replace("name: history-test", "name: other-test"))
    save(capsys, tmp_path, {"X": 10}, "2026-08-01")
    save(capsys, tmp_path, {"X": 10}, "2026-08-02", ruleset=other)
    save(capsys, tmp_path, {"X": 70}, "2026-08-03")
    _code, out, _err = run(capsys, "diff", "previous", "latest", "--store", tmp_path / "runs.sqlite", "--format", "json")
    result = json.loads(out)
    assert (result["from"]["id"], result["to"]["id"]) == (1, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "9"], "no run 9 in "),
        (["first", "2"], "'first' is not a run: give a run id, latest or previous"),
        (["1", "2", "--scheme", "nope"], "runs 1 and 2 have no scheme 'nope' (they have grade, watch)"),
        (["1", "2", "--format", "xml"], "'xml' is not one of 'text', 'markdown', 'csv', 'json'"),
    ],
)
def test_diff_errors_are_one_line(two_runs, capsys, args, message):
    code, _out, err = run(capsys, "diff", *args, "--store", two_runs)
    assert message in one_line_error(code, err)


def test_previous_without_an_earlier_run(tmp_path, capsys):
    save(capsys, tmp_path, {"X": 10}, "2026-08-01")
    code, _out, err = run(capsys, "diff", "previous", "latest", "--store", tmp_path / "runs.sqlite")
    assert "no run of history-test before run 1" in one_line_error(code, err)


def test_save_to_a_folder_that_does_not_exist(tmp_path, capsys):
    source = write_customers(tmp_path / "c.csv", {"X": 10})
    code, out, err = run(capsys, "evaluate", GRADED, source, "--save", "--store", tmp_path / "missing" / "runs.sqlite")
    assert "cannot open run store" in one_line_error(code, err) and out == ""


# -- the installed command -----------------------------------------------------------


def test_runs_and_diff_through_the_installed_command(two_runs, tmp_path):
    listed = subprocess.run([*TIERKIT, "runs", "--store", str(two_runs)], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 3
    shown = subprocess.run([*TIERKIT, "diff", "previous", "latest", "--store", str(two_runs), "--format", "csv"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "migration,grade,K1,A,B,data changed" in shown.stdout
    missing = subprocess.run([*TIERKIT, "diff", "1", "2", "--store", str(tmp_path / "none.sqlite")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
