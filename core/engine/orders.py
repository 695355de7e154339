"""Order history into customer features.

An order table (one row per order: customer id, date, amount; optionally margin, paid
amount, due date, paid date) becomes one set of features per customer, named exactly
as rulesets read them:

=====================  ============================================================
``order_count``        orders up to the as-of date
``revenue``            their total amount
``first_order_date``   the earliest, ``last_order_date`` the latest order date
``recency_days``       as-of date minus last order date, in days
``tenure_days``        as-of date minus first order date, in days
``avg_order_value``    revenue / order_count
``orders_per_year``    order_count × 365 / max(tenure_days, 365): a customer younger
                       than a year is not extrapolated to a full year's pace
``revenue_last_12m``   amount of orders in (as_of − 365 days, as_of]
``revenue_prev_12m``   amount of orders in (as_of − 730 days, as_of − 365 days]
``revenue_trend``      revenue_last_12m / revenue_prev_12m (missing when the
                       previous year is zero)
``overdue_amount``     Σ (amount − paid amount) over orders due before the as-of date
                       and not fully paid (with ``paid_amount`` and ``due_date``); an
                       empty paid amount is nothing paid, and so is a payment dated
                       after the as-of date (``paid_date`` > as-of date)
``avg_days_to_pay``    mean of paid date − order date over orders paid up to the as-of
                       date (with ``paid_date``); later payments are left out
``margin_total``       Σ margin, and ``margin_pct`` = 100 × margin_total / revenue
                       (with ``margin``; missing for a customer with no margin value)
=====================  ============================================================

Nothing after the as-of date reaches a feature: not its orders, not its payments.  A
feature "with" a column exists when any row of the file has that column (JSON Lines
rows may differ in keys), whatever the order of the rows.

Which rows count, in this order: a row with an unreadable cell is rejected; a row the
ruleset's ``orders.where`` does not keep is excluded; a row repeating an earlier row
cell for cell (an export's repeated line) is dropped as a duplicate; a row dated after
the as-of date is ignored; every other row is used, zero and negative amounts
included (a credit note lowers revenue); each group is counted in the summary line.
With ``orders.count: days`` the orders of one customer on one day are one purchase in
``order_count`` (and in ``avg_order_value`` and ``orders_per_year``).

Money is summed exactly: each amount (and margin, paid amount) becomes a whole number
of millionths, ``floor(amount × 10⁶ + 0.5)`` in double arithmetic (the same integer on
every engine, exact for amounts below 9 billion), the sums are integers (DECIMAL in
SQL), and a feature is its sum / 10⁶, the nearest double.  So the order of the rows
never changes a total, and 0.1 + 0.2 is 0.3 as it is written: customers with equal
totals tie, and a tie shares the better outcome wherever a kind breaks one.

A customer with no orders has ``order_count`` 0 and ``revenue`` 0; date features and
ratios are missing.  A missing feature keeps the default the ruleset declares for it
(``recency_days: {type: integer, default: 9999}``).  Order customer ids are read as the
ruleset's id field reads them (``'007'`` is customer 7 when the id is an integer), and
customers made from the order file alone are numbered by their first order row.
Orders dated after the as-of date are ignored and counted; orders of customers missing
from the customer file, or with an id the id field cannot read, are reported with
their rows; bad order rows are rejected like any other row.  Nothing is dropped
silently.
"""

from __future__ import annotations

import datetime as dt
from array import array
from math import floor
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from typing import TYPE_CHECKING

from tierkit.errors import InputError, Position
from tierkit.io.fieldtypes import FieldSpec, _text, make_coercer
from tierkit.io.tables import Rejected, RowError, Table, normalise_header, table_from_rows
from tierkit.io.money import MONEY_SCALE, money_units
from tierkit.plan.order_features import ORDER_COLUMNS, ORDER_FEATURES, REQUIRED_COLUMNS, YEAR, python_features

if TYPE_CHECKING:
    from tierkit.plan.orderpolicy import OrderPolicy


@dataclass
class OrderSummary:
    """What aggregation made of an order file; ``read`` is every row in it."""

    file: str
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    read: int = 0
    used: int = 0
    after_as_of: int = 0
    excluded: int | None = None  # rows orders.where left out (None without orders.where)
    of_rejected_accounts: int = 0  # used rows of customers whose account row was rejected
    duplicate_rows: int = 0
    zero_amount: int = 0
    negative_amount: int = 0
    count_days: bool = False
    rejected: list[Rejected] = field(default_factory=list)
    unknown_customers: list[Rejected] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()  # the file's headers, as found
    rows_of: dict[str, array] = field(default_factory=dict)
    as_of: dt.date | None = None
    totals: dict[str, _Customer] = field(default_factory=dict, repr=False)

    def counts(self) -> dict[str, int]:
        """The counts of the summary line and of the results' meta, as every engine gives them."""
        counts = {
            "read": self.read, "used": self.used, "after_as_of": self.after_as_of,
            "unknown_customer": len(self.unknown_customers), "rejected": len(self.rejected),
            "duplicate_rows": self.duplicate_rows, "zero_amount": self.zero_amount, "negative_amount": self.negative_amount,
            "of_rejected_accounts": self.of_rejected_accounts,
        }
        if self.excluded is not None:
            counts["excluded"] = self.excluded
        return counts

    def describe(self) -> str:
        return describe_order_counts(**self.counts())


def describe_order_counts(
    read: int, used: int, after_as_of: int, unknown_customer: int, rejected: int, duplicate_rows: int = 0,
    zero_amount: int = 0, negative_amount: int = 0, of_rejected_accounts: int = 0, excluded: int | None = None,
) -> str:
    """The one-line account of an order file every engine prints, with the policy for
    what counts: read = used + after as-of + rejected + excluded + duplicate rows.
    Orders of customers missing from the customer file (unknown customers) and of
    customers whose row in it was rejected are among the used rows, counted apart."""
    line = (
        f"orders: read {read:,} · used {used:,} · after as-of {after_as_of:,}"
        f" · unknown customer {unknown_customer:,} · rejected {rejected:,}"
    )
    if of_rejected_accounts:
        line += f" · orders of rejected accounts: {of_rejected_accounts:,}"
    if excluded is not None:
        line += f" · excluded by orders.where {excluded:,}"
    return line + (
        f" · duplicate rows dropped {duplicate_rows:,} · zero amount used {zero_amount:,}"
        f" · negative amount used {negative_amount:,}"
    )


class _Customer:
    """Running totals of one customer's orders, and the rows they came from; money in
    whole millionths (:func:`money_units`)."""

    __slots__ = ("count", "days", "revenue", "first", "last", "last_12m", "prev_12m", "overdue", "pay_days", "paid", "margin", "rows")

    def __init__(self) -> None:
        self.rows = array("L")
        self.count = 0
        self.days: set[dt.date] = set()  # the days it ordered on (with orders.count: days)
        self.revenue = 0
        self.first = self.last = None
        self.last_12m = self.prev_12m = self.overdue = 0
        self.pay_days = 0
        self.paid = 0
        self.margin = None  # no margin value yet

    def merge(self, other: _Customer) -> None:
        """Add another customer's totals (the same customer under another spelling of its id)."""
        self.rows = array("L", sorted((*self.rows, *other.rows)))
        self.count += other.count
        self.days |= other.days
        self.revenue += other.revenue
        self.first = min(day for day in (self.first, other.first) if day is not None)
        self.last = max(day for day in (self.last, other.last) if day is not None)
        self.last_12m += other.last_12m
        self.prev_12m += other.prev_12m
        self.overdue += other.overdue
        self.pay_days += other.pay_days
        self.paid += other.paid
        if other.margin is not None:
            self.margin = other.margin if self.margin is None else self.margin + other.margin


def aggregate_orders(
    file: str,
    rows: Iterable[tuple[int, Mapping[str, Any] | RowError]],
    as_of: dt.date,
    extra_aliases: Mapping[str, Any] | None = None,
    policy: OrderPolicy | None = None,
) -> OrderSummary:
    """Aggregate order rows (as readers yield them) into features per customer id.

    ``policy`` (the ruleset's ``orders:``) brings its headers, ``where`` and ``count``;
    without it ``extra_aliases`` are the more headers per order column."""
    where = policy.where if policy is not None else None
    count_days = policy is not None and policy.count == "days"
    summary = OrderSummary(file, as_of=as_of, excluded=0 if where is not None else None, count_days=count_days)
    lookup = _column_lookup(policy.aliases if policy is not None else extra_aliases or {})
    extra: dict[str, str] = {}
    seen_rows: set = set()
    coercers = {name: make_coercer(FieldSpec(name, type_)) for name, (type_, _) in ORDER_COLUMNS.items()}
    mapping: dict[str, str] | None = None
    keys: tuple | None = None
    mappings: dict[tuple, dict[str, str]] = {}
    columns: dict[str, None] = {}  # every order column any row had, in order of appearance
    headers: dict[str, None] = {}
    totals = summary.totals
    last_12m_start, prev_12m_start = as_of - YEAR, as_of - 2 * YEAR
    for number, raw in rows:
        summary.read += 1
        if isinstance(raw, RowError):
            summary.rejected.append(Rejected(file, number, None, None, raw.reason, "orders"))
            continue
        if tuple(raw) != keys:
            keys = tuple(raw)
            mapping = mappings.get(keys)
            if mapping is None:
                mapping = mappings[keys] = _match_columns(file, keys, lookup)
                columns.update(dict.fromkeys(mapping))
                headers.update(dict.fromkeys(keys))
                if where is not None:
                    extra = policy.extra_headers(keys, file)
        values, problem = _coerce(raw, mapping, coercers)
        if problem:
            summary.rejected.append(Rejected(file, number, *problem, "orders"))
            continue
        if where is not None and not where.keeps(_where_values(values, raw, extra), as_of):
            summary.excluded += 1
            continue
        copy = _row_key(raw)
        if copy in seen_rows:
            summary.duplicate_rows += 1
            continue
        seen_rows.add(copy)
        day = values["order_date"]
        if day > as_of:
            summary.after_as_of += 1
            continue
        summary.used += 1
        customer = totals.get(values["customer_id"])
        if customer is None:
            customer = totals[values["customer_id"]] = _Customer()
        amount = values["amount"]
        if amount <= 0:
            if amount == 0:
                summary.zero_amount += 1
            else:
                summary.negative_amount += 1
        customer.rows.append(number)
        customer.count += 1
        if count_days:
            customer.days.add(day)
        units = floor(amount * MONEY_SCALE + 0.5)  # money_units, inline: once per order row
        customer.revenue += units
        if customer.first is None or day < customer.first:
            customer.first = day
        if customer.last is None or day > customer.last:
            customer.last = day
        if day > last_12m_start:
            customer.last_12m += units
        elif day > prev_12m_start:
            customer.prev_12m += units
        if len(values) > 3:  # a receivable or margin column
            _receivables(customer, values, units, as_of)
    summary.columns = tuple(columns)
    summary.headers = tuple(headers)
    summary.features = dict(zip(totals, _features(list(totals.values()), as_of, summary.columns, count_days)))
    summary.rows_of = {key: customer.rows for key, customer in totals.items()}
    return summary


def _where_values(values: dict, raw: Mapping[str, Any], extra: dict[str, str]) -> dict[str, Any]:
    """What ``orders.where`` reads: the typed order values (``None`` for a column the file
    lacks) and the other columns it names, as text."""
    named = dict.fromkeys(ORDER_COLUMNS)
    named.update(values)
    for name, header in extra.items():
        try:
            named[name] = _text(raw.get(header))
        except ValueError:  # a JSON object or array in the cell: not text
            named[name] = None
    return named


def _row_key(raw: Mapping[str, Any]) -> tuple:
    """A row cell for cell, to find a row that repeats an earlier one exactly."""
    return tuple((header, value if not isinstance(value, list | dict) else repr(value)) for header, value in raw.items())


def _receivables(customer: _Customer, values: dict, amount: int, as_of: dt.date) -> None:
    """Overdue money, days to pay and margin of one order; ``amount`` in millionths."""
    paid, due, paid_on, margin = (values.get(k) for k in ("paid_amount", "due_date", "paid_date", "margin"))
    if paid_on is not None and paid_on > as_of:  # paid after the as-of date: not paid yet then
        paid = paid_on = None
    if due is not None and due < as_of:
        paid = 0 if paid is None else money_units(paid)  # an empty paid amount: nothing paid
        if paid < amount:
            customer.overdue += amount - paid
    if paid_on is not None:
        customer.pay_days += (paid_on - values["order_date"]).days
        customer.paid += 1
    if margin is not None:
        margin = money_units(margin)
        customer.margin = margin if customer.margin is None else customer.margin + margin


_TOTALS = {"_n": "count", "_revenue": "revenue", "_first": "first", "_last": "last", "_last_12m": "last_12m",
           "_prev_12m": "prev_12m", "_overdue": "overdue", "_pay_days": "pay_days", "_paid": "paid", "_margin": "margin"}


def _total(customer: _Customer, name: str):
    """A running total by its name in :func:`tierkit.plan.order_features.totals`."""
    return len(customer.days) if name == "_days" else getattr(customer, _TOTALS[name])


def _features(customers: list[_Customer], as_of: dt.date, columns: tuple[str, ...], count_days: bool = False) -> list[dict[str, Any]]:
    """Each customer's features from its running totals, by the features' one definition
    (:func:`tierkit.plan.order_features.features`) lowered to Python; a feature whose order
    columns the file lacks is left out."""
    step, reads, names = python_features(as_of, tuple(columns), count_days)
    values = step(*([_total(customer, name) for customer in customers] for name in reads), len(customers))
    return [dict(zip(names, row)) for row in zip(*values)]


def no_orders() -> dict[str, Any]:
    """The features of a customer with no order up to the as-of date."""
    return {"order_count": 0, "revenue": 0.0, "revenue_last_12m": 0.0, "revenue_prev_12m": 0.0}


def _column_lookup(extra_aliases: Mapping[str, Any]) -> dict[str, str]:
    lookup = {}
    for name, (_type, aliases) in ORDER_COLUMNS.items():
        extra = extra_aliases.get(name) or ()
        for alias in (name, *aliases, *([extra] if isinstance(extra, str) else extra)):
            lookup.setdefault(normalise_header(alias), name)
    return lookup


def _match_columns(file: str, headers: tuple, lookup: dict[str, str]) -> dict[str, str]:
    """Order column -> header, for the headers of this row."""
    mapping: dict[str, str] = {}
    for header in headers:
        name = lookup.get(normalise_header(header))
        if name is not None and name not in mapping:
            mapping[name] = header
    missing = [name for name in REQUIRED_COLUMNS if name not in mapping]
    if missing:
        name = missing[0]
        looked_for = ", ".join((name, *ORDER_COLUMNS[name][1]))
        raise InputError(
            f"missing order column {name!r} (looked for: {looked_for})",
            Position(file),
            "name it in the ruleset under orders.columns",
        )
    return mapping


def _coerce(raw: Mapping[str, Any], mapping: dict[str, str], coercers) -> tuple[dict, tuple | None]:
    values = {}
    for name, header in mapping.items():
        try:
            value = coercers[name](raw[header])
        except ValueError as error:
            return values, (header, name, str(error))
        if value is None and name in REQUIRED_COLUMNS:
            return values, (header, name, "missing required value")
        values[name] = value
    return values, None


def attach_orders(table: Table, summary: OrderSummary, id_field: str) -> None:
    """Fill each customer row's order features; report orders of unknown customers.

    Order customer ids are matched through the id field's coercion, so ``'007'`` in
    the orders is customer 7 when the id is an integer.  A customer with no orders
    gets :func:`no_orders`; a feature it lacks keeps the field's default.  Every order
    row of a customer not in the table is rejected with the customer file named, and
    every order row whose customer id the id field cannot read, with the reason; the
    orders of a customer whose row the table rejected are counted as orders of
    rejected accounts, not reported as unknown customers.
    """
    id_index = next(index for index, spec in enumerate(table.fields) if spec.name == id_field)
    _attach(table, summary, id_index, _customer_ids(summary, table.fields[id_index]))


class _Ids:
    """The order file's customer ids, read as the id field reads them."""

    def __init__(self) -> None:
        self.keys: dict[Any, list[str]] = {}  # id -> the order keys that read as it
        self.bad: dict[str, str] = {}  # order key -> why the id field cannot read it


def _customer_ids(summary: OrderSummary, id_spec: FieldSpec) -> _Ids:
    coerce = make_coercer(id_spec)
    ids = _Ids()
    for key in summary.features:
        try:
            value = coerce(key)
        except ValueError as error:
            ids.bad[key] = f"customer id {error}"
            continue
        if value is None:
            ids.bad[key] = id_without_value(key)
        else:
            ids.keys.setdefault(value, []).append(key)
    return ids


def id_without_value(key: str) -> str:
    """Why the orders of ``key`` are of no customer: the id field reads it as no value."""
    return f"customer id {key!r} reads as no value"


def not_a_customer(key: str, customers_file: str, orders: int) -> str:
    """Why the ``orders`` of ``key`` are of no customer: the customer file has no such id."""
    return f"customer {key!r} is not in {customers_file} ({orders} order{'' if orders == 1 else 's'})"


def features_by_id(summary: OrderSummary, id_spec: FieldSpec) -> dict[Any, dict[str, Any]]:
    """Each customer's features keyed by its id as the id field reads it, so '007' in an
    order file finds customer 7; ids the field cannot read are left out."""
    ids = _customer_ids(summary, id_spec)
    return {value: _features_of(summary, keys) for value, keys in ids.keys.items()}


def _features_of(summary: OrderSummary, keys: list[str]) -> dict[str, Any]:
    """The features of one customer whose orders may carry its id spelled several ways."""
    if len(keys) == 1:
        return summary.features[keys[0]]
    merged = _Customer()
    for key in keys:
        merged.merge(summary.totals[key])
    return _features([merged], summary.as_of, summary.columns, summary.count_days)[0]


def _attach(table: Table, summary: OrderSummary, id_index: int, ids: _Ids) -> None:
    slots = [(index, spec.name, spec.default) for index, spec in enumerate(table.fields) if spec.name in ORDER_FEATURES]
    empty = no_orders()
    found: dict[Any, dict[str, Any]] = {}
    for row in table.rows:
        value = row[id_index]
        keys = ids.keys.get(value) if value is not None else None
        if keys is None:
            features = empty
        else:
            features = found.get(value)
            if features is None:
                features = found[value] = _features_of(summary, keys)
        for index, name, default in slots:
            feature = features.get(name)
            row[index] = default if feature is None else feature
    unknown = summary.unknown_customers
    rejected = _rejected_ids(table, id_index)
    for value, keys in ids.keys.items():
        if value in found:
            continue
        if value in rejected:  # its account row was rejected: known, and counted apart
            summary.of_rejected_accounts += sum(len(summary.rows_of[key]) for key in keys)
            continue
        for key in keys:
            rows = summary.rows_of[key]
            reason = not_a_customer(key, table.file, len(rows))
            unknown += [Rejected(summary.file, number, None, "customer_id", reason, "orders") for number in rows]
    for key, reason in ids.bad.items():
        unknown += [Rejected(summary.file, number, None, "customer_id", reason, "orders") for number in summary.rows_of[key]]
    unknown.sort(key=lambda item: item.row)


def _rejected_ids(table: Table, id_index: int) -> set:
    """The ids of the table's rejected rows whose id did read."""
    name = table.fields[id_index].name
    return {values[name] for values in table.rejected_values.values() if name in values}


def customers_from_orders(summary: OrderSummary, fields: list[FieldSpec], id_field: str) -> Table:
    """With no customer file, the customers are the ids in the order file.

    Each is read as the id field reads it (one customer however its id is spelled) and
    numbered by its first order row; the table is in id order.
    """
    id_index = next(index for index, spec in enumerate(fields) if spec.name == id_field)
    ids = _customer_ids(summary, fields[id_index])
    first = {value: min(summary.rows_of[key][0] for key in keys) for value, keys in ids.keys.items()}
    table = table_from_rows(summary.file, fields, ((first[value], {id_field: value}) for value in sorted(first)))
    _attach(table, summary, id_index, ids)
    return table
