import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierkit.io.fieldtypes import FIELD_TYPES, FieldSpec, coerce, make_coercer

INDUSTRIES = ("government", "finance", "manufacturing", "energy", "education", "healthcare", "retail", "other")


def coercer(type_, **kwargs):
    return make_coercer(FieldSpec("f", type_, **kwargs))


def rejection(type_, raw, **kwargs):
    with pytest.raises(ValueError) as info:
        coercer(type_, **kwargs)(raw)
    return str(info.value)


MISSING = [None, "", "   ", "NA", "n/a", "N/A", "null", "-", "—", "#N/A"]


@pytest.mark.parametrize("type_", ["number", "integer", "boolean", "date", "list"])
@pytest.mark.parametrize("raw", MISSING)
def test_missing_values_and_null_markers_are_none_for_non_string_types(type_, raw):
    assert coercer(type_)(raw) is None


def test_enum_treats_null_markers_as_missing():
    assert coercer("enum", values=INDUSTRIES)("N/A") is None


def test_string_keeps_null_markers_as_text_but_blank_is_missing():
    string = coercer("string")
    assert string("NA") == "NA"
    assert string("-") == "-"
    assert string("  ") is None
    assert string(None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12.0),
        (1.5, 1.5),
        ("42", 42.0),
        (" -7.25 ", -7.25),
        ("1,234.5", 1234.5),
        ("1 234", 1234.0),
        ("1\u00a0234\u00a0567", 1234567.0),
        ("１，２３４", 1234.0),
        ("１２．５", 12.5),
        ("12.5%", 12.5),
        ("12.5 ％", 12.5),
        ("¥1,200", 1200.0),
        ("￥1,200", 1200.0),
        ("$ 99.90", 99.9),
        ("1200元", 1200.0),
        ("3.5亿", 350_000_000.0),
        ("3.5 亿元", 350_000_000.0),
        ("12万", 120_000.0),
        ("1.5万元", 15_000.0),
        ("2千万", 20_000_000.0),
        ("1e10", 1e10),
        ("−3", -3.0),
    ],
)
def test_number_accepts_what_people_type(raw, expected):
    value = coercer("number")(raw)
    assert value == expected
    assert type(value) is float


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", "'abc' is not a number"),
        ("1,5", "'1,5' is not a number"),
        ("12,34,5", "'12,34,5' is not a number"),
        ("¥", "'¥' is not a number"),
        ("nan", "'nan' is not a finite number"),
        ("inf", "'inf' is not a finite number"),
        (float("nan"), "nan is not a finite number"),
        (float("inf"), "inf is not a finite number"),
        (True, "True is not a number"),
        ({"a": 1}, "an object is not a number"),
        ([1], "a list is not a number"),
    ],
)
def test_number_rejects_with_a_reason(raw, reason):
    assert rejection("number", raw) == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(5, 5), ("17", 17), ("1,200", 1200), ("-3", -3), ("3.0", 3), (3.0, 3), ("1.2万", 12000),
     ("１２", 12), ("12345678901234567890", 12345678901234567890)],
)
def test_integer_accepts_whole_numbers(raw, expected):
    value = coercer("integer")(raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("3.5", "'3.5' is not a whole number"),
        (3.5, "3.5 is not a whole number"),
        ("ten", "'ten' is not a number"),
        (False, "False is not a whole number"),
        (float("nan"), "nan is not a finite number"),
    ],
)
def test_integer_rejects_fractions_and_text(raw, reason):
    assert rejection("integer", raw) == reason


@pytest.mark.parametrize(
    "raw", [True, "true", "TRUE", "Yes", "y", "1", 1, 1.0, "是", "有", "对", " T "],
)
def test_boolean_true(raw):
    assert coercer("boolean")(raw) is True


@pytest.mark.parametrize(
    "raw", [False, "false", "False", "NO", "n", "0", 0, 0.0, "否", "无", "错"],
)
def test_boolean_false(raw):
    assert coercer("boolean")(raw) is False


@pytest.mark.parametrize(("raw", "shown"), [("maybe", "'maybe'"), (2, "2"), ("是的吧", "'是的吧'")])
def test_boolean_rejects_other_values(raw, shown):
    assert rejection("boolean", raw).startswith(f"{shown} is not a yes/no value")


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024/3/5",
        "2024.3.5",
        "2024.03.05",
        "20240305",
        20240305,
        "2024年3月5日",
        "2024年03月05号",
        "２０２４－０３－０５",
        "2024-03-05 10:00:00",
        "2024-03-05T10:00",
        "2024-03-05T10:00:00+08:00",
        dt.date(2024, 3, 5),
        dt.datetime(2024, 3, 5, 10, 30),
    ],
)
def test_date_accepts_unambiguous_forms(raw):
    value = coercer("date")(raw)
    assert value == dt.date(2024, 3, 5)
    assert type(value) is dt.date


@pytest.mark.parametrize("raw", ["05/03/2024", "5/3/24", "05-03-2024", "25.12.2024"])
def test_date_rejects_day_month_order_it_cannot_know(raw):
    assert rejection("date", raw) == f"{raw!r} is ambiguous (day/month order unknown); write dates as YYYY-MM-DD"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024-02-30", "'2024-02-30' is not a valid date: day is out of range for month"),
        ("2024年13月1日", "'2024年13月1日' is not a valid date: month must be in 1..12"),
        ("yesterday", "'yesterday' is not a date (use YYYY-MM-DD)"),
        (45356, "'45356' is not a date (use YYYY-MM-DD)"),
        (1.5, "1.5 is not a date"),
    ],
)
def test_date_rejects_bad_values(raw, reason):
    assert rejection("date", raw) == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" ACME Ltd ", "ACME Ltd"), (123.0, "123"), (1.25, "1.25"), (42, "42"), (dt.date(2024, 1, 2), "2024-01-02"),
     ("客户甲", "客户甲")],
)
def test_string(raw, expected):
    assert coercer("string")(raw) == expected


def test_string_rejects_structures():
    assert rejection("string", {"a": 1}) == "an object is not text"


@pytest.mark.parametrize(("raw", "expected"), [("finance", "finance"), ("Finance", "finance"), (" GOVERNMENT ", "government")])
def test_enum_returns_the_canonical_value(raw, expected):
    assert coercer("enum", values=INDUSTRIES)(raw) == expected


def test_enum_suggests_the_closest_value():
    assert rejection("enum", "goverment", values=INDUSTRIES) == (
        "'goverment' is not one of government, finance, manufacturing, energy, education, healthcare, "
        "retail, other (did you mean 'government'?)"
    )


def test_enum_without_a_close_value_gives_no_suggestion():
    assert rejection("enum", "xyz", values=("a", "b")) == "'xyz' is not one of a, b"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a, b; c、d，e|f", ("a", "b", "c", "d", "e", "f")),
        ("solo", ("solo",)),
        ("a,,b, ", ("a", "b")),
        ('["x", "y, z", 3]', ("x", "y, z", "3")),
        (["p", " q ", "", None, 2.0], ("p", "q", "2")),
        (("p", "q"), ("p", "q")),
        ("[]", ()),
    ],
)
def test_list(raw, expected):
    """Lists come back as tuples: what an expression's list literal compiles to."""
    value = coercer("list")(raw)
    assert type(value) is tuple and value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("[1, 2", "'[1, 2' is not a valid JSON array: Expecting ',' delimiter"), (5, "5 is not a list"),
     ('[{"a": 1}]', "an object is not text")],
)
def test_list_rejects(raw, reason):
    assert rejection("list", raw) == reason


def test_unknown_type_is_refused():
    with pytest.raises(ValueError, match=r"unknown field type 'money' \(known: number, integer"):
        make_coercer(FieldSpec("f", "money"))


def test_coerce_is_the_one_off_form_of_make_coercer():
    assert coerce(FieldSpec("f", "number"), "2万") == 20000.0
    assert set(FIELD_TYPES) == {"number", "integer", "string", "boolean", "date", "enum", "list"}


def test_rejection_shows_long_values_shortened():
    reason = rejection("number", "x" * 200)
    assert len(reason) < 90
    assert reason.endswith("... is not a number")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_grouped_integers_read_back_exactly(n):
    assert coercer("integer")(f"{n:,}") == n
    assert coercer("number")(f"{n:,}") == float(n)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_pass_through_and_their_text_reads_back(x):
    number = coercer("number")
    assert number(x) == x
    assert number(repr(x)) == x


@given(st.dates())
def test_dates_read_back_from_iso_and_chinese_forms(day):
    date = coercer("date")
    if day.year >= 1000:
        assert date(day.isoformat()) == day
        assert date(f"{day.year}年{day.month}月{day.day}日") == day


def test_number_fast_path_keeps_exact_floats():
    assert coercer("number")("0.1") == 0.1
    assert not math.isnan(coercer("number")("1e-300"))


def test_whitespace_is_every_character_python_strips():
    from tierkit.io.fieldtypes import WHITESPACE

    assert WHITESPACE == "".join(chr(code) for code in range(0x110000) if chr(code).isspace())
