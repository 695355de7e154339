"""What a scheme kind's compile step works with: the scheme's config, expressions
checked against the ruleset's names, per-customer slots, and the steps of the plan.

A kind never writes a loop.  It adds *row steps* (Python statements run for one
customer at a time, inside one generated function per run of consecutive row steps)
and *population steps* (a Python function over all customers, for percentiles,
shares and quantiles).  Each customer is a list of slots; the kind reads other values
through the locals its compiled expressions name, and writes its outcome tuple
``(label, score, tags, detail)`` into ``build.outcome``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierkit.errors import Diagnostic, Position
from tierkit.expr.compiler import Compiled, ExpressionDiagnostic, Namespace, Symbol, compile_expression, names_in
from tierkit.ruleset.labels import SCORE_DECIMALS
from tierkit.ruleset.population import parse_cut
from tierkit.registry import Function
from tierkit.plan.reasons import ReasonColumns
from tierkit.expr.words import Vocabulary

LABEL, SCORE, TAGS, DETAIL = range(4)


@dataclass(frozen=True)
class Slot:
    """One per-customer value; ``local`` is its variable name in generated code."""

    index: int
    name: str

    @property
    def local(self) -> str:
        return f"s{self.index}"


INT64 = range(-(2**63), 2**63)


def check_values(vals: list, slots: tuple[tuple[int, str], ...]) -> None:
    """Raise when a value (or an outcome's score) a row step wrote is infinite or NaN,
    or a whole number past 64 bits, so that the row is rejected with the reason
    instead of NaN being ranked and written, or an integer no results file (and no
    SQL engine) holds.  ``x - x != 0`` holds exactly for infinities and NaN."""
    for index, name in slots:
        value = vals[index]
        if value.__class__ is tuple and len(value) > SCORE:
            value, name = value[SCORE], f"{name}.score"
        if value.__class__ is float and value - value != 0.0:
            raise ValueError(f"{name} is not a finite number ({value!r})")
        if value.__class__ is int and value not in INT64:
            raise ValueError(f"{name} is outside the 64-bit integer range ({value.bit_length()} bits)")


@dataclass
class RowStep:
    """Statements run per customer; ``writes`` are the slots they assign."""

    lines: list[str]
    writes: list[Slot]


@dataclass
class PopulationStep:
    """A function over every customer's slot list, run between row steps.  An
    ``evaluates`` step is called as a row segment is, ``run(rows, as_of, failed)``: it
    reads the as-of date and may reject rows, appending ``(row, error)`` to ``failed``
    (it then leaves their outcomes unwritten, and the engine drops them)."""

    run: Callable[..., None]
    name: str
    evaluates: bool = False
    reads: frozenset[int] = frozenset()  # the slots it reads besides its own (row steps' are found in their code)


@dataclass
class CompiledScheme:
    """What a kind hands back: how to explain an outcome, and the display labels.

    ``explain(outcome, lang)`` turns the outcome tuple into reason records (dicts
    with at least a ``text``); it runs only when results are written or shown, so
    the evaluation stage builds no strings.  ``labels`` maps label ids to display
    labels (a string or an ``{en, zh}`` map).  ``about`` maps label ids to what a
    rep should know of that class (pain points, talking points, strategy, actions:
    labels or lists of labels), for briefs and playbooks.  ``tag_labels`` maps tags
    that are no label ids to their display labels, so pages print words, not tags.
    ``run_warnings(count)`` says what an evaluated population warns of (warning
    :class:`tierkit.errors.Diagnostic` records), from ``count(k)``: how many customers
    have each value of the outcome's detail item ``k`` (the kind's attribute at index
    ``k``); every engine counts from its results and calls it after evaluating.

    ``score_decimals``: the decimals every page shows its scores with (one, more when a
    threshold the scores are compared with has more).

    ``conditional_tags`` names the tags each set by a condition of its own, which one
    account should not carry together unless the scheme's ``overlap`` allows it
    (validate warns of the pairs it can, see :mod:`tierkit.analysis.overlap`).
    """

    explain: Callable[[tuple, str], list[dict]]
    labels: Mapping[str, Any] = field(default_factory=dict)
    about: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tag_labels: Mapping[str, Any] = field(default_factory=dict)
    run_warnings: Callable[[Callable[[int], Mapping[Any, int]]], list[Diagnostic]] | None = None
    score_decimals: int = SCORE_DECIMALS  # how many decimals its scores show (tierkit.ruleset.labels.show_score)
    conditional_tags: tuple[str, ...] = ()
    # where a kind stated as IR keeps its reasons in the outcome's detail (tierkit.plan.reasons),
    # so that every engine's outcomes give the same reason records
    reason_columns: ReasonColumns | None = None


def blank_inputs(tree: tuple, values: tuple) -> tuple[str, ...]:
    """The names of ``tree`` (:meth:`ConfigBuild._input_tree`) whose value is missing,
    each derived feature replaced by its own blank inputs when it has some."""
    found: list[str] = []
    for name, index, inputs in tree:
        if values[index] is None:
            found += blank_inputs(inputs, values) or (name,)
    return tuple(dict.fromkeys(found))


class ConfigBuild:
    """What every back end's compile context shares: the scheme's config and positions,
    and its expressions checked against the ruleset's names.  :class:`SchemeBuild`
    compiles them to Python, :class:`tierkit.engine.sql.build.SqlBuild` to SQL; a kind reads
    its config through the same methods in both."""

    def __init__(self, config: Mapping[str, Any], path: tuple, scope: Mapping[str, Symbol],
                 functions: Mapping[str, Function], locate: Callable[[tuple], Position | None]):
        self.config = config
        self.id = config.get("id", path[-1] if path else "")
        self.path = path
        self.scope = scope
        self.functions = functions
        self._locate = locate
        self.reads: set[str] = set()
        self.diagnostics: list[Diagnostic] = []
        # The ruleset's labels, to say expressions and names in reasons (:mod:`tierkit.expr.words`);
        # the plan compiler gives the ruleset's own.
        self.vocabulary = Vocabulary()

    def _compile(self, source: str, position: Position | None) -> Compiled:
        """One expression in this back end's code; raises :class:`ExpressionDiagnostic`."""
        raise NotImplementedError

    def stored(self, compiled: Compiled) -> str:
        """The name of a new per-customer column holding ``compiled`` (this back end's
        code), for logic stated as IR that reads an expression the IR has no node for."""
        raise NotImplementedError

    # -- expressions ----------------------------------------------------------
    def expression(self, *key, expect: tuple[str, ...] | None = None, source: str | None = None) -> Compiled:
        """Compile the config value at ``key`` (a path below the scheme).

        A bad expression is recorded as a diagnostic and replaced by ``None`` so
        that every error in the ruleset is reported in one validation run.
        """
        text = self.value(*key) if source is None else source
        position = self.position(*key)
        if text is None:
            self.error("an expression is missing here", *key)
            return Compiled("", "None", "any", True, frozenset())
        try:
            compiled = self._compile(str(text), position)
        except ExpressionDiagnostic as failure:
            self.diagnostics.append(failure.diagnostic)
            return Compiled(str(text), "None", "any", True, frozenset())
        if expect and compiled.type not in expect + ("any", "none"):
            wanted = " or ".join(expect)
            self.error(f"expression `{text}` gives a {compiled.type}, expected a {wanted}", *key)
        self.reads |= compiled.reads
        return compiled

    def condition(self, *key) -> Compiled:
        return self.expression(*key, expect=("boolean",))

    def number(self, *key) -> Compiled:
        return self.expression(*key, expect=("number", "integer"))

    def number_or_field(self, key: str, field: str) -> Compiled:
        """The number expression at ``key``, or the field ``field`` when the key is left
        out (a conventional name such as ``revenue``); an error says which is missing."""
        if self.value(key) is not None:
            return self.number(key)
        if field not in self.scope:
            self.error(
                f"{key} defaults to `{field}`, which is not a field or derived feature of this ruleset",
                hint=f"declare the field {field}, or set {key}: to an expression",
            )
            return Compiled(field, "None", "any", True, frozenset())
        return self.expression(source=field, expect=("number", "integer"))

    def cut(self, value, *key) -> tuple[str, float]:
        """A cut written as a number, ``median``, ``pNN`` or ``{percentile: f}``
        (:func:`tierkit.ruleset.population.parse_cut`); an error at ``key`` otherwise."""
        parsed = parse_cut(value)
        if parsed is None:
            self.error(f"cut {value!r} is not a number, 'median', 'pNN' or {{percentile: 0-1}}", *key)
            return ("value", 0)
        return parsed

    def compiles(self, source: str, types: tuple[str, ...]) -> bool:
        """Whether a *default* expression works in this ruleset (its names exist and it
        gives one of ``types``); nothing is recorded, so kinds can try candidates."""
        try:
            compiled = self._compile(source, None)
        except ExpressionDiagnostic:
            return False
        return compiled.type in types + ("any",)

    def fields_of(self, source: str) -> set[str]:
        """The names a *default* expression reads, the functions it calls left out: what
        an error asks the ruleset to declare when no candidate :meth:`compiles`."""
        return names_in(source) - set(self.functions)

    def _input_tree(self, names, values: list, seen: frozenset) -> tuple:
        """``(name, index in values, inputs)`` of each name that may be missing, with a
        derived feature's own inputs (``Symbol.inputs``) below it."""
        tree = []
        for name in sorted(names):
            symbol = self.scope.get(name)
            if symbol is None or symbol.type == "outcome" or not symbol.nullable or name in seen:
                continue
            values.append(symbol.code)
            index = len(values) - 1
            tree.append((name, index, self._input_tree(symbol.inputs, values, seen | {name})))
        return tuple(tree)

    # -- config and positions -------------------------------------------------
    def value(self, *key, default: Any = None) -> Any:
        node: Any = self.config
        for part in key:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node

    def position(self, *key) -> Position | None:
        return self._locate(self.path + key)

    def error(self, message: str, *key, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, self.position(*key), "error", hint))

    def warn(self, message: str, *key, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, self.position(*key), "warning", hint))


class SchemeBuild(ConfigBuild):
    """The Python compile context of one scheme (or of the ruleset's allocation table)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        path: tuple,
        outcome: Slot,
        scope: Mapping[str, Symbol],
        functions: Mapping[str, Function],
        namespace: Namespace,
        new_slot: Callable[[str], Slot],
        locate: Callable[[tuple], Position | None],
    ):
        super().__init__(config, path, scope, functions, locate)
        self.outcome = outcome
        self.namespace = namespace
        self._new_slot = new_slot
        self.steps: list[RowStep | PopulationStep] = []

    def _compile(self, source: str, position: Position | None) -> Compiled:
        return compile_expression(source, self.scope, self.functions, self.namespace, position)

    def stored(self, compiled: Compiled) -> str:
        slot = self.slot(compiled.source)
        self.row([f"{slot.local} = {compiled.code}"], [slot])
        return slot.local

    def missing_names(self, compiled: Compiled) -> str:
        """Code giving the inputs behind a missing value of ``compiled`` for this
        customer (:func:`blank_inputs`), so a reason names what is actually blank: a
        field by its name, a derived feature by the blank inputs it reads (itself when
        none of them is blank).  Run it only when the value is missing."""
        values: list[str] = []
        tree = self._input_tree(compiled.reads, values, frozenset())
        if not tree:
            return "()"
        return f"{self.constant(blank_inputs)}({self.constant(tree)}, ({''.join(f'{v}, ' for v in values)}))"

    # -- code -----------------------------------------------------------------
    def constant(self, value: Any) -> str:
        """A name in the generated code's globals bound to ``value``."""
        return self.namespace.constant(value)

    def temp(self) -> str:
        return self.namespace.temp()

    def slot(self, name: str) -> Slot:
        return self._new_slot(f"{self.id}.{name}")

    def row(self, lines: list[str], writes: list[Slot]) -> None:
        self.steps.append(RowStep(list(lines), list(writes)))

    def population(self, run: Callable[..., None], name: str, evaluates: bool = False,
                   reads: frozenset[int] = frozenset()) -> None:
        """A step over every customer: ``run(rows)``, or ``run(rows, as_of, failed)`` when
        it ``evaluates`` (see :class:`PopulationStep`); ``reads`` are the slots it reads
        that no row step does (an order feature, the previous run's label)."""
        self.steps.append(PopulationStep(run, f"{self.id}: {name}", evaluates, reads))
