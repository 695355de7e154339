"""The SQL dialects tierkit compiles rulesets to: DuckDB (embedded) and Spark SQL.

Everything the SQL back ends write as text that differs between the two engines
goes through a :class:`Dialect`: literals, list values and types, for the SQL
that is still written as text (the kinds' decision tables, the order counts).  Expressions do
not: they are lowered as sqlglot trees through :mod:`tierkit.ir`, whose dialect
differences are the rows of :data:`tierkit.ir.to_sql.DIALECTS`.
The rest of the generated SQL is the common core of both (``CASE``, window
functions, ``COALESCE``), written so that neither engine's settings change an
answer: every division guards its divisor, every cast that may fail is a
``TRY_CAST``, and floating-point literals are typed as doubles (a bare ``1.5`` is
a decimal in both engines, which would change results).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what its SQL needs beyond the common core."""

    name: str
    text_type: str
    quote_char: str
    backslash_escapes: bool  # whether string literals treat \ as an escape (Spark does)

    # -- names and literals ---------------------------------------------------
    def quote(self, identifier: str) -> str:
        q = self.quote_char
        return f"{q}{identifier.replace(q, q + q)}{q}"

    def literal(self, value) -> str:
        """A SQL literal of a Python value: the value a row step would see."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return f"CAST({value} AS BIGINT)" if abs(value) >= 2**31 else str(value)
        if isinstance(value, float):
            return self.double_literal(value)
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, dt.datetime):
            raise TypeError("a datetime has no SQL literal here; tierkit values are dates")
        if isinstance(value, dt.date):
            return f"DATE '{value.isoformat()}'"
        if isinstance(value, (tuple, list, frozenset, set)):
            items = sorted(value, key=repr) if isinstance(value, (frozenset, set)) else value
            return self.list_of([self.literal(item) for item in items], _element_type(items))
        raise TypeError(f"no SQL literal for a {type(value).__name__}")

    def double_literal(self, value: float) -> str:
        if math.isnan(value):
            text = "NaN"
        elif math.isinf(value):
            text = "Infinity" if value > 0 else "-Infinity"
        else:
            text = repr(value)
        return f"CAST('{text}' AS DOUBLE)"

    def string(self, text: str) -> str:
        escaped = text.replace("'", "''")
        if self.backslash_escapes:
            escaped = escaped.replace("\\", "\\\\")
        return f"'{escaped}'"

    # -- lists ------------------------------------------------------------------
    def list_of(self, items: list[str], element_type: str = "string") -> str:
        """A list value from SQL expressions; an empty one is typed by ``element_type``."""
        if not items:
            return f"CAST({self._empty_list()} AS {self.list_type(element_type)})"
        return self._list(items)

    def _empty_list(self) -> str:
        return "[]" if self.name == "duckdb" else "array()"

    def _list(self, items: list[str]) -> str:
        joined = ", ".join(items)
        return f"[{joined}]" if self.name == "duckdb" else f"array({joined})"

    def list_type(self, element_type: str = "string") -> str:
        element = self.type_of(element_type)
        return f"{element}[]" if self.name == "duckdb" else f"ARRAY<{element}>"

    def list_contains(self, items: str, value: str) -> str:
        function = "list_contains" if self.name == "duckdb" else "array_contains"
        return f"{function}({items}, {value})"

    def list_length(self, items: str) -> str:
        return f"len({items})" if self.name == "duckdb" else f"size({items})"

    def list_concat(self, left: str, right: str) -> str:
        return f"list_concat({left}, {right})" if self.name == "duckdb" else f"concat({left}, {right})"

    def lambda_(self, parameters: str, body: str) -> str:
        """A lambda for list functions: ``lambda x: …`` in DuckDB, ``x -> …`` in Spark."""
        if self.name == "duckdb":
            return f"lambda {parameters}: {body}"
        return f"({parameters}) -> {body}" if "," in parameters else f"{parameters} -> {body}"

    def list_filter(self, items: str, parameter: str, predicate: str) -> str:
        """The items for which ``predicate`` (over ``parameter``) holds, in order."""
        function = "list_filter" if self.name == "duckdb" else "filter"
        return f"{function}({items}, {self.lambda_(parameter, predicate)})"

    def list_distinct_in_order(self, items: str) -> str:
        """Duplicates dropped, first occurrences kept in order (as the Python steps do)."""
        if self.name == "duckdb":
            return self.list_filter(items, "x, i", f"list_position({items}, x) = i")
        return f"array_distinct({items})"

    def list_without_nulls(self, items: str) -> str:
        return self.list_filter(items, "x", "x IS NOT NULL")

    def list_item(self, items: str, position: int | str) -> str:
        """The item at a 1-based position, NULL past the end."""
        if self.name == "duckdb":
            return f"list_extract({items}, {position})"
        return f"try_element_at({items}, {position})"

    def flatten(self, lists: str) -> str:
        return f"flatten({lists})"

    # -- types and arithmetic ----------------------------------------------------
    def type_of(self, tierkit_type: str) -> str:
        return {
            "number": "DOUBLE",
            "integer": "BIGINT",
            "boolean": "BOOLEAN",
            "date": "DATE",
        }.get(tierkit_type, self.text_type)

    def cast(self, expression: str, tierkit_type: str) -> str:
        return f"CAST({expression} AS {self.type_of(tierkit_type)})"

    def double(self, expression: str) -> str:
        return f"CAST({expression} AS DOUBLE)"

    def divide(self, numerator: str, denominator: str) -> str:
        """True division as a double; a zero divisor gives NULL (no engine setting matters)."""
        return f"(CASE WHEN {denominator} = 0 THEN NULL ELSE CAST({numerator} AS DOUBLE) / {denominator} END)"

    # -- text helpers of the kinds' SQL (expressions lower through tierkit.ir) ------
    def let(self, value: str, body) -> str:
        """``body(name)`` with ``name`` bound to ``value``, computed once: a one-item list
        mapped through a lambda.  The name is derived from ``value``'s text, so an inner
        binding of the same name always holds the same value as the outer one."""
        if _SIMPLE_SQL.fullmatch(value):
            return body(value)
        name = "_v" + hashlib.sha1(value.encode("utf-8")).hexdigest()[:12]
        function = "list_transform" if self.name == "duckdb" else "transform"
        return self.list_item(f"{function}({self._list([value])}, {self.lambda_(name, body(name))})", 1)


def _element_type(items) -> str:
    """The SQL element type of a literal list: numbers widen to doubles when mixed."""
    kinds = {_type_of_value(item) for item in items if item is not None}
    if kinds <= {"integer", "number"} and "number" in kinds:
        return "number"
    return kinds.pop() if len(kinds) == 1 else "string"


def _type_of_value(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "string"


# A column reference, a lambda variable or a literal: cheap to repeat, no need to bind.
_SIMPLE_SQL = re.compile(
    r"\"[^\"]*\"|`[^`]*`|_v[0-9a-f]{12}|-?[0-9]+|TRUE|FALSE|NULL|DATE '[0-9-]+'|'[^'\\\\]*'"
    r"|CAST\((?:-?[0-9]+|NULL|'[^']*') AS [A-Z]+\)"
)


DUCKDB = Dialect("duckdb", "VARCHAR", '"', backslash_escapes=False)
SPARK = Dialect("spark", "STRING", "`", backslash_escapes=True)
DIALECTS = {dialect.name: dialect for dialect in (DUCKDB, SPARK)}
