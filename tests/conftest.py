"""Shared fixtures: a registry with every installed plugin, and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierkit.manager import make_registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def registry():
    return make_registry()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
