"""The ``pareto`` kind on the SQL engines gives the Python engine's labels, scores, tags,
shares and ranks: every case population of tests/cases/pareto.yml (each on DuckDB; each
ruleset's cases as one population on both engines), the bundled retail-membership
ruleset on its sample orders, hand-made populations (ties across both cuts, values at
or below zero, missing values, one customer, everyone equal, integer and fractional
values) and random ones.

Spark queries are few: hand-made populations go into one query, each population in
its own field read by its own schemes (a customer without a value takes no part in a
population, so the populations do not mix)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine import BoundPlan, compile_ruleset
from tierkit.io import table_from_rows
from tierkit.job import run_job
from tierkit.manager import make_registry
from tierkit.ruleset import Ruleset, fingerprint_of, load_ruleset
from tierkit.sqldialect import SPARK
from tierkit.sqlplan import compile_sql_plan
from tierkit.testing import CaseRunner, load_cases

from .conftest import ROOT
from .engine_harness import compare_engines, differences, python_outcomes, shared_engine, sql_outcomes

REGISTRY = make_registry()
RUNNER = CaseRunner(REGISTRY)
AS_OF = dt.date(2026, 11, 1)
ENGINES = ("duckdb", "spark")
# Spark's analysis time grows steeply with the depth of a query (about 45 SELECT layers
# used up its default 100 analyser passes; 49 took over a minute): batches stay shallow.
MOST_LAYERS = 32
CASES = load_cases(ROOT / "tests" / "cases" / "pareto.yml", REGISTRY)
RETAIL_ORDERS = ROOT / "examples" / "retail-membership" / "orders.csv"


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    return shared_engine(request.param)


def make_ruleset(fields: dict, schemes: list[dict], rank: list | None = None) -> Ruleset:
    data = {"tierkit": 1, "name": "pareto-sql", "version": "1",
            "fields": {"id": {"type": "string", "required": True}, **fields}, "schemes": schemes}
    if rank:
        data["rank"] = rank
    return Ruleset(data, Path("pareto-sql.yaml"), {}, fingerprint_of(data))


def evaluate(plan, rows: list[dict], as_of: dt.date = AS_OF):
    table = table_from_rows("pareto-sql", plan.fields, enumerate(rows, 1))
    evaluation = BoundPlan(plan, as_of).run_table(table)
    assert not evaluation.rejected
    return evaluation


def compare(evaluation, engine) -> dict:
    """The SQL outcomes, asserted equal to the Python ones."""
    expected, actual = python_outcomes(evaluation, REGISTRY), sql_outcomes(evaluation, REGISTRY, engine)
    assert differences(expected, actual) == []
    return actual


# -- the case file --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_case_population_on_duckdb(case):
    compare(RUNNER.evaluate(case), shared_engine("duckdb"))


def case_groups(cases) -> dict[str, list]:
    groups: dict[str, list] = {}
    for case in cases:
        groups.setdefault(f"{case.ruleset.data['name']}@{case.as_of}", []).append(case)
    return groups


def test_each_case_ruleset_on_all_its_case_customers(engine):
    """Spark's share of the case file: one population per ruleset, its cases' customers
    together (ids prefixed by the case)."""
    for name, cases in case_groups(CASES).items():
        plan = RUNNER.plan_for(cases[0].ruleset)
        id_field = plan.ruleset.id_field
        rows = [{**customer, id_field: f"{number}:{customer.get(id_field)}"}
                for number, case in enumerate(cases) for customer in case.customers]
        try:
            compare(evaluate(plan, rows, cases[0].as_of), engine)
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from None


# -- bundled rulesets and sample data -------------------------------------------------


def kinds_without_sql(name: str) -> list[str]:
    schemes = load_ruleset(name, REGISTRY.ruleset_dirs).data["schemes"]
    return sorted({s["kind"] for s in schemes if REGISTRY.kinds[s["kind"]].compile_sql is None})


def only_kind(name: str, kind: str) -> Ruleset:
    """A bundled ruleset with only its schemes of ``kind`` (no rank, no allocation)."""
    loaded = load_ruleset(name, REGISTRY.ruleset_dirs)
    data = {key: value for key, value in loaded.data.items() if key not in ("rank", "allocation")}
    data["schemes"] = [scheme for scheme in data["schemes"] if scheme.get("kind") == kind]
    return replace(loaded, data=data, fingerprint=fingerprint_of(data))


def test_bundled_retail_membership_pareto(engine):
    plan = compile_ruleset(only_kind("retail-membership", "pareto"), REGISTRY)
    job = run_job(plan, REGISTRY, None, str(RETAIL_ORDERS), AS_OF, history=False)
    assert len(job.evaluation.rows) > 100
    actual = compare(job.evaluation, engine)
    assert {outcome["pareto"][0] for outcome in actual.values()} == {"top", "middle", "bottom"}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_bundled_retail_membership(engine_name):
    missing = kinds_without_sql("retail-membership")
    if missing:
        pytest.skip(f"kinds without SQL yet: {', '.join(missing)}")
    assert compare_engines("retail-membership", REGISTRY, engine_name, orders=RETAIL_ORDERS) == []


# -- hand-made populations, all in one query ------------------------------------------

POPULATIONS = {
    "ties across both cuts": [100, 90, 90, 90, 50, 40, 30, 20, 10, 10],
    "tie starting at the top cut": [100, 90, 80, 80, 70, 60, 50, 40, 30, 20],
    "zeros, negatives and missing": [500, 0, -20, None, 300, 0, None, -1, 200, 100],
    "many zeros": [0] * 8 + [10, 5],
    "no positive value": [0, -5, None, -5, 0],
    "one customer": [42],
    "everyone equal": [7, 7, 7, 7, 7],
    "all missing": [None, None, None],
    "fractions": [0.1, 0.2, 0.3, 0.7, 0.1, 1e-9, 123456.789, 0.30000000000000004, 3.3, -0.0],
}
VARIANTS = {
    "default": {},
    "wide": {"top": 0.5, "bottom": 0.5},
    "narrow": {"top": 0.1, "bottom": 0.3},
    "nothing_top": {"top": 0, "bottom": 1},
    "everything_top": {"top": 1, "bottom": 0},
}


def batched(populations: dict[str, list]) -> tuple[Ruleset, list[dict]]:
    """One field per population (integer when every value is), its schemes reading only
    it, and a rules scheme comparing its shares exactly, as rulesets do."""
    fields, schemes, rows = {}, [], []
    for number, values in enumerate(populations.values()):
        integral = all(value is None or isinstance(value, int) for value in values)
        fields[f"v{number}"] = {"type": "integer" if integral else "number"}
        for name, config in VARIANTS.items():
            schemes.append({"id": f"p{number}_{name}", "kind": "pareto", "value": f"v{number}", **config})
        schemes.append({"id": f"p{number}_double", "kind": "pareto", "value": f"v{number} * 2 - 3", "bottom": 0.25})
        schemes.append({"id": f"p{number}_reads", "kind": "rules", "hit_policy": "collect", "rules": [
            {"id": "all", "when": f"p{number}_default.cumulative_share == 1.0"},
            {"id": "half", "when": f"p{number}_default.customer_share <= 0.5"},
            {"id": "no_share", "when": f"p{number}_default.cumulative_share is none"},
        ], "default": {"id": "other"}})
        rows += [{"id": f"p{number}_{index}", f"v{number}": value} for index, value in enumerate(values)]
    return make_ruleset(fields, schemes, [{"by": "p0_default.score"}]), rows


def chunks(populations: dict[str, list], most: int = MOST_LAYERS):
    """The populations in groups whose query has at most ``most`` SELECT layers."""
    group: dict[str, list] = {}
    for name, values in populations.items():
        trial = {**group, name: values}
        plan = compile_ruleset(batched(trial)[0], REGISTRY)
        if group and len(compile_sql_plan(plan, REGISTRY, SPARK, AS_OF, "t").query.layers) > most:
            yield group
            trial = {name: values}
        group = trial
    if group:
        yield group


def test_hand_made_populations(engine):
    seen = {}
    for chunk in chunks(POPULATIONS):
        ruleset, rows = batched(chunk)
        actual = compare(evaluate(compile_ruleset(ruleset, REGISTRY), rows), engine)
        for number, name in enumerate(chunk):  # each customer's outcomes of its own population's schemes
            prefix = f"p{number}_"
            seen[name] = [{key[len(prefix):]: value for key, value in outcome.items() if key.startswith(prefix)}
                          for customer, outcome in sorted(actual.items(), key=lambda item: int(item[0].split("_")[1]))
                          if customer.startswith(prefix)]
    # the populations exercise what they are named for
    assert [o["default"][0] for o in seen["ties across both cuts"]] == ["top"] * 4 + ["middle"] * 4 + ["bottom"] * 2
    assert {o["default"][0] for o in seen["no positive value"]} == {"bottom", "unknown"}
    assert all("no_share" in o["reads"][2] for o in seen["no positive value"])
    assert {o["wide"][0] for o in seen["everyone equal"]} == {"top"}


def test_a_population_of_one_and_an_empty_one(engine):
    ruleset, _rows = batched({"one": [5]})
    plan = compile_ruleset(ruleset, REGISTRY)
    assert compare(evaluate(plan, [{"id": "only", "v0": 5}]), engine)["only"]["p0_default"][:3] == ("top", 5.0, ())
    assert compare(evaluate(plan, []), engine) == {}


def test_shares_end_at_exactly_one_and_tie_groups_share_them(engine):
    """Fractional values, summed in whatever order the engine sums a window: the last
    positive tie group and everything below it get exactly 1.0, a tie group shares one
    share, none exceeds 1.0, and the labels (counts only) are Python's.  Spark's shares
    are Python's to the last bit."""
    rng = random.Random(7)
    values = [round(rng.lognormvariate(6, 2), 2) for _ in range(300)] + [0.0, -3.5, None]
    values += values[:40]
    ruleset = make_ruleset({"revenue": {"type": "number"}}, [{"id": "tiers", "kind": "pareto"}])
    rows = [{"id": f"C{index}", "revenue": value} for index, value in enumerate(values)]
    evaluation = evaluate(compile_ruleset(ruleset, REGISTRY), rows)
    expected, actual = python_outcomes(evaluation, REGISTRY), compare(evaluation, engine)
    if engine.dialect.name == "spark":  # an ordered frame adds row by row, largest first, as Python does
        assert all(actual[c]["tiers"][3] == expected[c]["tiers"][3] for c in expected)
    shares: dict = {}
    for index, value in enumerate(values):
        shares.setdefault(value, set()).add(actual[f"C{index}"]["tiers"][3]["cumulative_share"])
    smallest_positive = min(v for v in values if v is not None and v > 0)
    for value, found in shares.items():
        assert len(found) == 1, value
        (share,) = found
        if value is None:
            assert share is None
        elif value <= smallest_positive:
            assert share == 1.0, value
        else:
            assert share < 1.0
    assert {outcome["tiers"][0] for outcome in actual.values()} == {"top", "middle", "bottom", "unknown"}


# -- random populations (DuckDB) ------------------------------------------------------

RANDOM = compile_ruleset(
    make_ruleset({"revenue": {"type": "number"}, "count": {"type": "integer"}}, [
        {"id": "tiers", "kind": "pareto"},
        {"id": "cuts", "kind": "pareto", "top": 0.1, "bottom": 0.3},
        {"id": "counts", "kind": "pareto", "value": "count", "top": 0.25, "bottom": 0.25},
        {"id": "reads", "kind": "rules", "hit_policy": "collect", "rules": [
            {"id": "all", "when": "counts.cumulative_share == 1.0"},
            {"id": "third", "when": "counts.customer_share <= 1 / 3"},
        ], "default": {"id": "other"}},
    ], [{"by": "tiers.score"}]),
    REGISTRY,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-20, 60), st.floats(-1e3, 1e9, allow_nan=False, allow_infinity=False)),
    st.one_of(st.none(), st.integers(-3, 12)),
), max_size=40))
def test_random_populations_on_duckdb(pairs):
    rows = [{"id": f"C{index}", "revenue": revenue, "count": count} for index, (revenue, count) in enumerate(pairs)]
    compare(evaluate(RANDOM, rows), shared_engine("duckdb"))
