"""Money summed exactly: amounts as whole millionths, added as integers.

A sum of doubles depends on the order of the rows, which SQL engines do not keep;
a sum of whole millionths does not (Python ``int``, SQL ``DECIMAL(38, 0)``), so every
engine gives the same revenue to the bit.  The IR's ``money_units`` and ``money``
functions are these, on every lowering.
"""

from __future__ import annotations

from math import floor

MONEY_SCALE = 1e6  # money is summed in whole millionths


def money_units(amount: float) -> int:
    """An amount in whole millionths, half up, computed in doubles as SQL computes
    ``floor(amount * 1e6 + 0.5)``: sums of these integers are exact on every engine."""
    return floor(amount * MONEY_SCALE + 0.5)


def money(units: int) -> float:
    """A sum of millionths as a number: the double nearest to it (below 2**53 millionths)."""
    return units / MONEY_SCALE
