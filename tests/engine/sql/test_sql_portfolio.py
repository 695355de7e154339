"""The ``portfolio`` kind on the SQL engines: every label, tag and attribute (benchmark,
nail, at_risk, level) equals the Python engine's for every customer, on hand-made
populations (ties, missing values, one customer, all equal, values next to an
interpolated percentile cut) run through a ruleset holding one portfolio scheme per
config variant, and on random ones (DuckDB).

The kind's boundary cases and the bundled rulesets that use it run in
tests/engine/test_engines_cases.py, where Spark sees each ruleset's cases pooled; the cases
whose population size is their point run here on Spark as they are."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import compile_ruleset
from tierkit.ruleset.population import parse_cut
from tierkit.analysis.testing import CaseRunner, load_cases

from tests.conftest import ROOT, examples
from tests.engine_harness import (AS_OF, assert_same_each, compare, engine_fixture, evaluate_rows, make_ruleset,
                             python_outcomes, shared_engine)

engine = engine_fixture()


# -- the kind's boundary cases whose population size is their point -----------------------
# (every case alone on DuckDB, and each ruleset's cases pooled: tests/engine/test_engines_cases.py)


def _cut_by_population(ruleset) -> bool:
    """Whether a portfolio scheme of the ruleset cuts value at a percentile of the population."""
    return any(scheme.get("kind") == "portfolio" and scheme.get("nail") is not False
               and parse_cut((scheme.get("nail") or {}).get("value_cut", "p80"))[0] == "percentile"
               for scheme in ruleset.data["schemes"])


@pytest.mark.spark
def test_cases_whose_size_is_their_point_on_spark(registry):
    """The cases Spark would otherwise see only pooled: no customers, or one under a
    percentile cut (its own 80th percentile)."""
    runner = CaseRunner(registry)
    cases = [case for case in load_cases(ROOT / "tests" / "cases" / "portfolio.yml", registry)
             if not case.customers or (len(case.customers) == 1 and _cut_by_population(case.ruleset))]
    assert {len(case.customers) for case in cases} == {0, 1}
    assert_same_each({case.name: runner.evaluate(case) for case in cases}, registry, shared_engine("spark"))


# -- hand-made populations ------------------------------------------------------------------

FIELDS = {
    "id": {"type": "string", "required": True},
    "influence": {"type": "number"},
    "satisfaction": {"type": "integer"},
    "cooperation": {"type": "number"},
    "tier": {"type": "string"},
    "annual_procurement": {"type": "number"},
    "v10": {"type": "number"},
    "v33": {"type": "number"},
    "units": {"type": "integer"},
    "stalemate_days": {"type": "integer"},
    "share_of_wallet": {"type": "number"},
    "tenure_days": {"type": "integer"},
    "expected_return": {"type": "number"},
    "revenue_trend": {"type": "number"},
    "last_visit_date": {"type": "date"},
    "complaints_90d": {"type": "integer"},
    "competitor_contact": {"type": "boolean"},
    "stuck": {"type": "boolean"},
}
STALE = {"value": "annual_procurement", "stalemate": "stuck"}
SCHEMES = [
    # every default: the three indicators, value annual_procurement at p80, both stalemate
    # parts, the default signals whose fields exist (visit gap from last_visit_date)
    {"id": "defaults", "kind": "portfolio"},
    {"id": "levels", "kind": "portfolio", "nail": False, "at_risk": False,
     "benchmark": {"influence": {"value": "influence", "min": 60}, "satisfaction": "satisfaction + 5",
                   "cooperation": {"min": 50.5}, "level": "tier",
                   "levels": {"national": 90, "provincial": 80.5, "local": 65}}},
    {"id": "level_by_influence", "kind": "portfolio", "nail": False, "at_risk": False,
     "benchmark": {"influence": {"min": 40}, "satisfaction": {"min": 0}, "cooperation": "cooperation"}},
    {"id": "median_units", "kind": "portfolio", "benchmark": False, "at_risk": False,
     "nail": {"value": "units", "value_cut": "median", "stalemate": "stuck", "return_value": "expected_return",
              "min_value": 50}},
    {"id": "p95", "kind": "portfolio", "benchmark": False, "at_risk": False, "nail": {**STALE, "value_cut": "p95"}},
    {"id": "p10", "kind": "portfolio", "benchmark": False, "at_risk": False, "nail": {**STALE, "value": "v10", "value_cut": "p10"}},
    {"id": "p33", "kind": "portfolio", "benchmark": False, "at_risk": False,
     "nail": {**STALE, "value": "v33", "value_cut": {"percentile": 0.33}, "min_value": 150.25}},
    {"id": "p0", "kind": "portfolio", "benchmark": False, "at_risk": False, "nail": {**STALE, "value_cut": "p0"}},
    {"id": "p100", "kind": "portfolio", "benchmark": False, "at_risk": False, "nail": {**STALE, "value_cut": "p100"}},
    {"id": "fixed", "kind": "portfolio", "benchmark": False,
     "nail": {"value_cut": 250.5, "stalemate_days": 30, "max_share": 0.2, "min_value": 1000},
     "at_risk": {"min_signals": 3, "signals": {"visit_gap": False,
                                               "stuck": {"when": "stuck", "label": {"en": "Stuck", "zh": "卡住"}}}}},
    {"id": "fixed_integer", "kind": "portfolio", "benchmark": False, "at_risk": False,
     "nail": {"value": "units * 2", "value_cut": 7, "stalemate": "stalemate_days > 10 or stuck",
              "return_value": "units - 3", "min_value": 0}},
    {"id": "signals", "kind": "portfolio", "benchmark": False, "nail": False,
     "at_risk": {"min_signals": 2, "signals": {"order_decline": "revenue_trend < 0.9",
                                               "visit_gap": {"when": "days_since(last_visit_date) > 30"},
                                               "stuck": "stuck", "complaints": False}}},
    # a later scheme reading the attributes, as allocation rules do
    {"id": "follow", "kind": "rules", "rules": [
        {"id": "pull", "when": "defaults.nail and not p33.nail"},
        {"id": "defend", "when": "signals.at_risk"},
        {"id": "showcase", "when": "levels.level == 'national' or level_by_influence.level == 'local'"},
        {"id": "undecided", "when": "defaults.benchmark is none"},
    ], "default": {"id": "normal"}},
]


@pytest.fixture(scope="module")
def variants(registry):
    """The plan of a ruleset holding one portfolio scheme per config variant."""
    ruleset = make_ruleset("portfolio-variants", FIELDS, SCHEMES, [{"by": "annual_procurement", "order": "desc"}])
    return compile_ruleset(ruleset, registry)


CHOICES = {
    "influence": [None, 0, 39.9, 40, 65, 70, 80.5, 90, 94.99, 95, 100],
    "satisfaction": [None, 0, 55, 64, 65, 70, 90],
    "cooperation": [None, 50.4, 50.5, 69.99, 70, 100],
    "tier": [None, "national", "county"],
    "annual_procurement": [None, -5, 0, 100, 100, 250.5, 250.5, 1000, 1e6, 100.00000000000001, 1 / 3],
    "v10": [None, 0, 7.3, 7.3, 7.3000000000000025, 151],
    "v33": [None, 1.0, 1.0000000000000002, 150.25, 1e9],
    "units": [None, 0, 3, 4, 4, 10, 2**40],
    "stalemate_days": [None, 0, 10, 11, 29, 30, 179, 180, 400],
    "share_of_wallet": [None, 0.0, 0.05, 0.0999, 0.1, 0.19999, 0.2],
    "tenure_days": [None, 29, 30, 179, 180, 365],
    "expected_return": [None, -1, 49.99, 50, 150.25, 1e7],
    "revenue_trend": [None, 0.5, 0.6999, 0.7, 0.9, 1.2],
    "last_visit_date": [None, AS_OF, AS_OF - dt.timedelta(days=30), AS_OF - dt.timedelta(days=31),
                        AS_OF - dt.timedelta(days=61)],
    "complaints_90d": [None, 0, 1, 2, 5],
    "competitor_contact": [None, True, False],
    "stuck": [None, True, False],
}


def _random_population(generator: random.Random, size: int, missing: float = 0.2) -> list[dict]:
    customers = []
    for number in range(size):
        customer = {"id": f"C{number}"}
        for name, choices in CHOICES.items():
            value = None if generator.random() < missing else generator.choice(choices)
            if value is not None:
                customer[name] = value.isoformat() if isinstance(value, dt.date) else value
        customers.append(customer)
    return customers


def _populations() -> dict[str, list[dict]]:
    generator = random.Random(20261101)
    # values beside an interpolated cut, each in its own field and scheme: p95 of 100,
    # 100, 100 and the next double is that double, so the customers at 100 are not high
    # value; p10 of 7.3 and 7.3000000000000025 is 7.3, so the first one is; p33 of 1 and
    # twice the next double is that double.  The engines' own percentile aggregates round
    # some of these the other way, only the Python formula gets every label right.
    above_100 = math.nextafter(100.0, math.inf)
    above_1 = math.nextafter(1.0, math.inf)
    last_bit = [
        {"annual_procurement": 100.0, "v10": 7.3, "v33": 1.0},
        {"annual_procurement": 100.0, "v10": 7.3000000000000025, "v33": above_1},
        {"annual_procurement": 100.0, "v33": above_1},
        {"annual_procurement": above_100},
    ]
    integers = [2**40, 2**40 + 1, None, 3, 2**33]
    return {
        "random": _random_population(generator, 80),
        "random, few missing": _random_population(generator, 40, missing=0.05),
        "random, mostly missing": _random_population(generator, 30, missing=0.7),
        "one customer": _random_population(generator, 1, missing=0.0),
        "all equal": [{**_random_population(random.Random(5), 1, missing=0.0)[0], "id": f"E{n}"} for n in range(6)],
        "nothing known": [{"id": f"N{n}"} for n in range(4)],
        "none": [],
        "the last bit of the cut": [{"id": f"V{n}", "stuck": True, **values} for n, values in enumerate(last_bit)],
        "integers past 2**31": [{"id": f"I{n}", "stuck": True, "units": value, "expected_return": 10}
                                for n, value in enumerate(integers)],
    }


# Spark takes seconds to plan each query of the many-scheme ruleset: the random population,
# the smallest ones and the percentile rounding (the rest run on DuckDB)
SPARK_POPULATIONS = ("random", "one customer", "none", "the last bit of the cut")


def test_populations(engine, variants, registry):
    populations = {name: evaluate_rows(variants, customers) for name, customers in _populations().items()
                   if engine.dialect.name != "spark" or name in SPARK_POPULATIONS}
    assert_same_each(populations, registry, engine)


def test_the_populations_reach_every_outcome(variants, registry):
    """The hand-made populations carry every label and every flag value somewhere, so the
    comparisons above would see a wrong branch."""
    seen: dict[str, set] = {}
    for customers in _populations().values():
        for outcome in python_outcomes(evaluate_rows(variants, customers), registry).values():
            for scheme in SCHEMES[:-1]:
                label, _score, tags, attributes = outcome[scheme["id"]]
                seen.setdefault("label", set()).add(label)
                seen.setdefault("tags", set()).update(tags)
                for attribute, value in attributes.items():
                    seen.setdefault(attribute, set()).add(value)
    assert seen["label"] == {"at_risk", "nail", "benchmark", "none", "unknown"}
    assert seen["tags"] == {"at_risk", "nail", "nail_drop", "benchmark"}
    for flag in ("benchmark", "nail", "at_risk"):
        assert seen[flag] == {True, False, None}, flag
    assert seen["level"] >= {None, "national", "provincial", "local", "surrounding", "county"}, seen["level"]


def test_the_cuts_next_to_a_value_are_decided_by_the_last_bit(variants, registry):
    """In the last-bit population the Python engine's cut is exactly a customer's value or
    exactly the next double above it: these labels hang on the last bit of the cut."""
    outcomes = python_outcomes(evaluate_rows(variants, _populations()["the last bit of the cut"]), registry)

    def of(scheme: str, part: int) -> list:
        return [outcomes[f"V{number}"][scheme][part] for number in range(4)]

    assert of("p95", 0) == ["none", "none", "none", "nail"]
    assert of("p10", 0) == ["nail", "nail", "unknown", "unknown"]
    assert of("p33", 2) == [(), ("nail_drop",), ("nail_drop",), ()]  # under min_value: dropped


@pytest.mark.slow  # one DuckDB query per example: the percentiles are population-wide
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(0, 12), missing=st.sampled_from([0.0, 0.1, 0.4, 0.9]))
def test_random_populations_on_duckdb(variants, registry, seed, size, missing):
    customers = _random_population(random.Random(seed), size, missing)
    assert compare(evaluate_rows(variants, customers), registry, shared_engine("duckdb")) == []
