"""The ``churn_watch`` scheme kind: who is going quiet (流失预警).

A customer is ``lost`` when its last order is twice its quiet period ago, ``at_risk``
when it is one quiet period ago or its revenue is falling by ``drop`` or more, else
``active``; with no last order it is ``unknown``.  The quiet period is ``quiet_days``
(default 90), or twice the customer's own usual gap between orders when that is longer.

Example::

    - id: churn
      kind: churn_watch
      quiet_days: 60
      trend: our_revenue_12m / revenue_prev_12m - 1
"""

from tierkit.kinds import (Bindings, Defined, IrBuild, Logic, LogicKind, case, div, first_match, ge, hookimpl, known,
                           le, lit, logic_kind, missing, mul, python, tags)

SCHEMA = {"type": "object", "properties": {
    "first_order": {"type": "string", "title": "First order", "description": "An expression: the first order's date (default first_order_date)."},
    "last_order": {"type": "string", "title": "Last order", "description": "An expression: the last order's date (default last_order_date)."},
    "orders": {"type": "string", "title": "Orders", "description": "An expression: the number of orders (default order_count)."},
    "trend": {"type": "string", "title": "Trend", "description": "An expression: revenue change as a ratio, e.g. -0.4 (optional)."},
    "quiet_days": {"type": "number", "minimum": 1, "title": "Quiet days", "description": "Days without an order that make a customer at risk (default 90)."},
    "drop": {"type": "number", "minimum": 0, "title": "Drop", "description": "A revenue fall, as a ratio, that makes a customer at risk (default 0.3)."},
}}
LABELS = {"active": {"en": "Active", "zh": "活跃"}, "at_risk": {"en": "At risk", "zh": "流失风险"},
          "lost": {"en": "Lost", "zh": "已流失"}, "unknown": {"en": "No orders", "zh": "无订单"}}
ABOUT = {"at_risk": {"strategy": {"en": "Call this week and find out why", "zh": "本周回访，了解原因"}},
         "lost": {"strategy": {"en": "A win-back offer from the manager", "zh": "由经理出面挽回"}}}
TEMPLATES = {
    "en": {"churn.unknown": "no last order", "churn.lost": "{recency:number} days since the last order, twice the quiet period of {quiet:number}",
           "churn.quiet": "{recency:number} days since the last order, the quiet period is {quiet:number}",
           "churn.falling": "revenue {trend:.0%} against the year before", "churn.active": "last order {recency:number} days ago"},
    "zh": {"churn.unknown": "没有最近订单", "churn.lost": "距上次下单 {recency:number} 天，已超过沉默期 {quiet:number} 天的两倍",
           "churn.quiet": "距上次下单 {recency:number} 天，沉默期为 {quiet:number} 天",
           "churn.falling": "收入较上年 {trend:.0%}", "churn.active": "{recency:number} 天前下过单"},
}


def usual_gap(first, last, orders):
    """Days between orders as this customer usually orders: a plain Python function of one
    customer's values (a UDF on DuckDB and Spark), None with fewer than two orders."""
    return (last - first).days / (orders - 1) if orders >= 2 else None


def define(build: IrBuild) -> Defined | None:
    first = build.expression("first_order", expect=("date",), source=build.value("first_order", default="first_order_date"))
    last = build.expression("last_order", expect=("date",), source=build.value("last_order", default="last_order_date"))
    orders = build.expression("orders", expect=("integer",), source=build.value("orders", default="order_count"))
    recency = build.expression(source=f"days_since({last.source})")
    trend = build.number("trend") if build.value("trend") else None
    if build.failed:
        return None
    let = Bindings()
    days = let("recency", recency.code)
    gap = let("gap", python(usual_gap, first.code, last.code, orders.code, returns="number"))
    quiet_days = float(build.value("quiet_days", default=90))
    quiet = let("quiet", case((ge(mul(gap, 2), quiet_days), mul(gap, 2)), default=lit(quiet_days)))
    rules = [(missing(days), "unknown", "churn.unknown"),  # a decision table: the first row that holds decides
             (ge(days, mul(quiet, 2)), "lost", "churn.lost", (("recency", days), ("quiet", quiet))),
             (ge(days, quiet), "at_risk", "churn.quiet", (("recency", days), ("quiet", quiet)))]
    tagged = []
    if trend is not None:
        change = let("trend", trend.code)
        falling = le(change, -float(build.value("drop", default=0.3)))
        rules.append((falling, "at_risk", "churn.falling", (("trend", change),)))
        tagged.append(("falling", falling))
    table = first_match("rule", rules, default=("active", "churn.active", (("recency", days),)))
    let.extend(table.lets)
    logic = Logic(build.id, let.lets, table.value, case((known(days), div(days, quiet))), (("quiet_days", quiet),),
                  table.reasons, tags=tags(*tagged))
    return Defined(logic, LABELS)


CHURN_WATCH = LogicKind(define, TEMPLATES, (("quiet_days", "number"),), ABOUT)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("churn_watch", __doc__, SCHEMA, CHURN_WATCH))
