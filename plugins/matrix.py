"""The ``matrix`` scheme kind: a two-axis matrix of four named cells (四象限矩阵).

Each axis (``x``, ``y``) is an expression with a cut: an absolute value (``cut: 12``),
the population median (``cut: median``, the default) or a percentile (``cut: p75`` or
``cut: {percentile: 0.75}``, SQL ``percentile_cont`` over the customers whose value is
known).  A value exactly at the cut counts as high.  An axis whose expression gives
true/false is high when true and takes no cut.  The four cells ``high_high``,
``high_low``, ``low_high`` and ``low_low`` (x first, then y) carry an id, a bilingual
label, tags and ``about`` (strategy and actions).  Presets bring the cells, their
playbooks and default axes: ``frequency_volume`` (star 明星 / traffic 流量 / stream
小溪 / burden 负担 客户; the traffic cell is tagged ``receivables_risk`` when the
``receivables`` condition, default ``overdue_amount > 0``, holds), ``value_potential``
(star 明星 / cash_cow 现金牛 / potential 潜力 / long_tail 长尾) and
``importance_urgency`` (Eisenhower: do_first / schedule / delegate / drop).  A
customer with a missing axis value is ``unknown``, with the missing fields named.
Reasons give each axis value against its cut and how the cut was computed.

Example::

    - id: fv
      kind: matrix
      label: {en: Frequency x volume, zh: 频次×进货量}
      preset: frequency_volume
      x: {value: orders_per_year, cut: 12}
      y: {value: revenue_last_12m, cut: p75}
      receivables: "overdue_amount > 50000"
      cells:
        low_low: {id: burden, tags: [replace-gradually]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import nodes

from tierkit.build import CompiledScheme, SchemeBuild
from tierkit.expr import Compiled, literal_value, parse
from tierkit.hookspecs import hookimpl
from tierkit.labels import localize, show_number
from tierkit.population import percentile_cont
from tierkit.registry import SchemeKind
from tierkit.words import Vocabulary

if TYPE_CHECKING:
    from tierkit.sqlbuild import SqlBuild

UNKNOWN = "unknown"
RECEIVABLES_TAG = "receivables_risk"
CELL_KEYS = ("high_high", "high_low", "low_high", "low_low")  # x level, then y level
NO_VALUE = Compiled("", "None", "any", True, frozenset())


def _label(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


LABEL_REF = {"$ref": "#/$defs/label"}
CUT = {
    "$ref": "#/$defs/cut",
    "title": "Cut",
    "description": "Where the axis splits into low and high: a number, 'median', 'pNN' (e.g. p75) or "
    "{percentile: 0.75}. A value exactly at the cut is high.",
}
AXIS_PROPERTIES = {
    "value": {"type": "string", "title": "Value", "description": "An expression: the axis value (a number, or true/false)."},
    "cut": CUT,
    "label": {**LABEL_REF, "title": "Axis label", "description": "The axis name in reasons."},
}
CELL = {
    "title": "Cell",
    "description": "The cell's label id (a string), or its id, label, tags and about.",
    "anyOf": [
        {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "title": "Label id",
                       "description": "The label customers in this cell get."},
                "label": {**LABEL_REF, "title": "Label", "description": "The cell's display label."},
                "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags",
                         "description": "Tags customers in this cell carry."},
                "about": {"$ref": "#/$defs/about"},
            },
            "additionalProperties": False,
        },
    ],
}

CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "preset": {
            "enum": ["frequency_volume", "value_potential", "importance_urgency"],
            "title": "Preset",
            "description": "A known matrix: its cells, labels, playbooks and default axes; config keys override them.",
        },
        "x": {"type": "object", "title": "X axis", "description": "The first axis: its value expression, cut and label.",
              "properties": AXIS_PROPERTIES, "additionalProperties": False},
        "y": {"type": "object", "title": "Y axis", "description": "The second axis: its value expression, cut and label.",
              "properties": AXIS_PROPERTIES, "additionalProperties": False},
        "cells": {
            "type": "object",
            "title": "Cells",
            "description": "The four cells by x level then y level; a preset's cells are merged with these.",
            "properties": {
                "high_high": {**CELL, "title": "High x, high y", "description": "The cell of customers high on both axes."},
                "high_low": {**CELL, "title": "High x, low y", "description": "The cell of customers high on x, low on y."},
                "low_high": {**CELL, "title": "Low x, high y", "description": "The cell of customers low on x, high on y."},
                "low_low": {**CELL, "title": "Low x, low y", "description": "The cell of customers low on both axes."},
            },
            "additionalProperties": False,
        },
        "receivables": {
            "title": "Receivables risk",
            "description": "frequency_volume only: a condition that tags the traffic (low x, high y) cell receivables_risk; "
            "default overdue_amount > 0 when that field exists; false turns it off.",
            "anyOf": [{"type": "string", "minLength": 1}, {"const": False}],
        },
        "unknown": {
            "type": "object",
            "title": "Unknown",
            "description": "The label and about of customers with a missing axis value.",
            "properties": {
                "label": {**LABEL_REF, "title": "Label", "description": "The display label of unknown."},
                "about": {"$ref": "#/$defs/about"},
            },
            "additionalProperties": False,
        },
    },
}

# -- presets ------------------------------------------------------------------------

PRESETS = {
    "frequency_volume": {
        "x": {"candidates": ("orders_per_year", "order_count"), "cut": "median", "label": _label("Purchase frequency", "进货频次")},
        "y": {"candidates": ("revenue_last_12m", "revenue"), "cut": "median", "label": _label("Purchase volume", "进货量")},
        "receivables": "overdue_amount > 0",
        "cells": {
            "high_high": {
                "id": "star",
                "label": _label("Star customer", "明星客户"),
                "about": {
                    "strategy": _label("Key account with most of the revenue: protect and deepen",
                                       "重点客户，贡献大部分收入：重点维护、深度经营"),
                    "actions": [
                        _label("Dedicated account manager and priority service", "专人负责，优先服务"),
                        _label("Regular senior visits and a joint annual plan", "定期高层拜访，共同制定年度计划"),
                    ],
                },
            },
            "low_high": {
                "id": "traffic",
                "label": _label("Traffic customer", "流量客户"),
                "about": {
                    "strategy": _label("Key account too, but watch receivables: a big order never paid is a risk",
                                       "同样是重点客户，但要盯紧回款：大单不回款就是风险"),
                    "actions": [
                        _label("Watch receivables: check credit and overdue amounts before each large order",
                               "盯紧回款：每笔大单前核查信用与逾期金额"),
                        _label("Agree payment terms in writing and follow up on collection", "书面约定账期，及时跟进回款"),
                        _label("Raise order frequency with regular replenishment offers", "以定期补货方案提高下单频次"),
                    ],
                },
            },
            "high_low": {
                "id": "stream",
                "label": _label("Stream customer", "小溪客户"),
                "about": {
                    "strategy": _label("Small and cash-poor but active: nurture with support policies",
                                       "规模小、资金紧但下单活跃：以扶持政策培育"),
                    "actions": [
                        _label("Support policies: small-lot prices, flexible terms", "扶持政策：小批量价格、灵活账期"),
                        _label("Help them grow their volume", "帮助其扩大进货量"),
                    ],
                },
            },
            "low_low": {
                "id": "burden",
                "label": _label("Burden customer", "负担客户"),
                "about": {
                    "strategy": _label("Costly to serve: replace gradually and control risk", "服务成本高：逐步替换，控制风险"),
                    "actions": [
                        _label("Move to standardised or self-service", "转为标准化或自助服务"),
                        _label("Tighten credit: cash or prepayment", "收紧信用：现款或预付"),
                        _label("Replace gradually with better customers", "逐步以更优质的客户替代"),
                    ],
                },
            },
        },
    },
    "value_potential": {
        "x": {"candidates": ("revenue_last_12m", "revenue"), "cut": "median", "label": _label("Value", "价值")},
        "y": {"candidates": ("potential", "revenue_potential", "annual_procurement"), "cut": "median",
              "label": _label("Potential", "潜力")},
        "cells": {
            "high_high": {
                "id": "star",
                "label": _label("Star customer", "明星客户"),
                "about": {
                    "strategy": _label("Deep binding: a strategic partnership", "深度绑定，建立战略合作伙伴关系"),
                    "actions": [
                        _label("Executive sponsorship and a joint plan", "高层对接，共同规划"),
                        _label("Invest ahead of their growth", "随客户成长提前投入资源"),
                    ],
                },
            },
            "high_low": {
                "id": "cash_cow",
                "label": _label("Cash cow", "现金牛客户"),
                "about": {
                    "strategy": _label("Keep stable; cross-sell gently", "保持稳定，适度交叉销售"),
                    "actions": [
                        _label("Protect service quality and price stability", "保障服务质量与价格稳定"),
                        _label("Offer adjacent products without pushing", "温和推荐相关产品"),
                    ],
                },
            },
            "low_high": {
                "id": "potential",
                "label": _label("Potential customer", "潜力客户"),
                "about": {
                    "strategy": _label("Invest to grow", "投入资源，培育增长"),
                    "actions": [
                        _label("Map their needs and decision chain", "梳理需求与决策链"),
                        _label("Win a larger share with pilot projects", "以试点项目扩大份额"),
                    ],
                },
            },
            "low_low": {
                "id": "long_tail",
                "label": _label("Long tail", "长尾客户"),
                "about": {
                    "strategy": _label("Standardised service", "标准化服务"),
                    "actions": [_label("Self-service and standard offers; no senior reps", "自助服务与标准方案，不投入资深销售")],
                },
            },
        },
    },
    "importance_urgency": {
        "x": {"candidates": ("importance",), "cut": 50, "label": _label("Importance", "重要性")},
        "y": {"candidates": ("urgency",), "cut": 50, "label": _label("Urgency", "紧急性")},
        "cells": {
            "high_high": {
                "id": "do_first",
                "label": _label("Important and urgent: do first", "重要且紧急：立即处理"),
                "about": {
                    "strategy": _label("Do it first", "优先处理"),
                    "actions": [_label("Handle it today, in person; emergencies jump the queue", "今天亲自处理，紧急事项优先插队")],
                },
            },
            "high_low": {
                "id": "schedule",
                "label": _label("Important, not urgent: schedule", "重要不紧急：计划处理"),
                "about": {
                    "strategy": _label("Schedule it in your most energetic hours", "安排在精力最充沛的时段处理"),
                    "actions": [_label("Block time for it in the calendar", "在日程中预留时间")],
                },
            },
            "low_high": {
                "id": "delegate",
                "label": _label("Urgent, not important: delegate", "紧急不重要：委派处理"),
                "about": {
                    "strategy": _label("Delegate it or handle it quickly", "委派他人或快速处理"),
                    "actions": [_label("Hand it to inside sales or support", "交由电话销售或支持团队")],
                },
            },
            "low_low": {
                "id": "drop",
                "label": _label("Neither: drop or batch", "不重要不紧急：舍弃或批量处理"),
                "about": {
                    "strategy": _label("Drop it, or batch it into a routine", "舍弃，或纳入例行批量处理"),
                    "actions": [_label("Batch into a weekly routine", "纳入每周例行批量处理")],
                },
            },
        },
    },
}

UNKNOWN_LABEL = _label("Unknown", "未知")
UNKNOWN_ABOUT = {"strategy": _label("Fill in the missing data first", "先补齐缺失数据")}

WORDS = {
    "en": {
        "above": "{axis}: {value} ≥ {cut} ({how}) → high",
        "below": "{axis}: {value} < {cut} ({how}) → low",
        "true": "{axis}: true → high",
        "false": "{axis}: false → low",
        "missing": "{axis}: missing ({fields})",
        "fixed": "fixed cut",
        "median": "population median",
        "percentile": "{p:g}th percentile of the population",
        "high": "high",
        "low": "low",
        "cell": "{x} {xl}, {y} {yl} → {label}",
        "unknown": "unknown: {fields} missing",
        "risk": "receivables at risk ({expr} holds) → tagged receivables_risk",
        "clear": "receivables clear ({expr} does not hold)",
        "risk_missing": "receivables unknown ({fields} missing): watch receivables",
        "risk_unchecked": "watch receivables (no receivables condition)",
    },
    "zh": {
        "above": "{axis}：{value} ≥ {cut}（{how}）→ 高",
        "below": "{axis}：{value} < {cut}（{how}）→ 低",
        "true": "{axis}：是 → 高",
        "false": "{axis}：否 → 低",
        "missing": "{axis}：缺失（{fields}）",
        "fixed": "固定分界",
        "median": "全体中位数",
        "percentile": "全体第 {p:g} 百分位",
        "high": "高",
        "low": "低",
        "cell": "{x}{xl}、{y}{yl} → {label}",
        "unknown": "未知：缺少 {fields}",
        "risk": "回款有风险（{expr} 成立）→ 标记 receivables_risk",
        "clear": "回款正常（{expr} 不成立）",
        "risk_missing": "回款情况未知（缺少 {fields}）：盯紧回款",
        "risk_unchecked": "盯紧回款（未设置回款条件）",
    },
}


# -- compile --------------------------------------------------------------------------


class _Axis:
    def __init__(self, key, label, compiled, cut, boolean):
        self.key = key
        self.label = label
        self.compiled = compiled
        self.cut = cut  # ("value", number) | ("percentile", fraction) | None for true/false axes
        self.boolean = boolean

    @property
    def population(self) -> bool:
        return self.cut is not None and self.cut[0] == "percentile"


def compile_matrix(build: SchemeBuild) -> CompiledScheme:
    preset_name = build.value("preset")
    preset = PRESETS.get(preset_name, {})
    x = _axis(build, "x", preset.get("x"))
    y = _axis(build, "y", preset.get("y"))
    cells = _cells(build, preset)
    receivables, receivables_text = _receivables(build, preset)
    unknown_config = build.value("unknown", default={}) or {}

    table = _cell_table(cells, receivables is not None)
    _warn_unreached(build, x, y, cells)

    population = x.population or y.population
    names = [build.slot(name) for name in ("x", "y", "missing", "receivables", "receivables_missing")] if population else None
    xv, yv, missing, risk, risk_missing = [slot.local for slot in names] if population else [build.temp() for _ in range(5)]
    lines = [
        f"{xv} = {x.compiled.code}",
        f"{yv} = {y.compiled.code}",
        f"{missing} = () if {xv} is not None and {yv} is not None else "
        f"({build.missing_names(x.compiled)} if {xv} is None else ()) + ({build.missing_names(y.compiled)} if {yv} is None else ())",
    ]
    if receivables is not None:
        lines += [f"{risk} = {receivables.code}",
                  f"{risk_missing} = () if {risk} is not None else {build.missing_names(receivables)}"]
    else:
        lines += [f"{risk} = None", f"{risk_missing} = ()"]
    # The cuts: fixed ones now; population ones filled in by a population step before
    # the outcome's row step reads them from this shared list.
    cuts = [x.cut[1] if x.cut and not x.population else None, y.cut[1] if y.cut and not y.population else None]
    cuts_name = build.constant(cuts)
    if population:
        build.row(lines, names)
        build.population(_cut_step(x, y, names[0].index, names[1].index, cuts), "axis cuts")
        lines = []
    lines += _outcome_lines(build, table, x.boolean, y.boolean, xv, yv, cuts_name, missing, risk, risk_missing)
    build.row(lines, [build.outcome])

    labels = {cell["id"]: cell.get("label", cell["id"]) for cell in cells.values()}
    labels[UNKNOWN] = unknown_config.get("label", UNKNOWN_LABEL)
    about = {cell["id"]: cell["about"] for cell in cells.values() if cell.get("about")}
    about[UNKNOWN] = unknown_config.get("about", UNKNOWN_ABOUT)
    return CompiledScheme(
        explain=_explainer(x, y, labels, receivables_text, preset_name == "frequency_volume", build.vocabulary),
        labels=labels,
        about=about,
    )


def _cell_table(cells: dict[str, dict], receivables: bool) -> dict[tuple[bool, bool], tuple]:
    """Each cell by (x high, y high): its id, its tags, and its tags when the receivables
    condition holds (``None`` for cells the condition does not flag)."""
    flagged_key = "low_high" if receivables else None
    table = {}
    for key, cell in cells.items():
        tags = tuple(cell.get("tags", ()))
        flagged = None
        if key == flagged_key:
            flagged = tags if RECEIVABLES_TAG in tags else tags + (RECEIVABLES_TAG,)
        table[(key.startswith("high"), key.endswith("high"))] = (cell["id"], tags, flagged)
    return table


def _warn_unreached(build: SchemeBuild, x: _Axis, y: _Axis, cells: dict[str, dict]) -> None:
    """A warning for each cell no customer can reach because an axis is provably always
    high or always low (:func:`_levels`); at the cell when the ruleset declares it,
    else at the axis."""
    levels = {axis.key: _levels(axis) for axis in (x, y)}
    given = build.value("cells", default={}) or {}
    for key, cell in cells.items():
        wanted = {"x": key.startswith("high"), "y": key.endswith("high")}
        stuck = [axis for axis in (x, y) if wanted[axis.key] not in levels[axis.key][0]]
        if not stuck:
            continue
        axis, why = stuck[0], levels[stuck[0].key][1]
        level = "high" if wanted[axis.key] else "low"
        build.warn(f"cell {key} ({cell['id']!r}) is never reached: the {axis.key} axis is never {level} ({why})",
                   *(("cells", key) if key in given else (axis.key,)), hint=f"change the {axis.key} axis, or its cut")


def _levels(axis: _Axis) -> tuple[set[bool], str]:
    """The levels (True: high) the axis can take, proved from its expression and cut,
    and why when not both: every value it can give is a constant of its expression
    (``1 if vip else 0``) on one side of a fixed cut, or a percentile cut of 0 (the
    lowest value: nothing is below it)."""
    both = ({True, False}, "")
    if axis.cut is not None and axis.cut[0] == "percentile" and axis.cut[1] == 0:
        return {True}, "its cut is the lowest value: nothing is below it"
    values = _possible_values(axis.compiled.source)
    if values is None:
        return both
    if axis.boolean:
        levels = {bool(value) for value in values}
    elif axis.cut is not None and axis.cut[0] == "value":
        levels = {value >= axis.cut[1] for value in values}
    elif len(set(values)) == 1:  # one value for everyone: at any percentile of itself
        levels = {True}
    else:
        return both
    shown = " or ".join(show_number(value) for value in dict.fromkeys(values))
    against = "" if axis.boolean or axis.cut[0] != "value" else f", against a cut of {show_number(axis.cut[1])}"
    return levels, f"it gives only {shown}{against}"


def _possible_values(source: str) -> list | None:
    """The values an axis expression can give when they are constants: a number or
    true/false, or ``a if c else b`` of such (nested); None when it can give others."""
    try:
        tree = parse(source)
    except Exception:  # reported where the axis was compiled
        return None

    def values(node) -> list | None:
        if isinstance(node, nodes.CondExpr) and node.expr2 is not None:
            left, right = values(node.expr1), values(node.expr2)
            return None if left is None or right is None else left + right
        value = literal_value(node)
        return [value] if isinstance(value, (int, float)) else None  # a number or true/false

    return values(tree)


def _axis(build: SchemeBuild, key: str, default: dict | None) -> _Axis:
    config = build.value(key, default={}) or {}
    default = default or {}
    label = config.get("label", default.get("label", config.get("value", key)))
    if "value" in config:
        compiled = build.expression(key, "value", expect=("number", "integer", "boolean"))
    else:
        candidates = default.get("candidates", ())
        text = next((text for text in candidates if build.compiles(text, ("number", "integer"))), None)
        if text is not None:
            compiled = build.expression(key, "value", source=text)
        else:
            if candidates:
                build.error(f"{key}.value is not given and none of the preset's default fields is declared "
                            f"({', '.join(candidates)})", key, hint=f"declare one of them, or set {key}: {{value: ...}}")
            else:
                build.error(f"{key}.value is missing: an expression giving the {key} axis", key,
                            hint="set it, or pick a preset")
            compiled = NO_VALUE
    boolean = compiled.type == "boolean"
    if "cut" in config:
        if boolean:
            build.error(f"{key}.value gives true/false: the axis is high when true and takes no cut", key, "cut")
            cut = None
        else:
            cut = build.cut(config["cut"], key, "cut")
    else:
        cut = None if boolean else build.cut(default.get("cut", "median"), key, "cut")
    return _Axis(key, label, compiled, cut, boolean)


def _cells(build: SchemeBuild, preset: dict) -> dict[str, dict]:
    given = build.value("cells", default={}) or {}
    cells = {}
    for key in CELL_KEYS:
        cell = dict(preset.get("cells", {}).get(key, {"id": key}))
        mine = given.get(key)
        if isinstance(mine, str):
            cell["id"] = mine
        elif isinstance(mine, dict):
            cell.update(mine)
        cells[key] = cell
    seen: dict[str, str] = {}
    for key, cell in cells.items():
        if cell["id"] == UNKNOWN:
            build.error(f"cell {key} cannot use the id {UNKNOWN!r}: it is the label of a missing axis", "cells", key)
        elif cell["id"] in seen:
            build.error(f"cells {seen[cell['id']]} and {key} have the same id {cell['id']!r}", "cells", key)
        seen.setdefault(cell["id"], key)
    return cells


def _receivables(build: SchemeBuild, preset: dict) -> tuple[Compiled | None, str | None]:
    given = build.value("receivables")
    if given is not None and given is not False and "receivables" not in preset:
        build.error("receivables applies to the frequency_volume preset's traffic cell only", "receivables")
        return None, None
    if given is False or "receivables" not in preset:
        return None, None
    if given is not None:
        return build.condition("receivables"), given
    text = preset["receivables"] if build.compiles(preset["receivables"], ("boolean",)) else None
    return (build.expression("receivables", source=text), text) if text else (None, None)


def _outcome_lines(build, table, x_boolean, y_boolean, xv, yv, cuts, missing, risk, risk_missing) -> list[str]:
    """Generated statements giving one customer's cell from its axis values and the cuts."""
    out, xh, yh, cell = build.outcome.local, build.temp(), build.temp(), build.temp()
    table_name, unknown = build.constant(table), build.constant(UNKNOWN)
    x_test = f"bool({xv})" if x_boolean else f"{xv} >= {cuts}[0]"
    y_test = f"bool({yv})" if y_boolean else f"{yv} >= {cuts}[1]"
    return [
        f"{xh} = None if {xv} is None else {x_test}",
        f"{yh} = None if {yv} is None else {y_test}",
        f"if {xh} is None or {yh} is None:",
        f"    {out} = ({unknown}, None, (), ({xh}, {yh}, {xv}, {yv}, {cuts}[0], {cuts}[1], {missing}, None, ()))",
        "else:",
        f"    {cell} = {table_name}[{xh}, {yh}]",
        f"    if {cell}[2] is None:",
        f"        {out} = ({cell}[0], None, {cell}[1], ({xh}, {yh}, {xv}, {yv}, {cuts}[0], {cuts}[1], (), None, ()))",
        "    else:",
        f"        {out} = ({cell}[0], None, {cell}[2] if {risk} else {cell}[1], "
        f"({xh}, {yh}, {xv}, {yv}, {cuts}[0], {cuts}[1], (), {risk}, {risk_missing}))",
    ]


def _cut_step(x: _Axis, y: _Axis, x_slot: int, y_slot: int, cuts: list):
    """Population cuts (median, percentiles) over the known values, into ``cuts``."""

    def run(rows: list[list]) -> None:
        for index, (axis, slot) in enumerate(((x, x_slot), (y, y_slot))):
            if axis.population:
                cuts[index] = percentile_cont([row[slot] for row in rows], axis.cut[1])

    return run


# -- SQL --------------------------------------------------------------------------------


def compile_matrix_sql(build: SqlBuild) -> None:
    """The SQL twin of :func:`compile_matrix`: the same axes, cuts, cells and receivables
    flag, as columns; population cuts are computed as :func:`percentile_cont` computes
    them."""
    preset = PRESETS.get(build.value("preset"), {})
    x = _axis(build, "x", preset.get("x"))
    y = _axis(build, "y", preset.get("y"))
    cells = _cells(build, preset)
    receivables, _text = _receivables(build, preset)
    table = _cell_table(cells, receivables is not None)
    if any(d.severity == "error" for d in build.diagnostics):
        return  # the plan reports them
    dialect, literal = build.dialect, build.literal

    xv = build.column("x", x.compiled.code)
    yv = build.column("y", y.compiled.code)
    risk = build.column("receivables", receivables.code) if receivables is not None else None
    population = [(axis, value) for axis, value in ((x, xv), (y, yv)) if axis.population]
    cuts = {axis.key: build.percentile(axis.key, value, axis.cut[1]) for axis, value in population}
    highs = []
    for axis, value in ((x, xv), (y, yv)):
        if axis.boolean:
            highs.append(value)
        else:
            cut = cuts.get(axis.key) or literal(axis.cut[1])
            highs.append(f"({value} >= {cut})")  # inline: one SELECT layer fewer
    xh, yh = highs

    def tags_of(cell: tuple) -> str:
        _id, tags, flagged = cell
        plain = dialect.list_of([literal(str(tag)) for tag in tags])
        if flagged is None:
            return plain
        return f"CASE WHEN {risk} THEN {dialect.list_of([literal(str(tag)) for tag in flagged])} ELSE {plain} END"

    branches = [(f"{xh} AND {yh}", (True, True)), (xh, (True, False)), (yh, (False, True)), ("TRUE", (False, False))]
    unknown = f"{xh} IS NULL OR {yh} IS NULL"
    label = (f"CASE WHEN {unknown} THEN {literal(UNKNOWN)} "
             + " ".join(f"WHEN {test} THEN {literal(table[key][0])}" for test, key in branches) + " END")
    tags = (f"CASE WHEN {unknown} THEN {dialect.list_of([])} "
            + " ".join(f"WHEN {test} THEN {tags_of(table[key])}" for test, key in branches) + " END")
    build.outcome(label=label, score=None, tags=tags, x_high=xh, y_high=yh, x_value=xv, y_value=yv)


# -- explain --------------------------------------------------------------------------


def _explainer(x: _Axis, y: _Axis, labels: dict, receivables_text: str | None, watch: bool, vocabulary: Vocabulary):
    def explain(outcome: tuple, lang: str) -> list[dict]:
        words = WORDS.get(lang, WORDS["en"])
        label, _score, _tags, (xh, yh, xv, yv, xc, yc, missing, risk, risk_missing) = outcome
        reasons = [_axis_reason(words, lang, x, xv, xc, xh, missing, vocabulary), _axis_reason(words, lang, y, yv, yc, yh, missing, vocabulary)]
        if label == UNKNOWN:
            fields = vocabulary.names(missing or [a.compiled.source for a, v in ((x, xv), (y, yv)) if v is None], lang)
            reasons.append({"unknown": True, "missing_fields": list(missing), "text": words["unknown"].format(fields=fields)})
            return reasons
        reasons.append({
            "cell": label,
            "text": words["cell"].format(x=localize(x.label, lang), xl=words["high" if xh else "low"],
                                         y=localize(y.label, lang), yl=words["high" if yh else "low"],
                                         label=localize(labels.get(label, label), lang)),
        })
        if watch and not xh and yh:
            if receivables_text is None:
                reasons.append({"receivables": None, "text": words["risk_unchecked"]})
            elif risk is None:
                reasons.append({"receivables": None, "missing_fields": list(risk_missing),
                                "text": words["risk_missing"].format(fields=vocabulary.names(risk_missing, lang) or vocabulary.say(receivables_text, lang))})
            else:
                reasons.append({"receivables": bool(risk),
                                "text": words["risk" if risk else "clear"].format(expr=vocabulary.say(receivables_text, lang))})
        return reasons

    return explain


def _axis_reason(words: dict, lang: str, axis: _Axis, value, cut, high, missing, vocabulary: Vocabulary) -> dict:
    name = localize(axis.label, lang)
    if value is None:
        fields = vocabulary.blank_of(missing, axis.compiled)
        return {"axis": axis.key, "missing": True, "fields": fields,
                "text": words["missing"].format(axis=name, fields=vocabulary.names(fields, lang))}
    if axis.boolean:
        return {"axis": axis.key, "value": value, "high": high, "text": words["true" if high else "false"].format(axis=name)}
    kind, amount = axis.cut
    if kind == "value":
        how = words["fixed"]
    elif amount == 0.5:
        how = words["median"]
    else:
        how = words["percentile"].format(p=round(amount * 100, 6))
    return {
        "axis": axis.key, "value": value, "cut": cut, "cut_rule": "value" if kind == "value" else f"percentile {amount:g}",
        "high": high,
        "text": words["above" if high else "below"].format(axis=name, value=show_number(value), cut=show_number(cut), how=how),
    }


# -- helpers --------------------------------------------------------------------------


@hookimpl
def tierkit_scheme_kinds(register):
    register(
        SchemeKind.documented("matrix", __doc__, CONFIG_SCHEMA, compile_matrix, attributes={"x_high": ("boolean", 0), "y_high": ("boolean", 1), "x_value": ("number", 2), "y_value": ("number", 3)},
                              compile_sql=compile_matrix_sql)
    )
