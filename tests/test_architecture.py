"""The layers' import rules hold (the contracts in ``pyproject.toml``'s
``[tool.importlinter]``): each layer (a folder of ``core/``) imports only the layers
below it, only the command line imports click, and rendering never imports an engine.
import-linter follows indirect imports, so a rule also fails through a chain of modules.  A kind stated once imports only
``tierkit.kinds``: the built-in kinds' folder is mapped into the package at install
time, out of import-linter's sight, so that rule is a scan of their imports."""

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


PUBLIC_API = ["examples/churn-watch/churn_watch.py", "examples/tierkit-credit-risk/tierkit_credit_risk/__init__.py",
              "plugins/pareto.py", "plugins/lifecycle.py", "plugins/rfm.py", "plugins/weighted.py", "plugins/pipeline.py",
              "plugins/value_proposition.py", "plugins/industry.py", "plugins/portfolio.py", "plugins/matrix.py", "plugins/rules.py"]


@pytest.mark.parametrize("path", PUBLIC_API)
def test_a_kind_written_on_the_public_api_imports_only_tierkit_kinds(path):
    """The example plugins (outside the package, so no import-linter contract reaches
    them) and the built-in kinds import nothing of tierkit but tierkit.kinds."""
    import ast

    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {name for name in imported if name.split(".")[0] == "tierkit"} == {"tierkit.kinds"}
