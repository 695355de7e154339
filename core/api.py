"""The Python API: a ruleset loaded once, evaluated on the tables people already hold.

``tierkit.load(name_or_path)`` compiles a ruleset; :meth:`CompiledRuleset.evaluate`
takes customers (and orders) as a pandas or polars DataFrame, a pyarrow Table, an
iterable of dicts, or a file path, and gives a :class:`Result`.  In-memory rows go
through exactly what a file goes through (column matching, coercion, rejection), so
a notebook and ``tierkit evaluate`` grade alike.  Missing values in any of their
forms (``None``, ``NaN``, ``NaT``, ``pd.NA``) are missing, not the text ``"nan"``, and
NumPy scalars become the Python values they hold.  pandas, polars and pyarrow are
imported only when a DataFrame or table is asked for or given.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tierkit.engine.evaluation import compile_ruleset
from tierkit.errors import TierkitError
from tierkit.io.tables import InlineRows, Rejected, RowError, write_results
from tierkit.engine.job import Job, run_job
from tierkit.manager import make_registry
from tierkit.engine.results import SchemaRecords
from tierkit.ruleset.load import load_ruleset


def load(name_or_path: str | os.PathLike, plugins: Iterable[str | os.PathLike] = ()) -> CompiledRuleset:
    """Load, validate and compile a ruleset: a bundled name or a YAML path.

    ``plugins`` are local plugin modules, as ``tierkit --plugin`` loads them.  A ruleset
    that does not validate raises :class:`tierkit.TierkitError` listing every problem.
    """
    registry = make_registry(tuple(plugins))
    ruleset = load_ruleset(name_or_path, registry.ruleset_dirs)
    return CompiledRuleset(compile_ruleset(ruleset, registry), registry)


class CompiledRuleset:
    """A compiled ruleset; evaluate it as often as needed."""

    def __init__(self, plan, registry):
        self._plan, self._registry = plan, registry

    name = property(lambda self: self._plan.ruleset.name, doc="The ruleset's name.")
    version = property(lambda self: self._plan.ruleset.version, doc="The ruleset's version.")
    fingerprint = property(lambda self: self._plan.ruleset.fingerprint, doc="Of the ruleset's content: which rules graded.")

    def __repr__(self) -> str:
        return f"<CompiledRuleset {self.name} {self.version}>"

    def evaluate(self, customers: Any = None, orders: Any = None, as_of: dt.date | str | None = None,
                 lang: str | None = None, store: str | os.PathLike | None = None, engine: str = "python") -> Result:
        """Grade ``customers`` (and/or aggregate ``orders``, one row per order) as of a date.

        Each may be a pandas or polars DataFrame, a pyarrow Table, an iterable of dicts
        or a file path.  ``as_of`` is a date or ``YYYY-MM-DD`` (default: today); ``lang``
        ``en`` or ``zh`` (default: the ruleset's locale).  A ruleset reading the previous
        run gets it from ``store`` (else ``$TIERKIT_STORE`` or ``./tierkit-runs.sqlite``
        when it exists).  ``engine`` is where it runs, as ``tierkit evaluate --engine``
        says: ``python``, ``duckdb`` or ``spark`` (the same results, reasons included).
        Rows that cannot be used are in :attr:`Result.rejected`.
        """
        from tierkit.engine.sql.connection import ENGINES

        if engine not in ENGINES:
            raise TierkitError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
        day = _as_of(as_of)
        job = run_job(self._plan, self._registry, _input(customers, "customers"), _input(orders, "orders"), day,
                      store=None if store is None else os.fspath(store), engine=engine)
        return Result(job, self._registry, lang or self._plan.ruleset.data.get("locale", "en"))


class Result:
    """One evaluation: results in rank order, rejected rows, and each customer's reasons."""

    def __init__(self, job: Job, registry, lang: str):
        self._job, self._registry, self.lang = job, registry, lang

    def __repr__(self) -> str:
        meta = self.meta
        return (f"<Result {meta['ruleset']} {meta['ruleset_version']} as of {meta['as_of']}: "
                f"{meta['evaluated']} evaluated, {meta['rejected']} rejected>")

    def __len__(self) -> int:
        return len(self._job.evaluation.rows)

    @property
    def meta(self) -> dict:
        """The run's metadata: ruleset, version, fingerprint, as-of date, language, counts."""
        return self._job.meta(self.lang)

    @property
    def rejected(self) -> list[Rejected]:
        """Rows not used, customers' and orders' alike, each with its row and reason."""
        return self._job.rejected

    def records(self) -> list[dict]:
        """The nested result records in rank order, as JSON Lines results hold them."""
        return list(self._job.evaluation.records(self.lang))

    def to_pandas(self):
        """The results as a pandas DataFrame with the columns of a results file
        (``id``, ``rank``, ``features.*``, ``outcomes.<scheme>.label``…)."""
        import pandas

        columns, rows = self._flat()
        return pandas.DataFrame.from_records(rows, columns=[column.name for column in columns])

    def to_arrow(self):
        """The results as a pyarrow Table typed as a Parquet results file is."""
        from tierkit.engine.results import arrow_schema, import_pyarrow

        pa, _ = import_pyarrow()
        columns, rows = self._flat()
        return pa.Table.from_pylist(rows, schema=arrow_schema(columns))

    def _flat(self):
        records = self._job.evaluation.records(self.lang)
        schema = records.schema
        return schema.columns, [schema.flat(record) for record in records]

    def explain(self, customer_id: Any, lang: str | None = None) -> str:
        """Every scheme's outcome for one customer, with its reasons, as ``tierkit explain`` prints it."""
        from tierkit.analysis.explanation import render_explanation

        evaluation = self._job.evaluation
        row = evaluation.find(customer_id)
        if row is None:
            raise TierkitError(f"customer {customer_id!r} is not among the evaluated customers")
        lang = lang or self.lang
        return render_explanation(evaluation, evaluation.record(row, lang), lang)

    def write(self, path_or_url: str | os.PathLike, mode: str | None = None) -> None:
        """Write the results as ``tierkit evaluate -o`` does: a file by its extension
        (``.jsonl``, ``.csv``, ``.xlsx``, ``.parquet``) or a database table
        (``sqlite:///grades.db?table=grades``, with ``mode`` ``replace``, ``upsert`` or ``append``)."""
        records = self._job.evaluation.records(self.lang)
        write_results(os.fspath(path_or_url), SchemaRecords(records.schema, records, self.rejected), self.meta, self._registry, mode)


def _as_of(value: dt.date | str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TierkitError(f"as_of {value!r} is not a date in the form YYYY-MM-DD") from None


def _input(data: Any, label: str) -> str | InlineRows | None:
    """A file path as it is; a table or rows as :class:`InlineRows` named ``label``."""
    if data is None or isinstance(data, str | os.PathLike):
        return None if data is None else os.fspath(data)
    return InlineRows(label, _numbered(_mappings(data)))


def _mappings(data: Any) -> Iterator[Any]:
    """The rows of a pandas or polars DataFrame, a pyarrow Table or RecordBatch, or an iterable."""
    library = type(data).__module__.partition(".")[0]
    if library == "pandas" and hasattr(data, "to_dict"):
        return iter(data.to_dict("records"))
    if library == "polars" and hasattr(data, "iter_rows"):
        return data.iter_rows(named=True)
    if library == "pyarrow" and hasattr(data, "to_batches"):
        return (row for batch in data.to_batches() for row in batch.to_pylist())
    if library == "pyarrow" and hasattr(data, "to_pylist"):
        return iter(data.to_pylist())
    if isinstance(data, Mapping) or not isinstance(data, Iterable):
        raise TierkitError(f"cannot evaluate a {type(data).__name__}: give a DataFrame, a pyarrow Table, dicts or a file path")
    return iter(data)


def _numbered(rows: Iterator[Any]) -> Iterator[tuple[int, Mapping[str, Any] | RowError]]:
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Mapping):
            yield number, {str(key): _plain(value) for key, value in row.items()}
        else:
            yield number, RowError(f"expected a mapping of column -> value, got a {type(row).__name__}")


def _plain(value: Any) -> Any:
    """A cell as a Python value: every missing marker ``None``, NumPy scalars unwrapped."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if value != value else value
    kind = type(value)
    if kind.__name__ in ("NAType", "NaTType"):
        return None
    if kind.__module__ == "numpy" and hasattr(value, "item"):
        return _plain(value.tolist() if getattr(value, "ndim", 0) else value.item())
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
