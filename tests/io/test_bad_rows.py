"""`tierkit evaluate` with bad rows and unusable files.

A bad row (a wrong type, a missing required value, a bad date, an enum value not
allowed, a repeated id, a line that is not JSON, a row with too many cells) goes to
``--rejected FILE`` with its row number, column, field and reason, and the run goes on:
exit 0, and ``read = evaluated + rejected`` in the summary.  A file that cannot be used
at all ends the run with exit 2 and a one-line message.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest

from tierkit.cli import main
from tests.conftest import ROOT, TESTS

AS_OF = "2026-09-01"
HEADER = [
    "id", "name", "owner", "industry", "region", "annual_procurement", "our_revenue_12m",
    "gross_margin_pct", "fortune500", "industry_leader", "employees", "last_order_date",
]
INDUSTRIES = "government, finance, manufacturing, energy, education, healthcare, retail, other"


def good(customer_id: str, **changes) -> list:
    row = dict(zip(HEADER, [customer_id, f"Customer {customer_id}", "Wang", "finance", "Beijing", "120000000",
                            "3000000", "24.5", "false", "true", "800", "2026-03-15"]))
    row.update(changes)
    return [row[column] for column in HEADER]


def write_csv(path: Path, rows: list[list], header=HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def evaluate(capsys, *args) -> tuple[int, str, str]:
    code = main(["evaluate", "b2b-manufacturing", *map(str, args), "--as-of", AS_OF])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def summary(err: str) -> tuple[int, int, int]:
    """read, evaluated and rejected from the summary line, which always adds up."""
    lines = [line for line in err.splitlines() if line.startswith("read ")]
    assert len(lines) == 1, err
    match = re.fullmatch(r"read ([\d,]+) · evaluated ([\d,]+) · rejected ([\d,]+) · b2b-manufacturing 1\.0\.0 as of " + AS_OF, lines[0])
    assert match, lines[0]
    read, evaluated, rejected = (int(group.replace(",", "")) for group in match.groups())
    assert read == evaluated + rejected
    return read, evaluated, rejected


def rejected_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["table", "file", "row", "column", "field", "reason"]
    assert {row[0] for row in rows[1:]} <= {"customers", "orders"}
    return [row[1:] for row in rows[1:]]


def result_ids(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    meta = json.loads(lines[0])["meta"]
    records = [json.loads(line) for line in lines[1:]]
    assert meta["read"] == meta["evaluated"] + meta["rejected"]
    assert meta["evaluated"] == len(records)
    return sorted(record["id"] for record in records)


def one_line_failure(code: int, out: str, err: str) -> str:
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("tierkit: ")
    return err.rstrip("\n")


# -- each class of bad row, from a CSV file ----------------------------------------------


@pytest.fixture
def bad_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "customers.csv", [
        good("C001"),                                             # row 2
        good("C002", annual_procurement="lots"),                  # 3: text in a number column
        good("C003", name=""),                                    # 4: a required value missing
        good("C004", last_order_date="2026-13-45"),               # 5: not a date
        good("C005", industry="goverment"),                       # 6: not an allowed value
        good("C001", name="Second C001"),                         # 7: a repeated id
        good("C007") + ["stray"],                                 # 8: more cells than headers
        good("C008", fortune500="maybe", employees="1.5"),        # 9: two problems, one entry
        good("C009", annual_procurement="3.5亿", industry="Energy"),  # 10: fine as written
    ])


EXPECTED_CSV_REJECTIONS = [
    ["3", "annual_procurement", "annual_procurement", "'lots' is not a number"],
    ["4", "name", "name", "missing required value"],
    ["5", "last_order_date", "last_order_date", "'2026-13-45' is not a valid date: month must be in 1..12"],
    ["6", "industry", "industry", f"'goverment' is not one of {INDUSTRIES} (did you mean 'government'?)"],
    ["7", "", "id", "duplicate id 'C001' (first at row 2)"],
    ["8", "", "", "row has values beyond the last of the 12 header columns"],
    ["9", "fortune500", "fortune500",
     "'maybe' is not a yes/no value (use true/false, yes/no, 1/0 or 是/否); "
     "also column 'employees' (field employees): '1.5' is not a whole number"],
]


def test_csv_bad_rows_go_to_the_rejected_file_and_the_run_goes_on(bad_csv, tmp_path, capsys):
    rejected, output = tmp_path / "rej.csv", tmp_path / "out.jsonl"
    code, out, err = evaluate(capsys, bad_csv, "-o", output, "--rejected", rejected)
    assert code == 0
    assert out == ""
    assert [row[1:] for row in rejected_rows(rejected)] == EXPECTED_CSV_REJECTIONS
    assert {row[0] for row in rejected_rows(rejected)} == {str(bad_csv)}
    assert summary(err) == (9, 2, 7)
    assert result_ids(output) == ["C001", "C009"]
    # With --rejected, the rows are not repeated on stderr.
    assert "rejected:" not in err


def test_the_first_of_two_rows_with_one_id_is_the_one_kept(bad_csv, tmp_path, capsys):
    output = tmp_path / "out.jsonl"
    evaluate(capsys, bad_csv, "-o", output, "--rejected", tmp_path / "rej.csv")
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()[1:]]
    assert [r["features"]["name"] for r in records if r["id"] == "C001"] == ["Customer C001"]


def test_values_people_type_are_accepted(bad_csv, tmp_path, capsys):
    output = tmp_path / "out.jsonl"
    evaluate(capsys, bad_csv, "-o", output, "--rejected", tmp_path / "rej.csv")
    records = {r["id"]: r for r in map(json.loads, output.read_text(encoding="utf-8").splitlines()[1:])}
    assert records["C009"]["features"]["annual_procurement"] == 350_000_000.0
    assert records["C009"]["features"]["industry"] == "energy"


def test_without_rejected_file_the_rows_are_printed_on_stderr(bad_csv, tmp_path, capsys):
    code, _out, err = evaluate(capsys, bad_csv, "-o", tmp_path / "out.jsonl")
    assert code == 0
    shown = [line for line in err.splitlines() if line.startswith("rejected: ")]
    assert shown[:2] == [
        f"rejected: {bad_csv}:3: column 'annual_procurement' (field annual_procurement): 'lots' is not a number",
        f"rejected: {bad_csv}:4: column 'name' (field name): missing required value",
    ]
    assert f"rejected: {bad_csv}:7: field id: duplicate id 'C001' (first at row 2)" in shown
    assert f"rejected: {bad_csv}:8: row has values beyond the last of the 12 header columns" in shown
    assert len(shown) == 7
    assert "more rejected rows" not in err
    assert summary(err) == (9, 2, 7)


def test_only_the_first_ten_rejected_rows_are_printed(tmp_path, capsys):
    rows = [good("C000")] + [good(f"C{i:03}", annual_procurement=f"bad{i}") for i in range(1, 14)]
    path = write_csv(tmp_path / "many.csv", rows)
    code, out, err = evaluate(capsys, path)
    assert code == 0
    shown = [line for line in err.splitlines() if line.startswith("rejected: ")]
    assert len(shown) == 10
    assert shown[0] == f"rejected: {path}:3: column 'annual_procurement' (field annual_procurement): 'bad1' is not a number"
    assert shown[-1].startswith(f"rejected: {path}:12: ")
    assert "… and 3 more rejected rows; use --rejected FILE to keep them all" in err.splitlines()
    assert summary(err) == (14, 1, 13)
    # The results still went to stdout.
    lines = out.splitlines()
    assert json.loads(lines[0])["meta"]["rejected"] == 13
    assert [json.loads(line)["id"] for line in lines[1:]] == ["C000"]


def test_a_file_of_only_bad_rows_still_ends_well(tmp_path, capsys):
    path = write_csv(tmp_path / "bad.csv", [good("C1", annual_procurement="x"), good("C2", annual_procurement="y")])
    rejected = tmp_path / "rej.csv"
    code, out, err = evaluate(capsys, path, "--rejected", rejected)
    assert code == 0
    assert summary(err) == (2, 0, 2)
    assert len(rejected_rows(rejected)) == 2
    meta = json.loads(out.splitlines()[0])["meta"]
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (2, 0, 2)


# -- JSON Lines ------------------------------------------------------------------------


def test_jsonl_bad_lines(tmp_path, capsys):
    def record(customer_id, **changes):
        base = {"id": customer_id, "name": f"Customer {customer_id}", "industry": "finance", "annual_procurement": 5.0e8,
                "gross_margin_pct": 20, "last_order_date": "2026-01-10"}
        return json.dumps({**base, **changes}, ensure_ascii=False)

    path = tmp_path / "customers.jsonl"
    path.write_text("\n".join([
        record("J1"),                                   # line 1
        record("J2", annual_procurement="a lot"),       # 2: wrong type
        '{"id": "J3", name: "Gamma"}',                  # 3: not JSON
        "",                                             # 4: blank, not a row
        "[1, 2]",                                       # 5: not an object
        record("J6", annual_procurement=None),          # 6: required value missing
        record("J7", last_order_date="2026-02-30"),     # 7: no such day
        record("J8", industry="goverment"),             # 8: not an allowed value
        record("J1", name="again"),                     # 9: a repeated id
        record("J10", employees=12.5),                  # 10: not a whole number
        record("J11", fortune500=True, employees=40),   # 11: fine
    ]) + "\n", encoding="utf-8")
    rejected = tmp_path / "rej.csv"
    code, out, err = evaluate(capsys, path, "--rejected", rejected)
    assert code == 0
    assert [row[1:] for row in rejected_rows(rejected)] == [
        ["2", "annual_procurement", "annual_procurement", "'a lot' is not a number"],
        ["3", "", "", "not valid JSON: Expecting property name enclosed in double quotes (column 14)"],
        ["5", "", "", "expected a JSON object, got an array"],
        ["6", "annual_procurement", "annual_procurement", "missing required value"],
        ["7", "last_order_date", "last_order_date", "'2026-02-30' is not a valid date: day is out of range for month"],
        ["8", "industry", "industry", f"'goverment' is not one of {INDUSTRIES} (did you mean 'government'?)"],
        ["9", "", "id", "duplicate id 'J1' (first at row 1)"],
        ["10", "employees", "employees", "12.5 is not a whole number"],
    ]
    assert summary(err) == (10, 2, 8)
    assert sorted(json.loads(line)["id"] for line in out.splitlines()[1:]) == ["J1", "J11"]


# -- XLSX ------------------------------------------------------------------------------


def test_xlsx_bad_rows_keep_their_sheet_row_numbers(tmp_path, capsys):
    path = tmp_path / "customers.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["X1", "Alpha", "Li", "finance", "Shanghai", 2.0e8, 1.0e6, 30.5, False, True, 500, dt.date(2026, 5, 1)])  # 2
    sheet.append(["X2", "Beta", "Li", "finance", "Shanghai", "TBD", 1.0e6, 30.5, False, True, 500, dt.date(2026, 5, 1)])  # 3
    sheet.append([None] * len(HEADER))  # 4: empty, skipped
    sheet.append(["X5", "Gamma", "Li", "finance", "Shanghai", 2.0e8, 1.0e6, 30.5, False, True, 500, "31/12/2025"])  # 5
    sheet.append(["X6", "Delta", "Li", "fiance", "Shanghai", 2.0e8, 1.0e6, 30.5, False, True, 500, dt.date(2026, 5, 1)])  # 6
    sheet.append(["X7", "Eps", "Li", "finance", "Shanghai", 2.0e8, 1.0e6, 30.5, False, True, 500, dt.date(2026, 5, 1), "x"])  # 7
    sheet.append(["X8", None, "Li", "finance", "Shanghai", 2.0e8, 1.0e6, 30.5, False, True, 500, dt.datetime(2026, 5, 1, 9, 30)])  # 8
    sheet.append(["X9", "Eta", "Li", "Finance", "Shanghai", "1,200万", None, None, "是", "否", 12, "2026年5月1日"])  # 9: fine
    workbook.save(path)
    rejected = tmp_path / "rej.csv"
    code, out, err = evaluate(capsys, path, "--rejected", rejected)
    assert code == 0
    assert [row[1:] for row in rejected_rows(rejected)] == [
        ["3", "annual_procurement", "annual_procurement", "'TBD' is not a number"],
        ["5", "last_order_date", "last_order_date",
         "'31/12/2025' is ambiguous (day/month order unknown); write dates as YYYY-MM-DD"],
        ["6", "industry", "industry", f"'fiance' is not one of {INDUSTRIES} (did you mean 'finance'?)"],
        ["7", "", "", "row has values beyond the last of the 12 header columns"],
        ["8", "name", "name", "missing required value"],
    ]
    assert summary(err) == (7, 2, 5)
    records = {r["id"]: r for r in map(json.loads, out.splitlines()[1:])}
    assert sorted(records) == ["X1", "X9"]
    assert records["X9"]["features"]["annual_procurement"] == 12_000_000.0
    assert records["X9"]["features"]["last_order_date"] == "2026-05-01"
    assert records["X9"]["features"]["fortune500"] is True


# -- whole files that cannot be used: exit 2, one line -----------------------------------


def test_missing_input_file(tmp_path, capsys):
    path = tmp_path / "nothere.csv"
    line = one_line_failure(*evaluate(capsys, path))
    assert line == f"tierkit: {path}: file not found"


def test_unknown_input_extension(tmp_path, capsys):
    path = tmp_path / "customers.txt"
    path.write_text("id,name\n", encoding="utf-8")
    line = one_line_failure(*evaluate(capsys, path))
    assert line == f"tierkit: {path}: no reader for '.txt' files (known extensions: .csv, .json, .jsonl, .ndjson, .parquet, .tsv, .xlsm, .xlsx)"


def test_unknown_output_extension(bad_csv, tmp_path, capsys):
    path = tmp_path / "out.feather"
    line = one_line_failure(*evaluate(capsys, bad_csv, "-o", path))
    assert line == f"tierkit: {path}: no writer for '.feather' files (known extensions: .csv, .jsonl, .ndjson, .parquet, .xlsx)"


def test_missing_required_column_names_the_field_and_its_aliases(tmp_path, capsys):
    path = write_csv(tmp_path / "customers.csv", [["C1", "Alpha", "finance"]], header=["客户编号", "name", "行业"])
    line = one_line_failure(*evaluate(capsys, path))
    assert line == (
        f"tierkit: {path}: missing column for required field 'annual_procurement' "
        "(looked for: annual_procurement, 采购规模, 年采购总额)"
    )


def test_several_missing_required_columns_are_all_named(tmp_path, capsys):
    path = write_csv(tmp_path / "customers.csv", [["finance"]], header=["industry"])
    line = one_line_failure(*evaluate(capsys, path))
    assert line == (
        f"tierkit: {path}: missing column for required field 'id' (looked for: id, customer_id, 客户编号, 编号) "
        "(also missing: 'name', 'annual_procurement')"
    )


BUNDLED = ", ".join(sorted(p.stem for p in (ROOT / "rulesets").glob("*.yaml")))


def test_unknown_ruleset_name_lists_the_bundled_ones(bad_csv, capsys):
    code = main(["evaluate", "b2b-manufactring", str(bad_csv)])
    out, err = capsys.readouterr()
    line = one_line_failure(code, out, err)
    assert line == (
        "tierkit: unknown ruleset 'b2b-manufactring': no such file or bundled ruleset "
        f"(did you mean 'b2b-manufacturing'? bundled rulesets: {BUNDLED})"
    )


def test_unknown_ruleset_name_without_a_close_match(bad_csv, capsys):
    code = main(["evaluate", "wholesale", str(bad_csv)])
    out, err = capsys.readouterr()
    line = one_line_failure(code, out, err)
    assert line == f"tierkit: unknown ruleset 'wholesale': no such file or bundled ruleset (bundled rulesets: {BUNDLED})"


@pytest.mark.parametrize("value", ["2026-02-30", "yesterday", "01/09/2026", ""])
def test_bad_as_of(bad_csv, capsys, value):
    code = main(["evaluate", "b2b-manufacturing", str(bad_csv), "--as-of", value])
    out, err = capsys.readouterr()
    line = one_line_failure(code, out, err)
    assert line == f"tierkit: Invalid value for '--as-of': {value!r} is not a date in the form YYYY-MM-DD"


def test_unknown_lang(bad_csv, capsys):
    code = main(["evaluate", "b2b-manufacturing", str(bad_csv), "--lang", "fr"])
    out, err = capsys.readouterr()
    line = one_line_failure(code, out, err)
    assert line == "tierkit: Invalid value for '--lang': 'fr' is not one of 'en', 'zh'."


def test_an_invalid_ruleset_fails_evaluate_with_exit_1(bad_csv, capsys):
    ruleset = TESTS / "rulesets" / "bad-expr" / "enum-typo.yaml"
    code = main(["evaluate", str(ruleset), str(bad_csv)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == (
        f"{ruleset}:13:46: 'goverment' is not a value of industry (government, finance, other) "
        "in expression `industry == 'goverment'` (did you mean 'government'?)\n"
    )


def test_a_header_only_file_evaluates_nothing(tmp_path, capsys):
    path = write_csv(tmp_path / "empty.csv", [])
    code, out, err = evaluate(capsys, path)
    assert code == 0
    assert summary(err) == (0, 0, 0)
    assert len(out.splitlines()) == 1
