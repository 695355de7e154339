"""Any text given as an expression compiles, or is the compiler's own diagnostic with a
position: no other exception (RecursionError, MemoryError, OverflowError...) escapes,
whatever its nesting or its numbers; and what compiles evaluates without escaping."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.errors import Position
from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression
from tierkit.plugins.functions import FUNCTIONS

from tests.conftest import examples

FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}
SCOPE = {
    "revenue": Symbol("revenue", "number", True, "s0"),
    "name": Symbol("name", "string", True, "s1"),
    "staff": Symbol("staff", "integer", False, "s2"),
    "signed": Symbol("signed", "date", True, "s3"),
    "as_of": Symbol("as_of", "date", False, "as_of"),
}
ROW = {"s0": 1.5, "s1": "text", "s2": 3, "s3": datetime.date(2024, 1, 1), "as_of": datetime.date(2024, 3, 1)}
POS = Position("rules.yaml", 3, 11)

TOKENS = ["revenue", "name", "staff", "signed", "as_of", "(", ")", "[", "]", "{", "}", ",", ".", "|", "~", "+", "-",
          "*", "**", "/", "//", "%", "==", "!=", "<", ">=", " and ", " or ", " not ", " in ", " if ", " else ",
          " is ", "none", "true", "'x'", '"', "'", "0", "1", "9" * 30, "1e308", "1.5", "__class__", "_", "min",
          "max", "round", "date", "days_since", "default", "length", "lower", "=", ":", "{{", "}}", "{%", "\\", "\n", " "]
EXPRESSIONS = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join) | st.text(max_size=80)


def compile_text(source: str):
    return compile_expression(source, SCOPE, FUNCTIONS_BY_NAME, Namespace(), POS)


@settings(max_examples=examples(100), deadline=None)
@given(EXPRESSIONS)
def test_any_text_compiles_or_is_a_diagnostic(source):
    namespace = Namespace()
    try:
        compiled = compile_expression(source, SCOPE, FUNCTIONS_BY_NAME, namespace, POS)
    except ExpressionDiagnostic as error:
        assert error.diagnostic.position is not None and error.diagnostic.position.file == "rules.yaml"
        assert "\n" not in str(error.diagnostic)
        return
    values = dict(namespace.values)
    exec(f"def _f({', '.join(ROW)}):\n    return {compiled.code}", values)  # the compiler's own code
    try:
        values["_f"](**ROW)
    except (ArithmeticError, TypeError, ValueError):
        pass  # a row whose evaluation fails is rejected with its reason, as the engine does


@pytest.mark.parametrize(
    "source",
    ["(" * 5000 + "1" + ")" * 5000, "not " * 5000 + "true", "-" * 5000 + "1", " or ".join(["revenue > 1"] * 3000),
     "1" * 5000, "[" * 2000 + "]" * 2000, "'" + "x" * 1_000_000 + "'", "revenue" + " + revenue" * 3000],
    ids=["parentheses", "nots", "minuses", "ors", "long-number", "lists", "long-string", "long-sum"],
)
def test_huge_and_deep_expressions_are_diagnostics_or_compile(source):
    try:
        compile_text(source)
    except ExpressionDiagnostic as error:
        assert str(error.diagnostic).startswith("rules.yaml:3:")
