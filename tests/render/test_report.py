"""``tierkit report``: every section, and numbers checked against independent sums."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import inspect
import math
from pathlib import Path

import pytest

from tierkit.engine.evaluation import compile_ruleset
from tierkit.engine.job import run_job
from tierkit.manager import make_plugin_manager, make_registry
from tierkit.render.environment import Renderer
from tierkit.render import report as render_report
from tierkit.render.report import ReportBuilder, pareto_share
from tierkit.ruleset.load import load_ruleset

from tests.render.test_brief import EXAMPLE, Page
from tests.render.test_render import AS_OF, run_cli, write_small_case

MATRIX = """\
extends: acme.yaml
name: acme-matrix
version: "1"
schemes:
  - id: vp
    kind: matrix
    label: {en: Value × margin, zh: 价值×利润}
    preset: value_potential
    x: {value: revenue, cut: 500000, label: {en: Revenue, zh: 收入}}
    y: {value: margin, cut: 20, label: {en: Margin, zh: 毛利率}}
"""


def build_report(ruleset, customers, lang="en", **options):
    registry = make_registry()
    plan = compile_ruleset(load_ruleset(ruleset, registry.ruleset_dirs), registry)
    job = run_job(plan, registry, str(customers), None, dt.date(2026, 11, 1))
    renderer = Renderer(make_plugin_manager(), registry.functions, plan.ruleset.source, lang, dt.date(2026, 11, 1))
    return ReportBuilder(job.evaluation, registry, renderer.env, lang).report(job.table.read, **options)


@pytest.fixture
def matrix_case(tmp_path) -> tuple[Path, Path]:
    _, customers = write_small_case(tmp_path)
    (tmp_path / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    return tmp_path / "matrix.yaml", customers


def test_every_section_is_present(matrix_case, tmp_path):
    ruleset, customers = matrix_case
    out = tmp_path / "report.html"
    assert run_cli("report", ruleset, customers, "-o", out, "--as-of", AS_OF, "--lang", "en") == 0
    page = Page(out.read_text(encoding="utf-8"))
    for cls in ("distribution", "cross", "pareto", "matrix", "workload", "watch", "run"):
        assert page.find(cls), cls
    assert page.text("distribution").startswith("Grade distribution · Account grade")
    assert page.text("cross").startswith("Industry track × Account grade")
    assert sum(1 for e in page.elements if e["tag"] == "svg") == 3  # distribution bars, Pareto curve, scatter
    assert [e["attrs"].get("data-tag") for e in page.find("watch-list")] == ["benchmark", "nail", "at_risk", None]
    assert page.find("overlap") and not page.find("appendix")  # no list is cut


def test_grade_counts_add_up_to_the_evaluated_customers(matrix_case):
    report = build_report(*matrix_case)
    counts = {c.label: c.count for c in report.distribution.counts}
    assert {k: v for k, v in counts.items() if v} == {"S": 2, "A": 1, "B": 2}
    assert sum(counts.values()) == report.evaluated == report.distribution.total == 5
    assert math.isclose(sum(c.share for c in report.distribution.counts), 1.0)


def test_the_cross_table(matrix_case):
    cross = build_report(*matrix_case).cross
    table = {row: dict(zip(cross.columns, cells)) for row, cells in zip(cross.rows, cross.cells)}
    assert table["Manufacturing"]["S: strategic core"] == 2
    assert table["Finance"]["A: key account"] == 1
    assert table["Government"]["B: standard"] == 1 and table["General"]["B: standard"] == 1
    assert cross.total == 5 and sum(cross.row_totals) == sum(cross.column_totals) == 5


NO_DEFAULTS = """\
tierkit: 1
name: no-defaults
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  kind: {type: string}
  score: {type: number}
schemes:
  - id: track
    kind: rules
    rules:
      - {id: gov, when: "kind == 'gov'"}
      - {id: biz, when: "kind == 'biz'"}
  - id: grade
    kind: rules
    rules:
      - {id: A, when: "score >= 50"}
      - {id: B, when: "score >= 10"}
rank:
  - {by: score, order: desc}
"""


def test_the_cross_table_counts_customers_without_a_label(tmp_path):
    """Rules without a default leave some customers with no class or no grade: they are
    a "—" row and column, as in the distribution, and the total is everyone evaluated."""
    ruleset = tmp_path / "no-defaults.yaml"
    ruleset.write_text(NO_DEFAULTS, encoding="utf-8")
    customers = tmp_path / "customers.csv"
    customers.write_text("id,kind,score\nc1,gov,60\nc2,biz,20\nc3,other,70\nc4,gov,5\nc5,,\nc6,biz,55\n", encoding="utf-8")
    report = build_report(ruleset, customers, by="track", grade="grade")
    cross = report.cross
    assert cross.columns == ["A", "B", "—"] and cross.rows == ["gov", "biz", "—"]
    table = {row: dict(zip(cross.columns, cells)) for row, cells in zip(cross.rows, cross.cells)}
    assert table == {"gov": {"A": 1, "B": 0, "—": 1}, "biz": {"A": 1, "B": 1, "—": 0}, "—": {"A": 1, "B": 0, "—": 1}}
    assert cross.row_totals == [2, 2, 2] and cross.column_totals == [3, 1, 2]
    assert cross.total == report.evaluated == report.distribution.total == 6
    assert {c.display: c.count for c in report.distribution.counts} == {"A": 3, "B": 1, "—": 2}


def test_by_and_grade_choose_other_schemes(matrix_case):
    cross = build_report(*matrix_case, by="vp", grade="size").cross
    assert cross.title == "Value × margin × Size"
    assert dict(zip(cross.rows, cross.row_totals)) == {"Star customer": 3, "Long tail": 2}


def test_pareto_defaults_to_revenue_and_marks_the_top_fifth(matrix_case):
    pareto = build_report(*matrix_case).pareto
    assert pareto.value == "Revenue" and pareto.customers == 5 and pareto.missing == 0
    assert math.isclose(pareto.share_at_point, 1_000_000 / 2_800_000)
    assert pareto.points[0] == (0.0, 0.0) and pareto.points[-1] == (1.0, 1.0)


def test_pareto_of_an_expression(matrix_case):
    pareto = build_report(*matrix_case, value="revenue * margin / 100").pareto
    profits = sorted([500_000, 360_000, 150_000, 20_000, 5_000], reverse=True)
    assert math.isclose(pareto.share_at_point, profits[0] / sum(profits))


def test_an_unknown_name_in_the_value_is_one_line(matrix_case, tmp_path, capsys):
    ruleset, customers = matrix_case
    assert run_cli("report", ruleset, customers, "-o", tmp_path / "r.html", "--value", "revenu * 2") == 2
    assert capsys.readouterr().err.strip() == "tierkit: --value 'revenu * 2': unknown name 'revenu' (did you mean 'revenue'?)"


def test_pareto_share_interpolates_between_customers():
    assert pareto_share([5.0, 3.0, 2.0], 0.2) == pytest.approx(0.6 * 5 / 10)
    assert pareto_share([4.0, 3.0, 2.0, 1.0, 0.0], 0.2) == pytest.approx(0.4)


def test_the_bundled_ruleset_pareto_point_matches_an_independent_sum(tmp_path):
    out = tmp_path / "report.html"
    assert run_cli("report", "b2b-manufacturing", EXAMPLE, "-o", out, "--as-of", AS_OF, "--value", "our_revenue_12m") == 0
    with open(EXAMPLE, encoding="utf-8-sig", newline="") as stream:
        values = sorted((float(row["our_revenue_12m"]) for row in csv.DictReader(stream)), reverse=True)
    top = len(values) // 5
    assert len(values) % 5 == 0
    expected = sum(values[:top]) / sum(values)
    page = Page(out.read_text(encoding="utf-8"))
    shown = page.find("pareto-point")[0]
    assert float(shown["attrs"]["data-share"]) == pytest.approx(expected, abs=1e-6)
    assert f"{expected * 100:.1f}%" in page.text("pareto-point")


def test_the_bundled_ruleset_grade_counts_add_up(tmp_path):
    report = build_report("b2b-manufacturing", EXAMPLE)
    assert sum(c.count for c in report.distribution.counts) == report.evaluated == report.read - report.rejected
    assert report.distribution.scheme == "grade"


def test_matrix_quadrants_and_scatter(matrix_case):
    (matrix,) = build_report(*matrix_case).matrices
    counts = {c.label: c.count for c in matrix.counts}
    assert counts["star"] == 3 and counts["long_tail"] == 2 and sum(counts.values()) == 5
    assert len(matrix.points) == 5 and matrix.cuts == (500000.0, 20.0)
    assert (matrix.x_label, matrix.y_label) == ("Revenue (CNY)", "Margin (%)")  # the fields' units


def test_no_matrix_no_matrix_section(tmp_path):
    ruleset, customers = write_small_case(tmp_path)
    assert build_report(ruleset, customers).matrices == []


def test_workload_from_cadences_against_capacity(matrix_case):
    loads = {(load.team, load.executive): load for load in build_report(*matrix_case, lang="zh").workload}
    triangle = loads["铁三角", False]
    assert triangle.accounts == 2 and triangle.visits == pytest.approx(2 * 30 / 14)
    assert triangle.capacity == 3 and triangle.over  # keyed by the team's Chinese label
    manager = loads["客户经理", False]
    assert manager.visits == pytest.approx(1.0) and manager.capacity == 10 and not manager.over  # keyed in English
    assert loads["电话销售", False].visits == pytest.approx(1.0) and loads["电话销售", False].capacity is None
    assert loads["销售副总裁", True].visits == pytest.approx(2 * 30 / 90)


def test_watch_lists(matrix_case):
    watch = {w.tag: w for w in build_report(*matrix_case).watch}
    assert [a.id for a in watch["benchmark"].accounts] == ["K01"]
    assert [a.id for a in watch["at_risk"].accounts] == ["K02"] and watch["at_risk"].accounts[0].grade == "A: key account"
    assert watch["nail"].total == 0


@pytest.mark.pdf
def test_a_pdf_report(matrix_case, tmp_path):
    pytest.importorskip("weasyprint", reason="PDF output needs the pdf extra")
    pypdf = pytest.importorskip("pypdf")
    ruleset, customers = matrix_case
    out = tmp_path / "report.pdf"
    assert run_cli("report", ruleset, customers, "-o", out, "--as-of", AS_OF, "--lang", "zh") == 0
    text = "".join(page.extract_text() for page in pypdf.PdfReader(str(out)).pages)
    assert "客户组合报告" in text and "帕累托曲线" in text and "危险客户" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "r.txt"), "tierkit: -o r.txt: the report is a .html or .pdf file"),
        (("-o", "r.html", "--by", "nope"), "tierkit: --by: no scheme 'nope' in the ruleset (schemes: track, size, grade, portfolio)"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    ruleset, customers = write_small_case(tmp_path)
    assert run_cli("report", ruleset, customers, *[str(tmp_path / a) if a.endswith((".txt", ".html")) else a for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert err == message.replace(args[1], str(tmp_path / args[1]))


REPORT_CLASSES = [render_report.Report, render_report.Count, render_report.Distribution, render_report.CrossTable,
                  render_report.Pareto, render_report.Matrix, render_report.TeamLoad, render_report.WatchList,
                  render_report.WatchAccount]


@pytest.mark.parametrize("cls", REPORT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_report_context_field_is_documented(cls):
    doc = inspect.getdoc(cls) or ""
    assert [f.name for f in dataclasses.fields(cls) if f"``{f.name}``" not in doc] == []


def test_the_report_template_renders_from_the_documented_context(matrix_case):
    report = build_report(*matrix_case)
    assert set(report.variables()) == {f.name for f in dataclasses.fields(render_report.Report)}
    registry = make_registry()
    renderer = Renderer(make_plugin_manager(), registry.functions, None, "en", dt.date(2026, 11, 1))
    html = renderer.render("report.html", report.variables())
    assert html.count("<svg") == 3


OVERLAPPING = """\
tierkit: 1
name: both
version: "1"
fields:
  id: {type: string, required: true}
  influence: {type: number}
  satisfaction: {type: number}
  cooperation: {type: number}
  annual_procurement: {type: number}
  stalemate_days: {type: integer}
  revenue_trend: {type: number}
schemes:
  - id: pf
    kind: portfolio
    benchmark_and_nail: %s
    nail: {value_cut: 1000}
"""
BOTH = """\
id,influence,satisfaction,cooperation,annual_procurement,stalemate_days,revenue_trend
BN,90,90,90,5000,400,1.2
B,90,90,90,10,0,1.2
N,10,10,10,5000,400,1.2
"""


@pytest.mark.parametrize("allowed", [True, False])
def test_the_report_lists_the_accounts_that_are_both_benchmark_and_nail(tmp_path, allowed):
    (tmp_path / "both.yaml").write_text(OVERLAPPING % str(allowed).lower(), encoding="utf-8")
    (tmp_path / "both.csv").write_text(BOTH, encoding="utf-8")
    report = build_report(tmp_path / "both.yaml", tmp_path / "both.csv")
    assert [account.id for account in report.overlap] == (["BN"] if allowed else [])
