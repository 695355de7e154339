"""``tierkit doctor``: what this installation can do, and the command that adds what it cannot.

Each optional part is probed the way its command will use it (WeasyPrint imported, so a
missing Pango shows; fontconfig asked for a Chinese font; ``java`` run for Spark), and
reported as ``ok`` with its version or ``missing`` with the exact install command.
Always exits 0: it informs, it does not judge.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import click

from tierkit.render.fonts import chinese_font_families

APT = "apt-get install -y"


@dataclass(frozen=True)
class Check:
    """One optional part: what it serves, how to probe it, how to install it."""

    part: str
    serves: str
    probe: Callable[[], str | None]  # the detail when present, None when missing
    install: str


def _package(distribution: str, load: bool = False) -> Callable[[], str | None]:
    """A Python package; with ``load``, present only when it imports (WeasyPrint fails
    to import without Pango), else when it is installed (importing pyspark takes seconds)."""

    def probe() -> str | None:
        try:
            if load:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    importlib.import_module(distribution)
            elif importlib.util.find_spec(distribution) is None:
                return None
            return metadata.version(distribution)
        except (ImportError, OSError, metadata.PackageNotFoundError):  # OSError: a missing system library
            return None

    return probe


def _java() -> str | None:
    java = shutil.which("java")
    if java is None:
        return None
    done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    return (done.stderr or done.stdout).splitlines()[0].strip() if done.returncode == 0 else None


def _program(*names: str) -> Callable[[], str | None]:
    return lambda: next((path for path in map(shutil.which, names) if path), None)


def _chinese_font() -> str | None:
    families = chinese_font_families()
    return ", ".join(families[:3]) if families else None


CHECKS = (
    Check("duckdb", "evaluate --engine duckdb", _package("duckdb"), "pip install 'tierkit[duckdb]'"),
    Check("pyarrow", "Parquet input and results", _package("pyarrow"), "pip install 'tierkit[duckdb]'"),
    Check("pyspark", "evaluate --engine spark", _package("pyspark"), "pip install 'tierkit[spark]'"),
    Check("java", "evaluate --engine spark", _java, f"{APT} default-jre-headless"),
    Check("weasyprint", "brief / report as PDF", _package("weasyprint", load=True), f"pip install 'tierkit[pdf]' && {APT} libpango-1.0-0 libpangoft2-1.0-0"),
    Check("CJK font", "Chinese text in PDFs", _chinese_font, f"{APT} fonts-noto-cjk"),
    Check("sqlalchemy", "database input and write-back (sqlite:///…, postgresql://…)", _package("sqlalchemy"), "pip install 'tierkit[db]'"),
    Check("psycopg", "PostgreSQL input and write-back", _package("psycopg"), "pip install 'tierkit[db]'"),
    Check("apprise", "tierkit notify", _package("apprise"), "pip install 'tierkit[notify]'"),
    Check("chromium", "screenshots of briefs and reports (tests)", _program("chromium", "chromium-browser"), f"{APT} chromium"),
)


@click.command()
def doctor() -> None:
    """One table of what this installation can do: each optional part, ok or missing,
    and the exact command that installs it."""
    rows = [("part", "status", "for", "detail / install with")]
    for check in CHECKS:
        found = check.probe()
        rows.append((check.part, "ok" if found else "missing", check.serves, found or check.install))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
