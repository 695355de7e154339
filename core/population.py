"""Population statistics shared by scheme kinds: percentiles and share-based cuts.

Both follow SQL window-function definitions (``cume_dist``, ``rank``) so that a SQL
back end computes the same numbers.  Missing values take no part and stay missing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence


def cume_dist(values: Sequence) -> list[float | None]:
    """Share of the known values that are less than or equal to each value.

    Ties share one value; the largest value gets 1.0; a population of one gets 1.0.
    """
    known = sorted(value for value in values if value is not None)
    count = len(known)
    return [None if value is None else bisect_right(known, value) / count for value in values]


def share_above(values: Sequence) -> list[float | None]:
    """Share of the known values strictly greater than each value.

    Used for share-based grades (``top 5% are S``): tied customers share the grade
    of the best of them, so a tie never splits across a cut.
    """
    known = sorted(value for value in values if value is not None)
    count = len(known)
    return [None if value is None else (count - bisect_right(known, value)) / count for value in values]


def percentile_cont(values: Sequence, fraction: float) -> float | None:
    """The value at ``fraction`` (0-1) of the known values, interpolating linearly
    between neighbours (SQL's ``percentile_cont``); the median is ``fraction=0.5``.
    ``None`` when no value is known."""
    known = sorted(value for value in values if value is not None)
    if not known:
        return None
    position = fraction * (len(known) - 1)
    low = int(position)
    high = min(low + 1, len(known) - 1)
    return known[low] + (known[high] - known[low]) * (position - low)
