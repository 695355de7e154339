"""Customers and orders from a SQL database: SQLite, and PostgreSQL through psycopg.

A source is chosen by URL scheme (``sqlite:///crm.db``, ``postgresql://user@host/crm``);
a plain ``.db`` / ``.sqlite`` path is a SQLite file.  Rows stream in batches (a
server-side cursor where the database has one) and keep the types the driver gives
them (numbers, dates, booleans, ``None`` for NULL); the core matches columns, coerces
and rejects them exactly as it does file cells, numbering rows by their 1-based
position in the result set.  Failing to connect, an unknown table or a bad query is
one :class:`tierkit.errors.InputError` naming the URL with its password masked.

SQLAlchemy and psycopg come with the ``db`` extra (``pip install 'tierkit[db]'``);
without them this plugin still loads and says what to install when asked to read.
"""

from __future__ import annotations

import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from tierkit.errors import InputError, Position
from tierkit.hookspecs import hookimpl
from tierkit.io.tables import source_label
from tierkit.registry import Source

Rows = Iterator[tuple[int, Mapping[str, Any]]]

BATCH = 1000
SQLITE_EXTENSIONS = (".db", ".sqlite", ".sqlite3")
# SQLAlchemy's default PostgreSQL driver is psycopg2; the db extra installs psycopg 3.
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
TABLES_SHOWN = 10
# What sqlalchemy.text() would take for a bind parameter (":name"); a query is run as
# written, so each is escaped (a colon inside a string literal stays a colon).
BIND_PARAMETER = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")


@hookimpl
def tierkit_sources(register):
    register(Source("sqlite", ("sqlite",), read_database, SQLITE_EXTENSIONS))
    register(Source("postgresql", ("postgresql", "postgres"), read_database))


def read_database(url: str, table: str | None, query: str | None) -> Rows:
    """The rows of ``table`` (``name`` or ``schema.name``) or of ``query``, as column -> value."""
    where = Position(source_label(url, table, query))
    sa = import_sqlalchemy(where)
    location = _url(sa, url, where)
    try:
        engine = sa.create_engine(location, poolclass=sa.pool.NullPool)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as error:
        hint = "the db extra, pip install 'tierkit[db]', has psycopg for postgresql:// URLs" if isinstance(error, ImportError) else None
        raise InputError(f"cannot use this database: {driver_reason(error, location)}", where, hint) from error
    stage = "cannot connect"
    try:
        with engine.connect() as connection:
            stage = "cannot read"
            connection = _read_only(connection)
            statement = _table_select(sa, connection, table, where) if table is not None else _query(sa, query)
            result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(statement)
            if not result.returns_rows:
                raise InputError("the query returns no rows (give a SELECT)", where)
            columns = list(result.keys())
            twice = next((name for index, name in enumerate(columns) if name in columns[:index]), None)
            if twice is not None:
                raise InputError(f"the query returns column {twice!r} twice; name each column once (AS …)", where)
            for number, values in enumerate(result, start=1):
                yield number, dict(zip(columns, values))
    except sa.exc.SQLAlchemyError as error:
        raise InputError(f"{stage}: {driver_reason(error, location)}", where) from error
    finally:
        engine.dispose()


def import_sqlalchemy(where: Position, what: str = "reading a database"):
    """SQLAlchemy, or a one-line error saying ``what`` needs it and how to install it."""
    try:
        import sqlalchemy
    except ModuleNotFoundError:
        raise InputError(f"{what} needs SQLAlchemy", where, "pip install 'tierkit[db]'") from None
    return sqlalchemy


def _url(sa, url: str, where: Position):
    """The SQLAlchemy URL: a plain path is a SQLite file, which must exist (SQLite would create it)."""
    if "://" not in url:
        return _sqlite_read_only(sa.engine.URL.create("sqlite", database=url))
    try:
        location = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as error:
        raise InputError(f"not a database URL: {error}", where) from None
    location = location.set(drivername=DRIVERS.get(location.drivername, location.drivername))
    if location.get_backend_name() == "sqlite" and location.database not in (None, "", ":memory:"):
        if not location.query.get("uri") and not os.path.isfile(location.database):
            raise InputError("file not found" if not os.path.exists(location.database) else "not a file", where)
        if not location.query.get("uri"):
            return _sqlite_read_only(location)
    return location


def _sqlite_read_only(location):
    """A SQLite file opened read-only (``mode=ro``): SQLite then never writes it."""
    uri = f"file:{urllib.parse.quote(os.path.abspath(location.database))}?mode=ro"
    return location.set(database=uri, query={**location.query, "uri": "true"})


def _read_only(connection):
    """Reading never writes: a query such as ``DELETE …`` fails instead (and is rolled back)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")
        # mode=ro and query_only still let ATTACH and VACUUM INTO (which attaches) create files
        connection.connection.driver_connection.set_authorizer(_no_attach)
    elif connection.dialect.name == "postgresql":
        connection = connection.execution_options(postgresql_readonly=True)
    return connection


def _no_attach(action: int, *_details) -> int:
    return sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_ATTACH else sqlite3.SQLITE_OK


def _table_select(sa, connection, table: str, where: Position):
    schema, _, name = table.rpartition(".")
    inspector = sa.inspect(connection)
    if not inspector.has_table(name, schema=schema or None):
        names = sorted(inspector.get_table_names(schema=schema or None) + inspector.get_view_names(schema=schema or None))
        shown = ", ".join(names[:TABLES_SHOWN]) + (", …" if len(names) > TABLES_SHOWN else "")
        empty = f"schema {schema!r} has no tables" if schema else "the database has no tables"
        raise InputError(f"no table {table!r}", where, f"tables: {shown}" if names else empty)
    # `*` from an untyped table: values come as the driver reads them, not converted by
    # SQLAlchemy column types, so a text cell in a numeric SQLite column stays a bad row.
    return sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))


def _query(sa, query: str):
    return sa.text(BIND_PARAMETER.sub(r"\\\g<0>", query))


def driver_reason(error: Exception, location) -> str:
    """The driver's own message, on one line, without the password.

    The server's primary message and hint where the driver has them (psycopg), since
    the rest quotes the statement as sent, server-side cursor declaration included.
    """
    original = getattr(error, "orig", None) or error
    diag = getattr(original, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        hint = getattr(diag, "message_hint", None)
        text = " ".join(f"{primary} ({hint})".split() if hint else primary.split())
    else:
        text = " ".join(str(original).split()) or type(original).__name__
    password = getattr(location, "password", None)
    return text.replace(password, "***") if password else text
