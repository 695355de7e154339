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

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.decision import compile_decision_table, decision_table_sql, rule_labels
from tierkit.hookspecs import hookimpl
from tierkit.registry import SchemeKind

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


def outcome_of(rule: dict, index: int) -> tuple:
    return (rule["id"], rule.get("score"), tuple(rule.get("tags", ())), index)


def compile_rules(build: SchemeBuild) -> CompiledScheme:
    """Under ``collect`` each rule's id is a tag set by its own condition: validate warns
    of two rules one account can match (see :mod:`tierkit.overlap`)."""
    policy = build.value("hit_policy", default="first")
    explain = compile_decision_table(build, outcome_of, policy)
    collected = tuple(rule["id"] for rule in build.value("rules", default=[])) if policy == "collect" else ()
    return CompiledScheme(explain=explain, labels=rule_labels(build), conditional_tags=collected)


def compile_rules_sql(build) -> None:
    decision_table_sql(build, outcome_of, build.value("hit_policy", default="first"))


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("rules", __doc__, CONFIG_SCHEMA, compile_rules, compile_sql=compile_rules_sql)
    )
