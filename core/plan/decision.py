"""Decision tables: an ordered list of ``when`` rules with a default.

Shared by the ``rules`` scheme kind and the ruleset's ``allocation`` table, so both
read, compile and explain rules the same way.  Every outcome names the rule that
fired: its detail is the rule's index (``-1`` for the default, ``None`` when nothing
matched and there is no default), or the tuple of indices under ``collect``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tierkit.plan.build import SchemeBuild
from tierkit.ruleset.labels import localize
from tierkit.expr.shadowing import always_true, condition_tree, implies
from tierkit.expr.words import Vocabulary

DEFAULT = -1

WORDS = {
    "en": {"matched": "matched rule {id}: {when}", "default": "no rule matched; default {id}", "none": "no rule matched"},
    "zh": {"matched": "命中规则 {id}：{when}", "default": "未命中任何规则，采用默认 {id}", "none": "未命中任何规则"},
}


def compile_decision_table(
    build: SchemeBuild,
    outcome_of: Callable[[dict, int], tuple],
    hit_policy: str = "first",
) -> Callable[[tuple, str], list[dict]]:
    """Emit the row step for ``build.config['rules']`` and return the explainer.

    ``outcome_of(rule, index)`` gives the constant outcome tuple of a rule (index
    ``-1`` for the default); constants mean a customer costs no allocation here.
    """
    rules = build.value("rules", default=[])
    default = build.value("default")
    conditions, checked = [], []
    for index in range(len(rules)):
        before = len(build.diagnostics)
        conditions.append(build.condition("rules", index, "when"))
        checked.append(not any(d.severity == "error" for d in build.diagnostics[before:]))
    out = build.outcome.local
    fallback = build.constant(outcome_of(default, DEFAULT) if default is not None else (None, None, (), None))
    if hit_policy == "collect":
        lines = _collect_lines(build, rules, conditions, outcome_of, fallback)
    else:
        warn_shadowed(build, rules, checked)
        # A flat block that stops at the first match: an `elif` chain nests in Python's
        # syntax tree, and thousands of rules would exceed the compiler's depth.
        lines = ["while True:"]
        for index, condition in enumerate(conditions):
            lines += [f"    if {condition.code}:", f"        {out} = {build.constant(outcome_of(rules[index], index))}", "        break"]
        lines += [f"    {out} = {fallback}", "    break"]
    build.row(lines, [build.outcome])
    return _explainer(rules, default, build.vocabulary)


def warn_shadowed(build: SchemeBuild, rules: list[dict], checked: list[bool]) -> None:
    """A warning at each rule an earlier one shadows: the earlier one matches every
    customer it matches (:func:`tierkit.expr.shadowing.implies`), so under first-match it
    never fires.  Conditions with errors are left out: their errors come first."""
    trees = [condition_tree(rule.get("when")) if ok else None for rule, ok in zip(rules, checked)]
    for index, tree in enumerate(trees):
        if tree is None:
            continue
        earlier = next((i for i in range(index) if trees[i] is not None and implies(tree, trees[i])), None)
        if earlier is not None:
            always = always_true(trees[earlier])
            build.warn(f"rule {_rule_name(rules[index], index)} can never match: rule {_rule_name(rules[earlier], earlier)} "
                       f"before it {'matches every customer' if always else 'matches every customer it matches'}",
                       "rules", index, "when",
                       hint="move it above that rule, or narrow that rule's when" if not always else
                       "a rule whose when is true belongs last; or use default:")


def _rule_name(rule: dict, index: int) -> str:
    return repr(rule["id"]) if rule.get("id") is not None else f"#{index + 1}"


def _collect_lines(build, rules, conditions, outcome_of, fallback) -> list[str]:
    """Collect-all: every matching rule counts; the first one gives the label."""
    matched = build.temp()
    combine = build.constant(_combiner(rules, outcome_of))
    lines = [f"{matched} = []"]
    for index, condition in enumerate(conditions):
        lines += [f"if {condition.code}:", f"    {matched}.append({index})"]
    lines.append(f"{build.outcome.local} = {combine}(tuple({matched})) if {matched} else {fallback}")
    return lines


def _combiner(rules, outcome_of) -> Callable[[tuple], tuple]:
    """Outcome for a set of matched rules, memoised: few distinct sets occur."""
    cache: dict[tuple, tuple] = {}

    def combine(indices: tuple) -> tuple:
        found = cache.get(indices)
        if found is None:
            outcomes = [outcome_of(rules[i], i) for i in indices]
            tags: list[str] = []
            for index, outcome in zip(indices, outcomes):
                for tag in (rules[index]["id"], *outcome[2]):
                    if tag not in tags:
                        tags.append(tag)
            first = outcomes[0]
            found = cache[indices] = (first[0], first[1], tuple(tags), indices)
        return found

    return combine


def _explainer(rules: list[dict], default: dict | None, vocabulary: Vocabulary) -> Callable[[tuple, str], list[dict]]:
    """Reasons naming each rule by its label and saying its condition in words."""

    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        detail = outcome[3]
        if detail is None:
            return [{"text": words["none"]}]
        if detail == DEFAULT:
            return [{"rule": default.get("id"), "default": True, "text": words["default"].format(id=_name(default, lang))}]
        indices = detail if isinstance(detail, tuple) else (detail,)
        return [
            {
                "rule": rules[i]["id"],
                "when": rules[i]["when"],
                "text": words["matched"].format(id=_name(rules[i], lang), when=vocabulary.say(rules[i]["when"], lang)),
            }
            for i in indices
        ]

    return explain


def _name(rule: dict, lang: str) -> str:
    return str(localize(rule.get("label", rule.get("id")), lang))


def rule_labels(build: SchemeBuild) -> dict[str, Any]:
    """Display labels by rule id, the default's included."""
    entries = list(build.value("rules", default=[]))
    if build.value("default") is not None:
        entries.append(build.value("default"))
    return {entry["id"]: entry.get("label", entry["id"]) for entry in entries if "id" in entry}



def decision_table_sql(build, outcome_of: Callable[[dict, int], tuple], hit_policy: str = "first") -> str:
    """The SQL twin of :func:`compile_decision_table`: sets ``build``'s outcome from the
    constant outcome of the rule that fires, and returns the column of its index
    (``-1`` for the default, NULL when nothing matched and there is no default)."""
    rules = build.value("rules", default=[])
    default = build.value("default")
    conditions = [build.condition("rules", index, "when").code for index in range(len(rules))]
    outcomes = {index: outcome_of(rule, index) for index, rule in enumerate(rules)}
    if default is not None:
        outcomes[DEFAULT] = outcome_of(default, DEFAULT)
    dialect = build.dialect
    fallback = "-1" if default is not None else "NULL"
    if hit_policy == "collect":
        matched = build.column("matched", dialect.list_without_nulls(
            dialect.list_of([f"CASE WHEN {condition} THEN {index} END" for index, condition in enumerate(conditions)], "integer")
        ))
        index = build.column("rule", f"COALESCE({dialect.list_item(matched, 1)}, {fallback})")
        collected = dialect.list_distinct_in_order(dialect.flatten(dialect.list_of([
            f"CASE WHEN {condition} THEN {_text_list(dialect, (rules[i]['id'], *outcomes[i][2]))} ELSE {dialect.list_of([])} END"
            for i, condition in enumerate(conditions)
        ])))
        tags = f"CASE WHEN {index} = -1 OR {index} IS NULL THEN {_pick(dialect, index, outcomes, 2)} ELSE {collected} END"
    else:
        cases = " ".join(f"WHEN {condition} THEN {index}" for index, condition in enumerate(conditions))
        index = build.column("rule", f"CASE {cases} ELSE {fallback} END" if conditions else fallback)
        tags = _pick(dialect, index, outcomes, 2)
    build.outcome(label=_pick(dialect, index, outcomes, 0), score=_pick(dialect, index, outcomes, 1), tags=tags)
    return index


def _pick(dialect, index: str, outcomes: dict[int, tuple], part: int) -> str:
    """``CASE index WHEN i THEN <part of outcome i> … END``, skipping empty parts."""
    empty = dialect.list_of([]) if part == 2 else "NULL"
    branches = []
    for number, outcome in outcomes.items():
        value = outcome[part]
        if value is None or (part == 2 and not value):
            continue
        sql = _text_list(dialect, value) if part == 2 else dialect.literal(float(value) if part == 1 else value)
        branches.append(f"WHEN {number} THEN {sql}")
    if not branches:
        return empty
    return f"CASE {index} {' '.join(branches)} ELSE {empty} END"


def _text_list(dialect, items) -> str:
    return dialect.list_of([dialect.literal(str(item)) for item in items])
