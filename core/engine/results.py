"""Results files: the flat layout every engine writes, and reading results back.

A results file holds one row per evaluated customer, best rank first.  Its columns
(:class:`ResultsSchema`, built from the plan and the language, the one definition
every engine writes) are, in this order:

=============================  ===========================================================
``id``                         the customer's id, typed as the id field
``rank``                       int64, 1 = best
``features.<name>``            every field, then every derived feature, typed by the field
                               type or the type its expression compiled to: number ->
                               double, integer -> int64, boolean -> bool, date -> date32,
                               string and enum -> string, list -> list<string>; a derived
                               feature of no single type (``any``) -> JSON text
``outcomes.<id>.label``        string, per scheme (in the plan's order)
``outcomes.<id>.display``      string: the label's text in the file's language
``outcomes.<id>.score``        double
``outcomes.<id>.tags``         list<string>
``outcomes.<id>.reasons``      JSON text of the reason records; only when the engine
                               explains (the Python engine does, the SQL engines do not)
``outcomes.<id>.override``     JSON text of the override that replaced the outcome; only
                               for schemes an overrides file pins, null where none did
``allocation.rule``            string: the allocation rule's id
``allocation.<key>``           each key the allocation plans set, localized, typed by its
                               values over every plan: string, int64, double (integers and
                               decimals), bool, list<string>; JSON text when they mix types
                               or are objects or lists of other things
=============================  ===========================================================

JSON text columns are strings (in Parquet with the field metadata ``tierkit.type: json``).
The file's meta (ruleset, fingerprint, as-of date, language, engine, counts) is the
first line of a JSON Lines file, and ``<file>.meta.json`` beside a CSV or Parquet file.

CSV files hold the same columns as text: lists joined with ``"; "``, reasons as their
JSON objects joined with ``"; "``, an override as ``outcomes.<id>.override.<key>``
columns (as :func:`flatten` writes any record).  JSON Lines files hold the nested
records :meth:`tierkit.engine.evaluation.Evaluation.record` makes.

:func:`read_results` reads any of them back into those nested records, typed by the
plan; :func:`read_evaluation` into an :class:`tierkit.engine.evaluation.Evaluation` whose rows are
the plan's slot lists, so that briefs, reports and call lists print from a results file
exactly as from a run (reasons come from the file, when it has them).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierkit.engine.evaluation import BoundPlan, Evaluation, derived_types, worded_plan
from tierkit.errors import InputError, Position, TierkitError
from tierkit.io.tables import compact_json, json_default
from tierkit.io.outputs import meta_path, unquote_cell
from tierkit.ruleset.labels import localize_all
from tierkit.plan.compiler import Plan

PYARROW_HINT = "pip install 'tierkit[duckdb]'"
COLUMN_TYPES = ("double", "int64", "bool", "date32", "string", "list<string>", "json")
FIELD_COLUMN_TYPES = {
    "number": "double", "integer": "int64", "boolean": "bool", "date": "date32", "string": "string", "enum": "string",
    "list": "list<string>",
}
LIST_SEPARATOR = "; "
RESULTS_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
JSON_METADATA = {b"tierkit.type": b"json"}
# Parquet row groups: at most this many rows, or this many bytes of Arrow data
GROUP_ROWS = 65_536
GROUP_BYTES = 4 << 20
CHUNK_ROWS = 64  # rows turned into Arrow at a time (a record being written is tens of kilobytes of objects)
EPOCH = dt.date(1970, 1, 1)


def import_pyarrow():
    """``(pyarrow, pyarrow.parquet)``, or a one-line error saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise TierkitError(f"Parquet files need pyarrow: {PYARROW_HINT}") from None
    return pyarrow, pyarrow.parquet


def write_meta(path: str | os.PathLike, meta: Mapping[str, Any], **facts: Any) -> None:
    """The meta of a written results file, beside it, with the file's size and hash
    (``file``) and any other ``facts`` about how it was written: a results file that
    is not the one the meta describes (cut short, replaced) is refused when read."""
    written = {"bytes": os.path.getsize(path), "sha256": file_hash(path), **facts}
    text = json.dumps({**meta, "file": written}, ensure_ascii=False, indent=2, default=json_default) + "\n"
    meta_path(path).write_text(text, encoding="utf-8")


def file_hash(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class ResultColumn:
    """One column of a results file: its ``name`` (``features.revenue``), its ``type``
    (one of :data:`COLUMN_TYPES`) and ``path``, where its value sits in a record
    (``("features", "revenue")``)."""

    name: str
    type: str
    path: tuple[str, ...]

    @property
    def arrow(self):
        """The column's Arrow type (needs pyarrow)."""
        return arrow_type(self.type)


def arrow_type(column_type: str):
    pa, _ = import_pyarrow()
    return {
        "double": pa.float64(), "int64": pa.int64(), "bool": pa.bool_(), "date32": pa.date32(), "string": pa.string(),
        "list<string>": pa.list_(pa.field("element", pa.string())), "json": pa.string(),
    }[column_type]


def column_type(tierkit_type: str) -> str:
    """The column type of a field or expression type; JSON text for ``any``."""
    return FIELD_COLUMN_TYPES.get(tierkit_type, "json")


def feature_types(plan: Plan, derived: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every feature of a record, fields then derived features, with its tierkit type
    (``derived`` overrides the types the plan compiled, e.g. with an engine's own)."""
    types = {spec.name: spec.type for spec in plan.fields}
    compiled = derived_types(plan)
    for name, _slot, _config in plan.derived:
        types[name] = (derived or {}).get(name) or compiled.get(name, "any")
    return types


def allocation_plans(plan: Plan, lang: str) -> dict[int | None, dict]:
    """The localized allocation plan of each rule index, as records carry it (``rule``
    first): the rules in order, ``-1`` the default, ``None`` when nothing matched."""
    plans = {index: {"rule": plan.allocation_rule_ids.get(index), **localize_all(worded_plan(plan, values), lang)}
             for index, values in plan.plans.items()}
    plans[None] = {"rule": None}
    return plans


def value_type(values: Iterable[Any]) -> str:
    """The column type that holds every one of ``values`` (None aside)."""
    present = [value for value in values if value is not None]
    if not present:
        return "string"
    if all(isinstance(value, bool) for value in present):
        return "bool"
    if all(isinstance(value, int) and not isinstance(value, bool) for value in present):
        return "int64"
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in present):
        return "double"
    if all(isinstance(value, str) for value in present):
        return "string"
    if all(isinstance(value, dt.date) and not isinstance(value, dt.datetime) for value in present):
        return "date32"
    if all(isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value) for value in present):
        return "list<string>"
    return "json"


class ResultsSchema:
    """The columns of a results file for one plan and language (see the module docstring).

    ``reasons`` says whether the engine writes reason records; ``derived`` gives the
    types of derived features when an engine's compiler knows them better.  ``columns``
    are the :class:`ResultColumn` in order; :meth:`flat` turns a record into column
    values, :meth:`record` column values back into a record; :meth:`allocation_values`
    gives each allocation rule's column values, for engines that pick them by rule.
    """

    def __init__(self, plan: Plan, lang: str, reasons: bool = True, derived: Mapping[str, str] | None = None):
        self.plan, self.lang, self.reasons = plan, lang, reasons
        id_spec = plan.fields[plan.id_index]
        columns = [ResultColumn("id", column_type(id_spec.type), ("id",)), ResultColumn("rank", "int64", ("rank",))]
        self.features = [ResultColumn(f"features.{name}", column_type(kind), ("features", name))
                         for name, kind in feature_types(plan, derived).items()]
        columns += self.features
        for scheme in plan.schemes:
            prefix = f"outcomes.{scheme.id}"
            parts = [("label", "string"), ("display", "string"), ("score", "double"), ("tags", "list<string>")]
            parts += [("reasons", "json")] if reasons else []
            parts += [("override", "json")] if scheme.id in plan.pin_slots else []
            columns += [ResultColumn(f"{prefix}.{part}", kind, ("outcomes", scheme.id, part)) for part, kind in parts]
        self.plans = allocation_plans(plan, lang)
        keys = list(dict.fromkeys(key for values in self.plans.values() for key in values if key != "rule"))
        self.allocation = [ResultColumn("allocation.rule", "string", ("allocation", "rule"))] + [
            ResultColumn(f"allocation.{key}", value_type(values.get(key) for values in self.plans.values()), ("allocation", key))
            for key in keys
        ]
        columns += self.allocation
        self.columns: list[ResultColumn] = columns
        self.by_name = {column.name: column for column in columns}
        self._has_default = bool((plan.ruleset.data.get("allocation") or {}).get("default"))

    def __iter__(self) -> Iterator[ResultColumn]:
        return iter(self.columns)

    def pairs(self) -> list[tuple[str, Any]]:
        """``(column, Arrow type)`` in order (needs pyarrow)."""
        return [(column.name, column.arrow) for column in self.columns]

    def arrow_schema(self):
        """The Arrow schema of a results file (needs pyarrow); JSON text columns are
        marked with the field metadata ``tierkit.type: json``."""
        return arrow_schema(self.columns)

    # -- records to columns ----------------------------------------------------
    def flat(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as column values: typed Python values, JSON text for JSON columns."""
        return {column.name: encode(column.type, _get(record, column.path)) for column in self.columns}

    def allocation_values(self) -> dict[int | None, dict[str, Any]]:
        """The allocation columns' values by rule index (``-1`` the default, ``None`` when
        nothing matched), as :meth:`flat` writes them: an engine that knows each
        customer's rule index joins these instead of computing them."""
        return {index: {column.name: encode(column.type, values.get(column.path[1])) for column in self.allocation}
                for index, values in self.plans.items()}

    # -- columns to records ----------------------------------------------------
    def record(self, values: Mapping[str, Any], allocation: dict | None = None) -> dict:
        """The record of one row of column values (as :meth:`flat` writes them, or as a
        Parquet file or SQL engine gives them back); ``allocation`` when already known."""
        features = {column.path[1]: feature_value(column.type, values.get(column.name)) for column in self.features}
        outcomes = {}
        for scheme in self.plan.schemes:
            prefix = f"outcomes.{scheme.id}."
            score = values.get(prefix + "score")
            shown = outcomes[scheme.id] = {
                "label": values.get(prefix + "label"),
                "display": values.get(prefix + "display"),
                "score": None if score is None else float(score),
                "tags": list(values.get(prefix + "tags") or ()),
            }
            for part in ("reasons", "override"):
                value = values.get(prefix + part)
                if value is not None:
                    shown[part] = json.loads(value) if isinstance(value, str) else value
        rank = values.get("rank")
        return {
            "id": values.get("id"),
            "features": features,
            "outcomes": outcomes,
            "rank": None if rank is None else int(rank),
            "allocation": allocation if allocation is not None else self.allocation_of(values),
        }

    def allocation_of(self, values: Mapping[str, Any]) -> dict:
        """The allocation of a row: the plan of its rule when the row's values are that
        plan's (so numbers keep their exact type), else what the row says."""
        rule = values.get("allocation.rule")
        for index in self.rule_indexes(rule):
            plan = self.plans[index]
            if all(encode(column.type, plan.get(column.path[1])) == _comparable(column.type, values.get(column.name))
                   for column in self.allocation[1:]):
                return dict(plan)
        shown = {"rule": rule}
        for column in self.allocation[1:]:
            value = values.get(column.name)
            if value is not None:
                shown[column.path[1]] = decode(column.type, value)
        return shown

    def rule_indexes(self, rule: str | None) -> list[int | None]:
        """The rule indexes whose id is ``rule`` (the default's, or none matched, for None)."""
        indexes = [index for index, plan in self.plans.items() if index is not None and plan["rule"] == rule]
        if rule is None:
            indexes = [index for index in indexes if index != -1 or self._has_default] + [None]
        return indexes

    def rule_index(self, allocation: Mapping[str, Any]) -> int | None:
        """The rule index of a record's allocation (its plan decides between equal ids)."""
        indexes = self.rule_indexes(allocation.get("rule"))
        return next((index for index in indexes if self.plans[index] == allocation), indexes[0] if indexes else None)


class SchemaRecords:
    """Records (an iterator, read once) with the :class:`ResultsSchema` they follow, as
    typed writers (Parquet, a database table) need it: ``records.schema``; and the
    run's rejected rows, for writers that list them (a workbook's rejected sheet)."""

    def __init__(self, schema: ResultsSchema, records: Iterable[dict], rejected: Iterable = ()):
        self.schema = schema
        self.rejected = list(rejected)
        self._records = iter(records)

    def __iter__(self) -> SchemaRecords:
        return self

    def __next__(self) -> dict:
        return next(self._records)


def results_schema(plan: Plan, lang: str, reasons: bool = True, derived: Mapping[str, str] | None = None) -> ResultsSchema:
    """The results-file columns of ``plan`` in ``lang``: what every engine writes.

    ``reasons=False`` for engines that do not explain (the SQL engines); ``derived``
    maps derived features to the type an engine compiled them to, when it differs from
    what the plan knows.  ``results_schema(plan, lang).pairs()`` lists ``(column, Arrow
    type)``; ``.allocation_values()`` the allocation columns by rule index.
    """
    return ResultsSchema(plan, lang, reasons, derived)


def arrow_schema(columns: Iterable[ResultColumn]):
    pa, _ = import_pyarrow()
    return pa.schema([
        pa.field(column.name, column.arrow, metadata=JSON_METADATA if column.type == "json" else None) for column in columns
    ])


def encode(kind: str, value: Any) -> Any:
    """A value as a column of type ``kind`` holds it."""
    if value is None:
        return None
    if kind == "json":
        return compact_json(value)
    if kind == "double":
        return float(value)
    if kind == "int64":
        return int(value)
    if kind == "list<string>":
        return [str(item) for item in value]
    return value


def decode(kind: str, value: Any) -> Any:
    """A column value as records hold it (JSON text parsed; lists as lists)."""
    if value is None:
        return None
    if kind == "json":
        return json.loads(value) if isinstance(value, str) else value
    if kind == "double":
        return float(value)
    if kind == "int64":
        return int(value)
    if kind == "list<string>":
        return list(value)
    if kind == "date32":
        return _date(value)
    return value


def _comparable(kind: str, value: Any) -> Any:
    """A value read back, in the form :func:`encode` gives (lists as lists, numbers as
    floats or ints), so that it compares with a plan's encoded value."""
    if value is None:
        return None
    if kind == "list<string>":
        return list(value)
    if kind == "double":
        return float(value)
    if kind == "int64":
        return int(value)
    if kind == "json" and not isinstance(value, str):
        return compact_json(value)
    return value


def feature_value(kind: str, value: Any) -> Any:
    """A feature value as the Python engine holds it: list fields are tuples."""
    if value is None:
        return None
    if kind == "list<string>":
        return tuple(value)
    return decode(kind, value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _get(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = record
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


# ---------------------------------------------------------------------------- flat text (CSV, XLSX)


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested record as one level of dotted columns (``outcomes.grade.label``).

    Lists become one ``"; "``-joined cell, since a spreadsheet cell holds one value.
    """
    flat: dict[str, Any] = {}
    _flatten_into(flat, record, prefix)
    return flat


def _flatten_into(flat: dict[str, Any], record: Mapping[str, Any], prefix: str) -> None:
    for key, value in record.items():
        if isinstance(value, dict):
            _flatten_into(flat, value, f"{prefix}{key}.")
        elif isinstance(value, list | tuple):
            flat[f"{prefix}{key}"] = LIST_SEPARATOR.join(_list_item_text(item) for item in value)
        else:
            flat[f"{prefix}{key}"] = value


def _list_item_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dt.date):
        return item.isoformat()
    return compact_json(item)


def cell_text(value: Any) -> str:
    """The text of a flattened value in a CSV cell, as the csv module writes it."""
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------- writing Parquet


def flat_columns(records: Iterable[Mapping[str, Any]]) -> tuple[list[ResultColumn], list[dict]]:
    """Records without a plan at hand: the results layout, each column typed by its values."""
    rows = [_flat_by_shape(record) for record in records]
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = [ResultColumn(name, value_type(row.get(name) for row in rows), tuple(name.split("."))) for name in names]
    for column in columns:
        for row in rows:
            row[column.name] = encode(column.type, row.get(column.name))
    return columns, rows


def _flat_by_shape(record: Mapping[str, Any]) -> dict[str, Any]:
    """``features``, ``allocation`` and each of ``outcomes`` spread into columns; anything
    deeper (reasons, an override, a nested plan value) stays one value."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict) and key == "outcomes":
            for scheme, outcome in value.items():
                for part, item in (outcome.items() if isinstance(outcome, dict) else [("", outcome)]):
                    flat[f"{key}.{scheme}.{part}" if part else f"{key}.{scheme}"] = item
        elif isinstance(value, dict):
            for name, item in value.items():
                flat[f"{key}.{name}"] = item
        else:
            flat[key] = value
    return flat


def write_parquet(path: Path, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]) -> None:
    """Records as a Parquet file of the results layout; meta to ``<path>.meta.json``.

    Records of an evaluation carry their plan's :class:`ResultsSchema` (``records.schema``)
    and stream through in row groups (:func:`row_groups`); other records are typed by
    their values, so they are read whole first.
    """
    pa, pq = import_pyarrow()
    schema = getattr(records, "schema", None)
    if schema is None:
        columns, rows = flat_columns(records)
        flat: Iterator[dict] = iter(rows)
    else:
        columns, flat = schema.columns, map(schema.flat, records)
    arrow = arrow_schema(columns)
    with pq.ParquetWriter(path, arrow, memory_pool=pa.system_memory_pool()) as writer:
        for group in row_groups(flat, arrow):
            writer.write_table(group)
    write_meta(path, meta)


def row_groups(rows: Iterator[dict], arrow) -> Iterator[Any]:
    """Flat rows as Arrow tables of ``arrow`` schema, one per Parquet row group: at most
    :data:`GROUP_ROWS` rows or about :data:`GROUP_BYTES` of Arrow data, whichever comes
    first (a row of reasons in words is kilobytes: 65,536 of them held as Python dicts
    took gigabytes).  No rows: one empty table, so the file has its schema.

    Rows become Arrow :data:`CHUNK_ROWS` at a time, as JSON text read by Arrow's JSON
    reader with the schema: pyarrow's conversion from Python objects imports pandas
    whenever it is installed, which alone outweighs a row group.  A date column is
    written as days since 1970, as a ``date32`` holds it.  Arrow's memory comes from the
    system allocator, which gives freed pages back (its default pool keeps them).
    """
    pa, _ = import_pyarrow()
    from pyarrow import json as arrow_json

    dates = [field.name for field in arrow if field.type == pa.date32()]
    parse = arrow_json.ParseOptions(explicit_schema=arrow, unexpected_field_behavior="error")
    held: list = []
    count = size = 0
    wrote = False
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        for row in chunk:
            for name in dates:
                if row[name] is not None:
                    row[name] = (_date(row[name]) - EPOCH).days
        text = "\n".join(map(compact_json, chunk)).encode()
        read = arrow_json.ReadOptions(use_threads=False, block_size=len(text) + 1)
        table = arrow_json.read_json(pa.BufferReader(text), read_options=read, parse_options=parse,
                                     memory_pool=pa.system_memory_pool())
        held.append(pa.Table.from_arrays(table.columns, schema=arrow))
        count, size = count + table.num_rows, size + table.nbytes
        if count >= GROUP_ROWS or size >= GROUP_BYTES:
            yield pa.concat_tables(held)
            held, count, size, wrote = [], 0, 0, True
    if held or not wrote:
        yield pa.concat_tables(held) if held else arrow.empty_table()


# ---------------------------------------------------------------------------- reading results back


def read_results(path: str | os.PathLike, plan: Plan, check: bool = True) -> tuple[dict, list[dict]]:
    """The meta and the records of a results file (``.jsonl``, ``.csv`` or ``.parquet``,
    the last two with ``<file>.meta.json``), as :meth:`Evaluation.record` makes them,
    typed by ``plan``; reasons only when the file has them.

    ``check``: the file must have been made with this ruleset (name and fingerprint).
    """
    file = os.fspath(path)
    suffix = Path(file).suffix.lower()
    kind = RESULTS_SUFFIXES.get(suffix)
    if kind is None:
        known = ", ".join(sorted(RESULTS_SUFFIXES))
        shown = repr(suffix) if suffix else "(no extension)"
        raise InputError(f"no results reader for {shown} files (known extensions: {known})", Position(file))
    if not os.path.isfile(file):
        raise InputError("file not found" if not os.path.exists(file) else "not a file", Position(file))
    if kind == "jsonl":
        return _read_jsonl(file, plan, check)
    meta, written = _sidecar(file)
    if check:
        check_meta(meta, plan, file)
    schema = ResultsSchema(plan, _language(meta, plan))
    if kind == "csv":
        return meta, _counted(meta, _read_csv(file, schema, bool(written.get("spreadsheet_safe"))), file)
    return meta, _counted(meta, _read_parquet(file, schema), file)


def _counted(meta: Mapping[str, Any], records: list[dict], file: str) -> list[dict]:
    """The records, when they are as many as the meta says the run evaluated."""
    evaluated = meta.get("evaluated")
    if isinstance(evaluated, int) and evaluated != len(records):
        raise InputError(f"holds {len(records):,} results where its meta says {evaluated:,} were evaluated: "
                         "the file is cut short or not the one the meta describes", Position(file))
    return records


def _language(meta: Mapping[str, Any], plan: Plan) -> str:
    return str(meta.get("lang") or plan.ruleset.data.get("locale", "en"))


def check_meta(meta: Mapping[str, Any], plan: Plan, file: str) -> None:
    """A results file of another ruleset, or of another version of it, is an error: its
    labels, rules and plans need not be the ruleset's."""
    ruleset = plan.ruleset
    name, fingerprint = meta.get("ruleset"), meta.get("fingerprint")
    if name != ruleset.name:
        raise InputError(f"these are results of ruleset {name!r}, not {ruleset.name!r}", Position(file))
    if fingerprint != ruleset.fingerprint:
        raise InputError(
            f"these results were made with another version of {name!r} (fingerprint {_short(fingerprint)}, "
            f"{meta.get('ruleset_version')}; the ruleset's is {_short(ruleset.fingerprint)}, {ruleset.version})",
            Position(file), "evaluate again, or give the ruleset the results were made with",
        )


def _short(fingerprint: Any) -> str:
    return str(fingerprint or "none").split(":")[-1][:12]


def _sidecar(file: str) -> tuple[dict, dict]:
    """The run's meta and what it says of the file (``file``: size, hash), checked against it."""
    sidecar = meta_path(file)
    if not sidecar.is_file():
        raise InputError(f"no {sidecar.name} beside it: a results file's meta (ruleset, as-of date, language) is kept there",
                         Position(file))
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON: {error}", Position(str(sidecar))) from None
    if not isinstance(meta, dict):
        raise InputError("expected a JSON object", Position(str(sidecar)))
    written = meta.pop("file", None)
    if not isinstance(written, dict) or "sha256" not in written:
        raise InputError(f"{sidecar.name} does not record the file's size and hash: write the results again", Position(file))
    if written.get("bytes") != os.path.getsize(file) or written["sha256"] != file_hash(file):
        raise InputError(f"does not match {sidecar.name} (size or hash differs): the file is cut short or was "
                         "replaced after the run", Position(file))
    return meta, written


def _read_jsonl(file: str, plan: Plan, check: bool) -> tuple[dict, list[dict]]:
    """``{"meta": …}`` on the first line, then one record per line."""
    meta, schema, plans, records = None, None, {}, []
    with open(file, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if meta is None:
                meta = _jsonl_meta(file, number, line)
                if check:
                    check_meta(meta, plan, file)
                schema = ResultsSchema(plan, _language(meta, plan))
                plans = {index: json.loads(compact_json(values)) for index, values in schema.plans.items()}
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("expected a JSON object")
                records.append(_typed_record(record, schema, plans))
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise InputError(f"not a result record: {error}", Position(file, number)) from None
    if meta is None:
        raise InputError("empty file: not a results file", Position(file))
    return meta, _counted(meta, records, file)


def _jsonl_meta(file: str, number: int, line: str) -> dict:
    try:
        first = json.loads(line)
    except json.JSONDecodeError:
        first = None
    if not (isinstance(first, dict) and isinstance(first.get("meta"), dict)):
        raise InputError('the first line is not the results\' meta ({"meta": …}): not a results file', Position(file, number))
    return first["meta"]


def _typed_record(record: dict, schema: ResultsSchema, plans: dict) -> dict:
    """A JSON record typed by the plan: dates from ISO text, list fields as tuples (numbers
    stay as written); the allocation the plan's own values when it says the same."""
    features = record.get("features") or {}
    outcomes = {}
    for scheme in schema.plan.schemes:
        outcome = dict((record.get("outcomes") or {})[scheme.id])
        outcome["tags"] = list(outcome.get("tags") or ())
        outcomes[scheme.id] = outcome
    allocation = record.get("allocation") or {}
    index = next((index for index in schema.rule_indexes(allocation.get("rule")) if plans[index] == allocation), _NONE)
    return {
        "id": _json_value(schema.by_name["id"].type, record.get("id")),
        "features": {column.path[1]: _json_value(column.type, features.get(column.path[1])) for column in schema.features},
        "outcomes": outcomes,
        "rank": record.get("rank"),
        "allocation": dict(schema.plans[index]) if index is not _NONE else allocation,
    }


_NONE = object()


def _json_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "date32":
        return _date(value)
    if kind == "list<string>":
        return tuple(value)
    return value


def _read_parquet(file: str, schema: ResultsSchema) -> list[dict]:
    _, pq = import_pyarrow()
    try:
        table = pq.read_table(file)
    except Exception as error:  # pyarrow reports a damaged file with several exception types
        raise InputError(f"not a readable Parquet file: {error}", Position(file)) from None
    _require_columns(file, schema, table.column_names)
    return [schema.record(values) for values in table.to_pylist()]


def _require_columns(file: str, schema: ResultsSchema, names: Iterable[str]) -> None:
    names = set(names)
    required = [column.name for column in schema.columns
                if column.path[0] in ("id", "rank", "features") or column.path[-1] in ("label", "display", "score", "tags")
                or column.name == "allocation.rule"]
    missing = [name for name in required if name not in names]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"no column {missing[0]!r}{more}: not results of this ruleset", Position(file))


def _read_csv(file: str, schema: ResultsSchema, quoted: bool) -> list[dict]:
    """``quoted``: text cells were made spreadsheet-safe, and are read back as they were."""
    with open(file, encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        headers = reader.fieldnames or []
        records, checked = [], False
        for cells in reader:
            if not checked:
                _require_columns(file, schema, headers)
                checked = True
            if quoted:
                cells = {key: unquote_cell(text) if isinstance(text, str) else text for key, text in cells.items()}
            try:
                records.append(_csv_record(cells, schema))
            except (ValueError, TypeError) as error:
                raise InputError(f"not a result row: {error}", Position(file, reader.line_num)) from None
    return records


def _csv_record(cells: Mapping[str, str | None], schema: ResultsSchema) -> dict:
    values: dict[str, Any] = {}
    for column in schema.columns:
        if column.path[0] == "allocation":
            continue
        part = column.path[-1] if column.path[0] == "outcomes" else None
        if part == "reasons":
            text = cells.get(column.name)
            values[column.name] = None if text is None else compact_json(parse_reasons(text))
        elif part == "override":
            override = _csv_override(cells, column.name)
            values[column.name] = None if override is None else compact_json(override)
        else:
            values[column.name] = from_text(column, cells.get(column.name) or "")
    return schema.record(values, _csv_allocation(cells, schema))


def from_text(column: ResultColumn, text: str) -> Any:
    """A CSV cell as the column's value (as :meth:`ResultsSchema.flat` gives it)."""
    kind = column.type
    if text == "":
        return None
    if kind == "double":
        return float(text)
    if kind == "int64":
        try:
            return int(text)
        except ValueError:
            number = float(text)
            if not number.is_integer():
                raise
            return int(number)
    if kind == "bool":
        try:
            return {"true": True, "false": False, "1": True, "0": False}[text.strip().lower()]
        except KeyError:
            raise ValueError(f"column {column.name!r}: {text!r} is not true or false") from None
    if kind == "date32":
        return dt.date.fromisoformat(text[:10])
    if kind == "list<string>":
        return text.split(LIST_SEPARATOR)
    if kind == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return compact_json(text)
        return text
    return text


def parse_reasons(text: str) -> list[dict]:
    """Reason records from a CSV cell: a JSON array, or JSON objects joined with ``"; "``."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    decoder, reasons, at = json.JSONDecoder(), [], 0
    while at < len(text):
        reason, at = decoder.raw_decode(text, at)
        reasons.append(reason)
        if text.startswith(LIST_SEPARATOR, at):
            at += len(LIST_SEPARATOR)
        elif at < len(text):
            raise ValueError(f"unexpected text after a reason: {text[at:at + 20]!r}")
    return reasons


OVERRIDE_LISTS = ("add_tags", "remove_tags", "computed_tags")


def _csv_override(cells: Mapping[str, str | None], name: str) -> dict | None:
    """An override written as ``<name>.<key>`` columns (or as one JSON cell)."""
    whole = cells.get(name)
    if whole:
        return json.loads(whole)
    prefix = name + "."
    parts = {key[len(prefix):]: text or "" for key, text in cells.items() if key and key.startswith(prefix)}
    if not any(parts.values()):
        return None
    return {key: (text.split(LIST_SEPARATOR) if text else []) if key in OVERRIDE_LISTS else (text or None)
            for key, text in parts.items()}


def _csv_allocation(cells: Mapping[str, str | None], schema: ResultsSchema) -> dict:
    """The plan of the row's rule when its cells are that plan's text, else the cells typed."""
    given = {key: text or "" for key, text in cells.items() if key and key.startswith("allocation.")}
    rule = given.get("allocation.rule") or None
    for index in schema.rule_indexes(rule):
        plan = schema.plans[index]
        expected = {key: cell_text(value) for key, value in flatten({"allocation": plan}).items()}
        if all(expected.get(key, "") == given.get(key, "") for key in {*expected, *given}):
            return dict(plan)
    shown: dict[str, Any] = {"rule": rule}
    for key, text in given.items():
        if key == "allocation.rule" or not text:
            continue
        column = schema.by_name.get(key)
        if column is not None:
            shown[column.path[1]] = decode(column.type, from_text(column, text))
        else:  # a nested plan value, written as deeper columns
            *parents, last = key.split(".")[1:]
            node = shown
            for parent in parents:
                node = node.setdefault(parent, {})
            node[last] = text
    return shown


# ---------------------------------------------------------------------------- an evaluation from a results file


@dataclass
class RecordedEvaluation(Evaluation):
    """An evaluation read back from a results file: rows are the plan's slot lists (each
    outcome ``(label, score, tags, None)``, the allocation ``(rule, None, (), (position,))``),
    so that every builder works on it as on a run; reasons and overrides come from the
    file.  ``source`` is the file's meta."""

    source: dict = field(default_factory=dict)
    _recorded: dict = field(default_factory=dict, repr=False)

    @property
    def engine(self) -> str:
        return str(self.source.get("engine") or "python")

    @property
    def recorded_lang(self) -> str | None:
        return self.source.get("lang")

    def explained(self, row: list, scheme, lang: str, reasons: str = "words") -> tuple[list[dict] | None, dict | None]:
        recorded, override = self._recorded.get(id(row), {}).get(scheme.id, (None, None))
        if recorded is None or reasons == "none" or lang != self.recorded_lang:
            return None, override
        return [dict(reason) for reason in recorded], override

    def allocation_reasons(self, row: list, lang: str | None) -> None:
        """None: a results file records the allocation's rule and plan, not its reasons."""
        return None

    def missing_reasons(self, lang: str) -> tuple[str, str] | None:
        """Why outcomes have no reasons in ``lang``: ``("engine", name)`` when the engine
        that made the file gives none, ``("language", lang)`` when they were recorded in
        another language, None when the file has them."""
        if not any(reasons is not None for extras in self._recorded.values() for reasons, _ in extras.values()):
            return ("engine", self.engine) if self.rows else None
        if lang != self.recorded_lang:
            return "language", str(self.recorded_lang)
        return None

    def meta(self, lang: str, read: int | None = None) -> dict:
        return dict(self.source)

    @property
    def read(self) -> int:
        """Rows the run read, from the file's meta."""
        return int(self.source.get("read", len(self.rows)))

    @property
    def rejected_count(self) -> int:
        """Customer rows the run rejected, from the file's meta."""
        return int(self.source.get("rejected", 0))

    @property
    def all_rejected_count(self) -> int:
        """Rows the run rejected, order rows included (as ``Job.rejected`` counts them)."""
        orders = self.source.get("orders") or {}
        return self.rejected_count + int(orders.get("rejected", 0)) + int(orders.get("unknown_customer", 0))


def evaluation_from_records(plan: Plan, meta: Mapping[str, Any], records: Iterable[Mapping[str, Any]]) -> RecordedEvaluation:
    """An evaluation whose rows hold what the records say (see :class:`RecordedEvaluation`)."""
    try:
        as_of = dt.date.fromisoformat(str(meta.get("as_of")))
    except ValueError:
        raise TierkitError(f"the results' meta has no as-of date (as_of: {meta.get('as_of')!r})") from None
    lang = str(meta.get("lang") or plan.ruleset.data.get("locale", "en"))
    schema = ResultsSchema(plan, lang)
    evaluation = RecordedEvaluation(BoundPlan(plan, as_of), [], source=dict(meta))
    fields = [(index, spec.name) for index, spec in enumerate(plan.fields)]
    derived = [(slot.index, name) for name, slot, _config in plan.derived]
    for record in records:
        row: list = [None] * plan.slot_count
        features = record["features"]
        for index, name in fields + derived:
            row[index] = features.get(name)
        extras = {}
        for scheme in plan.schemes:
            outcome = record["outcomes"][scheme.id]
            row[scheme.slot.index] = (outcome["label"], outcome["score"], tuple(outcome["tags"]), None)
            extras[scheme.id] = (outcome.get("reasons"), outcome.get("override"))
        row[plan.rank_slot.index] = record["rank"]
        allocation = record["allocation"]
        row[plan.allocation.slot.index] = (allocation.get("rule"), None, (), (schema.rule_index(allocation),))
        evaluation.rows.append(row)
        evaluation._recorded[id(row)] = extras
    return evaluation


def read_evaluation(path: str | os.PathLike, plan: Plan) -> RecordedEvaluation:
    """A results file of ``plan``'s ruleset as an evaluation (see :func:`read_results`)."""
    meta, records = read_results(path, plan)
    return evaluation_from_records(plan, meta, records)
