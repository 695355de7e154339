"""Compile a ruleset's plan into one SQL query, for the DuckDB and Spark engines.

The Python plan (:mod:`tierkit.plan.compiler`) is compiled first: it validates the ruleset,
orders derived features and schemes by what they read, and names a slot for every
value.  This compiler walks the same plan and emits the same values as SQL columns
named after those slots (``s3``; ``s7_label``, ``s7_score``, ``s7_tags``, ``s7_d<k>``
for scheme outcomes), so every expression reads in SQL exactly what it reads in
Python.  Each scheme kind adds its columns through ``compile_sql``; a kind without
one is named in a one-line error.

The query reads a relation of typed customers: ``_row`` (the input row number, which
breaks ranking ties as the Python engine's input order does) and one column per
field, named after the field's slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tierkit.plan import allocation as allocation_table
from tierkit.errors import RulesetError, TierkitError
from tierkit.ir.from_expr import ir_scope
from tierkit.ruleset.overrides import Override
from tierkit.plan.compiler import Plan
from tierkit.registry import Registry
from tierkit.engine.sql.build import Query, SqlBuild
from tierkit.engine.sql.dialect import Dialect

PREVIOUS_RELATION = "_tierkit_previous"


@dataclass
class SqlPlan:
    """A plan compiled to SQL for one dialect and as-of date."""

    plan: Plan
    dialect: Dialect
    query: Query
    rank_column: str
    allocation_details: tuple[int, ...]  # the positions of the allocation's detail (its rule's position first)
    previous_columns: dict[str, str]  # scheme id -> column of its label in the previous run
    details: dict[str, tuple[int, ...]]  # scheme id -> the positions of its outcome's detail, each a column s<slot>_d<k>

    def sql(self) -> str:
        """Every column of every layer, one row per customer."""
        return self.query.render()

    @property
    def allocation_column(self) -> str:
        """The column of the position of the allocation rule that fired (-1: the default)."""
        return self.dialect.quote(f"s{self.plan.allocation.slot.index}_d{allocation_table.RULE}")

    def outcome_columns(self, scheme_id: str) -> tuple[str, str, str]:
        """The (label, score, tags) columns of a scheme, unquoted."""
        slot = next(scheme.slot.index for scheme in self.plan.schemes if scheme.id == scheme_id)
        return f"s{slot}_label", f"s{slot}_score", f"s{slot}_tags"


def compile_sql_plan(plan: Plan, registry: Registry, dialect: Dialect, as_of: dt.date, source: str,
                     reasons: bool = True) -> SqlPlan:
    """The query over ``source`` (typed customers) giving every outcome, the rank and the
    allocation, and with ``reasons`` the reason columns of the kinds stated as IR; a
    ruleset error or a kind without SQL is raised, naming it."""
    return _SqlPlanCompiler(plan, registry, dialect, as_of, source, reasons).compile()


class _SqlPlanCompiler:
    def __init__(self, plan: Plan, registry: Registry, dialect: Dialect, as_of: dt.date, source: str, reasons: bool):
        self.plan = plan
        self.reasons = reasons
        self.details: dict[str, tuple[int, ...]] = {}
        self.registry = registry
        self.dialect = dialect
        self.as_of = as_of
        self.query = Query(dialect, source)
        self.scope = ir_scope(plan.scope, as_of)
        ruleset = plan.ruleset
        self.locate = lambda path: ruleset.content_position(*path) or ruleset.position(*path)

    def _build(self, config, path: tuple, slot: int, attributes=None) -> SqlBuild:
        build = SqlBuild(config, path, slot, attributes or {}, self.scope, self.plan.functions, self.query, self.locate)
        return build

    def _check(self, build: SqlBuild) -> None:
        errors = [d for d in build.diagnostics if d.severity == "error"]
        if errors:
            raise RulesetError(errors)

    def compile(self) -> SqlPlan:
        for index, spec in enumerate(self.plan.fields):
            self.query.unique(f"s{index}")
        self._derived()
        previous = self._previous()
        for scheme in self.plan.schemes:
            self._scheme(scheme)
        rank = self._rank()
        allocation = self._allocation()
        return SqlPlan(self.plan, self.dialect, self.query, rank, allocation, previous, self.details)

    def _derived(self) -> None:
        derive = self.plan.ruleset.data.get("derive") or {}
        for name, slot, config in self.plan.derived:
            if isinstance(derive[name], str):  # short form: the value is the expression
                build = self._build({"id": name, name: config["expr"]}, ("derive",), slot.index)
                compiled = build.expression(name)
            else:
                build = self._build({"id": name, **config}, ("derive", name), slot.index)
                compiled = build.expression("expr")
            self._check(build)
            self.query.add(self.query.unique(f"s{slot.index}"), compiled.code)

    def _previous(self) -> dict[str, str]:
        """``previous_run.<scheme>`` columns, joined from the relation the runner registers."""
        columns = {scheme_id: f"s{slot}" for scheme_id, slot in self.plan.previous_slots.items()}
        if columns:
            id_column = self.dialect.quote(f"s{self.plan.id_index}")
            self.query.join(PREVIOUS_RELATION, f"CAST({id_column} AS {self.dialect.text_type})", "id", list(columns.values()))
        return columns

    def _scheme(self, scheme) -> None:
        kind = self.registry.kinds[scheme.kind]
        if kind.compile_sql is None:
            origin = self.registry.origin("kind", kind.name)
            raise TierkitError(
                f"scheme {scheme.id!r}: kind {kind.name!r} (plugin {origin}) has no SQL form; run it with --engine python"
            )
        index = next(i for i, config in enumerate(self.plan.ruleset.data["schemes"]) if config.get("id") == scheme.id)
        config = self.plan.ruleset.data["schemes"][index]
        pinned = scheme.id in self.plan.pin_slots
        build = self._build(config, ("schemes", index), scheme.slot.index, kind.attributes)
        if pinned:
            build.prefix = f"s{scheme.slot.index}_computed"
        build.reasons = self.reasons
        kind.compile_sql(build)
        self._check(build)
        self.details[scheme.id] = tuple(sorted(build.details))
        if not build.outcome_set:
            raise TierkitError(f"scheme {scheme.id!r}: kind {kind.name!r} gave no SQL outcome")
        if pinned:
            self._pin(scheme, build)

    def _pin(self, scheme, build: SqlBuild) -> None:
        """Managers' overrides in force at the as-of date replace label and tags by id."""
        entries = {entry.customer: entry for entry in self.plan.overrides.for_scheme(scheme.id) if entry.expires >= self.as_of}
        dialect, slot, computed = self.dialect, scheme.slot.index, build.prefix
        key = f"CAST({dialect.quote(f's{self.plan.id_index}')} AS {dialect.text_type})"
        label, score, tags = (dialect.quote(f"{computed}_{part}") for part in ("label", "score", "tags"))
        labels = [f"WHEN {dialect.literal(c)} THEN {dialect.literal(e.label)}" for c, e in entries.items() if e.label is not None]
        retagged = [f"WHEN {dialect.literal(c)} THEN {_retag(dialect, tags, e)}" for c, e in entries.items() if e.add_tags or e.remove_tags]
        self.query.add(f"s{slot}_label", f"CASE {key} {' '.join(labels)} ELSE {label} END" if labels else label)
        self.query.add(f"s{slot}_score", score)
        self.query.add(f"s{slot}_tags", f"CASE {key} {' '.join(retagged)} ELSE {tags} END" if retagged else tags)
        for position in build.details:
            self.query.add(f"s{slot}_d{position}", dialect.quote(f"{computed}_d{position}"))

    def _rank(self) -> str:
        keys = self.plan.ruleset.data.get("rank") or []
        slot = self.plan.rank_slot.index
        build = self._build({"id": "rank", **dict(enumerate(keys))}, ("rank",), slot)
        order = []
        for index, key in enumerate(keys):
            column = build.column(f"key{index}", build.expression(index, "by").code)
            direction = "DESC" if key.get("order", "desc") == "desc" else "ASC"
            order.append(f"{column} {direction} NULLS LAST")
        self._check(build)
        order.append(self.dialect.quote("_row"))
        return self.query.add(self.query.unique(f"s{slot}"), f"row_number() OVER (ORDER BY {', '.join(order)})")

    def _allocation(self) -> tuple[int, ...]:
        """The allocation table's outcome and detail columns, its reasons' always: they
        are a few columns, and which rule matched is part of every result."""
        build = self._build(allocation_table.config(self.plan.ruleset.data), ("allocation",),
                            self.plan.allocation.slot.index, allocation_table.ATTRIBUTES)
        allocation_table.TABLE.compile_sql(build)
        self._check(build)
        return tuple(sorted(build.details))


def _retag(dialect: Dialect, tags: str, entry: Override) -> str:
    """:meth:`Override.apply` on a tag list: add the new tags, then drop the removed ones."""
    result = tags
    if entry.add_tags:
        added = dialect.list_of([dialect.literal(tag) for tag in entry.add_tags])
        new = dialect.list_filter(added, "x", f"NOT {dialect.list_contains(tags, 'x')}")
        result = dialect.list_concat(tags, new)
    if entry.remove_tags:
        removed = dialect.list_of([dialect.literal(tag) for tag in entry.remove_tags])
        result = dialect.list_filter(result, "x", f"NOT {dialect.list_contains(removed, 'x')}")
    return result

