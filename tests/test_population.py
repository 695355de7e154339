"""Population statistics: quintile scores, shares from the top, cumulative shares.

Each function documents the SQL window expression a SQL back end uses; the tests
below run those expressions in SQLite and require the same numbers.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.population import cumulative_shares, quintile_scores, share_at_or_above

maybe_ints = st.lists(st.one_of(st.none(), st.integers(-50, 50)), max_size=40)
distinct_ints = st.lists(st.integers(-10_000, 10_000), unique=True, max_size=60)


# -- quintile_scores -------------------------------------------------------------


def test_ten_distinct_values_give_two_customers_per_score():
    assert quintile_scores(list(range(1, 11))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_descending_gives_five_to_the_smallest():
    assert quintile_scores([0, 10, 20, 30, 40, 50, 60, 70, 80, 90], descending=True) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_five_distinct_values_score_as_their_rank():
    assert quintile_scores([30, 10, 50, 20, 40]) == [3, 1, 5, 2, 4]


def test_a_tie_group_takes_the_score_of_its_middle_position():
    # 100 x 5 hold positions 1-5 of 10: their middle (3) is in the second fifth.
    assert quintile_scores([100] * 5 + [200, 300, 400, 500, 600]) == [2] * 5 + [3, 4, 4, 5, 5]


def test_edge_populations():
    assert quintile_scores([]) == []
    assert quintile_scores([None, None]) == [None, None]
    assert quintile_scores([7]) == [3]
    assert quintile_scores([7, 7, 7]) == [3, 3, 3]
    assert quintile_scores([1, 2]) == [2, 4]
    assert quintile_scores([None, 3, 1, 1, 2]) == [None, 5, 2, 2, 4]


@settings(max_examples=50, deadline=None)
@given(distinct_ints)
def test_distinct_values_fill_each_score_evenly(values):
    counts = Counter(quintile_scores(values))
    n = len(values)
    for score in range(1, 6):
        assert n // 5 <= counts.get(score, 0) <= -(-n // 5)


@settings(max_examples=50, deadline=None)
@given(maybe_ints, st.booleans())
def test_equal_values_equal_scores_and_order_is_kept(values, descending):
    scores = quintile_scores(values, descending=descending)
    pairs = [(v, s) for v, s in zip(values, scores) if v is not None]
    assert all(s is None for v, s in zip(values, scores) if v is None)
    assert all(1 <= s <= 5 for _, s in pairs)
    for a, sa in pairs:
        for b, sb in pairs:
            if a == b:
                assert sa == sb
            elif (a < b) != descending:
                assert sa <= sb


# -- share_at_or_above and cumulative_shares -------------------------------------


def test_share_at_or_above_counts_the_whole_tie_group():
    assert share_at_or_above([50, 30, 10, 10, None]) == [0.25, 0.5, 1.0, 1.0, None]
    assert share_at_or_above([]) == []


def test_cumulative_shares_largest_first_with_ties_and_non_positive_values():
    assert cumulative_shares([50, 30, 10, 10, None, 0, -5]) == [0.5, 0.8, 1.0, 1.0, None, 1.0, 1.0]
    assert cumulative_shares([40, 30, 20, 10]) == [0.4, 0.7, 0.9, 1.0]


def test_cumulative_shares_without_a_positive_total_are_missing():
    assert cumulative_shares([0, -3, None]) == [None, None, None]
    assert cumulative_shares([]) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e9, allow_nan=False)), max_size=40))
def test_cumulative_shares_rise_to_exactly_one(values):
    shares = cumulative_shares(values)
    known = sorted(((v, s) for v, s in zip(values, shares) if v is not None), key=lambda pair: -pair[0])
    if not any(v > 0 for v, _ in known):
        assert all(s is None for s in shares)
        return
    along = [s for _, s in known]
    assert along == sorted(along)
    assert along[-1] == 1.0
    assert all(0 < s <= 1.0 for s in along)


# -- the documented SQL gives the same numbers ----------------------------------


def _sql(values: list, expression: str) -> list:
    connection = sqlite3.connect(":memory:")
    connection.execute("create table t (i integer, v)")
    connection.executemany("insert into t values (?, ?)", list(enumerate(values)))
    rows = connection.execute(f"select i, {expression} from t order by i").fetchall()
    connection.close()
    return [value for _, value in rows]


QUINTILE_SQL = """case when v is null then null else
  1 + (5 * ((rank() over (order by v {order} nulls last) - 1)
            + count(v) over (order by v {order})))
      / (2 * count(v) over ())
end"""


@settings(max_examples=50, deadline=None)
@given(maybe_ints, st.booleans())
def test_quintile_scores_match_their_sql(values, descending):
    expected = _sql(values, QUINTILE_SQL.format(order="desc" if descending else "asc"))
    assert quintile_scores(values, descending=descending) == expected


@settings(max_examples=50, deadline=None)
@given(maybe_ints)
def test_share_at_or_above_matches_cume_dist_descending(values):
    expected = _sql(values, "case when v is null then null else "
                            "1.0 * count(v) over (order by v desc) / count(v) over () end")
    assert share_at_or_above(values) == pytest.approx(expected)


@settings(max_examples=50, deadline=None)
@given(maybe_ints)
def test_cumulative_shares_match_their_sql(values):
    expected = _sql(values, "case when v is null then null else "
                            "1.0 * sum(max(v, 0)) over (order by v desc) / nullif(sum(max(v, 0)) over (), 0) end")
    assert cumulative_shares(values) == expected
