"""Writing output files that can be trusted, whoever opens them.

Every file tierkit writes is written beside its final name and renamed into place
(:func:`replacing`), so that a run killed mid-write never leaves a cut-short file under
that name; an output naming an input is refused before any work
(:func:`refuse_overwriting`); and every CSV cell passes :func:`spreadsheet_cell`, so
that a spreadsheet shows text that looks like a formula instead of running it.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

from tierkit.errors import Position, TierkitError, os_reason

# what results carry of the reasons (``--reasons``): records with their words, records of
# codes and parameters only, or none
REASONS = ("words", "codes", "none")


def meta_path(path: str | os.PathLike) -> Path:
    """Where the meta of a CSV or Parquet results file is kept: ``<file>.meta.json``."""
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; once written, it (and the
    ``.meta.json`` written beside it) is renamed onto ``path``.

    A run killed mid-write leaves a hidden ``.<name>.<random>.tmp`` file, never a
    truncated file under the name asked for.  An ``OSError`` becomes one
    :class:`TierkitError` naming ``path``.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        yield temporary
        os.replace(temporary, target)
        if meta_path(temporary).exists():
            os.replace(meta_path(temporary), meta_path(target))
    except OSError as error:
        raise TierkitError(f"cannot write: {os_reason(error)}", Position(os.fspath(path))) from error
    finally:
        for leftover in (temporary, meta_path(temporary)):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.exists():
                leftover.unlink()


def refuse_overwriting(outputs: Mapping[str, Any], inputs: Iterable[Any]) -> None:
    """A :class:`TierkitError` when an output (``{"-o": path}``) names an input (a path,
    or a :class:`tierkit.io.tables.SourceRef` of a database file) or another output: writing
    it would destroy what is being read."""
    files = [os.fspath(getattr(item, "location", item)) for item in inputs if item]
    seen: list[tuple[str, str]] = []
    for option, output in outputs.items():
        if not output or output == "-":
            continue
        for given in files:
            if _same_file(output, given):
                raise TierkitError(f"{option} {output} is the input file {given}: write the output elsewhere")
        for other_option, other in seen:
            if _same_file(output, other):
                raise TierkitError(f"{option} {output} is also {other_option}: give them different files")
        seen.append((option, output))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return os.path.realpath(a) == os.path.realpath(b)


# ``--csv-raw``: set once per command by the CLI (writers are plugins with a fixed signature).
CSV_RAW: ContextVar[bool] = ContextVar("tierkit_csv_raw", default=False)
# A spreadsheet runs a cell beginning with one of these as a formula (OWASP "CSV injection");
# a leading quote is quoted too, so that :func:`unquote_cell` can undo exactly what was added.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell that Excel, LibreOffice and Sheets show as text instead of running it:
    text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'``.  Numbers, and text that is a plain number (``-3.5``), stay as they are."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER_TEXT.fullmatch(value) and not CSV_RAW.get():
        return "'" + value
    return value


def unquote_cell(text: str) -> str:
    """The text :func:`spreadsheet_cell` was given, for a cell it wrote."""
    return text[1:] if _QUOTED.match(text) else text


class csv_writer:  # noqa: N801  (used as csv.writer is)
    """``csv.writer`` whose cells pass through :func:`spreadsheet_cell`: every CSV
    tierkit writes goes through here."""

    def __init__(self, stream: IO[str], **options: Any):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)
