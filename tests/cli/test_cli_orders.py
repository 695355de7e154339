"""``tierkit evaluate … --orders``: features from an order table, end to end."""

from __future__ import annotations

import csv
import json

from tierkit.cli import main

RULESET = """tierkit: 1
name: order-tiers
version: "1"
fields:
  id: {type: string, required: true, aliases: [客户编号]}
  name: {type: string}
orders:
  columns: {customer_id: [cust_no], amount: [net_value]}
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


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def evaluate(tmp_path, capsys, *args):
    out = tmp_path / "out.jsonl"
    code = main(["evaluate", str(write(tmp_path, "r.yaml", RULESET)), *map(str, args), "-o", str(out), "--as-of", "2026-11-01"])
    captured = capsys.readouterr()
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    return code, [json.loads(line) for line in lines], captured.err


def test_order_features_reach_the_schemes_and_unknown_customers_are_rejected(tmp_path, capsys):
    customers = write(tmp_path, "customers.csv", "客户编号,name\nA,Alpha\nB,Beta\nC,Gamma\n")
    orders = write(
        tmp_path,
        "orders.csv",
        "cust_no,order_date,net_value\nA,2026-10-20,100\nB,2025-01-01,900\nZ,2026-01-01,5\nA,2026-12-01,1\nZ,2026-02-01,6\nB,bad date,1\n",
    )
    rejected = tmp_path / "rejected.csv"
    code, records, err = evaluate(tmp_path, capsys, customers, "--orders", orders, "--rejected", rejected)
    assert code == 0
    meta, results = records[0]["meta"], records[1:]
    assert meta["orders"] == {"file": str(orders), "read": 6, "used": 4, "after_as_of": 1, "unknown_customer": 2, "rejected": 1,
                              "duplicate_rows": 0, "zero_amount": 0, "negative_amount": 0, "of_rejected_accounts": 0}
    assert meta["read"] == meta["evaluated"] == 3
    by_id = {r["id"]: r for r in results}
    assert by_id["A"]["outcomes"]["activity"]["label"] == "recent"
    assert by_id["A"]["features"]["revenue"] == 100.0 and by_id["A"]["features"]["recency_days"] == 12
    assert by_id["B"]["outcomes"]["activity"]["label"] == "lapsed"
    assert by_id["C"]["outcomes"]["activity"]["label"] == "never" and by_id["C"]["features"]["order_count"] == 0
    assert [r["id"] for r in results] == ["B", "A", "C"]
    rows = list(csv.DictReader(rejected.open(encoding="utf-8-sig")))
    assert [(r["file"], r["row"], r["field"]) for r in rows] == [
        (str(orders), "4", "customer_id"),
        (str(orders), "6", "customer_id"),
        (str(orders), "7", "order_date"),
    ]
    assert "customer 'Z' is not in" in rows[0]["reason"]
    assert "orders: read 6 · used 4 · after as-of 1 · unknown customer 2 · rejected 1" in err


def test_customers_can_come_from_the_order_file_alone(tmp_path, capsys):
    orders = write(tmp_path, "orders.csv", "cust_no,order_date,net_value\nB,2026-10-30,5\nA,2024-05-01,50\n")
    code, records, err = evaluate(tmp_path, capsys, "--orders", orders)
    assert code == 0
    assert [(r["id"], r["outcomes"]["activity"]["label"]) for r in records[1:]] == [("A", "lapsed"), ("B", "recent")]
    assert "read 2 · evaluated 2 · rejected 0" in err


def test_a_missing_order_column_stops_the_run_with_one_line(tmp_path, capsys):
    orders = write(tmp_path, "orders.csv", "who,order_date,net_value\nB,2026-10-30,5\n")
    code, records, err = evaluate(tmp_path, capsys, "--orders", orders)
    assert code == 2 and records == []
    assert err.strip().startswith(f"tierkit: {orders}: missing order column 'customer_id' (looked for: customer_id")
    assert len(err.strip().splitlines()) == 1


def evaluate_with(tmp_path, capsys, ruleset, *args):
    out = tmp_path / "out.jsonl"
    code = main(["evaluate", str(write(tmp_path, "r.yaml", ruleset)), *map(str, args), "-o", str(out), "--as-of", "2026-11-01"])
    captured = capsys.readouterr()
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    return code, [json.loads(line) for line in lines], captured.err


DEFAULTS_RULESET = """tierkit: 1
name: lapse
version: "1"
fields:
  id: {type: string, required: true}
  recency_days: {type: integer, default: 9999}
  margin_pct: {type: number, default: 0}
orders: {}
schemes:
  - id: activity
    kind: rules
    rules:
      - {id: lapsed, when: "recency_days > 365"}
      - {id: thin, when: "margin_pct < 10"}
    default: {id: fine}
"""


def test_a_declared_default_reaches_customers_without_the_feature(tmp_path, capsys):
    customers = write(tmp_path, "customers.csv", "id\nA\nB\nC\n")
    orders = write(
        tmp_path,
        "orders.jsonl",
        '{"customer_id": "A", "order_date": "2026-10-01", "amount": 100, "margin": 30}\n'
        '{"customer_id": "B", "order_date": "2026-10-02", "amount": 100}\n',
    )
    code, records, err = evaluate_with(tmp_path, capsys, DEFAULTS_RULESET, customers, "--orders", orders)
    assert code == 0, err
    by_id = {r["id"]: r for r in records[1:]}
    assert [(key, r["features"]["recency_days"], r["features"]["margin_pct"], r["outcomes"]["activity"]["label"]) for key, r in sorted(by_id.items())] == [
        ("A", 31, 30.0, "fine"),
        ("B", 30, 0, "thin"),  # no margin value: the declared default
        ("C", 9999, 0, "lapsed"),  # no orders: the declared defaults
    ]
    assert "read 3 · evaluated 3 · rejected 0" in err


INTEGER_ID_RULESET = RULESET.replace("id: {type: string, required: true, aliases: [客户编号]}", "id: {type: integer, required: true}")


def test_integer_customer_ids_from_the_order_file_alone(tmp_path, capsys):
    orders = write(tmp_path, "orders.csv", "cust_no,order_date,net_value\n12,2026-10-30,5\n007,2024-05-01,50\nx1,2026-10-01,9\n7,2026-10-20,1\n")
    rejected = tmp_path / "rejected.csv"
    code, records, err = evaluate_with(tmp_path, capsys, INTEGER_ID_RULESET, "--orders", orders, "--rejected", rejected)
    assert code == 0, err
    assert [(r["id"], r["features"]["order_count"], r["features"]["revenue"], r["outcomes"]["activity"]["label"]) for r in records[1:]] == [
        (7, 2, 51.0, "recent"),
        (12, 1, 5.0, "recent"),
    ]
    rows = list(csv.DictReader(rejected.open(encoding="utf-8-sig")))
    assert [(r["row"], r["field"], r["reason"]) for r in rows] == [("4", "customer_id", "customer id 'x1' is not a number")]
