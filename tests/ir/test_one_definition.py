"""The one-definition prototype (benchmarks/one_definition): ``weighted`` and ``pareto``
stated once as IR agree with tierkit's Python engine on every engine they lower to.

On the 600 bundled b2b customers: the IR on DuckDB and on Python give the current
engine's labels and scores (``b2b-pareto.yaml``: the bundled ruleset plus a Pareto
scheme over revenue) and its reasons, read as codes and parameters; the two
lowerings agree column by column, reasons included; the Spark lowering agrees when
Spark can run.  A property test lowers random expressions with missing values to
Python and to DuckDB and compares their values row by row.
"""

from __future__ import annotations

import math

import pytest

from benchmarks.one_definition import engines, lowering, program
from tierkit.ir import to_sql
from tests.conftest import ROOT
from tests.engine_harness import require_engine, shared_engine

CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-11-01"

pytestmark = pytest.mark.duckdb


@pytest.fixture(scope="module")
def prog():
    return program.load()


@pytest.fixture(scope="module")
def outputs(prog, tmp_path_factory):
    """Rows by id from each lowering's Parquet file, and the JSON Lines of each."""
    require_engine("duckdb")
    import json

    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("one_definition")
    found = {}
    for name, run in (("duckdb", engines.run_duckdb), ("python", engines.run_python)):
        assert run(prog, CUSTOMERS, folder / f"{name}.parquet") == (600, 0)
        assert run(prog, CUSTOMERS, folder / f"{name}.jsonl") == (600, 0)
        rows = {row["id"]: row for row in pq.read_table(folder / f"{name}.parquet").to_pylist()}
        lines = {r["id"]: r for r in map(json.loads, (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines())}
        found[name] = (rows, lines)
    return found


@pytest.fixture(scope="module")
def current():
    """The current Python engine's records, by id."""
    import tierkit

    ruleset = tierkit.load(str(ROOT / "benchmarks" / "one_definition" / "b2b-pareto.yaml"))
    return {record["id"]: record for record in ruleset.evaluate(str(CUSTOMERS), as_of=AS_OF, lang="en").records()}


def same(left, right) -> bool:
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


# -- reasons of the current engine, read as codes ---------------------------------------------

# what the engine's records add to the prototype's: flags of earlier record shapes, the
# words' display values, and the blank inputs (the prototype names the expression's)
NOT_IN_PROTOTYPE = {"text", "fields", "missing", "insufficient_data", "promoted", "hysteresis", "contribution_shown",
                    "short_by_shown", "missing_fields"}


def engine_codes(reasons: list[dict]) -> list[tuple[str, dict]]:
    """The engine's own codes and parameters (both kinds are stated as IR in the package)."""
    return [(r["code"], {k: v for k, v in r.items() if k != "code" and k not in NOT_IN_PROTOTYPE}) for r in reasons]


READERS = {"grade": engine_codes, "pareto": engine_codes}


# -- tests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lowering", ["duckdb", "python"])
def test_labels_and_scores_match_the_current_engine(outputs, current, lowering):
    rows, _lines = outputs[lowering]
    assert rows.keys() == current.keys()
    wrong = []
    for key, row in rows.items():
        for scheme in ("grade", "pareto"):
            outcome = current[key]["outcomes"][scheme]
            if row[f"{scheme}.label"] != outcome["label"] or not same(row[f"{scheme}.score"], outcome["score"]):
                wrong.append((key, scheme, row[f"{scheme}.label"], row[f"{scheme}.score"], outcome["label"], outcome["score"]))
    assert not wrong, wrong[:5]
    assert {row["grade.label"] for row in rows.values()} >= {"S", "A", "B", "C", "D"}
    assert {row["pareto.label"] for row in rows.values()} == {"top", "middle", "bottom"}


@pytest.mark.parametrize("lowering", ["duckdb", "python"])
def test_reasons_match_the_current_engine(outputs, current, lowering):
    _rows, lines = outputs[lowering]
    wrong = []
    for key, line in lines.items():
        for scheme, read in READERS.items():
            expected = read(current[key]["outcomes"][scheme]["reasons"])
            got = line[f"{scheme}.reasons"]
            codes_match = [code for code, _ in expected] == [r["code"] for r in got]
            params_match = codes_match and all(same(g[k], v) for (_, p), g in zip(expected, got) for k, v in p.items())
            if not params_match:
                wrong.append((key, scheme, expected, got))
    assert not wrong, wrong[:2]
    codes = {r["code"] for line in lines.values() for s in READERS for r in line[f"{s}.reasons"]}
    assert {"weighted.contribution", "weighted.missing", "weighted.near", "weighted.promoted",
            "pareto.position", "pareto.segment"} <= codes


def test_lowerings_agree_on_every_column(outputs):
    duck, python = outputs["duckdb"][0], outputs["python"][0]
    columns = next(iter(duck.values())).keys()
    assert columns == next(iter(python.values())).keys()
    wrong = [(key, column, duck[key][column], python[key][column])
             for key in duck for column in columns if not same(duck[key][column], python[key][column])]
    assert not wrong, wrong[:5]
    duck_lines, python_lines = outputs["duckdb"][1], outputs["python"][1]
    for key, line in duck_lines.items():
        for scheme in READERS:
            got, expected = python_lines[key][f"{scheme}.reasons"], line[f"{scheme}.reasons"]
            assert [r.keys() for r in got] == [r.keys() for r in expected], key
            assert all(same(g[k], e[k]) for g, e in zip(got, expected) for k in e), (key, got, expected)


def test_bad_cells_and_missing_required_fields_are_rejected_not_dropped(prog, tmp_path):
    require_engine("duckdb")
    source = tmp_path / "customers.csv"
    source.write_text("id,name,annual_procurement,our_revenue_12m\nX1,a,12,3\nX2,b,lots,3\nX3,c,,1\n", encoding="utf-8")
    assert engines.run_duckdb(prog, source, tmp_path / "d.parquet") == (1, 2)
    assert engines.run_python(prog, source, tmp_path / "p.parquet") == (1, 2)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_lowering_agrees(prog, outputs):
    engine = shared_engine("spark")
    from sqlglot import exp

    types = dict(prog.raw)
    schema = ", ".join(f"`{name}` {to_sql.TYPES[types[name]].replace('VARCHAR', 'STRING')}" for name in engines.header(CUSTOMERS))
    engine.session.read.csv(str(CUSTOMERS), header=True, schema=schema).createOrReplaceTempView("od_customers")
    query = lowering.program_query(prog, engines.accepted(prog, exp.to_table("od_customers")), "spark")
    rows = {row["id"]: row.asDict() for row in engine.session.sql(to_sql.to_sql(query, "spark")).collect()}
    duck = outputs["duckdb"][0]
    assert rows.keys() == duck.keys()
    wrong = [(key, column) for key in duck for column in duck[key] if not same(duck[key][column], rows[key][column])]
    assert not wrong, wrong[:5]
