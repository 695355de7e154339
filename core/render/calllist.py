"""A rep's actions for today, in Eisenhower order (重要紧急四象限).

For each account of the rep:

- **urgent** when the days since the last contact have reached the allocation's
  ``cadence_days`` (the visit is due today or earlier), or when no contact date is
  known at all; an account whose plan has no cadence is never urgent;
- **important** when its allocation plan says ``important: true`` (if any plan of
  the ruleset declares ``important``); otherwise when it has the grading scheme's top
  grade or ranks in the top ``calllist.top_share`` (default 20%) of all customers;
- an **emergency** when an outcome carries one of ``calllist.emergency_tags``
  (default ``at_risk``): emergencies jump the queue;
- **overdue** when the days since the last contact exceed the cadence (one day past
  its deadline is overdue, the deadline day itself is only due);
- **to be returned to the shared pool** (公海) when they exceed the plan's
  ``pool_return_days`` (default twice the cadence), so that another rep can take it.

The last contact is ``calllist.contact`` (a field or derived feature holding a date,
or a number of days since the contact), else the first of ``last_contact_date``,
``last_visit_date``, ``days_since_contact``, ``days_since_visit`` and ``last_order_date``
the ruleset has, unless a contact logged in ``--contacts`` (the CRM's activity export:
account id, date, outcome) is later: a logged call resets the cadence and the pool
deadline.  The order: emergencies first (new ones before those carried already), then important and urgent, important not
urgent, urgent not important, neither; within each, by grade in its declared order
(an overdue S before a D), then the most overdue (or soonest due), then by rank.  A
day holds at most ``calllist.per_day`` accounts (``--limit`` overrides); the rest wait.

Each line's action says why this account today: a rescue visit by the plan's executive
sponsor for a new emergency tag (one the account did not carry in the run before, see
:func:`earlier_run`; every tag is new when no earlier run was saved), keeping up the
rescue plan for one it carried already, a collection call for overdue receivables
(``overdue_amount``), a review visit for falling revenue (``revenue_trend`` below 1),
an overdue visit, a first contact, else what its quadrant calls for.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path

from tierkit.errors import TierkitError
from tierkit.io.fieldtypes import FieldSpec, make_coercer
from tierkit.ruleset.labels import localize, show_number
from tierkit.io.outputs import csv_writer, replacing
from tierkit.plan.compiler import Plan
from tierkit.render.format import MISSING, day, num
from tierkit.render.messages import translate
from tierkit.plan.roles import RunInfo, grade_scheme, label_order, role_field, run_info, schemes_in_order
from tierkit.store.runs import Store, store_path

CONTACT_FIELDS = ("last_contact_date", "last_visit_date", "days_since_contact", "days_since_visit", "last_order_date")
EMERGENCY_TAGS = ("at_risk",)
TOP_SHARE = 0.2
CONTACT_ID_COLUMNS = ("account_id", "customer_id", "id", "客户编号", "客户id")
CONTACT_DATE_COLUMNS = ("date", "contact_date", "activity_date", "日期", "联系日期")
CONTACT_OUTCOME_COLUMNS = ("outcome", "result", "结果", "联系结果")
COLUMNS = ("order", "quadrant", "id", "name", "grade", "rank", "last_contact", "days", "cadence", "due", "status", "flags", "action")


@dataclass(frozen=True)
class FollowUp:
    """Where an account stands against its visit cadence on the as-of date.

    ``last_contact`` is the date of the last contact and ``days_since`` the days since
    it (both None when no contact date is known); ``cadence_days`` the plan's; ``due_date``
    is the last contact plus the cadence; ``days_left`` the cadence minus the days since,
    negative when overdue; ``urgent``, ``overdue`` and ``pool_return`` as the module
    docstring defines them; ``pool_return_days`` is the plan's, else twice the cadence.
    """

    last_contact: dt.date | None
    days_since: int | None
    cadence_days: float | None
    due_date: dt.date | None
    days_left: float | None
    urgent: bool
    overdue: bool
    pool_return_days: float | None
    pool_return: bool


@dataclass(frozen=True)
class ContactSource:
    """The feature holding the last contact: ``as_days`` when it counts days since it."""

    name: str
    as_days: bool


@dataclass(frozen=True)
class Earlier:
    """The saved run today's emergency tags are compared with: its ``run_id``, its
    ``as_of`` date and ``carriers``, the emergency tags each customer carried in it."""

    run_id: int
    as_of: dt.date
    carriers: dict[str, set[str]]


def earlier_run(plan: Plan, as_of: dt.date, store: str | None = None, ref: str | None = None) -> Earlier | None:
    """The run before this one in the run store (``--store``, else ``$TIERKIT_STORE`` or
    the default store, when it exists): ``ref`` (a run id, ``latest`` or ``previous``)
    when given, else the latest run of the ruleset as of an earlier date, so that a
    run saved from today's data is not taken for the one before.  None without one."""
    if ref is None and not store_path(store).is_file():
        return None
    with Store.open(store) as opened:
        run = opened.run(ref) if ref is not None else opened.latest_before(plan.ruleset.name, as_of.isoformat())
        if run is None:
            return None
        if run.ruleset != plan.ruleset.name:
            raise TierkitError(f"--previous {ref}: run {run.id} is of ruleset {run.ruleset}, not {plan.ruleset.name}")
        carriers = opened.carriers(run.id, _settings(plan).emergency_tags)
    return Earlier(run.id, dt.date.fromisoformat(run.as_of), carriers)


def contact_source(plan: Plan) -> ContactSource | None:
    """Where the last contact is read from (see the module docstring)."""
    types = {spec.name: spec.type for spec in plan.fields}
    types.update({name: "derived" for name, _slot, _config in plan.derived})
    chosen = (plan.ruleset.data.get("calllist") or {}).get("contact")
    if chosen is not None and chosen not in types:
        raise TierkitError(
            f"calllist.contact names {chosen!r}, which is no field or derived feature",
            plan.ruleset.position("calllist", "contact"),
        )
    name = chosen or next((candidate for candidate in CONTACT_FIELDS if candidate in types), None)
    if name is None:
        return None
    return ContactSource(name, types[name] in ("number", "integer") or name.startswith("days_"))


def follow_up(features: dict, allocation: dict, source: ContactSource | None, as_of: dt.date,
              logged: dt.date | None = None, date: dt.date | None = None) -> FollowUp:
    """The account's follow-up status on ``date`` (default the data's ``as_of``, which
    days-since features count from) from its last contact, the later of the data's and
    a ``logged`` one, and its plan."""
    value = features.get(source.name) if source is not None else None
    last = None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        last = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        last = as_of - dt.timedelta(days=int(value))
    if logged is not None and (last is None or logged > last):
        last = logged
    days_since = ((date or as_of) - last).days if last is not None else None
    cadence = allocation.get("cadence_days")
    pool_days = allocation.get("pool_return_days") or (2 * cadence if cadence else None)
    if cadence is None:
        return FollowUp(last, days_since, None, None, None, False, False, pool_days, False)
    if days_since is None:
        return FollowUp(None, None, cadence, None, None, True, False, pool_days, False)
    due = last + dt.timedelta(days=math.ceil(cadence))
    return FollowUp(
        last_contact=last,
        days_since=days_since,
        cadence_days=cadence,
        due_date=due,
        days_left=cadence - days_since,
        urgent=days_since >= cadence,
        overdue=days_since > cadence,
        pool_return_days=pool_days,
        pool_return=pool_days is not None and days_since > pool_days,
    )


@dataclass(frozen=True)
class CallItem:
    """One account on the list: its place (``order``, from 1), Eisenhower ``quadrant``
    (1-4), whether it is an ``emergency`` and ``important``; who it is (``id``, ``name``,
    ``grade`` display, ``rank``); its ``follow_up``; ``flags`` (ids: emergency,
    new_emergency (a tag the earlier run did not carry), overdue, pool_return, no_contact); the allocation's ``actions``; and ``cells``, the row's
    texts by column id (see ``CallList.columns``)."""

    order: int
    quadrant: int
    emergency: bool
    important: bool
    id: str
    name: str | None
    grade: str
    rank: int
    follow_up: FollowUp
    flags: tuple[str, ...]
    actions: tuple[str, ...]
    cells: dict


@dataclass
class CallList:
    """The variables of ``calllist.html``: ``title``, ``lang``, the run's footer facts
    ``run``, the rep (``owner``), the ``date`` of the list, the ``items`` in order,
    ``columns`` as (id, header) pairs, ``rules``, sentences saying how the order was
    decided, ``per_day`` the day's capacity (None: no limit) and ``more`` how many
    accounts did not fit in it."""

    title: str
    lang: str
    run: RunInfo
    owner: str
    date: dt.date
    items: list[CallItem]
    columns: list[tuple[str, str]]
    rules: str
    per_day: int | None = None
    more: int = 0

    def variables(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def table(self) -> list[list[str]]:
        """Header and rows, as the terminal and CSV outputs show them."""
        return [[header for _, header in self.columns]] + [[item.cells[key] for key, _ in self.columns] for item in self.items]


@dataclass
class _Settings:
    emergency_tags: tuple[str, ...] = EMERGENCY_TAGS
    top_share: float = TOP_SHARE
    plan_says_important: bool = False
    per_day: int | None = None


def owners(evaluation) -> list[tuple[str, int]]:
    """Known owners with their number of accounts, largest books first."""
    index = _owner_index(evaluation.plan)
    counts: dict[str, int] = {}
    for row in evaluation.rows:
        if index is not None and row[index] is not None:
            counts[str(row[index])] = counts.get(str(row[index]), 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def rows_of_owner(evaluation, owner: str) -> list[list]:
    """The owner's rows in rank order, or a one-line error naming a few known owners."""
    index = _owner_index(evaluation.plan)
    if index is None:
        raise TierkitError(f"the ruleset has no owner field {role_field(evaluation.plan, 'owner')!r}; cannot select by --owner")
    wanted = owner.strip()
    rows = [row for row in evaluation.ranked() if row[index] is not None and str(row[index]).strip() == wanted]
    if not rows:
        known = owners(evaluation)
        shown = ", ".join(name for name, _ in known[:8]) + (", …" if len(known) > 8 else "")
        raise TierkitError(f"no accounts owned by {owner!r}; known owners: {shown or 'none'}")
    return rows


def _owner_index(plan: Plan) -> int | None:
    name = role_field(plan, "owner")
    return next((i for i, spec in enumerate(plan.fields) if spec.name == name), None)


def build_calllist(evaluation, owner: str, lang: str, date: dt.date | None = None, limit: int | None = None,
                   contacts: dict[str, tuple[dt.date, str]] | None = None, earlier: Earlier | None = None) -> CallList:
    """The owner's call list for ``date`` (default the as-of date): at most ``limit``
    (default ``calllist.per_day``) accounts, ``contacts`` logged since the data by account
    id (see :func:`read_contacts`), emergency tags compared with the ``earlier`` run
    (see :func:`earlier_run`).  The module docstring says the order and actions."""
    plan = evaluation.plan
    as_of = evaluation.bound.as_of
    date = date or as_of
    settings = _settings(plan)
    per_day = limit if limit is not None else settings.per_day
    source = contact_source(plan)
    grade = grade_scheme(plan)
    grades = {label: index for index, label in enumerate(label_order(grade))} if grade is not None else {}
    top_grade = next(iter(grades), None)
    top_rank = math.ceil(settings.top_share * len(evaluation.rows))
    schemes = schemes_in_order(plan)
    drafts = []
    for row in rows_of_owner(evaluation, owner):
        record = evaluation.record(row, lang)
        allocation = record["allocation"]
        logged = (contacts or {}).get(str(record["id"]))
        status = follow_up(record["features"], allocation, source, as_of, logged[0] if logged else None, date)
        if settings.plan_says_important:
            important = bool(allocation.get("important"))
        else:
            important = (grade is not None and record["outcomes"][grade.id]["label"] == top_grade) or record["rank"] <= top_rank
        before = earlier.carriers.get(str(record["id"]), set()) if earlier is not None else set()
        emergency = _emergency(schemes, record, settings.emergency_tags, before, lang)
        quadrant = {(True, True): 1, (True, False): 2, (False, True): 3, (False, False): 4}[important, status.urgent]
        drafts.append((record, status, important, quadrant, emergency, logged))
    graded = len(grades)
    drafts.sort(key=lambda d: (d[4] is None, d[4] is not None and not d[4].new, d[3],
                               grades.get(d[0]["outcomes"][grade.id]["label"], graded) if grade else 0,
                               _pressing(d[1]), d[0]["rank"]))
    today = drafts if per_day is None else drafts[:per_day]
    name_field = role_field(plan, "name")
    items = [_item(order, *draft, grade, name_field, earlier, lang) for order, draft in enumerate(today, 1)]
    importance = translate(lang, "importance_plan") if settings.plan_says_important else translate(
        lang, "importance_default", share=f"{settings.top_share:.0%}")
    return CallList(
        title=translate(lang, "calllist_title", owner=owner),
        lang=lang,
        run=run_info(plan, as_of, lang),
        owner=owner,
        date=date,
        items=items,
        columns=[(key, translate(lang, f"col_{key}")) for key in COLUMNS],
        rules=" ".join((translate(lang, "calllist_order"),
                        translate(lang, "calllist_rules", importance=importance, pool=translate(lang, "pool_default")),
                        translate(lang, "calllist_earlier", run=earlier.run_id, date=day(earlier.as_of, lang))
                        if earlier is not None else translate(lang, "calllist_no_earlier"))),
        per_day=per_day,
        more=len(drafts) - len(today),
    )


def _settings(plan: Plan) -> _Settings:
    config = plan.ruleset.data.get("calllist") or {}
    return _Settings(
        emergency_tags=tuple(config.get("emergency_tags", EMERGENCY_TAGS)),
        top_share=float(config.get("top_share", TOP_SHARE)),
        plan_says_important=any("important" in entry for entry in plan.plans.values()),
        per_day=config.get("per_day"),
    )


def _pressing(status: FollowUp) -> float:
    """Most overdue (or soonest due) first; unknown contact and no cadence last."""
    return status.days_left if status.days_left is not None else math.inf


@dataclass(frozen=True)
class _Emergency:
    """An emergency tag an account carries: its ``label``, what to do about it (``about``:
    its strategy, else its label) and whether it is ``new`` since the earlier run."""

    label: str
    about: str
    new: bool


def _emergency(schemes, record: dict, tags: tuple[str, ...], before: set[str], lang: str) -> _Emergency | None:
    """The first emergency tag the outcomes carry that was not carried ``before``, else
    the first one carried; None when the account carries none."""
    found = []
    for scheme in schemes:
        for tag in record["outcomes"][scheme.id]["tags"]:
            if tag in tags:
                about = scheme.compiled.about.get(tag) or {}
                label = str(localize(scheme.compiled.labels.get(tag, tag), lang))
                found.append(_Emergency(label, str(localize(about.get("strategy"), lang) or label), tag not in before))
    return next((emergency for emergency in found if emergency.new), found[0] if found else None)


def _item(order: int, record: dict, status: FollowUp, important: bool, quadrant: int, emergency: _Emergency | None,
          logged: tuple[dt.date, str] | None, grade, name_field: str, earlier: Earlier | None, lang: str) -> CallItem:
    flags = tuple(
        flag for flag, on in (
            ("emergency", emergency is not None),
            ("new_emergency", emergency is not None and emergency.new and earlier is not None),
            ("overdue", status.overdue),
            ("pool_return", status.pool_return),
            ("no_contact", status.cadence_days is not None and status.days_since is None),
        ) if on
    )
    action = _why_today(record, status, quadrant, emergency, earlier, lang)
    if logged is not None:
        action += translate(lang, "semicolon") + translate(lang, "why_logged", date=day(logged[0], lang), outcome=logged[1] or MISSING)
    if status.pool_return:
        action += translate(lang, "semicolon") + translate(lang, "pool_return")
    quadrant_text = f"Q{quadrant} {translate(lang, f'q{quadrant}')}"
    if emergency is not None:
        quadrant_text = f"{translate(lang, 'emergency')} · Q{quadrant}"
    features = record["features"]
    grade_text = str(record["outcomes"][grade.id]["display"]) if grade is not None else MISSING
    name = features.get(name_field)
    cells = {
        "order": str(order),
        "quadrant": quadrant_text,
        "id": str(record["id"]),
        "name": str(name) if name is not None else MISSING,
        "grade": grade_text,
        "rank": str(record["rank"]),
        "last_contact": day(status.last_contact, lang),
        "days": MISSING if status.days_since is None else str(status.days_since),
        "cadence": MISSING if status.cadence_days is None else num(status.cadence_days),
        "due": day(status.due_date, lang),
        "status": _status_text(status, lang),
        "flags": ", ".join(translate(lang, f"flag_{flag}") for flag in flags),
        "action": action,
    }
    return CallItem(order, quadrant, emergency is not None, important, str(record["id"]), name, grade_text, record["rank"],
                    status, flags, tuple(record["allocation"].get("actions") or ()), cells)


def _why_today(record: dict, status: FollowUp, quadrant: int, emergency: _Emergency | None, earlier: Earlier | None,
               lang: str) -> str:
    """Why this account is on today's list, the most pressing reason first."""
    features, plan = record["features"], record["allocation"]
    if emergency is not None and emergency.new:
        sponsor = plan.get("executive_sponsor") or translate(lang, "the_rep")
        return translate(lang, "why_rescue", sponsor=sponsor, why=emergency.about)
    if emergency is not None:
        return translate(lang, "why_keep_rescue", tag=emergency.label, date=day(earlier.as_of, lang), why=emergency.about)
    overdue = features.get("overdue_amount")
    if isinstance(overdue, (int, float)) and overdue > 0:
        return translate(lang, "why_collect", amount=show_number(overdue))
    trend = features.get("revenue_trend")
    if isinstance(trend, (int, float)) and trend < 1:
        return translate(lang, "why_review", drop=f"{1 - trend:.0%}")
    if status.overdue:
        return translate(lang, "why_overdue", days=num(-status.days_left), cadence=num(status.cadence_days))
    if status.cadence_days is not None and status.days_since is None:
        return translate(lang, "why_first")
    return translate(lang, f"do_q{quadrant}")


def read_contacts(path: str, plan: Plan, date: dt.date) -> dict[str, tuple[dt.date, str]]:
    """The last contact logged by ``date`` for each account in a CRM activity export: a
    CSV with the account id, the date and the outcome (headers in English or Chinese,
    or the ruleset's id field and its aliases)."""
    id_spec = next(spec for spec in plan.fields if spec.name == role_field(plan, "id"))
    wanted = {"id": {*CONTACT_ID_COLUMNS, id_spec.name, *id_spec.aliases}, "date": CONTACT_DATE_COLUMNS,
              "outcome": CONTACT_OUTCOME_COLUMNS}
    to_date = make_coercer(FieldSpec("date", "date"))
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.reader(stream))
    except OSError as error:
        raise TierkitError(f"--contacts {path}: {error.strerror or error}") from None
    if not rows:
        raise TierkitError(f"--contacts {path}: the file is empty; it needs account id, date and outcome columns")
    header = [cell.strip().lower() for cell in rows[0]]
    columns = {key: next((i for i, cell in enumerate(header) if cell in {n.lower() for n in names}), None)
               for key, names in wanted.items()}
    for key in ("id", "date"):
        if columns[key] is None:
            raise TierkitError(f"--contacts {path}: no {key} column (one of {', '.join(sorted(wanted[key]))})")
    found: dict[str, tuple[dt.date, str]] = {}
    for number, row in enumerate(rows[1:], 2):
        cells = row + [""] * (len(header) - len(row))
        try:
            when = to_date(cells[columns["date"]])
        except ValueError as error:
            raise TierkitError(f"--contacts {path}:{number}: date {cells[columns['date']]!r}: {error}") from None
        customer = cells[columns["id"]].strip()
        if when is None or not customer or when > date:
            continue
        outcome = cells[columns["outcome"]].strip() if columns["outcome"] is not None else ""
        if customer not in found or when >= found[customer][0]:
            found[customer] = (when, outcome)
    return found


def _status_text(status: FollowUp, lang: str) -> str:
    if status.cadence_days is None:
        return translate(lang, "status_no_cadence")
    if status.days_left is None:
        return translate(lang, "status_unknown")
    left = status.days_left
    if left < 0:
        return translate(lang, "status_overdue", days=num(-left))
    if left == 0:
        return translate(lang, "status_due")
    return translate(lang, "status_in", days=num(left))


# -- outputs ----------------------------------------------------------------------


def terminal_table(calllist: CallList) -> str:
    """A plain-text table whose columns line up with Chinese text (wide characters)."""
    table = calllist.table()
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for number, row in enumerate(table):
        lines.append("  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    more = [translate(calllist.lang, "calllist_more", count=calllist.more, per_day=calllist.per_day)] if calllist.more else []
    return "\n".join([calllist.title, *lines, *more, "", calllist.rules])


def write_csv(calllist: CallList, path: Path) -> None:
    """One row per account, the columns of the table; UTF-8 with a BOM for Excel."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8-sig", newline="") as stream:
        csv_writer(stream).writerows(calllist.table())


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
