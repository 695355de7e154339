"""``weighted`` and ``pareto`` stated once, as IR (see :mod:`.ir`).

Each function reads a scheme's config (the keys of ``plugins/weighted.py`` and
``plugins/pareto.py``) and returns its :class:`~.ir.Logic`: the bindings, the label
and score, the attributes, and the reasons as codes with typed parameters.  The
arithmetic runs in the order the Python engine runs it, so scores are the same
doubles on every engine.  Covered: ``weighted`` with ``bins``/``linear``/``points``
indicators, threshold grades, ``missing.tolerance``, ``weights_total`` and
``promote``; ``pareto`` whole.  Share grades, ``percentile`` indicators and
``hysteresis`` are refused by name (:class:`Unsupported`).  Reasons carry the Python
engine's parameters, except that ``weighted.insufficient`` gives the count of missing
indicators without their fields (each missing indicator has its own
``weighted.missing`` reason naming them).
"""

from __future__ import annotations

import math

from tierkit.ir import nodes as ir
from tierkit.ir.from_expr import to_ir
from tierkit.ir.nodes import DType, Let, Lit, Ref, Reason, Sort, Window, case, holds, known, lit

F = DType.FLOAT
INSUFFICIENT = "insufficient_data"
TOP, MIDDLE, BOTTOM, UNKNOWN = "top", "middle", "bottom", "unknown"


class Unsupported(Exception):
    """A config key the prototype does not state in IR yet."""


def _missing(dtype: DType = F) -> Lit:
    return Lit(None, dtype)


def _mul(a: ir.Expr, b: ir.Expr) -> ir.Arith:
    return ir.Arith("*", a, b)


def _div(a: ir.Expr, b: ir.Expr) -> ir.Arith:
    return ir.Arith("/", a, b)


# -- weighted ------------------------------------------------------------------------------

def weighted(scheme: str, config: dict, scope: dict, labels: dict) -> ir.Logic:
    """The weighted grade: indicator points, renormalised score, threshold grade, promotions."""
    if "hysteresis" in config:
        raise Unsupported(f"{scheme}: hysteresis")
    grades = config["grades"]
    if any("share" in grade for grade in grades) or len(grades) < 2:
        raise Unsupported(f"{scheme}: share grades, or a single grade")
    indicators = config["indicators"]
    weights = [float(item["weight"]) for item in indicators]
    weight_total = math.fsum(weights)
    factor = weight_total if config.get("weights_total") == "as-is" else 1.0
    tolerance = int(config.get("missing", {}).get("tolerance", 0))

    lets: list[Let] = []
    values, points, reads = [], [], []
    for index, indicator in enumerate(indicators):
        value, point, fields = _indicator(indicator, scope)
        lets += [Let(f"value{index}", value), Let(f"points{index}", point)]
        values.append(Ref(f"value{index}", value.dtype))
        points.append(Ref(f"points{index}", F))
        reads.append(fields)

    missing_count = ir.total(*(case((ir.IsMissing(p), lit(1)), default=lit(0)) for p in points))
    known_weight = ir.total(*(case((ir.IsMissing(p), lit(0.0)), default=lit(w)) for w, p in zip(weights, points)))
    known_sum = ir.total(*(case((ir.IsMissing(p), lit(0.0)), default=_mul(lit(w), p)) for w, p in zip(weights, points)))
    full = _mul(_div(ir.total(*(_mul(lit(w), p) for w, p in zip(weights, points))), lit(weight_total)), lit(factor))
    count, present = Ref("missing", DType.INT), Ref("present", F)
    lets += [Let("missing", missing_count), Let("present", known_weight)]
    score_expr = case(
        (ir.Compare("==", count, lit(0)), full),
        (ir.And((ir.Compare("<=", count, lit(tolerance)), ir.Compare("<", count, lit(len(points))))),
         _mul(_div(known_sum, present), lit(factor))),
        default=_missing(),
    )
    score = Ref("score", F)
    lets.append(Let("score", score_expr))

    order = {grade["id"]: position for position, grade in enumerate(grades)}
    order[INSUFFICIENT] = len(grades)
    reached = [(ir.Compare(">=", score, lit(float(g["min"]))), g) for g in grades[:-1]]
    by_score = case((ir.IsMissing(score), lit(INSUFFICIENT)), *((test, lit(g["id"])) for test, g in reached),
                    default=lit(grades[-1]["id"]))
    lets.append(Let("base", by_score))
    label, promoted = Ref("base", DType.STR), _missing(DType.INT)
    for index, rule in enumerate(config.get("promote", [])):
        condition, _nullable, _reads = to_ir(rule["when"], scope)
        rank = case(*((ir.Compare("==", label, lit(g)), lit(r)) for g, r in order.items()), default=lit(0))
        lifts = ir.And((holds(condition), ir.Compare(">", rank, lit(order[rule["grade"]]))))
        lets += [Let(f"lift{index}", lifts)]
        lift = Ref(f"lift{index}", DType.BOOL)
        lets += [Let(f"label{index}", case((lift, lit(rule["grade"])), default=label)),
                 Let(f"promoted{index}", case((lift, lit(index)), default=promoted))]
        label, promoted = Ref(f"label{index}", DType.STR), Ref(f"promoted{index}", DType.INT)

    reasons = _weighted_reasons(indicators, weights, factor, tolerance, grades, values, points, reads,
                                score, present, count, promoted, config.get("promote", []), lets)
    names = {f"indicator.{i['id']}": i.get("label", i["id"]) for i in indicators}
    names.update({f"promote.{k}": rule.get("reason", rule["when"]) for k, rule in enumerate(config.get("promote", []))})
    names.update(labels)
    return ir.Logic(scheme, tuple(lets), label, score, (), tuple(reasons), names)


def _indicator(indicator: dict, scope: dict) -> tuple[ir.Expr, ir.Expr, str]:
    """An indicator's value and its 0-100 points (missing with the value)."""
    modes = [key for key in ("points", "bins", "linear", "percentile") if indicator.get(key)]
    if modes == ["percentile"]:
        raise Unsupported("percentile indicators")
    mode = modes[0]
    value, _nullable, reads = to_ir(indicator["points" if mode == "points" else "value"], scope)
    gone = (ir.IsMissing(value), _missing())
    if mode == "points":
        point = case(gone, (ir.Compare("<", value, lit(0)), lit(0.0)), (ir.Compare(">", value, lit(100)), lit(100.0)),
                     default=value)
    elif mode == "bins":
        steps = [(ir.Compare(">=", value, lit(float(b["min"]))), lit(float(b["points"]))) for b in indicator["bins"]]
        point = case(gone, *steps, default=lit(0.0))
    else:
        low, high = float(indicator["linear"]["from"]), float(indicator["linear"]["to"])
        below, above = ("<=", ">=") if low < high else (">=", "<=")
        share = _mul(_div(ir.Arith("-", value, lit(low)), lit(high - low)), lit(100.0))
        point = case(gone, (ir.Compare(below, value, lit(low)), lit(0.0)), (ir.Compare(above, value, lit(high)), lit(100.0)),
                     default=share)
    return value, point, ",".join(sorted(reads))


def _weighted_reasons(indicators, weights, factor, tolerance, grades, values, points, reads,
                      score, present, count, promoted, promotions, lets) -> list[Reason]:
    reasons: list[Reason] = []
    scored = known(score)
    for indicator, weight, value, point, fields in zip(indicators, weights, values, points, reads):
        name = lit(indicator["id"])
        effective = _mul(_div(lit(weight), present), lit(factor))
        reasons += [
            Reason("weighted.missing", (("indicator", name), ("fields", lit(fields))), ir.IsMissing(point)),
            Reason("weighted.points", (("indicator", name), ("value", value), ("points", point), ("weight", lit(weight))),
                   ir.And((known(point), ir.IsMissing(score)))),
            Reason("weighted.contribution", (("indicator", name), ("value", value), ("points", point),
                                             ("weight", lit(weight)), ("effective_weight", effective),
                                             ("contribution", _mul(effective, point))),
                   ir.And((known(point), scored))),
        ]
    reasons.append(Reason("weighted.insufficient", (("count", count), ("tolerance", lit(tolerance))), ir.IsMissing(score)))

    # The grade the score reaches, and the one above it (none above the best).
    tests = [ir.Compare(">=", score, lit(float(g["min"]))) for g in grades[:-1]]
    reached = case(*((t, lit(g["id"])) for t, g in zip(tests, grades)), default=lit(grades[-1]["id"]))
    threshold = case(*((t, lit(float(g["min"]))) for t, g in zip(tests, grades)), default=lit(float(grades[-1]["min"])))
    reasons.append(Reason("weighted.threshold", (("grade", reached), ("threshold", threshold), ("score", score)), scored))
    lets += [
        Let("next_min", case((tests[0], _missing()), *((t, lit(float(g["min"]))) for t, g in zip(tests[1:], grades)),
                             default=lit(float(grades[-2]["min"])) if len(grades) > 1 else _missing())),
        Let("next_grade", case((tests[0], _missing(DType.STR)), *((t, lit(g["id"])) for t, g in zip(tests[1:], grades)),
                               default=lit(grades[-2]["id"]) if len(grades) > 1 else _missing(DType.STR))),
    ]
    next_min, next_grade = Ref("next_min", F), Ref("next_grade", DType.STR)
    lets.append(Let("gap", ir.Arith("-", next_min, score)))
    gap = Ref("gap", F)
    # The indicator whose full points would add most, if that closes the gap (first wins a tie).
    gains, qualifies = [], []
    for index, (weight, point) in enumerate(zip(weights, points)):
        gain = _mul(_div(_mul(lit(weight), ir.Arith("-", lit(100.0), point)), present), lit(factor))
        lets += [Let(f"gain{index}", gain), Let(f"closes{index}", holds(ir.Compare(">=", Ref(f"gain{index}", F), gap)))]
        gains.append(Ref(f"gain{index}", F))
        qualifies.append(Ref(f"closes{index}", DType.BOOL))
    near = ir.And((scored, known(next_min), ir.IsMissing(promoted)))
    for index, (indicator, point) in enumerate(zip(indicators, points)):
        beaten = [ir.Or((ir.Not(qualifies[j]), ir.Compare("<" if j < index else "<=", gains[j], gains[index])))
                  for j in range(len(points)) if j != index]
        best = ir.And((near, qualifies[index], *beaten))
        reasons.append(Reason("weighted.near", (("next", next_grade), ("short_by", gap), ("indicator", lit(indicator["id"])),
                                                ("points", point)), best))
    reasons.append(Reason("weighted.near_none", (("next", next_grade), ("short_by", gap)),
                          ir.And((near, ir.Not(ir.Or(tuple(qualifies)))))))
    for index, rule in enumerate(promotions):
        reasons.append(Reason("weighted.promoted", (("grade", lit(rule["grade"])), ("rule", lit(index))),
                              ir.Compare("==", promoted, lit(index))))
    return reasons


# -- pareto --------------------------------------------------------------------------------

def pareto(scheme: str, config: dict, scope: dict, labels: dict) -> ir.Logic:
    """Top, middle and bottom shares of customers by value, largest first."""
    top, bottom = float(config.get("top", 0.2)), float(config.get("bottom", 0.2))
    source = config.get("value", "revenue")
    value_expr, _nullable, reads = to_ir(source, scope)
    v, pos = Ref("value", F), Ref("positive", F)
    desc = (Sort(v, descending=True),)
    lets = [Let("value", value_expr), Let("positive", case((ir.Compare(">", v, lit(0)), v), default=_missing())),
            Let("known", Window("count", v)), Let("positives", Window("count", pos)),
            Let("rank", Window("rank", order=desc)), Let("upto", Window("count", v, order=desc)),
            Let("counted", Window("count", pos, order=desc)), Let("running", Window("sum", pos, order=desc)),
            Let("total", Window("sum", pos))]
    n, positives, counted = Ref("known", DType.INT), Ref("positives", DType.INT), Ref("counted", DType.INT)
    above = ir.Arith("-", Ref("rank", DType.INT), lit(1))
    lets += [
        Let("share", case((ir.Or((ir.IsMissing(v), ir.Compare("==", positives, lit(0)))), _missing()),
                          (ir.Compare("==", counted, positives), lit(1.0)),
                          default=_div(Ref("running", F), Ref("total", F)))),
        Let("segment", case((ir.IsMissing(v), lit(UNKNOWN)),
                            (ir.And((ir.Compare(">", v, lit(0)), ir.Compare("<", _div(above, n), lit(top)))), lit(TOP)),
                            (ir.Or((ir.Compare("<=", v, lit(0)), ir.Compare("<=", _div(ir.Arith("-", n, above), n), lit(bottom)))),
                             lit(BOTTOM)),
                            default=lit(MIDDLE))),
        Let("customer_share", case((ir.IsMissing(v), _missing()), default=_div(Ref("upto", DType.INT), n))),
    ]
    segment = Ref("segment", DType.STR)
    lets += [Let("segment_count", Window("count", v, partition=(segment,))),
             Let("segment_sum", Window("sum", pos, partition=(segment,)))]
    lets += [Let("segment_value_share", case((ir.Compare("==", positives, lit(0)), _missing()),
                                             default=_div(ir.Coalesce((Ref("segment_sum", F), lit(0.0))), Ref("total", F))))]
    share, customer_share = Ref("share", F), Ref("customer_share", F)
    segment_value = Ref("segment_value_share", F)
    positive = ir.Compare(">", v, lit(0))
    static = (("top", lit(top)), ("bottom", lit(bottom)))
    reasons = [
        Reason("pareto.missing", (("fields", lit(",".join(sorted(reads)) or source)),), ir.IsMissing(v)),
        Reason("pareto.position", (("value", v), ("customer_share", customer_share), ("cumulative_share", share)),
               ir.And((known(v), known(share)))),
        Reason("pareto.position_no_total", (("value", v), ("customer_share", customer_share)),
               ir.And((known(v), ir.IsMissing(share)))),
        Reason("pareto.nonpositive", (), ir.Compare("<=", v, lit(0))),
        *(Reason(f"pareto.{cut}", static, ir.And((positive, ir.Compare("==", segment, lit(cut))))) for cut in (TOP, MIDDLE, BOTTOM)),
        Reason("pareto.segment", (("segment", segment), ("segment_customer_share", _div(Ref("segment_count", DType.INT), n)),
                                  ("segment_value_share", segment_value)),
               ir.And((known(v), known(segment_value)))),
    ]
    middle = max(0.0, 1.0 - top - bottom)
    names = {"value_name": config.get("value_label", source),
             f"segment.{TOP}": {"en": f"Top {top * 100:g}%", "zh": f"头部 {top * 100:g}%"},
             f"segment.{MIDDLE}": {"en": f"Middle {middle * 100:g}%", "zh": f"腰部 {middle * 100:g}%"},
             f"segment.{BOTTOM}": {"en": f"Bottom {bottom * 100:g}%", "zh": f"尾部 {bottom * 100:g}%"}}
    names.update({f"segment.{k}": v for k, v in config.get("labels", {}).items()})
    names.update(labels)
    return ir.Logic(scheme, tuple(lets), segment, v, (("cumulative_share", share), ("customer_share", customer_share)),
                    tuple(reasons), names)


KINDS = {"weighted": weighted, "pareto": pareto}
