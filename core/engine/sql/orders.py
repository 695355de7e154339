"""Order history into customer features, as grouped SQL for the DuckDB and Spark engines.

:mod:`tierkit.engine.orders` in SQL: the same features, the same rejected order rows with
the same reasons, the same counts.  :func:`order_aggregation` gives an
:class:`OrderSql`, whose SQL texts are:

``typed``
    One row per order: ``_row``, ``customer_key`` (the customer id cell read as text,
    as ``aggregate_orders`` keys its totals), one typed column per order column
    (``order_date``, ``amount``, ``margin``, ``paid_amount``, ``due_date``,
    ``paid_date``; NULL when the file lacks the column), the rejection
    (``reject_column``, ``reject_field``, ``reject_reason``: the first bad cell in
    column order, worded as the Python coercers word it) and ``_status``
    (0 used, 1 after the as-of date, 2 rejected, 3 excluded by ``orders.where``, 4 a
    duplicate of an earlier row, cell for cell).  ``counted`` is the same without
    the reject texts (NULL): what the aggregation reads.

``per_key``
    The one pass over the orders (one ``GROUP BY``): a row per customer key and
    status with the running totals of ``tierkit.engine.orders._Customer`` (count, revenue,
    first and last date, the two 12-month windows, receivables, days to pay, margin,
    first row).  Rows after the as-of date and rejected rows fall into one group each
    (key NULL), so the order counts come from the same pass.  Materialize it once and
    pass its name as ``per_key`` to the ``*_from`` methods and functions below: then
    nothing else reads the orders, except the listings of rejected rows and of
    unknown customers' rows, which the counts say whether to run.

``features`` (``features_from``)
    One row per customer: ``customer_id``, one column per :data:`ORDER_FEATURES`
    name (as :func:`tierkit.engine.orders.order_fields` names them; a feature whose columns
    the file lacks is NULL, as the Python features leave it out), and ``_first_row``
    (the customer's first used order row, by which customers made from the order file
    alone are numbered).  With ``id_spec`` (the ruleset's id field) ``customer_id`` is
    the key as that field reads it and the spellings of one id are merged
    (:func:`tierkit.engine.orders.features_by_id`: what ``attach_orders`` fills in); without
    it ``customer_id`` is the text key (``OrderSummary.features``).

``summary`` (``summary_from``)
    One row: ``read``, ``used``, ``after_as_of``, ``rejected``, ``excluded``,
    ``duplicate_rows``, ``zero_amount``, ``negative_amount``.

``keys`` (``keys_from``)
    One row per customer key of the used orders: ``customer_key``, ``customer_id``,
    ``id_error`` (why the id field cannot read the key, as ``attach_orders`` says it),
    ``orders``.

``rejected``
    The rejected order rows: ``_row``, ``reject_column``, ``reject_field``,
    ``reject_reason``, in row order.

:func:`unknown_keys` and :func:`unknown_customers` give the orders ``attach_orders``
(or ``customers_from_orders``) reports as unknown customers, :func:`attached_feature`
a customer's order feature as ``attach_orders`` fills it in (no orders, declared
defaults).

The coercion of order cells mirrors :mod:`tierkit.io.fieldtypes` cell by cell for text
cells (CSV read as text) and for typed cells (Parquet, JSON): full-width digits,
thousands groups, currency marks, ``%``, 万/亿, ISO week dates, Chinese dates, the
null markers, and every reason text (``'abc' is not a number``, with Python's
``repr`` of the cell).  What the SQL cannot reproduce exactly:

* money is summed exactly as :mod:`tierkit.engine.orders` sums it (whole millionths as
  ``DECIMAL(38, 0)``, then the nearest double), so the engine's order of the rows
  changes nothing; but an amount of 2**53 millionths (about 9 billion) or more is no
  longer a whole number of millionths in doubles, and Spark's ``floor`` stops at
  64-bit integers (amounts of about 9 trillion);
* Unicode compatibility forms (NFKC) are mapped character by character, for every
  character whose NFKC form can take part in a number, a date or a null marker;
  composition across characters is not applied (no such sequence reads as a number);
* in a reason's ``repr`` of a cell, code points unassigned in Python's Unicode
  database are shown as they are, where Python escapes them;
* a number written with more than 28 significant digits is rounded once (Python's
  ``Decimal`` context rounds it to 28 digits first);
* an integer customer id beyond 64 bits is an unreadable id here
  (``customer id '…' is beyond 64-bit integers``), where Python reads it; one written
  with a fraction finer than a double holds (``1.0000000000000001``) reads as whole;
* Spark only: in a reason, or in an id read from a column of doubles, a double of
  1e16 or more is spelt with Java's digits, not always Python's shortest ones;
* with ``orders.count: days``, a customer whose orders spell its id several ways
  (``007`` and ``7`` for an integer id) counts a day once per spelling;
* JSON Lines rows that differ only in a key one of them lacks and the other holds as
  ``null`` are duplicates here, not in Python (which compares the keys too);
* order rows of a JSON Lines file missing a required key: Python stops with
  "missing order column"; here the column exists (NULL) and the row is rejected
  with "missing required value".
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from tierkit.errors import TierkitError
from tierkit.io import fieldtypes
from tierkit.plan import order_features
from tierkit.io.fieldtypes import NULL_MARKERS, WHITESPACE, FieldSpec
from tierkit.engine.orders import _column_lookup, _match_columns, no_orders
from tierkit.plan.order_features import ORDER_COLUMNS, REQUIRED_COLUMNS
from tierkit.ir import nodes as ir
from tierkit.ir.sql_text import expression_sql
from tierkit.engine.sql.dialect import Dialect

if TYPE_CHECKING:
    from tierkit.plan.orderpolicy import OrderPolicy, OrderWhere

STATUS_USED, STATUS_AFTER_AS_OF, STATUS_REJECTED, STATUS_EXCLUDED, STATUS_DUPLICATE = 0, 1, 2, 3, 4
ID_COLUMN = "customer_id"
KEY_COLUMN = "customer_key"
REJECT_COLUMNS = ("reject_column", "reject_field", "reject_reason")
ID_TYPES = ("string", "integer", "number", "date")

@dataclass(frozen=True)
class OrderSql:
    """The SQL of one order file's aggregation (see the module docstring)."""

    dialect: Dialect
    file: str
    as_of: dt.date
    headers: dict[str, str]  # order column -> the file's header for it, in the file's column order
    typed: str
    counted: str  # ``typed`` without the reject columns' texts: what the aggregation reads
    id_spec: FieldSpec | None = None
    count_days: bool = False  # orders.count: days
    filtered: bool = False  # whether orders.where excludes rows

    @property
    def columns(self) -> tuple[str, ...]:
        """The order columns the file has (``OrderSummary.columns``)."""
        return tuple(self.headers)

    # -- the one pass ---------------------------------------------------------------
    @property
    def per_key(self) -> str:
        q = self.dialect.quote
        selected = ", ".join(f"{self._sql(node)} AS {q(name)}" for name, node in self._totals.items())
        key = f"CASE WHEN _status = {STATUS_USED} THEN {q(KEY_COLUMN)} END"
        read = ", ".join(q(name) for name in ("amount", "order_date", "margin", "paid_amount", "due_date", "paid_date"))
        return (
            f"SELECT {q(KEY_COLUMN)}, _status, {selected} FROM ("
            f"SELECT {key} AS {q(KEY_COLUMN)}, _status, _row, {read} "
            f"FROM ({self.counted}) AS _t) AS _o GROUP BY {q(KEY_COLUMN)}, _status"
        )

    @property
    def _totals(self) -> dict[str, ir.Expr]:
        return order_features.totals(self.as_of, self.columns)

    def _sql(self, node: ir.Expr) -> str:
        """An IR expression of the order columns or the totals as this dialect's SQL."""
        return expression_sql(node, self.dialect.name)

    def _per_key(self, per_key: str | None) -> str:
        return per_key if per_key is not None else f"({self.per_key})"

    # -- what the pass gives ----------------------------------------------------------
    def summary_from(self, per_key: str | None = None) -> str:
        """One row: ``read``, ``used``, ``after_as_of``, ``rejected``, ``excluded``,
        ``duplicate_rows``, ``zero_amount``, ``negative_amount`` (order rows)."""
        q = self.dialect.quote

        def count(status: int, total: str = "_n") -> str:
            return f"COALESCE(sum(CASE WHEN _status = {status} THEN {q(total)} END), 0)"

        return (
            f"SELECT COALESCE(sum({q('_n')}), 0) AS {q('read')}, {count(STATUS_USED)} AS {q('used')}, "
            f"{count(STATUS_AFTER_AS_OF)} AS {q('after_as_of')}, {count(STATUS_REJECTED)} AS {q('rejected')}, "
            f"{count(STATUS_EXCLUDED)} AS {q('excluded')}, {count(STATUS_DUPLICATE)} AS {q('duplicate_rows')}, "
            f"{count(STATUS_USED, '_zero')} AS {q('zero_amount')}, {count(STATUS_USED, '_negative')} AS {q('negative_amount')} "
            f"FROM {self._per_key(per_key)} AS _k"
        )

    @property
    def summary(self) -> str:
        return self.summary_from()

    def keys_from(self, per_key: str | None = None) -> str:
        """One row per customer key of the used orders: ``customer_key``, ``customer_id``
        (the key as the id field reads it; NULL when it cannot), ``id_error`` (why not,
        as ``attach_orders`` says it), ``orders`` (used orders of the key), and the
        key's running totals."""
        d = self.dialect
        q = d.quote
        used = f"SELECT * FROM {self._per_key(per_key)} AS _k WHERE _status = {STATUS_USED}"
        if self.id_spec is None or self.id_spec.type == "string":
            return f"SELECT *, {q(KEY_COLUMN)} AS {q(ID_COLUMN)}, CAST(NULL AS {d.text_type}) AS id_error, {q('_n')} AS orders FROM ({used}) AS _u"
        chain = _Chain(d, used)
        col = chain.column("_id_")
        key = q(KEY_COLUMN)
        value, bad, error = _coerce(col, key, "text", self.id_spec.type)
        col.next()
        missing = f"'customer id ' || {_py_repr(d, key)} || ' reads as no value'"
        reason = col.let(
            "id_error",
            f"CASE WHEN {bad} THEN 'customer id ' || {error} WHEN {value} IS NULL THEN {missing} END",
        )
        return chain.render(
            ["*"],
            [(ID_COLUMN, f"CASE WHEN {reason} IS NULL THEN {value} END"), ("id_error", reason), ("orders", q("_n"))],
        )

    @property
    def keys(self) -> str:
        return self.keys_from()

    def features_from(self, per_key: str | None = None) -> str:
        """One row per customer (see the module docstring)."""
        d = self.dialect
        q = d.quote
        if self.id_spec is None or self.id_spec.type == "string":
            totals = f"SELECT {q(KEY_COLUMN)} AS {q(ID_COLUMN)}, * FROM {self._per_key(per_key)} AS _k WHERE _status = {STATUS_USED}"
        else:  # one customer however its id is spelled: its keys' totals added (_Customer.merge)
            merged = ", ".join(f"{self._sql(order_features.merged(name, node))} AS {q(name)}" for name, node in self._totals.items())
            totals = (
                f"SELECT {q(ID_COLUMN)}, {merged} FROM ({self.keys_from(per_key)}) AS _k "
                f"WHERE {q(ID_COLUMN)} IS NOT NULL GROUP BY {q(ID_COLUMN)}"
            )
        return f"SELECT {q(ID_COLUMN)}, {', '.join(self._feature_columns())}, {q('_first_row')} FROM ({totals}) AS _c"

    @property
    def features(self) -> str:
        return self.features_from()

    def _feature_columns(self) -> list[str]:
        q = self.dialect.quote
        types = {name: node.dtype for name, node in self._totals.items()}
        features = order_features.features(self.as_of, self.columns, types, self.count_days)
        return [f"{self._sql(node)} AS {q(name)}" for name, node in features.items()]

    @property
    def rejected(self) -> str:
        """The rejected order rows (bad cells): ``_row`` and the reject columns, in row order."""
        columns = ", ".join(REJECT_COLUMNS)
        return f"SELECT _row, {columns} FROM ({self.typed}) AS _t WHERE _status = {STATUS_REJECTED} ORDER BY _row"


def code_point_class(codes) -> str:
    """The inside of a regex character class (RE2 and Java spell ``\\x{…}`` alike) of code points."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(
        f"\\x{{{lo:x}}}" if lo == hi else f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in ranges
    )


def order_aggregation(
    dialect: Dialect,
    relation: str,
    source_types: dict[str, str],
    columns_config: dict | None,
    as_of: dt.date,
    file: str,
    id_spec: FieldSpec | None = None,
    policy: OrderPolicy | None = None,
) -> OrderSql:
    """The SQL aggregating the order rows of ``relation`` as of ``as_of``.

    ``relation`` is anything that may follow ``FROM`` (a quoted name, or a parenthesised
    query); it has a BIGINT ``_row`` (the row number a user sees) and the file's columns.
    ``source_types`` maps each of the file's columns, in column order, to ``text`` (read
    as text) or the tierkit type of a typed column (``number``, ``integer``, ``date``,
    ``boolean``, ``list``, ``string``).  ``columns_config`` is the ruleset's
    ``orders.columns`` (more headers per order column); ``policy``, the ruleset's
    ``orders:`` (:class:`tierkit.plan.orderpolicy.OrderPolicy`), brings them with ``where``
    and ``count``.  ``id_spec``, the ruleset's id
    field, makes ``features`` one row per customer id as that field reads it.  A file
    lacking a required column raises the same :class:`~tierkit.errors.InputError` as
    ``aggregate_orders``.
    """
    if id_spec is not None and id_spec.type not in ID_TYPES:
        raise TierkitError(f"order files on the SQL engines need an id field of type {', '.join(ID_TYPES)}, not {id_spec.type}")
    headers = [header for header in source_types if header != "_row"]
    mapping = _match_columns(file, tuple(headers), _column_lookup(policy.aliases if policy else columns_config or {}))
    extra = policy.extra_headers(tuple(headers), file) if policy is not None else {}
    for header in [*mapping.values(), *extra.values()]:
        if source_types[header] not in _SOURCES:
            raise TierkitError(f"{file}: column {header!r} has a type the SQL engines cannot read ({source_types[header]})")
    where = policy.where if policy is not None else None
    typed, counted = (
        _typed_orders(dialect, relation, mapping, source_types, as_of, reasons, where, extra) for reasons in (True, False)
    )
    count_days = policy is not None and policy.count == "days"
    return OrderSql(dialect, file, as_of, dict(mapping), typed, counted, id_spec, count_days, where is not None)


def _typed_orders(
    d: Dialect, relation: str, mapping: dict[str, str], source_types: dict[str, str], as_of: dt.date, reasons: bool,
    where: OrderWhere | None = None, extra: dict[str, str] | None = None,
) -> str:
    """The typed orders (see ``OrderSql.typed``); without ``reasons`` the reject columns
    are NULL and only ``_status`` tells a rejected row (all the aggregation needs).
    ``where`` reads the order columns and ``extra`` (name -> header) as text."""
    q = d.quote
    extra = extra or {}
    raw = {name: f"_raw{index}" for index, name in enumerate(mapping)}
    raw_extra = {name: f"_rawx{index}" for index, name in enumerate(extra)}
    every = ", ".join(q(header) for header in source_types if header != "_row")
    cells = [f"{q(mapping[name])} AS {q(raw[name])}" for name in mapping]
    cells += [f"{q(extra[name])} AS {q(raw_extra[name])}" for name in extra]
    cells.append(f"row_number() OVER (PARTITION BY {every} ORDER BY _row) AS _copy")
    base = f"SELECT _row, {', '.join(cells)} FROM {relation} AS _r"
    chain = _Chain(d, base, reasons)
    values: dict[str, str] = {}
    bad: dict[str, str] = {}  # whether the cell is rejected (cheap; the reason is worded apart)
    errors: dict[str, str] = {}
    for index, (name, header) in enumerate(mapping.items()):
        col = chain.column(f"_c{index}_")
        value, bad[name], error = _coerce(col, q(raw[name]), source_types[header], ORDER_COLUMNS[name][0])
        if name in REQUIRED_COLUMNS:
            error = f"COALESCE({error}, CASE WHEN {value} IS NULL THEN 'missing required value' END)"
            bad[name] = f"({bad[name]} OR {value} IS NULL)"
        values[name], errors[name] = value, error

    def pick(what) -> str:
        if not reasons:
            return _null_text(d)
        branches = " ".join(f"WHEN {bad[name]} THEN {what(name)}" for name in mapping)
        return f"CASE {branches} END"

    texts = {}
    for index, name in enumerate(extra):
        col = chain.column(f"_x{index}_")
        texts[name], _bad, _error = _coerce(col, q(raw_extra[name]), source_types[extra[name]], "string")
    outputs = [("_row", "_row"), ("_copy", "_copy"), (KEY_COLUMN, values["customer_id"])]
    for name, (type_, _aliases) in ORDER_COLUMNS.items():
        if name != "customer_id":
            outputs.append((name, values.get(name, f"CAST(NULL AS {d.type_of(type_)})")))
    outputs += [(f"_where{index}", texts[name]) for index, name in enumerate(extra)]
    outputs += [
        ("reject_column", pick(lambda name: d.string(mapping[name]))),
        ("reject_field", pick(lambda name: d.string(name))),
        ("reject_reason", pick(lambda name: errors[name])),
        ("_bad", " OR ".join(bad[name] for name in mapping)),
    ]
    typed = chain.render([], outputs)
    excluded = ""
    if where is not None:
        columns = {name: name for name in ORDER_COLUMNS} | {"customer_id": KEY_COLUMN}
        columns |= {name: f"_where{index}" for index, name in enumerate(extra)}
        excluded = f"WHEN NOT COALESCE({where.sql(d, columns, as_of)}, FALSE) THEN {STATUS_EXCLUDED} "
    status = (
        f"CASE WHEN _bad THEN {STATUS_REJECTED} {excluded}WHEN _copy > 1 THEN {STATUS_DUPLICATE} "
        f"WHEN {q('order_date')} > {d.literal(as_of)} THEN {STATUS_AFTER_AS_OF} ELSE {STATUS_USED} END"
    )
    kept = ", ".join(q(name) for name, _sql in outputs if name != "_bad" and not name.startswith(("_where", "_copy")))
    return f"SELECT {kept}, {status} AS _status FROM ({typed}) AS _typed"


def unknown_keys(
    orders: OrderSql, customers: str | None, id_column: str, customers_file: str | None, per_key: str | None = None,
    rejected_ids: str | None = None,
) -> str:
    """The customer keys ``attach_orders`` reports: ``customer_key``, ``orders`` (its used
    orders) and ``reject_reason``.  ``customers`` is the relation of the accepted
    customer rows with the id in ``id_column`` (typed as the id field); None when the
    customers are made from the order file (only unreadable ids are reported then).
    ``rejected_ids`` (a query of one column ``_id``) lists the ids of rejected customer rows,
    whose orders are not reported (see :func:`orders_of_rejected_accounts`).
    ``sum(orders)`` is the summary's unknown-customer count."""
    d = orders.dialect
    q = d.quote
    keys = orders.keys_from(per_key)
    if customers is None:
        return (
            f"SELECT {q(KEY_COLUMN)}, orders, id_error AS reject_reason FROM ({keys}) AS _k WHERE id_error IS NOT NULL"
        )
    not_in = (
        f"'customer ' || {_py_repr(d, f'_k.{q(KEY_COLUMN)}')} || {d.string(f' is not in {customers_file} (')} "
        f"|| CAST(_k.orders AS {d.text_type}) || CASE WHEN _k.orders = 1 THEN ' order)' ELSE ' orders)' END"
    )
    rejected = f"LEFT JOIN (SELECT DISTINCT _id FROM ({rejected_ids}) AS _rs) AS _r ON _k.{q(ID_COLUMN)} = _r._id " if rejected_ids else ""
    known = " AND _r._id IS NULL" if rejected_ids else ""
    return (
        f"SELECT _k.{q(KEY_COLUMN)} AS {q(KEY_COLUMN)}, _k.orders AS orders, "
        f"CASE WHEN _k.id_error IS NOT NULL THEN _k.id_error ELSE {not_in} END AS reject_reason "
        f"FROM ({keys}) AS _k LEFT JOIN (SELECT DISTINCT {q(id_column)} AS _id FROM {customers} AS _cs) AS _c "
        f"ON _k.{q(ID_COLUMN)} = _c._id {rejected}WHERE _k.id_error IS NOT NULL OR (_c._id IS NULL{known})"
    )


def orders_of_rejected_accounts(orders: OrderSql, customers: str, id_column: str, rejected_ids: str, per_key: str | None = None) -> str:
    """One row, one column: the used orders of customers whose row was rejected (and
    that have no accepted row), which ``attach_orders`` counts apart."""
    q = orders.dialect.quote
    return (
        f"SELECT COALESCE(sum(_k.orders), 0) FROM ({orders.keys_from(per_key)}) AS _k "
        f"JOIN (SELECT DISTINCT _id FROM ({rejected_ids}) AS _rs) AS _r ON _k.{q(ID_COLUMN)} = _r._id "
        f"WHERE _k.id_error IS NULL AND _k.{q(ID_COLUMN)} NOT IN (SELECT {q(id_column)} FROM {customers} AS _cs "
        f"WHERE {q(id_column)} IS NOT NULL)"
    )


def unknown_customers(
    orders: OrderSql, customers: str | None, id_column: str, customers_file: str | None, per_key: str | None = None,
    rejected_ids: str | None = None,
) -> str:
    """Every used order row of a customer ``attach_orders`` (``customers`` given) or
    ``customers_from_orders`` (None) reports: ``_row``, ``reject_column`` (NULL),
    ``reject_field`` (``customer_id``), ``reject_reason``, in row order."""
    d = orders.dialect
    q = d.quote
    keys = unknown_keys(orders, customers, id_column, customers_file, per_key, rejected_ids)
    return (
        f"SELECT _t._row AS _row, CAST(NULL AS {d.text_type}) AS reject_column, 'customer_id' AS reject_field, "
        f"_u.reject_reason AS reject_reason FROM ({orders.counted}) AS _t JOIN ({keys}) AS _u "
        f"ON _t.{q(KEY_COLUMN)} = _u.{q(KEY_COLUMN)} WHERE _t._status = {STATUS_USED} ORDER BY _row"
    )


def attached_feature(dialect: Dialect, name: str, feature: str, default: str = "NULL") -> str:
    """A customer's value of order feature ``name`` as ``attach_orders`` sets it, from
    ``feature`` (the features column, NULL when the customer has no features row) and
    ``default`` (SQL of the field's declared default): a customer without orders has
    ``no_orders()``; a missing feature keeps the default."""
    empty = no_orders().get(name)
    parts = [feature] + ([dialect.literal(empty)] if empty is not None else []) + ([default] if default != "NULL" else [])
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


# ---------------------------------------------------------------------------- layered SELECTs


class _Chain:
    """``SELECT *, <columns> FROM (<previous>)`` layers over ``base``: a value computed at
    one level is a plain column for the next, so long expressions are written once."""

    def __init__(self, dialect: Dialect, base: str, reasons: bool = True):
        self.dialect = dialect
        self.base = base
        self.reasons = reasons  # whether cells' reasons are worded (only rejected rows need them)
        self.levels: list[list[tuple[str, str]]] = []

    def column(self, prefix: str) -> _Column:
        return _Column(self, prefix)

    def put(self, level: int, name: str, sql: str) -> str:
        assert all(name != other for columns in self.levels for other, _sql in columns), name
        while len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append((name, sql))
        return self.dialect.quote(name)

    def render(self, star: list[str], outputs: list[tuple[str, str]]) -> str:
        q = self.dialect.quote
        sql = self.base
        for number, level in enumerate(self.levels):
            if level:
                columns = ", ".join(f"{expression} AS {q(name)}" for name, expression in level)
                sql = f"SELECT *, {columns} FROM ({sql}) AS _l{number}"
        selected = [*star, *(f"{expression} AS {q(name)}" for name, expression in outputs)]
        return f"SELECT {', '.join(selected)} FROM ({sql}) AS _l"


class _Column:
    """The steps of one column's coercion: ``let`` adds a value at the current level,
    ``next`` moves on to a level that can read it."""

    def __init__(self, chain: _Chain, prefix: str):
        self.chain = chain
        self.prefix = prefix
        self.level = 0

    @property
    def dialect(self) -> Dialect:
        return self.chain.dialect

    def let(self, name: str, sql: str) -> str:
        return self.chain.put(self.level, self.prefix + name, sql)

    def next(self) -> None:
        self.level += 1


# ---------------------------------------------------------------------------- characters


@lru_cache(maxsize=None)
def _tables() -> dict[str, str]:
    """Character tables from Python's own Unicode database, so the SQL reads text as
    :mod:`tierkit.io.fieldtypes` does (str.strip, float(), NFKC, re's \\d, repr)."""
    spaces = WHITESPACE
    digits_from, digits_to = [], []
    single_from, single_to = [], []
    multi: dict[str, str] = {}
    # what can take part in a number, a date or a null marker after NFKC (a character
    # that NFKC maps to anything else leaves a text that reads as nothing, mapped or not)
    relevant = set("0123456789.,+-%:/TZeE ¥$元RMBCNYUSD万亿千百年月日号−—#nauloiNAULOI")
    for code in range(0x80, 0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        if char.isdecimal():
            digits_from.append(char)
            digits_to.append(str(unicodedata.decimal(char)))
        normal = unicodedata.normalize("NFKC", char)
        normal = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in normal)
        if normal == char:
            continue
        if len(normal) == 1 and (normal in relevant or normal.isspace()):
            single_from.append(char)
            single_to.append(normal)
        elif len(normal) > 1 and all(c in relevant or c.isspace() for c in normal):
            multi[char] = normal
    for char, digit in zip(digits_from, digits_to):  # digits NFKC leaves as they are (Arabic-Indic…)
        if char not in single_from:
            single_from.append(char)
            single_to.append(digit)
    return {
        "spaces": spaces,
        "digits_from": "".join(digits_from),
        "digits_to": "".join(digits_to),
        "nfkc_from": "".join(single_from),
        "nfkc_to": "".join(single_to),
        "multi": multi,
        "nonprintable": _regex_class(
            c for c in range(0x110000)
            if not chr(c).isprintable() and not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"
        ),
        "space_class": _regex_class(map(ord, spaces)),
    }


def _regex_class(codes) -> str:
    """A regex character class of code points."""
    return f"[{code_point_class(codes)}]"


# ---------------------------------------------------------------------------- SQL pieces


def _s(d: Dialect, text: str) -> str:
    return d.string(text)


def _full_match(d: Dialect, text: str, pattern: str) -> str:
    anchored = _s(d, f"^(?:{pattern})\\z")
    return f"regexp_matches({text}, {anchored})" if d.name == "duckdb" else f"regexp_like({text}, {anchored})"


def _contains_match(d: Dialect, text: str, pattern: str) -> str:
    return f"regexp_matches({text}, {_s(d, pattern)})" if d.name == "duckdb" else f"regexp_like({text}, {_s(d, pattern)})"


def _replace_re(d: Dialect, text: str, pattern: str, replacement: str = "") -> str:
    if d.name == "duckdb":
        return f"regexp_replace({text}, {_s(d, pattern)}, {_s(d, replacement)}, 'g')"
    return f"regexp_replace({text}, {_s(d, pattern)}, {_s(d, replacement)})"


def _extract(d: Dialect, text: str, pattern: str, group: int) -> str:
    return f"regexp_extract({text}, {_s(d, pattern)}, {group})"


def _strip(d: Dialect, text: str) -> str:
    """Python's ``str.strip()``: Unicode whitespace off both ends."""
    spaces = _s(d, _tables()["spaces"])
    return f"trim({text}, {spaces})" if d.name == "duckdb" else f"trim(BOTH {spaces} FROM {text})"


def _strip_edges(d: Dialect, text: str) -> str:
    """``str.strip()`` for every cell, cheap where there is nothing to strip: an end
    character outside the code points of Unicode whitespace (all below 33, or from 133
    to 160, or from 5760 to 12288) skips the trim, which is slow on long texts."""
    if d.name == "duckdb":
        first, last = f"ord({text}[1])", f"ord({text}[-1])"
    else:
        first, last = f"ascii({text})", f"ascii(substr({text}, -1))"

    def clear(code: str) -> str:
        return f"({code} BETWEEN 33 AND 132 OR {code} BETWEEN 161 AND 5759 OR {code} > 12288)"

    return f"CASE WHEN {clear(first)} AND {clear(last)} THEN {text} ELSE {_strip(d, text)} END"


def _map_chars(d: Dialect, text: str, body) -> str:
    """``text`` with each character ``c`` replaced by ``body('c')`` (SQL over c)."""
    if d.name == "duckdb":
        return f"array_to_string(list_transform(string_split({text}, ''), {d.lambda_('c', body('c'))}), '')"
    return f"array_join(transform(split({text}, ''), {d.lambda_('c', body('c'))}), '')"


def _map_literal(d: Dialect, items: dict[str, str]) -> str:
    """A constant text-to-text map, written as two ``;``-joined texts (two literals,
    not hundreds, for the engines' planners)."""
    assert not any(";" in key + value for key, value in items.items())
    keys, values = _s(d, ";".join(items)), _s(d, ";".join(items.values()))
    if d.name == "duckdb":
        return f"MAP(string_split({keys}, ';'), string_split({values}, ';'))"
    return f"map_from_arrays(split({keys}, ';'), split({values}, ';'))"


def _map_get(d: Dialect, mapping: str, key: str) -> str:
    """The value of ``key`` in a map, NULL when it has none."""
    return f"map_extract_value({mapping}, {key})" if d.name == "duckdb" else f"try_element_at({mapping}, {key})"


def _code_point(d: Dialect, char: str) -> str:
    return f"unicode({char})" if d.name == "duckdb" else f"ascii({char})"


def _hex(d: Dialect, number: str, width: int) -> str:
    return f"lpad(lower(hex({number})), {width}, '0')"


def _whole(d: Dialect, number: str) -> str:
    """Whether a finite double is whole (``floor`` is a BIGINT in Spark, and overflows)."""
    return f"{d.fmod(number, d.double_literal(1.0))} = 0"


def _infinite_or_nan(d: Dialect, number: str) -> str:
    return f"NOT (abs({number}) < {d.double_literal(float('inf'))})"


def _text(d: Dialect, expression: str) -> str:
    return f"CAST({expression} AS {d.text_type})"


def _py_repr(d: Dialect, text: str) -> str:
    """Python's ``repr`` of a string (quotes, backslash escapes, non-printables as \\x, \\u, \\U)."""
    nonprintable = _tables()["nonprintable"]
    backslash, quote = chr(92), chr(39)
    tab, newline, ret = (_s(d, chr(code)) for code in (9, 10, 13))
    tab_shown, newline_shown, ret_shown, x, u, big_u = (_s(d, backslash + letter) for letter in "tnrxuU")

    def escape(c: str) -> str:
        code = _code_point(d, c)
        return (
            f"CASE WHEN NOT {_contains_match(d, c, nonprintable)} THEN {c} "
            f"WHEN {c} = {tab} THEN {tab_shown} WHEN {c} = {newline} THEN {newline_shown} WHEN {c} = {ret} THEN {ret_shown} "
            f"WHEN {code} <= 255 THEN {x} || {_hex(d, code, 2)} WHEN {code} <= 65535 THEN {u} || {_hex(d, code, 4)} "
            f"ELSE {big_u} || {_hex(d, code, 8)} END"
        )

    def body(escaped: str) -> str:
        return f"CASE WHEN {_contains_match(d, escaped, nonprintable)} THEN {_map_chars(d, escaped, escape)} ELSE {escaped} END"

    backslashes = f"replace({text}, {_s(d, backslash)}, {_s(d, backslash * 2)})"
    quoted = f"replace({backslashes}, {_s(d, quote)}, {_s(d, backslash + quote)})"
    double = f"'\"' || {body(backslashes)} || '\"'"
    single = f"'''' || {body(quoted)} || ''''"
    return f"(CASE WHEN instr({text}, '''') > 0 AND instr({text}, '\"') = 0 THEN {double} ELSE {single} END)"


def _shown(d: Dialect, shown_repr: str) -> str:
    """``fieldtypes._show``: the repr, cut to 57 characters and ``...`` past 60."""
    return f"(CASE WHEN length({shown_repr}) <= 60 THEN {shown_repr} ELSE substr({shown_repr}, 1, 57) || '...' END)"


def _reason(col: _Column, raw: str, kind: str) -> str:
    """At the next level: ``_show(raw) + kind`` where ``kind`` (SQL text) is not NULL;
    a NULL constant when the chain words no reasons."""
    d = col.dialect
    if not col.chain.reasons:
        return _null_text(d)
    col.next()
    shown = _bind(d, _py_repr(d, raw), "_r", lambda r: _shown(d, r))
    return col.let("reason", f"CASE WHEN {kind} IS NOT NULL THEN {shown} || {kind} END")


def _bind(d: Dialect, value: str, name: str, body) -> str:
    """``body(name)`` with ``name`` bound to ``value`` (computed once): a one-item list
    mapped through a lambda."""
    function = "list_transform" if d.name == "duckdb" else "transform"
    items = f"[{value}]" if d.name == "duckdb" else f"array({value})"
    return d.list_item(f"{function}({items}, {d.lambda_(name, body(name))})", 1)


# ---------------------------------------------------------------------------- coercion

_SOURCES = ("text", "string", "number", "integer", "date", "boolean", "list")
# float()'s syntax once its text is stripped and its digits ASCII (underscores between digits)
_FLOAT = r"[+-]?(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
_SPECIAL = r"[+-]?(?i:inf|infinity|nan)"  # what float() reads that is not finite
_FAST_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"  # the common cell, cast directly
_CURRENCY = fieldtypes._CURRENCY
_MULTIPLIERS = {suffix: factor.adjusted() for suffix, factor in fieldtypes._MULTIPLIERS}  # the power of ten, in fieldtypes' order


def _pattern(compiled: re.Pattern) -> str:
    """A fieldtypes pattern for RE2 and Java, over texts whose digits are ASCII already."""
    pattern = compiled.pattern.replace(r"\d", "[0-9]").replace(r"\s", _tables()["space_class"])
    if compiled.flags & re.IGNORECASE:
        pattern = pattern.replace("e[+-]", "[eE][+-]")
        assert re.sub(r"\[[^]]*\]", "", pattern).lower() == re.sub(r"\[[^]]*\]", "", pattern), compiled.pattern
    return pattern


@lru_cache(maxsize=None)
def _patterns() -> dict[str, str]:
    return {
        "plain": _pattern(fieldtypes._PLAIN_NUMBER),
        "grouped": _pattern(fieldtypes._GROUPED_NUMBER),
        "ambiguous": _pattern(fieldtypes._DAY_FIRST_OR_MONTH_FIRST),
    }


def _date_patterns() -> tuple[str, str, str]:
    """fieldtypes' date patterns, in the order it tries them: year, month and day are groups 1-3."""
    return _pattern(fieldtypes._YMD), _pattern(fieldtypes._CHINESE), _pattern(fieldtypes._COMPACT)


def _coerce(col: _Column, raw: str, source: str, target: str) -> tuple[str, str, str]:
    """(value, bad, reason) for a cell of type ``source`` read as a ``target`` field
    (``fieldtypes.make_coercer``): ``bad`` is whether it raises, ``reason`` its message
    (NULL for a good cell).  Only ``reason`` needs the cell's ``repr``."""
    d = col.dialect
    if source in ("text", "string"):
        if target == "string":
            return col.let("value", f"NULLIF({_strip_edges(d, raw)}, '')"), "FALSE", _null_text(d)
        if target in ("number", "integer"):
            return _text_number(col, raw, whole=target == "integer")
        return _text_date(col, raw)
    return _typed(col, raw, source, target)


def _null_text(d: Dialect) -> str:
    return f"CAST(NULL AS {d.text_type})"


def _typed(col: _Column, raw: str, source: str, target: str) -> tuple[str, str, str]:
    """A typed cell (Parquet, JSON): what the coercer does with the Python value."""
    d = col.dialect
    if source == "integer" and target == "date":  # fieldtypes reads str(raw) as a date text
        text = col.let("text", _text(d, raw))
        col.next()
        return _text_date(col, text, iso_first=False)
    value, reason = _typed_value(col, raw, source, target)
    return value, "FALSE" if reason == _null_text(d) else f"{reason} IS NOT NULL", reason


def _typed_value(col: _Column, raw: str, source: str, target: str) -> tuple[str, str]:
    d = col.dialect
    null = _null_text(d)
    number = f"CAST({raw} AS DOUBLE)"
    not_finite = _infinite_or_nan(d, number)
    special_repr = f"CASE WHEN isnan({number}) THEN 'nan' WHEN {number} > 0 THEN 'inf' ELSE '-inf' END"
    parts = ", ".join(_text(d, f"{part}(CAST({raw} AS DATE))") for part in ("year", "month", "day"))
    kind_of = {  # fieldtypes._kind_of of a value of the wrong type
        "boolean": f"CASE WHEN {raw} THEN 'True' ELSE 'False' END",
        "date": f"'datetime.date(' || concat_ws(', ', {parts}) || ')'",
        "list": "'a list'",
        "number": f"CASE WHEN {not_finite} THEN {special_repr} ELSE {_float_repr(d, number)} END",
    }
    if target == "string":
        if source == "integer":
            return col.let("value", _text(d, raw)), null
        if source == "number":  # an integral float loses its .0
            whole = f"{_whole(d, number)} AND abs({number}) < 1e38"
            text = (f"CASE WHEN {not_finite} THEN {special_repr} "
                    f"WHEN {whole} THEN {_text(d, f'CAST({number} AS DECIMAL(38, 0))')} ELSE {_float_repr(d, number)} END")
            return col.let("value", text), null
        if source == "date":
            return col.let("value", _text(d, f"CAST({raw} AS DATE)")), null
        if source == "boolean":
            return col.let("value", kind_of["boolean"]), null
        return col.let("value", null), col.let("reason", f"CASE WHEN {raw} IS NOT NULL THEN 'a list is not text' END")
    if target in ("number", "integer"):
        if source == "integer":
            return col.let("value", raw if target == "integer" else number), null
        if source == "number":
            bad = f"WHEN {not_finite} THEN {special_repr} || ' is not a finite number'"
            if target == "integer":
                bad += f" WHEN NOT {_whole(d, number)} THEN {_float_repr(d, number)} || ' is not a whole number'"
            reason = col.let("reason", f"CASE {bad} END")
            value = number if target == "number" else f"TRY_CAST({number} AS BIGINT)"
            return col.let("value", f"CASE WHEN NOT {not_finite} THEN {value} END"), reason
        word = "a number" if target == "number" else "a whole number"
        reason = col.let("reason", f"CASE WHEN {raw} IS NOT NULL THEN {kind_of[source]} || ' is not {word}' END")
        return col.let("value", f"CAST(NULL AS {d.type_of(target)})"), reason
    # a date
    if source == "date":
        return col.let("value", f"CAST({raw} AS DATE)"), null
    reason = col.let("reason", f"CASE WHEN {raw} IS NOT NULL THEN {kind_of[source]} || ' is not a date' END")
    return col.let("value", "CAST(NULL AS DATE)"), reason


def _float_repr(d: Dialect, number: str) -> str:
    """Python's repr of a finite double (``20260101.0``, ``1.5``, ``1e+16``)."""
    if d.name == "duckdb":  # DuckDB writes doubles as Python does
        return _text(d, number)
    float_text = getattr(d, "float_text", None)
    fraction = float_text(number) if float_text is not None else _text(d, number)
    java = _text(d, number)  # Java: 5.0, 2.0260101E7, 1.0E16
    large = f"replace(regexp_replace({java}, '[.]0E', 'E'), 'E', 'e+')"
    whole = (
        f"CASE WHEN abs({number}) < 1e7D THEN {java} "
        f"WHEN abs({number}) < 1e16D THEN {_text(d, f'CAST({number} AS BIGINT)')} || '.0' ELSE {large} END"
    )
    return f"(CASE WHEN {_whole(d, number)} THEN {whole} ELSE {fraction} END)"


def _strip_currency(d: Dialect, text: str) -> str:
    """``fieldtypes._strip_currency``: strip, then each mark in turn off the front and the end."""
    ws = _tables()["space_class"]
    out = _strip(d, text)
    for mark in _CURRENCY:
        literal = mark.replace("$", "\\$")
        # off the front, then off the end: one pass, as the two cannot overlap in a stripped text
        out = _replace_re(d, out, f"^{literal}{ws}*|{ws}*{literal}" + END)
    return out


END = "\\z"  # the end of the text (Java's $ also matches before a final line break)


def _missing(d: Dialect, text: str) -> str:
    """``fieldtypes._is_missing`` of a stripped text: empty, or a null marker."""
    markers = "|".join(re.escape(marker) for marker in sorted(NULL_MARKERS))
    return f"COALESCE({text} = '' OR {_full_match(d, f'lower({text})', markers)}, FALSE)"


def _normalised(d: Dialect, raw: str) -> str:
    """``unicodedata.normalize('NFKC', raw).strip()`` for the characters that matter
    (see :func:`_tables`)."""
    tables = _tables()
    single = f"translate({raw}, {_s(d, tables['nfkc_from'])}, {_s(d, tables['nfkc_to'])})"
    multi = tables["multi"]
    mapping = _map_literal(d, multi)
    pattern = _regex_class(map(ord, multi))

    def expanded(text: str) -> str:
        mapped = _map_chars(d, text, lambda c: f"COALESCE({_map_get(d, mapping, c)}, {c})")
        return f"CASE WHEN {_contains_match(d, text, pattern)} THEN {mapped} ELSE {text} END"

    return _strip(d, _bind(d, single, "_n", expanded))


def _lets(d: Dialect, stages: list[list[tuple[str, str]]], result: str) -> str:
    """``result`` with each name of ``stages`` bound to its value (a value may read the
    names of earlier stages): one-item lambdas, so that every value is written and
    computed once and the expression stays as long as its parts.  A stage's names are
    bound together, as the fields of one struct: the engines' binders slow down
    steeply with the depth of nested lambdas."""
    for number in range(len(stages) - 1, -1, -1):
        stage = stages[number]
        if len(stage) == 1:
            ((name, value),) = stage
            result = _bind(d, value, name, lambda _name, body=result: body)
            continue
        group = f"_g{number}"
        for name, _value in stage:
            result = re.sub(rf"\b{name}\b", lambda _match, name=name: _field(d, group, name), result)
        result = _bind(d, _struct(d, **dict(stage)), group, lambda _name, body=result: body)
    return result


def _struct(d: Dialect, **fields: str) -> str:
    if d.name == "duckdb":
        return f"struct_pack({', '.join(f'{d.quote(name)} := {value}' for name, value in fields.items())})"
    return f"named_struct({', '.join(f'{_s(d, name)}, {value}' for name, value in fields.items())})"


def _field(d: Dialect, struct: str, name: str) -> str:
    return f"struct_extract({struct}, {_s(d, name)})" if d.name == "duckdb" else f"{struct}.{d.quote(name)}"


def _cell(col: _Column, raw: str, fast: str, slow_when: str, slow: str, kind_first: str | None = None) -> tuple[str, str, str]:
    """Levels: the slow reading (a struct of value and kind) where ``slow_when``, then
    value and kind, then the reason."""
    d = col.dialect
    col.next()
    parsed = col.let("parsed", f"CASE WHEN {slow_when} THEN {slow} END")
    col.next()
    value = col.let("value", f"COALESCE({fast}, {_field(d, parsed, 'value')})")
    kind = _field(d, parsed, "kind")
    kind = col.let("kind", f"CASE WHEN {kind_first} THEN ' is beyond 64-bit integers' ELSE {kind} END" if kind_first else kind)
    return value, f"{kind} IS NOT NULL", _reason(col, raw, kind)


def _text_number(col: _Column, raw: str, whole: bool) -> tuple[str, str, str]:
    """``fieldtypes`` number (or, ``whole``, integer) of a text cell: ``float()`` first
    (for integers ``str.isdigit()`` then ``int()``), then the written forms
    (``_parse_decimal``)."""
    d = col.dialect
    tables = _tables()
    ws = tables["space_class"]
    inf = d.double_literal(float("inf"))
    if whole:
        digits_only = _full_match(d, raw, "[0-9]+")
        fast = col.let("fast", f"CASE WHEN {digits_only} THEN TRY_CAST({raw} AS BIGINT) END")
        beyond = col.let("beyond", f"COALESCE({digits_only}, FALSE) AND TRY_CAST({raw} AS BIGINT) IS NULL")
        slow_when = f"{raw} IS NOT NULL AND NOT {_full_match(d, raw, '[0-9]+')}"
    else:
        plain = f"{_full_match(d, raw, _FAST_NUMBER)} AND length({raw}) <= 300"
        fast = col.let("fast", f"CASE WHEN {plain} THEN CAST({raw} AS DOUBLE) END")
        slow_when = f"{raw} IS NOT NULL AND {fast} IS NULL"
    r, t, fl, special, missing, b1, suffix, body, shift, number, decimal = (
        f"_v{name}" for name in ("r", "t", "float", "special", "missing", "b1", "suffix", "body", "shift", "number", "decimal")
    )
    percent = _replace_re(d, b1, ws + "*%" + END)
    multiplied = _strip_currency(d, _replace_re(d, b1, "(?:" + "|".join(_MULTIPLIERS) + ")" + END))
    shifts = " ".join(f"WHEN {_s(d, k)} THEN {v}" for k, v in _MULTIPLIERS.items())
    exponent = f"COALESCE(TRY_CAST(NULLIF({_extract(d, number, '[eE]([+-]?[0-9]+)' + END, 1)}, '') AS BIGINT), 0)"
    shifted = f"{_extract(d, number, '^([^eE]*)', 1)} || 'e' || {_text(d, f'{exponent} + {shift}')}"
    digits = f"translate({raw}, {_s(d, tables['digits_from'])}, {_s(d, tables['digits_to'])})"
    stages = [
        [(t, f"replace({_normalised(d, raw)}, '−', '-')")] + ([] if whole else [(r, _strip(d, digits))]),
        [(missing, _missing(d, t)), (b1, _strip_currency(d, t))] + ([] if whole else [
            (fl, f"CASE WHEN {_full_match(d, r, _FLOAT)} THEN TRY_CAST(replace({r}, '_', '') AS DOUBLE) END"),
            (special, f"COALESCE({_full_match(d, r, _SPECIAL)}, FALSE)"),
        ]),
        [(suffix, _extract(d, b1, "(" + "|".join(["%", *_MULTIPLIERS]) + ")" + END, 1))],
        [(body, f"CASE {suffix} WHEN '%' THEN {percent} WHEN '' THEN {b1} ELSE {multiplied} END"),
         (shift, f"CASE {suffix} {shifts} ELSE 0 END")],
        [(number, f"CASE WHEN {_full_match(d, body, _patterns()['grouped'])} THEN replace(replace({body}, ',', ''), ' ', '') "
                  f"WHEN {_full_match(d, body, _patterns()['plain'])} THEN {body} END")],
        # Decimal(body) * 10**shift, rounded once: the shift joins the exponent
        [(decimal, f"TRY_CAST(CASE WHEN {shift} = 0 THEN {number} ELSE {shifted} END AS DOUBLE)")],
    ]
    finite = f"abs({decimal}) < {inf}"
    not_number = f"{number} IS NULL OR {decimal} IS NULL"
    if whole:
        # a written number whose double is whole is whole (exactly so below 2**53)
        in_range = f"abs({decimal}) < {d.double_literal(2.0**63)}"
        value = f"CASE WHEN NOT {missing} AND {finite} AND {_whole(d, decimal)} AND {in_range} THEN CAST({decimal} AS BIGINT) END"
        kind = (
            f"CASE WHEN {missing} THEN NULL WHEN {not_number} THEN ' is not a number' "
            f"WHEN NOT {finite} THEN ' is beyond 64-bit integers' WHEN NOT {_whole(d, decimal)} THEN ' is not a whole number' "
            f"WHEN NOT {in_range} THEN ' is beyond 64-bit integers' END"
        )
        return _cell(col, raw, fast, slow_when, _lets(d, stages, _struct(d, value=value, kind=kind)), kind_first=beyond)
    value = (
        f"CASE WHEN {fl} IS NOT NULL THEN CASE WHEN abs({fl}) < {inf} THEN {fl} END "
        f"WHEN {special} OR {missing} THEN NULL WHEN {finite} THEN {decimal} END"
    )
    kind = (
        f"CASE WHEN {fl} IS NOT NULL THEN CASE WHEN NOT abs({fl}) < {inf} THEN ' is not a finite number' END "
        f"WHEN {special} THEN ' is not a finite number' WHEN {missing} THEN NULL "
        f"WHEN {not_number} THEN ' is not a number' WHEN NOT {finite} THEN ' is not a finite number' END"
    )
    return _cell(col, raw, fast, slow_when, _lets(d, stages, _struct(d, value=value, kind=kind)))


def _text_date(col: _Column, raw: str, iso_first: bool = True) -> tuple[str, str, str]:
    """``fieldtypes`` date of a text cell: ``date.fromisoformat`` for a 10-character
    ``YYYY-…`` text (ISO week dates included), else ``_parse_date``."""
    d = col.dialect
    iso = f"{_full_match(d, raw, '[0-9]{4}-[0-9]{2}-[0-9]{2}')} AND substr({raw}, 1, 4) <> '0000'"
    fast = col.let("fast", f"CASE WHEN {iso} THEN TRY_CAST({raw} AS DATE) END")
    is_week = _full_match(d, raw, "[0-9]{4}-W[0-9]{2}-[0-9]") if iso_first else "FALSE"
    wy, ww, wd, week, t, missing, m0, m1, m2, ambiguous, y, m, day = (
        f"_v{name}" for name in ("wy", "ww", "wd", "week", "t", "missing", "m0", "m1", "m2", "ambiguous", "y", "m", "d")
    )
    patterns = _date_patterns()
    matches = (m0, m1, m2)

    def part(group: int) -> str:
        branches = " ".join(
            f"WHEN {match} THEN TRY_CAST({_extract(d, t, '^(?:' + pattern + ')' + END, group)} AS INTEGER)"
            for match, pattern in zip(matches, patterns)
        )
        return f"CASE {branches} END"

    stages = [
        [*((name, f"CASE WHEN {is_week} THEN CAST(substr({raw}, {start}, {length}) AS INTEGER) END")
           for name, (start, length) in zip((wy, ww, wd), ((1, 4), (7, 2), (10, 1)))),
         (t, _normalised(d, raw))],
        [(week, _iso_week_date(d, wy, ww, wd)), (missing, _missing(d, t)),
         *((match, f"COALESCE({_full_match(d, t, pattern)}, FALSE)") for match, pattern in zip(matches, patterns)),
         (ambiguous, f"COALESCE({_full_match(d, t, _patterns()['ambiguous'])}, FALSE)")],
        [(y, part(1)), (m, part(2)), (day, part(3))],
    ]
    valid = f"CASE WHEN {y} >= 1 AND {m} BETWEEN 1 AND 12 THEN {day} BETWEEN 1 AND day(last_day(make_date({y}, {m}, 1))) ELSE FALSE END"
    value = f"COALESCE({week}, CASE WHEN {valid} THEN make_date({y}, {m}, {day}) END)"
    invalid = (
        f"' is not a valid date: ' || CASE WHEN {y} < 1 THEN 'year ' || {_text(d, y)} || ' is out of range' "
        f"WHEN {m} < 1 OR {m} > 12 THEN 'month must be in 1..12' ELSE 'day is out of range for month' END"
    )
    kind = (
        f"CASE WHEN {week} IS NOT NULL OR {missing} THEN NULL "
        f"WHEN {' OR '.join(matches)} THEN CASE WHEN NOT {valid} THEN {invalid} END "
        f"WHEN {ambiguous} THEN ' is ambiguous (day/month order unknown); write dates as YYYY-MM-DD' "
        f"ELSE ' is not a date (use YYYY-MM-DD)' END"
    )
    slow = _lets(d, stages, _struct(d, value=value, kind=kind))
    return _cell(col, raw, fast, f"{raw} IS NOT NULL AND {fast} IS NULL", slow)


def _iso_week_date(d: Dialect, year: str, week: str, weekday: str) -> str:
    """``date.fromisoformat('YYYY-Www-D')`` (NULL where it raises)."""
    epoch = "DATE '0001-01-01'"  # a Monday

    def weekday_of(day: str) -> str:  # Monday 0
        return f"({d.days_between(epoch, day)} % 7)"

    jan1, jan4 = f"make_date({year}, 1, 1)", f"make_date({year}, 1, 4)"
    leap = f"(({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0)"
    has_53 = f"({weekday_of(jan1)} = 3 OR ({weekday_of(jan1)} = 2 AND {leap}))"
    monday = d.add_days(jan4, f"-{weekday_of(jan4)}")
    day = d.add_days(monday, f"({week} - 1) * 7 + {weekday} - 1")
    in_range = f"{weekday} BETWEEN 1 AND 7 AND ({week} BETWEEN 1 AND 52 OR ({week} = 53 AND {has_53}))"
    return f"CASE WHEN {year} >= 1 THEN CASE WHEN {in_range} THEN CASE WHEN {day} <= DATE '9999-12-31' THEN {day} END END END"
