"""The shapes plugins register, and the registry that collects them without clashes.

Plugins hand the core plain dataclasses through ``register`` callbacks (see
:mod:`tierkit.hookspecs`).  The registry calls each plugin's hook implementation on
its own, so that when two plugins claim one name the error can name both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierkit.errors import TierkitError


@dataclass(frozen=True)
class SchemeKind:
    """A classification or grading scheme kind, e.g. ``rules`` or ``weighted``.

    ``config_schema`` is the JSON Schema (an object schema with ``properties``) of the
    keys a scheme of this kind takes besides the common ``id``, ``kind``, ``label`` and
    ``description``.  ``compile`` receives a :class:`tierkit.plan.build.SchemeBuild` and
    emits the scheme's steps into the plan.  ``attributes`` names extra outcome
    attributes readable from expressions (``scheme.attr``) beside ``label``, ``score``
    and ``tags``: name -> (type, index into the outcome's detail tuple).
    ``compile_sql`` receives a :class:`tierkit.engine.sql.build.SqlBuild` and adds the same
    outcome as SQL columns, for the DuckDB and Spark engines; a kind without it runs
    on the Python engine only, and the SQL engines say so naming the kind.
    """

    name: str
    description: str
    config_schema: Mapping[str, Any]
    compile: Callable[..., Any]
    attributes: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    example: str = ""
    compile_sql: Callable[..., Any] | None = None

    @classmethod
    def documented(cls, name: str, doc: str, config_schema, compile, attributes=None, compile_sql=None) -> SchemeKind:
        """A kind documented by its module docstring: the text before ``Example::`` is
        its description (first line a title), the YAML after it its example."""
        description, _, example = doc.partition("Example::")
        return cls(name, description.strip(), config_schema, compile, attributes or {}, example, compile_sql)


@dataclass(frozen=True)
class Function:
    """A function for expressions (``f(x)`` or ``x | f``) and templates (filter/global).

    ``params`` are type names (``number``, ``integer``, ``string``, ``boolean``,
    ``date``, ``list`` or ``any``); the last one repeats when ``variadic``.  ``returns``
    is a type name, or a callable from the argument types to one.  With
    ``null_safe=False`` (the default) a missing argument makes the result missing
    without calling ``impl``; ``null_safe=True`` functions see ``None`` themselves
    (``default`` does) and give a missing result only when every argument is
    missing.  ``needs_as_of`` passes the run's as-of date first.

    ``sql`` is the function's form for the SQL engines, or ``None`` when it has none
    (a ruleset using it then runs on the Python engine only): ``sql(args, dtype)`` gets
    the arguments as nodes of :mod:`tierkit.ir` (the as-of date first when
    ``needs_as_of``; integers already floats where ``params`` says ``number`` and the
    result is a number) and the result's :class:`tierkit.ir.nodes.DType`, and returns
    the node giving the value ``impl`` would, missing where it gives ``None``: a tree
    of other nodes, or :func:`tierkit.ir.nodes.call` for a function the lowerings spell
    from their tables.  Unless ``null_safe``, a missing argument must give a missing value.
    """

    name: str
    impl: Callable[..., Any]
    params: tuple[str, ...]
    returns: str | Callable[[list[str]], str]
    description: str
    min_args: int | None = None
    variadic: bool = False
    null_safe: bool = False
    needs_as_of: bool = False
    sql: Callable[..., Any] | None = None

    def nullable(self, arg_nullables: list[bool]) -> bool:
        """Whether a null-safe call may still give a missing value (all inputs missing)."""
        return all(arg_nullables)

    def result_type(self, arg_types: list[str]) -> str:
        return self.returns(arg_types) if callable(self.returns) else self.returns


@dataclass(frozen=True)
class Reader:
    """Reads a customer or order file into raw rows.

    ``read(path)`` yields ``(row_number, mapping of column header -> raw value)``; the
    row number is what a user sees (the spreadsheet row, the line of a JSON Lines file).
    """

    name: str
    extensions: tuple[str, ...]
    read: Callable[..., Iterator[tuple[int, Mapping[str, Any]]]]


@dataclass(frozen=True)
class Source:
    """Reads customer or order rows from a database, chosen by URL scheme.

    ``read(url, table, query)`` yields ``(row_number, mapping of column name -> value)``
    for the rows of ``table`` or of the SQL ``query`` (exactly one is given, the other
    is ``None``); the row number is the 1-based row of the result set.  Values may be
    typed (numbers, dates, ``None`` for NULL): they are coerced like file cells.
    ``schemes`` are URL schemes (``postgresql`` also covers ``postgresql+psycopg``);
    ``extensions`` are the file extensions of an embedded database a plain path may
    name instead of a URL (``crm.db``), in which case ``read`` receives that path.
    """

    name: str
    schemes: tuple[str, ...]
    read: Callable[..., Iterator[tuple[int, Mapping[str, Any]]]]
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Writer:
    """Writes result records (JSON-ready dicts) and run metadata to a file, or to a
    destination named by a URL.

    A file writer is chosen by extension and called ``write(path, records, meta)``.  A
    destination writer is chosen by URL scheme (``schemes``; ``postgresql`` also covers
    ``postgresql+psycopg``) and called ``write(url, records, meta, mode)``, ``mode``
    being ``replace``, ``upsert`` or ``append`` (``--write-mode``).  ``records`` of a
    run carry ``records.schema``, the plan's :class:`tierkit.engine.results.ResultsSchema`,
    and ``records.rejected``, the run's rejected rows.
    """

    name: str
    extensions: tuple[str, ...]
    write: Callable[..., None]
    schemes: tuple[str, ...] = ()


@dataclass
class Registry:
    """Everything the loaded plugins registered, keyed by name, with each one's origin."""

    kinds: dict[str, SchemeKind] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    readers: dict[str, Reader] = field(default_factory=dict)
    writers: dict[str, Writer] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    ruleset_dirs: list[Path] = field(default_factory=list)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def collect(cls, pm) -> Registry:
        registry = cls()
        registry._collect(pm, "tierkit_scheme_kinds", "kind", SchemeKind, registry.kinds, lambda k: [k.name])
        registry._collect(pm, "tierkit_functions", "function", Function, registry.functions, lambda f: [f.name])
        registry._collect(pm, "tierkit_readers", "reader", Reader, registry.readers, lambda r: r.extensions)
        registry._collect(pm, "tierkit_writers", "writer", Writer, registry.writers, lambda w: (*w.extensions, *w.schemes))
        registry._collect(pm, "tierkit_sources", "source", Source, registry.sources, lambda s: (*s.schemes, *s.extensions))
        registry.ruleset_dirs = plugin_folders(pm, "tierkit_ruleset_dirs")
        return registry

    def _collect(self, pm, hook_name, what, shape, table, keys_of: Callable[[Any], Iterable[str]]):
        # Oldest registration first, so a clash names the plugin that came first.
        for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
            plugin = impl.plugin_name

            def register(item, plugin=plugin):
                if not isinstance(item, shape):
                    raise TierkitError(f"plugin {plugin!r} registered {item!r}, expected a {shape.__name__}")
                for key in keys_of(item):
                    key = key.lower()
                    if key in table:
                        first = self.origins[(what, key)]
                        raise TierkitError(f"{what} {key!r} is registered by both {first!r} and {plugin!r}")
                    table[key] = item
                    self.origins[(what, key)] = plugin

            call_plugin(impl, hook_name, register=register)

    def origin(self, what: str, name: str) -> str:
        return self.origins[(what, name.lower())]


def call_plugin(impl, hook_name: str, **arguments):
    """Call one plugin's hook implementation (with the arguments it takes); its failure
    names the plugin and the hook.

    A :class:`TierkitError` (a clash, a wrong shape) already says what is wrong."""
    arguments = {name: value for name, value in arguments.items() if name in impl.argnames}
    try:
        return impl.function(**arguments)
    except TierkitError:
        raise
    except Exception as error:
        detail = " ".join(str(error).split())
        raise TierkitError(
            f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(error).__name__}" + (f": {detail}" if detail else "")
        ) from error


def plugin_folders(pm, hook_name: str) -> list[Path]:
    """The folders every plugin returns from ``hook_name``, in hook call order; a plugin
    that fails, or returns something else than folders, is named with the hook."""
    folders: list[Path] = []
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):  # the order a hook call takes
        dirs = call_plugin(impl, hook_name)
        try:
            folders.extend(Path(d) for d in dirs or ())
        except TypeError:
            raise TierkitError(f"plugin {impl.plugin_name!r}: {hook_name} returned {dirs!r}, expected a list of folders") from None
    return folders
