"""Backtest a grading: grade customers as of a past date, then see what each grade bought.

Before a client runs its sales force on a ruleset, the consultant shows that the
grades mean something: customers graded S on a past date should have bought more,
per customer, in the months that followed than those graded A, A more than B, and so
on.  The grading uses only what was known then (order features are aggregated up to
the as-of date by :func:`tierkit.engine.job.run_job`); the outcome is measured on the orders
in ``(as_of, as_of + horizon]``, aggregated by the same code from the same file, so
column aliases, coercion and rejected rows are exactly those of ``evaluate``.

:func:`backtest` returns the JSON object ``tierkit backtest --json`` prints; the
terminal view is drawn from it.
"""

from __future__ import annotations

import calendar
import math
import datetime as dt
import difflib
import re
from dataclasses import dataclass
from typing import Any

from tierkit.engine.evaluation import Evaluation
from tierkit.errors import TierkitError
from tierkit.io.tables import read_rows
from tierkit.engine.job import Job
from tierkit.ruleset.labels import localize
from tierkit.engine.orders import OrderSummary, aggregate_orders, features_by_id
from tierkit.plan.compiler import Plan, SchemeInfo
from tierkit.registry import Registry
from tierkit.plan.roles import label_order
from tierkit.render.format import num, pct

HORIZON = re.compile(r"^\s*([1-9][0-9]*)\s*([dwmy])\s*$", re.IGNORECASE)
# The kinds that grade, in the order the default scheme is looked for.
GRADING_KINDS = (("weighted",), ("pipeline", "rules"))
# Label ids built-in kinds give an outcome they could not decide: shown, never ranked.
UNDECIDED = frozenset({"insufficient_data", "unknown"})
TOP_GRADES = 2  # "the top grades" are the first two (S+A), or the first alone when there are two


def horizon_end(as_of: dt.date, horizon: str) -> dt.date:
    """``as_of`` plus ``12m``, ``6m``, ``90d``, ``2w`` or ``1y``; months keep the day of
    the month where it exists (2025-01-31 + 1m = 2025-02-28)."""
    match = HORIZON.match(horizon)
    if not match:
        raise TierkitError(f"--horizon {horizon!r}: expected a count and a unit, e.g. 12m, 6m, 90d, 2w or 1y")
    count, unit = int(match[1]), match[2].lower()
    if unit in "dw":
        return as_of + dt.timedelta(days=count * (7 if unit == "w" else 1))
    months = as_of.month - 1 + count * (12 if unit == "y" else 1)
    year, month = as_of.year + months // 12, months % 12 + 1
    return dt.date(year, month, min(as_of.day, calendar.monthrange(year, month)[1]))


def pick_scheme(plan: Plan, scheme_id: str | None) -> SchemeInfo:
    """The scheme asked for, or the first grading scheme in declared order."""
    by_id = {scheme.id: scheme for scheme in plan.schemes}
    declared = [config["id"] for config in plan.ruleset.data["schemes"] if config.get("id") in by_id]
    if scheme_id is not None:
        if scheme_id not in by_id:
            close = difflib.get_close_matches(scheme_id, declared, n=1)
            hint = (f"did you mean {close[0]!r}? " if close else "") + "schemes: " + ", ".join(declared)
            raise TierkitError(f"--scheme {scheme_id!r}: no such scheme in {plan.ruleset.name}", hint=hint)
        return by_id[scheme_id]
    for kinds in GRADING_KINDS:
        found = next((by_id[i] for i in declared if by_id[i].kind in kinds), None)
        if found is not None:
            return found
    raise TierkitError(
        f"{plan.ruleset.name} has no weighted, pipeline or rules scheme to backtest",
        hint="name one with --scheme; schemes: " + ", ".join(f"{i} ({by_id[i].kind})" for i in declared),
    )


@dataclass
class Horizon:
    """The orders of ``(start, end]`` per customer id, and whether the file reaches ``end``."""

    start: dt.date
    end: dt.date
    orders: OrderSummary
    last_order_date: dt.date | None
    complete: bool


def horizon_orders(job: Job, registry: Registry, file: str, end: dt.date) -> Horizon:
    """Aggregate the orders after the job's as-of date up to ``end``.

    The whole file is aggregated once to learn its last order date and which rows
    are good orders; those the job did not use (dated after the as-of date) are
    aggregated again on their own up to ``end``, so horizon revenue is summed from
    the orders themselves.
    """
    start = job.evaluation.bound.as_of
    policy = job.evaluation.plan.order_policy
    rows = list(read_rows(file, registry))
    everything = aggregate_orders(file, rows, dt.date.max, policy=policy)
    # the orders the job used: a SQL engine's job keeps no row numbers, aggregated here alike
    used = job.orders if isinstance(job, Job) else aggregate_orders(file, rows, start, policy=policy)
    before = {number for numbers in used.rows_of.values() for number in numbers}
    later = {number for numbers in everything.rows_of.values() for number in numbers} - before
    summary = aggregate_orders(file, [row for row in rows if row[0] in later], end, policy=policy)
    last = max((features["last_order_date"] for features in everything.features.values()), default=None)
    return Horizon(start, end, summary, last, last is not None and last >= end)


def backtest(evaluation: Evaluation, scheme: SchemeInfo, horizon: Horizon, lang: str) -> dict:
    """Per grade: customers, horizon revenue, revenue per customer, retention, share;
    the share of the top grades, monotonicity, and a verdict."""
    id_index, slot = evaluation.plan.id_index, scheme.slot.index
    bought = features_by_id(horizon.orders, evaluation.plan.fields[id_index])
    spends: dict[Any, list[float | None]] = {}  # per label: each customer's horizon revenue, None if no order
    for row in evaluation.rows:
        features = bought.get(row[id_index])
        spends.setdefault(row[slot][0], []).append(features["revenue"] if features else None)
    everyone = [spend for group in spends.values() for spend in group]
    customers, revenue = len(everyone), math.fsum(spend for spend in everyone if spend)
    grades = [_grade(label, spends.get(label, []), customers, revenue, scheme, lang) for label in _order(scheme, spends)]
    ranked = [grade for grade in grades if grade["label"] is not None and grade["label"] not in UNDECIDED]
    result = {
        "grades": grades,
        "total": _grade(None, everyone, customers, revenue, scheme, lang),
        "ungraded": _ungraded(bought, {row[id_index] for row in evaluation.rows}),
        "top": _top(ranked[: max(1, min(TOP_GRADES, len(ranked) - 1))], customers, revenue),
        **_monotone([grade for grade in ranked if grade["customers"]]),
    }
    result["verdict"] = verdict(result, horizon)
    return result


def _order(scheme: SchemeInfo, seen: dict) -> list:
    """The grades in the scheme's declared order (:func:`tierkit.plan.roles.label_order`,
    best first: the monotone check walks it), undecided ones only when someone got
    them; no label last."""
    labels = [label for label in label_order(scheme, list(seen)) if label not in UNDECIDED or label in seen]
    return labels + [None] * (None in seen)


def _grade(label, spends: list[float | None], customers: int, revenue: float, scheme: SchemeInfo, lang: str) -> dict:
    count, amount = len(spends), math.fsum(spend for spend in spends if spend)
    buyers = sum(spend is not None for spend in spends)
    display = None if label is None else localize(scheme.compiled.labels.get(label, label), lang)
    return {
        "label": label,
        "display": display,
        "customers": count,
        "customer_share": count / customers if customers else None,
        "revenue": amount,
        "revenue_per_customer": amount / count if count else None,
        "retention": buyers / count if count else None,
        "revenue_share": amount / revenue if revenue else None,
    }


def _ungraded(bought: dict, graded_ids: set) -> dict:
    """Horizon orders of customers the grading did not see (new, or rejected, ones)."""
    others = [features for key, features in bought.items() if key not in graded_ids]
    return {
        "customers": len(others),
        "orders": sum(features["order_count"] for features in others),
        "revenue": math.fsum(features["revenue"] for features in others),
    }


def _top(grades: list[dict], customers: int, revenue: float) -> dict:
    return {
        "labels": [grade["label"] for grade in grades],
        "customer_share": sum(grade["customers"] for grade in grades) / customers if customers else None,
        "revenue_share": sum(grade["revenue"] for grade in grades) / revenue if revenue else None,
    }


def _monotone(grades: list[dict]) -> dict:
    """Whether each grade (with customers) bought more per customer than the next one,
    the pairs where it did not, and how many times the first bought what the last did."""
    if len(grades) < 2:
        return {"monotone": None, "order": [grade["label"] for grade in grades], "breaks": [], "lift": None}
    spend = [grade["revenue_per_customer"] for grade in grades]
    breaks = [
        {"higher": higher["label"], "lower": lower["label"], "higher_per_customer": high, "lower_per_customer": low}
        for higher, lower, high, low in zip(grades, grades[1:], spend, spend[1:])
        if not high > low
    ]
    return {
        "monotone": not breaks,
        "order": [grade["label"] for grade in grades],
        "breaks": breaks,
        "lift": spend[0] / spend[-1] if spend[-1] else None,
    }


def verdict(result: dict, horizon: Horizon) -> str:
    """One sentence a client can read: do the grades hold, and how much the top ones bring."""
    top = result["top"]
    captured = (
        f"{'+'.join(map(str, top['labels']))} ({pct(top['customer_share'], 1)} of customers)"
        f" brought {pct(top['revenue_share'], 1)} of the horizon revenue"
    )
    if not result["total"]["customers"]:
        text = "no customers were graded: nothing to judge"
    elif not result["total"]["revenue"]:
        text = "no graded customer bought in the horizon: nothing to judge"
    elif result["monotone"] is None:
        text = f"only one grade has customers: nothing to compare; {captured}"
    elif result["monotone"]:
        order = result["order"]
        text = f"the grades hold: each grade bought more per customer than the next ({' > '.join(order)}); {captured}"
        if result["lift"] is not None:
            text += f"; {order[0]} bought {result['lift']:.1f}× per customer what {order[-1]} did"
    else:
        text = f"the grades do not hold: {'; '.join(map(_broken, result['breaks']))}; {captured}"
    if not horizon.complete:
        text += f" (horizon incomplete: the last order is dated {horizon.last_order_date}, the horizon ends {horizon.end})"
    return text


def _broken(pair: dict) -> str:
    low, high = (round(pair[key], 2) for key in ("lower_per_customer", "higher_per_customer"))
    relation = f"as much per customer as {pair['higher']}" if low == high else f"more per customer than {pair['higher']}"
    return f"{pair['lower']} bought {relation} ({num(low)} vs {num(high)})"
