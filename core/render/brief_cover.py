"""The cover of a rep's booklet (``tierkit brief --owner NAME``): one page that says
what the rep holds and what to do first.

It counts the rep's accounts by grade and by class × grade (as the portfolio report
counts all of them, :class:`tierkit.render.report.ReportBuilder` over the rep's rows),
lists this week's priorities (the rep's call list for ``WEEK_DAYS`` working days of
``calllist.per_day`` accounts, see :mod:`tierkit.render.calllist`) and the accounts at risk
and overdue.  Each list stops at ``COVER_LIMIT`` lines and says how many more, so the
cover is one sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierkit.render.calllist import CallItem, Earlier, build_calllist
from tierkit.plan.roles import class_scheme, grade_scheme
from tierkit.render.report import CrossTable, Distribution, ReportBuilder

WEEK_DAYS = 5
PER_DAY = 8  # a day's accounts when the ruleset declares no calllist.per_day
COVER_LIMIT = 8


@dataclass(frozen=True)
class Cover:
    """The variables of ``brief_cover.html``: the ``owner`` and their ``accounts``;
    ``grades`` (by grade) and ``cross`` (class × grade; None without two schemes);
    ``priorities``, the week's first call-list lines, of ``week`` lines in all;
    ``at_risk`` and ``overdue``, call-list lines of emergencies and of overdue visits
    (the first ``COVER_LIMIT`` of ``at_risk_total`` and ``overdue_total``)."""

    owner: str
    accounts: int
    grades: Distribution | None
    cross: CrossTable | None
    priorities: list[CallItem]
    week: int
    at_risk: list[CallItem]
    at_risk_total: int
    overdue: list[CallItem]
    overdue_total: int


def build_cover(evaluation, registry, owner: str, rows: list[list], lang: str, earlier: Earlier | None = None) -> Cover:
    """The cover of ``owner``'s booklet of ``rows``; the week's priorities are the call
    list's, emergency tags compared with the ``earlier`` run."""
    plan = evaluation.plan
    counts = ReportBuilder(evaluation, registry, None, lang, rows)
    grading = grade_scheme(plan)
    classing = class_scheme(plan, grading, None) if grading else None
    everything = build_calllist(evaluation, owner, lang, limit=len(rows), earlier=earlier)
    per_day = (plan.ruleset.data.get("calllist") or {}).get("per_day") or PER_DAY
    week = everything.items[:per_day * WEEK_DAYS]
    at_risk = [item for item in everything.items if item.emergency]
    overdue = [item for item in everything.items if item.follow_up.overdue]
    return Cover(
        owner=owner,
        accounts=len(rows),
        grades=counts.distribution(grading) if grading else None,
        cross=counts.cross(classing, grading) if grading and classing else None,
        priorities=week[:COVER_LIMIT],
        week=len(week),
        at_risk=at_risk[:COVER_LIMIT],
        at_risk_total=len(at_risk),
        overdue=overdue[:COVER_LIMIT],
        overdue_total=len(overdue),
    )
