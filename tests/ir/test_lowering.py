"""The IR's two lowerings (tierkit.ir.to_sql, tierkit.ir.to_python) agree.

Random expressions over numbers and flags with missing values, lowered to DuckDB SQL
and to a compiled Python row step, give the same value on every row of a table that
holds every combination of missing, zero, negative and positive operands; a node
class without a lowering fails loudly on both.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine_harness import require_engine
from tierkit.ir import nodes as ir
from tierkit.ir import to_python, to_sql


def same(left, right) -> bool:
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def test_a_node_without_a_lowering_fails_loudly():
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class Mystery(ir.Expr):
        dtype: ir.DType = ir.DType.INT

    with pytest.raises(to_sql.UnknownNode, match="Mystery"):
        to_sql.SqlLowering(str).lower(Mystery())
    with pytest.raises(to_python.UnknownNode, match="Mystery"):
        to_python.PyLowering(str, {}).lower(Mystery())


def _expressions():
    numbers = st.sampled_from([ir.Column("a", ir.DType.INT), ir.Column("b", ir.DType.FLOAT), ir.lit(0), ir.lit(2),
                               ir.lit(-1.5), ir.lit(0.0), ir.Lit(None, ir.DType.FLOAT)])
    flags = st.sampled_from([ir.Column("c", ir.DType.BOOL), ir.lit(True), ir.lit(False), ir.Lit(None, ir.DType.BOOL)])

    def grow(children):
        number, flag = children
        return st.one_of(
            st.builds(ir.Arith, st.sampled_from(["+", "-", "*", "/"]), number, number),
            st.builds(ir.Neg, number),
            st.builds(lambda c, x, y: ir.Case(((c, x),), y), flag, number, number),
            st.builds(lambda x, y: ir.Coalesce((x, y)), number, number),
        ), st.one_of(
            st.builds(ir.Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), number, number),
            st.builds(lambda x, y: ir.And((x, y)), flag, flag),
            st.builds(lambda x, y, z: ir.Or((x, y, z)), flag, flag, flag),
            st.builds(ir.Not, flag),
            st.builds(ir.IsMissing, number),
            st.builds(lambda x, y: ir.Coalesce((x, y)), flag, flag),
        )

    level = (numbers, flags)
    for _ in range(3):
        grown = grow(level)
        level = (st.one_of(level[0], grown[0]), st.one_of(level[1], grown[1]))
    return st.one_of(*level)


ROWS = list(itertools.product([None, -1, 0, 2], [None, 0.0, 1.5, -2.5], [None, True, False]))


@pytest.fixture(scope="module")
def table():
    require_engine("duckdb")
    import duckdb

    connection = duckdb.connect()
    connection.execute("CREATE TABLE t (i BIGINT, a BIGINT, b DOUBLE, c BOOLEAN)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(i, *row) for i, row in enumerate(ROWS)])
    return connection


@pytest.mark.duckdb
def test_random_expressions_agree_on_python_and_duckdb(table):
    from sqlglot import exp

    @settings(max_examples=150, deadline=None)
    @given(_expressions())
    def check(expr):
        sql = exp.select(to_sql.SqlLowering(str).lower(expr)).from_("t").order_by("i")
        duck = [row[0] for row in table.execute(to_sql.to_sql(sql, "duckdb")).fetchall()]
        step = to_python.row_step([("out", expr)], ["a", "b", "c"], {"a": True, "b": True, "c": True})
        columns = list(zip(*ROWS))
        (python,) = step(*columns, len(ROWS))
        wrong = [(row, d, p) for row, d, p in zip(ROWS, duck, python) if not same(d, p)]
        assert not wrong, (expr, wrong[:3])

    check()


WINDOWS = [
    ir.Window("rank", order=(ir.Sort(ir.Column("b", ir.DType.FLOAT), descending=True),)),
    ir.Window("count", ir.Column("a", ir.DType.INT), order=(ir.Sort(ir.Column("b", ir.DType.FLOAT)),)),
    ir.Window("sum", ir.Column("b", ir.DType.FLOAT), order=(ir.Sort(ir.Column("a", ir.DType.INT), descending=True),),
              partition=(ir.Column("c", ir.DType.BOOL),)),
    ir.Window("sum", ir.Column("b", ir.DType.FLOAT), order=(ir.Sort(ir.Column("a", ir.DType.INT), descending=True),),
              whole=True),
    ir.Window("count", ir.Column("b", ir.DType.FLOAT), order=(ir.Sort(ir.Column("a", ir.DType.INT)),),
              partition=(ir.Column("c", ir.DType.BOOL),), whole=True),
    ir.Window("sum", ir.Column("a", ir.DType.INT), partition=(ir.Column("c", ir.DType.BOOL),)),
]


@pytest.mark.duckdb
@pytest.mark.parametrize("node", WINDOWS, ids=lambda node: f"{node.func}{'-whole' if node.whole else ''}")
def test_windows_agree_on_python_and_duckdb(table, node):
    """Rank, running and whole-frame counts and sums, with missing keys and values and
    ties, over partitions or the whole table: SQL's frame and peer semantics in Python."""
    from sqlglot import exp

    sql = exp.select(to_sql.SqlLowering(str).lower(node)).from_("t").order_by("i")
    duck = [row[0] for row in table.execute(to_sql.to_sql(sql, "duckdb")).fetchall()]
    columns = dict(zip("abc", (list(column) for column in zip(*ROWS))))
    python = to_python.window(node, columns, len(ROWS))
    assert [same(d, p) for d, p in zip(duck, python)] == [True] * len(ROWS), list(zip(duck, python))


def test_a_whole_frame_needs_an_order_and_a_count_or_sum():
    with pytest.raises(ir.IRError, match="whole ordered frame"):
        ir.Window("sum", ir.Column("b", ir.DType.FLOAT), whole=True)
    with pytest.raises(ir.IRError, match="whole ordered frame"):
        ir.Window("rank", order=(ir.Sort(ir.Column("b", ir.DType.FLOAT)),), whole=True)
