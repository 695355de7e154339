"""Ruleset expressions (``100 if fortune500 else 20``) into IR nodes, and into SQL.

tierkit's expression front end (:class:`tierkit.expr.compiler.Checker`) already checks names,
types and nullability and places every error at its column; it asks a back end for
each piece it accepts.  :class:`IrEmitter` is the back end of the SQL engines: it
answers with IR nodes, so one front end serves every engine through the lowerings,
and :func:`compile_sql_expression` lowers them to SQL text for DuckDB or Spark.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping

from tierkit.errors import Position
from tierkit.expr.compiler import Compiled, ExpressionError, Symbol, compile_with
from tierkit.ir import nodes as ir

TYPES = {"number": ir.DType.FLOAT, "integer": ir.DType.INT, "boolean": ir.DType.BOOL, "string": ir.DType.STR,
         "enum": ir.DType.STR, "date": ir.DType.DATE, "list": ir.DType.LIST, "none": ir.DType.NULL}
COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<="}


def compile_sql_expression(source: str, scope: Mapping[str, Symbol], functions, dialect: str,
                           position: Position | None = None, udfs: dict | None = None) -> Compiled:
    """Check one expression over an IR scope (:func:`ir_scope`) and lower it to SQL for
    ``dialect`` (``duckdb``, ``spark``), or raise :class:`ExpressionDiagnostic` (the
    Python compiler's diagnostics, plus one for a function that has no SQL form).

    The result's ``code`` is SQL text: the SQL engines' kinds and queries still join
    columns as text (:class:`tierkit.engine.sql.build.Query`), so the IR becomes a string here,
    at that boundary, and nowhere before it.  The Python functions it calls
    (:class:`ir.PyCall`) are added to ``udfs``, for the engine to register."""
    from tierkit.ir.sql_text import expression_sql

    compiled = compile_with(source, scope, functions, IrEmitter(), position)
    return dataclasses.replace(compiled, code=expression_sql(compiled.code, dialect, udfs=udfs))


def null(type_: str) -> ir.Lit:
    """A missing value of a tierkit type (untyped for ``any``, ``none`` and outcomes)."""
    return ir.Lit(None, TYPES.get(type_, ir.DType.NULL))


def _missing(parts) -> bool:
    """Whether a strict operation on ``parts`` is missing whatever the row."""
    return any(part.type in ("none", "any") for part in parts)


def _as(part, type_: str) -> ir.Expr:
    """``part`` as a value of ``type_``: an integer widened to a float, a missing value typed."""
    if part.type in ("none", "any"):
        return null(type_)
    if type_ == "number" and part.type == "integer":
        if isinstance(part.code, ir.Lit):
            return ir.Lit(None if part.code.value is None else float(part.code.value), ir.DType.FLOAT)
        return ir.Cast(part.code, ir.DType.FLOAT)
    return part.code


class IrEmitter:
    """The IR back end of :class:`tierkit.expr.compiler.Checker`: each method returns a node with
    the Python back end's value.  An operand that is always missing (``none``, or of
    type ``any``) makes a strict operation a missing value of the result's type.

    Where the SQL engines' values can still differ (see also
    :mod:`tierkit.plugins.functions`): integers past BIGINT (Python's do not overflow;
    SQL raises an error); ``~`` of a whole number of 1e38 or more in size, or of an
    infinity or NaN, and of a list or an outcome (a compile error here); NaN in
    comparisons (SQL orders NaN above every number and equal to itself); on Spark,
    ``**`` is Java's ``Math.pow``, which may differ from C's in the last bit, and ``in``
    a list value that holds a missing item is missing rather than false when nothing
    matches."""

    def literal(self, value, type_: str) -> ir.Expr:
        return ir.Lit(value, TYPES[type_]) if value is not None else ir.NULL

    def value(self, value, type_: str) -> ir.Expr:
        if value is None:
            return null(type_)
        if isinstance(value, (tuple, list)):
            items = [self.value(item, _type_of(item)) for item in value]
            element = ir.unify(*(item.dtype for item in items)) if items else ir.DType.STR
            return ir.ListOf(tuple(_widened(item, element) for item in items), element)
        if type_ == "number":
            value = float(value)
        return ir.Lit(value, TYPES[type_])

    def list_(self, items, element_type: str, values) -> ir.Expr:
        element = TYPES.get(element_type, ir.DType.STR)
        return ir.ListOf(tuple(_as(item, element_type) for item in items), ir.DType.STR if element is ir.DType.NULL else element)

    def comparison(self, op, left, right) -> ir.Expr:
        if _missing([left, right]):
            return null("boolean")
        if op in ("in", "notin"):
            found = self._member(left, right)
            return ir.Not(found) if op == "notin" else found
        return ir.Compare(COMPARE[op], left.code, right.code)

    @staticmethod
    def _member(left, right) -> ir.Expr:
        if right.type == "string":  # a substring
            return ir.Call("contains", (right.code, left.code), ir.DType.BOOL)
        if right.items is None:  # a list value: plain membership
            return ir.Call("list_contains", (right.code, left.code), ir.DType.BOOL)
        type_ = "number" if "number" in (left.type, right.element_type) else left.type
        return ir.In(_as(left, type_), tuple(_as(item, type_) for item in right.items))

    def chain(self, links) -> ir.Expr:
        return ir.And(tuple(self.comparison(op, left, right) for op, left, right in links))

    def logical(self, op: str, left, right) -> ir.Expr:
        return (ir.And if op == "and" else ir.Or)((_as(left, "boolean"), _as(right, "boolean")))

    def not_(self, operand) -> ir.Expr:
        return ir.Not(_as(operand, "boolean"))

    def is_missing(self, operand, missing: bool) -> ir.Expr:
        if not operand.nullable:
            return ir.lit(not missing)
        test = ir.IsMissing(operand.code)
        return test if missing else ir.Not(test)

    def negative(self, operand) -> ir.Expr:
        if _missing([operand]):
            return null(operand.type if operand.type in ("number", "integer") else "number")
        return ir.Neg(operand.code)

    def arithmetic(self, symbol: str, left, right, type_: str) -> ir.Expr:
        if _missing([left, right]):
            return null(type_)
        return ir.Arith(symbol, _as(left, type_), _as(right, type_))

    def divide(self, symbol: str, left, right, type_: str) -> ir.Expr:
        if _missing([left, right]) or (right.constant and right.value == 0):
            return null(type_)
        return ir.Arith(symbol, _as(left, type_), _as(right, type_))

    def power(self, left, right) -> ir.Expr:
        if _missing([left, right]):
            return null("number")
        return ir.Arith("**", _as(left, "number"), _as(right, "number"))

    def concat(self, parts) -> ir.Expr:
        if _missing(parts):
            return null("string")
        for part in parts:
            if part.type in ("list", "outcome"):
                raise ExpressionError(f"'~' cannot write a {part.type} in SQL; run with --engine python")
        return ir.Concat(tuple(part.code for part in parts))

    def condition(self, test, yes, no, type_: str) -> ir.Expr:
        return ir.Case(((_as(test, "boolean"), _as(yes, type_)),), _as(no, type_))

    def call(self, function, args, type_: str, as_of, offset: int) -> ir.Expr:
        if function.sql is None:
            raise ExpressionError(
                f"function {function.name!r} has no SQL form (see tierkit plugins for its plugin); run with --engine python", offset
            )
        if not function.null_safe and _missing(args):
            return null(type_)
        params, typed = function.params, []
        for index, arg in enumerate(args):
            expected = params[min(index, len(params) - 1)]
            want = type_ if expected == "any" and function.null_safe else expected
            if want == "number" and type_ == "number" and arg.type in ("integer", "none", "any"):
                typed.append(_as(arg, "number"))
            elif arg.type in ("none", "any") and want not in ("any", "none", "outcome"):
                typed.append(null(want))
            else:
                typed.append(arg.code)
        return function.sql([as_of.code, *typed] if as_of is not None else typed, TYPES.get(type_, ir.DType.NULL))


def _type_of(value) -> str:
    """The tierkit type of a folded constant."""
    for python, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (dt.date, "date")):
        if isinstance(value, python):
            return name
    return "none"


def _widened(item: ir.Expr, element: ir.DType) -> ir.Expr:
    if item.dtype is ir.DType.INT and element is ir.DType.FLOAT:
        return ir.Cast(item, element)
    if isinstance(item, ir.Lit) and item.value is None:
        return ir.Lit(None, element)
    return item


def scope_of(columns: dict[str, tuple[str, bool, ir.Expr]]) -> dict[str, Symbol]:
    """Symbols for names -> (tierkit type, nullable, node the name reads)."""
    return {name: Symbol(name, type_, nullable, node) for name, (type_, nullable, node) in columns.items()}


def to_ir(source: str, scope: dict[str, Symbol]) -> tuple[ir.Expr, bool, frozenset[str]]:
    """The node of ``source``, whether it may be missing, and the names it reads."""
    compiled = compile_with(source, scope, {}, IrEmitter())
    return compiled.code, compiled.nullable, compiled.reads


# The Python plan's code for a name, and the SQL column the same value lives in.
_SLOT = re.compile(r"s(\d+)")
_OUTCOME_PART = re.compile(r"s(\d+)\[([012])\]")
_ATTRIBUTE = re.compile(r"s(\d+)\[3\]\[(\d+)\]")
_PARTS = ("label", "score", "tags")


def sql_column(python_code: str) -> str | None:
    """The SQL column holding what a Python symbol's code reads (``s7[0]`` -> ``s7_label``)."""
    if _SLOT.fullmatch(python_code):
        return python_code
    match = _OUTCOME_PART.fullmatch(python_code)
    if match:
        return f"s{match[1]}_{_PARTS[int(match[2])]}"
    match = _ATTRIBUTE.fullmatch(python_code)
    if match:
        return f"s{match[1]}_d{match[2]}"
    return None


def ir_scope(scope: Mapping[str, Symbol], as_of) -> dict[str, Symbol]:
    """The plan's scope with every name reading an IR node: the column its value is
    stored in (:func:`sql_column`, the same name on every engine) and ``as_of`` a date
    literal.  A name stored in no column (an outcome itself, a name in a definition
    cycle) reads a missing value, as it does on the Python engine."""

    def convert(symbol: Symbol) -> Symbol:
        attributes = {name: convert(attribute) for name, attribute in symbol.attributes.items()}
        column, dtype = sql_column(symbol.code), TYPES.get(symbol.type)
        node = ir.Column(column, dtype, symbol.nullable) if column is not None and dtype is not None else ir.NULL
        return Symbol(symbol.name, symbol.type, symbol.nullable, node, attributes, symbol.values, symbol.inputs)

    converted = {name: convert(symbol) for name, symbol in scope.items()}
    converted["as_of"] = Symbol("as_of", "date", False, ir.Lit(as_of, ir.DType.DATE))
    return converted
