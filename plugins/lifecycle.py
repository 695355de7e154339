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

from tierkit.kinds import (
    NULL, Bindings, Call, Concat, Defined, DType, IrBuild, Lit, Logic, LogicKind, Reason, all_of, any_of, case, coalesce, eq, gt,
    hookimpl, holds, known, le, lit, logic_kind, lt, missing, not_, tags,
)

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

TEMPLATES = {
    "en": {
        "lifecycle.no_orders": "no orders: no order dates and an order count of {count}",
        "lifecycle.no_orders_missing": "no orders: no order dates and no order count",
        "lifecycle.single": "one order: its date {day} is both the first and the last",
        "lifecycle.no_dates": "order count {count} but no order dates{fields:(names)}",
        "lifecycle.count_zero": "order count {count} but there are order dates ({dates})",
        "lifecycle.no_as_of": "the as-of date is missing{fields:(names)}",
        "lifecycle.future": "{which:in:orders} order {day} is after the as-of date",
        "lifecycle.first_after_last": "first order {first_order_date} is after the last order {last_order_date}",
        "lifecycle.no_first": "first order date missing{fields:(names)}: with the last order {days_since_last} days ago "
                              "(≤ new_days {new_days}), new and active cannot be told apart",
        "lifecycle.no_last": "last order date missing{fields:(names)}: with the first order {days_since_first} days ago "
                             "(> dormant_days {dormant_days}), the stage cannot be told",
        "lifecycle.last": "last order {last_order_date}, {days_since_last} days ago",
        "lifecycle.first": "first order {first_order_date}, {days_since_first} days ago",
        "lifecycle.last_bound": "last order date missing{fields:(names)}, but the first order {days_since_first} days ago "
                                "is within dormant_days {dormant_days}, so the last is too",
        "lifecycle.lost": "{days_since_last} days since the last order > lost_days {lost_days} → lost",
        "lifecycle.dormant": "{days_since_last} days since the last order > dormant_days {dormant_days} "
                             "(lost after {lost_days}) → dormant",
        "lifecycle.new": "last order within dormant_days {dormant_days}; first order {days_since_first} days ago "
                         "≤ new_days {new_days} → new",
        "lifecycle.active": "last order within dormant_days {dormant_days}; first order {days_since_first} days ago "
                            "> new_days {new_days} → active",
        "lifecycle.active_bound": "first order date missing{fields:(names)}, but the last order {days_since_last} days ago "
                                  "is beyond new_days {new_days}, so the first is too → active",
    },
    "zh": {
        "lifecycle.no_orders": "无订单：没有下单日期，订单数为 {count}",
        "lifecycle.no_orders_missing": "无订单：没有下单日期，也没有订单数",
        "lifecycle.single": "仅一笔订单：{day} 既是首次也是最近下单日期",
        "lifecycle.no_dates": "订单数为 {count}，但没有下单日期{fields:(names)}",
        "lifecycle.count_zero": "订单数为 {count}，但有下单日期（{dates}）",
        "lifecycle.no_as_of": "统计日缺失{fields:(names)}",
        "lifecycle.future": "{which:in:orders}下单日期 {day} 晚于统计日",
        "lifecycle.first_after_last": "首次下单 {first_order_date} 晚于最近下单 {last_order_date}",
        "lifecycle.no_first": "首次下单日期缺失{fields:(names)}：最近下单距今 {days_since_last} 天（≤ 新客期 {new_days} 天），"
                              "无法区分新客户与老客户",
        "lifecycle.no_last": "最近下单日期缺失{fields:(names)}：首次下单距今 {days_since_first} 天（> 休眠期 {dormant_days} 天），"
                             "无法判断状态",
        "lifecycle.last": "最近下单 {last_order_date}，距今 {days_since_last} 天",
        "lifecycle.first": "首次下单 {first_order_date}，距今 {days_since_first} 天",
        "lifecycle.last_bound": "最近下单日期缺失{fields:(names)}，但首次下单距今 {days_since_first} 天在休眠期 {dormant_days} 天内，"
                                "最近下单也在其内",
        "lifecycle.lost": "距上次下单 {days_since_last} 天 > 流失期 {lost_days} 天 → 流失",
        "lifecycle.dormant": "距上次下单 {days_since_last} 天 > 休眠期 {dormant_days} 天（超过 {lost_days} 天为流失）→ 休眠",
        "lifecycle.new": "最近下单在休眠期 {dormant_days} 天内；首次下单距今 {days_since_first} 天 ≤ 新客期 {new_days} 天 → 新客户",
        "lifecycle.active": "最近下单在休眠期 {dormant_days} 天内；首次下单距今 {days_since_first} 天 > 新客期 {new_days} 天 → 老客户",
        "lifecycle.active_bound": "首次下单日期缺失{fields:(names)}，但最近下单距今 {days_since_last} 天已超过新客期 {new_days} 天，"
                                  "首次下单更早 → 老客户",
    },
}
ORDERS = {"first": {"en": "first", "zh": "首次"}, "last": {"en": "last", "zh": "最近"}}
# the input a reason's missing fields are behind: not named again when they are just that input
NAMED_INPUT = {"lifecycle.no_as_of": "as_of", "lifecycle.no_first": "first_order_date", "lifecycle.active_bound": "first_order_date",
               "lifecycle.no_last": "last_order_date", "lifecycle.last_bound": "last_order_date"}


def define(build: IrBuild) -> Defined | None:
    """The stage from the same tests in the same order as the docstring says them.

    With one order and one date missing the known date is both (``single``); the days
    since the first and the last order are counted to the as-of date; the first test
    that makes the stage unknown is its ``cause``.  A missing last order lies between
    the first and the as-of date (``last_bound``), a missing first order before the
    last one (``active_bound``)."""
    windows = {key: int(build.value(key, default=default)) for key, default in DEFAULTS.items()}
    new, dormant, lost = (windows[key] for key in ("new_days", "dormant_days", "lost_days"))
    if lost < dormant:
        build.error(f"lost_days ({lost}) is shorter than dormant_days ({dormant})", "lost_days",
                    hint="a customer goes dormant before being lost: lost_days must be at least dormant_days")
    compiled = {name: _input(build, name) for name in INPUTS}
    _warn_absent(build, compiled)
    as_of_compiled = build.expression("as_of", expect=("date",)) if build.value("as_of") is not None else None
    if build.failed:
        return None
    typed = {"first_order_date": DType.DATE, "last_order_date": DType.DATE, "order_count": DType.FLOAT}
    first, last, count = (compiled[name].code if compiled[name] is not None and compiled[name].code.dtype is not DType.NULL
                          else Lit(None, typed[name]) for name in INPUTS)  # "none" is a missing value of the input's type
    as_of = build.scope["as_of"].code if as_of_compiled is None else as_of_compiled.code
    blank, readers = {}, {}
    for name, source in (*compiled.items(), ("as_of", as_of_compiled)):
        blank[name], readers[blank[name]] = _blank(build, source, name)

    let = Bindings()
    no_dates = let("no_dates", all_of(missing(first), missing(last)))
    count_zero = let("count_zero", holds(le(count, 0)))
    single = let("single", all_of(holds(eq(count, 1)), any_of(missing(first), missing(last))))
    first_day = let("first_day", case((single, coalesce(last, first)), default=first))
    last_day = let("last_day", case((single, coalesce(last, first)), default=last))
    first_days = let("first_days", Call("days_between", (first_day, as_of), DType.INT))
    last_days = let("last_days", Call("days_between", (last_day, as_of), DType.INT))
    none = any_of(missing(count), le(count, 0))
    cause = let("cause", case(
        (no_dates, case((none, Lit(None, DType.STR)), default=lit("no_dates"))),
        (count_zero, lit("count_zero")),
        (missing(as_of), lit("no_as_of")),
        (any_of(lt(last_days, 0), lt(first_days, 0)), lit("future")),
        (lt(first_days, last_days), lit("first_after_last")),
        (all_of(missing(last_days), gt(first_days, dormant)), lit("no_last")),
        (all_of(known(last_days), le(last_days, dormant), missing(first_days), le(last_days, new)), lit("no_first")),
        default=Lit(None, DType.STR)))
    stage = let("stage", case(
        (no_dates, case((none, lit("potential")), default=lit("unknown"))),
        (known(cause), lit("unknown")),
        (missing(last_days), case((le(first_days, new), lit("new")), default=lit("active"))),
        (gt(last_days, lost), lit("lost")),
        (gt(last_days, dormant), lit("dormant")),
        (missing(first_days), lit("active")),
        (le(first_days, new), lit("new")),
        default=lit("active")))
    days_since_last = let("days_since_last", case((any_of(no_dates, count_zero), Lit(None, DType.INT)), default=last_days))

    def at(*stages: str):
        return any_of(*(eq(stage, s) for s in stages))

    def why(name: str):
        return eq(cause, name)

    staged = not_(at("potential", "unknown"))
    last_param, first_param = ("last_order_date", last_day), ("first_order_date", first_day)
    since_last, since_first = ("days_since_last", last_days), ("days_since_first", first_days)
    cut = {key: ((key, lit(value)),) for key, value in windows.items()}
    late_last = holds(lt(last_days, 0))
    both = all_of(known(first), known(last))
    dates = case((both, Concat((first, lit(", "), last))), (known(first), Concat((first,))), default=Concat((last,)))
    reasons = (
        Reason("lifecycle.no_orders", (("count", count),), all_of(eq(stage, "potential"), known(count))),
        Reason("lifecycle.no_orders_missing", (), all_of(eq(stage, "potential"), missing(count))),
        Reason("lifecycle.single", (("day", first_day),), all_of(single, staged)),
        Reason("lifecycle.no_dates", (("count", count), ("first_blank", blank["first_order_date"]),
                                      ("last_blank", blank["last_order_date"])), why("no_dates")),
        Reason("lifecycle.count_zero", (("count", count), ("dates", dates)), why("count_zero")),
        Reason("lifecycle.no_as_of", (("missing_fields", blank["as_of"]),), why("no_as_of")),
        Reason("lifecycle.future", (("which", case((late_last, lit("last")), default=lit("first"))),
                                    ("day", case((late_last, last_day), default=first_day))), why("future")),
        Reason("lifecycle.first_after_last", (first_param, last_param), why("first_after_last")),
        Reason("lifecycle.no_first", (("missing_fields", blank["first_order_date"]), since_last, *cut["new_days"]),
               why("no_first")),
        Reason("lifecycle.no_last", (("missing_fields", blank["last_order_date"]), since_first, *cut["dormant_days"]),
               why("no_last")),
        Reason("lifecycle.last", (last_param, since_last), all_of(staged, known(last_days))),
        Reason("lifecycle.first", (first_param, since_first), all_of(at("new", "active"), known(first_days), not_(single))),
        Reason("lifecycle.last_bound", (("missing_fields", blank["last_order_date"]), since_first, *cut["dormant_days"]),
               all_of(at("new", "active"), missing(last_days))),
        Reason("lifecycle.lost", (since_last, *cut["lost_days"]), at("lost")),
        Reason("lifecycle.dormant", (since_last, *cut["dormant_days"], *cut["lost_days"]), at("dormant")),
        Reason("lifecycle.new", (since_last, since_first, *cut["dormant_days"], *cut["new_days"]), at("new")),
        Reason("lifecycle.active", (since_last, since_first, *cut["dormant_days"], *cut["new_days"]),
               all_of(at("active"), known(first_days))),
        Reason("lifecycle.active_bound", (("missing_fields", blank["first_order_date"]), since_last, *cut["new_days"]),
               all_of(at("active"), missing(first_days))),
    )
    content = {name: {**CONTENT[name], **(build.value("stages", name) or {})} for name in STAGES}
    outcome_tags = tags(*((str(tag), eq(stage, name)) for name in STAGES for tag in content[name].get("tags") or ()))
    logic = Logic(build.id, let.lets, stage, NULL, (("days_since_last", days_since_last),), reasons, tags=outcome_tags)
    readers[count] = _whole
    labels = {name: content[name]["label"] for name in STAGES}
    return Defined(logic, labels, readers=readers, tables={"orders": ORDERS}, finish=_finish, about=_about(content))


def _input(build: IrBuild, name: str):
    """The input's expression: the config's, else the field of the same name, else None."""
    expect = ("number", "integer") if name == "order_count" else ("date",)
    if build.value(name) is not None:
        return build.expression(name, expect=expect)
    if name in build.scope:
        return build.expression(name, expect=expect, source=name)
    return None


def _warn_absent(build: IrBuild, compiled: dict) -> None:
    absent = {name: compiled[name] is None for name in INPUTS}
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


def _blank(build: IrBuild, compiled, name: str):
    """The parameter naming the blank fields behind a missing input, and its reader: the
    input's own name when no expression is given or it reads no field."""
    if compiled is not None and compiled.reads:
        mask, read = build.blank_inputs(compiled)
        if not isinstance(mask, Lit):
            return mask, read
        names = read(0)
        return Lit(name, DType.STR), lambda _name: names
    return Lit(name, DType.STR), lambda _name: [name]


def _whole(count):
    """An order count as reasons show it: 3, not 3.0."""
    return int(count) if isinstance(count, float) and count.is_integer() else count


def _finish(records: list[dict], outcome: tuple) -> None:
    """Each record's ``fields`` as its words name them: the blank fields behind the
    missing inputs, left unsaid when they are just the input of the same name."""
    for record in records:
        if record["code"] == "lifecycle.no_dates":
            record["missing_fields"] = list(dict.fromkeys(record.pop("first_blank") + record.pop("last_blank")))
            record["fields"] = record["missing_fields"]
        elif record["code"] in NAMED_INPUT:
            own = NAMED_INPUT[record["code"]]
            record["fields"] = [] if record["missing_fields"] == [own] else record["missing_fields"]


def _about(content: dict) -> dict:
    return {name: {key: content[name][key] for key in ("strategy", "actions", "talking_points") if content[name].get(key)}
            for name in STAGES}


LIFECYCLE = LogicKind(define, TEMPLATES, (("days_since_last", "integer"),), _about(CONTENT))


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("lifecycle", __doc__, CONFIG_SCHEMA, LIFECYCLE))
