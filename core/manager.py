"""Build the plugin manager: entry points, local plugin files, escape hatches.

A factory, not a module-level global, so tests build a fresh manager with exactly the
plugins they want.  Environment variables mirror pytest/datasette/llm:

- ``TIERKIT_LOAD_PLUGINS``: comma-separated entry-point names to load; set but empty
  loads none (a test then registers its own).
- ``TIERKIT_BLOCK_PLUGINS``: comma-separated plugin names never to load (like ``-p no:x``).
- ``TIERKIT_TRACE_PLUGINS``: print every hook call to stderr.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
import types
from importlib import metadata
from pathlib import Path

import pluggy

from tierkit import __version__, hookspecs
from tierkit.errors import TierkitError
from tierkit.registry import Registry

ENTRY_POINT_GROUP = "tierkit"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, looking for hook implementations among a module's functions only.

    pluggy asks of every name a plugin holds whether it is a hook implementation, through
    ``inspect.getattr_static``; a plugin module holds hundreds of names (everything it
    imports), so registering tierkit's plugins took most of building a manager.  A
    module's name that is not a function is not one; the functions are asked as before."""

    def parse_hookimpl_opts(self, plugin, name: str):
        if isinstance(plugin, types.ModuleType) and not inspect.isfunction(plugin.__dict__.get(name)):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def make_plugin_manager(plugin_files: tuple[str | Path, ...] = ()) -> pluggy.PluginManager:
    """A manager with the hookspecs, the installed plugins and the given local files."""
    pm = PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    for name in _split_env("TIERKIT_BLOCK_PLUGINS") or ():
        pm.set_blocked(name)
    _load_entry_points(pm, _split_env("TIERKIT_LOAD_PLUGINS"))
    loaded: set[Path] = set()
    for path in plugin_files:
        resolved = Path(path).resolve()
        if resolved in loaded:  # the same file given twice is loaded once
            continue
        loaded.add(resolved)
        load_plugin_file(pm, Path(path))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:  # e.g. a misspelt tierkit_* hook
        raise TierkitError(str(error), hint=f"tierkit's hooks: {', '.join(_hook_names())}") from None
    if os.environ.get("TIERKIT_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda message: print(message, end="", file=sys.stderr))
        pm.enable_tracing()
    return pm


def make_registry(plugin_files: tuple[str | Path, ...] = ()) -> Registry:
    return Registry.collect(make_plugin_manager(plugin_files))


def _split_env(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _load_entry_points(pm: pluggy.PluginManager, only: list[str] | None) -> None:
    """Register each ``tierkit`` entry point by its name.  Loaded here rather than by
    pluggy's ``load_setuptools_entrypoints``, which reads every installed distribution's
    entry points again for each name (17 scans, a third of a second in a test process
    building many managers); a failing plugin is then named with its distribution."""
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if only is not None and entry_point.name not in only:
            continue
        if pm.is_blocked(entry_point.name) or pm.get_plugin(entry_point.name) is not None:
            continue
        try:
            pm.register(entry_point.load(), name=entry_point.name)
        except Exception as error:  # a broken third-party plugin must say who it is
            reason = _validation_message(pm, error) if isinstance(error, pluggy.PluginValidationError) else error
            raise TierkitError(
                f"plugin {entry_point.name!r} ({_distribution(entry_point)}) failed to load under tierkit {__version__}: {reason}"
            ) from error


def _distribution(entry_point: metadata.EntryPoint) -> str:
    dist = entry_point.dist
    return f"{dist.name} {dist.version}" if dist else "unknown distribution"


def load_plugin_file(pm: pluggy.PluginManager, path: Path) -> None:
    """Register a local ``.py`` module given with ``--plugin path.py``."""
    if not path.is_file():
        raise TierkitError(f"{path}: plugin file not found")
    taken = pm.get_plugin(str(path))
    if taken is not None:
        if _same_file(getattr(taken, "__file__", None), path):  # already loaded: again would change nothing
            return
        raise TierkitError(f"{path}: cannot load the plugin: a plugin named {str(path)!r} is already loaded",
                           hint=f"give its full path, e.g. --plugin {path.resolve()}")
    name = f"tierkit_local_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TierkitError(f"{path}: a plugin is a Python file (.py)")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise TierkitError(f"{path}: plugin failed to load: {error}") from error
    try:
        pm.register(module, name=str(path))
    except pluggy.PluginValidationError as error:  # a hook implemented with the wrong arguments
        raise TierkitError(f"{path}: {_validation_message(pm, error)}") from None
    except ValueError as error:  # pluggy's "already registered", whose message lists every plugin
        raise TierkitError(f"{path}: cannot load the plugin: {str(error).partition(':')[0].lower()}") from None


def _same_file(first: str | os.PathLike | None, second: Path) -> bool:
    try:
        return first is not None and Path(first).resolve() == second.resolve()
    except OSError:
        return False


_BAD_ARGUMENTS = re.compile(r"for hook '(\w+)'.*?Argument\(s\) \{(.*?)\} are declared", re.DOTALL)


def _validation_message(pm: pluggy.PluginManager, error: pluggy.PluginValidationError) -> str:
    """pluggy's several-line complaint about a hook implementation, as one line that
    names the hook and the arguments tierkit does not pass."""
    text = str(error)
    found = _BAD_ARGUMENTS.search(text)
    if found is None:
        return " ".join(line.strip() for line in text.splitlines() if line.strip())
    hook, names = found[1], found[2]
    caller = getattr(pm.hook, hook, None)
    spec = getattr(caller, "spec", None)
    takes = ", ".join(spec.argnames) if spec is not None else ""
    plural = "s" if "," in names else ""
    return f"hook {hook} declares argument{plural} {names} that tierkit does not pass ({hook} takes {takes or 'no arguments'})"


def _hook_names() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("tierkit_"))


def plugin_origin(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """Where a plugin comes from: its distribution and version, or its file."""
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP, name=plugin_name):
        return _distribution(entry_point)
    plugin = pm.get_plugin(plugin_name)
    return getattr(plugin, "__file__", plugin_name) or plugin_name
