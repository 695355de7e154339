"""SQL that turns a raw customer relation into typed field values, as Python reads them.

:func:`typed_input` compiles the reading of one input table (header matching, the
coercion of every cell by :func:`tierkit.fieldtypes.make_coercer`, defaults, required
values, the rejected-row reasons of :class:`tierkit.io._TableBuilder`) into one
``SELECT`` for DuckDB or Spark.  Every value Python accepts, SQL accepts with the same
value (numbers to the same double, bit for bit); every value Python rejects, SQL
rejects with the same reason text.

The SQL is a chain of ``SELECT *, ... FROM (...)`` layers; each intermediate column is
named ``_q<n>`` and computed once.  Number parsing mirrors Python exactly: a cell that
``float()`` reads is rebuilt as digits and a decimal exponent and cast to ``DOUBLE``
once (correctly rounded, like ``float()``); any other number goes the
``_parse_decimal`` way, rounded to 28 significant digits half-even as ``Decimal``
multiplication does, then cast once.

That lenient reading costs tens of microseconds a cell (an NFKC table as one long
``translate``, regexes for currency marks, 万/亿, Chinese dates).  Most cells are in
their type's plain form (``-12.50``, ``2026-01-05``, ``true``, an enum value as
written), which one cast or lookup reads with the same value: on a dialect with
``plain_first_typing`` (DuckDB) :func:`typing_survey` finds the fields with any other
cell, and :func:`typed_input` types the rows of plain cells by casts and sends only the
other rows through the lenient reading of those fields.

Known differences from Python (each one a rejection with a reason saying so, never a
different value):

* NFKC.  SQL applies NFKC as a table of single characters: the full-width forms,
  odd spaces, circled and other compatibility characters of the common blocks
  (Latin, Greek, Cyrillic, punctuation, symbols, CJK, kana, Hangul, emoji) whose NFKC
  form is one character.  A number, integer, date, yes/no or enum cell holding any
  other character (e.g. ``½``, ``㎏``, Arabic-Indic digits, combining marks, a private
  use or unassigned character) is rejected with ``<cell> has characters the SQL
  engines do not read (use the Python engine)``; Python may accept it or reject it
  with its own reason.
* Enum matching folds case for ASCII letters only; a cell with a non-ASCII letter whose
  case fold differs (``É``, ``ß``, Greek, Cyrillic) is rejected as above, unless the
  cell is exactly a declared value written as declared, upper-, lower- or title-cased.
* Synonyms fold case as the enum matching above: a cell spelling a synonym with a
  non-ASCII letter in another case than the synonym's upper-, lower- or title-cased
  forms is not recognised (an enum field rejects it as above; a string field keeps it).
* Whole numbers outside the 64-bit range (``BIGINT``), which Python keeps as big
  integers, are rejected with ``<cell> is outside the
  64-bit range of the SQL engines (use the Python engine)``; a typed ``DOUBLE``
  holding a whole number of 2**63 or more, given to a string or enum field, likewise.
* A number whose exponent overflows Python's ``Decimal`` context (above 1e999999 after
  a currency mark, ``%`` or 万/亿), on which Python raises ``decimal.Overflow`` (not a
  rejection: the whole read fails), is rejected as ``is not a finite number``.
* JSON list cells: flat arrays of strings, ``null``, whole numbers, ``true`` and
  ``false`` are read as Python reads them, and malformed arrays get Python's reason
  (``Expecting value``, ``Expecting ',' delimiter``, ``Extra data``, string errors);
  arrays holding a fractional number, ``NaN``/``Infinity``, a nested array or object, a
  ``\\u`` escape of a lone surrogate, or a string with characters outside the table
  above are rejected with ``<cell> is a JSON array the SQL engines do not read (use the
  Python engine)``.
* The enum "did you mean" hint (difflib) is computed without difflib's "autojunk"
  heuristic, which Python applies to cells of 200 characters or more.
* Spark only: a typed ``DOUBLE`` rendered as text (a non-whole double given to a string
  or enum field, or in a reason) uses the shortest of Java's ``%.Ne`` renderings that
  reads back as the same double; Python's ``repr`` may pick a different last digit in
  rare ties.
* Header checks (two columns matching one field, a missing required column) raise at
  compile time, even for a relation without rows, where ``read_table`` raises only
  once a row is read.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .fieldtypes import _BOOLEANS, _CURRENCY, _MULTIPLIERS, MAX_NUMBER_TEXT, NULL_MARKERS, WHITESPACE, FieldSpec, _enum_coercer, fold
from .io import _where, check_required_columns, match_columns
from .sqldialect import Dialect

__all__ = ["typed_input", "typing_survey", "coerced_columns", "UNSUPPORTED"]

UNSUPPORTED = "has characters the SQL engines do not read (use the Python engine)"
OUT_OF_RANGE = "is outside the 64-bit range of the SQL engines (use the Python engine)"
JSON_UNSUPPORTED = "is a JSON array the SQL engines do not read (use the Python engine)"

# ---------------------------------------------------------------------------- characters

# The blocks whose characters SQL knows: what NFKC does to each, how repr shows it.
_BLOCKS = (
    (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x2000, 0x206F), (0x20A0, 0x20BF),
    (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x23FF), (0x2460, 0x24FF), (0x2500, 0x27BF),
    (0x2F00, 0x2FDF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFE30, 0xFE6F), (0xFF00, 0xFFEF), (0x1F300, 0x1FAFF),
)
_FORMAT_CHARS = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


@dataclass(frozen=True)
class _Chars:
    known: str  # regex class body of every character SQL knows
    enum_safe: str  # regex class body of the known characters whose case fold SQL mirrors
    nfkc_from: str
    nfkc_to: str
    escapes: tuple[tuple[str, str], ...]  # non-printable known characters and their repr


def _plain(code: int) -> bool:
    char = chr(code)
    category = unicodedata.category(char)
    return (
        char.isprintable()
        and not char.isspace()
        and unicodedata.is_normalized("NFKC", char)
        and not category.startswith("M")
        and not (category == "Nd" and not char.isascii())
    )


def code_point_class(codes) -> str:
    """The inside of a regex character class (RE2 and Java spell ``\\x{…}`` alike) of code points."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(
        f"\\x{{{lo:x}}}" if lo == hi else f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in ranges
    )


@functools.lru_cache(maxsize=1)
def _chars() -> _Chars:
    plain = {code for lo, hi in _BLOCKS for code in range(lo, hi + 1) if _plain(code)}
    plain.add(0x20)
    mapped: dict[int, int] = {}
    for lo, hi in _BLOCKS:
        for code in range(lo, hi + 1):
            target = unicodedata.normalize("NFKC", chr(code))
            if code not in plain and len(target) == 1 and target != chr(code) and ord(target) in plain:
                mapped[code] = ord(target)
    other = {ord(c) for c in WHITESPACE} | set(range(1, 0x20)) | {0x7F} | {ord(c) for c in _FORMAT_CHARS}
    known = plain | set(mapped) | other

    def folds_alike(code: int) -> bool:
        text = chr(mapped.get(code, code))
        text = unicodedata.normalize("NFKC", text) if code not in other else text
        return text.casefold() == _ascii_lower(text)

    escapes = tuple(
        (chr(code), repr(chr(code))[1:-1]) for code in sorted(known) if not chr(code).isprintable()
    )
    return _Chars(
        known=code_point_class(known),
        enum_safe=code_point_class(code for code in known if folds_alike(code)),
        nfkc_from="".join(chr(code) for code in sorted(mapped)),
        nfkc_to="".join(chr(mapped[code]) for code in sorted(mapped)),
        escapes=escapes,
    )


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ASCII_LOWER = str.maketrans(_UPPER, _LOWER)

# ---------------------------------------------------------------------------- regexes
# (RE2 for DuckDB, java.util.regex for Spark: the common subset, anchored with ^ and \z)

_D = "[0-9]"
_FLOAT_DIGITS = "[0-9](?:_?[0-9])*"
_FLOAT_SYNTAX = (
    f"[+-]?(?:(?:{_FLOAT_DIGITS}(?:\\.(?:{_FLOAT_DIGITS})?)?|\\.{_FLOAT_DIGITS})(?:[eE][+-]?{_FLOAT_DIGITS})?"
    "|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
)
_NONFINITE = "[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])"
_NUMBER_PARTS = "([+-]?)([0-9]*)(?:\\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?"
_GROUPED = "[+-]?[0-9]{1,3}(?:[, ][0-9]{3})+(?:\\.[0-9]*)?"
_PLAIN = "[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_WS_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
_TIME = "(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_YMD = f"([0-9]{{4}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{1,2}}){_TIME}"
_CHINESE = (
    f"([0-9]{{4}}){_WS_CLASS}*年{_WS_CLASS}*([0-9]{{1,2}}){_WS_CLASS}*月{_WS_CLASS}*([0-9]{{1,2}})"
    f"{_WS_CLASS}*[日号]?{_TIME}"
)
_COMPACT = "([0-9]{4})([0-9]{2})([0-9]{2})"
_AMBIGUOUS = f"[0-9]{{1,2}}[-/.][0-9]{{1,2}}[-/.][0-9]{{2,4}}{_TIME}"
_ISO_WEEK = "([0-9]{4})-W([0-9]{2})-([0-9])"
_LIST_SEPARATORS = "[,;、，；|]"
_CURRENCY_STRIP = (
    f"^{_WS_CLASS}*"
    + "".join(f"(?:{re.escape(mark)}{_WS_CLASS}*)?" for mark in _CURRENCY)
    + "([\\s\\S]*?)"
    + "".join(f"(?:{_WS_CLASS}*{re.escape(mark)})?" for mark in reversed(_CURRENCY))
    + f"{_WS_CLASS}*\\z"
)

# JSON (flat arrays), as Python's json module (its C scanner) reads them
_JWS = "[ \\t\\n\\r]*"
_JSTRING = '"(?:[^"\\\\\\x{0}-\\x{1f}]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*"'
_JNUMBER = "-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_JITEM = f"(?:{_JSTRING}|{_JNUMBER}|null|true|false)"
_JSTRING_HEAD = '^"(?:[^"\\\\\\x{0}-\\x{1f}]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*'
_CONTROL_START = "^[\\x{0}-\\x{1f}]"
_NOT_READ_START = "^(?:[\\[{]|-?Infinity|NaN)"
_JSON_PIECES = '(?:\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2})|\\\\u[0-9a-fA-F]{4}|\\\\.|[^\\\\]+'
_FLOAT_TAIL = "^-?[0-9]+[.eE]"


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})\\z"


def _json_messages() -> dict[str, str]:
    """The messages of this Python's json module, by the mistake that causes them."""

    def message(text: str) -> str:
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            return error.msg
        raise AssertionError(text)

    return {
        "value": message("[x]"),
        "delimiter": message("[1 2]"),
        "trailing": message("[1,]"),
        "extra": message("[1] x"),
        "unterminated": message('["a'),
        "control": message('["\x01"]'),
        "escape": message('["\\x"]'),
        "uescape": message('["\\u12"]'),
    }


# ---------------------------------------------------------------------------- SQL helpers


class _Sql:
    """Dialect-specific spellings this module needs beyond :class:`Dialect`."""

    def __init__(self, dialect: Dialect):
        self.d = dialect
        self.duck = dialect.name == "duckdb"

    def s(self, text: str) -> str:
        return self.d.string(text)

    def match(self, x: str, pattern: str) -> str:
        """Whether ``pattern`` (anchor it yourself) matches somewhere in ``x``."""
        if self.duck:
            return f"regexp_matches({x}, {self.s(pattern)})"
        return f"({x} RLIKE {self.s(pattern)})"

    def full(self, x: str, pattern: str) -> str:
        return self.match(x, _anchored(pattern))

    def extract(self, x: str, pattern: str, group: int) -> str:
        return f"regexp_extract({x}, {self.s(pattern)}, {group})"

    def extract_all(self, x: str, pattern: str) -> str:
        return f"regexp_extract_all({x}, {self.s(pattern)}, 0)"

    def split(self, x: str, pattern: str) -> str:
        if self.duck:
            return f"regexp_split_to_array({x}, {self.s(pattern)})"
        return f"split({x}, {self.s(pattern)}, -1)"

    def _trim(self, x: str, side: str, chars: str) -> str:
        if self.duck:
            function = {"both": "trim", "leading": "ltrim", "trailing": "rtrim"}[side]
            return f"{function}({x}, {self.s(chars)})"
        return f"trim({side.upper()} {self.s(chars)} FROM {x})"

    def strip(self, x: str) -> str:
        """``str.strip()``; a cell whose end characters are not whitespace skips the trim,
        which is slow with a set of characters (most cells have nothing to strip)."""
        return f"CASE WHEN {self._not_space(self._first(x))} AND {self._not_space(self._last(x))} THEN {x} ELSE {self._trim(x, 'both', WHITESPACE)} END"

    def _first(self, x: str) -> str:
        return f"unicode({x})" if self.duck else f"ascii({x})"

    def _last(self, x: str) -> str:
        return f"unicode(right({x}, 1))" if self.duck else f"ascii(right({x}, 1))"

    def _not_space(self, code: str) -> str:
        spaces = ", ".join(str(ord(char)) for char in WHITESPACE if ord(char) > 32)
        return f"({code} > 32 AND {code} NOT IN ({spaces}))"

    def lstrip(self, x: str) -> str:
        return self._trim(x, "leading", WHITESPACE)

    def rstrip(self, x: str) -> str:
        return self._trim(x, "trailing", WHITESPACE)

    def ltrim_char(self, x: str, char: str) -> str:
        return self._trim(x, "leading", char)

    def rtrim_char(self, x: str, char: str) -> str:
        return self._trim(x, "trailing", char)

    def translate(self, x: str, source: str, target: str) -> str:
        return f"translate({x}, {self.s(source)}, {self.s(target)})"

    def lower_ascii(self, x: str) -> str:
        return self.translate(x, _UPPER, _LOWER)

    def contains(self, x: str, text: str) -> str:
        return f"(instr({x}, {self.s(text)}) > 0)"

    def text(self, x: str) -> str:
        return f"CAST({x} AS {self.d.text_type})"

    def bigint(self, x: str) -> str:
        return f"TRY_CAST({x} AS BIGINT)"

    def double(self, x: str) -> str:
        return f"TRY_CAST({x} AS DOUBLE)"

    def make_date(self, year: str, month: str, day: str, ok: str) -> str:
        """The date, or NULL unless ``ok`` (arguments are made safe first: no engine errors)."""
        return (
            f"CASE WHEN {ok} THEN make_date(CAST(CASE WHEN {ok} THEN {year} ELSE 2000 END AS INTEGER), "
            f"CAST(CASE WHEN {ok} THEN {month} ELSE 1 END AS INTEGER), "
            f"CAST(CASE WHEN {ok} THEN {day} ELSE 1 END AS INTEGER)) END"
        )

    def add_days(self, day: str, days: str) -> str:
        return self.d.add_days(day, days)

    def isodow(self, day: str) -> str:
        """1 for Monday .. 7 for Sunday."""
        if self.duck:
            return f"isodow({day})"
        return f"(((dayofweek({day}) + 5) % 7) + 1)"

    def year(self, day: str) -> str:
        return f"year({day})"

    def is_nan(self, x: str) -> str:
        return f"isnan({x})"

    def inf(self, negative: bool = False) -> str:
        return self.d.double_literal(float("-inf") if negative else float("inf"))

    def lambda1(self, var: str, body: str) -> str:
        return f"lambda {var}: {body}" if self.duck else f"{var} -> {body}"

    def lambda2(self, a: str, b: str, body: str) -> str:
        return f"lambda {a}, {b}: {body}" if self.duck else f"({a}, {b}) -> {body}"

    def transform(self, items: str, var: str, body: str) -> str:
        function = "list_transform" if self.duck else "transform"
        return f"{function}({items}, {self.lambda1(var, body)})"

    def filter(self, items: str, var: str, body: str) -> str:
        function = "list_filter" if self.duck else "filter"
        return f"{function}({items}, {self.lambda1(var, body)})"

    def length_of_list(self, items: str) -> str:
        return self.d.list_length(items)

    def join(self, items: str, separator: str) -> str:
        function = "array_to_string" if self.duck else "array_join"
        return f"{function}({items}, {self.s(separator)})"

    def element(self, items: str, index: str) -> str:
        """1-based; negative from the end."""
        if self.duck:
            return f"list_extract({items}, {index})"
        return f"try_element_at({items}, {index})"

    def empty_text_list(self) -> str:
        return self.d.list_of([], "string")

    def hex_to_int(self, x: str) -> str:
        if self.duck:
            return f"CAST(('0x' || {x}) AS INTEGER)"
        return f"CAST(conv({x}, 16, 10) AS INT)"

    def char(self, code: str) -> str:
        """The character with a Unicode code point (DuckDB)."""
        return f"chr({code})"

    def reduce(self, items: str, initial: str, acc: str, var: str, body: str) -> str:
        if self.duck:
            return f"list_reduce({items}, {self.lambda2(acc, var, body)}, {initial})"
        return f"aggregate({items}, {initial}, {self.lambda2(acc, var, body)})"

    def range1(self, count: int) -> str:
        """The list 1..count."""
        if self.duck:
            return f"range(1, {count + 1})"
        return f"sequence(1, {count})"


# ---------------------------------------------------------------------------- layers


class _Layers:
    """Intermediate columns (``_q<n>``), computed in dependency order: a column goes one
    ``SELECT`` layer after the last column its expression names.  A column named only
    once is written into the expression that names it instead (fewer layers: Spark's
    analyser is slow on deep chains of subqueries)."""

    def __init__(self, dialect: Dialect):
        self.expressions: list[str] = []
        # string literals are skipped when looking for names (a value may spell one)
        literal = r"'(?:[^'\\]|''|\\.)*'" if dialect.backslash_escapes else r"'(?:[^']|'')*'"
        self.tokens = re.compile(f"{literal}|\\b_q(\\d+)\\b")

    def let(self, expression: str) -> str:
        self.expressions.append(expression)
        return f"_q{len(self.expressions) - 1}"

    def _names(self, expression: str) -> list[int]:
        return [int(m.group(1)) for m in self.tokens.finditer(expression) if m.group(1) is not None]

    def sql(self, base: str, outputs: list[str]) -> tuple[str, list[str]]:
        """The layered query over ``base`` and the ``outputs`` rewritten over it."""
        uses = [0] * len(self.expressions)
        for expression in [*self.expressions, *outputs]:
            for index in self._names(expression):
                uses[index] += 1
        resolved: dict[int, str] = {}

        def resolve(expression: str) -> str:
            def replace(match: re.Match) -> str:
                if match.group(1) is None:
                    return match.group(0)
                index = int(match.group(1))
                if uses[index] == 1:
                    if index not in resolved:
                        resolved[index] = resolve(self.expressions[index])
                    return f"({resolved[index]})"
                return match.group(0)

            return self.tokens.sub(replace, expression)

        kept = [index for index in range(len(self.expressions)) if uses[index] > 1]
        bodies = {index: resolve(self.expressions[index]) for index in kept}
        outputs = [resolve(expression) for expression in outputs]
        level: dict[int, int] = {}
        for index in kept:  # names only point to earlier columns
            level[index] = 1 + max((level[i] for i in self._names(bodies[index])), default=0)
        query = base
        for layer in range(1, max(level.values(), default=0) + 1):
            items = [f"{bodies[index]} AS _q{index}" for index in kept if level[index] == layer]
            query = f"SELECT *, {', '.join(items)} FROM ({query}) AS _l{layer}"
        return query, outputs


@dataclass
class _Result:
    value: str  # typed SQL value (NULL when rejected or missing)
    reason: str  # SQL text, NULL when the cell is accepted


class _Compiler:
    def __init__(self, dialect: Dialect):
        self.d = dialect
        self.f = _Sql(dialect)
        self.layers = _Layers(dialect)
        self.json = _json_messages()

    @functools.cached_property
    def chars(self) -> _Chars:
        """The character tables (0.4 s to build), only when a lenient cell's SQL needs them."""
        return _chars()

    def let(self, expression: str) -> str:
        return self.layers.let(expression)

    def s(self, text: str) -> str:
        return self.d.string(text)

    # -- shared pieces --------------------------------------------------------------
    def show(self, x: str) -> str:
        """``_show(x)``: Python's repr of a text, cut to 60 characters (exact for known characters)."""
        f = self.f
        escaped = self.let(f"replace({x}, {self.s(chr(92))}, {self.s(chr(92) * 2)})")
        chain = escaped
        for char, shown in self.chars.escapes:
            chain = f"replace({chain}, {self.s(char)}, {self.s(shown)})"
        pattern = "[" + "".join(f"\\x{{{ord(c):x}}}" for c, _ in self.chars.escapes) + "]"
        escaped = self.let(f"CASE WHEN {f.match(escaped, pattern)} THEN {chain} ELSE {escaped} END")
        quoted = self.let(
            f"CASE WHEN {f.contains(x, chr(39))} AND NOT {f.contains(x, chr(34))} "
            f"THEN '\"' || {escaped} || '\"' "
            f"ELSE {self.s(chr(39))} || replace({escaped}, {self.s(chr(39))}, {self.s(chr(92) + chr(39))}) || {self.s(chr(39))} END"
        )
        return self.let(f"CASE WHEN length({quoted}) <= 60 THEN {quoted} ELSE left({quoted}, 57) || '...' END")

    def unknown(self, x: str, enum: bool = False) -> str:
        body = self.chars.enum_safe if enum else self.chars.known
        return self.let(f"COALESCE({self.f.match(x, '[^' + body + ']')}, FALSE)")

    def nfkc(self, x: str) -> str:
        return self.f.translate(x, self.chars.nfkc_from, self.chars.nfkc_to)

    def missing(self, text: str) -> str:
        """``_is_missing`` of a stripped text."""
        markers = ", ".join(self.s(m) for m in sorted(NULL_MARKERS))
        return f"({text} = '' OR {self.f.lower_ascii(text)} IN ({markers}))"

    def reason(self, shown: str, text: str) -> str:
        return f"{shown} || {self.s(' ' + text)}"

    # -- numbers ----------------------------------------------------------------------
    def number_parts(self, text: str) -> tuple[str, str, str]:
        """(sign, digits, exponent) of a text matching _NUMBER_PARTS: value = sign digits × 10^exponent."""
        f = self.f
        sign = self.let(f.extract(text, _anchored(_NUMBER_PARTS), 1))
        whole = f.extract(text, _anchored(_NUMBER_PARTS), 2)
        fraction = self.let(f.extract(text, _anchored(_NUMBER_PARTS), 3))
        exponent = self.let(f.extract(text, _anchored(_NUMBER_PARTS), 4))
        digits = self.let(f"{whole} || {fraction}")
        exp_sign = f"CASE WHEN left({exponent}, 1) = '-' THEN -1 ELSE 1 END"
        exp_digits = f.ltrim_char(f"replace(replace({exponent}, '+', ''), '-', '')", "0")
        exp_value = self.let(
            f"{exp_sign} * CASE WHEN {exp_digits} = '' THEN CAST(0 AS BIGINT) "
            f"WHEN length({exp_digits}) > 12 THEN CAST(1000000000000 AS BIGINT) ELSE CAST({exp_digits} AS BIGINT) END"
        )
        return sign, digits, self.let(f"{exp_value} - length({fraction})")

    def to_double(self, sign: str, digits: str, exponent: str) -> tuple[str, str]:
        """(value, finite) of sign digits × 10^exponent, rounded once to a double."""
        f = self.f
        significant = self.let(f.ltrim_char(digits, "0"))
        adjusted = f"({exponent} + length({significant}) - 1)"
        # (a CASE between the literals -0.0 and 0.0 is folded to one of them by Spark's optimizer)
        zero = f.double(f"{sign} || '0'")
        value = self.let(
            f"CASE WHEN {significant} = '' OR {adjusted} < -400 THEN {zero} "
            f"WHEN {adjusted} > 400 THEN NULL "
            f"ELSE {f.double(f'{sign} || {significant} || {chr(39)}e{chr(39)} || ' + f.text(exponent))} END"
        )
        finite = self.let(f"({value} IS NOT NULL AND abs({value}) <> {f.inf()})")
        return value, finite

    def round28(self, digits: str, exponent: str) -> tuple[str, str]:
        """Decimal's 28-digit half-even rounding of digits × 10^exponent: (digits, exponent)."""
        f = self.f
        significant = self.let(f.ltrim_char(digits, "0"))
        n = f"length({significant})"
        rest = f"{f.ltrim_char(f'substr({significant}, 30)', '0')}"
        up = (
            f"({n} > 28 AND (substr({significant}, 29, 1) > '5' OR (substr({significant}, 29, 1) = '5' "
            f"AND ({rest} <> '' OR substr({significant}, 28, 1) IN ('1', '3', '5', '7', '9')))))"
        )
        head = f"CASE WHEN {n} > 28 THEN left({significant}, 28) ELSE {significant} END"
        rounded = self.let(
            f"CASE WHEN {up} THEN {f.text(f'CAST({head} AS DECIMAL(38, 0)) + 1')} ELSE {head} END"
        )
        return rounded, self.let(f"{exponent} + CASE WHEN {n} > 28 THEN {n} - 28 ELSE 0 END")

    def parse_decimal(self, x: str) -> dict[str, str]:
        """``_parse_decimal`` of a known-character text cell: sign, digits, exponent (28-digit
        rounded), and ``missing`` / ``bad`` flags."""
        f = self.f
        text = self.let(f"replace({f.strip(self.nfkc(x))}, '−', '-')")
        missing = self.let(self.missing(text))
        body = self.strip_currency(text, None)
        percent = self.let(f"right({body}, 1) = '%'")
        cases = " ".join(f"WHEN right({body}, {len(suffix)}) = {self.s(suffix)} THEN {len(suffix)}" for suffix, _ in _MULTIPLIERS)
        powers = " ".join(
            f"WHEN right({body}, {len(suffix)}) = {self.s(suffix)} THEN {factor.adjusted()}" for suffix, factor in _MULTIPLIERS
        )
        suffix_length = self.let(f"CASE WHEN {percent} THEN NULL {cases} END")
        power = self.let(f"CASE WHEN {percent} THEN 0 {powers} ELSE 0 END")
        cut = self.let(
            f"CASE WHEN {percent} THEN {f.rstrip(f'left({body}, length({body}) - 1)')} "
            f"WHEN {suffix_length} IS NOT NULL THEN left({body}, length({body}) - {suffix_length}) ELSE {body} END"
        )
        body = self.strip_currency(cut, f"{suffix_length} IS NOT NULL")
        grouped = self.let(f.full(body, _GROUPED))
        plain = self.let(f.full(body, _PLAIN))
        number = self.let(
            f"CASE WHEN {grouped} THEN replace(replace({body}, ',', ''), ' ', '') WHEN {plain} THEN {body} END"
        )
        sign, digits, exponent = self.number_parts(number)
        exponent = self.let(f"{exponent} + {power}")
        digits, exponent = self.round28(digits, exponent)
        overflow = self.let(f"({digits} <> '' AND {exponent} + length({digits}) - 1 > 999999)")
        return {
            "missing": missing,
            "bad": self.let(f"({number} IS NULL)"),
            "sign": sign,
            "digits": digits,
            "exponent": exponent,
            "overflow": overflow,
        }

    def strip_currency(self, text: str, when: str | None) -> str:
        """``_strip_currency`` (where ``when`` holds, if given): strip, then each mark in turn
        off the front and off the end, as one regex (greedy marks, shortest middle)."""
        extracted = self.f.extract(text, _CURRENCY_STRIP, 1)
        return self.let(f"CASE WHEN {when} THEN {extracted} ELSE {text} END" if when else extracted)

    def short_number(self, cell: str, shown: str) -> tuple[str, str]:
        """(the cell when short enough to be read as a number else NULL, the reason it is
        not): every regex and translation after this one sees short text only, so a
        megabyte cell costs one ``length`` (the regexes cost more than linear time)."""
        long = self.let(f"COALESCE(length({cell}) > {MAX_NUMBER_TEXT}, FALSE)")
        reason = self.reason(shown, f"is not a number (longer than {MAX_NUMBER_TEXT} characters)")
        return self.let(f"CASE WHEN NOT {long} THEN {cell} END"), f"CASE WHEN {long} THEN {reason} END"

    def number_text(self, cell: str) -> _Result:
        f = self.f
        shown = self.show(cell)
        x, too_long = self.short_number(cell, shown)
        floaty = self.let(
            f.strip(f.translate(x, "０１２３４５６７８９" + WHITESPACE, "0123456789" + " " * len(WHITESPACE)))
        )
        is_float = self.let(f.full(floaty, _FLOAT_SYNTAX))
        nonfinite = self.let(f.full(floaty, _NONFINITE))
        sign, digits, exponent = self.number_parts(self.let(f"CASE WHEN {is_float} AND NOT {nonfinite} THEN replace({floaty}, '_', '') END"))
        a_value, a_finite = self.to_double(sign, digits, exponent)
        unknown = self.unknown(x)
        parsed = self.parse_decimal(x)
        b_value, b_finite = self.to_double(parsed["sign"], parsed["digits"], parsed["exponent"])
        state = self.let(
            f"CASE WHEN {x} IS NULL THEN 'null' WHEN {is_float} THEN CASE WHEN {nonfinite} OR NOT {a_finite} THEN 'inf' ELSE 'a' END "
            f"WHEN {unknown} THEN 'unknown' WHEN {parsed['missing']} THEN 'null' WHEN {parsed['bad']} THEN 'bad' "
            f"WHEN {parsed['overflow']} OR NOT {b_finite} THEN 'inf' ELSE 'b' END"
        )
        value = f"CASE WHEN {state} = 'a' THEN {a_value} WHEN {state} = 'b' THEN {b_value} END"
        reason = (
            f"COALESCE({too_long}, CASE {state} WHEN 'inf' THEN {self.reason(shown, 'is not a finite number')} "
            f"WHEN 'unknown' THEN {self.reason(shown, UNSUPPORTED)} WHEN 'bad' THEN {self.reason(shown, 'is not a number')} END)"
        )
        return _Result(value, reason)

    def integer_text(self, cell: str) -> _Result:
        f = self.f
        shown = self.show(cell)
        x, too_long = self.short_number(cell, shown)
        ascii_digits = self.let(f"COALESCE({f.full(x, '[0-9]+')}, FALSE)")
        direct = self.let(f"CASE WHEN {ascii_digits} THEN {f.bigint(x)} END")
        unknown = self.unknown(x)
        parsed = self.parse_decimal(x)
        digits, exponent = parsed["digits"], parsed["exponent"]
        trailing_zeros = f"(length({digits}) - length({f.rtrim_char(digits, '0')}))"
        whole = self.let(f"({digits} = '' OR {exponent} + {trailing_zeros} >= 0)")
        count = self.let(f"CASE WHEN {digits} = '' THEN 1 ELSE length({digits}) + {exponent} END")
        integer_digits = self.let(
            f"CASE WHEN {digits} = '' OR {count} <= 0 THEN '0' WHEN {count} > 19 THEN NULL "
            f"WHEN {exponent} >= 0 THEN {digits} || repeat('0', CAST(least({exponent}, 20) AS INTEGER)) "
            f"ELSE left({digits}, CAST({count} AS INTEGER)) END"
        )
        sign = parsed["sign"]
        b_value = self.let(f.bigint(f"{sign} || {integer_digits}"))
        state = self.let(
            f"CASE WHEN {x} IS NULL THEN 'null' WHEN {ascii_digits} THEN CASE WHEN {direct} IS NULL THEN 'range' ELSE 'a' END "
            f"WHEN {unknown} THEN 'unknown' WHEN {parsed['missing']} THEN 'null' WHEN {parsed['bad']} THEN 'bad' "
            f"WHEN {parsed['overflow']} THEN 'overflow' WHEN NOT {whole} THEN 'fraction' "
            f"WHEN {b_value} IS NULL THEN 'range' ELSE 'b' END"
        )
        value = f"CASE WHEN {state} = 'a' THEN {direct} WHEN {state} = 'b' THEN {b_value} END"
        reason = (
            f"COALESCE({too_long}, CASE {state} WHEN 'range' THEN {self.reason(shown, OUT_OF_RANGE)} "
            f"WHEN 'unknown' THEN {self.reason(shown, UNSUPPORTED)} WHEN 'bad' THEN {self.reason(shown, 'is not a number')} "
            f"WHEN 'overflow' THEN {self.reason(shown, 'is not a finite number')} "
            f"WHEN 'fraction' THEN {self.reason(shown, 'is not a whole number')} "
            "END)"
        )
        return _Result(value, reason)

    # -- booleans -----------------------------------------------------------------------
    def boolean_text(self, x: str) -> _Result:
        f = self.f
        key = self.let(f.lower_ascii(f.strip(self.nfkc(x))))
        unknown = self.unknown(x)
        yes = ", ".join(self.s(word) for word, value in _BOOLEANS.items() if value)
        no = ", ".join(self.s(word) for word, value in _BOOLEANS.items() if not value)
        state = self.let(
            f"CASE WHEN {x} IS NULL THEN 'null' WHEN {unknown} THEN 'unknown' WHEN {self.missing(key)} THEN 'null' "
            f"WHEN {key} IN ({yes}) THEN 'true' WHEN {key} IN ({no}) THEN 'false' ELSE 'bad' END"
        )
        shown = self.show(x)
        value = f"CASE {state} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
        reason = (
            f"CASE {state} WHEN 'unknown' THEN {self.reason(shown, UNSUPPORTED)} "
            f"WHEN 'bad' THEN {self.reason(shown, 'is not a yes/no value (use true/false, yes/no, 1/0 or 是/否)')} END"
        )
        return _Result(value, reason)

    # -- dates ----------------------------------------------------------------------------
    def date_text(self, x: str, fast_path: bool = True) -> _Result:
        f = self.f
        text = self.let(f.strip(self.nfkc(x)))
        unknown = self.unknown(x)
        groups = []
        for pattern in (_YMD, _CHINESE, _COMPACT):
            groups.append((self.let(f.full(text, pattern)), pattern))
        matched = " OR ".join(m for m, _ in groups)

        def part(index: int) -> str:
            cases = " ".join(
                f"WHEN {m} THEN CAST({f.extract(text, _anchored(p), index)} AS INTEGER)" for m, p in groups
            )
            return self.let(f"CASE {cases} END")

        year, month, day = part(1), part(2), part(3)
        leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
        days = (
            f"CASE WHEN {month} IN (1, 3, 5, 7, 8, 10, 12) THEN 31 WHEN {month} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
            "ELSE 30 END"
        )
        problem = self.let(
            f"CASE WHEN {year} = 0 THEN 'year 0 is out of range' WHEN {month} < 1 OR {month} > 12 THEN 'month must be in 1..12' "
            f"WHEN {day} < 1 OR {day} > {days} THEN 'day is out of range for month' END"
        )
        parsed = self.let(f.make_date(year, month, day, f"({matched}) AND {problem} IS NULL"))
        ambiguous = self.let(f.full(text, _AMBIGUOUS))
        week = self.iso_week(x) if fast_path else "NULL"
        shown = self.show(x)
        state = self.let(
            f"CASE WHEN {x} IS NULL THEN 'null' WHEN {week} IS NOT NULL THEN 'week' WHEN {unknown} THEN 'unknown' "
            f"WHEN {self.missing(text)} THEN 'null' WHEN {matched} THEN CASE WHEN {problem} IS NULL THEN 'date' ELSE 'invalid' END "
            f"WHEN {ambiguous} THEN 'ambiguous' ELSE 'bad' END"
        )
        value = f"CASE {state} WHEN 'date' THEN {parsed} WHEN 'week' THEN {week} END"
        reason = (
            f"CASE {state} WHEN 'unknown' THEN {self.reason(shown, UNSUPPORTED)} "
            f"WHEN 'invalid' THEN {shown} || ' is not a valid date: ' || {problem} "
            f"WHEN 'ambiguous' THEN {self.reason(shown, 'is ambiguous (day/month order unknown); write dates as YYYY-MM-DD')} "
            f"WHEN 'bad' THEN {self.reason(shown, 'is not a date (use YYYY-MM-DD)')} END"
        )
        return _Result(value, reason)

    def iso_week(self, x: str) -> str:
        """``date.fromisoformat``'s ``YYYY-Www-D`` (the only form the fast path adds), else NULL."""
        f = self.f
        is_week = self.let(f"COALESCE({f.full(x, _ISO_WEEK)}, FALSE)")
        year = self.let(f"CASE WHEN {is_week} THEN CAST({f.extract(x, _anchored(_ISO_WEEK), 1)} AS INTEGER) END")
        week = self.let(f"CASE WHEN {is_week} THEN CAST({f.extract(x, _anchored(_ISO_WEEK), 2)} AS INTEGER) END")
        weekday = self.let(f"CASE WHEN {is_week} THEN CAST({f.extract(x, _anchored(_ISO_WEEK), 3)} AS INTEGER) END")
        ok = self.let(f"({is_week} AND {year} >= 1 AND {week} >= 1 AND {week} <= 53 AND {weekday} >= 1 AND {weekday} <= 7)")
        january4 = self.let(f.make_date(year, "1", "4", ok))
        january1 = self.let(f.make_date(year, "1", "1", ok))
        leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
        first_weekday = f"{f.isodow(january1)}"  # 1 = Monday
        long_year = f"({first_weekday} = 4 OR ({first_weekday} = 3 AND {leap}))"
        valid = self.let(f"({ok} AND ({week} < 53 OR {long_year}))")
        offset = f"(7 * ({week} - 1) + {weekday} - {f.isodow(january4)})"
        result = self.let(f"CASE WHEN {valid} THEN {f.add_days(january4, offset)} END")
        return self.let(f"CASE WHEN NOT ({year} = 9999 AND {offset} > 361) THEN {result} END")

    # -- text, enums, lists ----------------------------------------------------------------
    def string_text(self, x: str) -> _Result:
        return _Result(f"NULLIF({self.f.strip(x)}, '')", "NULL")

    def enum_text(self, x: str, values: tuple[str, ...]) -> _Result:
        f = self.f
        text = self.let(f"NULLIF({f.strip(x)}, '')")
        key = self.let(f.lower_ascii(self.nfkc(text)))
        canonical = {value.casefold(): value for value in values}
        exact = _exact_enum_forms(values)
        exact_cases = " ".join(
            f"WHEN {self.s(form)} THEN {self.s(result) if result is not None else 'NULL'}" for form, (result, _) in exact.items()
        )
        exact_reasons = " ".join(
            f"WHEN {self.s(form)} THEN {self.s(reason)}" for form, (_, reason) in exact.items() if reason is not None
        )
        is_exact = self.let(f"{text} IN ({', '.join(self.s(form) for form in exact)})") if exact else "FALSE"
        unknown = self.unknown(text, enum=True)
        key_cases = " ".join(f"WHEN {self.s(k)} THEN {self.s(v)}" for k, v in canonical.items())
        markers = ", ".join(self.s(m) for m in sorted(NULL_MARKERS))
        state = self.let(
            f"CASE WHEN {text} IS NULL THEN 'null' WHEN {is_exact} THEN 'exact' WHEN {unknown} THEN 'unknown' "
            f"WHEN {key} IN ({', '.join(self.s(k) for k in canonical)}) THEN 'value' WHEN {key} IN ({markers}) THEN 'null' "
            "ELSE 'bad' END"
        )
        shown = self.show(text)
        listed = ", ".join(values)
        hint = self.enum_hint(key, canonical, state)
        value = (
            f"CASE {state} WHEN 'exact' THEN CASE {text} {exact_cases} END WHEN 'value' THEN CASE {key} {key_cases} END END"
        )
        reason = (
            f"CASE {state} WHEN 'unknown' THEN {self.reason(shown, UNSUPPORTED)} "
            + (f"WHEN 'exact' THEN CASE {text} {exact_reasons} END " if exact_reasons else "")
            + f"WHEN 'bad' THEN {shown} || {self.s(' is not one of ' + listed)} || {hint} END"
        )
        return _Result(value, reason)

    # -- plain forms ----------------------------------------------------------------------
    def plain(self, x: str, spec: FieldSpec) -> tuple[str, _Result]:
        """(whether the text cell ``x`` is missing or in its type's plain form, the result
        of such a cell): the strict spelling most cells have, read by one cast or lookup
        with the value and acceptance :meth:`text` gives it (digits, ``YYYY-MM-DD``, a
        yes/no word or enum value as written).  A field with synonyms or of type list has
        no plain form but a missing cell."""
        f, kind = self.f, spec.type
        missing = f"{x} IS NULL"
        if spec.synonyms or kind == "list":
            return missing, _Result("NULL", "NULL")
        if kind == "string":
            return "TRUE", self.string_text(x)
        if kind == "number":
            form = f.full(x, "-?[0-9]{1,15}(?:\\.[0-9]{1,15})?")
            return f"({missing} OR {form})", _Result(self.d.try_cast(x, "number"), "NULL")
        if kind == "integer":
            return f"({missing} OR {f.full(x, '-?[0-9]{1,18}')})", _Result(self.d.try_cast(x, "integer"), "NULL")
        if kind == "date":
            day = self.d.try_cast(x, "date")
            form = f"({f.full(x, '[0-9]{4}-[0-9]{2}-[0-9]{2}')} AND left({x}, 4) <> '0000' AND {day} IS NOT NULL)"
            return f"({missing} OR {form})", _Result(day, "NULL")
        if kind == "boolean":
            words = _plain_words(_BOOLEANS)
        elif kind == "enum":
            words = {form: value for form, (value, reason) in _exact_enum_forms(spec.values).items() if reason is None}
        else:
            raise ValueError(f"unknown field type {kind!r}")
        if not words:
            return missing, _Result("NULL", "NULL")
        listed = ", ".join(self.s(word) for word in words)
        cases = " ".join(f"WHEN {self.s(word)} THEN {self.d.literal(value)}" for word, value in words.items())
        return f"({missing} OR {x} IN ({listed}))", _Result(f"CASE {x} {cases} END", "NULL")

    def enum_hint(self, key: str, canonical: dict[str, str], state: str) -> str:
        """difflib.get_close_matches(key, keys, n=1) as `` (did you mean 'X'?)`` or ''."""
        scores = []
        for index, candidate in enumerate(canonical):
            matches = self.let(f"CASE WHEN {state} = 'bad' THEN {self.matching_characters(candidate, key)} END")
            scores.append((index, candidate, matches))
        # ratio = 2M / (len(a) + len(b)) >= 0.6  <=>  10 M >= 3 (len(a) + len(b)); best by (ratio, candidate)
        ordered = sorted(scores, key=lambda item: item[1])  # later (larger) candidates win ties
        # Compare candidates pairwise through a running best (score as a fraction M / T).
        best_m, best_t, best_text = "CAST(-1 AS BIGINT)", "CAST(1 AS BIGINT)", "''"
        for _, candidate, matches in ordered:
            total = f"({len(candidate)} + length({key}))"
            eligible = f"(10 * {matches} >= 3 * {total})"
            better = f"({eligible} AND {matches} * {best_t} >= {best_m} * {total})"
            text = self.s(f" (did you mean {canonical[candidate]!r}?)")
            best_m = self.let(f"CASE WHEN {better} THEN {matches} ELSE {best_m} END")
            best_t = self.let(f"CASE WHEN {better} THEN {total} ELSE {best_t} END")
            best_text = self.let(f"CASE WHEN {better} THEN {text} ELSE {best_text} END")
        return best_text

    def matching_characters(self, a: str, b: str) -> str:
        """SequenceMatcher(None, a, b) matching characters (sum of the matching blocks'
        sizes) for a constant ``a`` and a text column ``b``, without autojunk."""
        f = self.f
        subs = sorted(
            {(i, k) for i in range(len(a)) for k in range(1, len(a) - i + 1)}, key=lambda item: (-item[1], item[0])
        )
        if not subs:
            return "CAST(0 AS BIGINT)"

        def make(**parts: str) -> str:
            if f.duck:
                return "{" + ", ".join(f"'{k}': {v}" for k, v in parts.items()) + "}"
            return "named_struct(" + ", ".join(f"'{k}', {v}" for k, v in parts.items()) + ")"

        candidates = self.d.list_of(
            [make(i=f"CAST({i} AS BIGINT)", k=f"CAST({k} AS BIGINT)", s=self.s(a[i:i + k])) for i, k in subs], "string"
        )
        # state: stack of [alo, ahi, blo, bhi] intervals and the matches so far
        stack_type = "BIGINT[][]" if f.duck else "ARRAY<ARRAY<BIGINT>>"
        la = len(a)
        initial = make(
            st=f"CAST({self.d.list_of([self.d.list_of(['CAST(0 AS BIGINT)', f'CAST({la} AS BIGINT)', 'CAST(0 AS BIGINT)', f'CAST(length({b}) AS BIGINT)'])])} AS {stack_type})",
            m="CAST(0 AS BIGINT)",
        )
        top = f.element("acc.st", "-1")
        alo, ahi, blo, bhi = (f.element(top, str(n)) for n in (1, 2, 3, 4))
        window = f"substr({b}, CAST({blo} + 1 AS INTEGER), CAST({bhi} - {blo} AS INTEGER))"
        found = f.filter(
            candidates, "c", f"c.i >= {alo} AND c.i + c.k <= {ahi} AND instr({window}, c.s) > 0"
        )
        first = "fd"  # the longest match, bound once: element 1 of transform([found[1]], fd -> ...)
        rest = (
            "list_slice(acc.st, 1, len(acc.st) - 1)" if f.duck else "slice(acc.st, 1, size(acc.st) - 1)"
        )
        j = f"({blo} + instr({window}, {first}.s) - 1)"
        left_part = self.d.list_of([alo, f"{first}.i", blo, j])
        right_part = self.d.list_of([f"{first}.i + {first}.k", ahi, f"{j} + {first}.k", bhi])
        empty_stack = f"CAST({'[]' if f.duck else 'array()'} AS {stack_type})"
        pushed = self.d.list_concat(
            rest,
            self.d.list_concat(
                f"CASE WHEN {alo} < {first}.i AND {blo} < {j} THEN CAST({self.d.list_of([left_part])} AS {stack_type}) ELSE {empty_stack} END",
                f"CASE WHEN {first}.i + {first}.k < {ahi} AND {j} + {first}.k < {bhi} THEN CAST({self.d.list_of([right_part])} AS {stack_type}) ELSE {empty_stack} END",
            ),
        )
        body = (
            f"CASE WHEN {first} IS NULL THEN {make(st=f'CAST({rest} AS {stack_type})', m='acc.m')} "
            f"ELSE {make(st=f'CAST({pushed} AS {stack_type})', m=f'CAST(acc.m + {first}.k AS BIGINT)')} END"
        )
        bound = f.element(f.transform(self.d.list_of([f.element(found, "1")]), "fd", body), "1")
        step = f"CASE WHEN {f.length_of_list('acc.st')} = 0 THEN acc ELSE {bound} END"
        folded = f.reduce(f.range1(2 * la + 1), initial, "acc", "n", step)
        return f"({folded}).m"

    def list_text(self, x: str) -> _Result:
        f = self.f
        text = self.let(f.strip(x))
        missing = self.missing(text)
        items = f.filter(f.transform(f.split(text, _LIST_SEPARATORS), "v", f.strip("v")), "v", "v <> ''")
        json_result = self.json_list(text, x)
        state = self.let(
            f"CASE WHEN {x} IS NULL OR {missing} THEN 'null' WHEN left({text}, 1) = '[' THEN 'json' ELSE 'split' END"
        )
        value = f"CASE {state} WHEN 'split' THEN {items} WHEN 'json' THEN {json_result.value} END"
        reason = f"CASE WHEN {state} = 'json' THEN {json_result.reason} END"
        return _Result(value, reason)

    def json_list(self, text: str, raw: str) -> _Result:
        """``json.loads`` of a text starting with ``[``, for flat arrays (see the module notes);
        a reason shows the cell as it was (``raw``, spaces included), as Python's does."""
        f = self.f
        m = self.json
        shown = self.show(raw)
        valid = self.let(f.full(text, f"\\[{_JWS}(?:{_JITEM}(?:{_JWS},{_JWS}{_JITEM})*)?{_JWS}\\]"))
        prefix = self.let(f.extract(text, f"^\\[{_JWS}(?:{_JITEM}{_JWS},{_JWS})*", 0))
        after = self.let(f"substr({text}, length({prefix}) + 1)")
        item = self.let(f.extract(after, f"^{_JITEM}{_JWS}", 0))
        after_item = self.let(f"substr({after}, length({item}) + 1)")
        string_head = self.let(f.extract(after, _JSTRING_HEAD, 0))
        string_next = self.let(f"substr({after}, length({string_head}) + 1, 2)")
        has_comma = f"{f.contains(prefix, ',')}"
        error = self.let(
            "CASE "
            f"WHEN {item} <> '' THEN CASE WHEN left({after_item}, 1) = ']' THEN {self.s(m['extra'])} ELSE {self.s(m['delimiter'])} END "
            f"WHEN left({after}, 1) = ']' THEN CASE WHEN {has_comma} THEN {self.s(m['trailing'])} ELSE {self.s(m['extra'])} END "
            f"WHEN left({after}, 1) = '\"' THEN CASE "
            f"  WHEN {string_next} = '' OR {string_next} = {self.s(chr(92))} THEN {self.s(m['unterminated'])} "
            f"  WHEN {f.match(string_next, _CONTROL_START)} THEN {self.s(m['control'])} "
            f"  WHEN left({string_next}, 2) = {self.s(chr(92) + 'u')} THEN {self.s(m['uescape'])} "
            f"  ELSE {self.s(m['escape'])} END "
            f"WHEN {f.match(after, _NOT_READ_START)} THEN NULL "
            f"ELSE {self.s(m['value'])} END"
        )
        tokens = self.let(f"CASE WHEN {valid} THEN {f.filter(f.extract_all(text, _JITEM), 't', chr(116) + ' <> ' + chr(39) + 'null' + chr(39))} END")
        # fractional numbers and exponents are floats: their text is Python's repr, not read here
        floats = self.let(
            f"COALESCE({f.length_of_list(f.filter(tokens, 't', f.match('t', _FLOAT_TAIL)))} > 0, FALSE)"
        )
        strings = self.let(f.transform(tokens, "t", self.json_token("t")))
        bad_string = self.let(f"COALESCE({f.length_of_list(f.filter(strings, 't', 't IS NULL'))} > 0, FALSE)")
        kept = f.filter(f.transform(strings, "t", "NULLIF(" + f.strip("t") + ", '')"), "t", "t IS NOT NULL")
        state = self.let(
            f"CASE WHEN {valid} THEN CASE WHEN {floats} OR {bad_string} THEN 'unsupported' ELSE 'ok' END "
            f"WHEN {error} IS NULL OR {self.unknown(text)} THEN 'unsupported' ELSE 'error' END"
        )
        value = f"CASE WHEN {state} = 'ok' THEN {kept} END"
        reason = (
            f"CASE {state} WHEN 'unsupported' THEN {self.reason(shown, JSON_UNSUPPORTED)} "
            f"WHEN 'error' THEN {shown} || ' is not a valid JSON array: ' || {error} END"
        )
        return _Result(value, reason)

    def json_token(self, t: str) -> str:
        """One JSON array item as Python's ``_text`` of it; NUL for null, NULL if not read here."""
        f = self.f
        body = f"substr({t}, 2, length({t}) - 2)"
        pieces = f.extract_all(body, _JSON_PIECES)
        hex4 = lambda p, start: f.hex_to_int(f"substr({p}, {start}, 4)")  # noqa: E731
        if f.duck:
            pair = f.char(f"(65536 + ({hex4('p', 3)} - 55296) * 1024 + ({hex4('p', 9)} - 56320))")
            single = f.char(hex4("p", 3))
        else:  # Spark's chr() is Latin-1 only: decode the UTF-16 code units
            pair = "decode(unhex(substr(p, 3, 4) || substr(p, 9, 4)), 'UTF-16BE')"
            single = "decode(unhex(substr(p, 3, 4)), 'UTF-16BE')"
        unescape = (
            f"CASE WHEN left(p, 1) <> {self.s(chr(92))} THEN p "
            f"WHEN length(p) = 12 THEN {pair} "
            f"WHEN left(p, 2) = {self.s(chr(92) + 'u')} THEN CASE WHEN {hex4('p', 3)} BETWEEN 55296 AND 57343 THEN NULL "
            f"ELSE {single} END "
            + " ".join(
                f"WHEN p = {self.s(chr(92) + k)} THEN {self.s(v)}"
                for k, v in (('"', '"'), ("\\", "\\"), ("/", "/"), ("b", "\b"), ("f", "\f"), ("n", "\n"), ("r", "\r"), ("t", "\t"))
            )
            + " END"
        )
        parts = f.transform(pieces, "p", unescape)
        decoded = f"CASE WHEN {f.length_of_list(f.filter(parts, 'p', 'p IS NULL'))} > 0 THEN NULL ELSE {f.join(parts, '')} END"
        return (
            f"CASE WHEN left({t}, 1) = '\"' THEN {decoded} "
            f"WHEN {t} = 'true' THEN 'True' WHEN {t} = 'false' THEN 'False' "
            f"WHEN {t} = '-0' THEN '0' ELSE {t} END"
        )

    # -- typed (non-text) source columns ---------------------------------------------------
    def float_repr(self, x: str) -> str:
        """Python's ``repr`` of a double."""
        f = self.f
        if f.duck:
            return f.text(x)
        # Spark: the shortest %.Ne rendering that reads back as x, laid out as Python does.
        tries = " ".join(
            f"WHEN {f.double(chr(102) + 'ormat_string(' + repr('%.' + str(p - 1) + 'e') + ', ' + x + ')')} = {x} THEN format_string('%.{p - 1}e', {x})"
            for p in range(1, 18)
        )
        sci = self.let(f"CASE WHEN isnan({x}) THEN NULL WHEN abs({x}) = {f.inf()} THEN NULL {tries} END")
        mantissa = self.let(f"replace(replace(split_part({sci}, 'e', 1), '.', ''), '-', '')")
        digits = self.let(f.rtrim_char(mantissa, "0"))
        exponent = self.let(f"CAST(split_part({sci}, 'e', 2) AS INT)")
        sign = f"CASE WHEN left(CAST({x} AS STRING), 1) = '-' THEN '-' ELSE '' END"
        digits0 = f"CASE WHEN {digits} = '' THEN '0' ELSE {digits} END"
        fixed = (
            f"CASE WHEN {exponent} >= 0 THEN "
            f"CASE WHEN length({digits0}) <= {exponent} + 1 THEN rpad({digits0}, {exponent} + 1, '0') || '.0' "
            f"ELSE left({digits0}, {exponent} + 1) || '.' || substr({digits0}, {exponent} + 2) END "
            f"ELSE '0.' || repeat('0', -{exponent} - 1) || {digits0} END"
        )
        scientific = (
            f"left({digits0}, 1) || CASE WHEN length({digits0}) > 1 THEN '.' || substr({digits0}, 2) ELSE '' END "
            f"|| 'e' || CASE WHEN {exponent} < 0 THEN '-' ELSE '+' END || CASE WHEN abs({exponent}) < 10 THEN '0' ELSE '' END || CAST(abs({exponent}) AS STRING)"
        )
        return self.let(
            f"CASE WHEN isnan({x}) THEN 'nan' WHEN {x} = {f.inf()} THEN 'inf' WHEN {x} = {f.inf(True)} THEN '-inf' "
            f"ELSE {sign} || CASE WHEN {exponent} >= -4 AND {exponent} < 16 THEN {fixed} ELSE {scientific} END END"
        )

    def kind_text(self, x: str, source: str) -> str:
        """``_kind_of`` of a typed value: how a reason shows a value of the wrong type."""
        if source == "number":
            return self.float_repr(x)
        if source == "integer":
            return self.f.text(x)
        if source == "boolean":
            return f"CASE WHEN {x} THEN 'True' ELSE 'False' END"
        if source == "date":
            return (
                f"'datetime.date(' || CAST(year({x}) AS {self.d.text_type}) || ', ' || CAST(month({x}) AS {self.d.text_type}) "
                f"|| ', ' || CAST(day({x}) AS {self.d.text_type}) || ')'"
            )
        return "'a list'"

    def typed_as_text(self, x: str, source: str) -> _Result:
        """``_text`` of a typed value (string fields; enums read this text)."""
        f = self.f
        if source == "integer":
            return _Result(f.text(x), "NULL")
        if source == "boolean":
            return _Result(f"CASE WHEN {x} THEN 'True' WHEN NOT {x} THEN 'False' END", "NULL")
        if source == "date":
            return _Result(f"CAST({x} AS {self.d.text_type})", "NULL")
        if source == "list":
            return _Result("NULL", f"CASE WHEN {x} IS NOT NULL THEN 'a list is not text' END")
        # number
        integral = self.let(f"({x} IS NOT NULL AND NOT {f.is_nan(x)} AND abs({x}) <> {f.inf()} AND {self.d.fmod(x, '1')} = 0)")
        big = f"abs({x}) >= {self.d.double_literal(2.0 ** 63)}"
        value = self.let(
            f"CASE WHEN {x} IS NULL THEN NULL WHEN {integral} THEN CASE WHEN {big} THEN NULL ELSE {f.text(f'TRY_CAST(CASE WHEN {big} THEN 0 ELSE {x} END AS BIGINT)')} END "
            f"ELSE {self.float_repr(x)} END"
        )
        reason = f"CASE WHEN {integral} AND {big} THEN {self.float_repr(x)} || {self.s(' ' + OUT_OF_RANGE)} END"
        return _Result(value, reason)

    def typed(self, x: str, source: str, spec: FieldSpec) -> _Result:
        f = self.f
        kind = spec.type
        wrong = {
            "number": "is not a number",
            "integer": "is not a whole number",
            "boolean": "is not a yes/no value",
            "date": "is not a date",
            "list": "is not a list",
        }
        if kind in ("string", "enum"):
            result = self.typed_as_text(x, source)
            text = self.synonyms(self.let(result.value), spec)
            if kind == "string":
                return _Result(text, result.reason)
            enum = self.enum_text(text, spec.values)
            return _Result(enum.value, f"COALESCE({result.reason}, {enum.reason})")
        if source == kind:
            if kind == "number":
                bad = f"({f.is_nan(x)} OR abs({x}) = {f.inf()})"
                return _Result(
                    f"CASE WHEN NOT {bad} THEN {x} END",
                    f"CASE WHEN {bad} THEN {self.float_repr(x)} || ' is not a finite number' END",
                )
            if kind == "list":
                items = f.filter(f.transform(x, "v", f.strip("v")), "v", "v IS NOT NULL AND v <> ''")
                return _Result(items, "NULL")
            return _Result(x, "NULL")
        if kind == "number" and source == "integer":
            return _Result(f"CAST({x} AS DOUBLE)", "NULL")
        if kind == "integer" and source == "number":
            bad = f"({f.is_nan(x)} OR abs({x}) = {f.inf()})"
            fraction = f"({self.d.fmod(x, '1')} <> 0)"
            big = f"(abs({x}) >= {self.d.double_literal(2.0 ** 63)})"
            shown = self.float_repr(x)
            return _Result(
                f"CASE WHEN NOT {bad} AND NOT {fraction} AND NOT {big} THEN TRY_CAST(CASE WHEN {big} THEN 0 ELSE {x} END AS BIGINT) END",
                f"CASE WHEN {bad} THEN {shown} || ' is not a finite number' WHEN {fraction} THEN {shown} || ' is not a whole number' "
                f"WHEN {big} THEN {shown} || {self.s(' ' + OUT_OF_RANGE)} END",
            )
        if kind == "boolean" and source in ("number", "integer"):
            return _Result(
                f"CASE WHEN {x} = 1 THEN TRUE WHEN {x} = 0 THEN FALSE END",
                f"CASE WHEN NOT ({x} = 0 OR {x} = 1) OR {f.is_nan(f'CAST({x} AS DOUBLE)')} THEN "
                f"{self.kind_text(x, source)} || ' is not a yes/no value' END",
            )
        if kind == "date" and source == "integer":
            return self.date_text(self.let(f.text(x)), fast_path=False)
        return _Result("NULL", f"CASE WHEN {x} IS NOT NULL THEN {self.kind_text(x, source)} || {self.s(' ' + wrong[kind])} END")

    def synonyms(self, x: str, spec: FieldSpec) -> str:
        """``x``, or the canonical value of the synonym it spells (:func:`fieldtypes._with_synonyms`)."""
        if not spec.synonyms:
            return x
        canonical: dict[str, str] = {}
        for raw, value in spec.synonyms:
            form = raw.strip()
            for spelling in (fold(form), form, form.upper(), form.lower(), form.title()):
                canonical.setdefault(_ascii_lower(unicodedata.normalize("NFKC", spelling)), value)
        key = self.let(self.f.lower_ascii(self.nfkc(self.f.strip(x))))
        cases = " ".join(f"WHEN {self.s(k)} THEN {self.s(v)}" for k, v in canonical.items())
        return self.let(f"CASE WHEN {x} IS NULL THEN NULL ELSE COALESCE(CASE {key} {cases} END, {x}) END")

    def text(self, x: str, spec: FieldSpec) -> _Result:
        x = self.synonyms(x, spec)
        kind = spec.type
        if kind == "number":
            return self.number_text(x)
        if kind == "integer":
            return self.integer_text(x)
        if kind == "boolean":
            return self.boolean_text(x)
        if kind == "date":
            return self.date_text(x)
        if kind == "string":
            return self.string_text(x)
        if kind == "enum":
            return self.enum_text(x, spec.values)
        if kind == "list":
            return self.list_text(x)
        raise ValueError(f"unknown field type {kind!r}")


# ---------------------------------------------------------------------------- entry point

_TEXT_SOURCES = ("text", "string")


def typed_input(
    dialect: Dialect,
    relation: str,
    source_types: dict[str, str],
    fields: Sequence[FieldSpec],
    names: Sequence[str],
    file: str,
    lenient: Sequence[bool] | None = None,
) -> str:
    """A ``SELECT`` over ``relation`` giving ``_row``, one coerced column per field (named
    ``names[i]``) and ``_reject_column``, ``_reject_field``, ``_reject_reason`` (all NULL
    for an accepted row), exactly as :func:`tierkit.io.table_from_rows` reads the rows.

    A field with ``on_invalid: missing`` reads an unreadable value as missing, and gives
    its reason in a column of :func:`coerced_columns` instead of rejecting the row.

    ``relation`` has a ``BIGINT`` column ``_row`` and the source's columns;
    ``source_types`` maps each source column, in order, to ``text`` (text cells) or the
    tierkit type of a typed column.  Header problems raise :class:`InputError` here.

    On a dialect with ``plain_first_typing`` the rows whose text cells are all missing or
    in their plain form (:meth:`_Compiler.plain`) are typed by casts; only the other rows
    go through the lenient reading, whose regexes and translations cost tens of
    microseconds a cell.  ``lenient`` (from :func:`typing_survey`) says which fields have
    a cell outside the plain form; the others are read the plain way on every row, and
    when no field has one the lenient reading is left out of the query altogether.
    """
    reading = _Reading(dialect, relation, source_types, list(fields), file)
    if len(names) != len(fields):
        raise ValueError("one name per field")
    if not dialect.plain_first_typing:
        return reading.select(names, [True] * len(fields))
    lenient = [True] * len(fields) if lenient is None else [bool(flag) for flag in lenient]
    plain = reading.all_plain(lenient)
    if plain is None:
        return reading.select(names, [False] * len(fields))
    return (
        f"{reading.select(names, [False] * len(fields), f'COALESCE({plain}, FALSE)')} UNION ALL "
        f"{reading.select(names, lenient, f'NOT COALESCE({plain}, FALSE)')}"
    )


def typing_survey(
    dialect: Dialect, relation: str, source_types: dict[str, str], fields: Sequence[FieldSpec], file: str
) -> str | None:
    """A query of one row saying, for each field, whether some text cell of its column is
    not missing nor in its plain form: the ``lenient`` argument of :func:`typed_input`.
    None on a dialect without ``plain_first_typing``, or without such columns."""
    if not dialect.plain_first_typing:
        return None
    reading = _Reading(dialect, relation, source_types, list(fields), file)
    checks = reading.plain_checks()
    if not any(checks):
        return None
    flags = [f"COALESCE(bool_or(NOT {check}), FALSE)" if check else "FALSE" for check in checks]
    return f"SELECT {', '.join(flags)} FROM {relation}"


class _Reading:
    """One input table's columns matched to the fields, and the ``SELECT`` typing them."""

    def __init__(self, dialect: Dialect, relation: str, source_types: dict[str, str], fields: list[FieldSpec],
                 file: str):
        self.d, self.relation, self.source_types, self.fields = dialect, relation, source_types, fields
        headers = list(source_types)
        self.columns = match_columns(headers, fields, file)
        check_required_columns(fields, [i for i, c in enumerate(self.columns) if c is not None], file)
        used = set(c for c in self.columns if c)
        self.sources = {header: f"_s{index}" for index, header in enumerate(headers) if header in used}

    def base(self, where: str | None = None) -> str:
        q = self.d.quote
        items = [f"{q(header)} AS {source}" for header, source in self.sources.items()] or ["NULL AS _s"]
        condition = f" WHERE {where}" if where else ""
        return f"SELECT _row, {', '.join(items)} FROM {self.relation}{condition}"

    def plain_checks(self) -> list[str | None]:
        """Per field, whether its cell is missing or plain (None: no text column)."""
        compiler = _Compiler(self.d)
        checks: list[str | None] = []
        for spec, column in zip(self.fields, self.columns):
            text = column is not None and self.source_types[column] in _TEXT_SOURCES
            checks.append(compiler.plain(self.d.quote(column), spec)[0] if text else None)
        return checks

    def all_plain(self, lenient: list[bool]) -> str | None:
        """Whether a row's cells of the ``lenient`` fields are all missing or plain (None: no such field)."""
        checks = [check for check, flag in zip(self.plain_checks(), lenient) if check and flag]
        return " AND ".join(checks) or None

    def select(self, names: Sequence[str], lenient: list[bool], where: str | None = None) -> str:
        """The typing of the rows where ``where`` holds; a field not ``lenient`` reads its
        text cells by their plain form."""
        dialect, compiler = self.d, _Compiler(self.d)
        values, problems, coerced = [], [], []
        for spec, column, read_leniently in zip(self.fields, self.columns, lenient):
            if column is None:
                result = _Result("NULL", "NULL")
            else:
                x = self.sources[column]
                source = self.source_types[column]
                if source not in _TEXT_SOURCES:
                    result = compiler.typed(x, source, spec)
                elif read_leniently:
                    result = compiler.text(x, spec)
                else:
                    result = compiler.plain(x, spec)[1]
            value = compiler.let(result.value)
            reason = compiler.let(result.reason)
            if spec.on_invalid == "missing":  # the reason becomes a note, the value missing
                coerced.append(f"CAST({reason} AS {dialect.text_type})")
                reason = f"CAST(NULL AS {dialect.text_type})"
            if spec.default is not None:
                value = compiler.let(f"CASE WHEN {reason} IS NULL THEN COALESCE({value}, {_default(dialect, spec)}) END")
            if spec.required:
                reason = compiler.let(f"CASE WHEN {reason} IS NULL AND {value} IS NULL THEN 'missing required value' ELSE {reason} END")
            values.append(value)
            problems.append((column, spec.name, reason))
        reject_reason, reject_column, reject_field = _rejection(dialect, problems)
        expressions = [
            *(f"CAST({v} AS {_sql_type(dialect, spec)})" for v, spec in zip(values, self.fields)),
            reject_column, reject_field, reject_reason, *coerced,
        ]
        query, expressions = compiler.layers.sql(self.base(where), expressions)
        q = dialect.quote
        labels = [q(name) for name in names] + ["_reject_column", "_reject_field", "_reject_reason"]
        labels += list(coerced_columns(self.fields).values())
        outputs = ", ".join(f"{expression} AS {label}" for expression, label in zip(expressions, labels))
        return f"SELECT _row, {outputs} FROM ({query}) AS _typed"


def _exact_enum_forms(values: tuple[str, ...]) -> dict[str, tuple[str | None, str | None]]:
    """The spellings of an enum's values read without folding (each value as declared,
    upper-, lower-, title-cased and case-folded): (the value, None) or (None, the reason
    Python rejects it)."""
    coerce = _enum_coercer(values)
    exact: dict[str, tuple[str | None, str | None]] = {}
    for value in values:
        for form in dict.fromkeys((value, value.upper(), value.lower(), value.title(), value.casefold())):
            if form.strip() != form or not form:
                continue
            try:
                exact[form] = (coerce(form), None)
            except ValueError as error:
                exact[form] = (None, str(error))
    return exact


def _plain_words(words: dict[str, object]) -> dict[str, object]:
    """Each word of a lookup (keys NFKC-normal, lower-case) written as is, upper- or
    title-cased: the cells whose folded key is that word with nothing to fold but ASCII
    case and nothing to strip (missing markers excluded: they read as missing)."""
    plain = {}
    for word, value in words.items():
        for form in (word, word.upper(), word.title()):
            key = _ascii_lower(unicodedata.normalize("NFKC", form.strip()))
            if form == form.strip() and key == word and key not in NULL_MARKERS:
                plain.setdefault(form, value)
    return plain


def coerced_columns(fields: Sequence[FieldSpec]) -> dict[int, str]:
    """The columns of :func:`typed_input` holding why a field's value was read as
    missing, by the index of the field."""
    return {index: f"_coerced_{index}" for index, spec in enumerate(fields) if spec.on_invalid == "missing"}


def _sql_type(dialect: Dialect, spec: FieldSpec) -> str:
    if spec.type == "list":
        return dialect.list_type("string")
    return dialect.type_of(spec.type)


def _default(dialect: Dialect, spec: FieldSpec) -> str:
    value = spec.default
    if spec.type == "list":
        return dialect.list_of([dialect.literal(str(item)) for item in value], "string")
    if spec.type == "number":
        return dialect.double_literal(float(value))
    if spec.type == "integer":
        return f"CAST({int(value)} AS BIGINT)"
    return dialect.literal(value)


def _rejection(dialect: Dialect, problems: list[tuple[str | None, str, str]]) -> tuple[str, str, str]:
    """The joined reason, column and field of a row's problems, as ``_TableBuilder._reject``."""
    if not problems:
        return "CAST(NULL AS " + dialect.text_type + ")", "CAST(NULL AS " + dialect.text_type + ")", "CAST(NULL AS " + dialect.text_type + ")"
    s = dialect.string
    wheres = [_where(column, name) + ": " for column, name, _ in problems]
    joined = "concat_ws('; also ', " + ", ".join(f"{s(where)} || {reason}" for where, (_, _, reason) in zip(wheres, problems)) + ")"
    first = " ".join(
        f"WHEN {reason} IS NOT NULL THEN substr({joined}, {len(where) + 1})" for where, (_, _, reason) in zip(wheres, problems)
    )
    column = " ".join(
        f"WHEN {reason} IS NOT NULL THEN {s(col) if col is not None else 'NULL'}" for col, _, reason in problems
    )
    field = " ".join(f"WHEN {reason} IS NOT NULL THEN {s(name)}" for _, name, reason in problems)
    return f"CASE {first} END", f"CASE {column} END", f"CASE {field} END"
