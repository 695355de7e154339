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

from tierkit.kinds import (
    NULL, Bindings, Compiled, Defined, IrBuild, Logic, LogicKind, Reason, all_of, any_of, case, constant_values, eq, ge, hookimpl,
    holds, lit, logic_kind, missing, not_, percentile, show_number, tags,
)

UNKNOWN = "unknown"
RECEIVABLES_TAG = "receivables_risk"
CELL_KEYS = ("high_high", "high_low", "low_high", "low_low")  # x level, then y level


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

TEMPLATES = {
    "en": {
        "matrix.above": "{axis:in:axes}: {value:number} ≥ {cut:number} ({how:in:cuts}) → high",
        "matrix.below": "{axis:in:axes}: {value:number} < {cut:number} ({how:in:cuts}) → low",
        "matrix.true": "{axis:in:axes}: true → high",
        "matrix.false": "{axis:in:axes}: false → low",
        "matrix.missing": "{axis:in:axes}: missing ({fields:names})",
        "matrix.cell": "{x:in:axes} {x_level:in:levels}, {y:in:axes} {y_level:in:levels} → {cell:label}",
        "matrix.unknown": "unknown: {fields:names} missing",
        "matrix.risk": "receivables at risk ({condition:say} holds) → tagged receivables_risk",
        "matrix.clear": "receivables clear ({condition:say} does not hold)",
        "matrix.risk_missing": "receivables unknown ({missing_fields:names} missing): watch receivables",
        "matrix.risk_unsaid": "receivables unknown ({condition:say} missing): watch receivables",
        "matrix.risk_unchecked": "watch receivables (no receivables condition)",
    },
    "zh": {
        "matrix.above": "{axis:in:axes}：{value:number} ≥ {cut:number}（{how:in:cuts}）→ 高",
        "matrix.below": "{axis:in:axes}：{value:number} < {cut:number}（{how:in:cuts}）→ 低",
        "matrix.true": "{axis:in:axes}：是 → 高",
        "matrix.false": "{axis:in:axes}：否 → 低",
        "matrix.missing": "{axis:in:axes}：缺失（{fields:names}）",
        "matrix.cell": "{x:in:axes}{x_level:in:levels}、{y:in:axes}{y_level:in:levels} → {cell:label}",
        "matrix.unknown": "未知：缺少 {fields:names}",
        "matrix.risk": "回款有风险（{condition:say} 成立）→ 标记 receivables_risk",
        "matrix.clear": "回款正常（{condition:say} 不成立）",
        "matrix.risk_missing": "回款情况未知（缺少 {missing_fields:names}）：盯紧回款",
        "matrix.risk_unsaid": "回款情况未知（缺少 {condition:say}）：盯紧回款",
        "matrix.risk_unchecked": "盯紧回款（未设置回款条件）",
    },
}
LEVELS = {"high": _label("high", "高"), "low": _label("low", "低")}
CUT_WORDS = {"value": _label("fixed cut", "固定分界"), "median": _label("population median", "全体中位数")}


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


def define(build: IrBuild) -> Defined | None:
    """Each axis high or low against its cut, the cell by both levels, and the
    receivables flag of the frequency_volume preset's traffic cell."""
    preset_name = build.value("preset")
    preset = PRESETS.get(preset_name, {})
    x, y = _axis(build, "x", preset.get("x")), _axis(build, "y", preset.get("y"))
    cells = _cells(build, preset)
    receivables, receivables_text = _receivables(build, preset)
    unknown_config = build.value("unknown", default={}) or {}
    _warn_unreached(build, x, y, cells)
    if build.failed:
        return None
    let = Bindings()
    values, highs, reasons, readers, cut_words = {}, {}, [], {}, dict(CUT_WORDS)
    for axis in (x, y):
        value = values[axis.key] = let(axis.key, axis.compiled.code)
        blank, readers[blank] = build.blank_inputs(axis.compiled, otherwise=[])
        named = ("axis", lit(axis.key))
        reasons.append(Reason("matrix.missing", (named, ("missing", lit(True)), ("blank", blank),
                                                 ("source", lit(axis.compiled.source))), missing(value)))
        if axis.boolean:
            high = highs[axis.key] = let(f"{axis.key}_high", value)
            reasons += [Reason("matrix.true", (named,), holds(high)), Reason("matrix.false", (named,), holds(not_(high)))]
            continue
        kind, amount = axis.cut
        cut = lit(amount) if kind == "value" else percentile(let, f"{axis.key}_cut", value, amount)
        how = "value" if kind == "value" else "median" if amount == 0.5 else f"p{amount:g}"
        cut_words.setdefault(how, _label(f"{round(amount * 100, 6):g}th percentile of the population",
                                         f"全体第 {round(amount * 100, 6):g} 百分位"))
        high = highs[axis.key] = let(f"{axis.key}_high", ge(value, cut))
        shown = (named, ("value", value), ("cut", cut), ("how", lit(how)))
        reasons += [Reason("matrix.above", shown, holds(high)), Reason("matrix.below", shown, holds(not_(high)))]
    xh, yh = highs["x"], highs["y"]
    risk = let("receivables", receivables.code) if receivables is not None else None
    unknown = any_of(missing(xh), missing(yh))
    at = {(True, True): all_of(xh, yh), (True, False): all_of(xh, not_(yh)),
          (False, True): all_of(not_(xh), yh), (False, False): all_of(not_(xh), not_(yh))}
    cell_of = {(key.startswith("high"), key.endswith("high")): cell for key, cell in cells.items()}
    label = let("cell", case((unknown, lit(UNKNOWN)), *((at[levels], lit(cell_of[levels]["id"])) for levels in at)))
    pairs = [(str(tag), at[levels]) for levels in at for tag in cell_of[levels].get("tags", ())]
    if risk is not None:
        pairs.append((RECEIVABLES_TAG, all_of(at[False, True], holds(risk))))
    level = {key: case((high, lit("high")), default=lit("low")) for key, high in highs.items()}
    reasons += [
        Reason("matrix.unknown", (), unknown),
        Reason("matrix.cell", (("x", lit("x")), ("x_level", level["x"]), ("y", lit("y")), ("y_level", level["y"]),
                               ("cell", label)), not_(unknown)),
    ]
    if preset_name == "frequency_volume":
        reasons += _receivables_reasons(build, receivables, receivables_text, risk, holds(at[False, True]), readers)
    logic = Logic(build.id, let.lets, label, NULL, (("x_high", xh), ("y_high", yh), ("x_value", values["x"]),
                                                   ("y_value", values["y"])), tuple(reasons), tags=tags(*pairs))
    labels = {cell["id"]: cell.get("label", cell["id"]) for cell in cells.values()}
    labels[UNKNOWN] = unknown_config.get("label", UNKNOWN_LABEL)
    about = {cell["id"]: cell["about"] for cell in cells.values() if cell.get("about")}
    about[UNKNOWN] = unknown_config.get("about", UNKNOWN_ABOUT)
    tables = {"axes": {axis.key: axis.label for axis in (x, y)}, "levels": LEVELS, "cuts": cut_words}
    return Defined(logic, labels, readers=readers, tables=tables, finish=_finish, about=about)


def _receivables_reasons(build: IrBuild, receivables, text, risk, traffic, readers) -> list[Reason]:
    """The traffic cell's receivables: at risk, clear, unknown (naming the blank fields
    behind the condition, or the condition itself), or not checked."""
    if receivables is None:
        return [Reason("matrix.risk_unchecked", (), traffic)]
    blank, readers[blank] = build.blank_inputs(receivables, otherwise=[])
    said = (("condition", lit(text)),)
    unknown = all_of(traffic, missing(risk))
    return [Reason("matrix.risk", said, all_of(traffic, holds(risk))),
            Reason("matrix.clear", said, all_of(traffic, holds(not_(risk)))),
            Reason("matrix.risk_missing", (("missing_fields", blank),), all_of(unknown, not_(eq(blank, 0)))),
            Reason("matrix.risk_unsaid", said, all_of(unknown, eq(blank, 0)))]


def _finish(records: list[dict], outcome: tuple) -> None:
    """A missing axis names its blank fields (its expression when none is); an unknown
    cell names those of both axes (the missing axes' expressions when none is)."""
    axes = [record for record in records if record["code"] == "matrix.missing"]
    for record in axes:
        record["fields"] = record["blank"] or [record["source"]]
    for record in records:
        if record["code"] == "matrix.unknown":
            record["missing_fields"] = [name for axis in axes for name in axis["blank"]]
            record["fields"] = record["missing_fields"] or [axis["source"] for axis in axes]


def _warn_unreached(build: IrBuild, x: _Axis, y: _Axis, cells: dict[str, dict]) -> None:
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
    values = constant_values(axis.compiled.source) if axis.compiled is not None else None
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


def _axis(build: IrBuild, key: str, default: dict | None) -> _Axis:
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
            compiled = None
    boolean = compiled is not None and compiled.type == "boolean"
    if "cut" in config:
        if boolean:
            build.error(f"{key}.value gives true/false: the axis is high when true and takes no cut", key, "cut")
            cut = None
        else:
            cut = build.cut(config["cut"], key, "cut")
    else:
        cut = None if boolean else build.cut(default.get("cut", "median"), key, "cut")
    return _Axis(key, label, compiled, cut, boolean)


def _cells(build: IrBuild, preset: dict) -> dict[str, dict]:
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


def _receivables(build: IrBuild, preset: dict) -> tuple[Compiled | None, str | None]:
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


MATRIX = LogicKind(define, TEMPLATES, (("x_high", "boolean"), ("y_high", "boolean"), ("x_value", "number"),
                                       ("y_value", "number")))


@hookimpl
def tierkit_scheme_kinds(register):
    register(logic_kind("matrix", __doc__, CONFIG_SCHEMA, MATRIX))
