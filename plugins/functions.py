"""Built-in functions for ruleset expressions and templates.

Every function here is total: where there is no answer (the log of zero, a date that
does not parse) it returns ``None``, a missing value, instead of raising, so one odd
customer never stops a run.  Arguments that are missing never reach a function unless
it is null-safe (``default``, ``coalesce``).

Each also has a SQL form (``Function.sql``) giving the same values on DuckDB and
Spark, with these known limits: ``round`` decides ties exactly while the number has
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


# -- SQL forms (see Function.sql): the same values as the functions above -----------------


def _sql_call(name: str):
    """A SQL function that is NULL on a NULL argument and agrees with Python's."""
    return lambda dialect, args: f"{name}({', '.join(arg.code for arg in args)})"


def _let_all(dialect, codes: list[str], body) -> str:
    """``body(names)`` with every code bound once (see ``Dialect.let``)."""
    if not codes:
        return body([])
    return dialect.let(codes[0], lambda first: _let_all(dialect, codes[1:], lambda rest: body([first, *rest])))


def _strict(dialect, args, body) -> str:
    """``body(codes)``, NULL when an argument is NULL (SQL's LEAST and GREATEST skip NULLs)."""
    if not any(arg.nullable for arg in args):
        return body([arg.code for arg in args])

    def guarded(codes: list[str]) -> str:
        missing = " OR ".join(f"{code} IS NULL" for code, arg in zip(codes, args) if arg.nullable)
        return f"(CASE WHEN {missing} THEN NULL ELSE {body(codes)} END)"

    return _let_all(dialect, [arg.code for arg in args], guarded)


def _sql_extreme(name: str):
    return lambda dialect, args: _strict(dialect, args, lambda codes: f"{name}({', '.join(codes)})")


def _sql_clamp(dialect, args) -> str:
    return _strict(dialect, args, lambda c: f"LEAST(GREATEST({c[0]}, {c[1]}), {c[2]})")


def _sql_days(dialect, start: str, end: str) -> str:
    return f"CAST({dialect.days_between(start, end)} AS BIGINT)"


def _sql_partial(name: str, domain: str):
    """``name(x)`` where ``x {domain}``, else NULL (log10, sqrt)."""
    return lambda dialect, args: dialect.let(args[0].code, lambda x: f"(CASE WHEN {x} {domain} THEN {name}({x}) END)")


# What datetime.strptime(text.strip(), "%Y-%m-%d") accepts: str.strip()'s white space
# around a four-digit year (not 0000), a month of one or two digits, a day of one or
# two digits (or a space and a digit).
_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*"
_ISO_DATE = (
    rf"^{_SPACE}((?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{{2}}|[1-9][0-9]{{3}})"
    rf"-(?:1[0-2]|0[1-9]|[1-9])-(?:3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])){_SPACE}$"
)


def _sql_case(name: str, special: str, full: str):
    """lower/upper; DuckDB maps case one character to one, so the two special cases
    met in practice (ß -> SS, İ -> i̇) are spelt out, as Python and Spark map them."""
    return lambda dialect, args: f"{name}(replace({args[0].code}, '{special}', '{full}'))"


def _sql_date(dialect, args) -> str:
    text = f"replace(regexp_extract({args[0].code}, {dialect.string(_ISO_DATE)}, 1), ' ', '')"
    return dialect.parse_iso_date(text)


def _sql_round(dialect, args) -> str:
    """:func:`round_to` without decimals: ties are decided on the shortest decimal
    text of the double (1.005 -> 1.01, 2.675 -> 2.68), as Python does.

    With ``k`` the whole units (of ``10**-digits``) below ``|x|``, ``|x|`` rounds up
    exactly when its shortest text is at least ``k + 0.5`` units, which (rounding to
    doubles being monotonic) is when ``|x|`` is at least the double nearest to that
    decimal.  A number of 2**52 units or more has no digit left to round (up to one
    unit in 10**15 when it has seventeen digits)."""
    digits = args[1].code if len(args) > 1 else "CAST(0 AS BIGINT)"
    limit = "4503599627370496e0"  # 2**52
    text = dialect.type_of("string")

    def ten_to(exponent: str) -> str:  # exact: the double nearest to 1e<exponent>
        return f"CAST(concat('1e', CAST({exponent} AS {text})) AS DOUBLE)"

    def rounded(x: str, d: str) -> str:
        def finer(p: str) -> str:  # d >= 0: units of 1/p
            near = lambda k: f"(sign({x}) * ({k} + CASE WHEN abs({x}) >= ({k} + 0.5) / {p} THEN 1 ELSE 0 END) / {p})"
            units = dialect.let(dialect.double(f"floor(abs({x}) * {p})"), near)
            return f"(CASE WHEN abs({x}) * {p} >= {limit} THEN {x} ELSE {units} END)"

        def coarser(q: str) -> str:  # d < 0: units of q
            near = lambda k: f"(sign({x}) * ({k} + CASE WHEN abs({x}) >= ({k} + 0.5) * {q} THEN 1 ELSE 0 END) * {q})"
            units = dialect.let(dialect.double(f"floor(abs({x}) / {q})"), near)
            return f"(CASE WHEN abs({x}) / {q} >= {limit} THEN {x} ELSE {units} END)"

        return (
            f"(CASE WHEN {x} IS NULL OR {d} IS NULL THEN NULL WHEN {d} > 308 THEN {x} WHEN {d} < -308 THEN {x} * 0"
            f" WHEN {d} >= 0 THEN {dialect.let(ten_to(d), finer)} ELSE {dialect.let(ten_to(f'-{d}'), coarser)} END)"
        )

    return dialect.let(args[0].code, lambda x: dialect.let(digits, lambda d: rounded(x, d)))


def _sql_length(dialect, args) -> str:
    value = args[0]
    if value.type == "string":
        return f"CAST(length({value.code}) AS BIGINT)"
    if value.type == "list":
        return f"CAST({dialect.list_length(value.code)} AS BIGINT)"
    return "CAST(NULL AS BIGINT)"  # length of anything else is missing


FUNCTIONS = (
    Function("default", default, ("any", "any"), _first_type, "The value, or a fallback when it is missing.", null_safe=True,
             sql=_sql_call("COALESCE")),
    Function("coalesce", coalesce, ("any",), _first_type, "The first argument that is not missing.", min_args=1, variadic=True,
             null_safe=True, sql=_sql_call("COALESCE")),
    Function("days_since", days_since, ("date",), "integer", "Days from a date to the as-of date.", needs_as_of=True,
             sql=lambda dialect, args: _sql_days(dialect, args[1].code, args[0].code)),
    Function("days_until", days_until, ("date",), "integer", "Days from the as-of date to a date.", needs_as_of=True,
             sql=lambda dialect, args: _sql_days(dialect, args[0].code, args[1].code)),
    Function("days_between", days_between, ("date", "date"), "integer", "Days from the first date to the second.",
             sql=lambda dialect, args: _sql_days(dialect, args[0].code, args[1].code)),
    Function("date", parse_date, ("string",), "date", "An ISO date (YYYY-MM-DD) from text.", sql=_sql_date),
    Function("abs", abs, ("number",), lambda types: types[0], "Absolute value.", sql=_sql_call("abs")),
    Function("round", round_to, ("number", "integer"), "number", "Round to a number of digits (default 0).", min_args=1,
             sql=_sql_round),
    Function("min", min, ("number",), _first_type, "The smallest of the numbers.", min_args=2, variadic=True,
             sql=_sql_extreme("LEAST")),
    Function("max", max, ("number",), _first_type, "The largest of the numbers.", min_args=2, variadic=True,
             sql=_sql_extreme("GREATEST")),
    Function("clamp", clamp, ("number", "number", "number"), _first_type, "A number limited to [low, high].", sql=_sql_clamp),
    Function("log10", log10, ("number",), "number", "Base-10 logarithm; missing for zero or less.", sql=_sql_partial("log10", "> 0")),
    Function("sqrt", sqrt, ("number",), "number", "Square root; missing below zero.", sql=_sql_partial("sqrt", ">= 0")),
    Function("lower", str.lower, ("string",), "string", "Lower-case text.", sql=_sql_case("lower", "\u0130", "i\u0307")),
    Function("upper", str.upper, ("string",), "string", "Upper-case text.", sql=_sql_case("upper", "ß", "SS")),
    Function("contains", contains, ("string", "string"), "boolean", "Whether the text contains the part.", sql=_sql_call("contains")),
    Function("length", length, ("any",), "integer", "Number of characters of a text or items of a list.", sql=_sql_length),
)


@hookimpl
def tierkit_functions(register):
    for function in FUNCTIONS:
        register(function)
