"""How values read on a printed page: numbers grouped, money in 万/亿 for Chinese
readers, dates in each language's form, units translated.

Used by the templates as filters (``value | num``, ``day | day``, ``share | pct``) and by
the context builders for key facts; missing values print as an em dash.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from tierkit.render.messages import translate

MISSING = "—"
MONEY_UNITS = {"CNY": "¥", "RMB": "¥", "¥": "¥", "元": "¥", "USD": "$", "$": "$", "EUR": "€", "€": "€"}
UNIT_WORDS = {
    "zh": {"people": "人", "persons": "人", "days": "天", "day": "天", "months": "个月", "years": "年", "orders": "单",
           "visits": "次", "points": "分"},
}


def num(value: Any, digits: int | None = None) -> str:
    """A number with thousands separators: 1,234 / 1,234.57 / 0.176; others as text."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if digits is not None:
        return f"{value:,.{digits}f}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def pct(share: Any, digits: int = 0) -> str:
    """A share (0-1) as a percentage: 0.8 -> 80%."""
    if share is None:
        return MISSING
    return f"{share * 100:.{digits}f}%"


def day(value: Any, lang: str = "en") -> str:
    """A date: 2026-06-20 in English, 2026年6月20日 in Chinese."""
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return str(value)
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def money(value: float, unit: str, lang: str) -> str:
    """An amount with its currency; Chinese readers get 万 and 亿 for large ones."""
    symbol = MONEY_UNITS[unit]
    if lang == "zh" and symbol == "¥":
        if abs(value) >= 1e8:
            return f"{value / 1e8:,.2f} 亿元"
        if abs(value) >= 1e4:
            return f"{value / 1e4:,.1f} 万元"
        return f"{num(value)} 元"
    return f"{symbol}{num(value)}"


def show(value: Any, lang: str, unit: str | None = None) -> str:
    """Any feature value with its unit, as a brief's key facts show it."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return translate(lang, "yes" if value else "no")
    if isinstance(value, dt.date):
        return day(value, lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(show(item, lang) for item in value) or MISSING
    if not isinstance(value, (int, float)):
        return str(value)
    if unit in MONEY_UNITS:
        return money(value, unit, lang)
    if unit == "%":
        return f"{num(value)}%"
    if unit:
        return f"{num(value)} {UNIT_WORDS.get(lang, {}).get(unit, unit)}"
    return num(value)
