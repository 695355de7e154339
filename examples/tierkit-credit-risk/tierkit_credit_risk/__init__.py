"""The ``credit_risk`` scheme kind: credit risk from payment behaviour (信用风险).

Ranking weighs risk beside value: a big order that is never paid is a risk, not a key
account.  Three signals each give a level, low (低风险), medium (中风险), high
(高风险) or blocked (停止赊销), and the worst level known is the outcome.  A value at
a cut takes that cut's level.

- **Overdue ratio**: ``overdue_ratio(overdue, revenue)``, overdue receivables as a
  share of revenue (0 when nothing is overdue; 1 when something is overdue and there
  is no revenue; at most 1).  Medium from 0.05, high from 0.15, blocked from 0.30.
- **Days late**: average days to pay minus the agreed payment terms (``terms_days``,
  a number or an expression, default 30).  Medium from 15, high from 45, blocked
  from 90.
- **Credit rating**: AAA, AA, A low; BBB medium; BB, B high; CCC, CC, C, D blocked
  (``ratings`` replaces the table; compared without case).  A rating not in the table
  is named in the reasons and not counted.

Inputs default to ``overdue_amount``, ``revenue_last_12m`` and ``avg_days_to_pay``
(the order features of a ruleset with ``orders:``) and the field ``credit_rating``,
each when the ruleset has that name; any of them may be set to an expression.  A
signal whose input is missing is left out and named in the reasons; with no signal
known the outcome is ``unknown``, never low.  The score is the severity (0 low, 1
medium, 2 high, 3 blocked); the tags name the signals at medium or worse
(``overdue``, ``late_payer``, ``weak_rating``); the attributes ``overdue_ratio`` and
``days_late`` give the two numbers.  Each level carries a playbook (``about``).

Example::

    - id: risk
      kind: credit_risk
      label: {en: Credit risk, zh: 信用风险}
      terms_days: payment_terms_days
      cuts:
        overdue_ratio: {medium: 0.05, high: 0.15, blocked: 0.30}
        days_late: {medium: 15, high: 45, blocked: 90}
"""

from __future__ import annotations

import dataclasses

from tierkit.kinds import (
    NULL, Bindings, Call, Cast, Defined, DType, Function, In, IrBuild, Lit, Logic, LogicKind, Reason, all_of, any_of, case,
    coalesce, div, first_match, ge, gt, hookimpl, known, le, lit, logic_kind, missing, mul, sub, tags,
)

LEVELS = ("low", "medium", "high", "blocked")
UNKNOWN = "unknown"
SIGNALS = ("overdue_ratio", "days_late", "rating")
TAGS = {"overdue_ratio": "overdue", "days_late": "late_payer", "rating": "weak_rating"}
DEFAULT_CUTS = {
    "overdue_ratio": {"medium": 0.05, "high": 0.15, "blocked": 0.30},
    "days_late": {"medium": 15, "high": 45, "blocked": 90},
}
DEFAULT_RATINGS = {
    "AAA": "low", "AA": "low", "A": "low", "BBB": "medium", "BB": "high", "B": "high",
    "CCC": "blocked", "CC": "blocked", "C": "blocked", "D": "blocked",
}
# config key -> (default name, expected types)
INPUTS = {
    "overdue": ("overdue_amount", ("number", "integer")),
    "revenue": ("revenue_last_12m", ("number", "integer")),
    "days_to_pay": ("avg_days_to_pay", ("number", "integer")),
    "rating": ("credit_rating", ("string",)),
}
SIGNAL_INPUTS = {"overdue_ratio": ("overdue", "revenue"), "days_late": ("days_to_pay", "terms_days"), "rating": ("rating",)}


def overdue_ratio(overdue: float, revenue: float) -> float:
    """Overdue receivables as a share of revenue, from 0 to 1."""
    if overdue <= 0:
        return 0.0
    return min(overdue / revenue, 1.0) if revenue > 0 else 1.0


def overdue_ratio_ir(args, dtype=DType.FLOAT):
    """:func:`overdue_ratio` stated once as nodes: the function's form on the SQL engines
    (``Function.sql``) and the kind's overdue signal on every engine."""
    overdue, revenue = args
    share = div(overdue, revenue)
    return case((any_of(missing(overdue), missing(revenue)), NULL), (le(overdue, 0), lit(0.0)),
                (gt(revenue, 0), case((gt(share, 1.0), lit(1.0)), default=share)), default=lit(1.0))


def _t(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


CONTENT = {
    "low": {
        "label": _t("Low risk", "低风险"),
        "strategy": _t("Normal credit terms; keep watching how they pay", "正常账期，持续关注回款"),
        "actions": [_t("Offer the standard payment terms", "给予标准账期"), _t("Review the credit line once a year", "每年复核一次授信额度")],
    },
    "medium": {
        "label": _t("Medium risk", "中风险"),
        "strategy": _t("Watch receivables: remind before due dates, no extra credit", "盯紧应收：到期前提醒，不追加授信"),
        "actions": [
            _t("Send a statement and a reminder a week before each due date", "每笔账款到期前一周发对账单并提醒"),
            _t("Hold the credit line; any increase needs approval", "冻结授信额度，提额须审批"),
        ],
    },
    "high": {
        "label": _t("High risk", "高风险"),
        "strategy": _t("Tighten terms: deposit or prepayment on new orders, a collection plan", "收紧账期：新订单收定金或预付，制定回款计划"),
        "actions": [
            _t("Ask for a deposit or shorter terms on new orders", "新订单要求定金或缩短账期"),
            _t("The rep and finance agree a collection plan with dates", "销售与财务共同制定有时间表的回款计划"),
            _t("Escalate to the sales manager", "上报销售经理"),
        ],
    },
    "blocked": {
        "label": _t("Blocked: no credit", "停止赊销"),
        "strategy": _t("Stop selling on credit: cash or prepayment only until the overdue amount is cleared",
                       "停止赊销：逾期款结清前只接受现款或预付"),
        "actions": [
            _t("Stop shipping on credit", "停止赊销发货"),
            _t("Collect the overdue receivables; consider legal steps", "追收逾期账款，必要时采取法律措施"),
            _t("Any exception is decided by management", "例外情况由管理层决定"),
        ],
    },
    UNKNOWN: {
        "label": _t("Unknown", "未知"),
        "strategy": _t("Find out first: payment records or a credit report before granting terms",
                       "先了解情况：授信前取得回款记录或信用报告"),
        "actions": [_t("Ask finance for payment records, or buy a credit report", "向财务索取回款记录，或购买信用报告")],
    },
}

TEMPLATES = {
    "en": {
        "credit_risk.overdue_ratio": "overdue {overdue:number} of revenue {revenue:number} = {percent:number}% → {level:label} "
                                     "(medium from {medium:pct}, high from {high:pct}, blocked from {blocked:pct})",
        "credit_risk.days_late": "pays in {days:number} days on average against terms of {terms:number}: {value:number} days late "
                                 "→ {level:label} (medium from {medium:number}, high from {high:number}, blocked from {blocked:number})",
        "credit_risk.in_terms": "pays in {days:number} days on average against terms of {terms:number}: within terms "
                                "→ {level:label} (medium from {medium:number}, high from {high:number}, blocked from {blocked:number})",
        "credit_risk.rating": "credit rating {rating} → {level:label}",
        "credit_risk.unlisted": "credit rating {rating} is not in the rating table ({listed}); not counted",
        "credit_risk.overdue_ratio_missing": "overdue ratio: missing ({overdue_ratio_fields:names}); not counted",
        "credit_risk.days_late_missing": "days late: missing ({days_late_fields:names}); not counted",
        "credit_risk.rating_missing": "credit rating: missing ({rating_fields:names}); not counted",
        "credit_risk.worst": "the worst signal gives {level:label}",
        "credit_risk.unknown": "no signal is known: credit risk unknown",
    },
    "zh": {
        "credit_risk.overdue_ratio": "逾期 {overdue:number} / 收入 {revenue:number} = {percent:number}% → {level:label}"
                                     "（{medium:pct} 起为中风险，{high:pct} 起为高风险，{blocked:pct} 起停止赊销）",
        "credit_risk.days_late": "平均 {days:number} 天回款，账期 {terms:number} 天：逾期 {value:number} 天 → {level:label}"
                                 "（{medium:number} 天起为中风险，{high:number} 天起为高风险，{blocked:number} 天起停止赊销）",
        "credit_risk.in_terms": "平均 {days:number} 天回款，账期 {terms:number} 天：在账期内 → {level:label}"
                                "（{medium:number} 天起为中风险，{high:number} 天起为高风险，{blocked:number} 天起停止赊销）",
        "credit_risk.rating": "信用评级 {rating} → {level:label}",
        "credit_risk.unlisted": "信用评级 {rating} 不在评级表中（{listed}），不计入",
        "credit_risk.overdue_ratio_missing": "逾期比例：缺失（{overdue_ratio_fields:names}），不计入",
        "credit_risk.days_late_missing": "逾期天数：缺失（{days_late_fields:names}），不计入",
        "credit_risk.rating_missing": "信用评级：缺失（{rating_fields:names}），不计入",
        "credit_risk.worst": "取最差信号：{level:label}",
        "credit_risk.unknown": "没有任何已知信号：信用风险未知",
    },
}


LEVEL_ENUM = {"enum": list(LEVELS)}


def _cut_schema(what: str) -> dict:
    return {
        "type": "object",
        "title": f"Cuts of the {what}",
        "description": f"Where the {what} turns medium, high and blocked (a value at a cut takes its level).",
        "properties": {
            level: {"type": "number", "title": level.capitalize(), "description": f"The {what} from which the level is {level}."}
            for level in LEVELS[1:]
        },
        "additionalProperties": False,
    }


def _input_schema(key: str) -> dict:
    default, _types = INPUTS[key]
    return {"type": "string", "title": key.replace("_", " ").capitalize(), "description": f"An expression (default: {default})."}


CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        **{key: _input_schema(key) for key in INPUTS},
        "terms_days": {
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}],
            "title": "Payment terms",
            "description": "The agreed days to pay: a number, or an expression such as a field (default 30).",
        },
        "cuts": {
            "type": "object",
            "title": "Cuts",
            "description": "Where each signal's levels begin; a signal left out keeps its defaults.",
            "properties": {"overdue_ratio": _cut_schema("overdue ratio"), "days_late": _cut_schema("days late")},
            "additionalProperties": False,
        },
        "ratings": {
            "type": "object",
            "title": "Rating table",
            "description": "Credit rating -> level (low, medium, high, blocked); replaces the default table.",
            "additionalProperties": LEVEL_ENUM,
        },
    },
}


def _inputs(build: IrBuild) -> dict:
    """Each input's compiled expression (the config's, else its default name when the
    ruleset has it, else None), and ``terms_days`` (a number or an expression)."""
    found = {}
    for key, (default, expect) in INPUTS.items():
        if build.value(key) is not None:
            found[key] = build.expression(key, expect=expect)
        elif default in build.scope:
            found[key] = build.expression(key, expect=expect, source=default)
        else:
            found[key] = None
    terms = build.value("terms_days", default=30)
    found["terms_days"] = build.number("terms_days") if isinstance(terms, str) else float(terms)
    return found


def define(build: IrBuild) -> Defined | None:
    """Each signal's level from its cuts (a decision table), the worst known level as
    the outcome; a reason per signal (its value and level, or what is missing) and one
    for the outcome."""
    cuts = {signal: {**DEFAULT_CUTS[signal], **(build.value("cuts", signal) or {})} for signal in DEFAULT_CUTS}
    for signal, cut in cuts.items():
        if not cut["medium"] <= cut["high"] <= cut["blocked"]:
            build.error(f"the cuts of {signal} must rise from medium to high to blocked", "cuts", signal)
    ratings = {str(key).strip().upper(): level for key, level in (build.value("ratings") or DEFAULT_RATINGS).items()}
    inputs = _inputs(build)
    used = {signal: all(inputs[key] is not None for key in keys) for signal, keys in SIGNAL_INPUTS.items()}
    if not any(used.values()):
        build.error("no credit data: there is no overdue_amount with revenue_last_12m, no avg_days_to_pay and no credit_rating",
                    hint="add orders: (with paid_amount, due_date, paid_date columns) or a credit_rating field, or set the inputs")
    if build.failed:
        return None
    let = Bindings()
    given = {key: let(key, lit(value) if isinstance(value, float) else value.code) for key, value in inputs.items() if value is not None}
    values, levels, reasons, readers = {}, {}, [], {}
    if used["overdue_ratio"]:
        values["overdue_ratio"] = let("ratio", overdue_ratio_ir((given["overdue"], given["revenue"])))
    if used["days_late"]:
        late = sub(given["days_to_pay"], given["terms_days"])
        values["days_late"] = let("late", late if late.dtype is DType.FLOAT else Cast(late, DType.FLOAT))
    for signal, value in values.items():
        cut = cuts[signal]
        table = first_match(f"{signal}_cut", [(ge(value, cut[LEVELS[index]]), index) for index in (3, 2, 1)], default=(0,))
        let.extend(table.lets)
        levels[signal] = let(f"{signal}_level", case((known(value), table.value)))
    if used["rating"]:
        key = let("rating_key", Call("upper", (Call("strip", (given["rating"],), DType.STR),), DType.STR))
        rows = [(In(key, tuple(lit(name) for name, level in ratings.items() if level == LEVELS[index])), index)
                for index in (3, 2, 1, 0) if LEVELS[index] in ratings.values()]
        table = first_match("rating_row", rows)
        let.extend(table.lets)
        levels["rating"] = let("rating_level", table.value)
    names = {signal: let(f"{signal}_name", case(*((ge(level, index), lit(LEVELS[index])) for index in (3, 2, 1, 0))))
             for signal, level in levels.items()}
    for signal, keys in SIGNAL_INPUTS.items():
        if not used[signal]:
            continue
        compiled = [inputs[key] for key in keys if not isinstance(inputs[key], float)]
        mask, read = build.blank_inputs(
            dataclasses.replace(compiled[0], reads=frozenset().union(*(c.reads for c in compiled))))
        readers[mask] = read
        value = values.get(signal, given.get("rating"))
        reasons += _known_reasons(signal, value, levels[signal], names[signal], given, cuts.get(signal), ratings)
        reasons.append(Reason(f"credit_risk.{signal}_missing", ((f"{signal}_fields", mask),), missing(value)))
    worst = let("worst", Call("max", tuple(coalesce(levels.get(signal), -1) for signal in SIGNALS), DType.INT))
    outcome = first_match("outcome", [(ge(worst, index), LEVELS[index], "credit_risk.worst", (("level", lit(LEVELS[index])),))
                                      for index in (3, 2, 1, 0)], default=(UNKNOWN, "credit_risk.unknown"))
    let.extend(outcome.lets)
    attributes = tuple((signal, values.get(signal, Lit(None, DType.FLOAT))) for signal in ("overdue_ratio", "days_late"))
    logic = Logic(build.id, let.lets, outcome.value, case((ge(worst, 0), worst)), attributes, (*reasons, *outcome.reasons),
                  tags=tags(*((TAGS[signal], ge(level, 1)) for signal, level in levels.items())))
    return Defined(logic, {level: CONTENT[level]["label"] for level in CONTENT}, {}, readers)


def _known_reasons(signal: str, value, level, name, given: dict, cut: dict | None, ratings: dict) -> list[Reason]:
    """A signal's reasons when its value is known: the value, its level and the cuts
    (the days late or within terms), or the rating and its level, or an unlisted rating."""
    shown = (("level", name),)
    if signal == "rating":
        return [Reason("credit_risk.rating", (("rating", value),) + shown, known(level)),
                Reason("credit_risk.unlisted", (("rating", value), ("listed", lit(", ".join(ratings)))),
                       all_of(known(value), missing(level)))]
    cuts = tuple((level_id, lit(cut[level_id])) for level_id in LEVELS[1:])
    if signal == "overdue_ratio":
        percent = Call("round", (mul(value, 100.0), lit(1)), DType.FLOAT)  # as people read it: 6.7%
        params = (("overdue", given["overdue"]), ("revenue", given["revenue"]), ("percent", percent))
        return [Reason("credit_risk.overdue_ratio", params + shown + cuts, known(value))]
    late = (("days", given["days_to_pay"]), ("terms", given["terms_days"]), ("value", value)) + shown + cuts
    return [Reason("credit_risk.days_late", late, gt(value, 0)), Reason("credit_risk.in_terms", late, le(value, 0))]


CREDIT_RISK = LogicKind(define, TEMPLATES, (("overdue_ratio", "number"), ("days_late", "number")),
                        {level: {"strategy": CONTENT[level]["strategy"], "actions": CONTENT[level]["actions"]} for level in CONTENT})


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("credit_risk", __doc__, CONFIG_SCHEMA, CREDIT_RISK))


@hookimpl
def tierkit_functions(register):
    register(Function("overdue_ratio", overdue_ratio, ("number", "number"), "number",
                      "Overdue receivables as a share of revenue (0 to 1).", sql=overdue_ratio_ir))
