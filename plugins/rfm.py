"""The ``rfm`` scheme kind: recency, frequency and monetary scores, and RFM segments.

Each dimension scores 1-5 by population quintile: ``recency`` (default
``recency_days``; lower is better, so the most recent fifth gets R 5), ``frequency``
(default ``order_count``) and ``monetary`` (default ``revenue``).  ``bins: fixed``
(or ``bins: {recency: fixed}`` for some dimensions) scores by four cut points instead
(``cuts: {recency: [30, 90, 180, 365]}``, each the largest value of its bin): a
customer silent for a year then gets R 1 however quiet the others are.  Equal values always
get equal scores: a tie group takes the score of its middle position, ``1 + (5 ×
(before + upto)) // (2n)`` where ``before`` counts the known values ranked before it,
``upto`` those ranked before it or tied with it, and ``n`` the known values of that
dimension; for distinct values each score goes to n/5 customers, rounded down or up.
A missing value gives that dimension no score and the segment ``unknown``, with a
reason naming the missing fields.  The segment comes from R and FM = (F + M) / 2,
rounded half up, through the standard R × FM grid (champions, loyal, potential
loyalist, new customers, promising, need attention, about to sleep, at risk, can't
lose them, hibernating, lost); ``segments`` replaces the grid, and ``one_time: true``
puts every customer whose frequency is 1 in ``one_time`` first.  Ties that put more
than 40% of the customers in one quintile score are warned of at run time, naming
the dimension.  The score is R + F + M
(3-15); ``r``, ``f``, ``m``, ``fm`` (integers) and ``rfm`` (text such as ``"545"``)
can be read from expressions.

Example::

    - id: rfm
      kind: rfm
      label: {en: RFM segment, zh: RFM 客户细分}
      recency: "days_since(last_order_date)"
      frequency: orders_per_year
      monetary: revenue_last_12m
"""

from __future__ import annotations

from tierkit.kinds import (
    Arith, Bindings, Concat, Defined, Diagnostic, DType, IrBuild, Lit, Logic, LogicKind, Reason, Sort, Window, all_of, case,
    eq, first_match, hookimpl, known, le, lit, logic_kind, missing, not_, tags,
)

UNKNOWN = "unknown"
ONE_TIME = "one_time"
COLLAPSED_SHARE = 0.4  # a quintile score holding more of the customers than this is a collapse
DIMENSIONS = (("recency", "R", "recency_days"), ("frequency", "F", "order_count"), ("monetary", "M", "revenue"))
LABEL_REF = {"$ref": "#/$defs/label"}
SCORE_RANGE = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 5},
        {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 5}, "minItems": 2, "maxItems": 2},
    ]
}


def _range(title: str, what: str) -> dict:
    return {**SCORE_RANGE, "title": title,
            "description": f"The {what} this segment takes: one score 1-5, or [lowest, highest]; left out, any."}


BIN_METHOD = {"enum": ["quintile", "fixed"]}
CUTS = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}
CUT_WHAT = {
    "recency": ("Recency cuts", "[30, 90, 180, 365]: up to 30 days R 5, 31-90 R 4, 91-180 R 3, 181-365 R 2, "
                "over a year R 1 (lower is better)"),
    "frequency": ("Frequency cuts", "[1, 2, 4, 8]: one purchase F 1, two F 2, 3-4 F 3, 5-8 F 4, more F 5"),
    "monetary": ("Monetary cuts", "[500, 2000, 5000, 20000]: up to 500 M 1, up to 2,000 M 2, … over 20,000 M 5"),
}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "bins": {
            "title": "Bins",
            "description": "How a dimension's value becomes a score 1-5: quintile (the default: by position among "
                           "the customers, relative) or fixed (by the cut points in cuts, absolute); one method for "
                           "all three, or a map such as {recency: fixed} (a dimension left out: quintile).",
            "default": "quintile",
            "anyOf": [
                BIN_METHOD,
                {"type": "object", "additionalProperties": False, "minProperties": 1,
                 "properties": {key: {**BIN_METHOD, "title": f"{key.capitalize()} bins",
                                      "description": f"How {key} becomes a score: quintile or fixed (by cuts.{key})."}
                                for key in ("recency", "frequency", "monetary")}},
            ],
        },
        "cuts": {
            "type": "object",
            "title": "Cut points",
            "description": "For each dimension binned fixed, four ascending numbers in its own unit (days for the "
                           "default recency): each is the largest value of its bin, so a value up to the first cut "
                           "is in the first bin and one above the last cut in the fifth.",
            "additionalProperties": False,
            "properties": {key: {**CUTS, "title": title, "description": f"Example {example}."}
                           for key, (title, example) in CUT_WHAT.items()},
        },
        "one_time": {
            "type": "boolean",
            "default": False,
            "title": "One-time buyers",
            "description": "true: a customer whose frequency is exactly 1 gets the segment one_time (一次性客户), "
                           "before the grid or segments; the scores stay as they are.",
        },
        "recency": {"type": "string", "title": "Recency",
                    "description": "An expression: days since the last order; lower is better (default recency_days)."},
        "frequency": {"type": "string", "title": "Frequency",
                      "description": "An expression: how often the customer buys (default order_count)."},
        "monetary": {"type": "string", "title": "Monetary",
                     "description": "An expression: how much the customer spends (default revenue)."},
        "segments": {
            "type": "array",
            "minItems": 1,
            "title": "Segments",
            "description": "Replaces the standard R × FM grid: the first segment whose ranges hold the scores "
                           "gives the label; every combination of scores must find one.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "title": "Segment id",
                           "description": "The label, as expressions compare it; a standard id keeps its labels and playbook."},
                    "label": LABEL_REF,
                    "r": _range("R scores", "recency scores"),
                    "f": _range("F scores", "frequency scores"),
                    "m": _range("M scores", "monetary scores"),
                    "fm": _range("FM scores", "FM scores ((F + M) / 2, rounded half up)"),
                    "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags",
                             "description": "Tags the outcome carries."},
                    "strategy": {**LABEL_REF, "title": "Strategy", "description": "The segment's strategy, for briefs."},
                    "actions": {"type": "array", "items": LABEL_REF, "title": "Actions",
                                "description": "Recommended actions, for briefs."},
                },
                "required": ["id"],
                "additionalProperties": False,
            },
        },
    },
}


def _about(strategy_en, strategy_zh, *actions) -> dict:
    return {
        "strategy": {"en": strategy_en, "zh": strategy_zh},
        "actions": [{"en": en, "zh": zh} for en, zh in actions],
    }


# The standard R × FM grid (R down, FM across):
#        FM 1            FM 2            FM 3             FM 4        FM 5
#  R 5   new_customers   potential_loyalist               champions
#  R 4   promising       potential_loyalist               loyal
#  R 3   about_to_sleep  about_to_sleep  need_attention   loyal
#  R 2   hibernating     hibernating     at_risk          at_risk     cant_lose
#  R 1   lost            lost            at_risk          at_risk     cant_lose
STANDARD_SEGMENTS = [
    {"id": "champions", "r": 5, "fm": [4, 5]},
    {"id": "loyal", "r": [3, 4], "fm": [4, 5]},
    {"id": "potential_loyalist", "r": [4, 5], "fm": [2, 3]},
    {"id": "new_customers", "r": 5, "fm": 1},
    {"id": "promising", "r": 4, "fm": 1},
    {"id": "need_attention", "r": 3, "fm": 3},
    {"id": "about_to_sleep", "r": 3, "fm": [1, 2]},
    {"id": "cant_lose", "r": [1, 2], "fm": 5},
    {"id": "at_risk", "r": [1, 2], "fm": [3, 4]},
    {"id": "hibernating", "r": 2, "fm": [1, 2]},
    {"id": "lost", "r": 1, "fm": [1, 2]},
]

STANDARD_LABELS = {
    "champions": {"en": "Champions", "zh": "重要价值客户"},
    "loyal": {"en": "Loyal", "zh": "忠诚客户"},
    "potential_loyalist": {"en": "Potential loyalist", "zh": "潜力客户"},
    "new_customers": {"en": "New customers", "zh": "新客户"},
    "promising": {"en": "Promising", "zh": "有潜力新客户"},
    "need_attention": {"en": "Need attention", "zh": "需要关注"},
    "about_to_sleep": {"en": "About to sleep", "zh": "即将沉睡"},
    "at_risk": {"en": "At risk", "zh": "流失风险"},
    "cant_lose": {"en": "Can't lose them", "zh": "不能失去"},
    "hibernating": {"en": "Hibernating", "zh": "休眠客户"},
    "lost": {"en": "Lost", "zh": "流失客户"},
    ONE_TIME: {"en": "One-time buyers", "zh": "一次性客户"},
    UNKNOWN: {"en": "Unknown (missing data)", "zh": "未知（数据缺失）"},
}

STANDARD_ABOUT = {
    "champions": _about(
        "Bought recently, often and the most: reward them and make them references.",
        "近期、高频、高额的冠军客户：重点维护，给予专属权益，发展为标杆和转介绍来源。",
        ("Dedicated account attention and early access to new products", "专人维护，新品优先试用"),
        ("Ask for referrals, testimonials and case studies", "邀请转介绍、客户证言和案例合作"),
    ),
    "loyal": _about(
        "Buy regularly and well: deepen the relationship and sell up.",
        "稳定采购的忠诚客户：深化关系，向上销售。",
        ("Offer higher-value products and bundles", "推荐更高价值的产品和组合方案"),
        ("Invite to loyalty terms and customer events", "提供长期合作条款，邀请参加客户活动"),
    ),
    "potential_loyalist": _about(
        "Recent buyers with average volume: turn them into loyal customers.",
        "近期有采购、金额中等：培养为忠诚客户。",
        ("Propose a framework agreement or membership terms", "提出框架协议或会员方案"),
        ("Recommend related products from their purchases", "根据已购产品推荐相关产品，提升频次"),
    ),
    "new_customers": _about(
        "Bought recently for the first time or little: make the first experience a success.",
        "刚完成首单的新客户：做好首单交付，建立信任。",
        ("Follow up on delivery and onboarding", "首单交付后及时回访，做好使用指导"),
        ("Introduce the wider range gently", "适度介绍其他产品线"),
    ),
    "promising": _about(
        "Recent but small buyers: build awareness and a second order.",
        "近期有采购但量小的潜力新客户：提升认知，促成复购。",
        ("Offer a trial or a small incentive for the next order", "提供试用或小额优惠，促成第二单"),
        ("Share useful content and references", "分享行业资料和成功案例"),
    ),
    "need_attention": _about(
        "Average on every count and slipping: reactivate before they drift.",
        "各项居中、开始下滑：在流失前重新激活。",
        ("Make a time-limited offer based on past purchases", "基于历史采购给出限时方案"),
        ("Call to find out what changed", "电话了解需求变化"),
    ),
    "about_to_sleep": _about(
        "Not seen for a while and small: reconnect at low cost.",
        "一段时间未采购且量小：低成本重新建立联系。",
        ("Share popular products and useful resources", "推送热门产品和有价值的资料"),
        ("Invite to an event or webinar", "邀请参加活动或线上讲座"),
    ),
    "at_risk": _about(
        "Used to buy often and well, not lately: find the cause and win them back.",
        "曾经高频高额、近期未采购：查明原因，积极挽回。",
        ("Visit in person and find the cause: relationship, price, competitor", "上门拜访，查明原因：关系、价格还是竞争对手"),
        ("Offer renewal terms, service or price adjustments", "提供续约条款、服务或价格调整"),
    ),
    "cant_lose": _about(
        "Among the biggest buyers, gone quiet: do not lose them to a competitor.",
        "曾经的大客户、近期沉寂：绝不能被竞争对手夺走。",
        ("Escalate: a senior manager or executive calls", "升级处理：由经理或高层出面沟通"),
        ("Defend on three fronts: relationship, commercial terms, risk", "从关系、商务条件、风险三方面防守"),
    ),
    "hibernating": _about(
        "Long inactive, low value: revive cheaply or let go.",
        "长期未采购、价值较低：低成本唤醒，否则放手。",
        ("Send relevant offers through low-cost channels", "通过低成本渠道推送相关优惠"),
        ("Standardised or self-service follow-up only", "仅做标准化或自助式跟进"),
    ),
    "lost": _about(
        "Lowest on every count: no further investment unless they come back.",
        "各项最低的流失客户：不再投入，除非主动回归。",
        ("One low-cost win-back attempt, then stop", "做一次低成本挽回尝试，无效即停止"),
    ),
    ONE_TIME: _about(
        "Bought once: earn the second purchase before the first is forgotten.",
        "只消费过一次：趁印象还在，促成第二次消费。",
        ("Follow up after the first purchase: satisfaction, and a reason to come back", "首次消费后回访：了解满意度，给出再来的理由"),
        ("Offer a time-limited second-visit incentive", "提供限时的二次消费优惠"),
    ),
    UNKNOWN: _about(
        "Missing data: complete the customer file before segmenting.",
        "数据缺失：先补全客户档案，再做细分。",
        ("Fill in the missing order data", "补全缺失的订单数据"),
    ),
}

TEMPLATES = {
    "en": {
        "rfm.dimension": "{dimension:in:dimensions} {value:number} ({source:say}) → {letter} {score} of 5",
        "rfm.fixed_low": "{dimension:in:dimensions} {value:number} ({source:say}): {value:number} ≤ {high:number} "
                         "→ {letter} {score} of 5",
        "rfm.fixed": "{dimension:in:dimensions} {value:number} ({source:say}): {low:number} < {value:number} ≤ {high:number} "
                     "→ {letter} {score} of 5",
        "rfm.fixed_high": "{dimension:in:dimensions} {value:number} ({source:say}): {low:number} < {value:number} "
                          "→ {letter} {score} of 5",
        "rfm.missing": "{dimension:in:dimensions}: missing ({fields:names}); no {letter} score",
        "rfm.segment": "R {r} × FM {fm} (F {f}, M {m}) → {segment:label}",
        "rfm.unknown": "segment unknown: missing {missing_fields:names}",
        "rfm.one_time": "one purchase ({source:say} = 1) → {segment:label}",
    },
    "zh": {
        "rfm.dimension": "{dimension:in:dimensions} {value:number}（{source:say}）→ {letter} {score} 分（满分 5）",
        "rfm.fixed_low": "{dimension:in:dimensions} {value:number}（{source:say}）：{value:number} ≤ {high:number} "
                         "→ {letter} {score} 分（满分 5）",
        "rfm.fixed": "{dimension:in:dimensions} {value:number}（{source:say}）：{low:number} < {value:number} ≤ {high:number} "
                     "→ {letter} {score} 分（满分 5）",
        "rfm.fixed_high": "{dimension:in:dimensions} {value:number}（{source:say}）：{low:number} < {value:number} "
                          "→ {letter} {score} 分（满分 5）",
        "rfm.missing": "{dimension:in:dimensions}：缺失（{fields:names}），无 {letter} 分",
        "rfm.segment": "R {r} × FM {fm}（F {f}，M {m}）→ {segment:label}",
        "rfm.unknown": "无法细分：缺少 {missing_fields:names}",
        "rfm.one_time": "仅消费一次（{source:say} = 1）→ {segment:label}",
    },
}
DIMENSION_NAMES = {"recency": {"en": "recency", "zh": "最近一次消费"}, "frequency": {"en": "frequency", "zh": "消费频率"},
                   "monetary": {"en": "monetary", "zh": "消费金额"}}


def define(build: IrBuild) -> Defined | None:
    """Each dimension's score from window counts over its value (a quintile) or from its
    cut points, FM, and ``one_time`` or the first segment whose ranges hold the scores.

    A quintile score is ``1 + (5 × (before + upto)) // (2n)`` in integers: ``before``
    is ``rank - 1`` over the order, ``upto`` the known values up to the value's last
    tie (SQL's range frame), ``n`` the known values; recency is ordered largest first,
    lower being better."""
    compiled = [build.number_or_field(key, default) for key, _letter, default in DIMENSIONS]
    segments = build.value("segments", default=STANDARD_SEGMENTS)
    ranges = [_segment_ranges(build, index, segment) for index, segment in enumerate(segments)]
    _check_grid(build, segments, ranges)
    cuts = _cuts(build)
    one_time = bool(build.value("one_time", default=False))
    if build.failed:
        return None
    let = Bindings()
    values, scores, reasons, readers = {}, {}, [], {}
    for (key, letter, _default), expression in zip(DIMENSIONS, compiled):
        value = values[key] = let(key, expression.code)
        score = let(letter.lower(), _score(let, key, value, cuts[key]))
        scores[letter.lower()] = score
        blank, readers[blank] = build.blank_inputs(expression)
        dimension, named = ("dimension", lit(key)), ("letter", lit(letter))
        shown = (dimension, ("value", value), ("source", lit(expression.source)), named, ("score", score))
        reasons.append(Reason("rfm.missing", (dimension, named, ("missing", lit(True)), ("fields", blank)), missing(score)))
        reasons += _score_reasons(key, shown, score, cuts[key])
    r, f, m = scores["r"], scores["f"], scores["m"]
    all_known = all_of(known(r), known(f), known(m))
    fm = let("fm", case((all_known, Arith("//", Arith("+", Arith("+", f, m), lit(1)), lit(2)))))
    in_range = {"r": r, "f": f, "m": m, "fm": fm}
    grid = first_match("grid", [(_holds(limits, in_range), segment["id"]) for segment, limits in zip(segments, ranges)])
    let.extend(grid.lets)
    single = all_of(all_known, eq(values["frequency"], 1)) if one_time else lit(False)
    label = let("segment", case((not_(all_known), lit(UNKNOWN)), (single, lit(ONE_TIME)), default=grid.value))
    chosen = all_of(all_known, not_(single))
    outcome_tags = tags(*((str(tag), all_of(chosen, grid.decided(number)))
                          for number, segment in enumerate(segments, 1) for tag in segment.get("tags", ())))
    reasons += [
        Reason("rfm.unknown", (), not_(all_known)),
        Reason("rfm.one_time", (("source", lit(compiled[1].source)), ("segment", label)), single),
        Reason("rfm.segment", (("r", r), ("fm", fm), ("f", f), ("m", m), ("segment", label)), chosen),
    ]
    rfm = case((all_known, Concat((r, f, m))), default=Lit(None, DType.STR))
    score = case((all_known, Arith("+", Arith("+", r, f), m)), default=Lit(None, DType.INT))
    logic = Logic(build.id, let.lets, label, score, (("r", r), ("f", f), ("m", m), ("rfm", rfm), ("fm", fm)),
                  tuple(reasons), tags=outcome_tags)
    labels, about = _content(segments, one_time)
    sources = [expression.source for expression in compiled]
    return Defined(logic, labels, readers=readers, tables={"dimensions": DIMENSION_NAMES}, finish=_finish, about=about,
                   run_warnings=_collapse_check(build, sources, cuts, one_time))


def _holds(limits: dict[str, tuple[int, int]], scores: dict):
    """Whether the scores lie in a segment's ranges (a range of 1-5 holds any score)."""
    tests = [test for key, (low, high) in limits.items() if (low, high) != (1, 5)
             for test in (le(low, scores[key]), le(scores[key], high))]
    return all_of(*tests) if tests else lit(True)


def _score(let: Bindings, key: str, value, cuts: tuple | None):
    """A dimension's score 1-5 from its bound value: by quintile (window counts) or by
    its cut points (the first cut at or above the value gives the bin)."""
    descending = key == "recency"
    if cuts is not None:
        bins = range(5, 0, -1) if descending else range(1, 6)
        return case((missing(value), Lit(None, DType.INT)), *((le(value, cut), lit(score)) for cut, score in zip(cuts, bins)),
                    default=lit(list(bins)[-1]))
    order = (Sort(value, descending=descending),)
    rank = let(f"{key}_rank", Window("rank", order=order))
    upto = let(f"{key}_upto", Window("count", value, order=order))
    known_values = let(f"{key}_n", Window("count", value))
    middle = Arith("*", lit(5), Arith("+", Arith("-", rank, lit(1)), upto))
    return case((missing(value), Lit(None, DType.INT)),
                default=Arith("+", lit(1), Arith("//", middle, Arith("*", lit(2), known_values))))


def _score_reasons(key: str, shown: tuple, score, cuts: tuple | None) -> list[Reason]:
    """The reason for a dimension's score: its value against the quintiles, or between
    the cut points of its bin (the bin is the score's, counted from the low end)."""
    if cuts is None:
        return [Reason("rfm.dimension", shown, known(score))]
    position = Arith("-", lit(5), score) if key == "recency" else Arith("-", score, lit(1))  # cuts below the value
    low = case(*((eq(position, index), lit(cuts[index - 1])) for index in range(2, 4)), default=lit(cuts[0]))
    high = case(*((eq(position, index), lit(cuts[index])) for index in range(2, 4)), default=lit(cuts[1]))
    return [Reason("rfm.fixed_low", (*shown, ("high", lit(cuts[0]))), eq(position, 0)),
            Reason("rfm.fixed", (*shown, ("low", low), ("high", high)), all_of(le(1, position), le(position, 3))),
            Reason("rfm.fixed_high", (*shown, ("low", lit(cuts[3]))), eq(position, 4))]


def _content(segments: list[dict], one_time: bool) -> tuple[dict, dict]:
    """The labels and playbooks of the segments, one_time and unknown."""
    labels, about = {}, {}
    for segment in segments:
        labels.setdefault(segment["id"], segment.get("label", STANDARD_LABELS.get(segment["id"], segment["id"])))
        entry = dict(STANDARD_ABOUT.get(segment["id"], {}))
        if "strategy" in segment:
            entry["strategy"] = segment["strategy"]
        if "actions" in segment:
            entry["actions"] = list(segment["actions"])
        if entry:
            about.setdefault(segment["id"], entry)
    for extra in ((ONE_TIME,) if one_time else ()) + (UNKNOWN,):
        labels.setdefault(extra, STANDARD_LABELS[extra])
        about.setdefault(extra, STANDARD_ABOUT[extra])
    return labels, about


def _finish(records: list[dict], outcome: tuple) -> None:
    """An unknown segment names the blank fields of every missing dimension, once each."""
    for record in records:
        if record["code"] == "rfm.unknown":
            found = [name for other in records if other["code"] == "rfm.missing" for name in other["fields"]]
            record["missing_fields"] = list(dict.fromkeys(found))


def _cuts(build: IrBuild) -> dict[str, tuple | None]:
    """Each dimension's cut points when ``bins`` makes it fixed, None when it is scored
    by quintile.  A fixed dimension without cuts, cuts that do not ascend, and cuts for
    a quintile dimension (they would be ignored) are errors."""
    method = build.value("bins", default="quintile")
    given = build.value("cuts", default=None) or {}
    found: dict[str, tuple | None] = {}
    for key, _letter, _default in DIMENSIONS:
        fixed = (method if isinstance(method, str) else method.get(key, "quintile")) == "fixed"
        cuts = given.get(key)
        found[key] = None
        if not fixed:
            if cuts is not None:
                build.error(f"cuts for {key}, which is scored by quintile, would be ignored", "cuts", key,
                            hint=f"write bins: fixed, or bins: {{{key}: fixed}}")
        elif cuts is None:
            build.error(f"{key} is binned fixed and has no cut points", "bins",
                        hint=f"give cuts: {{{key}: [four ascending numbers]}}")
        elif any(low >= high for low, high in zip(cuts, cuts[1:])):
            build.error(f"the {key} cuts {list(cuts)} do not ascend", "cuts", key,
                        hint="each cut is the largest value of its bin, smallest first")
        else:
            found[key] = tuple(cuts)
    return found


def _collapse_check(build: IrBuild, sources: list[str], cuts: dict[str, tuple | None], one_time: bool):
    """The run-time check of the quintile dimensions: when ties put more than 40% of
    the customers with a value in one score (e.g. most customers bought once, so they
    share one F), the quintiles say little, and the warning names the dimension.

    ``count(detail_index)`` gives how many customers have each score; both engines
    supply it from their results.  Without ties no score holds more than ⌈n/5⌉
    customers, above 40% only for n ≤ 2 with one customer each: a score must hold two
    or more to count.  Fixed bins are the author's choice and never warned of."""
    checked = [(index, key, letter, source) for index, ((key, letter, _d), source) in enumerate(zip(DIMENSIONS, sources))
               if cuts[key] is None]
    if not checked:
        return None
    position = build.position()
    scheme = build.id

    def check(count) -> list[Diagnostic]:
        found = []
        for index, key, letter, source in checked:
            scores = {score: n for score, n in count(index).items() if score is not None}
            known = sum(scores.values())
            score, most = max(scores.items(), key=lambda item: (item[1], -item[0]), default=(None, 0))
            if most >= 2 and most > COLLAPSED_SHARE * known:
                hint = f"score it by cut points: bins: {{{key}: fixed}} with cuts: {{{key}: [...]}}"
                if key == "frequency" and not one_time:
                    hint += "; one_time: true sets single buyers apart"
                found.append(Diagnostic(
                    f"{scheme}: ties put {most / known:.0%} of the customers ({most:,} of {known:,}) in {letter} {score}: "
                    f"{key} ({source}) by quintile tells them apart little", position, "warning", hint))
        return found

    return check


def _segment_ranges(build: IrBuild, index: int, segment: dict) -> dict[str, tuple[int, int]]:
    """A segment's inclusive score ranges by dimension (r, f, m, fm); absent means 1-5."""
    found = {}
    for key in ("r", "f", "m", "fm"):
        value = segment.get(key)
        low, high = (1, 5) if value is None else (value, value) if isinstance(value, int) else tuple(value)
        if low > high:
            build.error(f"the {key} range of segment {segment['id']!r} runs from {low} down to {high}", "segments", index, key)
        found[key] = (low, high)
    return found


def _check_grid(build: IrBuild, segments: list[dict], ranges: list[dict]) -> None:
    """Every (R, F, M) must find a segment, the first whose ranges hold its scores (a
    combination no segment takes is a ruleset error, so every customer with all three
    scores gets one); a segment the ones before it leave nothing is warned of."""
    orphans, used = [], set()
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                scores = {"r": r, "f": f, "m": m, "fm": (f + m + 1) // 2}
                match = next((index for index, limits in enumerate(ranges)
                              if all(low <= scores[key] <= high for key, (low, high) in limits.items())), None)
                if match is None:
                    orphans.append(f"{r}{f}{m}")
                used.add(match)
    if orphans and "segments" in build.config:
        shown = ", ".join(orphans[:5]) + (f" and {len(orphans) - 5} more" if len(orphans) > 5 else "")
        build.error(f"no segment takes the RFM scores {shown}", "segments",
                    hint="give a last segment with no ranges to take the rest")
    for index, segment in enumerate(segments):
        if index not in used:
            build.warn(f"segment {segment['id']!r} never applies: the segments before it take all its scores",
                       "segments", index)


RFM = LogicKind(define, TEMPLATES, (("r", "integer"), ("f", "integer"), ("m", "integer"), ("rfm", "string"), ("fm", "integer")),
                STANDARD_ABOUT)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("rfm", __doc__, CONFIG_SCHEMA, RFM))
