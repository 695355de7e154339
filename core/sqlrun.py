"""One evaluation job on a SQL engine: read, type, aggregate orders, evaluate, write.

The engine does all the work on its own relations: it reads CSV/TSV (as text, typed
by :mod:`tierkit.sqlinput`), Parquet and JSON Lines files itself, larger than memory
if need be, aggregates the order file with one grouped query
(:mod:`tierkit.sqlorders`), and runs the ruleset compiled by :mod:`tierkit.sqlplan`.
Other sources (XLSX, JSON arrays, databases, non-UTF-8 CSV) are read and typed by the
Python readers and handed to the engine.  Every input row ends in the results or
in the rejected list, as on the Python engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import TierkitError
from .io import Rejected, SourceRef, detect_encoding, dump_json_lines, read_table, write_results
from .labels import localize
from .orders import describe_order_counts
from .plan import Plan
from .registry import Registry
from .results import results_schema, write_meta
from .sqlengine import SqlEngine
from .sqlinput import typed_input
from .sqlplan import PREVIOUS_RELATION, SqlPlan, compile_sql_plan

NATIVE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
RAW_CUSTOMERS = "_tierkit_raw_customers"
TYPED = "_tierkit_typed"
CUSTOMERS = "_tierkit_customers"
RESULTS = "_tierkit_results"
REJECT_COLUMNS = ("_reject_column", "_reject_field", "_reject_reason")


@dataclass
class SqlJob:
    """What a run on a SQL engine read and made; the results stay in the engine."""

    engine: SqlEngine
    compiled: SqlPlan
    as_of: dt.date
    read: int
    evaluated: int
    rejected: list[Rejected] = field(default_factory=list)
    orders: dict | None = None

    @property
    def plan(self) -> Plan:
        return self.compiled.plan

    def meta(self, lang: str) -> dict:
        ruleset = self.plan.ruleset
        meta = {
            "tierkit": __version__,
            "ruleset": ruleset.name,
            "ruleset_version": ruleset.version,
            "fingerprint": ruleset.fingerprint,
            "as_of": self.as_of.isoformat(),
            "lang": lang,
            "engine": self.engine.dialect.name,
            "read": self.read,
            "evaluated": self.evaluated,
            "rejected": len(self.rejected) - (self._order_rejections()),
        }
        if self.orders is not None:
            meta["orders"] = self.orders
        return meta

    def _order_rejections(self) -> int:
        return self.orders["rejected"] + self.orders["unknown_customer"] if self.orders else 0


def describe_orders(summary: dict) -> str:
    return describe_order_counts(**summary)


def native_format(source) -> str | None:
    """The engine's own reader for a path, or None when Python reads it."""
    if isinstance(source, SourceRef) or source is None:
        return None
    return NATIVE_FORMATS.get(Path(str(source)).suffix.lower())


def run_sql_job(
    plan: Plan,
    registry: Registry,
    engine: SqlEngine,
    customers,
    orders,
    as_of: dt.date,
    progress: Callable[[str], None] = lambda message: None,
) -> SqlJob:
    """Evaluate on ``engine``; the results are left in its relation ``_tierkit_results``."""
    if not customers and not orders:
        raise TierkitError("nothing to evaluate: give a customer file, --orders ORDERS, or both")
    if orders and not customers:
        raise TierkitError("the SQL engines need the customer file; give it with --orders (or use --engine python)")
    if orders:
        raise TierkitError("order files on the SQL engines are not available yet; use --engine python")
    dialect = engine.dialect
    names = [f"s{index}" for index in range(len(plan.fields))]
    file = str(customers)
    file_format = native_format(customers)
    rejected: list[Rejected] = []
    if file_format is not None and _engine_can_read(file, file_format):
        progress(f"reading {customers} in {dialect.name}")
        source_types = engine.register_file(RAW_CUSTOMERS, file, file_format)
        engine.materialize(TYPED, typed_input(dialect, RAW_CUSTOMERS, source_types, plan.fields, names, file))
        read, rejected = _typed_rejections(engine, file)
    else:
        progress(f"reading {customers}")
        table = read_table(customers, plan.fields, registry)
        columns = {"_row": "integer", **{name: _column_type(spec.type) for name, spec in zip(names, plan.fields)}}
        columns.update(dict.fromkeys(REJECT_COLUMNS, "string"))
        engine.register_rows(TYPED, columns, [(n, *row, None, None, None) for n, row in zip(table.row_numbers, table.rows)])
        read, rejected = table.read, list(table.rejected)
    rejected += _duplicate_ids(engine, plan, file)
    id_column = dialect.quote(names[plan.id_index])
    accepted = (
        f"SELECT _row, {', '.join(dialect.quote(name) for name in names)} FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY {id_column} ORDER BY _row) AS _copy FROM {TYPED} "
        f"WHERE _reject_reason IS NULL) AS _t WHERE _copy = 1 AND {id_column} IS NOT NULL"
    )
    engine.materialize(CUSTOMERS, accepted)
    if plan.previous_slots:
        _register_previous(engine, plan)
    compiled = compile_sql_plan(plan, registry, dialect, as_of, CUSTOMERS)
    progress(f"evaluating in {dialect.name}")
    engine.materialize(RESULTS, compiled.sql())
    evaluated = engine.rows(f"SELECT count(*) FROM {RESULTS}")[0][0]
    return SqlJob(engine, compiled, as_of, read, evaluated, sorted(rejected, key=lambda item: item.row))


def _engine_can_read(path: str, file_format: str) -> bool:
    """The engines read UTF-8 text files; GB18030 or UTF-16 exports go through Python."""
    if file_format not in ("csv", "tsv", "jsonl"):
        return True
    return detect_encoding(Path(path)) in ("utf-8-sig", "utf-8")


def _column_type(field_type: str) -> str:
    return "string" if field_type == "enum" else field_type


def _typed_rejections(engine: SqlEngine, file: str) -> tuple[int, list[Rejected]]:
    read = engine.rows(f"SELECT count(*) FROM {TYPED}")[0][0]
    rows = engine.rows(
        f"SELECT _row, {', '.join(REJECT_COLUMNS)} FROM {TYPED} WHERE _reject_reason IS NOT NULL ORDER BY _row"
    )
    return read, [Rejected(file, row, column, field_name, reason) for row, column, field_name, reason in rows]


def _duplicate_ids(engine: SqlEngine, plan: Plan, file: str) -> list[Rejected]:
    """Rows with no id, or the id of an earlier row: rejected as the Python engine does."""
    dialect = engine.dialect
    id_column = dialect.quote(f"s{plan.id_index}")
    id_name = plan.fields[plan.id_index].name
    rows = engine.rows(
        f"SELECT _row, {id_column}, first_row FROM (SELECT _row, {id_column}, "
        f"min(_row) OVER (PARTITION BY {id_column}) AS first_row FROM {TYPED} WHERE _reject_reason IS NULL) AS _t "
        f"WHERE {id_column} IS NULL OR _row > first_row ORDER BY _row"
    )
    return [
        Rejected(file, row, None, id_name, "missing id" if key is None else f"duplicate id {key!r} (first at row {first})")
        for row, key, first in rows
    ]


def _register_previous(engine: SqlEngine, plan: Plan) -> None:
    """The latest saved run's labels, for ``previous_run`` and hysteresis."""
    slots = plan.previous_slots
    ids = sorted({customer for labels in plan.previous.values() for customer in labels})
    columns = {"id": "string", **{f"s{slot}": "string" for slot in slots.values()}}
    rows = [(customer, *(plan.previous.get(scheme, {}).get(customer) for scheme in slots)) for customer in ids]
    engine.register_rows(PREVIOUS_RELATION, columns, rows)


# ---------------------------------------------------------------------------- results


def results_select(job: SqlJob, lang: str) -> str:
    """The results in the results-file layout (:mod:`tierkit.results`), best rank first."""
    plan, dialect = job.plan, job.engine.dialect
    schema = results_schema(plan, lang, reasons=False)
    quote = dialect.quote
    values = {"id": quote(f"s{plan.id_index}"), "rank": job.compiled.rank_column}
    for index, spec in enumerate(plan.fields):
        values[f"features.{spec.name}"] = quote(f"s{index}")
    for name, slot, _config in plan.derived:
        values[f"features.{name}"] = quote(f"s{slot.index}")
    for scheme in plan.schemes:
        label, score, tags = (quote(column) for column in job.compiled.outcome_columns(scheme.id))
        prefix = f"outcomes.{scheme.id}"
        shown = [
            f"WHEN {dialect.literal(key)} THEN {dialect.literal(localize(display, lang))}"
            for key, display in scheme.compiled.labels.items()
            if localize(display, lang) != key
        ]
        values.update({
            f"{prefix}.label": label,
            f"{prefix}.display": f"CASE {label} {' '.join(shown)} ELSE {label} END" if shown else label,
            f"{prefix}.score": score,
            f"{prefix}.tags": tags,
        })
    index = job.compiled.allocation_column
    by_rule = schema.allocation_values()
    for column in schema.allocation:
        branches = [
            f"WHEN {number} THEN {_literal(dialect, column.type, row[column.name])}"
            for number, row in by_rule.items()
            if number is not None and row[column.name] is not None
        ]
        values[column.name] = f"CASE {index} {' '.join(branches)} END" if branches else "NULL"
    columns = [f"{_typed(dialect, column.type, values.get(column.name, 'NULL'))} AS {quote(column.name)}" for column in schema]
    return f"SELECT {', '.join(columns)} FROM {RESULTS} ORDER BY {quote('rank')}"


_SQL_TYPES = {"double": "number", "int64": "integer", "bool": "boolean", "date32": "date", "string": "string", "json": "string"}


def _typed(dialect, column_type: str, sql: str) -> str:
    """``sql`` cast to a results column type, so every engine writes the same Parquet types."""
    if column_type == "list<string>":
        return f"CAST({sql} AS {dialect.list_type('string')})"
    return dialect.cast(sql, _SQL_TYPES[column_type])


def _literal(dialect, column_type: str, value) -> str:
    if column_type == "list<string>":
        return dialect.list_of([dialect.literal(item) for item in value])
    if column_type == "double":
        return dialect.literal(float(value))
    return dialect.literal(value)


def write_sql_results(job: SqlJob, output: str | None, lang: str, registry: Registry, stream=None) -> None:
    """Parquet is written by the engine itself; other formats stream through Python as
    the records the Python engine writes (without reasons: the SQL engines give none)."""
    select = results_select(job, lang)
    meta = job.meta(lang)
    if output and Path(output).suffix.lower() == ".parquet":
        job.engine.write_parquet(select, output)
        write_meta(output, meta)
        return
    schema = results_schema(job.plan, lang, reasons=False)
    records = (schema.record(row) for batch in job.engine.arrow_batches(select) for row in batch.to_pylist())
    if output and output != "-":
        write_results(output, records, meta, registry)
    else:
        dump_json_lines(stream, records, meta)
