"""Results files are written as the records stream by, in bounded pieces, and hold what
a writer given every record at once would have written: CSV rows wait in a temporary
file until the header is known, Parquet row groups are bounded in rows and bytes, and
the SQL engines hand Python a few thousand rows at a time."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings

import pytest

import tierkit.engine.results as results
import tierkit.engine.sql.connection as sqlengine
from tierkit.io.tables import write_results
from tierkit.manager import make_registry
from tierkit.io.outputs import CSV_RAW, spreadsheet_cell
from tierkit.engine.results import SchemaRecords, flatten, read_results

from tests.engine_harness import engine_params, require_engine, shared_engine
from tests.render.test_brief import EXAMPLE
from tests.render.test_render import AS_OF, run_cli
from tests.engine.test_results_files import evaluate

pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow: pip install -e '.[duckdb]'")
pq = pytest.importorskip("pyarrow.parquet", reason="Parquet needs pyarrow: pip install -e '.[duckdb]'")

# A column first seen in the second record, another in the fourth; cells with quotes,
# line ends and formula-looking text in the rows that are short of them.
LATE_COLUMNS = [
    {"id": "C1", "name": 'say "hi"\nthen go', "allocation": {"rule": "a", "team": "=HYPERLINK(\"x\")"}},
    {"id": "C2", "name": "-5 plain", "allocation": {"rule": "b", "team": "t", "visits": 4}, "note": "+1"},
    {"id": "C3", "name": "line\r\nend, comma", "allocation": {"rule": None}},
    {"id": "C4", "name": "", "allocation": {"rule": "c", "visits": 2.5, "plan": {"level": 2}}, "tags": ["a", "@b"]},
    {"id": "C5"},
]


def whole_table_csv(records: list[dict]) -> bytes:
    """The CSV a writer holding every record writes: columns in the order first seen,
    every cell spreadsheet-safe, a missing cell empty."""
    rows = [flatten(record) for record in records]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([spreadsheet_cell(column) for column in columns])
    writer.writerows([spreadsheet_cell(row.get(column, "")) for column in columns] for row in rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


@pytest.mark.parametrize("raw", [False, True], ids=["safe", "csv-raw"])
def test_csv_with_columns_first_seen_late_is_the_table_written_whole(tmp_path, raw):
    out = tmp_path / "late.csv"
    token = CSV_RAW.set(raw)
    try:
        expected = whole_table_csv(LATE_COLUMNS)
        write_results(out, iter(LATE_COLUMNS), {"as_of": AS_OF}, make_registry())
    finally:
        CSV_RAW.reset(token)
    assert out.read_bytes() == expected
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "name", "allocation.rule", "allocation.team", "allocation.visits", "note",
                             "allocation.plan.level", "tags"]
    assert [row["id"] for row in rows] == ["C1", "C2", "C3", "C4", "C5"]
    assert rows[0]["name"] == 'say "hi"\nthen go' and rows[0]["note"] == "" and rows[0]["tags"] == ""
    assert rows[2]["name"] == "line\r\nend, comma" and rows[2]["allocation.plan.level"] == ""
    assert rows[0]["allocation.team"] == ("=HYPERLINK(\"x\")" if raw else "'=HYPERLINK(\"x\")")
    assert rows[1]["name"] == ("-5 plain" if raw else "'-5 plain") and rows[1]["note"] == "+1"  # a plain number stays
    assert rows[3]["tags"] == "a; @b"  # only a cell's first character counts
    meta = json.loads((tmp_path / "late.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["file"]["spreadsheet_safe"] is (not raw)
    assert not [path.name for path in tmp_path.iterdir() if path.name not in ("late.csv", "late.csv.meta.json")]


def test_csv_of_no_records_is_an_empty_header(tmp_path):
    out = tmp_path / "none.csv"
    write_results(out, iter([]), {}, make_registry())
    assert out.read_bytes() == b"\xef\xbb\xbf\r\n"


@pytest.fixture(scope="module")
def b2b():
    """The b2b sample evaluated once: its records, in English, and their flat rows."""
    job, plan, lang, registry = evaluate("b2b-manufacturing", EXAMPLE)
    schema = results.results_schema(plan, lang)
    return job, schema, [schema.flat(record) for record in job.evaluation.records(lang)], registry


@pytest.mark.parametrize("chunk, group_rows, group_bytes, groups", [
    (7, 65_536, 1, math.ceil(600 / 7)),  # every chunk outgrows the byte bound: one group each
    (64, 100, 1 << 40, 5),  # 100 rows reached after 2 chunks: 128, 128, 128, 128, 88
    (1_024, 65_536, 32 << 20, 1),
])
def test_parquet_row_groups_are_bounded_and_hold_the_table_written_whole(tmp_path, monkeypatch, b2b, chunk, group_rows,
                                                                        group_bytes, groups):
    job, schema, flat, registry = b2b
    monkeypatch.setattr(results, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(results, "GROUP_ROWS", group_rows)
    monkeypatch.setattr(results, "GROUP_BYTES", group_bytes)
    out = tmp_path / "b2b.parquet"
    write_results(out, job.evaluation.records(schema.lang), job.meta(schema.lang), registry)
    parquet = pq.ParquetFile(out)
    sizes = [parquet.metadata.row_group(index).num_rows for index in range(parquet.metadata.num_row_groups)]
    assert len(sizes) == groups and sum(sizes) == 600
    assert all(size < group_rows + chunk for size in sizes)
    assert parquet.read().equals(pa.Table.from_pylist(flat, schema=schema.arrow_schema()))


def test_parquet_of_no_records_has_the_schema_and_no_rows(tmp_path, b2b):
    _job, schema, _flat, registry = b2b
    out = tmp_path / "none.parquet"
    write_results(out, SchemaRecords(schema, iter([])), {}, registry)
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.equals(schema.arrow_schema(), check_metadata=False)


@pytest.mark.parametrize("engine_name", engine_params(["duckdb", "spark"]))
def test_a_sql_engine_hands_python_bounded_batches_without_deprecated_calls(engine_name, monkeypatch):
    engine = shared_engine(engine_name)
    monkeypatch.setattr(sqlengine, "BATCH_ROWS", 1_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        batches = list(engine.row_batches("SELECT id FROM range(2500) AS t(id) ORDER BY id"
                                          if engine_name == "duckdb" else "SELECT id FROM range(2500) ORDER BY id"))
    sizes = [len(batch) for batch in batches]  # Spark's come per partition: 1,000 and 250 twice
    assert max(sizes) == 1_000 and sum(sizes) == 2_500
    assert [row[0] for batch in batches for row in batch] == list(range(2500))


@pytest.mark.parametrize("engine_name", ["python", pytest.param("duckdb", marks=pytest.mark.duckdb)])
def test_every_format_of_a_run_holds_the_same_results(tmp_path, monkeypatch, engine_name):
    """Written in small pieces (batches of 64 rows, row groups of 128), each results
    file reads back as the JSON Lines records, and the workbook has a row per customer."""
    if engine_name != "python":
        require_engine(engine_name)
    monkeypatch.setattr(sqlengine, "BATCH_ROWS", 64)
    monkeypatch.setattr(results, "CHUNK_ROWS", 64)
    monkeypatch.setattr(results, "GROUP_ROWS", 100)
    files = {suffix: tmp_path / f"b2b.{suffix}" for suffix in ("jsonl", "csv", "parquet", "xlsx")}
    for path in files.values():
        assert run_cli("-q", "evaluate", "b2b-manufacturing", EXAMPLE, "--as-of", AS_OF, "--engine", engine_name, "-o", path) == 0
    _job, plan, _lang, _registry = evaluate("b2b-manufacturing", EXAMPLE)
    meta, expected = read_results(files["jsonl"], plan)
    assert len(expected) == meta["evaluated"] == 600
    for suffix in ("csv", "parquet"):
        assert read_results(files[suffix], plan) == (meta, expected), suffix
    if engine_name == "python":  # the engine writes Parquet itself on DuckDB
        assert pq.ParquetFile(files["parquet"]).metadata.num_row_groups == 5
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(files["xlsx"], read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True)) == 600
