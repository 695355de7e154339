"""The SQL engines a ruleset runs on besides Python: DuckDB (embedded) and Spark.

An :class:`SqlEngine` is the little the SQL back end needs of an engine: run a
query and fetch its rows, and register rows made in Python (order aggregates from a
database, saved labels, test inputs) as a named relation.  DuckDB runs in this
process; Spark runs through PySpark, ``local[2]`` by default or on the cluster a
``--spark-master`` URL names.  Both are optional dependencies (``pip install
tierkit[sql]``): asking for an engine that is not installed is a one-line error.
"""

from __future__ import annotations

import csv
import inspect
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierkit.errors import TierkitError
from tierkit.engine.sql.dialect import DUCKDB, SPARK, Dialect

if TYPE_CHECKING:
    from tierkit.io.tables import DelimitedHeader

ENGINES = ("python", "duckdb", "spark")
BATCH_ROWS = 4_096  # rows fetched at a time for Python to write


class NotNative(Exception):
    """The engine cannot read a file as tierkit reads it (broken quoting, short or long
    rows, bytes that are not UTF-8, a duplicate JSON key, deep nesting): tierkit's own
    readers read it instead, and reject exactly the rows they reject."""


class SqlEngine:
    """One open connection or session; ``dialect`` is how its SQL is spelt."""

    dialect: Dialect
    # what the engine raises when evaluating one row fails (an integer past 64 bits)
    row_errors: tuple[type[Exception], ...] = ()

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def row_error(self, error: Exception) -> bool:
        """Whether ``error`` (one of ``row_errors``) is a row's own failure, to be found
        and rejected, rather than the query's."""
        return True

    def error_line(self, error: Exception) -> str:
        """One line saying why a query failed on a row (its first line)."""
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__

    def register_udfs(self, udfs: Mapping[str, Any]) -> None:
        """Register the plain Python functions a query calls (``ir.PyCall`` nodes by UDF
        name), each once per connection, before the query runs."""
        for name, node in udfs.items():
            if name not in self._udfs:
                self._register_udf(name, node)
                self._udfs.add(name)

    def _register_udf(self, name: str, node) -> None:
        raise NotImplementedError

    def register_rows(self, name: str, columns: Mapping[str, str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows from Python as the relation ``name``; ``columns`` maps each column to its
        tierkit type (``string``, ``number``, ``integer``, ``boolean``, ``date``, ``list``)."""
        raise NotImplementedError

    def register_file(self, name: str, path: str, file_format: str) -> dict[str, str]:
        """A CSV/TSV (all cells as text), Parquet or JSON Lines file as the relation ``name``,
        with ``_row``: the row number a user sees (a CSV's header is row 1).  Returns
        each source column's type: ``text``, or the tierkit type of a typed column.

        ``path`` is a file name, never a pattern.  Raises :class:`NotNative` for a file
        the engine does not read row for row as tierkit does; a header naming a column
        twice is an :class:`tierkit.errors.InputError`, as on the Python engine."""
        raise NotImplementedError

    def materialize(self, name: str, sql: str) -> None:
        """Compute ``sql`` once and keep it as the relation ``name``."""
        raise NotImplementedError

    def view(self, name: str, sql: str) -> None:
        """``sql`` as the relation ``name``, computed each time it is read."""
        raise NotImplementedError

    def row_batches(self, sql: str) -> Iterator[list[tuple]]:
        """The rows of ``sql`` as lists of at most about :data:`BATCH_ROWS` tuples of Python
        values, without holding them all at once."""
        raise NotImplementedError

    def write_parquet(self, sql: str, path: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBEngine(SqlEngine):
    dialect = DUCKDB

    def __init__(self, database: str = ":memory:", config: Mapping[str, Any] | None = None):
        duckdb = _require("duckdb", "duckdb")
        self.connection = duckdb.connect(database, config=dict(config or {}))
        self._duckdb = duckdb
        # InvalidInputException: a Python function (a UDF) raised on a row
        self.row_errors = (duckdb.OutOfRangeException, duckdb.ConversionException, duckdb.InvalidInputException)
        self._udfs: set[str] = set()

    def row_error(self, error: Exception) -> bool:
        """DuckDB says invalid input of other things too: only a Python function's exception is a row's."""
        return not isinstance(error, self._duckdb.InvalidInputException) or UDF_ERROR in str(error)

    def error_line(self, error: Exception) -> str:
        """A Python function's exception as Python says it (``ValueError: …``)."""
        line = super().error_line(error)
        return line.split(UDF_ERROR, 1)[1] if UDF_ERROR in line else line

    def _register_udf(self, name: str, node) -> None:
        """A scalar UDF, which DuckDB calls row by row within each vector of rows: faster
        than an Arrow UDF's batches turned into Python lists (0.05 against 0.28 s for
        200,000 calls of a one-line function), and without importing pyarrow (0.5 s)."""
        call = node.call

        def one(*values):
            return call(*values)

        one.__signature__ = inspect.Signature(  # DuckDB counts the parameters
            [inspect.Parameter(f"a{index}", inspect.Parameter.POSITIONAL_ONLY) for index in range(len(node.args))])

        def sql_type(dtype):
            type_ = IR_TYPES[dtype.value]
            return self.connection.type("VARCHAR[]" if type_ == "list" else self.dialect.type_of(type_))

        self.connection.create_function(name, one, [sql_type(arg.dtype) for arg in node.args], sql_type(node.dtype),
                                        type="native", null_handling="special", side_effects=False)

    def rows(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def register_rows(self, name: str, columns: Mapping[str, str], rows: Sequence[Sequence[Any]]) -> None:
        pyarrow = _require("pyarrow", "duckdb")
        names = list(columns)
        arrays = [
            pyarrow.array([row[index] for row in rows], type=_arrow_type(pyarrow, columns[column]))
            for index, column in enumerate(names)
        ]
        table = pyarrow.Table.from_arrays(arrays, names=names)
        self.connection.register(name, table)

    def register_file(self, name: str, path: str, file_format: str) -> dict[str, str]:
        duckdb = _require("duckdb", "duckdb")
        literal = self.dialect.string(_literal_pattern(str(path)))
        relation = self.dialect.quote(name)
        if file_format in ("csv", "tsv"):
            select = self._csv_select(literal, _header(path, file_format))
        elif file_format == "parquet":
            source = f"read_parquet({literal}, file_row_number=true)"
            select = f"SELECT file_row_number + 1 AS _row, * EXCLUDE (file_row_number) FROM {source}"
        else:
            source = f"read_json({literal}, format='newline_delimited')"
            select = f"SELECT row_number() OVER () AS _row, * FROM {source}"
        try:  # read now, so that a file DuckDB reads otherwise than tierkit is known before any work
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS {select}")
        except duckdb.Error as error:
            raise NotNative(str(error)) from None
        described = self.connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {column: _duckdb_type(type_) for column, type_, *_ in described if column != "_row"}

    def _csv_select(self, literal: str, header: DelimitedHeader) -> str:
        """Cells as text after the header tierkit read, strictly: no sniffing (which costs
        more than linear time on a long cell), a short or long row, broken quoting or a
        line longer than the Python reader's longest cell is an error (then tierkit
        reads the file, and rejects what it rejects)."""
        s, q = self.dialect.string, self.dialect.quote
        columns = ", ".join(f"{s(f'c{index}')}: 'VARCHAR'" for index in range(len(header.names)))
        source = (
            f"read_csv({literal}, auto_detect=false, header=false, skip={header.line}, delim={s(header.delimiter)}, "
            f"quote='\"', escape='\"', columns={{{columns}}}, strict_mode=true, null_padding=false, "
            f"max_line_size={csv.field_size_limit()})"
        )
        named = ", ".join(f"c{index} AS {q(column)}" for index, column in enumerate(header.names) if column)
        return f"SELECT row_number() OVER () + {header.line} AS _row, {named} FROM {source}"

    def materialize(self, name: str, sql: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {self.dialect.quote(name)} AS {sql}")

    def view(self, name: str, sql: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {self.dialect.quote(name)} AS {sql}")

    def row_batches(self, sql: str) -> Iterator[list[tuple]]:
        """Fetched as Python rows, without pyarrow (whose import was a tenth of the 600-row
        command); nothing else may run on the connection until the last batch is read."""
        result = self.connection.execute(sql)
        while batch := result.fetchmany(BATCH_ROWS):
            yield batch

    def write_parquet(self, sql: str, path: str) -> None:
        self.connection.execute(f"COPY ({sql}) TO {self.dialect.string(str(path))} (FORMAT parquet)")

    def close(self) -> None:
        self.connection.close()


class SparkEngine(SqlEngine):
    dialect = SPARK

    def __init__(self, master: str | None = None, config: Mapping[str, str] | None = None):
        pyspark_sql = _require("pyspark.sql", "spark")
        builder = pyspark_sql.SparkSession.builder.appName("tierkit").master(master or "local[2]")
        settings = {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            # a compiled ruleset is one query of many layers; the analyzer's default 100
            # passes are too few for some rulesets
            "spark.sql.analyzer.maxIterations": "1000",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "4",
            "spark.driver.memory": "4g",
            **(config or {}),
        }
        for key, value in settings.items():
            builder = builder.config(key, value)
        # Python UDFs run in this interpreter, where tierkit and the plugins are installed
        # (PySpark reads the variable when the session starts; a value already set is kept)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        self.session = builder.getOrCreate()
        self.session.sparkContext.setLogLevel("ERROR")
        captured = _require("pyspark.errors.exceptions.captured", "spark")
        errors = _require("pyspark.errors", "spark")
        # PythonException: a Python function (a pandas UDF) raised on a row
        self.row_errors = (captured.ArithmeticException, captured.NumberFormatException, errors.PythonException)
        self._udfs: set[str] = set()

    def error_line(self, error: Exception) -> str:
        """A Python function's exception as the last line of its traceback (``ValueError: …``)."""
        parameters = error.getMessageParameters() if hasattr(error, "getMessageParameters") else None
        traceback = ((parameters or {}).get("traceback") or "").strip()
        return traceback.splitlines()[-1] if traceback else super().error_line(error)

    def _register_udf(self, name: str, node) -> None:
        """A pandas UDF: one call of the function per row of each batch, missing values
        (NaN, NaT, None) read as None and whole numbers of an integer argument as int."""
        functions = _require("pyspark.sql.functions", "spark")
        pandas = _require("pandas", "spark")
        module = sys.modules.get(getattr(node.function, "__module__", ""))
        if module is not None and not module.__name__.startswith("tierkit."):  # a plugin's, maybe not importable by the workers
            _require("pyspark.cloudpickle", "spark").register_pickle_by_value(module)
        readers = [_pandas_reader(pandas, arg.dtype.value) for arg in node.args]

        def batch(*series):
            values = [list(map(read, column)) for read, column in zip(readers, series)]
            return pandas.Series(node.call_rows(values), dtype=object)

        self.session.udf.register(name, functions.pandas_udf(batch, _spark_type(IR_TYPES[node.dtype.value])))

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.session.sql(sql).collect()]

    def register_rows(self, name: str, columns: Mapping[str, str], rows: Sequence[Sequence[Any]]) -> None:
        schema = ", ".join(f"`{column}` {_spark_type(type_)}" for column, type_ in columns.items())
        frame = self.session.createDataFrame([tuple(row) for row in rows], schema=schema)
        frame.createOrReplaceTempView(name)

    def register_file(self, name: str, path: str, file_format: str) -> dict[str, str]:
        reader, literal = self.session.read, _literal_hadoop_pattern(str(path))
        if file_format in ("csv", "tsv"):
            header = _header(path, file_format)
            if header.line != 1:
                raise NotNative("blank lines before the header")
            schema = ", ".join(f"`c{index}` STRING" for index in range(len(header.names)))
            # FAILFAST: a short or long row or broken quoting is an error (then tierkit reads the file)
            frame = (reader.schema(schema).option("header", True).option("sep", header.delimiter).option("escape", '"')
                     .option("multiLine", True).option("mode", "FAILFAST").option("enforceSchema", True).csv(literal))
            frame = frame.select(*(frame[f"c{index}"].alias(column) for index, column in enumerate(header.names) if column))
            first = 2
        elif file_format == "parquet":
            frame, first = reader.parquet(literal), 1
        else:  # Spark's JSON reader keeps one of a key given twice, and reads NaN: tierkit's reads JSON Lines
            raise NotNative("JSON Lines")
        types = {field.name: _spark_source_type(field.dataType.simpleString()) for field in frame.schema.fields}
        if file_format in ("csv", "tsv"):
            types = dict.fromkeys(types, "text")
        # Spark numbers rows by partition and position: one ordered window gives 1, 2, 3...
        functions = _require("pyspark.sql.functions", "spark")
        frame = frame.withColumn("_tierkit_position", functions.monotonically_increasing_id())
        frame.createOrReplaceTempView(f"{name}_unnumbered")
        numbered = self.session.sql(
            f"SELECT row_number() OVER (ORDER BY _tierkit_position) + {first - 1} AS _row, * EXCEPT (_tierkit_position) "
            f"FROM {name}_unnumbered"
        )
        try:  # read now, so that a file Spark reads otherwise than tierkit is known before any work
            numbered = numbered.cache()
            numbered.count()
        except Exception as error:  # Spark reports malformed input with several exception types
            raise NotNative(str(error).splitlines()[0] if str(error) else type(error).__name__) from None
        numbered.createOrReplaceTempView(name)
        return types

    def materialize(self, name: str, sql: str) -> None:
        """Computed now and kept as a local checkpoint, which also cuts the query plan:
        a cached frame keeps its whole plan, so every later query on it (the counts, the
        rejected rows' reasons, the results written) has Spark's analyzer and optimizer
        walk a compiled ruleset's many layers again, most of the CPU of a run on a few
        thousand rows (a 600-row run of ``b2b-manufacturing`` in a warm session: 38 s of
        CPU with ``cache()``, 12 s so).  Like a cache, the rows live in the executors."""
        frame = self.session.sql(sql).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)

    def view(self, name: str, sql: str) -> None:
        self.session.sql(sql).createOrReplaceTempView(name)

    def row_batches(self, sql: str) -> Iterator[list[tuple]]:
        for batch in self.session.sql(sql).toArrow().to_batches(max_chunksize=BATCH_ROWS):
            yield list(zip(*(column.to_pylist() for column in batch.columns)))

    def write_parquet(self, sql: str, path: str) -> None:
        """Written by Spark itself into one part file (in order), moved to ``path``: the
        rows never pass through the driver's Python process."""
        target = Path(path)
        parts = target.with_name(target.name + ".parts")
        shutil.rmtree(parts, ignore_errors=True)
        self.session.sql(sql).coalesce(1).write.parquet(str(parts.absolute()))
        written = sorted(parts.glob("part-*.parquet"))
        if len(written) != 1:
            raise TierkitError(f"Spark wrote {len(written)} part files for {path}, expected one")
        written[0].replace(target)
        shutil.rmtree(parts)


def _header(path: str, file_format: str) -> DelimitedHeader:
    from tierkit.io.tables import delimited_header

    header = delimited_header(path, "\t" if file_format == "tsv" else None)
    if header is None or not any(header.names):
        raise NotNative("no one-line header")
    return header


def _literal_pattern(path: str) -> str:
    """A file name as a DuckDB pattern that matches only that file: DuckDB reads
    ``cust[1].csv`` as a glob matching ``cust1.csv``."""
    return "".join(f"[{char}]" if char in "*?[" else char for char in path)


def _literal_hadoop_pattern(path: str) -> str:
    """A file name as a Hadoop pattern (Spark's) that matches only that file.  A local
    path is made absolute here: Spark resolves a relative one against the directory its
    Java process started in, which need not be this process's (a session kept open)."""
    path = path if "://" in path else os.path.abspath(path)
    return "".join(f"\\{char}" if char in "*?[]{}\\" else char for char in path)


@dataclass(frozen=True)
class EngineChoice:
    """A SQL engine as a command chose it (``--engine``, ``--spark-master``,
    ``--spark-conf``, ``--memory-limit``): opened where a job runs and closed after it.
    It reads as its name, in messages and wherever an engine's name is compared."""

    name: str
    master: str | None = None
    config: tuple[tuple[str, str], ...] = ()

    def open(self) -> SqlEngine:
        return open_engine(self.name, self.master, dict(self.config))

    def __str__(self) -> str:
        return self.name


def open_engine(name: str, master: str | None = None, config: Mapping[str, Any] | None = None) -> SqlEngine:
    """An engine by its ``--engine`` name; ``master`` is Spark's master URL."""
    if name == "duckdb":
        return DuckDBEngine(config=config)
    if name == "spark":
        return SparkEngine(master, config)
    raise TierkitError(f"unknown SQL engine {name!r} (known: duckdb, spark)")


UDF_ERROR = "Python exception occurred while executing the UDF: "  # DuckDB's words before the exception
IR_TYPES = {"bool": "boolean", "int": "integer", "float": "number", "str": "string", "date": "date", "list": "list",
            "null": "string"}  # an IR type as the tierkit type the engines' type tables know


PYTHON_VALUES = {"int": int, "float": float, "bool": bool, "list": list}  # pandas' (numpy's) value as Python's, by IR type


def _pandas_reader(pandas, dtype: str):
    """One pandas value of an IR type as the Python value the function is given: a
    missing one (None, NaN, NaT) as None, an integer column's floats as ints."""
    convert = PYTHON_VALUES.get(dtype)

    def read(value):
        if value is None or (getattr(value, "ndim", 0) == 0 and not isinstance(value, (list, tuple)) and pandas.isna(value)):
            return None
        return value if convert is None else convert(value)
    return read


def _require(module: str, extra: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise TierkitError(
            f"the {extra} engine needs the Python package {module.split('.')[0]!r}: pip install 'tierkit[sql]'"
        ) from None


def _duckdb_type(type_name: str) -> str:
    """A DuckDB column type as a source type: ``text`` for text, else a tierkit type."""
    upper = type_name.upper()
    if upper == "VARCHAR":
        return "text"
    if upper.endswith("[]"):
        return "list"
    if upper in ("BOOLEAN",):
        return "boolean"
    if upper in ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"):
        return "date"
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer"
    if upper in ("FLOAT", "DOUBLE", "REAL") or upper.startswith("DECIMAL"):
        return "number"
    return "text"


def _spark_source_type(type_name: str) -> str:
    if type_name == "string":
        return "text"
    if type_name.startswith("array"):
        return "list"
    if type_name in ("boolean",):
        return "boolean"
    if type_name in ("date", "timestamp", "timestamp_ntz"):
        return "date"
    if type_name in ("tinyint", "smallint", "int", "bigint"):
        return "integer"
    if type_name in ("float", "double") or type_name.startswith("decimal"):
        return "number"
    return "text"


def _arrow_type(pyarrow, tierkit_type: str):
    return {
        "number": pyarrow.float64(),
        "integer": pyarrow.int64(),
        "boolean": pyarrow.bool_(),
        "date": pyarrow.date32(),
        "list": pyarrow.list_(pyarrow.string()),
    }.get(tierkit_type, pyarrow.string())


def _spark_type(tierkit_type: str) -> str:
    return {
        "number": "DOUBLE",
        "integer": "BIGINT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "list": "ARRAY<STRING>",
    }.get(tierkit_type, "STRING")
