"""A real browser renders a brief booklet and the report: headless Chromium (Debian's
``chromium`` package) parses them, runs into no script errors, and paints pages that
are not blank."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.render.test_render import AS_OF, run_cli, write_small_case
from tests.render.test_report import MATRIX

CHROMIUM = next((path for path in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if path and Path(path).exists()), None)
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def script_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Uncaught" in line or ":CONSOLE(" in line]


def png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct colours (Pillow if present, else a rough
    count of distinct bytes in the decompressed image data: a blank page has a handful)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    try:
        from PIL import Image
    except ImportError:
        chunks, position = [], 8
        while position < len(data):
            length, kind = struct.unpack(">I4s", data[position:position + 8])
            if kind == b"IDAT":
                chunks.append(data[position + 8:position + 8 + length])
            position += 12 + length
        return width, height, len(set(zlib.decompress(b"".join(chunks))))
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    return width, height, len(colours)


def paint(tmp_path: Path, html: Path, name: str) -> None:
    png = tmp_path / f"{name}.png"
    result = chromium(tmp_path, f"--screenshot={png}", "--window-size=1240,1754", html.as_uri())
    assert png.exists(), result.stderr[-2000:]
    assert script_errors(result.stderr) == []
    width, height, colours = png_size_and_colours(png)
    assert (width, height) == (1240, 1754)
    assert colours > 30, f"{name}: the screenshot looks blank ({colours} colours)"


def dom(tmp_path: Path, html: Path) -> str:
    result = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert script_errors(result.stderr) == []
    return result.stdout


def test_a_brief_booklet_in_chromium(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    html = tmp_path / "briefs.html"
    assert run_cli("brief", ruleset, customers, "--all", "-o", html, "--as-of", AS_OF, "--lang", "zh") == 0
    parsed = dom(tmp_path, html)
    assert parsed.count('<article class="page brief') == 5 and "北京星河制造有限公司" in parsed and "<svg" in parsed
    paint(tmp_path, html, "brief")


def test_the_report_in_chromium(tmp_path):
    _, customers = write_small_case(tmp_path / "case")
    (tmp_path / "case" / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    html = tmp_path / "report.html"
    assert run_cli("report", tmp_path / "case" / "matrix.yaml", customers, "-o", html, "--as-of", AS_OF) == 0
    parsed = dom(tmp_path, html)
    assert 'class="part pareto"' in parsed and 'class="part matrix"' in parsed and parsed.count("<svg") == 3
    paint(tmp_path, html, "report")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_longest_brief_prints_on_one_sheet_in_chromium(tmp_path, lang):
    """Chromium's own layout (its fonts and line breaks) still fits the fullest page of a
    bundled ruleset on one A4 sheet: its content is no taller than the page."""
    pypdf = pytest.importorskip("pypdf", reason="the page count is read with pypdf (the dev extra)")
    from tierkit.manager import make_plugin_manager, make_registry
    from tierkit.render.environment import Renderer
    from tierkit.render.brief import BriefBuilder

    from tests.bundled_examples import briefs_by_length, evaluated

    evaluation, pm = evaluated("saas-enterprise"), make_plugin_manager()
    builder = BriefBuilder(evaluation, lang, pm)
    longest = briefs_by_length("saas-enterprise", lang)[0]  # the first of the longest, as max() takes it

    html = tmp_path / "longest.html"
    renderer = Renderer(pm, make_registry().functions, evaluation.plan.ruleset.source, lang, evaluation.bound.as_of)
    html.write_text(renderer.render("brief.html", builder.book([longest]).variables()), encoding="utf-8")
    pdf = tmp_path / "longest.pdf"
    result = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri())
    assert pdf.exists(), result.stderr[-2000:]
    assert len(pypdf.PdfReader(str(pdf)).pages) == 1
    paint(tmp_path, html, f"longest-{lang}")


def test_the_chinese_report_in_chromium(tmp_path):
    _, customers = write_small_case(tmp_path / "case")
    (tmp_path / "case" / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    html = tmp_path / "report.html"
    assert run_cli("report", tmp_path / "case" / "matrix.yaml", customers, "-o", html, "--as-of", AS_OF, "--lang", "zh") == 0
    parsed = dom(tmp_path, html)
    assert 'lang="zh-CN"' in parsed and parsed.count("<svg") == 3 and "客户等级分布" in parsed
    paint(tmp_path, html, "report-zh")
