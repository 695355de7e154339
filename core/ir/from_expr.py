"""Ruleset expressions (``100 if fortune500 else 20``) into IR nodes.

tierkit's expression front end (:class:`tierkit.expr.Checker`) already checks names,
types and nullability and places every error at its column; it asks a back end for
each piece it accepts.  :class:`IrEmitter` is a third back end beside the Python and
SQL ones: it answers with IR nodes, so one front end serves every engine through the
lowerings.  Operators the prototype IR has no node for (``**``, ``~``, ``//``, ``%``,
function calls, list values) are refused by name.
"""

from __future__ import annotations

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
