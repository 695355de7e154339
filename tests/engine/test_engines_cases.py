"""Every declarative case population and every bundled ruleset on its sample data,
evaluated on the Python engine and on the SQL engines: labels, tags, attributes, ranks
and allocation rules identical, scores to 1e-9, and the reasons (codes and parameters)
of every kind stated as IR.  The case files cover each kind's
boundaries (ties, missing values, populations of one, every preset) and the bundled
rulesets' golden customers.

Both engines run each ruleset of a case file once, on the customers of all its cases
pooled into one population (ids made distinct): a query costs far more than a customer
(Spark pays about a second per query).  DuckDB also runs alone each case whose
population is its point (the Python engine gives its customers other outcomes among the
others, or it has none); the edge cases of a population-wide kind that hang on the
population itself run on Spark in the kind's own tests/test_sql_<kind>.py, with
hand-made populations.  Each bundled ruleset runs whole on both engines, and reduced to
each of its kinds on DuckDB, so that a difference names its kind."""

from __future__ import annotations

import pytest

from tierkit.manager import make_registry
from tierkit.ruleset.load import load_ruleset
from tierkit.analysis.testing import CaseRunner

from tests.case_files import cases_by_file
from tests.conftest import ROOT
from tests.engine_harness import (SAMPLE_DATA, case_groups, compare, compare_batch, compare_engines, compare_sample,
                                  differences, engine_params, only_kind, pooled, python_outcomes, run_sample,
                                  shared_engine, sql_outcomes, with_engines)

REGISTRY = make_registry()
CASES = cases_by_file()
EACH_CASE = [(path, case) for path, cases in CASES.items() for case in cases]
GROUPS = {f"{path.stem}: {name}": group for path, cases in CASES.items() for name, group in case_groups(cases).items()}
# The golden cases of each bundled ruleset: on Spark they run in the query of its sample data
GOLDEN = {path.stem: cases for path, cases in CASES.items() if path.parent.name == "golden"}


@pytest.fixture(scope="module")
def runner(registry):
    return CaseRunner(registry)


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_each_case_whose_outcomes_hang_on_its_population_on_duckdb(path, runner, registry):
    """Each case of the file run alone on DuckDB, one query per case, where its population
    is its point: a case whose outcomes (rank aside) the Python engine gives alike among
    the other cases of its ruleset is checked by the pooled query of
    :func:`test_each_case_ruleset_on_all_its_case_customers`, which runs its customers
    with the same ruleset.  A difference is named by its case."""
    engine = shared_engine("duckdb")
    found = []
    for group in case_groups(CASES[path]).values():
        evaluations = {case.name: runner.evaluate(case) for case in group}
        for name in alone_in_effect(evaluations, registry):
            found += [f"{name}: {difference}" for difference in compare(evaluations[name], registry, engine)]
    assert found == []


def alone_in_effect(evaluations: dict, registry) -> list[str]:
    """The populations of one ruleset that the pooled query does not check as they are
    alone: those without a customer, and those whose outcomes, rank aside, the Python
    engine gives otherwise when pooled with the others (:func:`pooled`, ids ``n:ID``).
    A population left out of the pool is compared alone by the pooled test already."""
    pools = [evaluation for name, evaluation in pooled(evaluations).items() if name not in evaluations]
    if not pools:
        return []
    together = python_outcomes(pools[0], registry)
    hanging = []
    for number, (name, evaluation) in enumerate(evaluations.items()):
        alone = {customer: {key: value for key, value in outcome.items() if key != "rank"}
                 for customer, outcome in python_outcomes(evaluation, registry).items()}
        among = {customer: {key: value for key, value in together.get(f"{number}:{customer}", {}).items() if key != "rank"}
                 for customer in alone}
        if not alone or differences(alone, among):
            hanging.append(name)
    return hanging


# the golden files' groups run on Spark pooled with their ruleset's sample data
@pytest.mark.parametrize("group, engine_name", with_engines(GROUPS, lambda group: group.split(":")[0] in GOLDEN))
def test_each_case_ruleset_on_all_its_case_customers(group, engine_name, runner, registry):
    evaluations = {case.name: runner.evaluate(case) for case in GROUPS[group]}
    assert compare_batch(evaluations, registry, shared_engine(engine_name)) == []


def test_pooling_keeps_every_customer(runner):
    """The pooled populations hold every case's customers, and a query holds several cases."""
    total = 0
    for group in GROUPS.values():
        evaluations = {case.name: runner.evaluate(case) for case in group}
        (population,) = pooled(evaluations).values()
        assert len(population.rows) == sum(len(evaluation.rows) for evaluation in evaluations.values())
        total += len(population.rows)
    assert total == sum(len(runner.evaluate(case).rows) for _path, case in EACH_CASE)
    assert len(GROUPS) < len(EACH_CASE) / 4


@pytest.mark.parametrize("engine_name", engine_params())
@pytest.mark.parametrize("name", SAMPLE_DATA)
def test_bundled_ruleset_on_its_sample_data(name, engine_name, runner, registry):
    """The whole ruleset, every kind in it, with rank and allocation.  On Spark, where a
    query costs seconds, its golden cases' customers run in the same query, pooled with
    the sample data (DuckDB runs the sample data alone, and the cases in their own test)."""
    if engine_name == "duckdb":
        assert compare_engines(name, registry, engine_name, *SAMPLE_DATA[name]) == []
        return
    evaluations = {"sample data": run_sample(name, registry, *SAMPLE_DATA[name])}
    evaluations.update((case.name, runner.evaluate(case)) for case in GOLDEN[name])
    assert compare_batch(evaluations, registry, shared_engine(engine_name)) == []


def _kinds_of_bundled():
    return [(kind, name) for name in SAMPLE_DATA
            for kind in dict.fromkeys(s["kind"] for s in load_ruleset(name, REGISTRY.ruleset_dirs).data["schemes"])]


# the labels the sample data reach, so the comparison is not of one label everywhere:
# the set of them, or how many at least
LABELS_REACHED = {"pareto": {"top", "middle", "bottom"}, "rfm": 8, "matrix": 4}


@pytest.mark.parametrize("kind, name", _kinds_of_bundled())
def test_each_kind_of_a_bundled_ruleset_on_its_sample_data(kind, name, registry):
    """The ruleset reduced to one kind's schemes (and what they read), so a difference
    names its kind: on DuckDB (on Spark the whole ruleset above compares the same
    schemes on the same customers)."""
    ruleset = only_kind(name, kind, registry)
    actual = compare_sample(ruleset, registry, shared_engine("duckdb"), name)
    for scheme in (scheme["id"] for scheme in ruleset.data["schemes"] if scheme["kind"] == kind):
        labels = {outcome[scheme][0] for outcome in actual.values()}
        reached = LABELS_REACHED.get(kind, 1)
        assert labels == reached if isinstance(reached, set) else len(labels) >= reached, (scheme, labels)


@pytest.mark.duckdb
def test_reasons_of_a_kind_stated_as_ir_are_compared(runner, registry):
    """The pareto cases' reasons are read from both engines and compared: every known
    customer has some, and a parameter off by a little is a difference."""
    (case,) = [case for case in CASES[ROOT / "tests" / "cases" / "pareto.yml"] if case.name.startswith("ten distinct")]
    evaluation = runner.evaluate(case)
    expected = python_outcomes(evaluation, registry)
    actual = sql_outcomes(evaluation, registry, shared_engine("duckdb"))
    assert differences(expected, actual) == []
    codes = [reason["code"] for reason in actual["C01"]["pareto.reasons"]]
    assert codes == ["pareto.position", "pareto.top", "pareto.segment"]
    actual["C01"]["pareto.reasons"][0]["customer_share"] += 1e-6
    assert differences(expected, actual) == [
        f"C01 pareto.reasons: python {expected['C01']['pareto.reasons']!r} != sql {actual['C01']['pareto.reasons']!r}"]
