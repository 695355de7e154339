"""``tierkit init DIR [--from BUNDLED]``: the scaffold validates and its tests pass out of
the box, for the starter and for every bundled ruleset; and its error cases."""

from __future__ import annotations

import csv
import json
import subprocess

import pytest
import yaml

from tierkit.manager import make_registry
from tierkit.ruleset.load import available_rulesets

from tests.conftest import TIERKIT, run

AS_OF = "2026-11-01"
MODELINE = "# yaml-language-server: $schema=./ruleset.schema.json"
BUNDLED = available_rulesets(make_registry().ruleset_dirs)


def scaffold_works(capsys, folder) -> list[str]:
    """Validate the scaffold and run its tests; return the test output's lines."""
    code, _out, err = run(capsys, "validate", folder / "ruleset.yaml")
    assert code == 0, err
    code, out, err = run(capsys, "test", folder / "ruleset.yaml")
    lines = out.splitlines()
    assert code == 0 and err == "", out
    assert lines[-1] == f"{len(lines) - 2} passed, 0 failed" and len(lines) > 3
    return lines


def test_the_starter(tmp_path, capsys):
    folder = tmp_path / "Acme Corp"
    code, out, err = run(capsys, "init", folder, "--as-of", AS_OF)
    assert code == 0 and err == ""
    names = ["ruleset.yaml", "ruleset.schema.json", "customers.csv", "templates/README.md", "tests.yaml"]
    assert out.splitlines()[:-1] == [f"wrote {folder / name}" for name in names]
    assert out.splitlines()[-1].startswith(f"next: tierkit validate {folder / 'ruleset.yaml'} · tierkit test ")
    text = (folder / "ruleset.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE and "\nname: acme-corp\n" in text
    assert "kind: rules" in text and "kind: weighted" in text
    assert "brief.html" in (folder / "templates" / "README.md").read_text(encoding="utf-8")
    lines = scaffold_works(capsys, folder)
    assert "PASSED C00001 is track government, grade A" in lines
    assert any(line.endswith(", given inline") for line in lines)
    tests = (folder / "tests.yaml").read_text(encoding="utf-8")
    assert "data: customers.csv\nas_of: 2026-11-01\n" in tests and "orders:" not in tests


def test_the_schema_beside_the_ruleset_is_what_tierkit_schema_prints(tmp_path, capsys):
    run(capsys, "init", tmp_path / "s", "--as-of", AS_OF)
    code, printed, _ = run(capsys, "schema")
    assert code == 0 and (tmp_path / "s" / "ruleset.schema.json").read_text(encoding="utf-8") == printed
    assert json.loads(printed)["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("name", BUNDLED)
def test_from_every_bundled_ruleset(tmp_path, capsys, name):
    folder = tmp_path / "client"
    code, out, _ = run(capsys, "init", folder, "--from", name, "--as-of", AS_OF)
    assert code == 0
    text = (folder / "ruleset.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE and "\nname: client\n" in text
    with open(folder / "customers.csv", encoding="utf-8-sig", newline="") as handle:
        customers = list(csv.DictReader(handle))
    assert 1 <= len(customers) <= 12
    assert (folder / "orders.csv").is_file() == ("orders: orders.csv" in (folder / "tests.yaml").read_text(encoding="utf-8"))
    scaffold_works(capsys, folder)


def test_from_a_ruleset_without_example_data_generates_rows_and_orders(tmp_path, capsys):
    source = tmp_path / "src" / "lone.yaml"
    source.parent.mkdir()
    source.write_text(LONE, encoding="utf-8")
    folder = tmp_path / "out"
    assert run(capsys, "init", folder, "--from", source, "--as-of", AS_OF)[0] == 0
    with open(folder / "customers.csv", encoding="utf-8-sig", newline="") as handle:
        customers = list(csv.DictReader(handle))
    assert len(customers) == 8 and set(customers[0]) == {"id", "name", "segment", "size", "margin", "vip", "since"}
    assert {row["segment"] for row in customers} == {"a", "b", "c"}
    assert (folder / "orders.csv").read_text(encoding="utf-8-sig").startswith("customer_id,order_date,amount,paid_amount,due_date,paid_date")
    lines = scaffold_works(capsys, folder)
    assert "PASSED C00003 is band big" in lines


def test_from_saas_enterprise_copies_the_invoices_as_orders(tmp_path, capsys):
    """Its order file is invoices.csv (account_id, invoice_date, amount), found by its
    headers; the tests' expectations are what evaluate gives with those orders."""
    folder = tmp_path / "client"
    code, out, _ = run(capsys, "init", folder, "--from", "saas-enterprise", "--as-of", AS_OF)
    assert code == 0
    assert f"wrote {folder / 'orders.csv'}" in out.splitlines()
    assert out.splitlines()[-1].endswith(f" --orders {folder / 'orders.csv'} --customer ID")
    with open(folder / "customers.csv", encoding="utf-8-sig", newline="") as handle:
        ids = {row["id"] for row in csv.DictReader(handle)}
    with open(folder / "orders.csv", encoding="utf-8-sig", newline="") as handle:
        orders = list(csv.DictReader(handle))
    assert list(orders[0])[:4] == ["invoice_no", "account_id", "invoice_date", "amount"]
    assert orders and {row["account_id"] for row in orders} <= ids
    text = (folder / "tests.yaml").read_text(encoding="utf-8")
    assert "data: customers.csv\norders: orders.csv\n" in text
    scaffold_works(capsys, folder)

    results = folder / "results.jsonl"
    code, _, err = run(capsys, "evaluate", "saas-enterprise", folder / "customers.csv", "--orders", folder / "orders.csv",
                       "--as-of", AS_OF, "-o", results)
    assert code == 0, err
    rows = map(json.loads, results.read_text(encoding="utf-8").splitlines())
    evaluated = {row["id"]: row for row in rows if "id" in row}  # after the meta line
    # value_matrix cuts at the median of the customers evaluated together, which for a
    # case of one customer is that customer: the other outcomes do not depend on who else is evaluated
    cases = [case for case in yaml.safe_load(text)["cases"] if isinstance(case.get("customer"), str) and "expect" in case]
    assert len(cases) >= 3
    for case in cases:
        row = evaluated[case["customer"]]
        for scheme, expected in case["expect"].items():
            if scheme == "allocation":
                assert expected == row["allocation"]["rule"], case["name"]
            elif scheme != "value_matrix":
                label = expected["label"] if isinstance(expected, dict) else expected
                assert label == row["outcomes"][scheme]["label"], (case["name"], scheme)
                if isinstance(expected, dict):
                    assert expected["score"] == pytest.approx(row["outcomes"][scheme]["score"]), (case["name"], scheme)
    first = cases[0]
    assert first["expect"]["grade"]["label"] != "insufficient_data"
    assert first["expect"]["lifecycle"] != "potential"


LONE = """\
tierkit: 1
name: lone
version: "1"
orders: {}
fields:
  id: {type: string, required: true}
  name: {type: string, required: true}
  segment: {type: enum, values: [a, b, c]}
  size: {type: number, required: true}
  margin: {type: number, unit: "%"}
  vip: {type: boolean, default: false}
  since: {type: date}
schemes:
  - id: band
    kind: rules
    rules:
      - {id: big, when: "size >= 1.0e9"}
      - {id: late, when: "avg_days_to_pay > 40"}
      - {id: owing, when: "overdue_amount > 0"}
    default: {id: small}
rank:
  - {by: size, order: desc}
"""


def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path, capsys):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    code, out, err = run(capsys, "init", folder)
    assert (code, out) == (2, "")
    assert err == f"tierkit: {folder} is not empty (use --force to write the scaffold into it)\n"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert run(capsys, "init", folder, "--force", "--as-of", AS_OF)[0] == 0
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    scaffold_works(capsys, folder)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "b2b-manufactring"], "tierkit: unknown ruleset 'b2b-manufactring': no such file or bundled ruleset (did you mean 'b2b-manufacturing'?"),
        (["--as-of", "soon"], "tierkit: Invalid value for '--as-of': 'soon' is not a date in the form YYYY-MM-DD"),
    ],
)
def test_errors_are_one_line(tmp_path, capsys, args, message):
    code, out, err = run(capsys, "init", tmp_path / "new", *args)
    assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith(message)
    assert not (tmp_path / "new").exists()


def test_a_file_in_the_way(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("x", encoding="utf-8")
    code, out, err = run(capsys, "init", path)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "is a file" in err


def test_console_script(tmp_path):
    folder = tmp_path / "demo"
    done = subprocess.run([*TIERKIT, "init", str(folder), "--from", "b2b-manufacturing"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    tested = subprocess.run([*TIERKIT, "test", str(folder / "ruleset.yaml")], capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    again = subprocess.run([*TIERKIT, "init", str(folder)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
