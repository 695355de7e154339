"""The ``pipeline`` scheme kind: stage-based grading for small-ticket sales (成交/种子/潜在/沉默).

Four stages are tested in order, A to D, and the first whose condition holds gives
the label: ``closed`` (A 成交客户: has bought), ``seed`` (B 种子客户: an open
opportunity or high intent), ``potential`` (C 潜在客户: contacted within
``contact_days`` and responsive) and ``silent`` (D 沉默客户: contacted but
unresponsive for ``silent_days``, or never responsive).  Each stage's condition is an
expression; left out, it defaults to conventional fields the ruleset declares (e.g.
``order_count > 0 or deal_stage == 'won'`` for closed; only the parts whose fields
exist are used), and ``false`` leaves the stage out.  A stage whose condition is
missing for a customer counts as not met and is named in the reasons
(``on_missing: unknown`` makes it stop at ``unknown`` instead); a customer no stage
applies to is ``unknown``.  Each stage carries its playbook (referrals; dig into
needs and close with a fitting discount; build trust, invite to try; call, establish
credibility, send short introductions) in ``about``.

Example::

    - id: stage
      kind: pipeline
      label: {en: Pipeline stage, zh: 客户阶段}
      contact_days: 60
      seed: "intent_score >= 70 or deal_stage in ['proposal', 'negotiation']"
"""

from __future__ import annotations

from tierkit.kinds import (
    And, Compare, Compiled, Defined, DType, IrBuild, IsMissing, Let, Lit, Logic, LogicKind, Not, Or, Reason, Ref, case, hookimpl,
    holds, lit, logic_kind,
)

UNKNOWN = "unknown"
STAGES = ("closed", "seed", "potential", "silent")
GRADES = dict(zip(STAGES, "ABCD"))


def _label(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


def _defaults(contact_days: int, silent_days: int) -> dict[str, tuple[str, ...]]:
    """Each stage's default condition: the parts whose names the ruleset declares, joined by
    ``or`` (no part has an ``or`` outside parentheses).  An empty last-contact or
    last-response date means there was none."""
    return {
        "closed": ("order_count > 0", "deal_stage == 'won'"),
        "seed": ("intent_score >= 60", "deal_stage in ['proposal', 'negotiation']", "open_opportunities > 0"),
        "potential": (
            f"last_response_date is not none and days_since(last_response_date) <= {contact_days}",
            f"last_contact_date is not none and days_since(last_contact_date) <= {contact_days} and responsive",
            f"days_since_contact <= {contact_days} and responsive",
        ),
        "silent": (
            f"last_contact_date is not none and (last_response_date is none or days_since(last_response_date) > {silent_days})",
            "last_contact_date is not none and not responsive",
            "days_since_contact is not none and not responsive",
        ),
    }


LABELS = {
    "closed": _label("A: closed", "A 成交客户"),
    "seed": _label("B: seed", "B 种子客户"),
    "potential": _label("C: potential", "C 潜在客户"),
    "silent": _label("D: silent", "D 沉默客户"),
    UNKNOWN: _label("Stage unknown", "阶段未知"),
}

ABOUT = {
    "closed": {
        "strategy": _label("Has bought: deepen the relationship and develop referrals", "已成交：深化关系，发展转介绍"),
        "actions": [
            _label("Build a deep relationship; join the customer's circle", "深度经营关系，融入客户的圈子"),
            _label("Ask for referrals and grow them", "请客户转介绍，扩大口碑"),
        ],
    },
    "seed": {
        "strategy": _label("Likely to close: dig into needs and close", "成交在望：深挖需求，促成交易"),
        "actions": [
            _label("Frequent contact and timely advice", "保持高频联系，及时给出建议"),
            _label("Invite them to weekend events", "邀请参加周末活动"),
            _label("Offer a fitting discount to close", "给予适当优惠，促成交易"),
        ],
    },
    "potential": {
        "strategy": _label("Watching: build trust through long-term service", "观望中：以长期服务建立信任"),
        "actions": [
            _label("Invite them to try", "邀请体验试用"),
            _label("Share useful tips regularly", "定期分享实用资讯"),
            _label("Invite them to events", "邀请参加活动"),
        ],
    },
    "silent": {
        "strategy": _label("In contact but unresponsive, almost no trust: make contact and establish credibility",
                           "有联系但无回应，几乎没有信任：建立接触，树立可信度"),
        "actions": [
            _label("Call to make contact", "打电话建立接触"),
            _label("Establish credibility", "树立专业可信的形象"),
            _label("Send short introductions", "发送简短的介绍资料"),
        ],
    },
    UNKNOWN: {
        "strategy": _label("Fill in deal and contact data first", "先补齐商机与联系数据"),
        "actions": [_label("Record orders, opportunities and contacts", "录入订单、商机与联系记录")],
    },
}

LABEL_REF = {"$ref": "#/$defs/label"}
CONDITION = {"anyOf": [{"type": "string", "minLength": 1}, {"const": False}]}
STAGE_WORDS = {"closed": "A closed", "seed": "B seed", "potential": "C potential", "silent": "D silent", UNKNOWN: "unknown"}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "closed": {**CONDITION, "title": "A: closed",
                   "description": "When the customer has bought; default order_count > 0 or deal_stage == 'won'; false leaves the stage out."},
        "seed": {**CONDITION, "title": "B: seed",
                 "description": "An open opportunity or high intent; default intent_score >= 60 or deal_stage in "
                 "['proposal', 'negotiation'] or open_opportunities > 0; false leaves the stage out."},
        "potential": {**CONDITION, "title": "C: potential",
                      "description": "Contacted within contact_days and responsive; default from last_response_date, "
                      "last_contact_date or days_since_contact, and responsive; false leaves the stage out."},
        "silent": {**CONDITION, "title": "D: silent",
                   "description": "Contacted but unresponsive for silent_days, or never responsive; default from "
                   "last_contact_date, last_response_date or days_since_contact, and responsive; false leaves the stage out."},
        "contact_days": {"type": "integer", "minimum": 0, "default": 90, "title": "Contact window (days)",
                         "description": "Recent contact, for the default potential condition."},
        "silent_days": {"type": "integer", "minimum": 0, "default": 90, "title": "Silence (days)",
                        "description": "Days without a response that make a contacted customer silent (default condition)."},
        "on_missing": {"enum": ["skip", "unknown"], "default": "skip", "title": "On missing data",
                       "description": "skip: a stage whose condition is missing counts as not met; unknown: stop at unknown."},
        "labels": {
            "type": "object",
            "title": "Labels",
            "description": "Display labels of the stages, by stage id.",
            "properties": {stage: {**LABEL_REF, "title": f"{STAGE_WORDS[stage]} label",
                                   "description": f"The display label of {stage}."} for stage in (*STAGES, UNKNOWN)},
            "additionalProperties": False,
        },
        "about": {
            "type": "object",
            "title": "About",
            "description": "Per-stage playbooks, replacing the built-in ones, by stage id.",
            "properties": {stage: {"$ref": "#/$defs/about", "title": f"{STAGE_WORDS[stage]} playbook",
                                   "description": f"The playbook of {stage}."} for stage in (*STAGES, UNKNOWN)},
            "additionalProperties": False,
        },
    },
}

TEMPLATES = {
    "en": {
        "pipeline.holds": "{stage:in:stages}: {condition:say} holds → {stage:label}",
        "pipeline.fails": "{stage:in:stages}: {condition:say} does not hold",
        "pipeline.missing": "{stage:in:stages}: cannot tell, {missing_fields:names} missing; counted as not met",
        "pipeline.stopped": "{stage:in:stages}: cannot tell, {missing_fields:names} missing → unknown",
        "pipeline.none": "no stage applies → unknown",
    },
    "zh": {
        "pipeline.holds": "{stage:in:stages}：{condition:say} 成立 → {stage:label}",
        "pipeline.fails": "{stage:in:stages}：{condition:say} 不成立",
        "pipeline.missing": "{stage:in:stages}：无法判断，缺少 {missing_fields:names}；按不成立处理",
        "pipeline.stopped": "{stage:in:stages}：无法判断，缺少 {missing_fields:names} → 未知",
        "pipeline.none": "没有适用的阶段 → 未知",
    },
}
STAGE_NAMES = {"closed": _label("A closed", "A 成交"), "seed": _label("B seed", "B 种子"),
               "potential": _label("C potential", "C 潜在"), "silent": _label("D silent", "D 沉默")}


def define(build: IrBuild) -> Defined | None:
    """The stage is the first stage whose condition holds; a missing condition counts as
    not met, or stops at unknown under ``on_missing: unknown``.  A stage is *reached*
    when every stage before it was passed (false, or missing when skipped), and only a
    reached stage gives a reason: its condition held, failed or was missing (naming the
    blank inputs behind it)."""
    stop = build.value("on_missing", default="skip") == "unknown"
    conditions = _conditions(build)
    if build.failed:
        return None
    present = [(stage, condition) for stage, condition in zip(STAGES, conditions) if condition is not None]
    lets = [Let(stage, condition.code) for stage, condition in present]
    whens: list = []
    for stage, _condition in present:
        whens.append((Ref(stage, DType.BOOL), lit(stage)))
        if stop:
            whens.append((IsMissing(Ref(stage, DType.BOOL)), lit(UNKNOWN)))
    label = case(*whens, default=lit(UNKNOWN))
    lets.append(Let("stage", label))
    stage_ref = Ref("stage", DType.STR)
    grade = case(*((Compare("==", stage_ref, lit(name)), lit(GRADES[name])) for name in STAGES), default=Lit(None, DType.STR))
    reasons, readers, reached, stopped = [], {}, [], []
    for stage, condition in present:
        result = Ref(stage, DType.BOOL)
        here = And(tuple(reached)) if reached else lit(True)
        blank, read = build.blank_inputs(condition)
        readers[blank] = read
        said = (("stage", lit(stage)), ("condition", lit(condition.source)))
        missing = And((here, IsMissing(result)))
        reasons += [Reason("pipeline.holds", said, And((here, holds(result)))),
                    Reason("pipeline.fails", said, And((here, holds(Not(result))))),
                    Reason("pipeline.stopped" if stop else "pipeline.missing",
                           (("stage", lit(stage)), ("missing_fields", blank)), missing)]
        stopped.append(missing)
        passed = holds(Not(result)) if stop else Not(holds(result))
        reached.append(passed)
    unknown = Compare("==", stage_ref, lit(UNKNOWN))
    reasons.append(Reason("pipeline.none", (), And((unknown, Not(Or(tuple(stopped))))) if stop and stopped else unknown))
    logic = Logic(build.id, tuple(lets), stage_ref, Lit(None, DType.FLOAT), (("grade", grade),), tuple(reasons))
    labels = {**LABELS, **(build.value("labels", default={}) or {})}
    about = {**ABOUT, **(build.value("about", default={}) or {})}
    return Defined(logic, labels, readers=readers, tables={"stages": STAGE_NAMES}, about=about)


def _conditions(build) -> list[Compiled | None]:
    """Each stage's condition, compiled (``None`` for a stage left out), in stage order:
    the same for the Python and the SQL back end."""
    defaults = _defaults(build.value("contact_days", default=90), build.value("silent_days", default=90))
    conditions: list[Compiled | None] = []
    for stage in STAGES:
        given = build.value(stage)
        if given is False:
            conditions.append(None)
        elif given is not None:
            conditions.append(build.condition(stage))
        else:
            parts = [text for text in defaults[stage] if build.compiles(text, ("boolean",))]
            if not parts:
                fields = sorted({name for text in defaults[stage] for name in build.fields_of(text)})
                build.error(f"{stage}: no condition given, and none of the default's fields is declared ({', '.join(fields)})",
                            hint=f"declare one of them, set {stage}: <condition>, or {stage}: false to leave the stage out")
                conditions.append(None)
            else:
                conditions.append(build.expression(stage, source=" or ".join(parts)))
    return conditions


PIPELINE = LogicKind(define, TEMPLATES, (("grade", "string"),), ABOUT)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("pipeline", __doc__, CONFIG_SCHEMA, PIPELINE))
