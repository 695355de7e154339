"""Running the command line as a user does: a separate process, one line on error."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TIERKIT, run_captured


def run_tierkit(*args, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the checkout's ``python -m tierkit`` (in ``cwd``) and return the finished process."""
    return subprocess.run([*TIERKIT, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_in_process(*args, cwd: Path) -> subprocess.CompletedProcess:
    """The command run in this process (in ``cwd``), as :func:`run_tierkit` returns it: for
    runs that set up or check files, where the process boundary is not the point.  A
    Spark run shares the worker's session (a new Java process costs a minute of CPU)."""
    with contextlib.chdir(cwd):
        code, out, err = run_captured(*args)
    return subprocess.CompletedProcess(args, code, out, err)


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
