"""The expression compiler: values, null semantics, types, and errors with positions."""

from __future__ import annotations

import datetime

import pytest

from tierkit.errors import Position
from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression
from tierkit.plugins.functions import FUNCTIONS

FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}
AS_OF = datetime.date(2024, 3, 1)
POS = Position("r.yaml", 3, 10)

SCOPE = {
    "a": Symbol("a", "number", True, "s0"),
    "n": Symbol("n", "integer", False, "s1"),
    "b": Symbol("b", "number", False, "s2"),
    "m": Symbol("m", "integer", True, "s3"),
    "s": Symbol("s", "string", True, "s4"),
    "d": Symbol("d", "date", True, "s5"),
    "ind": Symbol("ind", "string", False, "s6", values=("government", "finance", "retail")),
    "p": Symbol("p", "boolean", True, "s7"),
    "r": Symbol("r", "boolean", True, "s8"),
    "q": Symbol("q", "boolean", False, "s10"),
    "revenue": Symbol("revenue", "number", True, "s11"),
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

DEFAULTS = {
    "a": 1.5,
    "n": 2,
    "b": 3.0,
    "m": 4,
    "s": "text",
    "d": datetime.date(2024, 1, 1),
    "ind": "retail",
    "p": True,
    "r": True,
    "q": False,
    "revenue": 1e6,
    "as_of": AS_OF,
    "grade": ("S", 90.0, ("vip", "key")),
}


def compile_source(source, scope=SCOPE, position=POS):
    namespace = Namespace()
    compiled = compile_expression(source, scope, FUNCTIONS_BY_NAME, namespace, position)
    return compiled, namespace


def evaluate(source, scope=SCOPE, **record):
    """Compile ``source``, run it on ``record`` (values by symbol name) and return the result."""
    compiled, namespace = compile_source(source, scope)
    values = {**DEFAULTS, **record}
    params = {symbol.code: values[name] for name, symbol in scope.items()}
    code = f"def _f({', '.join(params)}):\n    return {compiled.code}"
    globals_ = dict(namespace.values)
    exec(code, globals_)
    return globals_["_f"](**params)


def diagnostic(source, position=POS, scope=SCOPE):
    with pytest.raises(ExpressionDiagnostic) as caught:
        compile_source(source, scope, position)
    return caught.value.diagnostic


def col(offset):
    return POS.col + offset


# -- comparisons -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("a > 1", {}, True),
        ("a >= 1.5", {}, True),
        ("a < 1.5", {}, False),
        ("a <= 1", {}, False),
        ("a == 1.5", {}, True),
        ("a != 1.5", {}, False),
        ("n == 2.0", {}, True),
        ("s == 'text'", {}, True),
        ("s < 'u'", {}, True),
        ("d < as_of", {}, True),
        ("d == date('2024-01-01')", {}, True),
        ("q == false", {}, True),
        ("a > 1", {"a": None}, None),
        ("a == a", {"a": None}, None),
        ("s != 'x'", {"s": None}, None),
        ("d < as_of", {"d": None}, None),
    ],
)
def test_comparisons(source, record, expected):
    assert evaluate(source, **record) is expected


@pytest.mark.parametrize(
    "a, expected",
    [(2.0, True), (1.0, False), (3.0, False), (5.0, False), (None, None)],
)
def test_chained_comparison(a, expected):
    assert evaluate("1 < a < 3", a=a) is expected


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("a < n < 3", {"a": None}, None),  # the first link is missing, the second true
        ("a < n < 1", {"a": None}, False),  # the second link decides
        ("a < n < m", {"a": None, "m": None}, None),
        ("1 < n < m", {"m": None}, None),
        ("1 < n < m", {"m": 1}, False),
        ("5 < n < m", {"m": None}, False),
        ("1 < a <= n < m", {"a": 2.0, "m": 3}, True),
        ("1 < a <= n < m", {"a": None, "m": 3}, None),
        ("1 < a <= n < m", {"a": 2.0, "m": None}, None),
        ("1 < a <= n < m", {"a": 2.5, "m": None}, False),
        ("n == n == 2", {}, True),
    ],
)
def test_chained_comparison_with_missing_operands(source, record, expected):
    assert evaluate(source, **record) is expected


# -- arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected, type_",
    [
        ("n + 1", 3, "integer"),
        ("n - 5", -3, "integer"),
        ("n * 3", 6, "integer"),
        ("n // 3", 0, "integer"),
        ("7 // n", 3, "integer"),
        ("-7 // n", -4, "integer"),
        ("7 % n", 1, "integer"),
        ("-7 % 3", 2, "integer"),
        ("-n", -2, "integer"),
        ("+n", 2, "integer"),
        ("n + b", 5.0, "number"),
        ("b - n", 1.0, "number"),
        ("n / 4", 0.5, "number"),
        ("n / 1", 2.0, "number"),
        ("b // 2", 1.0, "number"),
        ("b % 2", 1.0, "number"),
        ("n ** 3", 8.0, "number"),
        ("2 ** -1", 0.5, "number"),
        ("b * 1.5", 4.5, "number"),
        ("1 + 2 * 3", 7, "integer"),
        ("(1 + 2) * 3", 9, "integer"),
        ("abs(-n)", 2, "integer"),
        ("abs(-b)", 3.0, "number"),
        ("min(n, 1)", 1, "integer"),
        ("max(n, b)", 3.0, "number"),
        ("round(b / 4, 1)", 0.8, "number"),
        ("clamp(n, 3, 5)", 3, "integer"),
    ],
)
def test_arithmetic(source, expected, type_):
    compiled, _ = compile_source(source)
    assert compiled.type == type_
    result = evaluate(source)
    assert result == expected
    assert type(result) is (int if type_ == "integer" else float)


@pytest.mark.parametrize(
    "source", ["a + 1", "a - n", "a * b", "a / 2", "a // 2", "a % 2", "-a", "a ** 2", "2 ** a", "abs(a)", "min(a, 1)"]
)
def test_arithmetic_with_a_missing_operand_is_missing(source):
    assert evaluate(source, a=None) is None
    assert compile_source(source)[0].nullable


def test_non_nullable_arithmetic_is_not_nullable():
    assert not compile_source("n * 2 + b")[0].nullable
    assert compile_source("n / 2")[0].nullable  # the divisor could be zero
    assert compile_source("n ** 2")[0].nullable  # a power can overflow


@pytest.mark.parametrize(
    "source, record",
    [
        ("a / 0", {}),
        ("n / 0", {}),
        ("n // 0", {}),
        ("n % 0", {}),
        ("b / 0.0", {}),
        ("b // 0.0", {}),
        ("b % 0.0", {}),
        ("b / (n - 2)", {}),
        ("b / -0.0", {}),
        ("b / m", {"m": 0}),
        ("0 ** -1", {}),
        ("10 ** 1000", {}),
        ("(0 - 8) ** 0.5", {}),
    ],
)
def test_no_answer_gives_missing(source, record):
    assert evaluate(source, **record) is None


def test_division_by_a_nonzero_value():
    assert evaluate("0 / n") == 0.0
    assert evaluate("b / m", m=-3) == -1.0


def test_huge_float_literal():
    assert evaluate("b < 1e400") is True
    assert evaluate("-1e400 < b") is True


# -- three-valued logic ------------------------------------------------------------------

T, F, N = True, False, None
AND = {(T, T): T, (T, F): F, (T, N): N, (F, T): F, (F, F): F, (F, N): F, (N, T): N, (N, F): F, (N, N): N}
OR = {(T, T): T, (T, F): T, (T, N): T, (F, T): T, (F, F): F, (F, N): N, (N, T): T, (N, F): N, (N, N): N}


@pytest.mark.parametrize("left, right", sorted(AND, key=repr))
def test_and_truth_table(left, right):
    assert evaluate("p and r", p=left, r=right) is AND[left, right]


@pytest.mark.parametrize("left, right", sorted(OR, key=repr))
def test_or_truth_table(left, right):
    assert evaluate("p or r", p=left, r=right) is OR[left, right]


@pytest.mark.parametrize("value, expected", [(T, F), (F, T), (N, N)])
def test_not_truth_table(value, expected):
    assert evaluate("not p", p=value) is expected


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("q and a > 1", {"a": None}, False),
        ("not q or a > 1", {"a": None}, True),
        ("a > 1 and q", {"a": None}, False),
        ("a > 1 or not q", {"a": None}, True),
        ("a > 1 and not q", {"a": None}, None),
        ("a > 1 or q", {"a": None}, None),
        ("not (a > 1)", {"a": None}, None),
        ("true and false", {}, False),
        ("true and none", {}, None),
        ("false and none", {}, False),
        ("none or true", {}, True),
        ("q or n > 1 and not q", {}, True),
    ],
)
def test_logic_with_comparisons(source, record, expected):
    assert evaluate(source, **record) is expected


def test_logic_of_non_nullable_operands_is_not_nullable():
    assert not compile_source("q and n > 1 or not q")[0].nullable
    assert compile_source("q and p")[0].nullable


# -- membership --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("n in [1, 2, 3]", {}, True),
        ("n in [1, 3]", {}, False),
        ("n not in [1, 3]", {}, True),
        ("n in [1.5, 2.0]", {}, True),
        ("n in []", {}, False),
        ("n in (1, 2)", {}, True),
        ("ind in ['finance', 'retail']", {}, True),
        ("ind not in ['finance', 'retail']", {}, False),
        ("a in [1, 2]", {"a": None}, None),
        ("a not in [1, 2]", {"a": None}, None),
        ("'ex' in s", {}, True),
        ("'xe' in s", {}, False),
        ("'' in s", {}, True),
        ("s in 'context'", {}, True),
        ("'ex' not in s", {}, False),
        ("'ex' in s", {"s": None}, None),
        ("s in 'context'", {"s": None}, None),
        ("n in [m, 2]", {"m": None}, True),
        ("'vip' in grade.tags", {}, True),
        ("'x' in grade.tags", {}, False),
        ("'x' not in grade.tags", {}, True),
    ],
)
def test_membership(source, record, expected):
    assert evaluate(source, **record) is expected


@pytest.mark.parametrize(
    "source, record, expected",
    [
        # As in SQL, `x in (…)` is the `or` of `x == item`: a missing item that might have
        # matched leaves the answer missing, unless another item matches.
        ("n in [1, none]", {}, None),
        ("n in [2, none]", {}, True),
        ("n not in [1, none]", {}, None),
        ("n not in [2, none]", {}, False),
        ("n in [m, 1]", {"m": None}, None),
        ("n in [m, 1]", {"m": 2}, True),
        ("n not in [m, 1]", {"m": None}, None),
        ("n not in [m, 1]", {"m": 5}, True),
    ],
)
def test_membership_with_missing_items_follows_sql(source, record, expected):
    assert evaluate(source, **record) is expected


# -- missing values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("a is none", {"a": None}, True),
        ("a is none", {}, False),
        ("a is not none", {"a": None}, False),
        ("a is not none", {}, True),
        ("a is defined", {"a": None}, False),
        ("a is defined", {}, True),
        ("a is undefined", {"a": None}, True),
        ("n is none", {}, False),
        ("n is defined", {}, True),
        ("(b / n) is none", {"n": 0}, True),
        ("not a is none", {"a": None}, False),
        ("none is none", {}, True),
    ],
)
def test_is_none_and_is_defined(source, record, expected):
    assert evaluate(source, **record) is expected
    assert not compile_source(source)[0].nullable


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("a | default(0)", {"a": None}, 0),
        ("a | default(0)", {}, 1.5),
        ("a | default(0) + 1", {"a": None}, 1),
        ("s | default('none given')", {"s": None}, "none given"),
        ("s | default('none given')", {}, "text"),
        ("default(a, n)", {"a": None}, 2),
        ("a | default(m)", {"a": None, "m": None}, None),
        ("coalesce(a, m, n)", {"a": None, "m": None}, 2),
        ("coalesce(a, m, n)", {"a": None}, 4),
        ("coalesce(a, m, n)", {}, 1.5),
        ("coalesce(a, m)", {"a": None, "m": None}, None),
        ("coalesce(a)", {"a": None}, None),
        ("(b / 0) | default(-1)", {}, -1),
    ],
)
def test_default_and_coalesce(source, record, expected):
    assert evaluate(source, **record) == expected
    assert type(evaluate(source, **record)) is type(expected)


def test_default_nullability():
    assert not compile_source("a | default(0)")[0].nullable
    assert compile_source("a | default(m)")[0].nullable
    assert not compile_source("coalesce(a, m, n)")[0].nullable
    assert compile_source("coalesce(a, m)")[0].nullable
    assert compile_source("a | default(0)")[0].type == "number"
    assert compile_source("m | default(0)")[0].type == "integer"
    assert compile_source("coalesce(m, a)")[0].type == "number"


def test_default_with_a_mismatched_fallback_is_an_error():
    # A string fallback for a number would fail later, e.g. in `(a | default('x')) > 3`.
    for source in ["a | default('x')", "coalesce(a, 'x')", "coalesce(d, 1)", "p | default(0)"]:
        error = diagnostic(source)
        assert "default" in error.message or "coalesce" in error.message
        assert error.position is not None


# -- dates and functions -----------------------------------------------------------------


def test_days_since_uses_as_of():
    assert evaluate("days_since(d)") == 60
    assert evaluate("days_since(d)", as_of=datetime.date(2024, 1, 11)) == 10
    assert evaluate("days_since(d)", d=datetime.date(2024, 3, 11)) == -10
    assert evaluate("days_since(d)", d=None) is None
    assert evaluate("days_until(date('2024-03-31'))") == 30
    assert evaluate("days_between(d, as_of)") == 60
    assert evaluate("days_since(d) > 30") is True
    assert compile_source("days_since(d)")[0].type == "integer"


def test_date_literals():
    assert evaluate("date('2024-02-29')") == datetime.date(2024, 2, 29)
    with pytest.raises(ExpressionDiagnostic, match=r"date\('2023-02-29'\) is not a date"):
        evaluate("date('2023-02-29')")  # a date that does not exist is a ruleset error, found at validation
    with pytest.raises(ExpressionDiagnostic, match="is not a date"):
        evaluate("date('soon') is none")
    assert evaluate("date(s)", s="2024-01-01") == datetime.date(2024, 1, 1)
    assert evaluate("d >= date('2024-01-01')") is True


def test_string_functions():
    assert evaluate("upper(s)") == "TEXT"
    assert evaluate("s | upper | lower") == "text"
    assert evaluate("length(s)") == 4
    assert evaluate("s | length") == 4
    assert evaluate("length(grade.tags)") == 2
    assert evaluate("contains(s, 'ex')") is True
    assert evaluate("upper(s)", s=None) is None


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("sqrt(b * 3)", {}, 3.0),
        ("sqrt(-b)", {}, None),
        ("log10(revenue)", {}, 6.0),
        ("log10(0)", {}, None),
        ("round(a)", {}, 2.0),
        ("round(2.5)", {}, 3.0),
        ("round(-2.5)", {}, -3.0),
        ("round(a, n)", {"a": 1.23456}, 1.23),
        ("round(a, m)", {"m": None}, None),
    ],
)
def test_numeric_functions(source, record, expected):
    assert evaluate(source, **record) == expected


# -- conditional and concatenation -------------------------------------------------------


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("a if q else b", {}, 3.0),
        ("a if not q else b", {}, 1.5),
        ("a if p else b", {"p": None}, 3.0),  # a missing condition is not met
        ("a if p else b", {"p": True, "a": None}, None),
        ("'big' if a > 1 else 'small'", {}, "big"),
        ("'big' if a > 1 else 'small'", {"a": None}, "small"),
        ("n if q", {}, None),
        ("n if not q", {}, 2),
        ("1 if q else 2.5", {}, 2.5),
    ],
)
def test_conditional(source, record, expected):
    assert evaluate(source, **record) == expected


def test_conditional_types():
    assert compile_source("1 if q else 2.5")[0].type == "number"
    missing_else = compile_source("n if q")[0]
    assert missing_else.type == "integer" and missing_else.nullable
    assert not compile_source("n if p else 3")[0].nullable
    error = diagnostic("n if q else 'x'")
    assert "branches" in error.message and error.position == POS.shifted(7)


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("s ~ '-' ~ n", {}, "text-2"),
        ("b ~ ''", {}, "3"),
        ("a ~ ''", {}, "1.5"),
        ("q ~ ''", {}, "False"),
        ("d ~ ''", {}, "2024-01-01"),
        ("'x' ~ s", {"s": None}, None),
        ("grade.label ~ '/' ~ grade.score", {}, "S/90"),
    ],
)
def test_concatenation(source, record, expected):
    assert evaluate(source, **record) == expected


# -- outcomes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, record, expected",
    [
        ("grade.label == 'S'", {}, True),
        ("grade.label == 'A'", {}, False),
        ("grade.label == 'S'", {"grade": (None, None, ())}, None),
        ("grade.score >= 80", {}, True),
        ("grade.label is none", {"grade": (None, None, ())}, True),
        ("'vip' in grade.tags and grade.score > 50", {}, True),
    ],
)
def test_outcome_attributes(source, record, expected):
    assert evaluate(source, **record) is expected


def test_outcome_reads():
    compiled, _ = compile_source("grade.label == 'S' and a > n")
    assert compiled.reads == {"grade", "a", "n"}


# -- errors: message, hint and position --------------------------------------------------


def test_unknown_name_with_suggestion():
    error = diagnostic("a > 1 and revenu > 2")
    assert "unknown name 'revenu'" in error.message
    assert error.hint == "did you mean 'revenue'?"
    assert error.position == Position("r.yaml", 3, col(10))


def test_unknown_name_position_is_shifted_from_the_given_position():
    error = diagnostic("round(revenu)", Position("r.yaml", 3, 10))  # the name is at offset 6
    assert error.position == Position("r.yaml", 3, 16)
    assert error.hint == "did you mean 'revenue'?"
    error = diagnostic("n > 1 and revenu > 2", Position("r.yaml", 3, 10))
    assert error.position == Position("r.yaml", 3, 20)
    error = diagnostic("a + 1 > revenu", Position("r.yaml", 3, 10))
    assert error.position == Position("r.yaml", 3, 18)
    error = diagnostic("1 + zz", Position("other.yaml", 7, 1))
    assert error.position == Position("other.yaml", 7, 5)


def test_unknown_name_inside_a_string_is_not_located():
    error = diagnostic("s == 'zz' or zz")
    assert error.position == POS.shifted(13)


def test_error_without_a_position():
    error = diagnostic("zz", position=None)
    assert error.position is None
    assert "unknown name 'zz'" in error.message


def test_a_function_used_as_a_name():
    error = diagnostic("a > days_since")
    assert "is a function" in error.message
    assert error.position == POS.shifted(4)


def test_unknown_function_with_suggestion():
    error = diagnostic("days_sinse(d) > 30")
    assert "unknown function 'days_sinse'" in error.message
    assert error.hint == "did you mean 'days_since'?"
    assert error.position == POS


def test_unknown_filter_with_suggestion():
    error = diagnostic("a | defalt(0)")
    assert "unknown function 'defalt'" in error.message
    assert error.hint == "did you mean 'default'?"
    assert error.position == POS.shifted(4)


def test_unknown_attribute():
    error = diagnostic("grade.lable == 'S'")
    assert "no attribute 'lable'" in error.message
    assert "label, score, tags" in error.message
    assert error.hint == "did you mean 'label'?"
    assert error.position == POS.shifted(6)


def test_unknown_attribute_after_a_known_one_with_the_same_prefix():
    error = diagnostic("grade.label == 'S' and grade.lab == 'x'")
    assert "no attribute 'lab'" in error.message
    assert error.position == POS.shifted(29)


def test_attribute_of_a_plain_field():
    error = diagnostic("n > 1 and a.real > 1")
    assert "'a' is a number and has no attribute 'real'" in error.message
    assert error.position == POS.shifted(12)


def test_comparing_a_date_with_a_string():
    error = diagnostic("d > '2024-01-01'")
    assert "cannot compare a date with a string" in error.message
    assert "date(" in error.hint
    assert error.position == POS.shifted(2)


def test_comparing_with_none():
    for source, offset in [("a == none", 2), ("a != none", 2), ("none == a", 5)]:
        error = diagnostic(source)
        assert "is none" in error.hint
        assert error.position == POS.shifted(offset)


def test_and_on_numbers():
    error = diagnostic("a and n")
    assert "'and' needs true/false operands, not a number" in error.message
    assert error.hint and "x > 0" in error.hint
    assert error.position == POS.shifted(2)
    error = diagnostic("q or n")
    assert "'or' needs true/false operands, not a integer" in error.message
    assert error.position == POS.shifted(2)
    error = diagnostic("not s")
    assert "'not' needs true/false operands, not a string" in error.message
    assert error.position == POS


def test_condition_of_an_if_must_be_boolean():
    error = diagnostic("1 if a else 2")
    assert "'if' needs true/false operands" in error.message
    assert error.position == POS.shifted(2)


@pytest.mark.parametrize(
    "source, message, offset",
    [
        ("days_since()", "days_since() takes 1 arguments, got 0", 0),
        ("1 + days_since(d, d)", "days_since() takes 1 arguments, got 2", 4),
        ("round(a, 1, 2)", "round() takes 1 to 2 arguments, got 3", 0),
        ("min(a)", "min() takes 2 or more arguments, got 1", 0),
        ("a | default", "default() takes 2 arguments, got 1", 4),
        ("days_since('2024-01-01')", "argument 1 of days_since() must be a date, not a string", 0),
        ("lower(a)", "argument 1 of lower() must be a string, not a number", 0),
        ("round(a, 1.5)", "argument 2 of round() must be a integer, not a number", 0),
        ("a | upper", "argument 1 of upper() must be a string, not a number", 4),
        ("round(a, digits=1)", "round() takes positional arguments only", 0),
    ],
)
def test_wrong_arguments(source, message, offset):
    error = diagnostic(source)
    assert message in error.message
    assert error.position == POS.shifted(offset)


def test_wrong_argument_type_hints_at_date_literals():
    assert "date(" in diagnostic("days_since('2024-01-01')").hint


@pytest.mark.parametrize(
    "source, offset",
    [
        ("ind == 'goverment'", 8),
        ("'goverment' == ind", 1),
        ("ind != 'goverment'", 8),
        ("ind in ['finance', 'goverment']", 20),
        ("ind not in ['goverment']", 13),
    ],
)
def test_enum_literal_typo(source, offset):
    error = diagnostic(source)
    assert "'goverment' is not a value of ind" in error.message
    assert "government, finance, retail" in error.message
    assert error.hint == "did you mean 'government'?"
    assert error.position == POS.shifted(offset)


def test_enum_literal_without_a_close_match():
    error = diagnostic("ind == 'zzz'")
    assert "'zzz' is not a value of ind" in error.message
    assert error.hint is None


def test_enum_literals_that_exist_compile():
    assert evaluate("ind == 'retail' or ind in ['government']") is True


@pytest.mark.parametrize(
    "source, message, offset",
    [
        ("a >", "unexpected", 3),
        ("(a", "expected ')'", 2),
        ("a b", "unexpected 'b'", 2),
        ("abc b", "unexpected 'b'", 4),
        ("b b", "unexpected 'b'", 2),
        ("spend >", "unexpected", 7),
        ("a +", "unexpected", 3),
        ("a | 3", "expected token 'name'", 4),
        ("a.", "expected name or number", 2),
        ("n ==  = 3", "unexpected '='", 6),
        ("a }} {{ b", "unexpected '}}'", 2),
        ("a + 'x", "unexpected char", 4),
        ("a)", "unexpected ')'", 1),
        ("a if", "unexpected", 4),
    ],
)
def test_syntax_errors(source, message, offset):
    error = diagnostic(source)
    assert error.message.startswith("syntax error")
    assert message in error.message
    assert f"`{source}`" in error.message
    assert error.position == POS.shifted(offset)


def test_syntax_error_position_from_another_position():
    assert diagnostic("a >", Position("x.yaml", 12, 1)).position == Position("x.yaml", 12, 4)
    assert diagnostic("a b", Position("x.yaml", 12, 30)).position == Position("x.yaml", 12, 32)


@pytest.mark.parametrize("source", ["", "   ", None])
def test_empty_expression(source):
    error = diagnostic(source)
    assert error.message == "expression is empty"
    assert error.position == POS


@pytest.mark.parametrize(
    "source, message",
    [
        ("1" * 5000, "syntax error"),
        ("a b " + "1" * 5000, "syntax error"),
        ("(" * 3000 + "a" + ")" * 3000, "nested too deeply"),
        (" or ".join(["a > 1"] * 150), "nested too deeply"),
        ("-" * 300 + "a", "nested too deeply"),
    ],
    ids=["huge-literal", "huge-literal-after-an-error", "deep-parentheses", "long-or-chain", "many-minus-signs"],
)
def test_pathological_expressions_are_diagnostics(source, message):
    error = diagnostic(source)
    assert message in error.message
    assert error.position is not None


def test_long_but_reasonable_expressions_compile():
    assert evaluate(" + ".join(["a"] * 60), a=1.0) == 60.0
    assert evaluate(" and ".join(["a > 0"] * 40)) is True


@pytest.mark.parametrize(
    "source, message",
    [
        ("a < 'x'", "cannot compare a number with a string"),
        ("q < true", "a boolean has no order"),
        ("n == q", "cannot compare a integer with a boolean"),
        ("n in 'abc'", "'in' a string needs a string on the left"),
        ("n in n", "'in' needs a list or a string on the right"),
        ("s in [1, 2]", "cannot look for a string in a list of integer values"),
        ("[1, 'a']", "list mixes integer and string values"),
        ("s + 1", "'+' needs numbers, not a string"),
        ("-s", "'-' needs numbers, not a string"),
        ("a is odd", "unknown test 'is odd'"),
        ("a is none(1)", "takes no arguments"),
        ("a is defined(a.__class__)", "takes no arguments"),
    ],
)
def test_type_errors(source, message):
    error = diagnostic(source)
    assert message in error.message
    assert error.position is not None


# -- the compiled form -------------------------------------------------------------------


def test_reads_and_constants():
    compiled, namespace = compile_source("ind in ['finance', 'retail'] and days_since(d) > 3")
    assert compiled.reads == {"ind", "d"}
    assert compiled.type == "boolean"
    assert any(isinstance(value, frozenset) for value in namespace.values.values())


def test_literals_are_constants():
    compiled, _ = compile_source("'x'")
    assert compiled.constant and compiled.value == "x" and compiled.type == "string"
    compiled, _ = compile_source("[1, 2.5]")
    assert compiled.constant and compiled.value == (1, 2.5) and compiled.element_type == "number"


def test_one_namespace_serves_many_expressions():
    namespace = Namespace()
    first = compile_expression("a / n", SCOPE, FUNCTIONS_BY_NAME, namespace)
    second = compile_expression("a / n > 1 < 2", SCOPE, FUNCTIONS_BY_NAME, namespace)
    code = f"def _f(s0, s1):\n    return ({first.code}, {second.code})"
    globals_ = dict(namespace.values)
    exec(code, globals_)
    assert globals_["_f"](3.0, 2) == (1.5, True)
    assert globals_["_f"](3.0, 0) == (None, None)
