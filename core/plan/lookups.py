"""Lookup tables a ruleset declares (``lookups:``), read in expressions as ``lookup(name, key)``.

A consultant's rules often depend on a small table the client keeps beside the data:
the tier of each province's cities, the discount of each channel.  A table is written
inline (``lookups: {channel_discount: {online: 0.1, store: 0}}``) or kept in a file next
to the ruleset (``lookups: {city_tier: {file: city_tier.csv, key: province, value:
tier}}``, any format a reader knows).  ``lookup('city_tier', province)`` gives the value
for the key (compared as text), missing when the key is missing or not in the table.
Values are numbers when every value of every table reads as one, text otherwise, so a
lookup has one type on every engine.  The table name must be a declared table, checked
when the ruleset is validated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import nodes

from tierkit.errors import TierkitError
from tierkit.expr.compiler import did_you_mean, parse
from tierkit.io.tables import RowError, read_rows
from tierkit.ir import nodes as ir
from tierkit.registry import Function

Report = Callable[[str, tuple], None]


def load_lookups(data: Mapping[str, Any], folder: Path, registry, error: Report) -> dict[str, dict[str, Any]]:
    """Each table by name, keys as text; its values numbers when all values are numbers."""
    tables: dict[str, dict[str, str]] = {}
    for name, table in (data or {}).items():
        if isinstance(table, Mapping) and "file" in table:
            tables[name] = _read_file(name, table, folder, registry, error)
        else:
            tables[name] = {_key(key): _key(value) for key, value in (table or {}).items()}
    numbers = all(_is_number(value) for table in tables.values() for value in table.values())
    if numbers:
        return {name: {key: float(value) for key, value in table.items()} for name, table in tables.items()}
    return tables


def _key(value: Any) -> str:
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return text.strip()


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _read_file(name: str, table: Mapping[str, Any], folder: Path, registry, error: Report) -> dict[str, str]:
    path = folder / str(table["file"])
    key, value = table.get("key"), table.get("value")
    try:
        rows = [raw for _number, raw in read_rows(path, registry) if not isinstance(raw, RowError)]
    except TierkitError as failure:
        error(f"lookup table {name!r}: {failure}", ("lookups", name, "file"))
        return {}
    headers = list(rows[0]) if rows else []
    missing = [column for column in (key, value) if column not in headers]
    if missing:
        error(f"lookup table {name!r}: {path.name} has no column {missing[0]!r} (columns: {', '.join(headers)})",
              ("lookups", name))
        return {}
    return {_key(raw[key]): _key(raw[value]) for raw in rows if raw[key] is not None and raw[value] is not None}


def lookup_function(tables: dict[str, dict[str, Any]]) -> Function:
    """``lookup(name, key)`` over ``tables``, in Python and SQL."""
    numbers = any(isinstance(value, float) for table in tables.values() for value in table.values())

    def lookup(name: str, key: str) -> Any:
        return tables[name].get(key)

    def sql(args, dtype):
        """The table as a CASE over the key (every key a text literal)."""
        values = [(ir.Compare("==", args[1], ir.lit(key)), ir.lit(float(value) if numbers else value))
                  for key, value in tables[args[0].value].items()]
        return ir.Case(tuple(values), ir.Lit(None, dtype)) if values else ir.Lit(None, dtype)

    return Function("lookup", lookup, ("string", "string"), "number" if numbers else "string",
                    "The value of a key in one of the ruleset's lookup tables; missing when the key is not there.", sql=sql)


def check_lookup_calls(data: Any, tables: Mapping[str, Any], error: Report, path: tuple = ()) -> None:
    """Every ``lookup(...)`` in the ruleset's expressions names a declared table, as a text constant."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            check_lookup_calls(value, tables, error, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            check_lookup_calls(value, tables, error, (*path, index))
    elif isinstance(data, str) and "lookup" in data:
        try:
            tree = parse(data)
        except Exception:  # not an expression, or one whose error is reported where it is compiled
            return
        for call in [tree, *tree.find_all(nodes.Call)]:
            if isinstance(call, nodes.Call) and isinstance(call.node, nodes.Name) and call.node.name == "lookup":
                first = call.args[0] if call.args else None
                known = ", ".join(tables) or "none declared"
                if not (isinstance(first, nodes.Const) and isinstance(first.value, str)):
                    error(f"lookup(...) must name a lookup table as text (tables: {known})", path)
                elif first.value not in tables:  # a misspelt name: say which, and the nearest declared one
                    close = did_you_mean(first.value, tables)
                    error(f"no lookup table {first.value!r}{f' ({close})' if close else ''} (tables: {known})", path)
