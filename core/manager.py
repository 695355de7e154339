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
import os
import sys
from importlib import metadata
from pathlib import Path

import pluggy

from . import __version__, hookspecs
from .errors import TierkitError
from .registry import Registry

ENTRY_POINT_GROUP = "tierkit"


def make_plugin_manager(plugin_files: tuple[str | Path, ...] = ()) -> pluggy.PluginManager:
    """A manager with the hookspecs, the installed plugins and the given local files."""
    pm = pluggy.PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    for name in _split_env("TIERKIT_BLOCK_PLUGINS") or ():
        pm.set_blocked(name)
    _load_entry_points(pm, _split_env("TIERKIT_LOAD_PLUGINS"))
    for path in plugin_files:
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
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if only is not None and entry_point.name not in only:
            continue
        if pm.is_blocked(entry_point.name) or pm.get_plugin(entry_point.name) is not None:
            continue
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=entry_point.name)
        except Exception as error:  # a broken third-party plugin must say who it is
            dist = entry_point.dist
            version = f"{dist.name} {dist.version}" if dist else "unknown distribution"
            raise TierkitError(
                f"plugin {entry_point.name!r} ({version}) failed to load under tierkit {__version__}: {error}"
            ) from error


def load_plugin_file(pm: pluggy.PluginManager, path: Path) -> None:
    """Register a local ``.py`` module given with ``--plugin path.py``."""
    if not path.is_file():
        raise TierkitError(f"{path}: plugin file not found")
    name = f"tierkit_local_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise TierkitError(f"{path}: plugin failed to load: {error}") from error
    try:
        pm.register(module, name=str(path))
    except pluggy.PluginValidationError as error:  # a hook implemented with the wrong arguments
        raise TierkitError(f"{path}: {error}") from None


def _hook_names() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("tierkit_"))


def plugin_origin(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """Where a plugin comes from: its distribution and version, or its file."""
    plugin = pm.get_plugin(plugin_name)
    for known, dist in pm.list_plugin_distinfo():
        if known is plugin:
            return f"{dist.project_name} {dist.version}"
    return getattr(plugin, "__file__", plugin_name) or plugin_name
