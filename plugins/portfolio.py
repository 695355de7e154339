"""The ``portfolio`` scheme kind: benchmark, nail and at-risk tags (标杆 / 钉子 / 危险客户).

A customer may carry none, one or several of three tags; the label is the first
carried in the order ``at_risk`` > ``nail`` > ``benchmark``, else ``none``, and every
tag carried is in ``tags``.  **Benchmark** needs influence, satisfaction and
cooperation all at or above their thresholds (default fields ``influence``,
``satisfaction``, ``cooperation``, 0-100, threshold 70 each), and gets a level
(national / provincial / local / surrounding) from a ``level`` expression or from
influence thresholds.  **Nail** is a high-value customer (``value``, default
``revenue_potential`` or ``annual_procurement``, at or above ``value_cut``, default
the population's 80th percentile) in a long stalemate (default ``stalemate_days >=
180``, or a share of wallet under 10% for 180 days of tenure); one whose return is
under ``min_value`` is tagged ``nail_drop`` instead.  A benchmark is never also a nail
(its reasons say so) unless ``benchmark_and_nail: true``; validate then warns that one
account can be both, unless ``overlap: [[benchmark, nail]]`` says it may.  Reasons give the stage, value
and reason analysis and the escalation path (rep → supervisor → regional manager),
and end with the verdict: a nail, not a nail (value under the cut, no stalemate), a
nail whose return is too low (no-go), or undecided (the inputs missing).
**At-risk** counts declining signals (default: ``revenue_trend < 0.7``,
``days_since_visit > 60``, ``complaints_90d >= 2``, ``competitor_contact``, those
whose fields exist) and needs ``min_signals`` (default 1) of them; a signal whose
input is missing counts as not fired and is named in the reasons.  A section whose
inputs are missing is undecided: a customer carrying no tag with an undecided section
is ``unknown``, not ``none``.  Each tag's ``about`` carries its playbook (at-risk: the
relationship, commercial and risk defence fronts).

Example::

    - id: portfolio
      kind: portfolio
      label: {en: Portfolio, zh: 客户组合}
      benchmark:
        influence: {value: influence_score, min: 75}
      nail:
        value: annual_procurement
        value_cut: 1.0e8
        min_value: 2.0e7
        market_stage: mid
      at_risk:
        signals:
          visit_gap: false
          payment_delay: {when: "avg_days_to_pay > 90", label: {en: Slow payment, zh: 回款变慢}}
        min_signals: 1
"""

from __future__ import annotations

from collections.abc import Mapping

from tierkit.kinds import (
    And, Bindings, Call, Coalesce, Compare, Compiled, Defined, DType, Expr, Gather, In, IrBuild, IsMissing, Lit, Logic, LogicKind,
    Not, Or, Reason, Ref, case, hookimpl, holds, known, lit, logic_kind, percentile, total,
)

AT_RISK, NAIL, BENCHMARK, NONE, UNKNOWN, NAIL_DROP = "at_risk", "nail", "benchmark", "none", "unknown", "nail_drop"
INDICATORS = ("influence", "satisfaction", "cooperation")
LEVELS = ("national", "provincial", "local", "surrounding")
MARKET_STAGES = ("early", "mid", "late")
NAIL_REASONS = ("no_trust", "competitor_offer", "internal_conflict")


def _label(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


DEFAULT_SIGNALS = {
    "order_decline": (("revenue_trend < 0.7",), _label("Orders declining", "订单下滑")),
    "visit_gap": (("days_since_visit > 60", "days_since(last_visit_date) > 60"), _label("Long gap between visits", "拜访间隔过长")),
    "complaints": (("complaints_90d >= 2",), _label("Repeated complaints", "多次投诉")),
    "competitor": (("competitor_contact",), _label("In contact with a competitor", "与竞争对手接触")),
}
DEFAULT_LEVELS = {"national": 95, "provincial": 85, "local": 75}

LABELS = {
    AT_RISK: _label("At-risk customer", "危险客户"),
    NAIL: _label("Nail customer", "钉子客户"),
    BENCHMARK: _label("Benchmark customer", "标杆客户"),
    NONE: _label("No portfolio tag", "无组合标签"),
    UNKNOWN: _label("Unknown", "未知"),
}
LEVEL_LABELS = {
    "national": _label("national", "全国"),
    "provincial": _label("provincial", "省级"),
    "local": _label("local", "地方"),
    "surrounding": _label("surrounding-area", "周边"),
}

ABOUT = {
    BENCHMARK: {
        "strategy": _label("Maintain: use them to convince the customers around them", "维护：用其影响力带动周边客户"),
        "actions": [
            _label("Invest heavily and keep them satisfied", "重点投入，保持高满意度"),
            _label("Collect visible proof: testimonials, videos, before/after data", "收集看得见的证明：客户证言、视频、使用前后数据"),
            _label("Build benchmarks at several levels; each rep develops some every year",
                   "分级打造标杆，每位销售每年须发展一定数量"),
        ],
    },
    NAIL: {
        "strategy": _label("Pull the nail: the main growth source once the easy customers are won",
                           "拔钉子：拿下容易的客户之后的主要增长来源"),
        "actions": [
            _label("Stage: in an early market take the easy high-value customers first; in a mid/late market attack nails",
                   "阶段：市场早期先拿容易的高价值客户，中后期攻坚钉子客户"),
            _label("Value: assess the return first; drop low-return nails", "价值：先评估回报，放弃低回报的钉子客户"),
            _label("Reason: no trust in us, a competitor's better offer, or internal conflict; treat the cause",
                   "原因：不信任我们、竞争对手条件更好或客户内部矛盾，对症下药"),
            _label("Escalate: rep → supervisor → regional manager", "逐级升级：销售 → 主管 → 区域经理"),
        ],
    },
    AT_RISK: {
        "strategy": _label("Defend: turn them back into nails or better", "防守：把他们重新变回钉子客户或更好"),
        "actions": [
            _label("Watch with dense visits and find the cause", "加密拜访，找出原因"),
            _label("Relationship: more visits, executive pairing, more ties between departments",
                   "关系：增加拜访、高层对接、加强双方部门间的联系"),
            _label("Commercial: price, payment terms, gifts, service, technical support", "商务：价格、账期、赠品、服务、技术支持"),
            _label("Risk: clarify concerns with their management; give written guarantees", "风险：与对方管理层澄清顾虑，提供书面保证"),
            _label("Replace a rep the customer rejects if that keeps the customer", "客户排斥现任销售时，可更换销售以留住客户"),
        ],
    },
    NONE: {"strategy": _label("No portfolio tag: serve by grade", "无组合标签：按客户等级服务")},
    UNKNOWN: {"strategy": _label("Fill in the missing data first", "先补齐缺失数据")},
}

LABEL_REF = {"$ref": "#/$defs/label"}
EXPRESSION = {"type": "string", "minLength": 1}
CUT_SCHEMA = {
    "$ref": "#/$defs/cut",
    "title": "High-value cut",
    "description": "The value at or above which a customer is high-value: a number, 'median', 'pNN' (e.g. p80) or "
    "{percentile: 0.8} of the population; default p80.",
}


def _indicator_schema(name: str) -> dict:
    return {
        "title": name.capitalize(),
        "description": f"An expression giving {name} (0-100), or {{value, min}}; default the field {name}, min 70.",
        "anyOf": [
            EXPRESSION,
            {
                "type": "object",
                "properties": {
                    "value": {**EXPRESSION, "title": "Value", "description": f"An expression giving {name}."},
                    "min": {"type": "number", "title": "Threshold", "description": "At or above it the indicator is met; default 70."},
                },
                "additionalProperties": False,
            },
        ],
    }


SIGNAL_SCHEMA = {
    "title": "Signal",
    "description": "A condition, {when, label}, or false to leave a default signal out.",
    "anyOf": [
        EXPRESSION,
        {"const": False},
        {
            "type": "object",
            "properties": {
                "when": {**EXPRESSION, "title": "Condition", "description": "The signal fires when it is true."},
                "label": {**LABEL_REF, "title": "Label", "description": "The signal's name in reasons."},
            },
            "required": ["when"],
            "additionalProperties": False,
        },
    ],
}
LABEL_IDS = (AT_RISK, NAIL, BENCHMARK, NONE, UNKNOWN)

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "benchmark_and_nail": {
            "title": "Benchmark and nail together",
            "description": "Whether one account may be both a benchmark and a nail. Default false: a benchmark, "
                           "cooperating by definition, is not also a nail in a stalemate; true lets both tags stand "
                           "(validate warns unless overlap: [[benchmark, nail]] allows it; the report lists such accounts).",
            "type": "boolean",
        },
        "benchmark": {
            "title": "Benchmark (标杆)",
            "description": "Influence, satisfaction and cooperation all at or above their thresholds; false leaves the tag out.",
            "anyOf": [
                {"const": False},
                {
                    "type": "object",
                    "properties": {
                        **{name: _indicator_schema(name) for name in INDICATORS},
                        "level": {**EXPRESSION, "title": "Level",
                                  "description": "An expression giving national, provincial, local or surrounding; "
                                  "when missing, the level comes from influence thresholds."},
                        "levels": {
                            "type": "object",
                            "title": "Level thresholds",
                            "description": "Influence at or above which a benchmark is national, provincial, local "
                            "(default 95, 85, 75); below them, surrounding.",
                            "properties": {
                                level: {"type": "number", "title": f"{level.capitalize()} threshold",
                                        "description": f"Influence from which a benchmark is {level}."}
                                for level in ("national", "provincial", "local")
                            },
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
            ],
        },
        "nail": {
            "title": "Nail (钉子)",
            "description": "High value and a long stalemate; false leaves the tag out.",
            "anyOf": [
                {"const": False},
                {
                    "type": "object",
                    "properties": {
                        "value": {**EXPRESSION, "title": "Value",
                                  "description": "The customer's value; default revenue_potential or annual_procurement."},
                        "value_cut": CUT_SCHEMA,
                        "stalemate": {**EXPRESSION, "title": "Stalemate",
                                      "description": "A condition: a long stalemate; default stalemate_days >= stalemate_days, "
                                      "or share_of_wallet < max_share and tenure_days >= stalemate_days."},
                        "stalemate_days": {"type": "integer", "minimum": 0, "title": "Stalemate days",
                                           "description": "Days of stalemate for the default stalemate condition; default 180."},
                        "max_share": {"type": "number", "minimum": 0, "title": "Maximum share of wallet",
                                      "description": "Our share of wallet under which a long customer is stuck (default 0.1)."},
                        "return_value": {**EXPRESSION, "title": "Return",
                                         "description": "The expected return of pulling the nail; default the value."},
                        "min_value": {"type": "number", "title": "Minimum return",
                                      "description": "A nail whose return is under it is tagged nail_drop instead of nail."},
                        "reason": {**EXPRESSION, "title": "Reason",
                                   "description": "An expression giving no_trust, competitor_offer or internal_conflict; "
                                   "default the nail_reason or reason field."},
                        "market_stage": {"type": "string", "minLength": 1, "title": "Market stage",
                                         "description": "early, mid or late, or an expression giving one; default the "
                                         "market_stage field, else mid."},
                    },
                    "additionalProperties": False,
                },
            ],
        },
        "at_risk": {
            "title": "At-risk (危险)",
            "description": "Declining signals, at least min_signals of them; false leaves the tag out.",
            "anyOf": [
                {"const": False},
                {
                    "type": "object",
                    "properties": {
                        "signals": {
                            "type": "object",
                            "title": "Signals",
                            "description": "Signals by id, merged over the defaults (order_decline, visit_gap, complaints, "
                            "competitor); false leaves one out.",
                            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                            "additionalProperties": SIGNAL_SCHEMA,
                        },
                        "min_signals": {"type": "integer", "minimum": 1, "title": "Minimum signals",
                                        "description": "How many signals must fire; default 1."},
                    },
                    "additionalProperties": False,
                },
            ],
        },
        "labels": {
            "type": "object",
            "title": "Labels",
            "description": "Display labels by label id.",
            "properties": {key: {**LABEL_REF, "title": f"{key} label", "description": f"The display label of {key}."}
                           for key in LABEL_IDS},
            "additionalProperties": False,
        },
        "about": {
            "type": "object",
            "title": "About",
            "description": "Playbooks by label id, replacing the built-in ones.",
            "properties": {key: {"$ref": "#/$defs/about", "title": f"{key} playbook", "description": f"The playbook of {key}."}
                           for key in LABEL_IDS},
            "additionalProperties": False,
        },
    },
}

TEMPLATES = {
    "en": {
        "portfolio.indicator_missing": "{indicator:in:words}: missing ({fields:names})",
        "portfolio.met": "{indicator:in:words}: {value:number} ≥ {min:number}",
        "portfolio.unmet": "{indicator:in:words}: {value:number} < {min:number}",
        "portfolio.benchmark_yes": "benchmark: all three at or above their thresholds",
        "portfolio.benchmark_no": "not a benchmark: all three of influence, satisfaction and cooperation are needed",
        "portfolio.benchmark_unknown": "benchmark: cannot tell, {fields:names} missing",
        "portfolio.level_given": "benchmark level {level:in:levels} (from {expr:say})",
        "portfolio.level_influence": "benchmark level {level:in:levels}: influence {value:number} ≥ {min:number}",
        "portfolio.level_surrounding": "benchmark level {level:in:levels}: influence {value:number} under every level threshold",
        "portfolio.value_high": "value {value:number} ≥ {cut:number} ({how:in:words}): high value",
        "portfolio.value_low": "value {value:number} < {cut:number} ({how:in:words}): not high value",
        "portfolio.value_missing": "value: missing ({fields:names})",
        "portfolio.stalemate_yes": "stalemate: {expr:say} holds",
        "portfolio.stalemate_no": "no long stalemate: {expr:say} does not hold",
        "portfolio.stalemate_missing": "stalemate: cannot tell, {fields:names} missing",
        "portfolio.nail_yes": "nail: high value and a long stalemate",
        "portfolio.nail_no": "not a nail: {why:in:words}",
        "portfolio.nail_drop": "nail, but the return is too low: no-go (nail_drop)",
        "portfolio.nail_unknown": "nail: cannot tell, {missing_fields:names} missing",
        "portfolio.return_ok": "value check: return {return:number} ≥ {min_value:number}, worth pursuing",
        "portfolio.return_drop": "value check: return {return:number} < {min_value:number}, a low-return nail: drop it (nail_drop)",
        "portfolio.return_missing": "value check: return unknown ({fields:names}); assess the return first",
        "portfolio.stage_early": "stage: early market; take the easy high-value customers first, this nail can wait",
        "portfolio.stage_attack": "stage: {market_stage:in:words} market; attack this nail",
        "portfolio.stage_other": "stage: market stage {market_stage:in:stage_values} not known; early markets take easy "
                                 "customers first, mid/late markets attack nails",
        "portfolio.no_trust": "reason: no trust in us; build credibility with references, trials and senior visits",
        "portfolio.competitor_offer": "reason: a competitor's better offer; counter on value, service and terms",
        "portfolio.internal_conflict": "reason: internal conflict at the customer; map the decision chain and find a sponsor",
        "portfolio.reason_other": "reason: {reason:in:reason_values}",
        "portfolio.reason_missing": "reason not known: find out first (no trust, a competitor's offer, internal conflict?)",
        "portfolio.escalate": "escalate when stuck: rep → supervisor → regional manager",
        "portfolio.fired": "signal {signal:in:signals}: {expr:say} fired",
        "portfolio.quiet": "signal {signal:in:signals}: {expr:say} did not fire",
        "portfolio.signal_missing": "signal {signal:in:signals}: {missing_fields:names} missing; counted as not fired",
        "portfolio.risk_yes": "at risk: {fired} of {count} signals fired (at least {min} needed)",
        "portfolio.risk_no": "not at risk: {fired} of {count} signals fired (at least {min} needed)",
        "portfolio.risk_unknown": "at risk: cannot tell, every signal's input is missing",
        "portfolio.unknown": "no tag carried and {sections:in:words} could not be decided → unknown",
        "portfolio.none": "no tag carried",
    },
    "zh": {
        "portfolio.indicator_missing": "{indicator:in:words}：缺失（{fields:names}）",
        "portfolio.met": "{indicator:in:words}：{value:number} ≥ {min:number}",
        "portfolio.unmet": "{indicator:in:words}：{value:number} < {min:number}",
        "portfolio.benchmark_yes": "标杆：影响力、满意度、配合度均达到门槛",
        "portfolio.benchmark_no": "不是标杆：影响力、满意度、配合度三者缺一不可",
        "portfolio.benchmark_unknown": "标杆：无法判断，缺少 {fields:names}",
        "portfolio.level_given": "标杆级别：{level:in:levels}（来自 {expr:say}）",
        "portfolio.level_influence": "标杆级别：{level:in:levels}，影响力 {value:number} ≥ {min:number}",
        "portfolio.level_surrounding": "标杆级别：{level:in:levels}，影响力 {value:number} 低于各级门槛",
        "portfolio.value_high": "价值 {value:number} ≥ {cut:number}（{how:in:words}）：高价值",
        "portfolio.value_low": "价值 {value:number} < {cut:number}（{how:in:words}）：非高价值",
        "portfolio.value_missing": "价值：缺失（{fields:names}）",
        "portfolio.stalemate_yes": "僵持：{expr:say} 成立",
        "portfolio.stalemate_no": "未长期僵持：{expr:say} 不成立",
        "portfolio.stalemate_missing": "僵持：无法判断，缺少 {fields:names}",
        "portfolio.nail_yes": "钉子：高价值且长期僵持",
        "portfolio.nail_no": "不是钉子：{why:in:words}",
        "portfolio.nail_drop": "是钉子，但回报太低：不攻坚（nail_drop）",
        "portfolio.nail_unknown": "钉子：无法判断，缺少 {missing_fields:names}",
        "portfolio.return_ok": "价值评估：回报 {return:number} ≥ {min_value:number}，值得攻坚",
        "portfolio.return_drop": "价值评估：回报 {return:number} < {min_value:number}，低回报的钉子客户，放弃（nail_drop）",
        "portfolio.return_missing": "价值评估：回报未知（{fields:names}），先评估回报",
        "portfolio.stage_early": "阶段：市场早期，先拿容易的高价值客户，此钉子可暂缓",
        "portfolio.stage_attack": "阶段：市场{market_stage:in:words}，攻坚此钉子客户",
        "portfolio.stage_other": "阶段：市场阶段 {market_stage:in:stage_values} 未知；早期先拿容易的客户，中后期攻坚钉子",
        "portfolio.no_trust": "原因：不信任我们；以案例、试用和高层拜访建立信任",
        "portfolio.competitor_offer": "原因：竞争对手条件更好；在价值、服务和条款上反击",
        "portfolio.internal_conflict": "原因：客户内部矛盾；梳理决策链，找到支持者",
        "portfolio.reason_other": "原因：{reason:in:reason_values}",
        "portfolio.reason_missing": "原因未知：先查明（不信任、竞争对手条件、内部矛盾？）",
        "portfolio.escalate": "僵持不下时逐级升级：销售 → 主管 → 区域经理",
        "portfolio.fired": "信号 {signal:in:signals}：{expr:say} 触发",
        "portfolio.quiet": "信号 {signal:in:signals}：{expr:say} 未触发",
        "portfolio.signal_missing": "信号 {signal:in:signals}：缺少 {missing_fields:names}，按未触发处理",
        "portfolio.risk_yes": "危险：{count} 个信号中 {fired} 个触发（至少需要 {min} 个）",
        "portfolio.risk_no": "不危险：{count} 个信号中 {fired} 个触发（至少需要 {min} 个）",
        "portfolio.risk_unknown": "危险：无法判断，所有信号的数据都缺失",
        "portfolio.unknown": "未带任何标签，且 {sections:in:words} 无法判断 → 未知",
        "portfolio.none": "未带任何标签",
    },
}
# The words the templates look up by key (``in:words``): names, the cut's kind, the
# market stage, and the lists (why not a nail, the sections undecided) by their keys.
WORDS = {
    "benchmark": _label("benchmark", "标杆"), "nail": _label("nail", "钉子"), "at_risk": _label("at-risk", "危险"),
    "influence": _label("influence", "影响力"), "satisfaction": _label("satisfaction", "满意度"),
    "cooperation": _label("cooperation", "配合度"),
    "fixed": _label("fixed cut", "固定分界"), "median": _label("population median", "全体中位数"),
    "mid": _label("mid", "中期"), "late": _label("late", "后期"),
    "nail_benchmark": _label("a benchmark account", "已是标杆客户"),
    "nail_low_value": _label("value below the cut", "价值低于分界"),
    "nail_no_stalemate": _label("no long stalemate", "未长期僵持"),
}
WHY = ("nail_low_value", "nail_no_stalemate", "nail_benchmark")
LIST_SEPARATOR = {"en": "; ", "zh": "，"}
ESCALATION = ["rep", "supervisor", "regional_manager"]
STR, INT, FLOAT, BOOL = DType.STR, DType.INT, DType.FLOAT, DType.BOOL
TRUE, FALSE, UNDECIDED = lit(True), lit(False), Lit(None, BOOL)


def _joined(keys, separator: Mapping[str, str] | str) -> dict:
    """The words of every ordered choice of ``keys``, by the choice's keys joined with ``+``."""
    choices = {}
    for mask in range(1 << len(keys)):
        chosen = [key for bit, key in enumerate(keys) if mask >> bit & 1]
        choices["+".join(chosen)] = {lang: (separator if isinstance(separator, str) else separator[lang]).join(
            WORDS[key][lang] for key in chosen) for lang in ("en", "zh")}
    return choices


def _chosen(entries) -> Expr:
    """The keys whose condition holds, in order, joined with ``+`` (see :func:`_joined`)."""
    return Call("join", (Gather(tuple((condition, lit(key)) for key, condition in entries)), lit("+")), STR)


def _how(cut: tuple) -> tuple[str, dict]:
    """The cut's key and its words: fixed, the median or a percentile of the population."""
    kind, amount = cut
    if kind == "value":
        return "fixed", WORDS["fixed"]
    if amount == 0.5:
        return "median", WORDS["median"]
    p = round(amount * 100, 6)
    return f"p{p:g}", _label(f"{p:g}th percentile of the population", f"全体第 {p:g} 百分位")


def define(build: IrBuild) -> Defined | None:
    """Each section's flag is true, false or missing when undecided (an input missing);
    the label is the first tag carried (at-risk, nail, benchmark), else ``unknown`` when
    a section is undecided, else ``none``.  Reasons run section by section, each ending
    with its verdict; a nail's playbook (return, stage, reason, escalation) only for a
    nail or a dropped one."""
    setup = _configure(build)
    if build.failed:
        return None
    let, readers, reasons = Bindings(), {}, []
    blanks: dict[int, Ref] = {}
    words = dict(WORDS)

    def blank(compiled, value: Expr) -> Ref:
        """The blank inputs behind ``value`` (``compiled``'s) when it is missing, else missing."""
        if id(compiled) not in blanks:
            mask, read = build.blank_inputs(compiled)
            ref = let(f"blank{len(blanks)}", case((IsMissing(value), mask), default=Lit(None, INT)))
            readers[ref] = lambda m, read=read, source=compiled.source: None if m is None else read(m) if m else [source]
            blanks[id(compiled)] = ref
        return blanks[id(compiled)]

    bench = risk = nail = drop = FALSE
    level = Lit(None, STR)
    if setup.indicators:
        bench, level = _benchmark_logic(setup, let, reasons, blank)
    if setup.nail_on:
        nail, drop = _nail_logic(setup, let, reasons, blank, bench, words)
    if setup.signals:
        risk = _risk_logic(setup, let, reasons, blank)
    flags = [(AT_RISK, risk), (NAIL, nail), (BENCHMARK, bench)]
    undecided = Or(tuple(IsMissing(flag) for _tag, flag in flags)) if len(flags) > 1 else IsMissing(flags[0][1])
    label = let("label", case(*((holds(flag), lit(tag)) for tag, flag in flags), (undecided, lit(UNKNOWN)),
                              default=lit(NONE)))
    words.update(_joined(SECTIONS, ", "))
    return_blank = [("return_fields", blank(setup.return_value, Ref("return", FLOAT)))] if setup.return_value is not None else []
    reasons.append(Reason("portfolio.unknown", (("unknown", TRUE), ("sections", _chosen((key, IsMissing(flag))
                                                                                         for key, flag in flags)),
                                                *return_blank), Compare("==", label, lit(UNKNOWN))))
    reasons.append(Reason("portfolio.none", (), Compare("==", label, lit(NONE))))
    tags = Gather(tuple((flag, lit(tag)) for tag, flag in ((AT_RISK, risk), (NAIL, nail), (NAIL_DROP, drop), (BENCHMARK, bench))
                        if flag is not FALSE))
    attributes = (("benchmark", bench), ("nail", nail), ("at_risk", risk), ("level", level))
    logic = Logic(build.id, let.lets, label, Lit(None, FLOAT), attributes, tuple(reasons), tags=tags)
    tables = {"words": words, "levels": LEVEL_LABELS, "signals": {name: label for name, _c, label in setup.signals},
              "stage_values": build.value_words(None if isinstance(setup.stage, str) else setup.stage),
              "reason_values": build.value_words(setup.reason)}
    exclusive = tuple(tag for tag, on in ((BENCHMARK, bool(setup.indicators)), (NAIL, setup.nail_on)) if on)
    return Defined(logic, {**LABELS, **(build.value("labels", default={}) or {})}, readers=readers, tables=tables,
                   finish=_finish, conditional_tags=exclusive, about={**ABOUT, **(build.value("about", default={}) or {})})


SECTIONS = (AT_RISK, NAIL, BENCHMARK)


def _benchmark_logic(setup: _Setup, let: Bindings, reasons: list, blank) -> tuple[Expr, Expr]:
    """Every indicator at or above its threshold; false when a known one is under it,
    else missing when one is missing.  A benchmark's level is the ``level`` expression's,
    else the highest whose influence threshold it reaches, else surrounding."""
    section = ("section", lit(BENCHMARK))
    values = []
    for name, compiled, threshold in setup.indicators:
        value = let(f"indicator_{name}", compiled.code)
        values.append(value)
        indicator, at = ("indicator", lit(name)), lit(threshold)
        met = holds(Compare(">=", value, at))
        reasons += [Reason("portfolio.indicator_missing", (section, indicator, ("missing", TRUE),
                                                           ("fields", blank(compiled, value))), IsMissing(value)),
                    Reason("portfolio.met", (section, indicator, ("value", value), ("min", at)), met),
                    Reason("portfolio.unmet", (section, indicator, ("value", value), ("min", at)),
                           And((known(value), Not(met))))]
    under = tuple(Compare("<", value, lit(threshold)) for value, (_n, _c, threshold) in zip(values, setup.indicators))
    bench = let("benchmark", case((holds(Or(under)), FALSE), (Or(tuple(map(IsMissing, values))), UNDECIDED),
                                  default=TRUE))
    influence, is_bench = values[0], holds(bench)
    thresholds = [(name, lit(setup.levels[name])) for name in ("national", "provincial", "local")]
    by_influence = case(*((Compare(">=", influence, at), lit(name)) for name, at in thresholds), default=lit("surrounding"))
    given = let("level_given", setup.level.code) if setup.level is not None else None
    level = let("level", case((is_bench, by_influence if given is None else Coalesce((given, by_influence))),
                              default=Lit(None, STR)))
    reasons += [Reason("portfolio.benchmark_unknown", (section, ("decided", FALSE)), IsMissing(bench)),
                Reason("portfolio.benchmark_no", (section, ("benchmark", FALSE)), holds(Not(bench))),
                Reason("portfolio.benchmark_yes", (section, ("benchmark", TRUE)), is_bench)]
    from_influence = is_bench
    if given is not None:
        reasons.append(Reason("portfolio.level_given", (section, ("level", level), ("expr", lit(setup.level.source))),
                              And((is_bench, known(given)))))
        from_influence = And((is_bench, IsMissing(given)))
    surrounding = Compare("==", level, lit("surrounding"))
    reached = case(*((Compare("==", level, lit(name)), at) for name, at in thresholds))
    reasons += [Reason("portfolio.level_influence", (section, ("level", level), ("value", influence), ("min", reached)),
                       And((from_influence, Not(surrounding)))),
                Reason("portfolio.level_surrounding", (section, ("level", level), ("value", influence)),
                       And((from_influence, surrounding)))]
    return bench, level


def _nail_logic(setup: _Setup, let: Bindings, reasons: list, blank, bench: Expr, words: dict) -> tuple[Expr, Expr]:
    """A nail: a value at or above the cut and a long stalemate; not one when either is
    known to fail, undecided when either is missing; a nail whose known return is under
    ``min_value`` is dropped (nail_drop); a benchmark is neither unless both may stand."""
    section = ("section", lit(NAIL))
    value = let("value", setup.value.code)
    stalemate = let("stalemate", setup.stalemate.code)
    returns = value if setup.return_value is None else let("return", setup.return_value.code)
    kind, amount = setup.cut
    cut = percentile(let, "cut", value, amount) if kind == "percentile" else lit(amount)
    how, how_words = _how(setup.cut)
    words[how] = how_words
    high = Compare(">=", value, cut)
    decided = case((holds(Not(high)), FALSE), (holds(Not(stalemate)), FALSE),
                   (Or((IsMissing(high), IsMissing(stalemate))), UNDECIDED), default=TRUE)
    low_return = FALSE
    if setup.min_value is not None:
        low_return = holds(Compare("<", returns, lit(setup.min_value)))
    dropped = And((holds(decided), low_return))
    nail, drop = case((dropped, FALSE), default=decided), dropped
    if setup.exclusive and bench is not FALSE:  # a benchmark is no nail
        nail, drop = case((holds(bench), FALSE), default=nail), And((Not(holds(bench)), drop))
    nail, drop = let("nail", nail), let("nail_drop", drop)
    expr = ("expr", lit(setup.stalemate.source))
    reasons += [
        Reason("portfolio.value_missing", (section, ("missing", TRUE), ("fields", blank(setup.value, value))), IsMissing(value)),
        Reason("portfolio.value_high", (section, ("value", value), ("cut", cut), ("high", TRUE), ("how", lit(how))),
               holds(high)),
        Reason("portfolio.value_low", (section, ("value", value), ("cut", cut), ("high", FALSE), ("how", lit(how))),
               And((known(value), Not(holds(high))))),
        Reason("portfolio.stalemate_missing", (section, ("stalemate", UNDECIDED), ("fields", blank(setup.stalemate, stalemate))),
               IsMissing(stalemate)),
        Reason("portfolio.stalemate_yes", (section, ("stalemate", TRUE), expr), holds(stalemate)),
        Reason("portfolio.stalemate_no", (section, ("stalemate", FALSE), expr), holds(Not(stalemate))),
    ]
    engaged = Or((holds(nail), drop))
    if setup.min_value is not None:
        minimum = ("min_value", lit(setup.min_value))
        reasons += [
            Reason("portfolio.return_missing", (section, ("return", Lit(None, FLOAT)),
                                                ("fields", blank(setup.return_value or setup.value, returns))),
                   And((engaged, IsMissing(returns)))),
            Reason("portfolio.return_ok", (section, ("return", returns), minimum, ("nail_drop", FALSE)),
                   And((engaged, known(returns), Not(drop)))),
            Reason("portfolio.return_drop", (section, ("return", returns), minimum, ("nail_drop", TRUE)),
                   And((engaged, known(returns), drop))),
        ]
    pursued = And((engaged, Not(drop)))
    stage = lit(setup.stage) if isinstance(setup.stage, str) else let("stage", setup.stage.code)
    market = ("market_stage", stage)
    reasons += [
        Reason("portfolio.stage_early", (section, market), And((pursued, holds(Compare("==", stage, lit("early")))))),
        Reason("portfolio.stage_attack", (section, market), And((pursued, holds(In(stage, (lit("mid"), lit("late"))))))),
        Reason("portfolio.stage_other", (section, market),
               And((pursued, Not(holds(In(stage, tuple(map(lit, MARKET_STAGES)))))))),
    ]
    reason = let("reason", setup.reason.code) if setup.reason is not None else Lit(None, STR)
    reasons += [Reason(f"portfolio.{code}", (section, ("reason", lit(code))),
                       And((pursued, holds(Compare("==", reason, lit(code)))))) for code in NAIL_REASONS]
    reasons += [
        Reason("portfolio.reason_other", (section, ("reason", reason)),
               And((pursued, known(reason), Not(holds(In(reason, tuple(map(lit, NAIL_REASONS)))))))),
        Reason("portfolio.reason_missing", (section, ("reason", Lit(None, STR))), And((pursued, IsMissing(reason)))),
        Reason("portfolio.escalate", (section,), pursued),
    ]
    words.update(_joined(WHY, LIST_SEPARATOR))
    why = _chosen((("nail_low_value", holds(Compare("<", value, cut))), ("nail_no_stalemate", holds(Not(stalemate))),
                   ("nail_benchmark", holds(bench) if setup.exclusive else FALSE)))
    reasons += [
        Reason("portfolio.nail_drop", (section, ("nail", FALSE), ("nail_drop", TRUE)), drop),
        Reason("portfolio.nail_yes", (section, ("nail", TRUE), ("nail_drop", FALSE)), holds(nail)),
        Reason("portfolio.nail_unknown", (section, ("nail", UNDECIDED), ("nail_drop", FALSE)), IsMissing(nail)),
        Reason("portfolio.nail_no", (section, ("nail", FALSE), ("nail_drop", FALSE), ("why", why)),
               And((holds(Not(nail)), Not(drop)))),
    ]
    return nail, drop


def _risk_logic(setup: _Setup, let: Bindings, reasons: list, blank) -> Expr:
    """At risk when at least ``min_signals`` signals fire; undecided when every signal's
    input is missing; a missing signal counts as not fired."""
    section = ("section", lit(AT_RISK))
    signals = []
    for number, (name, compiled, _label) in enumerate(setup.signals):
        signal = let(f"signal_{number}", compiled.code)
        signals.append((name, signal))
        named, expr = ("signal", lit(name)), ("expr", lit(compiled.source))
        reasons += [
            Reason("portfolio.signal_missing", (section, named, ("fired", FALSE), ("missing_fields", blank(compiled, signal))),
                   IsMissing(signal)),
            Reason("portfolio.fired", (section, named, ("fired", TRUE), expr), holds(signal)),
            Reason("portfolio.quiet", (section, named, ("fired", FALSE), expr), holds(Not(signal))),
        ]
    fired = let("fired", total(*(case((holds(signal), lit(1)), default=lit(0)) for _name, signal in signals)))
    silent = And(tuple(IsMissing(signal) for _name, signal in signals)) if len(signals) > 1 else IsMissing(signals[0][1])
    risk = let("at_risk", case((Compare(">=", fired, lit(setup.min_signals)), TRUE), (silent, UNDECIDED), default=FALSE))
    counts = (("fired", fired), ("count", lit(len(signals))), ("min", lit(setup.min_signals)),
              ("signals_fired", Gather(tuple((holds(signal), lit(name)) for name, signal in signals))))
    reasons += [Reason("portfolio.risk_unknown", (section, ("decided", FALSE)), IsMissing(risk)),
                Reason("portfolio.risk_yes", (section, ("at_risk", TRUE), *counts), holds(risk)),
                Reason("portfolio.risk_no", (section, ("at_risk", FALSE), *counts), holds(Not(risk)))]
    return risk


def _finish(records: list[dict], outcome: tuple) -> None:
    """What a row's reasons show together: the fields an undecided verdict misses (those
    of the checks before it), the escalation path, and the signals fired as a list."""
    missing: list[str] = []
    for record in records:
        code = record["code"]
        if code == "portfolio.benchmark_unknown":
            record["fields"] = [f for r in records if r["code"] == "portfolio.indicator_missing" for f in r["fields"]]
        elif code == "portfolio.nail_unknown":
            record["missing_fields"] = list(dict.fromkeys(
                f for r in records if r["code"] in ("portfolio.value_missing", "portfolio.stalemate_missing") for f in r["fields"]))
        elif code == "portfolio.escalate":
            record["escalation"] = list(ESCALATION)
        elif code in ("portfolio.risk_yes", "portfolio.risk_no"):
            record["signals_fired"] = list(record["signals_fired"])
        elif code == "portfolio.unknown":
            missing = [f for r in records if r["code"] in ("portfolio.indicator_missing", "portfolio.value_missing",
                                                            "portfolio.stalemate_missing") for f in r["fields"]]
            missing += record.pop("return_fields", None) or []
            missing += [f for r in records if r["code"] == "portfolio.signal_missing" for f in r["missing_fields"]]
            record["missing_fields"] = list(dict.fromkeys(missing))



# -- config ---------------------------------------------------------------------------


class _Setup:
    """What the config decides once: the compiled pieces and the constants of the rules."""

    def __init__(self):
        self.indicators: list[tuple[str, Compiled, float]] = []
        self.level: Compiled | None = None
        self.levels = dict(DEFAULT_LEVELS)
        self.nail_on = False
        self.value: Compiled | None = None
        self.cut: tuple = ("percentile", 0.8)
        self.stalemate: Compiled | None = None
        self.return_value: Compiled | None = None
        self.min_value = None
        self.reason: Compiled | None = None
        self.stage: Compiled | str = "mid"
        self.signals: list[tuple[str, Compiled, object]] = []
        self.min_signals = 1
        self.exclusive = True  # a benchmark is no nail (benchmark_and_nail: false)


def _configure(build: IrBuild) -> _Setup:
    """The scheme's pieces from its config."""
    setup = _Setup()
    if build.value("benchmark") is not False:
        _benchmark(build, setup)
    if build.value("nail") is not False:
        _nail(build, setup)
    if build.value("at_risk") is not False:
        _at_risk(build, setup)
    if not (setup.indicators or setup.nail_on or setup.signals) and not build.diagnostics:
        build.error("benchmark, nail and at_risk are all turned off: the scheme has nothing to tag")
    setup.exclusive = not build.value("benchmark_and_nail", default=False)
    return setup



def _benchmark(build: IrBuild, setup: _Setup) -> None:
    for name in INDICATORS:
        given = build.value("benchmark", name)
        if isinstance(given, str):
            compiled, threshold = build.number("benchmark", name), 70.0
        else:
            given = given or {}
            threshold = float(given.get("min", 70))
            if "value" in given:
                compiled = build.number("benchmark", name, "value")
            elif build.compiles(name, ("number", "integer")):
                compiled = build.expression("benchmark", name, "value", source=name)
            else:
                build.error(f"benchmark.{name}: no value given and there is no field {name!r}", "benchmark",
                            hint=f"declare {name}, set benchmark: {{{name}: <expression>}}, or benchmark: false")
                compiled = None
        setup.indicators.append((name, compiled, threshold))
    if build.value("benchmark", "level") is not None:
        setup.level = build.expression("benchmark", "level", expect=("string",))
    setup.levels.update(build.value("benchmark", "levels", default={}) or {})
    thresholds = [setup.levels[level] for level in ("national", "provincial", "local")]
    if thresholds != sorted(thresholds, reverse=True):
        build.error("benchmark.levels must fall from national to provincial to local", "benchmark", "levels")


def _nail(build: IrBuild, setup: _Setup) -> None:
    setup.nail_on = True
    config = build.value("nail", default={}) or {}
    if "value" in config:
        setup.value = build.number("nail", "value")
    else:
        text = next((t for t in ("revenue_potential", "annual_procurement") if build.compiles(t, ("number", "integer"))), None)
        if text is None:
            build.error("nail.value: no value given and neither revenue_potential nor annual_procurement is a field", "nail",
                        hint="declare one, set nail: {value: <expression>}, or nail: false")
        else:
            setup.value = build.expression("nail", "value", source=text)
    setup.cut = build.cut(config.get("value_cut", "p80"), "nail", "value_cut")
    days, share = config.get("stalemate_days", 180), config.get("max_share", 0.1)
    if "stalemate" in config:
        setup.stalemate = build.condition("nail", "stalemate")
    else:
        parts = [t for t in (f"stalemate_days >= {days}", f"share_of_wallet < {share!r} and tenure_days >= {days}")
                 if build.compiles(t, ("boolean",))]
        if not parts:
            build.error("nail.stalemate: no condition given and neither stalemate_days nor share_of_wallet and tenure_days "
                        "are declared", "nail", hint="declare them, set nail: {stalemate: <condition>}, or nail: false")
        else:
            setup.stalemate = build.expression("nail", "stalemate", source=" or ".join(parts))
    if "return_value" in config:
        setup.return_value = build.number("nail", "return_value")
    setup.min_value = config.get("min_value")
    if "reason" in config:
        setup.reason = build.expression("nail", "reason", expect=("string",))
    else:
        text = next((t for t in ("nail_reason", "reason") if build.compiles(t, ("string",))), None)
        setup.reason = build.expression("nail", "reason", source=text) if text else None
    stage = config.get("market_stage")
    if stage in MARKET_STAGES:
        setup.stage = stage
    elif stage is not None:
        setup.stage = build.expression("nail", "market_stage", expect=("string",))
    elif build.compiles("market_stage", ("string",)):
        setup.stage = build.expression("nail", "market_stage", source="market_stage")


def _at_risk(build: IrBuild, setup: _Setup) -> None:
    given = build.value("at_risk", "signals", default={}) or {}
    setup.min_signals = build.value("at_risk", "min_signals", default=1)
    for name, (candidates, label) in DEFAULT_SIGNALS.items():
        if name in given:
            continue
        text = next((t for t in candidates if build.compiles(t, ("boolean",))), None)
        if text is not None:
            setup.signals.append((name, build.expression("at_risk", "signals", name, source=text), label))
    for name, signal in given.items():
        if signal is False:
            continue
        key = ("at_risk", "signals", name) + (("when",) if isinstance(signal, dict) else ())
        label = signal.get("label", DEFAULT_SIGNALS.get(name, (None, name))[1]) if isinstance(signal, dict) else \
            DEFAULT_SIGNALS.get(name, (None, name))[1]
        setup.signals.append((name, build.condition(*key), label))
    if not setup.signals:
        fields = "revenue_trend, days_since_visit or last_visit_date, complaints_90d, competitor_contact"
        build.error(f"at_risk: no signals; none of the default signals' fields is declared ({fields})", "at_risk",
                    hint="declare some, set at_risk: {signals: {id: <condition>}}, or at_risk: false")
    elif setup.min_signals > len(setup.signals):
        build.error(f"at_risk.min_signals is {setup.min_signals} but there are only {len(setup.signals)} signals",
                    "at_risk", "min_signals")


@hookimpl
def tierkit_scheme_kinds(register):
    attributes = (("benchmark", "boolean"), ("nail", "boolean"), ("at_risk", "boolean"), ("level", "string"))
    register(logic_kind("portfolio", __doc__, CONFIG_SCHEMA, LogicKind(define, TEMPLATES, attributes)))
