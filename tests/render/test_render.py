"""The template environment: loader order, ``default:``, sandbox, strictness, functions,
the message catalogue, and a small hand-made ruleset the printing tests share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tierkit.cli import main
from tierkit.errors import TierkitError
from tierkit.manager import make_plugin_manager
from tierkit.render.environment import Renderer, package_templates, template_dirs
from tierkit.render.format import day, money, num, pct, show
from tierkit.render.messages import MESSAGES

AS_OF = "2026-11-01"

# Two reps, five accounts; scores are 0.6 × revenue points + 0.4 × margin points
# (revenue 0 → 1,000,000 and margin 0 → 50 mapped linearly to 0 → 100):
#   K01 100 S · K05 86 S · K02 56 A · K03 20 B · K04 10 B
SMALL_RULESET = """\
tierkit: 1
name: acme-test
version: 2.0.0
locale: zh
label: {en: Acme test accounts, zh: 测试客户}
fields:
  id: {type: string, required: true, label: {en: ID, zh: 编号}}
  name: {type: string, required: true, label: {en: Name, zh: 名称}}
  owner: {type: string, label: {en: Owner, zh: 负责人}}
  industry: {type: string, label: {en: Industry, zh: 行业}}
  revenue: {type: number, default: 0, unit: CNY, label: {en: Revenue, zh: 收入}}
  margin: {type: number, unit: "%", label: {en: Margin, zh: 毛利率}}
  influence: {type: number, label: {en: Influence, zh: 影响力}}
  satisfaction: {type: number, label: {en: Satisfaction, zh: 满意度}}
  cooperation: {type: number, label: {en: Cooperation, zh: 配合度}}
  complaints_90d: {type: integer, default: 0, label: {en: Complaints, zh: 投诉次数}}
  last_contact_date: {type: date, label: {en: Last contact, zh: 上次联系}}
schemes:
  - id: track
    kind: industry
    label: {en: Industry track, zh: 行业赛道}
    preset: china-b2b
    code: industry
    tracks: [government, finance, manufacturing]
  - id: size
    kind: rules
    label: {en: Size, zh: 规模}
    rules:
      - {id: big, when: "revenue >= 500000", label: {en: Big, zh: 大客户}, tags: [big]}
    default: {id: small, label: {en: Small, zh: 小客户}}
  - id: grade
    kind: weighted
    label: {en: Account grade, zh: 客户等级}
    indicators:
      - {id: scale, label: {en: Revenue scale, zh: 收入规模}, weight: 0.6, value: revenue, linear: {from: 0, to: 1000000}}
      - {id: profit, label: {en: Profit room, zh: 利润空间}, weight: 0.4, value: margin, linear: {from: 0, to: 50}}
    grades:
      - {id: S, min: 80, label: {en: "S: strategic core", zh: S 战略核心}}
      - {id: A, min: 50, label: {en: "A: key account", zh: A 重点客户}}
      - {id: B, min: 0, label: {en: "B: standard", zh: B 普通客户}}
  - id: portfolio
    kind: portfolio
    label: {en: Portfolio, zh: 客户组合}
    nail: false
    at_risk:
      signals:
        complaints: {when: "complaints_90d >= 2", label: {en: Repeated complaints, zh: 多次投诉}}
rank:
  - {by: grade.score, order: desc}
allocation:
  rules:
    - id: strategic
      when: "grade.label == 'S'"
      set:
        team: {en: Iron triangle, zh: 铁三角}
        cadence_days: 14
        executive_sponsor: {en: VP Sales, zh: 销售副总裁}
        executive_visit_days: 90
        service_level: {en: Dedicated, zh: 专属服务}
        actions: [{en: Quarterly executive visit, zh: 高层每季度拜访}]
    - id: key
      when: "grade.label == 'A'"
      set:
        team: {en: Account manager, zh: 客户经理}
        cadence_days: 30
        service_level: {en: Priority, zh: 优先服务}
        actions: [{en: Monthly visit, zh: 每月拜访}]
  default:
    id: rest
    set:
      team: {en: Inside sales, zh: 电话销售}
      cadence_days: 60
      service_level: {en: Self-service, zh: 自助服务}
      actions: [{en: Standard offers by e-mail, zh: 标准化方案邮件触达}]
  capacity: {铁三角: 3, Account manager: 10}
"""

SMALL_CUSTOMERS = """\
id,name,owner,industry,revenue,margin,influence,satisfaction,cooperation,complaints_90d,last_contact_date
K01,北京星河制造有限公司,王芳,manufacturing,1000000,50,90,88,92,0,2026-10-18
K02,上海明珠银行,王芳,finance,600000,25,40,50,60,3,2026-09-01
K03,广州市示范管理局,王芳,government,200000,10,30,40,50,0,2026-09-02
K04,深圳小店百货,李娜,retail,100000,5,20,30,40,0,2026-07-01
K05,杭州精工机械有限公司,李娜,manufacturing,900000,40,80,60,70,1,
"""


def write_small_case(folder: Path) -> tuple[Path, Path]:
    """The small ruleset and its customers, written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ruleset, customers = folder / "acme.yaml", folder / "customers.csv"
    ruleset.write_text(SMALL_RULESET, encoding="utf-8")
    customers.write_text(SMALL_CUSTOMERS, encoding="utf-8")
    return ruleset, customers


def run_cli(*args) -> int:
    return main([str(arg) for arg in args])


@pytest.fixture
def small_case(tmp_path) -> tuple[Path, Path]:
    return write_small_case(tmp_path / "case")


def make_renderer(ruleset_source: Path | None = None, lang: str = "en", registry=None) -> Renderer:
    from tierkit.manager import make_registry

    registry = registry or make_registry()
    return Renderer(make_plugin_manager(), registry.functions, ruleset_source, lang, dt.date(2026, 11, 1))


# -- loader ------------------------------------------------------------------------------


def test_loader_order_is_ruleset_folder_then_plugins_then_package(tmp_path):
    (tmp_path / "templates").mkdir()
    dirs = template_dirs(make_plugin_manager(), tmp_path / "r.yaml")
    assert dirs[0] == tmp_path / "templates"
    assert dirs[-1] == package_templates()


def test_the_builtin_plugin_supplies_the_package_folder_last():
    results = make_plugin_manager().hook.tierkit_template_dirs()
    assert results[-1] == [package_templates()]


def test_a_ruleset_template_overrides_and_default_prefix_reaches_the_original(tmp_path):
    (tmp_path / "templates" / "kinds").mkdir(parents=True)
    (tmp_path / "templates" / "footer.html").write_text(
        '<div class="mine">client footer</div>{% include "default:footer.html" %}', encoding="utf-8"
    )
    renderer = make_renderer(tmp_path / "r.yaml")
    html = renderer.env.get_template("footer.html").render(run=_run())
    assert "client footer" in html and 'class="run"' in html


def test_templates_are_sandboxed(tmp_path):
    env = make_renderer().env
    with pytest.raises(Exception) as caught:
        env.from_string("{{ ''.__class__.__mro__ }}").render()
    assert "unsafe" in str(caught.value) or "SecurityError" in type(caught.value).__name__


def test_undefined_names_fail_instead_of_printing_blank():
    env = make_renderer().env
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ nope }}").render()


def test_a_broken_template_is_a_one_line_error(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "report.html").write_text("{{ missing_name }}", encoding="utf-8")
    with pytest.raises(TierkitError, match="template report.html: 'missing_name' is undefined"):
        make_renderer(tmp_path / "r.yaml").render("report.html", {})


def test_autoescape_is_on():
    env = make_renderer().env
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_registered_functions_are_filters_and_globals_with_expression_semantics():
    env = make_renderer().env
    assert env.from_string("{{ d | days_since }}").render(d=dt.date(2026, 10, 1)) == "31"
    assert env.from_string("{{ days_since(d) }}").render(d=dt.date(2026, 10, 22)) == "10"
    assert env.from_string("{{ 2.5 | round }}").render() == "3.0"  # half away from zero, as in expressions
    assert env.from_string("{{ x | upper }}").render(x=None) == "—"  # a missing argument gives a missing result
    assert env.from_string("{{ coalesce(x, 'b') }}").render(x=None) == "b"


def test_translation_global_and_format_filters():
    zh = make_renderer(lang="zh").env
    assert zh.from_string("{{ t('playbook') }}").render() == "打法"
    assert make_renderer(lang="en").env.from_string("{{ t('every_days', days=14) }}").render() == "every 14 days"
    assert zh.from_string("{{ d | day }}").render(d=dt.date(2026, 6, 20)) == "2026年6月20日"


def test_the_catalogue_has_every_key_in_both_languages():
    assert set(MESSAGES["en"]) == set(MESSAGES["zh"])
    for lang in ("en", "zh"):
        for key, text in MESSAGES[lang].items():
            assert text.strip() or key == "colon"


def test_every_template_key_used_exists_in_the_catalogue():
    import re

    used = set()
    for path in package_templates().rglob("*.html"):
        used |= set(re.findall(r"t\('([a-z_0-9]+)'", path.read_text(encoding="utf-8")))
    assert used - set(MESSAGES["en"]) == set()


@pytest.mark.parametrize(
    ("value", "unit", "lang", "expected"),
    [
        (78_070_000.0, "CNY", "zh", "7,807.0 万元"),
        (12_300_000_000.0, "CNY", "zh", "123.00 亿元"),
        (78_070_000.0, "CNY", "en", "¥78,070,000"),
        (24.9, "%", "en", "24.9%"),
        (1174, "people", "zh", "1,174 人"),
        (1174, "people", "en", "1,174 people"),
        (True, None, "zh", "是"),
        (None, "CNY", "en", "—"),
        (dt.date(2026, 6, 20), None, "en", "2026-06-20"),
        (0.17649, None, "en", "0.176"),
    ],
)
def test_values_as_a_page_shows_them(value, unit, lang, expected):
    assert show(value, lang, unit) == expected


def test_number_helpers():
    assert num(1234.5678) == "1,234.57" and num(3) == "3" and num(2.0) == "2" and num(12.34, 1) == "12.3"
    assert pct(0.8) == "80%" and pct(0.5741, 1) == "57.4%"
    assert day(None) == "—" and money(5000, "CNY", "zh") == "5,000 元"


def test_the_pdf_error_names_the_extra(monkeypatch, tmp_path):
    import builtins

    from tierkit.render import environment as render

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise ImportError("No module named 'weasyprint'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    with pytest.raises(TierkitError) as caught:
        render.write_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert str(caught.value) == "PDF output needs WeasyPrint, which is not installed (pip install 'tierkit[pdf]')"


def test_the_small_case_validates(small_case, capsys):
    ruleset, _ = small_case
    assert run_cli("validate", ruleset) == 0


def _run():
    from tierkit.plan.roles import RunInfo

    return RunInfo("r", "R", "1", "sha256:abc", "abc", dt.date(2026, 11, 1), "en", "0.1.0")


def test_charts_are_inline_svg_with_escaped_text():
    from tierkit.render.charts import Bar, ScatterPoint, hbars, pareto_curve, scatter

    bars = hbars([Bar("<script>", 10.5, 30, "10.5 / 30"), Bar("缺失", None, None, "missing")], "t")
    assert bars.startswith("<svg") and "&lt;script&gt;" in bars and "<script>" not in bars
    assert bars.count("<rect") == 2  # the first bar's track and value; the missing one has neither
    curve = pareto_curve([(0.0, 0.0), (0.2, 0.574), (1.0, 1.0)], (0.2, 0.574), "p", "x", "y")
    assert "20% → 57.4%" in curve and "<polyline" in curve
    dots = scatter([ScatterPoint(1, 2, 0), ScatterPoint(3, 4, 1)], ["a", "b", "never drawn"], (2, 3), "s", "x", "y")
    assert dots.count("<circle") == 2 and "never drawn" not in dots  # two dots; the cells named in their corners
    assert ">a</text>" in dots and ">b</text>" in dots
