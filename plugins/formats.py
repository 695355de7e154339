"""The built-in readers (CSV, TSV, JSON, JSON Lines, XLSX) and writers (JSON Lines, CSV,
XLSX, Parquet).

Registered through the same hooks as any third-party plugin.  Readers yield rows lazily
with the row number a user sees (the spreadsheet row, the JSON Lines line) and yield a
:class:`tierkit.io.tables.RowError` for a row they cannot parse, so one bad line never costs
the whole file.  Writers take JSON-ready records and flatten them for spreadsheets, or
into the typed columns of the results layout (:mod:`tierkit.engine.results`) for Parquet,
which needs the optional pyarrow (``pip install 'tierkit[duckdb]'``).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tierkit.errors import InputError, Position
from tierkit.hookspecs import hookimpl
from tierkit.io.tables import MIXED_UTF8, UNDECODED, RowError, delimiter_of, detect_encoding, dump_json_lines, header_names, open_text
from tierkit.io.outputs import CSV_RAW, csv_writer
from tierkit.registry import Reader, Writer
from tierkit.engine.results import flatten, write_meta, write_parquet

Rows = Iterator[tuple[int, Mapping[str, Any] | RowError]]


@hookimpl
def tierkit_readers(register):
    register(Reader("csv", (".csv",), read_csv))
    register(Reader("tsv", (".tsv",), read_tsv))
    register(Reader("json", (".json",), read_json))
    register(Reader("jsonl", (".jsonl", ".ndjson"), read_jsonl))
    register(Reader("xlsx", (".xlsx", ".xlsm"), read_xlsx))
    register(Reader("parquet", (".parquet",), read_parquet))


@hookimpl
def tierkit_writers(register):
    register(Writer("jsonl", (".jsonl", ".ndjson"), write_jsonl))
    register(Writer("csv", (".csv",), write_csv))
    register(Writer("xlsx", (".xlsx",), write_xlsx))
    register(Writer("parquet", (".parquet",), write_parquet))


# ---------------------------------------------------------------------------- readers


def read_csv(path: Path) -> Rows:
    """Comma-separated, or semicolon-separated when the header has semicolons and no comma."""
    return _read_delimited(path, None)


def read_tsv(path: Path) -> Rows:
    return _read_delimited(path, "\t")


def _read_delimited(path: Path, delimiter: str | None) -> Rows:
    encoding = detect_encoding(path)
    with open_text(path, encoding, newline="") as handle:
        first = handle.readline()
        records = _csv_records(itertools.chain([first], handle), delimiter or delimiter_of(first))
        # in a file of mixed encodings, a cell with bytes that are not UTF-8 rejects its row
        yield from _sheet_rows(path, records, complete=True, check=_undecoded if encoding == MIXED_UTF8 else None)


def _csv_records(lines: Iterator[str], delimiter: str) -> Iterator[tuple[int, Sequence[Any] | RowError]]:
    """Number CSV records as a spreadsheet numbers rows (a quoted newline stays in one row).

    Quoting is strict: broken quoting rejects the record instead of silently merging
    cells.  When the broken record ran over several lines (a quote opened and never
    closed takes every line after it), only its first line is rejected and the lines
    after it are read again, so one stray quote never costs the rows that follow.
    """
    pending: deque[str] = deque()
    taken: list[str] = []  # the lines of the record being read

    def feed() -> Iterator[str]:
        while True:
            line = pending.popleft() if pending else next(lines, None)
            if line is None:
                return
            taken.append(line)
            yield line

    records = csv.reader(feed(), delimiter=delimiter, strict=True)
    for number in itertools.count(1):
        taken.clear()
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            unclosed = "unexpected end of data" in str(error)
            yield number, RowError("malformed CSV: a quote opened in this row is never closed" if unclosed
                                   else f"malformed CSV: {error}")
            pending.extendleft(reversed(taken[1:]))
            records = csv.reader(feed(), delimiter=delimiter, strict=True)
            continue
        yield number, record


def read_xlsx(path: Path) -> Rows:
    """The first sheet; its first non-empty row is the header.

    Cells are read as last computed and saved; a formula cell with no saved value (the
    file was written by a program that does not compute formulas) rejects its row,
    rather than be read as empty.  Finding those takes a second reading of the sheet
    with the formulas, in step with the values.
    """
    values, formulas = _workbook(path, data_only=True), _workbook(path, data_only=False)
    try:
        rows = zip(_first_sheet_rows(values, _XlsxCells(values.epoch)), _first_sheet_rows(formulas))
        cells = ([_Unsaved(formula) if value is None and _is_formula(formula) else value
                  for value, formula in zip(row, written)] for row, written in rows)
        yield from _sheet_rows(path, enumerate(cells, start=1), check=_unsaved_formulas)
    finally:
        values.close()
        formulas.close()


def _workbook(path: Path, data_only: bool):
    import openpyxl  # imported when an XLSX is read, not for every command

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except OSError:
        raise
    except Exception as error:  # openpyxl reports a corrupt workbook with many exception types
        raise InputError(f"not a readable XLSX workbook: {error}", Position(str(path))) from error


def _first_sheet_rows(workbook, cells: _XlsxCells | None = None) -> Iterator[tuple]:
    """The first sheet's rows: cell values, or with ``cells`` the values as the cells show them."""
    sheet = workbook.worksheets[0]
    # Some writers store wrong sheet dimensions; recomputing them avoids truncated reads.
    sheet.reset_dimensions()
    if cells is None:
        return sheet.iter_rows(min_row=1, values_only=True)
    return (tuple(map(cells.value, row)) for row in sheet.iter_rows(min_row=1))


# Date formats Chinese (and Japanese) Excel and WPS store by a built-in id without writing
# the format out (yyyy"年"m"月"d"日" is id 31).  openpyxl knows only the international
# ids, so without this their serial numbers would read as plain numbers.
_EAST_ASIAN_DATE_FORMATS = frozenset({27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58})
_QUOTED = re.compile(r'"[^"]*"|\\.')


class _XlsxCells:
    """Cell values as the cell shows them, so an XLSX export reads as its CSV export does.

    A date cell (a true date, or a serial number with a date format) is a date, or a
    datetime when it has a time of day; a percent cell is the number it shows
    (``15%`` is 15, as the text ``15%`` of a CSV export reads).
    """

    def __init__(self, epoch: dt.datetime):
        from openpyxl.utils.datetime import from_excel  # with openpyxl, imported when an XLSX is read

        self.epoch = epoch
        self.from_excel = from_excel
        self.kinds: dict[int, str | None] = {}  # number format id -> "date", "percent" or None

    def value(self, cell) -> Any:
        value = cell.value
        if isinstance(value, dt.datetime):
            return _day_or_moment(value)
        if type(value) not in (int, float):
            return value
        format_id = cell.style_array.numFmtId
        if format_id not in self.kinds:
            self.kinds[format_id] = _number_kind(format_id, cell.number_format)
        kind = self.kinds[format_id]
        if kind == "date":
            return _day_or_moment(self.from_excel(value, self.epoch))
        if kind == "percent":
            return float(Decimal(repr(value)) * 100)
        return value


def _day_or_moment(value: Any) -> Any:
    """A date cell at midnight as a date, as its CSV export writes it."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


def _number_kind(format_id: int, number_format: str) -> str | None:
    if format_id in _EAST_ASIAN_DATE_FORMATS:
        return "date"
    shown = _QUOTED.sub("", number_format.split(";")[0])
    return "percent" if "%" in shown else None


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


@dataclass(frozen=True)
class _Unsaved:
    """A formula cell without a saved value."""

    formula: str


def _unsaved_formulas(row: Mapping[str, Any]) -> Mapping[str, Any] | RowError:
    for header, value in row.items():
        if isinstance(value, _Unsaved):
            shown = value.formula if len(value.formula) <= 40 else value.formula[:39] + "…"
            return RowError(f"formula {shown} has no saved value (open and save the file in Excel to compute it)", header)
    return row


def _sheet_rows(
    path: Path,
    records: Iterable[tuple[int, Sequence[Any] | RowError]],
    complete: bool = False,
    check: Callable[[Mapping[str, Any]], Mapping[str, Any] | RowError] | None = None,
) -> Rows:
    """Rows of a header-first grid (CSV or a sheet) as header -> value mappings.

    Fully empty rows are skipped, as a spreadsheet user does not see them as data.
    Columns with an empty header are ignored; a row with values beyond the last header
    is rejected, since its cells are likely shifted.  ``complete``: every row has a
    value (empty or not) for each named column, as in CSV, where a short row is a cut
    or shifted line and is rejected (a sheet simply omits empty cells at a row's end).
    ``check`` may turn a row into a :class:`RowError` for a cell it cannot use.
    """
    headers: list[str] | None = None
    named: list[tuple[int, str]] = []
    for number, values in records:
        if isinstance(values, RowError):
            if headers is None:
                raise InputError(f"cannot read the header row: {values.reason}", Position(str(path), number))
            yield number, values
        elif _is_blank(values):
            continue
        elif headers is None:
            headers = header_names(str(path), number, values)
            named = [(index, header) for index, header in enumerate(headers) if header]
        else:
            row = _row_mapping(headers, named, values, complete)
            yield number, check(row) if check is not None and not isinstance(row, RowError) else row


def _is_blank(values: Sequence[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _row_mapping(
    headers: list[str], named: list[tuple[int, str]], values: Sequence[Any], complete: bool
) -> Mapping[str, Any] | RowError:
    if len(values) > len(headers) and not _is_blank(values[len(headers):]):
        return RowError(f"row has values beyond the last of the {len(headers)} header columns")
    if len(values) >= len(headers):
        return {header: values[index] for index, header in named}
    if complete and named and named[-1][0] >= len(values):
        missing = next(header for index, header in named if index >= len(values))
        return RowError(f"row has {len(values)} values where the header has {len(headers)} columns", missing)
    return {header: values[index] if index < len(values) else None for index, header in named}


def _undecoded(row: Mapping[str, Any]) -> Mapping[str, Any] | RowError:
    for header, value in row.items():
        if isinstance(value, str) and UNDECODED.search(value):
            return RowError("not UTF-8 text like the rest of the file (a line in another encoding): "
                            "save the file as UTF-8", header)
    return row


def read_json(path: Path) -> Rows:
    """A top-level array of objects; an element's row number is its 1-based index."""
    with open(path, encoding="utf-8-sig") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON: {error.msg}", Position(str(path), error.lineno, error.colno)) from error
        except RecursionError:
            raise InputError("not valid JSON: nested too deeply", Position(str(path))) from None
    if not isinstance(data, list):
        raise InputError(f"expected a JSON array of objects, got {_json_kind(data)}", Position(str(path)))
    for index, item in enumerate(data, start=1):
        yield index, item if isinstance(item, dict) else RowError(f"expected a JSON object, got {_json_kind(item)}")


def read_jsonl(path: Path) -> Rows:
    """One object per line; blank lines are skipped and are not rows.  A line that is
    not UTF-8 is rejected, and the lines after it are read.  Lines end at ``\n`` only
    (``\r\n`` too): a lone ``\r`` is JSON whitespace, not the end of a row."""
    with open_text(path, MIXED_UTF8, newline="\n") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if UNDECODED.search(line):
                yield number, RowError("not UTF-8 text (a line in another encoding): save the file as UTF-8")
            else:
                yield number, _json_object(line)


def read_parquet(path: Path) -> Rows:
    """Typed columns as they are (numbers, dates, lists), a batch at a time; row N is the
    file's N-th row.  Needs pyarrow (``pip install 'tierkit[duckdb]'``)."""
    from tierkit.engine.results import import_pyarrow

    _pyarrow, parquet = import_pyarrow()
    try:
        source = parquet.ParquetFile(path)
    except OSError:
        raise
    except Exception as error:  # pyarrow reports a corrupt file with its own exception types
        raise InputError(f"not a readable Parquet file: {error}", Position(str(path))) from error
    number = 0
    for batch in source.iter_batches(batch_size=65_536):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def _json_object(line: str) -> Mapping[str, Any] | RowError:
    try:
        value = json.loads(line, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        return RowError(f"not valid JSON: {error.msg} (column {error.pos + 1})")
    except _DuplicateKey as error:
        return RowError(f"key {error.key!r} appears twice in one object", error.key)
    except RecursionError:
        return RowError("not valid JSON: nested too deeply")
    return value if isinstance(value, dict) else RowError(f"expected a JSON object, got {_json_kind(value)}")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's keys, each once: with a key twice, JSON readers disagree on which
    value wins, so the row is rejected rather than read one way."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "true/false" if isinstance(value, bool) else "a number"


# ---------------------------------------------------------------------------- writers


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        dump_json_lines(handle, records, meta)


def write_csv(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """Flattened records as UTF-8 CSV with a BOM (for Excel), text cells spreadsheet-safe,
    columns in the order each is first seen; meta goes to ``<path>.meta.json`` and says
    whether cells were made safe (to read them back).

    The header is known only once every record is seen, so rows stream to a temporary
    file beside ``path`` and are copied after the header: memory stays flat whatever the
    number of rows (the disk holds the rows twice for a moment).
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="", dir=Path(path).parent) as body:
        columns, widths = _csv_body(body, records)
        body.seek(0)
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            csv_writer(handle).writerow(columns)
            if all(width == len(columns) for _count, width in widths):
                handle.flush()
                shutil.copyfileobj(body.buffer, handle.buffer)
            else:
                _padded(body, handle, widths, len(columns))
    write_meta(path, meta, spreadsheet_safe=not CSV_RAW.get())


def _csv_body(body: IO[str], records: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[list[int]]]:
    """Write each flattened record's cells to ``body`` under the columns seen so far;
    return every column, and the rows' widths as ``[rows, width]`` runs (a column first
    seen late leaves the rows before it short)."""
    writer = csv_writer(body)
    columns: dict[str, None] = {}
    widths: list[list[int]] = []
    for record in records:
        row = flatten(record)
        if not columns.keys() >= row.keys():
            columns.update(dict.fromkeys(row))
        writer.writerow([row.get(column, "") for column in columns])
        if widths and widths[-1][1] == len(columns):
            widths[-1][0] += 1
        else:
            widths.append([1, len(columns)])
    return list(columns), widths


def _padded(body: IO[str], handle: IO[str], widths: list[list[int]], width: int) -> None:
    """Copy ``body``'s rows to ``handle``, each short row given empty cells up to
    ``width``.  The cells are copied as written (already spreadsheet-safe); a row ends
    at a line end outside quotes (an even count of ``"`` so far: the csv module doubles
    a quote inside a cell)."""
    lines = iter(body)
    for count, short in widths:
        pad = "," * (width - short)
        for _ in range(count):
            row = next(lines)
            while row.count('"') % 2:
                row += next(lines)
            handle.write(row[:-2] + pad + "\r\n")


def write_xlsx(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """The manager-ready workbook (results, rejected and summary sheets): see :mod:`tierkit.render.workbook`."""
    from tierkit.render.workbook import write_results_workbook  # imported when an XLSX is written

    write_results_workbook(path, records, meta)
