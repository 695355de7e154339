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

from tierkit.build import SCORE, CompiledScheme, SchemeBuild
from tierkit.expr import Compiled
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize, score_decimals, shown_parts, shown_score, shown_threshold, show_number, show_score
from tierkit.population import cume_dist, share_above
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

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

WORDS = {
    "en": {
        "indicator": "{label}: {value} → {points:.1f} points × {weight:g} = {contribution}",
        "missing": "{label}: missing ({fields}); left out of the score",
        "threshold": "score {score} ≥ {min:g} → {grade}",
        "below": "score {score} < {min:g}, below every threshold → {grade}",
        "points": "{label}: {value} → {points:.1f} points",
        "share": "score {score} is in the top {share:.0%} → {grade}",
        "share_rest": "score {score} is below the top {share:.0%} → {grade}",
        "near": "{gap} points short of {grade}; {indicator} at {points:.0f}/100 could close it",
        "near_none": "{gap} points short of {grade}; no single indicator can close it",
        "promoted": "promoted to {grade}: {reason}",
        "insufficient": "insufficient data: {count} indicators missing ({fields}), at most {tolerance} allowed",
        "kept_up": "kept {grade} from the previous run: score {score} is under {edge:g} ({threshold:g} + margin {margin:g}) needed for {computed}",
        "kept_down": "kept {grade} from the previous run: score {score} is not under {edge:g} ({threshold:g} - margin {margin:g}) needed to drop to {computed}",
    },
    "zh": {
        "indicator": "{label}：{value} → {points:.1f} 分 × {weight:g} = {contribution}",
        "missing": "{label}：缺失（{fields}），不计入得分",
        "threshold": "得分 {score} ≥ {min:g} → {grade}",
        "below": "得分 {score} < {min:g}，低于所有门槛 → {grade}",
        "points": "{label}：{value} → {points:.1f} 分",
        "share": "得分 {score} 位列前 {share:.0%} → {grade}",
        "share_rest": "得分 {score} 未进入前 {share:.0%} → {grade}",
        "near": "距 {grade} 还差 {gap} 分；提升{indicator}（当前 {points:.0f}/100）即可达到",
        "near_none": "距 {grade} 还差 {gap} 分；单项指标无法弥补",
        "promoted": "升级为 {grade}：{reason}",
        "insufficient": "数据不足：{count} 项指标缺失（{fields}），最多允许 {tolerance} 项",
        "kept_up": "保持上次的 {grade}：得分 {score} 未达 {edge:g}（{threshold:g} + 缓冲 {margin:g}），不升为 {computed}",
        "kept_down": "保持上次的 {grade}：得分 {score} 未低于 {edge:g}（{threshold:g} − 缓冲 {margin:g}），不降为 {computed}",
    },
}


def _setup(build):
    """What both back ends read of the config: indicators, grades, the missing tolerance,
    the weights and their total, the score factor, whether grades go by share, and the
    grade order (the checks report once, whichever back end compiles)."""
    indicators = build.value("indicators")
    grades = build.value("grades")
    tolerance = build.value("missing", "tolerance", default=0)
    weights = [float(item["weight"]) for item in indicators]
    total = math.fsum(weights)
    factor = _score_factor(build, total)
    by_share = _check_grades(build, grades)
    if not by_share:
        _check_reachable(build, indicators, grades, weights, factor)
    order = _grade_order(grades)
    return indicators, grades, tolerance, weights, total, factor, by_share, order


def compile_weighted(build: SchemeBuild) -> CompiledScheme:
    indicators, grades, tolerance, weights, total, factor, by_share, order = _setup(build)

    values, points, nullables, fields_read, blanks, pre_lines, pre_slots = [], [], [], [], [], [], []
    percentile_pairs = []
    main = []
    for index, indicator in enumerate(indicators):
        value_code, point_code, nullable, compiled = _indicator(build, index, indicator, main)
        if indicator.get("percentile"):
            raw, ranked = build.slot(f"{indicator['id']}.value"), build.slot(f"{indicator['id']}.points")
            pre_lines.append(f"{raw.local} = {value_code}")
            pre_slots.append(raw)
            percentile_pairs.append((raw.index, ranked.index))
            value_code, point_code, nullable = raw.local, ranked.local, True
        values.append(value_code)
        nullables.append(nullable)
        points.append(point_code)
        fields_read.append(sorted(compiled.reads) if compiled is not None else [])
        blanks.append(f"({build.missing_names(compiled)} if {point_code} is None else ())" if compiled is not None and nullable else "()")
    if pre_lines:
        build.row(pre_lines, pre_slots)
        build.population(_percentile_step(percentile_pairs), "percentile points")

    lines = main + _score_lines(build, weights, factor, tolerance, points, nullables, values, blanks, order, grades, by_share)
    if by_share and build.value("hysteresis") is not None:
        build.error("hysteresis needs threshold grades (min), not shares", "hysteresis")
    build.row(lines, [build.outcome])
    if by_share:
        rule_grades = [rule["grade"] for rule in build.value("promote", default=[])]
        build.population(_share_step(build.outcome.index, grades, order, rule_grades), "grades by share")

    labels = {grade["id"]: grade.get("label", grade["id"]) for grade in grades}
    labels[INSUFFICIENT] = build.value("missing", "label", default={"en": "Insufficient data", "zh": "数据不足"})
    margin = build.value("hysteresis")
    thresholds = not by_share and all("min" in grade for grade in grades)
    decimals = score_decimals([edge for band in _bands(grades, float(margin or 0)).values() for edge in band] if thresholds else [])
    return CompiledScheme(
        explain=_explainer(build.config, weights, factor, tolerance, fields_read, by_share, margin, build.vocabulary, decimals),
        labels=labels,
        score_decimals=decimals,
    )


def _score_factor(build: SchemeBuild, total: float) -> float:
    """What the renormalised weighted mean is multiplied by: 1 or the weights' total."""
    policy = build.value("weights_total")
    if policy is None and not math.isclose(total, 1.0, abs_tol=1e-9):
        build.warn(
            f"weights sum to {total:g}, not 1; scores are normalised to 0-100",
            "indicators",
            hint="say so with weights_total: normalise, or keep the total with weights_total: as-is",
        )
    if policy == "as-is" and total > 1 + 1e-9:
        build.warn(
            f"weights_total: as-is with weights summing to {total:g}: scores reach up to {100 * total:g}, not 100",
            "weights_total",
            hint="with weights over 1 in total, grade thresholds read on a 0-100 scale are easy to misjudge",
        )
    return total if policy == "as-is" else 1.0


def _check_reachable(build: SchemeBuild, indicators: list[dict], grades: list[dict], weights: list[float], factor: float) -> None:
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
    total = math.fsum(weights)
    if not total:
        return
    best = factor * math.fsum(w * p for w, p in zip(weights, most)) / total
    for index, grade in enumerate(grades):
        if grade.get("min", 0) > best + 1e-9:
            build.warn(f"grade {grade['id']!r} is unreachable: it needs a score of {grade['min']:g}, "
                       f"and the highest possible score is {best:g}", "grades", index, "min")


def _grade_order(grades: list[dict]) -> dict:
    """Each grade's rank, best first (0), and insufficient_data after every grade."""
    order = {grade["id"]: rank for rank, grade in enumerate(grades)}
    order[INSUFFICIENT] = len(grades)
    return order


def _check_grades(build: SchemeBuild, grades: list[dict]) -> bool:
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


def _indicator(build: SchemeBuild, index: int, indicator: dict, lines: list[str]) -> tuple[str, str, bool, Compiled | None]:
    """Emit the statements giving one indicator's value and points.

    Returns the locals holding them, whether the points may be missing, and the
    indicator's expression (to name its blank inputs when the points are missing).
    """
    mode = _mode(build, index, indicator)
    if mode is None:
        return "None", "None", True, None
    key = "points" if mode == "points" else "value"
    compiled = build.number("indicators", index, key)
    if mode == "percentile":  # ranked in a population step; the caller stores the raw value
        return compiled.code, "None", True, compiled
    value, point = build.temp(), build.temp()
    lines.append(f"{value} = {compiled.code}")
    guard = f"None if {value} is None else " if compiled.nullable else ""
    if mode == "points":
        lines.append(f"{point} = {guard}(0.0 if {value} < 0 else 100.0 if {value} > 100 else {value})")
    elif mode == "bins":
        _check_bins(build, index, indicator)
        chain = " else ".join(f"{float(b['points'])!r} if {value} >= {float(b['min'])!r}" for b in indicator["bins"])
        lines.append(f"{point} = {guard}({chain} else 0.0)")
    else:
        bounds = _linear_range(build, index, indicator)
        if bounds is None:
            return value, "None", True, compiled
        low, high = bounds
        below, above = ("<=", ">=") if low < high else (">=", "<=")
        lines.append(
            f"{point} = {guard}(0.0 if {value} {below} {low!r} else 100.0 if {value} {above} {high!r} "
            f"else ({value} - {low!r}) / {high - low!r} * 100.0)"
        )
    return value, point, compiled.nullable, compiled


def _score_lines(build, weights, factor, tolerance, points, nullables, values, blanks, order, grades, by_share) -> list[str]:
    """Statements computing the score, the grade and the outcome tuple (its detail ends
    with each indicator's blank inputs, empty unless its points are missing)."""
    out, promoted, score, kept = build.outcome.local, build.temp(), build.temp(), build.temp()
    detail = f"(({', '.join(values)},), ({', '.join(points)},), {promoted}, {kept}, ({', '.join(blanks)},))"
    weighted = " + ".join(f"{w!r} * {p}" for w, p in zip(weights, points))
    full_score = f"({weighted}) / {math.fsum(weights)!r} * {factor!r}"
    maybe_missing = [(w, p) for w, p, n in zip(weights, points, nullables) if n]
    if not maybe_missing:
        lines = [f"{score} = {full_score}"]
    else:
        count = build.temp()
        known_weight = " + ".join(f"(0.0 if {p} is None else {w!r})" for w, p in zip(weights, points))
        known_sum = " + ".join(f"(0.0 if {p} is None else {w!r} * {p})" for w, p in zip(weights, points))
        lines = [
            f"{count} = {' + '.join(f'({p} is None)' for _, p in maybe_missing)}",
            f"if {count} == 0:",
            f"    {score} = {full_score}",
            f"elif {count} <= {tolerance} and {count} < {len(points)}:",
            f"    {score} = ({known_sum}) / ({known_weight}) * {factor!r}",
            "else:",
            f"    {score} = None",
        ]
    grade = build.temp()
    if by_share:
        lines.append(f"{grade} = {INSUFFICIENT!r} if {score} is None else None")
    else:
        chain = " else ".join(f"{g['id']!r} if {score} >= {float(g['min'])!r}" for g in grades)
        lines.append(f"{grade} = {INSUFFICIENT!r} if {score} is None else ({chain} else {grades[-1]['id']!r})")
    lines.append(f"{promoted} = None")
    rule_ranks = build.constant(tuple(order.get(rule["grade"], 0) for rule in build.value("promote", default=[])))
    for index, rule in enumerate(build.value("promote", default=[])):
        if rule["grade"] not in order:
            build.error(f"promote names grade {rule['grade']!r}, which is not among the grades", "promote", index, "grade")
            continue
        condition = build.condition("promote", index, "when")
        rank = order[rule["grade"]]
        # Under share grades the grade is not known yet: record the rule lifting highest, applied later.
        test = f"({promoted} is None or {rank} < {rule_ranks}[{promoted}])" if by_share else f"{build.constant(order)}[{grade}] > {rank}"
        lines += [f"if {condition.code} and {test}:"]
        lines += [f"    {promoted} = {index}"] if by_share else [f"    {grade} = {rule['grade']!r}", f"    {promoted} = {index}"]
    lines.append(f"{kept} = None")
    margin = build.value("hysteresis")
    if margin is not None and not by_share:
        lines += _hysteresis_lines(build, grades, float(margin), score, grade, promoted, kept)
    lines.append(f"{out} = ({grade}, {score}, (), {detail})")
    return lines


def _hysteresis_lines(build, grades, margin, score, grade, promoted, kept) -> list[str]:
    """Keep the previous run's grade while the score stays inside that grade's band
    widened by the margin: ``min - margin <= score < (next grade's min) + margin``.

    ``kept`` then holds the grade the score alone gives, for the reasons.  A promotion
    or missing data leaves the computed grade alone.
    """
    previous = build.expression(source=f"previous_run.{build.id}").code
    bands = _bands(grades, margin)
    band = build.temp()
    return [
        f"if {promoted} is None and {score} is not None and {previous} is not None and {previous} != {grade}:",
        f"    {band} = {build.constant(bands)}.get({previous})",
        f"    if {band} is not None and {band}[0] <= {score} < {band}[1]:",
        f"        {kept} = {grade}",
        f"        {grade} = {previous}",
    ]


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


def _percentile_step(pairs: list[tuple[int, int]]):
    def run(rows: list[list]) -> None:
        for raw, ranked in pairs:
            for row, share in zip(rows, cume_dist([row[raw] for row in rows])):
                row[ranked] = None if share is None else share * 100.0

    return run


def _share_step(slot: int, grades: list[dict], order: dict, rule_grades: list[str]):
    """Grades by share of the population: the top ``share`` of scores get each grade.

    The detail's fourth item keeps the grade the share alone gives (share grades have no
    hysteresis), so the reasons can say it even when a promotion lifted the customer.
    """
    cuts = _share_cuts(grades)
    last = grades[-1]["id"]

    def run(rows: list[list]) -> None:
        above = share_above([row[slot][SCORE] for row in rows])
        for row, share in zip(rows, above):
            label, score, tags, (values, points, promoted, _kept, blanks) = row[slot]
            if share is not None:
                label = next((grade for cut, grade in cuts if share < cut - 1e-12), last)
            by_share, lifted = label, None
            if promoted is not None and order[label] > order[rule_grades[promoted]]:
                label, lifted = rule_grades[promoted], promoted
            row[slot] = (label, score, tags, (values, points, lifted, by_share, blanks))

    return run


# -- SQL (DuckDB, Spark) ------------------------------------------------------------
# The same outcome as the row and population steps above, in few SELECT layers: the
# promotions' best grade (it reads no score) and each indicator's value, then its
# points (the percentile through window functions), the score, the grade's rank by
# threshold or by share (a window over the score), and the label after promotions
# and hysteresis.  Every sum and division runs in the order the generated Python
# runs it, so the score is the same double and thresholds and share ties fall the
# same way.


def compile_weighted_sql(build) -> None:
    """The SQL twin of :func:`compile_weighted` (no reasons: SQL gives no detail)."""
    indicators, grades, tolerance, weights, total, factor, by_share, order = _setup(build)
    lift = _lift_sql(build, order)
    points = [_indicator_sql(build, index, indicator) for index, indicator in enumerate(indicators)]
    score = build.column("score", _score_sql(build, weights, total, factor, tolerance, points))
    base = _share_rank_sql(build, score, grades, order) if by_share else _threshold_rank_sql(build, score, grades, order)
    # Rules lift one after another, each only to a better grade: the best rank wins.
    rank = base if lift is None else f"least({base}, {lift})"
    label = f"CASE {rank} {' '.join(f'WHEN {position} THEN {build.literal(grade_id)}' for grade_id, position in order.items())} END"
    margin = build.value("hysteresis")
    if margin is not None and by_share:
        build.error("hysteresis needs threshold grades (min), not shares", "hysteresis")
    elif margin is not None:
        label = _hysteresis_sql(build, grades, float(margin), score, base, lift, build.column("label", label))
    build.outcome(label=label, score=score)


def _lift_sql(build, order: dict) -> str | None:
    """The column of the best rank a promotion rule that holds lifts to (insufficient
    data's rank, the lowest, when none holds); ``None`` without rules."""
    lifts = []
    for index, rule in enumerate(build.value("promote", default=[])):
        if rule["grade"] not in order:
            build.error(f"promote names grade {rule['grade']!r}, which is not among the grades", "promote", index, "grade")
            continue
        condition = build.condition("promote", index, "when")
        lifts.append(f"CASE WHEN {condition.code} THEN {order[rule['grade']]} ELSE {order[INSUFFICIENT]} END")
    if not lifts:
        return None
    return build.column("lift", lifts[0] if len(lifts) == 1 else f"least({', '.join(lifts)})")


def _indicator_sql(build, index: int, indicator: dict) -> tuple[str, bool]:
    """The column of an indicator's points (a double, NULL when missing) and whether
    they may be missing."""
    lit = build.literal
    mode = _mode(build, index, indicator)
    if mode is None:
        return "CAST(NULL AS DOUBLE)", True
    compiled = build.number("indicators", index, "points" if mode == "points" else "value")
    value = compiled.code if _is_column(build, compiled.code) else build.column(f"value{index}", compiled.code)
    if mode == "percentile":  # tierkit.population.cume_dist over the known values, × 100
        share = build.dialect.divide(f"count({value}) OVER (ORDER BY {value})", f"count({value}) OVER ()")
        return build.column(f"points{index}", f"CASE WHEN {value} IS NULL THEN NULL ELSE {share} * {lit(100.0)} END"), True
    if mode == "points":
        cases = f"WHEN {value} < 0 THEN {lit(0.0)} WHEN {value} > 100 THEN {lit(100.0)} ELSE {build.dialect.double(value)}"
    elif mode == "bins":
        _check_bins(build, index, indicator)
        cases = " ".join(
            f"WHEN {value} >= {lit(float(b['min']))} THEN {lit(float(b['points']))}" for b in indicator["bins"]
        ) + f" ELSE {lit(0.0)}"
    else:
        bounds = _linear_range(build, index, indicator)
        if bounds is None:
            return "CAST(NULL AS DOUBLE)", True
        low, high = bounds
        below, above = ("<=", ">=") if low < high else (">=", "<=")
        cases = (
            f"WHEN {value} {below} {lit(low)} THEN {lit(0.0)} WHEN {value} {above} {lit(high)} THEN {lit(100.0)} "
            f"ELSE ({build.dialect.double(value)} - {lit(low)}) / {lit(high - low)} * {lit(100.0)}"
        )
    return build.column(f"points{index}", f"CASE WHEN {value} IS NULL THEN NULL {cases} END"), compiled.nullable


def _is_column(build, code: str) -> bool:
    """Whether SQL code is a bare column reference (cheap to repeat; no column needed)."""
    return len(code) > 2 and build.dialect.quote(code[1:-1]) == code


def _score_sql(build, weights, total, factor, tolerance, points) -> str:
    """The score: the weighted mean of the points, renormalised over the known ones
    while no more than ``tolerance`` are missing (and one is known), else NULL."""
    lit = build.literal
    weighted = " + ".join(f"{lit(w)} * {p}" for w, (p, _nullable) in zip(weights, points))
    full = f"({weighted}) / {lit(total)} * {lit(factor)}"
    if not any(nullable for _p, nullable in points):
        return full
    missing = "(" + " + ".join(f"(CASE WHEN {p} IS NULL THEN 1 ELSE 0 END)" for p, _n in points) + ")"
    known_weight = " + ".join(f"(CASE WHEN {p} IS NULL THEN {lit(0.0)} ELSE {lit(w)} END)" for w, (p, _n) in zip(weights, points))
    known_sum = " + ".join(f"(CASE WHEN {p} IS NULL THEN {lit(0.0)} ELSE {lit(w)} * {p} END)" for w, (p, _n) in zip(weights, points))
    renormalised = f"{build.dialect.divide(f'({known_sum})', f'({known_weight})')} * {lit(factor)}"
    return (f"CASE WHEN {missing} = 0 THEN {full} "
            f"WHEN {missing} <= {lit(tolerance)} AND {missing} < {len(points)} THEN {renormalised} ELSE NULL END")


def _threshold_rank_sql(build, score: str, grades: list[dict], order: dict) -> str:
    """The rank of the first grade whose min the score reaches (the last grade below all)."""
    reached = " ".join(f"WHEN {score} >= {build.literal(float(g['min']))} THEN {order[g['id']]}" for g in grades)
    return f"CASE WHEN {score} IS NULL THEN {order[INSUFFICIENT]} {reached} ELSE {order[grades[-1]['id']]} END"


def _share_rank_sql(build, score: str, grades: list[dict], order: dict) -> str:
    """The rank by share of the population (:func:`_share_step`): the share of known
    scores strictly above this one (tierkit.population.share_above) against the cuts."""
    counted = f"count({score}) OVER ()"
    above = build.column("share", f"CASE WHEN {score} IS NULL THEN NULL ELSE "
                                  f"{build.dialect.divide(f'{counted} - count({score}) OVER (ORDER BY {score})', counted)} END")
    cuts = " ".join(f"WHEN {above} < {build.literal(cut - 1e-12)} THEN {order[grade]}" for cut, grade in _share_cuts(grades))
    return f"CASE WHEN {above} IS NULL THEN {order[INSUFFICIENT]} {cuts} ELSE {order[grades[-1]['id']]} END"


def _hysteresis_sql(build, grades, margin, score, base, lift, label) -> str:
    """The previous run's grade while the score stays in its band (:func:`_hysteresis_lines`);
    a promotion (``lift`` above ``base``) or a missing score leaves the label alone."""
    previous = build.expression(source=f"previous_run.{build.id}").code
    inside = []
    for grade_id, (low, high) in _bands(grades, margin).items():
        tests = [f"{previous} = {build.literal(grade_id)}"]
        tests += [f"{score} >= {build.literal(low)}"] if low != -math.inf else []
        tests += [f"{score} < {build.literal(high)}"] if high != math.inf else []
        inside.append(f"({' AND '.join(tests)})")
    unpromoted = "" if lift is None else f"{lift} >= {base} AND "
    return (f"CASE WHEN {unpromoted}{score} IS NOT NULL AND {previous} IS NOT NULL AND {previous} <> {label} "
            f"AND ({' OR '.join(inside)}) THEN {previous} ELSE {label} END")


def _explainer(config, weights, factor, tolerance, fields_read, by_share, margin, vocabulary: Vocabulary, decimals: int):
    """Reasons with every score, contribution and gap shown by the one rule of
    :func:`tierkit.labels.shown_score` (to ``decimals``): the contributions shown add
    up to the score shown, and the comparisons shown hold."""
    indicators, grades = config["indicators"], config["grades"]
    promotions = config.get("promote", [])

    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, score, _tags, (values, points, promoted, kept, blanks) = outcome
        known = [p is not None for p in points]
        present = math.fsum(w for w, k in zip(weights, known) if k) or 1.0
        reasons = []
        effective = [weight / present * factor for weight in weights]  # the weights renormalised over the known indicators
        parts = [e * p for e, p in zip(effective, points) if p is not None]
        shown = iter(shown_parts(parts, score, decimals) if score is not None else ())
        for indicator, weight, value, point, reads, blank, effective_weight in zip(
                indicators, weights, values, points, fields_read, blanks, effective):
            name = localize(indicator.get("label", indicator["id"]), lang)
            if point is None:
                fields = list(blank or reads)
                reasons.append({"indicator": indicator["id"], "missing": True, "fields": fields,
                                "text": words["missing"].format(label=name, fields=vocabulary.names(fields, lang))})
                continue
            if score is None:  # no score: points only, nothing contributes
                reasons.append({"indicator": indicator["id"], "value": value, "points": point, "weight": weight,
                                "text": words["points"].format(label=name, value=show_number(value), points=point)})
                continue
            contribution_shown = f"{next(shown):f}"
            reasons.append({
                "indicator": indicator["id"], "value": value, "points": point, "weight": weight,
                "effective_weight": effective_weight, "contribution": effective_weight * point,
                "contribution_shown": contribution_shown,
                "text": words["indicator"].format(label=name, value=show_number(value), points=point,
                                                  weight=float(f"{effective_weight:.3g}"), contribution=contribution_shown),
            })
        if score is None:
            missing = list(dict.fromkeys(f for reads, blank, p in zip(fields_read, blanks, points) if p is None for f in blank or reads))
            reasons.append({"insufficient_data": True, "missing_fields": missing,
                            "text": words["insufficient"].format(count=len(points) - sum(known), fields=vocabulary.names(missing, lang),
                                                                 tolerance=tolerance)})
        elif by_share:
            share_grade = kept  # under share grades: the grade the share alone gives
            rest = share_grade == grades[-1]["id"] and "share" not in grades[-1]
            shown = sum(g["share"] for g in grades[:-1]) if rest else _cumulative(grades, share_grade)
            reasons.append({"grade": share_grade, "text": words["share_rest" if rest else "share"].format(
                score=show_score(score, decimals), share=shown, grade=share_grade)})
        elif kept is not None:
            # the threshold the score alone reaches, without a near miss, then why the old grade stands
            reasons += _threshold_reasons(words, grades, kept, score, None, weights, points, present, factor, indicators, lang, decimals)[:1]
            reasons.append(_kept_reason(words, grades, label, kept, score, margin, decimals))
        else:
            reasons += _threshold_reasons(words, grades, label, score, promoted, weights, points, present, factor, indicators, lang, decimals)
        if promoted is not None:
            rule = promotions[promoted]
            reasons.append({"promoted": True, "grade": label,
                            "text": words["promoted"].format(grade=label, reason=localize(rule.get("reason", rule.get("when", "")), lang))})
        return reasons

    return explain


def _threshold_reasons(words, grades, label, score, promoted, weights, points, present, factor, indicators, lang, decimals):
    position = next(i for i, g in enumerate(grades) if score >= g["min"] or i == len(grades) - 1)
    reached = grades[position]
    said = "threshold" if score >= reached["min"] else "below"
    reasons = [{"grade": reached["id"], "threshold": reached["min"],
                "text": words[said].format(score=show_score(score, decimals), min=reached["min"], grade=reached["id"])}]
    if position == 0 or promoted is not None:
        return reasons
    target = grades[position - 1]
    gap = target["min"] - score
    best = None
    for indicator, weight, point in zip(indicators, weights, points):
        if point is None:
            continue
        gain = weight * (100.0 - point) / present * factor
        if gain >= gap and (best is None or gain > best[1]):
            best = (indicator, gain, point)
    near = {"next": target["id"], "short_by": gap}
    shown_gap = f"{shown_threshold(target['min']) - shown_score(score, decimals):f}"  # what the shown score lacks
    if best is None:
        text = words["near_none"].format(gap=shown_gap, grade=target["id"])
    else:
        indicator, _gain, point = best
        near["indicator"] = indicator["id"]
        text = words["near"].format(gap=shown_gap, grade=target["id"], indicator=localize(indicator.get("label", indicator["id"]), lang), points=point)
    reasons.append({"near_miss": near, "text": text})
    return reasons


def _kept_reason(words, grades, label, computed, score, margin, decimals) -> dict:
    """Why the previous run's grade stands: the edge of its band the score did not pass."""
    position = next(i for i, g in enumerate(grades) if g["id"] == label)
    up = next(i for i, g in enumerate(grades) if g["id"] == computed) < position
    threshold = float(grades[position - 1 if up else position]["min"])
    edge = threshold + margin if up else threshold - margin
    text = words["kept_up" if up else "kept_down"].format(
        grade=label, score=show_score(score, decimals), edge=edge, threshold=threshold, margin=margin, computed=computed
    )
    return {"hysteresis": True, "grade": label, "computed": computed, "margin": margin, "edge": edge, "text": text}


def _cumulative(grades, label) -> float:
    running = 0.0
    for grade in grades:
        running += grade.get("share", 0)
        if grade["id"] == label:
            return running
    return 1.0


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("weighted", __doc__, CONFIG_SCHEMA, compile_weighted, compile_sql=compile_weighted_sql)
    )
