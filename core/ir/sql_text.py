"""SQL text of IR trees, remembered between runs so that a warm run skips sqlglot.

Lowering a ruleset to SQL (importing sqlglot, building its trees, writing them out)
was a third of a 600-row DuckDB command's time; the text is a pure function of the
tree lowered, the names its bindings are stored in, the dialect, and the code that
lowers it (tierkit's source and sqlglot's version).  :func:`lowered` keys each text on
exactly that: the tree walked field by field (a Python function by a name that is the
same in every process, see :func:`ir.function_key`), so any change in the ruleset, a
plugin, an option or the input's header that changes a tree gives a new key, hence a
fresh lowering.  A tree calling a function with no such name is lowered every time.

The texts a run uses live in one JSON file per run scope (the caller's: ruleset,
dialect, options) under the user's cache directory (``TIERKIT_CACHE_DIR``, empty to
turn it off; else ``$XDG_CACHE_HOME/tierkit`` or ``~/.cache/tierkit``), rewritten with
the run's texts only when one was missing, so it never grows past one run.  A cache that
cannot be read, parsed or written is treated as empty: it never fails a run.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

from tierkit.ir import nodes as ir

_PACKAGE = Path(__file__).resolve().parent.parent
_current: contextvars.ContextVar[TextCache | None] = contextvars.ContextVar("tierkit_sql_text", default=None)


class Unkeyable(Exception):
    """A tree calls a function that has no name across processes (:func:`ir.function_key`)."""


def tree_key(node, resolve: Callable[[str], str] = str):
    """``node`` as plain data: its type and fields, bindings (:class:`ir.Ref`) by the
    column ``resolve`` stores them in, Python functions by :func:`function_key`."""
    if isinstance(node, ir.Ref):
        return ("Ref", resolve(node.name), node.dtype.value)
    if isinstance(node, ir.PyCall):
        key = ir.function_key(node.function)
        if key is None:
            raise Unkeyable(node.udf_name())
        return ("PyCall", key, tuple(tree_key(arg, resolve) for arg in node.args), node.dtype.value, node.null_safe)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__, *(tree_key(getattr(node, item.name), resolve) for item in dataclasses.fields(node)))
    if isinstance(node, (tuple, list)):
        return tuple(tree_key(part, resolve) for part in node)
    if isinstance(node, ir.DType):
        return node.value
    return (type(node).__name__, repr(node))


def py_calls(value) -> dict[str, ir.PyCall]:
    """The Python functions the trees in ``value`` (a tree, or tuples of them) call, by
    UDF name, as their lowering lists them."""
    if isinstance(value, ir.Expr):
        return {call.udf_name(): call for call in value.walk() if isinstance(call, ir.PyCall)}
    if isinstance(value, (tuple, list)):
        return {name: call for part in value for name, call in py_calls(part).items()}
    return {}


class TextCache:
    """The texts of one run scope: those read from its file, and those this run used."""

    def __init__(self, path: Path | None, code: str):
        self.path, self.code = path, code
        self.known: dict[str, str] = _read(path) if path else {}
        self.used: dict[str, str] = {}
        self.missed = False

    def text(self, key, make: Callable[[], str]) -> str:
        digest = hashlib.sha256(repr((self.code, key)).encode("utf-8")).hexdigest()
        text = self.known.get(digest)
        if not isinstance(text, str):
            text, self.missed = make(), True
        self.used[digest] = text
        return text

    def save(self) -> None:
        if self.path is None or not (self.missed or len(self.used) < len(self.known)):
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, delete=False,
                                             suffix=".tmp") as handle:
                json.dump(self.used, handle)
            os.replace(handle.name, self.path)


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cache_dir() -> Path | None:
    """Where the texts are kept, or None when ``TIERKIT_CACHE_DIR`` is set empty."""
    configured = os.environ.get("TIERKIT_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tierkit"


def _code_version() -> str:
    """tierkit's source files (name, size, modification time) and sqlglot's version: a
    lowering changed by either is a new key."""
    files = sorted((str(path.relative_to(_PACKAGE)), path.stat().st_size, path.stat().st_mtime_ns)
                   for path in _PACKAGE.rglob("*.py"))
    try:
        sqlglot = metadata.version("sqlglot")
    except metadata.PackageNotFoundError:
        sqlglot = None
    return hashlib.sha256(repr((files, sqlglot)).encode("utf-8")).hexdigest()


@contextlib.contextmanager
def remembered(scope) -> Iterator[None]:
    """Lowerings within the block use the texts kept for ``scope`` (any repr-able
    value naming the run, e.g. ruleset fingerprint, dialect, options), and keep theirs."""
    directory = cache_dir()
    path = directory / f"sql-{hashlib.sha256(repr(scope).encode('utf-8')).hexdigest()[:32]}.json" if directory else None
    cache = TextCache(path, _code_version())
    token = _current.set(cache)
    try:
        yield
    finally:
        _current.reset(token)
        cache.save()


def lowered(label, trees, make: Callable[[], tuple[str, dict]], udfs: dict, resolve: Callable[[str], str] = str) -> str:
    """The text ``make()`` writes of ``trees`` (with the Python functions it calls, added
    to ``udfs``), or the one kept for the same ``label`` and trees."""
    cache = _current.get()
    try:
        key = None if cache is None else (label, tree_key(trees, resolve))
    except Unkeyable:
        key = None
    if key is None:
        text, functions = make()
        udfs.update(functions)
        return text
    made: dict = {}

    def run() -> str:
        text, functions = make()
        made.update(functions)
        return text

    text = cache.text(key, run)
    udfs.update(made or py_calls(trees))
    return text


def expression_sql(node: ir.Expr, dialect: str, resolve: Callable[[str], str] = str, udfs: dict | None = None,
                   typed: bool = False) -> str:
    """One expression's SQL text for ``dialect``, bindings read from the columns
    ``resolve`` names; ``typed`` casts it to its own type (as a kind's columns store it).
    Its Python functions are added to ``udfs``."""
    def make() -> tuple[str, dict]:
        from tierkit.ir.to_sql import lower_expression  # a warm run never loads sqlglot
        return lower_expression(node, dialect, resolve, typed)

    return lowered(("expression", dialect, typed), node, make, {} if udfs is None else udfs, resolve)
