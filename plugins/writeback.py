"""Results written back to a database table, where the CRM and its reports read them.

``-o 'sqlite:///grades.db?table=customer_grades'`` or
``-o 'postgresql+psycopg://user@host/crm?table=customer_grades'`` writes one row per
customer (:class:`TableLayout` lists the columns): who the customer is, which run and
ruleset graded it, each scheme's label and score as columns a report can filter on,
and the reasons as JSON for whoever asks why.

``--write-mode`` says what happens to the rows already there: ``replace`` (the
default) makes the table anew, ``upsert`` replaces the rows of the customers written
(by ``id``) and keeps the others, ``append`` keeps every run's rows (told apart by
``run_id``; writing one run twice replaces its rows).  The table is created
when missing.  The whole write is one transaction, so a failure midway leaves the
table as it was; on SQLite that takes an explicit ``BEGIN``, since its Python driver
would otherwise commit the ``DROP``/``CREATE`` on its own.

Needs the ``db`` extra (SQLAlchemy, psycopg).  Messages show the URL with its password
as ``***``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from tierkit.errors import Position, TierkitError
from tierkit.hookspecs import hookimpl
from tierkit.io.tables import WRITE_MODES, json_default, mask_password
from tierkit.plugins.database import DRIVERS, driver_reason, import_sqlalchemy
from tierkit.registry import Writer
from tierkit.plan.roles import role_field

BATCH = 500  # rows per INSERT, and ids per upsert DELETE (within SQLite's parameter limit)


@hookimpl
def tierkit_writers(register):
    register(Writer("sqlite table", (), write_table, schemes=("sqlite",)))
    register(Writer("postgresql table", (), write_table, schemes=("postgresql", "postgres")))


def write_table(url: str, records: Iterable[Mapping[str, Any]], meta: Mapping[str, Any], mode: str = "replace") -> None:
    """Write ``records`` of one run to the table the URL's ``?table=`` names."""
    where = Position(mask_password(url))
    if mode not in WRITE_MODES:
        raise TierkitError(f"unknown write mode {mode!r} (known: {', '.join(WRITE_MODES)})", where)
    schema = getattr(records, "schema", None)
    if schema is None:
        raise TierkitError("a database table takes the results of a run (records with their schema)", where)
    sa = import_sqlalchemy(where, "writing to a database")
    location, table_name = _target(sa, url, where)
    layout = TableLayout(sa, schema, meta)
    engine = sa.create_engine(location, poolclass=sa.pool.NullPool, json_serializer=_json)
    if engine.dialect.name == "sqlite":
        _transactional_ddl(sa, engine)
    try:
        with engine.begin() as connection:
            table = layout.prepare(connection, table_name, mode, where)
            for batch in _batches(map(layout.row, records)):
                if mode == "upsert":
                    connection.execute(table.delete().where(table.c.id.in_([row["id"] for row in batch])))
                connection.execute(table.insert(), batch)
    except sa.exc.SQLAlchemyError as error:
        raise TierkitError(f"cannot write table {table_name!r}: {driver_reason(error, location)}", where) from error
    finally:
        engine.dispose()


def _target(sa, url: str, where: Position):
    """The SQLAlchemy URL without ``table``, and the table's name (``name`` or ``schema.name``)."""
    try:
        location = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as error:
        raise TierkitError(f"not a database URL: {error}", where) from None
    table = location.query.get("table")
    if not table or not isinstance(table, str):
        raise TierkitError("name the table to write: add ?table=NAME to the URL", where)
    location = location.difference_update_query(["table"])
    return location.set(drivername=DRIVERS.get(location.drivername, location.drivername)), table


def _transactional_ddl(sa, engine) -> None:
    """SQLite's Python driver begins transactions only before data changes; begin them
    ourselves, so that dropping and creating the table roll back with the rows."""

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


def _batches(rows: Iterable[dict]) -> Iterable[list[dict]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


class TableLayout:
    """The columns of a results table, typed by the run's :class:`tierkit.engine.results.ResultsSchema`:

    ``id``, ``name``, ``owner`` (when the ruleset has those fields), ``run_id``,
    ``as_of``, ``ruleset``, ``ruleset_version``, ``fingerprint``, ``rank``,
    ``<scheme>_label`` and ``<scheme>_score`` per scheme, ``tags`` (JSON list of every
    scheme's tags), ``allocation_rule`` and ``allocation_<key>`` per allocation key, and
    ``reasons`` (JSON: scheme -> reason records; null when the engine gives none).
    """

    def __init__(self, sa, schema, meta: Mapping[str, Any]):
        self.sa = sa
        plan = schema.plan
        named = {role: role_field(plan, role) for role in ("name", "owner")}
        self.roles = {role: name for role, name in named.items() if f"features.{name}" in schema.by_name}
        self.schemes = [scheme.id for scheme in plan.schemes]
        self.allocation = [(column.path[1], column.type) for column in schema.allocation]
        self.fixed = {
            "run_id": str(meta.get("run_id") or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")),
            "as_of": dt.date.fromisoformat(str(meta["as_of"])),
            "ruleset": meta.get("ruleset"),
            "ruleset_version": None if meta.get("ruleset_version") is None else str(meta.get("ruleset_version")),
            "fingerprint": meta.get("fingerprint"),
        }
        self.id_type = schema.by_name["id"].type
        self.types = {"double": sa.Float, "int64": sa.BigInteger, "bool": sa.Boolean, "date32": sa.Date,
                      "string": sa.Text, "list<string>": sa.JSON, "json": sa.JSON}

    def columns(self) -> list:
        """Keyed on ``(id, run_id)`` whatever the mode, so that each mode works on a table
        any other made, and the key's index serves an upsert's lookups by id."""
        sa, types = self.sa, self.types
        columns = [sa.Column("id", types[self.id_type], primary_key=True)]
        columns += [sa.Column(role, sa.Text) for role in self.roles]
        columns += [sa.Column("run_id", sa.String(64), primary_key=True), sa.Column("as_of", sa.Date, nullable=False),
                    sa.Column("ruleset", sa.Text), sa.Column("ruleset_version", sa.Text), sa.Column("fingerprint", sa.Text),
                    sa.Column("rank", sa.Integer)]
        for scheme in self.schemes:
            columns += [sa.Column(f"{scheme}_label", sa.Text), sa.Column(f"{scheme}_score", sa.Float)]
        columns.append(sa.Column("tags", sa.JSON))
        columns += [sa.Column(f"allocation_{name}", types[kind]) for name, kind in self.allocation]
        columns.append(sa.Column("reasons", sa.JSON))
        return columns

    def prepare(self, connection, name: str, mode: str, where: Position):
        """The table to insert into, made anew (``replace``) or when missing; an existing
        table lacking a column is an error, since rows would lose values."""
        sa = self.sa
        schema, _, name = name.rpartition(".")
        table = sa.Table(name, sa.MetaData(), *self.columns(), schema=schema or None)
        if mode == "replace":
            table.drop(connection, checkfirst=True)
        if not sa.inspect(connection).has_table(name, schema=schema or None):
            table.create(connection)
            return table
        present = {column["name"] for column in sa.inspect(connection).get_columns(name, schema=schema or None)}
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            raise TierkitError(f"table {table.fullname!r} has no column {missing[0]!r}"
                               + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                               where, "write it once with --write-mode replace to make it anew")
        if mode == "append":
            connection.execute(table.delete().where(table.c.run_id == self.fixed["run_id"]))
        return table

    def row(self, record: Mapping[str, Any]) -> dict:
        features, outcomes, allocation = record["features"], record["outcomes"], record["allocation"]
        row = {"id": record["id"], **{role: _text(features.get(name)) for role, name in self.roles.items()}, **self.fixed,
               "rank": record["rank"]}
        tags: dict[str, None] = {}
        reasons = {}
        for scheme in self.schemes:
            outcome = outcomes[scheme]
            row[f"{scheme}_label"] = _text(outcome["label"])
            row[f"{scheme}_score"] = outcome["score"]
            tags.update(dict.fromkeys(map(str, outcome["tags"])))
            if "reasons" in outcome:
                reasons[scheme] = outcome["reasons"]
        row["tags"] = list(tags)
        for name, _kind in self.allocation:
            row[f"allocation_{name}"] = allocation.get(name)
        row["reasons"] = reasons or None
        return row


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_default)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
