"""The IR lowered to sqlglot expression trees, generated per dialect (DuckDB, Spark).

:class:`SqlLowering` visits a node's children first and calls ``visit_<Node>`` with
their sqlglot trees, as Ibis's ``SQLGlotCompiler`` does; a node class without a
visit method raises :class:`UnknownNode` (there is no fallback that would write
something plausible).  What differs by dialect is a row of :data:`DIALECTS`, not a
branch in a visit method; sqlglot's generators do the rest of the spelling.

A program becomes one SELECT per layer of bindings: a binding sits one layer above
the deepest binding it reads, so window functions never nest and every name a layer
reads is a column of the layer below.  Reasons come out as flat columns (see
:meth:`ir.Logic.reason_columns`): typed, one per parameter, readable by every
engine (PostgreSQL has no anonymous struct); :func:`reasons_json` folds them into
the JSON Lines ``reasons`` list of ``{"code": …, params}`` objects.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect

from tierkit.io.money import MONEY_SCALE
from tierkit.io.fieldtypes import WHITESPACE
from tierkit.ir import nodes as ir

TYPES = {ir.DType.BOOL: "BOOLEAN", ir.DType.INT: "BIGINT", ir.DType.FLOAT: "DOUBLE", ir.DType.STR: "VARCHAR",
         ir.DType.DATE: "DATE", ir.DType.LIST: "ARRAY<VARCHAR>"}
TYPE_NODES = {dtype: exp.DataType.build(name) for dtype, name in TYPES.items()}
WHOLE_NUMBER = exp.DataType.build("DECIMAL(38, 0)")
COMPARE = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}
WINDOW = {"rank": lambda arg: exp.Anonymous(this="rank", expressions=[]), "count": lambda arg: exp.Count(this=arg),
          "sum": lambda arg: exp.Sum(this=arg), "min": lambda arg: exp.Min(this=arg), "max": lambda arg: exp.Max(this=arg)}

AGGREGATE = {"count": lambda arg: exp.Count(this=exp.Star() if arg is None else arg), "sum": lambda arg: exp.Sum(this=arg),
             "min": lambda arg: exp.Min(this=arg), "max": lambda arg: exp.Max(this=arg)}

WHOLE_PARTITION = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="UNBOUNDED", end_side="FOLLOWING")


class UnknownNode(Exception):
    """An IR node this lowering has no visit method for."""


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    """``name(args…)`` spelt as written (no dialect rewrites a name it does not know)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _num(text: str) -> exp.Expr:
    return exp.Literal.number(text)


def _json_object(pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
    """DuckDB: ``json_object('k', v, …)`` (a JSON value, nested as such by COPY … JSON)."""
    return _fn("json_object", *[x for k, v in pairs for x in (exp.Literal.string(k), v)])


def _named_struct(pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
    """Spark: ``to_json(named_struct('k', v, …))``: a JSON text per reason."""
    return _fn("to_json", _fn("named_struct", *[x for k, v in pairs for x in (exp.Literal.string(k), v)]))


def _lambda(parameter: str, body: exp.Expr) -> exp.Expr:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(parameter)])


def _duckdb_days(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    return _fn("date_diff", exp.Literal.string("day"), start, end)


def _spark_days(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    return _fn("datediff", end, start)


def _duckdb_iso_date(text: exp.Expr) -> exp.Expr:
    return _cast(_fn("try_strptime", _fn("trim", text), exp.Literal.string("%Y-%m-%d")), ir.DType.DATE)


def _spark_iso_date(text: exp.Expr) -> exp.Expr:
    """Spark raises on a year beyond 9999 even in try_to_date: only a date's shape gets there."""
    shape = exp.RegexpLike(this=_fn("trim", text), expression=exp.Literal.string(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"))
    return exp.Case(ifs=[exp.If(this=shape, true=_fn("try_to_date", _fn("trim", text), exp.Literal.string("y-M-d")))])


def _duckdb_float_text(number: exp.Expr) -> exp.Expr:
    return _cast(number, ir.DType.STR)


def _spark_float_text(number: exp.Expr) -> exp.Expr:
    """Python's ``repr`` of a DOUBLE that is not whole, from Java's spelling: plain from
    1e-4 on, else ``1.5e-07``."""
    decimal = exp.Cast(this=number, to=exp.DataType.build("DECIMAL(38, 22)"))
    plain = _fn("regexp_replace", _cast(decimal, ir.DType.STR), exp.Literal.string("0+$"), exp.Literal.string(""))
    java = _cast(number, ir.DType.STR)  # d.dddE-n
    shorter = _fn("regexp_replace", java, exp.Literal.string("[.]0E"), exp.Literal.string("E"))
    padded = _fn("regexp_replace", shorter, exp.Literal.string("E-([0-9])$"), exp.Literal.string("E-0$1"))
    scientific = _fn("replace", padded, exp.Literal.string("E"), exp.Literal.string("e"))
    return exp.Case(ifs=[exp.If(this=exp.GTE(this=_fn("abs", number), expression=_num("1e-4")), true=plain)],
                    default=scientific)


def _duckdb_distinct(items: exp.Expr) -> exp.Expr:
    """First occurrences in order: DuckDB's ``list_distinct`` does not keep the order."""
    first = exp.EQ(this=_fn("list_position", items, exp.column("x")), expression=exp.column("i"))
    return _fn("list_filter", items, exp.Lambda(this=first, expressions=[exp.to_identifier("x"), exp.to_identifier("i")]))


def _spark_distinct(items: exp.Expr) -> exp.Expr:
    return _fn("array_distinct", items)  # keeps first occurrences in order


def _filter_clause(build: Callable[[exp.Expr | None], exp.Expr], arg: exp.Expr | None, where: exp.Expr) -> exp.Expr:
    """DuckDB: ``agg(arg) FILTER (WHERE where)``, which skips the rows before reading them."""
    return exp.Filter(this=build(arg), expression=exp.Where(this=where))


def _case_inside(build: Callable[[exp.Expr | None], exp.Expr], arg: exp.Expr | None, where: exp.Expr) -> exp.Expr:
    """Spark: ``agg(CASE WHEN where THEN arg END)``: a dropped row gives NULL, which no
    aggregate reads, so counts, sums, minima and maxima are those of the kept rows."""
    return build(_case((where, _num("1") if arg is None else arg)))


# -- Python's NFKC and case folding ----------------------------------------------------
# Spark runs ICU (bundled with Spark) through ``reflect``, which agrees with Python.
# DuckDB has NFC but neither NFKC nor full case folding, so both are spelt out as
# per-character maps from Python's own tables: NFKC(s) = NFC(s with each character
# replaced by its NFKC), and case folding maps character by character.  A character
# may map to several: those are replaced one by one.  Every piece of a map is guarded
# by a regular expression of the characters it changes, so a text without them (most)
# costs one match per group of pieces.  No image is itself a key of its map (both maps
# are idempotent), so the pieces may be applied in any order and guarded on the text
# before the map.  Exact for every character of Python's Unicode database; DuckDB
# (utf8proc) and ICU may know newer characters, and DuckDB stops a text at a NUL.

_CHUNK = 64  # characters per guarded piece of a one-to-one map (half as many for one-to-many)
_GROUP = 8  # guarded pieces per guarded group
# Characters common in business data that the maps change (full-width forms, odd
# spaces, Latin capitals, ℃, ㎡, №, ™, ½, ㈱, ß, ﬁ …): mapped first, with one guard.
_COMMON = frozenset(
    [chr(c) for c in range(0xFF01, 0xFF66)] + [chr(c) for c in range(0x41, 0x5B)] + [chr(c) for c in range(0xC0, 0xDF)]
    + list("\u00a0\u3000\u2002\u2003\u2009\u202f\u00b2\u00b3\u00b9\u2026\u2025\u2103\u2109\u33a1\u33a5\u338f\u338e"
           "\u339c\u339d\u339e\u2116\u2122\u2121\u00bd\u00bc\u00be\u3231\u3232\u00df\ufb01\ufb02")
)


@functools.cache
def unicode_maps() -> tuple[dict[str, str], dict[str, str]]:
    """Python's compatibility map (characters whose NFKC differs from their NFC) and
    its case-folding map (characters ``str.casefold`` changes)."""
    compat, folding = {}, {}
    for point in range(0x110000):
        if 0xD800 <= point < 0xE000:
            continue
        char = chr(point)
        if unicodedata.decomposition(char):
            nfkc = unicodedata.normalize("NFKC", char)
            if nfkc != unicodedata.normalize("NFC", char):
                compat[char] = nfkc
        folded = char.casefold()
        if folded != char:
            folding[char] = folded
    return compat, folding


def _char_class(chars) -> str:
    """An RE2 class of the characters, as ranges of code points."""
    points = sorted(ord(char) for char in chars)
    ranges, start, end = [], points[0], points[0]
    for point in points[1:]:
        if point == end + 1:
            end = point
            continue
        ranges.append((start, end))
        start = end = point
    ranges.append((start, end))
    return "[" + "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def _guard(chars, text: exp.Expr) -> exp.Expr:
    return _fn("regexp_matches", text, exp.Literal.string(_char_class(chars)))


def _pieces(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _translate(value: exp.Expr, piece, test: exp.Expr | None) -> exp.Expr:
    """Each character of ``piece`` replaced by its one-character image (none unless ``test``)."""
    source = exp.Literal.string("".join(char for char, _ in piece))
    if test is not None:
        source = _case((test, source), default=exp.Literal.string(""))
    return _fn("translate", value, source, exp.Literal.string("".join(image for _, image in piece)))


def _duckdb_map(lowering: SqlLowering, text: exp.Expr, table: dict[str, str]) -> exp.Expr:
    """``text`` with every character replaced by its image in ``table``: the common
    characters first, then the rest in guarded groups of guarded pieces."""
    def replace(value: exp.Expr, piece, test: exp.Expr | None) -> exp.Expr:
        def chain(v: exp.Expr) -> exp.Expr:
            for char, image in piece:
                v = _fn("replace", v, exp.Literal.string(char), exp.Literal.string(image))
            return v
        return chain(value) if test is None else lowering.let(value, lambda v: _case((test, chain(v)), default=v),
                                                              lowering.name())

    def mapped(source: exp.Expr, part: str) -> exp.Expr:
        apply, size = (_translate, _CHUNK) if part == "single" else (replace, _CHUNK // 2)
        items = sorted((char, image) for char, image in table.items() if (len(image) == 1) == (part == "single"))
        common = [(char, image) for char, image in items if char in _COMMON]
        rest = [(char, image) for char, image in items if char not in _COMMON]
        if common:
            source = _case((_guard([c for c, _ in common], source), apply(source, common, None)), default=source)

        def groups(column: exp.Expr) -> exp.Expr:
            value = column
            for group in _pieces(_pieces(rest, size), _GROUP):
                def body(v: exp.Expr, group=group) -> exp.Expr:
                    for piece in group:
                        v = apply(v, piece, _guard([c for c, _ in piece], column))
                    return v
                test = _guard([char for piece in group for char, _ in piece], column)
                value = lowering.let(value, lambda v, body=body, test=test: _case((test, body(v)), default=v), lowering.name())
            return _case((_guard([c for c, _ in rest], column), value), default=column)

        return lowering.let(source, groups, lowering.name()) if rest else source

    def bound(value: exp.Expr, part: str) -> exp.Expr:
        return lowering.let(value, lambda v: mapped(v, part), lowering.name())

    return bound(bound(text, "single"), "multi")


def _duckdb_nfkc(lowering: SqlLowering, text: exp.Expr) -> exp.Expr:
    return _fn("nfc_normalize", _duckdb_map(lowering, text, unicode_maps()[0]))


def _duckdb_casefold(lowering: SqlLowering, text: exp.Expr) -> exp.Expr:
    return _duckdb_map(lowering, text, unicode_maps()[1])


def _icu(call: str):
    """A static ICU method ``(text, true)`` on Spark, through ``reflect``; missing stays missing."""
    klass, method = call.rsplit(".", 1)

    def build(lowering: SqlLowering, text: exp.Expr) -> exp.Expr:
        return lowering.let(text, lambda t: _case(
            (exp.Not(this=_is_null(t)), _fn("reflect", exp.Literal.string(klass), exp.Literal.string(method), t, exp.true()))))
    return build


@dataclass(frozen=True)
class Dialect:
    """What one engine spells differently; the rest is sqlglot's generator for ``name``."""

    name: str  # sqlglot's dialect name
    reason_object: Callable[[list[tuple[str, exp.Expr]]], exp.Expr]
    transform: str  # map a list through a lambda
    item: str  # a list's item at a 1-based position, NULL past the end
    list_contains: str
    list_length: str
    days_between: Callable[[exp.Expr, exp.Expr], exp.Expr]  # whole days from start to end
    iso_date: Callable[[exp.Expr], exp.Expr]  # YYYY-M-D text to a date, NULL if it is not one
    float_text: Callable[[exp.Expr], exp.Expr]  # Python's repr of a finite DOUBLE that is not whole
    filter: str  # keep a list's items a lambda holds for
    distinct: Callable[[exp.Expr], exp.Expr]  # a list's first occurrences, in order
    filtered: Callable  # an aggregate of the rows where a condition holds
    join: str  # a list's texts joined by a literal separator, missing items skipped
    nfkc: Callable  # (lowering, text) -> Python's unicodedata.normalize("NFKC", text)
    casefold: Callable  # (lowering, text) -> Python's text.casefold()


DIALECTS = {
    "duckdb": Dialect("duckdb", _json_object, "list_transform", "list_extract", "list_contains", "len",
                      _duckdb_days, _duckdb_iso_date, _duckdb_float_text, "list_filter", _duckdb_distinct, _filter_clause,
                      "array_to_string", _duckdb_nfkc, _duckdb_casefold),
    "spark": Dialect("spark", _named_struct, "transform", "try_element_at", "array_contains", "size",
                     _spark_days, _spark_iso_date, _spark_float_text, "filter", _spark_distinct, _case_inside,
                     "array_join", _icu("com.ibm.icu.text.Normalizer.compose"), _icu("com.ibm.icu.lang.UCharacter.foldCase")),
}


def _paren(node: exp.Expr) -> exp.Expr:
    """Parenthesise every operator operand: the tree's grouping, whatever the precedence."""
    return exp.Paren(this=node) if isinstance(node, (exp.Binary, exp.Not, exp.Neg, exp.Is, exp.Connector)) else node


def _cast(node: exp.Expr, dtype: ir.DType) -> exp.Expr:
    """``CAST(node AS type)``, the type node built once (parsing a type name is slow)."""
    return exp.Cast(this=node, to=TYPE_NODES[dtype].copy())


def _double(value: float) -> exp.Expr:
    """A DOUBLE read from its shortest text (exact, as a decimal literal might not be)."""
    text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity") if math.isinf(value) else repr(value)
    return _cast(exp.Literal.string(text), ir.DType.FLOAT)


def _op(kind, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return kind(this=_paren(left), expression=_paren(right))


def _case(*whens: tuple[exp.Expr, exp.Expr], default: exp.Expr | None = None) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens], default=default)


def _is_null(node: exp.Expr) -> exp.Expr:
    return exp.Is(this=_paren(node), expression=exp.Null())


_SIMPLE = (exp.Column, exp.Literal, exp.Null, exp.Boolean)


class SqlLowering:
    """One IR expression tree to one sqlglot tree for ``dialect``; ``columns`` maps
    binding names to the column each is stored in."""

    def __init__(self, columns: Callable[[str], str], dialect: str = "duckdb"):
        self.columns = columns
        self.dialect = DIALECTS[dialect]
        self.udfs: dict[str, ir.PyCall] = {}  # the Python functions called, by UDF name: registered before the query runs
        self._names = itertools.count()

    def name(self) -> str:
        """A name for :meth:`let` unique in this lowering's expressions."""
        return f"_u{next(self._names)}"

    def lower(self, node: ir.Expr) -> exp.Expr:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise UnknownNode(f"no SQL lowering for {type(node).__name__}")
        return method(node)

    def let(self, value: exp.Expr, body: Callable[[exp.Expr], exp.Expr], name: str | None = None) -> exp.Expr:
        """``body(name)`` with ``name`` bound to ``value``, computed once: a one-item list
        mapped through a lambda.  The name is derived from ``value``, so an inner binding
        of the same name always holds the same value as the outer one; a caller nesting
        large values gives a ``name`` unique in the expression instead (hashing the
        text of each would cost more than the rest of the lowering)."""
        if isinstance(value, _SIMPLE) or (isinstance(value, exp.Cast) and isinstance(value.this, _SIMPLE)):
            return body(value)
        name = name or "_v" + hashlib.sha1(to_sql(value, self.dialect.name).encode("utf-8")).hexdigest()[:12]
        mapped = _fn(self.dialect.transform, exp.Array(expressions=[value]), _lambda(name, body(exp.column(name))))
        return _fn(self.dialect.item, mapped, _num("1"))

    def strict(self, args: tuple[ir.Expr, ...], body: Callable[[list[exp.Expr]], exp.Expr]) -> exp.Expr:
        """``body(values)``, NULL when an argument that may be missing is (for SQL
        functions that skip NULLs, as LEAST and GREATEST do)."""
        values = [self.lower(arg) for arg in args]
        if not any(ir.nullable(arg) for arg in args):
            return body(values)

        def bind(index: int, bound: list[exp.Expr]) -> exp.Expr:
            if index == len(values):
                missing = [_is_null(v) for v, arg in zip(bound, args) if ir.nullable(arg)]
                test = missing[0]
                for more in missing[1:]:
                    test = exp.Or(this=test, expression=more)
                return _case((test, exp.Null()), default=body(bound))
            return self.let(values[index], lambda v: bind(index + 1, [*bound, v]))

        return bind(0, [])

    # -- leaves -------------------------------------------------------------------------
    def visit_Column(self, node: ir.Column) -> exp.Expr:
        return exp.column(node.name, quoted=True)

    def visit_Ref(self, node: ir.Ref) -> exp.Expr:
        return exp.column(self.columns(node.name), quoted=True)

    def visit_Lit(self, node: ir.Lit) -> exp.Expr:
        if node.value is None:
            return exp.Null() if node.dtype is ir.DType.NULL else _cast(exp.Null(), node.dtype)
        if node.dtype is ir.DType.BOOL:
            return exp.Boolean(this=node.value)
        if node.dtype is ir.DType.FLOAT:
            return _double(float(node.value))
        if node.dtype is ir.DType.INT:  # a bare 5 is a 32-bit INTEGER, which overflows where BIGINT does not
            return _cast(exp.Literal.number(int(node.value)), ir.DType.INT)
        if node.dtype is ir.DType.DATE:
            return _cast(exp.Literal.string(node.value.isoformat()), ir.DType.DATE)
        return exp.Literal.string(str(node.value))

    def visit_Cast(self, node: ir.Cast) -> exp.Expr:
        return _cast(self.lower(node.operand), node.dtype)

    def visit_ListOf(self, node: ir.ListOf) -> exp.Expr:
        items = exp.Array(expressions=[self.lower(item) for item in node.items])
        if node.items:
            return items
        return exp.Cast(this=items, to=exp.DataType.build(f"ARRAY<{TYPES.get(node.element, 'VARCHAR')}>"))

    # -- arithmetic ---------------------------------------------------------------------
    def visit_Arith(self, node: ir.Arith) -> exp.Expr:
        if node.op in ("//", "%"):  # computed in the result's type
            left, right = self._typed(node.left, node.dtype), self._typed(node.right, node.dtype)
        else:
            left, right = self.lower(node.left), self.lower(node.right)
        if node.op in ARITH:
            return _op(ARITH[node.op], left, right)
        if node.op == "**":
            return self.let(left, lambda base: self.let(right, lambda power: self._power(base, power)))
        literal = isinstance(node.right, ir.Lit) and node.right.value not in (0, None)
        divisor = right if literal else exp.Nullif(this=right, expression=_num("0"))  # zero: missing
        if node.op == "/":
            return _op(exp.Div, left, divisor)
        if node.op == "%":
            return self.let(divisor, lambda b: self._mod(left, b, node.dtype))
        if node.dtype is ir.DType.INT:  # a - a % b is a multiple of b: exact
            return self.let(left, lambda a: self.let(divisor, lambda b: _op(exp.IntDiv, _op(exp.Sub, a, self._mod(a, b, node.dtype)), b)))
        return self.let(left, lambda a: self.let(divisor, lambda b: self._floor_div(a, b)))

    @staticmethod
    def _wrong_side(m: exp.Expr, b: exp.Expr) -> exp.Expr:
        """A remainder ``m`` that SQL gave the dividend's sign where Python gives the divisor's."""
        return exp.And(this=_op(exp.NEQ, m, _num("0")),
                       expression=_op(exp.NEQ, _op(exp.LT, m, _num("0")), _op(exp.LT, b, _num("0"))))

    def _mod(self, a: exp.Expr, b: exp.Expr, dtype: ir.DType) -> exp.Expr:
        """Python's ``%``: SQL's takes the dividend's sign."""
        if dtype is ir.DType.INT:
            return _op(exp.Mod, _op(exp.Add, _op(exp.Mod, a, b), b), b)
        # CPython's float_rem: C's fmod, moved to the divisor's side
        return self.let(_op(exp.Mod, a, b), lambda m: _case((self._wrong_side(m, b), _op(exp.Add, m, b)), default=m))

    def _floor_div(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """CPython's float_floor_div, step by step."""
        def from_div(div: exp.Expr) -> exp.Expr:
            floor = self._floor(div)
            half = _case((_op(exp.GT, _op(exp.Sub, div, floor), _num("0.5")), _num("1")), default=_num("0"))
            return _op(exp.Add, floor, half)

        def from_mod(m: exp.Expr) -> exp.Expr:
            below = _case((self._wrong_side(m, b), _num("1")), default=_num("0"))
            return self.let(_op(exp.Sub, _op(exp.Div, _op(exp.Sub, a, m), b), below), from_div)

        return self.let(_op(exp.Mod, a, b), from_mod)

    @staticmethod
    def _floor(number: exp.Expr) -> exp.Expr:
        """floor() of a DOUBLE as a DOUBLE (Spark's floor gives a BIGINT, which may not hold it)."""
        return _case((_op(exp.GTE, _fn("abs", number), _num("4503599627370496.0")), number),
                     default=_cast(_fn("floor", number), ir.DType.FLOAT))

    def _power(self, base: exp.Expr, power: exp.Expr) -> exp.Expr:
        """NULL where Python has no real finite answer."""
        finite = self.let(_fn("power", base, power),
                          lambda r: _case((_op(exp.NEQ, _fn("abs", r), _double(math.inf)), r)))
        return _case((exp.And(this=_op(exp.EQ, base, _num("0")), expression=_op(exp.LT, power, _num("0"))), exp.Null()),
                     (exp.And(this=_op(exp.LT, base, _num("0")),
                              expression=_op(exp.NEQ, _op(exp.Mod, power, _num("1")), _num("0"))), exp.Null()),
                     default=finite)

    def visit_Neg(self, node: ir.Neg) -> exp.Expr:
        return exp.Neg(this=_paren(self.lower(node.operand)))

    # -- text ---------------------------------------------------------------------------
    def visit_Concat(self, node: ir.Concat) -> exp.Expr:
        texts = [self._text(part) for part in node.parts]
        result = texts[0]
        for text in texts[1:]:
            result = exp.DPipe(this=_paren(result), expression=_paren(text))
        return result

    def _text(self, node: ir.Expr) -> exp.Expr:
        """What ``~`` writes: whole doubles without ``.0``, ``True``/``False``."""
        value = self.lower(node)
        if node.dtype is ir.DType.STR:
            return value
        if node.dtype in (ir.DType.INT, ir.DType.DATE):
            return _cast(value, ir.DType.STR)
        if node.dtype is ir.DType.BOOL:
            return _case((value, exp.Literal.string("True")), (exp.Not(this=_paren(value)), exp.Literal.string("False")))
        if node.dtype is ir.DType.FLOAT:
            return self.let(value, self._float_text)
        raise UnknownNode(f"no SQL text for a {node.dtype.value}")

    def _float_text(self, x: exp.Expr) -> exp.Expr:
        size = _fn("abs", x)
        return _case(
            (exp.And(this=_op(exp.LT, size, _num("1e16")), expression=_op(exp.NEQ, _op(exp.Mod, x, _num("1")), _num("0"))),
             self.dialect.float_text(x)),
            (_op(exp.LT, size, _num("9.2e18")), _cast(_cast(x, ir.DType.INT), ir.DType.STR)),
            (_op(exp.LT, size, _num("1e38")), self._whole_text(x)),
            default=_cast(x, ir.DType.STR))

    def _whole_text(self, number: exp.Expr) -> exp.Expr:
        """The digits of a whole DOUBLE below 1e38 in size, exactly (as Python's ``int``
        writes them; a cast to DECIMAL may keep only the shortest digits): three exact
        parts below 2**43, summed as DECIMAL(38, 0)."""
        high_unit, low_unit = "19342813113834066795298816", "4398046511104"  # 2**84, 2**42

        def whole(node: exp.Expr) -> exp.Expr:
            return exp.Cast(this=node, to=WHOLE_NUMBER.copy())

        def parts(x: exp.Expr) -> exp.Expr:
            high = _fn("floor", _op(exp.Div, x, _num(f"{high_unit}e0")))

            def rest(r: exp.Expr) -> exp.Expr:
                middle = _fn("floor", _op(exp.Div, r, _num(f"{low_unit}e0")))
                total = _op(exp.Mul, whole(high), whole(exp.Literal.string(high_unit)))
                total = _op(exp.Add, total, _op(exp.Mul, whole(middle), whole(_num(low_unit))))
                return _op(exp.Add, total, whole(_op(exp.Sub, r, _op(exp.Mul, middle, _num(f"{low_unit}e0")))))

            return self.let(_op(exp.Sub, x, _op(exp.Mul, _cast(high, ir.DType.FLOAT), _num(f"{high_unit}e0"))), rest)

        sign = _case((_op(exp.LT, number, _num("0")), exp.Literal.string("-")), default=exp.Literal.string(""))
        return self.let(_fn("abs", number), lambda x: exp.DPipe(this=sign, expression=_cast(exp.Paren(this=parts(x)), ir.DType.STR)))

    # -- comparisons and logic ----------------------------------------------------------
    def visit_Compare(self, node: ir.Compare) -> exp.Expr:
        return _op(COMPARE[node.op], self.lower(node.left), self.lower(node.right))

    def visit_In(self, node: ir.In) -> exp.Expr:
        value = self.lower(node.value)
        if not node.items:  # false, or missing for a missing value
            return _case((exp.Not(this=_is_null(value)), exp.false()))
        return exp.In(this=_paren(value), expressions=[self.lower(item) for item in node.items])

    def _connect(self, kind, operands) -> exp.Expr:
        parts = [_paren(self.lower(o)) for o in operands]
        result = parts[0]
        for part in parts[1:]:
            result = kind(this=result, expression=part)
        return result

    def visit_And(self, node: ir.And) -> exp.Expr:
        return self._connect(exp.And, node.operands)

    def visit_Or(self, node: ir.Or) -> exp.Expr:
        return self._connect(exp.Or, node.operands)

    def visit_Not(self, node: ir.Not) -> exp.Expr:
        return exp.Not(this=_paren(self.lower(node.operand)))

    def visit_IsMissing(self, node: ir.IsMissing) -> exp.Expr:
        return _is_null(self.lower(node.operand))

    def visit_Coalesce(self, node: ir.Coalesce) -> exp.Expr:
        first, *rest = (self._typed(o, node.dtype) for o in node.operands)
        return exp.Coalesce(this=first, expressions=rest)

    def visit_FirstMatch(self, node: ir.FirstMatch) -> exp.Expr:
        if not node.conditions:
            return self._typed(node.default, ir.DType.INT)
        ifs = [exp.If(this=self.lower(c), true=_num(str(i))) for i, c in enumerate(node.conditions)]
        return exp.Case(ifs=ifs, default=self._typed(node.default, ir.DType.INT))

    def visit_Pick(self, node: ir.Pick) -> exp.Expr:
        if not node.values:
            return self._typed(node.default, node.dtype)
        ifs = [exp.If(this=_num(str(i)), true=self._typed(v, node.dtype)) for i, v in enumerate(node.values)]
        return exp.Case(this=self.lower(node.index), ifs=ifs, default=self._typed(node.default, node.dtype))

    def visit_Gather(self, node: ir.Gather) -> exp.Expr:
        if not node.entries:
            return self.visit_ListOf(ir.ListOf((), ir.DType.STR))
        items = exp.Array(expressions=[exp.Case(ifs=[exp.If(this=self.lower(c), true=self.lower(t))]) for c, t in node.entries])
        known = _fn(self.dialect.filter, items, _lambda("x", exp.Not(this=_is_null(exp.column("x")))))
        return self.let(known, self.dialect.distinct)

    def visit_Case(self, node: ir.Case) -> exp.Expr:
        if not node.whens:  # SQL has no CASE without a WHEN
            return self._typed(node.default, node.dtype)
        ifs = [exp.If(this=self.lower(c), true=self._typed(v, node.dtype)) for c, v in node.whens]
        return exp.Case(ifs=ifs, default=self._typed(node.default, node.dtype))

    def _typed(self, node: ir.Expr, dtype: ir.DType) -> exp.Expr:
        """A branch as the whole's type: a bare NULL typed, an integer widened."""
        if node.dtype is dtype or dtype is ir.DType.NULL:
            return self.lower(node)
        if isinstance(node, ir.Lit) and node.value is None:
            return _cast(exp.Null(), dtype)
        return _cast(self.lower(node), dtype)

    def visit_Call(self, node: ir.Call) -> exp.Expr:
        build = FUNCTIONS.get(node.name)
        if build is None:
            raise UnknownNode(f"no SQL lowering for the function {node.name!r}")
        return build(self, node.args)

    def visit_PyCall(self, node: ir.PyCall) -> exp.Expr:
        """A call of the UDF the engine registers (the UDF skips missing arguments itself)."""
        name = node.udf_name()
        self.udfs[name] = node
        return _fn(name, *(self.lower(arg) for arg in node.args))

    def visit_Window(self, node: ir.Window) -> exp.Expr:
        this = WINDOW[node.func](None if node.arg is None else self.lower(node.arg))
        order = None
        if node.order:
            order = exp.Order(expressions=[exp.Ordered(this=self.lower(s.key), desc=s.descending, nulls_first=False)
                                           for s in node.order])
        spec = WHOLE_PARTITION.copy() if node.whole else None
        return exp.Window(this=this, partition_by=[self.lower(p) for p in node.partition] or None, order=order, spec=spec)

    def visit_Aggregate(self, node: ir.Aggregate) -> exp.Expr:
        build = AGGREGATE[node.func]
        arg = None if node.arg is None else self.lower(node.arg)
        if node.distinct:  # the condition inside DISTINCT on every dialect
            inner = arg if node.where is None else _case((self.lower(node.where), arg))
            return build(exp.Distinct(expressions=[inner]))
        if node.where is None:
            return build(arg)
        return self.dialect.filtered(build, arg, self.lower(node.where))


# -- functions: one row per name, the same values as tierkit.plugins.functions ------------

def _plain(name: str):
    """A SQL function that is NULL on a NULL argument and agrees with Python's."""
    return lambda lowering, args: _fn(name, *(lowering.lower(a) for a in args))


def _extreme(name: str):
    """LEAST/GREATEST, NULL when an argument is (SQL's skip NULLs)."""
    return lambda lowering, args: lowering.strict(args, lambda values: _fn(name, *values))


def _clamp(lowering: SqlLowering, args) -> exp.Expr:
    return lowering.strict(args, lambda v: _fn("LEAST", _fn("GREATEST", v[0], v[1]), v[2]))


def _days(start: int, end: int):
    """Whole days between two of the arguments (the as-of date is the first when passed)."""
    return lambda lowering, args: _cast(lowering.dialect.days_between(lowering.lower(args[start]), lowering.lower(args[end])),
                                        ir.DType.INT)


def _partial(name: str, domain):
    """``name(x)`` where ``domain(x)`` holds, else NULL (log10, sqrt)."""
    return lambda lowering, args: lowering.let(lowering.lower(args[0]), lambda x: _case((domain(x), _fn(name, x))))


def _case_map(name: str, special: str, full: str):
    """lower/upper; DuckDB maps case one character to one, so the two special cases
    met in practice (ß -> SS, İ -> i̇) are spelt out, as Python and Spark map them."""
    return lambda lowering, args: _fn(name, _fn("replace", lowering.lower(args[0]), exp.Literal.string(special),
                                                exp.Literal.string(full)))


# What str.strip removes, as a regex class RE2 and Java both read.
_SPACE = "[" + "".join(f"\\x{{{ord(char):x}}}" for char in WHITESPACE) + "]*"
# What datetime.strptime(text.strip(), "%Y-%m-%d") accepts: str.strip()'s white space
# around a four-digit year (not 0000), a month of one or two digits, a day of one or
# two digits (or a space and a digit).
_ISO_DATE = (
    rf"^{_SPACE}((?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{{2}}|[1-9][0-9]{{3}})"
    rf"-(?:1[0-2]|0[1-9]|[1-9])-(?:3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])){_SPACE}$"
)


def _date(lowering: SqlLowering, args) -> exp.Expr:
    found = _fn("regexp_extract", lowering.lower(args[0]), exp.Literal.string(_ISO_DATE), _num("1"))
    return lowering.dialect.iso_date(_fn("replace", found, exp.Literal.string(" "), exp.Literal.string("")))


def _strip(lowering: SqlLowering, args) -> exp.Expr:
    """``str.strip()``: the text between the white space it strips at either end."""
    pattern = exp.Literal.string(f"(?s)^{_SPACE}(.*?){_SPACE}$")
    return _fn("regexp_extract", lowering.lower(args[0]), pattern, _num("1"))


def _round(lowering: SqlLowering, args) -> exp.Expr:
    """``round_to``: ties are decided on the shortest decimal text of the double
    (1.005 -> 1.01, 2.675 -> 2.68), as Python does.

    With ``k`` the whole units (of ``10**-digits``) below ``|x|``, ``|x|`` rounds up
    exactly when its shortest text is at least ``k + 0.5`` units, which (rounding to
    doubles being monotonic) is when ``|x|`` is at least the double nearest to that
    decimal.  A number of 2**52 units or more has no digit left to round (up to one
    unit in 10**15 when it has seventeen digits)."""
    let = lowering.let
    digits = lowering.lower(args[1]) if len(args) > 1 else _cast(_num("0"), ir.DType.INT)
    limit = _num("4503599627370496e0")  # 2**52

    def ten_to(exponent: exp.Expr) -> exp.Expr:  # exact: the double nearest to 1e<exponent>
        return _cast(_fn("concat", exp.Literal.string("1e"), _cast(exponent, ir.DType.STR)), ir.DType.FLOAT)

    def rounded(x: exp.Expr, d: exp.Expr) -> exp.Expr:
        size = _fn("abs", x)

        def near(units: exp.Expr, scale, step) -> exp.Expr:
            def at(k: exp.Expr) -> exp.Expr:
                up = _case((_op(exp.GTE, size, _op(step, _op(exp.Add, k, _num("0.5")), scale)), _num("1")), default=_num("0"))
                return _op(exp.Mul, _fn("sign", x), _op(step, _op(exp.Add, k, up), scale))
            return _case((_op(exp.GTE, units, limit), x), default=let(_cast(_fn("floor", units), ir.DType.FLOAT), at))

        finer = lambda p: near(_op(exp.Mul, size, p), p, exp.Div)  # noqa: E731  d >= 0: units of 1/p
        coarser = lambda q: near(_op(exp.Div, size, q), q, exp.Mul)  # noqa: E731  d < 0: units of q
        return _case(
            (exp.Or(this=_is_null(x), expression=_is_null(d)), exp.Null()),
            (_op(exp.GT, d, _num("308")), x),
            (_op(exp.LT, d, _num("-308")), _op(exp.Mul, x, _num("0"))),
            (_op(exp.GTE, d, _num("0")), let(ten_to(d), finer)),
            default=let(ten_to(exp.Neg(this=_paren(d))), coarser))

    return let(lowering.lower(args[0]), lambda x: let(digits, lambda d: rounded(x, d)))


def _length(lowering: SqlLowering, args) -> exp.Expr:
    value = lowering.lower(args[0])
    measure = {ir.DType.STR: lambda: _fn("length", value),
               ir.DType.LIST: lambda: _fn(lowering.dialect.list_length, value)}.get(args[0].dtype)
    return _cast(exp.Null() if measure is None else measure(), ir.DType.INT)  # of anything else: missing


def _list_contains(lowering: SqlLowering, args) -> exp.Expr:
    """Membership in a list value; a missing value is missing (the engines' own
    functions say false for it; a missing list already gives NULL)."""
    items = lowering.lower(args[0])
    return lowering.strict(args[1:], lambda value: _fn(lowering.dialect.list_contains, items, value[0]))


def _money_units(lowering: SqlLowering, args) -> exp.Expr:
    """:func:`tierkit.io.money.money_units`: whole millionths, half up, as DECIMAL(38, 0)
    so that sums are exact (an INT of the IR: Python's ``int``)."""
    scaled = _op(exp.Add, _op(exp.Mul, lowering.lower(args[0]), _double(MONEY_SCALE)), _double(0.5))
    return exp.Cast(this=_fn("floor", scaled), to=WHOLE_NUMBER.copy())


def _money(lowering: SqlLowering, args) -> exp.Expr:
    """:func:`tierkit.io.money.money`: the double nearest to a sum of millionths."""
    return _op(exp.Div, _cast(lowering.lower(args[0]), ir.DType.FLOAT), _double(MONEY_SCALE))


def _matches(lowering: SqlLowering, args) -> exp.Expr:
    """Whether the whole text matches a literal pattern (``\\z``: the end, where ``$`` in
    Java also takes a last line break)."""
    pattern = exp.Literal.string(f"^(?:{args[1].value})\\z")
    return exp.RegexpLike(this=lowering.lower(args[0]), expression=pattern)


def _iso_day(lowering: SqlLowering, args) -> exp.Expr:
    """A text written as ``YYYY-MM-DD`` as its date, NULL when it is not one or the
    calendar has no such day: the shape checked, then the dialect's day parse."""
    text = lowering.lower(args[0])
    shape = exp.RegexpLike(this=text, expression=exp.Literal.string(f"^(?:{ir.ISO_DAY})\\z"))
    return exp.Case(ifs=[exp.If(this=shape, true=lowering.dialect.iso_date(text.copy()))])


def _dialect(name: str):
    """A function spelt by a row of :data:`DIALECTS` (a callable or a function name)."""
    def build(lowering: SqlLowering, args) -> exp.Expr:
        spelling = getattr(lowering.dialect, name)
        if callable(spelling):
            return spelling(lowering, *(lowering.lower(a) for a in args))
        return _fn(spelling, *(lowering.lower(a) for a in args))
    return build


FUNCTIONS: dict[str, Callable[[SqlLowering, tuple[ir.Expr, ...]], exp.Expr]] = {
    "days_since": _days(1, 0),
    "days_until": _days(0, 1),
    "days_between": _days(0, 1),
    "date": _date,
    "abs": _plain("abs"),
    "round": _round,
    "min": _extreme("LEAST"),
    "max": _extreme("GREATEST"),
    "clamp": _clamp,
    "log10": _partial("log10", lambda x: _op(exp.GT, x, _num("0"))),
    "sqrt": _partial("sqrt", lambda x: _op(exp.GTE, x, _num("0"))),
    "lower": _case_map("lower", "\u0130", "i\u0307"),
    "upper": _case_map("upper", "ß", "SS"),
    "contains": _plain("contains"),
    "length": _length,
    "list_contains": _list_contains,
    "strip": _strip,
    "isnan": _plain("isnan"),
    "nfkc": _dialect("nfkc"),
    "casefold": _dialect("casefold"),
    "join": _dialect("join"),
    "matches": _matches,
    "iso_day": _iso_day,
    "money_units": _money_units,
    "money": _money,
}


def layers(lets: list[tuple[str, ir.Expr]]) -> list[list[tuple[str, ir.Expr]]]:
    """Bindings grouped by depth: each one layer above the deepest binding it reads."""
    depth: dict[str, int] = {}
    layers: list[list] = []
    for name, expr in lets:
        reads = [depth[n.name] for n in expr.walk() if isinstance(n, ir.Ref) and n.name in depth]
        level = 1 + max(reads, default=0)
        depth[name] = level
        while len(layers) < level:
            layers.append([])
        layers[level - 1].append((name, expr))
    return layers


@functools.cache
def _generator(dialect: str):
    """One sqlglot generator per dialect, reused (making one costs more than most
    expressions take to write)."""
    return SqlglotDialect.get_or_raise(DIALECTS[dialect].name).generator()


def to_sql(tree: exp.Expr, dialect: str) -> str:
    return _generator(dialect).generate(tree)


def generator(dialect: str) -> Callable[[exp.Expr], str]:
    """:func:`to_sql` for many trees of one dialect whose callers spend them: the trees
    are not copied first, several times faster than ``tree.sql(dialect=…)`` per tree."""
    made = _generator(dialect)
    return lambda tree: made.generate(tree, copy=False)


def lower_expression(node: ir.Expr, dialect: str, columns: Callable[[str], str] = str,
                     typed: bool = False) -> tuple[str, dict[str, ir.PyCall]]:
    """One expression's SQL text and the Python functions it calls, by UDF name;
    ``typed`` casts it to its own type (a kind's columns store the logic's types)."""
    lowering = SqlLowering(columns, dialect)
    tree = lowering.lower(node)
    if typed and node.dtype in TYPE_NODES:
        tree = exp.Cast(this=tree, to=TYPE_NODES[node.dtype].copy())
    return generator(dialect)(tree), lowering.udfs
