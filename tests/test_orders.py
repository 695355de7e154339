"""Order aggregation, checked against an independent plain loop over the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

import pytest

from tierkit.errors import InputError
from tierkit.io import Table, table_from_rows
from tierkit.orders import ORDER_FEATURES, aggregate_orders, attach_orders, customers_from_orders
from tierkit.fieldtypes import FieldSpec

AS_OF = dt.date(2026, 11, 1)


def write_orders(path: Path, seed: int = 7, count: int = 3000) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        day = AS_OF - dt.timedelta(days=rng.randrange(-40, 1100))
        amount = round(rng.lognormvariate(8, 1), 2)
        paid = round(amount * rng.choice([0, 0.5, 1, 1]), 2)
        rows.append({
            "customer_id": f"C{rng.randrange(60):03d}",
            "order_date": day.isoformat(),
            "amount": amount,
            "paid_amount": paid,
            "due_date": (day + dt.timedelta(days=30)).isoformat(),
            "paid_date": (day + dt.timedelta(days=rng.randrange(5, 90))).isoformat() if paid >= amount else "",
            "margin": round(amount * 0.2, 2),
        })
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def expected_features(rows: list[dict]) -> dict[str, dict]:
    """The definitions in tierkit.orders, computed the slow and obvious way."""
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
        paid_days = [(dt.date.fromisoformat(o["paid_date"]) - d).days for o, d in zip(orders, days) if o["paid_date"]]
        overdue = sum(
            o["amount"] - o["paid_amount"]
            for o in orders
            if dt.date.fromisoformat(o["due_date"]) < AS_OF and o["paid_amount"] < o["amount"]
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
