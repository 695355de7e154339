"""The rulesets shipped with tierkit, nameable instead of given as a path."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tierkit.hookspecs import hookimpl


@hookimpl
def tierkit_ruleset_dirs():
    """The folder of the ``tierkit.rulesets`` package."""
    return [Path(str(files("tierkit.rulesets")))]
