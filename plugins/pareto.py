"""The ``pareto`` scheme kind: top 20%, middle 60%, bottom 20% of customers by value (二八法则).

Customers are sorted by ``value`` (default ``revenue``), largest first.  The top
``top`` share of customers (default 0.2) is ``top`` (头部, heavy investment), the
bottom ``bottom`` share (default 0.2) is ``bottom`` (尾部, may be dropped or served
standardised), the rest is ``middle`` (腰部, keeps the business's scale).  Customers
with equal values share a segment, the better one: a customer is ``top`` when the
customers strictly above it are fewer than ``top`` of the population, and ``bottom``
when the customers at or below it are at most ``bottom`` of it.  A value at or below
zero brings no share of the value and is always ``bottom``.  Each customer carries
``cumulative_share`` (the share of the total value brought by the customers at or
above its value, 0-1) and ``customer_share`` (those customers' share of the
population, 0-1), both readable from expressions; only positive values add to the
total.  The score is the value.  A missing value gives ``unknown``, with a reason
naming the missing fields, and takes no part in the shares.

Example::

    - id: pareto
      kind: pareto
      label: {en: Revenue tier, zh: 二八分层}
      value: revenue_last_12m
      value_label: {en: revenue, zh: 收入}
      top: 0.2
      bottom: 0.2
"""

from __future__ import annotations

from tierkit.kinds import (
    And, Arith, Coalesce, Compare, Defined, DType, IrBuild, IsMissing, Let, Lit, Logic, LogicKind, Or, Reason, Ref, Sort, Window,
    case, hookimpl, known, lit, logic_kind,
)

TOP, MIDDLE, BOTTOM, UNKNOWN = "top", "middle", "bottom", "unknown"
DEFAULT_VALUE = "revenue"
LABEL_REF = {"$ref": "#/$defs/label"}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "string", "title": "Value",
                  "description": "An expression: the value customers are sorted and shared by (default revenue)."},
        "value_label": {**LABEL_REF, "title": "Value label",
                        "description": "How reasons name the value, e.g. {en: revenue, zh: 收入} (default: the expression)."},
        "top": {"type": "number", "minimum": 0, "maximum": 1, "title": "Top share",
                "description": "The share of customers, largest values first, that is top (default 0.2)."},
        "bottom": {"type": "number", "minimum": 0, "maximum": 1, "title": "Bottom share",
                   "description": "The share of customers, smallest values last, that is bottom (default 0.2)."},
        "labels": {
            "type": "object",
            "title": "Labels",
            "description": "Display labels replacing the default ones (Top 20% / 头部 20% …).",
            "properties": {
                TOP: {**LABEL_REF, "title": "Top", "description": "The top segment's display label."},
                MIDDLE: {**LABEL_REF, "title": "Middle", "description": "The middle segment's display label."},
                BOTTOM: {**LABEL_REF, "title": "Bottom", "description": "The bottom segment's display label."},
                UNKNOWN: {**LABEL_REF, "title": "Unknown", "description": "The label of customers whose value is missing."},
            },
            "additionalProperties": False,
        },
    },
}

ABOUT = {
    TOP: {
        "strategy": {"en": "Heavy investment: the few customers who bring most of the value.",
                     "zh": "重点投入：少数客户贡献了大部分价值，值得重兵投入。"},
        "actions": [
            {"en": "Best team and executive attention; regular business reviews", "zh": "配置最强团队和高层关注，定期业务回顾"},
            {"en": "Protect the relationship and grow share of wallet", "zh": "巩固合作关系，提升钱包份额"},
        ],
    },
    MIDDLE: {
        "strategy": {"en": "Keep the scale: they break even and carry the business's volume; serve them efficiently.",
                     "zh": "保持规模：腰部客户保本经营、支撑业务规模，需高效服务。"},
        "actions": [
            {"en": "Standard account management on a steady cadence", "zh": "标准化客户管理，保持稳定的拜访节奏"},
            {"en": "Find the ones that can move into the top", "zh": "识别有潜力进入头部的客户重点培养"},
        ],
    },
    BOTTOM: {
        "strategy": {"en": "May drop or standardise: they use more resources than they bring.",
                     "zh": "可放弃或标准化服务：投入的资源多于带来的价值。"},
        "actions": [
            {"en": "Self-service or distributor coverage; no senior reps", "zh": "自助服务或交由经销商覆盖，不配置资深销售"},
            {"en": "Raise the minimum order or stop active follow-up", "zh": "提高起订量，或停止主动跟进"},
        ],
    },
    UNKNOWN: {
        "strategy": {"en": "Missing value: complete the data before tiering.", "zh": "数据缺失：先补全数据再分层。"},
        "actions": [{"en": "Fill in the missing value", "zh": "补全缺失的数据"}],
    },
}

TEMPLATES = {
    "en": {
        "pareto.missing": "{value_name} missing ({fields:names}): segment unknown",
        "pareto.position": "{value_name} {value:number}: the customers at or above it are {customer_share:.1%} of customers "
                           "and bring {cumulative_share:.1%} of {value_name}",
        "pareto.position_no_total": "{value_name} {value:number}: the customers at or above it are {customer_share:.1%} "
                                    "of customers; no customer has a positive {value_name}, so there are no value shares",
        "pareto.nonpositive": "{value_name} is not positive, so it brings no share → bottom",
        "pareto.top": "fewer than {top:pct} of customers rank above it → top",
        "pareto.middle": "below the top {top:pct} and above the bottom {bottom:pct} of customers → middle",
        "pareto.bottom": "within the bottom {bottom:pct} of customers → bottom",
        "pareto.segment": "the {segment:label} segment: {segment_customer_share:.1%} of customers bring "
                          "{segment_value_share:.1%} of {value_name}",
    },
    "zh": {
        "pareto.missing": "{value_name}缺失（{fields:names}）：无法分层",
        "pareto.position": "{value_name} {value:number}：不低于它的客户占客户数的 {customer_share:.1%}，"
                           "贡献了 {cumulative_share:.1%} 的{value_name}",
        "pareto.position_no_total": "{value_name} {value:number}：不低于它的客户占客户数的 {customer_share:.1%}；"
                                    "没有客户的{value_name}为正，无法计算价值占比",
        "pareto.nonpositive": "{value_name}不为正，不贡献价值 → 尾部",
        "pareto.top": "排在它前面的客户不足 {top:pct} → 头部",
        "pareto.middle": "位于前 {top:pct} 之后、后 {bottom:pct} 之前 → 腰部",
        "pareto.bottom": "位于客户数的后 {bottom:pct} → 尾部",
        "pareto.segment": "{segment:label}：{segment_customer_share:.1%} 的客户贡献了 {segment_value_share:.1%} 的{value_name}",
    },
}


def define(build: IrBuild) -> Defined | None:
    """Shares and segments from window functions over the value, largest first.

    Segments need only counts: the customers above a value are ``rank - 1``, those at
    or above it ``count(value)`` over the order (ties included, SQL's range frame).
    ``top`` and ``bottom`` are whole tie groups because both tests are monotone along
    the order, so each is one test per customer.  The cumulative share is the running
    sum of the positive values over their total; the last positive tie group and every
    customer below it get exactly 1.0.  A segment's share of the value is its positive
    values' sum over the total.
    """
    top = float(build.value("top", default=0.2))
    bottom = float(build.value("bottom", default=0.2))
    if top + bottom > 1 + 1e-12:
        build.error(f"top ({top:g}) and bottom ({bottom:g}) add up to more than 1", "bottom")
    compiled = build.number_or_field("value", DEFAULT_VALUE)
    if build.failed:
        return None
    blank, read_blank = build.blank_inputs(compiled)
    expr = compiled.code
    v, pos, F = Ref("value", expr.dtype), Ref("positive", expr.dtype), DType.FLOAT
    desc = (Sort(v, descending=True),)
    lets = [Let("value", expr), Let("positive", case((Compare(">", v, lit(0)), v), default=Lit(None, expr.dtype))),
            Let("known", Window("count", v)), Let("positives", Window("count", pos)),
            Let("rank", Window("rank", order=desc)), Let("upto", Window("count", v, order=desc)),
            Let("counted", Window("count", pos, order=desc)), Let("running", Window("sum", pos, order=desc)),
            Let("total", Window("sum", pos, order=desc, whole=True))]
    n, positives, counted = Ref("known", DType.INT), Ref("positives", DType.INT), Ref("counted", DType.INT)
    above = Arith("-", Ref("rank", DType.INT), lit(1))
    running, total = Ref("running", expr.dtype), Ref("total", expr.dtype)
    lets += [
        Let("share", case((Or((IsMissing(v), Compare("==", positives, lit(0)))), Lit(None, F)),
                          (Compare("==", counted, positives), lit(1.0)),
                          default=Arith("/", running, total))),
        Let("segment", case((IsMissing(v), lit(UNKNOWN)),
                            (And((Compare(">", v, lit(0)), Compare("<", Arith("/", above, n), lit(top)))), lit(TOP)),
                            (Or((Compare("<=", v, lit(0)),
                                    Compare("<=", Arith("/", Arith("-", n, above), n), lit(bottom)))), lit(BOTTOM)),
                            default=lit(MIDDLE))),
        Let("customer_share", case((IsMissing(v), Lit(None, F)), default=Arith("/", Ref("upto", DType.INT), n))),
    ]
    segment = Ref("segment", DType.STR)
    lets += [Let("segment_count", Window("count", v, partition=(segment,))),
             Let("segment_sum", Window("sum", pos, partition=(segment,)))]
    lets.append(Let("segment_value_share", case(
        (Compare("==", positives, lit(0)), Lit(None, F)),
        default=Arith("/", Coalesce((Ref("segment_sum", expr.dtype), lit(0))), total))))
    share, customer_share, segment_value = Ref("share", F), Ref("customer_share", F), Ref("segment_value_share", F)
    positive = Compare(">", v, lit(0))
    cuts = (("top", lit(top)), ("bottom", lit(bottom)))
    reasons = (
        Reason("pareto.missing", (("fields", blank),), IsMissing(v)),
        Reason("pareto.position", (("value", v), ("customer_share", customer_share), ("cumulative_share", share)),
               And((known(v), known(share)))),
        Reason("pareto.position_no_total", (("value", v), ("customer_share", customer_share)),
               And((known(v), IsMissing(share)))),
        Reason("pareto.nonpositive", (), Compare("<=", v, lit(0))),
        *(Reason(f"pareto.{cut}", cuts, And((positive, Compare("==", segment, lit(cut))))) for cut in (TOP, MIDDLE, BOTTOM)),
        Reason("pareto.segment", (("segment", segment),
                                  ("segment_customer_share", Arith("/", Ref("segment_count", DType.INT), n)),
                                  ("segment_value_share", segment_value)),
               And((known(v), known(segment_value)))),
    )
    logic = Logic(build.id, tuple(lets), segment, v, (("cumulative_share", share), ("customer_share", customer_share)),
                     reasons)
    middle = max(0.0, 1.0 - top - bottom)
    labels = {
        TOP: {"en": f"Top {_pct(top)}", "zh": f"头部 {_pct(top)}"},
        MIDDLE: {"en": f"Middle {_pct(middle)}", "zh": f"腰部 {_pct(middle)}"},
        BOTTOM: {"en": f"Bottom {_pct(bottom)}", "zh": f"尾部 {_pct(bottom)}"},
        UNKNOWN: {"en": "Unknown (missing value)", "zh": "未知（数据缺失）"},
        **build.value("labels", default={}),
    }
    names = {"value_name": build.value("value_label", default=compiled.source)}
    return Defined(logic, labels, names, {blank: read_blank})


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


PARETO = LogicKind(define, TEMPLATES, (("cumulative_share", "number"), ("customer_share", "number")), ABOUT)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("pareto", __doc__, CONFIG_SCHEMA, PARETO))
