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

from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tierkit.build import CompiledScheme, ConfigBuild, SchemeBuild
from tierkit.errors import Diagnostic
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize, show_number
from tierkit.population import quintile_scores
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

if TYPE_CHECKING:
    from tierkit.sqlbuild import SqlBuild

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

WORDS = {
    "en": {
        "recency": "recency", "frequency": "frequency", "monetary": "monetary",
        "dimension": "{name} {value} ({source}) → {letter} {score} of 5",
        "fixed": "{name} {value} ({source}): {bounds} → {letter} {score} of 5",
        "missing": "{name}: missing ({fields}); no {letter} score",
        "segment": "R {r} × FM {fm} (F {f}, M {m}) → {segment}",
        "unknown": "segment unknown: missing {fields}",
        "one_time": "one purchase ({source} = 1) → {segment}",
    },
    "zh": {
        "recency": "最近一次消费", "frequency": "消费频率", "monetary": "消费金额",
        "dimension": "{name} {value}（{source}）→ {letter} {score} 分（满分 5）",
        "fixed": "{name} {value}（{source}）：{bounds} → {letter} {score} 分（满分 5）",
        "missing": "{name}：缺失（{fields}），无 {letter} 分",
        "segment": "R {r} × FM {fm}（F {f}，M {m}）→ {segment}",
        "unknown": "无法细分：缺少 {fields}",
        "one_time": "仅消费一次（{source} = 1）→ {segment}",
    },
}


def compile_rfm(build: SchemeBuild) -> CompiledScheme:
    compiled, slots = [], []
    for key, _letter, default in DIMENSIONS:
        expression = build.number_or_field(key, default)
        slot = build.slot(key)
        compiled.append(expression)
        slots.append(slot)
    build.row([f"{slot.local} = {expression.code}" for slot, expression in zip(slots, compiled)], slots)
    blank = build.slot("blank")  # per dimension, the blank inputs behind a missing value, for its reason
    build.row([f"{blank.local} = (" + "".join(f"{build.missing_names(expression)} if {slot.local} is None else (), "
                                              for slot, expression in zip(slots, compiled)) + ")"], [blank])

    segments = build.value("segments", default=STANDARD_SEGMENTS)
    ranges = [_segment_ranges(build, index, segment) for index, segment in enumerate(segments)]
    table = _grid(build, segments, ranges)
    cuts = _cuts(build)
    one_time = bool(build.value("one_time", default=False))
    build.population(_scorer([slot.index for slot in slots], blank.index, build.outcome.index, table, cuts, one_time),
                     "RFM scores")

    labels = {}
    for segment in segments:
        labels.setdefault(segment["id"], segment.get("label", STANDARD_LABELS.get(segment["id"], segment["id"])))
    if one_time:
        labels.setdefault(ONE_TIME, STANDARD_LABELS[ONE_TIME])
    labels.setdefault(UNKNOWN, STANDARD_LABELS[UNKNOWN])
    about = {}
    for segment in segments:
        entry = dict(STANDARD_ABOUT.get(segment["id"], {}))
        if "strategy" in segment:
            entry["strategy"] = segment["strategy"]
        if "actions" in segment:
            entry["actions"] = list(segment["actions"])
        if entry:
            about.setdefault(segment["id"], entry)
    if one_time:
        about.setdefault(ONE_TIME, STANDARD_ABOUT[ONE_TIME])
    about.setdefault(UNKNOWN, STANDARD_ABOUT[UNKNOWN])
    sources = [expression.source for expression in compiled]
    reads = [sorted(expression.reads) or [expression.source] for expression in compiled]
    return CompiledScheme(explain=_explainer(sources, reads, labels, cuts, build.vocabulary), labels=labels, about=about,
                          run_warnings=_collapse_check(build, sources, cuts, one_time))


def _cuts(build: ConfigBuild) -> dict[str, tuple | None]:
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


def fixed_scores(values: Sequence, cuts: Sequence, descending: bool = False) -> list[int | None]:
    """Scores 1-5 by four ascending cut points, each the largest value of its bin: a
    value up to ``cuts[0]`` scores 1 (5 when ``descending``, lower being better), one
    above ``cuts[-1]`` scores 5 (1).  Missing stays missing."""
    return [None if value is None else (5 - bisect_left(cuts, value) if descending else 1 + bisect_left(cuts, value))
            for value in values]


def _dimension_scores(values: list, key: str, cuts: tuple | None) -> list[int | None]:
    descending = key == "recency"
    return quintile_scores(values, descending=descending) if cuts is None else fixed_scores(values, cuts, descending)


def _collapse_check(build: ConfigBuild, sources: list[str], cuts: dict[str, tuple | None], one_time: bool):
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


def _segment_ranges(build: SchemeBuild, index: int, segment: dict) -> dict[str, tuple[int, int]]:
    """A segment's inclusive score ranges by dimension (r, f, m, fm); absent means 1-5."""
    found = {}
    for key in ("r", "f", "m", "fm"):
        value = segment.get(key)
        low, high = (1, 5) if value is None else (value, value) if isinstance(value, int) else tuple(value)
        if low > high:
            build.error(f"the {key} range of segment {segment['id']!r} runs from {low} down to {high}", "segments", index, key)
        found[key] = (low, high)
    return found


def _index(r: int, f: int, m: int) -> int:
    return r * 36 + f * 6 + m


def _grid(build: SchemeBuild, segments: list[dict], ranges: list[dict]) -> list:
    """For every (R, F, M), the constant part of its outcome: (label, score, tags, rfm, fm).

    The first segment whose ranges hold the scores wins; a combination no segment
    takes is a ruleset error, so every customer with all three scores gets a segment.
    """
    table: list = [None] * _index(6, 0, 0)
    orphans, used = [], set()
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                fm = (f + m + 1) // 2
                scores = {"r": r, "f": f, "m": m, "fm": fm}
                match = next(
                    (segment for segment, limits in zip(segments, ranges)
                     if all(low <= scores[key] <= high for key, (low, high) in limits.items())),
                    None,
                )
                if match is None:
                    orphans.append(f"{r}{f}{m}")
                    continue
                used.add(id(match))
                table[_index(r, f, m)] = (match["id"], r + f + m, tuple(match.get("tags", ())), f"{r}{f}{m}", fm)
    if orphans and "segments" in build.config:
        shown = ", ".join(orphans[:5]) + (f" and {len(orphans) - 5} more" if len(orphans) > 5 else "")
        build.error(f"no segment takes the RFM scores {shown}", "segments",
                    hint="give a last segment with no ranges to take the rest")
    for index, segment in enumerate(segments):
        if id(segment) not in used:
            build.warn(f"segment {segment['id']!r} never applies: the segments before it take all its scores",
                       "segments", index)
    return table


def _scorer(slots: list[int], blank: int, out: int, table: list, cuts: dict[str, tuple | None], one_time: bool):
    """The population step: each dimension's scores, then the grid's segment; an
    unknown customer carries the blank inputs behind each missing dimension."""
    recency, frequency, monetary = slots

    def run(rows: list[list]) -> None:
        rs, fs, ms = (_dimension_scores([row[slot] for row in rows], key, cuts[key])
                      for slot, (key, _letter, _default) in zip(slots, DIMENSIONS))
        for row, r, f, m in zip(rows, rs, fs, ms):
            values = (row[recency], row[frequency], row[monetary])
            if r is None or f is None or m is None:
                row[out] = (UNKNOWN, None, (), (r, f, m, None, None, values, row[blank]))
            else:
                label, score, tags, rfm, fm = table[_index(r, f, m)]
                if one_time and values[1] == 1:
                    label, tags = ONE_TIME, ()
                row[out] = (label, score, tags, (r, f, m, rfm, fm, values, ((), (), ())))

    return run


def compile_rfm_sql(build: SqlBuild) -> None:
    """The SQL twin of :func:`compile_rfm`: quintile scores by window functions or fixed
    scores by cut points, FM, and ``one_time`` or the first segment whose ranges hold
    the scores (the grid's order)."""
    compiled = [build.number_or_field(key, default) for key, _letter, default in DIMENSIONS]
    segments = build.value("segments", default=STANDARD_SEGMENTS)
    ranges = [_segment_ranges(build, index, segment) for index, segment in enumerate(segments)]
    _grid(build, segments, ranges)  # the same checks as the Python compile
    cuts = _cuts(build)
    if any(d.severity == "error" for d in build.diagnostics):
        return  # the plan reports them
    dialect, literal = build.dialect, build.literal
    values = [build.column(key, expression.code) for (key, _letter, _default), expression in zip(DIMENSIONS, compiled)]
    scores = {
        letter.lower(): build.column(letter.lower(), quintile_sql(value, descending=key == "recency") if cuts[key] is None
                                     else fixed_sql(value, cuts[key], build.literal, descending=key == "recency"))
        for (key, letter, _default), value in zip(DIMENSIONS, values)
    }
    r, f, m = scores["r"], scores["f"], scores["m"]
    known = f"{r} IS NOT NULL AND {f} IS NOT NULL AND {m} IS NOT NULL"
    # (f + m + 1) // 2 of small positive integers: the double quotient floors exactly
    scores["fm"] = fm = f"(CASE WHEN {known} THEN CAST(floor(CAST({f} + {m} + 1 AS DOUBLE) / 2) AS BIGINT) END)"
    branches = []
    for index, limits in enumerate(ranges):
        tests = [f"{scores[key]} BETWEEN {low} AND {high}" for key, (low, high) in limits.items() if (low, high) != (1, 5)]
        branches.append(f"WHEN {' AND '.join(tests) or 'TRUE'} THEN {index}")
    segment = build.column("segment", f"CASE WHEN {known} THEN CASE {' '.join(branches)} END END")
    if build.value("one_time", default=False):  # before the grid, as in Python; the scores stay
        segment = build.column("one_time", f"CASE WHEN {known} AND {values[1]} = 1 THEN -1 ELSE {segment} END")
    label = (f"CASE {segment} WHEN -1 THEN {literal(ONE_TIME)} "
             + " ".join(f"WHEN {i} THEN {literal(item['id'])}" for i, item in enumerate(segments))
             + f" ELSE {literal(UNKNOWN)} END")
    tagged = [(i, item["tags"]) for i, item in enumerate(segments) if item.get("tags")]
    empty = dialect.list_of([])
    tags = (f"CASE {segment} " + " ".join(
        f"WHEN {i} THEN {dialect.list_of([literal(str(tag)) for tag in items])}" for i, items in tagged
    ) + f" ELSE {empty} END") if tagged else empty
    text = dialect.text_type
    build.outcome(
        label=label,
        score=f"CASE WHEN {known} THEN {r} + {f} + {m} END",
        tags=tags,
        r=r, f=f, m=m, fm=fm,
        rfm=f"CASE WHEN {known} THEN concat(CAST({r} AS {text}), CAST({f} AS {text}), CAST({m} AS {text})) END",
    )


def quintile_sql(value: str, descending: bool = False, buckets: int = 5) -> str:
    """:func:`tierkit.population.quintile_scores` of a column, as its docstring writes it.

    ``(buckets × (before + upto)) // (2n)`` is computed as the floor of a double
    quotient: the numerator is at most ``2 × buckets × n``, so for any population
    below 2**48 the quotient is never within a rounding error of the next integer.
    """
    direction = "DESC" if descending else "ASC"
    window = f"OVER (ORDER BY {value} {direction} NULLS LAST)"
    middle = f"{buckets} * ((rank() {window} - 1) + count({value}) {window})"
    return (f"CASE WHEN {value} IS NULL THEN NULL ELSE "
            f"1 + CAST(floor(CAST({middle} AS DOUBLE) / (2 * count({value}) OVER ())) AS BIGINT) END")


def fixed_sql(value: str, cuts: Sequence, literal, descending: bool = False) -> str:
    """:func:`fixed_scores` of a column: the first cut at or above the value gives the bin."""
    scores = range(5, 0, -1) if descending else range(1, 6)
    bins = " ".join(f"WHEN {value} <= {literal(cut)} THEN {score}" for cut, score in zip(cuts, scores))
    return f"CASE WHEN {value} IS NULL THEN NULL {bins} ELSE {list(scores)[-1]} END"


def _bounds(value, cuts: tuple) -> str:
    """Where a value sits among the cut points, as a reason shows it: ``90 < 120 ≤ 180``."""
    position = bisect_left(cuts, value)
    low = f"{show_number(cuts[position - 1])} < " if position > 0 else ""
    high = f" ≤ {show_number(cuts[position])}" if position < len(cuts) else ""
    return f"{low}{show_number(value)}{high}"


def _explainer(sources: list[str], reads: list[list[str]], labels: dict, cuts: dict[str, tuple | None], vocabulary: Vocabulary):
    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, _score, _tags, (r, f, m, _rfm, fm, values, blanks) = outcome
        reasons, missing = [], []
        for (key, letter, _default), score, value, source, reads_of, blank in zip(DIMENSIONS, (r, f, m), values, sources, reads, blanks):
            name = words[key]
            if score is None:
                fields = list(blank or reads_of)
                missing += [field for field in fields if field not in missing]
                reasons.append({"dimension": key, "missing": True, "fields": fields,
                                "text": words["missing"].format(name=name, fields=vocabulary.names(fields, lang), letter=letter)})
            else:
                template, bounds = ("dimension", "") if cuts[key] is None else ("fixed", _bounds(value, cuts[key]))
                reasons.append({"dimension": key, "value": value, "score": score,
                                "text": words[template].format(name=name, value=show_number(value), source=vocabulary.say(source, lang),
                                                               letter=letter, score=score, bounds=bounds)})
        if fm is None:
            reasons.append({"segment": UNKNOWN, "missing_fields": missing,
                            "text": words["unknown"].format(fields=vocabulary.names(missing, lang))})
        elif label == ONE_TIME:
            reasons.append({"segment": label, "r": r, "fm": fm,
                            "text": words["one_time"].format(source=vocabulary.say(sources[1], lang),
                                                             segment=localize(labels[label], lang))})
        else:
            reasons.append({"segment": label, "r": r, "fm": fm,
                            "text": words["segment"].format(r=r, fm=fm, f=f, m=m,
                                                            segment=localize(labels.get(label, label), lang))})
        return reasons

    return explain


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("rfm", __doc__, CONFIG_SCHEMA, compile_rfm, attributes={"r": ("integer", 0), "f": ("integer", 1), "m": ("integer", 2), "rfm": ("string", 3), "fm": ("integer", 4)},
                              compile_sql=compile_rfm_sql)
    )
