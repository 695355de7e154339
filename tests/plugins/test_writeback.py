"""Results written back to a SQLite table: ``-o 'sqlite:///grades.db?table=…'`` and ``--write-mode``.

The same checks run on PostgreSQL in ``test_database_postgres.py``.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

pytest.importorskip("sqlalchemy", reason="writing to a database needs the db extra (pip install -e '.[db]')")

from tierkit.engine.evaluation import compile_ruleset  # noqa: E402
from tierkit.manager import make_registry  # noqa: E402
from tierkit.ruleset.load import load_ruleset  # noqa: E402

from tests.writeback_harness import (  # noqa: E402  (after the skip: the harness imports SQLAlchemy)
    B2B_CSV, check_modes, check_rollback, check_round_trip, evaluate, rows, run, target,
)


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'grades.db'}"


def one_line_failure(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_one_typed_row_per_customer_with_the_run_and_each_schemes_label_and_score(capsys, tmp_path, url):
    check_round_trip(capsys, tmp_path, url, "customer_grades")


def test_replace_upsert_and_append(capsys, tmp_path, url):
    check_modes(capsys, tmp_path, url, "customer_grades")


@pytest.mark.parametrize("mode", ["replace", "upsert", "append"])
def test_a_failure_midway_leaves_the_table_as_it_was(capsys, registry, url, mode):
    check_rollback(capsys, registry, url, "customer_grades", mode)


def test_the_duckdb_engine_writes_the_same_table_with_the_reasons_it_gives(capsys, tmp_path, url):
    """The same rows; the reasons of every scheme whose kind gives them on SQL, and
    none (not empty ones) for the kinds not yet stated as IR."""
    pytest.importorskip("duckdb", reason="the DuckDB engine needs the duckdb extra (pip install -e '.[duckdb]')")
    evaluate(capsys, url, "from_python")
    evaluate(capsys, url, "from_duckdb", B2B_CSV, "--engine", "duckdb")
    python, duckdb = rows(url, "from_python"), rows(url, "from_duckdb")
    registry = make_registry()
    plan = compile_ruleset(load_ruleset("b2b-manufacturing", registry.ruleset_dirs), registry)
    silent = {scheme.id for scheme in plan.schemes if scheme.compiled.reason_columns is None}
    for mine, theirs in zip(duckdb, python):
        reasons = json.loads(mine["reasons"]) if isinstance(mine["reasons"], str) else mine["reasons"]
        expected = json.loads(theirs["reasons"]) if isinstance(theirs["reasons"], str) else theirs["reasons"]
        assert reasons == {scheme: given for scheme, given in expected.items() if scheme not in silent}
    ignored = {"run_id", "reasons"}
    assert [{k: v for k, v in row.items() if k not in ignored} for row in duckdb] == [
        {k: v for k, v in row.items() if k not in ignored} for row in python]


def test_a_table_lacking_a_column_is_left_alone_with_a_hint(capsys, tmp_path, url):
    with sqlite3.connect(tmp_path / "grades.db") as db:
        db.execute("CREATE TABLE customer_grades (id TEXT PRIMARY KEY, grade TEXT)")
        db.execute("INSERT INTO customer_grades VALUES ('C1', 'A')")
    line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", B2B_CSV, "-o", target(url, "customer_grades"),
                                 "--write-mode", "upsert"))
    assert "table 'customer_grades' has no column 'name'" in line and "--write-mode replace" in line
    with sqlite3.connect(tmp_path / "grades.db") as db:
        assert db.execute("SELECT * FROM customer_grades").fetchall() == [("C1", "A")]


@pytest.mark.parametrize(
    "output, options, message",
    [
        ("sqlite:///{dir}/grades.db", [], "name the table to write: add ?table=NAME to the URL"),
        ("sqlite:///{dir}/missing/grades.db?table=g", [], "cannot write table 'g': unable to open database file"),
        ("{dir}/results.jsonl", ["--write-mode", "upsert"], "--write-mode is for database outputs"),
        ("mysqlx://host/db?table=g", [], "no writer for mysqlx:// (known: postgres://, postgresql://, sqlite://)"),
        ("postgresql://sales:Tk-secret@127.0.0.1:1/crm?table=g", [], "postgresql://sales:***@127.0.0.1:1/crm?table=g: cannot write"),
    ],
)
def test_write_problems_are_one_line_with_the_password_masked(capsys, tmp_path, output, options, message):
    pytest.importorskip("psycopg", reason="PostgreSQL needs the db extra (pip install -e '.[db]')")
    line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", B2B_CSV, "-o", output.format(dir=tmp_path), *options))
    assert message in line
    assert "Tk-secret" not in line


PLUGIN = '''
import json
from tierkit.hookspecs import hookimpl
from tierkit.registry import Writer


def push(url, records, meta, mode):
    ids = [record["id"] for record in records]
    with open(url.split("://", 1)[1], "w", encoding="utf-8") as handle:
        json.dump({"url": url, "mode": mode, "ids": ids, "columns": len(records.schema.columns), "as_of": meta["as_of"]}, handle)


@hookimpl
def tierkit_writers(register):
    register(Writer("mycrm", (), push, schemes=("mycrm",)))
'''


def test_a_plugin_adds_a_destination_chosen_by_url_scheme(capsys, tmp_path):
    import json

    plugin = tmp_path / "mycrm.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    pushed = tmp_path / "pushed.json"
    code, out, err = run(capsys, "--plugin", plugin, "evaluate", "b2b-manufacturing", B2B_CSV, "--as-of", "2026-11-01",
                         "-o", f"mycrm://{pushed}", "--write-mode", "append")
    assert code == 0 and out == "", err
    sent = json.loads(pushed.read_text(encoding="utf-8"))
    assert (sent["mode"], len(sent["ids"]), sent["as_of"]) == ("append", 600, "2026-11-01") and sent["columns"] > 10
    code, out, _err = run(capsys, "--plugin", plugin, "plugins")
    assert any(line.split()[0] == "mycrm" and line.split()[-1] == "mycrm" for line in out.splitlines())  # listed as a writer
