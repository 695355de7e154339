"""Order aggregation, checked against an independent plain loop over the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

import pytest

from tierkit.errors import InputError
from tierkit.io.tables import Table, table_from_rows
from tierkit.engine.orders import aggregate_orders, attach_orders, customers_from_orders
from tierkit.plan.order_features import ORDER_FEATURES
from tierkit.io.fieldtypes import FieldSpec

AS_OF = dt.date(2026, 11, 1)


def write_orders(path: Path, seed: int = 7, count: int = 3000) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        day = AS_OF - dt.timedelta(days=rng.randrange(-40, 1100))
        amount = round(rng.lognormvariate(8, 1), 2)
        share = rng.choice([0, 0.5, 1, 1, None])  # None: the paid amount is left empty
        paid = "" if share is None else round(amount * share, 2)
        rows.append({
            "customer_id": f"C{rng.randrange(60):03d}",
            "order_date": day.isoformat(),
            "amount": amount,
            "paid_amount": paid,
            "due_date": (day + dt.timedelta(days=30)).isoformat(),
            # paid in full: sometimes after the as-of date, which the features must not see
            "paid_date": (day + dt.timedelta(days=rng.randrange(5, 90))).isoformat() if paid != "" and paid >= amount else "",
            "margin": round(amount * 0.2, 2),
        })
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def expected_features(rows: list[dict]) -> dict[str, dict]:
    """The definitions in tierkit.engine.orders, computed the slow and obvious way."""
    by_customer: dict[str, list[dict]] = {}
    for row in rows:
        if dt.date.fromisoformat(row["order_date"]) <= AS_OF:
            by_customer.setdefault(row["customer_id"], []).append(row)
    out = {}
    for key, orders in by_customer.items():
        days = [dt.date.fromisoformat(o["order_date"]) for o in orders]
        amounts = [o["amount"] for o in orders]
        last_12m = sum(a for a, d in zip(amounts, days) if (AS_OF - d).days < 365)
        prev_12m = sum(a for a, d in zip(amounts, days) if 365 <= (AS_OF - d).days < 730)
        # as of AS_OF: a payment dated later is not made yet, an empty paid amount is nothing paid
        paid_by_then = [not o["paid_date"] or dt.date.fromisoformat(o["paid_date"]) <= AS_OF for o in orders]
        paid = [o["paid_amount"] if o["paid_amount"] != "" and known else 0 for o, known in zip(orders, paid_by_then)]
        paid_days = [
            (dt.date.fromisoformat(o["paid_date"]) - d).days
            for o, d, known in zip(orders, days, paid_by_then)
            if o["paid_date"] and known
        ]
        overdue = sum(
            o["amount"] - p
            for o, p in zip(orders, paid)
            if dt.date.fromisoformat(o["due_date"]) < AS_OF and p < o["amount"]
        )
        tenure = (AS_OF - min(days)).days
        out[key] = {
            "order_count": len(orders),
            "revenue": sum(amounts),
            "first_order_date": min(days),
            "last_order_date": max(days),
            "recency_days": (AS_OF - max(days)).days,
            "tenure_days": tenure,
            "avg_order_value": sum(amounts) / len(orders),
            "orders_per_year": len(orders) * 365 / max(tenure, 365),
            "revenue_last_12m": last_12m,
            "revenue_prev_12m": prev_12m,
            "revenue_trend": last_12m / prev_12m if prev_12m else None,
            "overdue_amount": overdue,
            "avg_days_to_pay": sum(paid_days) / len(paid_days) if paid_days else None,
            "margin_total": sum(o["margin"] for o in orders),
            "margin_pct": 100 * sum(o["margin"] for o in orders) / sum(amounts),
        }
    return out


def aggregate(path: Path, registry, **kwargs):
    return aggregate_orders(str(path), registry.readers[".csv"].read(path), AS_OF, **kwargs)


def test_every_feature_matches_an_independent_computation(tmp_path, registry):
    rows = write_orders(tmp_path / "orders.csv")
    summary = aggregate(tmp_path / "orders.csv", registry)
    expected = expected_features(rows)
    assert summary.features.keys() == expected.keys()
    for key, want in expected.items():
        got = summary.features[key]
        assert set(got) == set(ORDER_FEATURES)
        for name, value in want.items():
            if isinstance(value, float):
                assert math.isclose(got[name], value, rel_tol=1e-9, abs_tol=1e-6), (key, name)
            else:
                assert got[name] == value, (key, name)


def test_the_random_orders_exercise_empty_and_later_payments(tmp_path):
    rows = write_orders(tmp_path / "orders.csv")
    used = [r for r in rows if dt.date.fromisoformat(r["order_date"]) <= AS_OF]
    assert any(r["paid_amount"] == "" and dt.date.fromisoformat(r["due_date"]) < AS_OF for r in used)
    assert any(r["paid_date"] and dt.date.fromisoformat(r["paid_date"]) > AS_OF for r in used)


def test_orders_after_the_as_of_date_are_counted_not_used(tmp_path, registry):
    rows = write_orders(tmp_path / "orders.csv")
    future = sum(dt.date.fromisoformat(r["order_date"]) > AS_OF for r in rows)
    summary = aggregate(tmp_path / "orders.csv", registry)
    assert future > 0
    assert summary.after_as_of == future
    assert summary.read == len(rows) == summary.used + summary.after_as_of + len(summary.rejected)


def test_bad_order_rows_are_rejected_with_row_and_column(tmp_path, registry):
    path = tmp_path / "orders.csv"
    path.write_text("客户编号,下单日期,金额\nC1,2026-01-05,100\nC1,not a date,5\nC2,2026-02-01,\nC2,2026-02-01,\"1,200\"\n", encoding="utf-8")
    summary = aggregate(path, registry)
    assert [(r.row, r.column, r.field) for r in summary.rejected] == [(3, "下单日期", "order_date"), (4, "金额", "amount")]
    assert summary.features["C1"]["revenue"] == 100 and summary.features["C2"]["revenue"] == 1200
    assert "overdue_amount" not in summary.features["C1"]  # no receivables columns, no receivables features


def test_a_missing_order_column_names_what_was_looked_for(tmp_path, registry):
    path = tmp_path / "orders.csv"
    path.write_text("cust,date,amount\nC1,2026-01-05,100\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"missing order column 'customer_id' \(looked for: customer_id, customer"):
        aggregate(path, registry)
    summary = aggregate(path, registry, extra_aliases={"customer_id": "cust"})
    assert summary.features["C1"]["order_count"] == 1


FIELDS = [FieldSpec("id", "string", required=True), FieldSpec("name", "string"), FieldSpec("order_count", "integer"), FieldSpec("revenue", "number"), FieldSpec("last_order_date", "date")]


def test_attach_fills_features_and_rejects_every_order_of_unknown_customers(tmp_path, registry):
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,order_date,amount\nA,2026-01-05,100\nX,2026-01-06,7\nA,2026-03-01,50\nX,2026-04-01,3\n", encoding="utf-8")
    summary = aggregate(path, registry)
    table = table_from_rows("customers.csv", FIELDS, enumerate([{"id": "A", "name": "a"}, {"id": "B", "name": "b"}], 2))
    attach_orders(table, summary, "id")
    assert table.rows[0][2:] == [2, 150.0, dt.date(2026, 3, 1)]
    assert table.rows[1][2:] == [0, 0.0, None]  # no orders: zero counts, missing dates
    assert [(r.row, r.reason) for r in summary.unknown_customers] == [
        (3, "customer 'X' is not in customers.csv (2 orders)"),
        (5, "customer 'X' is not in customers.csv (2 orders)"),
    ]


def test_customers_can_come_from_the_orders_alone(tmp_path, registry):
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,order_date,amount\nB,2026-01-05,100\nA,2026-01-06,7\n", encoding="utf-8")
    table = customers_from_orders(aggregate(path, registry), FIELDS, "id")
    assert isinstance(table, Table)
    assert [row[0] for row in table.rows] == ["A", "B"]
    assert [row[3] for row in table.rows] == [7.0, 100.0]


def rows_of(*orders: dict, first: int = 2) -> list[tuple[int, dict]]:
    """Order rows as a reader yields them, numbered from the first data row."""
    return list(enumerate(orders, first))


def test_a_declared_default_stays_when_the_feature_is_missing():
    summary = aggregate_orders("orders.jsonl", rows_of(
        {"customer_id": "A", "order_date": "2026-10-01", "amount": 100},
        {"customer_id": "A", "order_date": "2026-10-22", "amount": 50},
    ), AS_OF)
    fields = [
        FieldSpec("id", "string", required=True),
        FieldSpec("order_count", "integer", default=-1),
        FieldSpec("recency_days", "integer", default=9999),
        FieldSpec("revenue_trend", "number", default=1.0),
        FieldSpec("last_order_date", "date"),
    ]
    table = table_from_rows("customers.csv", fields, rows_of({"id": "A"}, {"id": "B"}))
    attach_orders(table, summary, "id")
    # A lacks a previous year (trend missing): the default; B has no orders: counts 0, defaults elsewhere
    assert table.rows == [["A", 2, 10, 1.0, dt.date(2026, 10, 22)], ["B", 0, 9999, 1.0, None]]
    made = customers_from_orders(summary, fields, "id")
    assert made.rows == [["A", 2, 10, 1.0, dt.date(2026, 10, 22)]]


MARGIN_ROWS = (
    {"customer_id": "A", "order_date": "2026-01-05", "amount": 100, "margin": 30},
    {"customer_id": "A", "order_date": "2026-02-05", "amount": 100, "margin": 10},
    {"customer_id": "B", "order_date": "2026-03-05", "amount": 200},  # no margin key in this row
)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (0, 2, 1)])
def test_order_features_do_not_depend_on_the_order_of_rows_with_different_keys(order):
    summary = aggregate_orders("orders.jsonl", rows_of(*(MARGIN_ROWS[i] for i in order)), AS_OF)
    assert set(summary.columns) == {"customer_id", "order_date", "amount", "margin"}
    assert (summary.features["A"]["margin_total"], summary.features["A"]["margin_pct"]) == (40.0, 20.0)
    # B had no margin value at all: missing, not 0
    assert (summary.features["B"]["margin_total"], summary.features["B"]["margin_pct"]) == (None, None)
    assert summary.features["B"]["revenue"] == 200.0


def test_receivables_see_nothing_paid_after_the_as_of_date():
    summary = aggregate_orders("orders.csv", rows_of(
        # past due, paid amount empty: nothing paid, all of it overdue
        {"customer_id": "A", "order_date": "2026-08-01", "amount": "100", "paid_amount": "", "due_date": "2026-09-01", "paid_date": ""},
        # past due, paid in full but after the as-of date: unpaid as of then, and no days to pay
        {"customer_id": "A", "order_date": "2026-08-15", "amount": "200", "paid_amount": "200", "due_date": "2026-09-15", "paid_date": "2026-11-20"},
        # paid on the as-of date: paid, in 10 days
        {"customer_id": "A", "order_date": "2026-10-22", "amount": "50", "paid_amount": "50", "due_date": "2026-10-25", "paid_date": "2026-11-01"},
        # not due yet, nothing paid: not overdue
        {"customer_id": "A", "order_date": "2026-10-25", "amount": "80", "paid_amount": "", "due_date": "2026-11-24", "paid_date": ""},
        # half paid after the as-of date: all 70 overdue
        {"customer_id": "B", "order_date": "2026-07-01", "amount": "70", "paid_amount": "35", "due_date": "2026-08-01", "paid_date": "2026-12-01"},
    ), AS_OF)
    assert summary.features["A"]["overdue_amount"] == 300.0
    assert summary.features["A"]["avg_days_to_pay"] == 10.0
    assert summary.features["B"]["overdue_amount"] == 70.0
    assert summary.features["B"]["avg_days_to_pay"] is None


def test_features_as_of_a_date_are_those_of_the_file_cut_at_that_date():
    """What a backtest relies on: rows and payments after the as-of date change nothing."""
    full = [
        {"customer_id": "A", "order_date": "2026-08-01", "amount": "100", "paid_amount": "100", "due_date": "2026-09-01", "paid_date": "2026-11-05"},
        {"customer_id": "A", "order_date": "2026-12-01", "amount": "60", "paid_amount": "60", "due_date": "2027-01-01", "paid_date": "2026-12-10"},
    ]
    known_then = [{**full[0], "paid_amount": "", "paid_date": ""}]
    as_of_full = aggregate_orders("orders.csv", rows_of(*full), AS_OF).features
    as_of_cut = aggregate_orders("orders.csv", rows_of(*known_then), AS_OF).features
    assert as_of_full == as_of_cut
    assert (as_of_full["A"]["overdue_amount"], as_of_full["A"]["avg_days_to_pay"]) == (100.0, None)


INTEGER_IDS = [FieldSpec("id", "integer", required=True), FieldSpec("order_count", "integer"), FieldSpec("revenue", "number")]
ORDERS_BY_INTEGER_ID = (
    {"customer_id": "12", "order_date": "2026-01-05", "amount": 1},
    {"customer_id": "007", "order_date": "2026-01-06", "amount": 10},
    {"customer_id": "x1", "order_date": "2026-01-07", "amount": 5},
    {"customer_id": "7", "order_date": "2026-01-08", "amount": 20},
    {"customer_id": "x1", "order_date": "2026-01-09", "amount": 6},
)


def test_order_ids_are_read_as_the_id_field_reads_them():
    summary = aggregate_orders("orders.csv", rows_of(*ORDERS_BY_INTEGER_ID), AS_OF)
    table = table_from_rows("customers.csv", INTEGER_IDS, rows_of({"id": "7"}, {"id": "12"}, {"id": "99"}))
    attach_orders(table, summary, "id")
    assert table.rows == [[7, 2, 30.0], [12, 1, 1.0], [99, 0, 0.0]]  # '007' and '7' are customer 7
    assert [(r.row, r.field, r.reason) for r in summary.unknown_customers] == [
        (4, "customer_id", "customer id 'x1' is not a number"),
        (6, "customer_id", "customer id 'x1' is not a number"),
    ]


def test_customers_from_orders_are_numbered_by_their_first_order_row():
    summary = aggregate_orders("orders.csv", rows_of(*ORDERS_BY_INTEGER_ID), AS_OF)
    table = customers_from_orders(summary, INTEGER_IDS, "id")
    assert table.rows == [[7, 2, 30.0], [12, 1, 1.0]]
    assert table.row_numbers == [3, 2]  # 7 first ordered on row 3 (as '007'), 12 on row 2
    assert table.rejected == []
    assert [(r.row, r.reason) for r in summary.unknown_customers] == [
        (4, "customer id 'x1' is not a number"),
        (6, "customer id 'x1' is not a number"),
    ]
