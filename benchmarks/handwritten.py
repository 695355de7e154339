"""Two reference evaluators of the ``b2b-manufacturing`` ruleset, for the benchmark.

* ``evaluate_handwritten`` is the ruleset written out by hand in plain Python: the
  practical speed limit for any engine running in CPython.
* ``evaluate_naive`` interprets the YAML file directly and evaluates every condition and
  expression through Jinja's sandboxed ``compile_expression``: each expression is
  compiled once, and the compiled expression is called per customer. It is the obvious
  way to build such an engine, and the baseline the engine is measured against.

Both take typed customers (dicts keyed by field name; ``None`` for a blank) and an
as-of date, and return one ``{"id", "track", "grade", "score", "rank", "allocation"}``
dict per customer (plus ``matrix``), in input order. A customer missing more indicators than the grade
tolerates gets the grade ``insufficient_data`` and the score ``None``.

The allocation reads the lifecycle stage and the portfolio's ``at_risk`` and ``nail``
tags besides the grade, so both evaluators work those out too, and both place every
customer in the value × potential matrix (median cuts over the population, returned as
``matrix``). Only the benchmark tag, which feeds no compared result, is left out of the
hand-written function. Missing values follow the engine's
SQL rules where they matter: a comparison with a missing value is missing, and a
missing condition does not fire.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import yaml
from jinja2.sandbox import SandboxedEnvironment

RULESET_PATH = Path(__file__).resolve().parents[1] / "rulesets" / "b2b-manufacturing.yaml"
INSUFFICIENT = "insufficient_data"

# --------------------------------------------------------------------------- hand-written

# The ruleset's numbers as declared in the YAML file (tests/test_examples.py checks them).
# Grade weights in declared order: purchase_scale, profit_room, market_standing, relationship.
W_SCALE, W_PROFIT, W_STANDING, W_RELATION = 0.30, 0.20, 0.20, 0.30
W_TOTAL = W_SCALE + W_PROFIT + W_STANDING + W_RELATION  # weights_total: as-is
W_WITHOUT_PROFIT = W_SCALE + W_STANDING + W_RELATION  # renormalise over what is present
W_WITHOUT_RELATION = W_SCALE + W_PROFIT + W_STANDING
GRADE_MIN = {"S": 65, "A": 52, "B": 40, "C": 27, "D": 0}  # D also takes any lower score
# lifecycle windows, in days
NEW_DAYS, DORMANT_DAYS, LOST_DAYS = 180, 270, 540
# portfolio: nail = procurement at or above NAIL_CUT, under NAIL_MAX_SHARE of it with us for
# NAIL_STALEMATE_DAYS since the account was created; a return (our gross profit on
# NAIL_RETURN_SHARE of their spend) under NAIL_MIN_RETURN makes it nail_drop instead.
NAIL_CUT, NAIL_MAX_SHARE, NAIL_STALEMATE_DAYS = 1.0e8, 0.05, 365
NAIL_RETURN_SHARE, NAIL_MIN_RETURN = 0.2, 5.0e6
# at-risk signals: revenue trend under DECLINE while active, COMPLAINTS or more, competitor
DECLINE, COMPLAINTS = 0.7, 2


def lifecycle_stage(first, last, count, as_of: datetime.date,
                    windows: tuple[int, int, int] = (NEW_DAYS, DORMANT_DAYS, LOST_DAYS)) -> str:
    """The lifecycle kind's stage, written out (``unknown`` when the data cannot tell);
    ``windows`` are the new, dormant and lost windows in days."""
    new_days, dormant_days, lost_days = windows
    if first is None and last is None:
        return "potential" if count is None or count <= 0 else "unknown"
    if count is not None and count <= 0:
        return "unknown"
    if count == 1 and (first is None or last is None):
        first = last = first if last is None else last
    last_days = None if last is None else (as_of - last).days
    first_days = None if first is None else (as_of - first).days
    if (last_days is not None and last_days < 0) or (first_days is not None and first_days < 0):
        return "unknown"  # an order after the as-of date
    if last_days is not None and first_days is not None and first_days < last_days:
        return "unknown"  # the first order after the last
    if last_days is None:  # the last order lies between the first and the as-of date
        if first_days > dormant_days:
            return "unknown"
        return "new" if first_days <= new_days else "active"
    if last_days > lost_days:
        return "lost"
    if last_days > dormant_days:
        return "dormant"
    if first_days is None:  # the first order lies before the last
        return "unknown" if last_days <= new_days else "active"
    return "new" if first_days <= new_days else "active"


# value x potential matrix: (value high, potential high) -> cell
MATRIX_CELLS = {(True, True): "star", (True, False): "cash_cow", (False, True): "potential", (False, False): "long_tail"}


def median(values) -> float | None:
    """The median of the known values, interpolated (SQL's percentile_cont(0.5))."""
    known = sorted(value for value in values if value is not None)
    if not known:
        return None
    middle = (len(known) - 1) / 2
    low = int(middle)
    high = min(low + 1, len(known) - 1)
    return known[low] + (known[high] - known[low]) * (middle - low)


def evaluate_handwritten(customers: list[dict], as_of: datetime.date) -> list[dict]:
    """Evaluate the ruleset exactly as declared, written out as plain Python."""
    value_cut = median(c["our_revenue_12m"] for c in customers)
    potential_cut = median(c["annual_procurement"] for c in customers)
    cells = MATRIX_CELLS
    w_scale, w_profit, w_standing, w_relation = W_SCALE, W_PROFIT, W_STANDING, W_RELATION
    w_total, w_without_profit, w_without_relation = W_TOTAL, W_WITHOUT_PROFIT, W_WITHOUT_RELATION
    min_s, min_a, min_b, min_c = GRADE_MIN["S"], GRADE_MIN["A"], GRADE_MIN["B"], GRADE_MIN["C"]
    stage_of = lifecycle_stage
    nail_cut, max_share, stalemate_days = NAIL_CUT, NAIL_MAX_SHARE, NAIL_STALEMATE_DAYS
    return_share, min_return = NAIL_RETURN_SHARE, NAIL_MIN_RETURN
    decline, complaints_min = DECLINE, COMPLAINTS
    results = []
    sort_keys = []
    append_result = results.append
    append_key = sort_keys.append
    for c in customers:
        procurement = c["annual_procurement"]
        # derive
        share_of_wallet = c["our_revenue_12m"] / procurement if procurement > 0 else None
        last_order = c["last_order_date"]
        days_since_order = (as_of - last_order).days if last_order is not None else None  # noqa: F841
        prev = c["revenue_prev_12m"]
        revenue_trend = c["our_revenue_12m"] / prev if prev is not None and prev > 0 else None

        # track: first matching rule
        industry = c["industry"]
        if industry == "government":
            track = "government"
        elif industry == "finance":
            track = "finance"
        elif industry == "manufacturing" or industry == "energy":
            track = "manufacturing"
        else:
            track = "general"

        # grade: indicator points
        if procurement >= 1e10:
            scale = 100
        elif procurement >= 1e9:
            scale = 80
        elif procurement >= 1e8:
            scale = 60
        elif procurement >= 1e7:
            scale = 35
        elif procurement >= 0:
            scale = 10
        else:
            scale = 0

        margin = c["gross_margin_pct"]
        if margin is None:
            profit = None
        else:
            profit = (margin - 5) / 35 * 100
            if profit < 0:
                profit = 0
            elif profit > 100:
                profit = 100

        standing = 100 if c["fortune500"] else (75 if c["industry_leader"] else 20)

        if share_of_wallet is None:
            relation = None
        else:
            relation = share_of_wallet / 0.3 * 100
            if relation < 0:
                relation = 0
            elif relation > 100:
                relation = 100

        # grade: weighted score, renormalised over the indicators present
        if profit is not None and relation is not None:
            score = (w_scale * scale + w_profit * profit + w_standing * standing
                     + w_relation * relation) / w_total * w_total
        elif profit is None and relation is None:
            score = None  # two missing: over the tolerance of one
        elif profit is None:
            score = (w_scale * scale + w_standing * standing + w_relation * relation) \
                / w_without_profit * w_total
        else:
            score = (w_scale * scale + w_profit * profit + w_standing * standing) \
                / w_without_relation * w_total

        if score is None:
            grade = INSUFFICIENT
        elif score >= min_s:
            grade = "S"
        elif score >= min_a:
            grade = "A"
        elif score >= min_b:
            grade = "B"
        elif score >= min_c:
            grade = "C"
        else:
            grade = "D"
        if procurement >= 1e10:  # promote: over 10 billion a year is S on its own
            grade = "S"

        # lifecycle
        stage = stage_of(c["first_order_date"], last_order, c["order_count"], as_of)

        # portfolio: the at_risk and nail tags (a missing signal does not fire)
        complaints = c["complaints_90d"]
        at_risk = ((revenue_trend is not None and revenue_trend < decline and stage == "active")
                   or (complaints is not None and complaints >= complaints_min)
                   or bool(c["competitor_contact"]))
        nail = False
        created = c["created_date"]
        if (procurement >= nail_cut and share_of_wallet is not None and share_of_wallet < max_share
                and created is not None and (as_of - created).days >= stalemate_days):
            returns = None if margin is None else procurement * return_share * margin / 100
            nail = returns is None or returns >= min_return  # else nail_drop

        # allocation: first matching rule
        if grade == "S":
            allocation = "executive_rescue" if at_risk else "strategic"
        elif at_risk and (grade == "A" or grade == "B"):
            allocation = "risk_defence"
        elif nail and (grade == "A" or grade == "B" or grade == "C"):
            allocation = "nail_escalation"
        elif grade == "A":
            allocation = "key"
        elif stage == "dormant" and (grade == "B" or grade == "C" or grade == "D"):
            allocation = "reactivation"
        elif grade == "B":
            allocation = "growth"
        else:
            allocation = "self_service"

        # value x potential matrix: a value at the cut counts as high
        revenue = c["our_revenue_12m"]
        matrix = "unknown" if revenue is None else cells[revenue >= value_cut, procurement >= potential_cut]

        cid = c["id"]
        append_result({"id": cid, "track": track, "grade": grade, "score": score,
                       "rank": 0, "allocation": allocation, "matrix": matrix})
        # rank: score desc (None last), procurement desc, ties in input order (a stable sort)
        if score is None:
            append_key((True, 0.0, -procurement))
        else:
            append_key((False, -score, -procurement))

    order = sorted(range(len(results)), key=sort_keys.__getitem__)
    for rank, i in enumerate(order, 1):
        results[i]["rank"] = rank
    return results


# --------------------------------------------------------------------------- naive


def _number(value) -> float | int:
    """PyYAML (YAML 1.1) reads ``1.0e10`` without an exponent sign as a string."""
    return float(value) if isinstance(value, str) else value


def load_ruleset(path: Path = RULESET_PATH) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _missing_as_none(compiled):
    """An expression whose comparison or arithmetic on a missing value gives None.

    Jinja raises where SQL's rules give a missing value; a missing condition does not
    fire either way, which is all these evaluators need of it.
    """
    def run(ctx):
        try:
            return compiled(ctx)
        except TypeError:
            return None

    return run


# Kinds whose outcomes no compared result reads: left out, provided nothing reads them.
SKIPPED_KINDS: set[str] = set()
PRESET_CELLS = {"value_potential": MATRIX_CELLS}


class NaiveEvaluator:
    """Interpret a ruleset's YAML, running each expression through the Jinja sandbox.

    Supports what ``b2b-manufacturing`` uses: ``derive`` expressions, ``rules`` schemes
    (first hit), ``weighted`` schemes (``value``/``points`` with ``bins``/``linear``,
    missing tolerance, grades, promote), ``lifecycle`` schemes (windows over the
    order-date fields), ``portfolio`` schemes (benchmark thresholds, a nail with a fixed
    value cut, a stalemate and a minimum return, at-risk signals), ``matrix`` schemes
    (the value × potential preset with median cuts over the population), ``rank`` and
    ``allocation`` rules.
    """

    def __init__(self, ruleset: dict, as_of: datetime.date):
        env = SandboxedEnvironment()
        compile_ = env.compile_expression

        def guarded(text):
            return _missing_as_none(compile_(text))

        self.as_of = as_of
        self.derive = [(name, guarded(spec["expr"])) for name, spec in ruleset["derive"].items()]
        self.schemes = []
        self._check_skipped(ruleset)
        for scheme in ruleset["schemes"]:
            if scheme["kind"] in SKIPPED_KINDS:
                continue
            if scheme["kind"] == "lifecycle":
                windows = (scheme.get("new_days", 180), scheme.get("dormant_days", 180),
                           scheme.get("lost_days", 365))
                self.schemes.append(("lifecycle", scheme["id"], windows))
            elif scheme["kind"] == "portfolio":
                self.schemes.append(("portfolio", scheme["id"], self._portfolio(scheme, guarded)))
            elif scheme["kind"] == "matrix":
                if scheme["x"].get("cut", "median") != "median" or scheme["y"].get("cut", "median") != "median":
                    raise ValueError("the naive evaluator supports median cuts only")
                axes = (guarded(scheme["x"]["value"]), guarded(scheme["y"]["value"]))
                self.schemes.append(("matrix", scheme["id"], axes, PRESET_CELLS[scheme["preset"]]))
            elif scheme["kind"] == "rules":
                rules = [(r["id"], compile_(r["when"])) for r in scheme["rules"]]
                self.schemes.append(("rules", scheme["id"], rules, scheme["default"]["id"]))
            elif scheme["kind"] == "weighted":
                indicators = []
                for ind in scheme["indicators"]:
                    source = compile_(ind["points"] if "points" in ind else ind["value"])
                    bins = ind.get("bins")
                    if bins is not None:
                        bins = [(_number(b["min"]), b["points"]) for b in bins]
                    indicators.append((ind["weight"], "points" in ind, source, bins,
                                       ind.get("linear")))
                weights_total = sum(ind[0] for ind in indicators)
                grades = [(g["id"], g["min"]) for g in scheme["grades"]]
                promote = [(compile_(p["when"]), p["grade"]) for p in scheme.get("promote", [])]
                tolerance = scheme.get("missing", {}).get("tolerance", 0)
                self.schemes.append(("weighted", scheme["id"], indicators, weights_total,
                                     tolerance, grades, promote))
            else:
                raise ValueError(f"unsupported scheme kind {scheme['kind']!r}")
        self.rank_by = [(spec["by"], spec.get("order", "asc") == "desc")
                        for spec in ruleset["rank"]]
        self.allocation = [(r["id"], guarded(r["when"])) for r in ruleset["allocation"]["rules"]]
        self.allocation_default = ruleset["allocation"]["default"]["id"]

    @staticmethod
    def _check_skipped(ruleset: dict) -> None:
        skipped = [s["id"] for s in ruleset["schemes"] if s["kind"] in SKIPPED_KINDS]
        others = [s for s in ruleset["schemes"] if s["kind"] not in SKIPPED_KINDS]
        text = yaml.safe_dump([others, ruleset.get("rank"), ruleset.get("allocation")])
        for scheme_id in skipped:
            if re.search(rf"\b{re.escape(scheme_id)}\.", text):
                raise ValueError(f"scheme {scheme_id!r} is read by another scheme, the rank or the "
                                 "allocation, and its kind is not supported")

    @staticmethod
    def _portfolio(scheme: dict, guarded) -> dict:
        bench = scheme.get("benchmark", {})
        config = {"benchmark": None, "nail": None, "signals": [],
                  "min_signals": scheme.get("at_risk", {}).get("min_signals", 1)}
        if bench is not False:
            config["benchmark"] = [(guarded(bench.get(name, {}).get("value", name)),
                                    bench.get(name, {}).get("min", 70))
                                   for name in ("influence", "satisfaction", "cooperation")]
        nail = scheme.get("nail", {})
        if nail is not False:
            try:
                cut = _number(nail["value_cut"])
            except (KeyError, ValueError):
                raise ValueError("only a fixed nail value_cut is supported") from None
            config["nail"] = (guarded(nail["value"]), cut,
                              guarded(nail["stalemate"]),
                              guarded(nail["return_value"]) if "return_value" in nail else None,
                              None if nail.get("min_value") is None else _number(nail["min_value"]))
        at_risk = scheme.get("at_risk", {})
        if at_risk is not False:
            for name, signal in at_risk.get("signals", {}).items():
                if signal is False:
                    continue
                config["signals"].append(guarded(signal["when"] if isinstance(signal, dict) else signal))
        return config

    def days_since(self, day):
        return None if day is None else (self.as_of - day).days

    def evaluate(self, customers: list[dict]) -> list[dict]:
        results, contexts = [], []
        derived = []
        for customer in customers:
            ctx = dict(customer)
            ctx["days_since"] = self.days_since
            for name, expr in self.derive:
                ctx[name] = expr(ctx)
            derived.append(ctx)
        # matrix cuts are population medians of the axis values: a pass before the schemes
        cuts = {scheme[1]: tuple(median(axis(ctx) for ctx in derived) for axis in scheme[2])
                for scheme in self.schemes if scheme[0] == "matrix"}
        for customer, ctx in zip(customers, derived):
            outcome = {}
            for scheme in self.schemes:
                tags = ()
                if scheme[0] == "rules":
                    label, score = self._rules(scheme, ctx), None
                elif scheme[0] == "lifecycle":
                    label, score = self._lifecycle(scheme, ctx), None
                elif scheme[0] == "portfolio":
                    (label, tags), score = self._portfolio_tags(scheme, ctx), None
                elif scheme[0] == "matrix":
                    label, score = self._matrix(scheme, ctx, cuts[scheme[1]]), None
                else:
                    label, score = self._weighted(scheme, ctx)
                ctx[scheme[1]] = {"label": label, "score": score, "tags": tags}
                outcome[scheme[1]] = label
            allocation = next((rule_id for rule_id, when in self.allocation if when(ctx)),
                              self.allocation_default)
            contexts.append(ctx)
            results.append({"id": customer["id"], "track": outcome["track"],
                            "grade": outcome["grade"], "score": ctx["grade"]["score"],
                            "rank": 0, "allocation": allocation, "matrix": outcome["value_matrix"]})
        order = sorted(range(len(results)), key=lambda i: self._rank_key(contexts[i]))
        for rank, i in enumerate(order, 1):
            results[i]["rank"] = rank
        return results

    @staticmethod
    def _matrix(scheme, ctx, cuts):
        x, y = (axis(ctx) for axis in scheme[2])
        if x is None or y is None:
            return "unknown"
        return scheme[3][x >= cuts[0], y >= cuts[1]]

    def _lifecycle(self, scheme, ctx):
        return lifecycle_stage(ctx["first_order_date"], ctx["last_order_date"], ctx["order_count"], self.as_of, scheme[2])

    @staticmethod
    def _portfolio_tags(scheme, ctx):
        config = scheme[2]
        risk = nail = bench = drop = False
        if config["signals"]:
            risk = None
            fired = [signal(ctx) for signal in config["signals"]]
            if sum(1 for f in fired if f) >= config["min_signals"]:
                risk = True
            elif any(f is not None for f in fired):
                risk = False
        if config["nail"] is not None:
            value, cut, stalemate, returns, min_value = config["nail"]
            amount, stuck = value(ctx), stalemate(ctx)
            high = None if amount is None else amount >= cut
            if high is False or stuck is False:
                nail = False
            elif high is None or stuck is None:
                nail = None
            else:
                nail = bool(stuck)
            if nail and min_value is not None and returns is not None:
                back = returns(ctx)
                if back is not None and back < min_value:
                    nail, drop = False, True
        if config["benchmark"] is not None:
            bench = None
            values = [(value(ctx), minimum) for value, minimum in config["benchmark"]]
            if any(v is not None and v < minimum for v, minimum in values):
                bench = False
            elif all(v is not None for v, _ in values):
                bench = True
        tags = tuple(tag for tag, on in (("at_risk", risk), ("nail", nail), ("nail_drop", drop),
                                         ("benchmark", bench)) if on)
        carried = [tag for tag in tags if tag != "nail_drop"]
        if carried:
            return carried[0], tags
        return ("unknown" if None in (risk, nail, bench) else "none"), tags

    @staticmethod
    def _rules(scheme, ctx):
        _, _, rules, default = scheme
        return next((rule_id for rule_id, when in rules if when(ctx)), default)

    @staticmethod
    def _weighted(scheme, ctx):
        _, _, indicators, weights_total, tolerance, grades, promote = scheme
        total = 0.0
        present_weight = 0.0
        missing = 0
        for weight, is_points, source, bins, linear in indicators:
            value = source(ctx)
            if value is None:
                missing += 1
                continue
            if is_points:
                points = value
            elif bins is not None:
                points = next((points for minimum, points in bins if value >= minimum), 0)
            else:
                points = (value - linear["from"]) / (linear["to"] - linear["from"]) * 100
            points = min(100, max(0, points))
            total += weight * points
            present_weight += weight
        if missing > tolerance:
            label, score = INSUFFICIENT, None
        else:
            score = total / present_weight * weights_total
            label = next((g for g, minimum in grades if score >= minimum), grades[-1][0])
        order = [g for g, _ in grades]
        for when, target in promote:
            if when(ctx) and (label == INSUFFICIENT or order.index(label) > order.index(target)):
                label = target
        return label, score

    def _rank_key(self, ctx):
        key = []
        for path, descending in self.rank_by:
            value = ctx
            for part in path.split("."):
                value = value[part]
            if value is None:
                key.append((True, 0))
            else:
                key.append((False, -value if descending else value))
        return key


def evaluate_naive(customers: list[dict], as_of: datetime.date,
                   ruleset: dict | None = None) -> list[dict]:
    """Evaluate through the Jinja sandbox; the YAML is read from the ruleset file."""
    evaluator = NaiveEvaluator(ruleset if ruleset is not None else load_ruleset(), as_of)
    return evaluator.evaluate(customers)
