"""A scheme kind stated once, as IR, run by the core on every engine.

A kind of this form gives a *define* function: it reads the scheme's config through
an :class:`IrBuild` (the same config, positions and diagnostics as any build; its
expressions checked into IR nodes through :func:`tierkit.ir.from_expr.ir_scope`) and
returns a :class:`Defined`: the :class:`~tierkit.ir.nodes.Logic` (bindings, label,
score, attributes, reasons as codes), its display labels and the names its reason
templates say.  The kind's module holds nothing else but its config schema, its
templates and its content: no Python source, no SQL, no dialect.

:func:`logic_kind` turns it into a :class:`~tierkit.registry.SchemeKind` whose two
compile functions are the core's:

* on the Python engine one population step (:func:`_python_step`) reads the logic's
  input columns from the slots, runs the Python lowering's row steps and windows
  (:mod:`tierkit.ir.to_python`) and writes the outcome tuple (label, score, tags,
  detail), whose detail holds the
  attributes and then the flat reason columns;
* on the SQL engines every binding is lowered to a sqlglot tree for the dialect
  (:mod:`tierkit.ir.to_sql`) and added as a column, and the outcome columns are
  written, the reason columns as detail columns ``s<slot>_d<k>``.

Both give the same detail, so :func:`tierkit.plan.reasons.explain` reads reasons the same
way from either.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from tierkit.plan.build import CompiledScheme, ConfigBuild, SchemeBuild, Slot, blank_inputs, check_values
from tierkit.errors import Position
from tierkit.expr.compiler import Compiled, ExpressionDiagnostic, Symbol, compile_with
from tierkit.ir import nodes as ir
from tierkit.ir.from_expr import TYPES, IrEmitter, ir_scope
from tierkit.ir.to_python import program, window
from tierkit.ruleset.labels import SCORE_DECIMALS
from tierkit.plan.reasons import ReasonColumns, ReasonWords, explain
from tierkit.registry import SchemeKind

NOT_IN_IR = "a kind stated as IR takes no list value here: compute the value as a derived feature and name it"
MAX_BLANK_INPUTS = 62  # the bits of a 64-bit mask of blank inputs


@dataclass(frozen=True)
class Defined:
    """One scheme's logic as a kind defines it.

    ``labels`` are the display labels by label id (the ruleset's ``labels:`` are put
    over them by the plan), ``names`` the labels the reason templates say by name
    (``value_name``), ``tables`` labels by id for the templates' ``in:<table>`` spec,
    ``readers`` turn the stored value of a reason parameter's expression into the
    record's (see :meth:`IrBuild.blank_inputs`), ``finish`` completes a row's records (see
    :func:`tierkit.plan.reasons.explain`), ``score_decimals`` is how many decimals its scores
    show (:func:`tierkit.ruleset.labels.score_decimals`), ``conditional_tags`` the tags each set by
    a condition of its own (see :mod:`tierkit.analysis.overlap`)."""

    logic: ir.Logic
    labels: Mapping[str, Any]
    names: Mapping[str, Any] = field(default_factory=dict)
    readers: Mapping[ir.Expr, Callable[[Any], Any]] = field(default_factory=dict)
    tables: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)
    finish: Callable[[list[dict], tuple], None] | None = None
    score_decimals: int = SCORE_DECIMALS
    conditional_tags: tuple[str, ...] = ()
    about: Mapping[str, Any] | None = None  # the scheme's playbooks, where its config replaces the kind's
    run_warnings: Callable | None = None  # what an evaluated population warns of (CompiledScheme.run_warnings)
    tag_labels: Mapping[str, Any] = field(default_factory=dict)  # words for the tags its outcomes carry


class IrBuild(ConfigBuild):
    """A scheme's config as the kind's define function reads it: expressions come back
    as :class:`Compiled` values whose ``code`` is an IR node.  Diagnostics and the names
    read go to the engine's build.

    An expression the IR has no node for, or calling a plugin function without a SQL
    form, is compiled by the engine's own expression compiler into a column of its own
    (:meth:`ConfigBuild.stored`), which the logic reads: one checker, the same value on
    every engine that can compute it (the SQL engines refuse such a function in one line)."""

    def __init__(self, build: ConfigBuild, scope):
        super().__init__(build.config, build.path, scope, build.functions, build._locate)
        self.id, self.diagnostics, self.reads, self.vocabulary = build.id, build.diagnostics, build.reads, build.vocabulary
        self.engine = build

    def _compile(self, source: str, position: Position | None) -> Compiled:
        try:
            return compile_with(source, self.scope, self.functions, IrEmitter(), position)
        except ExpressionDiagnostic as failure:
            found = failure.diagnostic
            if "no IR node" not in found.message and "has no SQL form" not in found.message:
                raise  # a plugin function without a SQL form runs where the engine can run it
        compiled = self.engine._compile(source, position)
        dtype = TYPES.get(compiled.type)
        if dtype is None:  # a list: no IR type holds it
            raise ExpressionDiagnostic(dataclasses.replace(found, hint=NOT_IN_IR))
        return dataclasses.replace(compiled, code=ir.Column(self.engine.stored(compiled), dtype))

    @property
    def failed(self) -> bool:
        """Whether an error was reported: define then returns ``None``."""
        return any(d.severity == "error" for d in self.diagnostics)

    def value_words(self, compiled: Compiled | None) -> Mapping[Any, Any]:
        """A table for a template's ``in:<table>`` spec saying each value ``compiled``
        gives as the ruleset does: an enum value by its declared label, true/false as
        yes/no, a missing value as missing, a number as people read it."""
        return self.vocabulary.values_of(None if compiled is None else compiled.source)

    def blank_inputs(self, compiled: Compiled, otherwise: list[str] | None = None) -> tuple[ir.Expr, Callable[[int], list[str]]]:
        """Which inputs behind a missing value of ``compiled`` are blank, for a reason
        that names them: an integer expression (a bit per input that may be missing) and
        the reader turning it into the names (:func:`tierkit.plan.build.blank_inputs`: a
        derived feature by its own blank inputs); ``otherwise`` when none is (by default
        the expression's inputs, else its source)."""
        values: list = []
        tree = self._input_tree(compiled.reads, values, frozenset())
        fallback = (sorted(compiled.reads) or [compiled.source]) if otherwise is None else otherwise
        if not tree or len(values) > MAX_BLANK_INPUTS or not all(isinstance(v, ir.Expr) for v in values):
            return ir.lit(0), lambda mask: fallback
        mask = ir.total(*(ir.case((ir.IsMissing(value), ir.lit(1 << bit)), default=ir.lit(0))
                          for bit, value in enumerate(values)))

        def read(mask: int) -> list[str]:
            blank = tuple(None if mask >> bit & 1 else True for bit in range(len(values)))
            return list(blank_inputs(tree, blank)) or fallback

        return mask, read


@dataclass(frozen=True)
class LogicKind:
    """A kind stated once: ``define(build) -> Defined`` (``None`` after reporting an
    error), zh/en templates by reason code, ``attributes`` (name, type) in the order of
    the logic's, and the labels' content (``about``)."""

    define: Callable[[IrBuild], Defined | None]
    templates: Mapping[str, Mapping[str, str]]
    attributes: tuple[tuple[str, str], ...] = ()
    about: Mapping[str, Any] = field(default_factory=dict)

    def compile(self, build: SchemeBuild) -> CompiledScheme:
        # the as-of date is bound when the plan runs: a column the step fills in
        scope = {**ir_scope(build.scope, None), "as_of": Symbol("as_of", "date", False, ir.Column("as_of", ir.DType.DATE))}
        defined = self._defined(build, scope)
        if defined is None:
            return CompiledScheme(explain=lambda outcome, lang: [], about=self.about)
        logic = defined.logic
        inputs = {node.name for _, expr in _program(logic) for node in expr.walk() if isinstance(node, ir.Column)}
        slots = frozenset(int(match[1]) for name in inputs if (match := _COLUMN.fullmatch(name)))
        build.population(_python_step(logic, build.outcome), "evaluation", evaluates=True, reads=slots)
        columns = ReasonColumns.of(logic, len(logic.attributes), defined.readers)
        about = self.about if defined.about is None else defined.about
        compiled = CompiledScheme(explain=lambda outcome, lang: [], labels=dict(defined.labels), about=about,
                                  reason_columns=columns, score_decimals=defined.score_decimals,
                                  conditional_tags=defined.conditional_tags, run_warnings=defined.run_warnings,
                                  tag_labels=dict(defined.tag_labels))
        words = ReasonWords(self.templates, defined.names, lambda: compiled.labels, build.vocabulary, defined.tables,
                            defined.score_decimals)
        compiled.explain = lambda outcome, lang: explain(columns, words, outcome, lang, defined.finish)
        return compiled

    def compile_sql(self, build) -> None:
        from tierkit.ir.sql_text import expression_sql

        defined = self._defined(build, build.scope)
        if defined is None:
            return
        logic = defined.logic
        columns: dict[str, str] = {}

        def sql(expr: ir.Expr) -> str:  # every engine stores the logic's own type
            return expression_sql(expr, build.dialect.name, columns.__getitem__, build.query.udfs, typed=True)

        for let in logic.lets:
            columns[let.name] = build.query.unique(f"{build.prefix}__{let.name}")
            build.query.add(columns[let.name], sql(let.expr))
        tags = {"tags": sql(logic.tags)} if logic.tags is not None else {}
        build.outcome(label=sql(logic.label), score=sql(logic.score), **tags,
                      **{name: sql(expr) for name, expr in logic.attributes})
        # --reasons none: the query computes no reason columns; a reason's flag is its
        # detail column itself, so reading it costs no layer of its own
        flags = {let.name: let.expr for let in logic.reason_lets()} if build.reasons else {}
        for position, (name, expr) in enumerate(logic.reason_columns() if build.reasons else (), len(logic.attributes)):
            build.detail(position, sql(flags.get(name, expr)))

    def _defined(self, build: ConfigBuild, scope) -> Defined | None:
        ir_build = IrBuild(build, scope)
        defined = self.define(ir_build)
        if defined is None or ir_build.failed:
            return None
        names = [name for name, _expr in defined.logic.attributes]
        if names != [name for name, _type in self.attributes]:
            raise ValueError(f"the logic's attributes {names} are not the kind's {[n for n, _ in self.attributes]}")
        return defined


def logic_kind(name: str, doc: str, config_schema: Mapping, kind: LogicKind) -> SchemeKind:
    """The registered kind of ``kind``, documented by its module's docstring."""
    attributes = {attribute: (type_, index) for index, (attribute, type_) in enumerate(kind.attributes)}
    return SchemeKind.documented(name, doc, config_schema, kind.compile, attributes, compile_sql=kind.compile_sql)


# -- the Python engine ---------------------------------------------------------------------

_COLUMN = re.compile(r"s(\d+)(?:_(label|score|tags)|_d(\d+))?")


def _reader(name: str) -> Callable[[list], Any]:
    """How a slot list holds the value of IR column ``name`` (:func:`tierkit.ir.from_expr.sql_column`)."""
    match = _COLUMN.fullmatch(name)
    if match is None:
        raise ValueError(f"no slot holds column {name!r}")
    slot, part, detail = int(match[1]), match[2], match[3]
    if part is None and detail is None:
        return itemgetter(slot)
    if part is not None:
        index = ("label", "score", "tags").index(part)
        return lambda row: row[slot][index]
    position = int(detail)
    return lambda row: row[slot][3][position] if row[slot][3] is not None else None


def _python_step(logic: ir.Logic, out: Slot) -> Callable[[list[list], Any, list], None]:
    """The population step running ``logic`` over every customer and writing outcome tuples
    ``(label, score, tags, attributes + reason columns)`` into slot ``out``.

    A customer whose score is infinite, NaN or an integer past 64 bits is rejected with
    the row engine's reason (:func:`tierkit.plan.build.check_values`), and so is one on which
    a Python function of the logic raises (found by evaluating each customer alone);
    the others are evaluated again without it, as the SQL engines do: it takes no part
    in the shares."""
    lets = _program(logic)
    inputs = sorted({node.name for _, expr in lets for node in expr.walk() if isinstance(node, ir.Column)})
    readers = {name: _reader(name) for name in inputs if name != "as_of"}
    # compiled when the Python engine first runs it: a plan run on SQL never does
    steps = functools.cache(lambda: program(lets, {name: True for name in inputs}))
    written = [name for name, _expr in lets if name.startswith("out:")]

    calls_python = any(isinstance(node, ir.PyCall) for _name, expr in lets for node in expr.walk())

    def run(rows: list[list], as_of, failed: list) -> None:
        while True:
            try:
                outcomes = evaluate(rows, as_of)
            except Exception:
                if not calls_python:
                    raise
                bad = [(row, error) for row in rows if (error := _raises(row, as_of))]
                if not bad:
                    raise
            else:
                bad = [(row, error) for row, outcome in zip(rows, outcomes) if (error := _unwritable(outcome, out.name))]
                if not bad:
                    break
            failed += bad
            gone = {id(row) for row, _error in bad}
            rows = [row for row in rows if id(row) not in gone]
        for row, outcome in zip(rows, outcomes):
            row[out.index] = outcome

    def _raises(row: list, as_of) -> str | None:
        """Why the logic's Python function (:class:`ir.PyCall`) raises on ``row`` alone, or None."""
        try:
            evaluate([row], as_of)
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        return None

    def evaluate(rows: list[list], as_of) -> list[tuple]:
        n = len(rows)
        columns: dict[str, list] = {name: list(map(read, rows)) for name, read in readers.items()}
        if "as_of" in inputs:
            columns["as_of"] = [as_of] * n
        for step in steps():
            if step[0] == "window":
                columns[step[2]] = window(step[1], columns, n)
            else:
                _kind, function, reads, writes = step
                columns.update(zip(writes, function(*(columns[r] for r in reads), n)))
        labels, scores, *details = (columns[name] for name in written)
        tags = details.pop(0) if logic.tags is not None else [()] * n
        return [(label, score, tag, detail)
                for label, score, tag, detail in zip(labels, scores, tags, zip(*details) if details else [()] * n)]

    return run


def _program(logic: ir.Logic) -> list[tuple[str, ir.Expr]]:
    """The logic's bindings, its reasons' flags, then its outputs as ``out:<name>``."""
    lets = [(let.name, let.expr) for let in (*logic.lets, *logic.reason_lets())]
    return lets + [(f"out:{name}", expr) for name, expr in logic.outputs()]


def _unwritable(outcome: tuple, name: str) -> Exception | None:
    """Why no results file holds ``outcome``'s score, or None."""
    try:
        check_values([outcome], ((0, name),))
    except ValueError as error:
        return error
    return None
