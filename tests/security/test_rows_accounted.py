"""Every input row ends evaluated or rejected, with file, row, column and reason; one bad
row never costs the rows after it nor stops the run (the Python engine; the DuckDB and
Spark engines are held to the same counts in test_duckdb_inputs.py).

Files are written the way the tools that make them do: a CSV line pasted from a
GB18030 export into a UTF-8 file, an XLSX whose formulas were never computed (as
openpyxl and other libraries write them), JSON Lines with a repeated key.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierkit.errors import TierkitError
from tierkit.io.fieldtypes import MAX_NUMBER_TEXT, FieldSpec
from tierkit.io.tables import read_table

from .conftest import run_tierkit as tierkit
from tests.conftest import examples

AS_OF = "2026-09-01"
FIELDS = [FieldSpec("id", "string", required=True), FieldSpec("name", "string"), FieldSpec("x", "number")]
SUMMARY = re.compile(r"read (\d+) · evaluated (\d+) · rejected (\d+)")
RULESET = """\
tierkit: 1
name: accounted
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  name: {type: string}
  x: {type: number}
derive:
  scaled: "x * 1e300"
schemes:
  - id: grade
    kind: weighted
    label: Grade
    indicators:
      - {id: size, label: Size, weight: 1, points: "x * 1e307 * 100 - x * 1e307 * 100"}
    grades:
      - {id: a, min: 50, label: A}
      - {id: b, min: 0, label: B}
rank:
  - {by: x, order: desc}
"""



def summary(stderr: str) -> tuple[int, int, int]:
    read, evaluated, rejected = map(int, SUMMARY.search(stderr).groups())
    assert read == evaluated + rejected
    return read, evaluated, rejected


def rejections(table) -> list[tuple[int, str | None, str]]:
    return [(item.row, item.column, item.reason) for item in table.rejected]


def accounted(table, data_rows: int) -> None:
    assert table.read == len(table.rows) + len(table.rejected) == data_rows


# -- CSV -------------------------------------------------------------------------------------


def test_an_unclosed_quote_rejects_its_own_row_only(tmp_path, registry):
    path = tmp_path / "c.csv"
    lines = ["id,name,x", *(f"C{n},name {n},{n}" for n in range(1, 2002))]
    lines[2] = 'C2,"Acme, unclosed,2'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path, FIELDS, registry)
    accounted(table, 2001)
    assert rejections(table) == [(3, None, "malformed CSV: a quote opened in this row is never closed")]
    assert [row[0] for row in table.rows[:3]] == ["C1", "C3", "C4"] and table.row_numbers[-1] == 2002


def test_a_quote_closed_lines_later_rejects_the_first_line_and_reads_the_rest(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text('id,name,x\nC1,"stray,1\nC2,b,2\nC3,"c"x,3\nC4,d,4\n', encoding="utf-8")
    table = read_table(path, FIELDS, registry)
    assert [row[0] for row in table.rows] == ["C2", "C4"]
    assert [row for row, _, _ in rejections(table)] == [2, 4]
    accounted(table, 4)


def test_a_quoted_newline_is_still_one_row(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text('id,name,x\nC1,"two\nlines",1\nC2,b,2\n', encoding="utf-8")
    table = read_table(path, FIELDS, registry)
    assert table.rows == [["C1", "two\nlines", 1.0], ["C2", "b", 2.0]] and not table.rejected


def test_short_and_long_rows_are_rejected_with_the_column(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text("id,name,x\nC1,a,1\nC2,b\nC3,c,3,surplus\nC4,d,4,\nC5\n", encoding="utf-8")
    table = read_table(path, FIELDS, registry)
    assert [row[0] for row in table.rows] == ["C1", "C4"]  # an empty cell past the header is no value
    assert rejections(table) == [
        (3, "x", "row has 2 values where the header has 3 columns"),
        (4, None, "row has values beyond the last of the 3 header columns"),
        (6, "name", "row has 1 values where the header has 3 columns"),
    ]
    accounted(table, 5)


def test_a_gb18030_line_in_a_utf8_file_is_rejected_and_the_others_keep_their_names(tmp_path, registry):
    path = tmp_path / "c.csv"
    utf8 = "".join(f"C{n},客户{n}号,{n}\n" for n in range(1, 6)).encode("utf-8")
    pasted = "C6,北京宏远置业有限公司,6\n".encode("gb18030")  # as Excel exports it in a Chinese locale
    path.write_bytes(b"\xef\xbb\xbfid,name,x\n" + utf8 + pasted + "C7,客户7号,7\n".encode("utf-8"))
    table = read_table(path, FIELDS, registry)
    assert [row[1] for row in table.rows] == [f"客户{n}号" for n in (1, 2, 3, 4, 5, 7)]
    assert rejections(table) == [(7, "name", "not UTF-8 text like the rest of the file (a line in another encoding): "
                                             "save the file as UTF-8")]
    accounted(table, 7)


def test_a_gb18030_file_is_still_read_as_gb18030(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_bytes("id,name,x\nC1,北京宏远,1\nC2,上海,2\n".encode("gb18030"))
    assert [row[1] for row in read_table(path, FIELDS, registry).rows] == ["北京宏远", "上海"]


def test_a_long_number_cell_is_refused_unread(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text(f"id,name,x\nC1,a,{'9' * 100_000}\nC2,b,{'1' * MAX_NUMBER_TEXT}\nC3,c,{'9' * 1_000_000}\nC4,d,4\n",
                    encoding="utf-8")
    table = read_table(path, FIELDS, registry)
    assert [row[0] for row in table.rows] == ["C2", "C4"]  # at the cap, a number is still read
    assert rejections(table) == [
        (2, "x", f"'{'9' * 56}... is not a number (longer than {MAX_NUMBER_TEXT} characters)"),
        (4, None, "malformed CSV: field larger than field limit (131072)"),
    ]


def test_a_whole_number_past_its_cap_is_refused_without_building_it(tmp_path, registry):
    """``1e999999`` is nine characters, and as a whole number a million digits: it was built
    (half a minute of CPU per cell) before being found too large for any engine."""
    path = tmp_path / "c.csv"
    path.write_text(f"id,name,n\nC1,a,1e999999\nC2,b,1e{MAX_NUMBER_TEXT - 1}\nC3,c,2.5e9999万\nC4,d,4\n", encoding="utf-8")
    table = read_table(path, [*FIELDS[:2], FieldSpec("n", "integer")], registry)
    assert [row[0] for row in table.rows] == ["C2", "C4"]
    assert table.rows[0][2] == 10 ** (MAX_NUMBER_TEXT - 1)  # at the cap, a whole number is still read
    assert rejections(table) == [
        (2, "n", f"'1e999999' is not a whole number anyone wrote (more than {MAX_NUMBER_TEXT} digits)"),
        (4, "n", f"'2.5e9999万' is not a whole number anyone wrote (more than {MAX_NUMBER_TEXT} digits)"),
    ]
    accounted(table, 4)


# -- XLSX ------------------------------------------------------------------------------------


def test_an_xlsx_formula_without_a_saved_value_rejects_its_row(tmp_path, registry):
    path = tmp_path / "c.xlsx"
    workbook = openpyxl.Workbook()  # openpyxl writes formulas without computing them, as many libraries do
    sheet = workbook.active
    sheet.append(["id", "name", "x"])
    sheet.append(["C1", "a", 1])
    sheet.append(["C2", "b", "=SUM(1,2)"])
    sheet.append(["C3", "c", None])
    workbook.save(path)
    table = read_table(path, FIELDS, registry)
    assert table.rows == [["C1", "a", 1.0], ["C3", "c", None]]  # an empty cell stays empty
    assert rejections(table) == [(3, "x", "formula =SUM(1,2) has no saved value (open and save the file in Excel to compute it)")]
    accounted(table, 3)


# -- JSON Lines ------------------------------------------------------------------------------


def test_json_lines_duplicate_keys_deep_nesting_and_bad_bytes_reject_their_line(tmp_path, registry):
    path = tmp_path / "c.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_bytes(
        b'{"id": "C1", "x": 1}\n'
        b'{"id": "C2", "x": 1, "x": 2}\n'
        + f'{{"id": "C3", "x": {deep}}}\n'.encode()
        + b'{"id": "C4", "name": "' + "客户".encode("gb18030") + b'"}\n'
        b'{"id": "C5", "x": NaN}\n'
        b'{"id": "C6", "x": -Infinity}\n'
        b'{"id": "C7", "x": 7}\n'
    )
    table = read_table(path, FIELDS, registry)
    assert [row[0] for row in table.rows] == ["C1", "C7"]
    assert rejections(table) == [
        (2, "x", "key 'x' appears twice in one object"),
        (3, None, "not valid JSON: nested too deeply"),
        (4, None, "not UTF-8 text (a line in another encoding): save the file as UTF-8"),
        (5, "x", "nan is not a finite number"),
        (6, "x", "-inf is not a finite number"),
    ]
    accounted(table, 7)


def test_json_lines_end_at_line_feeds_a_lone_carriage_return_is_whitespace(tmp_path, registry):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id":\r"C1"}\r\n{"id": "C2", "name": "a\\rb"}\n\r\n')
    table = read_table(path, FIELDS, registry)
    assert [row[:2] for row in table.rows] == [["C1", None], ["C2", "a\rb"]]
    accounted(table, 2)


# -- evaluation ------------------------------------------------------------------------------


OVERFLOWING_PLUGIN = '''\
from tierkit.hookspecs import hookimpl
from tierkit.registry import Function


def deep(n):
    """Recurses n levels: a plugin function that runs out of stack on one customer."""
    return 0 if n <= 0 else 1 + deep(n - 1)


@hookimpl
def tierkit_functions(register):
    register(Function("deep", deep, ("number",), "number", "Recursion as deep as its argument."))
'''


def test_rows_whose_evaluation_fails_are_rejected_and_the_run_goes_on(tmp_path):
    (tmp_path / "r.yaml").write_text(RULESET.replace('scaled: "x * 1e300"', 'scaled: "x * 1e300"\n  depth: "deep(x) if x < 1000000 else 0"'),
                                     encoding="utf-8")
    (tmp_path / "deep.py").write_text(OVERFLOWING_PLUGIN, encoding="utf-8")
    rows = [("C1", 0), ("C2", 0.5), ("C3", 1e10), ("C4", 200_000), ("C5", 0)]
    (tmp_path / "c.csv").write_text("id,name,x\n" + "".join(f"{c},n,{x}\n" for c, x in rows), encoding="utf-8")
    done = tierkit("--plugin", "deep.py", "evaluate", "r.yaml", "c.csv", "--as-of", AS_OF, "-o", "out.jsonl",
                   "--rejected", "bad.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert summary(done.stderr) == (5, 2, 3)
    with open(tmp_path / "bad.csv", encoding="utf-8-sig", newline="") as handle:
        bad = {row["row"]: row["reason"] for row in csv.DictReader(handle)}
    assert bad["3"] == "evaluation failed: grade.score is not a finite number (nan)"  # inf - inf
    assert bad["4"].startswith("evaluation failed: scaled is not a finite number (inf)")
    assert "recursion" in bad["5"]
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert not re.search(r"\b(NaN|Infinity)\b", text)
    assert [json.loads(line)["id"] for line in text.splitlines()[1:]] == ["C1", "C5"]


def test_integers_past_64_bits_reject_the_row(tmp_path):
    ruleset = RULESET.replace("x: {type: number}", "x: {type: integer}").replace('"x * 1e300"', '"x * x"')
    ruleset = ruleset.replace('points: "x * 1e307 * 100 - x * 1e307 * 100"', 'points: "1"')
    (tmp_path / "r.yaml").write_text(ruleset, encoding="utf-8")
    (tmp_path / "c.csv").write_text("id,name,x\nC1,a,3\nC2,b,9223372036854775807\nC3,c,4\n", encoding="utf-8")
    done = tierkit("evaluate", "r.yaml", "c.csv", "--as-of", AS_OF, "-o", "out.jsonl", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert summary(done.stderr) == (3, 2, 1)
    assert "c.csv:3: evaluation failed: scaled is outside the 64-bit integer range (126 bits)" in done.stderr


# -- fuzzing ---------------------------------------------------------------------------------

CELLS = st.text(alphabet=st.sampled_from(list('ab1.-"\',;\n\r\t =@客') + ["\x00", "\ufeff"]), max_size=12)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=8), raw=st.binary(max_size=40))
def test_fuzzed_csv_files_are_read_row_for_row(tmp_path_factory, registry, rows, raw):
    """Any text a CSV may hold, and a few raw bytes at the end: the reader either reads it
    with every data row evaluated or rejected, or refuses the whole file in one line."""
    path = tmp_path_factory.mktemp("fuzz") / "c.csv"
    text = io.StringIO()
    csv.writer(text).writerows([["id", "name", "x"], *rows])
    path.write_bytes(text.getvalue().encode("utf-8") + raw)
    try:
        table = read_table(path, FIELDS, registry)
    except TierkitError as error:
        assert "\n" not in str(error).strip()
        return
    assert table.read == len(table.rows) + len(table.rejected)
    assert all(isinstance(row[2], float | type(None)) and (row[2] is None or math.isfinite(row[2])) for row in table.rows)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "name", "x", "y"]), inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(JSON_VALUES.map(lambda value: json.dumps(value)) | st.text(max_size=20).map(lambda t: " ".join(t.splitlines())),
                      max_size=8))
def test_fuzzed_json_lines_are_read_line_for_line(tmp_path_factory, registry, lines):
    """Any JSON value or text on a line: every line is a row read or rejected."""
    path = tmp_path_factory.mktemp("fuzz") / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        table = read_table(path, FIELDS, registry)
    except TierkitError as error:
        assert "\n" not in str(error).strip()
        return
    assert table.read == len(table.rows) + len(table.rejected) == sum(1 for line in lines if line.strip())
