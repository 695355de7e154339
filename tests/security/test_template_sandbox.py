"""Templates run in a sandbox that limits work: operators, calls, filters and ranges
whose results would be too large are refused before they are built, and a render has
a time and output budget; each violation is one line naming the template and its line,
and no template, however garbled, fails otherwise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierkit.render import sandbox as render_sandbox
from tierkit.errors import TierkitError
from tierkit.manager import make_plugin_manager
from tierkit.render.environment import Renderer

from tests.conftest import examples
from tests.render.test_render import AS_OF, write_small_case

PAYLOADS = {
    "repeat": ("{{ 'a' * 500000000 }}", "repeating a value 500,000,000 times makes it too long (limit 1,000,000)"),
    "repeat-list": ("{{ ([1] * 500000000) | length }}", "repeating a value 500,000,000 times makes it too long"),
    "power": ("{{ 10 ** 20000000 }}", "a number is too large (limit 4,300 digits)"),
    "squaring": ("{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x }}",
                 "a number is too large (limit 4,300 digits)"),
    "range": ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
              "range() of 100,000 numbers is too long (limit 10,000)"),
    "nested-ranges": ("{% for i in range(10000) %}{% for j in range(10000) %}{{ 'x' * 1000 }}{% endfor %}{% endfor %}",
                      "the page is too long (limit 5,100,000 characters)"),
    "doubling-tilde": ("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                       "a value of 1,048,576 characters or items is too long (limit 1,000,000)"),
    "doubling-plus": ("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                      "a value of 1,048,576 characters or items is too long"),
    "center-filter": ("{{ 'a' | center(500000000) }}", "an argument of 500,000,000 is too large (limit 1,000,000)"),
    "center-method": ("{{ 'a'.center(500000000) }}", "an argument of 500,000,000 is too large"),
    "percent-width": ("{{ '%0500000000d' % 1 }}", "a format width is too large (limit 1,000,000)"),
    "percent-star": ("{{ '%*d' % (500000000, 1) }}", "an argument of 500,000,000 is too large"),
    "format-filter": ("{{ '%0500000000d' | format(1) }}", "a format width is too large"),
    "format-method": ("{{ '{:>500000000}'.format(1) }}", "a format width is too large"),
    "format-nested": ("{{ '{:>{}}'.format(1, 500000000) }}", "an argument of 500,000,000 is too large"),
    "replace": ("{{ ('a' * 1000) | replace('a', 'b' * 100000) }}", "replace() would make a text too long"),
    "recursion": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "macros or includes call themselves without end"),
    "division": ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
}


def renderer(folder: Path) -> Renderer:
    return Renderer(make_plugin_manager(), {}, folder / "r.yaml", "en", dt.date(2026, 11, 1))


def render(tmp_path: Path, source: str) -> str:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "page.html").write_text("<p>\n" + source + "\n</p>", encoding="utf-8")
    return renderer(tmp_path).render("page.html", {})


@pytest.mark.parametrize("source, message", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_payload_is_one_error_naming_the_template_and_line(tmp_path, source, message):
    with pytest.raises(TierkitError) as caught:
        render(tmp_path, source)
    text = str(caught.value)
    assert text.startswith(f"template page.html: {tmp_path / 'templates' / 'page.html'}:2: "), text
    assert message in text and "\n" not in text


def test_a_page_without_output_still_has_a_time_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(render_sandbox, "RENDER_SECONDS", 0.1)
    monkeypatch.setattr(render_sandbox, "ACCOUNT_SECONDS", 0.1)
    with pytest.raises(TierkitError, match=r"page.html:2: the page takes too long to render \(limit 0.2 s\)"):
        render(tmp_path, "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}")


def test_the_budget_grows_with_the_accounts_a_document_shows(tmp_path, monkeypatch):
    monkeypatch.setattr(render_sandbox, "RENDER_CHARACTERS", 1000)
    monkeypatch.setattr(render_sandbox, "ACCOUNT_CHARACTERS", 300)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("{{ 'x' * 1500 }}", encoding="utf-8")
    pages = renderer(tmp_path)
    assert len(pages.render("page.html", {}, accounts=2)) == 1500
    with pytest.raises(TierkitError, match=r"the page is too long \(limit 1,300 characters\)"):
        pages.render("page.html", {}, accounts=1)


def test_ordinary_uses_of_the_same_operators_still_work(tmp_path):
    source = ("{{ range(5) | list }} {{ range(3) | length }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%5d|%s' % (3, 'x') }} "
              "{{ 'x' | center(5) }} {{ 'abc' | replace('a', 'bb') }} {{ num(1234567) }} {{ '{:,}'.format(5000000) }} "
              "{{ '%.2f' | format(2.5) }} {{ 'Tel 13800138000: %s' % 'Li' }} {{ 'a' ~ 1 }}")
    assert render(tmp_path, source) == ("<p>\n[0, 1, 2, 3, 4] 3 ababab 1024     3|x   x   bbbc 1,234,567 5,000,000 2.50 "
                                        "Tel 13800138000: Li a1\n</p>")


@pytest.mark.slow
@pytest.mark.parametrize("key", ["repeat", "range", "power"])
def test_the_command_line_prints_one_line_and_exits_2(tierkit, tmp_path, key):
    ruleset, customers = write_small_case(tmp_path / "case")
    (tmp_path / "case" / "templates").mkdir()
    (tmp_path / "case" / "templates" / "brief_page.html").write_text(
        '{% extends "default:brief_page.html" %}{% block footer %}\n' + PAYLOADS[key][0] + "{% endblock %}", encoding="utf-8")
    result = tierkit("brief", ruleset, customers, "--customer", "K01", "-o", tmp_path / "o.html", "--as-of", AS_OF)
    assert result.returncode == 2
    page = tmp_path / "case" / "templates" / "brief_page.html"
    assert result.stderr == f"tierkit: template brief.html: {page}:2: {PAYLOADS[key][1]}\n"
    assert not (tmp_path / "o.html").exists()


def test_a_range_past_what_len_can_count_is_the_range_error(tmp_path):
    with pytest.raises(TierkitError, match=r"page.html:2: range\(\) of too many numbers is too long \(limit 10,000\)"):
        render(tmp_path, "{% for i in range(10 ** 30) %}{% endfor %}")


def test_a_template_linking_out_of_its_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-print-me", encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "linked.html").symlink_to(secret)
    with pytest.raises(TierkitError) as caught:
        render(tmp_path, '{% include "linked.html" %}')
    assert str(caught.value) == (f"template linked.html: {tmp_path / 'templates' / 'linked.html'} leads out of its "
                                 "template folder; tierkit reads no other file")


TEMPLATE_TOKENS = ["{{", "}}", "{%", "%}", " for ", " in ", " endfor ", " if ", " endif ", " set ", "x", "=", "range(", ")",
                   "(", "'a'", "9", "99999999", "*", "**", "+", "~", "%", "/", "|", "center", "join", "list", "length",
                   "replace(", ",", "format", "num", "pct", "show", "t(", " macro ", " endmacro ", "include", "'page.html'",
                   "loop", ".", "[", "]", "namespace(", "-", "1e308", "true", "none", "days_since", "date(", "'2024-01-01'",
                   "batch(", "slice(", "wordwrap(", "indent(", "truncate(", "sum", "int", "round", "sort", "tojson", " "]


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TEMPLATE_TOKENS), max_size=30).map("".join))
def test_any_template_renders_or_is_one_template_error(tmp_path, registry, source):
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "page.html").write_text(source, encoding="utf-8")
    pages = Renderer(make_plugin_manager(), registry.functions, tmp_path / "r.yaml", "en", dt.date(2026, 11, 1))
    try:
        pages.render("page.html", {})
    except TierkitError as error:
        assert str(error).startswith("template ") and "\n" not in str(error)
