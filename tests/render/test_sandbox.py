"""Known Jinja sandbox escapes are ruleset errors with a position, found at compile time;
the code generated for valid expressions reaches nothing but its own locals and helpers."""

from __future__ import annotations

import datetime
import io
import tokenize

import pytest

from tierkit.expr import compiler as expr_module
from tierkit.errors import Position
from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression
from tierkit.plugins.functions import FUNCTIONS

FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}
POS = Position("rules.yaml", 12, 9)
SCOPE = {
    "a": Symbol("a", "number", True, "s0"),
    "x": Symbol("x", "string", True, "s1"),
    "n": Symbol("n", "integer", False, "s2"),
    "d": Symbol("d", "date", True, "s3"),
    "as_of": Symbol("as_of", "date", False, "as_of"),
    "grade": Symbol(
        "grade",
        "outcome",
        False,
        "s9",
        attributes={
            "label": Symbol("label", "string", True, "s9[0]"),
            "score": Symbol("score", "number", True, "s9[1]"),
            "tags": Symbol("tags", "list", False, "s9[2]"),
        },
    ),
}
PARAMS = ["s0", "s1", "s2", "s3", "s9", "as_of"]

PAYLOADS = [
    # classic object-graph walks to os / subprocess
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "a.__class__.__base__.__subclasses__()",
    "a.__class__.__init__",
    "a.__dict__",
    "grade.__class__",
    "grade.label.__class__",
    "as_of.__class__",
    "a ~ grade.__class__",
    "coalesce(a, a.__class__)",
    "a if a.__class__ else a",
    "(a).real",
    "as_of.year",
    "date('2024-01-01').year",
    # Jinja globals and template internals
    "cycler.__init__.__globals__.os.popen('id').read()",
    "joiner.__init__.__globals__",
    "namespace.__init__.__globals__",
    "lipsum.__globals__['os']",
    "lipsum()",
    "cycler",
    "range(10**10)",
    "namespace(a=1)",
    "self._TemplateReference__context",
    "self",
    "loop.cycle",
    "caller()",
    "varargs",
    "kwargs",
    "super()",
    "config.items()",
    "request.application.__globals__",
    "url_for.__globals__['os']",
    "get_flashed_messages.__globals__",
    "days_since.__globals__",
    "date.__call__('2024-01-01')",
    # filters and tests that reach attributes or run code
    "''|attr('__class__')",
    "x|attr('__class__')",
    "a|attr",
    "x|map('upper')",
    "x|selectattr('__class__')",
    "x|first",
    "x|safe",
    "x|format('%s')",
    "x|int",
    "x|string",
    "x|tojson",
    "x|pprint",
    "x|replace('a', 'b')",
    "x|default(x.__class__)",
    "a is sameas a",
    "a is callable",
    "a is none(().__class__)",
    "a is defined(a.__class__)",
    # Python builtins and methods
    "'{0.__class__}'.format(a)",
    "'%s' % a",
    "'x' * 10**10",
    "__import__('os')",
    "__builtins__",
    "eval('1')",
    "exec('1')",
    "open('/etc/passwd')",
    "getattr(a, 'x')",
    "globals()",
    "vars(a)",
    "[].pop()",
    "{}.keys()",
    "{'a': 1}",
    '"".join(["a"])',
    "x.upper()",
    "grade.label.format(a)",
    "dict(a=1)",
    "a()",
    "(a)()",
    "grade.label()",
    "min(*[1, 2])",
    "min(**{'a': 1})",
    "round(a, ndigits=1)",
    "_private",
    # subscripts and slices
    "a[0]",
    "grade['label']",
    "grade.tags[0]",
    "'abc'[0]",
    "(1, 2)[0]",
    "[a][0]",
    "x[1:2]",
    "a.0",
    # template syntax smuggled into an expression
    "{{ 7*7 }}",
    "a }}{{ a.__class__ }}",
    "{% import os %}",
    "[c for c in x]",
    "lambda: 1",
    "a; import os",
]


def compile_source(source, position=POS):
    namespace = Namespace()
    compiled = compile_expression(source, SCOPE, FUNCTIONS_BY_NAME, namespace, position)
    return compiled, namespace


def run(source, **values):
    compiled, namespace = compile_source(source)
    args = {"s0": 1.5, "s1": "text", "s2": 2, "s3": datetime.date(2024, 1, 1), "s9": ("S", 1.0, ())}
    args.update(as_of=datetime.date(2024, 3, 1), **values)
    globals_ = dict(namespace.values)
    exec(f"def _f({', '.join(PARAMS)}):\n    return {compiled.code}", globals_)
    return globals_["_f"](**args)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_is_rejected_with_a_position(payload):
    with pytest.raises(ExpressionDiagnostic) as caught:
        compile_source(payload)
    diagnostic = caught.value.diagnostic
    assert diagnostic.severity == "error"
    position = diagnostic.position
    assert position is not None
    assert (position.file, position.line) == (POS.file, POS.line)
    assert position.col is not None
    assert POS.col <= position.col <= POS.col + len(payload)
    assert f"`{payload}`" in diagnostic.message


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_is_rejected_without_a_position_too(payload):
    with pytest.raises(ExpressionDiagnostic) as caught:
        compile_source(payload, position=None)
    assert caught.value.diagnostic.position is None


@pytest.mark.parametrize(
    "payload, pointed_at",
    [
        ("a.__class__", "__class__"),
        ("grade.label.__class__", "__class__"),
        ("n > 1 and grade.__class__", "__class__"),
        ("__import__('os')", "__import__"),
        ("x|attr('__class__')", "attr"),
        ("n + range(10**10)", "range"),
        ("self._TemplateReference__context", "_TemplateReference__context"),
        ("config.items()", "items"),
        ("n > 1 and x.upper()", "upper"),
        ("cycler.__init__.__globals__.os.popen('id').read()", "read"),
    ],
)
def test_escape_position_points_at_the_culprit(payload, pointed_at):
    with pytest.raises(ExpressionDiagnostic) as caught:
        compile_source(payload)
    assert caught.value.diagnostic.position == POS.shifted(payload.index(pointed_at))


@pytest.mark.parametrize(
    "source, expected",
    [
        ("10 ** 10 ** 10", 1e100),  # Jinja's ** groups to the left: (10 ** 10) ** 10
        ("10 ** (10 ** 10)", None),
        ("9 ** 9 ** 9 ** 9", None),
        ("2 ** 100000", None),
        ("(0 - 2) ** 0.5", None),
        ("a ** 1e308", None),
        ("n ** n ** n ** n ** n", 2.0**16),
    ],
)
def test_huge_powers_do_not_hang(source, expected):
    assert run(source) == expected


# -- the generated code -------------------------------------------------------------

VALID = [
    "a > 1 and n in [1, 2, 3]",
    "1 < a < 3",
    "a | default(0) * 2 + n // 3 - n % 2",
    "coalesce(a, n) / (n - 2)",
    "days_since(d) > 30 or d is none",
    "days_until(date('2024-12-31')) <= 7",
    "'vip' in grade.tags and grade.label == 'S'",
    "grade.score ** 2 if grade.score is not none else -1",
    "x ~ '-' ~ n",
    "lower(x) in ['north', 'south'] and contains(x, 'or')",
    "not (a > 1) or n not in [4, 5]",
    "round(sqrt(abs(a)) + log10(n), 2)",
    "min(a, n, 3) + max(n, 1) + clamp(a, 0, 1)",
    "length(x) > 3 and x | length < 10",
    "n in [a, 1]",
    "a < n * 2 < 10 <= n ** 4",
    "1e400 > a",
]


def code_tokens(code):
    return list(tokenize.generate_tokens(io.StringIO(code).readline))


@pytest.mark.parametrize("source", VALID)
def test_generated_code_reaches_only_locals_and_helpers(source):
    compiled, namespace = compile_source(source)
    tokens = code_tokens(compiled.code)
    outside_strings = " ".join(t.string for t in tokens if t.type != tokenize.STRING)
    assert "__" not in outside_strings
    for word in ("getattr", "setattr", "eval", "exec", "import", "compile", "open", "globals", "lambda"):
        assert word not in outside_strings, (word, compiled.code)
    assert not any(t.type == tokenize.OP and t.string == "." for t in tokens), compiled.code
    names = {t.string for t in tokens if t.type == tokenize.NAME}
    keywords = {"None", "True", "False", "is", "not", "and", "or", "if", "else", "in"}
    temporaries = {t.string for t, after in zip(tokens, tokens[1:]) if after.string == ":="}
    for name in names - keywords:
        assert name in PARAMS or name in namespace.values or name in temporaries, (name, compiled.code)
    # the namespace holds registered functions, the module's own helpers and plain data
    helpers = {f.impl for f in FUNCTIONS} | {expr_module._safe_power, expr_module._text, expr_module._member}
    for value in namespace.values.values():
        if callable(value):  # a registered function may come wrapped in a check of its result's type
            assert getattr(value, "__wrapped__", value) in helpers, value
        else:
            assert isinstance(value, (tuple, frozenset, float, datetime.date)), value


def test_strings_that_look_like_code_stay_strings():
    source = "x == '__class__' or x == \"').__class__.__init__.__globals__['os'] #\""
    compiled, _ = compile_source(source)
    tokens = code_tokens(compiled.code)
    assert all("__" not in t.string for t in tokens if t.type != tokenize.STRING)
    assert run(source, s1="__class__") is True
    assert run(source, s1="x") is False


def test_dotted_attributes_of_outcomes_compile_to_indexing():
    compiled, _ = compile_source("grade.label == 'S'")
    assert "s9[0]" in compiled.code
    assert "label" not in compiled.code.replace("'S'", "")
