"""A streaming XLSX writer: sheets written row by row straight into the zip.

openpyxl keeps a cell object per value and then rewrites the whole archive; a results
workbook of 200,000 customers took minutes and gigabytes that way.  The format needs
far less: a few fixed XML parts, a style sheet, and per sheet its columns, its rows
(strings inline, so nothing is held for a shared-strings table) and its filter.  Each
row is written as it comes, so memory stays flat whatever the number of rows.

Same inputs, same bytes: zip entries carry a fixed time, and the document's created
and modified stamps are the ``stamp`` given (the run's as-of date).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

# Cell styles (indexes into cellXfs below): what a column's values are.
STYLES = ("general", "header", "integer", "decimal", "score", "percent", "date", "wrap")
_STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="4"><numFmt numFmtId="164" formatCode="#,##0.00"/><numFmt numFmtId="165" formatCode="0.0"/>'
    '<numFmt numFmtId="166" formatCode="0.0&quot;%&quot;"/><numFmt numFmtId="167" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="8"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EPOCH = dt.date(1899, 12, 30)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ROWS_PER_WRITE = 500


@dataclass(frozen=True)
class Column:
    """A sheet column: its header text, its style (one of :data:`STYLES`) and width in characters."""

    header: str
    style: str = "general"
    width: float = 12


def text_width(text: str) -> int:
    """Characters a cell needs: CJK and other wide characters count twice."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


class Workbook:
    """Sheets added in order with :meth:`add_sheet`; :meth:`close` writes the rest."""

    def __init__(self, path, stamp: str):
        self.archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.stamp = stamp
        self.sheets: list[tuple[str, str | None]] = []  # (name, filter range)

    def add_sheet(self, name: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], header: bool = True) -> None:
        """A sheet of ``rows`` (values: text, numbers, booleans, dates, ``None`` for an
        empty cell) in ``columns``; with ``header``, under a frozen, filtered header row."""
        number = len(self.sheets) + 1
        letters = [_letters(index) for index in range(len(columns))]
        styles = [STYLES.index(column.style) for column in columns]
        with self.archive.open(self._entry(f"xl/worksheets/sheet{number}.xml"), "w") as part:
            part.write((
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
                + ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                   '</sheetView></sheetViews>' if header else "")
                + '<sheetFormatPr defaultRowHeight="15"/><cols>'
                + "".join(f'<col min="{i}" max="{i}" width="{c.width:.1f}" customWidth="1"/>' for i, c in enumerate(columns, 1))
                + "</cols><sheetData>"
            ).encode())
            count, chunk = 0, []
            if header:
                count = 1
                part.write(f'<row r="1">{"".join(_cell(f"{letter}1", c.header, 1) for letter, c in zip(letters, columns))}</row>'.encode())
            for values in rows:
                count += 1
                row = str(count)
                cells = "".join(_cell(letter + row, value, style) for letter, value, style in zip(letters, values, styles) if value is not None)
                chunk.append(f'<row r="{row}">{cells}</row>')
                if len(chunk) == ROWS_PER_WRITE:
                    part.write("".join(chunk).encode())
                    chunk = []
            part.write("".join(chunk).encode())
            area = f"A1:{letters[-1]}{count}" if header and columns else None
            part.write(b"</sheetData>" + (f'<autoFilter ref="{area}"/>'.encode() if area else b"")
                       + b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
        self.sheets.append((name, area))

    def close(self) -> None:
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(self.sheets, 1))
        names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                        f"{escape(_quoted(name))}!{_absolute(area)}</definedName>"
                        for i, (name, area) in enumerate(self.sheets) if area)
        parts = {
            "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, len(self.sheets) + 1)) + "</Types>",
            "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>',
            "docProps/core.xml": '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>tierkit</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{self.stamp}T00:00:00Z</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{self.stamp}T00:00:00Z</dcterms:modified></cp:coreProperties>',
            "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{sheets}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>",
            "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(self.sheets) + 1))
            + f'<Relationship Id="rId{len(self.sheets) + 1}" Type="{_RELS}/styles" Target="styles.xml"/></Relationships>',
            "xl/styles.xml": _STYLES_XML,
        }
        for name, text in parts.items():
            prolog = "" if text.startswith("<?xml") else '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            self.archive.writestr(self._entry(name), (prolog + text).encode())
        self.archive.close()

    def _entry(self, name: str) -> zipfile.ZipInfo:
        entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        entry.compress_type = zipfile.ZIP_DEFLATED
        return entry


def _cell(ref: str, value: Any, style: int) -> str:
    """One cell's XML; the commonest types are tested first, by exact class (a row of
    200,000 customers' worth of cells makes this the writer's hot spot)."""
    shown = f' s="{style}"' if style else ""
    kind = value.__class__
    if kind is str:
        return f'<c r="{ref}"{shown} t="inlineStr"><is><t xml:space="preserve">{escape(_ILLEGAL.sub("", value))}</t></is></c>'
    if kind is float or kind is int:
        return f'<c r="{ref}"{shown}><v>{value!r}</v></c>' if math.isfinite(value) else ""
    if kind is bool:
        return f'<c r="{ref}"{shown} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):  # a date shows as one in any column
        day = value.date() if isinstance(value, dt.datetime) else value
        return f'<c r="{ref}" s="{style or STYLES.index("date")}"><v>{(day - _EPOCH).days}</v></c>'
    if isinstance(value, int | float):
        return _cell(ref, float(value), style)
    return _cell(ref, str(value), style)


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _absolute(area: str) -> str:
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in area.split(":"))
