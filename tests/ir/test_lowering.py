"""The IR's two lowerings (tierkit.ir.to_sql, tierkit.ir.to_python) agree.

Random expressions over numbers, flags, texts and lists with missing values (every
node: arithmetic with Python's ``//``, ``%`` and ``**``, ``~``, ``in``, casts and the
function calls), lowered to DuckDB SQL and to a compiled Python row step, give the
same value on every row of a table that holds every combination of missing, zero,
negative and positive operands; a node class without a lowering fails loudly on both.
"""

from __future__ import annotations

import datetime
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine_harness import require_engine
from tierkit.ir import nodes as ir
from tierkit.ir import to_python, to_sql

from tests.conftest import examples


def same(left, right) -> bool:
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return list(left) == list(right)
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


def _call(name: str, dtype=None):
    """A :class:`ir.Call` of ``name``, typed as its arguments unify unless ``dtype``."""
    return lambda *args: ir.Call(name, args, dtype or ir.unify(*(a.dtype for a in args)))


def _expressions():
    numbers = st.sampled_from([ir.Column("a", ir.DType.INT), ir.Column("b", ir.DType.FLOAT), ir.lit(0), ir.lit(2),
                               ir.lit(-1.5), ir.lit(0.0), ir.Lit(None, ir.DType.FLOAT), ir.Column("n", ir.DType.INT, False)])
    flags = st.sampled_from([ir.Column("c", ir.DType.BOOL), ir.lit(True), ir.lit(False), ir.Lit(None, ir.DType.BOOL)])
    texts = st.sampled_from([ir.Column("t", ir.DType.STR), ir.lit("a"), ir.lit(""), ir.Lit(None, ir.DType.STR)])
    lists = st.sampled_from([ir.Column("l", ir.DType.LIST), ir.ListOf((ir.lit("a"), ir.lit("b")), ir.DType.STR),
                             ir.ListOf((), ir.DType.STR)])
    dates = st.sampled_from([ir.Column("d", ir.DType.DATE), ir.Lit(datetime.date(2024, 2, 29), ir.DType.DATE)])

    def grow(children):
        number, flag, text = children
        return st.one_of(
            st.builds(ir.Arith, st.sampled_from(sorted(ir.ARITH_OPS)), number, number),
            st.builds(ir.Neg, number),
            st.builds(lambda x: ir.Cast(x, ir.DType.FLOAT), number),
            st.builds(lambda c, x, y: ir.Case(((c, x),), y), flag, number, number),
            st.builds(lambda x, y: ir.Coalesce((x, y)), number, number),
            st.builds(_call("abs"), number),
            st.builds(_call("round", ir.DType.FLOAT), number),
            st.builds(_call("round", ir.DType.FLOAT), number, st.sampled_from([ir.lit(1), ir.lit(-1), ir.Column("a", ir.DType.INT)])),
            st.builds(_call("log10", ir.DType.FLOAT), number),
            st.builds(_call("sqrt", ir.DType.FLOAT), number),
            st.builds(_call("min"), number, number),
            st.builds(_call("max"), number, number, number),
            st.builds(_call("clamp"), number, number, number),
            st.builds(_call("length", ir.DType.INT), st.one_of(text, lists)),
            st.builds(_call("days_between", ir.DType.INT), dates, dates),
        ), st.one_of(
            st.builds(ir.Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), number, number),
            st.builds(lambda x, y: ir.And((x, y)), flag, flag),
            st.builds(lambda x, y, z: ir.Or((x, y, z)), flag, flag, flag),
            st.builds(ir.Not, flag),
            st.builds(ir.IsMissing, number),
            st.builds(lambda x, y: ir.Coalesce((x, y)), flag, flag),
            st.builds(lambda x, items: ir.In(x, tuple(items)), number, st.lists(number, max_size=3)),
            st.builds(lambda x, items: ir.In(x, tuple(items)), text, st.lists(text, max_size=3)),
            st.builds(_call("contains", ir.DType.BOOL), text, text),
            st.builds(_call("list_contains", ir.DType.BOOL), lists, text),
            st.builds(_call("isnan", ir.DType.BOOL), number),
            st.builds(lambda t, p: ir.Call("matches", (t, ir.lit(p)), ir.DType.BOOL), text,
                      st.sampled_from(["a", "(?s).*b.*", r"[0-9.\-]*", "", r"(?s)(?:.*\n)?[ \t]*a\.?"])),
        ), st.one_of(
            st.builds(lambda parts: ir.Concat(tuple(parts)), st.lists(st.one_of(number, flag, text, dates), min_size=1, max_size=3)),
            st.builds(_call("lower"), text),
            st.builds(_call("upper"), text),
            st.builds(_call("strip"), text),
            st.builds(_call("nfkc"), text),
            st.builds(_call("casefold"), text),
            st.builds(_call("join", ir.DType.STR), lists, st.sampled_from([ir.lit(", "), ir.lit("\uffff"), ir.lit("")])),
            st.builds(lambda c, x, y: ir.Case(((c, x),), y), flag, text, text),
        )

    level = (numbers, flags, texts)
    for _ in range(3):
        grown = grow(level)
        level = tuple(st.one_of(old, new) for old, new in zip(level, grown))
    return st.one_of(*level)


COLUMNS = {"a": "BIGINT", "b": "DOUBLE", "c": "BOOLEAN", "t": "VARCHAR", "l": "VARCHAR[]", "d": "DATE", "n": "BIGINT"}
ROWS = [(*row, text, items, day, 3)
        for row, (text, items, day) in itertools.product(
            itertools.product([None, -1, 0, 2], [None, 0.0, 1.5, -2.5, 1e20], [None, True, False]),
            [("a", ("a", "b"), datetime.date(2024, 3, 1)), (None, None, None), ("Straße b", (), datetime.date(1999, 12, 31)),
             ("\u3000 b a\n\t\x1c", ("",), datetime.date(2024, 2, 29))])]


@pytest.fixture(scope="module")
def table():
    require_engine("duckdb")
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE t (i BIGINT, {', '.join(f'{name} {type_}' for name, type_ in COLUMNS.items())})")
    connection.executemany(f"INSERT INTO t VALUES (?{', ?' * len(COLUMNS)})", [(i, *row) for i, row in enumerate(ROWS)])
    return connection


@pytest.mark.duckdb
def test_random_expressions_agree_on_python_and_duckdb(table):
    from sqlglot import exp

    @settings(max_examples=examples(300), deadline=None)
    @given(_expressions())
    def check(expr):
        sql = exp.select(to_sql.SqlLowering(str).lower(expr)).from_("t").order_by("i")
        duck = [row[0] for row in table.execute(to_sql.to_sql(sql, "duckdb")).fetchall()]
        step = to_python.row_step([("out", expr)], list(COLUMNS), dict.fromkeys(COLUMNS, True))
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
    ir.Window("min", ir.Column("b", ir.DType.FLOAT)),
    ir.Window("max", ir.Column("a", ir.DType.INT), partition=(ir.Column("c", ir.DType.BOOL),)),
    ir.Window("min", ir.Column("b", ir.DType.FLOAT), order=(ir.Sort(ir.Column("a", ir.DType.INT), descending=True),)),
    ir.Window("max", ir.Column("a", ir.DType.INT), order=(ir.Sort(ir.Column("b", ir.DType.FLOAT)),), whole=True),
]


@pytest.mark.duckdb
@pytest.mark.parametrize("node", WINDOWS, ids=lambda node: f"{node.func}{'-whole' if node.whole else ''}")
def test_windows_agree_on_python_and_duckdb(table, node):
    """Rank, running and whole-frame counts, sums, minima and maxima, with missing keys and values and
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


def _band(b, t):
    """A plain Python function of one row's values (the escape hatch): text of both."""
    return f"{t}:{b:g}" if b < 1e10 else None


def _count_known(a, b):
    return sum(value is not None for value in (a, b))


PYCALLS = [
    ir.PyCall(_band, (ir.Column("b", ir.DType.FLOAT), ir.Column("t", ir.DType.STR)), ir.DType.STR),
    ir.PyCall(_count_known, (ir.Column("a", ir.DType.INT), ir.Column("b", ir.DType.FLOAT)), ir.DType.INT, null_safe=True),
]

_A, _B, _C, _T = (ir.Column("a", ir.DType.INT), ir.Column("b", ir.DType.FLOAT), ir.Column("c", ir.DType.BOOL),
                  ir.Column("t", ir.DType.STR))
_MATCH = ir.FirstMatch((ir.Compare(">", _A, ir.lit(0)), _C, ir.Compare("<", _B, ir.lit(0))), ir.lit(-1))
_TEXTS = lambda *items: ir.ListOf(tuple(ir.lit(i) for i in items), ir.DType.STR)  # noqa: E731
DECISIONS = [
    _MATCH,
    ir.FirstMatch((ir.Compare(">", _A, ir.lit(0)), _C), ir.Lit(None, ir.DType.INT)),
    ir.FirstMatch((), ir.lit(-1)),
    ir.Pick(_A, (ir.lit("zero"), ir.lit("one"), ir.Lit(None, ir.DType.STR)), ir.lit("other")),
    ir.Pick(_MATCH, (ir.lit(1), ir.lit(2.5), ir.lit(3)), ir.Lit(None, ir.DType.FLOAT)),
    ir.Pick(_MATCH, (_TEXTS("watch"), _TEXTS(), _TEXTS("a", "b")), _TEXTS("self-serve")),
    ir.Gather(((_C, ir.lit("a")), (ir.Compare(">", _A, ir.lit(0)), ir.lit("b")), (ir.lit(True), ir.lit("a")),
               (ir.IsMissing(_B), _T), (ir.Lit(None, ir.DType.BOOL), ir.lit("never")))),
    ir.Gather(()),
    ir.Case((), ir.lit("none given")),
    ir.And((_C,)),
]


def _agree(table, sql, node) -> list:
    """``sql`` (the node's lowering, selected over the table) on DuckDB and the node's
    Python lowering give the same value on every row; the Python values."""
    duck = [row[0] for row in table.execute(to_sql.to_sql(sql, "duckdb")).fetchall()]
    step = to_python.row_step([("out", node)], list(COLUMNS), dict.fromkeys(COLUMNS, True))
    (python,) = step(*zip(*ROWS), len(ROWS))
    assert [same(d, p) for d, p in zip(duck, python)] == [True] * len(ROWS), list(zip(duck, python))
    return python


@pytest.mark.duckdb
@pytest.mark.parametrize("node", PYCALLS, ids=["python-function", "python-function-null-safe"])
def test_python_functions_agree_on_python_and_duckdb(table, node):
    """A plain Python function is called with missing values skipped (a missing result)
    unless it is null-safe, on both lowerings, the UDF registered on the connection as
    the engine registers it."""
    from sqlglot import exp

    from tierkit.engine.sql.connection import DuckDBEngine

    lowering = to_sql.SqlLowering(str)
    sql = exp.select(lowering.lower(node)).from_("t").order_by("i")
    engine = DuckDBEngine.__new__(DuckDBEngine)
    engine.connection, engine._udfs = table, set()
    engine.register_udfs(lowering.udfs)
    assert len(lowering.udfs) == 1
    python = _agree(table, sql, node)
    if not node.null_safe:
        assert None in python and any(value is not None for value in python)


@pytest.mark.duckdb
@pytest.mark.parametrize("node", DECISIONS, ids=lambda node: type(node).__name__)
def test_decision_table_nodes_agree_on_python_and_duckdb(table, node):
    """First match (a missing condition is not met), an outcome picked by position
    (missing or out of range: the default), tags gathered in order without repeats, and
    the degenerate tables a kind may state (no rule left, one condition)."""
    from sqlglot import exp

    _agree(table, exp.select(to_sql.SqlLowering(str).lower(node)).from_("t").order_by("i"), node)


def _aggregates():
    """Random aggregates (count, distinct count, sum, min, max), filtered or not by a
    random condition, and expressions over them."""
    row_number = st.sampled_from([ir.Column("a", ir.DType.INT), ir.Column("b", ir.DType.FLOAT),
                                  ir.Arith("*", ir.Column("a", ir.DType.INT), ir.lit(2)),
                                  ir.Coalesce((ir.Column("b", ir.DType.FLOAT), ir.lit(0.5)))])
    row_value = st.one_of(row_number, st.sampled_from([ir.Column("d", ir.DType.DATE), ir.Column("t", ir.DType.STR)]))
    condition = st.one_of(st.none(), st.sampled_from([
        ir.Column("c", ir.DType.BOOL), ir.Not(ir.Column("c", ir.DType.BOOL)),
        ir.Compare(">", ir.Column("b", ir.DType.FLOAT), ir.lit(0.0)),
        ir.Compare("<=", ir.Column("d", ir.DType.DATE), ir.Lit(datetime.date(2000, 1, 1), ir.DType.DATE)),
        ir.IsMissing(ir.Column("a", ir.DType.INT))]))
    single = st.one_of(
        st.builds(lambda where: ir.Aggregate("count", where=where), condition),
        st.builds(lambda arg, where, distinct: ir.Aggregate("count", arg, where, distinct), row_value, condition, st.booleans()),
        st.builds(lambda arg, where: ir.Aggregate("sum", arg, where), row_number, condition),
        st.builds(lambda func, arg, where: ir.Aggregate(func, arg, where), st.sampled_from(["min", "max"]), row_value, condition),
    )
    numeric = single.filter(lambda node: node.dtype in ir.NUMERIC)
    return st.one_of(single, st.builds(lambda x, y: ir.Arith("/", x, y), numeric, numeric),
                     st.builds(lambda x: ir.Coalesce((x, ir.lit(0))), numeric.filter(lambda n: n.dtype is ir.DType.INT)))


GROUP_COLUMNS = {"g": "BIGINT", "a": "BIGINT", "b": "DOUBLE", "c": "BOOLEAN", "d": "DATE", "t": "VARCHAR"}


GROUP_ROWS = st.lists(st.tuples(
    st.sampled_from([None, 1, 2, 3]), st.sampled_from([None, -1, 0, 4]), st.sampled_from([None, 0.0, 1.5, -2.25]),
    st.sampled_from([None, True, False]), st.sampled_from([None, datetime.date(1999, 5, 1), datetime.date(2024, 2, 29)]),
    st.sampled_from([None, "x", "y"])), min_size=1, max_size=12)


@pytest.mark.duckdb
def test_aggregates_agree_on_python_and_duckdb():
    """One GROUP BY on DuckDB and one pass per group in Python give the same values for
    random groups (a missing key is a group of its own) with missing values: counts of
    known values, sums missing when nothing is known, conditions that drop a row when
    they do not hold or are missing."""
    require_engine("duckdb")
    import duckdb
    from sqlglot import exp

    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE t ({', '.join(f'{name} {type_}' for name, type_ in GROUP_COLUMNS.items())})")

    @settings(max_examples=examples(200), deadline=None)
    @given(GROUP_ROWS, st.lists(_aggregates(), min_size=1, max_size=3))
    def check(rows, outputs):
        connection.execute("DELETE FROM t")
        connection.executemany(f"INSERT INTO t VALUES (?{', ?' * (len(GROUP_COLUMNS) - 1)})", rows)
        lowering = to_sql.SqlLowering(str)
        sql = exp.select("g", *(lowering.lower(node) for node in outputs)).from_("t").group_by("g")
        duck = {row[0]: row[1:] for row in connection.execute(to_sql.to_sql(sql, "duckdb")).fetchall()}
        step = to_python.group_step([(f"o{i}", node) for i, node in enumerate(outputs)], {})
        columns = {name: list(values) for name, values in zip(GROUP_COLUMNS, zip(*rows))}
        python = {key[0]: step(group, len(group["g"])) for key, group in to_python.grouped(columns, ["g"]).items()}
        assert duck.keys() == python.keys()
        wrong = [(key, duck[key], python[key]) for key in duck if not all(map(same, duck[key], python[key]))]
        assert not wrong, (outputs, wrong)

    check()


def test_a_filtered_aggregate_is_spelt_from_the_dialect_table():
    """DuckDB filters with FILTER (WHERE …); Spark reads a CASE inside the aggregate."""
    node = ir.Aggregate("sum", ir.Column("b", ir.DType.FLOAT), ir.Column("c", ir.DType.BOOL))
    spelt = {dialect: to_sql.to_sql(to_sql.SqlLowering(str, dialect).lower(node), dialect) for dialect in to_sql.DIALECTS}
    assert spelt == {"duckdb": 'SUM("b") FILTER(WHERE "c")', "spark": "SUM(CASE WHEN `c` THEN `b` END)"}


def test_an_aggregate_reads_one_row():
    with pytest.raises(ir.IRError, match="one row"):
        ir.Aggregate("sum", ir.Arith("+", ir.Aggregate("count"), ir.lit(1)))
    with pytest.raises(ir.IRError, match="needs an argument"):
        ir.Aggregate("max")


@pytest.mark.duckdb
def test_unicode_normalisation_and_case_folding_agree_with_python_on_every_character():
    """``nfkc`` and ``casefold`` (DuckDB spells both out as guarded character maps from
    Python's tables) give Python's value for every character the tables change, between
    letters and before combining marks (which compose with what NFKC gives)."""
    require_engine("duckdb")
    import duckdb
    from sqlglot import exp

    compat, folding = to_sql.unicode_maps()
    texts = [f" A{char}b\u0301{char}\u0327 " for char in sorted({*compat, *folding})]
    texts += [None, "", "e\u0301", "ＡＢＣ（北京）…℃ ß İ ΣΑΣ ǰ", "\u3000Straße\u00a0", "ﬁnance ⼯业"]
    connection = duckdb.connect()
    connection.execute("CREATE TABLE u (i BIGINT, x VARCHAR)")
    connection.executemany("INSERT INTO u VALUES (?, ?)", list(enumerate(texts)))
    x = ir.Column("x", ir.DType.STR)
    for name in ("nfkc", "casefold"):
        node = ir.Call(name, (x,), ir.DType.STR)
        sql = exp.select(to_sql.SqlLowering(str).lower(node)).from_("u").order_by("i")
        found = [row[0] for row in connection.execute(to_sql.to_sql(sql, "duckdb")).fetchall()]
        python = to_python.functions()[name]
        wrong = [(text, got) for text, got in zip(texts, found) if got != (None if text is None else python(text))]
        assert len(texts) > 5000 and wrong == [], (name, wrong[:5])


ISO_DAY_TEXTS = ["2024-02-29", "2023-02-29", "0001-01-01", "0000-01-01", "9999-12-31", "2026-1-5", " 2026-01-05",
                 "2026-01-05 ", "2026-13-01", "2026-00-10", "20260105", "２０２６-01-05", "2026-01-05T00:00", "x", ""]


@pytest.mark.duckdb
def test_a_written_day_reads_alike_on_python_and_duckdb(table):
    """``iso_day``: only ``YYYY-MM-DD`` of a day the calendar has is a date."""
    node = ir.Call("iso_day", (ir.Column("x", ir.DType.STR),), ir.DType.DATE)
    sql = to_sql.to_sql(to_sql.SqlLowering(str, "duckdb").lower(node), "duckdb")
    read = to_python.functions()["iso_day"]
    got = [table.execute(f"SELECT {sql} FROM (SELECT ? AS x)", [text]).fetchone()[0] for text in ISO_DAY_TEXTS]
    assert got == [read(text) for text in ISO_DAY_TEXTS]
    assert [day for day in got if day] == [datetime.date(2024, 2, 29), datetime.date(1, 1, 1), datetime.date(9999, 12, 31)]
