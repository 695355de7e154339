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


from tierkit.build import CompiledScheme, ConfigBuild, SchemeBuild
from tierkit.expr import Compiled
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize, show_number
from tierkit.population import percentile_cont
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

AT_RISK, NAIL, BENCHMARK, NONE, UNKNOWN, NAIL_DROP = "at_risk", "nail", "benchmark", "none", "unknown", "nail_drop"
INDICATORS = ("influence", "satisfaction", "cooperation")
LEVELS = ("national", "provincial", "local", "surrounding")
MARKET_STAGES = ("early", "mid", "late")
NAIL_REASONS = ("no_trust", "competitor_offer", "internal_conflict")
NO_VALUE = Compiled("", "None", "any", True, frozenset())


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

WORDS = {
    "en": {
        "met": "{name}: {value} ≥ {min}",
        "unmet": "{name}: {value} < {min}",
        "missing": "{name}: missing ({fields})",
        "benchmark_yes": "benchmark: all three at or above their thresholds",
        "benchmark_no": "not a benchmark: all three of influence, satisfaction and cooperation are needed",
        "benchmark_unknown": "benchmark: cannot tell, {fields} missing",
        "level_given": "benchmark level {level} (from {expr})",
        "level_influence": "benchmark level {level}: influence {value} ≥ {min}",
        "level_surrounding": "benchmark level {level}: influence {value} under every level threshold",
        "value_high": "value {value} ≥ {cut} ({how}): high value",
        "value_low": "value {value} < {cut} ({how}): not high value",
        "value_missing": "value: missing ({fields})",
        "stalemate_yes": "stalemate: {expr} holds",
        "stalemate_no": "no long stalemate: {expr} does not hold",
        "stalemate_missing": "stalemate: cannot tell, {fields} missing",
        "nail_yes": "nail: high value and a long stalemate",
        "nail_no": "not a nail: {why}",
        "nail_benchmark": "a benchmark account",
        "nail_low_value": "value below the cut",
        "nail_no_stalemate": "no long stalemate",
        "nail_drop": "nail, but the return is too low: no-go (nail_drop)",
        "nail_unknown": "nail: cannot tell, {fields} missing",
        "return_ok": "value check: return {value} ≥ {min}, worth pursuing",
        "return_drop": "value check: return {value} < {min}, a low-return nail: drop it (nail_drop)",
        "return_missing": "value check: return unknown ({fields}); assess the return first",
        "stage_early": "stage: early market; take the easy high-value customers first, this nail can wait",
        "stage_attack": "stage: {stage} market; attack this nail",
        "stage_other": "stage: market stage {stage!s} not known; early markets take easy customers first, mid/late markets attack nails",
        "no_trust": "reason: no trust in us; build credibility with references, trials and senior visits",
        "competitor_offer": "reason: a competitor's better offer; counter on value, service and terms",
        "internal_conflict": "reason: internal conflict at the customer; map the decision chain and find a sponsor",
        "reason_other": "reason: {reason}",
        "reason_missing": "reason not known: find out first (no trust, a competitor's offer, internal conflict?)",
        "escalate": "escalate when stuck: rep → supervisor → regional manager",
        "fired": "signal {name}: {expr} fired",
        "quiet": "signal {name}: {expr} did not fire",
        "signal_missing": "signal {name}: {fields} missing; counted as not fired",
        "risk_yes": "at risk: {fired} of {count} signals fired (at least {min} needed)",
        "risk_no": "not at risk: {fired} of {count} signals fired (at least {min} needed)",
        "risk_unknown": "at risk: cannot tell, every signal's input is missing",
        "unknown": "no tag carried and {sections} could not be decided → unknown",
        "none": "no tag carried",
        "benchmark": "benchmark", "nail": "nail", "at_risk": "at-risk",
        "influence": "influence", "satisfaction": "satisfaction", "cooperation": "cooperation",
        "fixed": "fixed cut", "median": "population median", "percentile": "{p:g}th percentile of the population",
    },
    "zh": {
        "met": "{name}：{value} ≥ {min}",
        "unmet": "{name}：{value} < {min}",
        "missing": "{name}：缺失（{fields}）",
        "benchmark_yes": "标杆：影响力、满意度、配合度均达到门槛",
        "benchmark_no": "不是标杆：影响力、满意度、配合度三者缺一不可",
        "benchmark_unknown": "标杆：无法判断，缺少 {fields}",
        "level_given": "标杆级别：{level}（来自 {expr}）",
        "level_influence": "标杆级别：{level}，影响力 {value} ≥ {min}",
        "level_surrounding": "标杆级别：{level}，影响力 {value} 低于各级门槛",
        "value_high": "价值 {value} ≥ {cut}（{how}）：高价值",
        "value_low": "价值 {value} < {cut}（{how}）：非高价值",
        "value_missing": "价值：缺失（{fields}）",
        "stalemate_yes": "僵持：{expr} 成立",
        "stalemate_no": "未长期僵持：{expr} 不成立",
        "stalemate_missing": "僵持：无法判断，缺少 {fields}",
        "nail_yes": "钉子：高价值且长期僵持",
        "nail_no": "不是钉子：{why}",
        "nail_benchmark": "已是标杆客户",
        "nail_low_value": "价值低于分界",
        "nail_no_stalemate": "未长期僵持",
        "nail_drop": "是钉子，但回报太低：不攻坚（nail_drop）",
        "nail_unknown": "钉子：无法判断，缺少 {fields}",
        "return_ok": "价值评估：回报 {value} ≥ {min}，值得攻坚",
        "return_drop": "价值评估：回报 {value} < {min}，低回报的钉子客户，放弃（nail_drop）",
        "return_missing": "价值评估：回报未知（{fields}），先评估回报",
        "stage_early": "阶段：市场早期，先拿容易的高价值客户，此钉子可暂缓",
        "stage_attack": "阶段：市场{stage}，攻坚此钉子客户",
        "stage_other": "阶段：市场阶段 {stage!s} 未知；早期先拿容易的客户，中后期攻坚钉子",
        "no_trust": "原因：不信任我们；以案例、试用和高层拜访建立信任",
        "competitor_offer": "原因：竞争对手条件更好；在价值、服务和条款上反击",
        "internal_conflict": "原因：客户内部矛盾；梳理决策链，找到支持者",
        "reason_other": "原因：{reason}",
        "reason_missing": "原因未知：先查明（不信任、竞争对手条件、内部矛盾？）",
        "escalate": "僵持不下时逐级升级：销售 → 主管 → 区域经理",
        "fired": "信号 {name}：{expr} 触发",
        "quiet": "信号 {name}：{expr} 未触发",
        "signal_missing": "信号 {name}：缺少 {fields}，按未触发处理",
        "risk_yes": "危险：{count} 个信号中 {fired} 个触发（至少需要 {min} 个）",
        "risk_no": "不危险：{count} 个信号中 {fired} 个触发（至少需要 {min} 个）",
        "risk_unknown": "危险：无法判断，所有信号的数据都缺失",
        "unknown": "未带任何标签，且 {sections} 无法判断 → 未知",
        "none": "未带任何标签",
        "benchmark": "标杆", "nail": "钉子", "at_risk": "危险",
        "influence": "影响力", "satisfaction": "满意度", "cooperation": "配合度",
        "fixed": "固定分界", "median": "全体中位数", "percentile": "全体第 {p:g} 百分位",
    },
}
STAGE_WORDS = {"en": {"mid": "mid", "late": "late"}, "zh": {"mid": "中期", "late": "后期"}}


# -- compile --------------------------------------------------------------------------


class _Setup:
    """What compile decides once: the compiled pieces and the constants of the rules."""

    def __init__(self):
        self.indicators: list[tuple[str, Compiled, float]] = []
        self.level: Compiled | None = None
        self.levels = dict(DEFAULT_LEVELS)
        self.nail_on = False
        self.value = NO_VALUE
        self.cut: tuple = ("percentile", 0.8)
        self.stalemate = NO_VALUE
        self.return_value: Compiled | None = None
        self.min_value = None
        self.reason: Compiled | None = None
        self.stage: Compiled | str = "mid"
        self.signals: list[tuple[str, Compiled, object]] = []
        self.min_signals = 1
        self.exclusive = True  # a benchmark is no nail (benchmark_and_nail: false)
        self.vocabulary = Vocabulary()  # the ruleset's labels, for reasons in words


def _configure(build: ConfigBuild, reasons: bool = True) -> _Setup:
    """The scheme's pieces from its config, for either back end; ``reasons=False`` leaves
    out what only the reasons use (the nail's reason and market stage)."""
    setup = _Setup()
    setup.vocabulary = build.vocabulary
    if build.value("benchmark") is not False:
        _benchmark(build, setup)
    if build.value("nail") is not False:
        _nail(build, setup, reasons)
    if build.value("at_risk") is not False:
        _at_risk(build, setup)
    if not (setup.indicators or setup.nail_on or setup.signals) and not build.diagnostics:
        build.error("benchmark, nail and at_risk are all turned off: the scheme has nothing to tag")
    setup.exclusive = not build.value("benchmark_and_nail", default=False)
    return setup


def compile_portfolio(build: SchemeBuild) -> CompiledScheme:
    setup = _configure(build)
    lines: list[str] = []

    def value_line(compiled: Compiled | None) -> str:
        """A local holding the expression's value for this customer (None when there is none)."""
        local = build.temp()
        lines.append(f"{local} = {'None' if compiled is None else compiled.code}")
        return local

    indicator_values = [value_line(compiled) for _, compiled, _ in setup.indicators]
    level = value_line(setup.level)
    value = value_line(setup.value if setup.nail_on else None)
    stalemate = value_line(setup.stalemate if setup.nail_on else None)
    returns = value if setup.nail_on and setup.return_value is None else value_line(setup.return_value)
    reason = value_line(setup.reason)
    stage = value_line(setup.stage) if isinstance(setup.stage, Compiled) else repr(setup.stage)
    signals = [value_line(compiled) for _, compiled, _ in setup.signals]

    watched = list(zip(indicator_values, (compiled for _, compiled, _ in setup.indicators)))
    if setup.nail_on:
        watched += [(value, setup.value), (stalemate, setup.stalemate)]
        if setup.return_value is not None:
            watched.append((returns, setup.return_value))
    watched += list(zip(signals, (compiled for _, compiled, _ in setup.signals)))
    missing = build.temp()
    if watched:
        any_missing = " or ".join(f"{v} is None" for v, _ in watched)
        names = " + ".join(f"({build.missing_names(c)} if {v} is None else ())" for v, c in watched)
        lines.append(f"{missing} = ({names}) if {any_missing} else ()")
    else:
        lines.append(f"{missing} = ()")
    facts_code = (f"(({''.join(f'{v}, ' for v in indicator_values)}), {level}, {value}, {stalemate}, {returns}, "
                  f"{reason}, {stage}, ({''.join(f'{s}, ' for s in signals)}), {missing})")
    finish = _finisher(setup)
    if setup.nail_on and setup.cut[0] == "percentile":
        facts = build.slot("facts")
        lines.append(f"{facts.local} = {facts_code}")
        build.row(lines, [facts])
        build.population(_cut_step(facts.index, build.outcome.index, setup.cut[1], finish), "nail value cut")
    else:
        cut = build.constant(setup.cut[1] if setup.nail_on else None)
        lines.append(f"{build.outcome.local} = {build.constant(finish)}({facts_code}, {cut})")
        build.row(lines, [build.outcome])

    labels = {**LABELS, **(build.value("labels", default={}) or {})}
    about = {**ABOUT, **(build.value("about", default={}) or {})}
    # at-risk stacks on either by design (the label shows it first); benchmark and nail exclude each other
    exclusive = tuple(tag for tag, on in ((BENCHMARK, bool(setup.indicators)), (NAIL, setup.nail_on)) if on)
    return CompiledScheme(explain=_explainer(setup, labels), labels=labels, about=about, conditional_tags=exclusive)


def _benchmark(build: ConfigBuild, setup: _Setup) -> None:
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
                compiled = NO_VALUE
        setup.indicators.append((name, compiled, threshold))
    if build.value("benchmark", "level") is not None:
        setup.level = build.expression("benchmark", "level", expect=("string",))
    setup.levels.update(build.value("benchmark", "levels", default={}) or {})
    thresholds = [setup.levels[level] for level in ("national", "provincial", "local")]
    if thresholds != sorted(thresholds, reverse=True):
        build.error("benchmark.levels must fall from national to provincial to local", "benchmark", "levels")


def _nail(build: ConfigBuild, setup: _Setup, reasons: bool = True) -> None:
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
    if not reasons:
        return
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


def _at_risk(build: ConfigBuild, setup: _Setup) -> None:
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


# -- evaluate -------------------------------------------------------------------------


def _finisher(setup: _Setup):
    """The outcome of one customer from its facts and the nail value cut.

    Detail: (benchmark, nail, at_risk, level, facts, cut, nail_drop); the three flags
    are true, false, or None when undecided.
    """
    thresholds = [threshold for _, _, threshold in setup.indicators]
    bench_on, nail_on, risk_on = bool(setup.indicators), setup.nail_on, bool(setup.signals)
    levels = [(setup.levels[level], level) for level in ("national", "provincial", "local")]
    min_value, min_signals, exclusive = setup.min_value, setup.min_signals, setup.exclusive
    outcomes: dict[tuple, tuple] = {}
    for risk in (True, False, None):
        for nail in (True, False, None):
            for drop in (True, False):
                for bench in (True, False, None):
                    tags = tuple(tag for tag, on in ((AT_RISK, risk), (NAIL, nail), (NAIL_DROP, drop), (BENCHMARK, bench)) if on)
                    carried = [tag for tag in tags if tag != NAIL_DROP]
                    label = carried[0] if carried else (UNKNOWN if None in (risk, nail, bench) else NONE)
                    outcomes[risk, nail, drop, bench] = (label, tags)

    def finish(facts: tuple, cut) -> tuple:
        indicators, given_level, value, stalemate, returns, _reason, _stage, signals, _missing = facts
        bench = False
        if bench_on:
            bench = True
            for indicator, threshold in zip(indicators, thresholds):
                if indicator is None:
                    bench = None
                elif indicator < threshold:
                    bench = False
                    break
        level = None
        if bench:
            level = given_level
            if level is None:
                level = next((name for threshold, name in levels if indicators[0] >= threshold), "surrounding")
        nail, drop = False, False
        if nail_on:
            high = None if value is None or cut is None else value >= cut
            if high is False or stalemate is False:
                nail = False
            elif high is None or stalemate is None:
                nail = None
            else:
                nail = bool(stalemate)
                if nail and min_value is not None and returns is not None and returns < min_value:
                    nail, drop = False, True
            if bench and exclusive:
                nail, drop = False, False
        risk = False
        if risk_on:
            fired = sum(1 for signal in signals if signal)
            if fired >= min_signals:
                risk = True
            elif all(signal is None for signal in signals):
                risk = None
        label, tags = outcomes[risk, nail, drop, bench]
        return (label, None, tags, (bench, nail, risk, level, facts, cut, drop))

    return finish


def _cut_step(facts_slot: int, out: int, fraction: float, finish):
    def run(rows: list[list]) -> None:
        cut = percentile_cont([row[facts_slot][2] for row in rows], fraction)
        for row in rows:
            row[out] = finish(row[facts_slot], cut)

    return run


# -- SQL ------------------------------------------------------------------------------


def compile_portfolio_sql(build) -> None:
    """The SQL twin of :func:`compile_portfolio` and :func:`_finisher`: the same label,
    tags and attributes (benchmark, nail, at_risk, level) for every customer, the flags
    true, false or NULL when undecided.  ``build`` is a :class:`tierkit.sqlbuild.SqlBuild`.

    The inputs are columns; the flags are written inline into the outcome, so a scheme
    adds one layer to the query (two more for a percentile cut): every layer is a level
    of nesting Spark's analyzer has to work through."""
    setup = _configure(build, reasons=False)
    if any(d.severity == "error" for d in build.diagnostics):
        return  # the plan reports them; there is nothing sound to compile
    literal = build.literal
    indicators = [build.column(name, compiled.code) for name, compiled, _ in setup.indicators]
    given_level = build.column("given_level", setup.level.code) if setup.indicators and setup.level is not None else None
    signals = [build.column(f"signal_{number}", compiled.code) for number, (_, compiled, _) in enumerate(setup.signals)]
    bench = _benchmark_sql(build, setup, indicators) if setup.indicators else "FALSE"
    risk = _risk_sql(build, setup, signals) if setup.signals else "FALSE"
    nail = drop = "FALSE"
    if setup.nail_on:
        state = _nail_state_sql(build, setup)
        nail = f"(CASE {state} WHEN 1 THEN TRUE WHEN 0 THEN FALSE WHEN 2 THEN FALSE END)"
        drop = f"COALESCE({state} = 2, FALSE)"
        if setup.exclusive and bench != "FALSE":  # a benchmark is no nail
            nail = f"(CASE WHEN {bench} THEN FALSE ELSE {nail} END)"
            drop = f"(CASE WHEN {bench} THEN FALSE ELSE {drop} END)"
    level = "NULL"
    if setup.indicators:
        influence = indicators[0]
        by_influence = " ".join(f"WHEN {influence} >= {literal(setup.levels[name])} THEN {literal(name)}"
                                for name in ("national", "provincial", "local"))
        level = f"CASE {by_influence} ELSE {literal('surrounding')} END"
        if given_level is not None:
            level = f"COALESCE({given_level}, {level})"
        level = f"CASE WHEN {bench} THEN {level} END"
    # the label: the first tag carried, else unknown when a section is undecided
    carried = [(tag, flag) for tag, flag in ((AT_RISK, risk), (NAIL, nail), (BENCHMARK, bench)) if flag != "FALSE"]
    label = " ".join(f"WHEN {flag} THEN {literal(tag)}" for tag, flag in carried)
    unknown = " OR ".join(f"{flag} IS NULL" for _, flag in carried)
    label = f"CASE {label} WHEN {unknown} THEN {literal(UNKNOWN)} ELSE {literal(NONE)} END"
    tags = [f"CASE WHEN {flag} THEN {literal(tag)} END"
            for tag, flag in ((AT_RISK, risk), (NAIL, nail), (NAIL_DROP, drop), (BENCHMARK, bench)) if flag != "FALSE"]
    dialect = build.dialect
    build.outcome(label=label, tags=dialect.list_without_nulls(dialect.list_of(tags)),
                  benchmark=bench, nail=nail, at_risk=risk, level=level)


def _benchmark_sql(build, setup: _Setup, indicators: list[str]) -> str:
    """The benchmark flag: false when a known indicator is under its threshold, else NULL
    when one is missing, else true."""
    thresholds = [threshold for _, _, threshold in setup.indicators]
    under = " OR ".join(f"{value} < {build.literal(threshold)}" for value, threshold in zip(indicators, thresholds))
    missing = " OR ".join(f"{value} IS NULL" for value in indicators)
    return f"(CASE WHEN {under} THEN FALSE WHEN {missing} THEN NULL ELSE TRUE END)"


def _risk_sql(build, setup: _Setup, signals: list[str]) -> str:
    """The at-risk flag: true when at least min_signals signals fire, else NULL when every
    signal's input is missing, else false."""
    fired = " + ".join(f"CASE WHEN {signal} THEN 1 ELSE 0 END" for signal in signals)
    silent = " AND ".join(f"{signal} IS NULL" for signal in signals)
    return f"(CASE WHEN {fired} >= {build.literal(setup.min_signals)} THEN TRUE WHEN {silent} THEN NULL ELSE FALSE END)"


def _nail_state_sql(build, setup: _Setup) -> str:
    """The nail state: 0 not a nail (no stalemate, or a known value under a known cut),
    NULL undecided (value, cut or stalemate missing), 2 a nail whose known return is
    under min_value (nail_drop), 1 a nail."""
    value = build.column("value", setup.value.code)
    stalemate = build.column("stalemate", setup.stalemate.code)
    returns = value if setup.return_value is None else build.column("return", setup.return_value.code)
    kind, amount = setup.cut
    cut = build.percentile("value", setup.value.code, amount) if kind == "percentile" else build.literal(amount)
    low = "FALSE" if setup.min_value is None else f"{returns} IS NOT NULL AND {returns} < {build.literal(setup.min_value)}"
    # NOT (value >= cut) is NULL, so not taken, when either is missing
    return (f"(CASE WHEN {stalemate} = FALSE THEN 0 WHEN NOT ({value} >= {cut}) THEN 0 "
            f"WHEN {value} IS NULL OR {cut} IS NULL OR {stalemate} IS NULL THEN NULL WHEN {low} THEN 2 ELSE 1 END)")


# -- explain --------------------------------------------------------------------------


def _explainer(setup: _Setup, labels: dict):
    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, _score, _tags, (bench, nail, risk, level, facts, cut, drop) = outcome
        indicators, given, value, stalemate, returns, reason, stage, signals, missing = facts
        reasons: list[dict] = []
        if setup.indicators:
            reasons += _benchmark_reasons(words, lang, setup, bench, level, given, indicators, missing)
        if setup.nail_on:
            reasons += _nail_reasons(words, lang, setup, nail, drop, value, cut, stalemate, returns, reason, stage, missing, bench)
        if setup.signals:
            reasons += _risk_reasons(words, lang, setup, risk, signals, missing)
        if label == UNKNOWN:
            undecided = [words[section] for section, flag in ((AT_RISK, risk), (NAIL, nail), (BENCHMARK, bench)) if flag is None]
            reasons.append({"unknown": True, "missing_fields": list(dict.fromkeys(missing)),
                            "text": words["unknown"].format(sections=", ".join(undecided))})
        elif label == NONE:
            reasons.append({"text": words["none"]})
        return reasons

    return explain


def _benchmark_reasons(words, lang, setup, bench, level, given_level, indicators, missing) -> list[dict]:
    reasons = []
    for (name, compiled, threshold), value in zip(setup.indicators, indicators):
        shown = words[name]
        if value is None:
            fields = setup.vocabulary.blank_of(missing, compiled)
            reasons.append({"section": BENCHMARK, "indicator": name, "missing": True, "fields": fields,
                            "text": words["missing"].format(name=shown, fields=setup.vocabulary.names(fields, lang))})
        else:
            key = "met" if value >= threshold else "unmet"
            reasons.append({"section": BENCHMARK, "indicator": name, "value": value, "min": threshold,
                            "text": words[key].format(name=shown, value=show_number(value), min=show_number(threshold))})
    if bench is None:
        fields = [f for (_, c, _), v in zip(setup.indicators, indicators) if v is None for f in setup.vocabulary.blank_of(missing, c)]
        reasons.append({"section": BENCHMARK, "decided": False, "text": words["benchmark_unknown"].format(fields=setup.vocabulary.names(fields, lang))})
    elif not bench:
        reasons.append({"section": BENCHMARK, "benchmark": False, "text": words["benchmark_no"]})
    else:
        reasons.append({"section": BENCHMARK, "benchmark": True, "text": words["benchmark_yes"]})
        reasons.append(_level_reason(words, lang, setup, level, given_level, indicators[0]))
    return reasons


def _level_reason(words, lang, setup, level, given_level, influence) -> dict:
    shown = localize(LEVEL_LABELS.get(level, level), lang)
    record = {"section": BENCHMARK, "level": level}
    if given_level is not None:
        return {**record, "text": words["level_given"].format(level=shown, expr=setup.vocabulary.say(setup.level.source, lang))}
    threshold = next((setup.levels[name] for name in ("national", "provincial", "local") if name == level), None)
    if threshold is None:
        return {**record, "text": words["level_surrounding"].format(level=shown, value=show_number(influence))}
    return {**record, "text": words["level_influence"].format(level=shown, value=show_number(influence), min=show_number(threshold))}


def _nail_reasons(words, lang, setup, nail, drop, value, cut, stalemate, returns, reason, stage, missing, bench) -> list[dict]:
    """The value and stalemate checks, a nail's return check and playbook (stage, reason,
    escalation), then the verdict: nail, not a nail (and why), a low-return nail
    dropped, or undecided (and what is missing)."""
    reasons = _nail_checks(words, lang, setup, nail, drop, value, cut, stalemate, returns, reason, stage, missing)
    verdict = {"section": NAIL, "nail": nail, "nail_drop": drop}
    if drop:
        return [*reasons, {**verdict, "text": words["nail_drop"]}]
    if nail:
        return [*reasons, {**verdict, "text": words["nail_yes"]}]
    if nail is None:
        fields = list(dict.fromkeys([*(setup.vocabulary.blank_of(missing, setup.value) if value is None else ()),
                                     *(setup.vocabulary.blank_of(missing, setup.stalemate) if stalemate is None else ())]))
        return [*reasons, {**verdict, "missing_fields": fields, "text": words["nail_unknown"].format(fields=setup.vocabulary.names(fields, lang))}]
    why = [words[key] for key, failed in (("nail_low_value", value is not None and cut is not None and value < cut),
                                          ("nail_no_stalemate", stalemate is not None and not stalemate),
                                          ("nail_benchmark", bool(bench) and setup.exclusive)) if failed]
    separator = "，" if lang == "zh" else "; "
    return [*reasons, {**verdict, "text": words["nail_no"].format(why=separator.join(why))}]


def _nail_checks(words, lang, setup, nail, drop, value, cut, stalemate, returns, reason, stage, missing) -> list[dict]:
    reasons = []
    if value is None:
        fields = setup.vocabulary.blank_of(missing, setup.value)
        reasons.append({"section": NAIL, "missing": True, "fields": fields, "text": words["value_missing"].format(fields=setup.vocabulary.names(fields, lang))})
    else:
        high = cut is not None and value >= cut
        reasons.append({"section": NAIL, "value": value, "cut": cut, "high": high,
                        "text": words["value_high" if high else "value_low"].format(value=show_number(value), cut=show_number(cut),
                                                                                     how=_how(words, setup.cut))})
    if stalemate is None:
        fields = setup.vocabulary.blank_of(missing, setup.stalemate)
        reasons.append({"section": NAIL, "stalemate": None, "fields": fields,
                        "text": words["stalemate_missing"].format(fields=setup.vocabulary.names(fields, lang))})
    else:
        reasons.append({"section": NAIL, "stalemate": bool(stalemate),
                        "text": words["stalemate_yes" if stalemate else "stalemate_no"].format(expr=setup.vocabulary.say(setup.stalemate.source, lang))})
    if not (nail or drop):
        return reasons
    if setup.min_value is not None:
        if returns is None:
            fields = setup.vocabulary.blank_of(missing, setup.return_value or setup.value)
            reasons.append({"section": NAIL, "return": None, "text": words["return_missing"].format(fields=setup.vocabulary.names(fields, lang))})
        else:
            reasons.append({"section": NAIL, "return": returns, "min_value": setup.min_value, "nail_drop": drop,
                            "text": words["return_drop" if drop else "return_ok"].format(value=show_number(returns), min=show_number(setup.min_value))})
    if drop:
        return reasons
    if stage == "early":
        text = words["stage_early"]
    elif stage in ("mid", "late"):
        text = words["stage_attack"].format(stage=STAGE_WORDS.get(lang, STAGE_WORDS["en"])[stage])
    else:
        text = words["stage_other"].format(stage=setup.vocabulary.value(getattr(setup.stage, 'source', None), stage, lang))
    reasons.append({"section": NAIL, "market_stage": stage, "text": text})
    if reason in NAIL_REASONS:
        reasons.append({"section": NAIL, "reason": reason, "text": words[reason]})
    elif reason is not None:
        reasons.append({"section": NAIL, "reason": reason, "text": words["reason_other"].format(reason=setup.vocabulary.value(setup.reason.source, reason, lang))})
    else:
        reasons.append({"section": NAIL, "reason": None, "text": words["reason_missing"]})
    reasons.append({"section": NAIL, "escalation": ["rep", "supervisor", "regional_manager"], "text": words["escalate"]})
    return reasons


def _risk_reasons(words, lang, setup, risk, signals, missing) -> list[dict]:
    reasons = []
    for (name, compiled, label), result in zip(setup.signals, signals):
        shown = localize(label, lang)
        if result is None:
            fields = setup.vocabulary.blank_of(missing, compiled)
            reasons.append({"section": AT_RISK, "signal": name, "fired": False, "missing_fields": fields,
                            "text": words["signal_missing"].format(name=shown, fields=setup.vocabulary.names(fields, lang))})
        else:
            reasons.append({"section": AT_RISK, "signal": name, "fired": bool(result),
                            "text": words["fired" if result else "quiet"].format(name=shown, expr=setup.vocabulary.say(compiled.source, lang))})
    fired = sum(1 for result in signals if result)
    if risk is None:
        reasons.append({"section": AT_RISK, "decided": False, "text": words["risk_unknown"]})
    else:
        reasons.append({"section": AT_RISK, "at_risk": risk, "signals_fired": [n for (n, _, _), r in zip(setup.signals, signals) if r],
                        "text": words["risk_yes" if risk else "risk_no"].format(fired=fired, count=len(signals), min=setup.min_signals)})
    return reasons


def _how(words: dict, cut: tuple) -> str:
    kind, amount = cut
    if kind == "value":
        return words["fixed"]
    if amount == 0.5:
        return words["median"]
    return words["percentile"].format(p=round(amount * 100, 6))


# -- helpers --------------------------------------------------------------------------


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("portfolio", __doc__, CONFIG_SCHEMA, compile_portfolio, compile_sql=compile_portfolio_sql,
                              attributes={"benchmark": ("boolean", 0), "nail": ("boolean", 1), "at_risk": ("boolean", 2),
                                          "level": ("string", 3)})
    )
