"""The SQL back end of the expression compiler gives the Python back end's values.

A table of hand-picked expressions (the corners of the semantics: missing values,
zero divisors, negative operands of ``//`` and ``%``, rounding ties, powers without a
real answer, the text ``~`` writes, unicode, dates, lists) is evaluated over a few
rows by the Python code and, in one SELECT per engine, by DuckDB and Spark.
"""

from __future__ import annotations

import datetime
import math

import pytest

from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression
from tierkit.ir import nodes as ir
from tierkit.ir.from_expr import TYPES, compile_sql_expression
from tierkit.plugins.functions import FUNCTIONS
from tierkit.registry import Function

from tests.engine_harness import engine_params, shared_engine

FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}
AS_OF = datetime.date(2024, 3, 1)

# name -> (type, nullable)
FIELDS = {
    "revenue": ("number", True),
    "margin": ("number", False),
    "staff": ("integer", True),
    "years": ("integer", False),
    "active": ("boolean", True),
    "region": ("string", True),
    "name": ("string", False),
    "founded": ("date", True),
    "signed": ("date", False),
    "tags": ("list", True),
    "note": ("string", True),
}


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


ROWS = [
    # revenue, margin, staff, years, active, region, name, founded, signed, tags, note
    (1200.5, 0.25, 12, 3, True, "North", "Acme", d("2020-02-29"), d("2024-01-31"), ("a", "b"), "2024-02-29"),
    (None, 0.0, None, 0, None, None, "", None, d("2024-03-01"), None, None),
    (-7.5, -2.0, -7, -2, False, "südwest", "Ünïcødé 日本 👍🏽", d("1999-12-31"), d("2025-06-30"), (), " 2024-2-3 "),
    (0.0, 2.675, 0, 7, True, "a b", "O'Brien \\ co", d("2024-03-01"), d("2023-12-31"), ("b",), "2024-02-30"),
    (1.005, 1e-5, 2**40, -7, False, "North", "x", d("2024-02-01"), d("2000-01-01"), ("North", "x"), "not a date"),
    (2.5, -0.5, 3, 1, None, "", "straight", d("2030-12-31"), d("2024-02-29"), ("",), "20240-01-01"),
    (-2.5, 4.5e15, -3, 10, True, "b", "ab", None, d("2024-03-02"), ("a",), "\t2024-12-31\n"),
    (1e-7, 123456.789, 1, -1, True, "North", "A", d("1970-01-01"), d("2024-03-01"), ("ab", "a"), "2024-13-01"),
    (3.3e21, 2.0**70, 10, 5, False, "İstanbul", "Straße", d("2024-02-29"), d("2024-02-28"), ("a", "b", "a"), "0000-01-01"),
]

EXPRESSIONS = [
    # arithmetic, integers stay integers
    "staff + years", "staff - years * 2", "revenue * staff", "-staff", "-revenue", "+years",
    "years // 2", "years % 3", "years // -3", "years % -3", "staff // years", "staff % years",
    "revenue // margin", "revenue % margin", "revenue // 2", "revenue % -2", "margin // 0.1", "margin % 0.1",
    "years / 4", "staff / years", "revenue / margin", "revenue / 0", "years // 0", "years % 0", "1 / 3",
    "(staff // 2) * 2 + staff % 2 == staff",
    # powers
    "2 ** years", "revenue ** 2", "margin ** 0.5", "(-2) ** 0.5", "(0 - margin) ** 3", "margin ** -1",
    "10.0 ** 400", "years ** years", "(-8) ** (1 / 3)", "2 ** 0.5 ** 2",
    # comparisons, chains, logic
    "revenue > margin", "staff == years", "staff != years", "name < region", "region >= 'North'",
    "founded < signed", "signed == as_of", "0 < years < 5", "margin < revenue <= 1e4 < staff * 1000",
    "years == 3 != staff", "active and years > 0", "active or years > 0", "not active",
    "active and not (revenue > 0)", "(revenue > 0) or (staff > 0)", "active == true",
    # membership
    "region in ['North', 'b']", "region not in ['North', 'b']", "region in ['North', none]",
    "region not in ['x', none]", "staff in [1, 2.5, -7]", "staff in []", "staff not in []",
    "years in (0, 10)", "revenue in [staff, margin]", "revenue in [staff, none, 0]",
    "'a' in tags", "region in tags", "'a' not in tags", "'or' in name", "region in name",
    "'' in name", "name not in region", "signed in [date('2024-03-01'), date('2023-12-31')]",
    # conditions and missing values
    "revenue if active else margin", "staff if active", "name if active else region",
    "(revenue if active else staff) * 2", "revenue is none", "revenue is not none", "tags is defined",
    "revenue | default(margin)", "staff | default(revenue)", "coalesce(revenue, staff, margin)",
    "coalesce(staff, years)", "region | default('?')", "tags | default(['none'])", "founded | default(signed)",
    "(staff if active) is none", "default(none, years)",
    # text
    "name ~ '!'", "revenue ~ ''", "margin ~ '|' ~ staff", "active ~ ''", "signed ~ ''", "years ~ region",
    "(revenue / 3) ~ ''", "(margin * 1e-3) ~ ''", "(years / 1e6) ~ ''", "(margin + 1e15) ~ ''", "(margin * 1e15) ~ ''", "(2.0 ** 100) ~ ''", "(0 - revenue * 1e13) ~ ''",
    "'it''s' ~ name", "\"it's\" ~ name", "'a\\\\b' ~ '\\n'", "(years == 3) ~ (staff / 2)", "1e16 ~ ''",
    # functions
    "abs(staff)", "abs(revenue)", "round(revenue)", "round(revenue, 1)", "round(margin, 2)", "round(revenue, -1)",
    "round(2.675, 2)", "round(1.005, 2)", "round(-2.5)", "round(0.5)", "round(1e20)", "round(1e20, -19)",
    "round(margin, years)", "round(revenue, staff)", "round(123456.789, -3)", "round(staff)", "round(-0.0001, 3)",
    "min(staff, years)", "min(revenue, margin, 1)", "max(staff, revenue)", "max(years, 2, -3)",
    "clamp(revenue, 0, 100)", "clamp(years, 0, 5)", "clamp(staff, years, 10)",
    "log10(revenue)", "log10(margin)", "sqrt(margin)", "sqrt(staff)", "log10(1000)",
    "lower(name)", "upper(name)", "lower(region)", "upper(region)", "tags == ['a', 'b']", "tags != []", "contains(name, 'a')", "contains(name, region)",
    "length(name)", "length(region)", "length(tags)", "name | length", "length(revenue)",
    "days_since(founded)", "days_until(signed)", "days_between(founded, signed)", "days_since(signed) // 7",
    "date(note)", "date(note) < signed", "date('2024-02-29')", "days_since(date(note))",
]


def scope_for(codes: dict[str, str], as_of: str) -> dict[str, Symbol]:
    scope = {name: Symbol(name, type_, nullable, codes[name]) for name, (type_, nullable) in FIELDS.items()}
    scope["as_of"] = Symbol("as_of", "date", False, as_of)
    return scope


PYTHON_SCOPE = scope_for({name: f"s{index}" for index, name in enumerate(FIELDS)}, "as_of")


def python_values(source: str, functions=FUNCTIONS_BY_NAME) -> list:
    namespace = Namespace()
    compiled = compile_expression(source, PYTHON_SCOPE, functions, namespace)
    params = [PYTHON_SCOPE[name].code for name in FIELDS]
    globals_ = dict(namespace.values)
    exec(f"def _f({', '.join(params)}, as_of):\n    return {compiled.code}", globals_)
    return [globals_["_f"](*row, as_of=AS_OF) for row in ROWS]


def same(left, right) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if isinstance(left, float) and math.isnan(left):
            return isinstance(right, float) and math.isnan(right)
        return left == right or math.isclose(left, right, rel_tol=1e-9)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right


@pytest.fixture(scope="module", params=engine_params())
def engine(request):
    engine = shared_engine(request.param)
    columns = {"row_id": "integer", **{name: type_ for name, (type_, _) in FIELDS.items()}}
    engine.register_rows("expr_rows", columns, [(index, *row) for index, row in enumerate(ROWS)])
    return engine


def sql_scope() -> dict[str, Symbol]:
    """The fields as IR columns, the as-of date a literal (the SQL engines' scope)."""
    return scope_for({name: ir.Column(name, TYPES[type_], nullable) for name, (type_, nullable) in FIELDS.items()},
                     ir.Lit(AS_OF, ir.DType.DATE))


def test_sql_matches_python(engine):
    dialect = engine.dialect
    scope = sql_scope()
    columns = []
    for index, source in enumerate(EXPRESSIONS):
        compiled = compile_sql_expression(source, scope, FUNCTIONS_BY_NAME, dialect.name)
        columns.append(f"{compiled.code} AS {dialect.quote(f'e{index}')}")
    rows = engine.rows(f"SELECT {', '.join(columns)} FROM expr_rows ORDER BY row_id")
    failures = []
    for index, source in enumerate(EXPRESSIONS):
        expected = python_values(source)
        for row_index, (row, want) in enumerate(zip(rows, expected)):
            got = row[index]
            if not same(want, got):
                failures.append(f"{source!r} on row {row_index}: python {want!r}, {dialect.name} {got!r}")
    assert not failures, "\n".join(failures)


def test_sql_compile_checks_as_python_does():
    """Same types, nullability, reads and constants; the same diagnostics."""
    scope = sql_scope()
    for source in EXPRESSIONS:
        python = compile_expression(source, PYTHON_SCOPE, FUNCTIONS_BY_NAME, Namespace())
        sql = compile_sql_expression(source, scope, FUNCTIONS_BY_NAME, "duckdb")
        assert (sql.type, sql.nullable, sql.reads, sql.constant, sql.value) == (
            python.type, python.nullable, python.reads, python.constant, python.value
        ), source
    for bad in ["revnue > 1", "name + 1", "region == 'Nrth' and", "staff.__class__", "date('2024-02-30')"]:
        with pytest.raises(ExpressionDiagnostic) as python_error:
            compile_expression(bad, PYTHON_SCOPE, FUNCTIONS_BY_NAME, Namespace())
        with pytest.raises(ExpressionDiagnostic) as sql_error:
            compile_sql_expression(bad, scope, FUNCTIONS_BY_NAME, "duckdb")
        assert str(sql_error.value) == str(python_error.value)


def test_a_function_without_a_sql_form_is_a_one_line_error():
    functions = {**FUNCTIONS_BY_NAME, "score_of": Function("score_of", lambda x: x, ("number",), "number", "A plugin's.")}
    with pytest.raises(ExpressionDiagnostic) as error:
        compile_sql_expression("revenue > 1 and score_of(revenue) > 2", sql_scope(), functions, "spark")
    message = str(error.value)
    assert "function 'score_of' has no SQL form (see tierkit plugins for its plugin); run with --engine python" in message
    assert "\n" not in message
    assert error.value.diagnostic.message.startswith("function 'score_of'")
    # the Python back end is not concerned
    compile_expression("score_of(revenue) > 2", PYTHON_SCOPE, functions, Namespace())


def margin_band(margin):
    return "high" if margin >= 30 else "low"


def margin_band_ir(args, dtype):
    """``margin_band`` as IR nodes (the example of docs/plugins.md)."""
    margin = args[0]
    return ir.case((ir.IsMissing(margin), ir.Lit(None, dtype)),
                   (ir.Compare(">=", margin, ir.lit(30)), ir.lit("high")), default=ir.lit("low"))


def test_a_plugin_function_states_its_sql_form_as_ir(engine):
    functions = {**FUNCTIONS_BY_NAME, "margin_band": Function("margin_band", margin_band, ("number",), "string",
                                                               "High or low margin.", sql=margin_band_ir)}
    sources = ["margin_band(revenue)", "margin_band(staff * 10) ~ '!'"]
    compiled = [compile_sql_expression(source, sql_scope(), functions, engine.dialect.name) for source in sources]
    select = ", ".join(f"{c.code} AS {engine.dialect.quote(f'e{i}')}" for i, c in enumerate(compiled))
    rows = engine.rows(f"SELECT {select} FROM expr_rows ORDER BY row_id")
    for index, source in enumerate(sources):
        assert [row[index] for row in rows] == python_values(source, functions), source
