"""The results workbook a manager opens: ``tierkit evaluate … -o results.xlsx``.

Three sheets.  **results**: one row per customer, best rank first, headed by the
fields' and schemes' labels in the run's language (``客户名称``, ``客户等级``…), each
scheme's label text, score, tags and reasons (one readable line per reason), and the
allocation; money with thousands separators, percentages, dates as dates.
**rejected**: each row not used (file, row, column, field, reason).  **summary**: the
grade × class counts, the Pareto split (the share of value the top 20% of customers
bring) and the run's metadata.  Headers are frozen and filtered, widths follow the
first rows' contents.  Rows stream through :class:`tierkit.io.xlsx.Workbook`; only the
first :data:`SAMPLE` are held, to size the columns.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from tierkit.io.tables import Rejected, compact_json
from tierkit.ruleset.labels import SCORE_DECIMALS, localize, shown_score
from tierkit.render.format import MONEY_UNITS
from tierkit.render.messages import MESSAGES, translate
from tierkit.plan.roles import class_scheme, display, grade_scheme, label_order, title
from tierkit.render.report import PARETO_POINT, pareto_share, pareto_value_field
from tierkit.engine.results import LIST_SEPARATOR, ResultColumn, ResultsSchema, flatten
from tierkit.io.xlsx import Column, Workbook, text_width

SAMPLE = 200  # rows read before the results sheet starts, to size its columns
WIDTHS = (8, 50)
# allocation keys whose words the briefs already translate
ALLOCATION_WORDS = {"cadence_days": "cadence", "executive_visit_days": "executive_visits"}


def write_results_workbook(path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """The three sheets for the records of a run (``records.schema``); for other
    records, their flattened columns and a ``meta`` sheet."""
    schema = getattr(records, "schema", None)
    workbook = Workbook(path, str(meta.get("as_of", "2000-01-01")))
    try:
        if schema is None:
            _plain_sheets(workbook, records, meta)
            return
        layout = Layout(schema)
        workbook.add_sheet("results", *layout.sheet(iter(records)))
        rejected: list[Rejected] = list(getattr(records, "rejected", ()))
        workbook.add_sheet("rejected", [Column(translate(layout.lang, key), style, width) for key, style, width in REJECTED_COLUMNS],
                           ([item.file, item.row, item.column, item.field, item.reason] for item in rejected))
        workbook.add_sheet("summary", [Column("", "general", 28), *[Column("", "general", 14)] * 12], layout.summary(meta),
                           header=False)
    finally:
        workbook.close()


def _plain_sheets(workbook: Workbook, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """Records of no run, as dotted columns in the order first seen (:func:`tierkit.engine.results.flatten`)."""
    rows = [flatten(record) for record in records]
    names = list(dict.fromkeys(name for row in rows for name in row))
    workbook.add_sheet("results", [Column(name, "general", 16) for name in names], ([row.get(name) for name in names] for row in rows))
    workbook.add_sheet("meta", [Column("key", "general", 24), Column("value", "general", 60)], map(list, flatten(meta).items()))


REJECTED_COLUMNS = (("xlsx_file", "general", 30), ("xlsx_row", "integer", 8), ("xlsx_column", "general", 20),
                    ("xlsx_field", "general", 20), ("xlsx_reason", "wrap", 60))


class Layout:
    """The results sheet's columns, from the plan's :class:`ResultsSchema`, and what the
    summary counts as rows go by."""

    def __init__(self, schema: ResultsSchema):
        self.schema, self.plan, self.lang = schema, schema.plan, schema.lang
        self.grade = grade_scheme(self.plan)
        self.by = class_scheme(self.plan, self.grade)
        self.value = pareto_value_field(self.plan)
        self.cross: Counter = Counter()
        self.values: list[float] = []
        id_feature = ("features", self.plan.fields[self.plan.id_index].name)
        shown = [column for column in schema.columns  # the label's text stands for its id; the id column for its feature
                 if not (column.path[0] == "outcomes" and column.path[-1] == "label") and column.path != id_feature]
        self.columns: list[tuple[str, str, Callable[[Mapping], Any]]] = [self._column(column) for column in shown]

    def sheet(self, records: Iterator[Mapping[str, Any]]) -> tuple[list[Column], Iterator[list]]:
        first = [self._row(record) for record in itertools.islice(records, SAMPLE)]
        columns = []
        for index, (header, style, _get) in enumerate(self.columns):
            widest = max([text_width(header) / 2 + 2, *(text_width(_shown(row[index])) for row in first)], default=10)
            columns.append(Column(header, style, 60 if style == "wrap" else min(max(widest + 2, WIDTHS[0]), WIDTHS[1])))
        return columns, itertools.chain(first, map(self._row, records))

    def _row(self, record: Mapping[str, Any]) -> list:
        outcomes = record["outcomes"]
        if self.grade is not None:
            self.cross[(outcomes[self.by.id]["label"] if self.by else None, outcomes[self.grade.id]["label"])] += 1
        value = record["features"].get(self.value) if self.value else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.values.append(max(float(value), 0.0))
        return [get(record) for _header, _style, get in self.columns]

    def _column(self, column: ResultColumn) -> tuple[str, str, Callable[[Mapping], Any]]:
        """(header, style, value of a record) for one results column."""
        path, lang = column.path, self.lang
        style = {"int64": "integer", "double": "decimal", "date32": "date"}.get(column.type, "general")
        if path[0] in ("id", "features"):
            name = self.plan.fields[self.plan.id_index].name if path[0] == "id" else path[1]
            spec = next((spec for spec in self.plan.fields if spec.name == name), None)
            derived = next((config for derived, _slot, config in self.plan.derived if derived == name), {})
            header = localize(spec.label if spec else derived.get("label"), lang) or name
            unit = spec.unit if spec else derived.get("unit")
            style = "integer" if unit in MONEY_UNITS else "percent" if unit == "%" and style == "decimal" else style
        elif path[0] == "rank":
            header = translate(lang, "rank")
        elif path[0] == "outcomes":
            scheme = next(scheme for scheme in self.plan.schemes if scheme.id == path[1])
            part = path[2]
            header = title(scheme, lang) + ("" if part == "display" else f" {translate(lang, f'xlsx_{part}')}")
            style = {"score": "score", "reasons": "wrap"}.get(part, "general")
            if part == "reasons":
                get = _getter(path)
                return header, style, lambda record: _reasons(get(record))
            if part == "score":  # the score the reasons show (tierkit.ruleset.labels.shown_score), not one rounded anew
                get, decimals = _getter(path), scheme.compiled.score_decimals
                style = "score" if decimals == SCORE_DECIMALS else "general"
                return header, style, lambda record: None if get(record) is None else float(shown_score(get(record), decimals))
        else:
            key = path[1]
            word = ALLOCATION_WORDS.get(key, key)
            header = translate(lang, "allocation") + " · " + (translate(lang, word) if word in MESSAGES["en"] else key)
        get = _getter(path)
        if column.type in ("list<string>", "json"):
            return str(header), style, lambda record, kind=column.type: _cell_value(kind, get(record))
        return str(header), style, get

    def summary(self, meta: Mapping[str, Any]) -> Iterator[list]:
        """Grade × class counts, the Pareto split, then the run's metadata."""
        lang = self.lang
        if self.grade is not None:
            grades = label_order(self.grade, [grade for _by, grade in self.cross])
            classes = label_order(self.by, [by for by, _grade in self.cross]) if self.by else [None]
            yield [f"{title(self.by, lang) if self.by else ''} × {title(self.grade, lang)}",
                   *[display(self.grade, grade, lang) for grade in grades], translate(lang, "total")]
            for by in classes:
                counts = [self.cross[(by, grade)] for grade in grades]
                yield [display(self.by, by, lang) if self.by else translate(lang, "total"), *counts, sum(counts)]
            yield [None]
        if self.values:
            self.values.sort(reverse=True)
            share = pareto_share(self.values, PARETO_POINT) if sum(self.values) else None
            yield [translate(lang, "pareto"), self._value_label(),
                   None if share is None else translate(lang, "pareto_point", customers=f"{PARETO_POINT:.0%}", share=f"{share:.1%}",
                                                        value=self._value_label())]
            yield [None]
        for key, value in meta.items():
            yield [key, value if isinstance(value, str | int | float) else json.dumps(value, ensure_ascii=False)]

    def _value_label(self) -> str:
        spec = next(spec for spec in self.plan.fields if spec.name == self.value)
        return str(localize(spec.label, self.lang) or spec.name)


def _getter(path: tuple[str, ...]) -> Callable[[Mapping], Any]:
    """The value at ``path`` in a record (records nest dicts: ``features``, ``outcomes``, ``allocation``)."""
    if len(path) == 1:
        return lambda record: record.get(path[0])
    if len(path) == 2:
        return lambda record: (record.get(path[0]) or {}).get(path[1])
    return lambda record: ((record.get(path[0]) or {}).get(path[1]) or {}).get(path[2])


def _cell_value(kind: str, value: Any) -> Any:
    """What a cell shows: lists joined, objects as JSON text, the rest as they are."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, dict) or kind == "json":
        return compact_json(value)
    return value


def _reasons(reasons: Any) -> str | None:
    """One line per reason, in words."""
    if not reasons:
        return None
    return "\n".join(str(reason.get("text", "")) if isinstance(reason, Mapping) else str(reason) for reason in reasons)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
