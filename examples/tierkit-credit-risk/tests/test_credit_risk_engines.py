"""The kind is stated once (on ``tierkit.kinds``), so the package's ruleset gives the
same results on every engine: its sample customers and orders evaluated by the command
line on the Python engine, on DuckDB and on Spark (each when installed) give the same
labels, scores, tags, ranks and allocation rules.  tierkit's own
``tests/plugins/test_credit_risk_package.py`` compares the reasons' codes and parameters too."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tierkit.cli import main

HERE = Path(__file__).resolve().parent.parent
ENGINES = {"duckdb": "duckdb", "spark": "pyspark"}


def results(engine: str, tmp_path: Path, capsys) -> dict[str, tuple]:
    """``tierkit evaluate`` in this process: a Spark run shares the session a test run has
    open already, instead of starting a Java process of its own (tierkit's own
    ``tests/plugins/test_credit_risk_package.py`` runs the installed command)."""
    out = tmp_path / f"{engine}.jsonl"
    code = main(["evaluate", str(HERE / "ruleset.yaml"), str(HERE / "customers.csv"), "--orders", str(HERE / "orders.csv"),
                 "--as-of", "2026-11-01", "--engine", engine, "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    return {record["id"]: (record["rank"], record["allocation"]["rule"],
                           *((o["label"], o["score"], o["tags"]) for o in record["outcomes"].values())) for record in records}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])
def test_every_engine_gives_the_python_engines_results(engine, tmp_path, capsys):
    if importlib.util.find_spec(ENGINES[engine]) is None:
        pytest.skip(f"{ENGINES[engine]} is not installed (pip install 'tierkit[sql]')")
    expected = results("python", tmp_path, capsys)
    assert len(expected) == 10 and {outcome[2][0] for outcome in expected.values()} == {"low", "medium", "high", "blocked", "unknown"}
    assert results(engine, tmp_path, capsys) == expected
