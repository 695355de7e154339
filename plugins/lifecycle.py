"""The ``lifecycle`` scheme kind: a customer's stage, from potential to lost (生命周期/客户状态).

From the first and last order dates, the order count and the as-of date, with
``d_last`` and ``d_first`` the days since the last and the first order: ``lost`` when
``d_last > lost_days`` (default 365); else ``dormant`` when ``d_last > dormant_days``
(default 180); else ``new`` when ``d_first <= new_days`` (default 180); else ``active``.
A window of N days includes day N: an order exactly ``dormant_days`` ago keeps a
customer active.  No order dates and an order count of 0 or missing is ``potential``.
With one date missing the stage is still given when the other date settles it (one
order: both dates are the same; a first order within ``dormant_days`` means the last
one is too; a last order beyond ``new_days`` means the first one is too); otherwise,
and for an order count but no dates, a count of 0 beside dates, a date after the
as-of date or a first order after the last, the outcome is ``unknown`` with the
reason.  Inputs default to the fields ``first_order_date``, ``last_order_date`` and
``order_count`` and the run's as-of date.  Reasons name the dates, the days and the
windows; the attribute ``days_since_last`` gives the days since the last order.
Each stage's playbook says whether to break the ice or deepen the relationship.

Example::

    - id: stage
      kind: lifecycle
      label: {en: Lifecycle stage, zh: 客户状态}
      new_days: 90
      dormant_days: 120
      lost_days: 365
      last_order_date: "coalesce(last_order_date, last_invoice_date)"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.hookspecs import hookimpl
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

if TYPE_CHECKING:
    from tierkit.sqlbuild import SqlBuild

STAGES = ("potential", "new", "active", "dormant", "lost", "unknown")
DEFAULTS = {"new_days": 180, "dormant_days": 180, "lost_days": 365}
INPUTS = ("first_order_date", "last_order_date", "order_count")
BLANK_INPUTS = ("first_order_date", "last_order_date", "as_of")  # those whose absence makes a stage unknown

LABEL_REF = {"$ref": "#/$defs/label"}


def _t(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


CONTENT = {
    "potential": {
        "label": _t("Potential", "潜在客户"),
        "tags": ["ice-breaking"],
        "strategy": _t("Break the ice: make contact, build credibility, get a first order", "破冰：建立联系、建立信任，拿下第一单"),
        "actions": [
            _t("Find the decision maker and make first contact", "找到决策人，完成首次接触"),
            _t("Send a short introduction and a relevant case", "发送简短介绍和相关案例"),
            _t("Offer a trial, sample or small first order", "提供试用、样品或小额首单"),
        ],
        "talking_points": [
            _t("Who we are and whom we already serve", "我们是谁，服务过哪些客户"),
            _t("One concrete problem we solve for them", "我们能为其解决的一个具体问题"),
        ],
    },
    "new": {
        "label": _t("New", "新客户"),
        "tags": ["onboarding"],
        "strategy": _t("Make the first purchase a success and turn it into the second",
                       "确保首单成功交付，促成复购"),
        "actions": [
            _t("Check delivery and first use personally", "亲自跟进交付和首次使用"),
            _t("Introduce service contacts and the next step", "介绍服务对接人和下一步计划"),
            _t("Ask for feedback and propose a repeat order", "收集反馈，推动复购"),
        ],
        "talking_points": [
            _t("How the first order went, and what to improve", "首单体验如何，有何改进"),
            _t("What else they need this year", "今年还有哪些需求"),
        ],
    },
    "active": {
        "label": _t("Active", "老客户"),
        "tags": ["deepening"],
        "strategy": _t("Deepen: grow the share of wallet, cross-sell, ask for referrals",
                       "深耕：提升钱包份额，交叉销售，争取转介绍"),
        "actions": [
            _t("Regular business reviews", "定期业务回顾"),
            _t("Propose cross-sell and upgrades", "推荐交叉销售与升级"),
            _t("Ask for referrals and a reference case", "争取转介绍和标杆案例"),
        ],
        "talking_points": [
            _t("Results achieved together so far", "双方合作至今的成果"),
            _t("Their plans for next year", "客户明年的计划"),
        ],
    },
    "dormant": {
        "label": _t("Dormant", "休眠客户"),
        "tags": ["reactivation"],
        "strategy": _t("Wake them up: find out why orders stopped and give a reason to come back",
                       "唤醒：找出停止下单的原因，给出回来的理由"),
        "actions": [
            _t("Call or visit to ask what changed", "电话或拜访，了解发生了什么变化"),
            _t("Check for complaints, a competitor or a changed contact", "排查投诉、竞争对手或对接人变动"),
            _t("Make a reactivation offer", "提供唤醒优惠"),
        ],
        "talking_points": [
            _t("What is new since their last order", "自上次下单以来的新产品和新服务"),
            _t("Whether anything in our service fell short", "我们的服务是否有不足"),
        ],
    },
    "lost": {
        "label": _t("Lost", "流失客户"),
        "tags": ["win-back"],
        "strategy": _t("Win back the valuable ones, learn from the others, and let the rest go",
                       "挽回有价值的客户，从其余客户身上总结教训，其余放手"),
        "actions": [
            _t("Assess the customer's value before investing", "先评估客户价值再投入"),
            _t("Find the cause: price, service, competitor, or no more need", "找出原因：价格、服务、竞争对手或需求消失"),
            _t("Run a win-back campaign for high-value customers", "对高价值客户开展挽回行动"),
        ],
        "talking_points": [_t("What it would take to work together again", "怎样才能重新合作")],
    },
    "unknown": {
        "label": _t("Unknown", "状态未知"),
        "tags": [],
        "strategy": _t("Complete the order history before choosing a strategy", "先补全订单记录，再确定策略"),
        "actions": [_t("Fill in the missing or inconsistent order data", "补全或更正缺失、矛盾的订单数据")],
    },
}

STAGE_CONTENT = {
    "type": "object",
    "properties": {
        "label": LABEL_REF,
        "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags",
                 "description": "Tags the outcome carries (replacing the built-in ones)."},
        "strategy": {**LABEL_REF, "title": "Strategy", "description": "The stage's strategy, in one line."},
        "actions": {"type": "array", "items": LABEL_REF, "title": "Actions", "description": "What to do (bilingual labels)."},
        "talking_points": {"type": "array", "items": LABEL_REF, "title": "Talking points",
                           "description": "What to say (bilingual labels)."},
    },
    "additionalProperties": False,
}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "first_order_date": {"type": "string", "title": "First order date",
                             "description": "An expression giving the date of the first order; default: first_order_date."},
        "last_order_date": {"type": "string", "title": "Last order date",
                            "description": "An expression giving the date of the last order; default: last_order_date."},
        "order_count": {"type": "string", "title": "Order count",
                        "description": "An expression giving the number of orders; default: order_count."},
        "as_of": {"type": "string", "title": "As-of date",
                  "description": "An expression giving the date days are counted to; default: the run's as-of date."},
        "new_days": {"type": "integer", "minimum": 0, "default": 180, "title": "New window",
                     "description": "A first order at most this many days ago makes a customer new."},
        "dormant_days": {"type": "integer", "minimum": 0, "default": 180, "title": "Dormant window",
                         "description": "No order for more than this many days makes a customer dormant."},
        "lost_days": {"type": "integer", "minimum": 0, "default": 365, "title": "Lost window",
                      "description": "No order for more than this many days makes a customer lost; at least dormant_days."},
        "stages": {
            "type": "object",
            "title": "Stage content",
            "description": "Per stage (potential, new, active, dormant, lost, unknown): a label and playbook replacing the built-in keys.",
            "properties": {
                stage: {**STAGE_CONTENT, "title": stage.capitalize(), "description": f"Overrides for the {stage} stage."}
                for stage in STAGES
            },
            "additionalProperties": False,
        },
    },
}

WORDS = {
    "en": {
        "no_orders": "no orders: no order dates and an order count of {count}",
        "no_orders_missing": "no orders: no order dates and no order count",
        "last": "last order {last}, {days} days ago",
        "first": "first order {first}, {days} days ago",
        "lost": "{days} days since the last order > lost_days {lost} → lost",
        "dormant": "{days} days since the last order > dormant_days {dormant} (lost after {lost}) → dormant",
        "new": "last order within dormant_days {dormant}; first order {days} days ago ≤ new_days {new} → new",
        "active": "last order within dormant_days {dormant}; first order {days} days ago > new_days {new} → active",
        "active_bound": "first order date missing{fields}, but the last order {days} days ago is beyond new_days {new}, "
                        "so the first is too → active",
        "single": "one order: its date {day} is both the first and the last",
        "last_bound": "last order date missing{fields}, but the first order {days} days ago is within dormant_days {dormant}, "
                      "so the last is too",
        "no_dates": "order count {count} but no order dates{fields}",
        "count_zero": "order count {count} but there are order dates ({dates})",
        "future": "{which} order {day} is after the as-of date",
        "first_after_last": "first order {first} is after the last order {last}",
        "no_as_of": "the as-of date is missing{fields}",
        "no_first": "first order date missing{fields}: with the last order {days} days ago (≤ new_days {new}), "
                    "new and active cannot be told apart",
        "no_last": "last order date missing{fields}: with the first order {days} days ago (> dormant_days {dormant}), "
                   "the stage cannot be told",
        "first_word": "first",
        "last_word": "last",
    },
    "zh": {
        "no_orders": "无订单：没有下单日期，订单数为 {count}",
        "no_orders_missing": "无订单：没有下单日期，也没有订单数",
        "last": "最近下单 {last}，距今 {days} 天",
        "first": "首次下单 {first}，距今 {days} 天",
        "lost": "距上次下单 {days} 天 > 流失期 {lost} 天 → 流失",
        "dormant": "距上次下单 {days} 天 > 休眠期 {dormant} 天（超过 {lost} 天为流失）→ 休眠",
        "new": "最近下单在休眠期 {dormant} 天内；首次下单距今 {days} 天 ≤ 新客期 {new} 天 → 新客户",
        "active": "最近下单在休眠期 {dormant} 天内；首次下单距今 {days} 天 > 新客期 {new} 天 → 老客户",
        "active_bound": "首次下单日期缺失{fields}，但最近下单距今 {days} 天已超过新客期 {new} 天，首次下单更早 → 老客户",
        "single": "仅一笔订单：{day} 既是首次也是最近下单日期",
        "last_bound": "最近下单日期缺失{fields}，但首次下单距今 {days} 天在休眠期 {dormant} 天内，最近下单也在其内",
        "no_dates": "订单数为 {count}，但没有下单日期{fields}",
        "count_zero": "订单数为 {count}，但有下单日期（{dates}）",
        "future": "{which}下单日期 {day} 晚于统计日",
        "first_after_last": "首次下单 {first} 晚于最近下单 {last}",
        "no_as_of": "统计日缺失{fields}",
        "no_first": "首次下单日期缺失{fields}：最近下单距今 {days} 天（≤ 新客期 {new} 天），无法区分新客户与老客户",
        "no_last": "最近下单日期缺失{fields}：首次下单距今 {days} 天（> 休眠期 {dormant} 天），无法判断状态",
        "first_word": "首次",
        "last_word": "最近",
    },
}


def compile_lifecycle(build: SchemeBuild) -> CompiledScheme:
    windows, codes, exprs, as_of_code = _inputs(build, "as_of")
    inputs = {name: "None" if code is None else code for name, code in codes.items()}

    content = {stage: {**CONTENT[stage], **(build.value("stages", stage) or {})} for stage in STAGES}
    tags = {stage: tuple(content[stage].get("tags", ())) for stage in STAGES}
    stage_of = build.constant(_classifier(windows, tags))
    out, given = build.outcome.local, {name: build.temp() for name in BLANK_INPUTS}
    codes_of = {**inputs, "as_of": as_of_code}
    blanks = "".join(f"({build.missing_names(exprs[name])} if {given[name]} is None else ()), "
                     if exprs.get(name) is not None else "(), " for name in BLANK_INPUTS)
    build.row(
        [*(f"{given[name]} = {codes_of[name]}" for name in BLANK_INPUTS),
         f"{out} = {stage_of}({given['first_order_date']}, {given['last_order_date']}, {inputs['order_count']}, {given['as_of']})",
         f"if {out}[3][2] is not None:",  # unknown: the detail also names the blank inputs behind each missing date
         f"    {out} = ({out}[0], {out}[1], {out}[2], (*{out}[3], ({blanks})))"],
        [build.outcome],
    )
    return CompiledScheme(
        explain=_explainer(windows, exprs, build.vocabulary),
        labels={stage: content[stage]["label"] for stage in STAGES},
        about={stage: {key: content[stage][key] for key in ("strategy", "actions", "talking_points") if content[stage].get(key)}
               for stage in STAGES},
    )


def _inputs(build, default_as_of: str) -> tuple[dict, dict, dict, str]:
    """The windows, each input's code (``None`` when there is none), each input's
    expression (``None`` when there is none), and the as-of date's code: the same checks
    for the Python and the SQL back end."""
    windows = {key: int(build.value(key, default=default)) for key, default in DEFAULTS.items()}
    if windows["lost_days"] < windows["dormant_days"]:
        build.error(f"lost_days ({windows['lost_days']}) is shorter than dormant_days ({windows['dormant_days']})",
                    "lost_days", hint="a customer goes dormant before being lost: lost_days must be at least dormant_days")
    inputs, exprs = {}, {}
    for name in INPUTS:
        expect = ("number", "integer") if name == "order_count" else ("date",)
        if build.value(name) is not None:
            compiled = build.expression(name, expect=expect)
        elif name in build.scope:
            compiled = build.expression(name, expect=expect, source=name)
        else:
            compiled = None
        inputs[name] = compiled.code if compiled is not None else None
        exprs[name] = compiled
    absent = {name: inputs[name] in (None, "None") for name in INPUTS}
    if all(absent.values()):
        build.error("no order data: there is no first_order_date, last_order_date or order_count",
                    hint="add these fields, or set first_order_date / last_order_date / order_count to expressions")
    elif absent["last_order_date"] and absent["first_order_date"]:
        build.warn("no order dates: only the order count is known, so customers are potential or unknown",
                   hint="set last_order_date (and first_order_date) to expressions")
    elif absent["first_order_date"]:
        build.warn("no first_order_date: customers who ordered within new_days are unknown, as new and active "
                   "cannot be told apart", hint="add the field, or set first_order_date to an expression")
    elif absent["last_order_date"]:
        build.warn("no last_order_date: customers whose first order is older than dormant_days are unknown",
                   hint="add the field, or set last_order_date to an expression")
    if build.value("as_of") is not None:
        as_of = build.expression("as_of", expect=("date",))
        as_of_code, exprs["as_of"] = as_of.code, as_of
    else:
        as_of_code, exprs["as_of"] = default_as_of, None
    return windows, inputs, exprs, as_of_code


def compile_lifecycle_sql(build: SqlBuild) -> None:
    """The SQL twin of :func:`compile_lifecycle`: the stage from the same tests in the
    same order, and the days since the last order where the Python detail has them."""
    windows, inputs, _exprs, as_of = _inputs(build, build.sql(build.scope["as_of"].code))
    dialect, literal = build.dialect, build.literal
    types = {"first_order_date": "date", "last_order_date": "date", "order_count": "number"}
    first, last, count = (build.column(name, inputs[name] or dialect.cast("NULL", types[name])) for name in INPUTS)
    as_of = build.column("as_of", as_of)
    # one order and one date missing: the known date is both
    single = f"({count} = 1 AND ({first} IS NULL OR {last} IS NULL))"
    known = f"COALESCE({last}, {first})"
    first_day = build.column("first_day", f"CASE WHEN {single} THEN {known} ELSE {first} END")
    last_day = build.column("last_day", f"CASE WHEN {single} THEN {known} ELSE {last} END")
    first_days = build.column("first_days", dialect.days_between(first_day, as_of))
    last_days = build.column("last_days", dialect.days_between(last_day, as_of))
    new, dormant, lost = (str(windows[key]) for key in ("new_days", "dormant_days", "lost_days"))
    no_dates = f"{first} IS NULL AND {last} IS NULL"
    count_zero = f"{count} IS NOT NULL AND {count} <= 0"
    stage = build.column("stage", (
        f"CASE WHEN {no_dates} THEN CASE WHEN {count} IS NULL OR {count} <= 0 THEN 'potential' ELSE 'unknown' END"
        f" WHEN {count_zero} THEN 'unknown'"
        f" WHEN {as_of} IS NULL THEN 'unknown'"
        f" WHEN {last_days} < 0 OR {first_days} < 0 THEN 'unknown'"
        f" WHEN {first_days} < {last_days} THEN 'unknown'"
        f" WHEN {last_days} IS NULL THEN CASE WHEN {first_days} > {dormant} THEN 'unknown'"
        f" WHEN {first_days} <= {new} THEN 'new' ELSE 'active' END"
        f" WHEN {last_days} > {lost} THEN 'lost'"
        f" WHEN {last_days} > {dormant} THEN 'dormant'"
        f" WHEN {first_days} IS NULL THEN CASE WHEN {last_days} <= {new} THEN 'unknown' ELSE 'active' END"
        f" WHEN {first_days} <= {new} THEN 'new' ELSE 'active' END"
    ))
    content = {stage_name: {**CONTENT[stage_name], **(build.value("stages", stage_name) or {})} for stage_name in STAGES}
    tagged = [(name, content[name].get("tags") or ()) for name in STAGES]
    tags = " ".join(f"WHEN {literal(name)} THEN {dialect.list_of([literal(str(tag)) for tag in items])}"
                    for name, items in tagged if items)
    build.outcome(
        label=stage,
        tags=f"CASE {stage} {tags} ELSE {dialect.list_of([])} END" if tags else None,
        days_since_last=f"CASE WHEN {no_dates} OR ({count_zero}) THEN NULL ELSE {last_days} END",
    )


def _classifier(windows: dict, tags: dict):
    """``stage(first, last, count, as_of) -> outcome``.

    The detail is ``(days_since_last, days_since_first, cause, first, last, count, inferred)``:
    ``cause`` names why the outcome is unknown (else None); ``inferred`` says how a missing
    date was settled (``single``, ``last_bound``, ``active_bound``) or is None.
    """
    new_days, dormant_days, lost_days = windows["new_days"], windows["dormant_days"], windows["lost_days"]
    potential_missing = ("potential", None, tags["potential"], (None, None, None, None, None, None, None))
    unknown_tags = tags["unknown"]

    def unknown(cause, last_days, first_days, first, last, count):
        return ("unknown", None, unknown_tags, (last_days, first_days, cause, first, last, count, None))

    def stage(first, last, count, as_of):
        if first is None and last is None:
            if count is None:
                return potential_missing
            if count <= 0:
                return ("potential", None, tags["potential"], (None, None, None, None, None, count, None))
            return unknown("no_dates", None, None, None, None, count)
        if count is not None and count <= 0:
            return unknown("count_zero", None, None, first, last, count)
        if as_of is None:
            return unknown("no_as_of", None, None, first, last, count)
        inferred = None
        if count == 1 and (first is None or last is None):
            first = last = first if last is None else last
            inferred = "single"
        last_days = None if last is None else (as_of - last).days
        first_days = None if first is None else (as_of - first).days
        if (last_days is not None and last_days < 0) or (first_days is not None and first_days < 0):
            return unknown("future", last_days, first_days, first, last, count)
        if last_days is not None and first_days is not None and first_days < last_days:
            return unknown("first_after_last", last_days, first_days, first, last, count)
        if last_days is None:
            # the last order lies between the first and the as-of date
            if first_days > dormant_days:
                return unknown("no_last", None, first_days, first, last, count)
            label = "new" if first_days <= new_days else "active"
            return (label, None, tags[label], (None, first_days, None, first, last, count, "last_bound"))
        if last_days > lost_days:
            label = "lost"
        elif last_days > dormant_days:
            label = "dormant"
        elif first_days is None:
            # the first order lies before the last
            if last_days <= new_days:
                return unknown("no_first", last_days, None, first, last, count)
            label, inferred = "active", "active_bound"
        else:
            label = "new" if first_days <= new_days else "active"
        return (label, None, tags[label], (last_days, first_days, None, first, last, count, inferred))

    return stage


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _explainer(windows: dict, exprs: dict, vocabulary: Vocabulary):
    reads = {name: sorted(compiled.reads) if compiled is not None else [] for name, compiled in exprs.items()}

    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, _score, _tags, (last_days, first_days, cause, first, last, count, inferred, *blank) = outcome
        blank_of = dict(zip(BLANK_INPUTS, blank[0])) if blank else {}

        def names(*inputs: str) -> list[str]:
            """The blank fields behind inputs (else what their expressions read, else the
            input's own name)."""
            return list(dict.fromkeys(field for name in inputs for field in (blank_of.get(name) or reads.get(name) or [name])))

        def fields(lang: str, *inputs: str) -> str:
            """`` (a, b)`` by their labels, or nothing when the input is just the field of the same name."""
            shown = names(*inputs)
            if len(inputs) == 1 and shown == [inputs[0]]:
                return ""
            return f" ({vocabulary.names(shown, lang)})" if lang != "zh" else f"（{vocabulary.names(shown, lang)}）"

        common = {"new": windows["new_days"], "dormant": windows["dormant_days"], "lost": windows["lost_days"]}
        record = {"stage": label, "days_since_last": last_days, "days_since_first": first_days,
                  "first_order_date": first, "last_order_date": last, "order_count": count,
                  **{f"{key}_days": value for key, value in common.items()}}
        if label == "potential":
            text = words["no_orders_missing"] if count is None else words["no_orders"].format(count=_show(count))
            return [{**record, "text": text}]
        reasons = []
        if inferred == "single":
            reasons.append({"inferred": "single", "text": words["single"].format(day=first)})
        if cause is not None:
            missing = {"no_dates": names("first_order_date", "last_order_date"), "no_as_of": names("as_of"),
                       "no_first": names("first_order_date"), "no_last": names("last_order_date")}.get(cause, [])
            text = _unknown_text(words, cause, record, common, fields, lang)
            reasons.append({**record, "cause": cause, "missing_fields": missing, "text": text})
            return reasons
        if last_days is not None:
            reasons.append({"last_order_date": last, "days_since_last": last_days,
                            "text": words["last"].format(last=last, days=last_days)})
        if first_days is not None and label in ("new", "active") and inferred != "single":
            reasons.append({"first_order_date": first, "days_since_first": first_days,
                            "text": words["first"].format(first=first, days=first_days)})
        if inferred == "last_bound":
            reasons.append({"inferred": inferred, "text": words["last_bound"].format(
                fields=fields(lang, "last_order_date"), days=first_days, **common)})
        if inferred == "active_bound":
            text = words["active_bound"].format(fields=fields(lang, "first_order_date"), days=last_days, **common)
        elif label in ("new", "active"):
            text = words[label].format(days=first_days, **common)
        else:
            text = words[label].format(days=last_days, **common)
        reasons.append({**record, "inferred": inferred, "text": text})
        return reasons

    return explain


def _unknown_text(words: dict, cause: str, record: dict, common: dict, fields, lang: str) -> str:
    first, last = record["first_order_date"], record["last_order_date"]
    if cause == "no_dates":
        return words["no_dates"].format(count=_show(record["order_count"]),
                                        fields=fields(lang, "first_order_date", "last_order_date"))
    if cause == "count_zero":
        dates = ", ".join(str(day) for day in (first, last) if day is not None)
        return words["count_zero"].format(count=_show(record["order_count"]), dates=dates)
    if cause == "future":
        late_last = record["days_since_last"] is not None and record["days_since_last"] < 0
        return words["future"].format(which=words["last_word" if late_last else "first_word"], day=last if late_last else first)
    if cause == "first_after_last":
        return words["first_after_last"].format(first=first, last=last)
    if cause == "no_as_of":
        return words["no_as_of"].format(fields=fields(lang, "as_of"))
    if cause == "no_first":
        return words["no_first"].format(fields=fields(lang, "first_order_date"), days=record["days_since_last"], **common)
    return words["no_last"].format(fields=fields(lang, "last_order_date"), days=record["days_since_first"], **common)


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("lifecycle", __doc__, CONFIG_SCHEMA, compile_lifecycle, attributes={"days_since_last": ("integer", 0)},
                              compile_sql=compile_lifecycle_sql)
    )
