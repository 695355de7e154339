"""The SQL engines' reading of a raw input relation: every cell typed as Python types it.

:func:`typed_input` states the reading of one customer table (header matching, the
coercion of every cell, defaults, required values, the rejected-row reasons of
:class:`tierkit.io.tables._TableBuilder`) as IR (:mod:`tierkit.ir`), lowered by the same
lowering as the kinds' logic to one ``SELECT`` for DuckDB or Spark.  Its cells'
part, :class:`TypedCells`, types an order file's cells too (:mod:`tierkit.engine.sql.orders`).

There is one definition of a cell's value: :func:`tierkit.io.fieldtypes.make_coercer`.
The engine reads only what its own cast reads with that definition's value — a cell
in its type's *plain form* (:data:`PLAIN_FORMS`: ``-12.50``, ``2026-01-05``, a
yes/no word or an enum value written as declared, text with nothing to strip), which
most cells of real files are.  Every other non-blank cell (``1,234.50``, ``¥3,000``,
``３.５亿``, ``2026年1月5日``, ``是``, a synonym, a JSON list, a bad cell) goes to the
coercer itself, as a UDF (:class:`ir.PyCall`: a scalar UDF on DuckDB, a pandas UDF on
Spark), and a cell it could not read is given to it a second time for Python's
reason.  Values and reasons are therefore Python's by construction.

Known differences from Python:

* Whole numbers outside the 64-bit range (``BIGINT``), which Python keeps as big
  integers, are rejected with ``<cell> is outside the 64-bit range of the SQL engines
  (use the Python engine)``.
* A JSON list item spelling a lone surrogate (``["\\ud800"]``), which Python keeps in
  its text, is rejected with ``<cell> holds a lone surrogate, which the SQL engines
  cannot store (use the Python engine)``.
* Header checks (two columns matching one field, a missing required column) raise at
  compile time, even for a relation without rows, where ``read_table`` raises only
  once a row is read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierkit.ir import nodes as ir
from tierkit.io.fieldtypes import _BOOLEANS, NULL_MARKERS, WHITESPACE, FieldSpec, _show, make_coercer
from tierkit.io.tables import _where, check_required_columns, match_columns
from tierkit.ir.sql_text import lowered
from tierkit.engine.sql.dialect import Dialect

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = ["typed_input", "TypedInput", "TypedCells", "FIRST_PROBLEM", "layered", "coerced_columns", "OUT_OF_RANGE", "SURROGATE", "PLAIN_FORMS"]

OUT_OF_RANGE = "is outside the 64-bit range of the SQL engines (use the Python engine)"
SURROGATE = "holds a lone surrogate, which the SQL engines cannot store (use the Python engine)"
_SURROGATES = re.compile("[\ud800-\udfff]")

_NOT_SPACE = "[^" + WHITESPACE + "]"
# The texts the engine's cast reads with the coercer's value (the rest go to the coercer):
# at most 15 digits each side of the point (a DOUBLE's cast rounds them as float() does),
# 18 digits (always a BIGINT), an ISO date of a year from 0001 (a DATE's range), text with
# nothing for str.strip to take (yes/no words and enum values: see _words).
PLAIN_FORMS = {
    "number": "-?[0-9]{1,15}([.][0-9]{1,15})?",
    "integer": "-?[0-9]{1,18}",
    "date": ir.ISO_DAY,
    "string": f"(?s){_NOT_SPACE}(.*{_NOT_SPACE})?",
}
_DTYPES = {"number": ir.DType.FLOAT, "integer": ir.DType.INT, "boolean": ir.DType.BOOL, "date": ir.DType.DATE,
           "string": ir.DType.STR, "enum": ir.DType.STR, "list": ir.DType.LIST}
_TEXT_SOURCES = ("text", "string")
FIRST_PROBLEM = ir.Ref("_first", ir.DType.INT)  # the position of a row's first problem (TypedCells.rejection)
_BIGINT = range(-(2 ** 63), 2 ** 63)


@dataclass(frozen=True)
class TypedInput:
    """The typing query and the Python functions it calls (register them first)."""

    sql: str
    udfs: dict[str, ir.PyCall]


@functools.cache
def _coercion(kind: str, values: tuple[str, ...], synonyms: tuple[tuple[str, str], ...]) -> tuple[Callable, Callable]:
    """The coercer of a field type as the engines call it: its value (missing where it
    raises, or where the engine cannot hold it), and its reason.  Cached, so that one
    field type is one function object, hence one UDF, for the life of the process."""
    coerce = make_coercer(FieldSpec("", kind, values=values, synonyms=synonyms))

    def unstorable(value) -> str | None:
        """Why the engine cannot hold a value the coercer gives, if it cannot."""
        if isinstance(value, int) and not isinstance(value, bool) and value not in _BIGINT:
            return OUT_OF_RANGE
        if isinstance(value, tuple) and any(_SURROGATES.search(item) for item in value):
            return SURROGATE
        return None

    def read(raw):
        try:
            value = coerce(raw)
        except ValueError:
            return None
        if unstorable(value):
            return None
        return list(value) if isinstance(value, tuple) else value

    def why(raw):
        try:
            value = coerce(raw)
        except ValueError as error:
            return str(error)
        problem = unstorable(value)
        return f"{_show(raw)} {problem}" if problem else None

    read.__name__, why.__name__ = f"read_{kind}", f"why_{kind}"
    # what each closure holds, so that its UDF has one name in every process (ir.function_key)
    read.udf_key, why.udf_key = (repr((__name__, name, kind, values, synonyms)) for name in ("read", "why"))
    return read, why


@functools.cache
def _of_float_text(function: Callable) -> Callable:
    """``function`` of a double given as its text: how a NaN or an infinity reaches the
    coercer (Spark's pandas UDFs read a NaN as a missing value)."""

    def call(text):
        return function(float(text))

    call.__name__ = f"{function.__name__}_float"
    if (key := ir.function_key(function)) is not None:
        call.udf_key = f"{key} of a double's text"
    return call


def _words(spec: FieldSpec) -> dict[str, object]:
    """The plain cells of a yes/no or enum field: each word or value as written, upper-,
    lower- or title-cased, with the coercer's value for it (none that reads as missing)."""
    coerce = make_coercer(spec)
    candidates = _BOOLEANS if spec.type == "boolean" else spec.values
    words = {}
    for word in candidates:
        for form in (word, word.upper(), word.lower(), word.title(), word.casefold()):
            if not form or form != form.strip() or form.casefold() in NULL_MARKERS:
                continue
            try:
                value = coerce(form)
            except ValueError:
                continue
            if value is not None:
                words.setdefault(form, value)
    return words


def _cell(spec: FieldSpec, x: ir.Column, source: str, lets: list, day_name: str) -> tuple[ir.Expr, ir.Expr | None]:
    """A cell's value: the engine's where it reads the cell as the coercer does, else the
    coercer's; and the coercer's reason for a cell it gives no value (None: it is never
    asked).  A date's plain day is bound first (in ``lets``, as ``day_name``)."""
    kind = spec.type
    read, why = _coercion(kind, spec.values, spec.synonyms)
    nonfinite = ir.Call("isnan", (ir.Arith("-", x, x),), ir.DType.BOOL) if source == "number" else None

    def coercer(function: Callable, dtype: ir.DType) -> ir.Expr:
        call = ir.PyCall(function, (x,), dtype)
        if nonfinite is None:
            return call
        as_text = ir.PyCall(_of_float_text(function), (ir.Cast(x, ir.DType.STR),), dtype)
        return ir.case((nonfinite, as_text), default=call)

    coerced, reason = coercer(read, _DTYPES[kind]), coercer(why, ir.DType.STR)
    if source not in _TEXT_SOURCES:
        if source == kind and kind in ("integer", "boolean", "date"):
            return x, None
        if source == kind == "number":  # NaN and infinities are the coercer's to refuse
            return ir.case((nonfinite, coerced), default=x), reason
        if source == "integer" and kind == "number":
            return ir.Cast(x, ir.DType.FLOAT), None
        return ir.case((ir.known(x), coerced)), reason
    plain: list[tuple[ir.Expr, ir.Expr]] = []
    if kind in ("boolean", "enum"):  # the coercer's value of each plain word, synonyms included
        by_value: dict[object, list[ir.Expr]] = {}
        for word, value in _words(spec).items():
            by_value.setdefault(value, []).append(ir.lit(word))
        plain = [(ir.In(x, tuple(words)), ir.Lit(value, _DTYPES[kind])) for value, words in by_value.items()]
    elif kind in PLAIN_FORMS and not spec.synonyms:
        form = ir.Call("matches", (x, ir.lit(PLAIN_FORMS[kind])), ir.DType.BOOL)
        if kind == "date":  # a day the calendar has, written YYYY-MM-DD
            day = ir.Ref(day_name, ir.DType.DATE)
            lets.append((day.name, ir.Call("iso_day", (x,), ir.DType.DATE)))
            plain = [(ir.known(day), day)]
        elif kind == "string":  # text is text: the white space around it goes, as str.strip takes it
            some = ir.Call("matches", (x, ir.lit(f"(?s).*{_NOT_SPACE}.*")), ir.DType.BOOL)
            return ir.case((form, x), (some, ir.Call("strip", (x,), ir.DType.STR))), None
        else:
            plain = [(form, ir.Cast(x, _DTYPES[kind]))]
    return ir.case(*plain, (ir.known(x), coerced)), reason


def _default(spec: FieldSpec) -> ir.Expr:
    value = spec.default
    if spec.type == "list":
        return ir.ListOf(tuple(ir.lit(str(item)) for item in value), ir.DType.STR)
    if spec.type == "number":
        return ir.lit(float(value))
    return ir.Lit(value, _DTYPES[spec.type])


def typed_input(
    dialect: Dialect,
    relation: str,
    source_types: dict[str, str],
    fields: Sequence[FieldSpec],
    names: Sequence[str],
    file: str,
) -> TypedInput:
    """A ``SELECT`` over ``relation`` giving ``_row``, one coerced column per field (named
    ``names[i]``) and ``_reject_column``, ``_reject_field``, ``_reject_reason`` (all NULL
    for an accepted row), exactly as :func:`tierkit.io.tables.table_from_rows` reads the rows.

    A field with ``on_invalid: missing`` reads an unreadable value as missing, and gives
    its reason in a column of :func:`coerced_columns` instead of rejecting the row.

    ``relation`` has a ``BIGINT`` column ``_row`` and the source's columns;
    ``source_types`` maps each source column, in order, to ``text`` (text cells) or the
    tierkit type of a typed column.  Header problems raise :class:`InputError` here.
    """
    fields = list(fields)
    columns = match_columns(list(source_types), fields, file)
    check_required_columns(fields, [i for i, c in enumerate(columns) if c is not None], file)
    cells = TypedCells(source_types, fields, columns, names)
    outputs = [*cells.values, *cells.rejection(every=True), *cells.notes]

    def make() -> tuple[str, dict]:
        from sqlglot import exp  # a warm run never loads sqlglot (tierkit.ir.sql_text)

        from tierkit.ir.to_sql import generator

        query, udfs = layered(dialect.name, cells.base(exp.to_table(relation), exp.column("_row")), cells.lets, outputs,
                              [exp.column("_row")])
        return generator(dialect.name)(query), udfs

    udfs: dict[str, ir.PyCall] = {}
    text = lowered(("typing", dialect.name, relation, tuple(cells.sources.items())), (tuple(cells.lets), tuple(outputs)),
                   make, udfs, lambda name: name)
    return TypedInput(text, udfs)


class TypedCells:
    """The cells of one file typed as the coercers type them, as IR bindings (``lets``)
    over the source columns of :meth:`base`: each field's value (``values``, by its
    name), its problem (``problems``: column, field and reason, missing for a good
    cell) and, for ``on_invalid: missing``, why a value read as missing (``notes``).

    ``columns`` gives the header each field reads, in the order of ``fields`` (None: the
    file lacks it; the value is missing).  Customer files (:func:`typed_input`) and
    order files (:mod:`tierkit.engine.sql.orders`) are typed by it alike."""

    def __init__(self, source_types: dict[str, str], fields: Sequence[FieldSpec], columns: Sequence[str | None],
                 names: Sequence[str]):
        if not len(names) == len(columns) == len(fields):
            raise ValueError("one name and one column per field")
        self.sources = {header: f"_s{index}" for index, header in enumerate(source_types)}
        self.lets: list[tuple[str, ir.Expr]] = []
        self.values: list[tuple[str, ir.Expr]] = []
        self.notes: list[tuple[str, ir.Expr]] = []
        self.problems: list[tuple[str | None, str, ir.Expr]] = []
        lets = self.lets
        for index, (spec, column) in enumerate(zip(fields, columns)):
            value = ir.Ref(f"_v{index}", _DTYPES[spec.type])
            if column is None:
                lets.append((value.name, ir.Lit(None, value.dtype)))
                reason: ir.Expr = ir.Lit(None, ir.DType.STR)
            else:
                source = source_types[column]
                x = ir.Column(self.sources[column], ir.DType.STR if source in _TEXT_SOURCES else _DTYPES[source])
                cell, why = _cell(spec, x, source, lets, f"_d{index}")
                lets.append((value.name, cell))
                reason = ir.Lit(None, ir.DType.STR)
                if why is not None:  # the coercer's reason, asked again where it gave no value
                    lets.append((f"_r{index}", ir.case((ir.And((ir.known(x), ir.IsMissing(value))), why))))
                    reason = ir.Ref(f"_r{index}", ir.DType.STR)
            if spec.on_invalid == "missing":  # the reason becomes a note, the value missing
                self.notes.append((f"_coerced_{index}", reason))
                reason = ir.Lit(None, ir.DType.STR)
            final: ir.Expr = value
            if spec.default is not None:
                final = ir.case((ir.IsMissing(reason), ir.Coalesce((value, _default(spec)))))
                lets.append((f"_f{index}", final))
                final = ir.Ref(f"_f{index}", value.dtype)
            if spec.required:
                reason = ir.case((ir.And((ir.IsMissing(reason), ir.IsMissing(final))), ir.lit("missing required value")),
                                 default=reason)
            lets.append((f"_p{index}", reason))
            self.problems.append((column, spec.name, ir.Ref(f"_p{index}", ir.DType.STR)))
            self.values.append((names[index], final))

    def base(self, relation: exp.Expr, keep: exp.Expr) -> exp.Select:
        """``keep`` and every source column of ``relation``, named as the bindings read them."""
        from sqlglot import exp

        items = [exp.alias_(exp.column(header, quoted=True), source, quoted=True) for header, source in self.sources.items()]
        return exp.select(keep, *items).from_(relation, copy=False)

    def rejection(self, every: bool) -> list[tuple[str, ir.Expr]]:
        """A row's first problem's column and field (:data:`FIRST_PROBLEM` is bound to its
        position, missing for a good row), and its reason: with ``every``, every problem's reason
        joined as ``_TableBuilder._reject`` joins them (the first bare, the others after
        where they are); else the first one's, as an order file gives it."""
        problems = self.problems
        first = FIRST_PROBLEM
        self.lets.append((first.name, ir.FirstMatch(tuple(ir.known(reason) for _, _, reason in problems), ir.NULL)))
        text = ir.Lit(None, ir.DType.STR)
        reasons = [ir.Pick(first, tuple(reason for _, _, reason in problems), text)]
        for index, (column, name, reason) in enumerate(problems[1:] if every else (), start=1):
            also = ir.Concat((ir.lit(f"; also {_where(column, name)}: "), reason))
            reasons.append(ir.Coalesce((ir.case((ir.Compare("<", first, ir.lit(index)), also)), ir.lit(""))))
        return [
            ("_reject_column", ir.Pick(first, tuple(ir.Lit(column, ir.DType.STR) for column, _, _ in problems), text)),
            ("_reject_field", ir.Pick(first, tuple(ir.lit(name) for _, name, _ in problems), text)),
            ("_reject_reason", ir.Concat(tuple(reasons)) if len(reasons) > 1 else reasons[0]),
        ]


def layered(dialect: str, base: exp.Select, lets: list[tuple[str, ir.Expr]], outputs: list[tuple[str, ir.Expr]],
            keep: list[exp.Expr]) -> tuple[exp.Select, dict[str, ir.PyCall]]:
    """``base`` with the bindings lowered layer by layer (``SELECT *, … FROM (…)``), then
    ``keep`` and the outputs; and the Python functions the query calls (register them first)."""
    from sqlglot import exp

    from tierkit.ir.to_sql import SqlLowering, layers

    lowering = SqlLowering(lambda name: name, dialect)
    query = base
    for depth, layer in enumerate(layers(lets), start=1):  # built once, never copied
        values = [exp.alias_(lowering.lower(expr), name, quoted=True, copy=False) for name, expr in layer]
        query = exp.select(exp.Star(), *values).from_(query.subquery(f"_l{depth}", copy=False), copy=False)
    values = [exp.alias_(lowering.lower(expr), name, quoted=True, copy=False) for name, expr in outputs]
    query = exp.select(*keep, *values).from_(query.subquery("_typed", copy=False), copy=False)
    return query, dict(lowering.udfs)


def coerced_columns(fields: Sequence[FieldSpec]) -> dict[int, str]:
    """The columns of :func:`typed_input` holding why a field's value was read as
    missing, by the index of the field."""
    return {index: f"_coerced_{index}" for index, spec in enumerate(fields) if spec.on_invalid == "missing"}
