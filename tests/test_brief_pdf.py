"""Briefs printed to PDF with WeasyPrint: one A4 page per account, Chinese as glyphs."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tierkit.fonts import chinese_font_families

from .conftest import ROOT, TIERKIT
from .test_render import AS_OF, run_cli, write_small_case

pytestmark = pytest.mark.pdf
pytest.importorskip("weasyprint", reason="PDF output needs the pdf extra (pip install 'tierkit[pdf]')")
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


def test_a_directory_of_pdf_files(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    folder = tmp_path / "pdfs"
    assert run_cli("brief", ruleset, customers, "--owner", "李娜", "-o", f"{folder}/", "--format", "pdf", "--as-of", AS_OF) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["K04.pdf", "K05.pdf"]
    for path in folder.iterdir():
        assert len(pypdf.PdfReader(str(path)).pages) == 1


@needs_cjk_font
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_fullest_pages_of_the_bundled_ruleset_fit_one_page_each(tmp_path, lang):
    """The three accounts with the most to say (reasons, playbook lines) print on one page each."""
    import datetime as dt

    from tierkit.engine import compile_ruleset
    from tierkit.job import run_job
    from tierkit.manager import make_plugin_manager, make_registry
    from tierkit.render_brief import BriefBuilder
    from tierkit.ruleset import load_ruleset

    from .test_brief import EXAMPLE

    registry = make_registry()
    plan = compile_ruleset(load_ruleset("b2b-manufacturing", registry.ruleset_dirs), registry)
    evaluation = run_job(plan, registry, str(EXAMPLE), None, dt.date(2026, 11, 1)).evaluation
    builder = BriefBuilder(evaluation, lang, make_plugin_manager())

    def lines(row) -> int:
        page = builder.page(row)
        said = sum(len(s.reasons) + len(s.bars) for s in page.sections)
        return said + sum(1 + len(e.actions) + len(e.talking_points) + len(e.pain_points) + len(e.sales_motion)
                          for e in page.playbook)

    fullest = sorted(evaluation.rows, key=lines, reverse=True)[:3]
    ids = [str(row[plan.id_index]) for row in fullest]
    out = tmp_path / "full.pdf"
    args = [arg for customer in ids for arg in ("--customer", customer)]
    assert run_cli("brief", "b2b-manufacturing", EXAMPLE, *args, "-o", out, "--as-of", AS_OF, "--lang", lang) == 0
    assert len(pypdf.PdfReader(str(out)).pages) == 3, ids


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
