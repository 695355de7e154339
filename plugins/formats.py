"""The built-in readers (CSV, TSV, JSON, JSON Lines, XLSX) and writers (JSON Lines, CSV,
XLSX, Parquet).

Registered through the same hooks as any third-party plugin.  Readers yield rows lazily
with the row number a user sees (the spreadsheet row, the JSON Lines line) and yield a
:class:`tierkit.io.RowError` for a row they cannot parse, so one bad line never costs
the whole file.  Writers take JSON-ready records and flatten them for spreadsheets, or
into the typed columns of the results layout (:mod:`tierkit.results`) for Parquet,
which needs the optional pyarrow (``pip install 'tierkit[duckdb]'``).
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any


from tierkit.errors import InputError, Position
from tierkit.hookspecs import hookimpl
from tierkit.io import CSV_RAW, RowError, csv_writer, detect_encoding, dump_json_lines
from tierkit.registry import Reader, Writer
from tierkit.results import flatten, write_meta, write_parquet

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
    with open(path, encoding=detect_encoding(path), newline="") as handle:
        first = handle.readline()
        if delimiter is None:
            delimiter = ";" if ";" in first and "," not in first else ","
        # strict: broken quoting becomes a rejected row instead of silently merged cells.
        records = csv.reader(itertools.chain([first], handle), delimiter=delimiter, strict=True)
        yield from _sheet_rows(path, _csv_records(records))


def _csv_records(records: Iterator[list[str]]) -> Iterator[tuple[int, Sequence[Any] | RowError]]:
    """Number CSV records as a spreadsheet numbers rows (a quoted newline stays in one row)."""
    for number in itertools.count(1):
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            yield number, RowError(f"malformed CSV: {error}")
            continue
        yield number, record


def read_xlsx(path: Path) -> Rows:
    """The first sheet; its first non-empty row is the header."""
    import openpyxl  # imported when an XLSX is read, not for every command

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError:
        raise
    except Exception as error:  # openpyxl reports a corrupt workbook with many exception types
        raise InputError(f"not a readable XLSX workbook: {error}", Position(str(path))) from error
    try:
        sheet = workbook.worksheets[0]
        # Some writers store wrong sheet dimensions; recomputing them avoids truncated reads.
        sheet.reset_dimensions()
        yield from _sheet_rows(path, enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
    finally:
        workbook.close()


def _sheet_rows(path: Path, records: Iterable[tuple[int, Sequence[Any] | RowError]]) -> Rows:
    """Rows of a header-first grid (CSV or a sheet) as header -> value mappings.

    Fully empty rows are skipped, as a spreadsheet user does not see them as data.
    Columns with an empty header are ignored; a row with values beyond the last header
    is rejected, since its cells are likely shifted.
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
            headers = _header_names(path, number, values)
            named = [(index, header) for index, header in enumerate(headers) if header]
        else:
            yield number, _row_mapping(headers, named, values)


def _is_blank(values: Sequence[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _header_names(path: Path, number: int, values: Sequence[Any]) -> list[str]:
    headers = ["" if value is None else str(value).strip() for value in values]
    seen: dict[str, int] = {}
    for column, header in enumerate(headers, start=1):
        if header and header in seen:
            raise InputError(
                f"column header {header!r} appears twice (columns {seen[header]} and {column})",
                Position(str(path), number),
            )
        seen[header] = column
    return headers


def _row_mapping(headers: list[str], named: list[tuple[int, str]], values: Sequence[Any]) -> Mapping[str, Any] | RowError:
    if len(values) > len(headers) and not _is_blank(values[len(headers):]):
        return RowError(f"row has values beyond the last of the {len(headers)} header columns")
    if len(values) >= len(headers):
        return {header: values[index] for index, header in named}
    return {header: values[index] if index < len(values) else None for index, header in named}


def read_json(path: Path) -> Rows:
    """A top-level array of objects; an element's row number is its 1-based index."""
    with open(path, encoding="utf-8-sig") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON: {error.msg}", Position(str(path), error.lineno, error.colno)) from error
    if not isinstance(data, list):
        raise InputError(f"expected a JSON array of objects, got {_json_kind(data)}", Position(str(path)))
    for index, item in enumerate(data, start=1):
        yield index, item if isinstance(item, dict) else RowError(f"expected a JSON object, got {_json_kind(item)}")


def read_jsonl(path: Path) -> Rows:
    """One object per line; blank lines are skipped and are not rows."""
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, _json_object(line)


def read_parquet(path: Path) -> Rows:
    """Typed columns as they are (numbers, dates, lists), a batch at a time; row N is the
    file's N-th row.  Needs pyarrow (``pip install 'tierkit[duckdb]'``)."""
    from tierkit.results import import_pyarrow

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
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return RowError(f"not valid JSON: {error.msg} (column {error.pos + 1})")
    return value if isinstance(value, dict) else RowError(f"expected a JSON object, got {_json_kind(value)}")


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


def _flat_table(records: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Flattened records and their columns, in the order each column is first seen."""
    rows = [flatten(record) for record in records]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    return columns, rows


def write_csv(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """Flattened records as UTF-8 CSV with a BOM (for Excel), text cells spreadsheet-safe;
    meta goes to ``<path>.meta.json`` and says whether cells were made safe (to read them back)."""
    columns, rows = _flat_table(records)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(columns)
        writer.writerows([row.get(column, "") for column in columns] for row in rows)
    write_meta(path, meta, spreadsheet_safe=not CSV_RAW.get())


def write_xlsx(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """Flattened records in a ``results`` sheet, and meta as key/value rows in a ``meta`` sheet."""
    import openpyxl

    columns, rows = _flat_table(records)
    workbook = openpyxl.Workbook(write_only=True)
    results = workbook.create_sheet("results")
    results.append([_xlsx_value(results, column) for column in columns])
    for row in rows:
        results.append([_xlsx_value(results, row.get(column)) for column in columns])
    meta_sheet = workbook.create_sheet("meta")
    meta_sheet.append(["key", "value"])
    for key, value in flatten(meta).items():
        meta_sheet.append([_xlsx_value(meta_sheet, key), _xlsx_value(meta_sheet, value)])
    workbook.save(path)
    _make_reproducible(path, str(meta.get("as_of", "2000-01-01")))


_STAMPS = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _make_reproducible(path: Path, as_of: str) -> None:
    """Same inputs, same bytes: the workbook's write time (zip entry times, document
    properties) is replaced by the run's as-of date."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    stamp = f"{as_of}T00:00:00Z".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = _STAMPS.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def _xlsx_value(sheet, value: Any) -> Any:
    """A cell value openpyxl stores as written: no control characters, no formulas."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell
