"""The ``pipeline`` kind on DuckDB and Spark gives the Python engine's outcomes: label,
tags and the grade attribute for every customer, on the kind's boundary cases, on the
bundled ruleset that uses it (retail-membership on its visits) and on generated
populations (every stage true, false or missing, default and given conditions,
stages left out, ``on_missing`` skip and unknown, windows at their edges)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tierkit.engine import BoundPlan, compile_ruleset
from tierkit.manager import make_registry
from tierkit.ruleset import load_ruleset
from tierkit.sqlplan import compile_sql_plan
from tierkit.testing import CaseRunner, load_cases

from .conftest import ROOT
from .engine_harness import compare_engines, differences, python_outcomes, shared_engine

AS_OF = dt.date(2026, 11, 1)
CASES = load_cases(ROOT / "tests" / "cases" / "pipeline.yml", make_registry())
RULESETS = {case.ruleset.data["name"]: case.ruleset.fingerprint for case in CASES}


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def engine(request):
    return shared_engine(request.param)


def merged(evaluations: dict) -> dict:
    """Populations of one plan and as-of date as one, ids prefixed by the population's
    number: the kind decides customer by customer, and Spark pays per query (both
    engines are given the same merged population)."""
    groups: dict = {}
    for number, (name, evaluation) in enumerate(evaluations.items()):
        plan, bound = evaluation.plan, evaluation.bound
        if plan.fields[plan.id_index].type != "string":
            groups[name] = (bound, [row[: len(plan.fields)] for row in evaluation.rows], [name])
            continue
        key = (id(plan), bound.as_of)
        group = groups.setdefault(key, (bound, [], []))
        group[2].append(name)
        for row in evaluation.rows:
            values = list(row[: len(plan.fields)])
            values[plan.id_index] = f"{number}:{values[plan.id_index]}"
            group[1].append(values)
    return {" + ".join(names): bound.run(rows) for bound, rows, names in groups.values()}


def compare_batch(evaluations: dict, registry, engine) -> list[str]:
    """Differences between the Python outcomes of each evaluation (populations of one
    plan) and ``engine``'s, in one query (populations that cannot be merged are joined
    by ``UNION ALL``)."""
    if len(evaluations) > 1:
        evaluations = merged(evaluations)
    quote = engine.dialect.quote
    parts, layouts = [], {}
    for number, (name, evaluation) in enumerate(evaluations.items()):
        plan = evaluation.plan
        relation = f"_pipeline_population_{number}"
        columns = {"_row": "integer", **{f"s{i}": {"enum": "string"}.get(spec.type, spec.type) for i, spec in enumerate(plan.fields)}}
        engine.register_rows(relation, columns, [(n, *row[: len(plan.fields)]) for n, row in enumerate(evaluation.rows, 1)])
        compiled = compile_sql_plan(plan, registry, engine.dialect, evaluation.bound.as_of, relation)
        select = [f"{number} AS _population", quote(f"s{plan.id_index}"), compiled.rank_column, compiled.allocation_column]
        layout = []
        for scheme in plan.schemes:
            slot, attributes = scheme.slot.index, registry.kinds[scheme.kind].attributes
            select += [quote(f"s{slot}_{part}") for part in ("label", "score", "tags")]
            select += [quote(f"s{slot}_d{position}") for _type, position in attributes.values()]
            layout.append((scheme.id, list(attributes)))
        layouts[number] = (name, layout)
        parts.append(f"SELECT * FROM ({compiled.query.render(', '.join(select))}) AS _population_{number}")
    actual = {name: {} for name in evaluations}
    for population, customer, rank, allocation, *rest in engine.rows(" UNION ALL ".join(parts)):
        name, layout = layouts[population]
        outcome = actual[name][str(customer)] = {"rank": rank, "allocation": allocation}
        for scheme_id, names in layout:
            label, score, tags, *values = rest[: 3 + len(names)]
            rest = rest[3 + len(names):]
            outcome[scheme_id] = (label, score, tuple(tags or ()), dict(zip(names, values)))
    assert any(evaluation.rows for evaluation in evaluations.values())
    return [f"{name}: {difference}" for name, evaluation in evaluations.items()
            for difference in differences(python_outcomes(evaluation, registry), actual[name])]


# -- the kind's boundary cases, each case's customers as one population --------------


@pytest.mark.parametrize("ruleset", RULESETS)
def test_boundary_cases(ruleset, engine, registry):
    runner = CaseRunner(registry)
    evaluations = {case.name: runner.evaluate(case) for case in CASES if case.ruleset.fingerprint == RULESETS[ruleset]}
    assert evaluations
    assert compare_batch(evaluations, registry, engine) == []


# -- the bundled ruleset on its sample data ----------------------------------------------


def test_retail_membership(engine, registry):
    orders = ROOT / "examples" / "retail-membership" / "orders.csv"
    assert compare_engines("retail-membership", registry, engine.dialect.name, None, orders, AS_OF) == []


# -- generated populations --------------------------------------------------------------

FIELDS = """
fields:
  id: {type: string, required: true}
  order_count: {type: integer}
  deal_stage: {type: enum, values: [lead, proposal, negotiation, won, lost]}
  intent_score: {type: number}
  open_opportunities: {type: integer}
  last_contact_date: {type: date}
  last_response_date: {type: date}
  days_since_contact: {type: integer}
  responsive: {type: boolean}
"""

SCHEMES = """
schemes:
  - {id: defaults, kind: pipeline}
  - {id: stops, kind: pipeline, on_missing: unknown, contact_days: 0, silent_days: 10}
  - id: given
    kind: pipeline
    on_missing: unknown
    closed: "order_count >= 2"
    seed: false
    potential: "responsive and intent_score > 20"
    silent: "not responsive"
  - id: none_left
    kind: pipeline
    closed: false
    seed: false
    potential: false
    silent: false
  - id: reads_stage
    kind: pipeline
    closed: "defaults.grade == 'A' and stops.grade == 'A'"
    seed: "defaults.label == 'unknown'"
    potential: "given.grade is none"
    silent: "days_since_contact > 30"
"""


@pytest.fixture(scope="module")
def plan(tmp_path_factory, registry):
    path = tmp_path_factory.mktemp("pipeline") / "ruleset.yaml"
    path.write_text('tierkit: 1\nname: pipeline-sql\nversion: "1"\n' + FIELDS + SCHEMES, encoding="utf-8")
    return compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)


def generated(plan, seed: int, size: int):
    """Customers with every field drawn from its edges and missing values."""
    draw = random.Random(seed).choice
    days = [None, 0, 1, 9, 10, 11, 89, 90, 91, 400]
    rows = []
    for number in range(size):
        rows.append([
            f"g{number}",
            draw([None, -1, 0, 1, 2, 5]),
            draw([None, "lead", "proposal", "negotiation", "won", "lost"]),
            draw([None, 0.0, 20.0, 20.5, 59.9, 60.0, 99.0]),
            draw([None, 0, 1]),
            None if (d := draw(days)) is None else AS_OF - dt.timedelta(days=d),
            None if (d := draw(days)) is None else AS_OF - dt.timedelta(days=d),
            draw([None, -5, 0, 30, 31, 90, 91]),
            draw([None, True, False]),
        ])
    assert [spec.name for spec in plan.fields] == ["id", "order_count", "deal_stage", "intent_score", "open_opportunities",
                                                   "last_contact_date", "last_response_date", "days_since_contact", "responsive"]
    return BoundPlan(plan, AS_OF).run(rows)


def test_generated_populations(plan, engine, registry):
    evaluations = {f"seed {seed}": generated(plan, seed, 400) for seed in range(3)}
    evaluations["one customer"] = generated(plan, 99, 1)
    labels = {outcome[scheme][0] for e in evaluations.values() for outcome in python_outcomes(e, registry).values()
              for scheme in ("defaults", "stops", "given")}
    assert labels == {"closed", "seed", "potential", "silent", "unknown"}
    assert compare_batch(evaluations, registry, engine) == []


def test_a_wrong_stage_is_caught(plan, registry):
    """The comparison sees a difference: the same population on another as-of date moves
    customers between the contact windows."""
    evaluation = generated(plan, 5, 200)
    moved = BoundPlan(plan, AS_OF + dt.timedelta(days=1)).run([row[: len(plan.fields)] for row in evaluation.rows])
    moved.bound = evaluation.bound
    assert compare_batch({"moved": moved}, registry, shared_engine("duckdb"))
