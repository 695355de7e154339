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

from typing import TYPE_CHECKING

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize, show_number
from tierkit.population import cumulative_share_by_value, tie_positions
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

if TYPE_CHECKING:
    from tierkit.sqlbuild import SqlBuild

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

WORDS = {
    "en": {
        "missing": "{value_name} missing ({fields}): segment unknown",
        "position": "{value_name} {value}: the customers at or above it are {customer_share:.1%} of customers "
                    "and bring {cumulative_share:.1%} of {value_name}",
        "position_no_total": "{value_name} {value}: the customers at or above it are {customer_share:.1%} of customers; "
                             "no customer has a positive {value_name}, so there are no value shares",
        TOP: "fewer than {top} of customers rank above it → top",
        MIDDLE: "below the top {top} and above the bottom {bottom} of customers → middle",
        BOTTOM: "within the bottom {bottom} of customers → bottom",
        "nonpositive": "{value_name} is not positive, so it brings no share → bottom",
        "segment": "the {segment} segment: {segment_customers:.1%} of customers bring {segment_value:.1%} of {value_name}",
    },
    "zh": {
        "missing": "{value_name}缺失（{fields}）：无法分层",
        "position": "{value_name} {value}：不低于它的客户占客户数的 {customer_share:.1%}，贡献了 {cumulative_share:.1%} 的{value_name}",
        "position_no_total": "{value_name} {value}：不低于它的客户占客户数的 {customer_share:.1%}；"
                             "没有客户的{value_name}为正，无法计算价值占比",
        TOP: "排在它前面的客户不足 {top} → 头部",
        MIDDLE: "位于前 {top} 之后、后 {bottom} 之前 → 腰部",
        BOTTOM: "位于客户数的后 {bottom} → 尾部",
        "nonpositive": "{value_name}不为正，不贡献价值 → 尾部",
        "segment": "{segment}：{segment_customers:.1%} 的客户贡献了 {segment_value:.1%} 的{value_name}",
    },
}


def compile_pareto(build: SchemeBuild) -> CompiledScheme:
    top = float(build.value("top", default=0.2))
    bottom = float(build.value("bottom", default=0.2))
    if top + bottom > 1 + 1e-12:
        build.error(f"top ({top:g}) and bottom ({bottom:g}) add up to more than 1", "bottom")
    value = build.number_or_field("value", DEFAULT_VALUE)
    slot, blank = build.slot("value"), build.slot("blank")
    build.row([f"{slot.local} = {value.code}", f"{blank.local} = {build.missing_names(value)} if {slot.local} is None else ()"],
              [slot, blank])
    build.population(_segmenter(slot.index, blank.index, build.outcome.index, top, bottom), "Pareto shares and segments")

    middle = max(0.0, 1.0 - top - bottom)
    labels = {
        TOP: {"en": f"Top {_pct(top)}", "zh": f"头部 {_pct(top)}"},
        MIDDLE: {"en": f"Middle {_pct(middle)}", "zh": f"腰部 {_pct(middle)}"},
        BOTTOM: {"en": f"Bottom {_pct(bottom)}", "zh": f"尾部 {_pct(bottom)}"},
        UNKNOWN: {"en": "Unknown (missing value)", "zh": "未知（数据缺失）"},
    }
    labels.update(build.value("labels", default={}))
    value_name = build.value("value_label", default=value.source)
    fields = sorted(value.reads) or [value.source]
    return CompiledScheme(explain=_explainer(value_name, fields, top, bottom, labels, build.vocabulary), labels=labels, about=ABOUT)


def _segmenter(value_slot: int, blank_slot: int, out: int, top: float, bottom: float):
    """The population step: shares, segments, and each segment's share of customers and value.

    Tied customers share one outcome tuple; an unknown one carries the blank inputs
    behind its missing value, for the reason.
    """

    def run(rows: list[list]) -> None:
        values = [row[value_slot] for row in rows]
        positions, known = tie_positions(values, descending=True)
        groups = list(positions.items())  # tie groups, largest value first: (value, (above, upto))
        shares = cumulative_share_by_value(values)
        outcome_of = {}
        for segment, first, end, stats in _segments(groups, known, shares, top, bottom):
            for value, (_above, upto) in groups[first:end]:
                outcome_of[value] = (segment, value, (), (shares.get(value), upto / known, value, stats, ()))
        for row, value in zip(rows, values):
            row[out] = (UNKNOWN, None, (), (None, None, None, None, row[blank_slot])) if value is None else outcome_of[value]

    return run


def _segments(groups: list, known: int, shares: dict, top: float, bottom: float) -> list[tuple]:
    """``(segment, first group, end group, (share of customers, share of value))`` of
    top, middle and bottom.

    ``above`` counts the customers with a larger value, ``known - above`` those at or
    below it.  Both tests are monotone along the order, so ``top`` is a run of whole
    tie groups from the start and ``bottom`` one to the end, and a segment's value
    share is the difference of the cumulative shares at its ends.
    """
    count = len(groups)
    top_end = next((i for i, (value, (above, _)) in enumerate(groups) if value <= 0 or not above / known < top), count)
    bottom_start = next(
        (i for i in range(top_end, count) if groups[i][0] <= 0 or (known - groups[i][1][0]) / known <= bottom), count
    )
    found, start, start_share = [], 0, 0.0
    for segment, end in ((TOP, top_end), (MIDDLE, bottom_start), (BOTTOM, count)):
        customers = (groups[end - 1][1][1] if end else 0) - (groups[start - 1][1][1] if start else 0)
        if segment == BOTTOM:
            end_share = 1.0
        else:
            end_share = shares.get(groups[end - 1][0], 0.0) if end > start else start_share
        value_share = end_share - start_share if shares else None
        found.append((segment, start, end, (customers / known if known else 0.0, value_share)))
        start, start_share = end, end_share
    return found


def compile_pareto_sql(build: SqlBuild) -> None:
    """The SQL twin of :func:`compile_pareto`: window functions over the value, largest first.

    Segments need only counts: ``above`` is ``rank() - 1`` and ``upto`` is
    ``count(v)`` over the default range frame (peers included), as
    :func:`tierkit.population.tie_positions` documents; ``top`` and ``bottom`` are
    whole tie groups because both tests are monotone along the order (see
    :func:`_segments`), so each is one test per customer.

    The cumulative share is the running sum of the positive parts (range frame: a tie
    group's end) over their total.  The last positive tie group and every customer
    below it get exactly 1.0, as in Python.  Spark adds an ordered frame row by row in
    order, as Python does, so its shares are Python's to the last bit; DuckDB adds
    window sums of doubles in a tree, so a share short of 1.0 may differ from
    Python's in the last bit (integer values sum exactly everywhere).  No segment
    depends on the shares.
    """
    top = float(build.value("top", default=0.2))
    bottom = float(build.value("bottom", default=0.2))
    value = build.number_or_field("value", DEFAULT_VALUE)
    if any(d.severity == "error" for d in build.diagnostics):
        return  # the plan reports them
    dialect, literal = build.dialect, build.literal
    v = build.column("value", value.code)
    order = f"ORDER BY {v} DESC NULLS LAST"
    positive = f"CASE WHEN {v} > 0 THEN {v} END"
    known = build.column("known", f"count({v}) OVER ()")
    positives = build.column("positives", f"count({positive}) OVER ()")
    above = build.column("above", f"rank() OVER ({order}) - 1")
    upto = build.column("upto", f"count({v}) OVER ({order})")
    counted = build.column("counted", f"count({positive}) OVER ({order})")
    running = build.column("running", f"sum({positive}) OVER ({order})")
    total = build.column("total", f"sum({positive}) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)")
    share = (f"CASE WHEN {v} IS NULL OR {positives} = 0 THEN NULL WHEN {counted} = {positives} THEN {literal(1.0)} "
             f"ELSE CAST({running} AS DOUBLE) / CAST({total} AS DOUBLE) END")
    is_top = f"{v} > 0 AND {dialect.divide(above, known)} < {literal(top)}"
    is_bottom = f"{v} <= 0 OR {dialect.divide(f'{known} - {above}', known)} <= {literal(bottom)}"
    label = (f"CASE WHEN {v} IS NULL THEN {literal(UNKNOWN)} WHEN {is_top} THEN {literal(TOP)} "
             f"WHEN {is_bottom} THEN {literal(BOTTOM)} ELSE {literal(MIDDLE)} END")
    customer_share = f"CASE WHEN {v} IS NULL THEN NULL ELSE {dialect.divide(upto, known)} END"
    build.outcome(label=label, score=v, cumulative_share=share, customer_share=customer_share)


def _explainer(value_label, fields: list[str], top: float, bottom: float, labels: dict, vocabulary: Vocabulary):
    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        value_name = localize(value_label, lang)
        label, _score, _tags, (share, customer_share, value, stats, blank) = outcome
        if stats is None:
            named = list(blank or fields)
            return [{"missing": True, "fields": named,
                     "text": words["missing"].format(value_name=value_name, fields=vocabulary.names(named, lang))}]
        key = "position" if share is not None else "position_no_total"
        reasons = [{"value": value, "customer_share": customer_share, "cumulative_share": share,
                    "text": words[key].format(value_name=value_name, value=show_number(value), customer_share=customer_share,
                                              cumulative_share=share or 0.0)}]
        cut = "nonpositive" if value <= 0 else label
        reasons.append({"segment": label, "text": words[cut].format(value_name=value_name, top=_pct(top), bottom=_pct(bottom))})
        segment_customers, segment_value = stats
        if segment_value is not None:
            reasons.append({
                "segment": label, "segment_customer_share": segment_customers, "segment_value_share": segment_value,
                "text": words["segment"].format(segment=localize(labels.get(label, label), lang), value_name=value_name,
                                                segment_customers=segment_customers, segment_value=segment_value),
            })
        return reasons

    return explain


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("pareto", __doc__, CONFIG_SCHEMA, compile_pareto, attributes={"cumulative_share": ("number", 0), "customer_share": ("number", 1)},
                              compile_sql=compile_pareto_sql)
    )
