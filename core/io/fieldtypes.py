"""Field specs and the coercion of raw cell values into typed values.

Customer tables come from CRM exports, hand-kept spreadsheets and Chinese Excel, so a
number may arrive as ``"１，２３４"``, ``"3.5亿"`` or ``"¥1,200"`` and a yes/no as
``是``.  Coercion accepts what people really type, rejects what is ambiguous (``05/03/2024``)
with a one-line reason, and is built once per field (:func:`make_coercer`) because it
runs on every cell of tables with 100k+ rows.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, Overflow
from typing import Any

FIELD_TYPES = ("number", "integer", "string", "boolean", "date", "enum", "list")

Coercer = Callable[[Any], Any]


@dataclass(frozen=True)
class FieldSpec:
    """One input field of a ruleset: what it is called, its type and how to find its column.

    ``default`` is already coerced; ``aliases`` are other column headers (Chinese ones
    included) that mean this field; ``values`` are the allowed values of an enum;
    ``synonyms`` map a client's spelling to the canonical value (``国有企业`` → ``国企``),
    so its data need not be edited; ``on_invalid`` says what an unreadable value does:
    reject the row (``reject``) or read as missing (``missing``).
    """

    name: str
    type: str
    required: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    label: Any = None
    unit: str | None = None
    synonyms: tuple[tuple[str, str], ...] = ()
    on_invalid: str = "reject"


# Markers spreadsheets and exports use for "no value"; a string field keeps them as text.
# Every character ``str.isspace`` (and so ``str.strip``) treats as white space, spelt
# out so that no module scans all 1.1M code points to find them at import
# (tests/io/test_fieldtypes.py checks the list against that scan).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
NULL_MARKERS = frozenset({"na", "n/a", "#n/a", "null", "none", "nil", "-", "--", "—", "——"})


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """Coerce one value; ``None`` means missing.  Use :func:`make_coercer` in loops."""
    return make_coercer(spec)(raw)


def make_coercer(spec: FieldSpec) -> Coercer:
    """The coercion function for ``spec``, raising ``ValueError(reason)`` on a bad value."""
    if spec.type == "enum":
        coerce = _enum_coercer(spec.values)
    else:
        try:
            factory = _FACTORIES[spec.type]
        except KeyError:
            raise ValueError(f"unknown field type {spec.type!r} (known: {', '.join(FIELD_TYPES)})") from None
        coerce = factory()
    return _with_synonyms(coerce, spec.synonyms) if spec.synonyms else coerce


def fold(text: str) -> str:
    """The form in which enum values and synonyms are compared: NFKC, case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _with_synonyms(coerce: Coercer, synonyms: tuple[tuple[str, str], ...]) -> Coercer:
    """``coerce`` reading a synonym (compared trimmed and case folded) as its canonical value."""
    canonical = {fold(raw.strip()): value for raw, value in synonyms}

    def synonym(raw: Any) -> Any:
        if isinstance(raw, dict | list | tuple):
            return coerce(raw)
        text = _text(raw)
        return coerce(canonical.get(fold(text), raw) if text is not None else raw)

    return synonym


def _show(raw: Any) -> str:
    """A short quoted rendering of a bad value for a reason message."""
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_missing(text: str) -> bool:
    """Whether a stripped text cell means "no value" for a non-string field."""
    return not text or text.casefold() in NULL_MARKERS


def _kind_of(raw: Any) -> str:
    """How a value that is of the wrong Python type is described in a reason."""
    if isinstance(raw, dict):
        return "an object"
    if isinstance(raw, list | tuple):
        return "a list"
    return _show(raw)


# ---------------------------------------------------------------------------- numbers

_CURRENCY = ("¥", "$", "元", "RMB", "CNY", "USD")
# Longest first, so that 千万 is not read as 万.
_MULTIPLIERS = (("万亿", Decimal(10) ** 12), ("千万", Decimal(10) ** 7), ("百万", Decimal(10) ** 6),
                ("亿", Decimal(10) ** 8), ("万", Decimal(10) ** 4))
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", re.IGNORECASE)
# Thousands groups must be whole, so a decimal comma ("1,5") is refused, not read as 15.
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}([, ]\d{3})+(\.\d*)?")
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2009\u202f\u3000"), " ")


def _parse_decimal(raw: str) -> Decimal | None:
    """Read a written number exactly; ``None`` for a missing one.

    Full-width characters become half-width (NFKC), currency marks go, a ``%`` suffix is
    dropped (the number stays as written), and 万/亿 multiply.
    """
    text = unicodedata.normalize("NFKC", raw).translate(_SPACES).strip().replace("−", "-")
    if _is_missing(text):
        return None
    body = _strip_currency(text)
    multiplier = Decimal(1)
    if body.endswith("%"):
        body = body[:-1].rstrip()
    else:
        for suffix, factor in _MULTIPLIERS:
            if body.endswith(suffix):
                body, multiplier = _strip_currency(body[: -len(suffix)]), factor
                break
    if _GROUPED_NUMBER.fullmatch(body):
        body = body.replace(",", "").replace(" ", "")
    elif not _PLAIN_NUMBER.fullmatch(body):
        raise ValueError(f"{_show(raw)} is not a number")
    try:
        value = Decimal(body) * multiplier
    except Overflow:  # beyond Decimal's exponents (1e9999999元): no float holds it either
        raise ValueError(f"{_show(raw)} is not a finite number") from None
    except InvalidOperation:
        raise ValueError(f"{_show(raw)} is not a number") from None
    return value


def _strip_currency(text: str) -> str:
    text = text.strip()
    for mark in _CURRENCY:
        if text.startswith(mark):
            text = text[len(mark):].lstrip()
        if text.endswith(mark):
            text = text[: -len(mark)].rstrip()
    return text


# A number cell longer than this is no number anyone wrote (a pasted blob, an attack);
# reading it costs more than linear time in some engines, so it is refused unread.
MAX_NUMBER_TEXT = 256


def _long_number(raw: str) -> ValueError | None:
    if len(raw) > MAX_NUMBER_TEXT:
        return ValueError(f"{_show(raw)} is not a number (longer than {MAX_NUMBER_TEXT} characters)")
    return None


def _finite(value: float, raw: Any) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{_show(raw)} is not a finite number")
    return value


def _number_coercer() -> Coercer:
    def number(raw: Any) -> float | None:
        kind = type(raw)
        if kind is float:
            return _finite(raw, raw)
        if kind is int:
            return float(raw)
        if kind is str:
            if too_long := _long_number(raw):
                raise too_long
            try:
                value = float(raw)
            except ValueError:
                value = _parse_decimal(raw)
                if value is None:
                    return None
            return _finite(float(value), raw)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise ValueError(f"{_kind_of(raw)} is not a number")
        return _finite(float(raw), raw)

    return number


def _integer_coercer() -> Coercer:
    def integer(raw: Any) -> int | None:
        kind = type(raw)
        if kind is int:
            return raw
        if kind is str and (too_long := _long_number(raw)):
            raise too_long
        if kind is str and raw.isascii() and raw.isdigit():
            return int(raw)
        if kind is str:
            value = _parse_decimal(raw)
            if value is None:
                return None
        elif raw is None:
            return None
        elif isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise ValueError(f"{_kind_of(raw)} is not a whole number")
        else:
            value = Decimal(_finite(float(raw), raw)) if kind is float else Decimal(raw)
        if not value.is_finite():
            raise ValueError(f"{_show(raw)} is not a finite number")
        if value != value.to_integral_value():
            raise ValueError(f"{_show(raw)} is not a whole number")
        if value.adjusted() >= MAX_NUMBER_TEXT:  # 1e999999 would be a million digits built, for no one
            raise ValueError(f"{_show(raw)} is not a whole number anyone wrote (more than {MAX_NUMBER_TEXT} digits)")
        return int(value)

    return integer


# ---------------------------------------------------------------------------- booleans

_BOOLEANS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "是", "有", "对", "✓", "√"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "否", "无", "没有", "错", "✗", "×"), False),
}


def _boolean_coercer() -> Coercer:
    def boolean(raw: Any) -> bool | None:
        if raw is True or raw is False or raw is None:
            return raw
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        if not isinstance(raw, str):
            raise ValueError(f"{_kind_of(raw)} is not a yes/no value")
        text = unicodedata.normalize("NFKC", raw).strip().casefold()
        if _is_missing(text):
            return None
        try:
            return _BOOLEANS[text]
        except KeyError:
            raise ValueError(f"{_show(raw)} is not a yes/no value (use true/false, yes/no, 1/0 or 是/否)") from None

    return boolean


# ---------------------------------------------------------------------------- dates

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME)
_DAY_FIRST_OR_MONTH_FIRST = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}" + _TIME)


def _parse_date(raw: str) -> dt.date | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    if _is_missing(text):
        return None
    for pattern in (_YMD, _CHINESE, _COMPACT):
        match = pattern.fullmatch(text)
        if match:
            year, month, day = map(int, match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as error:
                raise ValueError(f"{_show(raw)} is not a valid date: {error}") from None
    if _DAY_FIRST_OR_MONTH_FIRST.fullmatch(text):
        raise ValueError(f"{_show(raw)} is ambiguous (day/month order unknown); write dates as YYYY-MM-DD")
    raise ValueError(f"{_show(raw)} is not a date (use YYYY-MM-DD)")


def _date_coercer() -> Coercer:
    def date(raw: Any) -> dt.date | None:
        kind = type(raw)
        if kind is dt.date:
            return raw
        if kind is str:
            if len(raw) == 10 and raw[4] == "-":
                try:
                    return dt.date.fromisoformat(raw)
                except ValueError:
                    pass
            return _parse_date(raw)
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if raw is None:
            return None
        if isinstance(raw, int) and not isinstance(raw, bool):
            return _parse_date(str(raw))
        raise ValueError(f"{_kind_of(raw)} is not a date")

    return date


# ---------------------------------------------------------------------------- text

def _text(raw: Any) -> str | None:
    """A scalar as text: Excel's integral floats lose their ``.0``, dates are ISO."""
    kind = type(raw)
    if kind is str:
        return raw.strip() or None
    if raw is None:
        return None
    if kind is float and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, dict | list | tuple):
        raise ValueError(f"{_kind_of(raw)} is not text")
    return str(raw).strip() or None


def _string_coercer() -> Coercer:
    return _text


def _enum_coercer(values: tuple[str, ...]) -> Coercer:
    canonical = {value.casefold(): value for value in values}
    listed = ", ".join(values)

    def enum(raw: Any) -> str | None:
        text = _text(raw)
        if text is None:
            return None
        key = fold(text)
        try:
            return canonical[key]
        except KeyError:
            pass
        if key in NULL_MARKERS:
            return None
        close = difflib.get_close_matches(key, list(canonical), n=1)
        hint = f" (did you mean {canonical[close[0]]!r}?)" if close else ""
        raise ValueError(f"{_show(text)} is not one of {listed}{hint}")

    return enum


_LIST_SEPARATORS = re.compile(r"[,;、，；|]")


def _list_coercer() -> Coercer:
    """Items as a tuple of text, so a list field compares equal to a list literal of an
    expression (``products == ['a', 'b']``), which compiles to a tuple."""

    def to_list(raw: Any) -> tuple[str, ...] | None:
        if raw is None:
            return None
        if isinstance(raw, list | tuple):
            return _list_items(raw)
        if not isinstance(raw, str):
            raise ValueError(f"{_kind_of(raw)} is not a list")
        text = raw.strip()
        if _is_missing(text):
            return None
        if text.startswith("["):
            return _list_items(_json_array(raw, text))
        return tuple(item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip())

    return to_list


def _json_array(raw: str, text: str) -> list:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{_show(raw)} is not a valid JSON array: {error.msg}") from None
    if not isinstance(items, list):
        raise ValueError(f"{_show(raw)} is not a list")
    return items


def _list_items(items: list | tuple) -> tuple[str, ...]:
    out = []
    for item in items:
        text = _text(item)
        if text is not None:
            out.append(text)
    return tuple(out)


_FACTORIES: dict[str, Callable[[], Coercer]] = {
    "number": _number_coercer,
    "integer": _integer_coercer,
    "boolean": _boolean_coercer,
    "date": _date_coercer,
    "string": _string_coercer,
    "list": _list_coercer,
}
