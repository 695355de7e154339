"""The ``pipeline`` kind on DuckDB and Spark gives the Python engine's outcomes: label,
tags and the grade attribute for every customer, on generated populations (every
stage true, false or missing, default and given conditions, stages left out,
``on_missing`` skip and unknown, windows at their edges).

The case file tests/cases/pipeline.yml and retail-membership on its visits are
compared with the other case files and bundled rulesets (tests/engine/test_engines_cases.py)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tierkit.engine.evaluation import BoundPlan

from tests.engine_harness import AS_OF, compare_batch, compile_yaml, engine_fixture, python_outcomes, shared_engine


# -- generated populations --------------------------------------------------------------

FIELDS = """
fields:
  id: {type: string, required: true}
  order_count: {type: integer}
  deal_stage: {type: enum, values: [lead, proposal, negotiation, won, lost]}
  intent_score: {type: number}
  open_opportunities: {type: integer}
  last_contact_date: {type: date}
  last_response_date: {type: date}
  days_since_contact: {type: integer}
  responsive: {type: boolean}
"""

SCHEMES = """
schemes:
  - {id: defaults, kind: pipeline}
  - {id: stops, kind: pipeline, on_missing: unknown, contact_days: 0, silent_days: 10}
  - id: given
    kind: pipeline
    on_missing: unknown
    closed: "order_count >= 2"
    seed: false
    potential: "responsive and intent_score > 20"
    silent: "not responsive"
  - id: none_left
    kind: pipeline
    closed: false
    seed: false
    potential: false
    silent: false
  - id: reads_stage
    kind: pipeline
    closed: "defaults.grade == 'A' and stops.grade == 'A'"
    seed: "defaults.label == 'unknown'"
    potential: "given.grade is none"
    silent: "days_since_contact > 30"
"""


engine = engine_fixture()


@pytest.fixture(scope="module")
def plan(registry):
    return compile_yaml("pipeline-sql", FIELDS + SCHEMES, registry)


def generated(plan, seed: int, size: int):
    """Customers with every field drawn from its edges and missing values."""
    draw = random.Random(seed).choice
    days = [None, 0, 1, 9, 10, 11, 89, 90, 91, 400]
    rows = []
    for number in range(size):
        rows.append([
            f"g{number}",
            draw([None, -1, 0, 1, 2, 5]),
            draw([None, "lead", "proposal", "negotiation", "won", "lost"]),
            draw([None, 0.0, 20.0, 20.5, 59.9, 60.0, 99.0]),
            draw([None, 0, 1]),
            None if (d := draw(days)) is None else AS_OF - dt.timedelta(days=d),
            None if (d := draw(days)) is None else AS_OF - dt.timedelta(days=d),
            draw([None, -5, 0, 30, 31, 90, 91]),
            draw([None, True, False]),
        ])
    assert [spec.name for spec in plan.fields] == ["id", "order_count", "deal_stage", "intent_score", "open_opportunities",
                                                   "last_contact_date", "last_response_date", "days_since_contact", "responsive"]
    return BoundPlan(plan, AS_OF).run(rows)


def test_generated_populations(plan, engine, registry):
    evaluations = {f"seed {seed}": generated(plan, seed, 400) for seed in range(3)}
    evaluations["one customer"] = generated(plan, 99, 1)
    labels = {outcome[scheme][0] for e in evaluations.values() for outcome in python_outcomes(e, registry).values()
              for scheme in ("defaults", "stops", "given")}
    assert labels == {"closed", "seed", "potential", "silent", "unknown"}
    assert compare_batch(evaluations, registry, engine) == []


def test_a_wrong_stage_is_caught(plan, registry):
    """The comparison sees a difference: the same population on another as-of date moves
    customers between the contact windows."""
    evaluation = generated(plan, 5, 200)
    moved = BoundPlan(plan, AS_OF + dt.timedelta(days=1)).run([row[: len(plan.fields)] for row in evaluation.rows])
    moved.bound = evaluation.bound
    assert compare_batch({"moved": moved}, registry, shared_engine("duckdb"))
