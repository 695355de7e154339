"""Customers and orders from a real PostgreSQL server, started for the session.

The server is a throwaway cluster in a temporary folder (``initdb`` + ``pg_ctl``, as the
``postgres`` user when run as root) on a free localhost port, with password
authentication over TCP; it is stopped and removed at the end.  The tests are skipped
only when the server binaries are absent (``apt-get install postgresql``).
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run
from tests.writeback_harness import check_modes, check_rollback, check_round_trip
from tests.writeback_harness import evaluate as write_back

pytest.importorskip("sqlalchemy", reason="reading a database needs the db extra (pip install -e '.[db]')")
psycopg = pytest.importorskip("psycopg", reason="PostgreSQL needs the db extra (pip install -e '.[db]')")

B2B_CSV = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-11-01"
USER, PASSWORD = "sales", "Tk-s3cret-42"

COLUMN_TYPES = {
    "annual_procurement": "NUMERIC(16, 2)",
    "our_revenue_12m": "NUMERIC",
    "gross_margin_pct": "NUMERIC(5, 1)",
    "fortune500": "BOOLEAN",
    "industry_leader": "BOOLEAN",
    "employees": "INTEGER",
    "last_order_date": "DATE",
    "first_order_date": "DATE",
    "order_count": "INTEGER",
    "revenue_prev_12m": "NUMERIC",
    "created_date": "DATE",
    "influence": "SMALLINT",
    "satisfaction": "INTEGER",
    "cooperation": "INTEGER",
    "complaints_90d": "INTEGER",
    "competitor_contact": "BOOLEAN",
}


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A running server: yields (URL of database ``crm`` for user ``sales``, admin connection factory)."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql")
    as_root = os.geteuid() == 0
    owner = {"user": "postgres", "group": "postgres", "extra_groups": []} if as_root else {}
    base = Path(tempfile.mkdtemp(prefix="tierkit-pg-"))
    data, sockets, log = base / "data", base / "sockets", base / "server.log"
    sockets.mkdir()
    (base / "pw").write_text("admin-pw\n")
    if as_root:
        for path in (base, sockets, base / "pw"):
            shutil.chown(path, "postgres", "postgres")

    def pg(*args, **kwargs):
        return subprocess.run([str(binaries / args[0]), *args[1:]], check=True, cwd=base, **owner, **kwargs)

    port = free_port()
    started = False
    try:
        pg("initdb", "-D", str(data), "-U", "postgres", "--encoding=UTF8", "--locale=C", "--auth-local=trust",
           "--auth-host=scram-sha-256", f"--pwfile={base / 'pw'}", capture_output=True)
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            pg("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start",
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.CalledProcessError:
            pytest.fail(f"PostgreSQL did not start:\n{log.read_text() if log.exists() else ''}")
        started = True

        def admin(dbname="postgres"):
            return psycopg.connect(host=str(sockets), port=port, user="postgres", dbname=dbname, autocommit=True)

        with admin() as db:
            db.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
            db.execute(f"CREATE DATABASE crm OWNER {USER} ENCODING 'UTF8' TEMPLATE template0")
        load_crm(admin("crm"))
        yield f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/crm", admin
    finally:
        if started:
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop", capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def b2b_sample() -> tuple[list[str], list[dict[str, str]]]:
    with open(B2B_CSV, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(50), reader)]
    return list(reader.fieldnames), rows


def load_crm(db) -> None:
    """The first 50 sample customers with real column types, then two bad rows; and orders."""
    columns, rows = b2b_sample()
    with db:
        declared = ", ".join(f"{column} {COLUMN_TYPES.get(column, 'TEXT')}" for column in columns)
        db.execute(f"CREATE TABLE customers ({declared})")
        insert = f"INSERT INTO customers ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        with db.cursor() as cursor:
            cursor.executemany(insert, [[row[column] or None for column in columns] for row in rows])
            cursor.execute("INSERT INTO customers (id, name, annual_procurement) VALUES (NULL, '无编号客户', 1000)")
            cursor.execute("INSERT INTO customers (id, name, annual_procurement) VALUES ('X0002', '缺采购额客户', NULL)")
        db.execute("CREATE TABLE orders (cust_no TEXT, order_date DATE, amount NUMERIC(12, 2), shipped BOOLEAN, note TEXT)")
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO orders VALUES (%s, %s, %s, %s, %s)",
                [("C00001", "2026-10-20", "100.50", True, "首单"), ("C00002", "2025-01-01", "900", False, None),
                 ("C00001", "2026-12-01", "1", None, None), ("C00002", "2026-02-01", None, None, "金额缺失")],
            )
        db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {USER}")
    db.close()


def results(path) -> tuple[dict, list[dict]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines[0]["meta"], lines[1:]


def masked(url: str) -> str:
    return url.replace(f":{PASSWORD}@", ":***@")


def one_line_failure(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert PASSWORD not in err
    return lines[0]


def test_the_b2b_ruleset_gives_the_same_results_from_postgresql_as_from_the_csv(tmp_path, capsys, postgres):
    url, _ = postgres
    columns, rows = b2b_sample()
    sample = tmp_path / "customers.csv"
    with open(sample, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    from_csv, from_db, rejected = tmp_path / "csv.jsonl", tmp_path / "db.jsonl", tmp_path / "rejected.csv"
    assert run(capsys, "evaluate", "b2b-manufacturing", sample, "-o", from_csv, "--as-of", AS_OF)[0] == 0
    code, _, err = run(capsys, "evaluate", "b2b-manufacturing", url, "--table", "customers", "-o", from_db,
                       "--rejected", rejected, "--as-of", AS_OF)
    assert code == 0, err
    (csv_meta, csv_records), (db_meta, db_records) = results(from_csv), results(from_db)
    assert (db_meta["read"], db_meta["evaluated"], db_meta["rejected"]) == (52, 50, 2)
    assert db_records == csv_records
    assert any("有限公司" in record["features"]["name"] for record in db_records)
    with open(rejected, encoding="utf-8-sig", newline="") as handle:
        rejected_rows = list(csv.DictReader(handle))
    label = f"{masked(url)} (table customers)"
    assert rejected_rows == [
        {"table": "customers", "file": label, "row": "51", "column": "id", "field": "id", "reason": "missing required value"},
        {"table": "customers", "file": label, "row": "52", "column": "annual_procurement", "field": "annual_procurement",
         "reason": "missing required value"},
    ]
    assert PASSWORD not in rejected.read_text(encoding="utf-8-sig") + err


def test_a_query_streams_past_one_batch_and_text_values_are_coerced_or_rejected(tmp_path, capsys, postgres):
    url, _ = postgres
    query = (
        "SELECT 'G' || g AS id, '客户' || g AS name,"
        " CASE WHEN g = 1500 THEN '约三百万' ELSE (g * 1000)::text || ' 元' END AS annual_procurement,"
        " DATE '2026-01-01' + g % 300 AS last_order_date"
        " FROM generate_series(1, 2500) AS g ORDER BY g"
    )
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "evaluate", "b2b-manufacturing", url, "--query", query, "-o", out, "--as-of", AS_OF)
    assert code == 0, err
    meta, records = results(out)
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (2500, 2499, 1)
    by_id = {record["id"]: record for record in records}
    assert by_id["G2500"]["features"]["annual_procurement"] == 2500000.0
    assert by_id["G7"]["features"]["last_order_date"] == "2026-01-08"
    assert f"rejected: {masked(url)} (query SELECT 'G' || g AS id" in err
    assert ":1500: column 'annual_procurement' (field annual_procurement): '约三百万' is not a number" in err


def test_orders_from_postgresql(tmp_path, capsys, postgres):
    url, _ = postgres
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(
        "tierkit: 1\nname: order-tiers\nversion: '1'\nfields: {id: {type: string, required: true}}\n"
        "orders: {columns: {customer_id: [cust_no]}}\n"
        "schemes: [{id: activity, kind: rules, rules: [{id: recent, when: 'recency_days <= 30'}], default: {id: other}}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "evaluate", ruleset, "--orders", url, "--orders-table", "orders", "-o", out, "--as-of", AS_OF)
    assert code == 0, err
    meta, records = results(out)
    assert meta["orders"] == {"file": f"{masked(url)} (table orders)", "read": 4, "used": 2, "after_as_of": 1, "unknown_customer": 0, "rejected": 1,
                             "duplicate_rows": 0, "zero_amount": 0, "negative_amount": 0, "of_rejected_accounts": 0}
    assert {r["id"]: (r["outcomes"]["activity"]["label"], r["features"]["revenue"]) for r in records} == {
        "C00001": ("recent", 100.5), "C00002": ("other", 900.0)}
    assert f"rejected: {masked(url)} (table orders):4: column 'amount' (field amount): missing required value" in err
    code, _, err = run(capsys, "evaluate", "b2b-manufacturing", url, "--table", "customers", "--orders", url,
                       "--orders-query", "SELECT cust_no AS 客户编号, order_date, amount FROM orders WHERE amount IS NOT NULL", "-o", out, "--as-of", AS_OF)
    assert code == 0, err
    assert results(out)[0]["orders"]["read"] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--table", "custmers"], "(table custmers): no table 'custmers' (tables: customers, orders)"),
        (["--query", "SELEC 1"], 'cannot read: syntax error at or near "SELEC"'),
        (["--query", "SELECT nope FROM customers"], 'cannot read: column "nope" does not exist'),
        (["--query", "DELETE FROM customers"], 'cannot read: syntax error at or near "DELETE"'),  # a SELECT only, on a server-side cursor
    ],
)
def test_postgresql_problems_are_one_line_exit_2_naming_the_url(capsys, postgres, args, message):
    url, admin = postgres
    line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", url, *args))
    assert line.startswith(f"tierkit: {masked(url)} (") and message in line
    with admin("crm") as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (52,)


def test_the_connection_is_read_only(tmp_path, capsys, postgres):
    url, _ = postgres
    query = "SELECT current_setting('transaction_read_only') AS id, 'x' AS name, 1 AS annual_procurement"
    out = tmp_path / "out.jsonl"
    assert run(capsys, "evaluate", "b2b-manufacturing", url, "--query", query, "-o", out, "--as-of", AS_OF)[0] == 0
    assert [record["id"] for record in results(out)[1]] == ["on"]


def test_a_wrong_password_or_database_is_one_line_with_the_password_masked(capsys, postgres):
    url, _ = postgres
    wrong = url.replace(PASSWORD, "wrong-" + PASSWORD)
    line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", wrong, "--table", "customers"))
    assert line.startswith(f"tierkit: {url.split(':' + PASSWORD)[0]}:***@") and "cannot connect" in line
    assert 'password authentication failed for user "sales"' in line
    line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", url.replace("/crm", "/nodb"), "--table", "customers"))
    assert "cannot connect" in line and 'database "nodb" does not exist' in line


# -- writing results back ------------------------------------------------------------------


def test_results_are_written_back_one_typed_row_per_customer(tmp_path, capsys, postgres):
    check_round_trip(capsys, tmp_path, postgres[0], "customer_grades")


def test_write_back_replace_upsert_and_append(tmp_path, capsys, postgres):
    check_modes(capsys, tmp_path, postgres[0], "graded_modes")


@pytest.mark.parametrize("mode", ["replace", "upsert", "append"])
def test_a_write_back_failing_midway_leaves_the_table_as_it_was(capsys, registry, postgres, mode):
    check_rollback(capsys, registry, postgres[0], f"graded_rollback_{mode}", mode)


def test_the_password_appears_in_no_message_and_not_in_the_run_store(tmp_path, capsys, postgres):
    url, _ = postgres
    store = tmp_path / "runs.sqlite"
    err = write_back(capsys, url, "graded_secret", url, "--table", "customers", "--save", "--store", store, "--progress")
    assert PASSWORD not in err and masked(url) in err
    assert PASSWORD.encode() not in store.read_bytes()
