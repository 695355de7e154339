"""What a ruleset's ``orders:`` says beyond column names, and the checks of the files.

Real order exports hold cancelled, refunded and test orders, repeat lines, and
several orders of one customer on one day.  A ruleset states what counts:

``orders.where``
    An expression over the order columns (``status not in ['已取消', '退款']``);
    rows for which it does not hold are excluded before aggregation and counted.
    It reads the known order columns typed (``amount`` a number, ``order_date`` a
    date) and any other column of the file as text, found by its name or the
    headers given under ``orders.columns``.
``orders.count``
    ``orders`` (the default: every row is an order) or ``days`` (the days a customer
    ordered on: several orders on one day are one purchase) for ``order_count`` and
    what is computed from it (``avg_order_value``, ``orders_per_year``).

The checks here make a run stop (exit 2) rather than evaluate with order features
silently missing: a ruleset with ``orders:`` needs ``--orders``, and an order feature
the ruleset reads needs the columns it is computed from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tierkit.errors import Diagnostic, InputError, Position, TierkitError
from tierkit.expr.compiler import ExpressionDiagnostic, Namespace, Symbol, compile_expression, compile_with, names_in
from tierkit.io.tables import normalise_header
from tierkit.plan.order_features import FEATURE_COLUMNS
from tierkit.plan.order_features import ORDER_COLUMNS, REQUIRED_COLUMNS

COUNTS = ("orders", "days")


@dataclass(frozen=True)
class OrderWhere:
    """A compiled ``orders.where``: ``keeps(values, as_of)`` over the row's order values."""

    source: str
    extra: tuple[str, ...]  # the columns it reads beyond the known order columns, read as text
    keeps: Callable[[Mapping[str, Any], dt.date], bool]
    functions: Mapping[str, Any]
    position: Position | None = None

    def condition(self, values: Mapping[str, Any], as_of: dt.date):
        """The condition as an IR expression (:mod:`tierkit.ir`) over the IR expression
        of each order column's value (``values``), for the SQL engines."""
        from tierkit.ir import nodes as ir  # the SQL back end, loaded by the SQL engines only
        from tierkit.ir.from_expr import IrEmitter

        scope = {name: dataclasses.replace(symbol, code=values[name])
                 for name, symbol in order_scope(self.extra).items() if name != "as_of"}
        scope["as_of"] = Symbol("as_of", "date", False, ir.Lit(as_of, ir.DType.DATE))
        return compile_with(self.source, scope, self.functions, IrEmitter(), self.position).code


@dataclass(frozen=True)
class OrderPolicy:
    """The ruleset's ``orders:``: more headers per column, the row filter, what one purchase is."""

    aliases: Mapping[str, Any]
    where: OrderWhere | None = None
    count: str = "orders"

    def extra_headers(self, headers: tuple, file: str) -> dict[str, str]:
        """The header of each column ``where`` reads beyond the known ones; an
        :class:`InputError` naming the column when the file lacks it."""
        if self.where is None:
            return {}
        found = {}
        for name in self.where.extra:
            named = self.aliases.get(name) or ()
            wanted = {normalise_header(alias) for alias in (name, *([named] if isinstance(named, str) else named))}
            header = next((header for header in headers if normalise_header(header) in wanted), None)
            if header is None:
                raise InputError(
                    f"orders.where reads column {name!r}, which the order file lacks (columns found: {', '.join(headers)})",
                    Position(file),
                    "name its header under orders.columns",
                )
            found[name] = header
        return found


def order_scope(extra) -> dict[str, Symbol]:
    """The names ``orders.where`` may read, each with the code of its value in ``_o``."""
    scope = {
        name: Symbol(name, type_, name not in REQUIRED_COLUMNS, f"_o[{name!r}]") for name, (type_, _) in ORDER_COLUMNS.items()
    }
    scope.update({name: Symbol(name, "string", True, f"_o[{name!r}]") for name in extra})
    scope["as_of"] = Symbol("as_of", "date", False, "as_of")
    return scope


def compile_order_policy(data: Mapping[str, Any], functions, locate) -> tuple[OrderPolicy, list[Diagnostic]]:
    """The policy of a ruleset's ``orders:`` section, and what is wrong with it."""
    aliases = data.get("columns") or {}
    count = data.get("count", "orders")
    source = data.get("where")
    if source is None:
        return OrderPolicy(aliases, None, count), []
    position = locate(("orders", "where"))
    extra = tuple(sorted(names_in(source) - set(ORDER_COLUMNS) - set(functions) - {"as_of"}))
    namespace = Namespace()
    try:
        compiled = compile_expression(source, order_scope(extra), functions, namespace, position)
    except ExpressionDiagnostic as error:
        return OrderPolicy(aliases, None, count), [error.diagnostic]
    if compiled.type not in ("boolean", "any"):
        return OrderPolicy(aliases, None, count), [
            Diagnostic(f"orders.where must be a condition, not a {compiled.type}", position, "error")
        ]
    test = eval(f"lambda _o, as_of: {compiled.code}", dict(namespace.values))  # noqa: S307 (compiled, checked code)
    keeps = OrderWhere(source, extra, lambda values, as_of: test(values, as_of) is True, functions, position)
    return OrderPolicy(aliases, keeps, count), []


def require_order_file(ruleset, orders) -> None:
    """A ruleset with ``orders:`` reads order features: without an order file they would
    all be missing, so the run stops and says which option is missing."""
    if "orders" in ruleset.data and not orders:
        raise TierkitError(
            f"ruleset {ruleset.name!r} reads order history (orders:), but no order file was given: add --orders ORDERS"
        )


def check_feature_columns(read_features, columns: tuple[str, ...], headers, file: str) -> None:
    """An order feature the ruleset reads needs the order columns it is computed from;
    ``columns`` are the order columns found, ``headers`` the file's headers."""
    for feature in read_features:
        needed = FEATURE_COLUMNS.get(feature, ())
        if needed and not set(needed) <= set(columns):
            raise InputError(
                f"order feature {feature!r} needs order columns {', '.join(needed)}; "
                f"found {', '.join(columns)} (headers: {', '.join(map(str, headers))})",
                Position(file),
                "name their headers under orders.columns, or drop the feature from the ruleset",
            )
