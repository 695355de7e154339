"""Run a plan over customers and present the results.

:func:`check_ruleset` is what ``tierkit validate`` runs: schema first, then the
compile, collecting every error.  :meth:`Plan.run` is the evaluation stage; an
:class:`Evaluation` then answers questions about single customers (for tests and the
benchmark) and turns outcomes into JSON-ready records, with reasons in words, only
when they are written or shown.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierkit import __version__
from tierkit.errors import Diagnostic, RulesetError, TierkitError
from tierkit.io.tables import Rejected, Table
from tierkit.ruleset.labels import localize, localize_all
from tierkit.plan.build import PopulationStep
from tierkit.ruleset.overrides import present as present_override
from tierkit.plan.compiler import Plan, PlanCompiler, SchemeInfo
from tierkit.registry import Registry
from tierkit.ruleset.load import Ruleset, load_ruleset
from tierkit.ruleset.schema import validate_ruleset


def check_ruleset(ruleset: Ruleset, registry: Registry) -> tuple[Plan | None, list[Diagnostic]]:
    """Validate and compile; returns the plan (None on errors) and every finding."""
    diagnostics = validate_ruleset(ruleset, registry.kinds)
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    try:
        plan = PlanCompiler(ruleset, registry).compile()
    except RulesetError as failure:
        return None, diagnostics + failure.diagnostics + failure.warnings
    return plan, diagnostics + plan.warnings


def derived_types(plan: Plan) -> dict[str, str]:
    """The compiled type of each derived feature (``number``, ``integer``, ``string``,
    ``boolean``, ``date``, ``list`` or ``any``), for results files typed by the plan."""
    return {name: plan.scope[name].type if name in plan.scope else "any" for name, _slot, _config in plan.derived}


def compile_ruleset(ruleset: Ruleset, registry: Registry) -> Plan:
    plan, diagnostics = check_ruleset(ruleset, registry)
    if plan is None:
        raise RulesetError(diagnostics)
    return plan


def load_plan(ref: str | Path, registry: Registry, as_of: dt.date | None = None) -> BoundPlan:
    """Load, validate and compile a ruleset (a path or a bundled name) for one as-of date."""
    ruleset = load_ruleset(ref, registry.ruleset_dirs)
    return BoundPlan(compile_ruleset(ruleset, registry), as_of or dt.date.today())


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector while building many small objects.

    Reading and evaluating allocate tuples and lists by the hundred thousand and
    create no reference cycles, yet each allocation burst makes the collector walk
    every live row again: pausing it nearly doubles the evaluation stage's speed.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class BoundPlan:
    """A plan with its as-of date: what a run needs besides the customers."""

    plan: Plan
    as_of: dt.date

    @property
    def fields(self):
        return self.plan.fields

    def run_table(self, table: Table, rows: list[list] | None = None) -> Evaluation:
        """Evaluate a table read from a file or given inline: the rows it rejected join
        the evaluation's, in row order.  ``rows`` evaluates copies of the table's rows
        (the evaluation extends the lists it is given)."""
        evaluation = self.run(table.rows if rows is None else rows, table.row_numbers, table.file)
        evaluation.rejected = sorted(table.rejected + evaluation.rejected, key=lambda r: r.row)
        evaluation.coerced = table.coerced
        return evaluation

    def run(self, rows: list[list], row_numbers: list[int] | None = None, file: str = "input") -> Evaluation:
        """The evaluation stage: extend each row to the plan's slots and run the stages.

        A row with no id, or on which a plugin's code fails, is rejected with its row
        number, and so is a row whose id repeats an earlier one, unless the ruleset says
        ``duplicates: first`` or ``last`` (then one row per id is kept, and the others
        counted); every other row ends in the results.
        """
        with paused_gc():
            return self._run(rows, row_numbers, file)

    def _run(self, rows: list[list], row_numbers: list[int] | None, file: str) -> Evaluation:
        plan = self.plan
        numbers = row_numbers or range(1, len(rows) + 1)
        rejected: list[Rejected] = []
        pad = [None] * (plan.slot_count - len(plan.fields))
        work, duplicates, superseded = _without_duplicate_ids(rows, numbers, plan.id_index, duplicate_policy(plan))
        id_name = plan.fields[plan.id_index].name
        rejected += [
            Rejected(file, number, None, id_name, "missing id" if key is None else f"duplicate id {key!r} (first at row {first})")
            for number, key, first in duplicates
        ]
        for row in work:
            row.extend(pad)
        self._fill_previous(work)
        ranked = False
        for stage in plan.stages:
            if isinstance(stage, PopulationStep) and not stage.evaluates:
                _run_population_step(stage, work)
                ranked = ranked or stage is plan.rank_stage
                continue
            failed: list = []
            if isinstance(stage, PopulationStep):
                _run_population_step(stage, work, self.as_of, failed)
            else:
                stage(work, self.as_of, failed)
            if failed:
                position = {id(row): number for row, number in zip(rows, numbers)}
                broken = {id(row) for row, _ in failed}
                rejected += [Rejected(file, position[id(row)], None, None, f"evaluation failed: {error}") for row, error in failed]
                work = [row for row in work if id(row) not in broken]
                if ranked:  # rows lost after ranking: the others close ranks, 1..n without gaps
                    _renumber(work, plan.rank_slot.index)
        warnings = population_warnings(plan, lambda scheme, index: Counter(row[scheme.slot.index][3][index] for row in work))
        if plan.overrides is not None:
            ids = (row[plan.id_index] for row in work)
            warnings += plan.overrides.run_warnings(self.as_of, ids, {scheme.id for scheme in plan.schemes})
        return Evaluation(self, work, sorted(rejected, key=lambda r: r.row), warnings, duplicates=superseded)

    def _fill_previous(self, rows: list[list]) -> None:
        """``previous_run.<scheme>`` for each customer, from the labels the plan carries."""
        plan = self.plan
        key = plan.id_index
        for scheme_id, slot in plan.previous_slots.items():
            labels = plan.previous.get(scheme_id)
            if labels:
                for row in rows:
                    row[slot] = labels.get(str(row[key]))


def population_warnings(plan: Plan, count: Callable[[SchemeInfo, int], Mapping[Any, int]]) -> list[Diagnostic]:
    """What the schemes warn of about the evaluated population (e.g. RFM quintiles
    collapsed by ties); ``count(scheme, k)`` counts each value of the detail item ``k``
    of the scheme's outcomes in the engine's results."""
    warnings: list[Diagnostic] = []
    for scheme in plan.schemes:
        if scheme.compiled.run_warnings is not None:
            warnings += scheme.compiled.run_warnings(lambda index, scheme=scheme: count(scheme, index))
    return warnings


def _run_population_step(step: PopulationStep, rows: list[list], *evaluating) -> None:
    """A population step works on every row at once: if it fails, the run cannot go on,
    and the message names the step (a scheme's, or the ranking).  ``evaluating``: the
    as-of date and the list of failed rows, for a step that evaluates."""
    try:
        step.run(rows, *evaluating)
    except Exception as error:
        raise TierkitError(f"{step.name} failed: {type(error).__name__}: {error}") from None


def _renumber(rows: list[list], rank_slot: int) -> None:
    for position, row in enumerate(sorted(rows, key=lambda row: row[rank_slot]), 1):
        row[rank_slot] = position


def duplicate_policy(plan: Plan) -> str:
    """What rows repeating an id do: ``reject`` (the default), or keep the ``first`` or ``last``."""
    return plan.ruleset.data.get("duplicates", "reject")


def _without_duplicate_ids(rows: list[list], numbers, id_index: int, policy: str) -> tuple[list[list], list[tuple], int]:
    """The rows kept, (row number, id, first row) of the rows rejected (no id; a repeated
    id under ``reject``), and how many rows another row of their id replaced."""
    ids = [row[id_index] for row in rows]
    if len(set(ids)) == len(ids) and None not in ids:
        return rows, [], 0
    numbers = list(numbers)
    order = range(len(rows) - 1, -1, -1) if policy == "last" else range(len(rows))
    seen: dict = {}
    kept, duplicates, superseded = set(), [], 0
    for index in order:
        key = ids[index]
        if key is None:  # a customer needs an id
            duplicates.append((numbers[index], None, None))
        elif key not in seen:
            seen[key] = numbers[index]
            kept.add(index)
        elif policy == "reject":  # and one of its own
            duplicates.append((numbers[index], key, seen[key]))
        else:
            superseded += 1
    return [row for index, row in enumerate(rows) if index in kept], sorted(duplicates), superseded


def input_policy_counts(plan: Plan, duplicates: int, coerced: int) -> dict:
    """The counts a ruleset's input policies add to a run's meta, on every engine: rows
    replaced by another of their id, values read as missing."""
    counts = {}
    if duplicate_policy(plan) != "reject":
        counts["duplicates"] = duplicates
    if any(spec.on_invalid == "missing" for spec in plan.fields):
        counts["coerced_to_missing"] = coerced
    return counts


@dataclass
class Evaluation:
    """The outcome of one run: rows in input order, and the rejected ones."""

    bound: BoundPlan
    rows: list[list]
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # e.g. expired overrides
    duplicates: int = 0  # rows another row of their id replaced (duplicates: first | last)
    coerced: list[Rejected] = field(default_factory=list)  # values read as missing (on_invalid: missing)
    _plans: dict = field(default_factory=dict, repr=False)
    _by_id: dict | None = field(default=None, repr=False)

    @property
    def plan(self) -> Plan:
        return self.bound.plan

    def _outcome(self, index: int, scheme_id: str) -> tuple:
        scheme = next(s for s in self.plan.schemes if s.id == scheme_id)
        return self.rows[index][scheme.slot.index]

    def label(self, index: int, scheme_id: str):
        return self._outcome(index, scheme_id)[0]

    def score(self, index: int, scheme_id: str):
        return self._outcome(index, scheme_id)[1]

    def rank(self, index: int) -> int:
        return self.rows[index][self.plan.rank_slot.index]

    def allocation_rule(self, index: int):
        return self.rows[index][self.plan.allocation.slot.index][0]

    def ranked(self) -> list[list]:
        return sorted(self.rows, key=lambda row: row[self.plan.rank_slot.index])

    def find(self, customer_id: str) -> list | None:
        """The row of a customer by id (as text), from an index built on first use."""
        if self._by_id is None:
            id_index = self.plan.id_index
            self._by_id = {str(row[id_index]): row for row in self.rows}
        return self._by_id.get(str(customer_id))

    def meta(self, lang: str, read: int | None = None) -> dict:
        ruleset = self.plan.ruleset
        evaluated, rejected = len(self.rows), len(self.rejected)
        return {
            "tierkit": __version__,
            "ruleset": ruleset.name,
            "ruleset_version": ruleset.version,
            "fingerprint": ruleset.fingerprint,
            "as_of": self.bound.as_of.isoformat(),
            "lang": lang,
            "engine": "python",
            "read": evaluated + rejected if read is None else read,
            "evaluated": evaluated,
            "rejected": rejected,
            **input_policy_counts(self.plan, self.duplicates, len(self.coerced)),
        }

    def records(self, lang: str, reasons: str = "words", rows=None):
        """JSON-ready result records in rank order (``rows``: already ranked slot lists,
        e.g. streamed from a SQL engine): an iterator (read once) that also carries the
        plan's results schema (:mod:`tierkit.engine.results`), for typed writers.  ``reasons``
        is one of :data:`tierkit.io.outputs.REASONS`."""
        from tierkit.engine.results import SchemaRecords, results_schema  # it builds on this module

        rows = self.ranked() if rows is None else rows
        return SchemaRecords(results_schema(self.plan, lang, reasons != "none"),
                             (self.record(row, lang, reasons) for row in rows), self.rejected)

    def record(self, row: list, lang: str, reasons: str = "words") -> dict:
        """One customer's JSON-ready result (dates stay dates: writers format them), its
        reasons as :data:`tierkit.io.outputs.REASONS` says."""
        plan = self.plan
        features = dict(zip((spec.name for spec in plan.fields), row))
        for name, slot, _config in plan.derived:
            features[name] = row[slot.index]
        outcomes = {}
        for scheme in plan.schemes:
            outcome = row[scheme.slot.index]
            label = outcome[0]
            given, override = self.explained(row, scheme, lang, reasons)
            shown = outcomes[scheme.id] = {
                "label": label,
                "display": localize(scheme.compiled.labels.get(label, label), lang),
                "score": outcome[1],
                "tags": list(outcome[2]),
            }
            if given is not None:
                shown["reasons"] = given
            if override is not None:
                shown["override"] = override
        return {
            "id": row[plan.id_index],
            "features": features,
            "outcomes": outcomes,
            "rank": row[plan.rank_slot.index],
            "allocation": self._plan_of(plan.allocation_index(row), lang),
        }

    def explained(self, row: list, scheme, lang: str, reasons: str = "words") -> tuple[list[dict] | None, dict | None]:
        """One scheme's reasons for a customer (None when they are not known, or not
        asked for: ``reasons="none"``) and the override that replaced its outcome (None
        when none did).  ``reasons="codes"``: records of codes and parameters without
        words, for kinds that give codes (one not stated as IR gives words only)."""
        outcome = row[scheme.slot.index]
        pin = row[self.plan.pin_slots[scheme.id]] if scheme.id in self.plan.pin_slots else None
        words = None if reasons == "codes" and scheme.compiled.reason_columns is not None else lang
        if pin is None:
            return (None if reasons == "none" else scheme.compiled.explain(outcome, words)), None
        # the kind explains what it computed; the override says what replaced it
        override, reason = present_override(pin, lang)
        return (None if reasons == "none" else scheme.compiled.explain(pin[1], words) + [reason]), override

    def allocation_reasons(self, row: list, lang: str | None) -> list[dict] | None:
        """Which allocation rule matched for a customer, as reason records in ``lang``
        (codes and parameters only for None); None where they are not known."""
        return self.plan.allocation.compiled.explain(row[self.plan.allocation.slot.index], lang)

    def _plan_of(self, rule_index: int | None, lang: str) -> dict:
        """The localized resource plan of an allocation rule, built once per language."""
        key = (rule_index, lang)
        if key not in self._plans:
            plan = self.plan
            rule = None if rule_index is None else plan.allocation_rule_ids.get(rule_index)
            fields = plan.plans.get(rule_index, {}) if rule_index is not None else {}
            self._plans[key] = {"rule": rule, **localize_all(worded_plan(plan, fields), lang)}
        return dict(self._plans[key])


def worded_plan(plan, fields: dict) -> dict:
    """A resource plan whose values the allocation's ``labels:`` names (a team id such as
    ``iron_triangle``) replaced by their labels."""
    labels = (plan.ruleset.data.get("allocation") or {}).get("labels") or {}
    return {key: labels.get(value, value) if isinstance(value, str) else value for key, value in fields.items()}
