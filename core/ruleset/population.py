"""Population cuts as rulesets write them.

The statistics themselves (percentiles, shares, quintiles) are IR windows, computed
alike on every engine (:func:`tierkit.kinds.percentile`, the kinds' ``Window`` nodes).
"""

from __future__ import annotations

import re


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
