"""Reading never writes: a foreign SQLite file given as --store is refused untouched,
the SQLite reader creates no file whatever the query, and a source's failure never
shows a password."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .conftest import one_line_failure, run_in_process, run_tierkit as tierkit

AS_OF = "2026-09-01"
RULESET = """\
tierkit: 1
name: readonly
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  name: {type: string}
schemes:
  - id: tier
    kind: rules
    label: Tier
    rules:
      - {id: named, when: "name == 'zzz'", label: Named}
    default: {id: all, label: All}
rank:
  - {by: id, order: asc}
"""
LEAKY_SOURCE = '''\
from tierkit.hookspecs import hookimpl
from tierkit.registry import Source



def read(url, table, query):
    raise RuntimeError(f"cannot reach {url} (tried password=hunter2 too)")
    yield


@hookimpl
def tierkit_sources(register):
    register(Source("leaky", ("leaky",), read))
'''




@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "r.yaml").write_text(RULESET, encoding="utf-8")
    (tmp_path / "c.csv").write_text("id,name\nC1,a\nC2,b\n", encoding="utf-8")
    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute("CREATE TABLE customers (id TEXT, name TEXT)")
        db.execute("INSERT INTO customers VALUES ('C1', 'a'), ('C2', 'b')")
    return tmp_path


def test_a_foreign_database_as_store_is_refused_before_it_changes(folder):
    before = (folder / "crm.db").read_bytes()
    done = tierkit("evaluate", "r.yaml", "c.csv", "--as-of", AS_OF, "-o", "out.jsonl", "--save", "--store", "crm.db",
                   cwd=folder)
    assert one_line_failure(done) == "tierkit: crm.db is not a tierkit run store"
    assert (folder / "crm.db").read_bytes() == before  # still in its own journal mode, not switched to WAL
    assert sorted(path.name for path in folder.glob("crm.db*")) == ["crm.db"]
    with sqlite3.connect(folder / "crm.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


@pytest.mark.parametrize("query", [
    "ATTACH DATABASE 'attached.db' AS other",
    "VACUUM INTO 'copy.db'",
    "ATTACH 'file:attached.db?mode=rwc' AS other",
])
@pytest.mark.parametrize("database", ["crm.db", "sqlite:///crm.db"])
def test_the_sqlite_reader_creates_no_file(folder, query, database):
    pytest.importorskip("sqlalchemy")
    before = (folder / "crm.db").read_bytes()
    # in process, six times; the reads below run the command as a separate process
    message = one_line_failure(run_in_process("evaluate", "r.yaml", database, "--query", query, "--as-of", AS_OF, cwd=folder))
    assert "cannot read: " in message and ("not authorized" in message or "authorization denied" in message)
    assert sorted(path.name for path in folder.iterdir()) == ["c.csv", "crm.db", "r.yaml"]
    assert (folder / "crm.db").read_bytes() == before


def test_the_sqlite_reader_still_reads(folder):
    pytest.importorskip("sqlalchemy")
    done = tierkit("evaluate", "r.yaml", "crm.db", "--table", "customers", "--as-of", AS_OF, "-o", "out.jsonl", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "read 2 · evaluated 2 · rejected 0" in done.stderr
    assert not list(folder.glob("crm.db-*"))  # no journal or WAL file either


def test_a_source_failure_names_the_source_and_masks_the_password(folder):
    (folder / "leaky.py").write_text(LEAKY_SOURCE, encoding="utf-8")
    done = tierkit("--plugin", "leaky.py", "evaluate", "r.yaml", "leaky://admin:s3cr%40t@db.example/crm", "--table", "c",
                   "--as-of", AS_OF, cwd=folder)
    message = one_line_failure(done)
    assert "s3cr" not in message and "hunter2" not in message
    assert message == ("tierkit: leaky://admin:***@db.example/crm (table c): the leaky source failed: RuntimeError: "
                       "cannot reach leaky://admin:***@db.example/crm (tried password=*** too)")


def test_an_unreachable_database_does_not_show_its_password(folder):
    pytest.importorskip("psycopg")
    done = tierkit("evaluate", "r.yaml", "postgresql://admin:s3cret-pw@127.0.0.1:9/crm", "--table", "customers",
                   "--as-of", AS_OF, cwd=folder)
    message = one_line_failure(done)
    assert "s3cret-pw" not in message and "admin:***@127.0.0.1" in message
