"""The ``matrix`` kind on the SQL engines gives the Python engine's cells, tags and
x_high/y_high/x_value/y_value attributes on hand-made populations (median, percentile
and fixed cuts, values at the cut, interpolated cuts, true/false axes, the presets and
the receivables flag, missing values, one customer, everyone equal) and random ones
(DuckDB); hand-made populations side by side, in fields of their own
(:func:`engine_harness.side_by_side`).

tests/cases/matrix.yml and the three bundled rulesets with a matrix (b2b-manufacturing,
fmcg-distribution, saas-enterprise) are in tests/engine/test_engines_cases.py."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import compile_ruleset
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset

from tests.engine_harness import (assert_same, assert_same_each, engine_fixture, evaluate_rows, make_ruleset, shared_engine,
                             side_by_side)

from tests.conftest import examples

REGISTRY = make_registry()
engine = engine_fixture()


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
    return make_ruleset("matrix-sql", fields, schemes, [{"by": "p0_median.x_value"}]), rows


def test_hand_made_populations(engine):
    seen = side_by_side(POPULATIONS, batched, REGISTRY, engine)
    # the populations exercise what they are named for
    assert [o["median"][0] for o in seen["interpolating"]] == ["low_low", "low_low", "high_high", "high_high"]
    assert [o["median"][0] for o in seen["ties at the cuts"]] == ["high_high", "high_high", "high_high", "high_low", "low_high"]
    assert {o["fv"][2] for o in seen["larger"]} == {(), ("key",), ("watch",), ("watch", "receivables_risk")}
    assert {o["fv_tagged"][2] for o in seen["larger"]} >= {("receivables_risk", "watch")}
    assert "unknown" in {o["flag"][0] for o in seen["interpolating"]}


def test_a_population_of_one_and_an_empty_one(engine):
    plan = compile_ruleset(batched({"one": [(1, 1.5, 1, True)]})[0], REGISTRY)
    only = {"id": "only", "x0": 4, "y0": 8.5, "o0": 2, "b0": False}
    actual = assert_same_each({"one": evaluate_rows(plan, [only]), "none": evaluate_rows(plan, [])}, REGISTRY, engine)
    assert actual["one"]["only"]["p0_median"][0] == "high_high" and actual["one"]["only"]["p0_flag"][0] == "low_high"
    assert actual["none"] == {}


# -- random populations (DuckDB) ------------------------------------------------------

RANDOM = compile_ruleset(
    make_ruleset("matrix-sql", {"x": {"type": "number"}, "y": {"type": "integer"}, "o": {"type": "number"}}, [
        {"id": "median", "kind": "matrix", "x": {"value": "x"}, "y": {"value": "y"}},
        {"id": "odd", "kind": "matrix", "x": {"value": "x", "cut": "p37.5"}, "y": {"value": "y", "cut": "p90"}},
        {"id": "fv", "kind": "matrix", "preset": "frequency_volume", "x": {"value": "y", "cut": 3},
         "y": {"value": "x", "cut": "p66.6"}, "receivables": "o > 0"},
    ], [{"by": "median.x_value"}]),
    REGISTRY,
)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-5, 20), st.floats(-1e3, 1e9, allow_nan=False, allow_infinity=False),
              st.sampled_from([0.1, 0.2, 0.3, 0.30000000000000004, 0.7])),
    st.one_of(st.none(), st.integers(0, 6)),
    st.one_of(st.none(), st.integers(-1, 1)),
), max_size=40))
def test_random_populations_on_duckdb(customers):
    rows = [{"id": f"C{index}", "x": x, "y": y, "o": o} for index, (x, y, o) in enumerate(customers)]
    assert_same(evaluate_rows(RANDOM, rows), REGISTRY, shared_engine("duckdb"))
