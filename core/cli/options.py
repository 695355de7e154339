"""Options every evaluating command shares: the inputs, the as-of date, the language
and the run store.  A module of their own, so that command modules can use them
without importing the CLI module that imports them."""

from __future__ import annotations

import datetime as dt
import functools

import click

from tierkit.errors import TierkitError
from tierkit.io.outputs import REASONS as REASONS_CHOICES
from tierkit.engine.sql.connection import ENGINES


def parse_as_of(ctx, param, value: str | None) -> dt.date:
    return parse_date(ctx, param, value) or dt.date.today()


def parse_date(_ctx, _param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


AS_OF = click.option("--as-of", callback=parse_as_of, help="The run's date, YYYY-MM-DD (default: today).")
LANG = click.option("--lang", type=click.Choice(["en", "zh"]), help="Language of labels and reasons (default: the ruleset's locale).")
ENGINE_NAME = click.option("--engine", type=click.Choice(ENGINES), default="python", show_default=True,
                           help="Where the ruleset runs: in this process, compiled to SQL on DuckDB (embedded), or on Spark.")
SPARK_MASTER = click.option("--spark-master", metavar="URL", help="With --engine spark: the cluster's master URL (default: local[2]).")
SPARK_CONF = click.option("--spark-conf", metavar="KEY=VALUE", multiple=True, help="With --engine spark: a Spark setting (repeatable).")
MEMORY_LIMIT = click.option("--memory-limit", metavar="SIZE",
                            help="With --engine duckdb|spark: the engine's memory (e.g. 6GB); DuckDB spills to disk beyond it.")


def engine_options(command):
    """``--engine`` with the engine's settings (``--spark-master``, ``--spark-conf``,
    ``--memory-limit``), given to ``command`` as one ``engine``: ``"python"``, or an
    :class:`~tierkit.engine.sql.connection.EngineChoice` that the job opens."""

    @functools.wraps(command)
    def with_engine(*args, engine, spark_master, spark_conf, memory_limit, **kwargs):
        return command(*args, engine=engine_choice(engine, spark_master, spark_conf, memory_limit), **kwargs)

    return ENGINE_NAME(SPARK_MASTER(SPARK_CONF(MEMORY_LIMIT(with_engine))))


def engine_choice(engine: str, spark_master: str | None, spark_conf: tuple[str, ...], memory_limit: str | None):
    """What the engine options say, checked together: ``"python"`` or an engine choice."""
    from tierkit.engine.sql.connection import EngineChoice

    if engine == "python":
        if spark_master or spark_conf or memory_limit:
            raise TierkitError("--spark-master, --spark-conf and --memory-limit need --engine duckdb or spark")
        return engine
    if engine != "spark" and (spark_master or spark_conf):
        raise TierkitError("--spark-master and --spark-conf need --engine spark")
    config = dict(_setting(item) for item in spark_conf)
    if memory_limit:
        config["memory_limit" if engine == "duckdb" else "spark.driver.memory"] = memory_limit
    return EngineChoice(engine, spark_master, tuple(config.items()))


def _setting(item: str) -> tuple[str, str]:
    key, equals, value = item.partition("=")
    if not equals or not key.strip():
        raise TierkitError(f"--spark-conf {item!r}: write KEY=VALUE")
    return key.strip(), value.strip()
REASONS = click.option("--reasons", type=click.Choice(REASONS_CHOICES), default="words", show_default=True,
                       help="Reasons in the results: records with their words; codes and parameters only (JSON "
                            "Lines without words); or none (no reason columns, and none computed on SQL engines).")
STORE = click.option("--store", "store", metavar="PATH",
                     help="The run store read for hysteresis and previous_run (default: $TIERKIT_STORE or ./tierkit-runs.sqlite, when it exists).")


def csv_raw(command_level: bool):
    """``--csv-raw``: CSV cells as they are, formulas included (see :func:`tierkit.io.outputs.spreadsheet_cell`).

    Given before the command (``tierkit --csv-raw evaluate``) it is set for the
    invocation; given to a command, it switches raw cells on for it.
    """

    def remember(_ctx, _param, value: bool) -> bool:
        from tierkit.io.outputs import CSV_RAW

        if value or not command_level:
            CSV_RAW.set(value)
        return value

    return click.option("--csv-raw", is_flag=True, expose_value=False, callback=remember,
                        help="Write CSV cells as they are: do not put ' before text beginning with = + - @ (formulas).")


def inputs(function):
    """The customer file (optional with --orders) and the order file.

    Either may be a database (a URL, or a ``.db`` file) read by table or query; the
    command then receives a :class:`tierkit.io.tables.SourceRef` in place of the path.
    """

    @functools.wraps(function)
    def with_sources(*args, table=None, query=None, orders_table=None, orders_query=None, **kwargs):
        kwargs["input_path"] = _database_input(kwargs.get("input_path"), table, query, "INPUT", "--table", "--query")
        kwargs["orders_path"] = _database_input(kwargs.get("orders_path"), orders_table, orders_query, "--orders", "--orders-table", "--orders-query")
        return function(*args, **kwargs)

    command = click.option("--orders-query", help="With --orders URL: read the orders from this SQL query.")(with_sources)
    command = click.option("--orders-table", help="With --orders URL: read the orders from this table.")(command)
    command = click.option("--orders", "orders_path", help="An order table (.csv, .xlsx, .jsonl…): one row per order.")(command)
    command = click.option("--query", help="With a database INPUT: read the customers from this SQL query.")(command)
    command = click.option("--table", help="With a database INPUT (sqlite:///crm.db, postgresql://…, crm.db): read the customers from this table.")(command)
    return click.argument("input_path", metavar="[INPUT]", required=False)(command)


def _database_input(location, table, query, name, table_option, query_option):
    """A path as given, or the database table or query it names with its options."""
    from tierkit.io.tables import SourceRef, is_database, mask_password

    if table is not None and query is not None:
        raise click.UsageError(f"give {table_option} or {query_option}, not both")
    if table is None and query is None:
        if location and is_database(location, click.get_current_context().obj.registry):
            raise click.UsageError(f"{name} {mask_password(location)} is a database: name a table ({table_option}) or a query ({query_option})")
        return location
    if not location:
        raise click.UsageError(f"{table_option if table is not None else query_option} needs {name}: a database URL or file")
    return SourceRef(location, table, query)
