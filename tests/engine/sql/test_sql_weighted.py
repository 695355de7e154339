"""The ``weighted`` kind on DuckDB and Spark gives the Python engine's outcomes: label,
score and tags for every customer, on hand-made and generated populations (missing
values, ties, a population of one, all values equal or missing, promotions, share
grades) given previous-run labels, and hysteresis at its exact boundaries.

tests/engine/test_engines_cases.py runs tests/cases/weighted.yml and the bundled rulesets
(b2b-manufacturing, fmcg-distribution, saas-enterprise grade with it)."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import BoundPlan, compile_ruleset
from tierkit.ruleset.load import load_ruleset

from tests.conftest import ROOT, examples
from tests.engine_harness import AS_OF, compare, compile_yaml, engine_fixture, python_outcomes, shared_engine


# -- hand-made and generated populations, given previous-run labels ----------------------

RULESET = """
fields:
  id: {type: string, required: true}
  a: {type: number}
  b: {type: number}
  c: {type: integer}
  d: {type: number}
  flag: {type: boolean}
  e: {type: number, default: 0}
schemes:
  # threshold grades: every normalisation, missing values within a tolerance of 2,
  # weights summing to 0.9 kept as they are, promotions and hysteresis
  - id: grade
    kind: weighted
    weights_total: as-is
    missing: {tolerance: 2}
    hysteresis: 2.5
    indicators:
      - {id: bins, weight: 0.3, value: a, bins: [{min: 50, points: 100}, {min: 10, points: 60}, {min: -5, points: 20}]}
      - {id: up, weight: 0.2, value: b, linear: {from: -10, to: 30}}
      - {id: down, weight: 0.1, value: c, linear: {from: 20, to: 2}}
      - {id: pts, weight: 0.15, points: "d * 3"}
      - {id: pct, weight: 0.15, value: a, percentile: true}
    grades: [{id: S, min: 75}, {id: A, min: 50}, {id: B, min: 25.5}, {id: C, min: 0}]
    promote:
      - {when: "flag", grade: B}
      - {when: "c >= 15", grade: A}
      - {when: "flag and a > 40", grade: S}
  # share grades (the last takes the rest) over a percentile, integer points, a
  # promotion reading the first scheme's label
  - id: share
    kind: weighted
    missing: {tolerance: 1}
    indicators:
      - {id: pct, weight: 0.5, value: b, percentile: true}
      - {id: bins, weight: 0.25, value: c, bins: [{min: 10, points: 90}, {min: 0, points: 30}]}
      - {id: pts, weight: 0.25, points: c}
    # cuts at 0.1, 0.1 + 0.2 (0.30000000000000004: a share of exactly 3/10 is not in it) and 0.6
    grades: [{id: S, share: 0.1}, {id: A, share: 0.2}, {id: B, share: 0.3}, {id: C}]
    promote:
      - {when: "flag", grade: A}
      - {when: "grade.label == 'S'", grade: S}
      - {when: "flag and c > 20", grade: B}
  # share grades all given (summing to 0.7: the last grade still takes the rest),
  # nothing missing, weights summing to 1.5 normalised
  - id: full
    kind: weighted
    weights_total: normalise
    indicators:
      - {id: bins, weight: 1, value: e, bins: [{min: 5, points: 100}, {min: 1, points: 50}]}
      - {id: lin, weight: 0.5, value: e, linear: {from: 0, to: 8}}
    grades: [{id: top, share: 0.2}, {id: mid, share: 0.3}, {id: low, share: 0.2}]
  # threshold grades over two percentiles with nothing tolerated missing
  - id: ranked
    kind: weighted
    indicators:
      - {id: pa, weight: 0.6, value: a, percentile: true}
      - {id: pe, weight: 0.4, value: "e + c", percentile: true}
    grades: [{id: hi, min: 60}, {id: lo, min: 30}, {id: rest, min: 0}]
rank:
  - {by: grade.score}
  - {by: share.score, order: asc}
"""

A_VALUES = [None, -10.0, -5.0, -0.0, 0.0, 5.0, 10.0, 10.5, 40.0, 41.0, 50.0, 77.7]
B_VALUES = [None, -20.0, -10.0, -0.0, 0.0, 2.5, 10.0, 30.0, 31.0]
C_VALUES = [None, -3, 0, 2, 7, 11, 15, 20, 21, 25]
D_VALUES = [None, -1.0, 0.0, 8.5, 20.0, 33.3, 34.0, 50.0]
E_VALUES = [0.0, 1.0, 4.0, 5.0, 8.0, 9.5]
PREVIOUS = [None, "S", "A", "B", "C", "insufficient_data", "Z"]


engine = engine_fixture()


@pytest.fixture(scope="module")
def plan(registry):
    return compile_yaml("weighted-sql", RULESET, registry)


def evaluate(plan, customers: list[tuple], previous: dict[str, str]):
    """The Python engine on typed rows (id, a, b, c, d, flag, e) given the previous labels."""
    assert [spec.name for spec in plan.fields] == ["id", "a", "b", "c", "d", "flag", "e"]
    with_previous = dataclasses.replace(plan, previous={"grade": previous})
    return BoundPlan(with_previous, AS_OF).run([list(row) for row in customers])


def customer(draw, key) -> tuple:
    return (str(key), draw(A_VALUES), draw(B_VALUES), draw(C_VALUES), draw(D_VALUES),
            draw([None, True, False]), draw(E_VALUES))


def population(seed: int, size: int) -> tuple[list[tuple], dict[str, str]]:
    rng = random.Random(seed)
    customers = [customer(rng.choice, f"R{seed}-{number}") for number in range(size)]
    previous = {row[0]: label for row in customers if (label := rng.choice(PREVIOUS)) is not None}
    return customers, previous


# a generated customer's values (a, b, c, d, flag, e) and its previous label
GENERATED_CUSTOMER = st.tuples(*map(st.sampled_from, (A_VALUES, B_VALUES, C_VALUES, D_VALUES, [None, True, False],
                                                      E_VALUES, PREVIOUS)))

FIXED = {
    "random 40": population(1, 40),
    "ten distinct": ([(f"D{n}", 10.0, float(n), 7, 8.5, False, 4.0) for n in range(10)], {}),
    "one customer": ([("ONLY", 12.0, 3.0, 4, 10.0, False, 2.0)], {"ONLY": "A"}),
    "all equal": ([(f"E{n}", 10.0, 2.5, 7, 8.5, None, 4.0) for n in range(6)], {"E1": "S", "E2": "B", "E3": "C"}),
    "all missing": ([(f"M{n}", None, None, None, None, None, 0.0) for n in range(4)], {"M0": "C"}),
    "no customers": ([], {}),
}


@pytest.mark.parametrize("name", FIXED)
def test_populations(name, plan, engine, registry):
    customers, previous = FIXED[name]
    evaluation = evaluate(plan, customers, previous)
    assert len(evaluation.rows) == len(customers)
    assert compare(evaluation, registry, engine) == []


def test_populations_reach_every_branch(plan):
    """The fixed populations hold insufficient data, promotions and kept grades under
    both grade styles, so the comparisons above test them."""
    schemes = {scheme.id: scheme for scheme in plan.schemes}
    seen = set()
    for customers, previous in FIXED.values():
        for row in evaluate(plan, customers, previous).rows:
            outcome = row[schemes["grade"].slot.index]
            codes = {reason["code"] for reason in schemes["grade"].compiled.explain(outcome, None)}
            promoted, score = "weighted.promoted" in codes, outcome[1]
            seen |= {"insufficient"} if score is None else set()
            seen |= {"renormalised"} if score is not None and "weighted.missing" in codes else set()
            seen |= {"promoted"} if promoted else set()
            seen |= {"kept"} if codes & {"weighted.kept_up", "weighted.kept_down"} else set()
            seen |= {"promoted insufficient"} if promoted and score is None else set()
            outcome = row[schemes["share"].slot.index]
            reasons = schemes["share"].compiled.explain(outcome, None)
            seen |= {"share promoted"} if any(r["code"] == "weighted.promoted" for r in reasons) else set()
            by_share = [r["grade"] for r in reasons if r["code"] in ("weighted.share", "weighted.share_rest")]
            seen |= {f"share {by_share[0] if by_share else 'insufficient_data'}"}
    assert {"insufficient", "renormalised", "promoted", "kept", "promoted insufficient", "share promoted",
            "share S", "share A", "share B", "share C", "share insufficient_data"} <= seen


@pytest.mark.slow  # one DuckDB query per example: percentiles and share grades are population-wide
@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_populations_duckdb(data, plan, registry):
    size = data.draw(st.integers(0, 30))
    # one draw for the population (a draw per value costs more than the query)
    drawn = data.draw(st.lists(GENERATED_CUSTOMER, min_size=size, max_size=size))
    customers = [(f"C{number}", *values) for number, (*values, _label) in enumerate(drawn)]
    previous = {f"C{number}": label for number, (*_values, label) in enumerate(drawn) if label is not None}
    evaluation = evaluate(plan, customers, previous)
    assert compare(evaluation, registry, shared_engine("duckdb")) == []


# -- hysteresis at its exact boundaries -------------------------------------------------

# (previous points, points now, grade now): tests/engine/test_hysteresis.py's boundaries
BOUNDARIES = {
    "B_up_short": (50, 62.4, "B"),
    "B_up_exact": (50, 62.5, "A"),
    "B_down_exact": (50, 37.5, "B"),
    "B_down_past": (50, 37.4, "C"),
    "B_jump": (50, 85, "S"),
    "S_down_exact": (90, 77.5, "S"),
    "S_down_past": (90, 77.4, "A"),
    "C_up_short": (10, 42.4, "C"),
    "C_up_exact": (10, 42.5, "B"),
    "A_up_short": (70, 82.4, "A"),
    "A_up_exact": (70, 82.5, "S"),
    "B_inside": (50, 41, "B"),
    "no_previous": (None, 62.4, "A"),
}


@pytest.mark.parametrize("id_type", ["string", "integer"])
def test_hysteresis_boundaries(id_type, engine, registry, tmp_path):
    """tests/history/graded.yaml (the score is the points field; S 80, A 60, B 40, C;
    margin 2.5) given the previous grades; integer ids are joined by their text."""
    path = tmp_path / "graded.yaml"
    path.write_text((ROOT / "tests" / "history" / "graded.yaml").read_text(encoding="utf-8").replace(
        "id: {type: string, required: true}", f"id: {{type: {id_type}, required: true}}"), encoding="utf-8")
    plan = compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    key = {name: (number if id_type == "integer" else name) for number, name in enumerate(BOUNDARIES, 1)}

    def grade_of(points):
        return next(grade for grade, low in (("S", 80), ("A", 60), ("B", 40), ("C", 0)) if points >= low)

    previous = {str(key[name]): grade_of(before) for name, (before, _now, _grade) in BOUNDARIES.items() if before is not None}
    rows = [[key[name], name, float(now), 0.0, 0.0] for name, (_before, now, _grade) in BOUNDARIES.items()]
    evaluation = BoundPlan(dataclasses.replace(plan, previous={"grade": previous}), AS_OF).run(rows)
    expected = python_outcomes(evaluation, registry)
    assert {name: expected[str(key[name])]["grade"][0] for name in BOUNDARIES} == {
        name: grade for name, (_before, _now, grade) in BOUNDARIES.items()
    }
    assert compare(evaluation, registry, engine) == []
