"""The declarative case files: each kind's boundary cases and the bundled rulesets'
golden tests (``tests/cases/*.yml``, ``tests/golden/*.yaml``), read once per process.
``test_cases.py`` runs them on the Python engine and ``test_engines_cases.py`` on the SQL
engines; both parametrize over them at collection, in every xdist worker, and reading
the YAML with its positions is most of a worker's collection time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tierkit.manager import make_registry
from tierkit.analysis.testing import Case, load_cases

from .conftest import ROOT

CASE_FILES = sorted((ROOT / "tests" / "cases").glob("*.yml")) + sorted((ROOT / "tests" / "golden").glob("*.yaml"))


@lru_cache(maxsize=None)
def cases_by_file() -> dict[Path, list[Case]]:
    """Every case file's cases, in file order (read with a registry of the installed plugins)."""
    registry = make_registry()
    return {path: load_cases(path, registry) for path in CASE_FILES}
