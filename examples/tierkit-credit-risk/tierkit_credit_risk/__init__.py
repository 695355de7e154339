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

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize, show_number
from tierkit.registry import Function, SchemeKind
from tierkit.words import Vocabulary

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
ARGUMENTS = ("overdue", "revenue", "days_to_pay", "terms_days", "rating")  # the assessor's inputs, in order
SIGNAL_INPUTS = {"overdue_ratio": ("overdue", "revenue"), "days_late": ("days_to_pay", "terms_days"), "rating": ("rating",)}


def overdue_ratio(overdue: float, revenue: float) -> float:
    """Overdue receivables as a share of revenue, from 0 to 1."""
    if overdue <= 0:
        return 0.0
    return min(overdue / revenue, 1.0) if revenue > 0 else 1.0


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

NAMES = {"overdue_ratio": _t("overdue ratio", "逾期比例"), "days_late": _t("days late", "逾期天数"), "rating": _t("credit rating", "信用评级")}

WORDS = {
    "en": {
        "overdue_ratio": "overdue {overdue} of revenue {revenue} = {value} → {level} (medium from {medium}, high from {high}, blocked from {blocked})",
        "days_late": "pays in {days} days on average against terms of {terms}: {lateness} → {level} (medium from {medium}, high from {high}, blocked from {blocked})",
        "late_by": "{value} days late",
        "in_terms": "within terms",
        "rating": "credit rating {rating} → {level}",
        "unlisted": "credit rating {rating} is not in the rating table ({listed}); not counted",
        "missing": "{signal}: missing ({fields}); not counted",
        "worst": "the worst signal gives {level}",
        "unknown": "no signal is known: credit risk unknown",
    },
    "zh": {
        "overdue_ratio": "逾期 {overdue} / 收入 {revenue} = {value} → {level}（{medium} 起为中风险，{high} 起为高风险，{blocked} 起停止赊销）",
        "days_late": "平均 {days} 天回款，账期 {terms} 天：{lateness} → {level}（{medium} 天起为中风险，{high} 天起为高风险，{blocked} 天起停止赊销）",
        "late_by": "逾期 {value} 天",
        "in_terms": "在账期内",
        "rating": "信用评级 {rating} → {level}",
        "unlisted": "信用评级 {rating} 不在评级表中（{listed}），不计入",
        "missing": "{signal}：缺失（{fields}），不计入",
        "worst": "取最差信号：{level}",
        "unknown": "没有任何已知信号：信用风险未知",
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


def compile_credit_risk(build: SchemeBuild) -> CompiledScheme:
    cuts = {signal: {**DEFAULT_CUTS[signal], **(build.value("cuts", signal) or {})} for signal in DEFAULT_CUTS}
    for signal, cut in cuts.items():
        if not cut["medium"] <= cut["high"] <= cut["blocked"]:
            build.error(f"the cuts of {signal} must rise from medium to high to blocked", "cuts", signal)
    ratings = {str(key).strip().upper(): level for key, level in (build.value("ratings") or DEFAULT_RATINGS).items()}
    codes, exprs = {}, {}
    for key, (default, expect) in INPUTS.items():
        compiled = None
        if build.value(key) is not None:
            compiled = build.expression(key, expect=expect)
        elif default in build.scope:
            compiled = build.expression(key, expect=expect, source=default)
        codes[key] = compiled.code if compiled is not None else "None"
        exprs[key] = compiled
    terms = build.value("terms_days", default=30)
    if isinstance(terms, str):
        exprs["terms_days"] = build.number("terms_days")
        codes["terms_days"] = exprs["terms_days"].code
    else:
        codes["terms_days"], exprs["terms_days"] = repr(float(terms)), None
    used = tuple(all(codes[key] != "None" for key in SIGNAL_INPUTS[signal]) for signal in SIGNALS)
    if not any(used):
        build.error("no credit data: there is no overdue_amount with revenue_last_12m, no avg_days_to_pay and no credit_rating",
                    hint="add orders: (with paid_amount, due_date, paid_date columns) or a credit_rating field, or set the inputs")
    assess = build.constant(_assessor(cuts, ratings, used))
    # each input's value, then the blank inputs behind it when it is missing (for the reasons)
    given = {key: build.temp() for key in ARGUMENTS}
    blanks = "".join(f"({build.missing_names(exprs[key])} if {given[key]} is None else ()), " if exprs[key] is not None else "(), "
                     for key in ARGUMENTS)
    build.row([*(f"{given[key]} = {codes[key]}" for key in ARGUMENTS),
               f"{build.outcome.local} = {assess}({', '.join(given[key] for key in ARGUMENTS)}, ({blanks}))"], [build.outcome])
    return CompiledScheme(
        explain=_explainer(cuts, ratings, used, {key: compiled.source for key, compiled in exprs.items() if compiled is not None},
                           build.vocabulary),
        labels={level: CONTENT[level]["label"] for level in CONTENT},
        about={level: {"strategy": CONTENT[level]["strategy"], "actions": CONTENT[level]["actions"]} for level in CONTENT},
    )


def _assessor(cuts: dict, ratings: dict, used: tuple):
    """``assess(overdue, revenue, days_to_pay, terms, rating, blanks) -> outcome``.

    The detail is ``(overdue_ratio, days_late, levels, inputs, blanks)``: ``levels``
    holds each signal's level index or None, ``inputs`` the values the reasons show,
    ``blanks`` for each input the blank fields behind it when it is missing.
    """

    def level_of(value: float, cut: dict) -> int:
        return sum(value >= cut[level] for level in LEVELS[1:])

    def assess(overdue, revenue, days, terms, rating, blanks):
        ratio = overdue_ratio(overdue, revenue) if used[0] and overdue is not None and revenue is not None else None
        late = days - terms if used[1] and days is not None and terms is not None else None
        key = str(rating).strip().upper() if used[2] and rating is not None else None
        levels = (
            None if ratio is None else level_of(ratio, cuts["overdue_ratio"]),
            None if late is None else level_of(late, cuts["days_late"]),
            LEVELS.index(ratings[key]) if key in ratings else None,
        )
        detail = (ratio, late, levels, (overdue, revenue, days, terms, rating), blanks)
        known = [level for level in levels if level is not None]
        if not known:
            return (UNKNOWN, None, (), detail)
        tags = tuple(TAGS[signal] for signal, level in zip(SIGNALS, levels) if level is not None and level >= 1)
        return (LEVELS[max(known)], max(known), tags, detail)

    return assess


def _explainer(cuts: dict, ratings: dict, used: tuple, sources: dict[str, str], vocabulary: Vocabulary):
    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, _score, _tags, (ratio, late, levels, inputs, blanks) = outcome
        overdue, revenue, days, terms, rating = inputs

        def level(index: int) -> str:
            return localize(CONTENT[LEVELS[index]]["label"], lang)

        reasons = []
        for signal, in_use, signal_level in zip(SIGNALS, used, levels):
            if not in_use:
                continue
            if signal == "rating" and rating is not None and signal_level is None:
                text = words["unlisted"].format(rating=rating, listed=", ".join(ratings))
            elif signal_level is None:
                values, blank_of = dict(zip(ARGUMENTS, inputs)), dict(zip(ARGUMENTS, blanks))
                # a missing input with no blank field behind it (a division by zero) is named by its expression
                fields = dict.fromkeys(name for key in SIGNAL_INPUTS[signal] if values[key] is None
                                       for name in blank_of[key] or (sources[key],))
                text = words["missing"].format(signal=localize(NAMES[signal], lang), fields=vocabulary.names(fields, lang))
            elif signal == "rating":
                text = words["rating"].format(rating=rating, level=level(signal_level))
            else:
                cut = cuts[signal]
                shown = {name: _show(signal, value) for name, value in cut.items()}
                text = words[signal].format(
                    overdue=show_number(overdue), revenue=show_number(revenue), days=show_number(days),
                    terms=show_number(terms), value=_show(signal, ratio if signal == "overdue_ratio" else late),
                    level=level(signal_level), **shown,
                    lateness=words["late_by"].format(value=_show(signal, late)) if late and late > 0 else words["in_terms"],
                )
            reasons.append({"signal": signal, "level": None if signal_level is None else LEVELS[signal_level], "text": text})
        if label == UNKNOWN:
            reasons.append({"text": words["unknown"]})
        else:
            reasons.append({"level": label, "text": words["worst"].format(level=level(LEVELS.index(label)))})
        return reasons

    return explain


def _show(signal: str, value: float) -> str:
    if signal == "overdue_ratio":
        return f"{value * 100:.1f}%".replace(".0%", "%")
    return show_number(float(value))


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented(
            "credit_risk", __doc__, CONFIG_SCHEMA, compile_credit_risk,
            attributes={"overdue_ratio": ("number", 0), "days_late": ("number", 1)},
        )
    )


@hookimpl
def tierkit_functions(register):
    register(Function("overdue_ratio", overdue_ratio, ("number", "number"), "number",
                      "Overdue receivables as a share of revenue (0 to 1)."))
