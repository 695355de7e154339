"""The ``rfm`` kind on the SQL engines gives the Python engine's segments, scores, tags,
r/f/m/fm/rfm attributes and ranks on hand-made populations (ties, missing dimensions,
one customer, everyone equal, negative and fractional values, custom segments with
tags, a date recency) and random ones (DuckDB).  Each hand-made population has its own
fields read by its own schemes (:func:`engine_harness.side_by_side`).

Each case of tests/cases/rfm.yml, and retail-membership on its sample orders, is
compared in tests/engine/test_engines_cases.py."""

from __future__ import annotations

import datetime as dt

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
    return make_ruleset("rfm-sql", fields, schemes, [{"by": "p0_grid.score"}, {"by": f"p{last}_custom.score", "order": "asc"}]), rows


def test_hand_made_populations(engine):
    seen = side_by_side(POPULATIONS, batched, REGISTRY, engine)
    # the populations exercise what they are named for
    assert "unknown" in {o["grid"][0] for o in seen["missing dimensions"]}
    assert {o["custom"][2] for o in seen["ten distinct, aligned"]} >= {("vip", "call"), ("fm3",)}
    assert {o["grid"][3]["rfm"] for o in seen["everyone equal"]} == {"333"}


def test_a_population_of_one_and_an_empty_one(engine):
    plan = compile_ruleset(batched({"one": [(1, 1, 1.5)]})[0], REGISTRY)
    only = {"id": "only", "r0": 4, "f0": 2, "m0": 8.5}
    actual = assert_same_each({"one": evaluate_rows(plan, [only]), "none": evaluate_rows(plan, [])}, REGISTRY, engine)
    outcome = actual["one"]["only"]["p0_grid"]
    assert outcome[:3] == ("need_attention", 9.0, ()) and outcome[3] == {"r": 3, "f": 3, "m": 3, "rfm": "333", "fm": 3}
    assert actual["none"] == {}


def test_a_date_recency():
    ruleset = make_ruleset(
        "rfm-sql",
        {"last": {"type": "date"}, "orders": {"type": "integer"}, "spend": {"type": "number"}},
        [{"id": "rfm", "kind": "rfm", "recency": "days_since(last)", "frequency": "orders", "monetary": "spend"}],
    )
    days = [dt.date(2026, 10, 31) - dt.timedelta(days=step * 17) for step in range(12)]
    rows = [{"id": f"C{index}", "last": day, "orders": index % 4, "spend": 10.5 * (index % 5)} for index, day in enumerate(days)]
    rows.append({"id": "none", "orders": 3, "spend": 1.0})
    assert_same(evaluate_rows(compile_ruleset(ruleset, REGISTRY), rows), REGISTRY, shared_engine("duckdb"))


# -- random populations (DuckDB) ------------------------------------------------------

RANDOM = compile_ruleset(
    make_ruleset("rfm-sql", {"recency": {"type": "integer"}, "count": {"type": "integer"}, "spend": {"type": "number"}}, [
        {"id": "rfm", "kind": "rfm", "recency": "recency", "frequency": "count", "monetary": "spend"},
        {"id": "custom", "kind": "rfm", "recency": "recency", "frequency": "count", "monetary": "spend",
         "segments": SEGMENTS},
    ], [{"by": "rfm.score"}]),
    REGISTRY,
)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(0, 30)),
    st.one_of(st.none(), st.integers(0, 6)),
    st.one_of(st.none(), st.integers(-5, 50), st.floats(-1e3, 1e9, allow_nan=False, allow_infinity=False)),
), max_size=60))
def test_random_populations_on_duckdb(customers):
    rows = [{"id": f"C{index}", "recency": r, "count": f, "spend": m} for index, (r, f, m) in enumerate(customers)]
    assert_same(evaluate_rows(RANDOM, rows), REGISTRY, shared_engine("duckdb"))
