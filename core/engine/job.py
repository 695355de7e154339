"""One evaluation job: a ruleset, a customer file and/or an order file, an as-of date.

Every command that evaluates (``evaluate``, ``explain``, ``whatif``, ``backtest`` and
those that print briefs, reports and call lists) goes through :func:`run_job`, so they
read files, aggregate orders, read the previous run's labels (hysteresis,
``previous_run``) and account for rejected rows the same way, on any engine: on DuckDB
or Spark the job is a :class:`tierkit.engine.sql.evaluation.SqlRun`, whose evaluation gives
the same rows, records and reasons.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierkit.engine.evaluation import BoundPlan, Evaluation, paused_gc
from tierkit.errors import TierkitError
from tierkit.io.tables import Rejected, SourceRef, Table, read_rows, read_table
from tierkit.plan.orderpolicy import check_feature_columns, require_order_file
from tierkit.engine.orders import OrderSummary, aggregate_orders, attach_orders, customers_from_orders
from tierkit.plan.compiler import Plan
from tierkit.registry import Registry
from tierkit.store.runs import previous_labels

if TYPE_CHECKING:
    from tierkit.engine.sql.evaluation import SqlRun


@dataclass
class Job:
    """What a run read and made; ``rejected`` lists customer and order rows alike."""

    evaluation: Evaluation
    table: Table
    orders: OrderSummary | None = None

    @property
    def read(self) -> int:
        return self.table.read

    def describe_orders(self) -> str | None:
        """The one-line account of the order file, or None without one."""
        return None if self.orders is None else self.orders.describe()

    @property
    def rejected(self) -> list[Rejected]:
        orders = self.orders.rejected + self.orders.unknown_customers if self.orders else []
        return self.evaluation.rejected + sorted(orders, key=lambda item: item.row)

    def rejection_of(self, customer_id: str) -> Rejected | None:
        """Why the row of ``customer_id`` was rejected: found by the id the row read, or
        else by the id named in the reason (``duplicate id 'C4'``); None if it was not."""
        id_name = self.evaluation.plan.ruleset.id_field
        rows = {number for number, values in self.table.rejected_values.items() if str(values.get(id_name)) == customer_id}
        return rejection_among(self.evaluation.rejected, rows, customer_id)

    def meta(self, lang: str) -> dict:
        meta = self.evaluation.meta(lang, read=self.table.read)
        if self.orders is not None:
            meta["orders"] = {"file": self.orders.file, **self.orders.counts()}
        return meta


def rejection_among(rejected: list[Rejected], rows: set[int], customer_id: str) -> Rejected | None:
    """The rejection of one of ``rows`` (the rows that read ``customer_id``), or else the
    first whose reason names the id (``duplicate id 'C4'``); None if there is none."""
    return next((r for r in rejected if r.row in rows), None) or next((r for r in rejected if customer_id in r.reason), None)


def run_job(
    plan: Plan,
    registry: Registry,
    customers: str | SourceRef | None,
    orders: str | SourceRef | None,
    as_of: dt.date,
    progress: Callable[[str], None] = lambda message: None,
    store: str | None = None,
    history: bool = True,
    engine="python",
) -> Job | SqlRun:
    """Read, aggregate and evaluate; customers may come from the order file alone.

    Either input is a file path or a database table or query (:class:`SourceRef`).
    A plan reading ``previous_run`` (hysteresis included) gets the labels of the latest
    saved run of its ruleset from ``store`` (else ``$TIERKIT_STORE`` or the default
    store, when it exists); ``history=False`` evaluates as if no run had been saved.
    ``engine``: ``python`` (this process), or a SQL engine by name
    (:data:`tierkit.engine.sql.connection.ENGINES`) or already open.
    """
    if not customers and not orders:
        raise TierkitError("nothing to evaluate: give a customer file, --orders ORDERS, or both")
    require_order_file(plan.ruleset, orders)
    if history:
        plan = with_previous(plan, store)
    if engine != "python":
        from tierkit.engine.sql.evaluation import run_sql  # the SQL back end loads only when asked for

        return run_sql(plan, registry, engine, customers, orders, as_of, progress)
    id_field = plan.ruleset.id_field
    summary = None
    with paused_gc():
        if orders:
            progress(f"aggregating orders from {orders}")
            summary = aggregate_orders(str(orders), read_rows(orders, registry), as_of, policy=plan.order_policy)
            if summary.read:  # the readers give the headers with the rows: a file of headers only has no columns to check
                check_feature_columns(plan.order_features_read, summary.columns, summary.headers, summary.file)
            progress(summary.describe())
        if customers:
            progress(f"reading {customers}")
            table = read_table(customers, plan.fields, registry)
            if summary is not None:
                attach_orders(table, summary, id_field)
        else:
            table = customers_from_orders(summary, plan.fields, id_field)
    progress(f"read {table.read:,} customers; evaluating")
    return Job(BoundPlan(plan, as_of).run_table(table), table, summary)


def with_previous(plan: Plan, store: str | None = None) -> Plan:
    """``plan`` with the labels ``previous_run.<scheme>`` and hysteresis read: those of the
    latest saved run of its ruleset in ``store`` (see :func:`tierkit.store.runs.previous_labels`).
    A plan that reads none, or that already carries them, is returned as it is."""
    if not plan.previous_slots or plan.previous:
        return plan
    return dataclasses.replace(plan, previous=previous_labels(plan, store))
