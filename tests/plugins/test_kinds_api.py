"""The public module for kind plugins, ``tierkit.kinds``, and the kind docs/plugins.md
walks through ("A new kind"): the doc's code is examples/churn-watch/churn_watch.py
word for word, under 100 lines, and runs with the same outcomes and reasons on every
engine; a plain Python function of one customer's values (the escape hatch) runs on
every engine, a missing argument giving a missing result and an exception rejecting
that customer's row."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import tierkit.kinds as kinds
from tierkit.engine.evaluation import BoundPlan, compile_ruleset
from tierkit.io.tables import read_table, table_from_rows
from tierkit.manager import make_registry
from tierkit.engine.sql.connection import open_engine
from tierkit.engine.sql.run import run_sql_job

from tests.conftest import ROOT, TIERKIT
from tests.engine_harness import (compare_engines, differences, engine_params, make_ruleset, python_outcomes, require_engine, run_sample,
                             shared_engine, sql_outcomes)

EXAMPLE = ROOT / "examples" / "churn-watch"
PLUGIN = EXAMPLE / "churn_watch.py"
CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def registry():
    return make_registry((PLUGIN,))


def test_every_export_is_documented():
    """A function or class by its docstring, a constant (``NULL``, ``WHITESPACE``, the
    when-rules' templates) by the docs; and docs/plugins.md's reference names every export."""
    assert sorted(kinds.__all__) == sorted(set(kinds.__all__))
    constants = [name for name in kinds.__all__ if not callable(getattr(kinds, name))]
    assert constants == ["NULL", "WHEN_RULES_TEMPLATES", "WHITESPACE"]
    undocumented = [name for name in kinds.__all__ if name not in constants and not (getattr(kinds, name).__doc__ or "").strip()]
    assert undocumented == []
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    reference = doc[doc.index("### `tierkit.kinds`, name by name"):doc.index("\n## ", doc.index("### `tierkit.kinds`"))]
    assert [name for name in kinds.__all__ if f"`{name}" not in reference] == []


def test_constant_values_are_proved_from_the_expression_only():
    assert kinds.constant_values("1 if vip else 0") == [1, 0]
    assert kinds.constant_values("-5 if a else (true if b else 2.5)") == [-5, True, 2.5]
    assert kinds.constant_values("revenue") is None
    assert kinds.constant_values("1 if vip else revenue") is None
    assert kinds.constant_values("'gold'") is None  # a text is not proved on one side of a cut
    assert kinds.constant_values("1 +") is None  # reported where it is compiled
    assert kinds.did_you_mean("finanse", ["government", "finance"]) == "did you mean 'finance'?"
    assert kinds.did_you_mean("zzz", ["government", "finance"]) is None


def test_value_words_say_an_expressions_values_as_the_ruleset_does(registry):
    """portfolio's market stage and nail reason outside its own words: each said by the
    label the ruleset declares for that enum value (IrBuild.value_words), in both languages."""
    ruleset = make_ruleset("words", {
        "annual_procurement": {"type": "number"}, "stalemate_days": {"type": "integer"},
        "market_stage": {"type": "enum", "values": ["early", "mid", "late", "unsure"],
                         "labels": {"unsure": {"en": "Not sure", "zh": "不确定"}}},
        "reason": {"type": "enum", "values": ["no_trust", "budget"], "labels": {"budget": {"en": "No budget", "zh": "没有预算"}}},
    }, [{"id": "pf", "kind": "portfolio", "benchmark": False, "at_risk": False, "nail": {"value_cut": 1000}}])
    plan = compile_ruleset(ruleset, registry)
    rows = [{"id": "A", "annual_procurement": 5000, "stalemate_days": 200, "market_stage": "unsure", "reason": "budget"}]
    evaluation = BoundPlan(plan, AS_OF).run_table(table_from_rows("t", plan.fields, enumerate(rows, 1)))
    said = {lang: [r["text"] for r in evaluation.record(evaluation.rows[0], lang)["outcomes"]["pf"]["reasons"]
                   if r["code"] in ("portfolio.stage_other", "portfolio.reason_other")] for lang in ("en", "zh")}
    assert said["en"] == ["stage: market stage Not sure not known; early markets take easy customers first, "
                          "mid/late markets attack nails", "reason: No budget"]
    assert said["zh"] == ["阶段：市场阶段 不确定 未知；早期先拿容易的客户，中后期攻坚钉子", "原因：没有预算"]


def test_the_doc_walks_through_the_example_word_for_word():
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = doc[doc.index("## A new kind"):]
    section = section[:section.index("\n## ", 1)]
    (code,) = [block for block in re.findall(r"```python\n(.*?)```", section, re.S) if "def define" in block]
    module = PLUGIN.read_text(encoding="utf-8")
    assert code == module
    assert len(module.splitlines()) < 100


def test_a_decision_table_decides_by_its_first_row_that_holds():
    x = kinds.Column("x", kinds.DType.FLOAT)
    table = kinds.first_match("row", [(kinds.ge(x, 10), "high", "t.high", (("x", x),)), (kinds.ge(x, 5), "mid")],
                              default=("low", "t.low"))
    assert [reason.code for reason in table.reasons] == ["t.high", "t.low"]
    assert table.value.dtype is kinds.DType.STR and len(table.lets) == 1
    with pytest.raises(ValueError, match="only the last row"):
        kinds.first_match("row", [kinds.Rule(None, "a"), (kinds.ge(x, 1), "b")])


@pytest.mark.parametrize("engine_name", engine_params())
def test_the_example_kind_agrees_on_every_engine(engine_name, registry):
    """600 customers: every label reached, the Python function's gap and the reasons equal."""
    assert compare_engines(EXAMPLE / "ruleset.yaml", registry, engine_name, CUSTOMERS, None, AS_OF) == []


def test_the_example_reaches_every_label_with_its_reasons(registry):
    evaluation = run_sample(EXAMPLE / "ruleset.yaml", registry, CUSTOMERS, None, AS_OF)
    outcomes = python_outcomes(evaluation, registry)
    assert {outcome["churn"][0] for outcome in outcomes.values()} == {"active", "at_risk", "lost", "unknown"}
    codes = {reason["code"] for outcome in outcomes.values() for reason in outcome["churn.reasons"]}
    assert codes == {"churn.unknown", "churn.lost", "churn.quiet", "churn.falling", "churn.active"}
    falling = next(key for key, outcome in outcomes.items() if outcome["churn.reasons"][0]["code"] == "churn.falling")
    record = evaluation.record(next(row for row in evaluation.rows if row[evaluation.plan.id_index] == falling), "zh")
    (reason,) = record["outcomes"]["churn"]["reasons"]
    assert re.fullmatch(r"收入较上年 -\d+%", reason["text"]) and reason["trend"] <= -0.3
    assert record["outcomes"]["churn"]["tags"] == ["falling"]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_the_doc_commands_run_it(engine, tmp_path):
    import subprocess

    if engine != "python":
        require_engine(engine)
    done = subprocess.run([*TIERKIT, "--plugin", str(PLUGIN), "evaluate", str(EXAMPLE / "ruleset.yaml"), str(CUSTOMERS),
                           "--as-of", "2026-11-01", "--engine", engine, "-o", str(tmp_path / "churn.csv")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "read 600 · evaluated 600 · rejected 0" in done.stderr


# -- the escape hatch: a plain Python function -------------------------------------------

def grade(points, name):
    """Raises on a negative number of points, as real code does on data it did not expect."""
    if points < 0:
        raise ValueError(f"negative points for {name}")
    return "gold" if points >= 100 else "silver"


def letters(name):
    """Null-safe: called with a missing name too."""
    return 0 if name is None else len(name)


def define(build):
    points = build.number("points")
    let = kinds.Bindings()
    label = let("grade", kinds.python(grade, points.code, kinds.Column("s1", kinds.DType.STR), returns="string"))
    size = let("size", kinds.python(letters, kinds.Column("s1", kinds.DType.STR), returns="integer", null_safe=True))
    reasons = (kinds.Reason("hatch.grade", (("size", size),), kinds.known(label)),)
    return kinds.Defined(kinds.Logic(build.id, let.lets, label, kinds.Lit(None, kinds.DType.FLOAT), (), reasons),
                         {"gold": "Gold", "silver": "Silver"})


HATCH = kinds.LogicKind(define, {"en": {"hatch.grade": "{size} letters"}, "zh": {"hatch.grade": "{size} 个字母"}})
SCHEMA = {"type": "object", "properties": {"points": {"type": "string", "title": "Points", "description": "An expression."}}}


class HatchPlugin:
    @staticmethod
    @kinds.hookimpl
    def tierkit_scheme_kinds(register):
        register(kinds.logic_kind("hatch", "The hatch kind: a grade from a plain Python function.", SCHEMA, HATCH))


@pytest.fixture(scope="module")
def hatch():
    from tierkit.manager import make_plugin_manager
    from tierkit.registry import Registry

    manager = make_plugin_manager(())
    manager.register(HatchPlugin, "hatch")
    registry = Registry.collect(manager)
    ruleset = make_ruleset("hatch", {"name": {"type": "string"}, "points": {"type": "number"}},
                           [{"id": "g", "kind": "hatch", "points": "points"}])
    return registry, compile_ruleset(ruleset, registry)


ROWS = [{"id": "A", "name": "Ann", "points": 120}, {"id": "B", "name": "Bo", "points": 5},
        {"id": "C", "points": 50}, {"id": "D", "name": "Di"}]


def _evaluation(plan, rows):
    return BoundPlan(plan, AS_OF).run_table(table_from_rows("t", plan.fields, enumerate(rows, 1)))


@pytest.mark.parametrize("engine_name", engine_params())
def test_a_python_function_runs_on_every_engine_missing_in_missing_out(engine_name, hatch):
    registry, plan = hatch
    evaluation = _evaluation(plan, ROWS)
    expected = python_outcomes(evaluation, registry)
    assert {key: value["g"][0] for key, value in expected.items()} == {"A": "gold", "B": "silver", "C": None, "D": None}
    assert [value["g.reasons"] for value in expected.values()][:2] == [[{"code": "hatch.grade", "size": 3}],
                                                                       [{"code": "hatch.grade", "size": 2}]]
    assert differences(expected, sql_outcomes(evaluation, registry, shared_engine(engine_name))) == []


@pytest.mark.parametrize("engine_name", ["python", *engine_params()])
def test_a_python_function_that_raises_rejects_that_row_on_every_engine(engine_name, hatch, tmp_path):
    """The row is rejected with the exception as Python says it; the others are evaluated."""
    registry, plan = hatch
    path = tmp_path / "customers.csv"
    path.write_text("id,name,points\nA,Ann,120\nE,Eve,-1\nB,Bo,5\n", encoding="utf-8")
    if engine_name == "python":
        table = read_table(path, plan.fields, registry)
        evaluation = BoundPlan(plan, AS_OF).run_table(table)
        evaluated, rejected = len(evaluation.rows), evaluation.rejected
    else:
        require_engine(engine_name)
        engine = open_engine(engine_name)  # its own relations (Spark's session is shared, and stays open)
        job = run_sql_job(plan, registry, engine, path, None, AS_OF)
        evaluated, rejected = job.evaluated, job.rejected
    assert evaluated == 2
    assert [(item.row, item.reason) for item in rejected] == [(3, "evaluation failed: ValueError: negative points for Eve")]


def test_the_example_kind_documents_its_config(registry, capsys):
    """Every key with a title and description, a YAML example, and validate accepts its ruleset."""
    from tierkit.cli import main
    from tierkit.ruleset.schema import ruleset_schema, undocumented_properties

    assert [where for where in undocumented_properties(ruleset_schema(registry.kinds)) if "churn_watch" in where] == []
    assert "kind: churn_watch" in registry.kinds["churn_watch"].example
    assert main(["--plugin", str(PLUGIN), "validate", str(EXAMPLE / "ruleset.yaml")]) == 0, capsys.readouterr().out
