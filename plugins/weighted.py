"""The ``weighted`` scheme kind: multi-indicator weighted grading (多指标加权法).

Each indicator gives 0-100 points, from an expression (``points``) or from a value
normalised by ``bins`` (first bin whose ``min`` the value reaches), ``linear``
(``from`` → 0 points, ``to`` → 100, clamped) or ``percentile`` (the share of the
population at or below the value, × 100).  The score is the weighted sum of points
over the indicators that are known, divided by their weights: an indicator with a
missing value is left out and the others are renormalised.  ``weights_total`` says
what happens when the weights do not sum to 1: ``normalise`` scales the score to
0-100; ``as-is`` keeps the declared total (weights summing to 0.7 give at most 70).
Left unsaid with weights off 1, the score is normalised and validation warns.  More
missing indicators than ``missing.tolerance`` (default 0) give an explicit
``insufficient_data`` outcome naming the missing fields, never a silently low grade.
Grades come from score thresholds (``min``) or population shares (``share``: the top
share of customers by score; the last grade takes the rest); ``promote`` lifts a customer to at least a grade when
a condition holds.  ``hysteresis`` (threshold grades only) is a margin in points: a
customer keeps the grade of the latest saved run (``previous_run``) until the score
passes the next threshold up by the margin (score >= min + margin) or falls below
its grade's own threshold by more than it (score < min - margin), so grades near a
threshold do not flip from run to run; without a saved run it does nothing.  Reasons
give every indicator's value, points, weight and contribution, the threshold
crossed, how far the next grade is, and when the previous grade was kept.

Example::

    - id: grade
      kind: weighted
      weights_total: as-is
      missing: {tolerance: 1}
      indicators:
        - {id: scale, weight: 0.3, value: annual_procurement, bins: [{min: 1.0e9, points: 100}, {min: 0, points: 20}]}
        - {id: margin, weight: 0.7, value: gross_margin_pct, linear: {from: 5, to: 40}}
      grades:
        - {id: S, min: 80}
        - {id: A, min: 50}
        - {id: B, min: 0}
"""

from __future__ import annotations

import math

from tierkit.kinds import (
    And, Arith, Compare, Defined, DType, IrBuild, IsMissing, Let, Lit, Logic, LogicKind, Not, Or, Reason, Ref, Sort, Window, case,
    hookimpl, holds, known, lit, logic_kind, score_decimals, shown_parts, shown_score, shown_threshold, total,
)

INSUFFICIENT = "insufficient_data"
LABEL_REF = {"$ref": "#/$defs/label"}
EXPRESSION = {"type": "string", "title": "Expression"}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "weights_total": {
            "enum": ["normalise", "as-is"],
            "title": "Weights total",
            "description": "When weights do not sum to 1: normalise the score to 0-100, or keep the declared total.",
        },
        "missing": {
            "type": "object",
            "title": "Missing data",
            "description": "How many indicators may be missing before the outcome is insufficient_data.",
            "properties": {
                "tolerance": {"type": "integer", "minimum": 0, "title": "Tolerance", "description": "Missing indicators allowed."},
                "label": LABEL_REF,
            },
            "additionalProperties": False,
        },
        "indicators": {
            "type": "array",
            "minItems": 1,
            "title": "Indicators",
            "description": "The scored indicators, each 0-100 points with a weight.",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "title": "Indicator id",
                           "description": "Names the indicator in reasons and tests."},
                    "label": LABEL_REF,
                    "description": {"type": "string", "title": "Description", "description": "What the indicator measures."},
                    "weight": {"type": "number", "exclusiveMinimum": 0, "title": "Weight",
                               "description": "Its share of the score, e.g. 0.3 for 30%."},
                    "value": {**EXPRESSION, "description": "The raw value, normalised by bins, linear or percentile."},
                    "points": {**EXPRESSION, "description": "An expression giving 0-100 points directly."},
                    "bins": {
                        "type": "array",
                        "minItems": 1,
                        "title": "Bins",
                        "description": "Highest min first: the first bin the value reaches gives its points.",
                        "items": {
                            "type": "object",
                            "properties": {
                                "min": {"type": "number", "title": "Lower bound",
                                        "description": "The value reaches this bin at or above min."},
                                "points": {"type": "number", "minimum": 0, "maximum": 100, "title": "Points",
                                           "description": "Points (0-100) for a value in this bin."},
                            },
                            "required": ["min", "points"],
                            "additionalProperties": False,
                        },
                    },
                    "linear": {
                        "type": "object",
                        "title": "Linear range",
                        "description": "from gives 0 points, to gives 100, clamped in between.",
                        "properties": {
                            "from": {"type": "number", "title": "From", "description": "The value that gives 0 points."},
                            "to": {"type": "number", "title": "To", "description": "The value that gives 100 points."},
                        },
                        "required": ["from", "to"],
                        "additionalProperties": False,
                    },
                    "percentile": {
                        "type": "boolean",
                        "title": "Percentile",
                        "description": "Points are the share of customers at or below the value, times 100.",
                    },
                },
                "required": ["id", "weight"],
                "additionalProperties": False,
            },
        },
        "grades": {
            "type": "array",
            "minItems": 1,
            "title": "Grades",
            "description": "Best grade first, each with a score threshold (min) or a population share (share).",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "title": "Grade id", "description": "The label, e.g. S, as expressions compare it."},
                    "label": LABEL_REF,
                    "min": {"type": "number", "title": "Minimum score", "description": "A score at or above it gets this grade."},
                    "share": {"type": "number", "minimum": 0, "maximum": 1, "title": "Share of customers",
                              "description": "This grade's share of the population, best scores first."},
                },
                "required": ["id"],
                "additionalProperties": False,
            },
        },
        "hysteresis": {
            "type": "number",
            "minimum": 0,
            "title": "Hysteresis margin",
            "description": "Points a score must pass a threshold by before a customer leaves the grade of the latest saved run.",
        },
        "promote": {
            "type": "array",
            "title": "Promotions",
            "description": "Conditions that lift a customer to at least a grade, whatever the score.",
            "items": {
                "type": "object",
                "properties": {
                    "when": {**EXPRESSION, "description": "The condition."},
                    "grade": {"type": "string", "title": "Grade at least", "description": "The grade the customer gets at least."},
                    "reason": LABEL_REF,
                },
                "required": ["when", "grade"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["indicators", "grades"],
}

TEMPLATES = {
    "en": {
        "weighted.contribution": "{indicator:in:indicators}: {value:number} → {points:.1f} points × {effective_weight:sig3} = {contribution_shown}",
        "weighted.missing": "{indicator:in:indicators}: missing ({fields:names}); left out of the score",
        "weighted.points": "{indicator:in:indicators}: {value:number} → {points:.1f} points",
        "weighted.insufficient": "insufficient data: {count} indicators missing ({missing_fields:names}), at most {tolerance} allowed",
        "weighted.share": "score {score:score} is in the top {share:.0%} → {grade}",
        "weighted.share_rest": "score {score:score} is below the top {share:.0%} → {grade}",
        "weighted.threshold": "score {score:score} ≥ {threshold:g} → {grade}",
        "weighted.below": "score {score:score} < {threshold:g}, below every threshold → {grade}",
        "weighted.kept_up": "kept {grade} from the previous run: score {score:score} is under {edge:g} "
                            "({threshold:g} + margin {margin:g}) needed for {computed}",
        "weighted.kept_down": "kept {grade} from the previous run: score {score:score} is not under {edge:g} "
                              "({threshold:g} - margin {margin:g}) needed to drop to {computed}",
        "weighted.near": "{short_by_shown} points short of {next}; {indicator:in:indicators} at {points:.0f}/100 could close it",
        "weighted.near_none": "{short_by_shown} points short of {next}; no single indicator can close it",
        "weighted.promoted": "promoted to {grade}: {rule:in:rules}",
    },
    "zh": {
        "weighted.contribution": "{indicator:in:indicators}：{value:number} → {points:.1f} 分 × {effective_weight:sig3} = {contribution_shown}",
        "weighted.missing": "{indicator:in:indicators}：缺失（{fields:names}），不计入得分",
        "weighted.points": "{indicator:in:indicators}：{value:number} → {points:.1f} 分",
        "weighted.insufficient": "数据不足：{count} 项指标缺失（{missing_fields:names}），最多允许 {tolerance} 项",
        "weighted.share": "得分 {score:score} 位列前 {share:.0%} → {grade}",
        "weighted.share_rest": "得分 {score:score} 未进入前 {share:.0%} → {grade}",
        "weighted.threshold": "得分 {score:score} ≥ {threshold:g} → {grade}",
        "weighted.below": "得分 {score:score} < {threshold:g}，低于所有门槛 → {grade}",
        "weighted.kept_up": "保持上次的 {grade}：得分 {score:score} 未达 {edge:g}（{threshold:g} + 缓冲 {margin:g}），不升为 {computed}",
        "weighted.kept_down": "保持上次的 {grade}：得分 {score:score} 未低于 {edge:g}（{threshold:g} − 缓冲 {margin:g}），不降为 {computed}",
        "weighted.near": "距 {next} 还差 {short_by_shown} 分；提升{indicator:in:indicators}（当前 {points:.0f}/100）即可达到",
        "weighted.near_none": "距 {next} 还差 {short_by_shown} 分；单项指标无法弥补",
        "weighted.promoted": "升级为 {grade}：{rule:in:rules}",
    },
}
F, INT, STR, BOOL = DType.FLOAT, DType.INT, DType.STR, DType.BOOL


def _setup(build):
    """What both back ends read of the config: indicators, grades, the missing tolerance,
    the weights and their total, the score factor, whether grades go by share, and the
    grade order (the checks report once, whichever back end compiles)."""
    indicators = build.value("indicators")
    grades = build.value("grades")
    tolerance = build.value("missing", "tolerance", default=0)
    weights = [float(item["weight"]) for item in indicators]
    weight_sum = math.fsum(weights)
    factor = _score_factor(build, weight_sum)
    by_share = _check_grades(build, grades)
    if not by_share:
        _check_reachable(build, indicators, grades, weights, factor)
    order = _grade_order(grades)
    return indicators, grades, tolerance, weights, weight_sum, factor, by_share, order


def define(build: IrBuild) -> Defined | None:
    """The weighted grade as IR: each indicator's points, the score renormalised over the
    known indicators, the grade by threshold or by share, promotions and hysteresis,
    and the reasons.  Every sum and division runs in the order the score is defined
    (weights times points left to right, over the weights' total, times the factor), so
    the score is the same double on every engine and thresholds and share ties fall
    the same way."""
    indicators, grades, tolerance, weights, weight_sum, factor, by_share, order = _setup(build)
    margin = build.value("hysteresis")
    if by_share and margin is not None:
        build.error("hysteresis needs threshold grades (min), not shares", "hysteresis")
    lets: list[Let] = []
    indicator_parts = [_indicator(build, index, indicator, lets) for index, indicator in enumerate(indicators)]
    promotions = build.value("promote", default=[])
    conditions = []
    for index, rule in enumerate(promotions):
        if rule["grade"] not in order:
            build.error(f"promote names grade {rule['grade']!r}, which is not among the grades", "promote", index, "grade")
        conditions.append(build.condition("promote", index, "when"))
    previous = build.expression(source=f"previous_run.{build.id}") if margin is not None and not by_share else None
    if build.failed:
        return None
    points = [Ref(f"points{index}", F) for index in range(len(indicators))]
    score = _score(lets, weights, weight_sum, factor, tolerance, points)
    rank = lambda label: case(*((Compare("==", label, lit(g)), lit(r)) for g, r in order.items()), default=lit(0))  # noqa: E731
    if by_share:
        label, promoted, computed = _by_share(lets, score, grades, order, promotions, conditions, rank)
    else:
        label, promoted, computed = _by_threshold(lets, score, grades, order, promotions, conditions, rank)
        if previous is not None:
            label, computed = _hysteresis(lets, grades, float(margin), score, label, promoted, previous.code)
    reasons = _reasons(lets, indicators, indicator_parts, weights, factor, tolerance, grades, by_share, margin,
                       score, label, promoted, computed, rank)
    logic = Logic(build.id, tuple(lets), label, score, (), tuple(reasons))
    labels = {grade["id"]: grade.get("label", grade["id"]) for grade in grades}
    labels[INSUFFICIENT] = build.value("missing", "label", default={"en": "Insufficient data", "zh": "数据不足"})
    thresholds = not by_share and all("min" in grade for grade in grades)
    decimals = score_decimals([edge for band in _bands(grades, float(margin or 0)).values() for edge in band] if thresholds else [])
    tables = {"indicators": {i["id"]: i.get("label", i["id"]) for i in indicators},
              "rules": {index: rule.get("reason", rule.get("when", "")) for index, rule in enumerate(promotions)}}
    readers = {mask: reader for _value, mask, reader in indicator_parts}
    return Defined(logic, labels, {}, readers, tables, _finisher(grades, decimals), decimals)


def _indicator(build: IrBuild, index: int, indicator: dict, lets: list[Let]) -> tuple:
    """Bind an indicator's value ``value<index>`` and 0-100 points ``points<index>``
    (missing with the value); returns the value, its blank inputs' mask and reader."""
    mode = _mode(build, index, indicator)
    if mode is None:
        return None, None, None
    compiled = build.number("indicators", index, "points" if mode == "points" else "value")
    if build.failed:
        return None, None, None
    value = compiled.code
    v = Ref(f"value{index}", value.dtype)
    lets.append(Let(f"value{index}", value))
    gone = (IsMissing(v), Lit(None, F))
    if mode == "points":
        point = case(gone, (Compare("<", v, lit(0)), lit(0.0)), (Compare(">", v, lit(100)), lit(100.0)), default=v)
    elif mode == "bins":
        _check_bins(build, index, indicator)
        point = case(gone, *((Compare(">=", v, lit(float(b["min"]))), lit(float(b["points"]))) for b in indicator["bins"]),
                     default=lit(0.0))
    elif mode == "linear":
        bounds = _linear_range(build, index, indicator) or (0.0, 1.0)
        low, high = bounds
        below, above = ("<=", ">=") if low < high else (">=", "<=")
        share = Arith("*", Arith("/", Arith("-", v, lit(low)), lit(high - low)), lit(100.0))
        point = case(gone, (Compare(below, v, lit(low)), lit(0.0)), (Compare(above, v, lit(high)), lit(100.0)),
                     default=share)
    else:  # percentile: the share of known values at or below it (cume_dist), × 100
        lets += [Let(f"upto{index}", Window("count", v, order=(Sort(v),))), Let(f"known{index}", Window("count", v))]
        point = case(gone, default=Arith("*", Arith("/", Ref(f"upto{index}", INT), Ref(f"known{index}", INT)),
                                         lit(100.0)))
    lets.append(Let(f"points{index}", point))
    mask, reader = build.blank_inputs(compiled)
    return v, mask, reader


def _score(lets: list[Let], weights, weight_sum, factor, tolerance, points) -> Ref:
    """The weighted mean of the points over the weights' total, or, with some points
    missing but no more than ``tolerance`` (and one known), over the known weights."""
    missing = total(*(case((IsMissing(p), lit(1)), default=lit(0)) for p in points))
    present = total(*(case((IsMissing(p), lit(0.0)), default=lit(w)) for w, p in zip(weights, points)))
    known_sum = total(*(case((IsMissing(p), lit(0.0)), default=Arith("*", lit(w), p)) for w, p in zip(weights, points)))
    full = Arith("*", Arith("/", total(*(Arith("*", lit(w), p) for w, p in zip(weights, points))), lit(weight_sum)),
                 lit(factor))
    count = Ref("missing", INT)
    lets += [Let("missing", missing), Let("present", present)]
    lets.append(Let("score", case(
        (Compare("==", count, lit(0)), full),
        (And((Compare("<=", count, lit(int(tolerance))), Compare("<", count, lit(len(points))))),
         Arith("*", Arith("/", known_sum, Ref("present", F)), lit(factor))),
        default=Lit(None, F))))
    return Ref("score", F)


def _by_threshold(lets, score, grades, order, promotions, conditions, rank):
    """The first grade whose min the score reaches (the last below all), then each
    promotion in turn lifting to its grade when that is better."""
    lets.append(Let("base", case((IsMissing(score), lit(INSUFFICIENT)),
                                 *((Compare(">=", score, lit(float(g["min"]))), lit(g["id"])) for g in grades[:-1]),
                                 default=lit(grades[-1]["id"]))))
    label, promoted = Ref("base", STR), Lit(None, INT)
    for index, (rule, condition) in enumerate(zip(promotions, conditions)):
        lets.append(Let(f"lift{index}", And((holds(condition.code), Compare(">", rank(label), lit(order[rule["grade"]]))))))
        lift = Ref(f"lift{index}", BOOL)
        lets += [Let(f"label{index}", case((lift, lit(rule["grade"])), default=label)),
                 Let(f"promoted{index}", case((lift, lit(index)), default=promoted))]
        label, promoted = Ref(f"label{index}", STR), Ref(f"promoted{index}", INT)
    return label, promoted, Ref("base", STR)


def _by_share(lets, score, grades, order, promotions, conditions, rank):
    """The grade by the share of known scores strictly above this one
    (SQL's ``1 - cume_dist``, from two counts) against the grades' running shares; then
    the promotion lifting highest (the first of equals), when it is better."""
    lets += [Let("scored", Window("count", score)), Let("upto", Window("count", score, order=(Sort(score),)))]
    counted = Ref("scored", INT)
    above = Arith("/", Arith("-", counted, Ref("upto", INT)), counted)
    lets.append(Let("share_grade", case(
        (IsMissing(score), lit(INSUFFICIENT)),
        *((Compare("<", above, lit(cut - 1e-12)), lit(grade)) for cut, grade in _share_cuts(grades)),
        default=lit(grades[-1]["id"]))))
    by_share = Ref("share_grade", STR)
    best, best_rank = Lit(None, INT), Lit(None, INT)
    for index, (rule, condition) in enumerate(zip(promotions, conditions)):
        higher = And((holds(condition.code), Or((IsMissing(best), Compare("<", lit(order[rule["grade"]]), best_rank)))))
        lets += [Let(f"higher{index}", higher)]
        flag = Ref(f"higher{index}", BOOL)
        lets += [Let(f"best{index}", case((flag, lit(index)), default=best)),
                 Let(f"best_rank{index}", case((flag, lit(order[rule["grade"]])), default=best_rank))]
        best, best_rank = Ref(f"best{index}", INT), Ref(f"best_rank{index}", INT)
    if not promotions:
        return by_share, Lit(None, INT), by_share
    lets.append(Let("lifted", holds(Compare(">", rank(by_share), best_rank))))
    lifted = Ref("lifted", BOOL)
    grade_of = case(*((Compare("==", best, lit(i)), lit(rule["grade"])) for i, rule in enumerate(promotions)), default=by_share)
    lets += [Let("label", case((lifted, grade_of), default=by_share)),
             Let("promoted", case((lifted, best), default=Lit(None, INT)))]
    return Ref("label", STR), Ref("promoted", INT), by_share


def _hysteresis(lets, grades, margin, score, label, promoted, previous):
    """Keep the previous run's grade while the score stays in that grade's band widened
    by the margin (:func:`_bands`), unless a promotion lifted it or the score is
    missing; returns the label and the grade the score alone gives, where it was kept."""
    inside = []
    for grade_id, (low, high) in _bands(grades, margin).items():
        tests = [Compare("==", previous, lit(grade_id))]
        tests += [Compare(">=", score, lit(low))] if low != -math.inf else []
        tests += [Compare("<", score, lit(high))] if high != math.inf else []
        inside.append(And(tuple(tests)) if len(tests) > 1 else tests[0])
    lets.append(Let("kept", holds(And((IsMissing(promoted), known(score), known(previous),
                                       Compare("!=", previous, label), Or(tuple(inside)))))))
    kept = Ref("kept", BOOL)
    lets += [Let("kept_label", case((kept, previous), default=label)),
             Let("computed", case((kept, label), default=Lit(None, STR)))]
    return Ref("kept_label", STR), Ref("computed", STR)


def _reasons(lets, indicators, parts, weights, factor, tolerance, grades, by_share, margin, score, label, promoted,
             computed, rank) -> list[Reason]:
    """Every indicator's points or why it is missing, then why the grade: too little
    data, the share or threshold reached, the previous grade kept, how far the next
    grade is and which indicator could close the gap; then the promotion."""
    reasons: list[Reason] = []
    scored, present = known(score), Ref("present", F)
    points = [Ref(f"points{index}", F) for index in range(len(indicators))]
    for indicator, weight, (value, mask, _reader), point in zip(indicators, weights, parts, points):
        name = lit(indicator["id"])
        effective = Arith("*", Arith("/", lit(weight), present), lit(factor))
        reasons += [
            Reason("weighted.missing", (("indicator", name), ("missing", lit(True)), ("fields", mask)), IsMissing(point)),
            Reason("weighted.points", (("indicator", name), ("value", value), ("points", point), ("weight", lit(weight))),
                   And((known(point), IsMissing(score)))),
            Reason("weighted.contribution", (("indicator", name), ("value", value), ("points", point), ("weight", lit(weight)),
                                             ("effective_weight", effective), ("contribution", Arith("*", effective, point))),
                   And((known(point), scored))),
        ]
    reasons.append(Reason("weighted.insufficient", (("insufficient_data", lit(True)), ("count", Ref("missing", INT)),
                                                    ("tolerance", lit(int(tolerance)))), IsMissing(score)))
    if by_share:
        rest = "share" not in grades[-1]
        cumulative = case(*((Compare("==", computed, lit(g["id"])), lit(_cumulative(grades, g["id"]))) for g in grades),
                          default=lit(1.0))
        last = Compare("==", computed, lit(grades[-1]["id"]))
        reasons.append(Reason("weighted.share", (("grade", computed), ("share", cumulative), ("score", score)),
                              And((scored, Not(last))) if rest else scored))
        if rest:
            reasons.append(Reason("weighted.share_rest", (("grade", computed), ("share", lit(math.fsum(g["share"] for g in grades[:-1]))),
                                                          ("score", score)), And((scored, last))))
    else:
        reasons += _threshold_reasons(lets, indicators, grades, weights, factor, margin, score, label, promoted, computed,
                                      rank, points)
    reasons.append(Reason("weighted.promoted", (("promoted", lit(True)), ("grade", label), ("rule", promoted)), known(promoted)))
    return reasons


def _threshold_reasons(lets, indicators, grades, weights, factor, margin, score, label, promoted, computed, rank,
                       points) -> list[Reason]:
    """The threshold reached (or none), the previous grade kept (hysteresis), the near miss."""
    scored, last_min = known(score), lit(float(grades[-1]["min"]))
    tests = [Compare(">=", score, lit(float(g["min"]))) for g in grades[:-1]]
    reached = case(*((t, lit(g["id"])) for t, g in zip(tests, grades)), default=lit(grades[-1]["id"]))
    threshold = case(*((t, lit(float(g["min"]))) for t, g in zip(tests, grades)), default=last_min)
    reasons = [
        Reason("weighted.threshold", (("grade", reached), ("threshold", threshold), ("score", score)),
               And((scored, Compare(">=", score, last_min)))),
        Reason("weighted.below", (("grade", lit(grades[-1]["id"])), ("threshold", last_min), ("score", score)),
               And((scored, Compare("<", score, last_min)))),
    ]
    kept = Lit(False, BOOL)
    if margin is not None:
        kept = known(computed)
        up = Compare("<", rank(computed), rank(label))
        ids = [g["id"] for g in grades]
        above = case(*((Compare("==", label, lit(g)), lit(float(grades[i - 1]["min"]))) for i, g in enumerate(ids) if i), default=Lit(None, F))
        own = case(*((Compare("==", label, lit(g)), lit(float(grades[i]["min"]))) for i, g in enumerate(ids)), default=Lit(None, F))
        for code, edge_of, going_up in (("weighted.kept_up", above, True), ("weighted.kept_down", own, False)):
            edge = Arith("+" if going_up else "-", edge_of, lit(float(margin)))
            reasons.append(Reason(code, (("hysteresis", lit(True)), ("grade", label), ("computed", computed),
                                         ("margin", lit(float(margin))), ("threshold", edge_of), ("edge", edge), ("score", score)),
                                  And((kept, up if going_up else Not(up)))))
    if len(grades) < 2:
        return reasons
    # The grade above the one reached, how far it is, and the indicator whose full
    # points would add most if that closes the gap (the first of equals).
    lets += [
        Let("next_min", case((tests[0], Lit(None, F)), *((t, lit(float(g["min"]))) for t, g in zip(tests[1:], grades)),
                             default=lit(float(grades[-2]["min"])))),
        Let("next_grade", case((tests[0], Lit(None, STR)), *((t, lit(g["id"])) for t, g in zip(tests[1:], grades)),
                               default=lit(grades[-2]["id"]))),
    ]
    next_min, next_grade, present = Ref("next_min", F), Ref("next_grade", STR), Ref("present", F)
    lets.append(Let("gap", Arith("-", next_min, score)))
    gap = Ref("gap", F)
    gains, closes = [], []
    for index, (weight, point) in enumerate(zip(weights, points)):
        gain = Arith("*", Arith("/", Arith("*", lit(weight), Arith("-", lit(100.0), point)), present), lit(factor))
        lets += [Let(f"gain{index}", gain), Let(f"closes{index}", holds(Compare(">=", Ref(f"gain{index}", F), gap)))]
        gains.append(Ref(f"gain{index}", F))
        closes.append(Ref(f"closes{index}", BOOL))
    lets.append(Let("near", holds(And((scored, known(next_min), IsMissing(promoted), Not(kept))))))
    near = Ref("near", BOOL)
    for index, point in enumerate(points):
        beaten = [Or((Not(closes[j]), Compare("<" if j < index else "<=", gains[j], gains[index])))
                  for j in range(len(points)) if j != index]
        reasons.append(Reason("weighted.near", (("next", next_grade), ("short_by", gap), ("indicator", lit(indicators[index]["id"])),
                                                ("points", point)), And((near, closes[index], *beaten))))
    reasons.append(Reason("weighted.near_none", (("next", next_grade), ("short_by", gap)),
                          And((near, Not(Or(tuple(closes))) if len(closes) > 1 else Not(closes[0])))))
    return reasons


def _finisher(grades: list[dict], decimals: int):
    """What a row's reasons show by the one rule of shown scores (:func:`tierkit.kinds.shown_score`):
    contributions that add up to the shown score, the gap between the next threshold
    and the shown score; and the fields behind insufficient data."""
    mins = {grade["id"]: grade.get("min") for grade in grades}

    def finish(records: list[dict], outcome: tuple) -> None:
        score = outcome[1]
        parts = [record for record in records if record["code"] == "weighted.contribution"]
        if score is not None and parts:
            for record, shown in zip(parts, shown_parts([record["contribution"] for record in parts], score, decimals)):
                record["contribution_shown"] = f"{shown:f}"
        for record in records:
            if record["code"] in ("weighted.near", "weighted.near_none"):
                record["short_by_shown"] = f"{shown_threshold(mins[record['next']]) - shown_score(score, decimals):f}"
            elif record["code"] == "weighted.insufficient":
                missing = (field for other in records if other["code"] == "weighted.missing" for field in other["fields"])
                record["missing_fields"] = list(dict.fromkeys(missing))

    return finish


def _score_factor(build: IrBuild, weight_sum: float) -> float:
    """What the renormalised weighted mean is multiplied by: 1 or the weights' total."""
    policy = build.value("weights_total")
    if policy is None and not math.isclose(weight_sum, 1.0, abs_tol=1e-9):
        build.warn(
            f"weights sum to {weight_sum:g}, not 1; scores are normalised to 0-100",
            "indicators",
            hint="say so with weights_total: normalise, or keep the total with weights_total: as-is",
        )
    if policy == "as-is" and weight_sum > 1 + 1e-9:
        build.warn(
            f"weights_total: as-is with weights summing to {weight_sum:g}: scores reach up to {100 * weight_sum:g}, not 100",
            "weights_total",
            hint="with weights over 1 in total, grade thresholds read on a 0-100 scale are easy to misjudge",
        )
    return weight_sum if policy == "as-is" else 1.0


def _check_reachable(build: IrBuild, indicators: list[dict], grades: list[dict], weights: list[float], factor: float) -> None:
    """A warning for each grade whose min is above the highest score any customer can get
    (every indicator at its most points), when every indicator's most points are known."""
    most = []
    for indicator in indicators:
        if indicator.get("bins"):
            most.append(max(float(b["points"]) for b in indicator["bins"]))
        elif indicator.get("linear") or indicator.get("percentile"):
            most.append(100.0)
        else:  # points from an expression: no bound known
            return
    weight_sum = math.fsum(weights)
    if not weight_sum:
        return
    best = factor * math.fsum(w * p for w, p in zip(weights, most)) / weight_sum
    for index, grade in enumerate(grades):
        if grade.get("min", 0) > best + 1e-9:
            build.warn(f"grade {grade['id']!r} is unreachable: it needs a score of {grade['min']:g}, "
                       f"and the highest possible score is {best:g}", "grades", index, "min")


def _grade_order(grades: list[dict]) -> dict:
    """Each grade's rank, best first (0), and insufficient_data after every grade."""
    order = {grade["id"]: rank for rank, grade in enumerate(grades)}
    order[INSUFFICIENT] = len(grades)
    return order


def _check_grades(build: IrBuild, grades: list[dict]) -> bool:
    by_share = any("share" in grade for grade in grades)
    for index, grade in enumerate(grades):
        last_takes_rest = by_share and index == len(grades) - 1 and "min" not in grade
        if not last_takes_rest and (("share" in grade) == ("min" in grade) or ("share" in grade) != by_share):
            build.error(
                "every grade needs exactly one of min or share, the same one for all grades",
                "grades",
                index,
                hint="under shares the last grade may leave share out and take the rest",
            )
    if by_share and sum(grade.get("share", 0) for grade in grades[:-1]) > 1 + 1e-9:
        build.error("grade shares add up to more than 1", "grades")
    if not by_share:
        mins = [grade.get("min", 0) for grade in grades]
        if mins != sorted(mins, reverse=True):
            build.error("grades must be listed best first, with falling min scores", "grades")
    return by_share


def _mode(build, index: int, indicator: dict) -> str | None:
    """How an indicator gives points: ``points``, ``bins``, ``linear`` or ``percentile``;
    ``None`` (and an error) when it names none or several."""
    modes = [key for key in ("points", "bins", "linear", "percentile") if indicator.get(key)]
    if len(modes) != 1 or (modes[0] != "points") != ("value" in indicator):
        build.error(
            "an indicator needs either points, or value with one of bins, linear, percentile",
            "indicators",
            index,
        )
        return None
    return modes[0]


def _check_bins(build, index: int, indicator: dict) -> None:
    mins = [float(b["min"]) for b in indicator["bins"]]
    if mins != sorted(mins, reverse=True):
        build.error("bins must be listed highest min first; otherwise the higher bins can never apply",
                    "indicators", index, "bins")


def _linear_range(build, index: int, indicator: dict) -> tuple[float, float] | None:
    """``linear``'s from and to as floats; ``None`` (and an error) when they are equal."""
    low, high = float(indicator["linear"]["from"]), float(indicator["linear"]["to"])
    if low == high:
        build.error("linear needs from and to to differ", "indicators", index, "linear")
        return None
    return low, high


def _bands(grades: list[dict], margin: float) -> dict[str, tuple[float, float]]:
    """Per grade, the scores that keep it under hysteresis: ``low <= score < high``."""
    bands = {}
    for position, entry in enumerate(grades):
        low = -math.inf if position == len(grades) - 1 else float(entry["min"]) - margin
        high = math.inf if position == 0 else float(grades[position - 1]["min"]) + margin
        bands[entry["id"]] = (low, high)
    return bands


def _share_cuts(grades: list[dict]) -> list[tuple[float, str]]:
    """The running share at which each grade but the last ends, best first."""
    cuts, running = [], 0.0
    for grade in grades[:-1]:
        running += grade["share"]
        cuts.append((running, grade["id"]))
    return cuts


def _cumulative(grades, label) -> float:
    running = 0.0
    for grade in grades:
        running += grade.get("share", 0)
        if grade["id"] == label:
            return running
    return 1.0


WEIGHTED = LogicKind(define, TEMPLATES)


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("weighted", __doc__, CONFIG_SCHEMA, WEIGHTED))
