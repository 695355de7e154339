"""Population statistics shared by scheme kinds: percentiles and share-based cuts.

Both follow SQL window-function definitions (``cume_dist``, ``rank``) so that a SQL
back end computes the same numbers.  Missing values take no part and stay missing.
"""

from __future__ import annotations

import re
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


def tie_positions(values: Sequence, descending: bool = False) -> tuple[dict, int]:
    """For each distinct known value, ``(before, upto)``: how many known values come
    strictly before it in the order, and how many come before it or tie with it;
    and the number of known values.

    ``before`` is SQL's ``rank() over (order by v nulls last) - 1`` and ``upto`` is
    ``count(v) over (order by v)`` (the default ``range`` frame counts the current
    row's peers); ``descending=True`` orders by ``v desc``.  One sort and one pass:
    the quantile and share functions below are built on it.
    """
    known = sorted((value for value in values if value is not None), reverse=descending)
    count = len(known)
    positions: dict = {}
    start = 0
    while start < count:
        value = known[start]
        end = start + 1
        while end < count and known[end] == value:
            end += 1
        positions[value] = (start, end)
        start = end
    return positions, count


def quintile_scores(values: Sequence, descending: bool = False, buckets: int = 5) -> list[int | None]:
    """Scores 1 to ``buckets`` (default 5, quintiles) by position in the population,
    with every tie group kept together at its middle position.

    ``before`` is the number of known values strictly before a value in the order,
    ``upto`` the number at or before it (its tie group included), ``n`` the number
    of known values; the score is ``1 + (buckets * (before + upto)) // (2 * n)``, in
    integers.  ``(before + upto) / 2`` is the tie group's middle position, so equal
    values always get equal scores, a larger value never gets a lower score, and for
    distinct values each score goes to ``n / buckets`` customers rounded down or up.
    A population of one, or one where every value is equal, gets the middle score
    (3 of 5).  ``descending=True`` orders from the largest value to the smallest,
    for "lower is better" (recency in days: the most recent get 5).  Missing values
    take no part and stay missing.

    SQL (integer arithmetic; ``desc`` in both ``order by`` for ``descending``)::

        case when v is null then null else
          1 + (5 * ((rank() over (order by v nulls last) - 1)
                    + count(v) over (order by v)))
              / (2 * count(v) over ())
        end

    ``count(v) over (order by v)`` uses the default ``range`` frame, which counts
    the current row's peers.  SQL's ``ntile(5)`` is NOT equivalent: it splits ties
    across buckets by an arbitrary order.
    """
    positions, count = tie_positions(values, descending)
    score_of = {value: 1 + (buckets * (before + upto)) // (2 * count) for value, (before, upto) in positions.items()}
    return [None if value is None else score_of[value] for value in values]


def share_at_or_above(values: Sequence) -> list[float | None]:
    """Share of the known values greater than or equal to each value: a customer's
    position from the top, as a share of the population, ties counted with their
    whole group (SQL ``cume_dist() over (order by v desc)`` over the known values).

    The largest value gets ``(size of its tie group) / n``; the smallest gets 1.0.
    """
    positions, count = tie_positions(values, descending=True)
    return [None if value is None else positions[value][1] / count for value in values]


def cumulative_shares(values: Sequence) -> list[float | None]:
    """Each value's cumulative share of the population's total, largest values first:
    the sum of the values greater than or equal to it (its whole tie group included)
    over the sum of all values (the Pareto curve).

    Only positive parts count: a value at or below zero adds nothing (a customer who
    costs money brings no share), so the shares never fall along the order.  The sum
    runs from the largest value down, ties adding the same number in any order, and
    the total is the last running sum: the shares are non-decreasing in that order
    and the smallest value gets exactly 1.0.  Missing values stay missing; when no
    value is positive every share is missing (there is no total to share).

    SQL (with an exact numeric type, the sums agree to the last digit)::

        sum(greatest(v, 0)) over (order by v desc)      -- default range frame: peers included
          / nullif(sum(greatest(v, 0)) over (), 0)
    """
    shares = cumulative_share_by_value(values)
    return [None if value is None else shares.get(value) for value in values]


def cumulative_share_by_value(values: Sequence) -> dict:
    """:func:`cumulative_shares` for each distinct known value, largest first (the
    mapping's order); empty when no value is positive."""
    known = sorted((value for value in values if value is not None), reverse=True)
    running, through = 0, {}
    for value in known:
        if value > 0:
            running += value
        through[value] = running  # the last of a tie group wins: the group's end
    if not running > 0:
        return {}
    total = running
    return {value: share / total for value, share in through.items()}


PERCENTILE_TEXT = re.compile(r"^p(100|[0-9]{1,2})(\.[0-9]+)?$")


def parse_cut(cut) -> tuple[str, float] | None:
    """A cut as rulesets write it: a number (``("value", 12)``), ``median``, ``pNN``
    or ``{percentile: 0-1}`` (``("percentile", 0.75)``); ``None`` if it is none of them."""
    if isinstance(cut, bool):
        return None
    if isinstance(cut, (int, float)):
        return ("value", cut)
    if cut == "median":
        return ("percentile", 0.5)
    if isinstance(cut, str) and PERCENTILE_TEXT.match(cut) and float(cut[1:]) <= 100:
        return ("percentile", float(cut[1:]) / 100)
    if isinstance(cut, dict) and isinstance(cut.get("percentile"), (int, float)) and 0 <= cut["percentile"] <= 1:
        return ("percentile", float(cut["percentile"]))
    return None
