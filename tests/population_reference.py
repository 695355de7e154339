"""SQL's ``percentile_cont`` in plain Python: the oracle the kinds' percentile cuts
(:func:`tierkit.kinds.percentile`, IR windows) are checked against."""

from __future__ import annotations

from collections.abc import Sequence


def percentile_cont(values: Sequence, fraction: float) -> float | None:
    """The value at ``fraction`` (0-1) of the known values, interpolating linearly
    between neighbours; the median is ``fraction=0.5``.  ``None`` when no value is known."""
    known = sorted(value for value in values if value is not None)
    if not known:
        return None
    position = fraction * (len(known) - 1)
    low = int(position)
    high = min(low + 1, len(known) - 1)
    return known[low] + (known[high] - known[low]) * (position - low)
