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

from tierkit.plan.decision import DEFAULT, rule_labels, warn_shadowed
from tierkit.hookspecs import hookimpl
from tierkit.ir import nodes as ir
from tierkit.ir.nodes import DType, Let, ListOf, Lit, Pick, Reason, Ref, lit
from tierkit.plan.kindlogic import Defined, IrBuild, LogicKind, logic_kind

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


TEMPLATES = {
    "en": {"rules.matched": "matched rule {rule:label}: {when:say}", "rules.default": "no rule matched; default {rule:label}",
           "rules.none": "no rule matched"},
    "zh": {"rules.matched": "命中规则 {rule:label}：{when:say}", "rules.default": "未命中任何规则，采用默认 {rule:label}",
           "rules.none": "未命中任何规则"},
}


def define(build: IrBuild) -> Defined | None:
    """The first matching rule's position (``rule``; -1 for the default, missing when
    nothing matched and there is no default) picks the label, score and tags.  Under
    ``collect`` each rule's condition is bound once: the first gives the outcome, every
    one that holds a reason and its id and tags (validate warns of two rules one account
    can match, see :mod:`tierkit.analysis.overlap`); under ``first`` validate warns of a rule an
    earlier one shadows (:func:`tierkit.plan.decision.warn_shadowed`)."""
    collect = build.value("hit_policy", default="first") == "collect"
    rules, default = build.value("rules", default=[]), build.value("default")
    conditions, checked = [], []
    for index in range(len(rules)):
        before = len(build.diagnostics)
        conditions.append(build.condition("rules", index, "when").code)
        checked.append(not any(d.severity == "error" for d in build.diagnostics[before:]))
    if not collect:
        warn_shadowed(build, rules, checked)
    if build.failed:
        return None
    lets = [Let(f"when{index}", condition) for index, condition in enumerate(conditions)] if collect else []
    if collect:
        conditions = [Ref(let.name, DType.BOOL) for let in lets]
    lets.append(Let("rule", ir.FirstMatch(tuple(conditions), lit(DEFAULT) if default is not None else Lit(None, DType.INT))))
    rule, fallback = Ref("rule", DType.INT), default or {}

    def pick(values, otherwise):
        return Pick(rule, tuple(values), otherwise)

    label = pick(map(lit, (r["id"] for r in rules)), lit(default["id"]) if default else Lit(None, DType.STR))
    score = pick((_score(r) for r in rules), _score(fallback))
    tags = pick((_texts(r.get("tags", ())) for r in rules), _texts(fallback.get("tags", ())))
    if collect:
        gathered = ir.Gather(tuple((condition, lit(text)) for condition, r in zip(conditions, rules)
                                   for text in (r["id"], *r.get("tags", ()))))
        tags = ir.case((ir.Compare(">=", rule, lit(0)), gathered), default=_texts(fallback.get("tags", ())))
        matched = tuple(Reason("rules.matched", (("rule", lit(r["id"])), ("when", lit(r["when"]))), condition)
                        for condition, r in zip(conditions, rules))
    else:
        matched = (Reason("rules.matched", (("rule", pick((lit(r["id"]) for r in rules), Lit(None, DType.STR))),
                                            ("when", pick((lit(r["when"]) for r in rules), Lit(None, DType.STR)))),
                          ir.Compare(">=", rule, lit(0))),)
    otherwise = (Reason("rules.default", (("rule", lit(default["id"])),), ir.Compare("==", rule, lit(DEFAULT))) if default
                 else Reason("rules.none", (), ir.IsMissing(rule)))
    logic = ir.Logic(build.id, tuple(lets), label, score, (), (*matched, otherwise), tags=tags)
    return Defined(logic, rule_labels(build), conditional_tags=tuple(r["id"] for r in rules) if collect else ())


def _score(outcome: dict) -> Lit:
    score = outcome.get("score")
    return Lit(None if score is None else float(score), DType.FLOAT)


def _texts(items) -> ListOf:
    return ListOf(tuple(lit(str(item)) for item in items), DType.STR)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("rules", __doc__, CONFIG_SCHEMA, LogicKind(define, TEMPLATES)))
