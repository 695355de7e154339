"""Overrides: a manager pins a customer's label or tags, with a reason and an expiry.

A model never knows everything: the regional manager knows that C00017 signed a
framework contract last week, or that a quiet customer is about to leave.  The
ruleset names an overrides file (``overrides: overrides.yaml``, relative to the
ruleset file that says so), a YAML list of entries::

    - {customer: C00017, scheme: grade, label: A, reason: "framework contract signed",
       expires: 2027-03-31, by: "Wang Lei"}
    - {customer: C00230, scheme: portfolio, add_tags: [at_risk], reason: "...", expires: 2026-12-31}

An entry pins ``label``, adds ``add_tags`` and/or drops ``remove_tags`` of one
scheme's outcome, right after that scheme runs, so later schemes, the ranking and
the allocation see the pinned value (a pinned S gets the S plan).  The computed
outcome is kept beside it and shown in the record's ``override``.  Entries whose
``expires`` date is before the run's as-of date fall away with a warning; an entry
naming a customer the run does not have, or a scheme the ruleset does not have, is
a warning too.  A file that cannot be read as such entries is a ruleset error at
``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierkit.errors import Diagnostic, InputError, Position, RulesetError
from tierkit.ruleset.yamlload import LoadedYaml, load_yaml_file

KEYS = ("customer", "scheme", "label", "add_tags", "remove_tags", "reason", "expires", "by")
WORDS = {
    "en": {"pinned": "overridden: {what} (computed {computed}) by {by} until {expires}: {reason}", "nobody": "a manager"},
    "zh": {"pinned": "人工调整：{what}（系统计算为 {computed}），{by}，有效期至 {expires}：{reason}", "nobody": "管理者"},
}


@dataclass(frozen=True)
class Override:
    """One entry of the overrides file."""

    customer: str
    scheme: str
    label: str | None
    add_tags: tuple[str, ...]
    remove_tags: tuple[str, ...]
    reason: str
    expires: dt.date
    by: str | None
    position: Position

    def apply(self, outcome: tuple) -> tuple:
        """The outcome with this entry's label and tags; score and detail unchanged."""
        label, score, tags, *rest = outcome
        if self.label is not None:
            label = self.label
        if self.add_tags or self.remove_tags:
            added = tuple(tag for tag in self.add_tags if tag not in tags)
            tags = tuple(tag for tag in (*tags, *added) if tag not in self.remove_tags)
        return (label, score, tags, *rest)

    def describe(self, computed: tuple) -> dict:
        """The record's ``override``: what was pinned, what was computed, why, until when."""
        shown: dict[str, Any] = {}
        if self.label is not None:
            shown.update(label=self.label, computed=computed[0])
        if self.add_tags or self.remove_tags:
            shown.update(add_tags=list(self.add_tags), remove_tags=list(self.remove_tags), computed_tags=list(computed[2]))
        shown.update(reason=self.reason, expires=self.expires.isoformat(), by=self.by, source=str(self.position))
        return shown

    def unknown_scheme(self) -> Diagnostic:
        return Diagnostic(f"override of {self.customer} names scheme {self.scheme!r}, which the ruleset does not have",
                          self.position, "warning", "it is ignored")

    def reason_record(self, computed: tuple, lang: str) -> dict:
        words = WORDS.get(lang, WORDS["en"])
        what = [self.label] if self.label is not None else []
        what += [f"+{tag}" for tag in self.add_tags] + [f"-{tag}" for tag in self.remove_tags]
        was = computed[0] if self.label is not None else ", ".join(computed[2]) or "-"
        text = words["pinned"].format(
            what=" ".join(what), computed=was, by=self.by or words["nobody"], expires=self.expires.isoformat(), reason=self.reason
        )
        return {"override": True, "text": text}


@dataclass
class Overrides:
    """Every entry of one overrides file, in file order."""

    file: str
    entries: list[Override]

    def for_scheme(self, scheme_id: str) -> list[Override]:
        return [entry for entry in self.entries if entry.scheme == scheme_id]

    def check(self, labels_by_scheme: Mapping[str, Mapping[str, Any]]) -> list[Diagnostic]:
        """Against the compiled schemes: an unknown scheme is a warning, a label the
        scheme never gives an error (an allocation would silently miss it)."""
        found = []
        for entry in self.entries:
            if entry.scheme not in labels_by_scheme:
                found.append(entry.unknown_scheme())
                continue
            labels = labels_by_scheme[entry.scheme]
            if entry.label is not None and labels and entry.label not in labels:
                found.append(Diagnostic(f"override of {entry.customer} pins {entry.scheme} to {entry.label!r}, which is not one of its labels",
                                        entry.position, hint=f"labels: {', '.join(map(str, labels))}"))
        return found

    def run_warnings(self, as_of: dt.date, customer_ids, scheme_ids) -> list[Diagnostic]:
        """What a run with this as-of date and these customers should warn about."""
        known = {str(customer) for customer in customer_ids}
        warnings, in_force = [], {}
        for entry in self.entries:
            if entry.expires < as_of:
                warnings.append(Diagnostic(f"override of {entry.customer} ({entry.scheme}) expired on {entry.expires.isoformat()}",
                                           entry.position, "warning", "it no longer applies; remove or renew it"))
                continue
            if entry.scheme not in scheme_ids:
                warnings.append(entry.unknown_scheme())
            elif entry.customer not in known:
                warnings.append(Diagnostic(f"override names customer {entry.customer!r}, who is not among the evaluated customers",
                                           entry.position, "warning"))
            else:
                earlier = in_force.get((entry.customer, entry.scheme))
                if earlier is not None:
                    warnings.append(Diagnostic(f"override of {entry.customer} ({entry.scheme}) replaces the one at line {earlier.position.line}",
                                               entry.position, "warning"))
                in_force[(entry.customer, entry.scheme)] = entry
        return warnings


def entries_in_force(entries: list[Override], as_of: dt.date) -> dict[str, Override]:
    """The entries in force at ``as_of`` by customer id; a later entry wins."""
    return {entry.customer: entry for entry in entries if entry.expires >= as_of}


class PinStep:
    """A plan stage that applies one scheme's overrides in force at the run's as-of date.

    Called like a generated segment, ``(rows, as_of, failed)``.  It keeps the pinned
    entry and the computed outcome in the scheme's pin slot, for the record.
    """

    def __init__(self, entries: list[Override], outcome_slot: int, pin_slot: int, id_index: int):
        self.entries = entries
        self.outcome_slot = outcome_slot
        self.pin_slot = pin_slot
        self.id_index = id_index

    def __call__(self, rows: list[list], as_of: dt.date, failed: list) -> None:
        in_force = entries_in_force(self.entries, as_of)
        if not in_force:
            return
        outcome, pin, key = self.outcome_slot, self.pin_slot, self.id_index
        for row in rows:
            entry = in_force.get(str(row[key]))
            if entry is not None:
                computed = row[outcome]
                row[pin] = (entry, computed)
                row[outcome] = entry.apply(computed)


def overrides_path(ruleset) -> tuple[Path, Position | None, Path] | None:
    """The overrides file a ruleset names, resolved against the file that names it, and
    that file's folder."""
    name = ruleset.data.get("overrides")
    if not name:
        return None
    position = ruleset.content_position("overrides")
    base = Path(position.file).parent if position is not None else Path(ruleset.source).parent
    return base / name, position, base


def load_overrides(path: Path, named_at: Position | None = None, folder: Path | None = None) -> Overrides:
    """Read and check an overrides file; every problem is a diagnostic at its line.

    With ``folder`` (that of the ruleset naming it, which may come from anyone), the file
    must be a ``.yaml``/``.yml`` file inside it: a ruleset cannot have another file read."""
    if folder is not None and not (
        path.resolve().is_relative_to(folder.resolve()) and path.suffix.lower() in (".yaml", ".yml")
    ):
        raise RulesetError([Diagnostic(f"overrides: {path} is not a .yaml file in the ruleset's folder", named_at)])
    if not path.is_file():
        raise RulesetError([Diagnostic(f"overrides file not found: {path}", named_at)])
    try:
        loaded = load_yaml_file(path)
    except InputError as error:  # unreadable: reported like a broken file
        raise RulesetError([error.diagnostic]) from None
    data = loaded.data if loaded.data is not None else []
    if not isinstance(data, list):
        raise RulesetError([Diagnostic("an overrides file is a list of entries (- customer: …)", loaded.position(()))])
    problems: list[Diagnostic] = []
    entries = [entry for index, item in enumerate(data) if (entry := _entry(loaded, index, item, problems)) is not None]
    if problems:
        raise RulesetError(problems)
    return Overrides(str(path), entries)


def _entry(loaded: LoadedYaml, index: int, item: Any, problems: list[Diagnostic]) -> Override | None:
    here = loaded.position((index,))
    if not isinstance(item, dict):
        problems.append(Diagnostic("an override is a mapping with customer, scheme, reason, expires and a label or tags", here))
        return None
    before = len(problems)

    def problem(message: str, key: str | None = None, hint: str | None = None, positions=loaded.positions) -> None:
        """At the value of ``key`` (or at the key itself), else at the entry."""
        problems.append(Diagnostic(message, positions.get((index, key)) or here, hint=hint))

    for key in item:
        if key not in KEYS:
            problem(f"unknown key {key!r} in an override", key, f"keys: {', '.join(KEYS)}", loaded.key_positions)
    for key in ("customer", "scheme", "reason", "expires"):
        if item.get(key) in (None, ""):
            problem(f"an override needs {key}")
    customer = item.get("customer")
    if isinstance(customer, bool) or not isinstance(customer, str | int | type(None)):
        problem("customer must be an id (text or a whole number)", "customer")
    for key in ("scheme", "reason", "label", "by"):
        if item.get(key) is not None and not isinstance(item[key], str):
            problem(f"{key} must be text", key)
    tags = {key: item.get(key) or [] for key in ("add_tags", "remove_tags")}
    for key, value in tags.items():
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            problem(f"{key} must be a list of tags", key)
    if item.get("label") is None and not any(isinstance(v, list) and v for v in tags.values()):
        problem("an override pins a label, or adds or removes tags (label, add_tags, remove_tags)")
    expires = _date(item.get("expires"))
    if item.get("expires") not in (None, "") and expires is None:
        problem(f"expires must be a date YYYY-MM-DD, not {item['expires']!r}", "expires")
    if len(problems) > before:
        return None
    return Override(
        customer=str(customer),
        scheme=item["scheme"],
        label=item.get("label"),
        add_tags=tuple(tags["add_tags"]),
        remove_tags=tuple(tags["remove_tags"]),
        reason=item["reason"],
        expires=expires,
        by=item.get("by"),
        position=here,
    )


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def present(pin: tuple, lang: str) -> tuple[dict, dict]:
    """The record's ``override`` and the reason to add, from a pin slot's value."""
    entry, computed = pin
    return entry.describe(computed), entry.reason_record(computed, lang)

