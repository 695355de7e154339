"""The report's charts keep every label inside their frame: each SVG text's box (its
length as :func:`tierkit.render.charts.text_length` measures it, its anchor and its rotation)
lies within the viewBox, for every bundled ruleset in both languages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tierkit.render.charts import Bar, ScatterPoint, hbars, pareto_curve, scatter, text_length
from tierkit.manager import make_plugin_manager, make_registry
from tierkit.render.environment import Renderer
from tierkit.render.report import ReportBuilder

from tests.bundled_examples import INPUTS, evaluated

SVG = "{http://www.w3.org/2000/svg}"
ROTATE = re.compile(r"rotate\(\s*(-?[\d.]+)")


def text_boxes(svg: str):
    """(text, x0, y0, x1, y1) of each text element, and the viewBox's width and height."""
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    size = float(root.get("font-size", 11))
    boxes = []
    for element in root.iter(f"{SVG}text"):
        shown = (element.text or "") + "".join(child.tail or "" for child in element)
        length = text_length(shown, float(element.get("font-size", size)))
        x, y = float(element.get("x")), float(element.get("y"))
        start = {"start": 0.0, "middle": 0.5, "end": 1.0}[element.get("text-anchor", "start")] * length
        rotated = ROTATE.search(element.get("transform", ""))
        if rotated and abs(float(rotated.group(1))) == 90:  # turned: the length runs up the page
            boxes.append((shown, x - 0.8 * size, y - length + start, x + 0.2 * size, y + start))
        else:
            boxes.append((shown, x - start, y - 0.8 * size, x - start + length, y + 0.2 * size))
    return boxes, width, height


def outside(svg: str) -> list:
    boxes, width, height = text_boxes(svg)
    return [box for box in boxes if box[1] < 0 or box[2] < 0 or box[3] > width or box[4] > height]


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("ruleset", sorted(INPUTS))
def test_every_chart_label_of_the_report_is_inside_its_frame(ruleset, lang):
    evaluation = evaluated(ruleset)
    registry = make_registry()
    renderer = Renderer(make_plugin_manager(), registry.functions, evaluation.plan.ruleset.source, lang, evaluation.bound.as_of)
    report = ReportBuilder(evaluation, registry, renderer.env, lang).report(len(evaluation.rows))
    charts = svgs(renderer.render("report.html", report.variables()))
    assert charts
    assert [box for chart in charts for box in outside(chart)] == []


def test_long_labels_are_cut_to_their_room():
    bars = hbars([Bar("Product adoption and customer health over the last year", 42.4, 100, "8.5 / 20")], "t")
    assert outside(bars) == [] and "…" in bars
    curve = pareto_curve([(0.0, 0.0), (1.0, 1.0)], (1.0, 1.0), "p", "Share of customers, best first " * 3, "Share of revenue " * 4)
    assert outside(curve) == []


def test_the_scatter_has_ticks_on_both_axes_and_names_its_quadrants():
    points = [ScatterPoint(x, y, (x >= 50) * 1 + (y >= 5) * 2) for x in range(0, 101, 10) for y in range(0, 11)]
    chart = scatter(points, ["长尾客户", "现金牛", "潜力客户", "明星客户"], (50, 5), "s", "价值（CNY）", "潜力")
    boxes, _, _ = text_boxes(chart)
    shown = [box[0] for box in boxes]
    assert {"0", "20", "40", "60", "80", "100"} <= set(shown) and {"0", "2", "4", "6", "8", "10"} <= set(shown)
    assert {"长尾客户", "现金牛", "潜力客户", "明星客户", "价值（CNY）", "潜力"} <= set(shown)
    corner = {box[0]: box for box in boxes}
    assert corner["明星客户"][1] > corner["长尾客户"][1] and corner["明星客户"][2] < corner["长尾客户"][2]  # up and right
    assert outside(chart) == []


def test_a_wide_positive_axis_is_logarithmic_with_powers_of_ten():
    points = [ScatterPoint(10 ** (i / 4), i, 0) for i in range(0, 25)]
    shown = [box[0] for box in text_boxes(scatter(points, ["a"], (None, None), "s", "x", "y"))[0]]
    assert {"1", "10", "100", "1k", "10k", "100k", "1M"} <= set(shown)


def test_capacity_per_team_by_id_or_label_with_the_visits_over_or_spare():
    evaluation = evaluated("b2b-manufacturing")
    registry = make_registry()
    loads = {load.team: load for load in ReportBuilder(evaluation, registry, None, "zh").workload() if not load.executive}
    triangle = loads["铁三角（销售+方案+交付）"]  # keyed by the team id iron_triangle, printed as its label
    assert triangle.capacity == 120 and not triangle.over and triangle.spare == pytest.approx(120 - triangle.visits)
    supervised = loads["客户经理+主管"]
    assert supervised.capacity == 80 and supervised.over and supervised.spare < 0
    assert loads["电话销售/自助服务平台"].capacity == 300  # keyed by the English label
    assert loads["电话销售唤醒组"].capacity is None
