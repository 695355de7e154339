"""The SQL engines a ruleset runs on besides Python: DuckDB (embedded) and Spark.

An :class:`SqlEngine` is the little the SQL back end needs of an engine: run a
query and fetch its rows, and register rows made in Python (order aggregates from a
database, saved labels, test inputs) as a named relation.  DuckDB runs in this
process; Spark runs through PySpark, ``local[2]`` by default or on the cluster a
``--spark-master`` URL names.  Both are optional dependencies (``pip install
tierkit[sql]``): asking for an engine that is not installed is a one-line error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import TierkitError
from .sqldialect import DUCKDB, SPARK, Dialect

ENGINES = ("python", "duckdb", "spark")


class SqlEngine:
    """One open connection or session; ``dialect`` is how its SQL is spelt."""

    dialect: Dialect

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def register_rows(self, name: str, columns: Mapping[str, str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows from Python as the relation ``name``; ``columns`` maps each column to its
        tierkit type (``string``, ``number``, ``integer``, ``boolean``, ``date``, ``list``)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBEngine(SqlEngine):
    dialect = DUCKDB

    def __init__(self, database: str = ":memory:", config: Mapping[str, Any] | None = None):
        duckdb = _require("duckdb", "duckdb")
        self.connection = duckdb.connect(database, config=dict(config or {}))

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

    def close(self) -> None:
        self.connection.close()


class SparkEngine(SqlEngine):
    dialect = SPARK

    def __init__(self, master: str | None = None, config: Mapping[str, str] | None = None):
        pyspark_sql = _require("pyspark.sql", "spark")
        builder = pyspark_sql.SparkSession.builder.appName("tierkit").master(master or "local[2]")
        settings = {
            "spark.ui.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "4",
            "spark.driver.memory": "2g",
            **(config or {}),
        }
        for key, value in settings.items():
            builder = builder.config(key, value)
        self.session = builder.getOrCreate()
        self.session.sparkContext.setLogLevel("ERROR")

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.session.sql(sql).collect()]

    def register_rows(self, name: str, columns: Mapping[str, str], rows: Sequence[Sequence[Any]]) -> None:
        schema = ", ".join(f"`{column}` {_spark_type(type_)}" for column, type_ in columns.items())
        frame = self.session.createDataFrame([tuple(row) for row in rows], schema=schema)
        frame.createOrReplaceTempView(name)


def open_engine(name: str, master: str | None = None, config: Mapping[str, Any] | None = None) -> SqlEngine:
    """An engine by its ``--engine`` name; ``master`` is Spark's master URL."""
    if name == "duckdb":
        return DuckDBEngine(config=config)
    if name == "spark":
        return SparkEngine(master, config)
    raise TierkitError(f"unknown SQL engine {name!r} (known: duckdb, spark)")


def _require(module: str, extra: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise TierkitError(
            f"the {extra} engine needs the Python package {module.split('.')[0]!r}: pip install 'tierkit[sql]'"
        ) from None


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
