"""Bilingual labels (a plain string, or a ``{en: …, zh: …}`` map picked by ``--lang``)
and numbers written as people read them, shared by every kind's reasons."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, Context, Decimal
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


# -- scores -------------------------------------------------------------------------
# One rule wherever a score is shown (reasons, explain, briefs, the XLSX results, run
# comparisons): rounded *down* to SCORE_DECIMALS (more when a threshold it is compared
# with has more), so "score 59.9 < 60" never reads "60.0" for a score that missed 60,
# and a shown comparison with a threshold holds exactly when the score's does.  Shown
# parts of a score (a weighted grade's contributions) add up to the shown score.
SCORE_DECIMALS = 1
_MOST_DECIMALS = 6
_EXACT = Context(prec=1000)  # a score's digits never overflow the quantize


def _decimal(value: float) -> Decimal:
    """A float as the decimal number it prints as (``repr``): 62.3, not 62.29999…"""
    return Decimal(repr(float(value)))


def score_decimals(compared: Iterable[float] = ()) -> int:
    """The decimals a scheme's scores show: SCORE_DECIMALS, or as many as the most
    precise threshold they are compared with (up to six)."""
    places = [-_decimal(value).as_tuple().exponent for value in compared if math.isfinite(value)]
    return min(max([SCORE_DECIMALS, *places]), _MOST_DECIMALS)


def shown_score(score: float, decimals: int = SCORE_DECIMALS) -> Decimal:
    """The score as shown: rounded down to ``decimals``."""
    return _decimal(score).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_FLOOR, context=_EXACT)


def shown_threshold(value: float) -> Decimal:
    """A threshold as shown (``{min:g}``) as a number, for a gap computed on shown numbers."""
    return _decimal(value)


def show_score(score: float | None, decimals: int = SCORE_DECIMALS) -> str:
    """A score as text by :func:`shown_score` (``—`` when there is none)."""
    return "—" if score is None else f"{shown_score(score, decimals):f}"


def shown_parts(parts: Sequence[float], total: float, decimals: int = SCORE_DECIMALS) -> list[Decimal]:
    """Parts of ``total`` (which they add up to, up to float noise) as shown: each
    rounded down, then the units still missing to the shown total given one each to
    the parts with the largest remainders (earlier parts first on a tie), so that the
    shown parts add up to exactly ``shown_score(total)``."""
    unit = Decimal(1).scaleb(-decimals)
    exact = [_decimal(part) for part in parts]
    shown = [part.quantize(unit, rounding=ROUND_FLOOR, context=_EXACT) for part in exact]
    missing = int((shown_score(total, decimals) - sum(shown, Decimal(0))) / unit)
    by_remainder = sorted(range(len(parts)), key=lambda i: shown[i] - exact[i])  # largest remainder first
    if missing < 0:
        by_remainder.reverse()
    for index in (by_remainder * (abs(missing) // max(len(parts), 1) + 1))[:abs(missing)]:
        shown[index] += unit if missing > 0 else -unit
    return shown
