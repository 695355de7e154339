"""Progress on a terminal, silence elsewhere, and logs for schedulers.

The progress display needs a terminal: these tests give the command a pseudo-terminal
as stderr (``pty``), as a person running it would, and pipes otherwise.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess

import pytest

from tests.conftest import ROOT, TIERKIT

CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
EVALUATE = ["evaluate", "b2b-manufacturing", str(CUSTOMERS), "--as-of", "2026-11-01"]


def on_a_terminal(*args: str, cwd) -> tuple[int, str]:
    """Run tierkit with a pseudo-terminal as stderr; its exit code and what it showed there."""
    pytest.importorskip("rich", reason="the progress display needs rich (pip install -e .)")
    primary, secondary = pty.openpty()
    process = subprocess.Popen([*TIERKIT, *args], stdout=subprocess.DEVNULL, stderr=secondary, cwd=cwd)
    os.close(secondary)
    shown = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown.append(chunk)
    os.close(primary)
    return process.wait(timeout=120), b"".join(shown).decode("utf-8", "replace")


def piped(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*TIERKIT, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_terminal_sees_each_stage_and_a_bar_for_writing(tmp_path):
    code, shown = on_a_terminal(*EVALUATE, "-o", "out.jsonl", cwd=tmp_path)
    assert code == 0
    for stage in ("reading", "read 600 customers; evaluating", "writing results"):
        assert stage in shown
    assert "━" in shown and "600/600" in shown  # the bar, full when writing ends
    assert "read 600 · evaluated 600 · rejected 0" in shown


def test_quiet_shows_nothing_on_a_terminal_and_pipes_get_no_progress(tmp_path):
    code, shown = on_a_terminal("--quiet", *EVALUATE, "-o", "out.jsonl", cwd=tmp_path)
    assert code == 0 and shown == ""
    done = piped(*EVALUATE, "-o", "out.jsonl", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr == "read 600 · evaluated 600 · rejected 0 · b2b-manufacturing 1.0.0 as of 2026-11-01\n"
    assert piped("-q", *EVALUATE, "-o", "out.jsonl", cwd=tmp_path).stderr == ""


def test_log_level_info_logs_each_stage_with_the_password_masked(tmp_path):
    pytest.importorskip("sqlalchemy", reason="writing to a database needs the db extra (pip install -e '.[db]')")
    done = piped("--log-level", "info", *EVALUATE, "-o", "sqlite:///grades.db?table=grades", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "tierkit: INFO: read 600 customers; evaluating" in lines
    assert "tierkit: INFO: evaluated 600 customers; writing sqlite:///grades.db?table=grades" in lines


def test_log_json_is_one_object_per_line_and_an_error_is_a_record(tmp_path):
    done = piped("--log-json", "--log-level", "info", "-q", *EVALUATE, "-o", "out.jsonl", cwd=tmp_path)
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert done.returncode == 0 and records and all(set(r) == {"time", "level", "logger", "message"} for r in records)
    assert [r["message"] for r in records][-1] == "evaluated 600 customers; writing out.jsonl"
    failed = piped("--log-json", *EVALUATE, "-o", "postgresql://sales:s3cret@127.0.0.1:1/crm?table=g", cwd=tmp_path)
    assert failed.returncode == 2
    (record,) = [json.loads(line) for line in failed.stderr.splitlines()]
    assert record["level"] == "error" and "postgresql://sales:***@127.0.0.1:1/crm?table=g" in record["message"]
    assert "s3cret" not in failed.stderr
