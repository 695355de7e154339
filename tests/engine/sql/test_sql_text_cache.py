"""A DuckDB run with the SQL texts of an earlier run (tierkit.ir.sql_text): the same
results as a run without them, without loading sqlglot; a changed ruleset, option or
header is lowered afresh; a corrupt cache is ignored.  The sample's run that fills a
cache is made once for the module; each test changes a copy of its cache."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine_harness import require_engine
from tests.render.test_brief import EXAMPLE
from tests.render.test_render import AS_OF, run_cli
from tests.test_golden import ROOT

pytestmark = pytest.mark.duckdb
RULESET = ROOT / "rulesets" / "b2b-manufacturing.yaml"


@pytest.fixture(autouse=True)
def duckdb_here():
    require_engine("duckdb")


def evaluate(out, monkeypatch, cache, ruleset=RULESET, customers=EXAMPLE, *options) -> bytes:
    monkeypatch.setenv("TIERKIT_CACHE_DIR", str(cache))
    assert run_cli("-q", "evaluate", ruleset, customers, "--as-of", AS_OF, "--engine", "duckdb", "-o", out, *options) == 0
    return out.read_bytes()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[bytes, bytes, Path]:
    """The sample run without a cache and with an empty one, once for the module: (the
    results without a cache, the results of the run that filled the cache, the cache)."""
    require_engine("duckdb")
    folder = tmp_path_factory.mktemp("first")
    with pytest.MonkeyPatch.context() as monkeypatch:
        cold = evaluate(folder / "cold.jsonl", monkeypatch, "")
        first = evaluate(folder / "first.jsonl", monkeypatch, folder / "cache")
    return cold, first, folder / "cache"


@pytest.fixture
def cache(first_run, tmp_path) -> Path:
    """A copy of the cache the sample run filled, for a test to read and change."""
    return Path(shutil.copytree(first_run[2], tmp_path / "cache"))


def test_a_warm_run_writes_the_same_results_without_sqlglot(tmp_path, first_run, cache):
    cold, first, _cache = first_run
    assert first == cold
    assert list(cache.glob("sql-*.json"))
    out = tmp_path / "warm.jsonl"
    env = {**os.environ, "TIERKIT_CACHE_DIR": str(cache)}
    shown = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tierkit", "-q", "evaluate", str(RULESET), str(EXAMPLE),
         "--as-of", AS_OF, "--engine", "duckdb", "-o", str(out)],
        env=env, capture_output=True, text=True, check=True,
    )
    loaded = {line.rsplit("|", 1)[-1].strip() for line in shown.stderr.splitlines()}
    assert "sqlglot" not in loaded and "tierkit.ir.to_sql" not in loaded
    assert out.read_bytes() == cold


def test_a_changed_ruleset_is_lowered_afresh(tmp_path, monkeypatch, first_run, cache):
    before = first_run[1]
    changed = tmp_path / "changed.yaml"
    text = RULESET.read_text(encoding="utf-8")
    assert "weight: 0.30" in text  # the purchase scale's, in the grade's weighted score
    changed.write_text(text.replace("weight: 0.30", "weight: 0.60", 1), encoding="utf-8")
    warm = evaluate(tmp_path / "warm.jsonl", monkeypatch, cache, changed)
    assert warm == evaluate(tmp_path / "cold.jsonl", monkeypatch, "", changed)
    assert _results(warm) != _results(before)


def test_a_changed_option_is_lowered_afresh(tmp_path, monkeypatch, cache):
    warm = evaluate(tmp_path / "warm.jsonl", monkeypatch, cache, RULESET, EXAMPLE, "--reasons", "none")
    assert warm == evaluate(tmp_path / "cold.jsonl", monkeypatch, "", RULESET, EXAMPLE, "--reasons", "none")


def test_a_changed_header_is_typed_afresh(tmp_path, monkeypatch, cache):
    """The columns in another order, and one left out: another typing query."""
    with EXAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    dropped = rows[0].index("nail_reason")
    order = [index for index in reversed(range(len(rows[0]))) if index != dropped]
    reordered = tmp_path / "reordered.csv"
    with reordered.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([row[index] for index in order] for row in rows)
    warm = evaluate(tmp_path / "warm.jsonl", monkeypatch, cache, RULESET, reordered)
    assert warm == evaluate(tmp_path / "cold.jsonl", monkeypatch, "", RULESET, reordered)


def test_a_corrupt_cache_is_ignored(tmp_path, monkeypatch, first_run, cache):
    for kept in cache.glob("sql-*.json"):
        kept.write_bytes(kept.read_bytes()[: kept.stat().st_size // 2])
    assert evaluate(tmp_path / "again.jsonl", monkeypatch, cache) == first_run[1]


def _results(output: bytes) -> list[bytes]:
    return output.splitlines()[1:]
