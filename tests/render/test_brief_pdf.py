"""Briefs printed to PDF with WeasyPrint: one A4 page per account, Chinese as glyphs."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tierkit.render.fonts import chinese_font_families

from tests.bundled_examples import INPUTS, brief_lengths, briefs_by_length, evaluated
from tests.conftest import ROOT, TIERKIT
from tests.render.test_render import AS_OF, run_cli, write_small_case

pytestmark = [pytest.mark.pdf, pytest.mark.usefixtures("needs_weasyprint")]
pypdf = pytest.importorskip("pypdf", reason="the PDF tests read PDFs with pypdf (the dev extra)")

CJK_FONT = re.compile(r"WenQuanYi|NotoSansCJK|NotoSerifCJK|NotoSansSC|SourceHanSans|MicrosoftYaHei|PingFang", re.I)
A4_POINTS = (595.28, 841.89)


needs_cjk_font = pytest.mark.skipif(chinese_font_families() == (), reason="no CJK font installed (scripts/setup installs fonts-wqy-microhei)")


def fonts_of(page) -> set[str]:
    fonts = page["/Resources"].get("/Font") or {}
    return {str(font.get_object().get("/BaseFont", "")) for font in fonts.values()}


@needs_cjk_font
def test_a_booklet_has_one_a4_page_per_account_with_chinese_text(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    out = tmp_path / "three.pdf"
    args = ("--customer", "K01", "--customer", "K02", "--customer", "K05")
    assert run_cli("brief", ruleset, customers, *args, "-o", out, "--as-of", AS_OF, "--lang", "zh") == 0
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 3
    texts = [page.extract_text() for page in reader.pages]
    assert "北京星河制造有限公司" in texts[0] and "S 战略核心" in texts[0]
    assert "上海明珠银行" in texts[1] and "A 重点客户" in texts[1] and "危险客户" in texts[1]
    assert "杭州精工机械有限公司" in texts[2] and "S 战略核心" in texts[2]
    for text in texts:  # the static words are Chinese too
        assert "定级依据" in text and "资源配置" in text and "关键信息" in text
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == tuple(round(side) for side in A4_POINTS)
        assert any(CJK_FONT.search(name) for name in fonts_of(page)), fonts_of(page)


@needs_cjk_font
def test_every_account_of_the_small_case_fits_its_page(tmp_path):
    """Industry playbooks, portfolio tags, a missing contact date: still one page each."""
    ruleset, customers = write_small_case(tmp_path / "case")
    out = tmp_path / "all.pdf"
    assert run_cli("brief", ruleset, customers, "--all", "-o", out, "--as-of", AS_OF, "--lang", "en") == 0
    assert len(pypdf.PdfReader(str(out)).pages) == 5


def test_a_booklet_of_several_chunks_is_printed_by_workers_and_merged_in_order(tmp_path, monkeypatch):
    from tierkit.render import booklet

    monkeypatch.setattr(booklet, "CHUNK", 2)
    ruleset, customers = write_small_case(tmp_path / "case")
    out = tmp_path / "all.pdf"
    assert run_cli("brief", ruleset, customers, "--all", "-o", out, "--as-of", AS_OF, "--lang", "en") == 0
    reader = pypdf.PdfReader(str(out))
    assert [next(re.finditer(r"K0\d", page.extract_text())).group() for page in reader.pages] == ["K01", "K05", "K02", "K03", "K04"]


def test_a_directory_of_pdf_files(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    folder = tmp_path / "pdfs"
    assert run_cli("brief", ruleset, customers, "--owner", "李娜", "-o", f"{folder}/", "--format", "pdf", "--as-of", AS_OF) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["K04.pdf", "K05.pdf"]
    for path in folder.iterdir():
        assert len(pypdf.PdfReader(str(path)).pages) == 1


def test_every_bundled_ruleset_has_example_data():
    assert sorted(INPUTS) == sorted(path.stem for path in (ROOT / "rulesets").glob("*.yaml"))


@needs_cjk_font
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("ruleset", sorted(INPUTS))
def test_the_longest_pages_of_every_bundled_ruleset_are_one_sheet_each(tmp_path, ruleset, lang):
    """The accounts with the most to say (the tightest fit, then the most lines) and the
    shortest: one A4 page each, the long ones squeezed by priority, never spilling over."""
    from tierkit.render.booklet import write_briefs
    from tierkit.manager import make_plugin_manager, make_registry
    from tierkit.render.environment import Renderer
    from tierkit.render.brief import BriefBuilder

    evaluation, pm = evaluated(ruleset), make_plugin_manager()
    builder = BriefBuilder(evaluation, lang, pm)
    by_length = briefs_by_length(ruleset, lang)
    rows = by_length[:4] + by_length[-1:]
    ids = [str(row[evaluation.plan.id_index]) for row in rows]
    out = tmp_path / "longest.pdf"
    renderer = Renderer(pm, make_registry().functions, evaluation.plan.ruleset.source, lang, evaluation.bound.as_of)
    write_briefs(builder, renderer, rows, out)
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == len(ids), ids
    for customer, page in zip(ids, reader.pages):
        assert customer in page.extract_text()
    assert out.stat().st_size / len(ids) <= 80 * 1024  # light: no drawing repeated per dot or per page


def test_a_squeezed_page_keeps_the_facts_the_schemes_read_and_says_how_many_more():
    from tierkit.manager import make_plugin_manager
    from tierkit.render.brief import FITS, BriefBuilder

    evaluation = evaluated("saas-enterprise")
    builder = BriefBuilder(evaluation, "zh", make_plugin_manager())
    row = evaluation.ranked()[0]
    tightest = builder.page(row, len(FITS) - 1)
    every = {name for name, _label, _unit in builder.fact_specs}  # the facts of a page not squeezed
    assert tightest.density == "dense" and tightest.fit == len(FITS) - 1
    assert {fact.name for fact in tightest.facts} == every & builder.read
    assert len(tightest.facts) < len(every)
    capped = [entry for entry in tightest.playbook if any(item.startswith("……另有") for part in ("actions", "talking_points") for item in getattr(entry, part))]
    assert capped and all(len(entry.talking_points) <= 2 for entry in tightest.playbook)


def test_chinese_without_a_chinese_font_stops_with_the_install_command(tmp_path):
    """fontconfig with no fonts at all: Pango would draw empty boxes, and nothing would fail."""
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n')
    output = tmp_path / "brief.pdf"
    done = subprocess.run(
        [*TIERKIT, "brief", "b2b-manufacturing", str(ROOT / "examples" / "b2b-manufacturing" / "customers.csv"),
         "--as-of", AS_OF, "--customer", "C00017", "--lang", "zh", "-o", str(output)],
        capture_output=True, text=True, encoding="utf-8", timeout=120, env={**os.environ, "FONTCONFIG_FILE": str(config)},
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "no Chinese (CJK) font" in done.stderr and "apt-get install fonts-noto-cjk" in done.stderr
    assert not output.exists()


def test_the_last_chunks_are_halves_and_every_row_is_printed_once_in_order():
    from tierkit.render.booklet import CHUNK, _chunks

    rows = [[number] for number in range(24 * CHUNK)]
    chunks = _chunks(rows, 2)
    assert [row for chunk in chunks for row in chunk] == rows
    assert {len(chunk) for chunk in chunks[:-4]} == {CHUNK} and all(len(chunk) <= -(-CHUNK // 2) for chunk in chunks[-4:])
    assert _chunks(rows[:CHUNK], 2) == [rows[:CHUNK]] and _chunks([], 2) == [[]]
    assert _chunks(rows, 1) == [rows[start:start + CHUNK] for start in range(0, len(rows), CHUNK)]


@needs_cjk_font
def test_a_page_that_spills_over_is_printed_again_with_its_next_fit(tmp_path, monkeypatch):
    """With an estimate that says every page fits at once, the fullest page of a bundled
    ruleset spills onto a second sheet; the anchors the workers return show it, and its
    chunk is printed again with the next fit until the page is one sheet."""
    from tierkit.render import booklet
    from tierkit.render import brief as render_brief
    from tierkit.manager import make_plugin_manager, make_registry
    from tierkit.render.environment import Renderer

    evaluation, pm = evaluated("saas-enterprise"), make_plugin_manager()
    builder = render_brief.BriefBuilder(evaluation, "zh", pm)
    fits = [fit for fit, _lines in brief_lengths("saas-enterprise", "zh")]
    fullest = evaluation.rows[fits.index(max(fits))]  # the first of the fullest, as max() takes it
    monkeypatch.setattr(render_brief, "_lines", lambda page: 0)
    monkeypatch.setattr(booklet, "CHUNK", 1)
    spilled, sheets = booklet._spilled, []

    def counted(anchors, ids):
        sheets.append((ids[0], len(anchors)))
        return spilled(anchors, ids)

    monkeypatch.setattr(booklet, "_spilled", counted)
    renderer = Renderer(pm, make_registry().functions, evaluation.plan.ruleset.source, "zh", evaluation.bound.as_of)
    out = tmp_path / "fullest.pdf"
    booklet.write_briefs(builder, renderer, [fullest, evaluation.ranked()[-1]], out)
    assert len(pypdf.PdfReader(str(out)).pages) == 2
    customer = str(fullest[evaluation.plan.id_index])
    printings = [count for shown, count in sheets if shown == customer]
    assert printings[0] > 1 and printings[-1] == 1  # spilled over first, one sheet at last
