"""Order history into customer features, as grouped SQL for the DuckDB and Spark engines.

:mod:`tierkit.engine.orders` in SQL: the same features, the same rejected order rows with
the same reasons, the same counts.  :func:`order_aggregation` gives an
:class:`OrderSql`, whose SQL texts are:

``typed_sql``
    One row per order: ``_row``, ``customer_key`` (the customer id cell read as text,
    as ``aggregate_orders`` keys its totals), one typed column per order column
    (``order_date``, ``amount``, ``margin``, ``paid_amount``, ``due_date``,
    ``paid_date``; NULL when the file lacks the column), the rejection
    (``reject_column``, ``reject_field``, ``reject_reason``: the first bad cell in
    column order, with the coercer's reason) and ``_status`` (0 used, 1 after the
    as-of date, 2 rejected, 3 excluded by ``orders.where``, 4 a duplicate of an
    earlier row, cell for cell).

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
    name (as :func:`tierkit.plan.order_features.order_fields` names them; a feature whose columns
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
defaults).  The queries call Python functions (``OrderSql.udfs``): register them first.

The order cells are typed as the customer file's are (:class:`tierkit.engine.sql.input.TypedCells`):
a cell in its type's plain form is read by the engine's cast, every other one by
:func:`tierkit.io.fieldtypes.make_coercer` itself, with its reason, and so is a customer
key the id field reads.  What the SQL engines give otherwise than Python:

* money is summed exactly as :mod:`tierkit.engine.orders` sums it (whole millionths as
  ``DECIMAL(38, 0)``, then the nearest double), so the engine's order of the rows
  changes nothing; but an amount of 2**53 millionths (about 9 billion) or more is no
  longer a whole number of millionths in doubles, and Spark's ``floor`` stops at
  64-bit integers (amounts of about 9 trillion);
* an integer customer id beyond 64 bits is an unreadable id here (``customer id '…'
  is outside the 64-bit range of the SQL engines``), where Python reads it;
* with ``orders.count: days``, a customer whose orders spell its id several ways
  (``007`` and ``7`` for an integer id) counts a day once per spelling;
* JSON Lines rows that differ only in a key one of them lacks and the other holds as
  ``null`` are duplicates here, not in Python (which compares the keys too);
* order rows of a JSON Lines file missing a required key: Python stops with
  "missing order column"; here the column exists (NULL) and the row is rejected
  with "missing required value".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tierkit.errors import TierkitError
from tierkit.plan import order_features
from tierkit.io.fieldtypes import FieldSpec
from tierkit.engine.orders import _column_lookup, _match_columns, id_without_value, no_orders, not_a_customer
from tierkit.plan.order_features import ORDER_COLUMNS, REQUIRED_COLUMNS
from tierkit.ir import nodes as ir
from tierkit.ir.from_expr import TYPES
from tierkit.engine.sql.dialect import Dialect
from tierkit.engine.sql.input import FIRST_PROBLEM, TypedCells, layered

if TYPE_CHECKING:
    from sqlglot import exp

    from tierkit.plan.orderpolicy import OrderPolicy, OrderWhere

STATUS_USED, STATUS_AFTER_AS_OF, STATUS_REJECTED, STATUS_EXCLUDED, STATUS_DUPLICATE = 0, 1, 2, 3, 4
ID_COLUMN = "customer_id"
KEY_COLUMN = "customer_key"
REJECT_COLUMNS = ("reject_column", "reject_field", "reject_reason")
ID_TYPES = ("string", "integer", "number", "date")
_KEY = ir.Column(KEY_COLUMN, ir.DType.STR)
_ORDERS = ir.Column("orders", ir.DType.INT)
_ID_ERROR = ir.Column("id_error", ir.DType.STR)


@dataclass(frozen=True)
class OrderSql:
    """The SQL of one order file's aggregation (see the module docstring)."""

    dialect: Dialect
    file: str
    as_of: dt.date
    headers: dict[str, str]  # order column -> the file's header for it, in the file's column order
    typed: exp.Select  # the typing query's tree (copied where it is read)
    typed_udfs: dict[str, ir.PyCall] = field(default_factory=dict)
    id_spec: FieldSpec | None = None
    count_days: bool = False  # orders.count: days
    filtered: bool = False  # whether orders.where excludes rows

    @property
    def columns(self) -> tuple[str, ...]:
        """The order columns the file has (``OrderSummary.columns``)."""
        return tuple(self.headers)

    @property
    def udfs(self) -> dict[str, ir.PyCall]:
        """The Python functions any query of this aggregation calls, by UDF name."""
        cells, outputs = self._id_reading()
        calls = [node for _name, expr in [*cells.lets, *outputs, ("", _not_in(""))] for node in expr.walk()
                 if isinstance(node, ir.PyCall)]
        return {**self.typed_udfs, **{node.udf_name(): node for node in calls}}

    @property
    def typed_sql(self) -> str:
        return self._text(self.typed)

    def _text(self, tree: exp.Expr) -> str:
        from tierkit.ir import to_sql  # sqlglot is loaded for an order file only

        return to_sql.to_sql(tree, self.dialect.name)

    # -- the one pass ---------------------------------------------------------------
    def _per_key_tree(self) -> exp.Select:
        """``per_key`` as a tree: the typed rows' totals grouped by key and status."""
        from sqlglot import exp

        from tierkit.ir import to_sql

        lowering = to_sql.SqlLowering(str, self.dialect.name)
        used = ir.Compare("==", ir.Column("_status", ir.DType.INT), ir.lit(STATUS_USED))
        read = ("_row", "amount", "order_date", "margin", "paid_amount", "due_date", "paid_date")
        status = exp.alias_(exp.cast(exp.column("_status", quoted=True), "INT"), "_status", quoted=True)  # a small key groups faster
        rows = exp.select(exp.alias_(lowering.lower(ir.case((used, _KEY))), KEY_COLUMN, quoted=True), status,
                          *(exp.column(name, quoted=True) for name in read)).from_(self.typed.subquery("_t"))
        totals = [exp.alias_(lowering.lower(node), name, quoted=True) for name, node in self._totals.items()]
        group = (exp.column(KEY_COLUMN, quoted=True), exp.column("_status"))
        return exp.select(*group, *totals).from_(rows.subquery("_o"), copy=False).group_by(*group, copy=False)

    @property
    def per_key(self) -> str:
        return self._text(self._per_key_tree())

    @property
    def _totals(self) -> dict[str, ir.Expr]:
        return order_features.totals(self.as_of, self.columns)

    def _sql(self, node: ir.Expr) -> str:
        """An IR expression of the order columns or the totals as this dialect's SQL."""
        from tierkit.ir import to_sql

        return self._text(to_sql.SqlLowering(str, self.dialect.name).lower(node))

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

    def _id_reading(self) -> tuple[TypedCells, list[tuple[str, ir.Expr]]]:
        """A used key read as the id field reads it (``tierkit.engine.orders._customer_ids``):
        the key typed, and ``customer_id`` (missing when it cannot), ``id_error`` (why
        not) and ``orders``."""
        if self.id_spec is None or self.id_spec.type == "string":  # the key is stripped text already
            cells = TypedCells({}, [], [], [])
            return cells, [(ID_COLUMN, _KEY), ("id_error", ir.Lit(None, ir.DType.STR)), ("orders", ir.Column("_n", ir.DType.INT))]
        spec = dataclasses.replace(self.id_spec, required=False, default=None, on_invalid="reject")  # its coercer alone
        cells = TypedCells({KEY_COLUMN: "text"}, [spec], [KEY_COLUMN], ["_id"])
        (_name, value), (_column, _field, reason) = cells.values[0], cells.problems[0]
        error = ir.Ref("_id_error", ir.DType.STR)
        cells.lets.append((error.name, ir.case((ir.known(reason), ir.Concat((ir.lit("customer id "), reason))),
                                               (ir.IsMissing(value), ir.PyCall(id_without_value, (_KEY,), ir.DType.STR)))))
        return cells, [(ID_COLUMN, ir.case((ir.IsMissing(error), value))), ("id_error", error),
                            ("orders", ir.Column("_n", ir.DType.INT))]

    def keys_from(self, per_key: str | None = None) -> str:
        """One row per customer key of the used orders: ``customer_key``, ``customer_id``
        (the key as the id field reads it; NULL when it cannot), ``id_error`` (why not,
        as ``attach_orders`` says it), ``orders`` (used orders of the key), and the
        key's running totals."""
        from sqlglot import exp

        relation = exp.to_table(per_key) if per_key is not None else self._per_key_tree().subquery("_k")
        used = exp.select(exp.Star()).from_(relation, copy=False).where(
            exp.column("_status").eq(exp.Literal.number(STATUS_USED)), copy=False)
        cells, outputs = self._id_reading()
        base = cells.base(used.subquery("_u", copy=False), exp.Star())
        query, _udfs = layered(self.dialect.name, base, cells.lets, outputs, [exp.Star()])
        return self._text(query)

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
        return f"SELECT _row, {columns} FROM ({self.typed_sql}) AS _t WHERE _status = {STATUS_REJECTED} ORDER BY _row"


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

    ``relation`` names a relation with a BIGINT ``_row`` (the row number a user sees)
    and the file's columns.  ``source_types`` maps each of the file's columns, in column
    order, to ``text`` (read as text) or the tierkit type of a typed column (``number``,
    ``integer``, ``date``, ``boolean``, ``list``, ``string``).  ``columns_config`` is the
    ruleset's ``orders.columns`` (more headers per order column); ``policy``, the
    ruleset's ``orders:`` (:class:`tierkit.plan.orderpolicy.OrderPolicy`), brings them with
    ``where`` and ``count``.  ``id_spec``, the ruleset's id field, makes ``features``
    one row per customer id as that field reads it.  A file lacking a required column
    raises the same :class:`~tierkit.errors.InputError` as ``aggregate_orders``.
    """
    if id_spec is not None and id_spec.type not in ID_TYPES:
        raise TierkitError(f"order files on the SQL engines need an id field of type {', '.join(ID_TYPES)}, not {id_spec.type}")
    source_types = {header: type_ for header, type_ in source_types.items() if header != "_row"}
    mapping = _match_columns(file, tuple(source_types), _column_lookup(policy.aliases if policy else columns_config or {}))
    extra = policy.extra_headers(tuple(source_types), file) if policy is not None else {}
    where = policy.where if policy is not None else None
    typed, udfs = _typed_orders(dialect, relation, mapping, source_types, as_of, where, extra)
    count_days = policy is not None and policy.count == "days"
    return OrderSql(dialect, file, as_of, dict(mapping), typed, udfs, id_spec, count_days, where is not None)


def _typed_orders(
    d: Dialect, relation: str, mapping: dict[str, str], source_types: dict[str, str], as_of: dt.date,
    where: OrderWhere | None, extra: dict[str, str],
) -> tuple[exp.Select, dict[str, ir.PyCall]]:
    """The typed orders (see ``OrderSql.typed_sql``) and the Python functions they call.
    ``where`` reads the order columns typed and ``extra`` (name -> header) as text, a
    cell that is no text (a JSON list) as missing, as ``tierkit.engine.orders`` reads them."""
    from sqlglot import exp

    fields = [FieldSpec(name, ORDER_COLUMNS[name][0], required=name in REQUIRED_COLUMNS) for name in mapping]
    fields += [FieldSpec(name, "string", on_invalid="missing") for name in extra]
    names = [KEY_COLUMN if name == "customer_id" else name for name in mapping] + [f"_x{i}" for i in range(len(extra))]
    cells = TypedCells(source_types, fields, [*mapping.values(), *extra.values()], names)
    values = dict(zip([*mapping, *extra], (value for _name, value in cells.values)))
    rejection = [(name.lstrip("_"), expr) for name, expr in cells.rejection(every=False)]
    # a row that repeats an earlier one cell for cell (the same outcome, so only used rows matter)
    every = tuple(ir.Column(source, ir.DType.STR) for source in cells.sources.values())
    row = ir.Column("_row", ir.DType.INT)
    copy = ir.Ref("_copy", ir.DType.INT)
    cells.lets.append((copy.name, ir.Window("count", row, (ir.Sort(row),), every)))
    statuses = [(ir.known(FIRST_PROBLEM), ir.lit(STATUS_REJECTED))]
    if where is not None:
        read = {name: values.get(name, ir.Lit(None, TYPES[type_])) for name, (type_, _) in ORDER_COLUMNS.items()}
        read.update({name: values[name] for name in extra})
        statuses.append((ir.Not(ir.holds(where.condition(read, as_of))), ir.lit(STATUS_EXCLUDED)))
    statuses += [(ir.Compare(">", copy, ir.lit(1)), ir.lit(STATUS_DUPLICATE)),
                 (ir.Compare(">", values["order_date"], ir.Lit(as_of, ir.DType.DATE)), ir.lit(STATUS_AFTER_AS_OF))]
    outputs = [(KEY_COLUMN, values["customer_id"])]
    outputs += [(name, values.get(name, ir.Lit(None, TYPES[type_]))) for name, (type_, _) in ORDER_COLUMNS.items()
                if name != "customer_id"]
    outputs += [*rejection, ("_status", ir.case(*statuses, default=ir.lit(STATUS_USED)))]
    return layered(d.name, cells.base(exp.to_table(relation), exp.column("_row")), cells.lets, outputs, [exp.column("_row")])


def _not_in(customers_file: str) -> ir.PyCall:
    """Why the orders of a key are of no customer of ``customers_file`` (``attach_orders``)."""
    return ir.PyCall(not_a_customer, (_KEY, ir.lit(customers_file), _ORDERS), ir.DType.STR)


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
    q = orders.dialect.quote
    keys = orders.keys_from(per_key)
    if customers is None:
        return (
            f"SELECT {q(KEY_COLUMN)}, orders, id_error AS reject_reason FROM ({keys}) AS _k WHERE id_error IS NOT NULL"
        )
    reason = orders._sql(ir.Coalesce((_ID_ERROR, _not_in(customers_file))))
    rejected = f"LEFT JOIN (SELECT DISTINCT _id FROM ({rejected_ids}) AS _rs) AS _r ON _k.{q(ID_COLUMN)} = _r._id " if rejected_ids else ""
    known = " AND _r._id IS NULL" if rejected_ids else ""
    return (
        f"SELECT {q(KEY_COLUMN)}, orders, {reason} AS reject_reason FROM ("
        f"SELECT _k.{q(KEY_COLUMN)} AS {q(KEY_COLUMN)}, _k.orders AS orders, _k.id_error AS id_error "
        f"FROM ({keys}) AS _k LEFT JOIN (SELECT DISTINCT {q(id_column)} AS _id FROM {customers} AS _cs) AS _c "
        f"ON _k.{q(ID_COLUMN)} = _c._id {rejected}WHERE _k.id_error IS NOT NULL OR (_c._id IS NULL{known})) AS _u"
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
        f"_u.reject_reason AS reject_reason FROM ({orders.typed_sql}) AS _t JOIN ({keys}) AS _u "
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
