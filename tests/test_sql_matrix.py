"""The ``matrix`` kind on the SQL engines gives the Python engine's cells, tags and
x_high/y_high/x_value/y_value attributes: every case population of tests/cases/matrix.yml
(each on DuckDB; each ruleset's cases as one population on both engines), the bundled
rulesets that use it on their sample data (b2b-manufacturing, fmcg-distribution,
saas-enterprise), hand-made populations (median, percentile and fixed cuts, values at
the cut, interpolated cuts, true/false axes, the presets and the receivables flag,
missing values, one customer, everyone equal) and random ones.

Spark queries are few: hand-made populations go into a few queries, each population in
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
CASES = load_cases(ROOT / "tests" / "cases" / "matrix.yml", REGISTRY)
EXAMPLES = ROOT / "examples"
BUNDLED = {
    "b2b-manufacturing": (EXAMPLES / "b2b-manufacturing" / "customers.csv", None),
    "fmcg-distribution": (EXAMPLES / "fmcg-distribution" / "distributors.csv", EXAMPLES / "fmcg-distribution" / "orders.csv"),
    "saas-enterprise": (EXAMPLES / "saas-enterprise" / "accounts.csv", EXAMPLES / "saas-enterprise" / "invoices.csv"),
}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    return shared_engine(request.param)


def make_ruleset(fields: dict, schemes: list[dict], rank: list | None = None) -> Ruleset:
    data = {"tierkit": 1, "name": "matrix-sql", "version": "1",
            "fields": {"id": {"type": "string", "required": True}, **fields}, "schemes": schemes}
    if rank:
        data["rank"] = rank
    return Ruleset(data, Path("matrix-sql.yaml"), {}, fingerprint_of(data))


def evaluate(plan, rows: list[dict], as_of: dt.date = AS_OF):
    table = table_from_rows("matrix-sql", plan.fields, enumerate(rows, 1))
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


def test_bundled_rulesets_matrix_schemes(engine):
    for name, (customers, orders) in BUNDLED.items():
        plan = compile_ruleset(only_kind(name, "matrix"), REGISTRY)
        job = run_job(plan, REGISTRY, str(customers), orders and str(orders), AS_OF, history=False)
        assert len(job.evaluation.rows) > 100
        try:
            actual = compare(job.evaluation, engine)
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from None
        scheme = plan.schemes[0].id
        assert len({outcome[scheme][0] for outcome in actual.values()}) >= 4, name


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_rulesets(name, engine_name):
    missing = kinds_without_sql(name)
    if missing:
        pytest.skip(f"kinds without SQL yet: {', '.join(missing)}")
    customers, orders = BUNDLED[name]
    assert compare_engines(name, REGISTRY, engine_name, customers=customers, orders=orders) == []


# -- hand-made populations, a few per query ---------------------------------------------

# (x, y, overdue, flag) per customer
POPULATIONS = {
    "interpolating": [(1, 10, 0, True), (2, 20, 5, False), (3, 30, 0, None), (4, 40, -1, True)],
    "ties at the cuts": [(3, 7, 1, True), (3, 7, 0, True), (3, 9, 2, False), (7, 1, None, False), (1, 7, 3, True)],
    "missing values": [(10, 100, 1, True), (None, 50, 1, False), (2, None, 0, None), (4, 10, None, True),
                       (None, None, None, None), (8, 75, 2, False)],
    "one customer": [(0, 0, 1, False)],
    "everyone equal": [(5.5, 2, 1, True)] * 5,
    "all missing": [(None, None, None, None)] * 3,
    "fractions": [(0.1, 0.7, 1, True), (0.2, 0.1, 0, False), (0.3, 0.30000000000000004, 1, True),
                  (0.30000000000000004, 0.2, 0, True), (0.7, 1e-9, 1, False), (-0.1, 0.3, 0, False), (1e9, 0.1, 1, True)],
    "larger": [((i * 37) % 50, ((i * 53) % 101) / 4, i % 3 - 1, i % 2 == 0) for i in range(60)],
}
VARIANTS = {
    "median": {"x": {"value": "x{n}"}, "y": {"value": "y{n}", "cut": "median"}},
    "percentiles": {"x": {"value": "x{n}", "cut": "p75"}, "y": {"value": "y{n}", "cut": {"percentile": 0.25}}},
    "odd_percentiles": {"x": {"value": "x{n}", "cut": "p33.3"}, "y": {"value": "y{n}", "cut": "p37.5"}},
    "extremes": {"x": {"value": "x{n}", "cut": "p0"}, "y": {"value": "y{n}", "cut": "p100"}},
    "fixed": {"x": {"value": "x{n}", "cut": 3}, "y": {"value": "y{n}", "cut": 0.3}},
    "flag": {"x": {"value": "b{n}"}, "y": {"value": "y{n} * 2 - x{n}", "cut": "p60"},
             "cells": {"high_high": {"id": "hh", "tags": ["a", "b"]}, "low_low": "ll"}},
    "fv": {"preset": "frequency_volume", "x": {"value": "x{n}"}, "y": {"value": "y{n}", "cut": "p40"},
           "receivables": "o{n} > 0", "cells": {"low_high": {"tags": ["watch"]}, "high_high": {"tags": ["key"]}}},
    "fv_tagged": {"preset": "frequency_volume", "x": {"value": "x{n}", "cut": 25}, "y": {"value": "y{n}"},
                  "receivables": "o{n} >= 1", "cells": {"low_high": {"tags": ["receivables_risk", "watch"]}}},
    "vp_off": {"preset": "value_potential", "x": {"value": "x{n}"}, "y": {"value": "y{n}", "cut": 20}, "receivables": False},
}


def _fill(config, number: int):
    if isinstance(config, dict):
        return {key: _fill(value, number) for key, value in config.items()}
    if isinstance(config, list):
        return [_fill(value, number) for value in config]
    return config.replace("{n}", str(number)) if isinstance(config, str) else config


def batched(populations: dict[str, list]) -> tuple[Ruleset, list[dict]]:
    """Four fields per population, its schemes reading only them, and a rules scheme
    reading the attributes, as rulesets do."""
    fields, schemes, rows = {}, [], []
    for number, customers in enumerate(populations.values()):
        for letter, column in zip("xyo", zip(*customers)):
            integral = all(value is None or isinstance(value, int) for value in column)
            fields[f"{letter}{number}"] = {"type": "integer" if integral else "number"}
        fields[f"b{number}"] = {"type": "boolean"}
        schemes += [{"id": f"p{number}_{name}", "kind": "matrix", **_fill(config, number)} for name, config in VARIANTS.items()]
        schemes.append({"id": f"p{number}_reads", "kind": "rules", "hit_policy": "collect", "rules": [
            {"id": "both", "when": f"p{number}_median.x_high and p{number}_median.y_high"},
            {"id": "big", "when": f"p{number}_median.y_value >= 7"},
            {"id": "low_x", "when": f"p{number}_percentiles.x_high == false"},
        ], "default": {"id": "other"}})
        rows += [{"id": f"p{number}_{index}", f"x{number}": x, f"y{number}": y, f"o{number}": o, f"b{number}": b}
                 for index, (x, y, o, b) in enumerate(customers)]
    return make_ruleset(fields, schemes, [{"by": "p0_median.x_value"}]), rows


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
    assert [o["median"][0] for o in seen["interpolating"]] == ["low_low", "low_low", "high_high", "high_high"]
    assert [o["median"][0] for o in seen["ties at the cuts"]] == ["high_high", "high_high", "high_high", "high_low", "low_high"]
    assert {o["fv"][2] for o in seen["larger"]} == {(), ("key",), ("watch",), ("watch", "receivables_risk")}
    assert {o["fv_tagged"][2] for o in seen["larger"]} >= {("receivables_risk", "watch")}
    assert "unknown" in {o["flag"][0] for o in seen["interpolating"]}


def test_a_population_of_one_and_an_empty_one(engine):
    ruleset, _rows = batched({"one": [(1, 1.5, 1, True)]})
    plan = compile_ruleset(ruleset, REGISTRY)
    actual = compare(evaluate(plan, [{"id": "only", "x0": 4, "y0": 8.5, "o0": 2, "b0": False}]), engine)["only"]
    assert actual["p0_median"][0] == "high_high" and actual["p0_flag"][0] == "low_high"
    assert compare(evaluate(plan, []), engine) == {}


# -- random populations (DuckDB) ------------------------------------------------------

RANDOM = compile_ruleset(
    make_ruleset({"x": {"type": "number"}, "y": {"type": "integer"}, "o": {"type": "number"}}, [
        {"id": "median", "kind": "matrix", "x": {"value": "x"}, "y": {"value": "y"}},
        {"id": "odd", "kind": "matrix", "x": {"value": "x", "cut": "p37.5"}, "y": {"value": "y", "cut": "p90"}},
        {"id": "fv", "kind": "matrix", "preset": "frequency_volume", "x": {"value": "y", "cut": 3},
         "y": {"value": "x", "cut": "p66.6"}, "receivables": "o > 0"},
    ], [{"by": "median.x_value"}]),
    REGISTRY,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-5, 20), st.floats(-1e3, 1e9, allow_nan=False, allow_infinity=False),
              st.sampled_from([0.1, 0.2, 0.3, 0.30000000000000004, 0.7])),
    st.one_of(st.none(), st.integers(0, 6)),
    st.one_of(st.none(), st.integers(-1, 1)),
), max_size=40))
def test_random_populations_on_duckdb(customers):
    rows = [{"id": f"C{index}", "x": x, "y": y, "o": o} for index, (x, y, o) in enumerate(customers)]
    compare(evaluate(RANDOM, rows), shared_engine("duckdb"))
