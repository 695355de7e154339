"""``validate``: tags that one account can carry together when the ruleset did not say so.

Some schemes set several tags, each by a condition of its own (a kind names them in
:attr:`CompiledScheme.conditional_tags`: portfolio's benchmark and nail, the rules of a
``hit_policy: collect`` table).  Two such tags on one account may be a contradiction
the author did not mean (a benchmark that is also a nail in a stalemate), so validate
warns of every pair of them that one account can carry, unless the scheme's
``overlap`` says the pair may overlap (``allowed``, or a list of pairs).

The warning is sound: it is given only for an account actually found.  Accounts are
built from the ruleset's own constants (each number in its config and expressions, one
below and above it, each quoted string, each enum value, dates that many days before
the as-of date, missing values), drawn at random with a fixed seed, then crossed (each
field from one account carrying one tag or another carrying the other), and evaluated
by the ruleset itself, population cuts included; a pair is reported with the account
that carries both.  A pair no drawn account carries is not reported, so an overlap
that needs a rare combination of values may go unwarned.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator, Mapping
from itertools import combinations

from tierkit.engine.evaluation import BoundPlan
from tierkit.errors import Diagnostic, TierkitError
from tierkit.io.tables import table_from_rows
from tierkit.plan.compiler import Plan, SchemeInfo

ACCOUNTS = 600  # drawn accounts: a few tenths of a second of evaluation
CROSSES = 100  # crosses per pair of tags no drawn account carries together
SEED = 20261207
AS_OF = dt.date(2026, 1, 1)  # any date: the accounts' dates are drawn relative to it
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
QUOTED = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"")


def overlap_warnings(plan: Plan) -> list[Diagnostic]:
    """A warning for each pair of conditional tags of a scheme that one drawn account
    carries, unless the scheme's ``overlap`` allows it (see the module docstring)."""
    declared = {entry.get("id"): (index, entry) for index, entry in enumerate(plan.ruleset.data.get("schemes") or [])}
    schemes = {scheme.id: (declared[scheme.id], scheme) for scheme in plan.schemes
               if len(scheme.compiled.conditional_tags) > 1 and scheme.id in declared}
    pending = [(scheme_id, pair) for scheme_id, ((_index, config), scheme) in schemes.items()
               for pair in combinations(sorted(scheme.compiled.conditional_tags), 2)
               if not _allowed(config.get("overlap"), pair)]
    if not pending:
        return []
    found: dict[tuple[str, tuple[str, str]], dict] = {}
    try:
        for _raw, features, tags in _carried(plan, [scheme for _, scheme in schemes.values()], pending):
            for scheme_id, pair in pending:
                if (scheme_id, pair) not in found and set(pair) <= tags[scheme_id]:
                    found[scheme_id, pair] = features
            if len(found) == len(pending):
                break
    except TierkitError:  # a ruleset that cannot run without its data (a lookup file, …): no account, no warning
        return []
    warnings = []
    for (scheme_id, (first, second)), features in sorted(found.items(), key=lambda item: pending.index(item[0])):
        (index, _config), scheme = schemes[scheme_id]
        example = ", ".join(f"{name} {_show(features[name])}" for name in sorted(scheme.reads) if features.get(name) is not None)
        warnings.append(Diagnostic(
            f"scheme {scheme_id!r}: one account can carry both {first} and {second}"
            + (f" (e.g. {example})" if example else ""),
            plan.ruleset.position("schemes", index),
            "warning",
            f"say overlap: [[{first}, {second}]], or overlap: allowed, if one account may carry both",
        ))
    return warnings


def _allowed(overlap, pair: tuple[str, str]) -> bool:
    if overlap == "allowed":
        return True
    return any(set(pair) == set(allowed) for allowed in overlap or ())


def _carried(plan: Plan, schemes: list[SchemeInfo], pairs: list[tuple[str, tuple[str, str]]]
             ) -> Iterator[tuple[dict, dict, dict[str, set[str]]]]:
    """Drawn accounts (as drawn, and typed) with the tags each scheme gave them:
    first accounts drawn from the ruleset's constants, then, for each pair, crosses of
    an account carrying one tag with one carrying the other (each field from either)."""
    numbers, texts = _constants(plan.ruleset.data)
    draw = random.Random(SEED)
    choices = [(spec.name, _choices(spec, numbers, texts)) for spec in plan.fields]
    rows = [{name: draw.choice(values) for name, values in choices} for _ in range(ACCOUNTS)]
    drawn = list(_evaluated(plan, schemes, rows))
    yield from drawn
    crosses = []
    for scheme_id, (first, second) in pairs:
        ones = [raw for raw, _features, tags in drawn if first in tags[scheme_id]]
        others = [raw for raw, _features, tags in drawn if second in tags[scheme_id]]
        for _ in range(CROSSES if ones and others else 0):
            one, other = draw.choice(ones), draw.choice(others)
            crosses.append({name: draw.choice((one[name], other[name])) for name in one})
    if crosses:  # evaluated beside the drawn accounts, so that population cuts stay as they were
        yield from list(_evaluated(plan, schemes, [raw for raw, _f, _t in drawn] + crosses))[len(drawn):]


def _evaluated(plan: Plan, schemes: list[SchemeInfo], rows: list[dict]) -> Iterator[tuple[dict, dict, dict[str, set[str]]]]:
    """Each raw account with its typed values and its tags by scheme; ids made unique."""
    for number, row in enumerate(rows):
        row[plan.ruleset.id_field] = f"overlap-{number}"
    table = table_from_rows("overlap", plan.fields, enumerate(rows, 1))
    evaluation = BoundPlan(plan, AS_OF).run(table.rows)
    names = [spec.name for spec in plan.fields]
    by_id = {row[plan.ruleset.id_field]: row for row in rows}
    for row in evaluation.rows:
        features = dict(zip(names, row))
        yield by_id[features[plan.ruleset.id_field]], features, {s.id: set(row[s.slot.index][2] or ()) for s in schemes}


def _constants(data) -> tuple[list[float], list[str]]:
    """Every number and quoted string of the ruleset, in its values and its expressions."""
    numbers: set[float] = {0.0, 1.0}
    texts: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            numbers.add(float(value))
        elif isinstance(value, str):
            numbers.update(float(match) for match in NUMBER.findall(value))
            texts.update(a or b for a, b in QUOTED.findall(value))
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    around = {n + step for n in numbers for step in (-1, 0, 1)} | {n * scale for n in numbers for scale in (0.5, 2)}
    return sorted(around), sorted(texts)


def _choices(spec, numbers: list[float], texts: list[str]) -> list:
    """The raw values an account may have in field ``spec``, as a file would hold them."""
    missing = [] if spec.required else [""]
    if spec.type in ("number", "integer"):
        values = [str(int(n)) if spec.type == "integer" or n == int(n) else repr(n) for n in numbers
                  if spec.type != "integer" or n == int(n)]
    elif spec.type == "boolean":
        values = ["true", "false"]
    elif spec.type == "date":
        values = [(AS_OF - dt.timedelta(days=int(n))).isoformat() for n in numbers if 0 <= n < 36500]
    elif spec.type == "enum":
        values = list(spec.values)
    elif spec.type == "string":
        values = texts or ["x"]
    else:
        values = []
    return values + missing or [""]


def _show(value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
