"""A SQL engine's results as the Python engine's :class:`tierkit.engine.evaluation.Evaluation`.

The results relation of a run on DuckDB or Spark (:mod:`tierkit.engine.sql.run`) holds every
slot a result record is made of as a column named after it: the fields and derived
features, each scheme's label, score, tags and detail (``s<slot>_d<k>``: the kind's
attributes, then the reason columns of a kind stated as IR), the outcome an override
replaced, the rank and the allocation rule.  :class:`SlotLayout` reads them back in
rank order, batch by batch, as the slot lists the Python engine makes, so that
:meth:`Evaluation.record` writes the same records from either engine, reasons in words
or codes included (:mod:`tierkit.plan.reasons` reads them from the detail by one layout),
and every command that works on an evaluation (``explain``, ``whatif``, ``backtest``,
``brief``, ``report``, ``calllist``, the run store) works on a SQL engine's run
(:func:`run_sql`, which :func:`tierkit.engine.job.run_job` calls for ``engine``).

A kind not yet stated as IR computes no reason columns on SQL: its outcomes there have
no reasons (:func:`unexplained` names those schemes, so that outputs can say so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tierkit.engine.evaluation import BoundPlan, Evaluation
from tierkit.io.tables import Rejected, dump_json_lines, write_results
from tierkit.engine.job import rejection_among
from tierkit.io.outputs import replacing
from tierkit.ruleset.overrides import entries_in_force
from tierkit.plan.compiler import Plan
from tierkit.registry import Registry
from tierkit.engine.results import SchemaRecords, feature_value, results_schema, write_meta
from tierkit.plan.reasons import unexplained
from tierkit.engine.sql.connection import EngineChoice, SqlEngine
from tierkit.engine.sql.run import RESULTS, TYPED, SqlJob, describe_orders, results_select, run_sql_job, sql_type_cast


def missing_reasons_note(plan: Plan, engine: str) -> str | None:
    """The line saying which schemes' reasons a SQL engine's outputs lack, or None."""
    schemes = unexplained(plan)
    if not schemes:
        return None
    named = ", ".join(f"{scheme.id} ({scheme.kind})" for scheme in schemes)
    return f"warning: {engine} gives no reasons for {named} yet: their reasons are left out; --engine python gives them"


@dataclass
class SqlEvaluation(Evaluation):
    """An evaluation made on a SQL engine (``job``): rows are slot lists read from its
    results; a scheme of a kind without reasons on SQL gives none (not empty ones)."""

    job: SqlJob | None = None

    def explained(self, row: list, scheme, lang: str, reasons: str = "words") -> tuple[list[dict] | None, dict | None]:
        if scheme.compiled.reason_columns is None:
            reasons = "none"
        return super().explained(row, scheme, lang, reasons)

    @property
    def engine(self) -> str:
        return self.job.engine.dialect.name

    def meta(self, lang: str, read: int | None = None) -> dict:
        return self.job.meta(lang)

    def missing_reasons(self, lang: str) -> tuple[str, str] | None:
        """``("kinds", engine)`` when some schemes' kinds give no reasons on this engine
        (:func:`tierkit.plan.reasons.unexplained` names them)."""
        return ("kinds", self.engine) if self.rows and unexplained(self.plan) else None


def write_sql_results(job: SqlJob, output: str | None, lang: str, registry: Registry, stream=None, mode: str | None = None,
                      reasons: str = "words", meta: dict | None = None, rows: list[list] | None = None) -> None:
    """The results as the Python engine writes them, reasons as ``reasons`` says
    (:data:`tierkit.io.outputs.REASONS`), from ``rows`` (already read, in rank order) or
    streamed from the engine.  Parquet without reasons the engine writes itself."""
    meta = job.meta(lang) if meta is None else meta
    if reasons == "none" and output and Path(output).suffix.lower() == ".parquet" and mode is None:
        with replacing(output) as temporary:
            job.engine.write_parquet(results_select(job, lang), str(temporary))
            write_meta(temporary, meta)
        return
    records = evaluation_of(job, []).records(lang, reasons, SlotLayout(job).rows() if rows is None else rows)
    records = SchemaRecords(records.schema, records, job.rejected)  # a workbook lists the order rows rejected too
    if output and output != "-":
        write_results(output, records, meta, registry, mode)
    else:
        dump_json_lines(stream, records, meta)


class SlotLayout:
    """The SELECT of a job's results as slot columns, and each selected row as the slot
    list the Python engine makes (outcome tuples ``(label, score, tags, detail)``, the
    allocation's included, and the pin slot ``(override, computed outcome)``)."""

    def __init__(self, job: SqlJob, ranked: bool = True):
        self.job = job
        plan, compiled = job.plan, job.compiled
        quote, cast = job.engine.dialect.quote, lambda sql, kind: sql_type_cast(job.engine.dialect, kind, sql)
        schema = results_schema(plan, "en", reasons=False)
        slots = [index for index in range(len(plan.fields))] + [slot.index for _name, slot, _config in plan.derived]
        self.features = [(slot, column.type) for slot, column in zip(slots, schema.features)]
        columns = [cast(quote(f"s{slot}"), kind) for slot, kind in self.features]
        self.schemes = []
        for scheme in plan.schemes:
            slot, details = scheme.slot.index, compiled.details[scheme.id]
            prefixes = [f"s{slot}"]
            pin = plan.pin_slots.get(scheme.id)
            if pin is not None:
                prefixes.append(f"s{slot}_computed")
            for prefix in prefixes:
                columns += [quote(f"{prefix}_{part}") for part in ("label", "score", "tags")]
                columns += [quote(f"{prefix}_d{position}") for position in details]
            in_force = entries_in_force(plan.overrides.for_scheme(scheme.id), job.as_of) if pin is not None else {}
            self.schemes.append((slot, details, max(details, default=-1) + 1, pin, in_force))
        allocation = plan.allocation.slot.index
        columns += [compiled.rank_column, *(quote(f"s{allocation}_{part}") for part in ("label", "score", "tags"))]
        columns += [quote(f"s{allocation}_d{position}") for position in compiled.allocation_details]
        self.allocation = (allocation, compiled.allocation_details, max(compiled.allocation_details) + 1)
        order = compiled.rank_column if ranked else "_row"
        self.select = f"SELECT {', '.join(columns)} FROM {RESULTS} ORDER BY {order}"

    def rows(self) -> Iterator[list]:
        """The results as slot lists, best rank first (``ranked``) or in input order, a
        batch at a time."""
        for batch in self.job.engine.row_batches(self.select):
            yield from map(self.row, batch)

    def row(self, values: tuple) -> list:
        plan = self.job.plan
        row: list = [None] * plan.slot_count
        at = iter(values)
        for slot, kind in self.features:
            row[slot] = feature_value(kind, next(at))
        for slot, details, width, pin, in_force in self.schemes:
            row[slot] = _outcome(at, details, width)
            if pin is not None:
                computed, entry = _outcome(at, details, width), in_force.get(str(row[plan.id_index]))
                row[pin] = (entry, computed) if entry is not None else None
        row[plan.rank_slot.index] = next(at)
        slot, details, width = self.allocation
        row[slot] = _outcome(at, details, width)
        return row


def _outcome(values: Iterator, details: tuple[int, ...], width: int) -> tuple:
    label, score, tags = next(values), next(values), next(values)
    detail: list = [None] * width
    for position in details:
        detail[position] = next(values)
    return label, score, tuple(tags or ()), tuple(detail)


def evaluation_of(job: SqlJob, rows: list[list] | None = None) -> SqlEvaluation:
    """The job's evaluation, with ``rows`` (read from the engine in input order, as the
    Python engine holds them, when not given)."""
    rejected = [item for item in job.rejected if item.table != "orders"]
    rows = list(SlotLayout(job, ranked=False).rows()) if rows is None else rows
    return SqlEvaluation(BoundPlan(job.plan, job.as_of), rows, rejected, job.warnings, job.duplicates, job.coerced,
                         job=job)


@dataclass
class SqlRun:
    """A run on a SQL engine for the commands that work on an evaluation, as
    :class:`tierkit.engine.job.Job` gives one: its evaluation, the rows read and rejected."""

    evaluation: SqlEvaluation
    rejected: list[Rejected]
    read: int
    rejected_ids: dict[int, str] = field(default_factory=dict)  # row number -> the id the rejected row read

    def rejection_of(self, customer_id: str) -> Rejected | None:
        """Why the row of ``customer_id`` was rejected (see :meth:`tierkit.engine.job.Job.rejection_of`)."""
        rows = {row for row, key in self.rejected_ids.items() if key == customer_id}
        return rejection_among(self.evaluation.rejected, rows, customer_id)

    def meta(self, lang: str) -> dict:
        return self.evaluation.meta(lang)

    def describe_orders(self) -> str | None:
        return None if self.evaluation.job.orders is None else describe_orders(self.evaluation.job.orders)


def run_sql(plan: Plan, registry: Registry, engine: str | EngineChoice | SqlEngine, customers, orders, as_of: dt.date,
            progress: Callable[[str], None] = lambda message: None) -> SqlRun:
    """Evaluate on a SQL engine (a name or a choice, opened and closed here, or an open
    engine) and read the results back as an evaluation."""
    owned = not isinstance(engine, SqlEngine)
    opened = (EngineChoice(engine) if isinstance(engine, str) else engine).open() if owned else engine
    try:
        job = run_sql_job(plan, registry, opened, customers, orders, as_of, progress)
        evaluation = evaluation_of(job)
        id_column = opened.dialect.quote(f"s{plan.id_index}")
        rejected_ids = dict(opened.rows(f"SELECT _row, CAST({id_column} AS {opened.dialect.text_type}) FROM {TYPED} "
                                        "WHERE _reject_reason IS NOT NULL")) if customers else {}
    finally:
        if owned:
            opened.close()
    return SqlRun(evaluation, job.rejected, job.read, rejected_ids)
