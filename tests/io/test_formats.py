import csv
import datetime as dt
import json

import openpyxl
import pluggy
import pytest

import tierkit.plugins.formats as formats
from tierkit import hookspecs
from tierkit.errors import InputError
from tierkit.io.fieldtypes import FieldSpec
from tierkit.io.tables import Rejected, RowError, detect_encoding, read_table, write_results
from tierkit.manager import make_registry
from tierkit.registry import Registry

FIELDS = [
    FieldSpec("id", "string", required=True, aliases=("customer_id", "客户编号")),
    FieldSpec("name", "string", required=True, aliases=("customer_name", "客户名称")),
    FieldSpec("annual_procurement", "number", required=True, aliases=("采购规模", "年采购总额")),
    FieldSpec("last_order_date", "date", aliases=("最近下单日期",)),
]


@pytest.fixture
def registry():
    pm = pluggy.PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    pm.register(formats, name="formats")
    return Registry.collect(pm)


def read(path, registry):
    table = read_table(path, FIELDS, registry)
    assert table.read == len(table.rows) + len(table.rejected)
    return table


def only_rejection(table):
    (rejected,) = table.rejected
    return rejected.row, rejected.column, rejected.field, rejected.reason


def test_the_entry_point_registers_the_builtin_formats(monkeypatch):
    monkeypatch.setenv("TIERKIT_LOAD_PLUGINS", "formats")
    registry = make_registry()
    assert set(registry.readers) == {".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".xlsx", ".xlsm", ".parquet"}
    assert set(registry.writers) == {".csv", ".jsonl", ".ndjson", ".xlsx", ".parquet"}
    assert registry.origin("reader", ".csv") == "formats"


# ---------------------------------------------------------------------------- CSV / TSV

CHINESE_CSV = "客户编号,客户名称,年采购总额,最近下单日期\nC1,华东机械厂,\"1,200万\",2024年3月5日\nC2,北方电网,3.5亿,\n"


def test_gb18030_csv_with_chinese_headers(tmp_path, registry):
    path = tmp_path / "客户.csv"
    path.write_bytes(CHINESE_CSV.encode("gb18030"))
    table = read(path, registry)
    assert table.rows == [
        ["C1", "华东机械厂", 12_000_000.0, dt.date(2024, 3, 5)],
        ["C2", "北方电网", 350_000_000.0, None],
    ]
    assert table.row_numbers == [2, 3]


def test_utf8_csv_with_bom(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_bytes(CHINESE_CSV.encode("utf-8-sig"))
    table = read(path, registry)
    assert [row[1] for row in table.rows] == ["华东机械厂", "北方电网"]
    assert table.unused_columns == []


def test_utf16_csv_from_excel_unicode_text(tmp_path, registry):
    path = tmp_path / "c.tsv"
    path.write_bytes(CHINESE_CSV.replace(",", "\t").replace('"1\t200万"', "1200万").encode("utf-16"))
    assert read(path, registry).rows[0] == ["C1", "华东机械厂", 12_000_000.0, dt.date(2024, 3, 5)]


def test_encoding_detection_looks_past_the_first_megabyte(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"a\n" + b"x\n" * 600_000 + "客户".encode("gb18030") + b"\n")
    assert detect_encoding(path) == "gb18030"


def test_bytes_invalid_in_utf8_and_gb18030_make_an_input_error(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,name,annual_procurement\nC1,\x80,1\n")
    with pytest.raises(InputError, match=r"c\.csv: cannot read: 'gb18030' codec can't decode byte 0x80"):
        read(path, registry)


def test_semicolon_csv(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text("id;name;annual_procurement\nC1;Acme;1.200\n", encoding="utf-8")
    assert read(path, registry).rows == [["C1", "Acme", 1.2, None]]


def test_tsv(tmp_path, registry):
    path = tmp_path / "c.tsv"
    path.write_text("id\tname\tannual_procurement\nC1\tAcme, Inc\t1,234\n", encoding="utf-8")
    assert read(path, registry).rows == [["C1", "Acme, Inc", 1234.0, None]]


def test_csv_row_numbers_are_spreadsheet_rows(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text(
        'id,name,annual_procurement\nC1,"two\nlines",1\n\n,,\nC2,Beta,x\n', encoding="utf-8"
    )
    table = read(path, registry)
    assert table.rows == [["C1", "two\nlines", 1.0, None]]
    assert table.row_numbers == [2]
    assert only_rejection(table) == (5, "annual_procurement", "annual_procurement", "'x' is not a number")


def test_csv_bad_quoting_is_rejected_and_reading_goes_on(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text('id,name,annual_procurement\nC1,"Acme"x,1\nC2,Beta,2\n', encoding="utf-8")
    table = read(path, registry)
    assert table.rows == [["C2", "Beta", 2.0, None]]
    assert table.row_numbers == [3]
    assert only_rejection(table) == (2, None, None, "malformed CSV: ',' expected after '\"'")


def test_csv_unclosed_quote_at_the_end_is_rejected(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text('id,name,annual_procurement\nC1,A,1\nC2,"Beta,2\n', encoding="utf-8")
    table = read(path, registry)
    assert len(table.rows) == 1
    assert only_rejection(table) == (3, None, None, "malformed CSV: a quote opened in this row is never closed")


def test_csv_row_with_more_values_than_headers_is_rejected(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text("id,name,annual_procurement\nC1,A,1,,\nC2,B,2,oops\nC3,C\n", encoding="utf-8")
    table = read(path, registry)
    assert [row[0] for row in table.rows] == ["C1"]
    assert table.rejected == [
        Rejected(str(path), 3, None, None, "row has values beyond the last of the 3 header columns"),
        Rejected(str(path), 4, "annual_procurement", None, "row has 2 values where the header has 3 columns"),
    ]


def test_csv_columns_without_header_are_ignored(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text("id,,name,annual_procurement,\nC1,x,A,1,\n", encoding="utf-8")
    table = read(path, registry)
    assert table.rows == [["C1", "A", 1.0, None]]
    assert table.unused_columns == []


def test_csv_duplicate_header_is_an_input_error(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text("\nid,name,id\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read(path, registry)
    assert str(info.value) == f"{path}:2: column header 'id' appears twice (columns 1 and 3)"


def test_csv_broken_header_is_an_input_error(tmp_path, registry):
    path = tmp_path / "c.csv"
    path.write_text('id,"name"x\nC1,A\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.csv:1: cannot read the header row: malformed CSV"):
        read(path, registry)


def test_readers_are_lazy(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id\n1\n2\n", encoding="utf-8")
    rows = formats.read_csv(path)
    assert next(rows) == (2, {"id": "1"})


# ---------------------------------------------------------------------------- JSON / JSON Lines


def test_json_array_of_objects(tmp_path, registry):
    path = tmp_path / "c.json"
    data = [
        {"id": "C1", "name": "Acme", "annual_procurement": 1200, "last_order_date": "2024-03-05"},
        "not an object",
        {"id": "C3", "name": "Gamma", "annual_procurement": "lots"},
    ]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    table = read(path, registry)
    assert table.rows == [["C1", "Acme", 1200.0, dt.date(2024, 3, 5)]]
    assert table.row_numbers == [1]
    assert table.rejected == [
        Rejected(str(path), 2, None, None, "expected a JSON object, got a string"),
        Rejected(str(path), 3, "annual_procurement", "annual_procurement", "'lots' is not a number"),
    ]


def test_json_that_is_not_an_array_is_an_input_error(tmp_path, registry):
    path = tmp_path / "c.json"
    path.write_text('{"customers": []}', encoding="utf-8")
    with pytest.raises(InputError) as info:
        read(path, registry)
    assert str(info.value) == f"{path}: expected a JSON array of objects, got an object"


def test_invalid_json_file_is_an_input_error_with_its_position(tmp_path, registry):
    path = tmp_path / "c.json"
    path.write_text('[\n  {"id": "C1",}\n]', encoding="utf-8")
    with pytest.raises(InputError) as info:
        read(path, registry)
    assert str(info.value) == f"{path}:2:15: not valid JSON: Expecting property name enclosed in double quotes"


@pytest.mark.parametrize("extension", [".jsonl", ".ndjson"])
def test_json_lines(tmp_path, registry, extension):
    path = tmp_path / f"c{extension}"
    path.write_text(
        '{"id": "C1", "name": "Acme", "annual_procurement": "1万"}\n'
        "\n"
        '{"id": "C2", "name": "Beta", "annual_procurement": 5\n'
        '"just text"\n'
        '{"id": "C4", "name": "Delta", "annual_procurement": 7, "last_order_date": "05/03/2024"}\n'
        '{"id": "C5", "name": "Echo", "annual_procurement": 9}\n',
        encoding="utf-8-sig",
    )
    table = read(path, registry)
    assert table.rows == [["C1", "Acme", 10000.0, None], ["C5", "Echo", 9.0, None]]
    assert table.row_numbers == [1, 6]
    assert table.read == 5
    assert table.rejected == [
        Rejected(str(path), 3, None, None, "not valid JSON: Expecting ',' delimiter (column 54)"),
        Rejected(str(path), 4, None, None, "expected a JSON object, got a string"),
        Rejected(
            str(path), 5, "last_order_date", "last_order_date",
            "'05/03/2024' is ambiguous (day/month order unknown); write dates as YYYY-MM-DD",
        ),
    ]


# ---------------------------------------------------------------------------- XLSX


def make_workbook(path, rows, start_row=1):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=start_row + offset, column=column, value=value)
    workbook.save(path)


def test_xlsx_first_sheet_header_first_non_empty_row(tmp_path, registry):
    path = tmp_path / "c.xlsx"
    make_workbook(
        path,
        [
            ["客户编号", "客户名称", "年采购总额", "最近下单日期", "备注"],
            [1001, "华东机械厂", 12_000_000, dt.datetime(2024, 3, 5), None],
            [None, None, None, None, None],
            [1003.0, "北方电网", "abc", None, "x"],
            [1004, "南方", 5, dt.date(2024, 1, 1), None, "stray"],
        ],
        start_row=3,
    )
    table = read(path, registry)
    assert table.rows == [["1001", "华东机械厂", 12_000_000.0, dt.date(2024, 3, 5)]]
    assert table.row_numbers == [4]
    assert table.unused_columns == ["备注"]
    assert table.rejected == [
        Rejected(str(path), 6, "年采购总额", "annual_procurement", "'abc' is not a number"),
        Rejected(str(path), 7, None, None, "row has values beyond the last of the 5 header columns"),
    ]


def test_not_a_workbook_is_an_input_error(tmp_path, registry):
    path = tmp_path / "c.xlsx"
    path.write_text("id,name\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.xlsx: not a readable XLSX workbook: "):
        read(path, registry)


# ---------------------------------------------------------------------------- writers

RECORDS = [
    {
        "id": "C1",
        "name": "华东机械厂",
        "inputs": {"annual_procurement": 1.2e7, "last_order_date": dt.date(2024, 3, 5), "fortune500": True},
        "outcomes": {"grade": {"label": "S", "score": 86.5, "tags": ["strategic", "客户"]}},
        "note": "=1+1",
    },
    {"id": "C2", "name": "Beta", "outcomes": {"grade": {"label": "D", "score": None}}, "extra": [{"k": 1}, 2]},
]
META = {"ruleset": "b2b-manufacturing", "version": "1.0.0", "as_of": dt.date(2024, 6, 30), "counts": {"read": 2}}


def test_jsonl_writer_round_trip_and_deterministic_bytes(tmp_path, registry):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_results(first, iter(RECORDS), META, registry)
    write_results(second, RECORDS, META, registry)
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        '{"meta":{"ruleset":"b2b-manufacturing","version":"1.0.0","as_of":"2024-06-30","counts":{"read":2}}}'
    )
    assert "华东机械厂" in lines[1]
    assert json.loads(lines[1])["inputs"]["last_order_date"] == "2024-03-05"
    assert json.loads(lines[2]) == RECORDS[1]
    assert len(lines) == 3


def test_jsonl_writer_refuses_values_json_cannot_hold(tmp_path, registry):
    with pytest.raises(TypeError, match="cannot write a set as JSON"):
        write_results(tmp_path / "a.jsonl", [{"x": {1}}], {}, registry)


def test_flatten():
    assert formats.flatten(RECORDS[1]) == {
        "id": "C2",
        "name": "Beta",
        "outcomes.grade.label": "D",
        "outcomes.grade.score": None,
        "extra": '{"k":1}; 2',
    }
    assert formats.flatten({"d": [dt.date(2024, 1, 2), "x"]}) == {"d": "2024-01-02; x"}


EXPECTED_COLUMNS = [
    "id", "name", "inputs.annual_procurement", "inputs.last_order_date", "inputs.fortune500",
    "outcomes.grade.label", "outcomes.grade.score", "outcomes.grade.tags", "note", "extra",
]


def test_csv_writer_round_trip(tmp_path, registry):
    out = tmp_path / "results.csv"
    write_results(out, iter(RECORDS), META, registry)
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,name,")
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == EXPECTED_COLUMNS
    assert rows[0]["outcomes.grade.tags"] == "strategic; 客户"
    assert rows[0]["inputs.last_order_date"] == "2024-03-05"
    assert rows[0]["note"] == "'=1+1"  # spreadsheet-safe: shown as text, not run
    assert rows[1]["outcomes.grade.score"] == ""
    assert rows[1]["inputs.annual_procurement"] == ""
    sidecar = tmp_path / "results.csv.meta.json"
    written = json.loads(sidecar.read_text(encoding="utf-8"))
    assert written.pop("file")["spreadsheet_safe"] is True
    assert written == {**META, "as_of": "2024-06-30"}


def test_csv_writer_output_reads_back_as_input(tmp_path, registry):
    out = tmp_path / "results.csv"
    write_results(out, [{"id": "C1", "name": "客户甲", "annual_procurement": 1.5e8}], {}, registry)
    assert read(out, registry).rows == [["C1", "客户甲", 1.5e8, None]]


def test_xlsx_writer_round_trip(tmp_path, registry):
    out = tmp_path / "results.xlsx"
    write_results(out, iter(RECORDS), META, registry)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["results", "meta"]
    results = list(workbook["results"].values)
    assert list(results[0]) == EXPECTED_COLUMNS
    first = dict(zip(EXPECTED_COLUMNS, results[1]))
    assert first["inputs.annual_procurement"] == 1.2e7
    assert first["inputs.last_order_date"].date() == dt.date(2024, 3, 5)
    assert first["inputs.fortune500"] is True
    assert first["outcomes.grade.tags"] == "strategic; 客户"
    assert first["note"] == "=1+1"
    assert workbook["results"]["I2"].data_type == "s"
    assert results[2][EXPECTED_COLUMNS.index("extra")] == '{"k":1}; 2'
    meta = {key: value for key, value in workbook["meta"].values}
    assert meta["key"] == "value"
    assert meta["ruleset"] == "b2b-manufacturing"
    assert meta["counts.read"] == 2
    assert meta["as_of"].date() == dt.date(2024, 6, 30)


def test_xlsx_writer_drops_control_characters(tmp_path, registry):
    out = tmp_path / "r.xlsx"
    write_results(out, [{"name": "A\x01B"}], {}, registry)
    assert list(openpyxl.load_workbook(out)["results"].values) == [("name",), ("AB",)]


def test_xlsx_writer_output_reads_back_as_input(tmp_path, registry):
    out = tmp_path / "results.xlsx"
    write_results(out, [{"id": "C1", "name": "客户甲", "annual_procurement": 3}], {}, registry)
    assert read(out, registry).rows == [["C1", "客户甲", 3.0, None]]


def test_row_error_is_a_plain_value():
    assert RowError("x") == RowError("x")
