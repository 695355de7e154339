"""The Python API: tierkit.load, evaluate on DataFrames, tables and dicts, results as tables.

Every input form must grade exactly as ``tierkit evaluate`` grades the same CSV file,
missing values included (NaN, None, pd.NA, NaT).
"""

from __future__ import annotations

import csv
import doctest
import json
import subprocess
import sys

import pytest

import tierkit
from tierkit.io.tables import compact_json

from .conftest import ROOT, run_captured

B2B_CSV = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def rs():
    return tierkit.load("b2b-manufacturing")


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> list[dict]:
    """The records the command line writes for the sample CSV (run in process: the
    records are the point, not the process)."""
    output = tmp_path_factory.mktemp("cli") / "results.jsonl"
    code, _out, err = run_captured("evaluate", "b2b-manufacturing", B2B_CSV, "--as-of", AS_OF, "-o", output)
    assert code == 0, err
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()[1:]]


def as_json(result) -> list[dict]:
    return [json.loads(compact_json(record)) for record in result.records()]


def test_the_public_names_are_listed_and_importing_tierkit_loads_none_of_the_engine():
    assert sorted(tierkit.__all__) == ["CompiledRuleset", "Rejected", "Result", "TierkitError", "__version__", "load"]
    assert all(getattr(tierkit, name) for name in tierkit.__all__)
    code = "import sys, tierkit; print(sorted(m for m in ('tierkit.engine.evaluation', 'pandas', 'polars', 'pyarrow') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
    with pytest.raises(AttributeError):
        tierkit.not_public  # noqa: B018


def test_a_pandas_dataframe_with_nan_grades_as_the_csv_does(rs, expected):
    pd = pytest.importorskip("pandas", reason="the pandas input needs pandas (pip install -e '.[dev]')")
    frame = pd.read_csv(B2B_CSV)
    assert frame["gross_margin_pct"].isna().any() and frame["owner"].isna().any()
    result = rs.evaluate(frame, as_of=AS_OF)
    assert result.rejected == []
    assert as_json(result) == expected


def test_pandas_nullable_dtypes_na_and_nat_are_missing_values(rs, expected):
    pd = pytest.importorskip("pandas", reason="the pandas input needs pandas (pip install -e '.[dev]')")
    frame = pd.read_csv(B2B_CSV).convert_dtypes()  # Int64, boolean, string: pd.NA for missing
    for column in ("last_order_date", "first_order_date", "created_date"):
        frame[column] = pd.to_datetime(frame[column])  # NaT for missing
    assert frame["employees"].dtype == "Int64" and frame["last_order_date"].isna().any()
    assert as_json(rs.evaluate(frame, as_of=AS_OF)) == expected


def test_a_polars_dataframe_grades_as_the_csv_does(rs, expected):
    pl = pytest.importorskip("polars", reason="the polars input needs polars (pip install -e '.[dev]')")
    frame = pl.read_csv(B2B_CSV, try_parse_dates=True)
    frame = frame.with_columns(pl.col("gross_margin_pct").fill_null(float("nan")))  # NaN as well as null
    assert as_json(rs.evaluate(frame, as_of=AS_OF)) == expected


def test_a_pyarrow_table_and_a_list_of_dicts_grade_as_the_csv_does(rs, expected):
    pytest.importorskip("pyarrow", reason="the pyarrow input needs pyarrow (pip install -e '.[duckdb]')")
    from pyarrow import csv as pa_csv

    assert as_json(rs.evaluate(pa_csv.read_csv(B2B_CSV), as_of=AS_OF)) == expected
    with open(B2B_CSV, encoding="utf-8-sig", newline="") as handle:
        rows = [{key: (None if value == "" else value) for key, value in row.items()} for row in csv.DictReader(handle)]
    assert as_json(rs.evaluate(iter(rows), as_of=AS_OF)) == expected


def test_a_file_path_and_orders_in_memory(rs):
    assert len(rs.evaluate(B2B_CSV, as_of=AS_OF)) == 600
    customers = [{"id": "C1", "name": "Acme", "annual_procurement": 5e8}, {"id": "C2", "name": "Beta", "annual_procurement": 1e7}]
    orders = [{"customer_id": "C1", "order_date": "2026-10-01", "amount": 1200.0},
              {"customer_id": "C1", "order_date": "2026-06-01", "amount": 800},
              {"customer_id": "C2", "order_date": "2027-01-01", "amount": 10.0},
              {"customer_id": "C9", "order_date": "2026-01-01", "amount": 10.0}]
    result = rs.evaluate(customers, orders=orders, as_of=AS_OF)
    c1 = next(record for record in result.records() if record["id"] == "C1")
    assert c1["features"]["order_count"] == 2 and str(c1["features"]["last_order_date"]) == "2026-10-01"
    assert result.meta["orders"]["read"] == 4 and result.meta["orders"]["after_as_of"] == 1
    assert [(item.file, item.row) for item in result.rejected] == [("orders", 4)]


@pytest.mark.duckdb
def test_the_duckdb_engine_gives_the_python_engines_records_from_memory_and_files(rs):
    """``engine="duckdb"`` grades rows held in memory as well as a file, reasons included."""
    pytest.importorskip("duckdb", reason="the DuckDB engine is the duckdb extra (pip install -e '.[duckdb]')")
    customers = [{"id": "C1", "name": "Acme", "annual_procurement": "5亿"}, {"id": "C2", "name": "Beta", "annual_procurement": "many"}]
    for source in (customers, B2B_CSV):
        python, duckdb = (rs.evaluate(source, as_of=AS_OF, lang="en", engine=engine) for engine in ("python", "duckdb"))
        assert as_json(duckdb) == as_json(python)
        assert [(item.row, item.reason) for item in duckdb.rejected] == [(item.row, item.reason) for item in python.rejected]
    assert len(python) == 600 and duckdb.meta["engine"] == "duckdb"
    with pytest.raises(tierkit.TierkitError, match="unknown engine 'sqlite'"):
        rs.evaluate(customers, engine="sqlite")


def test_bad_rows_are_rejected_with_their_row_and_reason(rs):
    result = rs.evaluate([{"id": "X1", "name": "A", "annual_procurement": "many"}, ["not", "a", "row"],
                          {"id": "X2", "name": "B", "annual_procurement": 1e9}], as_of=AS_OF, lang="en")
    assert len(result) == 1
    assert [(item.file, item.row, item.field, item.reason) for item in result.rejected] == [
        ("customers", 1, "annual_procurement", "'many' is not a number"),
        ("customers", 2, None, "expected a mapping of column -> value, got a list"),
    ]
    with pytest.raises(tierkit.TierkitError, match="cannot evaluate a int"):
        rs.evaluate(42)
    with pytest.raises(tierkit.TierkitError, match="'someday' is not a date"):
        rs.evaluate([], as_of="someday")
    with pytest.raises(tierkit.TierkitError, match="'NOPE' is not among the evaluated customers"):
        result.explain("NOPE")


def test_results_as_pandas_arrow_explanations_and_files(rs, expected, tmp_path):
    pd = pytest.importorskip("pandas", reason="to_pandas needs pandas (pip install -e '.[dev]')")
    pytest.importorskip("pyarrow", reason="to_arrow needs pyarrow (pip install -e '.[duckdb]')")
    from tierkit.engine.results import results_schema

    result = rs.evaluate(pd.read_csv(B2B_CSV), as_of=AS_OF)
    table, arrow = result.to_pandas(), result.to_arrow()
    assert list(table["id"]) == [record["id"] for record in expected] == arrow.column("id").to_pylist()
    assert arrow.schema == results_schema(rs._plan, "zh").arrow_schema()
    assert list(table.columns) == arrow.column_names
    assert str(table["rank"].dtype) == "int64" and str(table["outcomes.grade.score"].dtype) == "float64"
    assert "客户等级 (grade)" in result.explain("C00483") and "Account grade (grade)" in result.explain("C00483", lang="en")
    result.write(tmp_path / "api.jsonl")
    written = [json.loads(line) for line in (tmp_path / "api.jsonl").read_text(encoding="utf-8").splitlines()]
    assert written[1:] == expected


def test_the_api_guide_runs_as_written(tmp_path, monkeypatch):
    for module in ("pandas", "polars", "pyarrow", "sqlalchemy"):
        pytest.importorskip(module, reason=f"docs/api.md uses {module} (pip install -e '.[dev,db,duckdb]')")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    failures, tried = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, raise_on_error=False,
                                       optionflags=doctest.ELLIPSIS, verbose=False)
    assert tried > 15 and failures == 0
    assert (tmp_path / "results.jsonl").is_file()
