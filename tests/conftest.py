"""Shared fixtures: a registry with every installed plugin, paths, the command line run in
process, and a local webhook server."""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import settings

from tierkit.cli import main
from tierkit.manager import make_registry

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# The checkout's own command line, never a ``tierkit`` found on PATH (which may be a stale install).
TIERKIT = (sys.executable, "-m", "tierkit")

# Every Spark JVM the tests start (the worker's session, and the command line's in a
# subprocess) collects garbage on one thread, generates no code for whole stages and plans
# no adaptive execution.  The tests' queries are wide (a compiled ruleset is one query of
# many layers) and read a few hundred rows, so compiling Java for a whole wide stage and
# re-planning each stage cost more than they save; their time goes to Spark's analysis of
# the query, which the server JIT makes faster over the group's run (the client JIT alone
# made it slower).  Expression code generation stays: interpreted, Spark fails ``reflect()``
# calls.  Settings of how Spark runs a plan, never of what it computes, given as
# ``spark-submit --conf`` so that a command's session, in process or not, keeps them (the
# engine sets neither; docs/testing.md).  A ``PYSPARK_SUBMIT_ARGS`` already set is kept.
SPARK_TEST_JAVA_OPTIONS = "-XX:+UseSerialGC"
SPARK_TEST_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}
os.environ.setdefault("PYSPARK_SUBMIT_ARGS", " ".join([
    f'--driver-java-options "{SPARK_TEST_JAVA_OPTIONS}"', *(f"--conf {key}={value}" for key, value in SPARK_TEST_CONF.items()),
    "pyspark-shell"]))

# The SQL texts a run keeps for the next (tierkit.ir.sql_text) go to a directory of this
# test run's, not the user's cache: the suite starts cold, and its first process removes it.
if "TIERKIT_CACHE_DIR" not in os.environ:
    os.environ["TIERKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="tierkit-test-cache-")
    atexit.register(shutil.rmtree, os.environ["TIERKIT_CACHE_DIR"], True)


def run(capsys, *args) -> tuple[int, str, str]:
    """``tierkit ARGS`` run in this process, its output captured by ``capsys``: the exit
    code, stdout and stderr, checked to hold no traceback.  Starting a process costs about
    a second of CPU; the tests that need the process boundary run :data:`TIERKIT`."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def run_captured(*args) -> tuple[int, str, str]:
    """:func:`run` for a module or session fixture, which cannot take ``capsys``: the
    output is captured here, so that one run can serve every test that reads it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([str(arg) for arg in args])
    out, err = stdout.getvalue(), stderr.getvalue()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="session")
def registry():
    return make_registry()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def needs_weasyprint() -> None:
    """Skips a PDF test where WeasyPrint is missing (``pytest.mark.usefixtures``): imported
    when the first such test runs, not when its module is collected, so a selection without
    the PDF tests (``-m "not pdf"``) never loads it (over half a second per worker)."""
    pytest.importorskip("weasyprint", reason="PDF output needs the pdf extra (pip install 'tierkit[pdf]')")


# Property tests state their example counts for the whole suite; ``scripts/test --fast``
# loads this profile (``--hypothesis-profile fast``), where each count is a quarter, so the
# check before a commit samples every property and the whole suite, as CI runs it, the full
# counts.  Registered here, before Hypothesis's pytest plugin loads the profile asked for.
settings.register_profile("fast", max_examples=25)


def examples(count: int) -> int:
    """A property test's ``max_examples``: ``count`` under Hypothesis's default profile (100
    examples), scaled by the loaded profile's count (a quarter under ``fast``, never below
    ten or ``count``, whichever is fewer)."""
    return max(min(count, 10), count * settings.default.max_examples // 100)


SPARK_GROUP = "spark"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Every Spark test in one xdist group (``--dist loadgroup``): one worker starts one
    Spark session, instead of each worker starting its own on a two-core machine.  A test
    given the Spark engine as a parameter without the ``spark`` marker is refused: it
    would escape ``-m "not spark"`` and start a session in any worker.

    The group is the biggest unit of work, so pytest-xdist hands it out first: the Spark
    worker starts its session at once while the other worker takes the rest."""
    grouping = getattr(config.option, "loadgroup", False)  # set in an xdist worker under --dist loadgroup
    for item in items:
        params = getattr(item, "callspec", None)
        if params and "spark" in params.params.values() and not item.get_closest_marker("spark"):
            raise pytest.UsageError(f"{item.nodeid} runs on Spark unmarked: parametrize it with engine_params()")
        if item.get_closest_marker("spark") and config.pluginmanager.hasplugin("xdist"):  # absent under -p no:xdist
            item.add_marker(pytest.mark.xdist_group(SPARK_GROUP))
            if grouping:
                _name_in_group(item)


def _name_in_group(item) -> None:
    """pytest-xdist groups a test by the ``@group`` its worker appends to the test's id,
    writing ``item._nodeid``; pytest 9.2 keeps the id in ``item._id`` (a ``NodeId``) and
    no longer reads ``_nodeid``, so there the group was lost and each worker that drew a
    Spark test started its own Java process.  Where the id lives in ``_id``, it is written
    here; pytest-xdist's own suffix then lands in the attribute nobody reads."""
    node_id = getattr(item, "_id", None)
    if node_id is not None and hasattr(type(node_id), "parse") and not item.nodeid.endswith(f"@{SPARK_GROUP}"):
        item._id = type(node_id).parse(f"{item.nodeid}@{SPARK_GROUP}")


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
