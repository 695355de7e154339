"""``tierkit.kinds``: everything a scheme-kind plugin imports, and nothing else needed.

A kind states its logic once, as typed expression nodes, and tierkit runs it on every
engine (Python, DuckDB, Spark), its reasons coming out of each as codes with typed
parameters, put into words from the kind's zh/en templates only where an output
needs words.  A plugin module holds its config schema, a *define* function reading
the scheme's config through an :class:`IrBuild` and returning a :class:`Defined`, its
templates and its content (labels, playbooks), and registers the kind with
:func:`logic_kind` from a ``tierkit_scheme_kinds`` hook (:data:`hookimpl`).

The logic is built from expressions (the builders below accept Python values where
a node is expected: ``ge(ratio, 0.05)``), from decision tables (:func:`first_match`:
the first rule whose condition holds gives the value and its reason code) and, as an
escape hatch, from a plain Python function of one customer's values (:func:`python`:
a direct call on the Python engine, a scalar UDF on DuckDB, a pandas UDF on
Spark).  A decision table over many rows can also be a :class:`FirstMatch` (the
position of the first condition that holds) read by :class:`Pick`.

Besides the logic, a kind's config checks and its reasons' finishing touches use a
few helpers of the core's, so they say things as the rest of tierkit does:
:func:`did_you_mean` (a hint for a misspelt name), :func:`constant_values` (what an
expression can give, when provably constant), :func:`show_number` (a number as people
read it) and the shown-score rule (:func:`score_decimals`, :func:`shown_score`,
:func:`shown_parts`, :func:`shown_threshold`).  docs/plugins.md, "A new kind", walks
through a whole kind and lists the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tierkit.errors import Diagnostic
from tierkit.expr.compiler import Compiled, constant_values, did_you_mean
from tierkit.expr.shadowing import warn_shadowed
from tierkit.hookspecs import hookimpl
from tierkit.io.fieldtypes import WHITESPACE
from tierkit.ir.nodes import (
    NULL, And, Arith, Call, Case, Cast, Coalesce, Column, Compare, Concat, DType, Expr, FirstMatch, Gather, In, IsMissing, Let,
    ListOf, Lit, Logic, Not, Or, Pick, PyCall, Reason, Ref, Sort, Window, case, holds, known, lit, total,
)
from tierkit.plan.kindlogic import Defined, IrBuild, LogicKind, logic_kind
from tierkit.registry import Function, SchemeKind
from tierkit.ruleset.labels import score_decimals, show_number, shown_parts, shown_score, shown_threshold

__all__ = [
    # registration and config
    "hookimpl", "logic_kind", "LogicKind", "Defined", "IrBuild", "Compiled", "Function", "SchemeKind", "Diagnostic",
    "did_you_mean", "constant_values",
    # nodes
    "DType", "Expr", "Column", "Ref", "Lit", "NULL", "Let", "Window", "Sort", "Reason", "Logic", "Case", "Coalesce",
    "Compare", "And", "Or", "Not", "IsMissing", "Arith", "Cast", "In", "Concat", "Call", "PyCall", "ListOf", "Gather",
    "FirstMatch", "Pick",
    # builders
    "node", "lit", "case", "known", "holds", "missing", "total", "eq", "ne", "lt", "le", "gt", "ge", "all_of", "any_of",
    "not_", "add", "sub", "mul", "div", "coalesce", "python", "tags", "dtype_of", "Bindings", "percentile",
    # decision tables
    "Rule", "DecisionTable", "first_match", "WhenRules", "when_rules", "WHEN_RULES_TEMPLATES",
    # content: numbers and scores as shown, text as str.strip sees it
    "show_number", "score_decimals", "shown_score", "shown_parts", "shown_threshold", "WHITESPACE",
]

TYPES = {"number": DType.FLOAT, "integer": DType.INT, "boolean": DType.BOOL, "string": DType.STR, "date": DType.DATE,
         "list": DType.LIST}


def dtype_of(type_: DType | str) -> DType:
    """A node type from a :class:`DType` or a tierkit type name (``number``, ``integer``,
    ``boolean``, ``string``, ``date``, ``list``), as a Function's ``returns`` is written."""
    return type_ if isinstance(type_, DType) else TYPES[type_]


def node(value: Any) -> Expr:
    """``value`` as a node: a node as it is, ``None`` as a missing value, a Python
    bool, int, float or str as a literal (so every builder takes plain values too)."""
    if isinstance(value, Expr):
        return value
    if value is None:
        return NULL
    return lit(value)


def missing(value: Any) -> IsMissing:
    """Whether ``value`` is missing (never missing itself)."""
    return IsMissing(node(value))


def _compare(op: str) -> Callable[[Any, Any], Compare]:
    def compare(left: Any, right: Any) -> Compare:
        return Compare(op, node(left), node(right))
    compare.__name__ = compare.__qualname__ = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
    compare.__doc__ = f"``left {op} right``; missing when either side is."
    return compare


eq, ne, lt, le, gt, ge = (_compare(op) for op in ("==", "!=", "<", "<=", ">", ">="))


def _arith(op: str) -> Callable[[Any, Any], Arith]:
    def arith(left: Any, right: Any) -> Arith:
        return Arith(op, node(left), node(right))
    arith.__name__ = arith.__qualname__ = {"+": "add", "-": "sub", "*": "mul", "/": "div"}[op]
    arith.__doc__ = f"``left {op} right``; missing when either side is" + (" or the divisor is zero." if op == "/" else ".")
    return arith


add, sub, mul, div = (_arith(op) for op in ("+", "-", "*", "/"))


def all_of(*conditions: Any) -> Expr:
    """Every condition holds (three-valued: false wins, else a missing one makes it missing)."""
    return And(tuple(node(c) for c in conditions)) if len(conditions) > 1 else node(conditions[0])


def any_of(*conditions: Any) -> Expr:
    """Some condition holds (three-valued: true wins, else a missing one makes it missing)."""
    return Or(tuple(node(c) for c in conditions)) if len(conditions) > 1 else node(conditions[0])


def not_(condition: Any) -> Not:
    """The condition does not hold; missing stays missing."""
    return Not(node(condition))


def tags(*pairs: tuple[str, Any]) -> Gather | None:
    """An outcome's tags for ``Logic(tags=…)``: each ``(tag, condition)`` pair's tag where
    its condition holds (a missing condition does not), in order, each once; ``None``
    (no tags) without pairs."""
    return Gather(tuple((node(condition), lit(tag)) for tag, condition in pairs)) if pairs else None


def coalesce(*values: Any) -> Coalesce:
    """The first value that is not missing."""
    return Coalesce(tuple(node(v) for v in values))


def python(function: Callable, *args: Any, returns: DType | str, null_safe: bool = False) -> PyCall:
    """The escape hatch: ``function(*values)`` of one customer's values, a result of type
    ``returns``.  A direct call on the Python engine, a scalar UDF registered on the
    DuckDB connection and a pandas UDF registered on the Spark session.  A missing
    argument gives a missing result without calling it, unless ``null_safe``; return
    ``None`` where there is no answer.  A function that raises rejects that customer's
    row on every engine (``evaluation failed: ValueError: …``); the others are evaluated
    without it."""
    return PyCall(function, tuple(node(a) for a in args), dtype_of(returns), null_safe)


class Bindings:
    """The logic's named bindings, in order: ``let = Bindings()``, then
    ``ratio = let("ratio", div(overdue, revenue))`` binds the value and gives a
    :class:`Ref` later nodes read it by; ``let.lets`` is what :class:`Logic` takes.
    A :class:`Window` must be bound on its own (a row engine computes it as one step)."""

    def __init__(self):
        self._lets: list[Let] = []

    def __call__(self, name: str, value: Any) -> Ref:
        value = node(value)
        self._lets.append(Let(name, value))
        return Ref(name, value.dtype)

    def extend(self, lets: Iterable[Let]) -> None:
        """Add bindings made elsewhere (a decision table's)."""
        self._lets.extend(lets)

    @property
    def lets(self) -> tuple[Let, ...]:
        return tuple(self._lets)


def percentile(let: Bindings, name: str, value: Any, fraction: float) -> Ref:
    """``value``'s percentile over every customer (``fraction`` 0-1; the median is 0.5),
    bound as ``name``: SQL's ``percentile_cont`` computed term for term (the known values in order,
    the neighbours at ``fraction × (n - 1)``, the same interpolation), so a value lying
    exactly on the cut falls on the same side on every engine; missing when no value is
    known.  The neighbours are the smallest values whose running count passes their
    positions (population minima, ties included)."""
    value = node(value)
    if not isinstance(value, (Ref, Column)):
        value = let(f"{name}_value", value)
    known = let(f"{name}_known", Window("count", value))
    upto = Cast(let(f"{name}_upto", Window("count", value, order=(Sort(value),))), DType.FLOAT)
    position = Arith("*", lit(float(fraction)), Cast(Arith("-", known, lit(1)), DType.FLOAT))
    low = Arith("//", position, lit(1.0))
    last = Cast(Arith("-", known, lit(1)), DType.FLOAT)
    high = Case(((Compare(">", Arith("+", low, lit(1.0)), last), last),), Arith("+", low, lit(1.0)))
    lower = let(f"{name}_lower", Window("min", let(f"{name}_at_low", case((Compare(">", upto, low), value)))))
    upper = let(f"{name}_upper", Window("min", let(f"{name}_at_high", case((Compare(">", upto, high), value)))))
    return let(name, Arith("+", lower, Arith("*", Arith("-", upper, lower), Arith("-", position, low))))


@dataclass(frozen=True)
class Rule:
    """One row of a decision table: when ``when`` holds (``None``: always, for a
    default row), the value is ``then``; ``code`` is the reason given when this row is
    the one that decided, with ``params`` (name, value) pairs."""

    when: Any
    then: Any
    code: str | None = None
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class DecisionTable:
    """A decision table bound in a logic (see :func:`first_match`): ``lets`` (the
    1-based number of the row that decided, or 0 when none did), ``value`` (that row's
    ``then``) and ``reasons`` (each row's code, given when it decided)."""

    rules: tuple[Rule, ...]
    row: Ref
    lets: tuple[Let, ...]
    value: Expr
    reasons: tuple[Reason, ...]

    def decided(self, number: int) -> Expr:
        """Whether row ``number`` (1-based) decided; never missing."""
        return Compare("==", self.row, lit(number))


def first_match(name: str, rules: Sequence[Rule | tuple], default: Rule | tuple | None = None) -> DecisionTable:
    """A decision table whose first row that holds decides (a missing condition does not
    hold), as a CASE: ``first_match("level", [(ge(ratio, 0.3), "blocked", "risk.blocked"),
    (ge(ratio, 0.15), "high", "risk.high")], default=("low", "risk.low"))``.

    Rows are :class:`Rule` values or tuples ``(when, then[, code[, params]])``; the
    default, ``(then[, code[, params]])``, decides when no row does (without it the
    value is missing).  The number of the deciding row is bound once as ``name``, so
    the value and every reason test one column rather than repeat the conditions."""
    table = [rule if isinstance(rule, Rule) else Rule(*rule) for rule in rules]
    if default is not None:
        table.append(default if isinstance(default, Rule) else Rule(None, *default))
    if any(rule.when is None for rule in table[:-1]):
        raise ValueError(f"decision table {name!r}: only the last row (the default) may hold always")
    row = Ref(name, DType.INT)
    whens = tuple((holds(node(rule.when)), lit(number)) for number, rule in enumerate(table, 1) if rule.when is not None)
    fallback = lit(len(table)) if table and table[-1].when is None else lit(0)
    lets = (Let(name, Case(whens, fallback)) if whens else Let(name, fallback),)
    values = [(Compare("==", row, lit(number)), node(rule.then)) for number, rule in enumerate(table, 1)]
    value = Case(tuple(values), NULL) if values else NULL
    reasons = tuple(Reason(rule.code, tuple((key, node(v)) for key, v in rule.params), Compare("==", row, lit(number)))
                    for number, rule in enumerate(table, 1) if rule.code is not None)
    return DecisionTable(tuple(table), row, lets, value, reasons)


# -- a config's table of when-rules ---------------------------------------------------------

WHEN_RULES_TEMPLATES = {
    "en": {"rules.matched": "matched rule {rule:label}: {when:say}", "rules.default": "no rule matched; default {rule:label}",
           "rules.none": "no rule matched"},
    "zh": {"rules.matched": "命中规则 {rule:label}：{when:say}", "rules.default": "未命中任何规则，采用默认 {rule:label}",
           "rules.none": "未命中任何规则"},
}
DEFAULT = -1  # the position :func:`when_rules` gives the default


@dataclass(frozen=True)
class WhenRules:
    """A config's ``rules`` (each an ``id`` and a ``when``, in priority order) and
    ``default`` as IR (see :func:`when_rules`): ``lets`` bind ``rule``, the position of
    the rule that fired (-1 for the default, missing when nothing matched and there is
    no default); ``reasons`` say which rule, in the words of :data:`WHEN_RULES_TEMPLATES`."""

    rules: tuple[Mapping, ...]
    default: Mapping | None
    lets: tuple[Let, ...]
    position: Ref
    conditions: tuple[Expr, ...]  # each rule's condition (its binding under collect)
    reasons: tuple[Reason, ...]

    def pick(self, values: Iterable[Expr], otherwise: Expr) -> Pick:
        """Each rule's value, by the position of the rule that fired; ``otherwise`` for
        the default or no rule."""
        return Pick(self.position, tuple(values), otherwise)

    @property
    def label(self) -> Pick:
        """The id of the rule that fired (the default's; missing without one)."""
        fallback = (self.default or {}).get("id")
        return self.pick((lit(rule["id"]) for rule in self.rules), Lit(fallback, DType.STR))

    @property
    def labels(self) -> dict[str, Any]:
        """Display labels by rule id, the default's included."""
        entries = [*self.rules, *([self.default] if self.default is not None else [])]
        return {entry["id"]: entry.get("label", entry["id"]) for entry in entries if "id" in entry}


def when_rules(build: IrBuild, collect: bool = False) -> WhenRules | None:
    """The config's table of when-rules with a default, stated once for every kind and
    the ruleset's allocation alike; None after an error in a condition.

    Under first-match one ``rules.matched`` reason gives the rule and its condition
    picked by position, and validate warns of a rule an earlier one shadows
    (:func:`tierkit.expr.shadowing.warn_shadowed`).  Under ``collect`` each condition is
    bound once (``when<i>``) and every rule that holds gives its ``rules.matched``;
    the first still decides.  The default gives ``rules.default``, no rule and a
    default without an id ``rules.none``."""
    rules, default = tuple(build.value("rules", default=[])), build.value("default")
    conditions, checked = [], []
    for index in range(len(rules)):
        before = len(build.diagnostics)
        conditions.append(build.condition("rules", index, "when").code)
        checked.append(not any(d.severity == "error" for d in build.diagnostics[before:]))
    if not collect:
        warn_shadowed(build, list(rules), checked)
    if build.failed:
        return None
    lets = [Let(f"when{index}", condition) for index, condition in enumerate(conditions)] if collect else []
    if collect:
        conditions = [Ref(let.name, DType.BOOL) for let in lets]
    lets.append(Let("rule", FirstMatch(tuple(conditions), lit(DEFAULT) if default is not None else Lit(None, DType.INT))))
    position = Ref("rule", DType.INT)
    if collect:
        matched = tuple(Reason("rules.matched", (("rule", lit(r["id"])), ("when", lit(r["when"]))), condition)
                        for condition, r in zip(conditions, rules))
    else:
        def picked(key: str) -> Pick:
            return Pick(position, tuple(lit(r[key]) for r in rules), Lit(None, DType.STR))
        matched = (Reason("rules.matched", (("rule", picked("id")), ("when", picked("when"))), ge(position, 0)),)
    named = default is not None and default.get("id") is not None
    otherwise = (Reason("rules.default", (("rule", lit(default["id"])),), eq(position, DEFAULT)) if named
                 else Reason("rules.none", (), missing(position) if default is None else eq(position, DEFAULT)))
    return WhenRules(rules, default, tuple(lets), position, tuple(conditions), (*matched, otherwise))
