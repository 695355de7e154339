"""The ``rules`` scheme kind: an ordered decision list.

``hit_policy: first`` (the default) gives the first matching rule; ``collect`` lets
every matching rule count: the first gives the label, all of them (ids and tags) give
the tags; validate warns of two rules one account can match, unless ``overlap`` (a key
of every scheme) allows them.  A customer no rule matches gets ``default``, or no label when there is
none.  Each outcome names the rule that fired and its condition.

Example::

    - id: track
      kind: rules
      label: {en: Industry track, zh: 行业赛道}
      rules:
        - id: government
          when: "industry == 'government'"
          label: {en: Government, zh: 政府}
          tags: [compliance, long-approval]
      default: {id: general, label: {en: General, zh: 通用}}
"""

from __future__ import annotations

from tierkit.kinds import (
    WHEN_RULES_TEMPLATES, Defined, DType, Gather, IrBuild, ListOf, Lit, Logic, LogicKind, case, ge, hookimpl, lit, logic_kind,
    when_rules,
)

IDENTIFIER = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"}
TAGS = {"type": "array", "items": {"type": "string"}, "title": "Tags", "description": "Tags the outcome carries."}
OUTCOME_PROPERTIES = {
    "id": {**IDENTIFIER, "title": "Label id", "description": "The label this rule gives, as expressions compare it."},
    "label": {"$ref": "#/$defs/label"},
    "description": {"type": "string", "title": "Description", "description": "Why this rule exists."},
    "tags": TAGS,
    "score": {"type": "number", "title": "Score", "description": "An optional score the outcome carries."},
}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "hit_policy": {
            "enum": ["first", "collect"],
            "default": "first",
            "title": "Hit policy",
            "description": "first: the first matching rule wins; collect: every matching rule counts.",
        },
        "rules": {
            "type": "array",
            "minItems": 1,
            "title": "Rules",
            "description": "Rules in priority order.",
            "items": {
                "type": "object",
                "properties": {
                    **OUTCOME_PROPERTIES,
                    "when": {"type": "string", "title": "Condition", "description": "An expression; the rule matches when it is true."},
                },
                "required": ["id", "when"],
                "additionalProperties": False,
            },
        },
        "default": {
            "type": "object",
            "title": "Default",
            "description": "The outcome when no rule matches.",
            "properties": OUTCOME_PROPERTIES,
            "required": ["id"],
            "additionalProperties": False,
        },
    },
    "required": ["rules"],
}


def define(build: IrBuild) -> Defined | None:
    """The table of rules (:func:`tierkit.kinds.when_rules`): the position of the rule
    that fired picks the label, score and tags.  Under ``collect`` every rule that holds
    adds its id and tags, and validate warns of two rules one account can match (see
    :mod:`tierkit.analysis.overlap`)."""
    collect = build.value("hit_policy", default="first") == "collect"
    table = when_rules(build, collect)
    if table is None:
        return None
    rules, fallback = table.rules, table.default or {}
    score = table.pick((_score(r) for r in rules), _score(fallback))
    tags = table.pick((_texts(r.get("tags", ())) for r in rules), _texts(fallback.get("tags", ())))
    if collect:
        gathered = Gather(tuple((condition, lit(text)) for condition, r in zip(table.conditions, rules)
                                for text in (r["id"], *r.get("tags", ()))))
        tags = case((ge(table.position, 0), gathered), default=_texts(fallback.get("tags", ())))
    logic = Logic(build.id, table.lets, table.label, score, (), table.reasons, tags=tags)
    return Defined(logic, table.labels, conditional_tags=tuple(r["id"] for r in rules) if collect else ())


def _score(outcome: dict) -> Lit:
    score = outcome.get("score")
    return Lit(None if score is None else float(score), DType.FLOAT)


def _texts(items) -> ListOf:
    return ListOf(tuple(lit(str(item)) for item in items), DType.STR)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("rules", __doc__, CONFIG_SCHEMA, LogicKind(define, WHEN_RULES_TEMPLATES)))
