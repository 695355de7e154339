"""The kind is stated once (on ``tierkit.kinds``), so the package's ruleset gives the
same results on every engine: its sample customers and orders evaluated by the command
line on the Python engine, on DuckDB and on Spark (each when installed) give the same
labels, scores, tags, ranks and allocation rules.  tierkit's own
``tests/plugins/test_credit_risk_package.py`` compares the reasons' codes and parameters too."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
ENGINES = {"duckdb": "duckdb", "spark": "pyspark"}


def results(engine: str, tmp_path: Path) -> dict[str, tuple]:
    out = tmp_path / f"{engine}.jsonl"
    done = subprocess.run([sys.executable, "-m", "tierkit", "evaluate", str(HERE / "ruleset.yaml"), str(HERE / "customers.csv"),
                           "--orders", str(HERE / "orders.csv"), "--as-of", "2026-11-01", "--engine", engine, "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    return {record["id"]: (record["rank"], record["allocation"]["rule"],
                           *((o["label"], o["score"], o["tags"]) for o in record["outcomes"].values())) for record in records}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])
def test_every_engine_gives_the_python_engines_results(engine, tmp_path):
    if importlib.util.find_spec(ENGINES[engine]) is None:
        pytest.skip(f"{ENGINES[engine]} is not installed (pip install 'tierkit[sql]')")
    expected = results("python", tmp_path)
    assert len(expected) == 10 and {outcome[2][0] for outcome in expected.values()} == {"low", "medium", "high", "blocked", "unknown"}
    assert results(engine, tmp_path) == expected
