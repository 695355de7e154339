"""The run store: every saved evaluation in one embedded SQLite file.

"Continuous monitoring and adjustment" needs memory: which customers moved from A
to B since last month, who became at-risk, whose grade a model change moved.
``tierkit evaluate … --save`` records the run here; ``tierkit runs`` lists runs and
``tierkit diff`` compares two; hysteresis reads the latest run's labels back.

The schema is normalised (a run, its schemes, its customers, one row per
customer and scheme, one row per tag) with composite primary keys, so one run's
100,000 customers are a few executemany calls and a diff is a few indexed scans.
Safety comes from SQLite itself: WAL mode, a busy timeout so concurrent savers wait
their turn, and one ``BEGIN IMMEDIATE`` transaction per run, the run row committed
with its outcomes, so a run killed midway leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path

from tierkit import __version__
from tierkit.errors import TierkitError

DEFAULT_STORE = "tierkit-runs.sqlite"
STORE_ENV = "TIERKIT_STORE"
SCHEMA_VERSION = 2  # 2: customers' name and owner, for diffs and notices a person can read
BUSY_TIMEOUT_SECONDS = 60.0

SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    saved_at TEXT NOT NULL,            -- UTC, ISO 8601
    as_of TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    ruleset_version TEXT,
    fingerprint TEXT NOT NULL,
    customers_file TEXT,
    orders_file TEXT,
    customers INTEGER NOT NULL,
    tierkit TEXT NOT NULL
);
CREATE INDEX runs_by_ruleset ON runs (ruleset, id);
CREATE TABLE schemes (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    scheme TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (run_id, scheme)
) WITHOUT ROWID;
CREATE TABLE customers (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    customer TEXT NOT NULL,
    rank INTEGER,
    allocation TEXT,                   -- the allocation rule that matched
    data_hash INTEGER NOT NULL,        -- of the field values read: tells a data change
    name TEXT,                         -- the ruleset's name and owner fields (version 2)
    owner TEXT,
    PRIMARY KEY (run_id, customer)
) WITHOUT ROWID;
CREATE TABLE outcomes (
    run_id INTEGER NOT NULL,
    scheme TEXT NOT NULL,
    customer TEXT NOT NULL,
    label TEXT,
    score REAL,
    computed TEXT,                     -- the label before an override, NULL when none applied
    PRIMARY KEY (run_id, scheme, customer),
    FOREIGN KEY (run_id, customer) REFERENCES customers (run_id, customer)
) WITHOUT ROWID;
CREATE INDEX outcomes_overridden ON outcomes (run_id) WHERE computed IS NOT NULL;
CREATE TABLE tags (
    run_id INTEGER NOT NULL,
    tag TEXT NOT NULL,
    customer TEXT NOT NULL,
    scheme TEXT NOT NULL,
    PRIMARY KEY (run_id, tag, customer, scheme),
    FOREIGN KEY (run_id, customer) REFERENCES customers (run_id, customer)
) WITHOUT ROWID
"""
RUN_COLUMNS = "id, saved_at, as_of, ruleset, ruleset_version, fingerprint, customers_file, orders_file, customers, tierkit"


def store_path(given: str | os.PathLike | None = None) -> Path:
    """``--store``, else ``$TIERKIT_STORE``, else ``tierkit-runs.sqlite`` here."""
    return Path(given or os.environ.get(STORE_ENV) or DEFAULT_STORE)


@dataclass(frozen=True)
class RunInfo:
    """One saved run, as ``tierkit runs`` lists it."""

    id: int
    saved_at: str
    as_of: str
    ruleset: str
    ruleset_version: str | None
    fingerprint: str
    customers_file: str | None
    orders_file: str | None
    customers: int
    tierkit: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    """What a diff needs of two runs, found by joins on the store's keys: only what
    differs comes back, so comparing 100,000 customers stays cheap."""

    a: RunInfo
    b: RunInfo
    schemes: list[str]  # both runs' schemes, b's order first
    migrations: list[tuple[str, str, str | None, str | None]]  # (scheme, customer, old label, new label)
    new_customers: list[str]
    gone_customers: list[str]
    data_changed: set[str]  # customers in both runs whose field values differ
    overridden: set[tuple[str, str]]  # (customer, scheme) with an override in either run
    tags: dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]]]]  # tag -> ({(customer, scheme)} in a, in b)
    people: dict[str, tuple[str | None, str | None]]  # customer -> (name, owner), as run b has them (else a)


class Store:
    """An open run store; use as a context manager so the connection closes."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self.db = connection

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, create: bool = False) -> Store:
        """Open the store; ``create`` makes it (and its tables) when missing."""
        path = store_path(path)
        if not create and not path.is_file():
            raise TierkitError(f"no run store at {path}; save a run first with `tierkit evaluate … --save`")
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as error:
            raise TierkitError(f"cannot open run store {path}: {error}") from None
        store = cls(path, connection)
        try:
            store._prepare(create)
        except BaseException:
            connection.close()
            raise
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc) -> None:
        self.db.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite failures as one-line user errors naming the store."""
        try:
            yield
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise TierkitError(f"run store {self.path} stayed busy for {BUSY_TIMEOUT_SECONDS:g}s; try again") from None
            raise TierkitError(f"run store {self.path}: {error}") from None
        except sqlite3.DatabaseError as error:
            raise TierkitError(f"{self.path} is not a usable tierkit run store: {error}") from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taking the write lock up front (waiting for it if busy)."""
        with self._guard():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _prepare(self, create: bool) -> None:
        """Check the store's format; with ``create``, make the tables under the write
        lock, so that two processes creating one store at once never see half of it."""
        if not create:
            with self._guard():
                self._check_format(create)
            return
        with self._guard():
            self._check_format(create)  # a database that is not a store is refused before anything changes in it
            self._use_wal()
            self.db.execute("PRAGMA synchronous = NORMAL")  # in WAL mode: durable enough, never corrupt
        with self._transaction():
            if self._check_format(create):
                for statement in SCHEMA.split(";"):  # one by one: executescript would commit first
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _use_wal(self) -> None:
        """Switch a new store to WAL.  The switch needs the file to itself for a moment
        and SQLite does not wait for that, so retry while others open it too."""
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _upgrade_from_1(self) -> None:
        """Add the name and owner columns under the write lock (inside the caller's
        transaction when there is one); a store another process upgraded meanwhile is left as it is."""
        outer = self.db.in_transaction
        if not outer:
            self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.db.execute("PRAGMA user_version").fetchone()[0] == 1:
                self.db.execute("ALTER TABLE customers ADD COLUMN name TEXT")
                self.db.execute("ALTER TABLE customers ADD COLUMN owner TEXT")
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            if not outer:
                self.db.execute("ROLLBACK")
            raise
        if not outer:
            self.db.execute("COMMIT")

    def _check_format(self, create: bool) -> bool:
        """Whether the tables are still to be made; raise when this is no store of ours.
        A version 1 store gains the name and owner columns (its runs keep them empty)."""
        # one statement, so one snapshot: another process may create the store in between
        tables, version = self.db.execute(
            "SELECT (SELECT count(*) FROM sqlite_master), user_version FROM pragma_user_version"
        ).fetchone()
        if version > SCHEMA_VERSION:
            raise TierkitError(f"run store {self.path} was written by a newer tierkit (store version {version})")
        if version == 1:
            self._upgrade_from_1()
            return False
        if version == SCHEMA_VERSION:
            return False
        if not create or tables:
            raise TierkitError(f"{self.path} is not a tierkit run store")
        return True

    # -- writing ----------------------------------------------------------------------

    def save(self, evaluation, customers_file: str | None = None, orders_file: str | None = None) -> RunInfo:
        """Record one evaluation: the run and all its outcomes commit together or not at all."""
        plan = evaluation.plan
        ruleset = plan.ruleset
        saved_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._transaction():
            cursor = self.db.execute(
                f"INSERT INTO runs ({RUN_COLUMNS.partition(', ')[2]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (saved_at, evaluation.bound.as_of.isoformat(), ruleset.name, ruleset.version, ruleset.fingerprint,
                 _text(customers_file), _text(orders_file), len(evaluation.rows), __version__),
            )
            run_id = cursor.lastrowid
            self._insert_rows(run_id, evaluation)
        return self.run(str(run_id))

    def _insert_rows(self, run_id: int, evaluation) -> None:
        """Columns built with C-level iteration (zip, repeat): 100,000 customers in about a second."""
        plan = evaluation.plan
        rows = evaluation.rows
        count = len(rows)
        run, db = repeat(run_id, count), self.db
        ids = _texts([row[plan.id_index] for row in rows])
        db.executemany(
            "INSERT INTO schemes VALUES (?, ?, ?, ?)",
            [(run_id, scheme.id, position, scheme.kind) for position, scheme in enumerate(plan.schemes)],
        )
        rank, allocation = plan.rank_slot.index, plan.allocation.slot.index
        rule = _texts([row[allocation][0] for row in rows])
        name, owner = (_texts([row[index] for row in rows]) if index is not None else repeat(None, count)
                       for index in (_field_index(plan, role) for role in ("name", "owner")))
        db.executemany("INSERT INTO customers (run_id, customer, rank, allocation, data_hash, name, owner) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       zip(run, ids, [row[rank] for row in rows], rule, _data_hashes(plan, rows), name, owner))
        for scheme in plan.schemes:
            outcomes = [row[scheme.slot.index] for row in rows]
            pin = plan.pin_slots.get(scheme.id)
            computed = repeat(None, count) if pin is None else _texts([row[pin] and row[pin][1][0] for row in rows])
            db.executemany(
                "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?)",
                zip(repeat(run_id, count), repeat(scheme.id, count), ids, _texts([o[0] for o in outcomes]),
                    _numbers([o[1] for o in outcomes]), computed),
            )
            db.executemany(
                "INSERT OR IGNORE INTO tags VALUES (?, ?, ?, ?)",
                ((run_id, str(tag), customer, scheme.id) for customer, outcome in zip(ids, outcomes) if outcome[2] for tag in outcome[2]),
            )

    # -- reading ----------------------------------------------------------------------

    def runs(self) -> list[RunInfo]:
        with self._guard():
            return [RunInfo(*row) for row in self.db.execute(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY id")]

    def run(self, ref: str) -> RunInfo:
        """A run by id, or ``latest``, or ``previous`` (the run of the same ruleset before the latest)."""
        with self._guard():
            if ref == "latest":
                found = self._one("ORDER BY id DESC LIMIT 1")
                if found is None:
                    raise TierkitError(f"run store {self.path} has no runs yet")
                return found
            if ref == "previous":
                latest = self.run("latest")
                found = self._one("WHERE ruleset = ? AND id < ? ORDER BY id DESC LIMIT 1", latest.ruleset, latest.id)
                if found is None:
                    raise TierkitError(f"no run of {latest.ruleset} before run {latest.id} in {self.path}")
                return found
            if not str(ref).isdigit():
                raise TierkitError(f"{ref!r} is not a run: give a run id, latest or previous (`tierkit runs` lists them)")
            found = self._one("WHERE id = ?", int(ref))
            if found is None:
                raise TierkitError(f"no run {ref} in {self.path} (`tierkit runs` lists them)")
            return found

    def latest_of(self, ruleset: str) -> RunInfo | None:
        with self._guard():
            return self._one("WHERE ruleset = ? ORDER BY id DESC LIMIT 1", ruleset)

    def latest_before(self, ruleset: str, as_of: str) -> RunInfo | None:
        """The latest run of ``ruleset`` as of a date before ``as_of`` (ISO): the run
        before this one, even when this one's data was saved already."""
        with self._guard():
            return self._one("WHERE ruleset = ? AND as_of < ? ORDER BY as_of DESC, id DESC LIMIT 1", ruleset, as_of)

    def carriers(self, run_id: int, tags) -> dict[str, set[str]]:
        """Which of ``tags`` each customer carried in a run (in any scheme)."""
        found: dict[str, set[str]] = {}
        with self._guard():
            for tag in tags:
                for (customer,) in self.db.execute("SELECT DISTINCT customer FROM tags WHERE run_id = ? AND tag = ?", (run_id, tag)):
                    found.setdefault(customer, set()).add(tag)
        return found

    def _one(self, where: str, *parameters) -> RunInfo | None:
        row = self.db.execute(f"SELECT {RUN_COLUMNS} FROM runs {where}", parameters).fetchone()
        return None if row is None else RunInfo(*row)

    def labels(self, run_id: int, schemes) -> dict[str, dict[str, str]]:
        """Each scheme's labels in a run by customer, as computed (before any override)."""
        found: dict[str, dict[str, str]] = {scheme: {} for scheme in schemes}
        with self._guard():
            for scheme in found:
                query = "SELECT customer, coalesce(computed, label) FROM outcomes WHERE run_id = ? AND scheme = ?"
                found[scheme] = dict(self.db.execute(query, (run_id, scheme)))
        return found

    def compare(self, a: RunInfo, b: RunInfo, tags: tuple[str, ...]) -> Comparison:
        """Label changes, customers new and gone, data changes, overrides and ``tags`` of two runs."""
        runs = (a.id, b.id)
        with self._guard():
            run = self.db.execute
            order = "SELECT scheme FROM schemes WHERE run_id = ? ORDER BY position"
            schemes = list(dict.fromkeys([s for (s,) in run(order, (b.id,))] + [s for (s,) in run(order, (a.id,))]))
            migrations = run(
                "SELECT b.scheme, b.customer, a.label, b.label FROM outcomes AS b"
                " JOIN outcomes AS a ON a.run_id = ? AND a.scheme = b.scheme AND a.customer = b.customer"
                " WHERE b.run_id = ? AND a.label IS NOT b.label", runs,
            ).fetchall()
            only = ("SELECT customer FROM customers AS x WHERE run_id = ? AND NOT EXISTS"
                    " (SELECT 1 FROM customers AS y WHERE y.run_id = ? AND y.customer = x.customer) ORDER BY customer")
            new = [customer for (customer,) in run(only, (b.id, a.id))]
            gone = [customer for (customer,) in run(only, runs)]
            changed = {customer for (customer,) in run(
                "SELECT b.customer FROM customers AS b JOIN customers AS a ON a.run_id = ? AND a.customer = b.customer"
                " WHERE b.run_id = ? AND a.data_hash != b.data_hash", runs,
            )}
            overridden = set(run("SELECT customer, scheme FROM outcomes WHERE run_id IN (?, ?) AND computed IS NOT NULL", runs))
            query = "SELECT customer, scheme FROM tags WHERE run_id = ? AND tag = ?"
            tagged = {tag: (set(run(query, (a.id, tag))), set(run(query, (b.id, tag)))) for tag in tags}
            people = {customer: (name, owner) for customer, name, owner in run(
                "SELECT customer, name, owner FROM customers WHERE run_id IN (?, ?)"
                " AND (name IS NOT NULL OR owner IS NOT NULL) ORDER BY run_id = ?", (*runs, b.id))}
        return Comparison(a, b, schemes, migrations, new, gone, changed, overridden, tagged, people)


def previous_labels(plan, given_store: str | None = None) -> dict[str, dict[str, str]]:
    """The labels ``previous_run.<scheme>`` reads: the latest saved run of the same
    ruleset name, when the plan reads any and the store exists; else nothing."""
    if not plan.previous_slots:
        return {}
    path = store_path(given_store)
    if not path.is_file():
        return {}
    with Store.open(path) as store:
        latest = store.latest_of(plan.ruleset.name)
        return {} if latest is None else store.labels(latest.id, plan.previous_slots)


def _data_hashes(plan, rows: list[list]) -> list[int]:
    """A 64-bit digest per customer of the field values the ruleset read: of the
    (field name, value) pairs sorted by name, the fields without a value left out.

    Equal digests in two runs mean that customer's data did not change.  A field the
    customer has no value for counts for nothing, so a ruleset that adds or drops such a
    field (one the data does not have) leaves the digest as it was, and a diff blames
    the ruleset alone; a field added with a default gives the customer a value, and so
    changes it.
    """
    order = sorted(range(len(plan.fields)), key=lambda index: plan.fields[index].name)
    names = [plan.fields[index].name for index in order]
    values = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
    blake, from_bytes = hashlib.blake2b, int.from_bytes

    def digest(row: list) -> int:
        pairs = [pair for pair in zip(names, values(row)) if pair[1] is not None]
        return from_bytes(blake(repr(pairs).encode(), digest_size=8).digest(), "big", signed=True)

    return [digest(row) for row in rows]


def _field_index(plan, role: str) -> int | None:
    """The index of the field playing ``role`` (``name``, ``owner``), None when the ruleset has none."""
    from tierkit.plan.roles import role_field  # it imports the plan compiler, which this module need not load

    name = role_field(plan, role)
    return next((index for index, spec in enumerate(plan.fields) if spec.name == name), None)


def _text(value) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def _texts(values: list) -> list:
    """``values`` as SQLite text (None stays NULL); converted only when some are not text."""
    return values if all(value is None or value.__class__ is str for value in values) else list(map(_text, values))


def _numbers(values: list) -> list:
    """Scores as SQLite numbers; anything else a kind may put there is stored as text."""
    if all(value is None or value.__class__ in (int, float) for value in values):
        return values
    return [value if value is None or isinstance(value, int | float) else str(value) for value in values]
