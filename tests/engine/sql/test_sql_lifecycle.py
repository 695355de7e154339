"""The ``lifecycle`` kind on DuckDB and Spark gives the Python engine's outcomes: label,
tags and ``days_since_last`` for every customer, on generated populations (every
window edge, dates missing, in the future or out of order, order counts missing,
zero, one, fractional or NaN, an as-of expression).

Boundary cases of tests/cases/lifecycle.yml and the bundled b2b-manufacturing and
saas-enterprise rulesets are compared in tests/engine/test_engines_cases.py."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tierkit.engine.evaluation import BoundPlan

from tests.engine_harness import AS_OF, compare_batch, compile_yaml, engine_fixture, python_outcomes, shared_engine


# -- generated populations --------------------------------------------------------------

RULESET = """
fields:
  id: {type: string, required: true}
  first_order_date: {type: date}
  last_order_date: {type: date}
  order_count: {type: number}
  report_date: {type: date}
schemes:
  - {id: defaults, kind: lifecycle}
  - id: tight
    kind: lifecycle
    new_days: 0
    dormant_days: 0
    lost_days: 0
    stages:
      unknown: {tags: [check-data]}
      potential: {tags: []}
  - id: equal
    kind: lifecycle
    new_days: 365
    dormant_days: 30
    lost_days: 30
    as_of: report_date
  - id: swapped
    kind: lifecycle
    first_order_date: last_order_date
    last_order_date: first_order_date
    order_count: "order_count - 1"
  - id: last_only
    kind: lifecycle
    first_order_date: "none"
    order_count: "none"
  - id: first_only
    kind: lifecycle
    last_order_date: "none"
    new_days: 1
    dormant_days: 181
    lost_days: 366
  - id: count_only
    kind: lifecycle
    first_order_date: "none"
    last_order_date: "none"
  - id: reads_stage
    kind: rules
    rules:
      - {id: long_gone, when: "defaults.days_since_last > 365 and tight.label == 'lost'"}
      - {id: fresh, when: "equal.days_since_last is none"}
    default: {id: other}
"""

OFFSETS = [None, -400, -1, 0, 1, 29, 30, 31, 179, 180, 181, 364, 365, 366, 729, 730, 731, 3000]
COUNTS = [None, float("nan"), -1.0, 0.0, 0.5, 1.0, 2.0, 7.0]


engine = engine_fixture()


@pytest.fixture(scope="module")
def plan(registry):
    return compile_yaml("lifecycle-sql", RULESET, registry)


def day(offset):
    return None if offset is None else AS_OF - dt.timedelta(days=offset)


def generated(plan, seed: int, size: int):
    """Customers with dates at every window edge, in any order, and every kind of count."""
    assert [spec.name for spec in plan.fields] == ["id", "first_order_date", "last_order_date", "order_count", "report_date"]
    draw = random.Random(seed).choice
    rows = [[f"g{n}", day(draw(OFFSETS)), day(draw(OFFSETS)), draw(COUNTS), day(draw([None, -30, 0, 30, 200]))]
            for n in range(size)]
    return BoundPlan(plan, AS_OF).run(rows)


def test_generated_populations(plan, engine, registry):
    evaluations = {f"seed {seed}": generated(plan, seed, 600) for seed in range(3)}
    evaluations["one customer"] = generated(plan, 99, 1)
    outcomes = [o for e in evaluations.values() for o in python_outcomes(e, registry).values()]
    assert {o[s][0] for o in outcomes for s in ("defaults", "tight", "equal", "swapped", "first_only")} == {
        "potential", "new", "active", "dormant", "lost", "unknown"}
    assert {o[s][3]["days_since_last"] is None for o in outcomes for s in ("defaults", "equal")} == {True, False}
    assert compare_batch(evaluations, registry, engine) == []


def test_a_wrong_day_count_is_caught(plan, registry):
    """The comparison sees a difference: Python on the day after the as-of date."""
    evaluation = generated(plan, 5, 200)
    moved = BoundPlan(plan, AS_OF + dt.timedelta(days=1)).run([row[: len(plan.fields)] for row in evaluation.rows])
    moved.bound = evaluation.bound
    assert compare_batch({"moved": moved}, registry, shared_engine("duckdb"))
