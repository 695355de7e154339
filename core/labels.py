"""Bilingual labels (a plain string, or a ``{en: …, zh: …}`` map picked by ``--lang``)
and numbers written as people read them, shared by every kind's reasons."""

from __future__ import annotations

import math

from typing import Any

LANGUAGES = ("en", "zh")


def localize(label: Any, lang: str) -> Any:
    """The label's text in ``lang``, falling back to the other language.

    Anything that is not a label map (a string, a number, ``None``) comes back as is.
    """
    if not isinstance(label, dict):
        return label
    if lang in label:
        return label[lang]
    return next(iter(label.values()), None)


def localize_all(value: Any, lang: str) -> Any:
    """Localize labels nested in lists and plans (e.g. an allocation's actions)."""
    if isinstance(value, dict) and value and set(value) <= set(LANGUAGES):
        return localize(value, lang)
    if isinstance(value, dict):
        return {key: localize_all(item, lang) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [localize_all(item, lang) for item in value]
    return value


def show_number(value) -> str:
    """A value as people read it: 50,000, 1,234.57, 2.5, 0.0125; others as text."""
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
