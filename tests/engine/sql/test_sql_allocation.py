"""The ruleset's ``allocation`` table on DuckDB and Spark gives the Python engine's
allocation: the rule's id, its position and which rule matched (a reason code with its
parameters), on generated populations (missing values, a scheme's label and tags, the
rank) with a default, a default without an id, no default (nothing matched), no rules
and no table at all.  The bundled rulesets' allocations are compared too
(tests/engine/test_engines_cases.py, tests/engine/test_engines_reasons.py)."""

from __future__ import annotations

import random

import pytest

from tierkit.engine.evaluation import BoundPlan

from tests.engine_harness import AS_OF, compare, compile_yaml, engine_fixture, python_outcomes

FIELDS = """
fields:
  id: {type: string, required: true}
  revenue: {type: number}
  segment: {type: enum, values: [smb, mid, enterprise]}
schemes:
  - id: size
    kind: rules
    rules:
      - {id: big, when: "revenue >= 1000", tags: [watch]}
      - {id: small, when: "revenue < 1000"}
rank: [{by: revenue}]
"""

RULES = """
  rules:
    - {id: flagged, when: "'watch' in size.tags and segment == 'enterprise'", label: {en: Flagged, zh: 重点}, set: {team: key}}
    - {id: first, when: "rank <= 3", set: {team: key, cadence_days: 7}}
    - {id: mid, when: "segment == 'mid' or size.label == 'small'", set: {cadence_days: 30}}
"""

ALLOCATIONS = {
    "default": "allocation:" + RULES + "  default: {id: rest, label: {en: The rest, zh: 其余}, set: {cadence_days: 90}}\n",
    "nameless default": "allocation:" + RULES + "  default: {set: {cadence_days: 90}}\n",
    "no default": "allocation:" + RULES,
    "no rules": "allocation:\n  default: {id: rest, set: {cadence_days: 90}}\n",
    "no table": "",
}

engine = engine_fixture()


def generated(plan, seed: int, size: int):
    draw = random.Random(seed).choice
    rows = [[f"g{n}", draw([None, 0.0, 999.5, 1000.0, 5000.0]), draw([None, "smb", "mid", "enterprise"])] for n in range(size)]
    return BoundPlan(plan, AS_OF).run(rows)


@pytest.fixture(scope="module")
def evaluations(registry):
    return {name: generated(compile_yaml("allocation-sql", FIELDS + body, registry), 3, 200)
            for name, body in ALLOCATIONS.items()}


@pytest.mark.parametrize("name", ALLOCATIONS)
def test_generated_populations(name, evaluations, engine, registry):
    assert compare(evaluations[name], registry, engine) == []


def test_the_populations_reach_every_rule_and_reason(evaluations, registry):
    reached = {name: {(outcome["allocation"], tuple(r["code"] for r in outcome["allocation.reasons"]))
                      for outcome in python_outcomes(evaluation, registry).values()}
               for name, evaluation in evaluations.items()}
    matched = {(("flagged", 0), ("rules.matched",)), (("first", 1), ("rules.matched",)), (("mid", 2), ("rules.matched",))}
    assert reached["default"] == matched | {(("rest", -1), ("rules.default",))}
    assert reached["nameless default"] == matched | {((None, -1), ("rules.none",))}
    assert reached["no default"] == matched | {((None, None), ("rules.none",))}
    assert reached["no rules"] == {(("rest", -1), ("rules.default",))}
    assert reached["no table"] == {((None, None), ("rules.none",))}


def test_which_rule_matched_in_words(evaluations):
    evaluation = evaluations["default"]
    said = {}
    for row in evaluation.rows:
        said.setdefault(evaluation.plan.allocation_index(row), [evaluation.allocation_reasons(row, lang) for lang in (None, "en", "zh")])
    assert said[0][0] == [{"code": "rules.matched", "rule": "flagged", "when": "'watch' in size.tags and segment == 'enterprise'"}]
    assert said[0][1][0]["text"].startswith("matched rule Flagged: ")
    assert said[0][2][0]["text"].startswith("命中规则 重点：")
    assert said[-1][1:] == [[{"code": "rules.default", "rule": "rest", "text": "no rule matched; default The rest"}],
                            [{"code": "rules.default", "rule": "rest", "text": "未命中任何规则，采用默认 其余"}]]
