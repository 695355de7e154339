"""Which first-match rules can never fire: an earlier rule matches every customer they match.

``validate`` warns of such a rule, so it must never warn wrongly: :func:`implies`
answers True only when it can prove that wherever the later condition is true the
earlier one is true too, under the expression language's three-valued logic (a
missing operand makes a comparison missing, which is not true).  It proves it from
the conditions' syntax: identical conditions; an earlier literal ``true``; ``and`` /
``or`` taken apart (a later ``a and b`` implies what ``a`` implies; an earlier
``x or y`` is implied by what implies ``x``); and comparisons of the same name with
constants: equality and ``in`` lists as sets of values, ``>``/``>=``/``<``/``<=`` with
numbers as ranges, ``!=`` and ``not in`` as everything but some values.  Anything
else (functions, arithmetic, two names compared) is not proved, so not warned.
"""

from __future__ import annotations

import operator
from numbers import Real
from typing import Any

from jinja2 import nodes

from tierkit.expr.compiler import NOT_A_LITERAL, literal_value, parse

_FLIP = {"gt": "lt", "gteq": "lteq", "lt": "gt", "lteq": "gteq", "eq": "eq", "ne": "ne"}
_TEST = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gteq": operator.ge, "lt": operator.lt, "lteq": operator.le}


def warn_shadowed(build, rules: list[dict], checked: list[bool]) -> None:
    """A warning at each rule an earlier one shadows: the earlier one matches every
    customer it matches (:func:`implies`), so under first-match it never fires.
    Conditions with errors (``checked`` false) are left out: their errors come first."""
    trees = [condition_tree(rule.get("when")) if ok else None for rule, ok in zip(rules, checked)]
    for index, tree in enumerate(trees):
        if tree is None:
            continue
        earlier = next((i for i in range(index) if trees[i] is not None and implies(tree, trees[i])), None)
        if earlier is not None:
            always = always_true(trees[earlier])
            build.warn(f"rule {_rule_name(rules[index], index)} can never match: rule {_rule_name(rules[earlier], earlier)} "
                       f"before it {'matches every customer' if always else 'matches every customer it matches'}",
                       "rules", index, "when",
                       hint="move it above that rule, or narrow that rule's when" if not always else
                       "a rule whose when is true belongs last; or use default:")


def _rule_name(rule: dict, index: int) -> str:
    return repr(rule["id"]) if rule.get("id") is not None else f"#{index + 1}"


def condition_tree(source: Any) -> nodes.Node | None:
    """A rule's ``when`` parsed (a YAML ``true`` is the constant), None when it does not parse."""
    if isinstance(source, bool):
        return nodes.Const(source)
    try:
        return parse(str(source))
    except Exception:  # the condition's own error is reported when it is compiled
        return None


def always_true(tree: nodes.Node) -> bool:
    return isinstance(tree, nodes.Const) and tree.value is True


def implies(later: nodes.Node, earlier: nodes.Node) -> bool:
    """Whether ``earlier`` is true for every customer ``later`` is true for (proved, see the module)."""
    if always_true(earlier) or later.dump() == earlier.dump():
        return True
    # exact first: L ⇒ X and Y iff L ⇒ X and L ⇒ Y; A or B ⇒ E iff A ⇒ E and B ⇒ E
    if isinstance(earlier, nodes.And):
        return implies(later, earlier.left) and implies(later, earlier.right)
    if isinstance(later, nodes.Or):
        return implies(later.left, earlier) and implies(later.right, earlier)
    # then what suffices: a part of ``a and b`` implies E; L implies a part of ``x or y``
    if isinstance(later, nodes.And) and (implies(later.left, earlier) or implies(later.right, earlier)):
        return True
    if isinstance(earlier, nodes.Or):
        return implies(later, earlier.left) or implies(later, earlier.right)
    fact, claim = _atom(later), _atom(earlier)
    return fact is not None and claim is not None and fact[0] == claim[0] and _holds(fact[1:], claim[1:])


def _atom(tree: nodes.Node) -> tuple | None:
    """``(subject, op, value)`` of a comparison of one name with a constant (a list of
    constants for ``in``), the constant on either side; a bare name is ``name == true``."""
    subject = _subject(tree)
    if subject is not None:
        return subject, "eq", True
    if not isinstance(tree, nodes.Compare) or len(tree.ops) != 1:
        return None
    op, left, right = tree.ops[0].op, tree.expr, tree.ops[0].expr
    if _subject(left) is None and op in _FLIP:
        op, left, right = _FLIP[op], right, left
    subject = _subject(left)
    if subject is None:
        return None
    if op in ("in", "notin"):
        if not isinstance(right, (nodes.List, nodes.Tuple)) or not right.items:
            return None
        values = [literal_value(item) for item in right.items]
        return None if NOT_A_LITERAL in values else (subject, op, tuple(values))
    value = literal_value(right)
    return None if value is NOT_A_LITERAL or op not in _TEST else (subject, op, value)


def _subject(tree: nodes.Node) -> str | None:
    """A name or a scheme outcome's attribute (``grade.label``): what is compared."""
    if isinstance(tree, nodes.Name):
        return tree.name
    if isinstance(tree, nodes.Getattr) and isinstance(tree.node, nodes.Name):
        return f"{tree.node.name}.{tree.attr}"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    """Values the language compares as such: two numbers, two strings or two booleans."""
    return (_number(a) and _number(b)) or type(a) is type(b)


def _holds(fact: tuple, claim: tuple) -> bool:
    """Whether every value satisfying ``fact`` (op, value) satisfies ``claim``."""
    op, value = fact
    if op in ("eq", "in"):  # a finite set of values: test each
        return all(_satisfies(v, claim) for v in (value if op == "in" else (value,)))
    claim_op, claim_value = claim
    if op in ("ne", "notin"):  # everything but some values: the claim must exclude only those
        excluded = set(value if op == "notin" else (value,))
        shut = claim_value if claim_op == "notin" else (claim_value,) if claim_op == "ne" else None
        return shut is not None and all(any(_same_kind(s, e) and s == e for e in excluded) for s in shut)
    # a range of numbers: the claim a range in the same direction around it, or excluding values outside it
    if not _number(value):
        return False
    above = op in ("gt", "gteq")
    if claim_op in ("ne", "notin"):
        shut = claim_value if claim_op == "notin" else (claim_value,)
        return all(_number(s) and not _satisfies(s, fact) for s in shut)
    if claim_op not in _TEST or claim_op in ("eq", "ne") or (claim_op in ("gt", "gteq")) != above or not _number(claim_value):
        return False
    if value != claim_value:
        return value > claim_value if above else value < claim_value
    return claim_op == op or claim_op in ("gteq", "lteq")  # x > a implies x >= a


def _satisfies(value: Any, claim: tuple) -> bool:
    op, target = claim
    if op in ("in", "notin"):
        inside = any(_same_kind(value, t) and value == t for t in target)
        return inside if op == "in" else all(_same_kind(value, t) for t in target) and not inside
    if not _same_kind(value, target) or (op not in ("eq", "ne") and not _number(value)):
        return False  # strings are not ordered here: engines may collate them differently
    return bool(_TEST[op](value, target))
