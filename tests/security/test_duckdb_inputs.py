"""The SQL engines read inputs as the Python engine does: paths are file names, never
patterns; a long cell costs no more than reading it; duplicate headers are refused;
every broken row is rejected with the same file, row, column and reason; a row whose
evaluation overflows is rejected, not the run."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import run_in_process, run_tierkit

AS_OF = "2026-09-01"
SUMMARY = re.compile(r"read (\d+) · evaluated (\d+) · rejected (\d+)")
RULESET = """\
tierkit: 1
name: inputs
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  name: {type: string}
  n: {type: integer}
derive:
  square: "n * n"
schemes:
  - id: tier
    kind: rules
    label: Tier
    rules:
      - {id: big, when: "square > 100", label: Big}
    default: {id: small, label: Small}
rank:
  - {by: n, order: desc}
"""



def run(folder: Path, engine: str, data: str) -> tuple[tuple[int, ...], list[dict], list[str]]:
    """(read, evaluated, rejected), the rejected rows and the evaluated ids, best first."""
    args = ("evaluate", "r.yaml", data, "--engine", engine, "--as-of", AS_OF, "-o", f"{engine}.jsonl",
            "--rejected", f"{engine}-rejected.csv")
    done = run_in_process(*args, cwd=folder)  # the duplicate-header test runs a separate process
    assert done.returncode == 0, done.stderr
    counts = tuple(map(int, SUMMARY.search(done.stderr).groups()))
    assert counts[0] == counts[1] + counts[2]
    with open(folder / f"{engine}-rejected.csv", encoding="utf-8-sig", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    lines = (folder / f"{engine}.jsonl").read_text(encoding="utf-8").splitlines()[1:]
    return counts, rejected, [json.loads(line)["id"] for line in lines]


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "r.yaml").write_text(RULESET, encoding="utf-8")
    return tmp_path


def same_on(engine: str, folder: Path, data: str) -> tuple[tuple[int, ...], list[dict], list[str]]:
    """The run on ``engine`` as on Python: the same counts, results and rejected rows with
    the same reasons (an evaluation failure is told in each engine's words)."""
    python, other = run(folder, "python", data), run(folder, engine, data)
    assert (other[0], other[2]) == (python[0], python[2])
    assert [_comparable(row) for row in other[1]] == [_comparable(row) for row in python[1]]
    return python


def _comparable(row: dict) -> dict:
    failed = row["reason"].startswith("evaluation failed: ")
    return {**row, "reason": "evaluation failed" if failed else row["reason"]}


BROKEN_CSV = (
    "id,name,n\n"
    "C1,a,1\n"
    'C2,"unclosed,2\n'
    + "".join(f"C{k},name {k},{k}\n" for k in range(3, 40))
    + "C40,short\n"
    "C41,long,41,surplus\n"
    "C42,trailing comma,42,\n"
    f"C43,big,{'9' * 100_000}\n"
    "C44,overflow,9223372036854775807\n"
    "C45,last,45\n"
)


def write_mixed(path: Path) -> None:
    """A UTF-8 file with one line pasted from a GB18030 export."""
    path.write_bytes(b"id,name,n\nC1,\xe5\xae\xa2,1\n" + "C2,客户,2\n".encode("gb18030") + "C3,客户,3\n".encode())


# -- DuckDB --------------------------------------------------------------------------------------


@pytest.fixture
def duckdb():
    return pytest.importorskip("duckdb")


@pytest.mark.duckdb
@pytest.mark.parametrize("name, decoy", [("cust[1].csv", "cust1.csv"), ("a*b.csv", "aXb.csv"), ("a?b.csv", "a!b.csv")])
def test_input_paths_are_file_names_not_patterns(duckdb, folder, name, decoy):
    (folder / decoy).write_text("id,name,n\nDECOY,decoy,1\n", encoding="utf-8")
    (folder / name).write_text("id,name,n\nREAL,real,1\nREAL2,real,2\n", encoding="utf-8")
    counts, rejected, ids = run(folder, "duckdb", name)
    assert (counts, rejected, sorted(ids)) == ((2, 2, 0), [], ["REAL", "REAL2"])


@pytest.mark.duckdb
def test_broken_csv_rows_are_rejected_as_on_python(duckdb, folder):
    (folder / "broken.csv").write_text(BROKEN_CSV, encoding="utf-8")
    counts, rejected, _ = same_on("duckdb", folder, "broken.csv")
    assert counts == (45, 40, 5)
    assert [(row["row"], row["column"]) for row in rejected] == [
        ("3", ""), ("41", "n"), ("42", ""), ("44", "n"), ("45", ""),
    ]
    assert rejected[3]["reason"] == f"'{'9' * 56}... is not a number (longer than 256 characters)"
    assert rejected[4]["reason"].startswith("evaluation failed: ")


@pytest.mark.duckdb
def test_a_long_cell_is_read_natively_and_refused_as_on_python(duckdb, folder):
    (folder / "long.csv").write_text(f"id,name,n\nC1,a,{'9' * 120_000}\nC2,b,2\n", encoding="utf-8")
    counts, rejected, ids = same_on("duckdb", folder, "long.csv")
    assert counts == (2, 1, 1) and ids == ["C2"]
    assert rejected[0]["reason"].endswith("is not a number (longer than 256 characters)")


@pytest.mark.duckdb
def test_a_line_in_another_encoding_is_rejected_as_on_python(duckdb, folder):
    write_mixed(folder / "mixed.csv")
    counts, rejected, ids = same_on("duckdb", folder, "mixed.csv")
    assert counts == (3, 2, 1) and sorted(ids) == ["C1", "C3"]
    assert (rejected[0]["row"], rejected[0]["column"]) == ("3", "name")


@pytest.mark.duckdb
def test_json_lines_problems_are_rejected_as_on_python(duckdb, folder):
    (folder / "c.jsonl").write_bytes(
        b'{"id": "C1", "n": 1}\n'
        b'{"id": "C2", "n": 1, "n": 2}\n'
        b'{"id": "C3", "n": ' + b"[" * 3000 + b"]" * 3000 + b"}\n"
        b'{"id": "C4", "name": "\xbf\xcd"}\n'
        b'{"id": "C5", "n": 5}\n'
    )
    counts, rejected, ids = same_on("duckdb", folder, "c.jsonl")
    assert counts == (5, 2, 3) and sorted(ids) == ["C1", "C5"]


@pytest.mark.duckdb
def test_duplicate_headers_are_refused_as_on_python(duckdb, folder):
    (folder / "dup.csv").write_text("id,name,n,n\nC1,a,1,2\n", encoding="utf-8")
    lines = set()
    for engine in ("python", "duckdb"):
        done = run_tierkit("evaluate", "r.yaml", "dup.csv", "--engine", engine, "--as-of", AS_OF, cwd=folder)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        lines.add(done.stderr)
    assert lines == {"tierkit: dup.csv:1: column header 'n' appears twice (columns 3 and 4)\n"}


@pytest.mark.duckdb
def test_an_int64_overflow_rejects_its_rows_and_the_others_are_ranked(duckdb, folder):
    (folder / "c.csv").write_text(
        "id,name,n\nC1,a,3\nC2,b,9223372036854775807\nC3,c,20\nC4,d,-4294967296\nC5,e,3037000499\n", encoding="utf-8"
    )
    python, duck = run(folder, "python", "c.csv"), run(folder, "duckdb", "c.csv")
    assert python[0] == duck[0] == (5, 3, 2)
    assert python[2] == duck[2] == ["C5", "C3", "C1"]
    assert [row["row"] for row in python[1]] == [row["row"] for row in duck[1]] == ["3", "5"]
    assert all(row["reason"].startswith("evaluation failed: ") for row in python[1] + duck[1])
    assert "INT64" in duck[1][0]["reason"] and "64-bit" in python[1][0]["reason"]


# -- Spark ---------------------------------------------------------------------------------------


@pytest.mark.spark
def test_spark_rejects_broken_rows_as_on_python(folder):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("the spark engine needs Java")
    (folder / "broken.csv").write_text(BROKEN_CSV.replace("C44,overflow,9223372036854775807\n", ""), encoding="utf-8")
    (folder / "cust[1].csv").write_text("id,name,n\nREAL,real,1\n", encoding="utf-8")
    (folder / "cust1.csv").write_text("id,name,n\nDECOY,decoy,1\n", encoding="utf-8")
    counts, _, _ = same_on("spark", folder, "broken.csv")
    assert counts == (44, 40, 4)
    assert run(folder, "spark", "cust[1].csv")[2] == ["REAL"]


@pytest.mark.duckdb
def test_an_infinite_derived_feature_rejects_its_row_as_on_python(duckdb, folder):
    ruleset = RULESET.replace("n: {type: integer}", "n: {type: number}").replace('"n * n"', '"n * 1e300"')
    (folder / "r.yaml").write_text(ruleset, encoding="utf-8")
    (folder / "c.csv").write_text("id,name,n\nC1,a,3\nC2,b,1e10\nC3,c,-1e20\nC4,d,4\n", encoding="utf-8")
    counts, rejected, ids = same_on("duckdb", folder, "c.csv")
    assert counts == (4, 2, 2) and ids == ["C4", "C1"]
    expected = ["evaluation failed: square is not a finite number (inf)", "evaluation failed: square is not a finite number (-inf)"]
    with open(folder / "duckdb-rejected.csv", encoding="utf-8-sig", newline="") as handle:
        assert [row["reason"] for row in rejected] == [row["reason"] for row in csv.DictReader(handle)] == expected
