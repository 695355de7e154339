"""``tierkit brief --owner NAME``: the booklet starts with a one-page summary of the rep's
accounts (by grade and class × grade), the week's priorities, at-risk and overdue ones."""

from __future__ import annotations

import re

import pytest

from tierkit.render.brief_cover import COVER_LIMIT, build_cover
from tierkit.render.calllist import owners
from tierkit.manager import make_plugin_manager, make_registry
from tierkit.render.environment import Renderer
from tierkit.render.brief import BriefBuilder

from tests.bundled_examples import evaluated
from tests.render.test_render import AS_OF, run_cli, write_small_case


def test_the_cover_counts_the_reps_accounts_and_lists_what_comes_first():
    evaluation = evaluated("b2b-manufacturing")
    owner, count = owners(evaluation)[0]
    from tierkit.render.calllist import rows_of_owner

    rows = rows_of_owner(evaluation, owner)
    cover = build_cover(evaluation, make_registry(), owner, rows, "zh")
    assert cover.accounts == count == len(rows) and cover.grades.total == count and cover.cross.total == count
    assert 0 < len(cover.priorities) <= COVER_LIMIT and cover.week == min(count, 8 * 5)
    assert all(item.emergency for item in cover.at_risk) and len(cover.at_risk) == min(cover.at_risk_total, COVER_LIMIT)
    assert all(item.follow_up.overdue for item in cover.overdue) and cover.overdue_total >= len(cover.overdue)


def test_an_owner_booklet_starts_with_its_cover_in_html(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    out = tmp_path / "li.html"
    assert run_cli("brief", ruleset, customers, "--owner", "李娜", "-o", out, "--as-of", AS_OF, "--lang", "zh") == 0
    page = out.read_text(encoding="utf-8")
    articles = re.findall(r'<article class="page brief[^"]*" id="([^"]+)"', page)
    assert articles == ["cover", "account-K05", "account-K04"]
    assert "李娜 的客户" in page and "本周优先事项" in page


@pytest.mark.pdf
def test_the_cover_of_the_largest_book_is_one_sheet(tmp_path):
    pytest.importorskip("weasyprint", reason="PDF output needs the pdf extra (pip install 'tierkit[pdf]')")
    pypdf = pytest.importorskip("pypdf", reason="the PDF tests read PDFs with pypdf (the dev extra)")
    from tierkit.render.booklet import write_briefs
    from tierkit.render.calllist import rows_of_owner

    evaluation, pm, registry = evaluated("b2b-manufacturing"), make_plugin_manager(), make_registry()
    owner = owners(evaluation)[0][0]
    rows = rows_of_owner(evaluation, owner)
    renderer = Renderer(pm, registry.functions, evaluation.plan.ruleset.source, "zh", evaluation.bound.as_of)
    out = tmp_path / "cover.pdf"
    write_briefs(BriefBuilder(evaluation, "zh", pm), renderer, rows[:1], out, build_cover(evaluation, registry, owner, rows, "zh"))
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 2 and f"{owner} 的客户" in reader.pages[0].extract_text()
