"""The order features, stated once as IR: running totals per customer, then features.

An order file becomes features in two levels, each an expression of
:mod:`tierkit.ir`:

* :func:`totals`: per customer key, aggregates (:class:`ir.Aggregate`) of the typed
  order columns (one GROUP BY): the order count, the days ordered on, revenue and the
  two 12-month windows in whole millionths (:mod:`tierkit.io.money`), first and last
  order date, receivables, days to pay, margin, the first row.  :func:`merged` says
  how the totals of one customer's several id spellings add up (an aggregate of the
  totals).
* :func:`features`: each of :data:`ORDER_FEATURES` as an expression
  of the totals and the as-of date (``recency_days`` is the days from the last order
  date to it); a feature whose order columns the file lacks is missing.

The SQL engines lower both levels through :class:`tierkit.ir.to_sql.SqlLowering`
(:mod:`tierkit.engine.sql.orders` adds the typing of the cells and the statuses around them);
the Python engine keeps its running totals in one streaming pass over the rows
(:mod:`tierkit.engine.orders`) and computes the features from them by :func:`python_features`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable

from tierkit.ir import nodes as ir
from tierkit.ir import to_python
from tierkit.io.fieldtypes import FieldSpec

YEAR = dt.timedelta(days=365)

# feature -> type, as rulesets see them
ORDER_FEATURES: dict[str, str] = {
    "order_count": "integer",
    "revenue": "number",
    "first_order_date": "date",
    "last_order_date": "date",
    "recency_days": "integer",
    "tenure_days": "integer",
    "avg_order_value": "number",
    "orders_per_year": "number",
    "revenue_last_12m": "number",
    "revenue_prev_12m": "number",
    "revenue_trend": "number",
    "overdue_amount": "number",
    "avg_days_to_pay": "number",
    "margin_total": "number",
    "margin_pct": "number",
}

ORDER_FEATURE_LABELS = {
    "order_count": {"en": "Orders", "zh": "订单数"},
    "revenue": {"en": "Revenue", "zh": "销售额"},
    "first_order_date": {"en": "First order", "zh": "首次下单日期"},
    "last_order_date": {"en": "Last order", "zh": "最近下单日期"},
    "recency_days": {"en": "Days since last order", "zh": "距上次下单天数"},
    "tenure_days": {"en": "Days since first order", "zh": "合作天数"},
    "avg_order_value": {"en": "Average order value", "zh": "平均订单金额"},
    "orders_per_year": {"en": "Orders per year", "zh": "年均订单数"},
    "revenue_last_12m": {"en": "Revenue, last 12 months", "zh": "近12个月销售额"},
    "revenue_prev_12m": {"en": "Revenue, previous 12 months", "zh": "前12个月销售额"},
    "revenue_trend": {"en": "Revenue trend (last / previous 12 months)", "zh": "销售趋势（近12个月/前12个月）"},
    "overdue_amount": {"en": "Overdue receivables", "zh": "逾期应收款"},
    "avg_days_to_pay": {"en": "Average days to pay", "zh": "平均回款天数"},
    "margin_total": {"en": "Gross margin", "zh": "毛利额"},
    "margin_pct": {"en": "Gross margin %", "zh": "毛利率"},
}

# column -> (type, aliases beyond the name); the ruleset's `orders.columns` adds more.
ORDER_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "customer_id": ("string", ("customer", "client_id", "account_id", "客户编号", "客户id", "客户代码", "客户")),
    "order_date": ("date", ("date", "order_time", "下单日期", "订单日期", "日期")),
    "amount": ("number", ("order_amount", "total", "金额", "订单金额", "销售额")),
    "margin": ("number", ("gross_margin", "毛利", "毛利额")),
    "paid_amount": ("number", ("paid", "已付金额", "回款金额")),
    "due_date": ("date", ("payment_due", "到期日", "应付日期")),
    "paid_date": ("date", ("payment_date", "付款日期", "回款日期")),
}
REQUIRED_COLUMNS = ("customer_id", "order_date", "amount")


def order_fields(declared: Iterable[str]) -> list[FieldSpec]:
    """Fields for the order features a ruleset with ``orders:`` does not declare itself."""
    return [FieldSpec(name, type_, label=ORDER_FEATURE_LABELS[name]) for name, type_ in ORDER_FEATURES.items() if name not in declared]
# feature -> the optional order columns it is computed from
FEATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "overdue_amount": ("paid_amount", "due_date"),
    "avg_days_to_pay": ("paid_date",),
    "margin_total": ("margin",),
    "margin_pct": ("margin",),
}

DATE, INT, FLOAT = ir.DType.DATE, ir.DType.INT, ir.DType.FLOAT
ORDER_DATE, AMOUNT, MARGIN = ir.Column("order_date", DATE), ir.Column("amount", FLOAT), ir.Column("margin", FLOAT)
PAID_AMOUNT, DUE_DATE, PAID_DATE = ir.Column("paid_amount", FLOAT), ir.Column("due_date", DATE), ir.Column("paid_date", DATE)
ROW = ir.Column("_row", INT, nullable=False)
MERGE = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}  # a total of totals


def _date(day: dt.date) -> ir.Lit:
    return ir.Lit(day, DATE)


def _units(value: ir.Expr) -> ir.Expr:
    return ir.Call("money_units", (value,), INT)


def _money(total: ir.Expr) -> ir.Expr:
    return ir.Call("money", (total,), FLOAT)


def _sum_or_zero(arg: ir.Expr, where: ir.Expr | None = None) -> ir.Expr:
    return ir.Coalesce((ir.Aggregate("sum", arg, where), ir.lit(0)))


def totals(as_of: dt.date, columns: tuple[str, ...]) -> dict[str, ir.Expr]:
    """The running totals of one customer key's orders (``tierkit.engine.orders._Customer``),
    from the order columns the file has (``columns``)."""
    amount = _units(AMOUNT)
    last_start, prev_start = _date(as_of - YEAR), _date(as_of - 2 * YEAR)
    # a payment dated after the as-of date is not made yet: its amount and date are unknown then
    paid_then = ir.Compare("<=", PAID_DATE, _date(as_of))
    result: dict[str, ir.Expr] = {
        "_n": ir.Aggregate("count"),
        "_days": ir.Aggregate("count", ORDER_DATE, distinct=True),
        "_zero": ir.Aggregate("count", where=ir.Compare("==", AMOUNT, ir.lit(0.0))),
        "_negative": ir.Aggregate("count", where=ir.Compare("<", AMOUNT, ir.lit(0.0))),
        "_revenue": ir.Aggregate("sum", amount),
        "_first": ir.Aggregate("min", ORDER_DATE),
        "_last": ir.Aggregate("max", ORDER_DATE),
        "_last_12m": _sum_or_zero(amount, ir.Compare(">", ORDER_DATE, last_start)),
        "_prev_12m": _sum_or_zero(amount, ir.And((ir.Compare("<=", ORDER_DATE, last_start),
                                                  ir.Compare(">", ORDER_DATE, prev_start)))),
        "_overdue": ir.Lit(None, INT),
        "_pay_days": ir.Lit(None, INT),
        "_paid": ir.lit(0),
        "_margin": ir.Aggregate("sum", _units(MARGIN)),
        "_first_row": ir.Aggregate("min", ROW),
    }
    if "paid_amount" in columns and "due_date" in columns:
        paid_amount = PAID_AMOUNT
        if "paid_date" in columns:
            paid_amount = ir.case((ir.Compare(">", PAID_DATE, _date(as_of)), ir.Lit(None, FLOAT)), default=PAID_AMOUNT)
        paid = ir.Coalesce((_units(paid_amount), ir.lit(0)))  # an empty paid amount: nothing paid
        owed = ir.And((ir.Compare("<", DUE_DATE, _date(as_of)), ir.Compare("<", paid, amount)))
        result["_overdue"] = _sum_or_zero(ir.Arith("-", amount, paid), owed)
    if "paid_date" in columns:
        result["_pay_days"] = ir.Aggregate("sum", ir.Call("days_between", (ORDER_DATE, PAID_DATE), INT), paid_then)
        result["_paid"] = ir.Aggregate("count", PAID_DATE, paid_then)
    return result


def merged(name: str, total: ir.Expr) -> ir.Aggregate:
    """The total ``name`` of one customer from its keys' totals (``_Customer.merge``):
    counts and sums added, first dates the least, last dates the greatest."""
    found = [node.func for node in total.walk() if isinstance(node, ir.Aggregate)]
    return ir.Aggregate(MERGE[found[0]] if found else "sum", ir.Column(name, total.dtype))


def features(as_of: dt.date, columns: tuple[str, ...], total_types: dict[str, ir.DType],
             count_days: bool = False) -> dict[str, ir.Expr]:
    """Each order feature from a customer's totals (columns named as in :func:`totals`)."""
    total = {name: ir.Column(name, dtype) for name, dtype in total_types.items()}
    count = ir.Cast(total["_days" if count_days else "_n"], INT)
    revenue, last_12m, prev_12m = _money(total["_revenue"]), _money(total["_last_12m"]), _money(total["_prev_12m"])
    margin = _money(total["_margin"])
    tenure = ir.Call("days_between", (total["_first"], _date(as_of)), INT)
    result = {
        "order_count": count,
        "revenue": revenue,
        "first_order_date": total["_first"],
        "last_order_date": total["_last"],
        "recency_days": ir.Call("days_between", (total["_last"], _date(as_of)), INT),
        "tenure_days": tenure,
        "avg_order_value": ir.Arith("/", revenue, count),
        "orders_per_year": ir.Arith("/", ir.Arith("*", count, ir.lit(365)), ir.Call("max", (tenure, ir.lit(365)), INT)),
        "revenue_last_12m": last_12m,
        "revenue_prev_12m": prev_12m,
        "revenue_trend": ir.Arith("/", last_12m, prev_12m),
        "overdue_amount": _money(total["_overdue"]),
        "avg_days_to_pay": ir.Arith("/", total["_pay_days"], total["_paid"]),
        "margin_total": margin,
        "margin_pct": ir.Arith("/", ir.Arith("*", ir.lit(100.0), margin), revenue),
    }
    assert result.keys() == ORDER_FEATURES.keys()
    for name, needed in FEATURE_COLUMNS.items():
        if not all(column in columns for column in needed):
            result[name] = ir.Lit(None, FLOAT)
    return result


@functools.lru_cache(maxsize=16)
def python_features(as_of: dt.date, columns: tuple[str, ...], count_days: bool) -> tuple[Callable, tuple[str, ...], tuple[str, ...]]:
    """The features a file with ``columns`` gives, as one compiled Python row step over
    columns of totals: ``(step, the totals it reads in order, the features it gives)``."""
    types = {name: node.dtype for name, node in totals(as_of, columns).items()}
    given = {name: node for name, node in features(as_of, columns, types, count_days).items()
             if all(column in columns for column in FEATURE_COLUMNS.get(name, ()))}
    reads = sorted({node.name for expr in given.values() for node in expr.walk() if isinstance(node, ir.Column)})
    step = to_python.row_step(list(given.items()), reads, dict.fromkeys(reads, True))
    return step, tuple(reads), tuple(given)
