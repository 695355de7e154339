"""Reason codes put into words, zh and en, in Python only.

Engines give a reason as ``{"code": …, params}``; the words are written here, where
an output needs them, from a template per code and language and the ruleset's names
(:attr:`ir.Logic.names`: indicator, field, segment and promotion labels).  A template
formats the parameters with ``str.format``; names are looked up beforehand, so a
template never reaches into the ruleset.
"""

from __future__ import annotations

import math

TEMPLATES = {
    "en": {
        "weighted.contribution": "{indicator}: {value} → {points:.1f} points × {effective_weight:.3g} = {contribution:.1f}",
        "weighted.missing": "{indicator}: missing ({fields}); left out of the score",
        "weighted.points": "{indicator}: {value} → {points:.1f} points",
        "weighted.insufficient": "insufficient data: {count} indicators missing, at most {tolerance} allowed",
        "weighted.threshold": "score {score_down:.1f} ≥ {threshold:g} → {grade}",
        "weighted.near": "{short_by_up:.1f} points short of {next}; {indicator} at {points:.0f}/100 could close it",
        "weighted.near_none": "{short_by_up:.1f} points short of {next}; no single indicator can close it",
        "weighted.promoted": "promoted to {grade}: {rule}",
        "pareto.missing": "{value_name} missing ({fields}): segment unknown",
        "pareto.position": "{value_name} {value}: the customers at or above it are {customer_share:.1%} of customers "
                           "and bring {cumulative_share:.1%} of {value_name}",
        "pareto.position_no_total": "{value_name} {value}: the customers at or above it are {customer_share:.1%} of "
                                    "customers; no customer has a positive {value_name}, so there are no value shares",
        "pareto.top": "fewer than {top:.0%} of customers rank above it → top",
        "pareto.middle": "below the top {top:.0%} and above the bottom {bottom:.0%} of customers → middle",
        "pareto.bottom": "within the bottom {bottom:.0%} of customers → bottom",
        "pareto.nonpositive": "{value_name} is not positive, so it brings no share → bottom",
        "pareto.segment": "the {segment} segment: {segment_customer_share:.1%} of customers bring "
                          "{segment_value_share:.1%} of {value_name}",
    },
    "zh": {
        "weighted.contribution": "{indicator}：{value} → {points:.1f} 分 × {effective_weight:.3g} = {contribution:.1f}",
        "weighted.missing": "{indicator}：缺失（{fields}），不计入得分",
        "weighted.points": "{indicator}：{value} → {points:.1f} 分",
        "weighted.insufficient": "数据不足：{count} 项指标缺失，最多允许 {tolerance} 项",
        "weighted.threshold": "得分 {score_down:.1f} ≥ {threshold:g} → {grade}",
        "weighted.near": "距 {next} 还差 {short_by_up:.1f} 分；提升{indicator}（当前 {points:.0f}/100）即可达到",
        "weighted.near_none": "距 {next} 还差 {short_by_up:.1f} 分；单项指标无法弥补",
        "weighted.promoted": "升级为 {grade}：{rule}",
        "pareto.missing": "{value_name}缺失（{fields}）：无法分层",
        "pareto.position": "{value_name} {value}：不低于它的客户占客户数的 {customer_share:.1%}，贡献了 {cumulative_share:.1%} 的{value_name}",
        "pareto.position_no_total": "{value_name} {value}：不低于它的客户占客户数的 {customer_share:.1%}；"
                                    "没有客户的{value_name}为正，无法计算价值占比",
        "pareto.top": "排在它前面的客户不足 {top:.0%} → 头部",
        "pareto.middle": "位于前 {top:.0%} 之后、后 {bottom:.0%} 之前 → 腰部",
        "pareto.bottom": "位于客户数的后 {bottom:.0%} → 尾部",
        "pareto.nonpositive": "{value_name}不为正，不贡献价值 → 尾部",
        "pareto.segment": "{segment}：{segment_customer_share:.1%} 的客户贡献了 {segment_value_share:.1%} 的{value_name}",
    },
}
SEPARATOR = {"en": ", ", "zh": "、"}


def localize(label, lang: str) -> str:
    return label.get(lang) or label.get("en") or next(iter(label.values())) if isinstance(label, dict) else str(label)


def show_number(value) -> str:
    """A value as reasons show it: thousands separated, whole floats without ``.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


class Words:
    """Renders one scheme's reasons in one language, names resolved once."""

    def __init__(self, names: dict, lang: str):
        self.lang = lang
        self.templates = TEMPLATES[lang]
        self.names = {key: localize(label, lang) for key, label in names.items()}
        self.value_name = self.names.get("value_name", "")

    def render(self, reason: dict) -> str:
        params = dict(reason)
        code = params.pop("code")
        names = self.names
        if "indicator" in params:
            params["indicator"] = names.get(f"indicator.{params['indicator']}", params["indicator"])
        if "fields" in params:
            params["fields"] = SEPARATOR[self.lang].join(names.get(f"field.{f}", f) for f in params["fields"].split(","))
        if "value" in params:
            params["value"] = show_number(params["value"])
        if code == "weighted.promoted":
            params["rule"] = names.get(f"promote.{params['rule']}", "")
        if code == "pareto.segment":
            params["segment"] = names.get(f"segment.{params['segment']}", params["segment"])
        if "score" in params:  # threshold texts round down: 39.96 never reads as 40.0
            params["score_down"] = math.floor(params["score"] * 10 + 1e-9) / 10
        if "short_by" in params:  # a gap rounds up: never 0.0 points short
            params["short_by_up"] = math.ceil(params["short_by"] * 10 - 1e-9) / 10
        return self.templates[code].format(value_name=self.value_name, **params)
