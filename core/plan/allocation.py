"""The ruleset's ``allocation`` table: ordered ``when`` rules and a default, each
setting a resource plan (``set``).

The table is stated once as IR, as the ``rules`` kind states its own
(:func:`tierkit.kinds.when_rules`), and the core compiles it on every engine as it
compiles a kind's logic (:class:`tierkit.plan.kindlogic.LogicKind`).  Its outcome is
``(rule id, None, (), detail)``; the detail holds the position of the rule that fired
(-1 the default, None when nothing matched and there is no default), which every
reader takes through :func:`rule_index`, then the reasons' columns, so that which rule
matched comes out as a code with its parameters (``rules.matched`` with ``rule`` and
``when``) on Python, DuckDB and Spark alike, in the words of the ``rules`` kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierkit.kinds import WHEN_RULES_TEMPLATES, Defined, DType, IrBuild, Lit, Logic, LogicKind, when_rules

RULE = 0  # the detail position of the rule's position
ATTRIBUTES = {"rule": ("integer", RULE)}  # as a SQL build takes a kind's attributes


def define(build: IrBuild) -> Defined | None:
    """The rule's id as the label, no score, its position as the attribute ``rule``."""
    table = when_rules(build)
    if table is None:
        return None
    logic = Logic(build.id, table.lets, table.label, Lit(None, DType.FLOAT), (("rule", table.position),), table.reasons)
    return Defined(logic, table.labels)


TABLE = LogicKind(define, WHEN_RULES_TEMPLATES, attributes=(("rule", "integer"),))


def config(data: Mapping[str, Any]) -> dict:
    """The allocation's config as a build reads it (a ruleset without one has no rules)."""
    return {"id": "allocation", **(data.get("allocation") or {"rules": []})}


def rule_index(outcome: tuple) -> int | None:
    """The position of the allocation rule an outcome holds (-1 the default, None when
    nothing matched and there is no default)."""
    return outcome[3][RULE]


def plans(data: Mapping[str, Any]) -> tuple[dict[int, dict], dict[int, str]]:
    """Each rule's resource plan (its ``set`` over the default's) and id, by position."""
    table = config(data)
    default = table.get("default") or {}
    rules = table.get("rules") or []
    plans = {index: {**default.get("set", {}), **rule.get("set", {})} for index, rule in enumerate(rules)}
    plans[-1] = dict(default.get("set", {}))
    ids = {index: rule.get("id") for index, rule in enumerate(rules)}
    ids[-1] = default.get("id")
    return plans, ids
