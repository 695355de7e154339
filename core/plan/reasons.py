"""Reasons as data on every engine, and put into words in one place.

A kind stated as IR (:class:`tierkit.ir.nodes.Logic`) gives its reasons as flat
columns (:meth:`Logic.reason_columns`): a flag ``r<i>`` per reason and each
row-varying parameter once.  Every engine stores them after the kind's attributes
in the outcome's detail (the Python engine in the outcome tuple, the SQL engines as
``s<slot>_d<k>`` columns), so :class:`ReasonColumns` reads the same records from
either: ``{"code": …, params}``, parameters that are literals taken from the logic.

:class:`ReasonWords` writes a record's ``text`` from the kind's template for its
code in one language, only where an output needs words.  Templates are
``str.format`` strings with specs of their own besides Python's: ``number`` (a
value as people read it), ``pct`` (a share as ``20%``, ``12.5%``), ``names`` (field
names as their labels, in a list a sentence holds), ``(names)`` (the same in
parentheses after a word, nothing for no names), ``label`` (one of the scheme's
label ids, or a list of them, as display labels), ``score`` (a score as shown, rounded down to the
scheme's decimals), ``say`` (an expression in words, as the ruleset's vocabulary
says it), ``sig3`` (three significant digits, written out) and
``in:<table>`` (a value looked up in one of the kind's tables of labels, e.g. an
indicator id as the indicator's label; an entry that is a list of labels is said as
``label`` says a list); the kind's
``names`` (a value's label) are there by name.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierkit.ir import nodes as ir
from tierkit.ruleset.labels import SCORE_DECIMALS, localize, show_number, show_score
from tierkit.expr.words import Vocabulary


@dataclass(frozen=True)
class ReasonColumns:
    """Where one scheme's reasons sit in its outcome's detail tuple.

    ``reasons`` holds, per reason in order, its code, the detail position of its flag,
    and its parameters as ``(name, detail position or None, literal value, reader)``,
    the reader turning a stored value into the record's (a mask of blank inputs into
    their names) or None.
    """

    reasons: tuple[tuple[str, int, tuple[tuple[str, int | None, Any, Callable | None], ...]], ...]
    positions: tuple[int, ...]  # every detail position the reasons use, in order

    @classmethod
    def of(cls, logic: ir.Logic, first: int, readers: Mapping[ir.Expr, Callable[[Any], Any]] | None = None) -> ReasonColumns:
        """The layout of ``logic``'s reason columns stored from detail position ``first`` on;
        ``readers`` turn the stored value of a parameter expression into the record's."""
        names = [name for name, _expr in logic.reason_columns()]
        position = {name: first + index for index, name in enumerate(names)}
        stored, readers = logic.param_columns(), readers or {}
        reasons = []
        for index, reason in enumerate(logic.reasons):
            params = tuple(
                (name, None, value.value, readers.get(value)) if isinstance(value, ir.Lit)
                else (name, position[stored[index, name][0]], None, readers.get(value, _READ_AS.get(value.dtype)))
                for name, value in reason.params
            )
            reasons.append((reason.code, position[f"r{index}"], params))
        return cls(tuple(reasons), tuple(position.values()))

    def records(self, detail) -> list[dict]:
        """The reasons given, as ``{"code": …, params}`` records, from an outcome's detail."""
        found = []
        for code, flag, params in self.reasons:
            if not detail[flag]:
                continue
            record = {"code": code}
            for name, position, value, reader in params:
                if position is not None:
                    value = detail[position]
                record[name] = value if reader is None else reader(value)
            found.append(record)
        return found


def _float(value):
    return None if value is None else float(value)


# a stored value as its IR type says: a number the Python lowering computed from whole
# numbers (points: 75) is the double every SQL engine stores (75.0), in codes as in words
_READ_AS = {ir.DType.FLOAT: _float}


OWN_SPECS = ("number", "pct", "names", "(names)", "label", "sig3", "say", "score")


@dataclass
class ReasonWords:
    """A kind's zh/en templates by reason code, with what they name: ``names`` (a label
    per name a template uses, e.g. the value's), ``labels()`` (the scheme's display
    labels, read when words are written, after the ruleset's ``labels:`` are in),
    ``tables`` (labels by id, for the ``in:<table>`` spec), the ruleset's vocabulary and
    the decimals scores show.

    Each template is read once per language into a plain ``str.format`` template (a
    field with a spec of this module's renamed to a value worked out before the
    format), so putting a reason into words is one ``str.format`` call."""

    templates: Mapping[str, Mapping[str, str]]
    names: Mapping[str, Any]
    labels: Callable[[], Mapping[str, Any]]
    vocabulary: Vocabulary
    tables: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)
    score_decimals: int = SCORE_DECIMALS
    _read: dict = field(default_factory=dict, repr=False)

    def text(self, record: dict, lang: str) -> str:
        key = (record["code"], lang)
        if key not in self._read:
            self._read[key] = self._template(record["code"], lang)
        plain, own, names = self._read[key]
        values = {**names, **record}
        for name, field_name, spec in own:
            values[name] = self._shown(values[field_name], spec, lang)
        return plain.format_map(values)

    def _template(self, code: str, lang: str) -> tuple[str, list[tuple[str, str, str]], dict]:
        """``code``'s template in ``lang`` with each field of an own spec renamed, the
        renamed fields (name, field, spec), and the names localized."""
        templates = self.templates.get(lang) or self.templates["en"]
        parts, own = [], []
        for literal, field_name, spec, conversion in string.Formatter().parse(templates[code]):
            parts.append(literal.replace("{", "{{").replace("}", "}}"))
            if field_name is None:
                continue
            if spec in OWN_SPECS or spec.startswith("in:"):
                name = f"_{len(own)}"
                own.append((name, field_name, spec))
                parts.append(f"{{{name}}}")
            else:
                parts.append(f"{{{field_name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}")
        names = {name: localize(label, lang) for name, label in self.names.items()}
        return "".join(parts), own, names

    def _shown(self, value, spec: str, lang: str) -> str:
        if spec == "number":
            return show_number(value)
        if spec == "pct":
            return f"{value * 100:g}%"
        if spec == "names":
            return self.vocabulary.names(value, lang)
        if spec == "(names)":  # after a word: " (a, b)", "（a、b）", or nothing for no names
            if not value:
                return ""
            return f"（{self.vocabulary.names(value, lang)}）" if lang == "zh" else f" ({self.vocabulary.names(value, lang)})"
        if spec == "label":  # a label id, or a list of them
            if isinstance(value, (list, tuple)):
                return ", ".join(self._shown(item, "label", lang) for item in value)
            return str(localize(self.labels().get(value, value), lang))
        if spec == "sig3":  # three significant digits, written out: 1230, 0.333
            return f"{float(f'{value:.3g}'):g}"
        if spec == "say":
            return self.vocabulary.say(value, lang)
        if spec == "score":
            return show_score(value, self.score_decimals)
        found = self.tables[spec[3:]].get(value, value)  # in:<table>: a label, or a list of them
        if isinstance(found, (list, tuple)):
            return ", ".join(str(localize(label, lang)) for label in found)
        return str(localize(found, lang))


def unexplained(plan) -> list:
    """The schemes of ``plan`` whose kind gives no reasons on a SQL engine: a kind not yet
    stated as IR has no reason columns, and explains only on the Python engine."""
    return [scheme for scheme in plan.schemes if scheme.compiled.reason_columns is None]


def explain(columns: ReasonColumns, words: ReasonWords, outcome: tuple, lang: str | None,
            finish: Callable[[list[dict], tuple], None] | None = None) -> list[dict]:
    """A scheme's reasons for one outcome: records with their ``text`` in ``lang``
    (codes and parameters only when ``lang`` is None).  ``finish(records, outcome)``
    adds what the kind derives from the row's reasons together (a weighted grade's
    contributions as shown, adding up to the shown score) before the words."""
    records = columns.records(outcome[3])
    if finish is not None:
        finish(records, outcome)
    if lang is not None:
        for record in records:
            record["text"] = words.text(record, lang)
    return records
