"""The engine-neutral form of a kind's logic: frozen, typed expression nodes.

Every node carries its ``dtype`` and has SQL's missing-value semantics, which every
lowering reproduces: arithmetic and comparisons with a missing operand are missing,
division by zero is missing, ``And``/``Or``/``Not`` use three-valued logic, a missing
CASE condition is not met.  Nothing here is Python source or SQL text: the lowerings
(:mod:`.to_sql`, :mod:`.to_python`) turn the nodes into sqlglot trees or Python
callables.

A kind's logic (:class:`Logic`) is an ordered list of named bindings (:class:`Let`),
each readable by later ones through :class:`Ref`; population nodes (:class:`Window`)
stand alone in a binding, so a row engine computes them as one population step
between row steps.  Its outputs are a label, a score, named attributes and the
reasons, each a :class:`Reason`: a code, typed parameters, and the condition under
which it is given.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import cache


class DType(enum.Enum):
    """A node's type: every value of a column or an expression has one."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STR = "str"
    DATE = "date"
    LIST = "list"  # of texts (a list field, an outcome's tags) or of literals
    NULL = "null"  # the type of a bare missing literal, unified away by Case and Coalesce


NUMERIC = {DType.INT, DType.FLOAT}


class IRError(Exception):
    """A node built with operands it cannot take (caught when a kind is stated)."""


def unify(*types: DType) -> DType:
    """The type of a value that may be any of ``types``: int widens to float."""
    known = {t for t in types if t is not DType.NULL}
    if not known:
        return DType.NULL
    if known <= NUMERIC:
        return DType.FLOAT if DType.FLOAT in known else DType.INT
    if len(known) > 1:
        raise IRError(f"cannot mix {sorted(t.value for t in known)}")
    return known.pop()


@cache
def _field_names(node_type: type) -> tuple[str, ...]:
    """A node type's field names, in order: read for every node a walk visits."""
    return tuple(item.name for item in fields(node_type))


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of every node; ``children`` are the sub-expressions, in field order."""

    def children(self) -> Iterator[Expr]:
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, Expr):
                yield value
            elif isinstance(value, tuple):
                for part in value:
                    if isinstance(part, Expr):
                        yield part
                    elif isinstance(part, tuple):
                        yield from (p for p in part if isinstance(p, Expr))

    def walk(self) -> Iterator[Expr]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class Column(Expr):
    """A column of the typed input; ``nullable=False`` when it never holds a missing value."""

    name: str
    dtype: DType
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Ref(Expr):
    """An earlier binding of the same logic, by name."""

    name: str
    dtype: DType


@dataclass(frozen=True, slots=True)
class Lit(Expr):
    """A constant; ``Lit(None, DType.FLOAT)`` is a missing value of a type."""

    value: bool | int | float | str | dt.date | None
    dtype: DType


@dataclass(frozen=True, slots=True)
class Arith(Expr):
    """``+ - * / // % **`` with Python's values: ``/`` and ``**`` always give a float;
    ``//`` is floor division and ``%`` takes the divisor's sign; a zero divisor gives a
    missing value, and so does a power without a real finite answer."""

    op: str
    left: Expr
    right: Expr
    dtype: DType = field(init=False)

    def __post_init__(self):
        if self.op not in ARITH_OPS:
            raise IRError(f"unknown arithmetic operator {self.op!r}")
        for side in (self.left, self.right):
            if side.dtype not in NUMERIC | {DType.NULL}:
                raise IRError(f"{self.op!r} needs numbers, not {side.dtype.value}")
        dtype = DType.FLOAT if self.op in ("/", "**") else unify(self.left.dtype, self.right.dtype)
        object.__setattr__(self, "dtype", DType.FLOAT if dtype is DType.NULL else dtype)


ARITH_OPS = {"+", "-", "*", "/", "//", "%", "**"}
PARTIAL_OPS = {"/", "//", "%", "**"}  # missing for some known operands


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    """``operand`` as a value of ``dtype``: an integer widened to a float."""

    operand: Expr
    dtype: DType


@dataclass(frozen=True, slots=True)
class ListOf(Expr):
    """A list value from item expressions, every item of type ``element``."""

    items: tuple[Expr, ...]
    element: DType
    dtype: DType = field(default=DType.LIST, init=False)


@dataclass(frozen=True, slots=True)
class In(Expr):
    """``value in (items…)``, SQL's ``IN``: true when an item equals the value, else
    missing when an item is missing (it might have matched), else false."""

    value: Expr
    items: tuple[Expr, ...]
    dtype: DType = field(default=DType.BOOL, init=False)


@dataclass(frozen=True, slots=True)
class Concat(Expr):
    """``~``: the parts written as text and joined; whole floats without ``.0``,
    booleans ``True``/``False``, dates as ISO text."""

    parts: tuple[Expr, ...]
    dtype: DType = field(default=DType.STR, init=False)


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A function by name (``round``, ``days_between``, ``list_contains`` …), missing
    when an argument is missing or the function finds no answer.  Each lowering spells
    it from its table of functions (one row per name), never by a branch here."""

    name: str
    args: tuple[Expr, ...]
    dtype: DType


def function_key(function: Callable) -> str | None:
    """What names ``function`` alike in every process (so that a query's text can be
    kept between runs, :mod:`.sql_text`): its ``udf_key`` attribute (set by a maker of
    closures, from what the closure holds), or for a function defined at a module's
    top level its file, line and name; None for any other callable."""
    key = getattr(function, "udf_key", None)
    if key is not None:
        return str(key)
    code = getattr(function, "__code__", None)
    if code is None or getattr(function, "__closure__", None) is not None or "<" in function.__qualname__:
        return None
    return f"{code.co_filename}:{code.co_firstlineno}:{function.__module__}.{function.__qualname__}"


@dataclass(frozen=True, slots=True)
class PyCall(Expr):
    """A plain Python function of one customer's values: the escape hatch for logic
    no other node states.

    ``function(*values)`` is called once per customer on every engine: directly on the
    Python engine, as a scalar UDF registered on the DuckDB connection or a pandas
    UDF registered on the Spark session (:meth:`udf_name`, :meth:`call_rows`).  A
    missing argument gives a missing result without calling it, unless ``null_safe``;
    the function returns ``None`` where it has no answer.  Like any node it is missing
    in, missing out, so the other nodes around it keep SQL's semantics."""

    function: Callable
    args: tuple[Expr, ...]
    dtype: DType
    null_safe: bool = False

    def udf_name(self) -> str:
        """The name the SQL engines register it under: the function's name, and a
        digest of the function (:func:`function_key`, else the object), its argument
        types and result type (one function called with other types is another UDF)."""
        name = "".join(c if c.isalnum() else "_" for c in getattr(self.function, "__name__", "function").lower())
        function = function_key(self.function) or id(self.function)
        key = repr((function, [a.dtype.value for a in self.args], self.dtype.value, self.null_safe))
        return f"tierkit_py_{name}_{hashlib.sha1(key.encode()).hexdigest()[:10]}"

    def call(self, *values):
        """One row's call, as every engine runs it: a missing argument gives a missing
        value unless the function is null-safe; an exception is raised, failing that
        row's query."""
        return None if not self.null_safe and None in values else self.function(*values)

    def call_rows(self, columns: list[list]) -> list:
        """One :meth:`call` per row of ``columns`` (one list of values per argument)."""
        return [self.call(*values) for values in zip(*columns)]


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    operand: Expr
    dtype: DType = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "dtype", self.operand.dtype)


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: str  # one of == != < <= > >=
    left: Expr
    right: Expr
    dtype: DType = field(default=DType.BOOL, init=False)

    def __post_init__(self):
        if self.op not in {"==", "!=", "<", "<=", ">", ">="}:
            raise IRError(f"unknown comparison {self.op!r}")
        unify(self.left.dtype, self.right.dtype)


@dataclass(frozen=True, slots=True)
class And(Expr):
    operands: tuple[Expr, ...]
    dtype: DType = field(default=DType.BOOL, init=False)


@dataclass(frozen=True, slots=True)
class Or(Expr):
    operands: tuple[Expr, ...]
    dtype: DType = field(default=DType.BOOL, init=False)


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr
    dtype: DType = field(default=DType.BOOL, init=False)


@dataclass(frozen=True, slots=True)
class IsMissing(Expr):
    """Whether the operand is missing; never missing itself."""

    operand: Expr
    dtype: DType = field(default=DType.BOOL, init=False)


@dataclass(frozen=True, slots=True)
class Coalesce(Expr):
    operands: tuple[Expr, ...]
    dtype: DType = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "dtype", unify(*(o.dtype for o in self.operands)))


@dataclass(frozen=True, slots=True)
class Case(Expr):
    """Searched CASE: the first ``(condition, value)`` whose condition holds, else ``default``."""

    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr
    dtype: DType = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "dtype", unify(*(v.dtype for _, v in self.whens), self.default.dtype))


@dataclass(frozen=True, slots=True)
class FirstMatch(Expr):
    """A decision table's first match: the 0-based position of the first condition
    that holds (a missing condition is not met), else ``default``.  Flat however many
    conditions there are, where a CASE of thousands nests in Python's syntax tree."""

    conditions: tuple[Expr, ...]
    default: Expr
    dtype: DType = field(default=DType.INT, init=False)


@dataclass(frozen=True, slots=True)
class Pick(Expr):
    """``values[index]`` (0-based), or ``default`` when the index is missing or out of
    range: a decision table's outcome read by the rule that fired."""

    index: Expr
    values: tuple[Expr, ...]
    default: Expr
    dtype: DType = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "dtype", unify(*(v.dtype for v in self.values), self.default.dtype))


@dataclass(frozen=True, slots=True)
class Gather(Expr):
    """The texts whose condition holds, in order, each kept at its first occurrence:
    the tags of every rule that matched.  Never missing (an empty list)."""

    entries: tuple[tuple[Expr, Expr], ...]  # (condition, text)
    dtype: DType = field(default=DType.LIST, init=False)


@dataclass(frozen=True, slots=True)
class Sort:
    """One ORDER BY key: missing values always last."""

    key: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Window(Expr):
    """A population value, SQL window semantics.

    ``func`` is ``rank`` (1-based, ties share the lowest), ``count`` (known values),
    ``sum``, ``min`` or ``max`` (of known values; missing when none).  With ``order`` the frame runs from
    the partition's start to the current row's last peer (ties included); without it,
    the whole partition.  ``whole`` (with an ``order``, for ``count`` and ``sum``)
    makes the frame the whole partition still added in the order (SQL's ``ROWS
    BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING``): a total of doubles added
    in one order on every engine that adds an ordered frame row by row, so it is the
    last running sum to the bit.  ``arg`` and the ``partition`` keys must be
    :class:`Ref` or :class:`Column` nodes, so a row engine reads them as ready columns.
    """

    func: str
    arg: Expr | None = None
    order: tuple[Sort, ...] = ()
    partition: tuple[Expr, ...] = ()
    whole: bool = False
    dtype: DType = field(init=False)

    def __post_init__(self):
        if self.func not in {"rank", "count", "sum", "min", "max"}:
            raise IRError(f"unknown window function {self.func!r}")
        if (self.func == "rank") != (self.arg is None) or (self.func == "rank" and not self.order):
            raise IRError("rank takes no argument and needs an order; count, sum, min and max take one")
        if self.whole and (self.func == "rank" or not self.order):
            raise IRError("a whole ordered frame is for count, sum, min and max over an order")
        for part in (self.arg, *self.partition, *(s.key for s in self.order)):
            if part is not None and not isinstance(part, (Ref, Column)):
                raise IRError("window arguments, partitions and orders must be columns or bindings")
        dtype = DType.INT if self.func in ("rank", "count") else self.arg.dtype
        object.__setattr__(self, "dtype", dtype)

    def children(self) -> Iterator[Expr]:
        yield from (p for p in (self.arg, *self.partition, *(s.key for s in self.order)) if p is not None)


AGGREGATES = {"count", "sum", "min", "max"}


@dataclass(frozen=True, slots=True)
class Aggregate(Expr):
    """A value of a group of rows, SQL aggregate semantics.

    ``count`` counts the rows whose ``arg`` is known (every row without ``arg``),
    ``distinct`` the different known values; ``sum``, ``min`` and ``max`` are of the
    known values, missing when there are none.  ``where`` keeps the rows where it holds
    (a missing condition drops the row), SQL's ``FILTER (WHERE …)``.  Everything
    around aggregates (a feature computed from several) is an ordinary expression, so
    a group's outputs are one GROUP BY on SQL and one pass per group in Python.
    """

    func: str
    arg: Expr | None = None
    where: Expr | None = None
    distinct: bool = False
    dtype: DType = field(init=False)

    def __post_init__(self):
        if self.func not in AGGREGATES:
            raise IRError(f"unknown aggregate {self.func!r}")
        if self.arg is None and self.func != "count":
            raise IRError(f"{self.func} needs an argument")
        if self.distinct and (self.func != "count" or self.arg is None):
            raise IRError("distinct is for a count of values")
        if self.func in ("sum",) and self.arg.dtype not in NUMERIC:
            raise IRError(f"sum needs numbers, not {self.arg.dtype.value}")
        for part in (self.arg, self.where):
            if part is not None and any(isinstance(n, (Aggregate, Window)) for n in part.walk()):
                raise IRError("an aggregate's argument and condition are of one row")
        object.__setattr__(self, "dtype", DType.INT if self.func == "count" else self.arg.dtype)


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    expr: Expr

    @property
    def population(self) -> bool:
        return isinstance(self.expr, Window)


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason given when ``when`` holds (a missing condition does not give it).

    ``params`` are typed expressions; :class:`Lit` parameters are the same on every
    row, so flat outputs carry only the others (see :meth:`Logic.reason_columns`).
    """

    code: str
    params: tuple[tuple[str, Expr], ...]
    when: Expr


@dataclass(frozen=True, slots=True)
class Logic:
    """One scheme's logic: bindings in order, outputs, reasons and display names."""

    scheme: str
    lets: tuple[Let, ...]
    label: Expr
    score: Expr
    attributes: tuple[tuple[str, Expr], ...]
    reasons: tuple[Reason, ...]
    names: dict = field(default_factory=dict, compare=False)  # id -> {lang: text}, for words
    tags: Expr | None = None  # a list of texts; no tags when None

    def __post_init__(self):
        known: set[str] = set()
        for let in self.lets:
            if let.name in known:
                raise IRError(f"{self.scheme}: binding {let.name!r} is defined twice")
            for node in let.expr.walk():
                if isinstance(node, Window) and node is not let.expr:
                    raise IRError(f"{self.scheme}: window in {let.name!r} must be a binding of its own")
            self._check_refs(let.expr, known, let.name)
            known.add(let.name)
        for let in self.reason_lets():
            self._check_refs(let.expr, known, let.name)
        known |= {let.name for let in self.reason_lets()}
        for name, expr in self.outputs():
            self._check_refs(expr, known, name)

    def _check_refs(self, expr: Expr, known: set[str], where: str) -> None:
        for node in expr.walk():
            if isinstance(node, Ref) and node.name not in known:
                raise IRError(f"{self.scheme}: {where!r} reads {node.name!r} before it is bound")
            if isinstance(node, Window) and node is not expr:
                raise IRError(f"{self.scheme}: {where!r} holds a window; bind it first")

    def outputs(self) -> list[tuple[str, Expr]]:
        """Every output column: label, score, tags (when the logic has them), attributes,
        then the reasons' flat columns."""
        tags = [("tags", self.tags)] if self.tags is not None else []
        return [("label", self.label), ("score", self.score), *tags, *self.attributes, *self.reason_columns()]


    def reason_lets(self) -> list[Let]:
        """Whether each reason is given, as bindings ``r<i>`` (never missing), so that its
        parameters' columns test one column rather than repeat the condition."""
        return [Let(f"r{index}", Coalesce((reason.when, Lit(False, DType.BOOL)))) for index, reason in enumerate(self.reasons)]

    def reason_columns(self) -> list[tuple[str, Expr]]:
        """Reasons as flat columns: ``r<i>`` (given or not), then each row-varying
        parameter value once (see :meth:`param_columns`), read where ``r<i>`` holds."""
        flags = [(f"r{index}", Ref(f"r{index}", DType.BOOL)) for index in range(len(self.reasons))]
        values = {column: expr for column, expr in self.param_columns().values()}
        return flags + list(values.items())

    def param_columns(self) -> dict[tuple[int, str], tuple[str, Expr]]:
        """Where each row-varying parameter is stored, by (reason index, parameter name):
        one column per distinct expression, ``p.<binding>`` for a binding (an indicator's
        points serve three reasons) or ``r<i>.<param>`` after the first reason computing it."""
        found, columns = {}, {}
        for index, reason in enumerate(self.reasons):
            for name, value in reason.params:
                if isinstance(value, Lit):
                    continue
                if value not in columns:
                    columns[value] = f"p.{value.name}" if isinstance(value, Ref) else f"r{index}.{name}"
                found[(index, name)] = (columns[value], value)
        return found


# -- builders kinds write with -----------------------------------------------------------

def lit(value) -> Lit:
    """A literal of a Python bool, int, float or str, typed by its value."""
    if isinstance(value, bool):
        return Lit(value, DType.BOOL)
    if isinstance(value, int):
        return Lit(value, DType.INT)
    if isinstance(value, float):
        return Lit(value, DType.FLOAT)
    if isinstance(value, str):
        return Lit(value, DType.STR)
    raise IRError(f"no literal for {value!r}")


NULL = Lit(None, DType.NULL)

# A day written as ``YYYY-MM-DD`` (years 0001 to 9999), what the ``iso_day`` function reads
# (in what Python, RE2 and Java read alike, as ``matches`` patterns are)
ISO_DAY = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-[0-9]{2}-[0-9]{2}"


def case(*whens: tuple[Expr, Expr], default: Expr = NULL) -> Case:
    """A searched CASE from ``(condition, value)`` pairs; missing when none holds and no ``default``."""
    return Case(tuple(whens), default)


def known(expr: Expr) -> Not:
    """Whether ``expr`` has a value (never missing)."""
    return Not(IsMissing(expr))


def holds(expr: Expr) -> Coalesce:
    """A condition read as "holds": missing counts as false, so it is never missing."""
    return Coalesce((expr, lit(False)))


def total(*terms: Expr) -> Expr:
    """``terms`` added left to right, as the Python engine adds them."""
    result = terms[0]
    for term in terms[1:]:
        result = Arith("+", result, term)
    return result


def call(name: str):
    """A function's form as IR (``Function.sql``): a :class:`Call` of ``name``."""
    return lambda args, dtype: Call(name, tuple(args), dtype)


def nullable(node: Expr, refs: Callable[[str], bool] = lambda name: True) -> bool:
    """Whether ``node`` may be missing; ``refs`` says it of each binding."""
    if isinstance(node, Lit):
        return node.value is None
    if isinstance(node, Column):
        return node.nullable
    if isinstance(node, Ref):
        return refs(node.name)
    if isinstance(node, (IsMissing, ListOf, Gather)):
        return False
    if isinstance(node, FirstMatch):
        return nullable(node.default, refs)
    if isinstance(node, Pick):
        return any(nullable(v, refs) for v in (*node.values, node.default))
    if isinstance(node, Coalesce):
        return all(nullable(o, refs) for o in node.operands)
    if isinstance(node, Case):
        return any(nullable(v, refs) for _, v in node.whens) or nullable(node.default, refs)
    if isinstance(node, (Call, PyCall)) or (isinstance(node, Arith) and node.op in PARTIAL_OPS):
        return True
    if isinstance(node, Window):
        return node.func not in ("rank", "count")
    if isinstance(node, Aggregate):
        return node.func != "count"
    return any(nullable(child, refs) for child in node.children())


def rename_refs(node, rename):
    """``node`` with every :class:`Ref` renamed by ``rename`` (a new tree; nodes are frozen)."""
    if isinstance(node, Ref):
        return Ref(rename(node.name), node.dtype)
    if isinstance(node, Sort):
        return Sort(rename_refs(node.key, rename), node.descending)
    if isinstance(node, tuple):
        return tuple(rename_refs(item, rename) for item in node)
    if not isinstance(node, Expr):
        return node
    values = {f.name: rename_refs(getattr(node, f.name), rename) for f in fields(node) if f.init}
    return type(node)(**values)
