"""Customers and orders from a SQLite database: ``--table``, ``--query``, ``--orders-table``."""

from __future__ import annotations

import csv
import json
import socket
import sqlite3

import pytest

from tierkit.cli import main
from tierkit.io.tables import SourceRef, mask_password, read_rows, source_label

from tests.conftest import ROOT, run

pytest.importorskip("sqlalchemy", reason="reading a database needs the db extra (pip install -e '.[db]')")

B2B_CSV = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-11-01"

RULESET = """tierkit: 1
name: db-tiers
version: "1"
fields:
  id: {type: string, required: true, aliases: [客户编号]}
  name: {type: string, required: true, aliases: [客户名称]}
  revenue: {type: number, required: true, aliases: [年收入]}
  employees: {type: integer}
  listed: {type: boolean, default: false}
  since: {type: date}
schemes:
  - id: size
    kind: rules
    rules:
      - {id: big, when: "revenue >= 1000000"}
    default: {id: small}
rank:
  - {by: revenue, order: desc}
"""

ORDERS_RULESET = """tierkit: 1
name: order-tiers
version: "1"
fields:
  id: {type: string, required: true}
orders:
  columns: {customer_id: [cust_no]}
schemes:
  - id: activity
    kind: rules
    rules:
      - {id: recent, when: "recency_days <= 30"}
      - {id: lapsed, when: "order_count > 0"}
    default: {id: never}
rank:
  - {by: revenue, order: desc}
"""


def b2b_rows(count: int = 50) -> tuple[list[str], list[dict[str, str]]]:
    with open(B2B_CSV, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(count), reader)]
    return list(reader.fieldnames), rows


def typed(column: str, text: str):
    """A CSV cell as a database would hold it: NULL, an integer, a real, 0/1, or text."""
    if text == "":
        return None
    if text in ("true", "false"):
        return int(text == "true")
    if column in ("id", "name", "owner", "industry", "region", "nail_reason") or "date" in column:
        return text
    number = float(text)
    return int(number) if number.is_integer() else number


def make_db(path, statements: list[str], rows: dict[str, list[tuple]] | None = None):
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    for table, values in (rows or {}).items():
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values[0]))})", values)
    db.commit()
    db.close()
    return path


def results(path) -> tuple[dict, list[dict]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines[0]["meta"], lines[1:]


def rejected_rows(path) -> list[dict]:
    """The rejected file's rows, without the ``table`` column (checked to be one of the two)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row.pop("table") for row in rows} <= {"customers", "orders"}
    return rows


@pytest.fixture
def customers_db(tmp_path):
    """Typed columns, Chinese headers and text, NULLs; row 3 has text in a numeric column."""
    return make_db(
        tmp_path / "crm.db",
        ['CREATE TABLE customers ("客户编号" TEXT, "客户名称" TEXT, "年收入" NUMERIC, employees INTEGER, listed BOOLEAN, since DATE)'],
        {"customers": [
            ("A1", "青岛金泰电子科技有限公司", 2500000, 120, 1, "2020-03-01"),
            ("A2", "北京宏远置业有限公司", 80000.5, None, 0, None),
            ("A3", "东莞市工业和信息化局", "三百万左右", 40, None, "2021-01-15"),
            ("A4", "马鞍山管委会", 1200000, 445, None, "2019-07-30"),
            (None, "无编号客户", 500, None, None, None),
        ]},
    )


def test_a_sqlite_table_is_evaluated_with_types_nulls_chinese_text_and_bad_rows(tmp_path, capsys, customers_db):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(RULESET, encoding="utf-8")
    out, rejected = tmp_path / "out.jsonl", tmp_path / "rejected.csv"
    code, _, err = run(capsys, "evaluate", ruleset, customers_db, "--table", "customers", "-o", out, "--rejected", rejected, "--as-of", AS_OF)
    assert code == 0, err
    meta, records = results(out)
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (5, 3, 2)
    by_id = {record["id"]: record for record in records}
    assert [record["id"] for record in records] == ["A1", "A4", "A2"]
    assert by_id["A1"]["features"] == {
        "id": "A1", "name": "青岛金泰电子科技有限公司", "revenue": 2500000.0, "employees": 120, "listed": True, "since": "2020-03-01",
    }
    assert by_id["A2"]["features"]["employees"] is None and by_id["A2"]["features"]["since"] is None
    assert by_id["A2"]["features"]["revenue"] == 80000.5 and by_id["A2"]["features"]["listed"] is False
    assert by_id["A4"]["features"]["listed"] is False  # NULL takes the field's default
    assert by_id["A1"]["outcomes"]["size"]["label"] == "big" and by_id["A2"]["outcomes"]["size"]["label"] == "small"
    label = f"{customers_db} (table customers)"
    assert rejected_rows(rejected) == [
        {"file": label, "row": "3", "column": "年收入", "field": "revenue", "reason": "'三百万左右' is not a number"},
        {"file": label, "row": "5", "column": "客户编号", "field": "id", "reason": "missing required value"},
    ]
    assert "read 5 · evaluated 3 · rejected 2" in err


def test_a_query_reads_its_result_set_and_numbers_rows_within_it(tmp_path, capsys, customers_db):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(RULESET, encoding="utf-8")
    query = 'SELECT "客户编号" AS id, "客户名称" AS name, "年收入" AS revenue FROM customers WHERE "客户编号" >= \'A2\' ORDER BY "客户编号"'
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "evaluate", ruleset, f"sqlite:///{customers_db}", "--query", query, "-o", out, "--as-of", AS_OF)
    assert code == 0, err
    meta, records = results(out)
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (3, 2, 1)
    assert sorted(record["id"] for record in records) == ["A2", "A4"]
    # A3 is the query's second row, whatever its place in the table.
    assert f"rejected: sqlite:///{customers_db} (query SELECT " in err
    assert "):2: column 'revenue' (field revenue): '三百万左右' is not a number" in err


def test_the_b2b_ruleset_gives_the_same_results_from_sqlite_as_from_the_csv(tmp_path, capsys):
    columns, rows = b2b_rows()
    sample = tmp_path / "customers.csv"
    with open(sample, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    declared = ", ".join(f"{c} {'INTEGER' if c in ('employees', 'order_count') else 'NUMERIC' if c.startswith(('annual', 'our_', 'revenue')) else ''}" for c in columns)
    db = make_db(tmp_path / "crm.sqlite", [f"CREATE TABLE customers ({declared})"],
                 {"customers": [tuple(typed(c, row[c]) for c in columns) for row in rows]})
    from_csv, from_db = tmp_path / "csv.jsonl", tmp_path / "db.jsonl"
    assert run(capsys, "evaluate", "b2b-manufacturing", sample, "-o", from_csv, "--as-of", AS_OF)[0] == 0
    assert run(capsys, "evaluate", "b2b-manufacturing", db, "--table", "customers", "-o", from_db, "--as-of", AS_OF)[0] == 0
    (csv_meta, csv_records), (db_meta, db_records) = results(from_csv), results(from_db)
    assert db_meta["read"] == db_meta["evaluated"] == 50
    assert db_records == csv_records


def test_orders_from_a_sqlite_table_match_the_same_orders_from_a_csv(tmp_path, capsys):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(ORDERS_RULESET, encoding="utf-8")
    orders = [("A", "2026-10-20", 100), ("B", "2025-01-01", 900.5), ("A", "2026-12-01", 1), ("B", "2026-02-01", None), ("C", "2026-01-01", 5)]
    sample = tmp_path / "orders.csv"
    sample.write_text("cust_no,order_date,amount\n" + "".join(f"{c},{d},{'' if a is None else a}\n" for c, d, a in orders), encoding="utf-8")
    db = make_db(tmp_path / "erp.db", ["CREATE TABLE orders (cust_no TEXT, order_date DATE, amount NUMERIC)"], {"orders": orders})
    from_csv, from_db = tmp_path / "csv.jsonl", tmp_path / "db.jsonl"
    assert run(capsys, "evaluate", ruleset, "--orders", sample, "-o", from_csv, "--as-of", AS_OF)[0] == 0
    rejected = tmp_path / "rejected.csv"
    code, _, err = run(capsys, "evaluate", ruleset, "--orders", f"sqlite:///{db}", "--orders-table", "orders",
                       "-o", from_db, "--rejected", rejected, "--as-of", AS_OF)
    assert code == 0, err
    (_, csv_records), (db_meta, db_records) = results(from_csv), results(from_db)
    assert db_records == csv_records
    assert {r["id"]: r["outcomes"]["activity"]["label"] for r in db_records} == {"A": "recent", "B": "lapsed", "C": "lapsed"}
    label = f"sqlite:///{db} (table orders)"
    assert db_meta["orders"] == {"file": label, "read": 5, "used": 3, "after_as_of": 1, "unknown_customer": 0, "rejected": 1,
                                 "duplicate_rows": 0, "zero_amount": 0, "negative_amount": 0, "of_rejected_accounts": 0}
    assert rejected_rows(rejected) == [{"file": label, "row": "4", "column": "amount", "field": "amount", "reason": "missing required value"}]
    code, _, err = run(capsys, "evaluate", ruleset, "--orders", db, "--orders-query", "SELECT cust_no, order_date, amount FROM orders WHERE amount > 50",
                       "-o", from_db, "--as-of", AS_OF)
    assert code == 0, err
    assert db_records != results(from_db)[1] and results(from_db)[0]["orders"]["read"] == 2


def one_line_failure(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--table", "custmers"], "(table custmers): no table 'custmers' (tables: customers)"),
        (["--query", "SELEC id FROM customers"], '(query SELEC id FROM customers): cannot read: near "SELEC": syntax error'),
        (["--query", "SELECT nope FROM customers"], "cannot read: no such column: nope"),
        (["--query", "DELETE FROM customers"], "cannot read: attempt to write a readonly database"),
        (["--query", "SELECT 客户编号, 客户编号 FROM customers"], "the query returns column '客户编号' twice"),
        ([], "is a database: name a table (--table) or a query (--query)"),
        (["--table", "customers", "--query", "SELECT 1"], "give --table or --query, not both"),
    ],
)
def test_database_problems_are_one_line_exit_2_naming_the_database(tmp_path, capsys, customers_db, args, message):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(RULESET, encoding="utf-8")
    line = one_line_failure(*run(capsys, "evaluate", ruleset, f"sqlite:///{customers_db}", *args))
    assert message in line
    assert f"sqlite:///{customers_db}" in line or "--table or --query" in line
    with sqlite3.connect(customers_db) as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (5,)  # nothing was changed


def test_a_missing_database_file_is_not_created(tmp_path, capsys):
    for location in (tmp_path / "missing.db", f"sqlite:///{tmp_path / 'missing.sqlite'}"):
        line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", location, "--table", "customers"))
        assert line == f"tierkit: {location} (table customers): file not found"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--table", "customers"], "--table needs INPUT"),
        (["--orders-query", "SELECT 1"], "--orders-query needs --orders"),
        (["x.csv", "--table", "customers"], "x.csv (table customers): no database source for .csv (known: .db, "),
        (["mysql://u:pw@localhost/crm", "--table", "t"], "mysql://u:***@localhost/crm (table t): no database source for mysql://"),
    ],
)
def test_table_and_query_options_need_a_database(capsys, args, message):
    assert message in one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", *args))


def test_a_connection_failure_is_one_line_with_the_password_masked(capsys):
    pytest.importorskip("psycopg", reason="PostgreSQL needs the db extra")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://sales:Top-Secret-9@127.0.0.1:{port}/crm"
    line = one_line_failure(*run(capsys, "evaluate", "b2b-manufacturing", url, "--table", "customers"))
    assert line.startswith(f"tierkit: postgresql://sales:***@127.0.0.1:{port}/crm (table customers): cannot connect: ")
    assert "Top-Secret-9" not in line


def test_passwords_are_masked_and_queries_shortened_in_labels():
    assert mask_password("postgresql://u:p@ss/w?rd@db.example:5432/crm") == "postgresql://u:***@db.example:5432/crm"
    assert mask_password("postgresql://u@db/crm?password=x&sslmode=require") == "postgresql://u@db/crm?password=***&sslmode=require"
    assert mask_password("crm.db") == "crm.db"
    long_query = "SELECT *\n  FROM customers\n WHERE " + " AND ".join(f"c{i} > 0" for i in range(30))
    label = source_label("sqlite:///crm.db", None, long_query)
    assert label.startswith("sqlite:///crm.db (query SELECT * FROM customers WHERE c0 > 0") and label.endswith("…)")
    assert "\n" not in label and len(label) < 120
    assert str(SourceRef("postgresql://u:pw@h/crm", table="customers")) == "postgresql://u:***@h/crm (table customers)"


def test_read_rows_streams_typed_values(registry, customers_db):
    rows = read_rows(SourceRef(str(customers_db), query='SELECT "客户编号", "年收入", listed FROM customers'), registry)
    first = next(rows)
    assert first == (1, {"客户编号": "A1", "年收入": 2500000, "listed": 1})
    assert [number for number, _ in rows] == [2, 3, 4, 5]


def test_briefs_read_customers_from_a_database_too(tmp_path, capsys):
    """brief, report and calllist take the same inputs as evaluate, databases included."""
    import sqlite3

    db = tmp_path / "crm.db"
    with sqlite3.connect(db) as connection:
        connection.execute("create table customers (id text, name text, annual_procurement real, owner text)")
        connection.execute("insert into customers values ('Q1', '测试客户', 2.0e9, '张伟')")
    out = tmp_path / "brief.html"
    code = main(["brief", "b2b-manufacturing", str(db), "--table", "customers", "--customer", "Q1",
                 "--as-of", "2026-11-01", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "测试客户" in out.read_text(encoding="utf-8")
