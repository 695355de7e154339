"""Built-in functions for ruleset expressions and templates.

Every function here is total: where there is no answer (the log of zero, a date that
does not parse) it returns ``None``, a missing value, instead of raising, so one odd
customer never stops a run.  Arguments that are missing never reach a function unless
it is null-safe (``default``, ``coalesce``).

Each also has a form for the SQL engines (``Function.sql``): a node of the IR
(:mod:`tierkit.ir`), spelt per engine by the lowering's table of functions
(:data:`tierkit.ir.to_sql.FUNCTIONS`) with the same values on DuckDB and Spark, with
these known limits: ``round`` decides ties exactly while the number has
fewer than 2**52 units of the rounding digit (beyond that it is within one unit in
10**15), and ignores subnormal numbers for more than 308 digits; DuckDB's
``lower``/``upper`` map case one character to one (ß and İ are spelt out as Python
maps them, but a final sigma or a ligature such as ﬁ is not); ``date`` reads ASCII
digits only (Python's strptime also takes other scripts' digits).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal

from tierkit.hookspecs import hookimpl
from tierkit.ir import nodes as ir
from tierkit.registry import Function


def _first_type(arg_types: list[str]) -> str:
    known = [t for t in arg_types if t not in ("none", "any")]
    if not known:
        return "any"
    if all(t in ("number", "integer") for t in known) and len(set(known)) > 1:
        return "number"
    return known[0]


def default(value, fallback):
    """The value, or ``fallback`` when it is missing."""
    return fallback if value is None else value


def coalesce(*values):
    """The first value that is not missing."""
    return next((value for value in values if value is not None), None)


def days_since(as_of: date, day: date) -> int:
    """Whole days from ``day`` to the run's as-of date (negative if in the future)."""
    return (as_of - day).days


def days_until(as_of: date, day: date) -> int:
    """Whole days from the run's as-of date to ``day``."""
    return (day - as_of).days


def days_between(start: date, end: date) -> int:
    return (end - start).days


def parse_date(text: str) -> date | None:
    """``date('2024-01-31')``: an ISO date literal; missing if it does not parse."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None


def log10(value):
    return math.log10(value) if value > 0 else None


def sqrt(value):
    return math.sqrt(value) if value >= 0 else None


def clamp(value, low, high):
    return min(max(value, low), high)


_ROUNDING = Context(prec=1000, rounding=ROUND_HALF_UP)


def round_to(value, digits=0):
    """Half away from zero, as SQL's ROUND and Jinja's round filter do (2.5 -> 3).

    Any number of digits works: beyond what a float holds, rounding changes nothing
    (many digits) or gives zero (many negative digits), as Python's ``round`` does.
    """
    digits, value = int(digits), float(value)
    if digits > 400:
        return value
    if digits < -400:
        return 0.0 * value
    exponent = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(exponent, context=_ROUNDING))


def length(value) -> int | None:
    """Characters of a text or items of a list; missing for anything else."""
    return len(value) if isinstance(value, (str, list, tuple)) else None


def contains(text: str, part: str) -> bool:
    return part in text


def _coalesce_ir(args, dtype):
    """``default`` and ``coalesce`` are the IR's own :class:`~tierkit.ir.nodes.Coalesce`."""
    return ir.Coalesce(tuple(args))


FUNCTIONS = (
    Function("default", default, ("any", "any"), _first_type, "The value, or a fallback when it is missing.", null_safe=True,
             sql=_coalesce_ir),
    Function("coalesce", coalesce, ("any",), _first_type, "The first argument that is not missing.", min_args=1, variadic=True,
             null_safe=True, sql=_coalesce_ir),
    Function("days_since", days_since, ("date",), "integer", "Days from a date to the as-of date.", needs_as_of=True,
             sql=ir.call("days_since")),
    Function("days_until", days_until, ("date",), "integer", "Days from the as-of date to a date.", needs_as_of=True,
             sql=ir.call("days_until")),
    Function("days_between", days_between, ("date", "date"), "integer", "Days from the first date to the second.",
             sql=ir.call("days_between")),
    Function("date", parse_date, ("string",), "date", "An ISO date (YYYY-MM-DD) from text.", sql=ir.call("date")),
    Function("abs", abs, ("number",), lambda types: types[0], "Absolute value.", sql=ir.call("abs")),
    Function("round", round_to, ("number", "integer"), "number", "Round to a number of digits (default 0).", min_args=1,
             sql=ir.call("round")),
    Function("min", min, ("number",), _first_type, "The smallest of the numbers.", min_args=2, variadic=True,
             sql=ir.call("min")),
    Function("max", max, ("number",), _first_type, "The largest of the numbers.", min_args=2, variadic=True,
             sql=ir.call("max")),
    Function("clamp", clamp, ("number", "number", "number"), _first_type, "A number limited to [low, high].", sql=ir.call("clamp")),
    Function("log10", log10, ("number",), "number", "Base-10 logarithm; missing for zero or less.", sql=ir.call("log10")),
    Function("sqrt", sqrt, ("number",), "number", "Square root; missing below zero.", sql=ir.call("sqrt")),
    Function("lower", str.lower, ("string",), "string", "Lower-case text.", sql=ir.call("lower")),
    Function("upper", str.upper, ("string",), "string", "Upper-case text.", sql=ir.call("upper")),
    Function("contains", contains, ("string", "string"), "boolean", "Whether the text contains the part.", sql=ir.call("contains")),
    Function("length", length, ("any",), "integer", "Number of characters of a text or items of a list.", sql=ir.call("length")),
)


@hookimpl
def tierkit_functions(register):
    for function in FUNCTIONS:
        register(function)
