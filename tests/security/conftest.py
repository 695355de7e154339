"""Running the command line as a user does: a separate process, one line on error."""

from __future__ import annotations

import subprocess

import pytest

from ..conftest import TIERKIT


@pytest.fixture
def tierkit():
    """``tierkit(*args)``: run the checkout's ``python -m tierkit`` and return the finished process."""

    def run(*args, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*TIERKIT, *map(str, args)], capture_output=True, text=True, timeout=timeout)

    return run
