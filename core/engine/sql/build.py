"""What a scheme kind's SQL compile step works with, and the query it adds to.

The SQL back end mirrors the Python one (:mod:`tierkit.plan.build`): a kind's
``compile_sql(build)`` reads the same config through the same methods, but its
expressions come back as SQL, and instead of row steps and population steps it adds
*columns* (per customer; window functions allowed).  The builder stacks them into
a chain of ``SELECT`` layers, starting a new layer only when a column reads one of
the same layer, so the engine sees a short, flat query.  Population values (medians,
counts, ranks) are window functions over the whole population (``OVER ()``).

A scheme's outcome is a set of columns named after its Python slot (``s7_label``,
``s7_score``, ``s7_tags``, ``s7_d<k>`` for the kind's attribute at detail index k),
so that expressions of later schemes read them exactly where the Python plan reads
``s7[0]`` or ``s7[3][k]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierkit.plan.build import ConfigBuild
from tierkit.errors import Position
from tierkit.expr.compiler import Compiled, Symbol
from tierkit.ir.from_expr import compile_sql_expression
from tierkit.ir.sql_text import expression_sql
from tierkit.registry import Function
from tierkit.engine.sql.dialect import Dialect


@dataclass
class Layer:
    """One ``SELECT`` over the previous layer: ``row`` columns are computed per customer
    (population values as windows, ``count(x) OVER ()``, so each layer reads its
    predecessor once); a ``join`` layer adds columns of another relation by key
    (``join`` is (relation, key SQL over the previous layer, key column of the relation))."""

    kind: str
    columns: list[tuple[str, str]] = field(default_factory=list)  # (column name, SQL)
    join: tuple[str, str, str] | None = None


class Query:
    """The chain of layers a plan compiles to, rendered as one query of nested subqueries."""

    def __init__(self, dialect: Dialect, source: str):
        self.dialect = dialect
        self.source = source
        self.layers: list[Layer] = []
        self._names: set[str] = set()
        self.udfs: dict = {}  # the plain Python functions the columns call (ir.PyCall), by UDF name

    def unique(self, name: str) -> str:
        """A column name not used before (kinds pick names freely, clashes get a suffix)."""
        candidate, number = name, 1
        while candidate in self._names:
            number += 1
            candidate = f"{name}_{number}"
        self._names.add(candidate)
        return candidate

    def add(self, name: str, sql: str) -> str:
        """Add a per-customer column; returns its quoted name.

        The column goes into the first layer after every column it reads, so schemes
        that do not read each other share layers and the query stays shallow (Spark's
        analysis time grows steeply with depth)."""
        after = max((index for index, layer in enumerate(self.layers) if self._reads_layer(sql, layer)), default=-1)
        place = next((index for index in range(after + 1, len(self.layers)) if self.layers[index].kind == "row"), None)
        if place is None:
            self.layers.append(Layer("row"))
            place = len(self.layers) - 1
        self.layers[place].columns.append((name, sql))
        self._names.add(name)
        return self.dialect.quote(name)

    def join(self, relation: str, key: str, relation_key: str, columns: list[str]) -> None:
        """Left-join ``relation`` on ``key`` = its ``relation_key``, adding ``columns``."""
        quote = self.dialect.quote
        self.layers.append(Layer("join", [(column, f"_j.{quote(column)}") for column in columns], (relation, key, relation_key)))
        self._names.update(columns)

    def _reads_layer(self, sql: str, layer: Layer) -> bool:
        return any(self.dialect.quote(name) in sql for name, _ in layer.columns)

    def render(self, select: str = "*") -> str:
        """``SELECT <select> FROM (… (SELECT *, … FROM <source>) AS _l1 …) AS _lN``: each
        layer a subquery of the next, not a ``WITH`` chain, whose common table expressions
        Spark's analyzer and optimizer walk again and again (a 39 KB weighted query: 2.9 s
        of analysis and optimisation as a chain, 0.8 s nested)."""
        previous = self.source
        for number, layer in enumerate(self.layers, 1):
            columns = ", ".join(f"{sql} AS {self.dialect.quote(column)}" for column, sql in layer.columns)
            if layer.kind == "row":
                body = f"SELECT *, {columns} FROM {previous}"
            else:
                relation, key, relation_key = layer.join
                body = (f"SELECT _p.*, {columns} FROM (SELECT *, {key} AS _join_key FROM {previous}) AS _p "
                        f"LEFT JOIN {relation} AS _j ON _p._join_key = _j.{self.dialect.quote(relation_key)}")
            previous = f"({body}) AS _l{number}"
        return f"SELECT {select} FROM {previous}"


class SqlBuild(ConfigBuild):
    """The SQL compile context of one scheme (or of the ruleset's allocation table)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        path: tuple,
        slot: int,
        attributes: Mapping[str, tuple[str, int]],
        scope: Mapping[str, Symbol],
        functions: Mapping[str, Function],
        query: Query,
        locate: Callable[[tuple], Position | None],
    ):
        super().__init__(config, path, scope, functions, locate)
        self.slot = slot
        self.attributes = attributes
        self.query = query
        self.dialect = query.dialect
        self.prefix = f"s{slot}"  # of the outcome columns; the plan renames it for overrides
        self.outcome_set = False
        self.details: list[int] = []  # the detail positions written, each a column <prefix>_d<k>
        self.reasons = True  # whether a kind stated as IR computes its reason columns (--reasons none: not)

    def _compile(self, source: str, position: Position | None) -> Compiled:
        """Through the IR (the scope is :func:`tierkit.ir.from_expr.ir_scope`'s), as SQL text."""
        return compile_sql_expression(source, self.scope, self.functions, self.dialect.name, position, self.query.udfs)

    def sql(self, node) -> str:
        """The SQL text of an IR node (a scope symbol's code, e.g. ``as_of``)."""
        return expression_sql(node, self.dialect.name, udfs=self.query.udfs)

    def stored(self, compiled: Compiled) -> str:
        name = self.query.unique(f"{self.prefix}__stored")
        self.query.add(name, compiled.code)
        return name

    def literal(self, value: Any) -> str:
        return self.dialect.literal(value)

    def column(self, name: str, sql: str) -> str:
        """A per-customer column (window functions allowed); returns its quoted name."""
        return self.query.add(self.query.unique(f"s{self.slot}__{name}"), sql)

    def outcome(self, label: str, score: str | None = None, tags: str | None = None, **attributes: str) -> None:
        """The scheme's outcome: its label, score (a double), tags (a list of text) and
        the kind's extra attributes by name."""
        unknown = set(attributes) - set(self.attributes)
        if unknown:
            raise ValueError(f"scheme {self.id!r}: no attribute {', '.join(sorted(unknown))} in this kind")
        prefix = self.prefix
        self.query.add(f"{prefix}_label", f"CAST({label} AS {self.dialect.text_type})")
        self.query.add(f"{prefix}_score", "CAST(NULL AS DOUBLE)" if score is None else self.dialect.double(score))
        self.query.add(f"{prefix}_tags", self.dialect.list_of([]) if tags is None else tags)
        for name, (type_, index) in self.attributes.items():
            value = attributes.get(name, "NULL")
            self.detail(index, self.dialect.cast(value, type_) if type_ != "list" else value)
        self.outcome_set = True

    def detail(self, position: int, sql: str) -> None:
        """Item ``position`` of the outcome's detail (an attribute, or a reason column of
        a kind stated as IR) as the column ``<prefix>_d<position>``."""
        self.query.add(f"{self.prefix}_d{position}", sql)
        self.details.append(position)
