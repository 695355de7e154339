import csv
import datetime as dt
import json

import pluggy
import pytest

import tierkit.plugins.formats
from tierkit import hookspecs
from tierkit.errors import EXIT_USAGE, InputError, TierkitError
from tierkit.io.fieldtypes import FieldSpec
from tierkit.io.tables import Rejected, Table, compact_json, normalise_header, read_table, write_rejected, write_results
from tierkit.registry import Reader, Registry

FIELDS = [
    FieldSpec("id", "string", required=True, aliases=("customer_id", "客户编号", "编号")),
    FieldSpec("name", "string", required=True, aliases=("customer_name", "客户名称")),
    FieldSpec("industry", "enum", default="other", values=("government", "finance", "other"), aliases=("sector", "行业")),
    FieldSpec("annual_procurement", "number", required=True, aliases=("采购规模", "年采购总额")),
    FieldSpec("our_revenue_12m", "number", default=0.0, aliases=("revenue_12m",)),
    FieldSpec("fortune500", "boolean", default=False, aliases=("世界500强",)),
    FieldSpec("last_order_date", "date", aliases=("最近下单日期",)),
]


@pytest.fixture
def registry():
    pm = pluggy.PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    pm.register(tierkit.plugins.formats, name="formats")
    return Registry.collect(pm)


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def assert_counts(table: Table):
    assert table.read == len(table.rows) + len(table.rejected)
    assert len(table.rows) == len(table.row_numbers)


def test_reads_typed_rows_in_field_order_with_defaults(tmp_path, registry):
    path = write(
        tmp_path / "customers.csv",
        "id,name,industry,annual_procurement,fortune500,last_order_date,notes\n"
        "C1,Acme,Finance,\"1,200\",是,2024/3/5,vip\n"
        "C2,Beta,,3.5亿,,,\n",
    )
    table = read_table(path, FIELDS, registry)
    assert table.rows == [
        ["C1", "Acme", "finance", 1200.0, 0.0, True, dt.date(2024, 3, 5)],
        ["C2", "Beta", "other", 350_000_000.0, 0.0, False, None],
    ]
    assert table.row_numbers == [2, 3]
    assert table.rejected == []
    assert table.read == 2
    assert table.unused_columns == ["notes"]
    assert table.file == str(path)
    assert table.fields == FIELDS


def test_bad_value_goes_to_rejected_with_position(tmp_path, registry):
    path = write(
        tmp_path / "customers.csv",
        "id,name,annual_procurement\nC1,Acme,100\nC2,Beta,abc\nC3,Gamma,5\n",
    )
    table = read_table(path, FIELDS, registry)
    assert [row[0] for row in table.rows] == ["C1", "C3"]
    assert table.row_numbers == [2, 4]
    (rejected,) = table.rejected
    assert rejected == Rejected(str(path), 3, "annual_procurement", "annual_procurement", "'abc' is not a number")
    assert str(rejected) == f"{path}:3: column 'annual_procurement' (field annual_procurement): 'abc' is not a number"
    assert_counts(table)


def test_missing_required_value_is_rejected_even_when_other_cells_are_fine(tmp_path, registry):
    path = write(tmp_path / "c.csv", "客户编号,客户名称,年采购总额\nC1,,100\n,Beta,NA\n")
    table = read_table(path, FIELDS, registry)
    assert table.rows == []
    first, second = table.rejected
    assert (first.row, first.column, first.field, first.reason) == (2, "客户名称", "name", "missing required value")
    assert (second.row, second.column, second.field) == (3, "客户编号", "id")
    assert second.reason == (
        "missing required value; also column '年采购总额' (field annual_procurement): missing required value"
    )
    assert_counts(table)


def test_every_problem_of_a_row_is_named_in_its_one_rejection(tmp_path, registry):
    path = write(tmp_path / "c.csv", "id,name,industry,annual_procurement\nC1,Acme,goverment,abc\n")
    (rejected,) = read_table(path, FIELDS, registry).rejected
    assert rejected.column == "industry"
    assert rejected.reason == (
        "'goverment' is not one of government, finance, other (did you mean 'government'?); "
        "also column 'annual_procurement' (field annual_procurement): 'abc' is not a number"
    )


def test_headers_match_after_normalisation(tmp_path, registry):
    path = write(
        tmp_path / "c.csv",
        " Customer ID ,CUSTOMER-NAME,ｓｅｃｔｏｒ,Annual Procurement,Revenue 12M\nC1,Acme,finance,10,2\n",
    )
    table = read_table(path, FIELDS, registry)
    assert table.rows == [["C1", "Acme", "finance", 10.0, 2.0, False, None]]
    assert table.unused_columns == []


def test_normalise_header():
    assert normalise_header("  Annual-Procurement ") == "annual_procurement"
    assert normalise_header("Ａｎｎｕａｌ　Procurement") == "annual_procurement"
    assert normalise_header("年采购总额") == "年采购总额"


def test_missing_column_for_required_field_is_an_input_error(tmp_path, registry):
    path = write(tmp_path / "customers.csv", "id,name,revenue\nC1,Acme,1\n")
    with pytest.raises(InputError) as info:
        read_table(path, FIELDS, registry)
    assert str(info.value) == (
        f"{path}: missing column for required field 'annual_procurement' (looked for: annual_procurement, 采购规模, 年采购总额)"
    )
    assert info.value.exit_code == EXIT_USAGE


def test_several_missing_required_columns_are_all_named(tmp_path, registry):
    path = write(tmp_path / "customers.csv", "industry\nfinance\n")
    with pytest.raises(InputError) as info:
        read_table(path, FIELDS, registry)
    assert str(info.value) == (
        f"{path}: missing column for required field 'id' (looked for: id, customer_id, 客户编号, 编号)"
        " (also missing: 'name', 'annual_procurement')"
    )


def test_two_headers_for_one_field_is_an_input_error(tmp_path, registry):
    path = write(tmp_path / "c.csv", "id,客户编号,name,annual_procurement\nC1,C1,Acme,1\n")
    with pytest.raises(InputError, match=r"columns 'id' and '客户编号' both match field 'id'"):
        read_table(path, FIELDS, registry)


def test_json_objects_with_different_keys_are_matched_each(tmp_path, registry):
    path = write(
        tmp_path / "c.json",
        '[{"id": "C1", "name": "A", "annual_procurement": 1, "sector": "finance"},'
        ' {"customer_id": "C2", "customer_name": "B", "采购规模": "2万"},'
        ' {"id": "C3", "name": "C"}]',
    )
    table = read_table(path, FIELDS, registry)
    assert table.rows == [
        ["C1", "A", "finance", 1.0, 0.0, False, None],
        ["C2", "B", "other", 20000.0, 0.0, False, None],
    ]
    (rejected,) = table.rejected
    assert (rejected.row, rejected.column, rejected.field, rejected.reason) == (
        3, None, "annual_procurement", "missing required value")
    assert str(rejected) == f"{path}:3: field annual_procurement: missing required value"
    assert table.unused_columns == []
    assert_counts(table)


def test_header_only_file_reads_no_rows(tmp_path, registry):
    table = read_table(write(tmp_path / "c.csv", "id,name,annual_procurement\n"), FIELDS, registry)
    assert (table.read, table.rows, table.rejected) == (0, [], [])


def test_unknown_extension_names_the_known_ones(tmp_path, registry):
    path = write(tmp_path / "customers.txt", "id\n")
    with pytest.raises(InputError) as info:
        read_table(path, FIELDS, registry)
    assert str(info.value) == (
        f"{path}: no reader for '.txt' files (known extensions: .csv, .json, .jsonl, .ndjson, .parquet, .tsv, .xlsm, .xlsx)"
    )


def test_extension_is_matched_without_case(tmp_path, registry):
    path = write(tmp_path / "C.CSV", "id,name,annual_procurement\nC1,A,1\n")
    assert len(read_table(path, FIELDS, registry).rows) == 1


def test_missing_file_and_directory_are_input_errors(tmp_path, registry):
    with pytest.raises(InputError, match=r"nope\.csv: file not found$"):
        read_table(tmp_path / "nope.csv", FIELDS, registry)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match=r"dir\.csv: not a file$"):
        read_table(tmp_path / "dir.csv", FIELDS, registry)


def test_a_reader_failing_with_os_error_becomes_an_input_error(tmp_path, registry):
    def broken(path):
        yield 2, {"id": "C1"}
        raise PermissionError(13, "Permission denied")

    registry.readers[".dat"] = Reader("dat", (".dat",), broken)
    path = write(tmp_path / "c.dat", "")
    with pytest.raises(InputError) as info:
        read_table(path, FIELDS[:1], registry)
    assert str(info.value) == f"{path}: cannot read: Permission denied"


def test_reader_row_errors_are_rejected_without_column_or_field(tmp_path, registry):
    path = write(tmp_path / "c.jsonl", '{"id": "C1", "name": "A", "annual_procurement": 1}\n[1]\n')
    table = read_table(path, FIELDS, registry)
    (rejected,) = table.rejected
    assert rejected == Rejected(str(path), 2, None, None, "expected a JSON object, got an array")
    assert str(rejected) == f"{path}:2: expected a JSON object, got an array"
    assert_counts(table)


def test_write_rejected_is_excel_friendly_csv(tmp_path):
    rejected = [
        Rejected("客户.csv", 3, "年采购总额", "annual_procurement", "'abc' is not a number"),
        Rejected("c.jsonl", 7, None, None, "not valid JSON: Expecting value (column 1)", "orders"),
    ]
    out = tmp_path / "rejected.csv"
    write_rejected(out, rejected)
    assert out.read_bytes().startswith(b"\xef\xbb\xbftable,file,row,column,field,reason\r\n")
    with open(out, encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["table", "file", "row", "column", "field", "reason"],
            ["customers", "客户.csv", "3", "年采购总额", "annual_procurement", "'abc' is not a number"],
            ["orders", "c.jsonl", "7", "", "", "not valid JSON: Expecting value (column 1)"],
        ]


def test_write_rejected_to_a_missing_folder_is_a_tierkit_error(tmp_path):
    with pytest.raises(TierkitError, match=r"rejected\.csv: cannot write: No such file or directory"):
        write_rejected(tmp_path / "no" / "rejected.csv", [])


def test_write_results_chooses_the_writer_by_extension(tmp_path, registry):
    out = tmp_path / "out.JSONL"
    write_results(out, [{"id": "C1"}], {"ruleset": "x"}, registry)
    assert out.read_text(encoding="utf-8") == '{"meta":{"ruleset":"x"}}\n{"id":"C1"}\n'


def test_write_results_unknown_extension(tmp_path, registry):
    with pytest.raises(TierkitError) as info:
        write_results(tmp_path / "out.pdf", [], {}, registry)
    assert str(info.value) == f"{tmp_path / 'out.pdf'}: no writer for '.pdf' files (known extensions: .csv, .jsonl, .ndjson, .parquet, .xlsx)"


def test_write_results_os_error_is_a_tierkit_error(tmp_path, registry):
    with pytest.raises(TierkitError, match="cannot write: No such file or directory"):
        write_results(tmp_path / "missing" / "out.csv", [{"a": 1}], {}, registry)


def test_large_table_keeps_the_invariant(tmp_path, registry):
    lines = ["id,name,annual_procurement,last_order_date"]
    for n in range(1, 3001):
        amount = "oops" if n % 100 == 0 else f"{n:,}"
        lines.append(f"C{n},Name {n},\"{amount}\",2024-01-{n % 28 + 1:02d}")
    table = read_table(write(tmp_path / "big.csv", "\n".join(lines) + "\n"), FIELDS, registry)
    assert table.read == 3000
    assert len(table.rejected) == 30
    assert [r.row for r in table.rejected][:2] == [101, 201]
    assert table.rows[0] == ["C1", "Name 1", "other", 1.0, 0.0, False, dt.date(2024, 1, 2)]
    assert_counts(table)


def test_compact_json_reads_back_as_written_dates_and_64_bit_overflow_included():
    value = {"id": "客户-1", "as_of": dt.date(2026, 11, 1), "share": 9.240651525579262e-05, "big": 2**70, 3: [1, None, True]}
    text = compact_json(value)
    assert "\n" not in text and ", " not in text and "客户" in text
    assert json.loads(text) == {"id": "客户-1", "as_of": "2026-11-01", "share": 9.240651525579262e-05, "big": 2**70, "3": [1, None, True]}
