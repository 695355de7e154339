"""Reasons on every engine: the results files, ``--reasons``, the commands that work on an
evaluation (``explain``, ``whatif``, ``backtest``, ``brief``, ``report``, ``calllist``)
and ``--save``/``diff`` give on DuckDB and Spark what they give on the Python engine.

A kind not yet stated as IR gives no reasons on SQL: its outcomes there carry none (not
empty ones), and the results' meta names its schemes (``no_reasons``)."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import subprocess

import pytest

from tierkit.engine.evaluation import compile_ruleset
from tierkit.engine.sql.connection import open_engine
from tierkit.engine.sql.plan import compile_sql_plan
from tierkit.plan.reasons import unexplained
from tierkit.ruleset.load import load_ruleset

from tests.conftest import ROOT, TIERKIT, run
from tests.engine_harness import AS_OF, SAMPLE_DATA, engine_params, require_engine, run_sample

B2B = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
SAAS = ROOT / "examples" / "saas-enterprise"


def same_value(mine, theirs) -> bool:
    """Equal, numbers to 1e-9 (a share summed in another order differs in its last bit)."""
    if isinstance(mine, float | int) and isinstance(theirs, float | int) and not isinstance(mine, bool):
        return math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(mine, list) and isinstance(theirs, list):
        return len(mine) == len(theirs) and all(same_value(a, b) for a, b in zip(mine, theirs))
    if isinstance(mine, dict) and isinstance(theirs, dict):
        return mine.keys() == theirs.keys() and all(same_value(mine[key], theirs[key]) for key in mine)
    return mine == theirs


def assert_same_records(python: list[dict], sql: list[dict], silent: set[str]) -> None:
    """The same records; the schemes in ``silent`` carry no reasons on SQL."""
    assert len(python) == len(sql)
    for mine, theirs in zip(sql, python):
        for scheme in silent:
            assert "reasons" not in mine["outcomes"][scheme]
            theirs["outcomes"][scheme].pop("reasons", None)
        assert same_value(mine, theirs), mine["id"]


# -- results files -------------------------------------------------------------------------


@pytest.mark.slow  # every bundled ruleset's sample data, on two engines
@pytest.mark.parametrize("engine_name", engine_params())
def test_every_bundled_ruleset_gives_pythons_reasons_on_sql(engine_name, registry, sample_runs):
    """On each bundled ruleset's sample data, the records (words and codes) a SQL engine's
    results give are the Python engine's, in both languages: the evaluation of the
    ``evaluate`` run the command-line tests compare (:class:`tests.engine_harness.SampleRuns`)."""
    for name in SAMPLE_DATA:
        python = run_sample(name, registry, *SAMPLE_DATA[name])
        plan = python.plan
        sql = sample_runs(name, engine_name)
        silent = {scheme.id for scheme in unexplained(plan)}
        assert sql.evaluation.meta("en").get("no_reasons", []) == [s.id for s in plan.schemes if s.id in silent]
        assert any(scheme.id not in silent for scheme in plan.schemes), name
        for lang, reasons in (("zh", "words"), ("en", "words"), ("en", "codes")):
            assert_same_records(list(python.records(lang, reasons)),
                                list(sql.evaluation.records(lang, reasons, sql.evaluation.ranked())), silent)
            rows = python.ranked(), sql.evaluation.ranked()
            said = [[evaluation.allocation_reasons(row, None if reasons == "codes" else lang) for row in ranked]
                    for evaluation, ranked in zip((python, sql.evaluation), rows)]
            assert said[1] == said[0] and {"code", "rule"} <= said[0][0][0].keys(), name  # which allocation rule matched


def registry_ruleset(name: str, registry):
    return load_ruleset(name, registry.ruleset_dirs)


@pytest.mark.duckdb
@pytest.mark.slow  # four whole runs of the 600-row sample per option
@pytest.mark.parametrize("reasons", ["words", "codes", "none"])
def test_the_reasons_option_writes_the_same_files_on_both_engines(reasons, capsys, tmp_path, registry):
    """``--reasons``: JSON Lines with codes and words, codes only, or no reasons; CSV as the
    Python engine writes it, from either engine."""
    require_engine("duckdb")
    plan = compile_ruleset(registry_ruleset("b2b-manufacturing", registry), registry)
    silent = {scheme.id for scheme in unexplained(plan)}
    written = {}
    for engine in ("python", "duckdb"):
        for suffix in ("jsonl", "csv"):
            path = tmp_path / f"{engine}.{suffix}"
            code, _out, err = run(capsys, "-q", "evaluate", "b2b-manufacturing", B2B, "--as-of", AS_OF, "--engine", engine,
                                  "--reasons", reasons, "-o", path)
            assert code == 0, err
            assert ("gives no reasons for" in err) == (engine == "duckdb" and reasons != "none" and bool(silent))
            written[engine, suffix] = path
    python, duckdb = ([json.loads(line) for line in written[e, "jsonl"].read_text(encoding="utf-8").splitlines()[1:]]
                      for e in ("python", "duckdb"))
    grade = python[0]["outcomes"]["grade"]
    if reasons == "none":
        assert all("reasons" not in outcome for record in python + duckdb for outcome in record["outcomes"].values())
    else:
        assert {"code", "indicator", "points"} <= grade["reasons"][0].keys()
        assert ("text" in grade["reasons"][0]) == (reasons == "words")
    assert_same_records(python, duckdb, silent if reasons != "none" else set())
    tables = {}
    for engine in ("python", "duckdb"):
        with open(written[engine, "csv"], encoding="utf-8-sig", newline="") as handle:
            tables[engine] = list(csv.DictReader(handle))
    assert ("outcomes.grade.reasons" in tables["python"][0]) == (reasons != "none")
    kept = [column for column in tables["python"][0] if not column.endswith(".reasons") or column.split(".")[1] not in silent]
    assert [[row[c] for c in kept] for row in tables["duckdb"]] == [[row[c] for c in kept] for row in tables["python"]]


@pytest.mark.duckdb
def test_no_reasons_leaves_the_reason_columns_out_of_the_query(registry):
    require_engine("duckdb")
    engine = open_engine("duckdb")
    plan = compile_ruleset(registry_ruleset("b2b-manufacturing", registry), registry)
    full, bare = (compile_sql_plan(plan, registry, engine.dialect, AS_OF, "_c", reasons) for reasons in (True, False))
    grade = next(scheme for scheme in plan.schemes if scheme.id == "grade")
    attributes = len(registry.kinds["weighted"].attributes)
    assert bare.details["grade"] == tuple(range(attributes)) < full.details["grade"]
    assert len(full.details["grade"]) == attributes + len(grade.compiled.reason_columns.positions)
    assert len(bare.sql()) < len(full.sql())


# -- the commands that work on an evaluation -------------------------------------------------


@pytest.mark.duckdb
@pytest.mark.slow  # fourteen whole commands on the sample data
def test_every_command_prints_the_same_on_duckdb(capsys, tmp_path):
    require_engine("duckdb")
    common = [B2B, "--as-of", AS_OF]
    commands = {
        "explain": ["explain", "b2b-manufacturing", *common, "--customer", "C00115"],
        "explain.json": ["explain", "b2b-manufacturing", *common, "--customer", "C00115", "--json"],
        "whatif": ["whatif", "b2b-manufacturing", *common, "--set", "schemes.grade.grades.0.min=75", "--json"],
        "report": ["report", "b2b-manufacturing", *common, "-o", "{out}/report.html"],
        "brief": ["brief", "b2b-manufacturing", *common, "--owner", "王芳", "-o", "{out}/brief.html"],
        "calllist": ["calllist", "b2b-manufacturing", *common, "--owner", "王芳", "-o", "{out}/calls.csv"],
        "backtest": ["backtest", "saas-enterprise", SAAS / "accounts.csv", "--orders", SAAS / "invoices.csv",
                     "--as-of", "2026-05-01", "--json"],
    }
    for name, args in commands.items():
        printed = {}
        for engine in ("python", "duckdb"):
            out = tmp_path / engine
            out.mkdir(exist_ok=True)
            code, text, err = run(capsys, *(str(arg).format(out=out) for arg in args), "--engine", engine)
            assert code == 0, (name, err)
            files = sorted(out.iterdir())
            printed[engine] = [text.replace('"engine": "duckdb"', '"engine": "python"')] + [f.read_bytes() for f in files]
            for file in files:
                file.unlink()
        assert printed["duckdb"] == printed["python"], name


# -- the run store ---------------------------------------------------------------------------


@pytest.mark.duckdb
@pytest.mark.slow  # three command starts, two whole runs
def test_a_duckdb_run_saves_the_same_rows_and_diffs_with_a_python_run(tmp_path):
    require_engine("duckdb")
    store = tmp_path / "runs.sqlite"
    for engine in ("python", "duckdb"):
        done = subprocess.run([*TIERKIT, "-q", "evaluate", "b2b-manufacturing", str(B2B), "--as-of", str(AS_OF),
                               "--engine", engine, "--save", "--store", str(store), "--reasons", "none",
                               "-o", str(tmp_path / f"{engine}.jsonl")], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "duckdb.jsonl").read_text(encoding="utf-8").splitlines()[0])["meta"]
    assert meta["run_id"] == 2 and meta["engine"] == "duckdb"
    with sqlite3.connect(store) as db:
        for table in ("customers", "outcomes", "tags"):
            runs = [sorted(row[1:] for row in db.execute(f"SELECT * FROM {table} WHERE run_id = ?", (run,)))  # run_id first
                    for run in (1, 2)]
            assert runs[0] and runs[0] == runs[1], table
    done = subprocess.run([*TIERKIT, "diff", "1", "2", "--store", str(store), "--format", "json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)
    assert diff["customers"] == {"from": 600, "to": 600, "new": [], "gone": []} and not diff["ruleset_changed"]
    assert diff["migrations"] == {} and diff["at_risk"] == {"new": [], "cleared": []}


# -- a kind that gives no reasons on SQL -------------------------------------------------------

PLAIN_KIND = '''
from tierkit.plan.build import CompiledScheme
from tierkit.hookspecs import hookimpl
from tierkit.registry import SchemeKind


def compile(build):
    build.row([f'{build.outcome.local} = ("seen", None, (), None)'], [build.outcome])
    return CompiledScheme(explain=lambda outcome, lang: [{"text": "seen on python"}])


def compile_sql(build):
    build.outcome(label="'seen'")


@hookimpl
def tierkit_scheme_kinds(register):
    register(SchemeKind("plain", "A kind written for each engine, with reasons in words on Python only.",
                        {"type": "object"}, compile, compile_sql=compile_sql))
'''


@pytest.mark.duckdb
def test_a_kind_without_reason_columns_says_so_rather_than_writing_empty_reasons(capsys, tmp_path):
    require_engine("duckdb")
    plugin, ruleset, customers = tmp_path / "plain.py", tmp_path / "r.yaml", tmp_path / "c.csv"
    plugin.write_text(PLAIN_KIND, encoding="utf-8")
    ruleset.write_text("tierkit: 1\nname: r\nversion: '1'\nfields:\n  id: {type: string, required: true}\n"
                       "  revenue: {type: number}\nschemes:\n  - {id: seen, kind: plain}\n"
                       "  - {id: share, kind: pareto, value: revenue}\n", encoding="utf-8")
    customers.write_text("id,revenue\na,10\nb,5\n", encoding="utf-8")
    records = {}
    for engine in ("python", "duckdb"):
        output = tmp_path / f"{engine}.jsonl"
        code, _out, err = run(capsys, "--plugin", plugin, "evaluate", ruleset, customers, "--engine", engine, "-o", output)
        assert code == 0, err
        assert ("warning: duckdb gives no reasons for seen (plain) yet" in err) == (engine == "duckdb")
        records[engine] = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    python, duckdb = records["python"], records["duckdb"]
    assert duckdb[0]["meta"]["no_reasons"] == ["seen"] and "no_reasons" not in python[0]["meta"]
    assert python[1]["outcomes"]["seen"]["reasons"] == [{"text": "seen on python"}]
    assert "reasons" not in duckdb[1]["outcomes"]["seen"]  # not an empty list: none were computed
    assert duckdb[1]["outcomes"]["share"]["reasons"] == python[1]["outcomes"]["share"]["reasons"]
    code, out, _err = run(capsys, "--plugin", plugin, "explain", ruleset, customers, "--customer", "a", "--engine", "duckdb")
    assert code == 0 and "(no reasons: the duckdb engine gives none for kind plain yet; --engine python gives them)" in out
