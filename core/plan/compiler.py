"""Compile a validated ruleset into a plan: generated Python run once per customer.

Compile once, run many.  Fields, derived features, scheme outcomes, rank keys and the
allocation each get a *slot* in a per-customer list.  Every scheme compiles against
the same scope (so it may read any other scheme's outcome); the schemes are then put
in the order of what they read, a cycle being a ruleset error.  Consecutive row
steps become one generated function with the customer loop inside it; population
steps (percentiles, shares, the ranking) run between them.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, islice
from operator import eq, itemgetter
from typing import Any

from tierkit.plan import allocation as allocation_table
from tierkit.plan.build import LABEL, SCORE, TAGS, CompiledScheme, PopulationStep, RowStep, SchemeBuild, Slot, check_values
from tierkit.errors import Diagnostic, RulesetError
from tierkit.expr.compiler import Namespace, Symbol, names_in
from tierkit.io.fieldtypes import FieldSpec, make_coercer
from tierkit.plan.lookups import check_lookup_calls, load_lookups, lookup_function
from tierkit.plan.orderpolicy import OrderPolicy, compile_order_policy
from tierkit.plan.order_features import ORDER_FEATURES, order_fields
from tierkit.ruleset.overrides import Overrides, PinStep, load_overrides, overrides_path
from tierkit.registry import Function, Registry
from tierkit.ruleset.load import Ruleset
from tierkit.expr.words import Vocabulary

OUTCOME_ATTRIBUTES = {"label": (LABEL, "string", True), "score": (SCORE, "number", True), "tags": (TAGS, "list", False)}
FIELD_TYPES = {"enum": "string"}
SLOT_NAME = re.compile(r"s\d+")
PREVIOUS = "previous_run"


@dataclass
class SchemeInfo:
    id: str
    kind: str
    label: Any
    slot: Slot
    compiled: CompiledScheme
    reads: set[str]


@dataclass
class Plan:
    """A compiled ruleset: fields to read, generated steps to run, how to explain."""

    ruleset: Ruleset
    fields: list[FieldSpec]
    derived: list[tuple[str, Slot, dict]]
    schemes: list[SchemeInfo]
    stages: list[Any]
    slot_count: int
    rank_slot: Slot
    allocation: SchemeInfo
    plans: dict[int, dict]
    allocation_rule_ids: dict[int, str]
    source: str
    warnings: list[Diagnostic] = field(default_factory=list)
    overrides: Overrides | None = None
    pin_slots: dict[str, int] = field(default_factory=dict)  # scheme id -> slot of its (override, computed outcome)
    previous_slots: dict[str, int] = field(default_factory=dict)  # scheme id -> slot of previous_run.<id>, when read
    previous: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # scheme id -> customer id -> saved label
    rank_stage: PopulationStep | None = None
    scope: Mapping[str, Symbol] = field(default_factory=dict)  # every name an expression may read
    order_policy: OrderPolicy | None = None  # the ruleset's orders: (None without one)
    functions: Mapping[str, Function] = field(default_factory=dict)  # the registry's, and lookup() with lookups:

    @cached_property
    def order_features_read(self) -> tuple[str, ...]:
        """The order features the ruleset declares or its code reads: those an order file
        must be able to give."""
        read = _plan_reads(self.source, self.stages)
        declared = self.ruleset.data.get("fields") or {}
        return tuple(
            spec.name for index, spec in enumerate(self.fields)
            if spec.name in ORDER_FEATURES and (index in read or spec.name in declared)
        )
    vocabulary: Vocabulary = field(default_factory=Vocabulary)  # names and values as printed pages say them

    def allocation_index(self, row: list) -> int | None:
        """The position of the allocation rule that fired for ``row`` (-1 the default,
        None when nothing matched and there is no default)."""
        return allocation_table.rule_index(row[self.allocation.slot.index])

    @cached_property
    def id_index(self) -> int:
        """Where the id sits in a customer's slots; looked up once, read per customer."""
        return next(i for i, spec in enumerate(self.fields) if spec.name == self.ruleset.id_field)


class PlanCompiler:
    def __init__(self, ruleset: Ruleset, registry: Registry):
        self.ruleset = ruleset
        self.data = ruleset.data
        self.registry = registry
        self.namespace = Namespace()
        self.diagnostics: list[Diagnostic] = []
        self.slots: list[Slot] = []
        self.scope: dict[str, Symbol] = {"as_of": Symbol("as_of", "date", False, "as_of")}
        self.order_policy: OrderPolicy | None = None
        self.vocabulary = Vocabulary(self.data)

    def new_slot(self, name: str) -> Slot:
        slot = Slot(len(self.slots), name)
        self.slots.append(slot)
        return slot

    def locate(self, path: tuple):
        return self.ruleset.content_position(*path) or self.ruleset.position(*path)

    def error(self, message: str, path: tuple, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, self.locate(path), "error", hint))

    def compile(self) -> Plan:
        self.functions = self._functions()
        fields = self._fields()
        for spec in fields:
            self.vocabulary.add_field(spec.name, spec.label)
        derived, derive_step = self._derived()
        previous = self._previous_run()
        schemes, scheme_builds = self._schemes()
        order = self._order(schemes) if not self._errors() else schemes
        overrides, pin_slots = self._overrides(schemes)
        rank_slot = self.new_slot("rank")
        self.scope["rank"] = Symbol("rank", "integer", False, rank_slot.local)
        rank_build, rank_stage = self._rank(rank_slot)
        allocation, allocation_build, plans, rule_ids = self._allocation()
        if self._errors():
            raise RulesetError(self.diagnostics)
        steps: list[Any] = list(derive_step)
        id_index = next(i for i, spec in enumerate(fields) if spec.name == self.ruleset.id_field)
        for scheme in order:
            steps += scheme_builds[scheme.id].steps
            if scheme.id in pin_slots:  # pinned before anything reads the scheme
                steps.append(PinStep(overrides.for_scheme(scheme.id), scheme.slot.index, pin_slots[scheme.id], id_index))
        steps += rank_build.steps + [rank_stage] + allocation_build.steps
        stages, source = self._generate(steps)
        read = _plan_reads(source, stages)
        return Plan(
            self.ruleset, fields, derived, order, stages, len(self.slots), rank_slot, allocation, plans, rule_ids, source,
            [d for d in self.diagnostics if d.severity != "error"], overrides, pin_slots,
            {scheme_id: slot.index for scheme_id, slot in previous.items() if slot.index in read},
            rank_stage=rank_stage, scope=dict(self.scope), order_policy=self.order_policy, functions=self.functions,
            vocabulary=self.vocabulary,
        )

    def _errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def _functions(self) -> Mapping[str, Function]:
        """The functions expressions may call: the registry's, and ``lookup`` over the
        ruleset's lookup tables when it declares some."""
        if "lookups" not in self.data:
            return self.registry.functions
        tables = load_lookups(self.data["lookups"], self.ruleset.source.parent, self.registry, self.error)
        check_lookup_calls(self.data, tables, self.error)
        return {**self.registry.functions, "lookup": lookup_function(tables)}

    # -- fields ---------------------------------------------------------------
    def _fields(self) -> list[FieldSpec]:
        specs = []
        for name, config in self.data["fields"].items():
            spec = FieldSpec(
                name=name,
                type=config["type"],
                required=bool(config.get("required", False)),
                aliases=tuple(config.get("aliases", ())),
                values=tuple(config.get("values", ())),
                label=config.get("label"),
                unit=config.get("unit"),
                synonyms=tuple((str(raw), str(value)) for raw, value in (config.get("synonyms") or {}).items()),
                on_invalid=config.get("on_invalid", "reject"),
            )
            for raw, value in spec.synonyms:
                if spec.type == "enum" and value not in spec.values:
                    self.error(f"synonym {raw!r} of field {name!r} names {value!r}, which is not one of its values",
                               ("fields", name, "synonyms", raw), f"values: {', '.join(spec.values)}")
            default = None
            if config.get("default") is not None:
                try:
                    default = make_coercer(spec)(config["default"])
                except ValueError as problem:
                    self.error(f"default of field {name!r}: {problem}", ("fields", name, "default"))
            spec = FieldSpec(**{**spec.__dict__, "default": default})
            slot = self.new_slot(name)
            nullable = not (spec.required or spec.default is not None)
            self.scope[name] = Symbol(name, FIELD_TYPES.get(spec.type, spec.type), nullable, slot.local, values=spec.values)
            specs.append(spec)
        if "orders" in self.data:
            self.order_policy, problems = compile_order_policy(self.data["orders"] or {}, self.functions, self.locate)
            self.diagnostics += problems
            for spec in order_fields(self.data["fields"]):
                slot = self.new_slot(spec.name)
                self.scope[spec.name] = Symbol(spec.name, spec.type, True, slot.local)
                specs.append(spec)
        id_field = self.ruleset.id_field
        if id_field not in self.data["fields"]:
            self.error(f"the id field {id_field!r} is not among the fields", ("fields",), "declare it, or set id_field")
        return specs

    # -- derived features -----------------------------------------------------
    def _derived(self) -> tuple[list, list]:
        configs = {name: ({"expr": c} if isinstance(c, str) else c) for name, c in (self.data.get("derive") or {}).items()}
        depends = {}
        for name, config in configs.items():
            if name in self.scope:
                self.error(f"derived feature {name!r} has the name of a field", ("derive", name))
            depends[name] = names_in(config.get("expr", "")) & set(configs)
        derived, lines, writes, cyclic = [], [], [], set()
        report = self._cycle_error("derive")

        def on_cycle(cycle: list[str]) -> None:
            cyclic.update(cycle)
            report(cycle)

        order = _topological(depends, on_cycle)
        for name in cyclic:  # reported once as a cycle, not again as unknown names
            self.scope[name] = Symbol(name, "any", True, "None")
        for name in order:
            if name in cyclic:
                continue
            slot = self.new_slot(name)
            if isinstance(self.data["derive"][name], str):  # short form: the value is the expression
                build = self._build({"id": name, name: configs[name]["expr"]}, ("derive",), slot)
                compiled = build.expression(name)
            else:
                build = self._build({"id": name, **configs[name]}, ("derive", name), slot)
                compiled = build.expression("expr")
            self.diagnostics += build.diagnostics
            self.scope[name] = Symbol(name, compiled.type, compiled.nullable, slot.local, inputs=compiled.reads)
            lines.append(f"{slot.local} = {compiled.code}")
            writes.append(slot)
            derived.append((name, slot, configs[name]))
        return derived, ([RowStep(lines, writes)] if lines else [])

    # -- history: the latest saved run, and managers' overrides -------------
    def _previous_run(self) -> dict[str, Slot]:
        """``previous_run.<scheme id>``: the customer's label in the latest saved run of
        this ruleset (``None`` without one), filled in by the engine when read."""
        if PREVIOUS in self.scope:
            section = "fields" if PREVIOUS in self.data["fields"] else "derive"
            self.error(f"{PREVIOUS!r} is a reserved name: it holds the latest saved run's labels", (section, PREVIOUS))
            return {}
        ids = dict.fromkeys(config["id"] for config in self.data["schemes"] if isinstance(config.get("id"), str))
        slots = {scheme_id: self.new_slot(f"{PREVIOUS}.{scheme_id}") for scheme_id in ids}
        attributes = {scheme_id: Symbol(scheme_id, "string", True, slot.local) for scheme_id, slot in slots.items()}
        self.scope[PREVIOUS] = Symbol(PREVIOUS, "outcome", False, "None", attributes)
        return slots

    def _overrides(self, schemes: list[SchemeInfo]) -> tuple[Overrides | None, dict[str, int]]:
        """The overrides file the ruleset names, checked, and a pin slot per pinned scheme."""
        named = overrides_path(self.ruleset)
        if named is None:
            return None, {}
        try:
            overrides = load_overrides(*named)
        except RulesetError as failure:
            self.diagnostics += failure.diagnostics
            return None, {}
        self.diagnostics += overrides.check({scheme.id: scheme.compiled.labels for scheme in schemes})
        pinned = {entry.scheme for entry in overrides.entries}
        return overrides, {scheme.id: self.new_slot(f"{scheme.id}.override").index for scheme in schemes if scheme.id in pinned}

    def _build(self, config: Mapping, path: tuple, outcome: Slot) -> SchemeBuild:
        build = SchemeBuild(
            config, path, outcome, self.scope, self.functions, self.namespace, self.new_slot, self.locate
        )
        build.vocabulary = self.vocabulary
        return build

    def _cycle_error(self, section: str):
        def report(cycle: list[str]) -> None:
            first = cycle[0]
            path = (section, first) if section == "derive" else ("schemes", self._scheme_index[first], "id")
            self.error(f"{'derived features' if section == 'derive' else 'schemes'} form a cycle: {' → '.join(cycle + [first])}", path)

        return report

    # -- schemes --------------------------------------------------------------
    def _schemes(self) -> tuple[list[SchemeInfo], dict[str, SchemeBuild]]:
        configs = self.data["schemes"]
        self._scheme_index = {}
        for index, config in enumerate(configs):
            scheme_id = config["id"]
            if scheme_id in self.scope or scheme_id in self._scheme_index:
                self.error(f"scheme id {scheme_id!r} is already used by a field, derived feature or scheme", ("schemes", index, "id"))
                continue
            self._scheme_index[scheme_id] = index
            kind = self.registry.kinds[config["kind"]]
            slot = self.new_slot(scheme_id)
            attributes = {
                name: Symbol(name, type_, nullable, f"{slot.local}[{position}]")
                for name, (position, type_, nullable) in OUTCOME_ATTRIBUTES.items()
            }
            for name, (type_, position) in kind.attributes.items():
                attributes[name] = Symbol(name, type_, True, f"{slot.local}[3][{position}]")
            self.scope[scheme_id] = Symbol(scheme_id, "outcome", False, slot.local, attributes)
        infos, builds = [], {}
        for scheme_id, index in self._scheme_index.items():
            config = configs[index]
            slot = self.scope[scheme_id]
            build = self._build(config, ("schemes", index), self.slots[int(slot.code[1:])])
            kind = self.registry.kinds[config["kind"]]
            try:
                compiled = kind.compile(build)
            except Exception as failure:  # a third-party kind's bug must name the kind, not crash
                origin = self.registry.origin("kind", kind.name)
                self.error(f"scheme kind {kind.name!r} (plugin {origin}) failed to compile: {failure}", ("schemes", index))
                continue
            self.diagnostics += build.diagnostics
            _add_labels(compiled, config.get("labels") or {})
            self.vocabulary.add_scheme(scheme_id, compiled.labels)
            infos.append(SchemeInfo(scheme_id, kind.name, config.get("label", scheme_id), build.outcome, compiled, build.reads))
            builds[scheme_id] = build
        return infos, builds

    def _order(self, schemes: list[SchemeInfo]) -> list[SchemeInfo]:
        by_id = {scheme.id: scheme for scheme in schemes}
        depends = {scheme.id: scheme.reads & set(by_id) for scheme in schemes}
        return [by_id[name] for name in _topological(depends, self._cycle_error("schemes"))]

    # -- rank and allocation --------------------------------------------------
    def _rank(self, rank_slot: Slot) -> tuple[SchemeBuild, PopulationStep]:
        keys = self.data.get("rank") or []
        # Keyed by list index, so each key's `by` is found (and located) at ("rank", i, "by").
        build = self._build({"id": "rank", **dict(enumerate(keys))}, ("rank",), rank_slot)
        lines, rank_keys = [], []
        for index, key in enumerate(keys):
            compiled = build.expression(index, "by")
            if compiled.type not in ("number", "integer", "string", "date", "boolean", "any", "none"):
                build.error(f"rank key `{key['by']}` gives a {compiled.type}, which has no order", index, "by")
            slot = build.slot(f"key{index}")
            lines.append(f"{slot.local} = {compiled.code}")
            rank_keys.append(RankKey(slot.index, key.get("order", "desc") == "desc", compiled.nullable))
        self.diagnostics += build.diagnostics
        if lines:
            build.row(lines, [self.slots[key.slot] for key in rank_keys])
        return build, PopulationStep(_ranker(rank_keys, rank_slot.index), "rank")

    def _allocation(self) -> tuple[SchemeInfo, SchemeBuild, dict[int, dict], dict[int, str]]:
        slot = self.new_slot("allocation")
        build = self._build(allocation_table.config(self.data), ("allocation",), slot)
        compiled = allocation_table.TABLE.compile(build)
        self.diagnostics += build.diagnostics
        info = SchemeInfo("allocation", "allocation", "allocation", slot, compiled, build.reads)
        return info, build, *allocation_table.plans(self.data)

    # -- code generation ------------------------------------------------------
    def _generate(self, steps: list) -> tuple[list, str]:
        stages, sources, pending = [], [], []
        for step in steps + [None]:
            if isinstance(step, RowStep):
                pending.append(step)
                continue
            if pending:
                name = f"_segment_{len(sources)}"
                sources.append(_segment_source(name, pending))
                stages.append(name)
                pending = []
            if step is not None:
                stages.append(step)
        source = "\n\n".join(sources)
        globals_ = {**self.namespace.values, "check_values": check_values}
        exec(compile(source, f"<plan {self.data['name']}>", "exec"), globals_)  # our own generated code
        return [globals_[s] if isinstance(s, str) else s for s in stages], source


def _segment_source(name: str, steps: list[RowStep]) -> str:
    body = [line for step in steps for line in step.lines]
    written = {slot.index: slot for step in steps for slot in step.writes}
    read = sorted(_slots_read(body) - set(written))
    lines = [f"def {name}(rows, as_of, failed):", "    for vals in rows:", "        try:"]
    lines += [f"            s{i} = vals[{i}]" for i in read]
    lines += [f"            {line}" for line in body]
    lines += [f"            vals[{i}] = {slot.local}" for i, slot in sorted(written.items())]
    lines += [f"            check_values(vals, {tuple((i, slot.name) for i, slot in sorted(written.items()))!r})"]
    lines += ["        except Exception as error:", "            failed.append((vals, error))"]
    return "\n".join(lines)


@dataclass(frozen=True)
class RankKey:
    slot: int
    descending: bool
    nullable: bool


def _plan_reads(source: str, stages: list) -> set[int]:
    """The slots a plan reads: in its generated code, and those its population steps say."""
    return _slots_read(source.splitlines()).union(*(stage.reads for stage in stages if isinstance(stage, PopulationStep)))


def _slots_read(lines: list[str]) -> set[int]:
    """Slots the statements read: the ``s<N>`` names, found by Python's own tokenizer so
    that text inside string literals (``region == 's9'``) is never taken for a name."""
    tokens = tokenize.generate_tokens(io.StringIO("\n".join(line.strip() for line in lines)).readline)
    return {int(token.string[1:]) for token in tokens if token.type == tokenize.NAME and SLOT_NAME.fullmatch(token.string)}


def _ranker(keys: list[RankKey], rank_slot: int):
    """Rank customers by the keys; missing values last, ties in input order."""

    def run(rows: list[list]) -> None:
        for position, row in enumerate(_ordered(rows, keys) if keys else rows, 1):
            row[rank_slot] = position

    return run


def _ordered(rows: list[list], keys: list[RankKey]) -> list[list]:
    """One sort on the first key; only runs of tied values are sorted by the next keys.

    Python's sort is stable (``reverse`` included) and fastest on plain values, so
    this beats sorting on tuples; ties on the first key are usually rare.
    """
    key, rest = keys[0], keys[1:]
    slot = key.slot
    if key.nullable:
        known = [row for row in rows if row[slot] is not None]
        missing = [row for row in rows if row[slot] is None]
    else:
        known, missing = list(rows), []
    getter = itemgetter(slot)
    known.sort(key=getter, reverse=key.descending)
    if not rest:
        return known + missing
    for start, end in _tied_runs(list(map(getter, known))):
        known[start:end] = _ordered(known[start:end], rest)
    return known + (_ordered(missing, rest) if len(missing) > 1 else missing)


def _tied_runs(values: list) -> list[list[int]]:
    """``[start, end)`` of each run of equal neighbours in a sorted list.

    The comparison of neighbours runs in C (``map``/``compress``); Python only walks
    the ties, so a list with few ties costs little more than the sort.
    """
    runs: list[list[int]] = []
    for index in compress(range(1, len(values)), map(eq, values, islice(values, 1, None))):
        if runs and runs[-1][1] == index:
            runs[-1][1] = index + 1
        else:
            runs.append([index - 1, index + 1])
    return runs


def _add_labels(compiled: CompiledScheme, given: Mapping[str, Any]) -> None:
    """A scheme's ``labels:``: the ruleset's words win over the kind's, for label ids and tags alike.

    The label ids it lists also declare the scheme's grade order, best first (then the
    kind's other labels in its order): a ``rules`` scheme that checks an exception
    first (``C`` when lapsed, then ``S``, ``A``…) still has S, A, B, C as its grades
    for reports, call lists and ``backtest``'s monotone check."""
    listed = {key: label for key, label in given.items() if key in compiled.labels}
    compiled.labels = {**listed, **{key: label for key, label in compiled.labels.items() if key not in listed}}
    compiled.tag_labels = {**compiled.tag_labels, **{key: label for key, label in given.items() if key not in compiled.labels}}


def _topological(depends: dict[str, set[str]], on_cycle) -> list[str]:
    """Declared order, moved only as far as dependencies require."""
    done: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            on_cycle(trail[trail.index(name) : -1])
            return
        state[name] = "active"
        for dependency in sorted(depends[name] - {name}, key=list(depends).index):
            visit(dependency, trail + [dependency])
        if name in depends[name]:
            on_cycle([name])
        state[name] = "done"
        done.append(name)

    for name in depends:
        visit(name, [name])
    return done
