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
