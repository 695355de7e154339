"""Run rulesets on the Python engine and on a SQL engine, and compare every outcome.

The customers are read and typed by the Python reader, then handed to the SQL
engine as they are, so a difference found here is a difference of the compiled
ruleset (derived features, scheme kinds, rank, allocation), not of reading files.
Labels, tags, ranks, allocation rules and attributes must be equal; scores equal to
1e-9 (relative); and for kinds stated as IR (:mod:`tierkit.plan.kindlogic`) their reasons,
codes and parameters, read from each engine's outcome by the same layout.

Spark pays about a second per query, more the wider and deeper the query, and half a minute to
start: tests hand it few queries.  The helpers here batch populations for that:

* :func:`compare_batch` pools populations of one ruleset into one (:func:`pooled`),
  where the kind decides customer by customer or a population's size is not its point;
* :func:`case_groups` gives the cases of one ruleset in a case file, whose customers
  :func:`compare_batch` runs as one population;
* :func:`side_by_side` puts hand-made populations of population-wide kinds in their own
  fields of one ruleset, a few to a query;
* :func:`only_kind` reduces a bundled ruleset to one kind's schemes, and
  :func:`compare_engines` runs a ruleset on sample data;
* :class:`SampleRuns` runs ``tierkit evaluate`` on a bundled sample once per engine and
  keeps what the tests read of it (the results file, the rejected rows, the evaluation),
  so that the tests of the command line and of reasons share one Spark run.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import importlib.util
import json
import math
import re
import shutil
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import pytest

from tierkit.engine.evaluation import BoundPlan, Evaluation, compile_ruleset
from tierkit.io.tables import table_from_rows
from tierkit.engine import job as job_module
from tierkit.engine.job import run_job
from tierkit.engine.orders import OrderSummary, aggregate_orders
from tierkit.ruleset.load import Ruleset, fingerprint_of, load_ruleset
from tierkit.engine.sql.connection import open_engine
from tierkit.engine.sql.plan import PREVIOUS_RELATION, compile_sql_plan
from tierkit.ruleset.yamlload import load_yaml

from .conftest import ROOT, run_captured

ENGINES = ("duckdb", "spark")
AS_OF = dt.date(2026, 11, 1)
RELATION = "_case_customers"  # not sqlrun.CUSTOMERS: a job may run on the same shared engine
# Spark's analysis time grows with a query's width (its schemes and columns) a little
# faster than linearly, and very wide queries overflow an executor's stack while their
# task is read: populations side by side go a few to a query.
POPULATIONS_PER_QUERY = 3
EXAMPLES = ROOT / "examples"
SAMPLE_DATA = {  # bundled ruleset -> (customers, orders), as the sample data's READMEs run them
    "b2b-manufacturing": (EXAMPLES / "b2b-manufacturing" / "customers.csv", None),
    "fmcg-distribution": (EXAMPLES / "fmcg-distribution" / "distributors.csv", EXAMPLES / "fmcg-distribution" / "orders.csv"),
    "retail-membership": (None, EXAMPLES / "retail-membership" / "orders.csv"),
    "saas-enterprise": (EXAMPLES / "saas-enterprise" / "accounts.csv", EXAMPLES / "saas-enterprise" / "invoices.csv"),
}
# The sample data as ``tierkit evaluate`` reads it: SAMPLE_DATA's files, and b2b-manufacturing's
# Chinese export (GB18030, Chinese headers) under its own name.
SAMPLE_INPUTS = {
    **{name: [*([customers] if customers else []), *(["--orders", orders] if orders else [])]
       for name, (customers, orders) in SAMPLE_DATA.items()},
    "b2b-manufacturing-zh": [EXAMPLES / "b2b-manufacturing" / "customers-zh.csv"],
}


# -- engines ----------------------------------------------------------------------------


# What each engine needs installed; without it its tests skip with the install command.
ENGINE_NEEDS = {
    "duckdb": (("duckdb", "pyarrow"), "pip install -e '.[duckdb]'"),
    "spark": (("pyspark", "pyarrow"), "pip install -e '.[spark]'"),
}


def require_engine(name: str) -> None:
    """Skip the calling test, saying what to install, when ``name`` cannot run here."""
    modules, install = ENGINE_NEEDS[name]
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        pytest.skip(f"the {name} engine needs {' and '.join(missing)}: {install}")
    if name == "spark" and shutil.which("java") is None:
        pytest.skip("the spark engine needs Java: apt-get install default-jre-headless")


def shared_engine(name: str):
    """One engine per process (Spark's session takes seconds to start), or a skip."""
    require_engine(name)
    return _open_engine(name)


@lru_cache(maxsize=None)
def _open_engine(name: str):
    return open_engine(name)


def engine_params(names: Iterable[str] = ENGINES) -> list:
    """Engine names as parameters marked with the engine (``-m "not spark"`` leaves Spark out)."""
    return [pytest.param(name, marks=getattr(pytest.mark, name), id=name) for name in names]


def with_engines(values: Iterable[str], not_on_spark: Callable[[str], bool] = lambda value: False) -> list:
    """Parameters (value, engine name) for each value on each engine, ``value-engine`` ids,
    but on Spark, where a query costs seconds, none of the values ``not_on_spark`` picks
    (checked there by a query another test runs already)."""
    return [pytest.param(value, *param.values, marks=param.marks, id=f"{value}-{param.id}")
            for value in values for param in engine_params() if param.id != "spark" or not not_on_spark(value)]


def engine_fixture(names: Iterable[str] = ENGINES):
    """A module fixture ``engine`` giving each of ``names`` in turn (``engine = engine_fixture()``)."""

    @pytest.fixture(scope="module", params=engine_params(names))
    def engine(request):
        return shared_engine(request.param)

    return engine


# -- outcomes ---------------------------------------------------------------------------


def python_outcomes(evaluation, registry) -> dict[str, dict]:
    """Per customer id: rank, the allocation (its rule's id and position, and its reasons),
    and per scheme (label, score, tags, attributes)."""
    plan = evaluation.plan
    attributes_of = {scheme.id: registry.kinds[scheme.kind].attributes for scheme in plan.schemes}
    results = {}
    for row in evaluation.rows:
        allocation = row[plan.allocation.slot.index]
        outcome = {"rank": row[plan.rank_slot.index], "allocation": (allocation[0], plan.allocation_index(row)),
                   "allocation.reasons": plan.allocation.compiled.reason_columns.records(allocation[3])}
        for scheme in plan.schemes:
            label, score, tags, detail = row[scheme.slot.index][:4]
            attributes = {
                name: detail[position] if detail is not None else None
                for name, (_type, position) in attributes_of[scheme.id].items()
            }
            outcome[scheme.id] = (label, score, tuple(tags), attributes)
            if scheme.compiled.reason_columns is not None:
                outcome[f"{scheme.id}.reasons"] = scheme.compiled.reason_columns.records(detail)
        results[str(row[plan.id_index])] = outcome
    return results


def register_previous(engine, plan) -> None:
    """The previous run's labels the Python engine read (``plan.previous``) as the relation
    the SQL plan joins ``previous_run`` from; empty when the plan carries none, so no
    labels of an earlier test are joined."""
    if not plan.previous_slots:
        return
    labels: dict[str, dict[str, str]] = {}
    for scheme_id, by_customer in (plan.previous or {}).items():
        for customer, label in by_customer.items():
            labels.setdefault(customer, {})[scheme_id] = label
    columns = {"id": "string", **{f"s{slot}": "string" for slot in plan.previous_slots.values()}}
    rows = [(customer, *[known.get(scheme_id) for scheme_id in plan.previous_slots]) for customer, known in labels.items()]
    engine.register_rows(PREVIOUS_RELATION, columns, rows)


# The SQL plans compiled last, by what they are compiled from: each is kept with its plan,
# so an id is never read for another object's while its entry stands.
_SQL_PLANS: OrderedDict[tuple, tuple] = OrderedDict()
SQL_PLANS_KEPT = 64


def sql_plan(plan, registry, dialect, as_of: dt.date):
    """``compile_sql_plan`` of ``plan`` over :data:`RELATION`, compiled once for the
    populations that share the plan (the cases of one ruleset, a property test's examples
    of one config): lowering a plan to SQL costs more than the query of a few customers.
    The query depends on the plan's parts, the registry, the dialect and the date, and not
    on the plan's previous-run labels, which it joins from the relation
    :func:`register_previous` fills: plans that differ only in those (``dataclasses.replace(plan,
    previous=…)``, as a test gives each population its own) share one."""
    parts = tuple(id(getattr(plan, field.name)) for field in dataclasses.fields(plan) if field.name != "previous")
    key = (parts, id(registry), id(dialect), as_of)
    if key in _SQL_PLANS:
        _SQL_PLANS.move_to_end(key)
    else:
        _SQL_PLANS[key] = (plan, registry, dialect, compile_sql_plan(plan, registry, dialect, as_of, RELATION))
        if len(_SQL_PLANS) > SQL_PLANS_KEPT:
            _SQL_PLANS.popitem(last=False)
    return _SQL_PLANS[key][-1]


def sql_outcomes(evaluation, registry, engine) -> dict[str, dict]:
    """The outcomes ``engine`` computes from ``evaluation``'s typed input rows (and the
    previous-run labels its plan carries)."""
    plan = evaluation.plan
    columns = {"_row": "integer"}
    for index, spec in enumerate(plan.fields):
        columns[f"s{index}"] = {"enum": "string"}.get(spec.type, spec.type)
    rows = [(number, *row[: len(plan.fields)]) for number, row in enumerate(evaluation.rows, 1)]
    engine.register_rows(RELATION, columns, rows)
    register_previous(engine, plan)
    compiled = sql_plan(plan, registry, engine.dialect, evaluation.bound.as_of)
    engine.register_udfs(compiled.query.udfs)
    quote = engine.dialect.quote
    allocation = plan.allocation.slot.index
    select = [quote(f"s{plan.id_index}"), compiled.rank_column, quote(f"s{allocation}_label")]
    select += [quote(f"s{allocation}_d{position}") for position in compiled.allocation_details]
    width = len(compiled.allocation_details)
    layout = []
    for scheme in plan.schemes:
        slot, attributes = scheme.slot.index, registry.kinds[scheme.kind].attributes
        reasons = scheme.compiled.reason_columns
        positions = reasons.positions if reasons is not None else ()
        select += [quote(f"s{slot}_{part}") for part in ("label", "score", "tags")]
        select += [quote(f"s{slot}_d{position}") for _type, position in attributes.values()]
        select += [quote(f"s{slot}_d{position}") for position in positions]
        layout.append((scheme.id, list(attributes), reasons, positions))
    results = {}
    for customer, rank, rule, *rest in engine.rows(compiled.query.render(", ".join(select))):
        detail, rest = dict(zip(compiled.allocation_details, rest[:width])), rest[width:]
        outcome = results[str(customer)] = {
            "rank": rank, "allocation": (rule, detail[0]),
            "allocation.reasons": plan.allocation.compiled.reason_columns.records(detail),
        }
        for scheme_id, names, reasons, positions in layout:
            label, score, tags, *values = rest[: 3 + len(names) + len(positions)]
            rest = rest[3 + len(names) + len(positions):]
            outcome[scheme_id] = (label, score, tuple(tags or ()), dict(zip(names, values)))
            if reasons is not None:  # the detail as the Python engine holds it, read by the same layout
                detail = dict(zip(positions, values[len(names):]))
                outcome[f"{scheme_id}.reasons"] = reasons.records(detail)
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
        if math.isnan(float(left)) or math.isnan(float(right)):  # a NaN total is the same NaN on every engine
            return math.isnan(float(left)) and math.isnan(float(right))
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(left, (tuple, list)) and isinstance(right, (tuple, list)):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return left == right


# -- comparing populations --------------------------------------------------------------


def compare(evaluation, registry, engine) -> list[str]:
    """Differences between the Python outcomes of ``evaluation`` and ``engine``'s
    (previous-run labels the plan carries included)."""
    return differences(python_outcomes(evaluation, registry), sql_outcomes(evaluation, registry, engine))


def assert_same(evaluation, registry, engine) -> dict[str, dict]:
    """``engine``'s outcomes of ``evaluation``, asserted equal to the Python engine's."""
    actual = sql_outcomes(evaluation, registry, engine)
    assert differences(python_outcomes(evaluation, registry), actual) == []
    return actual


def assert_same_each(evaluations: dict[str, Evaluation], registry, engine) -> dict[str, dict[str, dict]]:
    """Per population (each apart), ``engine``'s outcomes, asserted equal to the Python engine's."""
    actual = {name: sql_outcomes(evaluation, registry, engine) for name, evaluation in evaluations.items()}
    assert [f"{name}: {difference}" for name, evaluation in evaluations.items()
            for difference in differences(python_outcomes(evaluation, registry), actual[name])] == []
    return actual


def compare_batch(evaluations: dict[str, Evaluation], registry, engine) -> list[str]:
    """Differences between the Python outcomes of the populations, pooled into one
    population per ruleset and as-of date (:func:`pooled`), and ``engine``'s, each
    difference named by its population (a pooled id ``n:ID`` by the n-th): one query per
    ruleset, for kinds that decide customer by customer (or populations whose size is not
    their point)."""
    names = list(evaluations)

    def named(pool: str, difference: str) -> str:
        number, colon, rest = difference.partition(":")
        return f"{names[int(number)]}: {rest}" if colon and number.isdigit() and pool not in evaluations else f"{pool}: {difference}"

    return [named(pool, difference) for pool, evaluation in pooled(evaluations).items()
            for difference in compare(evaluation, registry, engine)]


def pooled(evaluations: dict[str, Evaluation]) -> dict[str, Evaluation]:
    """Populations of one ruleset and as-of date as one population, evaluated again by the
    Python engine: ids prefixed by the population's number (``3:C1``), previous-run
    labels carried along.  A population whose ids are not text stays as it is."""
    if len(evaluations) < 2:
        return evaluations
    result: dict[str, Evaluation] = {}
    groups: dict[tuple, tuple] = {}
    for number, (name, evaluation) in enumerate(evaluations.items()):
        plan = evaluation.plan
        if plan.fields[plan.id_index].type != "string":
            result[name] = evaluation
            continue
        key = (plan.ruleset.source, plan.ruleset.fingerprint, evaluation.bound.as_of)
        _first, names, rows, previous = groups.setdefault(key, (evaluation, [], [], {}))
        names.append(name)
        for row in evaluation.rows:
            values = list(row[: len(plan.fields)])
            values[plan.id_index] = f"{number}:{values[plan.id_index]}"
            rows.append(values)
        for scheme_id, labels in (plan.previous or {}).items():
            previous.setdefault(scheme_id, {}).update({f"{number}:{customer}": label for customer, label in labels.items()})
    for first, names, rows, previous in groups.values():
        plan = dataclasses.replace(first.plan, previous=previous) if previous else first.plan
        result[" + ".join(names)] = BoundPlan(plan, first.bound.as_of).run(rows)
    return result


# -- case files -------------------------------------------------------------------------


def case_groups(cases: Iterable) -> dict[str, list]:
    """The cases grouped by ruleset and as-of date (a case file's rulesets), each group
    named after its ruleset: the populations one pooled query runs."""
    groups: dict[tuple, list] = {}
    for case in cases:
        groups.setdefault((case.ruleset.source, case.ruleset.fingerprint, case.as_of), []).append(case)
    named: dict[str, list] = {}
    for (_source, _fingerprint, as_of), members in groups.items():
        name = f"{members[0].ruleset.name}@{as_of}"
        while name in named:
            name += "'"
        named[name] = members
    return named


# -- rulesets ---------------------------------------------------------------------------


def make_ruleset(name: str, fields: dict, schemes: list[dict], rank: list | None = None) -> Ruleset:
    """An in-memory ruleset with a text ``id`` field and ``fields``."""
    data = {"tierkit": 1, "name": name, "version": "1",
            "fields": {"id": {"type": "string", "required": True}, **fields}, "schemes": schemes}
    if rank:
        data["rank"] = rank
    return Ruleset(data, Path(f"{name}.yaml"), {}, fingerprint_of(data))


def compile_yaml(name: str, body: str, registry):
    """The plan of ruleset ``name`` whose fields, schemes and the rest are written as YAML
    in ``body`` (read as ruleset files are read)."""
    loaded = load_yaml(f'tierkit: 1\nname: {name}\nversion: "1"\n{body.lstrip()}', f"{name}.yaml")
    ruleset = Ruleset(loaded.data, Path(f"{name}.yaml"), loaded.positions, fingerprint_of(loaded.data))
    return compile_ruleset(ruleset, registry)


def evaluate_rows(plan, rows: list[dict], as_of: dt.date = AS_OF):
    """The Python engine on raw customer mappings (read as a file's rows are), none rejected."""
    table = table_from_rows("population", plan.fields, enumerate(rows, 1))
    evaluation = BoundPlan(plan, as_of).run_table(table)
    assert not evaluation.rejected, evaluation.rejected
    return evaluation


def _reads(name: str) -> re.Pattern:
    return re.compile(rf"\b{re.escape(name)}\b")


def only_kind(name: str, kind: str, registry) -> Ruleset:
    """Bundled ruleset ``name`` with only its schemes of ``kind`` and the schemes those
    read, the rank keys reading none of the others, the derived features all of these
    read, and no allocation: the kind checked on the sample data whatever the other
    kinds do."""
    loaded = load_ruleset(name, registry.ruleset_dirs)
    data = loaded.data
    schemes = {scheme["id"]: scheme for scheme in data["schemes"]}
    kept = {scheme_id for scheme_id, scheme in schemes.items() if scheme["kind"] == kind}
    assert kept, f"{name} has no {kind} scheme"
    pending = list(kept)
    while pending:  # the schemes read, and those they read
        text = json.dumps(schemes[pending.pop()], ensure_ascii=False)
        more = {other for other in schemes if other not in kept and re.search(rf"\b{re.escape(other)}\.", text)}
        kept |= more
        pending += more
    dropped = set(schemes) - kept
    reduced = {key: value for key, value in data.items() if key not in ("schemes", "allocation", "rank", "derive")}
    reduced["schemes"] = [scheme for scheme in data["schemes"] if scheme["id"] in kept]
    rank = [key for key in data.get("rank") or [] if not any(_reads(other).search(str(key["by"])) for other in dropped)]
    if rank:
        reduced["rank"] = rank
    derive = data.get("derive") or {}
    needed, text = {}, json.dumps([reduced["schemes"], rank], ensure_ascii=False)
    while True:  # the derived features read, and those they read
        more = {n: c for n, c in derive.items() if n not in needed and _reads(n).search(text)}
        if not more:
            break
        needed.update(more)
        text += json.dumps(list(more.values()), ensure_ascii=False)
    if needed:
        reduced["derive"] = {n: c for n, c in derive.items() if n in needed}
    return dataclasses.replace(loaded, data=reduced, fingerprint=fingerprint_of(reduced))


# The order files of the samples aggregated, by file, date and the ruleset's orders policy
_ORDER_SUMMARIES: dict[tuple, OrderSummary] = {}


def _aggregated_once(file, rows, as_of, extra_aliases=None, policy=None) -> OrderSummary:
    """``aggregate_orders`` for :func:`run_sample`, once per order file, date and policy:
    the sample's orders are aggregated alike for the whole ruleset and for each of its
    kinds alone.  Each run gets its own copy of what attaching the orders adds to."""
    key = (file, as_of, repr(extra_aliases), repr(policy))
    if key not in _ORDER_SUMMARIES:
        _ORDER_SUMMARIES[key] = aggregate_orders(file, rows, as_of, extra_aliases, policy)
    kept = _ORDER_SUMMARIES[key]
    return dataclasses.replace(kept, unknown_customers=list(kept.unknown_customers))


def run_sample(ruleset, registry, customers=None, orders=None, as_of: dt.date = AS_OF):
    """The Python engine's evaluation of ``ruleset`` (a :class:`Ruleset`, path or bundled
    name) on ``customers``/``orders`` (paths)."""
    if not isinstance(ruleset, Ruleset):
        ruleset = load_ruleset(ruleset, registry.ruleset_dirs)
    plan = compile_ruleset(ruleset, registry)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(job_module, "aggregate_orders", _aggregated_once)
        job = run_job(plan, registry, customers and str(customers), orders and str(orders), as_of, history=False)
    return job.evaluation


def compare_engines(ruleset, registry, engine_name: str, customers=None, orders=None, as_of=AS_OF) -> list[str]:
    """Evaluate ``customers``/``orders`` (paths) with ``ruleset`` (a :class:`Ruleset`, path
    or bundled name) on Python and on ``engine_name``; returns the differences."""
    return compare(run_sample(ruleset, registry, customers, orders, as_of), registry, shared_engine(engine_name))


def compare_sample(ruleset, registry, engine, name: str) -> dict[str, dict]:
    """``ruleset`` on bundled ruleset ``name``'s sample data: ``engine``'s outcomes,
    asserted equal to Python's (at least a hundred customers)."""
    evaluation = run_sample(ruleset, registry, *SAMPLE_DATA[name])
    assert len(evaluation.rows) > 100
    return assert_same(evaluation, registry, engine)


# -- hand-made populations side by side -------------------------------------------------


def side_by_side(populations: dict[str, list], batched: Callable, registry, engine,
                 per_query: int = POPULATIONS_PER_QUERY) -> dict[str, list[dict]]:
    """Hand-made populations of a population-wide kind in few queries, asserted equal.

    ``batched(populations) -> (ruleset, rows)`` gives population number ``n`` its own
    fields, read only by its own schemes ``p<n>_...``, and its customers ids
    ``p<n>_<index>`` without values in the other fields: a customer without a value
    takes no part in a population, so the populations do not mix.  Returns per
    population its customers' outcomes in order, keyed by scheme id without the
    ``p<n>_`` prefix."""
    seen = {}
    names = list(populations)
    for start in range(0, len(names), per_query):
        chunk = {name: populations[name] for name in names[start:start + per_query]}
        ruleset, rows = batched(chunk)
        actual = assert_same(evaluate_rows(compile_ruleset(ruleset, registry), rows), registry, engine)
        for number, name in enumerate(chunk):
            prefix = f"p{number}_"
            seen[name] = [{key[len(prefix):]: value for key, value in outcome.items() if key.startswith(prefix)}
                          for customer, outcome in sorted(actual.items(), key=lambda item: int(item[0].split("_")[1]))
                          if customer.startswith(prefix)]
    return seen


# -- the command line on the sample data, once per engine ---------------------------------


@dataclasses.dataclass
class SampleRun:
    """What one ``tierkit evaluate`` of a bundled sample wrote, and on a SQL engine the
    evaluation of the job it ran (its rows read while the engine was open)."""

    rows: list[dict]  # the Parquet results, in rank order
    rejected: list[dict]  # the rejected rows file, without its ``file`` column
    evaluation: Evaluation | None  # None on the Python engine


class SampleRuns:
    """``tierkit evaluate NAME SAMPLE --as-of AS_OF --engine ENGINE -o results.parquet
    --rejected rejected.csv`` run in this process once per (sample, engine), for every
    test that reads it: a Spark run of a bundled sample costs 12-27 s of CPU, and the
    command-line and reasons tests read the same run.  On a SQL engine the job the command
    ran is read back as the evaluation (:func:`tierkit.engine.sql.evaluation.evaluation_of`)
    while the engine is open: its rows, records and reasons are computed in Python from then on."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.done: dict[tuple[str, str], SampleRun] = {}

    def __call__(self, name: str, engine: str) -> SampleRun:
        if (name, engine) not in self.done:
            if engine != "python":
                require_engine(engine)
            self.done[name, engine] = self._run(name, engine)
        return self.done[name, engine]

    def _run(self, name: str, engine: str) -> SampleRun:
        import pyarrow.parquet as pq

        from tierkit.engine.sql import run as sql_run
        from tierkit.engine.sql.evaluation import evaluation_of

        output, rejected = self.folder / f"{name}-{engine}.parquet", self.folder / f"{name}-{engine}.rejected.csv"
        evaluations, run_sql_job = [], sql_run.run_sql_job

        def kept(*args, **kwargs):
            job = run_sql_job(*args, **kwargs)
            evaluations.append(evaluation_of(job))
            return job

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sql_run, "run_sql_job", kept)
            code, _out, err = run_captured("evaluate", name.removesuffix("-zh"), *SAMPLE_INPUTS[name], "--as-of", AS_OF,
                                           "--engine", engine, "-o", output, "--rejected", rejected, "--no-progress")
        assert code == 0, err
        with open(rejected, encoding="utf-8-sig", newline="") as handle:
            rejections = [{key: value for key, value in row.items() if key != "file"} for row in csv.DictReader(handle)]
        assert len(evaluations) == (engine != "python")
        return SampleRun(pq.read_table(output).to_pylist(), rejections, evaluations[0] if evaluations else None)
