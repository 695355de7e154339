"""The layers' import rules hold (the contracts in ``pyproject.toml``'s
``[tool.importlinter]``): only the command line imports click, rendering never imports
an engine, and the IR depends on no engine.  import-linter follows indirect imports,
so a rule also fails through a chain of modules."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(capsys):
    lint = pytest.importorskip("importlinter.cli", reason="import-linter is part of the dev extra")
    code = lint.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "3 kept, 0 broken" in report, report
