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

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from . import nodes as ir

TYPES = {ir.DType.BOOL: "BOOLEAN", ir.DType.INT: "BIGINT", ir.DType.FLOAT: "DOUBLE", ir.DType.STR: "VARCHAR",
         ir.DType.DATE: "DATE"}
TYPE_NODES = {dtype: exp.DataType.build(name) for dtype, name in TYPES.items()}
COMPARE = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}
WINDOW = {"rank": lambda arg: exp.Anonymous(this="rank", expressions=[]), "count": lambda arg: exp.Count(this=arg),
          "sum": lambda arg: exp.Sum(this=arg)}

WHOLE = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="UNBOUNDED", end_side="FOLLOWING")


class UnknownNode(Exception):
    """An IR node this lowering has no visit method for."""


def _json_object(pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
    """DuckDB: ``json_object('k', v, …)`` (a JSON value, nested as such by COPY … JSON)."""
    return exp.Anonymous(this="json_object", expressions=[x for k, v in pairs for x in (exp.Literal.string(k), v)])


def _named_struct(pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
    """Spark: ``to_json(named_struct('k', v, …))``: a JSON text per reason."""
    struct = exp.Anonymous(this="named_struct", expressions=[x for k, v in pairs for x in (exp.Literal.string(k), v)])
    return exp.Anonymous(this="to_json", expressions=[struct])


@dataclass(frozen=True)
class Dialect:
    name: str  # sqlglot's dialect name
    reason_object: Callable[[list[tuple[str, exp.Expr]]], exp.Expr]


DIALECTS = {"duckdb": Dialect("duckdb", _json_object), "spark": Dialect("spark", _named_struct)}


def _paren(node: exp.Expr) -> exp.Expr:
    """Parenthesise every operator operand: the tree's grouping, whatever the precedence."""
    return exp.Paren(this=node) if isinstance(node, (exp.Binary, exp.Not, exp.Neg, exp.Is, exp.Connector)) else node


def _cast(node: exp.Expr, dtype: ir.DType) -> exp.Expr:
    """``CAST(node AS type)``, the type node built once (parsing a type name is slow)."""
    return exp.Cast(this=node, to=TYPE_NODES[dtype].copy())


def _double(value: float) -> exp.Expr:
    return _cast(exp.Literal.number(repr(value)), ir.DType.FLOAT)


class SqlLowering:
    """One IR expression tree to one sqlglot tree; ``columns`` maps binding names to
    the column each is stored in."""

    def __init__(self, columns: Callable[[str], str]):
        self.columns = columns

    def lower(self, node: ir.Expr) -> exp.Expr:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise UnknownNode(f"no SQL lowering for {type(node).__name__}")
        return method(node)

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
        if node.dtype is ir.DType.INT:
            return exp.Literal.number(int(node.value))
        return exp.Literal.string(str(node.value))

    def visit_Arith(self, node: ir.Arith) -> exp.Expr:
        left, right = _paren(self.lower(node.left)), _paren(self.lower(node.right))
        if node.op == "/":  # a zero divisor gives a missing value on every engine
            return exp.Div(this=left, expression=exp.Nullif(this=right, expression=exp.Literal.number(0)))
        return ARITH[node.op](this=left, expression=right)

    def visit_Neg(self, node: ir.Neg) -> exp.Expr:
        return exp.Neg(this=_paren(self.lower(node.operand)))

    def visit_Compare(self, node: ir.Compare) -> exp.Expr:
        return COMPARE[node.op](this=_paren(self.lower(node.left)), expression=_paren(self.lower(node.right)))

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
        return exp.Is(this=_paren(self.lower(node.operand)), expression=exp.Null())

    def visit_Coalesce(self, node: ir.Coalesce) -> exp.Expr:
        first, *rest = (self.lower(o) for o in node.operands)
        return exp.Coalesce(this=first, expressions=rest)

    def visit_Case(self, node: ir.Case) -> exp.Expr:
        ifs = [exp.If(this=self.lower(c), true=self._typed(v, node.dtype)) for c, v in node.whens]
        return exp.Case(ifs=ifs, default=self._typed(node.default, node.dtype))

    def _typed(self, node: ir.Expr, dtype: ir.DType) -> exp.Expr:
        """A CASE branch as the CASE's type: a bare NULL typed, an integer widened."""
        if node.dtype is dtype or dtype is ir.DType.NULL:
            return self.lower(node)
        if isinstance(node, ir.Lit) and node.value is None:
            return _cast(exp.Null(), dtype)
        return _cast(self.lower(node), dtype)

    def visit_Window(self, node: ir.Window) -> exp.Expr:
        this = WINDOW[node.func](None if node.arg is None else self.lower(node.arg))
        order = None
        if node.order:
            order = exp.Order(expressions=[exp.Ordered(this=self.lower(s.key), desc=s.descending, nulls_first=False)
                                           for s in node.order])
        spec = WHOLE.copy() if node.whole else None
        return exp.Window(this=this, partition_by=[self.lower(p) for p in node.partition] or None, order=order, spec=spec)


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


def to_sql(tree: exp.Expr, dialect: str) -> str:
    return tree.sql(dialect=DIALECTS[dialect].name)


def generator(dialect: str) -> Callable[[exp.Expr], str]:
    """:func:`to_sql` for many trees of one dialect: one sqlglot generator, made once, and
    trees not copied (the callers' trees are theirs to spend) — several times faster
    than ``tree.sql(dialect=…)`` per tree."""
    from sqlglot.dialects.dialect import Dialect as SqlglotDialect

    made = SqlglotDialect.get_or_raise(DIALECTS[dialect].name).generator()
    return lambda tree: made.generate(tree, copy=False)
