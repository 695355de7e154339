"""A deliberately simple interpreter for tierkit expressions, used as a test oracle.

It walks Jinja's expression tree (from :func:`tierkit.expr.compiler.parse`) and implements the
semantics documented in :mod:`tierkit.expr.compiler` directly, eagerly and without any code
generation, so that the compiler can be checked against it:

- a missing value is ``None``; arithmetic, comparisons, ``in`` and function calls with a
  missing operand are missing; division by zero is missing;
- ``and``/``or``/``not`` follow Kleene's three-valued logic;
- ``x in [a, b]`` is ``x == a or x == b`` (so a missing item that might match leaves
  the answer missing); ``in`` a string is a substring test;
- ``a if c else b`` takes ``b`` when ``c`` is false or missing; without ``else`` it is
  missing;
- ``x is none`` / ``x is defined`` are never missing; ``default`` and ``coalesce``
  replace missing values;
- ``**`` is a floating-point power, missing when it has no real finite answer;
- ``~`` writes whole floats without ``.0``.

The evaluation also records what happened along the way (``events``) so that a test can
tell when Jinja's own evaluation, which has no missing values, is comparable.
"""

from __future__ import annotations

import datetime
import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes

from tierkit.expr.compiler import parse

COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lteq": operator.le,
    "gt": operator.gt,
    "gteq": operator.ge,
}
ARITHMETIC = {"Add": operator.add, "Sub": operator.sub, "Mul": operator.mul}
DIVISION = {"Div": operator.truediv, "FloorDiv": operator.floordiv, "Mod": operator.mod}


class Unsupported(Exception):
    """The tree holds something the reference does not implement."""


@dataclass
class Evaluation:
    value: Any
    events: set[str] = field(default_factory=set)

    @property
    def null_free(self) -> bool:
        """No missing value was read, written as a literal, or produced anywhere."""
        return "null" not in self.events


# -- three-valued logic -------------------------------------------------------------


def k_not(value):
    return None if value is None else not value


def k_and(left, right):
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def k_or(left, right):
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


# -- functions ------------------------------------------------------------------------


def _whole_days(later: datetime.date, earlier: datetime.date) -> int:
    return later.toordinal() - earlier.toordinal()


def _iso_date(text: str):
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", text)
    if not match:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _smallest(*values):
    best = values[0]
    for value in values[1:]:
        if value < best:
            best = value
    return best


def _largest(*values):
    best = values[0]
    for value in values[1:]:
        if value > best:
            best = value
    return best


def _clamp(value, low, high):
    return _smallest(_largest(value, low), high)


def _round(value, digits=0):
    """Half away from zero, as SQL and Jinja's round filter do; any number of digits."""
    digits = int(digits)
    if digits > 400:
        return float(value)
    if digits < -400:
        return 0.0 * value
    scale = Decimal(10) ** digits
    with localcontext() as context:
        context.prec = 1000
        shifted = abs(Decimal(repr(float(value)))) * scale
        rounded = float(shifted.to_integral_value(rounding=ROUND_HALF_UP) / scale)
    return math.copysign(rounded, value)


def plain_functions(as_of: datetime.date) -> dict[str, Any]:
    """The functions that see no missing argument (a missing one makes the call missing)."""
    return {
        "days_since": lambda day: _whole_days(as_of, day),
        "days_until": lambda day: _whole_days(day, as_of),
        "days_between": lambda start, end: _whole_days(end, start),
        "date": _iso_date,
        "abs": lambda value: -value if value < 0 else value + 0,
        "round": _round,
        "min": _smallest,
        "max": _largest,
        "clamp": _clamp,
        "log10": lambda value: math.log10(value) if value > 0 else None,
        "sqrt": lambda value: math.sqrt(value) if value >= 0 else None,
        "lower": lambda text: text.lower(),
        "upper": lambda text: text.upper(),
        "contains": lambda text, part: part in text,
        "length": len,
    }


def _default(value, fallback):
    return fallback if value is None else value


def _coalesce(*values):
    for value in values:
        if value is not None:
            return value
    return None


NULL_SAFE = {"default": _default, "coalesce": _coalesce}


# -- the interpreter ------------------------------------------------------------------


def whole_float(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value == math.floor(value)


def text_of(value) -> str:
    if whole_float(value):
        return str(int(value))
    return str(value)


def power(base, exponent):
    try:
        return math.pow(float(base), float(exponent))
    except (OverflowError, ValueError, ZeroDivisionError):
        return None


class Interpreter:
    def __init__(self, record: Mapping[str, Any], as_of: datetime.date):
        self.record = record
        self.functions = plain_functions(as_of)
        self.events: set[str] = set()

    def visit(self, node: nodes.Node):
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise Unsupported(type(node).__name__)
        value = method(node)
        if value is None:
            self.events.add("null")
        return value

    def visit_Const(self, node):
        return node.value

    def visit_Name(self, node):
        return self.record[node.name]

    def visit_Getattr(self, node):
        return self.record[node.node.name][node.attr]

    def visit_List(self, node):
        return [self.visit(item) for item in node.items]

    visit_Tuple = visit_List

    def visit_Compare(self, node):
        operands = [self.visit(node.expr)] + [self.visit(operand.expr) for operand in node.ops]
        result = True
        for index, operand in enumerate(node.ops):
            result = k_and(result, self.link(operand.op, operands[index], operands[index + 1]))
        return result

    def link(self, op, left, right):
        if op == "in":
            return self.member(left, right)
        if op == "notin":
            return k_not(self.member(left, right))
        if left is None or right is None:
            return None
        return COMPARE[op](left, right)

    @staticmethod
    def member(value, container):
        if value is None or container is None:
            return None
        if isinstance(container, str):
            return value in container
        found = False
        for item in container:
            found = k_or(found, None if item is None else item == value)
        return found

    def visit_And(self, node):
        return k_and(self.visit(node.left), self.visit(node.right))

    def visit_Or(self, node):
        return k_or(self.visit(node.left), self.visit(node.right))

    def visit_Not(self, node):
        return k_not(self.visit(node.node))

    def visit_Neg(self, node):
        value = self.visit(node.node)
        return None if value is None else -value

    def visit_Pos(self, node):
        return self.visit(node.node)

    def _binary(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        name = type(node).__name__
        if left is None or right is None:
            return None
        if name in DIVISION:
            return None if right == 0 else DIVISION[name](left, right)
        if name == "Pow":
            result = power(left, right)
            if isinstance(left, int) and isinstance(right, int) and result is not None and abs(result) > 2**53:
                self.events.add("inexact power")  # Jinja keeps an exact integer here
            if left < 0 and not any(node.left.find_all(nodes.Name)):
                # Jinja folds a constant base such as (0 - 2) into the literal -2 and writes
                # `-2 ** x`, which Python reads as -(2 ** x): its result departs from its tree.
                self.events.add("folded negative base")
            return result
        return ARITHMETIC[name](left, right)

    visit_Add = visit_Sub = visit_Mul = visit_Div = visit_FloorDiv = visit_Mod = visit_Pow = _binary

    def visit_Concat(self, node):
        parts = [self.visit(item) for item in node.nodes]
        if any(part is None for part in parts):
            return None
        if any(whole_float(part) for part in parts):
            self.events.add("whole float text")  # Jinja writes 2.0 where tierkit writes 2
        return "".join(text_of(part) for part in parts)

    def visit_CondExpr(self, node):
        test = self.visit(node.test)
        yes = self.visit(node.expr1)
        no = self.visit(node.expr2) if node.expr2 is not None else None
        if node.expr2 is None and test is not True:
            self.events.add("null")
        return yes if test is True else no

    def visit_Test(self, node):
        value = self.visit(node.node)
        if node.name in ("none", "undefined"):
            return value is None
        if node.name == "defined":
            return value is not None
        raise Unsupported(f"is {node.name}")

    def visit_Filter(self, node):
        return self.call(node.name, [self.visit(node.node)] + [self.visit(arg) for arg in node.args])

    def visit_Call(self, node):
        return self.call(node.node.name, [self.visit(arg) for arg in node.args])

    def call(self, name, args):
        if name in NULL_SAFE:
            return NULL_SAFE[name](*args)
        if any(arg is None for arg in args):
            return None
        return self.functions[name](*args)


def evaluate(source: str, record: Mapping[str, Any], as_of: datetime.date) -> Evaluation:
    """Evaluate ``source`` on ``record`` (values by name; an outcome is a dict of its
    attributes)."""
    interpreter = Interpreter(record, as_of)
    value = interpreter.visit(parse(source))
    return Evaluation(value, interpreter.events)
