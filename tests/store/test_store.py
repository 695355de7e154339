"""The run store: what a saved run holds, speed, concurrent savers and killed savers."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tierkit.engine.evaluation import load_plan
from tierkit.errors import TierkitError
from tierkit.store.runs import Store, _data_hashes

from tests.conftest import TIERKIT, run
from tests.store.test_history import GRADED, one_line_error, save, write_customers

AS_OF = dt.date(2026, 9, 1)


def query(path: Path, sql: str, *parameters) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, parameters).fetchall()


def test_a_saved_run_holds_its_metadata_and_every_outcome(tmp_path, capsys):
    records = save(capsys, tmp_path, {"A1": 85, "A2": {"points": 30, "unpaid": 500, "influence": 90}, "A3": 45}, "2026-09-01")
    store = tmp_path / "runs.sqlite"
    (saved,) = query(store, "SELECT id, as_of, ruleset, ruleset_version, fingerprint, customers_file, orders_file, customers FROM runs")
    assert saved[:4] == (1, "2026-09-01", "history-test", "1")
    assert saved[4].startswith("sha256:") and saved[5].endswith("customers-2026-09-01.csv") and saved[6:] == (None, 3)
    assert query(store, "SELECT scheme, position, kind FROM schemes ORDER BY position") == [("grade", 0, "weighted"), ("watch", 1, "rules")]
    customers = {c: (rank, rule) for c, rank, rule in query(store, "SELECT customer, rank, allocation FROM customers")}
    assert customers == {c: (r["rank"], r["allocation"]["rule"]) for c, r in records.items()}
    outcomes = query(store, "SELECT customer, scheme, label, score, computed FROM outcomes WHERE scheme = 'grade' ORDER BY customer")
    assert outcomes == [("A1", "grade", "S", 85.0, None), ("A2", "grade", "C", 30.0, None), ("A3", "grade", "B", 45.0, None)]
    tags = query(store, "SELECT customer, scheme, tag FROM tags ORDER BY customer, tag")
    assert tags == [("A2", "watch", "at_risk"), ("A2", "watch", "benchmark"), ("A2", "watch", "reference"), ("A2", "watch", "risky")]


def test_the_store_is_in_wal_mode_with_indexes(tmp_path, capsys):
    save(capsys, tmp_path, {"A1": 85}, "2026-09-01")
    store = tmp_path / "runs.sqlite"
    assert query(store, "PRAGMA journal_mode") == [("wal",)]
    indexes = {name for (name,) in query(store, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_by_ruleset", "outcomes_overridden"} <= indexes
    plan = query(store, "EXPLAIN QUERY PLAN SELECT label FROM outcomes WHERE run_id = 1 AND scheme = 'grade' AND customer = 'A1'")
    assert "USING PRIMARY KEY" in plan[0][-1]


def test_the_default_store_is_in_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERKIT_STORE", raising=False)
    source = write_customers(tmp_path / "c.csv", {"A1": 50})
    code, _out, err = run(capsys, "evaluate", GRADED, source, "--save", "-o", tmp_path / "out.jsonl")
    assert code == 0 and "saved run 1 to tierkit-runs.sqlite" in err
    monkeypatch.setenv("TIERKIT_STORE", str(tmp_path / "elsewhere.sqlite"))
    code, _out, err = run(capsys, "evaluate", GRADED, source, "--save", "-o", tmp_path / "out.jsonl")
    assert code == 0 and f"saved run 1 to {tmp_path / 'elsewhere.sqlite'}" in err


def test_a_store_from_a_newer_tierkit_is_refused(tmp_path, capsys):
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 99")
    code, _out, err = run(capsys, "runs", "--store", newer)
    assert "written by a newer tierkit" in one_line_error(code, err)


def test_another_programs_database_is_not_taken_over(tmp_path, capsys):
    foreign = tmp_path / "crm.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    source = write_customers(tmp_path / "c.csv", {"A1": 50})
    code, _out, err = run(capsys, "evaluate", GRADED, source, "--save", "--store", foreign)
    assert "is not a tierkit run store" in one_line_error(code, err)
    assert query(foreign, "SELECT name FROM sqlite_master") == [("contacts",)]


def test_labels_read_back_are_the_computed_ones(tmp_path, capsys):
    save(capsys, tmp_path, {"A1": 85, "A2": 45}, "2026-09-01")
    with Store.open(tmp_path / "runs.sqlite") as store:
        latest = store.latest_of("history-test")
        assert store.labels(latest.id, ["grade"]) == {"grade": {"A1": "S", "A2": "B"}}
        assert store.latest_of("no-such-ruleset") is None


def test_the_data_digest_is_over_the_values_present(tmp_path, registry):
    """A field the customer has no value for does not enter its digest; a value that
    changes, appears or goes away does."""
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(GRADED.read_text(encoding="utf-8"), encoding="utf-8")
    wider = tmp_path / "wider.yaml"
    text = GRADED.read_text(encoding="utf-8")
    last = "  influence: {type: number, default: 0}\n"
    assert last in text
    wider.write_text(text.replace(last, last + "  remark: {type: string}\n", 1), encoding="utf-8")
    narrow = load_plan(ruleset, registry, AS_OF)
    wide = load_plan(wider, registry, AS_OF)
    assert len(wide.plan.fields) == len(narrow.plan.fields) + 1
    rows = [["K1", None, 70.0, 0.0, 10.0], ["K2", "n", 50.0, 5.0, 0.0]]

    def digests(bound, rows):
        evaluation = bound.run([list(row) for row in rows])
        assert len(evaluation.rows) == len(rows), evaluation.rejected
        return {row[bound.plan.id_index]: digest for row, digest in zip(evaluation.rows, _data_hashes(bound.plan, evaluation.rows))}

    before = digests(narrow, rows)
    assert before == digests(wide, [[*row, None] for row in rows])
    changed = digests(wide, [[*rows[0], "noted"], [*rows[1], None]])
    assert changed["K1"] != before["K1"] and changed["K2"] == before["K2"]
    emptied = digests(narrow, [rows[0], ["K2", None, 50.0, 5.0, 0.0]])
    assert emptied["K1"] == before["K1"] and emptied["K2"] != before["K2"]


# -- speed ---------------------------------------------------------------------------


@pytest.mark.slow
def test_saving_and_comparing_100k_customers(tmp_path, registry):
    """Every outcome row lands; the speed is measured by benchmarks/bench_store.py."""
    bound = load_plan(GRADED, registry, AS_OF)
    rows = [[f"C{i:06d}", None, float(i % 100), float(i % 300), float(i % 97)] for i in range(100_000)]
    evaluation = bound.run(rows)
    with Store.open(tmp_path / "big.sqlite", create=True) as store:
        saved = store.save(evaluation, "big.csv")
        comparison = store.compare(saved, saved, ("at_risk",))
    assert saved.customers == 100_000
    assert query(tmp_path / "big.sqlite", "SELECT count(*) FROM outcomes") == [(200_000,)]
    assert not comparison.migrations


# -- concurrency and crashes ---------------------------------------------------------


def big_input(tmp_path: Path, count: int) -> Path:
    return write_customers(tmp_path / "big.csv", {f"C{i:06d}": {"points": i % 100, "unpaid": i % 300} for i in range(count)})


def saver(store: Path, source: Path, as_of: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*TIERKIT, "evaluate", str(GRADED), str(source), "--as-of", as_of, "--save", "--store", str(store),
         "-o", str(store.with_name(f"out-{as_of}.jsonl"))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def assert_complete(store: Path, runs: int, customers: int) -> None:
    assert query(store, "PRAGMA integrity_check") == [("ok",)]
    assert query(store, "SELECT count(*), sum(customers) FROM runs") == [(runs, runs * customers)]
    for table, per_customer in (("customers", 1), ("outcomes", 2)):
        counts = query(store, f"SELECT run_id, count(*) FROM {table} GROUP BY run_id")
        assert sorted(count for _run, count in counts) == [customers * per_customer] * runs, table


def test_two_processes_saving_at_once_both_complete(tmp_path):
    source, store = big_input(tmp_path, 20_000), tmp_path / "shared.sqlite"
    savers = [saver(store, source, "2026-09-01"), saver(store, source, "2026-09-02")]
    results = [process.communicate(timeout=300) for process in savers]
    for process, (_out, err) in zip(savers, results):
        assert process.returncode == 0, err
        assert "saved run " in err and "Traceback" not in err
    assert_complete(store, runs=2, customers=20_000)


HOLD_THE_LOCK = """
    import sys, time
    from pathlib import Path
    from tierkit.store import runs as store
    from tierkit.cli import main

    original = store.Store._insert_rows

    def slow_insert(self, run_id, evaluation):
        original(self, run_id, evaluation)
        Path({marker!r}).write_text("inside the transaction")
        time.sleep({pause})

    store.Store._insert_rows = slow_insert
    sys.exit(main(["evaluate", {ruleset!r}, {source!r}, "--as-of", "2026-09-01", "--save", "--store", {store!r}, "-o", {output!r}]))
"""


def slow_saver(tmp_path: Path, store: Path, source: Path, pause: float) -> tuple[subprocess.Popen, Path]:
    """A real tierkit process that stops for ``pause`` seconds inside its save transaction."""
    marker = tmp_path / f"inside-{pause}"
    script = textwrap.dedent(HOLD_THE_LOCK).format(
        marker=str(marker), pause=pause, ruleset=str(GRADED), source=str(source), store=str(store),
        output=str(tmp_path / f"out-{pause}.jsonl")
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the saver never reached its transaction"
        time.sleep(0.05)
    return process, marker


def test_a_saver_waits_for_another_that_holds_the_store(tmp_path):
    source, store = big_input(tmp_path, 2_000), tmp_path / "shared.sqlite"
    holder, _marker = slow_saver(tmp_path, store, source, pause=2.0)
    waiter = saver(store, source, "2026-09-02")
    for process in (holder, waiter):
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert_complete(store, runs=2, customers=2_000)


def test_a_run_killed_midway_leaves_no_partial_run(tmp_path, capsys):
    source, store = big_input(tmp_path, 2_000), tmp_path / "shared.sqlite"
    save(capsys, tmp_path, {"EARLIER": 50}, "2026-08-01", store=store)
    victim, _marker = slow_saver(tmp_path, store, source, pause=300)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert query(store, "PRAGMA integrity_check") == [("ok",)]
    assert query(store, "SELECT id, customers FROM runs") == [(1, 1)]
    for table in ("schemes", "customers", "outcomes", "tags"):
        assert query(store, f"SELECT count(*) FROM {table} WHERE run_id <> 1") == [(0,)], table
    records = save(capsys, tmp_path, {"LATER": 50}, "2026-09-01", store=store)  # the store still takes runs
    assert list(records) == ["LATER"] and query(store, "SELECT max(id) FROM runs") == [(2,)]


@pytest.mark.parametrize("ref", ["latest", "previous", "1"])
def test_run_references_on_an_empty_store(tmp_path, ref):
    with Store.open(tmp_path / "empty.sqlite", create=True) as store:
        assert store.runs() == []
        with pytest.raises(TierkitError, match="has no runs yet|no run 1"):
            store.run(ref)


def test_processes_creating_one_store_at_once_all_succeed(tmp_path):
    """The switch to WAL and the tables of a new store are made once, whoever comes first."""
    for attempt in range(3):
        store = tmp_path / f"new-{attempt}.sqlite"
        code = f"from tierkit.store.runs import Store\nwith Store.open({str(store)!r}, create=True) as s: print(len(s.runs()))"
        openers = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(4)]
        for process in openers:
            out, err = process.communicate(timeout=120)
            assert (process.returncode, out) == (0, "0\n"), err
        assert query(store, "PRAGMA journal_mode") == [("wal",)]
