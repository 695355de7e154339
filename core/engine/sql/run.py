"""One evaluation job on a SQL engine: read, type, aggregate orders, evaluate, write.

The engine does all the work on its own relations: it reads CSV/TSV (as text, typed
by :mod:`tierkit.engine.sql.input`), Parquet and JSON Lines files itself, larger than memory
if need be, aggregates the order file with one grouped query
(:mod:`tierkit.engine.sql.orders`), and runs the ruleset compiled by :mod:`tierkit.engine.sql.plan`.
Other sources (XLSX, JSON arrays, databases, non-UTF-8 CSV) are read and typed by the
Python readers and handed to the engine.  Every input row ends in the results or
in the rejected list, as on the Python engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tierkit import __version__
from tierkit.engine.evaluation import derived_types, duplicate_policy, input_policy_counts, population_warnings
from tierkit.errors import TierkitError
from tierkit.io.tables import Rejected, SourceRef, detect_encoding, match_columns, read_rows, read_table
from tierkit.ruleset.labels import localize
from tierkit.plan.orderpolicy import check_feature_columns, require_order_file
from tierkit.engine.orders import describe_order_counts
from tierkit.plan.order_features import ORDER_FEATURES
from tierkit.plan.compiler import Plan
from tierkit.plan.reasons import unexplained
from tierkit.ir.sql_text import remembered
from tierkit.registry import Registry
from tierkit.engine.results import results_schema
from tierkit.engine.sql.connection import NotNative, SqlEngine
from tierkit.engine.sql.input import coerced_columns, typed_input
from tierkit.engine.sql.orders import (
    ID_COLUMN, OrderSql, attached_feature, order_aggregation, orders_of_rejected_accounts, unknown_customers,
)
from tierkit.engine.sql.plan import PREVIOUS_RELATION, SqlPlan, compile_sql_plan

NATIVE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
RAW_CUSTOMERS = "_tierkit_raw_customers"
RAW_ORDERS = "_tierkit_raw_orders"
PER_KEY = "_tierkit_order_totals"
FEATURES = "_tierkit_order_features"
TYPED = "_tierkit_typed"
ACCEPTED = "_tierkit_accepted"
CUSTOMERS = "_tierkit_customers"
RESULTS = "_tierkit_results"
PROBE = "_tierkit_probe"
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
    duplicates: int = 0
    coerced: list[Rejected] = field(default_factory=list)
    warnings: list = field(default_factory=list)  # what the schemes warn of about the population
    reasons: bool = True  # whether the results hold the reason columns of the kinds stated as IR
    orders_file: str | None = None

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
            **input_policy_counts(self.plan, self.duplicates, len(self.coerced)),
        }
        if self.orders is not None:
            meta["orders"] = {"file": self.orders_file, **self.orders}
        if self.reasons and (schemes := unexplained(self.plan)):  # said in the file, not left silently empty
            meta["no_reasons"] = [scheme.id for scheme in schemes]
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
    reasons: bool = True,
) -> SqlJob:
    """Evaluate on ``engine``; the results are the engine's relation ``_tierkit_results``,
    with the reason columns of the kinds stated as IR unless ``reasons`` is false.

    Customers come from the customer file, or, without one, from the ids of the order
    file (numbered by their first order, in id order, as the Python engine makes them).
    """
    if not customers and not orders:
        raise TierkitError("nothing to evaluate: give a customer file, --orders ORDERS, or both")
    require_order_file(plan.ruleset, orders)
    # the SQL texts of this ruleset's last run on this engine are used again where the same (tierkit.ir.sql_text)
    with remembered((plan.ruleset.name, plan.ruleset.fingerprint, engine.dialect.name, reasons)):
        return _SqlJobRunner(plan, registry, engine, as_of, progress, reasons).run(customers, orders)


class _SqlJobRunner:
    def __init__(self, plan: Plan, registry: Registry, engine: SqlEngine, as_of: dt.date, progress, reasons: bool):
        self.plan, self.registry, self.engine, self.as_of, self.progress = plan, registry, engine, as_of, progress
        self.reasons = reasons
        self.dialect = engine.dialect
        self.names = [f"s{index}" for index in range(len(plan.fields))]
        self.id_column = self.dialect.quote(self.names[plan.id_index])
        self._order_sql: OrderSql | None = None

    def run(self, customers, orders) -> SqlJob:
        summary, order_rejections, order_sql, superseded, coerced = None, [], None, 0, []
        if orders:
            order_sql, summary = self._aggregate(orders)
        if customers:
            read, rejected, coerced = self._read_customers(customers)
            duplicates, superseded = _duplicate_ids(self.engine, self.plan, str(customers))
            rejected += duplicates
            self.engine.materialize(ACCEPTED, self._accepted())
            self.engine.materialize(CUSTOMERS, self._with_orders(ACCEPTED) if order_sql else f"SELECT * FROM {ACCEPTED}")
        else:
            self.engine.materialize(CUSTOMERS, self._from_orders())
            read, rejected = self.engine.rows(f"SELECT count(*) FROM {CUSTOMERS}")[0][0], []
        if order_sql is not None:
            order_rejections = self._order_rejections(order_sql, summary, str(customers) if customers else None)
        if self.plan.previous_slots:
            _register_previous(self.engine, self.plan)
        self.progress(f"evaluating in {self.dialect.name}")
        compiled, failed = self._evaluate(CUSTOMERS, str(customers or orders))
        evaluated = self.engine.rows(f"SELECT count(*) FROM {RESULTS}")[0][0]
        rejected = sorted(rejected + failed, key=lambda item: item.row) + order_rejections
        warnings = population_warnings(self.plan, self._count_detail)
        return SqlJob(self.engine, compiled, self.as_of, read, evaluated, rejected, summary, superseded, coerced, warnings,
                      self.reasons, str(orders) if orders else None)

    def _count_detail(self, scheme, index: int) -> dict:
        """How many results have each value of a scheme's detail item (its attribute column)."""
        column = self.dialect.quote(f"s{scheme.slot.index}_d{index}")
        return dict(self.engine.rows(f"SELECT {column}, count(*) FROM {RESULTS} GROUP BY {column}"))

    # -- evaluation -----------------------------------------------------------
    def _evaluate(self, customers: str, file: str) -> tuple[SqlPlan, list[Rejected]]:
        """The plan compiled over ``customers`` and evaluated into ``_tierkit_results``.

        A row on which the engine's evaluation fails (an integer past 64 bits stops a
        SQL query where Python goes on) is found by halving the rows until it is alone,
        rejected with the engine's message, and the others evaluated; so is a row with
        a derived feature or score that is infinite or NaN, with Python's reason.  As on
        the Python engine, one row never stops the run, and the others rank without it.
        """
        failed: list[Rejected] = []
        while True:
            compiled = compile_sql_plan(self.plan, self.registry, self.dialect, self.as_of, customers, self.reasons)
            self.engine.register_udfs(compiled.query.udfs)
            try:
                self.engine.materialize(RESULTS, compiled.sql())
            except self.engine.row_errors as error:
                if not self.engine.row_error(error):
                    raise
                rows = [row for (row,) in self.engine.rows(f"SELECT _row FROM {customers} ORDER BY _row")]
                bad = self._failing(customers, rows)
                if not bad:
                    raise TierkitError(f"evaluation in {self.dialect.name} failed: {self.engine.error_line(error)}") from None
            else:
                bad = self._not_finite(compiled)
                if not bad:
                    return compiled, failed
            failed += [Rejected(file, row, None, None, f"evaluation failed: {reason}") for row, reason in bad]
            kept = f"{customers}_ok"
            self.engine.materialize(kept, f"SELECT * FROM {customers} WHERE _row NOT IN ({', '.join(str(row) for row, _ in bad)})")
            customers = kept

    def _not_finite(self, compiled: SqlPlan) -> list[tuple[int, str]]:
        """The rows whose first number (derived features and scores, in slot order, as
        Python checks them) is infinite or NaN, with Python's reason."""
        types = derived_types(self.plan)
        numbers = [(slot.index, name, f"s{slot.index}") for name, slot, _config in self.plan.derived if types[name] == "number"]
        numbers += [(scheme.slot.index, f"{scheme.id}.score", compiled.outcome_columns(scheme.id)[1])
                    for scheme in self.plan.schemes]
        if not numbers:
            return []
        inf = self.dialect.double_literal(float("inf"))
        checks = []
        for _index, name, column in sorted(numbers):
            value = self.dialect.quote(column)
            shown = f"CASE WHEN isnan({value}) THEN 'nan' WHEN {value} > 0 THEN 'inf' ELSE '-inf' END"
            checks.append(f"WHEN isnan({value}) OR abs({value}) = {inf} THEN "
                          f"{self.dialect.string(name + ' is not a finite number (')} || {shown} || ')'")
        reason = f"CASE {' '.join(checks)} END"
        return [tuple(row) for row in self.engine.rows(
            f"SELECT _row, _reason FROM (SELECT _row, {reason} AS _reason FROM {RESULTS}) AS _r "
            "WHERE _reason IS NOT NULL ORDER BY _row")]

    def _failing(self, customers: str, rows: list[int]) -> list[tuple[int, str]]:
        """The rows (of ``rows``, ascending) whose evaluation alone fails, with why."""
        error = self._probe(customers, rows[0], rows[-1]) if rows else None
        if error is None:
            return []
        if len(rows) == 1:
            return [(rows[0], error)]
        middle = len(rows) // 2
        return self._failing(customers, rows[:middle]) + self._failing(customers, rows[middle:])

    def _probe(self, customers: str, first: int, last: int) -> str | None:
        """Why evaluating the rows numbered ``first`` to ``last`` fails, or None."""
        self.engine.view(PROBE, f"SELECT * FROM {customers} WHERE _row BETWEEN {first} AND {last}")
        compiled = compile_sql_plan(self.plan, self.registry, self.dialect, self.as_of, PROBE, self.reasons)
        self.engine.register_udfs(compiled.query.udfs)
        try:
            self.engine.materialize(f"{PROBE}_results", compiled.sql())
        except self.engine.row_errors as error:
            if not self.engine.row_error(error):
                raise
            return self.engine.error_line(error)
        return None

    # -- customers ------------------------------------------------------------
    def _read_customers(self, customers) -> tuple[int, list[Rejected], list[Rejected]]:
        """Rows read, rows rejected, and values read as missing (``on_invalid: missing``)."""
        file, plan = str(customers), self.plan
        fields = [spec for spec in plan.fields if spec.name not in ORDER_FEATURES] if self._orders_given else plan.fields
        source_types = self._native(RAW_CUSTOMERS, customers)
        if source_types is not None:
            names = [self.names[plan.fields.index(spec)] for spec in fields]
            typed = typed_input(self.dialect, RAW_CUSTOMERS, source_types, fields, names, file)
            self.engine.register_udfs(typed.udfs)
            self.engine.materialize(TYPED, typed.sql)
            return (*_typed_rejections(self.engine, file), _typed_coerced(self.engine, fields, list(source_types), file))
        self.progress(f"reading {customers}")
        table = read_table(customers, plan.fields, self.registry)
        columns = {"_row": "integer", **{name: _column_type(spec.type) for name, spec in zip(self.names, plan.fields)}}
        columns.update(dict.fromkeys(REJECT_COLUMNS, "string"))
        rows = [(number, *row, None, None, None) for number, row in zip(table.row_numbers, table.rows)]
        # rejected rows keep the values that read, so that their orders are known as theirs
        rows += [
            (item.row, *(table.rejected_values.get(item.row, {}).get(spec.name) for spec in plan.fields), item.column,
             item.field, item.reason)
            for item in table.rejected
        ]
        self.engine.register_rows(TYPED, columns, rows)
        return table.read, list(table.rejected), table.coerced

    def _accepted(self) -> str:
        """Typed rows that were not rejected, the first of each id (the last with ``duplicates: last``)."""
        typed = {self.dialect.quote(name) for name in self._typed_names()}
        order = "_row DESC" if duplicate_policy(self.plan) == "last" else "_row"
        return (
            f"SELECT _row, {', '.join(sorted(typed))} FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY {self.id_column} ORDER BY {order}) AS _copy FROM {TYPED} "
            f"WHERE _reject_reason IS NULL) AS _t WHERE _copy = 1 AND {self.id_column} IS NOT NULL"
        )

    def _typed_names(self) -> list[str]:
        """The columns read from the customer file (order features come from the orders)."""
        return [name for name, spec in zip(self.names, self.plan.fields)
                if not (self._orders_given and spec.name in ORDER_FEATURES)]

    @property
    def _orders_given(self) -> bool:
        return self._order_sql is not None

    # -- orders ---------------------------------------------------------------
    def _aggregate(self, orders) -> tuple[OrderSql, dict]:
        file = str(orders)
        self.progress(f"aggregating orders from {orders} in {self.dialect.name}")
        source_types = self._register_source(RAW_ORDERS, orders)
        id_spec = self.plan.fields[self.plan.id_index]
        policy = self.plan.order_policy
        order_sql = order_aggregation(self.dialect, RAW_ORDERS, source_types, None, self.as_of, file, id_spec, policy)
        headers = [header for header in source_types if header != "_row"]
        check_feature_columns(self.plan.order_features_read, order_sql.columns, headers, file)
        self._order_sql = order_sql
        self.engine.register_udfs(order_sql.udfs)
        self.engine.materialize(PER_KEY, order_sql.per_key)
        self.engine.materialize(FEATURES, order_sql.features_from(PER_KEY))
        (read, used, after_as_of, rejected, excluded, duplicate_rows, zero_amount, negative_amount), = (
            self.engine.rows(order_sql.summary_from(PER_KEY))
        )
        summary = {
            "read": read, "used": used, "after_as_of": after_as_of, "unknown_customer": 0, "rejected": rejected,
            "duplicate_rows": duplicate_rows, "zero_amount": zero_amount, "negative_amount": negative_amount,
            "of_rejected_accounts": 0,
        }
        if order_sql.filtered:
            summary["excluded"] = excluded
        return order_sql, summary

    def _native(self, name: str, source) -> dict[str, str] | None:
        """The source types of a file the engine reads itself as ``name``; None when
        tierkit's readers must read it (other formats, databases, files the engine
        reads otherwise, see :class:`NotNative`), and a path that is not a file, whose
        error tierkit's readers word."""
        file_format = native_format(source)
        if file_format is None or not Path(str(source)).is_file() or not _engine_can_read(str(source), file_format):
            return None
        self.progress(f"reading {source} in {self.dialect.name}")
        try:
            return self.engine.register_file(name, str(source), file_format)
        except NotNative:
            return None

    def _register_source(self, name: str, source) -> dict[str, str]:
        """A file the engine reads itself, or rows read by Python (other formats, databases)."""
        source_types = self._native(name, source)
        if source_types is not None:
            return source_types
        rows = [(number, raw) for number, raw in read_rows(source, self.registry)]
        headers = list(dict.fromkeys(header for _, raw in rows if isinstance(raw, dict) for header in raw))
        columns = {"_row": "integer", **dict.fromkeys(headers, "string")}
        self.engine.register_rows(name, columns, [
            (number, *(_cell_text(raw.get(header)) if isinstance(raw, dict) else None for header in headers))
            for number, raw in rows
        ])
        return dict.fromkeys(headers, "text")

    def _order_feature_values(self, features: str) -> list[str]:
        """Each field's value once orders are attached: order features from ``features``."""
        q = self.dialect.quote
        values = []
        for name, spec in zip(self.names, self.plan.fields):
            if spec.name in ORDER_FEATURES:
                default = self.dialect.literal(spec.default) if spec.default is not None else "NULL"
                values.append(f"{attached_feature(self.dialect, spec.name, f'{features}.{q(spec.name)}', default)} AS {q(name)}")
            else:
                values.append(f"_c.{q(name)} AS {q(name)}")
        return values

    def _with_orders(self, accepted: str) -> str:
        q = self.dialect.quote
        return (
            f"SELECT _c._row AS _row, {', '.join(self._order_feature_values('_f'))} FROM {accepted} AS _c "
            f"LEFT JOIN {FEATURES} AS _f ON _c.{self.id_column} = _f.{q(ID_COLUMN)}"
        )

    def _from_orders(self) -> str:
        """The customers of the order file: the id and order features; other fields their default."""
        q = self.dialect.quote
        values = []
        for name, spec in zip(self.names, self.plan.fields):
            if spec.name in ORDER_FEATURES:
                values.append(f"_f.{q(spec.name)} AS {q(name)}")
            elif name == self.names[self.plan.id_index]:
                values.append(f"_f.{q(ID_COLUMN)} AS {q(name)}")
            else:
                default = self.dialect.literal(spec.default) if spec.default is not None else "NULL"
                values.append(f"CAST({default} AS {self._sql_type(spec)}) AS {q(name)}")
        # ranking ties keep the Python engine's input order: the customers in id order
        return f"SELECT row_number() OVER (ORDER BY _f.{q(ID_COLUMN)}) AS _row, {', '.join(values)} FROM {FEATURES} AS _f"

    def _sql_type(self, spec) -> str:
        return self.dialect.list_type() if spec.type == "list" else self.dialect.type_of(_column_type(spec.type))

    def _order_rejections(self, order_sql: OrderSql, summary: dict, customers_file: str | None) -> list[Rejected]:
        """The rejected order rows: bad rows, and orders of unknown customers; those and
        the orders of rejected customer rows are counted in ``summary``."""
        file = order_sql.file
        bad = self.engine.rows(order_sql.rejected) if summary["rejected"] else []
        customers = ACCEPTED if customers_file else None
        id_name = self.names[self.plan.id_index]
        rejected_ids = None
        if customers_file:
            id_column = self.dialect.quote(id_name)
            rejected_ids = f"SELECT {id_column} AS _id FROM {TYPED} WHERE _reject_reason IS NOT NULL AND {id_column} IS NOT NULL"
            summary["of_rejected_accounts"] = self.engine.rows(
                orders_of_rejected_accounts(order_sql, ACCEPTED, id_name, rejected_ids, PER_KEY)
            )[0][0]
        unknown = self.engine.rows(unknown_customers(order_sql, customers, id_name, customers_file, PER_KEY, rejected_ids))
        summary["unknown_customer"] = len(unknown)  # a bad row's missing id is a rejection, not an unknown customer
        rows = sorted(bad + unknown, key=lambda item: item[0])
        return [Rejected(file, row, column, field_name, reason, "orders") for row, column, field_name, reason in rows]


def _engine_can_read(path: str, file_format: str) -> bool:
    """The engines read UTF-8 text files; GB18030 or UTF-16 exports go through Python."""
    if file_format not in ("csv", "tsv", "jsonl"):
        return True
    return detect_encoding(Path(path)) in ("utf-8-sig", "utf-8")


def _cell_text(value) -> str | None:
    """A cell read by Python as the engine's text: dates in ISO form, numbers as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _column_type(field_type: str) -> str:
    return "string" if field_type == "enum" else field_type


def _typed_rejections(engine: SqlEngine, file: str) -> tuple[int, list[Rejected]]:
    read = engine.rows(f"SELECT count(*) FROM {TYPED}")[0][0]
    rows = engine.rows(
        f"SELECT _row, {', '.join(REJECT_COLUMNS)} FROM {TYPED} WHERE _reject_reason IS NOT NULL ORDER BY _row"
    )
    return read, [Rejected(file, row, column, field_name, reason) for row, column, field_name, reason in rows]


def _duplicate_ids(engine: SqlEngine, plan: Plan, file: str) -> tuple[list[Rejected], int]:
    """Rows with no id, or (``duplicates: reject``) the id of an earlier row: rejected as
    the Python engine does; and how many rows another of their id replaced."""
    dialect = engine.dialect
    id_column = dialect.quote(f"s{plan.id_index}")
    id_name = plan.fields[plan.id_index].name
    rejecting = duplicate_policy(plan) == "reject"
    rows = engine.rows(
        f"SELECT _row, {id_column}, first_row FROM (SELECT _row, {id_column}, "
        f"min(_row) OVER (PARTITION BY {id_column}) AS first_row FROM {TYPED} WHERE _reject_reason IS NULL) AS _t "
        f"WHERE {id_column} IS NULL OR _row > first_row ORDER BY _row"
    )
    rejected = [
        Rejected(file, row, None, id_name, "missing id" if key is None else f"duplicate id {key!r} (first at row {first})")
        for row, key, first in rows
        if key is None or rejecting
    ]
    return rejected, len(rows) - len(rejected)


def _typed_coerced(engine: SqlEngine, fields: list, headers: list[str], file: str) -> list[Rejected]:
    """The values of kept rows the engine read as missing (``on_invalid: missing``), as
    :class:`tierkit.io.tables.Table` lists them: by row, then field."""
    notes = [(column, fields[index]) for index, column in coerced_columns(fields).items()]
    if not notes:
        return []
    matched = dict(zip((spec.name for spec in fields), match_columns(headers, fields, file)))
    rows = engine.rows(
        f"SELECT _row, {', '.join(column for column, _ in notes)} FROM {TYPED} "
        f"WHERE _reject_reason IS NULL AND ({' OR '.join(f'{column} IS NOT NULL' for column, _ in notes)}) ORDER BY _row"
    )
    return [
        Rejected(file, row[0], matched[spec.name], spec.name, reason)
        for row in rows
        for (_, spec), reason in zip(notes, row[1:])
        if reason is not None
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
    """The results in the results-file layout (:mod:`tierkit.engine.results`) without reasons,
    best rank first: what the engine writes as Parquet itself with ``--reasons none``."""
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
    columns = [f"{sql_type_cast(dialect, column.type, values.get(column.name, 'NULL'))} AS {quote(column.name)}" for column in schema]
    return f"SELECT {', '.join(columns)} FROM {RESULTS} ORDER BY {quote('rank')}"


_SQL_TYPES = {"double": "number", "int64": "integer", "bool": "boolean", "date32": "date", "string": "string", "json": "string"}


def sql_type_cast(dialect, column_type: str, sql: str) -> str:
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
