"""Running the command line as a user does: a separate process, one line on error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..conftest import TIERKIT


def run_tierkit(*args, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the checkout's ``python -m tierkit`` (in ``cwd``) and return the finished process."""
    return subprocess.run([*TIERKIT, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def one_line_failure(done: subprocess.CompletedProcess) -> str:
    """The one line of a usage or input failure (exit 2), without a traceback."""
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("tierkit: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr.strip()


@pytest.fixture
def tierkit():
    """``tierkit(*args)``: :func:`run_tierkit` as a fixture."""
    return run_tierkit
