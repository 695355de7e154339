"""Two reference evaluators of the ``b2b-manufacturing`` ruleset, for the benchmark.

* ``evaluate_handwritten`` is the ruleset written out by hand in plain Python: the
  practical speed limit for any engine running in CPython.
* ``evaluate_naive`` interprets the YAML file directly and evaluates every condition and
  expression through Jinja's sandboxed ``compile_expression``: each expression is
  compiled once, and the compiled expression is called per customer. It is the obvious
  way to build such an engine, and the baseline the engine is measured against.

Both take typed customers (dicts keyed by field name; ``None`` for a blank) and an
as-of date, and return one ``{"id", "track", "grade", "score", "rank", "allocation"}``
dict per customer, in input order. A customer missing more indicators than the grade
tolerates gets the grade ``insufficient_data`` and the score ``None``.
"""

from __future__ import annotations

import datetime
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


def evaluate_handwritten(customers: list[dict], as_of: datetime.date) -> list[dict]:
    """Evaluate the ruleset exactly as declared, written out as plain Python."""
    w_scale, w_profit, w_standing, w_relation = W_SCALE, W_PROFIT, W_STANDING, W_RELATION
    w_total, w_without_profit, w_without_relation = W_TOTAL, W_WITHOUT_PROFIT, W_WITHOUT_RELATION
    min_s, min_a, min_b, min_c = GRADE_MIN["S"], GRADE_MIN["A"], GRADE_MIN["B"], GRADE_MIN["C"]
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

        # allocation: first matching rule on the final grade
        if grade == "S":
            allocation = "strategic"
        elif grade == "A":
            allocation = "key"
        elif grade == "B":
            allocation = "growth"
        else:
            allocation = "self_service"

        cid = c["id"]
        append_result({"id": cid, "track": track, "grade": grade, "score": score,
                       "rank": 0, "allocation": allocation})
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


class NaiveEvaluator:
    """Interpret a ruleset's YAML, running each expression through the Jinja sandbox.

    Supports what ``b2b-manufacturing`` uses: ``derive`` expressions, ``rules`` schemes
    (first hit), ``weighted`` schemes (``value``/``points`` with ``bins``/``linear``,
    missing tolerance, grades, promote), ``rank`` and ``allocation`` rules.
    """

    def __init__(self, ruleset: dict, as_of: datetime.date):
        env = SandboxedEnvironment()
        compile_ = env.compile_expression
        self.as_of = as_of
        self.derive = [(name, compile_(spec["expr"])) for name, spec in ruleset["derive"].items()]
        self.schemes = []
        for scheme in ruleset["schemes"]:
            if scheme["kind"] == "rules":
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
        self.allocation = [(r["id"], compile_(r["when"])) for r in ruleset["allocation"]["rules"]]
        self.allocation_default = ruleset["allocation"]["default"]["id"]

    def days_since(self, day):
        return None if day is None else (self.as_of - day).days

    def evaluate(self, customers: list[dict]) -> list[dict]:
        results, contexts = [], []
        for customer in customers:
            ctx = dict(customer)
            ctx["days_since"] = self.days_since
            for name, expr in self.derive:
                ctx[name] = expr(ctx)
            outcome = {}
            for scheme in self.schemes:
                if scheme[0] == "rules":
                    label, score = self._rules(scheme, ctx), None
                else:
                    label, score = self._weighted(scheme, ctx)
                ctx[scheme[1]] = {"label": label, "score": score}
                outcome[scheme[1]] = label
            allocation = next((rule_id for rule_id, when in self.allocation if when(ctx)),
                              self.allocation_default)
            contexts.append(ctx)
            results.append({"id": customer["id"], "track": outcome["track"],
                            "grade": outcome["grade"], "score": ctx["grade"]["score"],
                            "rank": 0, "allocation": allocation})
        order = sorted(range(len(results)), key=lambda i: self._rank_key(contexts[i]))
        for rank, i in enumerate(order, 1):
            results[i]["rank"] = rank
        return results

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
