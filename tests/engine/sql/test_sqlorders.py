"""Order aggregation on DuckDB and Spark gives what :mod:`tierkit.engine.orders` gives: every
feature of every customer, the rejected order rows with their reasons, the orders of
unknown customers and the counts, on the bundled rulesets' sample order files and on
files made to hit every branch (written numbers and dates, bad cells, orders and
payments after the as-of date, ids read as integers, typed Parquet columns)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from tierkit.engine.evaluation import load_plan
from tierkit.errors import InputError
from tierkit.io.fieldtypes import FieldSpec
from tierkit.io.tables import read_rows, read_table, table_from_rows
from tierkit.engine.orders import aggregate_orders, attach_orders, customers_from_orders, features_by_id
from tierkit.plan.order_features import ORDER_FEATURES, order_fields
from tierkit.engine.sql.orders import attached_feature, order_aggregation, unknown_customers, unknown_keys

from tests.conftest import ROOT
from tests.engine_harness import engine_params, shared_engine

AS_OF = dt.date(2026, 11, 1)
EARLIER = dt.date(2025, 6, 30)  # invoices before it paid after it: receivables as of then
EXAMPLES = ROOT / "examples"
BUNDLED = {  # ruleset -> (order file, customer file or None: customers made from the orders)
    "retail-membership": (EXAMPLES / "retail-membership" / "orders.csv", None),
    "fmcg-distribution": (EXAMPLES / "fmcg-distribution" / "orders.csv", EXAMPLES / "fmcg-distribution" / "distributors.csv"),
    "saas-enterprise": (EXAMPLES / "saas-enterprise" / "invoices.csv", EXAMPLES / "saas-enterprise" / "accounts.csv"),
}


@pytest.fixture(scope="module", params=engine_params())
def engine(request):
    return shared_engine(request.param)


# ---------------------------------------------------------------------------- running


def run_parts(engine, parts: dict[str, str]) -> dict[str, list[dict]]:
    """Each query's rows as dicts.  Spark runs them all as one query (its planning is
    what costs), each row as JSON."""
    if engine.dialect.name == "duckdb":
        out = {}
        for name, sql in parts.items():
            cursor = engine.connection.execute(sql)
            columns = [column[0] for column in cursor.description]
            out[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]
        return out
    union = " UNION ALL ".join(
        f"SELECT '{name}' AS part, to_json(struct(*)) AS data FROM ({sql}) AS _p{index}"
        for index, (name, sql) in enumerate(parts.items())
    )
    out = {name: [] for name in parts}
    for part, data in engine.rows(union):
        out[part].append(json.loads(data))
    return out


def typed_value(name: str, value, id_type: str = "string"):
    """A value from a Spark JSON row as the Python type its column has."""
    if value is None:
        return None
    kind = id_type if name == "customer_id" else ORDER_FEATURES.get(name)
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if kind == "number":
        return float(value)
    return value


def feature_rows(rows: list[dict], id_type: str = "string") -> dict:
    out = {}
    for row in rows:
        row = {name: typed_value(name, row.get(name), id_type) for name in ("customer_id", *ORDER_FEATURES, "_first_row")}
        assert row["customer_id"] not in out, row["customer_id"]
        out[row["customer_id"]] = row
    return out


def same(got, want) -> bool:
    """Equal, to the last bit: money is summed exactly on every engine, and every other
    number is computed by the same operations in the same order."""
    return got == want and type(got) is type(want) or (got == want and {type(got), type(want)} <= {int, float})


def feature_differences(got: dict, expected: dict) -> list[str]:
    """Every feature of every customer: Python's value (a feature Python leaves out is NULL)."""
    problems = []
    if set(got) != set(expected):
        problems.append(f"customers: SQL only {sorted(set(got) - set(expected))[:5]}, Python only {sorted(set(expected) - set(got))[:5]}")
    for key in set(got) & set(expected):
        for name in ORDER_FEATURES:
            want, have = expected[key].get(name), got[key][name]
            if not same(have, want):
                problems.append(f"{key!r} {name}: Python {want!r}, SQL {have!r}")
    return problems


def rejected_rows(rows: list[dict]) -> list[tuple]:
    return sorted((row["_row"], row.get("reject_column"), row.get("reject_field"), row["reject_reason"]) for row in rows)


def python_rejected(rejected) -> list[tuple]:
    return [(r.row, r.column, r.field, r.reason) for r in rejected]


def register_csv(engine, name: str, path: Path) -> dict[str, str]:
    """The file as the engines read CSV (all text, ``_row`` the row a user sees)."""
    if engine.dialect.name == "duckdb":
        return engine.register_file(name, str(path), "csv")
    # Spark is given DuckDB's reading, so that the tests are about aggregating, not CSV dialects
    duck = shared_engine("duckdb")
    types = duck.register_file(f"{name}_read", str(path), "csv")
    rows = duck.rows(f"SELECT * FROM {name}_read ORDER BY _row")
    engine.register_rows(name, {"_row": "integer", **dict.fromkeys(types, "string")}, rows)
    return types


def check(engine, orders_sql, summary, parts: dict[str, str] | None = None, id_type: str = "string", per_key: str | None = None) -> dict:
    """Features per key, the counts and the rejected rows against ``summary``."""
    engine.register_udfs(orders_sql.udfs)
    got = run_parts(engine, {
        "features": orders_sql.features_from(per_key), "summary": orders_sql.summary_from(per_key),
        "rejected": orders_sql.rejected, **(parts or {}),
    })
    assert feature_differences(feature_rows(got["features"], id_type), summary.features) == []
    (counts,) = got["summary"]
    assert (counts["read"], counts["used"], counts["after_as_of"], counts["rejected"]) == (
        summary.read, summary.used, summary.after_as_of, len(summary.rejected))
    assert rejected_rows(got["rejected"]) == python_rejected(summary.rejected)
    return got


# ---------------------------------------------------------------------------- bundled rulesets


BUNDLED_RUNS = [(name, AS_OF) for name in sorted(BUNDLED)] + [("saas-enterprise", EARLIER)]


@pytest.mark.parametrize("name, as_of", BUNDLED_RUNS, ids=[f"{name}-{as_of}" for name, as_of in BUNDLED_RUNS])
def test_bundled_order_files(name, as_of, engine, registry):
    orders, customers = BUNDLED[name]
    plan = load_plan(name, registry).plan
    id_spec = plan.fields[plan.id_index]
    columns = (plan.ruleset.data.get("orders") or {}).get("columns")
    summary = aggregate_orders(str(orders), read_rows(orders, registry), as_of, columns)
    relation = f"orders_{name.replace('-', '_')}_{as_of:%Y%m%d}"
    types = register_csv(engine, relation, orders)
    by_key = order_aggregation(engine.dialect, relation, types, columns, as_of, str(orders))
    by_id = order_aggregation(engine.dialect, relation, types, columns, as_of, str(orders), id_spec)
    assert by_key.columns == summary.columns
    # the one pass, kept (it does not depend on the id field): everything but the row listings reads it
    per_key = f"{relation}_per_key"
    engine.register_udfs({**by_key.udfs, **by_id.udfs})
    engine.materialize(per_key, by_key.per_key)

    if customers is None:
        table = customers_from_orders(summary, plan.fields, plan.ruleset.id_field)
        customer_relation = None
    else:
        table = read_table(customers, plan.fields, registry)
        attach_orders(table, summary, plan.ruleset.id_field)
        customer_relation = f"customers_{name.replace('-', '_')}_{as_of:%Y%m%d}"
        engine.register_rows(customer_relation, {"_row": "integer", "id": id_spec.type},
                             [(number, row[plan.id_index]) for number, row in zip(table.row_numbers, table.rows)])
    # every order feature the plan has (declared or added by order_fields), as attach_orders fills it
    order_features = [(index, spec) for index, spec in enumerate(plan.fields) if spec.name in ORDER_FEATURES]
    assert {spec.name for _i, spec in order_features} == set(ORDER_FEATURES)
    d = engine.dialect
    attached = ", ".join(
        f"{attached_feature(d, spec.name, f'_f.{d.quote(spec.name)}', d.literal(spec.default))} AS {d.quote(spec.name)}"
        for _index, spec in order_features
    )
    features = by_id.features_from(per_key)
    customers_sql = customer_relation or f"(SELECT _first_row AS _row, customer_id AS id FROM ({features}) AS _a)"
    customers_file = str(customers) if customers else None
    parts = {
        "by_id": features,
        "unknown": unknown_customers(by_id, customer_relation, "id", customers_file, per_key),
        "unknown_keys": unknown_keys(by_id, customer_relation, "id", customers_file, per_key),
        "attached": f"SELECT _c._row AS _row, {attached} FROM {customers_sql} AS _c "
                    f"LEFT JOIN ({features}) AS _f ON _c.id = _f.customer_id",
    }
    got = check(engine, by_key, summary, parts, per_key=per_key)
    assert feature_differences(feature_rows(got["by_id"], id_spec.type), features_by_id(summary, id_spec)) == []
    assert rejected_rows(got["unknown"]) == python_rejected(summary.unknown_customers)
    assert sum(row["orders"] for row in got["unknown_keys"]) == len(summary.unknown_customers)
    # the customers' rows: every order feature as the Python engine fills it, defaults included
    expected = {number: {spec.name: row[index] for index, spec in order_features} for number, row in zip(table.row_numbers, table.rows)}
    have = {row["_row"]: {spec.name: typed_value(spec.name, row.get(spec.name)) for _i, spec in order_features} for row in got["attached"]}
    assert feature_differences(have, expected) == []
    if customers is None:  # customers from the orders: numbered by their first order row
        first_rows = sorted((typed_value("customer_id", row["customer_id"], id_spec.type), row["_first_row"]) for row in got["by_id"])
        assert first_rows == [(row[plan.id_index], number) for number, row in zip(table.row_numbers, table.rows)]


def test_the_bundled_files_exercise_later_orders_and_payments(registry):
    orders = BUNDLED["saas-enterprise"][0]
    rows = list(csv.DictReader(orders.open(encoding="utf-8-sig")))
    assert any(r["invoice_date"] > str(AS_OF) for r in rows)  # orders after the as-of date
    paid_later = [r for r in rows if r["paid_date"] and r["invoice_date"] <= str(EARLIER) < r["paid_date"]]
    assert any(r["due_date"] < str(EARLIER) for r in paid_later)  # overdue then, paid since
    summary = aggregate_orders(str(orders), read_rows(orders, registry), EARLIER, {"order_date": ["invoice_date"]})
    assert summary.after_as_of > 0 and summary.columns == ("customer_id", "order_date", "amount", "paid_amount", "due_date", "paid_date")


# ---------------------------------------------------------------------------- focused cases

HEADER = ["customer_id", "order_date", "amount", "margin", "paid_amount", "due_date", "paid_date"]
FOCUSED = [
    # one order only
    ["ONE", "2026-10-01", "100", "", "", "", ""],
    # after the as-of date: counted, not used; its bad payment date is still a rejection
    ["LATE", "2026-10-01", "10", "", "", "", ""],
    ["LATE", "2026-12-01", "99", "", "", "", ""],
    ["LATE", "2027-01-01", "5", "", "", "", "not a date"],
    # receivables as of the as-of date
    ["R", "2026-08-01", "100", "10", "", "2026-09-01", ""],                 # nothing paid, overdue
    ["R", "2026-08-15", "200", "20", "200", "2026-09-15", "2026-11-20"],    # paid after the as-of date: unpaid then
    ["R", "2026-10-22", "50", "", "50", "2026-10-25", "2026-11-01"],        # paid on the as-of date, in 10 days
    ["R", "2026-10-25", "80", "", "", "2026-11-24", ""],                    # not due yet
    ["R2", "2026-07-01", "70", "", "35", "2026-08-01", "2026-12-01"],       # half paid, after the as-of date
    ["R2", "2025-07-01", "30", "", "30", "2025-08-01", "2025-07-20"],       # paid in 19 days, previous year
    # revenue that cancels: no margin %, average order value 0
    ["ZERO", "2026-01-01", "100", "5", "", "", ""],
    ["ZERO", "2026-02-01", "-100", "", "", "", ""],
    # written numbers read as the coercer reads them
    ["W", "2026-03-01", "１，２３４", "", "", "", ""],
    ["W", "2026-03-02", "3.5亿", "", "", "", ""],
    ["W", "2026-03-03", "¥1,200", "1.2万元", "", "", ""],
    ["W", "2026-03-04", "15%", "", "", "", ""],
    ["W", "2026-03-05", "1_000", "RMB 300", "", "", ""],
    ["W", "2026-03-06", " 12 ", "$ 5", "", "", ""],
    ["W", "2026-03-07", "-５", "USD1,234.50", "", "", ""],
    ["W", "2026-03-08", "1 000", "−3", "", "", ""],
    ["W", "2026-03-09", "+.5e1", "１．５", "", "", ""],
    ["W", "2026-03-10", "1.5千万", "2e3万", "", "", ""],
    ["W", "2026-03-11", "٣٤", "⑫", "", "", ""],
    ["W", "2026-03-12", "0.1", "n/a", "", "", ""],
    # written dates
    ["D", "2024/1/5", "1", "", "", "", ""],
    ["D", "2024年1月5日", "2", "", "", "", ""],
    ["D", "2024 年 2 月 6 号", "3", "", "", "", ""],
    ["D", "20240107", "4", "", "", "", ""],
    ["D", "2024-01-08T10:00:00Z", "5", "", "", "", ""],
    ["D", "2024.1.9 10:30", "6", "", "", "", ""],
    ["D", "2020-W53-7", "7", "", "", "", ""],
    ["D", "２０２４－０１－１０", "8", "", "", "", ""],
    ["D", "2024年㋀㏠", "9", "", "", "", ""],
    ["D", " 2024-01-11 ", "10", "", "", "", ""],
    # bad cells: the first in column order is the reason
    ["B", "2026-01-01", "abc", "", "", "", ""],
    ["B", "2026-01-01", "1,5", "", "", "", ""],
    ["B", "2026-01-01", "inf", "", "", "", ""],
    ["B", "2026-01-01", "NaN", "", "", "", ""],
    ["B", "2026-01-01", "1e400", "", "", "", ""],
    ["B", "2026-01-01", "9e307亿", "", "", "", ""],
    ["B", "2026-01-01", "", "", "", "", ""],
    ["B", "2026-01-01", "  ", "", "", "", ""],
    ["B", "2026-01-01", "N/A", "", "", "", ""],
    ["B", "2026-01-01", "5", "abc", "", "", ""],
    ["B", "05/03/2024", "5", "", "", "", ""],
    ["B", "2024-02-30", "5", "", "", "", ""],
    ["B", "0000-01-01", "5", "", "", "", ""],
    ["B", "2024-13-01", "5", "", "", "", ""],
    ["B", "2024-W53-1", "5", "", "", "", ""],
    ["B", "nonsense", "5", "", "", "", ""],
    ["B", "—", "5", "", "", "", ""],
    ["B", "bad date", "bad amount", "", "", "", ""],
    ["B", "2026-01-01", "it's 5", "", "", "", ""],
    ["B", "2026-01-01", 'say "5"', "", "", "", ""],
    ["B", "2026-01-01", "it's \"5\"", "", "", "", ""],
    ["B", "2026-01-01", "tab\there\\", "", "", "", ""],
    ["B", "2026-01-01", "nbsp\u00a0zwsp\u200bend\u0085", "", "", "", ""],
    ["B", "2026-01-01", "x" * 70, "", "", "", ""],
    ["B", "2026-01-01", "金额" * 40, "", "", "", ""],
    ["B", "2026-01-01", "5", "", "5", "2026-01-01", "2026-02-30"],
    # customer ids: stripped; empty is missing
    ["  SP  ", "2026-01-01", "1", "", "", "", ""],
    ["SP", "2026-01-02", "2", "", "", "", ""],
    ["", "2026-01-01", "1", "", "", "", ""],
    ["N/A", "2026-01-01", "1", "", "", "", ""],
    # the previous 12 months only: a trend needs both years
    ["T", "2025-06-01", "40", "", "", "", ""],
    ["T", "2026-06-01", "60", "", "", "", ""],
    ["T", "2024-11-01", "7", "", "", "", ""],  # 730 days before: in neither window
    ["T", "2025-11-01", "8", "", "", "", ""],  # 365 days before: the previous window
    # money summed exactly: 0.1 + 0.2 is 0.3, whatever order the engine adds in
    ["TIE1", "2026-05-01", "0.1", "0.1", "0.1", "2026-06-01", ""],
    ["TIE1", "2026-05-02", "0.2", "0.2", "", "2026-06-01", ""],
    ["TIE2", "2026-05-01", "0.3", "0.3", "", "2026-06-01", ""],
    ["TIE2", "2026-05-03", "1e-7", "", "", "", ""],  # below a millionth: counts, adds nothing
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def focused(tmp_path_factory, registry):
    path = write_csv(tmp_path_factory.mktemp("orders") / "orders.csv", HEADER, FOCUSED)
    return path, aggregate_orders(str(path), read_rows(path, registry), AS_OF)


def test_focused_cases_exercise_what_they_say(focused):
    _path, summary = focused
    features = summary.features
    assert features["ONE"]["order_count"] == 1 and features["ONE"]["revenue_trend"] is None
    assert summary.after_as_of == 1 and features["LATE"]["order_count"] == 1
    assert any(r.row == 5 and r.field == "paid_date" for r in summary.rejected)  # after the as-of date, and rejected
    assert (features["R"]["overdue_amount"], features["R"]["avg_days_to_pay"]) == (300.0, 10.0)
    assert (features["R2"]["overdue_amount"], features["R2"]["avg_days_to_pay"]) == (70.0, 19.0)
    assert features["ZERO"]["revenue"] == 0.0 and features["ZERO"]["margin_pct"] is None
    assert features["W"]["order_count"] == 12 and features["D"]["order_count"] == 10
    assert features["SP"]["order_count"] == 2 and "N/A" in features
    assert features["T"]["revenue_prev_12m"] == 48.0 and features["T"]["revenue_trend"] == 60 / 48
    for name in ("revenue", "revenue_last_12m", "margin_total"):
        assert features["TIE1"][name] == features["TIE2"][name] == 0.3, name
    assert (features["TIE1"]["overdue_amount"], features["TIE2"]["overdue_amount"]) == (0.2, 0.3)
    assert features["TIE1"]["margin_pct"] == features["TIE2"]["margin_pct"] == 100.0
    reasons = {r.reason for r in summary.rejected}
    for text in ("'abc' is not a number", "'inf' is not a finite number", "'1,5' is not a number", "missing required value",
                 "is ambiguous", "day is out of range for month", "year 0 is out of range", "month must be in 1..12",
                 "\"it's 5\" is not a number", "'tab\\there\\\\' is not a number", "\\xa0", "\\u200b", "...",
                 "'2024-W53-1' is not a date"):
        assert any(text in reason for reason in reasons), text


def test_focused_cases(focused, engine):
    path, summary = focused
    types = register_csv(engine, "focused", path)
    check(engine, order_aggregation(engine.dialect, "focused", types, None, AS_OF, str(path)), summary)


def test_one_pass_kept_and_read_again(focused, engine, registry):
    """``per_key`` materialized once: features, counts and unknown customers from it."""
    path, _summary = focused
    summary = aggregate_orders(str(path), read_rows(path, registry), AS_OF)
    table = table_from_rows("customers.csv", [FieldSpec("id", "string", required=True), *order_fields(())],
                            enumerate(({"id": key} for key in ("R", "W", "D", "nobody")), 2))
    attach_orders(table, summary, "id")
    sql = order_aggregation(engine.dialect, "focused_again", register_csv(engine, "focused_again", path), None, AS_OF,
                            str(path), FieldSpec("id", "string"))
    engine.register_udfs(sql.udfs)
    engine.materialize("focused_per_key", sql.per_key)
    engine.register_rows("focused_customers", {"id": "string"}, [(row[0],) for row in table.rows])
    got = run_parts(engine, {
        "features": sql.features_from("focused_per_key"),
        "summary": sql.summary_from("focused_per_key"),
        "unknown_keys": unknown_keys(sql, "focused_customers", "id", "customers.csv", "focused_per_key"),
        "unknown": unknown_customers(sql, "focused_customers", "id", "customers.csv", "focused_per_key"),
    })
    assert feature_differences(feature_rows(got["features"]), summary.features) == []
    (counts,) = got["summary"]
    assert (counts["read"], counts["used"], counts["after_as_of"], counts["rejected"]) == (
        summary.read, summary.used, summary.after_as_of, len(summary.rejected))
    assert rejected_rows(got["unknown"]) == python_rejected(summary.unknown_customers)
    assert sum(row["orders"] for row in got["unknown_keys"]) == len(summary.unknown_customers) > 0


def test_missing_customer_id_column_is_the_python_error(engine):
    with pytest.raises(InputError, match=r"missing order column 'customer_id' \(looked for: customer_id, customer"):
        order_aggregation(engine.dialect, "x", {"cust": "text", "date": "text", "amount": "text"}, None, AS_OF, "o.csv")
    sql = order_aggregation(engine.dialect, "x", {"cust": "text", "date": "text", "amount": "text"}, {"customer_id": "cust"}, AS_OF, "o.csv")
    assert sql.headers == {"customer_id": "cust", "order_date": "date", "amount": "amount"}


def test_features_without_their_columns_are_null(tmp_path, registry, engine):
    path = write_csv(tmp_path / "o.csv", ["客户编号", "下单日期", "金额"], [["C1", "2026-01-05", "100"], ["C1", "2026-02-05", "1"]])
    summary = aggregate_orders(str(path), read_rows(path, registry), AS_OF)
    sql = order_aggregation(engine.dialect, "no_receivables", register_csv(engine, "no_receivables", path), None, AS_OF, str(path))
    (row,) = check(engine, sql, summary)["features"]
    assert [row.get(name) for name in ("overdue_amount", "avg_days_to_pay", "margin_total", "margin_pct")] == [None] * 4
    assert [spec.name for spec in order_fields(())] == list(ORDER_FEATURES)


# ---------------------------------------------------------------------------- ids read by the id field

ID_ORDERS = [
    ["12", "2026-01-05", "1"], ["007", "2026-01-06", "10"], ["x1", "2026-01-07", "5"], ["7", "2026-01-08", "20"],
    ["x1", "2026-01-09", "6"], ["N/A", "2026-01-10", "3"], ["1.5", "2026-01-11", "4"], ["1e3", "2026-01-12", "8"],
    ["１２", "2026-01-13", "2"], ["+7.0", "2026-01-14", "1"], ["1,000", "2026-01-15", "9"], ["99", "2026-12-01", "1"],
    ["5.00001", "2026-01-16", "1"], ["ab'c", "2026-01-17", "1"],
]


@pytest.mark.parametrize("id_type", ["integer", "number", "string"])
def test_order_ids_read_as_the_id_field_reads_them(id_type, tmp_path, registry, engine):
    path = write_csv(tmp_path / "orders.csv", ["customer_id", "order_date", "amount"], ID_ORDERS)
    summary = aggregate_orders(str(path), read_rows(path, registry), AS_OF)
    id_spec = FieldSpec("id", id_type, required=True)
    fields = [id_spec, *order_fields(())]
    customer_ids = {"integer": [7, 12, 99, 4], "number": [7.0, 12.0, 99.0], "string": ["7", "x1", "zz"]}[id_type]
    table = table_from_rows("customers.csv", fields, enumerate(({"id": str(v)} for v in customer_ids), 2))
    attach_orders(table, summary, "id")
    alone = aggregate_orders(str(path), read_rows(path, registry), AS_OF)
    made = customers_from_orders(alone, fields, "id")

    relation = f"ids_{id_type}"
    types = register_csv(engine, relation, path)
    sql = order_aggregation(engine.dialect, relation, types, None, AS_OF, str(path), id_spec)
    engine.register_rows(f"{relation}_customers", {"id": id_type}, [(row[0],) for row in table.rows])
    engine.register_udfs(sql.udfs)
    got = run_parts(engine, {
        "by_id": sql.features,
        "unknown": unknown_customers(sql, f"{relation}_customers", "id", "customers.csv"),
        "bad_ids": unknown_customers(sql, None, "id", None),
    })
    assert feature_differences(feature_rows(got["by_id"], id_type), features_by_id(summary, id_spec)) == []
    assert rejected_rows(got["unknown"]) == python_rejected(summary.unknown_customers)
    assert rejected_rows(got["bad_ids"]) == python_rejected(alone.unknown_customers)
    first_rows = sorted((typed_value("customer_id", row["customer_id"], id_type), row["_first_row"]) for row in got["by_id"])
    assert first_rows == sorted(zip((row[0] for row in made.rows), made.row_numbers))


# ---------------------------------------------------------------------------- typed (Parquet) columns


PARQUET = {
    # DuckDB SQL making each file; every column type the coercers meet in a typed file
    "strings_and_doubles": """
        SELECT * FROM (VALUES
            (' A ', DATE '2026-01-01', 10.5::DOUBLE, 1::BIGINT, 10.5::DOUBLE, DATE '2026-02-01', DATE '2026-01-20'),
            ('A', DATE '2026-03-01', 'NaN'::DOUBLE, NULL, NULL, NULL, NULL),
            ('A', DATE '2026-04-01', 'Infinity'::DOUBLE, NULL, NULL, NULL, NULL),
            ('B', DATE '2026-05-01', '-Infinity'::DOUBLE, NULL, NULL, NULL, NULL),
            (NULL, DATE '2026-05-01', 1.0::DOUBLE, NULL, NULL, NULL, NULL),
            ('   ', DATE '2026-05-01', 1.0::DOUBLE, NULL, NULL, NULL, NULL),
            ('B', NULL, 1.0::DOUBLE, NULL, NULL, NULL, NULL),
            ('B', DATE '2027-05-01', 1.0::DOUBLE, NULL, NULL, NULL, NULL),
            ('B', DATE '2026-06-01', 3.25::DOUBLE, 2::BIGINT, 0.0::DOUBLE, DATE '2026-07-01', DATE '2026-12-01')
        ) AS t(customer_id, order_date, amount, margin, paid_amount, due_date, paid_date)""",
    "numbers_as_ids_and_dates": """
        SELECT * FROM (VALUES
            (12.0::DOUBLE, 20260105::BIGINT, 1.25::DECIMAL(10, 2), NULL::BOOLEAN),
            (12.5::DOUBLE, 20260106::BIGINT, 2.50::DECIMAL(10, 2), NULL::BOOLEAN),
            (1e20::DOUBLE, 20260109::BIGINT, 1.00::DECIMAL(10, 2), NULL::BOOLEAN),
            (-0.0::DOUBLE, 20260110::BIGINT, 1.00::DECIMAL(10, 2), NULL::BOOLEAN),
            (1.5e-7::DOUBLE, 20260111::BIGINT, 1.00::DECIMAL(10, 2), NULL::BOOLEAN),
            (3.0::DOUBLE, 2026::BIGINT, 1.00::DECIMAL(10, 2), NULL::BOOLEAN),
            (4.0::DOUBLE, 20260230::BIGINT, 1.00::DECIMAL(10, 2), NULL::BOOLEAN),
            (12.0::DOUBLE, 20260107::BIGINT, 1.00::DECIMAL(10, 2), TRUE),
            (0.1::DOUBLE, 20260108::BIGINT, 3.00::DECIMAL(10, 2), NULL::BOOLEAN)
        ) AS t(customer_id, order_date, amount, margin)""",
    "dates_as_numbers": """
        SELECT * FROM (VALUES
            (7::BIGINT, DATE '2026-01-01', 100::INTEGER, NULL::DOUBLE, NULL::BOOLEAN, NULL::DATE),
            (7::BIGINT, DATE '2026-01-03', 50::INTEGER, 1.5::DOUBLE, NULL::BOOLEAN, NULL::DATE),
            (8::BIGINT, DATE '2026-01-03', 20::INTEGER, NULL::DOUBLE, TRUE, NULL::DATE),
            (8::BIGINT, DATE '2026-01-04', 30::INTEGER, NULL::DOUBLE, NULL::BOOLEAN, DATE '2026-01-02'),
            (9::BIGINT, DATE '2026-01-05', 5::INTEGER, 20260101.0::DOUBLE, FALSE, NULL::DATE)
        ) AS t(customer_id, order_date, amount, due_date, paid_amount, margin)""",
}


@pytest.mark.parametrize("name", sorted(PARQUET))
def test_typed_parquet_columns(name, tmp_path_factory, engine):
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path_factory.mktemp("parquet")
    path = folder / f"{name}.parquet"
    duck = shared_engine("duckdb")
    select = PARQUET[name]
    duck.connection.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    rows = pyarrow_parquet.read_table(path).to_pylist()
    summary = aggregate_orders(str(path), enumerate(rows, 1), AS_OF)
    relation = f"typed_{name}"
    types = engine.register_file(relation, str(path), "parquet")
    assert set(types.values()) - {"text"}, types
    check(engine, order_aggregation(engine.dialect, relation, types, None, AS_OF, str(path)), summary)
