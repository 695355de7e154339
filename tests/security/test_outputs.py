"""Outputs are safe to trust: a run killed mid-write leaves no truncated file under the
name asked for, a results file that is not the one its meta describes is refused,
an output naming an input is refused before anything is written, and brief file
names are unique per customer id."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from .conftest import one_line_failure, run_in_process, run_tierkit as tierkit

AS_OF = "2026-09-01"
ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"

# The built-in JSON Lines writer (which streams), killed (SIGKILL, as kill -9) after 50 rows.
KILLED_MID_WRITE = '''\
import os
import signal

from tierkit.hookspecs import hookimpl
from tierkit.plugins.formats import write_jsonl
from tierkit.registry import Writer



def records_then_kill(records):
    for number, record in enumerate(records):
        if number == 50:
            os.kill(os.getpid(), signal.SIGKILL)
        yield record


def write_killed(path, records, meta):
    write_jsonl(path, records_then_kill(records), meta)


@hookimpl
def tierkit_writers(register):
    register(Writer("killed", (".kjsonl",), write_killed))
'''




@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "customers.csv").write_bytes(CUSTOMERS.read_bytes())
    return tmp_path


def evaluate(folder: Path, output: str, *more) -> subprocess.CompletedProcess:
    """In process: the runs killed mid-write run a separate process, and so do the refusals
    of a DuckDB run and of a call list, so that an exit code and its one line are seen from
    the real process; the other refusals check what ``main`` decides, in process."""
    return run_in_process("evaluate", "b2b-manufacturing", "customers.csv", "--as-of", AS_OF, "-o", output, *more, cwd=folder)


# -- kill -9 mid-write ---------------------------------------------------------------------


def test_a_run_killed_mid_write_leaves_the_previous_file_and_meta_whole(folder):
    (folder / "killer.py").write_text(KILLED_MID_WRITE, encoding="utf-8")
    previous = b"id\nan earlier run\n"
    (folder / "out.kjsonl").write_bytes(previous)
    (folder / "out.kjsonl.meta.json").write_text('{"ruleset": "earlier"}', encoding="utf-8")
    done = tierkit("--plugin", "killer.py", "evaluate", "b2b-manufacturing", "customers.csv", "--as-of", AS_OF,
                   "-o", "out.kjsonl", cwd=folder)
    assert done.returncode == -signal.SIGKILL
    assert (folder / "out.kjsonl").read_bytes() == previous
    assert (folder / "out.kjsonl.meta.json").read_text(encoding="utf-8") == '{"ruleset": "earlier"}'
    [leftover] = [path.name for path in folder.iterdir() if path.name.startswith(".out.kjsonl.")]
    assert leftover.endswith(".tmp")  # the cut-short rows are in a hidden temporary file, not under the name asked for
    assert 0 < (folder / leftover).read_bytes().count(b"\n") <= 51


def test_a_run_killed_mid_write_leaves_no_file_when_there_was_none(folder):
    (folder / "killer.py").write_text(KILLED_MID_WRITE, encoding="utf-8")
    done = tierkit("--plugin", "killer.py", "evaluate", "b2b-manufacturing", "customers.csv", "--as-of", AS_OF,
                   "-o", "new.kjsonl", cwd=folder)
    assert done.returncode == -signal.SIGKILL
    assert not (folder / "new.kjsonl").exists() and not (folder / "new.kjsonl.meta.json").exists()


def test_a_failed_write_leaves_nothing_behind(folder):
    (folder / "blocked").mkdir()
    (folder / "blocked" / "out.csv").mkdir()  # a folder where the file should go: the rename fails
    message = one_line_failure(evaluate(folder, "blocked/out.csv"))
    assert message.startswith("tierkit: blocked/out.csv: cannot write:")
    assert sorted(path.name for path in (folder / "blocked").iterdir()) == ["out.csv"]


# -- results whose meta does not describe them -----------------------------------------------


def report(folder: Path, results: str) -> subprocess.CompletedProcess:
    return run_in_process("report", "b2b-manufacturing", "--results", results, "-o", "report.html", cwd=folder)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_results_cut_short_are_refused(folder, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    assert evaluate(folder, f"out{suffix}").returncode == 0
    assert report(folder, f"out{suffix}").returncode == 0
    data = (folder / f"out{suffix}").read_bytes()
    (folder / f"out{suffix}").write_bytes(data[: len(data) // 2])  # as kill -9 left files before
    message = one_line_failure(report(folder, f"out{suffix}"))
    assert message == (f"tierkit: out{suffix}: does not match out{suffix}.meta.json (size or hash differs): "
                       "the file is cut short or was replaced after the run")
    assert not (folder / "report.html").exists() or (folder / "report.html").stat().st_size > 0


def test_results_beside_the_meta_of_another_run_are_refused(folder):
    assert evaluate(folder, "a.csv").returncode == 0
    assert run_in_process("evaluate", "b2b-manufacturing", "customers.csv", "--as-of", "2026-10-01", "-o", "b.csv",
                          cwd=folder).returncode == 0
    os.replace(folder / "b.csv.meta.json", folder / "a.csv.meta.json")
    assert "does not match a.csv.meta.json" in one_line_failure(report(folder, "a.csv"))


def test_a_meta_without_the_files_hash_is_refused(folder):
    assert evaluate(folder, "a.csv").returncode == 0
    meta = json.loads((folder / "a.csv.meta.json").read_text(encoding="utf-8"))
    del meta["file"]
    (folder / "a.csv.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    assert "does not record the file's size and hash" in one_line_failure(report(folder, "a.csv"))


def test_json_lines_results_missing_lines_are_refused(folder):
    assert evaluate(folder, "out.jsonl").returncode == 0
    lines = (folder / "out.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "out.jsonl").write_text("".join(lines[:-3]), encoding="utf-8")
    message = one_line_failure(report(folder, "out.jsonl"))
    assert message == ("tierkit: out.jsonl: holds 597 results where its meta says 600 were evaluated: "
                       "the file is cut short or not the one the meta describes")


# -- outputs naming inputs ---------------------------------------------------------------------


@pytest.mark.parametrize("options, shown", [
    (["-o", "customers.csv"], "-o customers.csv is the input file customers.csv"),
    (["-o", "./sub/../customers.csv"], "-o ./sub/../customers.csv is the input file customers.csv"),
    (["-o", "out.jsonl", "--rejected", "customers.csv"], "--rejected customers.csv is the input file customers.csv"),
    (["-o", "link.csv"], "-o link.csv is the input file customers.csv"),
    (["-o", "same.csv", "--rejected", "same.csv"], "--rejected same.csv is also -o: give them different files"),
])
def test_an_output_naming_an_input_is_refused_and_the_input_kept(folder, options, shown):
    os.link(folder / "customers.csv", folder / "link.csv")
    before = (folder / "customers.csv").read_bytes()
    done = run_in_process("evaluate", "b2b-manufacturing", "customers.csv", "--as-of", AS_OF, *options, cwd=folder)
    assert one_line_failure(done).startswith(f"tierkit: {shown}")
    assert (folder / "customers.csv").read_bytes() == before
    assert not (folder / "same.csv").exists()


def test_a_call_list_naming_its_results_file_is_refused(folder):
    assert evaluate(folder, "out.csv").returncode == 0
    before = (folder / "out.csv").read_bytes()
    done = tierkit("calllist", "b2b-manufacturing", "--results", "out.csv", "--owner", "王芳", "-o", "out.csv", cwd=folder)
    assert one_line_failure(done) == "tierkit: -o out.csv is the input file out.csv: write the output elsewhere"
    assert (folder / "out.csv").read_bytes() == before


@pytest.mark.duckdb
def test_duckdb_outputs_naming_an_input_are_refused(folder):
    """As the Python engine's refusals above, by the real process."""
    pytest.importorskip("duckdb")
    done = tierkit("evaluate", "b2b-manufacturing", "customers.csv", "--engine", "duckdb", "--as-of", AS_OF,
                   "--rejected", "customers.csv", cwd=folder)
    assert one_line_failure(done).startswith("tierkit: --rejected customers.csv is the input file")


# -- brief file names ----------------------------------------------------------------------------


def test_brief_file_names_are_unique_per_id(folder):
    ids = ["a/b", "a:b", "a_b", "A_B", "x" * 300, "客" * 300, "..", "CON", "ok"]
    with open(CUSTOMERS, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[: len(ids) + 1]
    for row, customer in zip(rows[1:], ids):
        row[0] = customer
    with open(folder / "odd.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    done = run_in_process("brief", "b2b-manufacturing", "odd.csv", "--as-of", AS_OF, "--all", "-o", "briefs/", cwd=folder)
    assert done.returncode == 0, done.stderr
    names = sorted(path.name for path in (folder / "briefs").iterdir())
    assert len(names) == len(ids) == len({name.casefold() for name in names})
    assert "ok.html" in names and "CON.html" in names
    assert all(len(name.encode()) <= 255 for name in names)
    texts = {path.read_text(encoding="utf-8") for path in (folder / "briefs").iterdir()}
    assert all(any(customer in text for text in texts) for customer in ("a_b", "A_B", "ok"))
