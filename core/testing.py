"""Declarative ruleset tests: customers given inline, the outcomes they must get.

One format serves the bundled rulesets' golden tests, each kind's boundary cases and
third-party plugins' tests, so a consultant and a plugin author test the same way::

    ruleset: b2b-manufacturing        # a path (relative to this file) or a bundled name
    rulesets:                         # optional inline rulesets, picked per case by key
      tiny: {tierkit: 1, name: tiny, version: "1", fields: {...}, schemes: [...]}
    as_of: 2026-11-01
    defaults: {industry: other}       # merged under every customer
    cases:
      - name: fortune 500 manufacturer is S
        customer: {id: T1, annual_procurement: 2.0e10}
        expect: {grade: S, track: {label: manufacturing, tags: [cost-first]}, allocation: {rule: strategic}}
      - name: a population, ranked
        ruleset: tiny
        customers: [{id: A, x: 1}, {id: B, x: 2}]
        expect: {A: {grade: D}, B: {grade: S, rank: 1}}
        order: [B, A]

``expect`` maps a scheme id to a label, or to ``{label, score, tags, display}``;
``rank`` to a number; ``allocation`` to a rule id or a subset of the plan;
``rejected`` to text the rejection reason must contain.  With a single ``customer``
the expectations apply to it directly.  Scores compare to 1e-6.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import BoundPlan, Evaluation, compile_ruleset
from .errors import Position, TierkitError
from .io import table_from_rows
from .plan import Plan
from .registry import Registry
from .ruleset import Ruleset, fingerprint_of, load_ruleset
from .yamlload import LoadedYaml, load_yaml_file

SCORE_TOLERANCE = 1e-6
OUTCOME_KEYS = ("label", "score", "tags", "display")


@dataclass
class Case:
    name: str
    position: Position | None
    ruleset: Ruleset
    as_of: dt.date
    customers: list[dict]
    expect: dict[str, dict]
    order: list[str] | None = None
    lang: str = "en"


@dataclass
class CaseResult:
    case: Case
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(path: str | Path, registry: Registry) -> list[Case]:
    """Read a case file; every case comes with its ruleset loaded (not yet compiled)."""
    loaded = load_yaml_file(path)
    document = loaded.data if isinstance(loaded.data, dict) else {}
    if not isinstance(document.get("cases"), list):
        raise TierkitError("a test file needs a list under 'cases'", loaded.position(()))
    inline = {key: _inline_ruleset(loaded, key) for key in document.get("rulesets") or {}}
    default_ref = document.get("ruleset")
    as_of = _date(document.get("as_of"), loaded, ("as_of",))
    defaults = document.get("defaults") or {}
    cases, loaded_refs = [], {}
    for index, raw in enumerate(document["cases"]):
        where = ("cases", index)
        ref = raw.get("ruleset", default_ref)
        if ref is None:
            raise TierkitError("no ruleset for this case: set 'ruleset' at the top or in the case", loaded.position(where))
        if ref in inline:
            ruleset = inline[ref]
        else:
            if ref not in loaded_refs:
                local = Path(loaded.file).parent / str(ref)
                loaded_refs[ref] = load_ruleset(local if local.is_file() else ref, registry.ruleset_dirs)
            ruleset = loaded_refs[ref]
        single = "customer" in raw
        customers = [raw["customer"]] if single else list(raw.get("customers") or [])
        customers = [{**defaults, **customer} for customer in customers]
        expect = raw.get("expect") or {}
        if single:
            expect = {str(customers[0].get(ruleset.data.get("id_field", "id"))): expect}
        cases.append(
            Case(
                name=str(raw.get("name", f"case {index + 1}")),
                position=loaded.position(where),
                ruleset=ruleset,
                as_of=_date(raw.get("as_of"), loaded, where + ("as_of",)) if raw.get("as_of") else as_of,
                customers=customers,
                expect={str(key): value for key, value in expect.items()},
                order=[str(item) for item in raw["order"]] if raw.get("order") else None,
                lang=raw.get("lang", document.get("lang", "en")),
            )
        )
    return cases


def _inline_ruleset(loaded: LoadedYaml, key: str) -> Ruleset:
    prefix = ("rulesets", key)

    def below(positions):
        return {path[len(prefix):]: pos for path, pos in positions.items() if path[: len(prefix)] == prefix}

    data = loaded.data["rulesets"][key]
    return Ruleset(data, Path(loaded.file), below(loaded.positions), fingerprint_of(data),
                   below(loaded.key_positions), below(loaded.content_positions))


def _date(value: Any, loaded: LoadedYaml, path: tuple) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TierkitError(f"as_of {value!r} is not a date (YYYY-MM-DD)", loaded.position(path)) from None


class CaseRunner:
    """Runs cases, compiling each distinct ruleset once."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._plans: dict[str, Plan] = {}

    def plan_for(self, ruleset: Ruleset) -> Plan:
        key = f"{ruleset.source}:{ruleset.fingerprint}"
        if key not in self._plans:
            self._plans[key] = compile_ruleset(ruleset, self.registry)
        return self._plans[key]

    def run(self, case: Case) -> CaseResult:
        plan = self.plan_for(case.ruleset)
        table = table_from_rows(f"{case.name}", plan.fields, enumerate(case.customers, 1))
        evaluation = BoundPlan(plan, case.as_of).run(table.rows, table.row_numbers, table.file)
        evaluation.rejected += table.rejected
        return CaseResult(case, _compare(case, evaluation))


def _compare(case: Case, evaluation: Evaluation) -> list[str]:
    failures = []
    id_index = evaluation.plan.id_index
    rows = {str(row[id_index]): row for row in evaluation.rows}
    by_row = {str(case.customers[r.row - 1].get(evaluation.plan.fields[id_index].name)): r for r in evaluation.rejected}
    for customer_id, expected in case.expect.items():
        if "rejected" in expected:
            reason = by_row.get(customer_id)
            if reason is None or str(expected["rejected"]) not in reason.reason:
                failures.append(f"{customer_id}: expected rejection containing {expected['rejected']!r}, got {reason.reason if reason else 'none'!r}")
            continue
        if customer_id not in rows:
            rejected = by_row.get(customer_id)
            failures.append(f"{customer_id}: not evaluated" + (f" (rejected: {rejected.reason})" if rejected else ""))
            continue
        record = evaluation.record(rows[customer_id], case.lang)
        failures += _compare_record(customer_id, expected, record)
    if case.order:
        actual = [str(row[id_index]) for row in evaluation.ranked()]
        actual = [customer_id for customer_id in actual if customer_id in case.order]
        if actual != case.order:
            failures.append(f"rank order: expected {case.order}, got {actual}")
    return failures


def _compare_record(customer_id: str, expected: dict, record: dict) -> list[str]:
    failures = []
    for key, want in expected.items():
        if key == "rank":
            if record["rank"] != want:
                failures.append(f"{customer_id}.rank: expected {want}, got {record['rank']}")
        elif key == "allocation":
            want = {"rule": want} if not isinstance(want, dict) else want
            for name, value in want.items():
                got = record["allocation"].get(name)
                if got != value:
                    failures.append(f"{customer_id}.allocation.{name}: expected {value!r}, got {got!r}")
        elif key in record["outcomes"]:
            failures += _compare_outcome(f"{customer_id}.{key}", want, record["outcomes"][key])
        else:
            failures.append(f"{customer_id}: no scheme {key!r} (schemes: {', '.join(record['outcomes'])})")
    return failures


def _compare_outcome(where: str, want: Any, outcome: dict) -> list[str]:
    want = want if isinstance(want, dict) else {"label": want}
    failures = []
    for name, value in want.items():
        if name not in OUTCOME_KEYS:
            failures.append(f"{where}: unknown expectation {name!r} (use {', '.join(OUTCOME_KEYS)})")
            continue
        got = outcome[name]
        same = _close(got, value) if name == "score" else got == value
        if not same:
            reasons = "; ".join(reason["text"] for reason in outcome["reasons"])
            failures.append(f"{where}.{name}: expected {value!r}, got {got!r} — because: {reasons}")
    return failures


def _close(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is want
    return math.isclose(got, want, rel_tol=0, abs_tol=SCORE_TOLERANCE)
