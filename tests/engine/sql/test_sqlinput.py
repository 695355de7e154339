"""core/engine/sql/input.py: SQL reads raw cells exactly as fieldtypes.make_coercer and io._TableBuilder do.

Every cell is coerced by Python and by the query of :func:`typed_input` on DuckDB (and,
in one batched query, on Spark): plain cells by the engine's cast, the others by the
coercer as a UDF.  Values must be identical (doubles bit for bit) and reject reasons
identical, except for the one difference the module documents (whole numbers beyond
64 bits), listed here cell by cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierkit.plugins.formats
from tierkit import hookspecs
from tierkit.errors import InputError
from tierkit.io.fieldtypes import FieldSpec, _show, make_coercer
from tierkit.io.tables import read_table, table_from_rows
from tierkit.registry import Registry
from tierkit.ir import nodes as ir
from tierkit.engine.sql.connection import DuckDBEngine
from tierkit.engine.sql.input import OUT_OF_RANGE, SURROGATE, typed_input

from tests.conftest import examples
from tests.engine_harness import shared_engine

duckdb = pytest.importorskip("duckdb", reason="the DuckDB engine needs the duckdb extra: pip install -e '.[duckdb]'")

ENUM = FieldSpec("c", "enum", values=("Gold", "silver", "华东", "None", "Straße", "Ärger"))

SPECS = {
    "number": FieldSpec("c", "number"),
    "integer": FieldSpec("c", "integer"),
    "boolean": FieldSpec("c", "boolean"),
    "date": FieldSpec("c", "date"),
    "string": FieldSpec("c", "string"),
    "enum": ENUM,
    "list": FieldSpec("c", "list"),
}

COMMON = [
    None, "", "   ", "\t", "NA", "n/a", "#N/A", "null", "NULL", "None", "nil", "-", "--", "—", "——", "−", "－",
    "\u3000", "\u00a0NA\u00a0", "abc", "未知", "it's", 'say "hi"', "both ' and \"", "back\\slash", "tab\there",
    "line\nbreak", "\ufeff12", "\x01", "x" * 70, "'" * 70, "中" * 70, "😀", "½", "①", "٣", "e\u0301",
]

CORPUS = {
    "number": COMMON + [
        "0", "1", "-1", "+1", " 2.5 ", "1.", ".5", "-.5e-3", "1e5", "1E5", "1e+05", "1_000", "1__000", "_1", "1_",
        "1,234", "1,234.56", "12,34", "1,5", "1 234", "1\u00a0234", "1\u202f234.5", "１，２３４", "１２３", "１．５", "－５",
        "−5", "− 5", "3.5亿", "3.5 亿", "2万", "1千万", "3百万", "2万亿", "万", "亿元", "¥1,200", "￥1,200", "$5", "5元",
        "RMB 1,000", "1000 CNY", "USD5", "¥5万", "5万元", "¥5万元", "$¥5", "¥$5", "5元%", "12%", "12 %", "%", "1e3万",
        "inf", "-Infinity", "nan", "NaN", "1e400", "-1e400", "1e-400", "-1e-400", "1e-400元", "-0", "-0.0元", "0.1",
        "1e999999元", "1e9999999元", "0e9999999元", "9007199254740993", "9007199254740993.00000000000001",
        "9007199254740993.00000000000001元", "0.30000000000000001665334536937734810635447502136230468750000001元",
        "1.7976931348623157e308", "1.7976931348623159e308", "1.7976931348623159e308元", "2.4703282292062328e-324元",
        "12a", "a12", "1.2.3", "1e", "e5", "+", "+-1", "0x10", "1e1_0", "१२",
    ],
    "integer": COMMON + [
        "0", "007", "-7", "+7", " 7 ", "3.0", "3.5", "3.", "1e3", "1.5e1", "1.25e1", "12%", "1,234", "1,234.0",
        "1.5万", "1.23456万", "3亿", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "1e30", "1e4400元", "1e-5", "0.0", "-0", "1_000",
        "１２", "１２.０", "1.0000000000000000000000000001", "1.00000000000000000000000000001", "inf", "nan",
    ],
    "boolean": COMMON + [
        "true", "TRUE", "True", "t", "T", "yes", "Y", "1", "0", "false", "F", "no", "N", "是", "否", "有", "无", "没有",
        "对", "错", "✓", "√", "✗", "×", " yes ", "ｙｅｓ", "ＴＲＵＥ", "１", "2", "yes!", "ja", "oui", "是的",
    ],
    "date": COMMON + [
        "2024-01-05", "2024-1-5", "2024/01/05", "2024.01.05", "2024-01/05", " 2024-01-05 ", "20240105", "2024年1月5日",
        "2024 年 1 月 5 号", "2024年01月05", "2024-01-05 10:30", "2024-01-05T10:30:00", "2024-01-05T10:30:00.123Z",
        "2024-01-05 10:30+08:00", "2024-01-05 99:99", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01",
        "2024-00-10", "2024-01-00", "0000-01-01", "05/03/2024", "5.3.24", "05-03-2024 10:00", "2024-W05-3",
        "2020-W53-7", "2024-W53-1", "2024-W00-1", "2024-W05-8", "2024-w05-3", "0001-W01-1", "9999-W52-5",
        "9999-W52-6", "２０２４－０１－０５", "２０２４-01-05", "2024-01-05x", "Jan 5 2024", "2024", "202401",
        "20241305", "2024-01-05 10:30 ", "2024-01-05 10:30:00+0800", "2024-01-05T10:30:00z",
    ],
    "string": COMMON + ["  padded  ", "中文", "１２３"],
    "enum": COMMON + [
        "Gold", "gold", "GOLD", " gold ", "ｇｏｌｄ", "Silver", "SILVER", "华东", "华 东", "none", "NONE", "golden",
        "glod", "silvr", "华西", "Straße", "STRASSE", "strasse", "straße", "Ärger", "ärger", "ÄRGER", "Är ger", "gold!",
        "xyz", "bronze", "si", "ｇｏｌｄｅｎ",
    ],
    "list": COMMON + [
        "a,b", "a, b ,c", "a;b", "a、b", "a，b", "a；b", "a|b", ",,,", " , ", "a,,b", "[]", "[ ]", '["a", "b"]',
        '[" a ", ""]', '["a",null,"b"]', "[1, 2]", "[-0, 10]", "[true, false]", '["\\u534e\\u4e1c"]',
        '["\\ud83d\\ude00"]', '["a\\nb"]', '["a\\\\b", "c\\"d", "\\/"]', "[a, b]", "[1,]", "[1 2]", '["a]', "[1] x",
        "[", '["a\\x"]', '["a\\u12"]', '["a\\u12zz"]', '["a\x01"]', '["a\\', "[01]", "[-]", "[1.]", "[nul]",
        '["a",]', "[]x", "[,]", "[1.5]", "[1e3]", "[NaN]", "[[1]]", '[{"a": 1}]', '["\\ud800"]', "[\t1\n,\r2 ]",
        "[1,\u30002]", "  [1]  ", "[‘a’]",
    ],
}

# Cells where the SQL engines knowingly differ from Python (module docstring): the SQL reason.
DIFFERENT = {
    ("integer", "9223372036854775808"): OUT_OF_RANGE,
    ("integer", "-9223372036854775809"): OUT_OF_RANGE,
    ("integer", "99999999999999999999"): OUT_OF_RANGE,
    ("integer", "1e30"): OUT_OF_RANGE,
    ("integer", "1e4400元"): OUT_OF_RANGE,
    ("list", '["\\ud800"]'): SURROGATE,
}


def python_result(spec: FieldSpec, cell):
    """(value, reason) as _TableBuilder.add gets them."""
    try:
        value = make_coercer(spec)(cell)
    except ValueError as error:
        return None, str(error)
    if value is None:
        value = spec.default
    return (list(value) if isinstance(value, tuple) else value), None


def same_value(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return left == right and math.copysign(1.0, left) == math.copysign(1.0, right) or (math.isnan(left) and math.isnan(right))
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return list(left) == list(right)
    return type(left) is type(right) and left == right if left is not None and right is not None else left is right


def check(kind: str, cells, results, tolerate: tuple[str, ...] = ()) -> list[str]:
    """Mismatches between Python and SQL for ``cells`` (results: (value, reason) per cell);
    a SQL reason ending with one of ``tolerate`` is a documented difference."""
    spec = SPECS[kind] if kind in SPECS else kind
    problems = []
    for cell, (value, reason) in zip(cells, results):
        expected_value, expected_reason = python_result(spec, cell)
        key = (spec.type, cell)
        if key in DIFFERENT and DIFFERENT[key] is not None and expected_reason != reason:
            if reason is None or not reason.endswith(DIFFERENT[key]) or value is not None:
                problems.append(f"{cell!r}: expected the documented difference, got {value!r} {reason!r}")
            continue
        if reason != expected_reason and reason is not None and value is None and reason.endswith(tolerate):
            continue
        if reason != expected_reason or (reason is None and not same_value(value, expected_value)):
            shown = expected_value if not isinstance(expected_value, int) or abs(expected_value) < 10**100 else "a big int"
            problems.append(f"{cell!r}: python {shown!r} {expected_reason!r} / sql {value!r} {reason!r}")
    return problems


@pytest.fixture(scope="module")
def duck():
    return shared_engine("duckdb")


_counter = iter(range(10**9))


def typed_sql(engine, relation: str, source_types: dict, fields, names, file: str = "customers.csv") -> str:
    """The typing query, its Python functions registered on ``engine``."""
    typed = typed_input(engine.dialect, relation, source_types, fields, names, file)
    engine.register_udfs(typed.udfs)
    return typed.sql


def sql_results(engine, spec: FieldSpec, cells, source: str = "text") -> list[tuple]:
    """(value, reason) of each cell, typed as the engines type a column."""
    name = f"raw_{next(_counter)}"
    column_type = "string" if source == "text" else source
    engine.register_rows(name, {"_row": "integer", "c": column_type}, [(index, cell) for index, cell in enumerate(cells)])
    sql = typed_sql(engine, name, {"c": source}, [spec], ["v"])
    rows = engine.rows(f"SELECT _row, v, _reject_reason FROM ({sql}) AS t ORDER BY _row")
    return [(value, reason) for _, value, reason in rows]


@pytest.mark.parametrize("kind", list(CORPUS))
def test_text_cells_as_python_reads_them(duck, kind):
    cells = CORPUS[kind]
    assert check(kind, cells, sql_results(duck, SPECS[kind], cells)) == []


# The plain forms DuckDB reads by a cast, at their edges, and cells just outside them.
PLAIN = {
    "number": [None, "0", "-0", "007", "0.1", "-12.50", "1" * 15 + "." + "9" * 15, "9" * 15, "0.000000000000001",
               "123456789012345.6", "2.675", "-0.0"],
    "integer": [None, "0", "-0", "007", "-12", "9" * 18, "-" + "9" * 18, "922337203685477580"],
    "date": [None, "2024-02-29", "0001-01-01", "9999-12-31", "2026-01-05"],
    "boolean": [None, "true", "TRUE", "True", "false", "FALSE", "t", "T", "F", "yes", "YES", "Yes", "y", "N", "1", "0",
                "是", "否", "有", "无", "没有", "对", "错", "✓", "√", "✗", "×"],
    "enum": [None, "Gold", "GOLD", "gold", "silver", "SILVER", "Silver", "华东", "Straße", "STRASSE", "strasse",
             "Ärger", "ärger", "ÄRGER"],
    "string": [None, "", " x ", "Acme"],
}
NOT_PLAIN = {
    "number": ["1" * 16, "0." + "1" * 16, "+1", "1.", ".5", "1e5", "1,000", " 1", "１", "NaN", "inf", ""],
    "integer": ["9" * 19, "+1", "1.0", " 1", "１", ""],
    "date": ["2023-02-29", "0000-01-01", "2026-1-5", "2026/01/05", "20260105", " 2026-01-05", "2026-W01-1", ""],
    "boolean": ["TrUe", " true", "ｔｒｕｅ", "n/a", "maybe", ""],
    "enum": ["GoLd", " Gold", "gold ", "ＧＯＬＤ", "none", "NONE", ""],
}


def python_called(kind: str, cells) -> bool:
    """Whether typing ``cells`` on DuckDB calls the coercer: run on a connection where
    the coercer's functions raise."""
    engine = DuckDBEngine()
    try:
        engine.register_rows("raw", {"_row": "integer", "c": "string"}, list(enumerate(cells)))
        typed = typed_input(engine.dialect, "raw", {"c": "text"}, [SPECS[kind]], ["v"], "f.csv")

        def refuse(*values):
            raise RuntimeError("called")

        engine.register_udfs({name: ir.PyCall(refuse, node.args, node.dtype) for name, node in typed.udfs.items()})
        try:
            engine.rows(typed.sql)
        except duckdb.Error as error:
            assert "called" in str(error)
            return True
        return False
    finally:
        engine.close()


@pytest.mark.parametrize("kind", list(PLAIN))
def test_plain_cells_are_read_by_a_cast_as_python_reads_them(duck, kind):
    """A column of plain cells is typed by the engine alone, with the coercer's values."""
    cells = PLAIN[kind]
    assert not python_called(kind, cells)
    assert check(kind, cells, sql_results(duck, SPECS[kind], cells)) == []


@pytest.mark.parametrize("kind", list(NOT_PLAIN))
def test_cells_outside_the_plain_form_are_read_by_the_coercer(duck, kind):
    for cell in NOT_PLAIN[kind]:
        assert python_called(kind, [PLAIN[kind][1], cell]), cell
    cells = PLAIN[kind] + NOT_PLAIN[kind] + COMMON
    assert check(kind, cells, sql_results(duck, SPECS[kind], cells), tolerate=(OUT_OF_RANGE,)) == []


def test_documented_differences_are_still_differences():
    """Each listed difference is real: Python's answer is not the SQL one."""
    for (kind, cell), reason in DIFFERENT.items():
        if reason is not None:
            assert python_result(SPECS[kind], cell)[1] != f"{_show(cell)} {reason}"


# ---------------------------------------------------------------------------- generated numbers

_digits = st.text("0123456789", min_size=1, max_size=30)
_number_text = st.builds(
    lambda sign, whole, point, fraction, exponent, space, suffix, currency: (
        f"{space}{currency}{sign}{whole}{point}{fraction}{exponent}{suffix}{space}"
    ),
    st.sampled_from(["", "-", "+", "−"]),
    st.one_of(_digits, st.just(""), st.builds(lambda a, b: f"{a},{b}", st.text("0123456789", min_size=1, max_size=3), st.text("0123456789", min_size=3, max_size=3))),
    st.sampled_from(["", ".", "．"]),
    st.one_of(st.just(""), _digits),
    st.one_of(st.just(""), st.builds(lambda e, s, d: f"{e}{s}{d}", st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.text("0123456789", min_size=1, max_size=4))),
    st.sampled_from(["", " ", "\u3000", "\u00a0"]),
    st.sampled_from(["", "%", "万", "亿", "千万", "万亿", "元", "万元"]),
    st.sampled_from(["", "", "¥", "$ ", "RMB"]),
)
_fullwidth = str.maketrans("0123456789.,+-e", "０１２３４５６７８９．，＋－ｅ")
_numbers = st.one_of(_number_text, _number_text.map(lambda text: text.translate(_fullwidth)), st.text("0123456789.,eE+-_ %万亿元", max_size=12))


# Each example is three lists' worth of cells (120 to 240) in one query per kind: a query
# costs the same for 40 cells as for 240, so fewer, longer examples check as many cells.
BIG = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


@settings(max_examples=examples(9), deadline=None, suppress_health_check=BIG)
@given(st.lists(_numbers, min_size=120, max_size=240))
def test_generated_number_strings(duck, cells):
    for kind in ("number", "integer"):
        filtered = [cell for cell in cells if (kind, cell) not in DIFFERENT]
        results = sql_results(duck, SPECS[kind], filtered)
        assert check(kind, filtered, results, tolerate=(OUT_OF_RANGE,)) == []


@settings(max_examples=examples(5), deadline=None, suppress_health_check=BIG)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False).map(repr), min_size=120, max_size=240))
def test_generated_float_reprs_round_trip(duck, cells):
    assert check("number", cells, sql_results(duck, SPECS["number"], cells)) == []


@settings(max_examples=examples(5), deadline=None, suppress_health_check=BIG)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8), min_size=120, max_size=240))
def test_generated_text_reasons(duck, cells):
    """Arbitrary text: SQL agrees with Python."""
    for kind in ("number", "boolean", "date", "list", "enum"):
        results = sql_results(duck, SPECS[kind], cells)
        assert check(kind, cells, results) == []


# ---------------------------------------------------------------------------- typed sources

TYPED = {
    "number": [None, 0.0, -0.0, 1.0, 3.0, 3.5, -2.25, 1e-05, 1.5e-07, 0.1, 1e16, 1.2345678901234567e25, 123456.789,
               float("nan"), float("inf"), float("-inf"), 2.0**63, 2.0**62, 1e300, 5e-324],
    "integer": [None, 0, 1, -1, 2, 20240105, 19990231, 9223372036854775807, -5, 123],
    "boolean": [None, True, False],
    "date": [None, dt.date(2024, 1, 5), dt.date(1, 1, 1), dt.date(9999, 12, 31)],
    "list": [None, [], ["a", " b ", ""], ["x", None]],
}


@pytest.mark.parametrize("source", list(TYPED))
@pytest.mark.parametrize("kind", list(SPECS))
def test_typed_source_columns(duck, source, kind):
    cells = TYPED[source]
    results = sql_results(duck, SPECS[kind], cells, source)
    problems = []
    for cell, (value, reason) in zip(cells, results):
        expected_value, expected_reason = python_result(SPECS[kind], cell)
        if isinstance(cell, float) and abs(cell) >= 2.0**63 and math.isfinite(cell) and cell == int(cell) and kind in ("integer", "string", "enum"):
            assert reason is not None and reason.endswith(OUT_OF_RANGE) or reason == expected_reason, (cell, reason)
            continue
        if reason != expected_reason or (reason is None and not same_value(value, expected_value)):
            problems.append(f"{cell!r}: python {expected_value!r} {expected_reason!r} / sql {value!r} {reason!r}")
    assert problems == []


# ---------------------------------------------------------------------------- rows: defaults, required, joined reasons

ROW_FIELDS = [
    FieldSpec("id", "string", required=True, aliases=("客户编号",)),
    FieldSpec("amount", "number", required=True, aliases=("采购规模",)),
    FieldSpec("count", "integer", default=0),
    FieldSpec("vip", "boolean", default=False, aliases=("世界500强",)),
    FieldSpec("since", "date"),
    FieldSpec("tier", "enum", default="other", values=("gold", "other")),
    FieldSpec("tags", "list", default=("none",)),
    FieldSpec("note", "string", default="-"),
]


def table_rows(engine, headers, rows, fields=ROW_FIELDS):
    name = f"raw_{next(_counter)}"
    engine.register_rows(name, {"_row": "integer", **{h: "string" for h in headers}}, [(n, *row) for n, row in rows])
    names = [f"f{i}" for i in range(len(fields))]
    sql = typed_sql(engine, name, {h: "text" for h in headers}, fields, names)
    return engine.rows(f"{sql} ORDER BY _row")


def compare_table(sql_rows, table):
    accepted = [(row[0], list(row[1:-3])) for row in sql_rows if row[-1] is None]
    rejected = [(row[0], row[-3], row[-2], row[-1]) for row in sql_rows if row[-1] is not None]
    expected_accepted = list(zip(table.row_numbers, table.rows))
    assert len(accepted) == len(expected_accepted)
    for (row, values), (expected_row, expected_values) in zip(accepted, expected_accepted):
        assert row == expected_row
        assert all(same_value(list(a) if isinstance(a, tuple) else a, list(b) if isinstance(b, tuple) else b) for a, b in zip(values, expected_values)), (values, expected_values)
    assert rejected == [(r.row, r.column, r.field, r.reason) for r in table.rejected]


def test_rows_defaults_required_and_joined_reasons(duck):
    headers = ["客户编号", "采购规模", "count", "世界500强", "since", "tier", "tags", "note", "extra"]
    rows = [
        (2, ["C1", "1,200", "3", "是", "2024-01-05", "GOLD", "a,b", "hi", "x"]),
        (3, ["C2", "3.5亿", None, None, None, None, None, None, None]),
        (4, [None, "abc", "3.5", "maybe", "05/03/2024", "platinum", "[1,", "", ""]),
        (5, ["C4", None, "", "", "", "", "", "  ", None]),
        (6, ["  ", "NA", "x", "", "2024-02-30", "", "[]", "", ""]),
        (7, ["C6", "¥5万", "1e3", "否", "2024年1月5日", "other", "[\"a\", null]", "n/a", ""]),
    ]
    table = table_from_rows("customers.csv", ROW_FIELDS, [(n, dict(zip(headers, row))) for n, row in rows])
    compare_table(table_rows(duck, headers, rows), table)


def test_header_problems_raise_as_io_does(duck):
    fields = [FieldSpec("id", "string", required=True, aliases=("编号",)), FieldSpec("amount", "number", required=True)]
    with pytest.raises(InputError, match="both match field 'id'"):
        typed_input(duck.dialect, "t", {"id": "text", "编号": "text", "amount": "text"}, fields, ["a", "b"], "f.csv")
    with pytest.raises(InputError, match="missing column for required field 'amount'"):
        typed_input(duck.dialect, "t", {"ID": "text"}, fields, ["a", "b"], "f.csv")


def test_unmatched_optional_field_takes_its_default(duck):
    fields = [FieldSpec("id", "string", required=True), FieldSpec("tier", "enum", default="b", values=("a", "b"))]
    rows = table_rows(duck, ["id"], [(2, ["x"])], fields)
    assert rows == [(2, "x", "b", None, None, None)]


# ---------------------------------------------------------------------------- a real CSV file

CSV_FIELDS = [
    FieldSpec("id", "string", required=True, aliases=("customer_id", "客户编号")),
    FieldSpec("name", "string", required=True, aliases=("客户名称",)),
    FieldSpec("industry", "enum", default="other", values=("government", "finance", "other"), aliases=("行业",)),
    FieldSpec("annual_procurement", "number", required=True, aliases=("采购规模", "年采购总额")),
    FieldSpec("our_revenue_12m", "number", default=0.0, aliases=("revenue_12m",)),
    FieldSpec("employees", "integer", aliases=("员工数",)),
    FieldSpec("fortune500", "boolean", default=False, aliases=("世界500强",)),
    FieldSpec("last_order_date", "date", aliases=("最近下单日期",)),
    FieldSpec("products", "list", aliases=("产品",)),
]


def test_csv_file_read_by_duckdb_as_read_table(duck, tmp_path):
    path = tmp_path / "customers.csv"
    rows = [
        ["客户编号", "客户名称", "行业", "年采购总额", "revenue_12m", "员工数", "世界500强", "最近下单日期", "产品", "备注"],
        ["C1", "华东电力", "Government", "3.5亿", "¥1,200", "1,200", "是", "2024/3/5", "电缆、变压器", "重点"],
        ["C2", "Acme", "finance", "1,234.5", "", "12", "no", "2024-03-05", "a;b", ""],
        ["C3", "Beta", "retail", "12 万", "5%", "3.5", "maybe", "05/03/2024", "[\"x\", \"y\"]", ""],
        ["", "Gamma", "", "NA", "", "", "", "", "", ""],
        ["C5", "Delta", "FINANCE", "１，２３４", "−3", "007", "✓", "2024年1月5日", "[1, 2", ""],
        ["C6", "Eps", "other", "abc", "1e400", "1e3", "false", "2024-02-30", "", "x"],
        ["C7", "Zeta", "goverment", "2,000", "0.1", "", "Y", "20240105", "[]", ""],
        ["C8", " Eta ", "", "1e2元", "", "-0", "0", "2024-W05-3", "a|b|", ""],
    ]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    pm = pluggy.PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    pm.register(tierkit.plugins.formats, name="formats")
    table = read_table(path, CSV_FIELDS, Registry.collect(pm))
    source = str(path).replace("'", "''")
    duck.connection.execute(
        f"CREATE OR REPLACE VIEW raw_csv AS SELECT row_number() OVER () + 1 AS _row, * "
        f"FROM read_csv('{source}', all_varchar = true, header = true)"
    )
    headers = [row[0] for row in duck.rows("DESCRIBE SELECT * EXCLUDE (_row) FROM raw_csv")]
    assert headers == rows[0]
    names = [spec.name for spec in CSV_FIELDS]
    sql = typed_sql(duck, "raw_csv", {h: "text" for h in headers}, CSV_FIELDS, names, str(path))
    compare_table(duck.rows(f"{sql} ORDER BY _row"), table)
    assert len(table.rejected) >= 3 and len(table.rows) >= 3


# ---------------------------------------------------------------------------- Spark, one batched query


@pytest.fixture(scope="module")
def spark():
    return shared_engine("spark")


@pytest.mark.spark
def test_spark_reads_the_corpus_as_python(spark):
    """Each kind's corpus typed as that kind, all in one query: a kind reads only its own
    cells (those it is checked on), as on DuckDB; another kind's cells would cost time
    and check nothing (an integer read of ``1e999999元`` builds a million-digit int)."""
    parts = []
    for kind, spec in SPECS.items():
        spark.register_rows(f"raw_{kind}", {"_row": "integer", "c": "string"}, list(enumerate(CORPUS[kind])))
        sql = typed_sql(spark, f"raw_{kind}", {"c": "text"}, [spec], ["v"])
        shown = "to_json(v)" if kind == "list" else "CAST(v AS STRING)"
        parts.append(f"SELECT '{kind}' AS kind, _row, {shown} AS v, _reject_reason FROM ({sql}) AS t_{kind}")
    by_kind: dict[str, dict[int, tuple]] = {}
    for kind, row, value, reason in spark.rows(" UNION ALL ".join(parts)):
        by_kind.setdefault(kind, {})[row] = (value, reason)
    problems = []
    for kind in SPECS:
        results = [_from_spark_text(kind, *by_kind[kind][index]) for index in range(len(CORPUS[kind]))]
        problems += [f"{kind}: {p}" for p in check(kind, CORPUS[kind], results)]
    assert problems == []


def _from_spark_text(kind, value, reason):
    if value is None:
        return None, reason
    if kind == "number":
        return float(value), reason
    if kind == "integer":
        return int(value), reason
    if kind == "boolean":
        return value == "true", reason
    if kind == "date":
        return dt.date.fromisoformat(value), reason
    if kind == "list":
        return json.loads(value), reason
    return value, reason


@pytest.mark.spark
def test_spark_typed_sources(spark):
    problems = []
    for source in ("number", "integer"):
        cells = TYPED[source]
        for kind in ("integer", "string", "boolean"):
            results = sql_results(spark, SPECS[kind], cells, source)
            for cell, (value, reason) in zip(cells, results):
                expected_value, expected_reason = python_result(SPECS[kind], cell)
                if isinstance(cell, float) and math.isfinite(cell) and abs(cell) >= 2.0**63:
                    continue
                if reason != expected_reason or (reason is None and not same_value(value, expected_value)):
                    problems.append(f"{source}->{kind} {cell!r}: python {expected_value!r} {expected_reason!r} / sql {value!r} {reason!r}")
    assert problems == []


del decimal


# ---------------------------------------------------------------------------- synonyms, on_invalid: missing

SYNONYM_SPECS = {
    "enum": FieldSpec("c", "enum", values=("国企", "民企", "SOE"), synonyms=(("国有企业", "国企"), ("Private", "民企"), ("state", "SOE"))),
    "string": FieldSpec("c", "string", synonyms=(("电商", "online"), ("Web", "online"), ("1", "one"))),
}
SYNONYM_CELLS = ["国有企业", " 国有企业 ", "ＰＲＩＶＡＴＥ", "private", "STATE", "国企", "soe", "民营", "电商", "web", "WEB ",
                 "1", "", None, "n/a", "online"]


@pytest.mark.parametrize("kind", list(SYNONYM_SPECS))
def test_synonyms_as_python_reads_them(duck, kind):
    spec = SYNONYM_SPECS[kind]
    assert check(spec, SYNONYM_CELLS, sql_results(duck, spec, SYNONYM_CELLS)) == []
    typed = [None, 1, 2]
    assert check(spec, typed, sql_results(duck, spec, typed, "integer")) == []


def test_on_invalid_missing_keeps_the_row_and_notes_the_reason(duck):
    fields = [FieldSpec("id", "string", required=True), FieldSpec("capital", "number", on_invalid="missing"),
              FieldSpec("since", "date", on_invalid="missing", default=dt.date(2000, 1, 1)),
              FieldSpec("size", "integer", required=True, on_invalid="missing")]
    headers = ["id", "capital", "since", "size"]
    rows = [(2, ["C1", "待定", "2024-13-01", "3"]), (3, ["C2", "5万", "2024/3/5", "x"]), (4, ["C3", "1", "", "4"])]
    table = table_from_rows("customers.csv", fields, [(n, dict(zip(headers, row))) for n, row in rows])
    sql_rows = table_rows(duck, headers, rows, fields)
    compare_table([row[:-3] for row in sql_rows], table)
    notes = [(row[0], reason) for row in sql_rows if row[-4] is None for reason in row[-3:] if reason is not None]
    assert notes == [(r.row, r.reason) for r in table.coerced]
    assert [(r.row, r.field) for r in table.coerced] == [(2, "capital"), (2, "since")]
    assert table.rows[0][2] == dt.date(2000, 1, 1)  # the default of a value read as missing
    # read as missing, a required value is still required
    assert [(r.row, r.field, r.reason) for r in table.rejected] == [(3, "size", "missing required value")]
