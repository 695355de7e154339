"""Run one ruleset on the Python engine and on a SQL engine, and compare every outcome.

The customers are read and typed by the Python reader, then handed to the SQL
engine as they are, so a difference found here is a difference of the compiled
ruleset (derived features, scheme kinds, rank, allocation), not of reading files.
Labels, tags, ranks, allocation rules and attributes must be equal; scores equal to
1e-9 (relative).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

from tierkit.engine import compile_ruleset
from tierkit.job import run_job
from tierkit.ruleset import load_ruleset
from tierkit.sqlengine import open_engine
from tierkit.sqlplan import compile_sql_plan

RELATION = "_tierkit_customers"


@lru_cache(maxsize=None)
def shared_engine(name: str):
    """One engine per process: Spark's session takes seconds to start."""
    return open_engine(name)


def python_outcomes(evaluation, registry) -> dict[str, dict]:
    """Per customer id: rank, allocation rule index, and per scheme (label, score, tags, attributes)."""
    plan = evaluation.plan
    attributes_of = {scheme.id: registry.kinds[scheme.kind].attributes for scheme in plan.schemes}
    results = {}
    for row in evaluation.rows:
        outcome = {"rank": row[plan.rank_slot.index], "allocation": row[plan.allocation.slot.index][3]}
        for scheme in plan.schemes:
            label, score, tags, detail = row[scheme.slot.index][:4]
            attributes = {
                name: detail[position] if detail is not None else None
                for name, (_type, position) in attributes_of[scheme.id].items()
            }
            outcome[scheme.id] = (label, score, tuple(tags), attributes)
        results[str(row[plan.id_index])] = outcome
    return results


def sql_outcomes(evaluation, registry, engine) -> dict[str, dict]:
    """The same outcomes computed by ``engine`` from the evaluation's typed input rows."""
    plan = evaluation.plan
    columns = {"_row": "integer"}
    for index, spec in enumerate(plan.fields):
        columns[f"s{index}"] = {"enum": "string"}.get(spec.type, spec.type)
    rows = [(number, *row[: len(plan.fields)]) for number, row in enumerate(evaluation.rows, 1)]
    engine.register_rows(RELATION, columns, rows)
    compiled = compile_sql_plan(plan, registry, engine.dialect, evaluation.bound.as_of, RELATION)
    quote = engine.dialect.quote
    select = [quote(f"s{plan.id_index}"), compiled.rank_column, compiled.allocation_column]
    layout = []
    for scheme in plan.schemes:
        slot = scheme.slot.index
        attributes = registry.kinds[scheme.kind].attributes
        select += [quote(f"s{slot}_label"), quote(f"s{slot}_score"), quote(f"s{slot}_tags")]
        select += [quote(f"s{slot}_d{position}") for _type, position in attributes.values()]
        layout.append((scheme.id, list(attributes)))
    results = {}
    for values in engine.rows(compiled.query.render(", ".join(select))):
        customer, rank, allocation, *rest = values
        outcome = {"rank": rank, "allocation": allocation}
        for scheme_id, names in layout:
            label, score, tags, *attribute_values = rest[: 3 + len(names)]
            rest = rest[3 + len(names):]
            outcome[scheme_id] = (label, score, tuple(tags or ()), dict(zip(names, attribute_values)))
        results[str(customer)] = outcome
    return results


def differences(expected: dict[str, dict], actual: dict[str, dict], limit: int = 20) -> list[str]:
    """Readable differences between two engines' outcomes (empty when they agree)."""
    found = []
    if set(expected) != set(actual):
        found.append(f"customers differ: only python {sorted(set(expected) - set(actual))[:5]}, "
                     f"only sql {sorted(set(actual) - set(expected))[:5]}")
    for customer in sorted(set(expected) & set(actual)):
        for key, value in expected[customer].items():
            other = actual[customer].get(key)
            if not _same(value, other):
                found.append(f"{customer} {key}: python {value!r} != sql {other!r}")
                if len(found) >= limit:
                    return found
    return found


def _same(left, right) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(left, (tuple, list)) and isinstance(right, (tuple, list)):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return left == right


def compare_engines(ruleset, registry, engine_name: str, customers=None, orders=None, as_of=dt.date(2026, 11, 1)) -> list[str]:
    """Evaluate ``customers``/``orders`` (paths) with ``ruleset`` (a path or bundled name)
    on Python and on ``engine_name``; returns the differences."""
    plan = compile_ruleset(load_ruleset(ruleset, registry.ruleset_dirs), registry)
    job = run_job(plan, registry, customers and str(customers), orders and str(orders), as_of, history=False)
    expected = python_outcomes(job.evaluation, registry)
    actual = sql_outcomes(job.evaluation, registry, shared_engine(engine_name))
    return differences(expected, actual)
