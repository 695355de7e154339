"""The portfolio report's numbers and template context (documented dataclasses).

- **Distribution**: customers per label of the grading scheme, in declared order.
- **Cross table**: the classification scheme (rows) against the grading scheme.
- **Pareto curve**: customers sorted by a value, largest first; the curve is the share
  of the total value brought by the top share of customers.  Customers without a value
  are left out (and counted); values below zero count as zero.  The marked point is
  the curve at 20% of customers, linear between two customers.
- **Matrices**: for every scheme whose kind declares the ``x_value`` and ``y_value``
  attributes (a two-axis matrix), customers per cell and a scatter with the cuts.
- **Workload**: each account's team makes 30 ÷ ``cadence_days`` visits a month, and its
  executive sponsor 30 ÷ ``executive_visit_days``; summed per team (and sponsor) against
  the ruleset's ``capacity: {TEAM: {visits_per_month: N}}`` (or ``allocation.capacity:
  {TEAM: N}``), whose keys are matched against the team's id (the plan's value), its
  label in any language or the allocation rule's id; the difference is over or spare.
- **Appendix**: a watch list longer than ``WATCH_LIMIT`` is cut in the body, which says
  how many more; the appendix page lists every account.
- **Watch lists**: accounts carrying the ``benchmark``, ``nail`` or ``at_risk`` tag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from jinja2 import TemplateError
from jinja2.meta import find_undeclared_variables

from tierkit.render.charts import Bar, ScatterPoint
from tierkit.errors import TierkitError
from tierkit.expr.compiler import did_you_mean
from tierkit.ruleset.labels import localize
from tierkit.plan.compiler import Plan, SchemeInfo
from tierkit.render.format import MONEY_UNITS, pct
from tierkit.render.messages import translate
from tierkit.plan.roles import (
    WATCH_TAGS, RunInfo, class_scheme, display, grade_scheme, label_order, role_field, run_info, scheme_config,
    schemes_in_order, title,
)

PARETO_POINT = 0.2
WATCH_LIMIT = 50
_AXIS_TEXT = re.compile(r"^(.+?)[:：]")


@dataclass(frozen=True)
class Count:
    """Customers with one ``label`` (id): its ``display`` text, the ``count`` and its
    ``share`` of the total."""

    label: str
    display: str
    count: int
    share: float


@dataclass(frozen=True)
class Distribution:
    """Customers per label (``counts``, in declared order) of one ``scheme`` (its
    ``title``), of ``total`` customers, with ``bars`` ready to draw."""

    scheme: str
    title: str
    counts: list[Count]
    total: int
    bars: list[Bar]


@dataclass(frozen=True)
class CrossTable:
    """Counts by ``rows`` (labels of the classification scheme) and ``columns`` (grades),
    under a ``title``; ``cells`` holds the counts, ``cells[i][j]`` those of row ``i`` and
    column ``j``; ``row_totals``,
    ``column_totals`` and the overall ``total``."""

    title: str
    rows: list[str]
    columns: list[str]
    cells: list[list[int]]
    row_totals: list[int]
    column_totals: list[int]
    total: int


@dataclass(frozen=True)
class Pareto:
    """The Pareto curve of ``value`` (its name as shown): ``points`` are (customer share,
    value share) pairs from (0, 0) to (1, 1); ``share_at_point`` is the value share of
    the top ``point`` (0.2) of customers; ``customers`` had a value, ``missing`` had none;
    ``total`` is the sum of the values."""

    value: str
    points: list[tuple[float, float]]
    point: float
    share_at_point: float | None
    customers: int
    missing: int
    total: float


@dataclass(frozen=True)
class Matrix:
    """A two-axis ``scheme`` (its ``title``): customers per cell (``counts``), and the
    scatter's ``points`` (with ``groups``, the cell names by point group), the axis names
    ``x_label`` and ``y_label`` and the ``cuts`` (x, y; None when unknown)."""

    scheme: str
    title: str
    x_label: str
    y_label: str
    counts: list[Count]
    points: list[ScatterPoint]
    groups: list[str]
    cuts: tuple[float | None, float | None]


@dataclass(frozen=True)
class TeamLoad:
    """One ``team``'s (or, when ``executive``, an executive sponsor's) ``accounts`` and
    monthly ``visits`` against its ``capacity`` (None when the ruleset declares none);
    ``load`` is visits ÷ capacity, ``over`` whether it exceeds 1, ``spare`` capacity
    minus visits (negative: visits over capacity)."""

    team: str
    executive: bool
    accounts: int
    visits: float
    capacity: float | None
    load: float | None
    over: bool
    spare: float | None = None


@dataclass(frozen=True)
class WatchAccount:
    """One account of a watch list: its ``id``, ``name``, ``owner``, ``grade`` (display
    text of the grading scheme) and ``rank``."""

    id: str
    name: str | None
    owner: str | None
    grade: str
    rank: int


@dataclass(frozen=True)
class WatchList:
    """The ``accounts`` carrying ``tag`` (under a ``title``), best ranked first: all
    ``total`` of them; the body shows the first ``limit`` (``WATCH_LIMIT``) and says how
    many more, the appendix lists every one (``cut`` says whether it must)."""

    tag: str
    title: str
    accounts: list[WatchAccount]
    total: int
    limit: int = WATCH_LIMIT

    @property
    def cut(self) -> bool:
        return self.total > self.limit


@dataclass
class Report:
    """The variables of ``report.html``: ``title``, ``lang``, ``run`` (footer facts), the
    counts ``read``/``evaluated``/``rejected``, and the sections: ``distribution`` and
    ``cross`` (None without schemes), ``pareto`` (None without a numeric value),
    ``matrices``, ``workload`` (per team), ``watch`` (one list per watch tag) and
    ``overlap``, the accounts tagged both benchmark and nail."""

    title: str
    lang: str
    run: RunInfo
    read: int
    evaluated: int
    rejected: int
    distribution: Distribution | None
    cross: CrossTable | None
    pareto: Pareto | None
    matrices: list[Matrix]
    workload: list[TeamLoad]
    watch: list[WatchList]
    overlap: list[WatchAccount]

    def variables(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class ReportBuilder:
    """Computes the report of one evaluation (see the module docstring)."""

    def __init__(self, evaluation, registry, env, lang: str, rows: list[list] | None = None):
        """``rows`` limits the counts to some accounts (a rep's, for a booklet's cover)."""
        self.evaluation = evaluation
        self.plan: Plan = evaluation.plan
        self.registry = registry
        self.env = env
        self.lang = lang
        self.rows = evaluation.ranked() if rows is None else rows

    def report(self, read: int, by: str | None = None, grade: str | None = None, value: str | None = None,
               rejected: int | None = None) -> Report:
        """The report; ``rejected`` counts the rejected rows when the evaluation does not
        list them (one read back from a results file)."""
        plan, lang = self.plan, self.lang
        grading = grade_scheme(plan, grade)
        classing = class_scheme(plan, grading, by)
        heading = f"{translate(lang, 'report_title')} · {localize(plan.ruleset.data.get('label'), lang) or plan.ruleset.name}"
        return Report(
            title=heading,
            lang=lang,
            run=run_info(plan, self.evaluation.bound.as_of, lang),
            read=read,
            evaluated=len(self.rows),
            rejected=len(self.evaluation.rejected) if rejected is None else rejected,
            distribution=self.distribution(grading) if grading else None,
            cross=self.cross(classing, grading) if grading and classing else None,
            pareto=self.pareto(value),
            matrices=[self.matrix(s) for s in schemes_in_order(plan) if self._is_matrix(s)],
            workload=self.workload(),
            watch=self.watch(grading),
            overlap=self.overlap(grading),
        )

    # -- distribution and cross table -------------------------------------------
    def _labels(self, scheme: SchemeInfo) -> list:
        index = scheme.slot.index
        return [row[index][0] for row in self.rows]

    def distribution(self, scheme: SchemeInfo) -> Distribution:
        labels = self._labels(scheme)
        total = len(labels)
        counts = []
        for label in label_order(scheme, labels):
            count = sum(1 for item in labels if item == label)
            counts.append(Count(str(label), display(scheme, label, self.lang), count, count / total if total else 0.0))
        if any(label is None for label in labels):
            count = sum(1 for item in labels if item is None)
            counts.append(Count("", "—", count, count / total if total else 0.0))
        bars = [Bar(c.display, c.count, None, f"{c.count:,} · {pct(c.share)}") for c in counts]
        return Distribution(scheme.id, title(scheme, self.lang), counts, total, bars)

    def cross(self, rows_scheme: SchemeInfo, columns_scheme: SchemeInfo) -> CrossTable:
        row_labels, column_labels = self._labels(rows_scheme), self._labels(columns_scheme)
        row_ids, column_ids = label_order(rows_scheme, row_labels), label_order(columns_scheme, column_labels)
        # no label (a rule set without a default) is a "—" row or column, as in the
        # distribution, so that the table's total is every customer evaluated
        row_ids += [None] if None in row_labels else []
        column_ids += [None] if None in column_labels else []
        position = {label: i for i, label in enumerate(column_ids)}
        cells = {label: [0] * len(column_ids) for label in row_ids}
        for row_label, column_label in zip(row_labels, column_labels):
            if row_label in cells and column_label in position:
                cells[row_label][position[column_label]] += 1
        used = [label for label in row_ids if any(cells[label])]
        matrix = [cells[label] for label in used]
        return CrossTable(
            title=translate(self.lang, "cross_table", by=title(rows_scheme, self.lang), grade=title(columns_scheme, self.lang)),
            rows=[display(rows_scheme, label, self.lang) for label in used],
            columns=[display(columns_scheme, label, self.lang) for label in column_ids],
            cells=matrix,
            row_totals=[sum(line) for line in matrix],
            column_totals=[sum(line[j] for line in matrix) for j in range(len(column_ids))],
            total=sum(map(sum, matrix)),
        )

    # -- Pareto -----------------------------------------------------------------
    def pareto(self, value: str | None) -> Pareto | None:
        name = value or pareto_value_field(self.plan)
        if name is None:
            return None
        read, shown = self._value_reader(name)
        values = [read(row) for row in self.rows]
        known = sorted((max(float(v), 0.0) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)), reverse=True)
        missing = len(values) - len(known)
        total = math.fsum(known)
        points = [(0.0, 0.0)]
        running = 0.0
        for index, amount in enumerate(known, 1):
            running += amount
            points.append((index / len(known), running / total if total else 0.0))
        share = pareto_share(known, PARETO_POINT) if total else None
        return Pareto(shown, points, PARETO_POINT, share, len(known), missing, total)

    def _value_reader(self, text: str) -> tuple[Callable[[list], Any], str]:
        """A function from a row to the value, for a field or derived name or an expression."""
        slots = {spec.name: (i, spec.label) for i, spec in enumerate(self.plan.fields)}
        slots.update({name: (slot.index, config.get("label")) for name, slot, config in self.plan.derived})
        if text in slots:
            index, label = slots[text]
            return (lambda row: row[index]), str(localize(label, self.lang) or text)
        features = self._feature_names()
        try:
            unknown = find_undeclared_variables(self.env.parse("{{ " + text + " }}")) - set(features) - set(self.env.globals)
            function = self.env.compile_expression(text)
        except TemplateError as error:
            raise TierkitError(f"--value {text!r}: {error.message or error}") from None
        if unknown:
            name = sorted(unknown)[0]
            hint = did_you_mean(name, features)
            raise TierkitError(f"--value {text!r}: unknown name {name!r}", hint=hint)

        def read(row: list) -> Any:
            return function(**self._features(row))

        return read, text

    def _feature_names(self) -> list[str]:
        return [spec.name for spec in self.plan.fields] + [name for name, _slot, _config in self.plan.derived] + [
            scheme.id for scheme in self.plan.schemes
        ]

    def _features(self, row: list) -> dict:
        features = {spec.name: row[i] for i, spec in enumerate(self.plan.fields)}
        features.update({name: row[slot.index] for name, slot, _config in self.plan.derived})
        for scheme in self.plan.schemes:
            label, score, tags, _detail = row[scheme.slot.index]
            features[scheme.id] = {"label": label, "score": score, "tags": list(tags)}
        return features

    # -- matrices ---------------------------------------------------------------
    def _is_matrix(self, scheme: SchemeInfo) -> bool:
        kind = self.registry.kinds.get(scheme.kind)
        return kind is not None and {"x_value", "y_value"} <= set(kind.attributes)

    def matrix(self, scheme: SchemeInfo) -> Matrix:
        attributes = self.registry.kinds[scheme.kind].attributes
        x_at, y_at = attributes["x_value"][1], attributes["y_value"][1]
        outcomes = [row[scheme.slot.index] for row in self.rows]
        labels = [outcome[0] for outcome in outcomes]
        order = label_order(scheme, labels)
        group = {label: i for i, label in enumerate(order)}
        counts = [
            Count(str(label), display(scheme, label, self.lang), labels.count(label), labels.count(label) / len(labels) if labels else 0.0)
            for label in order
        ]
        points, first = [], None
        for row, outcome in zip(self.rows, outcomes):
            x, y, reasons = self._axis_values(row, scheme, outcome, x_at, y_at)
            if x is not None and y is not None:
                points.append(ScatterPoint(x, y, group[outcome[0]]))
                if first is None:
                    first = reasons if reasons is not None else self.evaluation.explained(row, scheme, self.lang)[0]
        x_label, y_label, cuts = self._axes(scheme, first or [])
        return Matrix(scheme.id, title(scheme, self.lang), x_label, y_label, counts, points,
                      [display(scheme, label, self.lang) for label in order], cuts)

    def _axis_values(self, row: list, scheme: SchemeInfo, outcome: tuple, x_at: int, y_at: int):
        """The two axis values of an outcome, from its detail; for an evaluation read back
        from a results file (no detail), from the reasons the file recorded, returned too
        (None when the detail is at hand: they are made only when needed)."""
        detail = outcome[3]
        if detail is not None:
            return _number(detail[x_at]), _number(detail[y_at]), None
        reasons = self.evaluation.explained(row, scheme, self.lang)[0] or []
        values = {reason.get("axis"): _number(reason.get("value")) for reason in reasons if "value" in reason}
        return values.get("x"), values.get("y"), reasons

    def _axes(self, scheme: SchemeInfo, reasons: list[dict]) -> tuple[str, str, tuple]:
        """Axis names (the scheme's config, else the reasons) and cuts (from ``reasons``,
        those of the first outcome with both axis values)."""
        config = scheme_config(self.plan, scheme.id)
        names, cuts = {}, {}
        for reason in reasons:
            axis = reason.get("axis")
            if axis in ("x", "y"):
                cuts[axis] = _number(reason.get("cut"))
                match = _AXIS_TEXT.match(str(reason.get("text", "")))
                names[axis] = match.group(1) if match else axis
        units = {spec.name: spec.unit for spec in self.plan.fields if spec.unit}
        units.update({name: config_.get("unit") for name, _slot, config_ in self.plan.derived if config_.get("unit")})
        for axis in ("x", "y"):
            given = config.get(axis) if isinstance(config.get(axis), dict) else {}
            if given.get("label") is not None:
                names[axis] = localize(given["label"], self.lang)
            unit = units.get(str(given.get("value", "")).strip())
            if unit:
                names[axis] = f"{names.get(axis, axis)} ({unit})" if self.lang != "zh" else f"{names.get(axis, axis)}（{unit}）"
        return str(names.get("x", "x")), str(names.get("y", "y")), (cuts.get("x"), cuts.get("y"))

    # -- workload ---------------------------------------------------------------
    def workload(self) -> list[TeamLoad]:
        plan = self.plan
        capacity = {**((plan.ruleset.data.get("allocation") or {}).get("capacity") or {}),
                    **{team: given["visits_per_month"] for team, given in (plan.ruleset.data.get("capacity") or {}).items()}}
        labels = (plan.ruleset.data.get("allocation") or {}).get("labels") or {}
        totals: dict[tuple[str, bool], list] = {}
        for row in self.rows:
            rule_index = plan.allocation_index(row)
            raw = plan.plans.get(rule_index, {}) if rule_index is not None else {}
            rule_id = plan.allocation_rule_ids.get(rule_index) if rule_index is not None else None
            for executive, (who, days) in enumerate(((raw.get("team"), raw.get("cadence_days")),
                                                     (raw.get("executive_sponsor"), raw.get("executive_visit_days")))):
                if who is None or not days:
                    continue
                key = (str(localize(labels.get(who, who) if isinstance(who, str) else who, self.lang)), bool(executive))
                rule = None if executive else rule_id
                entry = totals.setdefault(key, [0, 0.0, None])
                entry[0] += 1
                entry[1] += 30 / days
                if entry[2] is None:
                    entry[2] = _capacity_of(capacity, who, labels.get(who) if isinstance(who, str) else None, rule)
        loads = []
        for (team, executive), (accounts, visits, limit) in totals.items():
            load = visits / limit if limit else None
            loads.append(TeamLoad(team, executive, accounts, visits, limit, load, limit is not None and visits > limit,
                                  None if limit is None else limit - visits))
        return sorted(loads, key=lambda load: (load.executive, -load.visits))

    # -- watch lists ------------------------------------------------------------
    def watch(self, grading: SchemeInfo | None) -> list[WatchList]:
        return [WatchList(tag, translate(self.lang, tag), accounts, len(accounts))
                for tag in WATCH_TAGS for accounts in [self._carrying((tag,), grading)]]

    def overlap(self, grading: SchemeInfo | None) -> list[WatchAccount]:
        """Accounts both benchmark and nail: a reference customer stuck in a stalemate."""
        return self._carrying(("benchmark", "nail"), grading)

    def _carrying(self, tags: tuple[str, ...], grading: SchemeInfo | None) -> list[WatchAccount]:
        """The accounts whose outcomes carry every one of ``tags``, best ranked first."""
        plan = self.plan
        tag_slots = [scheme.slot.index for scheme in plan.schemes]
        name_field, owner_field = role_field(plan, "name"), role_field(plan, "owner")
        index = {spec.name: i for i, spec in enumerate(plan.fields)}
        return [
            WatchAccount(
                id=str(row[plan.id_index]),
                name=row[index[name_field]] if name_field in index else None,
                owner=row[index[owner_field]] if owner_field in index else None,
                grade=display(grading, row[grading.slot.index][0], self.lang) if grading else "—",
                rank=row[plan.rank_slot.index],
            )
            for row in self.rows if all(any(tag in row[s][2] for s in tag_slots) for tag in tags)
        ]


def pareto_value_field(plan: Plan) -> str | None:
    """The field a Pareto split is of when none is asked for: ``revenue`` if the ruleset
    has it, else the first money field named like revenue, else the first money field."""
    numeric = [(spec.name, spec.unit) for spec in plan.fields if spec.type in ("number", "integer")]
    names = [name for name, _ in numeric]
    if "revenue" in names:
        return "revenue"
    money = [name for name, unit in numeric if unit in MONEY_UNITS]
    return next((name for name in money if "revenue" in name), None) or next(iter(money), None)


def pareto_share(values_descending: list[float], point: float) -> float:
    """The share of the total brought by the top ``point`` of customers, linear between
    two customers when ``point × n`` is not whole."""
    total = math.fsum(values_descending)
    n = len(values_descending)
    position = point * n
    whole = math.floor(position + 1e-9)
    head = math.fsum(values_descending[:whole])
    if whole < n and position - whole > 1e-9:
        head += (position - whole) * values_descending[whole]
    return head / total


def _capacity_of(capacity: dict, who: Any, label: Any, rule_id: str | None) -> float | None:
    """The capacity declared for a team: keyed by its id, its label in any language, or a rule id."""
    names = {str(text) for given in (who, label) if given is not None
             for text in (given.values() if isinstance(given, dict) else [given])}
    for key, value in capacity.items():
        if key in names or (rule_id is not None and key == rule_id):
            return float(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None
