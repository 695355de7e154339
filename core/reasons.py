"""Reasons as data on every engine, and put into words in one place.

A kind stated as IR (:class:`tierkit.ir.nodes.Logic`) gives its reasons as flat
columns (:meth:`Logic.reason_columns`): a flag ``r<i>`` per reason and each
row-varying parameter once.  Every engine stores them after the kind's attributes
in the outcome's detail (the Python engine in the outcome tuple, the SQL engines as
``s<slot>_d<k>`` columns), so :class:`ReasonColumns` reads the same records from
either: ``{"code": …, params}``, parameters that are literals taken from the logic.

:class:`ReasonWords` writes a record's ``text`` from the kind's template for its
code in one language, only where an output needs words.  Templates are
``str.format`` strings with four specs of their own besides Python's: ``number``
(a value as people read it), ``pct`` (a share as ``20%``, ``12.5%``), ``names``
(field names as their labels, in a list a sentence holds) and ``label`` (one of the
scheme's label ids as its display label); the kind's ``names`` (a value's label)
are there by name.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .ir import nodes as ir
from .labels import localize, show_number
from .words import Vocabulary


@dataclass(frozen=True)
class ReasonColumns:
    """Where one scheme's reasons sit in its outcome's detail tuple.

    ``reasons`` holds, per reason in order, its code, the detail position of its flag,
    and its parameters as ``(name, detail position or None, literal value)``;
    ``readers`` turns a stored parameter value into the record's (a mask of blank
    inputs into their names), by parameter name.
    """

    reasons: tuple[tuple[str, int, tuple[tuple[str, int | None, Any], ...]], ...]
    positions: tuple[int, ...]  # every detail position the reasons use, in order
    readers: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, logic: ir.Logic, first: int, readers: Mapping[str, Callable[[Any], Any]] | None = None) -> ReasonColumns:
        """The layout of ``logic``'s reason columns stored from detail position ``first`` on."""
        names = [name for name, _expr in logic.reason_columns()]
        position = {name: first + index for index, name in enumerate(names)}
        stored = logic.param_columns()
        reasons = []
        for index, reason in enumerate(logic.reasons):
            params = tuple(
                (name, None, value.value) if isinstance(value, ir.Lit) else (name, position[stored[index, name][0]], None)
                for name, value in reason.params
            )
            reasons.append((reason.code, position[f"r{index}"], params))
        return cls(tuple(reasons), tuple(position.values()), dict(readers or {}))

    def records(self, detail) -> list[dict]:
        """The reasons given, as ``{"code": …, params}`` records, from an outcome's detail."""
        found = []
        for code, flag, params in self.reasons:
            if not detail[flag]:
                continue
            record = {"code": code}
            for name, position, value in params:
                if position is not None:
                    value = detail[position]
                reader = self.readers.get(name)
                record[name] = value if reader is None else reader(value)
            found.append(record)
        return found


class _Formatter(string.Formatter):
    """``str.format`` with the specs ``number``, ``pct``, ``names`` and ``label``."""

    def __init__(self, words: ReasonWords, lang: str):
        self.words, self.lang = words, lang

    def format_field(self, value, format_spec: str):
        if format_spec == "number":
            return show_number(value)
        if format_spec == "pct":
            return f"{value * 100:g}%"
        if format_spec == "names":
            return self.words.vocabulary.names(value, self.lang)
        if format_spec == "label":
            return str(localize(self.words.labels().get(value, value), self.lang))
        return super().format_field(value, format_spec)


@dataclass
class ReasonWords:
    """A kind's zh/en templates by reason code, with what they name: ``names`` (a label
    per name a template uses, e.g. the value's), ``labels()`` (the scheme's display
    labels, read when words are written, after the ruleset's ``labels:`` are in) and
    the ruleset's vocabulary."""

    templates: Mapping[str, Mapping[str, str]]
    names: Mapping[str, Any]
    labels: Callable[[], Mapping[str, Any]]
    vocabulary: Vocabulary

    def text(self, record: dict, lang: str) -> str:
        templates = self.templates.get(lang) or self.templates["en"]
        names = {name: localize(label, lang) for name, label in self.names.items()}
        params = {key: value for key, value in record.items() if key != "code"}
        return _Formatter(self, lang).vformat(templates[record["code"]], (), {**names, **params})


def explain(columns: ReasonColumns, words: ReasonWords, outcome: tuple, lang: str | None) -> list[dict]:
    """A scheme's reasons for one outcome: records with their ``text`` in ``lang``
    (codes and parameters only when ``lang`` is None)."""
    records = columns.records(outcome[3])
    if lang is not None:
        for record in records:
            record["text"] = words.text(record, lang)
    return records
