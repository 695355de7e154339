"""Shared fixtures: a registry with every installed plugin, paths, and a local webhook server."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """Every Spark test in one xdist group (``--dist loadgroup``): one worker starts one
    Spark session, instead of each worker starting its own on a two-core machine.  A test
    given the Spark engine as a parameter without the ``spark`` marker is refused: it
    would escape ``-m "not spark"`` and start a session in any worker."""
    for item in items:
        params = getattr(item, "callspec", None)
        if params and "spark" in params.params.values() and not item.get_closest_marker("spark"):
            raise pytest.UsageError(f"{item.nodeid} runs on Spark unmarked: parametrize it with engine_params()")
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.xdist_group("spark"))


# -- a local webhook, for notifications ----------------------------------------------------


class Webhook(ThreadingHTTPServer):
    """Records each POST's path and JSON body; answers ``status``."""

    def __init__(self, status: int = 200):
        self.received: list[tuple[str, dict]] = []
        self.status = status
        super().__init__(("127.0.0.1", 0), Recorder)


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def webhook():
    """Starts webhook servers on 127.0.0.1 (``webhook(status=500)`` for one that refuses)."""
    servers = []

    def start(status: int = 200) -> Webhook:
        server = Webhook(status)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
