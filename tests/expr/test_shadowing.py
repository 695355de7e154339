"""Shadowed first-match rules (:mod:`tierkit.expr.shadowing`): ``implies`` is sound — whenever
it says the later condition implies the earlier one, no customer makes the later true
and the earlier not true — and it proves the cases rulesets write."""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.expr.compiler import Namespace, Symbol, compile_expression
from tierkit.plugins.functions import FUNCTIONS
from tierkit.expr.shadowing import condition_tree, implies

from tests.conftest import examples

SCOPE = {
    "x": Symbol("x", "number", True, "s0"),
    "s": Symbol("s", "string", True, "s1"),
    "b": Symbol("b", "boolean", True, "s2"),
}
FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTIONS}
NUMBERS = [-5, 0, 1, 1.5, 2, 3, 10, 10.5, 20]
STRINGS = ["a", "b", "c", "finance"]


@lru_cache(maxsize=None)
def compiled(source: str):
    """The condition as a function of (x, s, b), by the compiler every rule goes through."""
    namespace = Namespace()
    code = compile_expression(source, SCOPE, FUNCTIONS_BY_NAME, namespace).code
    scope = dict(namespace.values)
    exec(f"def _f(s0, s1, s2):\n    return {code}", scope)
    return scope["_f"]


def evaluate(source: str, x, s, b):
    return compiled(source)(x, s, b)


def _list(values) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


number_atoms = st.one_of(
    st.builds(lambda op, v: f"x {op} {v!r}", st.sampled_from(["==", "!=", ">", ">=", "<", "<="]), st.sampled_from(NUMBERS)),
    st.builds(lambda v, op: f"{v!r} {op} x", st.sampled_from(NUMBERS), st.sampled_from([">", ">=", "<", "<=", "=="])),
    st.builds(lambda op, vs: f"x {op} {_list(vs)}", st.sampled_from(["in", "not in"]),
              st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3)),
)
string_atoms = st.one_of(
    st.builds(lambda op, v: f"s {op} {v!r}", st.sampled_from(["==", "!="]), st.sampled_from(STRINGS)),
    st.builds(lambda op, vs: f"s {op} {_list(vs)}", st.sampled_from(["in", "not in"]),
              st.lists(st.sampled_from(STRINGS), min_size=1, max_size=3)),
)
atoms = st.one_of(number_atoms, string_atoms, st.sampled_from(["b", "not b", "b == true", "b == false", "true"]))
conditions = st.recursive(atoms, lambda inner: st.builds(lambda a, op, c: f"({a}) {op} ({c})", inner, st.sampled_from(["and", "or"]), inner),
                          max_leaves=4)
customers = [(x, s, b) for x in [None, *NUMBERS, 7, 15, -1] for s in [None, *STRINGS, "z"] for b in (None, True, False)]


@settings(max_examples=examples(400), deadline=None)
@given(conditions, conditions)
def test_implies_is_sound(later, earlier):
    if not implies(condition_tree(later), condition_tree(earlier)):
        return
    for customer in customers:
        if evaluate(later, *customer) is True:
            assert evaluate(earlier, *customer) is True, (later, earlier, customer)


@pytest.mark.parametrize(("later", "earlier"), [
    ("industry == 'finance' and revenue > 10", "industry == 'finance'"),
    ("industry == 'finance'", "industry in ['finance', 'government']"),
    ("industry in ['finance']", "industry != 'retail'"),
    ("revenue > 100", "revenue > 50"),
    ("revenue >= 100", "revenue > 99.5"),
    ("revenue == 15", "revenue >= 10 and revenue < 20"),
    ("revenue > 100", "revenue > 50 or vip"),
    ("vip and revenue < 5", "vip"),
    ("revenue > 1 or revenue < -1", "revenue != 0"),
    ("anything_at_all(1)", "true"),
    ("days_since(last_order_date) > 365", "days_since(last_order_date) > 365"),
    ("grade.label == 'S'", "grade.label in ['S', 'A']"),
    ("100 < revenue", "revenue > 50"),
    ("vip and industry == 'retail'", "industry in ['energy', 'retail'] and vip"),
    ("revenue > 10 or industry == 'finance'", "revenue > 5 or industry in ['finance']"),
])
def test_what_is_proved(later, earlier):
    assert implies(condition_tree(later), condition_tree(earlier))


@pytest.mark.parametrize(("later", "earlier"), [
    ("industry == 'finance'", "industry == 'finance' and revenue > 10"),  # the narrower rule first is fine
    ("revenue > 50", "revenue > 100"),
    ("revenue >= 100", "revenue > 100"),
    ("revenue > 5", "revenue >= 6"),  # true for integers, not proved for numbers
    ("industry != 'retail'", "industry == 'finance'"),
    ("name == 'b'", "name > 'a'"),  # strings are not ordered: engines collate differently
    ("revenue > 10", "revenue | default(0) > 5"),
    ("revenue > 10", "other > 5"),
    ("not vip", "vip == false"),  # the same, but not proved: no false positive is the rule
    ("revenue == 1", "revenue == true"),
])
def test_what_is_not_proved(later, earlier):
    assert not implies(condition_tree(later), condition_tree(earlier))
