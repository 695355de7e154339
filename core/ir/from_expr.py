"""Ruleset expressions (``100 if fortune500 else 20``) into IR nodes.

tierkit's expression front end (:class:`tierkit.expr.Checker`) already checks names,
types and nullability and places every error at its column; it asks a back end for
each piece it accepts.  :class:`IrEmitter` is a third back end beside the Python and
SQL ones: it answers with IR nodes, so one front end serves every engine through the
lowerings.  Operators the prototype IR has no node for (``**``, ``~``, ``//``, ``%``,
function calls, list values) are refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..expr import ExpressionError, Symbol, compile_with
from . import nodes as ir

TYPES = {"number": ir.DType.FLOAT, "integer": ir.DType.INT, "boolean": ir.DType.BOOL, "string": ir.DType.STR,
         "enum": ir.DType.STR, "date": ir.DType.DATE, "none": ir.DType.NULL}
COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<="}


class IrEmitter:
    """The IR back end of :class:`tierkit.expr.Checker`: each method returns a node."""

    def literal(self, value, type_: str) -> ir.Expr:
        return ir.Lit(value, TYPES[type_]) if value is not None else ir.NULL

    value = literal

    def list_(self, items, element_type: str, values):
        return tuple(item.code for item in items)  # read only by comparison's ``in``

    def comparison(self, op, left, right) -> ir.Expr:
        if op in ("in", "notin"):
            if not isinstance(right.code, tuple):
                raise ExpressionError("'in' takes a list literal in the IR prototype")
            found = ir.Or(tuple(ir.Compare("==", left.code, item) for item in right.code))
            return ir.Not(found) if op == "notin" else found
        return ir.Compare(COMPARE[op], left.code, right.code)

    def chain(self, links) -> ir.Expr:
        return ir.And(tuple(self.comparison(op, left, right) for op, left, right in links))

    def logical(self, op: str, left, right) -> ir.Expr:
        return (ir.And if op == "and" else ir.Or)((left.code, right.code))

    def not_(self, operand) -> ir.Expr:
        return ir.Not(operand.code)

    def is_missing(self, operand, missing: bool) -> ir.Expr:
        test = ir.IsMissing(operand.code)
        return test if missing else ir.Not(test)

    def negative(self, operand) -> ir.Expr:
        return ir.Neg(operand.code)

    def arithmetic(self, symbol: str, left, right, type_: str) -> ir.Expr:
        return ir.Arith(symbol, left.code, right.code)

    def divide(self, symbol: str, left, right, type_: str) -> ir.Expr:
        if symbol != "/":
            raise ExpressionError(f"{symbol!r} has no IR node in the prototype")
        return ir.Arith("/", left.code, right.code)

    def condition(self, test, yes, no, type_: str) -> ir.Expr:
        return ir.Case(((test.code, yes.code),), no.code)

    def _refused(self, *args, **kwargs):
        raise ExpressionError("this operator or call has no IR node in the prototype")

    power = concat = call = _refused


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
    literal.  A name of a type the IR has no node for yet (lists, outcomes themselves)
    reads nothing, so an expression using it is refused by name."""

    def convert(symbol: Symbol) -> Symbol:
        attributes = {name: convert(attribute) for name, attribute in symbol.attributes.items()}
        column, dtype = sql_column(symbol.code), TYPES.get(symbol.type)
        node = ir.Column(column, dtype) if column is not None and dtype is not None else None
        return Symbol(symbol.name, symbol.type, symbol.nullable, node, attributes, symbol.values, symbol.inputs)

    converted = {name: convert(symbol) for name, symbol in scope.items()}
    converted["as_of"] = Symbol("as_of", "date", False, ir.Lit(as_of, ir.DType.DATE))
    return converted
