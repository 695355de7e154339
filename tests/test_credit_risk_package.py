"""The example third-party plugin package ``examples/tierkit-credit-risk``: found through
the ``tierkit`` entry point group like any installed plugin, and its ruleset's tests
pass through ``tierkit test``.  ``scripts/test`` installs it."""

from __future__ import annotations

import subprocess
from importlib import metadata

import pytest

from tierkit.cli import main

from .conftest import ROOT, TIERKIT

PACKAGE = ROOT / "examples" / "tierkit-credit-risk"


def installed() -> bool:
    return any(ep.name == "credit_risk" for ep in metadata.entry_points(group="tierkit"))


pytestmark = pytest.mark.skipif(
    not installed(), reason="tierkit-credit-risk is not installed: pip install -e examples/tierkit-credit-risk (scripts/test does)"
)


def test_plugins_lists_the_kind_and_function_with_their_distribution(capsys):
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  credit_risk  (tierkit-credit-risk 0.1.0)" in lines
    kinds = lines[lines.index("scheme kinds:") + 1 : lines.index("functions:")]
    functions = lines[lines.index("functions:") + 1 : lines.index("readers:")]
    assert any(line.split()[:2] == ["credit_risk", "credit_risk"] for line in kinds)
    assert any(line.split()[:2] == ["overdue_ratio", "credit_risk"] for line in functions)


def test_its_ruleset_passes_its_tests(capsys):
    code = main(["test", str(PACKAGE / "ruleset.yaml"), str(PACKAGE / "tests.yaml")])
    out, err = capsys.readouterr()
    assert code == 0 and err == "", out
    assert out.splitlines()[-1] == "11 passed, 0 failed"


def test_its_ruleset_through_the_console_script():
    done = subprocess.run(
        [*TIERKIT, "test", str(PACKAGE / "ruleset.yaml"), str(PACKAGE / "tests.yaml")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "11 passed, 0 failed"


def test_the_plugin_kind_is_in_the_schema(capsys):
    assert main(["schema"]) == 0
    assert '"credit_risk"' in capsys.readouterr().out
