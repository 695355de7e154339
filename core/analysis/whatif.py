"""What if the ruleset changed: the same customers under two rulesets, side by side.

A consultant tunes a threshold or a weight and the client asks "who moves?".  This
module answers with data, not text: :func:`apply_changes` builds the changed ruleset
from ``--set KEY=VALUE`` assignments (in memory, every untouched value keeping its
file position, every set value pointing at its ``--set`` argument, so validation
errors still say where the problem is); :func:`evaluate_pair` runs both plans over
one reading of the input; :func:`compare` counts who changes class or grade per
scheme, builds the migration matrices and picks the top movers.  The result is the
JSON object ``tierkit whatif --json`` prints and the terminal view is drawn from.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from dataclasses import replace
from typing import Any

from tierkit.engine.evaluation import BoundPlan, Evaluation
from tierkit.errors import RulesetError, TierkitError
from tierkit.engine.job import Job, run_job, with_previous
from tierkit.ruleset.labels import localize
from tierkit.plan.compiler import Plan, SchemeInfo
from tierkit.registry import Registry
from tierkit.ruleset.load import Ruleset, fingerprint_of
from tierkit.ruleset.yamlload import PositionMap, load_yaml

SCORE_TOLERANCE = 1e-9  # score changes below this are float noise, not movement


# -- building the changed ruleset -------------------------------------------------------


def apply_changes(ruleset: Ruleset, assignments: tuple[str, ...]) -> Ruleset:
    """``ruleset`` with each ``KEY=VALUE`` applied, in order; the original is untouched.

    KEY is a dotted path; list items with an ``id`` are addressed by it, others by
    index.  VALUE is read as YAML with the ruleset loader's rules (``yes`` stays text,
    ``2024-01-01`` stays text).  Every part of the path must exist.
    """
    data = copy.deepcopy(ruleset.data)
    maps = [dict(ruleset.positions), dict(ruleset.key_positions), dict(ruleset.content_positions)]
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TierkitError(f"--set {assignment!r}: expected KEY=VALUE, e.g. schemes.grade.grades.S.min=70")
        path = resolve_path(data, key)
        try:
            loaded = load_yaml(text, f"--set {key}")
        except RulesetError as error:
            raise TierkitError(f"--set {key}: cannot read the value as YAML: {error.diagnostic.message}") from None
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = loaded.data
        value_maps = (loaded.positions, loaded.key_positions, loaded.content_positions)
        for index, (positions, given) in enumerate(zip(maps, value_maps)):
            maps[index] = _graft(positions, path, given, keep_key=index == 1)
    positions, key_positions, content_positions = maps
    return replace(
        ruleset,
        data=data,
        positions=positions,
        key_positions=key_positions,
        content_positions=content_positions,
        fingerprint=fingerprint_of(data),
    )


def resolve_path(data: Any, key: str) -> tuple:
    """The path (keys and list indices) that dotted ``key`` names in ``data``.

    The first part that does not exist is a one-line error with a did-you-mean.
    """
    parts = key.split(".")
    node, path = data, []
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the ruleset"
        if isinstance(node, dict):
            step, choices = (part if part in node else None), [str(k) for k in node]
        elif isinstance(node, list):
            step, choices = _list_step(node, part)
        else:
            raise TierkitError(f"--set {key}: {where} is a single value ({node!r}), it has no {part!r}")
        if step is None:
            close = difflib.get_close_matches(part, choices, n=1)
            if close:
                hint = f"did you mean {'.'.join([*parts[:depth], close[0], *parts[depth + 1:]])}?"
            else:
                hint = "it has " + (", ".join(choices[:12]) + (", …" if len(choices) > 12 else "") or "nothing")
            raise TierkitError(f"--set {key}: {where} has no {part!r}", hint=hint)
        path.append(step)
        node = node[step]
    return tuple(path)


def _list_step(items: list, part: str) -> tuple[int | None, list[str]]:
    """A list item by its ``id`` (items that have one) or else by its index."""
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    choices = [str(ident) if ident is not None else str(index) for index, ident in enumerate(ids)]
    if part in choices:
        return choices.index(part), choices
    if part.isdigit() and int(part) < len(items):
        return int(part), choices
    return None, choices


def _graft(positions: PositionMap, path: tuple, given: PositionMap, keep_key: bool) -> PositionMap:
    """Positions under ``path`` replaced by the set value's (with ``keep_key``, the
    position of ``path`` itself is the key's, which stays where it was written)."""
    size = len(path)
    kept = {p: pos for p, pos in positions.items() if p[:size] != path or (keep_key and p == path)}
    kept.update({path + p: pos for p, pos in given.items()})
    return kept


# -- evaluating both --------------------------------------------------------------------


def evaluate_pair(
    plans: tuple[Plan, Plan], registry: Registry, customers: str | None, orders: str | None, as_of: dt.date,
    store: str | None = None,
    engine: str = "python",
) -> tuple[Job, Evaluation]:
    """Both plans over the same customers on ``engine``; on the Python engine the input
    is read once when both read it alike.

    Evaluation extends each row in place with the plan's slots, so the second plan
    gets copies of the rows' field values; when the two rulesets declare different
    fields or order columns, or on a SQL engine, the input is read again for the
    second.  Each plan reads the latest saved run of its ruleset in ``store``
    (hysteresis, ``previous_run``), as ``tierkit evaluate`` would.
    """
    before, after = plans
    job = run_job(before, registry, customers, orders, as_of, store=store, engine=engine)
    if engine != "python" or not _reads_alike(before, after):
        return job, run_job(after, registry, customers, orders, as_of, store=store, engine=engine).evaluation
    after = with_previous(after, store)
    table, width = job.table, len(before.fields)
    evaluation = BoundPlan(after, as_of).run_table(table, [row[:width] for row in table.rows])
    return job, evaluation


def _reads_alike(first: Plan, second: Plan) -> bool:
    def contract(plan: Plan):
        data = plan.ruleset.data
        return plan.fields, data.get("orders"), plan.ruleset.id_field

    return contract(first) == contract(second)


# -- comparing --------------------------------------------------------------------------


def compare(before: Evaluation, after: Evaluation, lang: str, top: int) -> dict:
    """Who changes label per scheme, the migration matrices, and the ``top`` movers."""
    rows_before = {str(row[before.plan.id_index]): row for row in before.rows}
    rows_after = {str(row[after.plan.id_index]): row for row in after.rows}
    common = [key for key in rows_before if key in rows_after]
    pairs = [(rows_before[key], rows_after[key]) for key in common]
    ids_after = {scheme.id for scheme in after.plan.schemes}
    ids_before = {scheme.id for scheme in before.plan.schemes}
    schemes = [(s, _scheme(after.plan, s.id)) for s in before.plan.schemes if s.id in ids_after]
    slot_a, slot_b = before.plan.allocation.slot.index, after.plan.allocation.slot.index
    rank_a, rank_b = before.plan.rank_slot.index, after.plan.rank_slot.index
    moved, movers = _movers(before, after, pairs, schemes, lang, top)
    return {
        "customers": len(common),
        "only_before": sorted(rows_before.keys() - rows_after.keys()),
        "only_after": sorted(rows_after.keys() - rows_before.keys()),
        "schemes": [_scheme_changes(a, b, pairs, lang) for a, b in schemes],
        "schemes_only_before": [s.id for s in before.plan.schemes if s.id not in ids_after],
        "schemes_only_after": [s.id for s in after.plan.schemes if s.id not in ids_before],
        "rank_changed": sum(a[rank_a] != b[rank_b] for a, b in pairs),
        "allocation_changed": sum(a[slot_a][0] != b[slot_b][0] for a, b in pairs),
        "moved": moved,
        "movers": movers,
    }


def _scheme(plan: Plan, scheme_id: str) -> SchemeInfo:
    return next(scheme for scheme in plan.schemes if scheme.id == scheme_id)


def _scheme_changes(a: SchemeInfo, b: SchemeInfo, pairs: list, lang: str) -> dict:
    moves = [(x[a.slot.index], y[b.slot.index]) for x, y in pairs]
    changed = sum(old[0] != new[0] for old, new in moves)
    result = {
        "id": a.id,
        "label": localize(b.label, lang),
        "kind": b.kind if a.kind == b.kind else f"{a.kind} → {b.kind}",
        "changed": changed,
        "scores_changed": sum(_score_moved(old[1], new[1]) for old, new in moves),
        "matrix": None,
    }
    if changed:
        result["matrix"] = migration_matrix([(old[0], new[0]) for old, new in moves], [*a.compiled.labels, *b.compiled.labels])
    return result


def migration_matrix(moves: list[tuple], declared: list) -> dict:
    """Counts of (old label, new label); labels in declared order, then as first seen."""
    order = list(dict.fromkeys([*declared, *(label for move in moves for label in move)]))
    rows = [label for label in order if any(old == label for old, _ in moves)]
    columns = [label for label in order if any(new == label for _, new in moves)]
    counts = [[0] * len(columns) for _ in rows]
    for old, new in moves:
        counts[rows.index(old)][columns.index(new)] += 1
    return {"from": rows, "to": columns, "counts": counts}


def _score_moved(old, new) -> bool:
    """Whether a score moved; a score appearing or disappearing counts."""
    if old is None or new is None:
        return (old is None) != (new is None)
    return abs(new - old) > SCORE_TOLERANCE


def _score_delta(old, new) -> float | None:
    return None if old is None or new is None else new - old


def _movers(before: Evaluation, after: Evaluation, pairs: list, schemes: list, lang: str, top: int) -> tuple[int, list[dict]]:
    """How many customers moved, and the first ``top`` of them: those whose label
    changed first, then by the largest score change, then in input order."""
    candidates = []
    for position, (x, y) in enumerate(pairs):
        outcomes = [(x[a.slot.index], y[b.slot.index]) for a, b in schemes]
        relabelled = any(old[0] != new[0] for old, new in outcomes)
        if relabelled or any(_score_moved(old[1], new[1]) for old, new in outcomes):
            size = max((abs(_score_delta(old[1], new[1]) or 0.0) for old, new in outcomes), default=0.0)
            candidates.append((not relabelled, -size, position))
    candidates.sort()
    name_field = after.plan.ruleset.data.get("name_field", "name")
    movers = []
    for _, _, position in candidates[:top]:
        x, y = pairs[position]
        record_a, record_b = before.record(x, lang), after.record(y, lang)
        changes = []
        for a, b in schemes:
            old, new = record_a["outcomes"][a.id], record_b["outcomes"][b.id]
            if old["label"] != new["label"] or _score_moved(old["score"], new["score"]):
                delta = _score_delta(old["score"], new["score"])
                changes.append({"scheme": a.id, "score_change": delta, "score_decimals": b.compiled.score_decimals,
                                "before": old, "after": new})
        movers.append({
            "id": record_b["id"],
            "name": record_b["features"].get(name_field),
            "rank": {"before": record_a["rank"], "after": record_b["rank"]},
            "changes": changes,
        })
    return len(candidates), movers
