"""Real client exports (tests/data/exports, written by make_exports.py the way the
client's tools write them) give the expected counts and outcomes on every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierkit.cli import main

EXPORTS = Path(__file__).parent / "data" / "exports"
AS_OF = "2026-11-01"
ENGINES = ["python", "duckdb"]


def evaluate(capsys, tmp_path: Path, ruleset: str, *inputs, engine: str = "python", expect: int = 0):
    """The records (without meta), the meta and stderr of one ``evaluate`` run."""
    if engine != "python":
        pytest.importorskip("duckdb")
    output = tmp_path / f"out-{engine}-{len(list(tmp_path.iterdir()))}.jsonl"
    code = main(["evaluate", str(EXPORTS / ruleset), *map(str, inputs), "--as-of", AS_OF, "--engine", engine,
                 "-o", str(output), "--no-progress"])
    err = capsys.readouterr().err
    assert code == expect, err
    if code:
        return None, None, err
    meta, *records = (json.loads(line) for line in output.read_text(encoding="utf-8").splitlines())
    return records, meta["meta"], err


def outcomes(records: list[dict]) -> dict[str, tuple]:
    """What must not depend on the engine or the file format: inputs, labels, tags, rank."""
    return {
        record["id"]: (
            record["features"],
            {scheme: (outcome["label"], outcome["score"], outcome["tags"]) for scheme, outcome in record["outcomes"].items()},
            record["rank"],
        )
        for record in records
    }


def utf8_copy(tmp_path: Path, name: str) -> Path:
    """A GB18030 export saved again as UTF-8, which the SQL engines read themselves."""
    path = tmp_path / name
    path.write_text((EXPORTS / name).read_text(encoding="gb18030"), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- dates and percent cells

CRM_TAGS = {
    "C001": ["young", "visited"],  # founded 2026-03-05 as a date cell; visit a date-time cell
    "C002": ["established"],  # 2019-11-30 as a serial with format id 14
    "C003": ["high_margin", "visited"],  # 2024-02-29 as a serial with the Chinese built-in id 31
    "C004": [],  # 2010-01-01 as a serial with a custom yyyy/m/d
    "C005": ["young", "high_margin"],  # 2025-12-31 as typed text
    "C006": ["established", "visited"],  # visited 30 days before the as-of date
    "C007": ["young", "visited"],
    "C008": ["established"],
    "C009": ["high_margin"],
    "C010": [],  # no founding date
}


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_date_cells_serials_and_percent_cells_read_as_the_csv_export(capsys, tmp_path, engine):
    xlsx, meta, _ = evaluate(capsys, tmp_path, "crm.yaml", EXPORTS / "crm_accounts.xlsx", engine=engine)
    assert meta["read"] == meta["evaluated"] == 10 and meta["rejected"] == 0
    by_id = outcomes(xlsx)
    assert {key: value[1]["profile"][2] for key, value in by_id.items()} == CRM_TAGS
    features = by_id["C003"][0]
    assert features["founded"] == "2024-02-29" and features["margin"] == 22.0 and features["last_visit"] == "2026-10-31"
    assert by_id["C004"][0]["margin"] == 4.25
    gb18030, _, _ = evaluate(capsys, tmp_path, "crm.yaml", EXPORTS / "crm_accounts.csv", engine=engine)
    assert outcomes(gb18030) == by_id


def test_text_dates_in_every_common_form_read_alike_on_the_sql_engine(capsys, tmp_path):
    utf8 = utf8_copy(tmp_path, "crm_accounts.csv")
    python, _, _ = evaluate(capsys, tmp_path, "crm.yaml", EXPORTS / "crm_accounts.xlsx")
    duckdb, meta, _ = evaluate(capsys, tmp_path, "crm.yaml", utf8, engine="duckdb")
    assert meta["rejected"] == 0
    assert outcomes(duckdb) == outcomes(python)
