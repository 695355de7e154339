"""The two designs end to end: CSV in, Parquet or JSON Lines out, reasons as codes.

* :func:`run_duckdb` (design a): DuckDB reads the CSV with the declared types
  (``read_csv(types=…, store_rejects=true)``: a cell that does not parse lands in
  DuckDB's reject table, counted as rejected), runs the lowered query and writes the
  file with ``COPY``, all in one statement.
* :func:`run_python` (design b): the ``csv`` module and per-type converters, the
  compiled row steps and population steps, ``pyarrow`` for Parquet and ``json`` for
  JSON Lines.

Rows missing a required field are rejected on both (counted, written nowhere else).
Both return ``(rows written, rows rejected)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from sqlglot import exp

from tierkit.ir import nodes as ir
from tierkit.ir import to_sql

from . import lowering
from .program import Program

CONVERT = {ir.DType.FLOAT: float, ir.DType.INT: int, ir.DType.STR: str, ir.DType.DATE: dt.date.fromisoformat,
           ir.DType.BOOL: {"true": True, "false": False, "True": True, "False": False, "1": True, "0": False}.__getitem__}


def header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle))


def csv_source(program: Program, path: Path) -> exp.Expr:
    """DuckDB's typed CSV read of ``path``, bad cells to the reject table; a declared
    field the file lacks is a missing value of its type."""
    present = set(header(path))
    types = exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(name), expression=exp.Literal.string(to_sql.TYPES[t]))
                                    for name, t in program.raw if name in present])
    options = {"header": exp.true(), "types": types, "store_rejects": exp.true()}
    read = exp.Anonymous(this="read_csv", expressions=[exp.Literal.string(str(path)),
                                                       *(exp.EQ(this=exp.column(k), expression=v) for k, v in options.items())])
    absent = [exp.cast(exp.Null(), to_sql.TYPES[t]).as_(name, quoted=True) for name, t in program.raw if name not in present]
    return exp.select("*", *absent).from_(read).subquery() if absent else read


def accepted(program: Program, source: exp.Expr) -> exp.Expr:
    """The rows of ``source`` whose required fields are present."""
    return exp.select("*").from_(source, copy=False).where(_complete(program), copy=False).subquery(copy=False)


def _complete(program: Program) -> exp.Expr:
    return exp.and_(*(exp.Not(this=exp.Is(this=exp.column(name, quoted=True), expression=exp.Null())) for name in program.required))


def copy_to(query: exp.Expr, output: Path) -> exp.Copy:
    """DuckDB's ``COPY (query) TO 'output' (FORMAT …)``, the format by the file's suffix."""
    fmt = "JSON" if output.suffix == ".jsonl" else "PARQUET"
    return exp.Copy(this=query.subquery(copy=False), kind=False, files=[exp.Literal.string(str(output))],
                    params=[exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var(fmt))])


def run_duckdb(program: Program, source: Path, output: Path) -> tuple[int, int]:
    import duckdb

    connection = duckdb.connect()
    typed = csv_source(program, source)
    query = lowering.program_query(program, accepted(program, typed), "duckdb", json_reasons=output.suffix == ".jsonl")
    written = connection.execute(to_sql.to_sql(copy_to(query, output), "duckdb")).fetchone()[0]
    bad_lines = connection.execute("SELECT count(DISTINCT line) FROM reject_errors").fetchone()[0]
    incomplete = exp.select(exp.func("count", exp.Star())).from_(typed).where(exp.not_(_complete(program)))
    return written, bad_lines + connection.execute(to_sql.to_sql(incomplete, "duckdb")).fetchone()[0]


def read_csv(program: Program, path: Path) -> tuple[dict[str, list], int, int]:
    """Typed columns ``raw:<name>`` of the accepted rows, their count, and the rejected count."""
    types = dict(program.raw)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        converters = [(index, CONVERT[types[name]]) for index, name in enumerate(header) if name in types]
        required = [header.index(name) for name in program.required]
        names = [f"raw:{header[index]}" for index, _ in converters]
        rows, rejected = [], 0
        for record in reader:
            try:
                if any(not record[index] for index in required):
                    raise ValueError("a required field is missing")
                rows.append([convert(record[index]) if record[index] != "" else None for index, convert in converters])
            except (ValueError, KeyError, IndexError):
                rejected += 1
    columns = {name: list(values) for name, values in zip(names, zip(*rows))} if rows else {name: [] for name in names}
    columns.update({f"raw:{name}": [None] * len(rows) for name in types if f"raw:{name}" not in columns})
    return columns, len(rows), rejected


def output_names(program: Program) -> list[str]:
    return [program.key] + [name for name, _ in program.scheme_columns()[1]]


def run_python(program: Program, source: Path, output: Path) -> tuple[int, int]:
    columns, n, rejected = read_csv(program, source)
    columns = lowering.run(program, columns, n)
    columns[program.key] = columns[f"raw:{program.key}"] if program.key not in columns else columns[program.key]
    if output.suffix == ".jsonl":
        write_jsonl(program, columns, n, output)
    else:
        write_parquet(program, columns, output)
    return n, rejected


def write_parquet(program: Program, columns: dict[str, list], output: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = {ir.DType.FLOAT: pa.float64(), ir.DType.INT: pa.int64(), ir.DType.BOOL: pa.bool_(), ir.DType.STR: pa.string(),
             ir.DType.DATE: pa.date32(), ir.DType.NULL: pa.null()}
    types = {program.key: ir.DType.STR} | {name: expr.dtype for name, expr in program.scheme_columns()[1]}
    table = pa.table({name: pa.array(columns[name], type=arrow[types[name]]) for name in output_names(program)})
    pq.write_table(table, output)


def reason_lists(logic: ir.Logic, columns: dict[str, list], n: int) -> list[list[dict]]:
    """Each row's reasons as ``{"code", **params}`` dicts, from the flat columns."""
    prefix, stored = logic.scheme, logic.param_columns()
    rows: list[list[dict]] = [[] for _ in range(n)]
    for index, reason in enumerate(logic.reasons):
        given = columns[f"{prefix}.r{index}"]
        params = [(name, value.value if isinstance(value, ir.Lit) else columns[f"{prefix}.{stored[index, name][0]}"])
                  for name, value in reason.params]
        for row in range(n):
            if given[row]:
                rows[row].append({"code": reason.code, **{k: v if not isinstance(v, list) else v[row] for k, v in params}})
    return rows


def write_jsonl(program: Program, columns: dict[str, list], n: int, output: Path) -> None:
    reasons = {logic.scheme: reason_lists(logic, columns, n) for logic in program.schemes}
    heads = [(logic.scheme, [f"{logic.scheme}.{name}" for name in ("label", "score", *dict(logic.attributes))])
             for logic in program.schemes]
    key = columns[program.key]
    with open(output, "w", encoding="utf-8") as handle:
        for row in range(n):
            record = {program.key: key[row]}
            for scheme, names in heads:
                record.update({name: columns[name][row] for name in names})
                record[f"{scheme}.reasons"] = reasons[scheme][row]
            handle.write(json.dumps(record, ensure_ascii=False))
            handle.write("\n")
