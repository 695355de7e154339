"""Checks of writing results back to a database table, run on SQLite and on PostgreSQL.

Each check takes the database URL (without ``?table=``) and a table name of its own,
evaluates the bundled b2b sample with ``-o URL?table=NAME``, and reads the table back
with SQLAlchemy, comparing it with the JSON Lines results of the same run.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

sa = pytest.importorskip("sqlalchemy", reason="writing to a database needs the db extra (pip install -e '.[db]')")

from tierkit.engine.evaluation import load_plan
from tierkit.io.tables import read_table, write_results
from tierkit.engine.results import SchemaRecords

from .conftest import ROOT, run

B2B_CSV = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-11-01"


def target(url: str, table: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}table={table}"


def evaluate(capsys, url: str, table: str, customers=B2B_CSV, *options) -> str:
    code, out, err = run(capsys, "evaluate", "b2b-manufacturing", customers, "--as-of", AS_OF, "-o", target(url, table), *options)
    assert code == 0 and out == "", err
    return err


def rows(url: str, table: str) -> list[dict]:
    """The table's rows by (run_id, id), JSON and dates as SQLAlchemy reads them back."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
            found = [dict(row._mapping) for row in connection.execute(sa.select(reflected))]
            types = {column.name: column.type for column in reflected.columns}
    finally:
        engine.dispose()
    for row in found:
        for name, value in row.items():
            if isinstance(types[name], sa.JSON) and isinstance(value, str):  # SQLite hands JSON back as text
                row[name] = json.loads(value)
    return sorted(found, key=lambda row: (str(row["run_id"]), str(row["id"])))


def column_types(url: str, table: str) -> dict:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return {column["name"]: column["type"] for column in sa.inspect(connection).get_columns(table)}
    finally:
        engine.dispose()


def jsonl_results(capsys, tmp_path, customers=B2B_CSV) -> tuple[dict, dict]:
    output = tmp_path / "results.jsonl"
    code, _out, err = run(capsys, "evaluate", "b2b-manufacturing", customers, "--as-of", AS_OF, "-o", output)
    assert code == 0, err
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    return lines[0]["meta"], {record["id"]: record for record in lines[1:]}


def check_round_trip(capsys, tmp_path, url: str, table: str) -> None:
    """One row per customer, typed columns, the values of the JSON Lines results."""
    evaluate(capsys, url, table)
    meta, records = jsonl_results(capsys, tmp_path)
    found = rows(url, table)
    assert len(found) == len(records) == 600
    types = column_types(url, table)
    for name, kind in {"as_of": sa.Date, "rank": sa.Integer, "grade_score": sa.Float, "grade_label": sa.String,
                       "tags": sa.JSON, "reasons": sa.JSON, "allocation_cadence_days": sa.Integer,
                       "allocation_actions": sa.JSON, "name": sa.String, "owner": sa.String}.items():
        assert isinstance(types[name], kind), (name, types[name])
    schemes = list(next(iter(records.values()))["outcomes"])
    for row in found:
        record = records[row["id"]]
        assert (row["name"], row["owner"], row["rank"]) == (record["features"]["name"], record["features"]["owner"], record["rank"])
        assert (row["as_of"], row["ruleset"], row["ruleset_version"], row["fingerprint"]) == (
            dt.date(2026, 11, 1), meta["ruleset"], meta["ruleset_version"], meta["fingerprint"])
        for scheme in schemes:
            outcome = record["outcomes"][scheme]
            assert (row[f"{scheme}_label"], row[f"{scheme}_score"]) == (outcome["label"], pytest.approx(outcome["score"]))
            assert set(outcome["tags"]) <= set(row["tags"])
            assert row["reasons"][scheme] == outcome["reasons"]
        assert row["allocation_rule"] == record["allocation"]["rule"]
        assert row["allocation_actions"] == record["allocation"].get("actions")
        assert row["allocation_cadence_days"] == record["allocation"].get("cadence_days")
    assert len({row["run_id"] for row in found}) == 1


def check_modes(capsys, tmp_path, url: str, table: str) -> None:
    """replace makes the table anew; upsert replaces the rows of the customers written
    and keeps the others; append keeps each saved run's rows under its run id."""
    store = tmp_path / "runs.sqlite"
    evaluate(capsys, url, table, B2B_CSV, "--save", "--store", store)
    first = rows(url, table)
    assert {row["run_id"] for row in first} == {"1"}
    few = tmp_path / "few.csv"
    few.write_text("".join(B2B_CSV.read_text(encoding="utf-8").splitlines(keepends=True)[:11]), encoding="utf-8")
    evaluate(capsys, url, table, few, "--write-mode", "upsert", "--save", "--store", store)
    upserted = rows(url, table)
    assert len(upserted) == 600
    changed = {row["id"] for row in upserted if row["run_id"] == "2"}
    assert len(changed) == 10
    assert [row for row in upserted if row["id"] not in changed] == [row for row in first if row["id"] not in changed]
    evaluate(capsys, url, table, few, "--write-mode", "append", "--save", "--store", store)
    appended = rows(url, table)
    assert len(appended) == 610 and sum(row["run_id"] == "3" for row in appended) == 10
    evaluate(capsys, url, table, few, "--write-mode", "replace")
    replaced = rows(url, table)
    assert len(replaced) == 10 and len({row["run_id"] for row in replaced}) == 1
    evaluate(capsys, url, f"{table}_history", few, "--write-mode", "append", "--save", "--store", store)
    evaluate(capsys, url, f"{table}_history", few, "--write-mode", "append", "--save", "--store", store)
    assert len(rows(url, f"{table}_history")) == 20


_EVALUATIONS: dict[int, tuple] = {}


def b2b_evaluation(registry):
    """The Python engine's evaluation of the b2b sample, made once per registry for the
    rollback checks (one per database and write mode), which only read its records."""
    if id(registry) not in _EVALUATIONS:
        bound = load_plan("b2b-manufacturing", registry, dt.date.fromisoformat(AS_OF))
        _EVALUATIONS[id(registry)] = (registry, bound.run_table(read_table(B2B_CSV, bound.fields, registry)))
    return _EVALUATIONS[id(registry)][1]


def check_rollback(capsys, registry, url: str, table: str, mode: str) -> None:
    """A failure after the first batch is inserted leaves the table as it was."""
    evaluate(capsys, url, table)
    before = rows(url, table)
    evaluation = b2b_evaluation(registry)
    records = evaluation.records("zh")

    def failing():
        for number, record in enumerate(records):
            if number == 550:
                raise RuntimeError("connection lost")
            yield record

    with pytest.raises(RuntimeError, match="connection lost"):
        write_results(target(url, table), SchemaRecords(records.schema, failing()), evaluation.meta("zh"), registry, mode)
    assert rows(url, table) == before
