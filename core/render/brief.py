"""The template context of account briefs: documented dataclasses, built from results.

``brief.html`` receives the fields of :class:`BriefBook` as its variables; it loops
over ``pages`` (one :class:`BriefPage` per account) and includes ``brief_page.html``
for each, which includes ``kinds/<kind>.html`` (else ``kinds/generic.html``) for each
scheme's section.  What plugins add through ``tierkit_brief_context`` is readable as
``page.<key>`` (see :meth:`BriefPage.__getitem__`).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tierkit.render.charts import Bar
from tierkit.errors import TierkitError
from tierkit.ruleset.labels import localize, localize_all, show_score
from tierkit.plan.compiler import Plan, SchemeInfo
from tierkit.plan.reasons import unexplained
from tierkit.registry import call_plugin
from tierkit.render.format import show
from tierkit.render.messages import translate
from tierkit.plan.roles import RunInfo, grade_scheme, role_field, run_info, scheme_config, schemes_in_order, title

ABOUT_LISTS = ("actions", "talking_points", "pain_points", "sales_motion")
# The type sizes of a brief and how many lines of normal type (see _lines) each holds on
# one A4 page, measured with WeasyPrint on the bundled rulesets and kept a little short.
DENSITIES = (("normal", 104), ("compact", 116), ("dense", 122))
LINE_WIDTH = 58  # half-width characters on one line of a column, normal type
HEADING = 2.7  # lines a section's heading takes, its margins and rule included
# How a long page gives way, one step at a time: the facts narrow to those the schemes
# read, then each playbook list and each scheme's reasons keep their first ``items`` /
# ``reasons`` lines and say how many more there are.  Every squeeze tries each density.
SQUEEZES = ({}, {"facts": True}, {"facts": True, "items": 3}, {"facts": True, "items": 2, "reasons": 5},
            {"facts": True, "items": 1, "reasons": 3})
FITS = tuple((squeeze, density, most) for squeeze in SQUEEZES for density, most in DENSITIES)
PLAN_KEYS = ("team", "cadence_days", "executive_sponsor", "executive_visit_days", "service_level", "actions")
# Said once under "why" when a page is printed from a results file without reasons.
REASONS_NOTES = {
    "en": {"engine": "Reasons were not recorded by the {engine} engine that made these results.",
           "language": "Reasons were recorded in {language} only; print with --lang {code} to show them.",
           "kinds": "The {engine} engine gives no reasons for {kinds} yet; --engine python gives them."},
    "zh": {"engine": "生成这些结果的 {engine} 引擎未记录评级理由。",
           "language": "评级理由仅以{language}记录；用 --lang {code} 打印可显示。",
           "kinds": "{engine} 引擎尚不给出 {kinds} 的评级理由；--engine python 可给出。"},
}
LANGUAGE_NAMES = {"en": {"en": "English", "zh": "Chinese"}, "zh": {"en": "英文", "zh": "中文"}}
ENGINE_NAMES = {"python": "Python", "duckdb": "DuckDB", "spark": "Spark"}


@dataclass(frozen=True)
class Chip:
    """One scheme's verdict for the account, shown as a chip in the header.

    ``scheme`` and ``kind`` name the scheme; ``title`` is its label (e.g. 客户等级);
    ``label`` the label id (``S``), ``display`` its text (``S 战略核心``); ``score`` the
    score as shown (:func:`tierkit.ruleset.labels.show_score`, None when there is none) and
    ``tags`` as the outcome carries them.
    """

    scheme: str
    kind: str
    title: str
    label: str | None
    display: str
    score: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """One scheme's part of "why": its verdict, its reasons and, for scored schemes, bars.

    ``scheme``, ``kind``, ``title``, ``label``, ``display``, ``score`` and ``tags`` as in
    :class:`Chip`; ``reasons`` are the outcome's reason records (each with a ``text``,
    plus the kind's own keys; empty when a results file recorded none); ``bars`` are the indicator contributions of reasons that
    carry one (``contribution``, ``points``, ``weight``), drawn against each indicator's
    maximum;
    ``about`` is what the scheme says of this label (strategy, actions, …), localized;
    ``tag_labels`` the display text of each tag the scheme has a label for;
    ``templates`` are the partials tried in order.
    """

    scheme: str
    kind: str
    title: str
    label: str | None
    display: str
    score: str | None
    tags: tuple[str, ...]
    reasons: list[dict]
    bars: list[Bar]
    about: dict
    tag_labels: dict
    templates: tuple[str, ...]


@dataclass(frozen=True)
class PlaybookEntry:
    """What to do, from one source: the allocation rule, or a scheme's label or tag.

    ``source`` names where it comes from (a scheme title, or "Allocation"); ``key`` is
    the label or tag id, or the allocation rule's id (``at_risk``: templates style alert
    tags by it); ``display`` its text (an allocation rule's label, empty without one);
    ``strategy`` one line or None; ``actions``, ``talking_points``, ``pain_points`` and
    ``sales_motion`` are localized texts, empty when the source says nothing.
    """

    source: str
    key: str
    display: str
    strategy: str | None
    actions: tuple[str, ...] = ()
    talking_points: tuple[str, ...] = ()
    pain_points: tuple[str, ...] = ()
    sales_motion: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allocation:
    """The resources the allocation gives the account (localized); ``None`` where the
    plan says nothing: ``team``, ``cadence_days`` (days between visits),
    ``executive_sponsor``, ``executive_visit_days``, ``service_level`` and ``actions``.
    ``rule`` is the allocation rule's id; ``custom`` holds the plan's other keys
    (``x_…``, ``important``, ``pool_return_days``)."""

    rule: str | None
    team: str | None
    cadence_days: float | None
    executive_sponsor: str | None
    executive_visit_days: float | None
    service_level: str | None
    actions: tuple[str, ...]
    custom: dict


@dataclass(frozen=True)
class Fact:
    """A key fact: the field's ``name``, its ``label`` and ``unit``, its typed ``value``
    and ``text`` (formatted with its unit, dates in the page's language)."""

    name: str
    label: str
    value: Any
    text: str
    unit: str | None


@dataclass
class BriefPage:
    """One account's page.

    ``id``, ``name``, ``owner``, ``rank`` (1 = best) of ``population`` accounts;
    ``grade`` is the chip of the grading scheme (None without schemes); ``chips`` one
    per scheme in ruleset order; ``sections`` the "why" of each scheme; ``allocation``
    and ``playbook`` what to do; ``facts`` the account's fields and derived features;
    ``customer`` the raw feature values by name; ``record`` the result record as
    ``tierkit evaluate`` writes it; ``density`` is ``normal``, ``compact`` or ``dense``:
    how small the type must be for the page to fit one A4 sheet, and ``fit`` the index in
    ``FITS`` of the type size and squeeze the page got (see :meth:`BriefBuilder.fit`); ``split``
    where the two columns part: after ``why`` (allocation, follow-up and playbook on the
    right) or after ``follow_up`` (the playbook alone on the right), whichever column pair
    is shorter (see :func:`_split`); ``extra`` what
    plugins added; ``reasons_note`` says why the reasons are missing when the page was
    printed from a results file without them (``tierkit brief --results``), else None.
    """

    id: str
    name: str | None
    owner: str | None
    rank: int
    population: int
    grade: Chip | None
    chips: list[Chip]
    sections: list[Section]
    allocation: Allocation
    playbook: list[PlaybookEntry]
    facts: list[Fact]
    customer: dict
    record: dict
    density: str = "normal"
    fit: int = 0
    split: str = "why"
    extra: dict = field(default_factory=dict)
    reasons_note: str | None = None

    def __getitem__(self, key: str) -> Any:
        """Plugin context: Jinja tries ``page[key]`` when ``page.key`` is no attribute."""
        return self.extra[key]


@dataclass
class BriefBook:
    """The variables of ``brief.html``: a ``title``, the language ``lang`` (``en``/``zh``),
    the run's footer facts ``run``, the ``pages``, one per account, and the ``cover`` of a
    rep's booklet (:class:`tierkit.render.brief_cover.Cover`; None for other booklets)."""

    title: str
    lang: str
    run: RunInfo
    pages: list[BriefPage]
    cover: Any = None

    def variables(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class BriefBuilder:
    """Builds pages for one evaluation, language and set of plugins."""

    def __init__(self, evaluation, lang: str, pm=None):
        self.evaluation = evaluation
        self.plan: Plan = evaluation.plan
        self.lang = lang
        self.pm = pm
        self.as_of: dt.date = evaluation.bound.as_of
        self.schemes = schemes_in_order(self.plan)
        self.grade = grade_scheme(self.plan)
        self.fact_specs = self._fact_specs()
        self.indicator_labels = {
            scheme.id: {item.get("id"): localize(item.get("label", item.get("id")), lang)
                        for item in scheme_config(self.plan, scheme.id).get("indicators") or [] if isinstance(item, dict)}
            for scheme in self.schemes
        }
        self.reasons_note = _reasons_note(evaluation, lang)
        self.enums = {spec.name for spec in self.plan.fields if spec.type == "enum"}
        self.read = set().union(*(scheme.reads for scheme in [*self.plan.schemes, self.plan.allocation]))
        rules = (self.plan.ruleset.data.get("allocation") or {}).get("rules") or []
        default = (self.plan.ruleset.data.get("allocation") or {}).get("default") or {}
        self.rule_labels = {rule.get("id"): localize(rule.get("label"), lang) for rule in [*rules, default] if rule.get("label")}

    def book(self, rows: list[list], starts: list[int] | None = None, cover=None) -> BriefBook:
        """The booklet of the accounts' pages, after a ``cover`` when given; ``starts`` are
        the fits to start from (see :meth:`page`)."""
        plan = self.plan
        heading = f"{translate(self.lang, 'brief_title')} · {localize(plan.ruleset.data.get('label'), self.lang) or plan.ruleset.name}"
        return BriefBook(heading, self.lang, run_info(plan, self.as_of, self.lang),
                         [self.page(row, start) for row, start in zip(rows, starts or [0] * len(rows))], cover)

    def page(self, row: list, start: int = 0) -> BriefPage:
        """The account's page, fitted to one sheet from the ``start``-th fit on (a PDF
        printer asks again with a later start when a page still spilled over)."""
        record = self.evaluation.record(row, self.lang)
        features = record["features"]
        sections = [self._section(scheme, record["outcomes"][scheme.id]) for scheme in self.schemes]
        chips = [Chip(s.scheme, s.kind, s.title, s.label, s.display, s.score, s.tags) for s in sections]
        grade = next((chip for chip in chips if self.grade is not None and chip.scheme == self.grade.id), None)
        page = BriefPage(
            id=str(record["id"]),
            name=features.get(role_field(self.plan, "name")),
            owner=features.get(role_field(self.plan, "owner")),
            rank=record["rank"],
            population=len(self.evaluation.rows),
            grade=grade,
            chips=chips,
            sections=sections,
            allocation=self._allocation(record["allocation"]),
            playbook=self._playbook(record, sections),
            facts=[self._fact(name, label, unit, features.get(name)) for name, label, unit in self.fact_specs],
            customer=features,
            record=record,
        )
        if any("reasons" not in outcome for outcome in record["outcomes"].values()):
            page.reasons_note = self.reasons_note
        page.extra = self._plugin_context(features, record)
        return self._fit(page, start)

    def _fit(self, page: BriefPage, start: int) -> BriefPage:
        """The page at the first fit of ``FITS`` from ``start`` whose lines hold on one
        sheet, else at the last (smallest type, tightest squeeze)."""
        for index in range(start, len(FITS)):
            squeeze, density, most = FITS[index]
            fitted = self._squeeze(page, **squeeze)
            if _lines(fitted) <= most or index == len(FITS) - 1:
                return replace(fitted, density=density, fit=index, split=_split(fitted)[0])
        raise TierkitError(f"no fit {start} for a brief: there are {len(FITS)}")

    def _squeeze(self, page: BriefPage, facts: bool = False, items: int | None = None,
                 reasons: int | None = None) -> BriefPage:
        """The page with only the facts the schemes read, and lists cut to their first lines."""
        if facts:
            page = replace(page, facts=[fact for fact in page.facts if fact.name in self.read])
        if items:
            page = replace(page, playbook=[replace(entry, **{part: self._cap(getattr(entry, part), items) for part in ABOUT_LISTS})
                                           for entry in page.playbook])
        if reasons:
            page = replace(page, sections=[replace(section, reasons=self._cap_reasons(section, reasons))
                                           for section in page.sections])
        return page

    def _cap(self, items: tuple[str, ...], most: int) -> tuple[str, ...]:
        """The first ``most`` items and "…and N more" for the rest."""
        if len(items) <= most:
            return items
        return (*items[:most], translate(self.lang, "more_items", count=len(items) - most))

    def _cap_reasons(self, section: Section, most: int) -> list[dict]:
        """The first reasons and the last (the verdict), "…and N more" between; reasons
        drawn as bars stay, they are no lines of text."""
        said = [reason for reason in section.reasons if not _drawn(section, reason)]
        if len(said) <= most:
            return section.reasons
        left_out = said[most - 1:-1]
        marker = {"text": translate(self.lang, "more_items", count=len(left_out))}
        kept = [reason for reason in section.reasons if not any(reason is out for out in left_out)]
        kept.insert(kept.index(said[-1]), marker)
        return kept

    # -- parts ----------------------------------------------------------------
    def _section(self, scheme: SchemeInfo, outcome: dict) -> Section:
        label = outcome["label"]
        words = {**scheme.compiled.tag_labels, **scheme.compiled.labels}
        reasons = outcome.get("reasons") or []
        return Section(
            scheme=scheme.id,
            kind=scheme.kind,
            title=title(scheme, self.lang),
            label=label,
            display=str(outcome["display"]) if outcome["display"] is not None else "—",
            score=None if outcome["score"] is None else show_score(outcome["score"], scheme.compiled.score_decimals),
            tags=tuple(outcome["tags"]),
            reasons=reasons,
            bars=self._bars(scheme, reasons),
            about=localize_all(dict(scheme.compiled.about.get(label, {})), self.lang) if label is not None else {},
            tag_labels={tag: str(localize(words[tag], self.lang)) for tag in outcome["tags"] if tag in words},
            templates=(f"kinds/{scheme.kind}.html", "kinds/generic.html"),
        )

    def _bars(self, scheme: SchemeInfo, reasons: list[dict]) -> list[Bar]:
        labels = self.indicator_labels.get(scheme.id, {})
        bars = []
        for reason in reasons:
            indicator = reason.get("indicator")
            if indicator is None:
                continue
            name = str(labels.get(indicator, indicator))
            if reason.get("missing"):
                bars.append(Bar(name, None, None, translate(self.lang, "missing")))
            elif isinstance(reason.get("contribution"), (int, float)):
                contribution, points = reason["contribution"], reason.get("points")
                maximum = contribution * 100 / points if points else (reason.get("weight") or 0) * 100
                shown = reason.get("contribution_shown", show_score(contribution))  # as the reason's text shows it
                bars.append(Bar(name, contribution, maximum, f"{shown} / {maximum:.0f}"))
        return bars

    def _allocation(self, plan: dict) -> Allocation:
        custom = {key: value for key, value in plan.items() if key not in PLAN_KEYS and key != "rule"}
        return Allocation(
            rule=plan.get("rule"),
            team=plan.get("team"),
            cadence_days=plan.get("cadence_days"),
            executive_sponsor=plan.get("executive_sponsor"),
            executive_visit_days=plan.get("executive_visit_days"),
            service_level=plan.get("service_level"),
            actions=tuple(plan.get("actions") or ()),
            custom=custom,
        )

    def _playbook(self, record: dict, sections: list[Section]) -> list[PlaybookEntry]:
        entries = []
        allocation = record["allocation"]
        if allocation.get("actions"):
            rule = allocation.get("rule")
            entries.append(PlaybookEntry(translate(self.lang, "allocation"), str(rule), str(self.rule_labels.get(rule) or ""),
                                         None, tuple(allocation["actions"])))
        for scheme, section in zip(self.schemes, sections):
            about = scheme.compiled.about
            keys = [section.label] + [tag for tag in section.tags if tag != section.label]
            for key in keys:
                content = about.get(key) if key is not None else None
                if not content:
                    continue
                content = localize_all(dict(content), self.lang)
                entries.append(PlaybookEntry(
                    source=section.title,
                    key=str(key),
                    display=str(localize(scheme.compiled.labels.get(key, key), self.lang)),
                    strategy=content.get("strategy"),
                    **{name: tuple(content.get(name) or ()) for name in ABOUT_LISTS},
                ))
        return entries

    def _fact_specs(self) -> list[tuple[str, str, str | None]]:
        plan = self.plan
        hidden = {role_field(plan, role) for role in ("id", "name", "owner")}
        specs = [(spec.name, localize(spec.label, self.lang) or spec.name, spec.unit) for spec in plan.fields if spec.name not in hidden]
        for name, _slot, config in plan.derived:
            specs.append((name, localize(config.get("label"), self.lang) or name, config.get("unit")))
        return specs

    def _fact(self, name: str, label: str, unit: str | None, value: Any) -> Fact:
        """An enum's value shows as its label (the field's ``labels:``), others as :func:`show` writes them."""
        if isinstance(value, str) and name in self.enums:
            return Fact(name, str(label), value, self.plan.vocabulary.value(name, value, self.lang), unit)
        return Fact(name, str(label), value, show(value, self.lang, unit), unit)

    def _plugin_context(self, features: dict, record: dict) -> dict:
        if self.pm is None:
            return {}
        arguments = {"customer": features, "record": record, "plan": self.plan, "lang": self.lang, "as_of": self.as_of}
        reserved = {f.name for f in fields(BriefPage)}
        extra: dict = {}
        owners: dict[str, str] = {}
        for impl in reversed(self.pm.hook.tierkit_brief_context.get_hookimpls()):
            result = call_plugin(impl, "tierkit_brief_context", **arguments)
            if result is None:
                continue
            if not isinstance(result, dict):
                raise TierkitError(f"plugin {impl.plugin_name!r}: tierkit_brief_context returned {type(result).__name__}, expected a dict")
            for key, value in result.items():
                if key in reserved:
                    raise TierkitError(f"plugin {impl.plugin_name!r}: brief context key {key!r} is a built-in name")
                if key in owners:
                    raise TierkitError(f"brief context key {key!r} is set by both {owners[key]!r} and {impl.plugin_name!r}")
                owners[key] = impl.plugin_name
                extra[key] = value
        return extra


def _reasons_note(evaluation, lang: str) -> str:
    """Why the outcomes of an evaluation read back from a results file have no reasons."""
    missing = getattr(evaluation, "missing_reasons", None)
    why, what = (missing(lang) if missing is not None else None) or ("engine", getattr(evaluation, "engine", "python"))
    notes = REASONS_NOTES.get(lang, REASONS_NOTES["en"])
    if why == "language":
        names = LANGUAGE_NAMES.get(lang, LANGUAGE_NAMES["en"])
        return notes["language"].format(language=names.get(what, what), code=what)
    if why == "kinds":  # an engine that explains some schemes: those it does not are named
        separator = "、" if lang == "zh" else ", "
        kinds = separator.join(str(localize(scheme.label, lang)) for scheme in unexplained(evaluation.plan))
        return notes["kinds"].format(engine=ENGINE_NAMES.get(what, what), kinds=kinds)
    return notes["engine"].format(engine=ENGINE_NAMES.get(what, what))


def _drawn(section: Section, reason: dict) -> bool:
    """A reason shown as a bar of the section's chart, not as a line of text."""
    return bool(section.bars) and "indicator" in reason


def _text_lines(text, per: int = LINE_WIDTH) -> int:
    """Lines a text wraps to at ``per`` half-width characters (a Chinese character counts two)."""
    width = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in str(text))
    return max(1, math.ceil(width / per))


def _split(page: BriefPage) -> tuple[str, float]:
    """Where the page's two columns part, and the lines of the longer column.

    The left column holds "why", the right one the playbook; allocation and follow-up
    go under "why" (``follow_up``) or above the playbook (``why``), whichever leaves the
    longer column shorter.  A fixed split, not balanced columns: WeasyPrint lays out
    balanced columns again and again to find their height."""
    why = HEADING + (1 if page.reasons_note else 0)  # the note on missing reasons
    for section in page.sections:
        why += 1.3 + 1.3 * len(section.bars)
        why += sum(_text_lines(reason["text"]) for reason in section.reasons if not _drawn(section, reason))
    plan = HEADING + 4 + (HEADING + 2 if "follow_up" in page.extra else 0)  # allocation's rows, follow-up's
    playbook = HEADING
    for entry in page.playbook:
        playbook += 2.5 + (_text_lines(entry.strategy) if entry.strategy else 0)  # the box, its heading
        for part in ABOUT_LISTS:
            items = getattr(entry, part)
            playbook += (1 + sum(_text_lines(item) for item in items)) if items else 0
    after_why, after_plan = max(why, plan + playbook), max(why + plan, playbook)
    return ("why", after_why) if after_why <= after_plan else ("follow_up", after_plan)


def _lines(page: BriefPage) -> float:
    """An estimate of a page's lines of normal type, counted as if its two columns were
    one: twice the longer column, each text wrapping at ``LINE_WIDTH`` half-width
    characters; a row of facts spans both columns, each fact wrapping in a quarter of the
    page."""
    total = 2 * _split(page)[1]
    for start in range(0, len(page.facts), 4):  # a row of four facts, each wrapping in its quarter
        total += 2 * max(_text_lines(f"{fact.label}  {fact.text}", LINE_WIDTH // 2) for fact in page.facts[start:start + 4])
    return total
