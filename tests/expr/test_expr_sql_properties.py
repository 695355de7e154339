"""Random well-typed expressions (the generator of ``test_expr_properties``) give the
same values compiled to SQL as compiled to Python.

DuckDB checks many small batches under hypothesis (shrinking to a small failing
case); Spark checks one fixed, derandomized batch of expressions over a fixed set of
records in a few queries, since each Spark query costs seconds.

The records hold small numbers (the pools of ``test_expr_properties``: integers
within ±10, numbers within ±10^6), so no intermediate integer leaves BIGINT: Python's
integers do not overflow, SQL's BIGINTs do (an error in both engines), and that
difference is not what these tests are about.
"""

from __future__ import annotations

import datetime
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression
from tierkit.ir import nodes as ir
from tierkit.ir.from_expr import TYPES, compile_sql_expression

from tests.conftest import examples
from tests.engine_harness import shared_engine
from tests.expr.test_expr_properties import EXPRESSIONS, FIELDS, FUNCTIONS_BY_NAME, SCOPE, records, run

COLUMNS = {
    "row_id": "integer",
    **{field: type_ for field, (type_, _) in FIELDS.items()},
    "grade_label": "string",
    "grade_score": "number",
    "as_of": "date",
}


def column(name: str, type_: str, nullable: bool) -> ir.Column:
    return ir.Column(name, TYPES[type_], nullable)


def sql_scope() -> dict[str, Symbol]:
    """The properties' scope over IR columns; ``as_of`` is a column, so each record
    brings its own as-of date."""
    scope = {field: Symbol(field, type_, nullable, column(field, type_, nullable)) for field, (type_, nullable) in FIELDS.items()}
    scope["as_of"] = Symbol("as_of", "date", False, column("as_of", "date", False))
    grade = SCOPE["grade"]
    attributes = {
        name: Symbol(name, attribute.type, attribute.nullable, column(f"grade_{name}", attribute.type, attribute.nullable))
        for name, attribute in grade.attributes.items()
    }
    scope["grade"] = Symbol("grade", "outcome", False, ir.NULL, attributes)
    return scope


def compile_both(source: str, dialect):
    """The Python and the SQL compilation, or ``None`` for an expression holding a date
    literal that does not exist (a ruleset error by design)."""
    try:
        namespace = Namespace()
        python = compile_expression(source, SCOPE, FUNCTIONS_BY_NAME, namespace)
    except ExpressionDiagnostic as error:
        if "is not a date" in str(error):
            return None
        raise
    sql = compile_sql_expression(source, sql_scope(), FUNCTIONS_BY_NAME, dialect.name)
    assert (sql.type, sql.nullable, sql.reads) == (python.type, python.nullable, python.reads), source
    return python, namespace, sql


def row_of(index: int, record) -> tuple:
    return (
        index,
        *(record[field] for field in FIELDS),
        record["grade"]["label"],
        record["grade"]["score"],
        record["as_of"],
    )


def same(left, right) -> bool:
    """Equal values; numbers to 1e-9 relative (Spark's power is Java's, which may differ
    from C's in the last bit), an integer equal to the double SQL computes it as."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return left == right or math.isclose(left, right, rel_tol=1e-9)
    if isinstance(left, datetime.date) and isinstance(right, datetime.date):
        return left == right
    return type(left) is type(right) and left == right


def disagreements(engine, sources: list[str], records_: list, queries: int = 1) -> list[str]:
    """Evaluate ``sources`` over ``records_`` in Python and, in ``queries`` SELECTs, on
    ``engine``; describe every value that differs."""
    dialect = engine.dialect
    compiled = [(source, both) for source in sources if (both := compile_both(source, dialect)) is not None]
    engine.register_rows("property_rows", COLUMNS, [row_of(index, record) for index, record in enumerate(records_)])
    results: list[list] = [[] for _ in records_]
    size = max(1, math.ceil(len(compiled) / queries))
    for start in range(0, len(compiled), size):
        chunk = compiled[start:start + size]
        select = ", ".join(f"{sql.code} AS {dialect.quote(f'e{index}')}" for index, (_, (_, _, sql)) in enumerate(chunk))
        for values, row in zip(results, engine.rows(f"SELECT {select} FROM property_rows ORDER BY row_id")):
            values.extend(row)
    problems = []
    for index, (source, (python, namespace, sql)) in enumerate(compiled):
        for record, values in zip(records_, results):
            expected, got = run(python, namespace, record), values[index]
            if not same(expected, got):
                problems.append(f"{source}\n  record {record}\n  python {expected!r}, {dialect.name} {got!r}\n  sql {sql.code}")
    return problems


@pytest.fixture(scope="module")
def duckdb_engine():
    return shared_engine("duckdb")


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sources=st.lists(EXPRESSIONS, min_size=1, max_size=12), records_=st.lists(records(), min_size=1, max_size=6))
def test_duckdb_agrees_with_python(duckdb_engine, sources, records_):
    problems = disagreements(duckdb_engine, sources, records_)
    assert not problems, "\n".join(problems[:5])


def derandomized(strategy, count: int) -> list:
    """``count`` values drawn from ``strategy``, the same on every run."""
    drawn = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value):
        drawn.append(value)

    draw()
    return drawn


@pytest.mark.spark
def test_spark_agrees_with_python():
    sources = derandomized(EXPRESSIONS, 300)
    records_ = derandomized(records(), 24)
    problems = disagreements(shared_engine("spark"), sources, records_, queries=2)
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:5])
