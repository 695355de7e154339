"""The manager-ready results workbook, read back with openpyxl: labelled headers in the
run's language, number formats, a frozen and filtered header, column widths, readable
reasons, and the results, rejected and summary sheets."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from tierkit.cli import main

from tests.conftest import ROOT

CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-11-01"


def write_workbook(capsys, tmp_path, *options, customers=CUSTOMERS, name="results.xlsx"):
    """The path of the workbook ``evaluate`` writes; ``capsys`` None outside a test (its
    messages uncaptured)."""
    output = tmp_path / name
    code = main(["evaluate", "b2b-manufacturing", str(customers), "--as-of", AS_OF, "-o", str(output), *options])
    err = capsys.readouterr().err if capsys else ""
    assert code == 0, err
    return output


def workbook(capsys, tmp_path, *options, customers=CUSTOMERS, name="results.xlsx"):
    """The workbook ``evaluate`` writes, read back."""
    return openpyxl.load_workbook(write_workbook(capsys, tmp_path, *options, customers=customers, name=name))


@pytest.fixture(scope="module")
def zh(tmp_path_factory):
    """One Chinese workbook for the tests that only read it."""
    return workbook(None, tmp_path_factory.mktemp("zh"))


def cells(sheet) -> dict:
    """The first data row by header."""
    return {header.value: cell for header, cell in zip(sheet[1], sheet[2])}


def test_headers_are_the_labels_in_the_runs_language(zh, capsys, tmp_path):
    headers = [cell.value for cell in zh["results"][1]]
    assert headers[:5] == ["客户编号", "排名", "客户名称", "负责销售", "行业"]
    assert {"客户等级", "客户等级 得分", "客户等级 标签", "客户等级 理由", "年采购总额", "毛利率"} <= set(headers)
    assert not any("." in header for header in headers)  # no dotted column names
    english = [cell.value for cell in workbook(capsys, tmp_path, "--lang", "en", name="en.xlsx")["results"][1]]
    assert english[:3] == ["Customer ID", "Rank", "Customer name"] and "Account grade score" in english


def test_number_formats_dates_and_readable_reasons(zh):
    row = cells(zh["results"])
    assert row["年采购总额"].value == 710_500_000 and row["年采购总额"].number_format == "#,##0"
    assert row["毛利率"].value == pytest.approx(34.2) and row["毛利率"].number_format == '0.0"%"'
    assert row["最近下单日期"].value.date().isoformat() == "2026-10-24" and row["最近下单日期"].number_format == "yyyy-mm-dd"
    assert row["客户等级 得分"].number_format == "0.0" and row["排名"].value == 1
    assert row["客户等级"].value == "S 战略核心"
    reasons = row["客户等级 理由"]
    assert reasons.value.splitlines()[0] == "采购规模：710,500,000 → 60.0 分 × 0.3 = 18.0" and "{" not in reasons.value
    assert reasons.alignment.wrap_text


def test_header_frozen_filtered_and_columns_sized(zh):
    sheet = zh["results"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}601"
    assert all(cell.font.b for cell in sheet[1])
    widths = {sheet.cell(1, index).value: sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width
              for index in range(1, sheet.max_column + 1)}
    assert widths["客户名称"] > widths["排名"] and widths["客户等级 理由"] == 60
    assert zh.defined_names is not None


def test_rejected_and_summary_sheets(capsys, tmp_path):
    customers = tmp_path / "customers.csv"
    shutil.copy(CUSTOMERS, customers)
    with open(customers, "a", encoding="utf-8") as handle:
        handle.write("BAD1,坏数据,,manufacturing,华东,lots,1,1,false,false,1,,,1,1,2020-01-01,1,1,1,0,false,\n")
    book = workbook(capsys, tmp_path, customers=customers)
    assert book.sheetnames == ["results", "rejected", "summary"]
    rejected = list(book["rejected"].values)
    assert rejected[0] == ("文件", "行号", "列", "字段", "原因")
    assert rejected[1][1:4] == (602, "annual_procurement", "annual_procurement") and "lots" in rejected[1][4]
    summary = [row for row in book["summary"].values]
    header = summary[0]
    assert header[0] == "行业赛道 × 客户等级" and header[1] == "S 战略核心" and "合计" in header
    totals = [row[header.index("合计")] for row in summary[1:5]]
    assert sum(totals) == 600
    assert any(row[0] == "帕累托曲线（二八法则）" and "前 20% 的客户贡献了" in row[2] for row in summary)
    meta = {row[0]: row[1] for row in summary if row[0]}
    assert (meta["as_of"], meta["evaluated"], meta["rejected"]) == (AS_OF, 600, 1)


def test_same_inputs_same_bytes_on_the_duckdb_engine_too(capsys, tmp_path):
    pytest.importorskip("duckdb", reason="the DuckDB engine needs the duckdb extra (pip install -e '.[duckdb]')")
    first = workbook(capsys, tmp_path, "--engine", "duckdb", name="a.xlsx")
    second = write_workbook(capsys, tmp_path, "--engine", "duckdb", name="b.xlsx")  # its bytes are compared
    assert (tmp_path / "a.xlsx").read_bytes() == second.read_bytes()
    assert "客户等级 理由" in cells(first["results"])  # reasons in words, as the Python engine writes them
