"""A whole program (the prototype's typed input, then every scheme) on each lowering.

:func:`program_query` stacks the input bindings and every scheme's bindings into one
SELECT per layer (:func:`tierkit.ir.to_sql.layers`) and, for JSON Lines, folds the
flat reason columns into each scheme's ``reasons`` list; :func:`run` runs the same
program as compiled row steps and population steps (:mod:`tierkit.ir.to_python`).
"""

from __future__ import annotations

from sqlglot import exp
from tierkit.ir import nodes as ir
from tierkit.ir.to_python import program as lowered
from tierkit.ir.to_python import window
from tierkit.ir.to_sql import DIALECTS, Dialect, SqlLowering, layers

from .program import Program


def program_query(program: Program, source: exp.Expr, dialect: str = "duckdb", json_reasons: bool = False) -> exp.Select:
    """The SELECT giving every output column of ``program`` from the typed relation ``source``."""
    # Input bindings: field names; the first layer lists them all, dropping the raw columns.
    fields = SqlLowering(str, dialect)
    stack = layers([(let.name, let.expr) for let in program.inputs])
    query = exp.select(exp.column(program.key, quoted=True).as_("__key", quoted=True),
                       *(fields.lower(e).as_(n, quoted=True) for n, e in stack[0])).from_(source, copy=False)
    for layer in stack[1:]:
        query = exp.select("*", *(fields.lower(e).as_(n, quoted=True) for n, e in layer)).from_(query.subquery(copy=False), copy=False)
    # Scheme bindings, all schemes side by side: "<scheme>__<name>".
    lets, outputs = program.scheme_columns()
    scheme = SqlLowering(str, dialect)
    for layer in layers(lets):
        query = exp.select("*", *(scheme.lower(e).as_(n, quoted=True) for n, e in layer)).from_(query.subquery(copy=False), copy=False)
    selected = [exp.column("__key", quoted=True).as_(program.key, quoted=True)]
    selected += [scheme.lower(e).as_(n, quoted=True) for n, e in outputs]
    final = exp.select(*selected).from_(query.subquery(copy=False), copy=False)
    if not json_reasons:
        return final
    return exp.select(*_reasons_json(program, DIALECTS[dialect])).from_(final.subquery(copy=False), copy=False)


def _reasons_json(program: Program, dialect: Dialect) -> list[exp.Expr]:
    """The JSON Lines columns: id, label, score, attributes and ``<scheme>.reasons``."""
    lowering = SqlLowering(str, dialect.name)
    columns = [exp.column(program.key, quoted=True)]
    for logic in program.schemes:
        for name, _ in [("label", None), ("score", None), *logic.attributes]:
            columns.append(exp.column(f"{logic.scheme}.{name}", quoted=True))
        items, stored = [], logic.param_columns()
        for index, reason in enumerate(logic.reasons):
            pairs = [("code", exp.Literal.string(reason.code))]
            for param, value in reason.params:
                if isinstance(value, ir.Lit):
                    pairs.append((param, lowering.lower(value)))
                else:
                    pairs.append((param, exp.column(f"{logic.scheme}.{stored[index, param][0]}", quoted=True)))
            given = exp.column(f"{logic.scheme}.r{index}", quoted=True)
            items.append(exp.Case(ifs=[exp.If(this=given, true=dialect.reason_object(pairs))]))
        keep = exp.Lambda(this=exp.Not(this=exp.Is(this=exp.to_identifier("x"), expression=exp.Null())),
                          expressions=[exp.to_identifier("x")])
        reasons = exp.ArrayFilter(this=exp.Array(expressions=items), expression=keep)
        columns.append(reasons.as_(f"{logic.scheme}.reasons", quoted=True))
    return columns


def steps(program: Program) -> list[tuple[str, object]]:
    """The program as ``("row", compiled step, names it reads, names it writes)`` and
    ``("window", node, name)`` steps, names as in :func:`program_query`."""
    nullable = {f"raw:{name}": True for name, _ in program.raw}
    inputs = [(let.name, _raw(let.expr)) for let in program.inputs]
    lets, outputs = program.scheme_columns()
    return lowered(inputs, nullable) + lowered(lets + outputs, nullable)


def _raw(expr: ir.Expr) -> ir.Expr:
    """Input bindings read raw columns as ``raw:<name>`` (the typed table reuses the names)."""
    if isinstance(expr, ir.Column):
        return ir.Ref(f"raw:{expr.name}", expr.dtype)
    if isinstance(expr, ir.Coalesce):
        return ir.Coalesce(tuple(_raw(o) for o in expr.operands))
    return expr


def run(program: Program, columns: dict[str, list], n: int) -> dict[str, list]:
    """Every column the program computes, from the typed input ``raw:<name>`` columns."""
    for step in steps(program):
        if step[0] == "window":
            _kind, node, name = step
            columns[name] = window(node, columns, n)
        else:
            _kind, function, reads, writes = step
            for name, values in zip(writes, function(*(columns[r] for r in reads), n)):
                columns[name] = values
    return columns
