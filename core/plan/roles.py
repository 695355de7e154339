"""What printed pages need to know of a plan: which fields name, own and identify an
account, which scheme grades and which classifies, labels in their declared order,
and the run's footer facts.

The core names no scheme kind: the grading scheme is the one the ranking reads first
(``rank: [{by: grade.score}]``), else the first one the allocation reads, else the
first scheme; the classification scheme is the first other scheme.  ``--grade`` and
``--by`` choose others.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tierkit import __version__
from tierkit.errors import TierkitError
from tierkit.ruleset.labels import localize
from tierkit.plan.compiler import Plan, SchemeInfo

# Portfolio tags with a meaning of their own on printed pages (标杆 / 钉子 / 危险).
WATCH_TAGS = ("benchmark", "nail", "at_risk")
_LEADING_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class RunInfo:
    """What produced a page, for its footer.

    ``ruleset``, ``version`` and ``fingerprint`` identify the ruleset (``short_fingerprint``
    is its first 12 hex digits); ``title`` is the ruleset's label in ``lang``;
    ``as_of`` is the run's date; ``tierkit`` the version that printed it.
    """

    ruleset: str
    title: str
    version: str
    fingerprint: str
    short_fingerprint: str
    as_of: dt.date
    lang: str
    tierkit: str


def run_info(plan: Plan, as_of: dt.date, lang: str) -> RunInfo:
    ruleset = plan.ruleset
    fingerprint = ruleset.fingerprint or ""
    return RunInfo(
        ruleset=ruleset.name or "",
        title=localize(ruleset.data.get("label"), lang) or ruleset.name or "",
        version=str(ruleset.version or ""),
        fingerprint=fingerprint,
        short_fingerprint=fingerprint.split(":")[-1][:12],
        as_of=as_of,
        lang=lang,
        tierkit=__version__,
    )


def role_field(plan: Plan, role: str) -> str:
    """The field playing ``role`` (``id``, ``name`` or ``owner``) in this ruleset."""
    return plan.ruleset.data.get(f"{role}_field", role)


def schemes_in_order(plan: Plan) -> list[SchemeInfo]:
    """The schemes as the ruleset lists them (the plan orders them by what they read)."""
    order = {config["id"]: index for index, config in enumerate(plan.ruleset.data.get("schemes", []))}
    return sorted(plan.schemes, key=lambda scheme: order.get(scheme.id, len(order)))


def scheme_config(plan: Plan, scheme_id: str) -> dict:
    return next((c for c in plan.ruleset.data.get("schemes", []) if c.get("id") == scheme_id), {})


def find_scheme(plan: Plan, scheme_id: str, option: str) -> SchemeInfo:
    for scheme in plan.schemes:
        if scheme.id == scheme_id:
            return scheme
    known = ", ".join(s.id for s in schemes_in_order(plan))
    raise TierkitError(f"{option}: no scheme {scheme_id!r} in the ruleset (schemes: {known})")


def grade_scheme(plan: Plan, chosen: str | None = None) -> SchemeInfo | None:
    """The grading scheme: ``chosen``, else what the ranking or the allocation reads first."""
    if chosen:
        return find_scheme(plan, chosen, "--grade")
    ordered = schemes_in_order(plan)
    by_id = {scheme.id: scheme for scheme in ordered}
    for key in plan.ruleset.data.get("rank") or []:
        match = _LEADING_NAME.match(str(key.get("by", "")))
        if match and match.group(1) in by_id:
            return by_id[match.group(1)]
    read = [scheme for scheme in ordered if scheme.id in plan.allocation.reads]
    return (read or ordered or [None])[0]


def class_scheme(plan: Plan, grade: SchemeInfo | None, chosen: str | None = None) -> SchemeInfo | None:
    """The classification scheme: ``chosen``, else the first scheme that is not the grade."""
    if chosen:
        return find_scheme(plan, chosen, "--by")
    return next((scheme for scheme in schemes_in_order(plan) if scheme is not grade), None)


def label_order(scheme: SchemeInfo, seen: list[str] | None = None) -> list[str]:
    """Label ids in the order the scheme declares them, then any others seen, sorted."""
    declared = list(scheme.compiled.labels)
    extra = sorted({str(label) for label in seen or () if label not in declared and label is not None})
    return declared + extra


def display(scheme: SchemeInfo, label, lang: str) -> str:
    """A label id's display text in ``lang``."""
    if label is None:
        return "—"
    return str(localize(scheme.compiled.labels.get(label, label), lang))


def title(scheme: SchemeInfo, lang: str) -> str:
    return str(localize(scheme.label, lang) or scheme.id)
