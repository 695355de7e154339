"""``tierkit doctor`` and ``python -m tierkit``: what the installation can do, from the checkout."""

from __future__ import annotations

import importlib.util
import os
import subprocess

from tierkit import __version__
from tierkit.cli.doctor import CHECKS

from tests.conftest import TIERKIT


def command(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*TIERKIT, *args], capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, **env})


def test_python_m_tierkit_prints_the_version():
    done = command("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"tierkit, version {__version__}\n", "")


def test_doctor_lists_every_part_with_its_status_and_exits_0():
    done = command("doctor")
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["part", "status"]
    rows = {line.split("  ")[0].strip(): line for line in lines[1:]}
    assert set(rows) == {check.part for check in CHECKS}
    duckdb = rows["duckdb"].split()
    if importlib.util.find_spec("duckdb") is None:
        assert duckdb[1] == "missing" and "pip install 'tierkit[duckdb]'" in rows["duckdb"]
    else:
        assert duckdb[1] == "ok"


def test_doctor_names_the_missing_chinese_font_and_its_install_command(tmp_path):
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n')
    done = command("doctor", FONTCONFIG_FILE=str(config))
    assert done.returncode == 0
    (font,) = [line for line in done.stdout.splitlines() if line.startswith("CJK font")]
    assert " missing " in font and font.endswith("apt-get install -y fonts-noto-cjk")


def test_doctor_says_java_is_missing_when_it_is_not_on_path(tmp_path):
    done = command("doctor", PATH=str(tmp_path))
    (java,) = [line for line in done.stdout.splitlines() if line.startswith("java")]
    assert " missing " in java and "default-jre-headless" in java
