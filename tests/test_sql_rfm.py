"""The ``rfm`` kind on the SQL engines gives the Python engine's segments, scores, tags,
r/f/m/fm/rfm attributes and ranks: every case population of tests/cases/rfm.yml (each
on DuckDB; each ruleset's cases as one population on both engines), the bundled
retail-membership ruleset on its sample orders, hand-made populations (ties, missing
dimensions, one customer, everyone equal, negative and fractional values, custom
segments with tags, a date recency) and random ones.

Spark queries are few: hand-made populations go into one query, each population in
its own fields read by its own schemes (a customer without values takes no part in a
population, so the populations do not mix)."""

from __future__ import annotations

import datetime as dt
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
CASES = load_cases(ROOT / "tests" / "cases" / "rfm.yml", REGISTRY)
RETAIL_ORDERS = ROOT / "examples" / "retail-membership" / "orders.csv"


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    return shared_engine(request.param)


def make_ruleset(fields: dict, schemes: list[dict], rank: list | None = None) -> Ruleset:
    data = {"tierkit": 1, "name": "rfm-sql", "version": "1",
            "fields": {"id": {"type": "string", "required": True}, **fields}, "schemes": schemes}
    if rank:
        data["rank"] = rank
    return Ruleset(data, Path("rfm-sql.yaml"), {}, fingerprint_of(data))


def evaluate(plan, rows: list[dict], as_of: dt.date = AS_OF):
    table = table_from_rows("rfm-sql", plan.fields, enumerate(rows, 1))
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


def test_bundled_retail_membership_rfm(engine):
    plan = compile_ruleset(only_kind("retail-membership", "rfm"), REGISTRY)
    job = run_job(plan, REGISTRY, None, str(RETAIL_ORDERS), AS_OF, history=False)
    assert len(job.evaluation.rows) > 100
    actual = compare(job.evaluation, engine)
    assert len({outcome["rfm"][0] for outcome in actual.values()}) >= 8


@pytest.mark.parametrize("engine_name", ENGINES)
def test_bundled_retail_membership(engine_name):
    missing = kinds_without_sql("retail-membership")
    if missing:
        pytest.skip(f"kinds without SQL yet: {', '.join(missing)}")
    assert compare_engines("retail-membership", REGISTRY, engine_name, orders=RETAIL_ORDERS) == []


# -- hand-made populations, all in one query ------------------------------------------

# (recency, frequency, monetary) per customer
POPULATIONS = {
    "ten distinct, aligned": [(i, 11 - i, 100 * (11 - i)) for i in range(1, 11)],
    "ties": [(5, 2, 10), (5, 2, 10), (5, 3, 10), (9, 3, 20), (9, 3, 20), (1, 1, 20), (30, 7, 10), (1, 2, 10)],
    "missing dimensions": [(1, 5, 50), (None, 4, 40), (3, None, 30), (4, 2, None), (5, 1, 10), (2, 3, 20), (None, None, None)],
    "one customer": [(7, 3, 99.5)],
    "everyone equal": [(10, 4, 250.0)] * 6,
    "all missing": [(None, None, None)] * 3,
    "negative and fractional": [(-3, 0.5, -10.25), (0, 0.25, 0.1), (2, 0.75, -0.1), (1e6, 0.5, 1e-9),
                                (0.5, 1.5, 3.3), (2, 0.75, 0.30000000000000004), (-3, 2, 0.3)],
    "one hundred": [((i * 37) % 50, (i * 11) % 7, (i * 53) % 101) for i in range(100)],
}
SEGMENTS = [
    {"id": "vip", "r": [4, 5], "f": [4, 5], "m": [4, 5], "tags": ["vip", "call"]},
    {"id": "champions", "m": 5},
    {"id": "mid_fm", "fm": 3, "tags": ["fm3"]},
    {"id": "fresh", "r": 5, "f": [1, 2], "tags": ["new"]},
    {"id": "rest"},
]


def batched(populations: dict[str, list]) -> tuple[Ruleset, list[dict]]:
    """Three fields per population, its schemes reading only them (the standard grid,
    custom segments with tags, expressions over the fields), and a rules scheme reading
    the attributes, as rulesets do."""
    fields, schemes, rows = {}, [], []
    for number, customers in enumerate(populations.values()):
        for letter, column in zip("rfm", zip(*customers)):
            integral = all(value is None or isinstance(value, int) for value in column)
            fields[f"{letter}{number}"] = {"type": "integer" if integral else "number"}
        dims = {"recency": f"r{number}", "frequency": f"f{number}", "monetary": f"m{number}"}
        schemes += [
            {"id": f"p{number}_grid", "kind": "rfm", **dims},
            {"id": f"p{number}_custom", "kind": "rfm", **dims, "segments": SEGMENTS},
            {"id": f"p{number}_exprs", "kind": "rfm", "recency": f"r{number} * -1", "frequency": f"f{number} + m{number}",
             "monetary": f"m{number} / 2"},
            {"id": f"p{number}_reads", "kind": "rules", "hit_policy": "collect", "rules": [
                {"id": "r5", "when": f"p{number}_grid.r == 5"},
                {"id": "f1", "when": f"p{number}_grid.f == 1"},
                {"id": "m3", "when": f"p{number}_grid.m == 3"},
                {"id": "fm4", "when": f"p{number}_grid.fm == 4"},
                {"id": "cell", "when": f"p{number}_grid.rfm == '535'"},
                {"id": "none", "when": f"p{number}_grid.rfm is none"},
            ], "default": {"id": "other"}},
        ]
        rows += [{"id": f"p{number}_{index}", f"r{number}": r, f"f{number}": f, f"m{number}": m}
                 for index, (r, f, m) in enumerate(customers)]
    last = len(populations) - 1
    return make_ruleset(fields, schemes, [{"by": "p0_grid.score"}, {"by": f"p{last}_custom.score", "order": "asc"}]), rows


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
    assert "unknown" in {o["grid"][0] for o in seen["missing dimensions"]}
    assert {o["custom"][2] for o in seen["ten distinct, aligned"]} >= {("vip", "call"), ("fm3",)}
    assert {o["grid"][3]["rfm"] for o in seen["everyone equal"]} == {"333"}


def test_a_population_of_one_and_an_empty_one(engine):
    ruleset, _rows = batched({"one": [(1, 1, 1.5)]})
    plan = compile_ruleset(ruleset, REGISTRY)
    outcome = compare(evaluate(plan, [{"id": "only", "r0": 4, "f0": 2, "m0": 8.5}]), engine)["only"]["p0_grid"]
    assert outcome[:3] == ("need_attention", 9.0, ()) and outcome[3] == {"r": 3, "f": 3, "m": 3, "rfm": "333", "fm": 3}
    assert compare(evaluate(plan, []), engine) == {}


def test_a_date_recency():
    ruleset = make_ruleset(
        {"last": {"type": "date"}, "orders": {"type": "integer"}, "spend": {"type": "number"}},
        [{"id": "rfm", "kind": "rfm", "recency": "days_since(last)", "frequency": "orders", "monetary": "spend"}],
    )
    days = [dt.date(2026, 10, 31) - dt.timedelta(days=step * 17) for step in range(12)]
    rows = [{"id": f"C{index}", "last": day, "orders": index % 4, "spend": 10.5 * (index % 5)} for index, day in enumerate(days)]
    rows.append({"id": "none", "orders": 3, "spend": 1.0})
    compare(evaluate(compile_ruleset(ruleset, REGISTRY), rows), shared_engine("duckdb"))


# -- random populations (DuckDB) ------------------------------------------------------

RANDOM = compile_ruleset(
    make_ruleset({"recency": {"type": "integer"}, "count": {"type": "integer"}, "spend": {"type": "number"}}, [
        {"id": "rfm", "kind": "rfm", "recency": "recency", "frequency": "count", "monetary": "spend"},
        {"id": "custom", "kind": "rfm", "recency": "recency", "frequency": "count", "monetary": "spend",
         "segments": SEGMENTS},
    ], [{"by": "rfm.score"}]),
    REGISTRY,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(0, 30)),
    st.one_of(st.none(), st.integers(0, 6)),
    st.one_of(st.none(), st.integers(-5, 50), st.floats(-1e3, 1e9, allow_nan=False, allow_infinity=False)),
), max_size=60))
def test_random_populations_on_duckdb(customers):
    rows = [{"id": f"C{index}", "recency": r, "count": f, "spend": m} for index, (r, f, m) in enumerate(customers)]
    compare(evaluate(RANDOM, rows), shared_engine("duckdb"))
