"""The ``value_proposition`` kind on DuckDB and Spark gives the Python engine's
outcomes: label, score, tags and the group attribute for every customer, on generated
populations (conditions and numbers missing, NaN and infinite values, negative
weights, signals for several types, totals tied exactly or within the 1e-9 tolerance,
custom types in another tie order).

Its boundary cases (tests/cases/value_proposition.yml) and the saas-enterprise
ruleset on its sample data: tests/engine/test_engines_cases.py."""

from __future__ import annotations

import random

import pytest

from tierkit.engine.evaluation import BoundPlan

from tests.engine_harness import AS_OF, compare_batch, compile_yaml, engine_fixture, python_outcomes, shared_engine


# -- generated populations --------------------------------------------------------------

RULESET = """
fields:
  id: {type: string, required: true}
  a: {type: number}
  b: {type: number}
  n: {type: integer}
  flag: {type: boolean}
schemes:
  - id: need
    kind: value_proposition
    signals:
      - {id: a_cost, value: a, type: cost_sensitive}
      - {id: b_quality, value: "b", type: [quality_seeking, innovation_driven, quality_seeking], weight: 0.1}
      - {id: n_cost, value: n, type: cost_sensitive, weight: -0.3}
      - {id: flag_innovation, when: "flag", type: innovation_driven, weight: 0.7}
      - {id: flag_quality, when: "not flag", type: quality_seeking, weight: 0.2}
      - {id: none_ever, when: "n > 100 and flag", type: cost_sensitive, weight: 0}
  - id: custom
    kind: value_proposition
    types:
      - innovation_driven
      - {id: brand, group: value_driven, label: {en: Brand, zh: 品牌}}
      - {id: thrifty, group: price_sensitive}
      - cost_sensitive
    signals:
      - {value: "a * 2", type: [brand, thrifty]}
      - {value: "b - a", type: thrifty, weight: 1.5}
      - {when: "n >= 2", type: [cost_sensitive, innovation_driven], weight: 0.3}
      - {when: "flag", type: brand, weight: -0.3}
      - {when: "n == 3", type: cost_sensitive, weight: 0.5}
  - id: reads_need
    kind: value_proposition
    signals:
      - {when: "need.group == 'value_driven'", type: quality_seeking}
      - {when: "custom.label == 'thrifty'", type: cost_sensitive}
      - {value: "need.score", type: innovation_driven, weight: 1.0e-10}
"""

# values making totals tie exactly (0.1 + 0.2 vs 0.3), within 1e-9, or just beyond it
A_VALUES = [None, float("nan"), float("inf"), float("-inf"), -1.0, 0.0, 1.0e-10, 2.0e-9, 0.1, 0.3, 0.30000000000000004, 0.7, 1.0, 3.0]
B_VALUES = [None, float("nan"), float("inf"), -2.0, 0.0, 1.0, 2.0, 3.0, 7.0, 1.0e-8]
N_VALUES = [None, -1, 0, 1, 2, 3]


engine = engine_fixture()


@pytest.fixture(scope="module")
def plan(registry):
    return compile_yaml("vp-sql", RULESET, registry)


def generated(plan, seed: int, size: int):
    assert [spec.name for spec in plan.fields] == ["id", "a", "b", "n", "flag"]
    draw = random.Random(seed).choice
    rows = [[f"g{n}", draw(A_VALUES), draw(B_VALUES), draw(N_VALUES), draw([None, True, False])] for n in range(size)]
    return BoundPlan(plan, AS_OF).run(rows)


def test_generated_populations(plan, engine, registry):
    evaluations = {f"seed {seed}": generated(plan, seed, 800) for seed in range(3)}
    evaluations["one customer"] = generated(plan, 99, 1)
    outcomes = [o for e in evaluations.values() for o in python_outcomes(e, registry).values()]
    assert {o["need"][0] for o in outcomes} == {"cost_sensitive", "quality_seeking", "innovation_driven", "unknown"}
    assert {o["custom"][0] for o in outcomes} == {"innovation_driven", "brand", "thrifty", "cost_sensitive", "unknown"}
    assert compare_batch(evaluations, registry, engine) == []


def test_a_wrong_total_is_caught(plan, registry):
    """The comparison sees a difference: Python on other values than the SQL engine's."""
    evaluation = generated(plan, 5, 200)
    other = generated(plan, 6, 200)
    other.bound = evaluation.bound
    kept = min(len(evaluation.rows), len(other.rows))  # rows computing a non-finite value are rejected
    evaluation.rows, other.rows = other.rows[:kept], [row[:5] + other.rows[i][5:] for i, row in enumerate(evaluation.rows[:kept])]
    assert compare_batch({"other": other}, registry, shared_engine("duckdb"))
