"""Declarative ruleset tests: customers inline or by id, the outcomes they must get.

One format serves the bundled rulesets' golden tests, each kind's boundary cases,
third-party plugins' tests and a consultant's ``tests.yaml`` (run by ``tierkit test``),
so everyone tests the same way::

    ruleset: b2b-manufacturing        # a path (relative to this file) or a bundled name
    rulesets:                         # optional inline rulesets, picked per case by key
      tiny: {tierkit: 1, name: tiny, version: "1", fields: {...}, schemes: [...]}
    data: customers.csv               # optional: customers given by id come from here
    orders: orders.csv                # optional: every customer's order features
    as_of: 2026-11-01
    defaults: {industry: other}       # merged under every inline customer
    cases:
      - name: fortune 500 manufacturer is S
        customer: {id: T1, annual_procurement: 2.0e10}
        expect: {grade: S, track: {label: manufacturing, tags: [cost-first]}, allocation: {rule: strategic}}
      - name: a sample customer, by id
        customer: C00017
        expect: {grade: B, features: {share_of_wallet: 0.1765}}
      - name: a population, ranked
        ruleset: tiny
        customers: [{id: A, x: 1}, {id: B, x: 2}, C00018]
        expect: {A: {grade: D}, B: {grade: S, rank: 1}}
        order: [B, A]

A customer is a mapping (inline) or an id: its row of the ``data`` file, read as
``tierkit evaluate`` reads it (without ``defaults``); with no ``data`` file an id alone
is a customer of the ``orders`` file.  ``data`` and ``orders`` are relative to the
test file and may also be set per case.  ``expect`` maps a scheme id to a label, or to
``{label, score, tags, display}``; ``rank`` to a number; ``allocation`` to a rule id or
a subset of the plan; ``features`` to a subset of the features; ``rejected`` to text
the rejection reason must contain.  With a single ``customer`` the expectations apply
to it directly.  Scores and numeric features compare to 1e-6.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tierkit.engine.evaluation import BoundPlan, Evaluation, compile_ruleset
from tierkit.errors import Position, TierkitError
from tierkit.io.tables import RowError, normalise_header, read_rows, table_from_rows
from tierkit.engine.orders import OrderSummary, aggregate_orders, attach_orders
from tierkit.plan.compiler import Plan
from tierkit.registry import Registry
from tierkit.ruleset.load import Ruleset, fingerprint_of, load_ruleset
from tierkit.ruleset.yamlload import LoadedYaml, load_yaml_file

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
    ids: list[str] = field(default_factory=list)  # each customer's id, in order
    orders: Path | None = None


@dataclass
class CaseResult:
    case: Case
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(path: str | Path, registry: Registry, ruleset: Ruleset | None = None) -> list[Case]:
    """Read a case file; every case comes with its ruleset loaded (not yet compiled).

    ``ruleset``, when given, replaces the file's top-level ``ruleset`` (``tierkit test
    RULESET TESTS``); a case naming its own ruleset keeps it.
    """
    loaded = load_yaml_file(path)
    document = loaded.data if isinstance(loaded.data, dict) else {}
    if not isinstance(document.get("cases"), list):
        raise TierkitError("a test file needs a list under 'cases'", loaded.position(()))
    sources = _Sources(loaded, document, registry, ruleset)
    as_of = _date(document.get("as_of"), loaded, ("as_of",))
    cases = []
    for index, raw in enumerate(document["cases"]):
        where = ("cases", index)
        if not isinstance(raw, dict):
            raise TierkitError("a case is a mapping with name, customer or customers, and expect", loaded.position(where))
        case_ruleset = sources.ruleset(raw, where)
        customers, ids = sources.customers(raw, where, case_ruleset)
        expect = _expectations(raw, ids, loaded, where)
        if raw.get("order") is not None and not isinstance(raw["order"], list):
            raise TierkitError("'order' is a list of customer ids, best ranked first, e.g. order: [B, A]",
                               loaded.position(where + ("order",)))
        cases.append(
            Case(
                name=str(raw.get("name", f"case {index + 1}")),
                position=loaded.position(where),
                ruleset=case_ruleset,
                as_of=_date(raw.get("as_of"), loaded, where + ("as_of",)) if raw.get("as_of") else as_of,
                customers=customers,
                expect=expect,
                order=[str(item) for item in raw["order"]] if raw.get("order") else None,
                lang=raw.get("lang", document.get("lang", "en")),
                ids=ids,
                orders=sources.path(raw, "orders", where),
            )
        )
    return cases


def _expectations(raw: dict, ids: list[str], loaded: LoadedYaml, where: tuple) -> dict[str, dict]:
    """Each customer's expectations, by id: a mapping of scheme ids (and ``rank``,
    ``allocation``, ``features``, ``rejected``) to what they must be.  With ``customers``
    the ``expect`` mapping is keyed by customer id first."""
    expect = raw.get("expect")
    at = where + ("expect",)
    if expect is None:
        return {}
    single = "customer" in raw
    example = "expect: {grade: A, rank: 1}" if single else "expect: {C1: {grade: A}, C2: {rank: 1}}"
    if not isinstance(expect, dict):
        raise TierkitError(f"'expect' is a mapping, not {_kind(expect)}, e.g. {example}", loaded.position(at))
    by_customer = {ids[0]: (expect, at)} if single else {str(key): (value, at + (key,)) for key, value in expect.items()}
    for customer_id, (expected, path) in by_customer.items():
        if not isinstance(expected, dict):
            raise TierkitError(
                f"the expectations for customer {customer_id!r} are a mapping of scheme ids (or rank, allocation,"
                f" features, rejected) to what they must be, not {_kind(expected)}, e.g. {customer_id}: {{grade: A}}",
                loaded.position(path),
            )
        if "features" in expected and not isinstance(expected["features"], dict):
            raise TierkitError(f"'features' expects a mapping of feature names to values, not {_kind(expected['features'])}",
                               loaded.position(path + ("features",)))
    return {customer_id: expected for customer_id, (expected, _path) in by_customer.items()}


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"the single value {value!r}"


class _Sources:
    """What the cases of one test file draw on: its rulesets (each loaded once), and
    the data and order files it names, relative to it (data rows read once)."""

    def __init__(self, loaded: LoadedYaml, document: dict, registry: Registry, ruleset: Ruleset | None):
        self.loaded = loaded
        self.document = document
        self.registry = registry
        self.given = ruleset
        self.inline = {key: _inline_ruleset(loaded, key) for key in document.get("rulesets") or {}}
        self.loaded_refs: dict[str, Ruleset] = {}
        self.rows: dict[Path, list[dict]] = {}
        self.by_id: dict[tuple, dict[str, dict]] = {}

    def ruleset(self, raw: dict, where: tuple) -> Ruleset:
        """The case's own ruleset, else the one given, else the file's ``ruleset``."""
        ref = raw.get("ruleset", None if self.given is not None else self.document.get("ruleset"))
        if ref is None and self.given is None:
            raise TierkitError("no ruleset for this case: set 'ruleset' at the top or in the case", self.loaded.position(where))
        if ref is None:
            return self.given
        if ref in self.inline:
            return self.inline[ref]
        if ref not in self.loaded_refs:
            local = Path(self.loaded.file).parent / str(ref)
            self.loaded_refs[ref] = load_ruleset(local if local.is_file() else ref, self.registry.ruleset_dirs)
        return self.loaded_refs[ref]

    def customers(self, raw: dict, where: tuple, ruleset: Ruleset) -> tuple[list[dict], list[str]]:
        """The case's customers as raw rows, and their ids: inline ones over ``defaults``,
        ids as their rows of the data file."""
        single = "customer" in raw
        given = [raw["customer"]] if single else list(raw.get("customers") or [])
        defaults = self.document.get("defaults") or {}
        data = self.path(raw, "data", where)
        id_field = ruleset.id_field
        customers, ids = [], []
        for number, customer in enumerate(given):
            if isinstance(customer, dict):
                customers.append({**defaults, **customer})
                ids.append(str(customers[-1].get(id_field)))
            else:
                at = where + (("customer",) if single else ("customers", number))
                customers.append(self.row(str(customer), data, ruleset, at))
                ids.append(str(customer))
        return customers, ids

    def path(self, raw: dict, key: str, where: tuple) -> Path | None:
        """The file the case (else the document) names under ``key``; it must exist."""
        path = (where + (key,)) if key in raw else (key,)
        name = raw.get(key, self.document.get(key))
        if name is None:
            return None
        file = Path(self.loaded.file).parent / str(name)
        if not file.is_file():
            raise TierkitError(f"{key} file not found: {file}", self.loaded.position(path))
        return file

    def row(self, customer_id: str, data: Path | None, ruleset: Ruleset, where: tuple) -> dict:
        """The raw row of ``data`` whose id is ``customer_id`` (or just the id, with no data)."""
        if data is None:
            return {ruleset.id_field: customer_id}
        names = id_headers(ruleset)
        key = (data, names)
        if key not in self.by_id:
            self.by_id[key] = self._index(data, names)
        row = self.by_id[key].get(customer_id)
        if row is None:
            raise TierkitError(f"customer {customer_id!r} is not in {data}", self.loaded.position(where))
        return row

    def _index(self, data: Path, names: frozenset) -> dict[str, dict]:
        if data not in self.rows:
            self.rows[data] = [dict(raw) for _, raw in read_rows(data, self.registry) if not isinstance(raw, RowError)]
        index: dict[str, dict] = {}
        for row in self.rows[data]:
            column = find_header(row, names)
            if column is not None and row[column] not in (None, ""):
                index.setdefault(str(row[column]).strip(), row)
        return index


def id_headers(ruleset: Ruleset) -> frozenset[str]:
    """The headers (normalised) under which a file may hold the ruleset's customer id."""
    id_field = ruleset.id_field
    spec = ruleset.data.get("fields", {}).get(id_field) or {}
    return frozenset(normalise_header(name) for name in (id_field, *spec.get("aliases", ())))


def find_header(row: dict, names: frozenset[str] | set[str]) -> str | None:
    """The first header of ``row`` that is one of ``names`` once normalised."""
    return next((header for header in row if normalise_header(header) in names), None)


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
    """Runs cases, compiling each distinct ruleset once and aggregating each order file
    once per as-of date."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._plans: dict[str, Plan] = {}
        self._orders: dict[tuple, OrderSummary] = {}

    def plan_for(self, ruleset: Ruleset) -> Plan:
        key = f"{ruleset.source}:{ruleset.fingerprint}"
        if key not in self._plans:
            self._plans[key] = compile_ruleset(ruleset, self.registry)
        return self._plans[key]

    def evaluate(self, case: Case) -> Evaluation:
        """The case's customers evaluated together, as ``tierkit evaluate`` would."""
        plan = self.plan_for(case.ruleset)
        table = table_from_rows(f"{case.name}", plan.fields, enumerate(case.customers, 1))
        if case.orders is not None:
            attach_orders(table, self.orders_for(case, plan), plan.ruleset.id_field)
        return BoundPlan(plan, case.as_of).run_table(table)

    def orders_for(self, case: Case, plan: Plan) -> OrderSummary:
        key = (case.orders, case.as_of, repr(plan.ruleset.data.get("orders")))
        if key not in self._orders:
            self._orders[key] = aggregate_orders(
                str(case.orders), read_rows(case.orders, self.registry), case.as_of, policy=plan.order_policy
            )
        # orders of customers outside the case are no concern of the case
        return replace(self._orders[key], unknown_customers=[])

    def run(self, case: Case) -> CaseResult:
        return CaseResult(case, _compare(case, self.evaluate(case)))


def _compare(case: Case, evaluation: Evaluation) -> list[str]:
    failures = []
    id_index = evaluation.plan.id_index
    rows = {str(row[id_index]): row for row in evaluation.rows}
    by_row = {case.ids[r.row - 1]: r for r in evaluation.rejected}
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
        elif key in ("allocation", "features"):
            want = {"rule": want} if not isinstance(want, dict) else want
            for name, value in want.items():
                got = record[key].get(name)
                if not _same(got, value):
                    failures.append(f"{customer_id}.{key}.{name}: expected {value!r}, got {got!r}")
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
        if not _same(got, value):
            reasons = "; ".join(reason["text"] for reason in outcome["reasons"])
            failures.append(f"{where}.{name}: expected {value!r}, got {got!r} — because: {reasons}")
    return failures


def _same(got: Any, want: Any) -> bool:
    """Numbers to within 1e-6, dates as ISO text, lists (a list field's tuple too) item
    by item, everything else exactly."""
    if isinstance(got, dt.date):
        return got.isoformat() == str(want)
    if isinstance(got, list | tuple) and isinstance(want, list | tuple):
        return len(got) == len(want) and all(_same(a, b) for a, b in zip(got, want))
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(want, numbers) and not isinstance(got, bool) and not isinstance(want, bool):
        return math.isclose(got, want, rel_tol=0, abs_tol=SCORE_TOLERANCE)
    return got == want
