"""The ``pareto`` kind on the SQL engines gives the Python engine's labels, scores, tags,
shares and ranks on hand-made populations (ties across both cuts, values at or below
zero, missing values, one customer, everyone equal, integer and fractional values)
and random ones (DuckDB).  Each hand-made population has its own field read by its
own schemes (:func:`engine_harness.side_by_side`), a few populations to a query.

With the other kinds, tests/engine/test_engines_cases.py runs tests/cases/pareto.yml and
retail-membership on its orders."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.engine.evaluation import compile_ruleset
from tierkit.manager import make_registry
from tierkit.ruleset.load import Ruleset

from tests.engine_harness import (assert_same, assert_same_each, engine_fixture, evaluate_rows, make_ruleset,
                             python_outcomes, shared_engine, side_by_side)

from tests.conftest import examples

REGISTRY = make_registry()
engine = engine_fixture()


# -- hand-made populations, a few per query ---------------------------------------------

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
    return make_ruleset("pareto-sql", fields, schemes, [{"by": "p0_default.score"}]), rows


def test_hand_made_populations(engine):
    seen = side_by_side(POPULATIONS, batched, REGISTRY, engine)
    # the populations exercise what they are named for
    assert [o["default"][0] for o in seen["ties across both cuts"]] == ["top"] * 4 + ["middle"] * 4 + ["bottom"] * 2
    assert {o["default"][0] for o in seen["no positive value"]} == {"bottom", "unknown"}
    assert all("no_share" in o["reads"][2] for o in seen["no positive value"])
    assert {o["wide"][0] for o in seen["everyone equal"]} == {"top"}


def test_a_population_of_one_and_an_empty_one(engine):
    plan = compile_ruleset(batched({"one": [5]})[0], REGISTRY)
    populations = {"one": evaluate_rows(plan, [{"id": "only", "v0": 5}]), "none": evaluate_rows(plan, [])}
    actual = assert_same_each(populations, REGISTRY, engine)
    assert actual["one"]["only"]["p0_default"][:3] == ("top", 5.0, ()) and actual["none"] == {}


def test_shares_end_at_exactly_one_and_tie_groups_share_them(engine):
    """Fractional values, summed in whatever order the engine sums a window: the last
    positive tie group and everything below it get exactly 1.0, a tie group shares one
    share, none exceeds 1.0, and the labels (counts only) are Python's.  Spark's shares
    are Python's to the last bit."""
    rng = random.Random(7)
    values = [round(rng.lognormvariate(6, 2), 2) for _ in range(300)] + [0.0, -3.5, None]
    values += values[:40]
    ruleset = make_ruleset("pareto-sql", {"revenue": {"type": "number"}}, [{"id": "tiers", "kind": "pareto"}])
    rows = [{"id": f"C{index}", "revenue": value} for index, value in enumerate(values)]
    evaluation = evaluate_rows(compile_ruleset(ruleset, REGISTRY), rows)
    expected, actual = python_outcomes(evaluation, REGISTRY), assert_same(evaluation, REGISTRY, engine)
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
    make_ruleset("pareto-sql", {"revenue": {"type": "number"}, "count": {"type": "integer"}}, [
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


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-20, 60), st.floats(-1e3, 1e9, allow_nan=False, allow_infinity=False)),
    st.one_of(st.none(), st.integers(-3, 12)),
), max_size=40))
def test_random_populations_on_duckdb(pairs):
    rows = [{"id": f"C{index}", "revenue": revenue, "count": count} for index, (revenue, count) in enumerate(pairs)]
    assert_same(evaluate_rows(RANDOM, rows), REGISTRY, shared_engine("duckdb"))


def test_a_value_past_the_largest_double_rejects_its_row_on_every_engine(engine, tmp_path, capsys):
    """A value expression that overflows rejects that row with the same reason on the
    Python engine and on the SQL engine, and the others are shared without it."""
    import csv
    import json

    from tierkit.cli import main

    ruleset = tmp_path / "overflow.yaml"
    ruleset.write_text('tierkit: 1\nname: overflow\nversion: "1"\nfields:\n  id: {type: string, required: true}\n'
                       "  revenue: {type: number}\nschemes:\n  - {id: p, kind: pareto, value: revenue * 1e308 * 10}\n",
                       encoding="utf-8")
    customers = tmp_path / "customers.csv"
    customers.write_text("id,revenue\na,5\nb,1e-300\nc,2e-300\nd,\n", encoding="utf-8")
    seen = {}
    for name in ("python", engine.dialect.name):
        output, rejected = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejected.csv"
        code = main(["evaluate", str(ruleset), str(customers), "--as-of", "2026-11-01", "--engine", name,
                     "-o", str(output), "--rejected", str(rejected), "--no-progress"])
        assert code == 0, capsys.readouterr().err
        with open(rejected, encoding="utf-8-sig", newline="") as handle:
            reasons = [(row["row"], row["reason"]) for row in csv.DictReader(handle)]
        labels = {}
        for line in output.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "outcomes" in record:
                labels[record["id"]] = record["outcomes"]["p"]["label"]
        seen[name] = (reasons, labels)
    assert seen["python"] == seen[engine.dialect.name]
    assert seen["python"] == ([("2", "evaluation failed: p.score is not a finite number (inf)")],
                              {"b": "middle", "c": "top", "d": "unknown"})


def test_a_value_through_a_function_call(engine):
    """A value the IR has no node for yet (a function call) is computed by each engine's
    own expression compiler and shared as any value: same segments, shares and reasons."""
    ruleset = make_ruleset("pareto-call", {"revenue": {"type": "number"}},
                           [{"id": "tiers", "kind": "pareto", "value": "min(revenue, 500) * 2"}])
    rows = [{"id": f"C{index}", "revenue": value} for index, value in enumerate([900, 500, 300, None, 100, 20, -5])]
    actual = assert_same(evaluate_rows(compile_ruleset(ruleset, REGISTRY), rows), REGISTRY, engine)
    assert actual["C0"]["tiers"][:2] == ("top", 1000.0) and actual["C1"]["tiers"][:2] == ("top", 1000.0)
    assert [r["code"] for r in actual["C3"]["tiers.reasons"]] == ["pareto.missing"]
    assert actual["C3"]["tiers.reasons"][0]["fields"] == ["revenue"]
