"""Running the command line as a user does: a separate process, one line on error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def tierkit():
    """``tierkit(*args)``: run ``python -m tierkit`` and return the finished process."""

    def run(*args, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "tierkit", *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)

    return run
