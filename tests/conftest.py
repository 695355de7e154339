"""Shared fixtures: a registry with every installed plugin, and paths."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tierkit.manager import make_registry

ROOT = Path(__file__).resolve().parent.parent
# The checkout's own command line, never a ``tierkit`` found on PATH (which may be a stale install).
TIERKIT = (sys.executable, "-m", "tierkit")


@pytest.fixture(scope="session")
def registry():
    return make_registry()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Every Spark test in one xdist group (``--dist loadgroup``): one worker starts one
    Spark session, instead of each worker starting its own on a two-core machine."""
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.xdist_group("spark"))
