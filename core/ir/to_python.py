"""The IR lowered to Python: generated row functions and population steps.

A program runs as a sequence of steps over columns (lists, one value per customer):
a run of row bindings becomes one function, built as a Python ``ast`` tree (never
source text) and compiled once, that loops over the rows and returns its new
columns; a :class:`~.ir.Window` binding is a population step computed from whole
columns by :func:`window` (a sort and one pass, SQL's frame semantics).

Missing values are ``None``.  :class:`PyLowering` writes SQL's semantics out where
Python's differ: strict operations test each operand that may be missing once
(through an assignment expression), ``/`` gives ``None`` for a zero divisor,
``and``/``or`` are three-valued, a CASE condition that is ``None`` is not met.
Nullability is worked out per node (:meth:`PyLowering.nullable`) so that values
that cannot be missing are not tested.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Callable

from tierkit.expr.compiler import _member, _safe_power, _text
from tierkit.ir import nodes as ir

OPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "//": ast.FloorDiv, "%": ast.Mod}
CMP = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


CASTS = {ir.DType.FLOAT: "float", ir.DType.INT: "int", ir.DType.STR: "str", ir.DType.BOOL: "bool"}


class UnknownNode(Exception):
    """An IR node this lowering has no visit method for."""


@functools.cache
def functions() -> dict[str, Callable]:
    """The Python function of each :class:`ir.Call` name: the built-in functions'
    own (their SQL forms are checked against them), membership in a list value,
    ``strip`` (text without the white space around it, as ``str.strip``), ``nfkc`` and
    ``casefold`` (Python's Unicode normalisation and case folding), ``join`` (a list's
    texts joined by a literal separator, missing items skipped), ``matches`` (the whole text
    matches a pattern, written in what Python, RE2 and Java read alike), ``isnan``
    (whether a number is NaN), ``iso_day`` (a text written as :data:`ir.ISO_DAY` as its
    date, missing when it is not one or the calendar has no such day) and exact money
    (:mod:`tierkit.io.money`)."""
    from tierkit.io.money import money, money_units
    from tierkit.plugins.functions import FUNCTIONS

    table = {function.name: function.impl for function in FUNCTIONS}
    table["list_contains"] = lambda items, value: value in items
    table["strip"] = str.strip
    table["nfkc"] = functools.partial(unicodedata.normalize, "NFKC")
    table["casefold"] = str.casefold
    table["join"] = lambda items, separator: separator.join(item for item in items if item is not None)
    table["matches"] = lambda text, pattern: re.fullmatch(pattern, text) is not None
    table["isnan"] = math.isnan
    table["iso_day"] = _iso_day
    table.update(money_units=money_units, money=money)
    return table


def _iso_day(text: str) -> dt.date | None:
    if re.fullmatch(ir.ISO_DAY, text) is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # a day the calendar has not (2026-02-30)
        return None


def _first(conditions: tuple, default):
    """The position of the first condition that is true (``None`` is not met)."""
    return next((index for index, condition in enumerate(conditions) if condition), default)


def _pick(index, values: tuple, default):
    return values[index] if index is not None and 0 <= index < len(values) else default


def _gather(entries: tuple) -> tuple:
    return tuple(dict.fromkeys(text for condition, text in entries if condition and text is not None))


def helpers() -> dict[str, Callable]:
    """What the generated functions call, by the name they call it."""
    return {"_power": _safe_power, "_member": _member, "_text": _text, "_date": dt.date.fromisoformat, **AGGREGATES,
            "_first": _first, "_pick": _pick, "_gather": _gather,
            **{f"_fn_{name}": function for name, function in functions().items()}}


def _known(values: list) -> list:
    return [value for value in values if value is not None]


def _sum_known(values: list):
    known = _known(values)
    return _sum(known) if known else None


def _extreme(pick: Callable):
    return lambda values: pick(known) if (known := _known(values)) else None


AGGREGATES = {  # SQL's aggregates over a group's values: missing values skipped
    "_agg_count": lambda values: len(_known(values)),
    "_agg_distinct": lambda values: len(set(_known(values))),
    "_agg_sum": _sum_known,
    "_agg_min": _extreme(min),
    "_agg_max": _extreme(max),
}


def _name(name: str, store: bool = False) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Store() if store else ast.Load())


def _const(value) -> ast.Constant:
    return ast.Constant(value=value)


def _is_none(node: ast.expr, negate: bool = False) -> ast.Compare:
    return ast.Compare(left=node, ops=[ast.IsNot() if negate else ast.Is()], comparators=[_const(None)])


def _call(function: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(func=_name(function), args=list(args), keywords=[])


def _if(test: ast.expr, yes: ast.expr, no: ast.expr) -> ast.IfExp:
    return ast.IfExp(test=test, body=yes, orelse=no)


class PyLowering:
    """IR expressions to Python ``ast`` expressions over local variables."""

    def __init__(self, local: Callable[[str], str], nullable_refs: dict[str, bool]):
        self.local = local
        self.nullable_refs = nullable_refs
        self._temps = itertools.count()
        self.callables: dict[str, Callable] = {}  # the plain Python functions called (ir.PyCall), by name

    def lower(self, node: ir.Expr) -> ast.expr:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise UnknownNode(f"no Python lowering for {type(node).__name__}")
        return method(node)

    # -- nullability --------------------------------------------------------------------
    def nullable(self, node: ir.Expr) -> bool:
        return ir.nullable(node, self.nullable_refs.__getitem__)

    def _temp(self) -> str:
        return f"_t{next(self._temps)}"

    def _strict(self, operands: list[ir.Expr], build: Callable[[list[ast.expr]], ast.expr],
                extra: Callable[[list[ast.expr]], ast.expr] | None = None) -> ast.expr:
        """``build(values)``, or ``None`` when a nullable operand is ``None`` (or ``extra`` holds)."""
        values, checks = [], []
        for operand in operands:
            code = self.lower(operand)
            if self.nullable(operand):
                temp = self._temp()
                checks.append(_is_none(ast.NamedExpr(target=_name(temp, True), value=code)))
                values.append(_name(temp))
            else:
                values.append(code)
        if extra is not None:
            checks.append(extra(values))
        if not checks:
            return build(values)
        test = checks[0] if len(checks) == 1 else ast.BoolOp(op=ast.Or(), values=checks)
        return _if(test, _const(None), build(values))

    # -- nodes --------------------------------------------------------------------------
    def visit_Column(self, node: ir.Column) -> ast.expr:
        return _name(self.local(node.name))

    def visit_Ref(self, node: ir.Ref) -> ast.expr:
        return _name(self.local(node.name))

    def visit_Lit(self, node: ir.Lit) -> ast.expr:
        if isinstance(node.value, dt.date):  # no constant in a tree: read from its text
            return _call("_date", [_const(node.value.isoformat())])
        return _const(node.value)

    def visit_Arith(self, node: ir.Arith) -> ast.expr:
        if node.op == "**":
            return self._strict([node.left, node.right], lambda v: _call("_power", v))
        op = OPS[node.op]()
        build = lambda v: ast.BinOp(left=v[0], op=op, right=v[1])  # noqa: E731
        if node.op not in ir.PARTIAL_OPS:
            return self._strict([node.left, node.right], build)
        if isinstance(node.right, ir.Lit) and node.right.value not in (0, None):
            return self._strict([node.left], lambda v: ast.BinOp(left=v[0], op=op, right=self.lower(node.right)))
        divisor = self._temp()  # the divisor bound once, tested for zero
        right = ast.NamedExpr(target=_name(divisor, True), value=self.lower(node.right))
        zero = ast.Compare(left=right, ops=[ast.Eq()], comparators=[_const(0)])
        if self.nullable(node.right):
            zero = ast.BoolOp(op=ast.Or(), values=[_is_none(right), ast.Compare(left=_name(divisor), ops=[ast.Eq()], comparators=[_const(0)])])
        return self._strict([node.left], lambda v: ast.BinOp(left=v[0], op=op, right=_name(divisor)),
                            extra=lambda v: zero)

    def visit_Neg(self, node: ir.Neg) -> ast.expr:
        return self._strict([node.operand], lambda v: ast.UnaryOp(op=ast.USub(), operand=v[0]))

    def visit_Compare(self, node: ir.Compare) -> ast.expr:
        op = CMP[node.op]()
        return self._strict([node.left, node.right], lambda v: ast.Compare(left=v[0], ops=[op], comparators=[v[1]]))

    def _kleene(self, operands: tuple[ir.Expr, ...], decisive: bool) -> ast.expr:
        """Three-valued and (``decisive=False``) / or (``True``): the decisive value wins,
        else a missing operand makes the result missing."""
        if len(operands) == 1:
            return self.lower(operands[0])
        if not any(self.nullable(o) for o in operands):
            return ast.BoolOp(op=ast.Or() if decisive else ast.And(), values=[self.lower(o) for o in operands])
        temps = [self._temp() for _ in operands]
        seen = [_is_none(_name(t)) for t in temps]
        result = _if(ast.BoolOp(op=ast.Or(), values=seen) if len(seen) > 1 else seen[0], _const(None), _const(not decisive))
        for temp, operand in reversed(list(zip(temps, operands))):
            bound = ast.NamedExpr(target=_name(temp, True), value=self.lower(operand))
            result = _if(ast.Compare(left=bound, ops=[ast.Is()], comparators=[_const(decisive)]), _const(decisive), result)
        return result

    def visit_And(self, node: ir.And) -> ast.expr:
        return self._kleene(node.operands, False)

    def visit_Or(self, node: ir.Or) -> ast.expr:
        return self._kleene(node.operands, True)

    def visit_Not(self, node: ir.Not) -> ast.expr:
        return self._strict([node.operand], lambda v: ast.UnaryOp(op=ast.Not(), operand=v[0]))

    def visit_IsMissing(self, node: ir.IsMissing) -> ast.expr:
        if not self.nullable(node.operand):
            return _const(False)
        return _is_none(self.lower(node.operand))

    def visit_Coalesce(self, node: ir.Coalesce) -> ast.expr:
        *first, last = node.operands
        result = self.lower(last)
        for operand in reversed(first):
            temp = self._temp()
            bound = ast.NamedExpr(target=_name(temp, True), value=self.lower(operand))
            result = _if(_is_none(bound, negate=True), _name(temp), result)
        return result

    def visit_Cast(self, node: ir.Cast) -> ast.expr:
        return self._strict([node.operand], lambda v: _call(CASTS[node.dtype], v))

    def visit_ListOf(self, node: ir.ListOf) -> ast.expr:
        return ast.Tuple(elts=[self.lower(item) for item in node.items], ctx=ast.Load())

    def visit_In(self, node: ir.In) -> ast.expr:
        items = ast.Tuple(elts=[self.lower(item) for item in node.items], ctx=ast.Load())
        return self._strict([node.value], lambda v: _call("_member", [v[0], items, _const(False)]))

    def visit_Concat(self, node: ir.Concat) -> ast.expr:
        texts = lambda v: ast.JoinedStr(values=[ast.FormattedValue(value=_call("_text", [part]), conversion=-1)  # noqa: E731
                                                for part in v])
        return self._strict(list(node.parts), texts)

    def visit_Call(self, node: ir.Call) -> ast.expr:
        if node.name not in functions():
            raise UnknownNode(f"no Python lowering for the function {node.name!r}")
        return self._strict(list(node.args), lambda v: _call(f"_fn_{node.name}", v))

    def visit_PyCall(self, node: ir.PyCall) -> ast.expr:
        name = node.udf_name()
        self.callables[name] = node.function
        if node.null_safe:
            return _call(name, [self.lower(arg) for arg in node.args])
        return self._strict(list(node.args), lambda v: _call(name, v))

    def _tuple(self, nodes) -> ast.Tuple:
        return ast.Tuple(elts=[self.lower(node) for node in nodes], ctx=ast.Load())

    def visit_FirstMatch(self, node: ir.FirstMatch) -> ast.expr:
        return _call("_first", [self._tuple(node.conditions), self.lower(node.default)])

    def visit_Pick(self, node: ir.Pick) -> ast.expr:
        return _call("_pick", [self.lower(node.index), self._tuple(node.values), self.lower(node.default)])

    def visit_Gather(self, node: ir.Gather) -> ast.expr:
        pairs = ast.Tuple(elts=[self._tuple(entry) for entry in node.entries], ctx=ast.Load())
        return _call("_gather", [pairs])

    def visit_Aggregate(self, node: ir.Aggregate) -> ast.expr:
        """``_agg_<func>([arg for <row> in <the group's columns> if where is True])``:
        the row's columns are the comprehension's own names, the group is ``_g`` (column
        name -> list) of ``_n`` rows (see :func:`group_step`)."""
        parts = [part for part in (node.arg, node.where) if part is not None]
        reads = sorted({n.name for part in parts for n in part.walk() if isinstance(n, ir.Column)})
        if reads:
            target = ast.Tuple(elts=[_name(self.local(r), True) for r in reads], ctx=ast.Store())
            rows = _call("zip", [ast.Subscript(value=_name("_g"), slice=_const(r), ctx=ast.Load()) for r in reads])
        else:
            target, rows = _name("_", True), _call("range", [_name("_n")])
        keep = [] if node.where is None else [ast.Compare(left=self.lower(node.where), ops=[ast.Is()], comparators=[_const(True)])]
        element = _const(1) if node.arg is None else self.lower(node.arg)
        values = ast.ListComp(elt=element, generators=[ast.comprehension(target=target, iter=rows, ifs=keep, is_async=0)])
        helper = "_agg_distinct" if node.distinct else f"_agg_{node.func}"
        return _call(helper, [values])

    def visit_Case(self, node: ir.Case) -> ast.expr:
        result = self.lower(node.default)
        for condition, value in reversed(node.whens):
            result = _if(self.lower(condition), self.lower(value), result)  # None is not met
        return result


# -- steps ---------------------------------------------------------------------------------

_compiled: dict[tuple, tuple[Callable, tuple[bool, ...]]] = {}  # row steps by what they compute; see row_step
_COMPILED_KEPT = 1024


def row_step(lets: list[tuple[str, ir.Expr]], reads: list[str], nullable: dict[str, bool]) -> Callable:
    """One compiled function: ``f(*columns)`` giving the new columns of ``lets``;
    ``nullable`` learns which of them may be missing.

    A step is a pure function of its bindings (their ``repr``, exact to the literal's
    sign and each Python function's identity) and of which names it reads may be
    missing, so the process keeps it: building and compiling the ``ast`` was half of
    compiling a ruleset, which a process evaluating many runs (a service, the tests)
    did again for every run of the same ruleset.
    """
    key = (repr(lets), tuple(reads), tuple(nullable.get(name) for name in reads))
    if key not in _compiled:
        if len(_compiled) >= _COMPILED_KEPT:
            _compiled.clear()
        learnt = dict(nullable)
        _compiled[key] = (_compiled_row_step(lets, reads, learnt), tuple(learnt[name] for name, _ in lets))
    step, made = _compiled[key]
    nullable.update(zip((name for name, _ in lets), made))
    return step


def _compiled_row_step(lets: list[tuple[str, ir.Expr]], reads: list[str], nullable: dict[str, bool]) -> Callable:
    """The function loops once over ``zip(*columns)``, binds each binding to a local and
    appends it to its output list."""
    local = {name: f"v{i}" for i, name in enumerate(reads + [n for n, _ in lets])}
    lowering = PyLowering(local.__getitem__, nullable)
    body: list[ast.stmt] = []
    for name, expr in lets:
        body.append(ast.Assign(targets=[_name(local[name], True)], value=lowering.lower(expr)))
        nullable[name] = lowering.nullable(expr)
    outs = [f"o{i}" for i in range(len(lets))]
    body += [ast.Expr(ast.Call(func=_name(f"{out}_append"), args=[_name(local[name])], keywords=[]))
             for out, (name, _) in zip(outs, lets)]
    loop = ast.For(target=ast.Tuple(elts=[_name(local[r], True) for r in reads], ctx=ast.Store()) if reads else _name("_", True),
                   iter=ast.Call(func=_name("zip"), args=[_name(f"c{i}") for i in range(len(reads))], keywords=[])
                   if reads else ast.Call(func=_name("range"), args=[_name("n")], keywords=[]),
                   body=body, orelse=[])
    setup: list[ast.stmt] = []
    for out in outs:
        setup += [ast.Assign(targets=[_name(out, True)], value=ast.List(elts=[], ctx=ast.Load())),
                  ast.Assign(targets=[_name(f"{out}_append", True)], value=ast.Attribute(value=_name(out), attr="append", ctx=ast.Load()))]
    result = ast.Return(value=ast.Tuple(elts=[_name(o) for o in outs], ctx=ast.Load()))
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=f"c{i}") for i in range(len(reads))] + [ast.arg(arg="n")],
                         kwonlyargs=[], kw_defaults=[], defaults=[])
    function = ast.FunctionDef(name="step", args=args, body=[*setup, loop, result], decorator_list=[], type_params=[])
    module = ast.fix_missing_locations(ast.Module(body=[function], type_ignores=[]))
    namespace: dict = {**helpers(), **lowering.callables}
    exec(compile(module, "<ir row step>", "exec"), namespace)  # a tree we built, not text
    return namespace["step"]


def group_step(lets: list[tuple[str, ir.Expr]], nullable: dict[str, bool]) -> Callable:
    """One compiled function: ``f(_g, _n)`` giving the values of ``lets`` for one group
    of ``_n`` rows, ``_g`` its columns (name -> list of the group's values).  A binding
    reads aggregates of the rows (:class:`ir.Aggregate`), literals and earlier bindings:
    what SQL computes as one GROUP BY."""
    local = {name: f"v{i}" for i, name in enumerate(name for name, _ in lets)}
    columns = sorted({n.name for _, e in lets for n in e.walk() if isinstance(n, ir.Column)})
    local.update({name: f"c{i}" for i, name in enumerate(columns)})
    lowering = PyLowering(local.__getitem__, nullable)
    body: list[ast.stmt] = []
    for name, expr in lets:
        body.append(ast.Assign(targets=[_name(local[name], True)], value=lowering.lower(expr)))
        nullable[name] = lowering.nullable(expr)
    body.append(ast.Return(value=ast.Tuple(elts=[_name(local[name]) for name, _ in lets], ctx=ast.Load())))
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg="_g"), ast.arg(arg="_n")], kwonlyargs=[], kw_defaults=[], defaults=[])
    function = ast.FunctionDef(name="group", args=args, body=body, decorator_list=[], type_params=[])
    module = ast.fix_missing_locations(ast.Module(body=[function], type_ignores=[]))
    namespace: dict = helpers()
    exec(compile(module, "<ir group step>", "exec"), namespace)  # a tree we built, not text
    return namespace["group"]


def grouped(columns: dict[str, list], keys: list[str]) -> dict[tuple, dict[str, list]]:
    """Rows split by the values of ``keys`` (SQL's GROUP BY: missing keys form a group),
    each group as its columns, in the order of the rows."""
    index: dict[tuple, list[int]] = {}
    for row, key in enumerate(zip(*(columns[k] for k in keys))):
        index.setdefault(key, []).append(row)
    return {key: {name: [values[i] for i in rows] for name, values in columns.items()} for key, rows in index.items()}


def program(lets: list[tuple[str, ir.Expr]], nullable: dict[str, bool]) -> list[tuple]:
    """Bindings in order as steps: each run of row bindings one ``("row", compiled step,
    names it reads, names it writes)``, each window ``("window", node, name)``;
    ``nullable`` says which names read may be missing, and learns the bindings'."""
    plan: list[tuple] = []
    run: list[tuple[str, ir.Expr]] = []

    def flush():
        if run:
            reads = sorted({n.name for _, e in run for n in e.walk() if isinstance(n, (ir.Ref, ir.Column))}
                           - {name for name, _ in run})
            plan.append(("row", row_step(list(run), reads, nullable), reads, [name for name, _ in run]))
            run.clear()

    for name, expr in lets:
        if isinstance(expr, ir.Window):
            flush()
            plan.append(("window", expr, name))
            nullable[name] = ir.nullable(expr)
        else:
            run.append((name, expr))
    flush()
    return plan


def window(node: ir.Window, columns: dict[str, list], n: int) -> list:
    """A window function over whole columns, with SQL's semantics (see :class:`ir.Window`)."""
    def column(expr):
        return columns[expr.name]
    arg = column(node.arg) if node.arg is not None else None
    groups: dict = {}
    keys = [column(p) for p in node.partition]
    for index in range(n):
        groups.setdefault(tuple(k[index] for k in keys), []).append(index)
    out: list = [None] * n
    for members in groups.values():
        if not node.order:
            known = [arg[i] for i in members if arg[i] is not None]
            value = len(known) if node.func == "count" else (_RUNNING[node.func](known) if known else None)
            for i in members:
                out[i] = value
            continue
        order = _sorted(members, [(column(s.key), s.descending) for s in node.order])
        sort_keys = [column(s.key) for s in node.order]
        running_count, running, start, value = 0, None, 0, None
        step = _STEPS.get(node.func)
        while start < len(order):
            end = start + 1
            first = tuple(k[order[start]] for k in sort_keys)
            while end < len(order) and tuple(k[order[end]] for k in sort_keys) == first:
                end += 1
            if node.func != "rank":
                for i in order[start:end]:
                    if arg[i] is not None:
                        running_count += 1
                        running = arg[i] if running is None or step is None else step(running, arg[i])
            value = start + 1 if node.func == "rank" else running_count if node.func == "count" else running
            for i in order[start:end]:
                out[i] = value
            start = end
        if node.whole:  # the whole frame: the last running value, added in the order
            for i in members:
                out[i] = value
    return out


# a running value's next step, and the value of a whole frame without an order
_STEPS = {"sum": lambda total, value: total + value, "min": min, "max": max}
_RUNNING = {"sum": lambda values: _sum(values), "min": min, "max": max}


def _sum(values: list):
    total = values[0]
    for value in values[1:]:
        total += value
    return total


def _sorted(members: list[int], keys: list[tuple[list, bool]]) -> list[int]:
    """Row indices ordered by ``keys`` (column, descending), missing values last; stable."""
    order = list(members)
    for values, descending in reversed(keys):
        known = sorted((i for i in order if values[i] is not None), key=values.__getitem__, reverse=descending)
        order = known + [i for i in order if values[i] is None]
    return order
