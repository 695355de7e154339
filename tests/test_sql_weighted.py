"""The ``weighted`` kind on DuckDB and Spark gives the Python engine's outcomes: label,
score and tags for every customer, on the kind's boundary cases, on the bundled
rulesets and sample data that use it, and on generated populations (missing values,
ties, a population of one, all values equal or missing, promotions, share grades and
hysteresis against a previous run's labels)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierkit.engine import BoundPlan, compile_ruleset
from tierkit.errors import TierkitError
from tierkit.manager import make_registry
from tierkit.ruleset import load_ruleset
from tierkit.sqlplan import PREVIOUS_RELATION
from tierkit.testing import CaseRunner, load_cases

from .conftest import ROOT
from .engine_harness import compare_engines, differences, python_outcomes, shared_engine, sql_outcomes

AS_OF = dt.date(2026, 11, 1)
ENGINES = ["duckdb", "spark"]
CASES = load_cases(ROOT / "tests" / "cases" / "weighted.yml", make_registry())
EXAMPLES = ROOT / "examples"
BUNDLED = {  # ruleset -> (customers, orders), as the sample data's READMEs run them
    "b2b-manufacturing": (EXAMPLES / "b2b-manufacturing" / "customers.csv", None),
    "fmcg-distribution": (EXAMPLES / "fmcg-distribution" / "distributors.csv", EXAMPLES / "fmcg-distribution" / "orders.csv"),
    "saas-enterprise": (EXAMPLES / "saas-enterprise" / "accounts.csv", EXAMPLES / "saas-enterprise" / "invoices.csv"),
}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    return shared_engine(request.param)


def register_previous(plan, engine, previous: dict[str, str] | None) -> None:
    """``previous`` (customer id -> label) as the previous run's label of every scheme
    the plan reads ``previous_run`` of, where the SQL plan joins it from."""
    if plan.previous_slots:
        columns = {"id": "string", **{f"s{slot}": "string" for slot in plan.previous_slots.values()}}
        rows = [(customer, *[label] * len(plan.previous_slots)) for customer, label in (previous or {}).items()]
        engine.register_rows(PREVIOUS_RELATION, columns, rows)


def compare(evaluation, registry, engine, previous: dict[str, str] | None = None) -> list[str]:
    """Differences between the Python outcomes of ``evaluation`` and ``engine``'s."""
    register_previous(evaluation.plan, engine, previous)
    return differences(python_outcomes(evaluation, registry), sql_outcomes(evaluation, registry, engine))


# -- the kind's boundary cases, each case's customers as one population --------------


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_boundary_cases(case, registry):
    assert compare(CaseRunner(registry).evaluate(case), registry, shared_engine("duckdb")) == []


RULESETS = {case.ruleset.data["name"]: case.ruleset.fingerprint for case in CASES}


@pytest.mark.parametrize("ruleset", RULESETS)
def test_boundary_cases_pooled(ruleset, engine, registry):
    """The customers of every case of one ruleset as one population (ids made distinct):
    one query per ruleset, so Spark runs them all."""
    runner = CaseRunner(registry)
    cases = [case for case in CASES if case.ruleset.fingerprint == RULESETS[ruleset]]
    plan = runner.plan_for(cases[0].ruleset)
    rows = []
    for number, case in enumerate(cases):
        for row in runner.evaluate(case).rows:
            typed = list(row[: len(plan.fields)])
            typed[plan.id_index] = f"{number}:{typed[plan.id_index]}"
            rows.append(typed)
    evaluation = BoundPlan(plan, cases[0].as_of).run(rows)
    assert len(evaluation.rows) == len(rows) >= len(cases)
    assert compare(evaluation, registry, engine) == []


# -- bundled rulesets on their sample data -----------------------------------------------


def _without_sql(data: dict, registry) -> list[str]:
    return sorted({s["kind"] for s in data["schemes"] if registry.kinds[s["kind"]].compile_sql is None})


def compare_bundled(ruleset, registry, engine, name: str) -> list[str]:
    """:func:`compare_engines` on the sample data of ``name``; skipped while the ruleset
    uses a function or kind of another plugin that has no SQL form yet."""
    customers, orders = BUNDLED[name]
    try:
        return compare_engines(ruleset, registry, engine.dialect.name, customers, orders, AS_OF)
    except TierkitError as error:
        if "has no SQL form" in str(error):
            pytest.skip(f"not in SQL yet: {error}")
        raise


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_ruleset(name, engine, registry):
    missing = _without_sql(load_ruleset(name, registry.ruleset_dirs).data, registry)
    if missing:
        pytest.skip(f"kinds without SQL yet: {', '.join(missing)}")
    assert compare_bundled(name, registry, engine, name) == []


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_weighted_schemes(name, engine, registry, tmp_path):
    """The bundled ruleset with only its weighted schemes, the derived features they
    read and no allocation (which reads the others), so the kind is checked on the
    sample data whatever the other kinds and functions do."""
    data = load_ruleset(name, registry.ruleset_dirs).data
    kept = [scheme for scheme in data["schemes"] if scheme["kind"] == "weighted"]
    dropped = {scheme["id"] for scheme in data["schemes"]} - {scheme["id"] for scheme in kept}
    assert kept
    reads_dropped = re.compile(r"\b(" + "|".join(map(re.escape, dropped)) + r")\b") if dropped else None
    reduced = {key: value for key, value in data.items() if key not in ("schemes", "allocation", "rank", "derive")}
    reduced["schemes"] = kept
    reduced["rank"] = [key for key in data.get("rank") or [] if not (reads_dropped and reads_dropped.search(str(key["by"])))]
    derive = data.get("derive") or {}
    needed, text = {}, str([kept, reduced["rank"]])
    while True:  # the derived features read, and those they read
        more = {n: c for n, c in derive.items() if n not in needed and re.search(rf"\b{re.escape(n)}\b", text)}
        if not more:
            break
        needed.update(more)
        text += str(list(more.values()))
    if needed:
        reduced["derive"] = {n: c for n, c in derive.items() if n in needed}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(reduced, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert compare_bundled(path, registry, engine, name) == []


# -- generated populations --------------------------------------------------------------

RULESET = """
tierkit: 1
name: weighted-sql
version: "1"
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


@pytest.fixture(scope="module")
def plan(tmp_path_factory, registry):
    path = tmp_path_factory.mktemp("weighted") / "ruleset.yaml"
    path.write_text(RULESET, encoding="utf-8")
    return compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)


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
    assert compare(evaluation, registry, engine, previous) == []


def test_populations_reach_every_branch(plan):
    """The fixed populations hold insufficient data, promotions and kept grades under
    both grade styles, so the comparisons above test them."""
    slots = {scheme.id: scheme.slot.index for scheme in plan.schemes}
    seen = set()
    for customers, previous in FIXED.values():
        for row in evaluate(plan, customers, previous).rows:
            label, score, _tags, (_values, points, promoted, kept) = row[slots["grade"]]
            seen |= {"insufficient"} if score is None else set()
            seen |= {"renormalised"} if score is not None and None in points else set()
            seen |= {"promoted"} if promoted is not None else set()
            seen |= {"kept"} if kept is not None else set()
            seen |= {"promoted insufficient"} if promoted is not None and score is None else set()
            label, score, _tags, (_values, _points, promoted, by_share) = row[slots["share"]]
            seen |= {"share promoted"} if promoted is not None else set()
            seen |= {f"share {by_share}"}
    assert {"insufficient", "renormalised", "promoted", "kept", "promoted insufficient", "share promoted",
            "share S", "share A", "share B", "share C", "share insufficient_data"} <= seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_populations_duckdb(data, plan, registry):
    size = data.draw(st.integers(0, 30))
    customers = [customer(lambda values: data.draw(st.sampled_from(values)), f"C{number}") for number in range(size)]
    previous = {row[0]: label for row in customers if (label := data.draw(st.sampled_from(PREVIOUS))) is not None}
    evaluation = evaluate(plan, customers, previous)
    assert compare(evaluation, registry, shared_engine("duckdb"), previous) == []


# -- hysteresis at its exact boundaries -------------------------------------------------

# (previous points, points now, grade now): tests/test_hysteresis.py's boundaries
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
    assert compare(evaluation, registry, engine, previous) == []
