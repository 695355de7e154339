"""Random well-typed expressions: the compiler agrees with a reference interpreter,
and, where no value is missing, with Jinja's own evaluation."""

from __future__ import annotations

import datetime
import importlib.util
import io
import math
import sys
import tokenize
import types
from functools import lru_cache

import jinja2
import pytest
from hypothesis import event, given, reject, settings
from hypothesis import strategies as st

from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression
from tierkit.plugins.functions import FUNCTIONS
from tests.conftest import TESTS, examples



def _load_reference():
    """The reference interpreter beside this file, however the tests are imported."""
    name = "tierkit_tests_expr_reference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "expr_reference.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


reference = _load_reference()
reference_evaluate, plain_functions = reference.evaluate, reference.plain_functions

FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}

# name -> (type, nullable)
FIELDS = {
    "revenue": ("number", True),
    "margin": ("number", False),
    "staff": ("integer", True),
    "years": ("integer", False),
    "active": ("boolean", True),
    "listed": ("boolean", False),
    "region": ("string", True),
    "name": ("string", False),
    "founded": ("date", True),
    "signed": ("date", False),
}
CODES = {field: f"s{index}" for index, field in enumerate(FIELDS)}
GRADE_CODE = f"s{len(FIELDS)}"
SCOPE = {field: Symbol(field, type_, nullable, CODES[field]) for field, (type_, nullable) in FIELDS.items()}
SCOPE["as_of"] = Symbol("as_of", "date", False, "as_of")
SCOPE["grade"] = Symbol(
    "grade",
    "outcome",
    False,
    GRADE_CODE,
    attributes={
        "label": Symbol("label", "string", True, f"{GRADE_CODE}[0]"),
        "score": Symbol("score", "number", True, f"{GRADE_CODE}[1]"),
    },
)
PARAMS = [*CODES.values(), GRADE_CODE, "as_of"]

POOLS = {
    "number": [0.0, 1.0, -1.0, 0.5, 2.5, -2.5, 3.0, 7.25, 100.0, 1e6],
    "integer": [0, 1, -1, 2, 3, -3, 7, 10],
    "boolean": [True, False],
    "string": ["", "a", "ab", "b", "A", "North", "a b"],
    "date": [
        datetime.date(2023, 12, 31),
        datetime.date(2024, 1, 1),
        datetime.date(2024, 2, 29),
        datetime.date(2024, 3, 1),
        datetime.date(2025, 6, 30),
    ],
}


# -- records --------------------------------------------------------------------------


def records(allow_missing: bool = True):
    def value(type_, nullable):
        pool = st.sampled_from(POOLS[type_])
        return st.one_of(st.none(), pool) if nullable and allow_missing else pool

    grade_label = st.sampled_from(["S", "A", "B"])
    grade_score = st.sampled_from(POOLS["number"])
    if allow_missing:
        grade_label, grade_score = st.one_of(st.none(), grade_label), st.one_of(st.none(), grade_score)
    return st.fixed_dictionaries(
        {
            **{field: value(type_, nullable) for field, (type_, nullable) in FIELDS.items()},
            "as_of": st.sampled_from(POOLS["date"]),
            "grade": st.fixed_dictionaries({"label": grade_label, "score": grade_score}),
        }
    )


# -- well-typed expressions ---------------------------------------------------------------

LEAVES = {
    "int": ["staff", "years", "0", "1", "2", "3", "10", "-1"],
    "num": ["revenue", "margin", "0.5", "2.5", "0.0", "1e3", "grade.score"],
    "bool": ["active", "listed", "true", "false"],
    "str": ["region", "name", "''", "'a'", "'ab'", "'North'", "grade.label"],
    "date": ["founded", "signed", "as_of", "date('2024-02-29')"],
}
NUMERIC_LIST_LITERALS = ["[1, 2, 3]", "[0, 2.5, -1]", "[]", "[7]", "[1, none]", "(0, 10)"]
STRING_LIST_LITERALS = ["['a', 'ab']", "['North', '']", "['b', none]", "['A']"]


def _fmt(template: str):
    return lambda parts: template.format(*parts)


def _combine(template: str, *kinds: str, depth: int):
    return st.tuples(*(expressions(kind, depth) for kind in kinds)).map(_fmt(template))


@lru_cache(maxsize=None)
def expressions(kind: str, depth: int):
    """Source text of an expression of ``kind`` (int, num, bool, str, date)."""
    leaves = st.sampled_from(LEAVES[kind])
    if kind == "num":
        leaves = st.one_of(leaves, expressions("int", 0))
    if depth == 0:
        return leaves
    d = depth - 1

    def c(template, *kinds):
        return _combine(template, *kinds, depth=d)

    common = [
        c("({} if {} else {})", kind, "bool", kind),
        c("({} | default({}))", kind, kind),
        c("coalesce({}, {})", kind, kind),
    ]
    if kind in ("int", "num"):
        n = kind
        compound = [
            *(c(f"({{}} {op} {{}})", n, n) for op in ("+", "-", "*", "//", "%")),
            c("(-{})", n),
            c("abs({})", n),
            c("({} | abs)", n),
            c("min({}, {})", n, n),
            c("max({}, {}, {})", n, n, n),
            c("clamp({}, {}, {})", n, n, n),
            c("({} if {})", n, "bool"),
            c("days_since({})", "date"),
            c("days_until({})", "date"),
            c("days_between({}, {})", "date", "date"),
            c("length({})", "str"),
            c("({} | length)", "str"),
            # precedence and grouping as Jinja parses them, without parentheses
            c("({} + {} * {} - {} // {} % {})", n, n, n, n, n, n),
            c("({} - {} - {})", n, n, n),
            c("(-{} | abs)", n),
            c("({} | default({}) * {})", n, n, n),
        ]
        if kind == "num":
            compound += [
                c("({} / {})", n, n),
                c("({} ** {})", n, n),
                c("round({})", n),
                c("round({}, {})", n, "int"),
                c("sqrt({})", n),
                c("log10({})", n),
                c("coalesce({}, {}, {})", "int", n, n),
                c("({} / {} / {})", n, n, n),
                c("({} ** {} ** {})", n, n, n),
                c("(-{} ** {})", n, n),
            ]
    elif kind == "bool":
        compound = [
            *(c(f"({{}} {op} {{}})", "num", "num") for op in ("==", "!=", "<", "<=", ">", ">=")),
            *(c(f"({{}} {op} {{}})", "str", "str") for op in ("==", "!=", "<", ">=")),
            *(c(f"({{}} {op} {{}})", "date", "date") for op in ("==", "<", ">=")),
            c("({} == {})", "bool", "bool"),
            c("({} != {})", "bool", "bool"),
            c("({} < {} <= {})", "num", "num", "num"),
            c("({} == {} != {})", "int", "num", "int"),
            c("({} and {})", "bool", "bool"),
            c("({} or {})", "bool", "bool"),
            c("(not {})", "bool"),
            c("({} or {} and not {})", "bool", "bool", "bool"),
            c("(not {} == {} or {} > {})", "num", "num", "num", "num"),
            *(c(f"({{}} {test})", other) for test in ("is none", "is not none", "is defined") for other in LEAVES),
            *(
                st.tuples(expressions(item, d), st.sampled_from(["in", "not in"]), st.sampled_from(lists)).map(
                    _fmt("({} {} {})")
                )
                for item, lists in (("num", NUMERIC_LIST_LITERALS), ("str", STRING_LIST_LITERALS))
            ),
            c("({} in [{}, {}])", "num", "num", "int"),
            c("({} not in [{}, {}])", "str", "str", "str"),
            c("({} in {})", "str", "str"),
            c("contains({}, {})", "str", "str"),
            c("(({} if {}) is none)", "str", "bool"),
        ]
    elif kind == "str":
        compound = [
            c("lower({})", "str"),
            c("({} | upper)", "str"),
            *(c("({} ~ {})", "str", other) for other in LEAVES),
            c("({} ~ '-' ~ {})", "int", "date"),
        ]
    else:
        compound = [c("date({})", "str")]
    return st.one_of(leaves, *common, *compound)


EXPRESSIONS = st.sampled_from(sorted(LEAVES)).flatmap(lambda kind: expressions(kind, 3))


# -- helpers ----------------------------------------------------------------------------


def compile_source(source):
    """Compile a generated expression; one holding a date literal that does not exist
    (``date('')``) is a ruleset error by design, so hypothesis discards it."""
    namespace = Namespace()
    try:
        compiled = compile_expression(source, SCOPE, FUNCTIONS_BY_NAME, namespace)
    except ExpressionDiagnostic as error:
        if "is not a date" not in str(error):
            raise
        reject()
    return compiled, namespace


def run(compiled, namespace, record):
    values = {CODES[field]: record[field] for field in FIELDS}
    values[GRADE_CODE] = (record["grade"]["label"], record["grade"]["score"])
    values["as_of"] = record["as_of"]
    code = f"def _f({', '.join(PARAMS)}):\n    return {compiled.code}"
    globals_ = dict(namespace.values)
    exec(code, globals_)
    return globals_["_f"](**values)


def same(left, right) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=0.0) or left == right
    return type(left) is type(right) and left == right


TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, datetime.date),
}

JINJA = jinja2.Environment()


def jinja_evaluate(source, record):
    context = {field: record[field] for field in FIELDS}
    context["as_of"] = record["as_of"]
    context["grade"] = types.SimpleNamespace(**record["grade"])
    context.update(plain_functions(record["as_of"]))
    context["coalesce"] = lambda *values: next((v for v in values if v is not None), None)
    return JINJA.compile_expression(source)(**context)


# -- properties -------------------------------------------------------------------------


@settings(max_examples=examples(300), deadline=None)
@given(source=EXPRESSIONS, record=records())
def test_compiled_matches_the_reference(source, record):
    compiled, namespace = compile_source(source)
    result = run(compiled, namespace, record)
    expected = reference_evaluate(source, record, record["as_of"])
    assert same(result, expected.value), (source, compiled.code, result, expected.value)
    if result is not None:
        assert TYPES[compiled.type](result), (source, compiled.type, result)
    if not compiled.nullable:
        assert result is not None, (source, compiled.code)
    event(f"result {'missing' if result is None else type(result).__name__}")


@settings(max_examples=examples(300), deadline=None)
@given(source=EXPRESSIONS, record=records(allow_missing=False))
def test_compiled_matches_jinja_where_nothing_is_missing(source, record):
    expected = reference_evaluate(source, record, record["as_of"])
    if not expected.null_free or expected.events - {"null"}:
        event("not comparable with Jinja")
        return
    event("compared with Jinja")
    compiled, namespace = compile_source(source)
    result = run(compiled, namespace, record)
    assert same(result, expected.value), (source, result, expected.value)
    assert same(result, jinja_evaluate(source, record)), (source, compiled.code, result)


ALLOWED_NAMES = {"None", "True", "False", "is", "not", "and", "or", "if", "else", "in", "as_of"}


def code_names(code: str) -> set[str]:
    """The identifiers in Python source, outside string literals."""
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return {token.string for token in tokens if token.type == tokenize.NAME}


def check_generated_names(code: str) -> None:
    for name in code_names(code) - ALLOWED_NAMES:
        local = name[0] == "s" and name[1:].isdigit()
        generated = name[:2] in ("_t", "_k", "_f") and name[2:].isdigit()
        assert local or generated, f"unexpected name {name!r} in {code}"


@settings(max_examples=examples(300), deadline=None)
@given(source=EXPRESSIONS)
def test_compiling_is_deterministic_and_code_holds_no_user_names(source):
    first, first_ns = compile_source(source)
    second, second_ns = compile_source(source)
    assert first.code == second.code
    assert first.type == second.type and first.nullable == second.nullable
    assert first.reads == second.reads
    assert list(first_ns.values) == list(second_ns.values)
    for name, value in first_ns.values.items():
        assert value == second_ns.values[name] or (callable(value) and value is second_ns.values[name])
    check_generated_names(first.code)
    assert "__" not in "".join(code_names(first.code))
    assert all(field in SCOPE for field in first.reads)


@pytest.mark.parametrize(
    "source",
    [
        "revenue > 1 and name == 'revenue'",
        "days_since(founded) > years",
        "grade.label ~ name",
        "coalesce(revenue, margin) / staff",
        "1 < revenue < margin < 3",
        "region in ['name', 'staff']",
    ],
)
def test_field_names_appear_only_inside_string_literals(source):
    compiled, _ = compile_source(source)
    check_generated_names(compiled.code)
    assert not (code_names(compiled.code) & set(FIELDS))
