"""Reading input tables into typed rows, and writing results and rejected rows.

Readers and writers are plugins chosen by file extension, database sources plugins
chosen by URL scheme (a :class:`SourceRef` names the table or query).  What every
format shares lives here: matching column headers to fields (names, aliases, Chinese headers),
coercing each cell, and sending every bad row to a rejected list with the row number
the user sees, so that no row is ever dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from tierkit.errors import InputError, Position, TierkitError, mask_secrets, os_reason
from tierkit.io.fieldtypes import Coercer, FieldSpec, make_coercer
from tierkit.io.outputs import csv_writer, replacing


@dataclass(frozen=True)
class RowError:
    """Yielded by a reader in place of a row it could not parse (bad quoting, a bad JSON
    line), with the column at fault when there is one."""

    reason: str
    column: str | None = None


@dataclass(frozen=True)
class Rejected:
    """One input row that was not used, and why; ``table`` says which input it is from
    (``customers`` or ``orders``), as the rejected file's first column does."""

    file: str
    row: int
    column: str | None
    field: str | None
    reason: str
    table: str = "customers"

    def __str__(self) -> str:
        where = _where(self.column, self.field)
        return f"{self.file}:{self.row}: {where + ': ' if where else ''}{self.reason}"


@dataclass
class Table:
    """The typed rows of one input file; ``read == len(rows) + len(rejected)`` always.

    ``coerced`` lists the cells of kept rows read as missing because their field says
    ``on_invalid: missing``, each with the reason its value was unreadable;
    ``rejected_values`` the values that did read in each rejected row, by row number
    and field name, so that a rejected account is still known by its id (its orders,
    ``explain --customer``).
    """

    file: str
    fields: list[FieldSpec]
    rows: list[list] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    read: int = 0
    unused_columns: list[str] = field(default_factory=list)
    coerced: list[Rejected] = field(default_factory=list)
    rejected_values: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRef:
    """The rows of a database table or query, given where a file path would be.

    ``location`` is a URL (``postgresql://user@host/crm``) or the path of an embedded
    database file (``crm.db``); exactly one of ``table`` and ``query`` is set.  Its
    text names it in messages and rejected rows, with any password masked.
    """

    location: str
    table: str | None = None
    query: str | None = None

    def __str__(self) -> str:
        return source_label(self.location, self.table, self.query)


@dataclass(frozen=True)
class InlineRows:
    """Rows held in memory (a DataFrame, a list of dicts) given where a file path would be.

    ``rows`` yields ``(row number, mapping)`` once; ``label`` names them in messages
    and rejected rows.
    """

    label: str
    rows: Iterable[tuple[int, Mapping[str, Any] | RowError]]

    def __str__(self) -> str:
        return self.label


WRITE_MODES = ("replace", "upsert", "append")  # how a destination writer treats what is there
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# user:password@ (to the last @, so that an unescaped @ in a password hides it too), and ?password=
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):.*@")
_PASSWORD_PARAMETER = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


MIXED_UTF8 = "utf-8 with lines in another encoding"
UNDECODED = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of bytes that are not UTF-8


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030, which Chinese Excel writes by default.

    UTF-16 with a BOM (Excel's "Unicode text") is recognised by its BOM.  The whole file
    is checked, because a non-UTF-8 byte may first appear far down a long export.  A
    UTF-8 file with a few lines in another encoding (pasted from another export) is
    :data:`MIXED_UTF8`: read it with :func:`open_text`, and reject the lines holding
    :data:`UNDECODED` characters, rather than read every other line as GB18030 mojibake.
    """
    with open(path, "rb") as handle:
        if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _mostly(handle)
    return "utf-8-sig"


def _mostly(handle: IO[bytes]) -> str:
    """GB18030 when most lines with non-ASCII bytes are not UTF-8, else :data:`MIXED_UTF8`."""
    handle.seek(0)
    utf8 = other = 0
    for line in handle:
        if not line.isascii():
            try:
                line.decode("utf-8")
                utf8 += 1
            except UnicodeDecodeError:
                other += 1
    return "gb18030" if other >= utf8 else MIXED_UTF8


def open_text(path: Path, encoding: str, **options: Any) -> IO[str]:
    """``path`` opened for reading in an encoding :func:`detect_encoding` gave."""
    if encoding == MIXED_UTF8:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", **options)
    return open(path, encoding=encoding, **options)


def delimiter_of(first_line: str) -> str:
    """A CSV file's delimiter: ``;`` when its first line has semicolons and no comma
    (as Excel writes CSV where the comma is the decimal mark), else ``,``."""
    return ";" if ";" in first_line and "," not in first_line else ","


def header_names(file: str, number: int, values: Sequence[Any]) -> list[str]:
    """The column headers of a header row (row ``number``); a header given twice is an
    :class:`InputError`, since which column is meant cannot be known."""
    headers = ["" if value is None else str(value).strip() for value in values]
    seen: dict[str, int] = {}
    for column, header in enumerate(headers, start=1):
        if header and header in seen:
            raise InputError(
                f"column header {header!r} appears twice (columns {seen[header]} and {column})", Position(file, number)
            )
        seen[header] = column
    return headers


@dataclass(frozen=True)
class DelimitedHeader:
    """The header of a UTF-8 CSV or TSV file, for engines that read the rest themselves:
    ``line`` is the header's line (blank lines may come before it)."""

    names: list[str]
    delimiter: str
    line: int


def delimited_header(path: str, delimiter: str | None) -> DelimitedHeader | None:
    """The header row as the Python reader finds it: the first row that is not blank,
    checked the same way (:func:`header_names`); None for a file with no header, or
    a header over several lines, which only the Python reader reads."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        delimiter = delimiter or delimiter_of(first)
        for number, line in enumerate(itertools.chain([first], handle), start=1):
            try:
                values = next(csv.reader([line], delimiter=delimiter, strict=True), [])
            except csv.Error:
                return None
            if any(value.strip() for value in values):
                return DelimitedHeader(header_names(path, number, values), delimiter, number)
    return None


def mask_password(location: str) -> str:
    """A URL as it may be shown: ``postgresql://user:secret@host`` -> ``postgresql://user:***@host``."""
    return _PASSWORD_PARAMETER.sub(r"\1***", _PASSWORD.sub(r"\1:***@", location))


def source_label(location: str, table: str | None, query: str | None) -> str:
    """How a database table or query is named in messages and the rejected file."""
    if table is not None:
        return f"{mask_password(location)} (table {table})"
    text = " ".join(str(query).split())
    return f"{mask_password(location)} (query {text if len(text) <= 80 else text[:79] + '…'})"


def is_database(location: str, registry) -> bool:
    """Whether ``location`` names a database (a URL, or a file a source claims) rather than a file."""
    return is_url(location) or Path(location).suffix.lower() in registry.sources


def _where(column: str | None, field_name: str | None) -> str:
    if column is not None and field_name is not None:
        return f"column {column!r} (field {field_name})"
    if column is not None:
        return f"column {column!r}"
    return f"field {field_name}" if field_name is not None else ""


_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_header(header: str) -> str:
    """The form in which a column header is compared with field names and aliases.

    Exports differ in case, full-width characters and ``Annual Procurement`` versus
    ``annual-procurement``; all of these compare equal.
    """
    text = unicodedata.normalize("NFKC", str(header)).strip().casefold()
    return _SEPARATORS.sub("_", text)


def read_table(path: str | os.PathLike | SourceRef | InlineRows, fields: list[FieldSpec], registry) -> Table:
    """Read a table with the reader registered for its extension (or the database
    source for its URL) into typed rows."""
    if isinstance(path, SourceRef | InlineRows):
        return table_from_rows(str(path), fields, read_rows(path, registry))
    file = os.fspath(path)
    return table_from_rows(file, fields, read_rows(file, registry))


def read_rows(path: str | os.PathLike | SourceRef | InlineRows, registry) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    """The raw rows of a file, from the reader registered for its extension, or of a
    database table or query (a :class:`SourceRef`), from the source for its URL scheme.

    Checks the file before the first row is asked for, and turns an unreadable file
    into one :class:`InputError` naming it.
    """
    if isinstance(path, SourceRef):
        return _source_rows(path, registry)
    if isinstance(path, InlineRows):
        return iter(path.rows)
    file = os.fspath(path)
    if is_database(file, registry):
        raise InputError("a database: name a table or a query to read", Position(mask_password(file)))
    reader = _choose(registry.readers, file, "reader", InputError)
    if not os.path.exists(file):
        raise InputError("file not found", Position(file))
    if not os.path.isfile(file):
        raise InputError("not a file", Position(file))
    return _guarded(file, reader.read(Path(file)))


def _source_rows(ref: SourceRef, registry) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    label = str(ref)
    if (ref.table is None) == (ref.query is None):
        raise InputError("name a table or a query to read, not both", Position(label))
    scheme = _URL.match(ref.location)
    if scheme:
        source, shown = by_scheme(registry.sources, ref.location), f"{scheme.group(1).lower()}://"
    else:
        shown = Path(ref.location).suffix.lower()
        source = registry.sources.get(shown) if shown else None
    if source is None:
        known = ", ".join(f"{key}://" if not key.startswith(".") else key for key in sorted(registry.sources)) or "none"
        raise InputError(f"no database source for {shown or '(no extension)'} (known: {known})", Position(label))
    if not scheme and not os.path.isfile(ref.location):
        raise InputError("file not found" if not os.path.exists(ref.location) else "not a file", Position(label))
    return _guarded_source(label, source.name, source.read(ref.location, ref.table, ref.query))


def _guarded_source(label: str, name: str, rows: Iterator) -> Iterator:
    """A database source's rows; its own failure is one line naming the source, with
    any password in the message masked (drivers quote connection strings)."""
    try:
        yield from _guarded(label, rows)
    except TierkitError:
        raise
    except Exception as error:
        raise InputError(f"the {name} source failed: {type(error).__name__}: {mask_secrets(str(error))}", Position(label)) from error


def _guarded(file: str, rows: Iterator) -> Iterator:
    try:
        yield from rows
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read: {os_reason(error)}", Position(file)) from error


def table_from_rows(file: str, fields: list[FieldSpec], rows: Iterable[tuple[int, Mapping[str, Any] | RowError]]) -> Table:
    """Typed rows from ``(row number, raw mapping)`` pairs: a reader's, or a test case's.

    Everything a file goes through (column matching, coercion, rejection) applies.
    """
    builder = _TableBuilder(file, fields)
    for row_number, raw in rows:
        builder.add(row_number, raw)
    return builder.finish()


def by_scheme(table: Mapping[str, Any], url: str) -> Any:
    """What ``table`` registers for the URL's scheme (``postgresql+psycopg`` falls back
    to ``postgresql``), or None; the URL must start with a scheme."""
    name = _URL.match(url).group(1).lower()
    return table.get(name) or table.get(name.partition("+")[0])


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def write_results(path: str | os.PathLike, records: Iterable[dict], meta: dict, registry, mode: str | None = None) -> None:
    """Write result records with the writer registered for the path's extension, or for
    the URL's scheme (a database table, say), which takes ``mode`` (:data:`WRITE_MODES`,
    ``replace`` when not given); files are always written whole."""
    file = os.fspath(path)
    if is_url(file):
        writer = by_scheme(registry.writers, file)
        if writer is None or not writer.schemes:
            known = ", ".join(sorted(f"{key}://" for key, found in registry.writers.items() if key in found.schemes)) or "none"
            raise TierkitError(f"no writer for {_URL.match(file).group(1).lower()}:// (known: {known})", Position(mask_password(file)))
        writer.write(file, records, meta, mode or WRITE_MODES[0])
        return
    if mode is not None:
        raise TierkitError("--write-mode is for database outputs (-o 'sqlite:///grades.db?table=grades')", Position(file))
    writer = _choose(registry.writers, file, "writer", TierkitError)
    with replacing(file) as temporary:
        writer.write(temporary, records, meta)


def json_default(value: Any) -> Any:
    """How results write what JSON lacks: dates as ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def compact_json(value: Any) -> str:
    """One compact JSON text, as ``json.dumps(…, ensure_ascii=False, separators=(",", ":"))``
    writes it, made by orjson (serialising was a fifth of an evaluation's time).  An
    infinite or NaN number (which JSON has no word for, and evaluation rejects) is written
    as null rather than as ``NaN``; integers beyond 64 bits, which orjson refuses, go
    through the standard library."""
    try:
        return orjson.dumps(value, default=json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(_finite_only(value), ensure_ascii=False, separators=(",", ":"), default=json_default)


def _finite_only(value: Any) -> Any:
    if isinstance(value, float):
        return value if value - value == 0.0 else None
    if isinstance(value, Mapping):
        return {key: _finite_only(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_only(item) for item in value]
    return value


def dump_json_lines(stream: IO[str], records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """``{"meta": ...}`` first, then one compact object per record; same input, same bytes."""
    stream.write(compact_json({"meta": meta}) + "\n")
    for record in records:
        stream.write(compact_json(record) + "\n")


def write_rejected(path: str | os.PathLike, rejected: list[Rejected]) -> None:
    """Write rejected rows as CSV, customer and order rows told apart by the ``table``
    column; the BOM makes Excel open Chinese text correctly."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(["table", "file", "row", "column", "field", "reason"])
        for item in rejected:
            writer.writerow([item.table, item.file, item.row, item.column or "", item.field or "", item.reason])


def _choose(table: Mapping[str, Any], file: str, what: str, error_type: type[TierkitError]):
    extension = Path(file).suffix.lower()
    if extension in table:
        return table[extension]
    known = ", ".join(sorted(key for key in table if key.startswith("."))) or "none"
    shown = repr(extension) if extension else "(no extension)"
    raise error_type(f"no {what} for {shown} files (known extensions: {known})", Position(file))


class _TableBuilder:
    """Accumulates one file's rows, matching its headers to fields once per header set."""

    def __init__(self, file: str, fields: list[FieldSpec]):
        self.table = Table(file, list(fields))
        self.fields = self.table.fields
        self.coercers: list[Coercer] = [make_coercer(spec) for spec in self.fields]
        self.lookup = header_lookup(self.fields)
        self.plans: dict[tuple, list[tuple[FieldSpec, str | None, Coercer]]] = {}
        self.keys: tuple | None = None
        self.plan: list[tuple[FieldSpec, str | None, Coercer]] = []
        self.matched: set[int] = set()
        self.unused: dict[str, None] = {}

    def add(self, row_number: int, raw: Mapping[str, Any] | RowError) -> None:
        self.table.read += 1
        if isinstance(raw, RowError):
            self._reject(row_number, [(raw.column, None, raw.reason)])
            return
        keys = tuple(raw)
        if keys != self.keys:
            self.keys, self.plan = keys, self._plan_for(keys)
        values, problems, coerced = [], [], []
        for spec, column, coerce in self.plan:
            try:
                value = None if column is None else coerce(raw[column])
            except ValueError as error:
                if spec.on_invalid != "missing":
                    problems.append((column, spec.name, str(error)))
                    continue
                coerced.append(Rejected(self.table.file, row_number, column, spec.name, str(error)))
                value = None
            if value is None:
                value = spec.default
                if value is None and spec.required:
                    problems.append((column, spec.name, "missing required value"))
            values.append(value)
        if problems:
            self._reject(row_number, problems)
            self.table.rejected_values[row_number] = self._readable(raw)
        else:
            self.table.rows.append(values)
            self.table.row_numbers.append(row_number)
            self.table.coerced += coerced

    def _readable(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The values of a rejected row that read (worked out again: rejected rows are few)."""
        values = {}
        for spec, column, coerce in self.plan:
            try:
                value = None if column is None else coerce(raw[column])
            except ValueError:
                continue
            if value is not None:
                values[spec.name] = value
        return values

    def _reject(self, row_number: int, problems: list[tuple[str | None, str | None, str]]) -> None:
        """One entry per row (so the counts add up), naming every problem in it."""
        column, field_name, reason = problems[0]
        others = [f"{_where(c, f)}: {r}" for c, f, r in problems[1:]]
        if others:
            reason = "; also ".join([reason, *others])
        self.table.rejected.append(Rejected(self.table.file, row_number, column, field_name, reason))

    def _plan_for(self, headers: tuple) -> list[tuple[FieldSpec, str | None, Coercer]]:
        if headers not in self.plans:
            columns = self._match(headers)
            self.plans[headers] = list(zip(self.fields, columns, self.coercers))
        return self.plans[headers]

    def _match(self, headers: tuple) -> list[str | None]:
        columns = match_columns(headers, self.fields, self.table.file, self.lookup, self.unused)
        self.matched.update(index for index, column in enumerate(columns) if column is not None)
        return columns

    def finish(self) -> Table:
        """The table, unless a required field matched no column in any row read."""
        if self.plans:
            check_required_columns(self.fields, self.matched, self.table.file)
        self.table.unused_columns = list(self.unused)
        return self.table


def header_lookup(fields: list[FieldSpec]) -> dict[str, list[int]]:
    """Each normalised field name and alias -> the indexes of the fields it names."""
    lookup: dict[str, list[int]] = {}
    for index, spec in enumerate(fields):
        for name in (spec.name, *spec.aliases):
            indexes = lookup.setdefault(normalise_header(name), [])
            if index not in indexes:
                indexes.append(index)
    return lookup


def match_columns(
    headers: Iterable[str],
    fields: list[FieldSpec],
    file: str,
    lookup: dict[str, list[int]] | None = None,
    unused: dict[str, None] | None = None,
) -> list[str | None]:
    """The column header matching each field (``None`` for none), by name or alias.

    Two columns matching one field is an :class:`InputError`; headers matching no field
    are added to ``unused`` when it is given.
    """
    if lookup is None:
        lookup = header_lookup(fields)
    columns: list[str | None] = [None] * len(fields)
    for header in headers:
        indexes = lookup.get(normalise_header(header))
        if not indexes:
            if unused is not None:
                unused.setdefault(header)
            continue
        for index in indexes:
            if columns[index] is not None:
                raise InputError(
                    f"columns {columns[index]!r} and {header!r} both match field {fields[index].name!r}",
                    Position(file),
                )
            columns[index] = header
    return columns


def check_required_columns(fields: list[FieldSpec], matched: Iterable[int], file: str) -> None:
    """An :class:`InputError` unless every required field (by index) matched a column."""
    found = set(matched)
    missing = [spec for index, spec in enumerate(fields) if spec.required and index not in found]
    if missing:
        first = missing[0]
        looked_for = ", ".join(dict.fromkeys((first.name, *first.aliases)))
        hint = f"also missing: {', '.join(repr(spec.name) for spec in missing[1:])}" if missing[1:] else None
        raise InputError(
            f"missing column for required field {first.name!r} (looked for: {looked_for})",
            Position(file),
            hint,
        )
