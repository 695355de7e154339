"""The expression compiler's SQL back end: a checked expression as one SQL expression.

:mod:`tierkit.expr` parses and checks an expression once (names, types, missing values,
constant folding, error positions) and asks an emitter for every piece of code; this
module's :class:`SqlEmitter` writes SQL for a :class:`~tierkit.sqldialect.Dialect`
(DuckDB or Spark) with the values the Python back end computes, so that a ruleset gives
the same answers on every engine.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from .errors import Position
from .expr import NUMERIC, Compiled, ExpressionError, Symbol, compile_with
from .registry import Function


def compile_sql_expression(
    source: str,
    scope: Mapping[str, Symbol],
    functions: Mapping[str, Function],
    dialect,
    position: Position | None = None,
) -> Compiled:
    """Check and compile one expression to SQL for ``dialect`` (a
    :class:`~tierkit.sqldialect.Dialect`), or raise :class:`ExpressionDiagnostic`.

    The scope's symbols carry SQL column references in ``code``; ``scope['as_of']``
    carries the as-of date as a SQL date literal.  The diagnostics are the Python
    compiler's, plus one for a function that has no SQL form."""
    return compile_with(source, scope, functions, SqlEmitter(dialect), position)


class SqlEmitter:
    """The SQL back end: one SQL expression for a :class:`~tierkit.sqldialect.Dialect`,
    with the Python back end's values.  Symbols' codes are column references.

    SQL's NULL already behaves as a missing value in comparisons, ``AND``/``OR``/``NOT``,
    ``IN`` and most functions; what differs from Python is spelt out: division guards
    its divisor, ``//`` and ``%`` take the divisor's sign, ``**`` and ``~`` follow
    :func:`_safe_power` and :func:`_text`, integer literals are BIGINTs and float
    literals DOUBLEs.  A value used several times is bound once (:meth:`Dialect.let`).
    An operand that is always missing (``none``, or of type ``any``) makes a strict
    operation a NULL of the result's type.

    Where the values can still differ (see also :mod:`tierkit.plugins.functions`):
    integers past BIGINT (Python's do not overflow; SQL raises an error); ``~`` of a
    whole number of 1e38 or more in size, or of an infinity or NaN, and of a list or an
    outcome (a compile error here); NaN in comparisons (SQL orders NaN above every
    number and equal to itself); on Spark, ``**`` is Java's ``Math.pow``, which may
    differ from C's in the last bit, and ``in`` a list value that holds a NULL item is
    NULL rather than false when nothing matches."""

    COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<="}

    def __init__(self, dialect):
        self.dialect = dialect

    # -- helpers ------------------------------------------------------------------
    def null(self, type_: str) -> str:
        """A NULL typed as a value of ``type_`` (an untyped NULL for ``any``)."""
        if type_ in ("any", "none", "outcome"):
            return "NULL"
        if type_ == "list":
            return f"CAST(NULL AS {self.dialect.list_type('string')})"
        return f"CAST(NULL AS {self.dialect.type_of(type_)})"

    @staticmethod
    def _missing(parts: list[Compiled]) -> bool:
        """Whether a strict operation on ``parts`` is missing whatever the row."""
        return any(part.type in ("none", "any") for part in parts)

    def _double(self, part: Compiled) -> str:
        return self.dialect.double(part.code) if part.type == "integer" else part.code

    def _as(self, part: Compiled, type_: str) -> str:
        """``part`` as a value of ``type_`` (integers widen to doubles; none is typed)."""
        if part.type in ("none", "any"):
            return self.null(type_)
        return self._double(part) if type_ == "number" else part.code

    # -- values -------------------------------------------------------------------
    def literal(self, value, type_: str) -> str:
        if type_ == "integer":
            return f"CAST({value} AS BIGINT)"
        return self.dialect.literal(value)

    def value(self, value, type_: str) -> str:
        if value is None:
            return self.null(type_)
        if type_ == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return f"CAST({value} AS BIGINT)"
        if type_ == "number" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        return self.dialect.literal(value)

    def list_(self, items: list[Compiled], element_type: str, values: tuple | None) -> str:
        return self.dialect.list_of([self._as(item, element_type) for item in items], element_type)

    # -- comparisons and logic ----------------------------------------------------
    def comparison(self, op, left: Compiled, right: Compiled) -> str:
        if op in ("in", "notin"):
            return self._member(op == "notin", left, right)
        if self._missing([left, right]):
            return self.null("boolean")
        return f"({left.code} {self.COMPARE[op]} {right.code})"

    def _member(self, negate: bool, left: Compiled, right: Compiled) -> str:
        not_ = "NOT " if negate else ""
        if self._missing([left, right]):
            return self.null("boolean")
        if right.type == "string":  # a substring
            return f"({not_}contains({right.code}, {left.code}))"
        if right.items is None:  # a list value: plain membership
            return f"({not_}{self.dialect.list_contains(right.code, left.code)})"
        # a list literal: SQL's IN, which is _member's rule
        if not right.items:
            known = "TRUE" if negate else "FALSE"
            return f"(CASE WHEN {left.code} IS NOT NULL THEN {known} END)" if left.nullable else known
        type_ = "number" if "number" in (left.type, right.element_type) else left.type
        items = ", ".join(self._as(item, type_) for item in right.items)
        return f"({self._as(left, type_)} {not_}IN ({items}))"

    def chain(self, links) -> str:
        """``a < b < c`` is ``a < b AND b < c`` with ``b`` computed once."""

        def link(index: int, left_code: str | None) -> str:
            op, left, right = links[index]
            if left_code is not None:
                left = dataclasses.replace(left, code=left_code)
            if index == len(links) - 1:
                return self.comparison(op, left, right)
            return self.dialect.let(
                right.code,
                lambda name: f"({self.comparison(op, left, dataclasses.replace(right, code=name))} AND {link(index + 1, name)})",
            )

        return link(0, None)

    def logical(self, op: str, left: Compiled, right: Compiled) -> str:
        return f"({self._as(left, 'boolean')} {op.upper()} {self._as(right, 'boolean')})"

    def not_(self, operand: Compiled) -> str:
        return f"(NOT {self._as(operand, 'boolean')})"

    def is_missing(self, operand: Compiled, missing: bool) -> str:
        if not operand.nullable:
            return "FALSE" if missing else "TRUE"
        return f"({operand.code} IS {'' if missing else 'NOT '}NULL)"

    # -- arithmetic -----------------------------------------------------------------
    def negative(self, operand: Compiled) -> str:
        if self._missing([operand]):
            return self.null(operand.type if operand.type in NUMERIC else "number")
        return f"(-{operand.code})"

    def arithmetic(self, symbol: str, left: Compiled, right: Compiled, type_: str) -> str:
        if self._missing([left, right]):
            return self.null(type_)
        return f"({self._as(left, type_)} {symbol} {self._as(right, type_)})"

    def divide(self, symbol: str, left: Compiled, right: Compiled, type_: str) -> str:
        """``/``, ``//`` and ``%`` as Python computes them; a zero divisor gives NULL."""
        if self._missing([left, right]):
            return self.null(type_)
        d = self.dialect
        a, b = self._as(left, type_), f"NULLIF({self._as(right, type_)}, 0)"
        if right.constant:  # a literal divisor needs no guard, or is zero
            if right.value == 0:
                return self.null(type_)
            b = self._as(right, type_)
        if symbol == "/":
            return f"({a} / {b})"

        def python_mod(a: str, b: str) -> str:
            if type_ == "integer":  # SQL's % takes the dividend's sign
                return f"((({a} % {b}) + {b}) % {b})"
            # CPython's float_rem: C's fmod, moved to the divisor's side
            return d.let(f"({a} % {b})", lambda m: f"(CASE WHEN {m} <> 0 AND ({m} < 0) <> ({b} < 0) THEN {m} + {b} ELSE {m} END)")

        if symbol == "%":
            return d.let(b, lambda b: python_mod(a, b))
        if type_ == "integer":
            return d.let(a, lambda a: d.let(b, lambda b: d.integer_divide(f"({a} - {python_mod(a, b)})", b)))

        def float_floor_div(a: str, b: str) -> str:  # CPython's float_floor_div
            def from_div(div: str) -> str:
                floor = _sql_floor(d, div)
                return f"({floor} + CASE WHEN {div} - {floor} > 0.5 THEN 1 ELSE 0 END)"

            return d.let(
                f"({a} % {b})",
                lambda m: d.let(
                    f"(({a} - {m}) / {b} - CASE WHEN {m} <> 0 AND ({m} < 0) <> ({b} < 0) THEN 1 ELSE 0 END)", from_div
                ),
            )

        return d.let(a, lambda a: d.let(b, lambda b: float_floor_div(a, b)))

    def power(self, left: Compiled, right: Compiled) -> str:
        """:func:`_safe_power`: NULL where Python has no real finite answer."""
        if self._missing([left, right]):
            return self.null("number")
        d = self.dialect
        infinity = d.double_literal(math.inf)

        def safe(base: str, exponent: str) -> str:
            result = d.let(f"power({base}, {exponent})", lambda r: f"(CASE WHEN abs({r}) <> {infinity} THEN {r} END)")
            return (
                f"(CASE WHEN {base} = 0 AND {exponent} < 0 THEN NULL"
                f" WHEN {base} < 0 AND {exponent} % 1 <> 0 THEN NULL ELSE {result} END)"
            )

        return d.let(self._as(left, "number"), lambda base: d.let(self._as(right, "number"), lambda e: safe(base, e)))

    def concat(self, parts: list[Compiled]) -> str:
        if self._missing(parts):
            return self.null("string")
        return "(" + " || ".join(self._text(part) for part in parts) + ")"

    def _text(self, part: Compiled) -> str:
        """:func:`_text` of a value: whole doubles without ``.0``, ``True``/``False``."""
        d = self.dialect
        if part.type == "string":
            return part.code
        if part.type in ("integer", "date"):
            return d.cast(part.code, "string")
        if part.type == "boolean":
            return f"(CASE WHEN {part.code} THEN 'True' WHEN NOT {part.code} THEN 'False' END)"
        if part.type == "number":
            return d.let(
                part.code,
                lambda x: f"(CASE WHEN abs({x}) < 1e16 AND {x} % 1 <> 0 THEN {d.float_text(x)}"
                f" WHEN abs({x}) < 9.2e18 THEN {d.cast(d.cast(x, 'integer'), 'string')}"
                f" WHEN abs({x}) < 1e38 THEN {_sql_whole_text(d, x)} ELSE {d.cast(x, 'string')} END)",
            )
        raise ExpressionError(f"'~' cannot write a {part.type} in SQL; run with --engine python")

    def condition(self, test: Compiled, yes: Compiled, no: Compiled, type_: str) -> str:
        return f"(CASE WHEN {self._as(test, 'boolean')} THEN {self._as(yes, type_)} ELSE {self._as(no, type_)} END)"

    # -- calls ------------------------------------------------------------------------
    def call(self, function: Function, args: list[Compiled], type_: str, as_of: Compiled | None, offset: int) -> str:
        if function.sql is None:
            raise ExpressionError(
                f"function {function.name!r} has no SQL form (see tierkit plugins for its plugin); run with --engine python", offset
            )
        if not function.null_safe and self._missing(args):
            return self.null(type_)
        params = function.params
        typed = []
        for index, arg in enumerate(args):
            expected = params[min(index, len(params) - 1)]
            want = type_ if expected == "any" and function.null_safe else expected
            if want == "number" and type_ == "number" and arg.type in ("integer", "none", "any"):
                arg = dataclasses.replace(arg, code=self._as(arg, "number"), type="number")
            elif arg.type in ("none", "any") and want not in ("any", "none", "outcome"):
                arg = dataclasses.replace(arg, code=self.null(want))
            typed.append(arg)
        return function.sql(self.dialect, [as_of, *typed] if as_of is not None else typed)


def _sql_whole_text(dialect, number: str) -> str:
    """The digits of a whole DOUBLE below 1e38 in size, exactly (as Python's ``int``
    writes them; a cast to DECIMAL may keep only the shortest digits): it is split into
    three exact parts below 2**43, summed as DECIMAL(38, 0)."""
    decimal = "DECIMAL(38, 0)"

    def parts(x: str) -> str:
        high = f"floor({x} / 19342813113834066795298816e0)"  # 2**84

        def rest(r: str) -> str:
            middle = f"floor({r} / 4398046511104e0)"  # 2**42
            return (
                f"CAST({high} AS {decimal}) * CAST('19342813113834066795298816' AS {decimal})"
                f" + CAST({middle} AS {decimal}) * CAST(4398046511104 AS {decimal})"
                f" + CAST({r} - {middle} * 4398046511104e0 AS {decimal})"
            )

        return dialect.let(f"({x} - {dialect.double(high)} * 19342813113834066795298816e0)", rest)

    return dialect.let(f"abs({number})", lambda x: f"(CASE WHEN {number} < 0 THEN '-' ELSE '' END || {dialect.cast(f'({parts(x)})', 'string')})")


def _sql_floor(dialect, number: str) -> str:
    """floor() of a DOUBLE as a DOUBLE (Spark's floor gives a BIGINT, which may not hold it)."""
    return f"(CASE WHEN abs({number}) >= 4503599627370496.0 THEN {number} ELSE {dialect.double(f'floor({number})')} END)"
