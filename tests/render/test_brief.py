"""``tierkit brief``: every section of a page, the values in it, selection and outputs,
overrides by ruleset templates and plugins, and the documented template context."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tierkit.render import brief as render_brief
from tierkit.render.calllist import FollowUp
from tierkit.engine.evaluation import compile_ruleset
from tierkit.engine.job import run_job
from tierkit.manager import make_plugin_manager, make_registry
from tierkit.render.environment import Renderer
from tierkit.render.brief import BriefBuilder
from tierkit.plan.roles import RunInfo
from tierkit.ruleset.load import load_ruleset

from tests.render.test_render import AS_OF, run_cli, write_small_case
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
VOID = {"meta", "link", "br", "hr", "img", "input"}
BLOCKS = {"article", "section", "header", "footer", "div", "p", "h1", "h2", "h3", "h4", "ul", "li", "dl", "dt", "dd",
          "table", "tr", "th", "td", "figure", "br"}


class Page(HTMLParser):
    """Elements of a rendered page: tag, attributes and their whole text, in document order."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:  # text of neighbouring blocks and cells stays apart
            self.handle_data(" ")
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": []})

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.handle_data(" ")
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"].append(data)

    def find(self, cls: str | None = None, **attrs) -> list[dict]:
        found = []
        for element in self.elements:
            classes = element["attrs"].get("class", "") or ""
            if cls is not None and cls not in classes.split():
                continue
            if all(element["attrs"].get(key.replace("_", "-")) == value for key, value in attrs.items()):
                found.append(element)
        return found

    def text(self, cls: str | None = None, **attrs) -> str:
        found = self.find(cls, **attrs)
        assert found, f"no element with class {cls!r} and {attrs}"
        return " ".join("".join(found[0]["text"]).split())


def brief_html(tmp_path: Path, *args, lang: str = "en") -> Page:
    ruleset, customers = write_small_case(tmp_path / "case")
    out = tmp_path / "out.html"
    assert run_cli("brief", ruleset, customers, *args, "-o", out, "--as-of", AS_OF, "--lang", lang) == 0
    return Page(out.read_text(encoding="utf-8"))


# -- a known customer, every section -----------------------------------------------------


def test_every_section_of_a_brief_is_present(tmp_path):
    page = brief_html(tmp_path, "--customer", "K01")
    for cls in ("account", "badge", "chips", "why", "allocation", "follow-up", "playbook", "facts", "run"):
        assert page.find(cls), cls
    assert len(page.find("page")) == 1
    assert [e["attrs"]["data-scheme"] for e in page.find("chip")] == ["track", "size", "grade", "portfolio"]
    assert [e["attrs"]["data-scheme"] for e in page.find("scheme")] == ["track", "size", "grade", "portfolio"]
    assert page.find("scheme-industry") and page.find("scheme-rules") and page.find("scheme-weighted")
    assert page.find("scheme-portfolio")


def test_header_chips_and_why_of_a_known_customer(tmp_path):
    page = brief_html(tmp_path, "--customer", "K01")
    assert page.text("who").startswith("北京星河制造有限公司 K01 Owner: 王芳 Rank: 1 of 5")
    assert page.find("badge", data_grade="S")
    assert page.text("badge") == "S: strategic core score 100.0"
    chips = [" ".join("".join(e["text"]).split()) for e in page.find("chip")]
    assert chips == ["Industry track Manufacturing", "Size Big", "Account grade S: strategic core", "Portfolio Benchmark customer"]
    bars = page.text("contributions")
    assert "Revenue scale" in bars and "60.0 / 60" in bars and "Profit room" in bars and "40.0 / 40" in bars
    assert any(e["tag"] == "svg" and e["attrs"].get("role") == "img" for e in page.elements)
    assert "score 100.0 ≥ 80 → S" in page.text("scheme-weighted")
    assert "matched rule Big: Revenue ≥ 500,000" in page.text("scheme-rules")


def test_allocation_playbook_and_facts_of_a_known_customer(tmp_path):
    page = brief_html(tmp_path, "--customer", "K01")
    assert page.text("allocation") == (
        "Allocation Team Iron triangle Visit cadence every 14 days "
        "Executive sponsor VP Sales · Executive visits every 90 days Service level Dedicated"
    )
    playbook = page.text("playbook")
    assert "Quarterly executive visit" in playbook  # the allocation's actions for S
    assert "Payback period and total cost of ownership" in playbook  # the industry track's talking points
    assert "Cost pressure and thin margins" in playbook  # and its pain points
    assert page.find("about-benchmark")  # the portfolio tag's playbook
    values = {e["attrs"]["data-field"]: "".join(e["text"]).strip() for e in page.find("fact-value")}
    facts = {e["attrs"]["data-field"]: f"{''.join(e['text']).strip()} {values[e['attrs']['data-field']]}" for e in page.find("fact")}
    assert facts["revenue"] == "Revenue ¥1,000,000"
    assert facts["margin"] == "Margin 50%"
    assert facts["last_contact_date"] == "Last contact 2026-10-18"
    assert "id" not in facts and "name" not in facts


def test_footer_names_the_ruleset_version_fingerprint_and_date(tmp_path):
    page = brief_html(tmp_path, "--customer", "K01")
    fingerprint = load_ruleset(tmp_path / "case" / "acme.yaml", []).fingerprint
    assert page.text("run") == f"Ruleset acme-test 2.0.0 fingerprint {fingerprint.split(':')[-1][:12]} as of 2026-11-01 tierkit 0.1.0"


def test_an_at_risk_customer_in_chinese(tmp_path):
    page = brief_html(tmp_path, "--customer", "K02", lang="zh")
    assert page.text("badge") == "A 重点客户 得分 56.0"
    assert page.find("alert-at_risk")
    assert "多次投诉" in page.text("alert-at_risk")
    assert page.text("about-at_risk").startswith("客户组合 危险客户 防守：把他们重新变回钉子客户或更好")
    follow = page.find("follow-up")[0]
    assert "pool-return" in follow["attrs"]["class"]
    assert page.text("follow-up") == "跟进 上次联系 2026年9月1日 · 61 天前 下次拜访 2026年10月1日 · 已逾期 31 天 · 退回公海"
    assert "行业赛道" in page.text("chips") and page.text("why").startswith("定级依据")


def test_static_text_is_translated(tmp_path):
    en = brief_html(tmp_path / "en", "--customer", "K03")
    zh = brief_html(tmp_path / "zh", "--customer", "K03", lang="zh")
    assert en.text("playbook").startswith("Playbook") and zh.text("playbook").startswith("打法")
    assert en.text("facts").startswith("Key facts") and zh.text("facts").startswith("关键信息")


def test_the_bundled_ruleset_brief_matches_explain(tmp_path, capsys):
    out = tmp_path / "c.html"
    assert run_cli("brief", "b2b-manufacturing", EXAMPLE, "--customer", "C00017", "--as-of", AS_OF, "-o", out) == 0
    capsys.readouterr()
    assert run_cli("explain", "b2b-manufacturing", EXAMPLE, "--customer", "C00017", "--as-of", AS_OF, "--json") == 0
    record = json.loads(capsys.readouterr().out)
    page = Page(out.read_text(encoding="utf-8"))
    assert page.text("who").startswith(f"{record['features']['name']} C00017")
    assert f"第 {record['rank']} / {record['meta']['evaluated']} 名" in page.text("who")
    for scheme, outcome in record["outcomes"].items():
        assert page.find("chip", data_scheme=scheme, data_label=str(outcome["label"]))
    grade = record["outcomes"]["grade"]
    assert page.text("badge").startswith(grade["display"])
    bars = page.text("contributions")
    for reason in grade["reasons"]:
        if "contribution" in reason:
            assert f"{reason['contribution']:.1f} / " in bars
    assert record["allocation"]["team"] in page.text("allocation")
    for action in record["allocation"]["actions"]:
        assert action in page.text("playbook")


@pytest.mark.parametrize("lang, nail_line, risk_line, benchmark_line", [
    ("zh", "不是钉子：价值低于分界", "危险：3 个信号中 1 个触发（至少需要 1 个）", "不是标杆：影响力、满意度、配合度三者缺一不可"),
    ("en", "not a nail: value below the cut", "at risk: 1 of 3 signals fired (at least 1 needed)",
     "not a benchmark: all three of influence, satisfaction and cooperation are needed"),
])
def test_each_portfolio_part_ends_with_its_verdict(tmp_path, lang, nail_line, risk_line, benchmark_line):
    """C00590 is at risk, and not a nail for its value (though in a stalemate): the nail
    part's line is that verdict, not the stalemate check."""
    out = tmp_path / "b.html"
    assert run_cli("brief", "b2b-manufacturing", EXAMPLE, "--customer", "C00590", "--as-of", AS_OF, "--lang", lang, "-o", out) == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert page.text("alert-at_risk").endswith(risk_line)
    start = next(i for i, e in enumerate(page.elements) if "scheme-portfolio" in e["attrs"].get("class", "").split())
    muted = [" ".join("".join(e["text"]).split()) for e in page.elements[start:] if "muted" in (e["attrs"].get("class") or "").split()]
    assert muted[:2] == [nail_line, benchmark_line]  # the parts not carried: their last line
    assert page.text("scheme-portfolio").endswith(f"{nail_line} {benchmark_line}")
    assert "僵持" not in page.text("scheme-portfolio") and "stalemate" not in page.text("scheme-portfolio")


# -- selection and outputs ----------------------------------------------------------------


def test_owner_selects_that_reps_accounts_in_rank_order(tmp_path):
    page = brief_html(tmp_path, "--owner", "王芳")
    assert [e["attrs"].get("data-customer") for e in page.find("page")] == [None, "K01", "K02", "K03"]  # the cover first


def test_all_gives_every_account_best_first(tmp_path):
    page = brief_html(tmp_path, "--all")
    assert [e["attrs"]["data-customer"] for e in page.find("page")] == ["K01", "K05", "K02", "K03", "K04"]


def test_a_directory_gets_one_file_per_account(tmp_path, capsys):
    ruleset, customers = write_small_case(tmp_path / "case")
    assert run_cli("brief", ruleset, customers, "--owner", "李娜", "-o", f"{tmp_path / 'out'}/", "--as-of", AS_OF) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["K04.html", "K05.html"]
    assert "wrote 2 briefs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "tierkit: choose the accounts: --customer ID (repeatable), --owner NAME or --all"),
        (("--customer", "K01", "--all"), "tierkit: give one of --customer, --owner and --all, not --customer and --all"),
        (("--customer", "K99"), "tierkit: customer 'K99' is not among the evaluated customers"),
        (("--customer", "K98", "--customer", "K99"), "tierkit: customer 'K98', 'K99' are not among the evaluated customers"),
        (("--owner", "赵六"), "tierkit: no accounts owned by '赵六'; known owners: 王芳, 李娜"),
    ],
)
def test_bad_selections_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    ruleset, customers = write_small_case(tmp_path / "case")
    assert run_cli("brief", ruleset, customers, *args, "-o", tmp_path / "x.html", "--as-of", AS_OF) == 2
    assert capsys.readouterr().err.strip() == message


def test_an_output_that_is_neither_a_page_nor_a_folder_is_refused(tmp_path, capsys):
    ruleset, customers = write_small_case(tmp_path / "case")
    assert run_cli("brief", ruleset, customers, "--all", "-o", tmp_path / "x.txt") == 2
    assert "write a .html or .pdf file, or a directory" in capsys.readouterr().err


# -- overrides ----------------------------------------------------------------------------


def test_a_ruleset_template_folder_overrides_a_kind_section(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    kinds = tmp_path / "case" / "templates" / "kinds"
    kinds.mkdir(parents=True)
    (kinds / "rules.html").write_text(
        '<div class="client-rules">{{ section.display | upper }} {{ page.customer.last_contact_date | days_since }}</div>'
        '{% include "default:kinds/rules.html" %}',
        encoding="utf-8",
    )
    out = tmp_path / "o.html"
    assert run_cli("brief", ruleset, customers, "--customer", "K01", "-o", out, "--as-of", AS_OF, "--lang", "en") == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert page.text("client-rules") == "BIG 14"  # a registered function, with the run's as-of date
    assert page.find("scheme-rules")  # the package partial, reached through default:


def test_a_page_override_extends_the_default_page_and_replaces_one_block(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    (tmp_path / "case" / "templates").mkdir()
    (tmp_path / "case" / "templates" / "brief_page.html").write_text(
        '{% extends "default:brief_page.html" %}'
        '{% block playbook %}<section class="client-playbook">{{ page.allocation.team }}: {{ t("playbook") }}</section>{% endblock %}',
        encoding="utf-8",
    )
    out = tmp_path / "o.html"
    assert run_cli("brief", ruleset, customers, "--owner", "李娜", "-o", out, "--as-of", AS_OF, "--lang", "en") == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert [" ".join("".join(e["text"]).split()) for e in page.find("client-playbook")] == [
        "Iron triangle: Playbook", "Inside sales: Playbook"]
    assert not page.find("playbook") and len(page.find("why")) == 2  # the rest is the default page


PLUGIN = '''
from pathlib import Path
from tierkit.hookspecs import hookimpl

HERE = Path(__file__).parent / "plugin_templates"


@hookimpl
def tierkit_template_dirs():
    return [HERE]


@hookimpl
def tierkit_brief_context(customer, record):
    return {KEY: f"{customer['name']} has {len(record['outcomes'])} outcomes"}
'''


def write_plugin(tmp_path: Path, key: str) -> Path:
    (tmp_path / "plugin_templates" / "kinds").mkdir(parents=True)
    (tmp_path / "plugin_templates" / "kinds" / "weighted.html").write_text(
        '<p class="plugin-section">{{ page.motto }}</p>{% include "default:kinds/weighted.html" %}', encoding="utf-8"
    )
    path = tmp_path / "myplugin.py"
    path.write_text(PLUGIN.replace("KEY", repr(key)), encoding="utf-8")
    return path


def test_a_plugin_adds_templates_and_context(tmp_path):
    plugin = write_plugin(tmp_path, "motto")
    ruleset, customers = write_small_case(tmp_path / "case")
    out = tmp_path / "o.html"
    assert run_cli("--plugin", plugin, "brief", ruleset, customers, "--customer", "K03", "-o", out, "--as-of", AS_OF) == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert page.text("plugin-section") == "广州市示范管理局 has 4 outcomes"
    assert page.find("contributions")


def test_a_plugin_context_key_may_not_shadow_a_page_attribute(tmp_path, capsys):
    plugin = write_plugin(tmp_path, "rank")
    ruleset, customers = write_small_case(tmp_path / "case")
    assert run_cli("--plugin", plugin, "brief", ruleset, customers, "--all", "-o", tmp_path / "o.html") == 2
    assert "brief context key 'rank' is a built-in name" in capsys.readouterr().err


# -- the template context contract ----------------------------------------------------------

CONTEXT_CLASSES = [
    render_brief.BriefBook, render_brief.BriefPage, render_brief.Section, render_brief.Chip,
    render_brief.PlaybookEntry, render_brief.Allocation, render_brief.Fact, RunInfo, FollowUp,
]


@pytest.mark.parametrize("cls", CONTEXT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_context_field_is_documented(cls):
    doc = inspect.getdoc(cls) or ""
    missing = [f.name for f in dataclasses.fields(cls) if f"``{f.name}``" not in doc]
    assert missing == []


def test_a_real_brief_renders_from_the_documented_context(tmp_path):
    """The contract: the documented dataclasses, and nothing else, feed the templates."""
    ruleset, customers = write_small_case(tmp_path / "case")
    registry = make_registry()
    pm = make_plugin_manager()
    plan = compile_ruleset(load_ruleset(ruleset, registry.ruleset_dirs), registry)
    evaluation = run_job(plan, registry, str(customers), None, dt.date(2026, 11, 1)).evaluation
    book = BriefBuilder(evaluation, "en", pm).book(evaluation.ranked())
    assert set(book.variables()) == {f.name for f in dataclasses.fields(render_brief.BriefBook)}
    page = book.pages[0]
    assert isinstance(page.grade, render_brief.Chip) and page.grade.label == "S"
    assert [bar.text for bar in page.sections[2].bars] == ["60.0 / 60", "40.0 / 40"]
    assert isinstance(page["follow_up"], FollowUp)  # added by the built-in briefs plugin
    assert page.allocation.team == "Iron triangle" and page.allocation.cadence_days == 14
    html = Renderer(pm, registry.functions, ruleset, "en", dt.date(2026, 11, 1)).render("brief.html", book.variables())
    assert html.count('<article class="page brief') == 5
