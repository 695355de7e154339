"""A ruleset as one program: typed input, then each scheme's logic.

The input step is IR too: the raw columns with their declared types, each field's
default as a :class:`~.ir.Coalesce`, each derived feature as a binding, and the
required fields, whose missing values reject the row (rejected rows are listed,
never dropped).  Every lowering runs the input bindings first, then each scheme's
bindings and outputs; output columns are named ``<scheme>.<output>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from tierkit.expr.compiler import ExpressionDiagnostic
from tierkit.ir import nodes as ir
from tierkit.ir.from_expr import scope_of, to_ir

from .kinds import KINDS

HERE = Path(__file__).resolve().parent
RULESET = HERE.parents[1] / "rulesets" / "b2b-manufacturing.yaml"
PARETO = HERE / "b2b-pareto.yaml"
FIELD_TYPES = {"number": ir.DType.FLOAT, "integer": ir.DType.INT, "boolean": ir.DType.BOOL, "string": ir.DType.STR,
               "enum": ir.DType.STR, "date": ir.DType.DATE}


@dataclass(frozen=True)
class Program:
    raw: tuple[tuple[str, ir.DType], ...]  # the input columns and their declared types
    key: str  # the customer id column
    inputs: tuple[ir.Let, ...]  # fields with defaults, then derived features
    required: tuple[str, ...]
    schemes: tuple[ir.Logic, ...]

    def scheme_columns(self) -> tuple[list[tuple[str, ir.Expr]], list[tuple[str, ir.Expr]]]:
        """Every scheme's bindings as ``<scheme>__<name>`` and outputs as ``<scheme>.<output>``,
        their references renamed to match: the column names both lowerings use."""
        lets, outputs = [], []
        for logic in self.schemes:
            rename = lambda name, scheme=logic.scheme: f"{scheme}__{name}"  # noqa: E731
            lets += [(f"{logic.scheme}__{let.name}", ir.rename_refs(let.expr, rename))
                     for let in (*logic.lets, *logic.reason_lets())]
            outputs += [(f"{logic.scheme}.{name}", ir.rename_refs(expr, rename)) for name, expr in logic.outputs()]
        return lets, outputs


def load(schemes: tuple[str, ...] = ("grade", "pareto")) -> Program:
    """The b2b-manufacturing ruleset's fields and derived features, and ``schemes``
    from it and from the pareto extension beside this module."""
    base = yaml.safe_load(RULESET.read_text(encoding="utf-8"))
    extension = yaml.safe_load(PARETO.read_text(encoding="utf-8"))
    fields = base["fields"]
    raw = tuple((name, FIELD_TYPES[spec["type"]]) for name, spec in fields.items())
    inputs, columns = [], {}
    for name, spec in fields.items():
        dtype = FIELD_TYPES[spec["type"]]
        column = ir.Column(name, dtype)
        value = ir.Coalesce((column, ir.Lit(spec["default"], dtype))) if "default" in spec else column
        inputs.append(ir.Let(name, value))
        nullable = not spec.get("required") and "default" not in spec
        columns[name] = ("enum" if spec["type"] == "enum" else spec["type"], nullable, ir.Ref(name, dtype))
    for name, spec in base.get("derive", {}).items():
        try:
            expr, nullable, _reads = to_ir(spec["expr"], scope_of(columns))
        except ExpressionDiagnostic:  # a feature through a function call (days_since): no IR node yet
            continue
        inputs.append(ir.Let(name, expr))
        columns[name] = (_tierkit_type(expr.dtype), nullable, ir.Ref(name, expr.dtype))
    # Schemes read the typed table: its columns, no longer the input bindings.
    scope = scope_of({name: (t, nullable, ir.Column(name, ref.dtype)) for name, (t, nullable, ref) in columns.items()})
    configs = {s["id"]: s for s in base["schemes"] + extension["schemes"]}
    labels = {f"field.{name}": spec.get("label", name) for name, spec in fields.items()}
    labels.update({f"field.{name}": spec.get("label", name) for name, spec in base.get("derive", {}).items()})
    logics = tuple(KINDS[configs[s]["kind"]](s, configs[s], scope, labels) for s in schemes)
    required = tuple(name for name, spec in fields.items() if spec.get("required"))
    return Program(raw, "id", tuple(inputs), required, logics)


def _tierkit_type(dtype: ir.DType) -> str:
    return {v: k for k, v in FIELD_TYPES.items() if k != "enum"}.get(dtype, "any")
