"""Control characters in customer names and ids, in rulesets and in arguments reach the
terminal as visible escapes, never as commands to it."""

from __future__ import annotations

import pytest

from tierkit.cli.terminal import printable

from tests.render.test_render import AS_OF, SMALL_CUSTOMERS, write_small_case

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\r\x9b31m\u202e"
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x9b31m\\u202e"


def test_printable_escapes_every_control_character_but_line_feed_and_tab():
    assert printable(f"a{ESCAPES}\tb\nc 北京") == f"a{SHOWN}\tb\nc 北京"
    assert all(printable(chr(code)).startswith("\\x") for code in [*range(0x20), *range(0x7F, 0xA0)] if code not in (9, 10))


def hostile_case(tmp_path):
    ruleset, customers = write_small_case(tmp_path / "case")
    customers.write_text(
        SMALL_CUSTOMERS.replace("北京星河制造有限公司", f'"Evil{ESCAPES}"').replace("李娜", f'"Li{ESCAPES}"'), encoding="utf-8")
    return ruleset, customers


@pytest.mark.slow
def test_explain_shows_a_hostile_name_escaped(tierkit, tmp_path):
    ruleset, customers = hostile_case(tmp_path)
    result = tierkit("explain", ruleset, customers, "--customer", "K01", "--as-of", AS_OF, "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"K01  Evil{SHOWN}"
    assert "\x1b" not in result.stdout + result.stderr and "\r" not in result.stdout


@pytest.mark.slow
def test_the_call_list_table_shows_a_hostile_owner_escaped(tierkit, tmp_path):
    ruleset, customers = hostile_case(tmp_path)
    result = tierkit("calllist", ruleset, customers, "--owner", f"Li{ESCAPES}", "--as-of", AS_OF, "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert f"Li{SHOWN}" in result.stdout and "\x1b" not in result.stdout and "\r" not in result.stdout


@pytest.mark.slow
def test_an_error_quoting_a_hostile_id_shows_it_escaped(tierkit, tmp_path):
    ruleset, customers = hostile_case(tmp_path)
    result = tierkit("explain", ruleset, customers, "--customer", f"K{ESCAPES}", "--as-of", AS_OF)
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and result.stderr.count("\n") == 1
    assert "\\x1b[2J" in result.stderr


@pytest.mark.slow
def test_a_diagnostic_quoting_a_hostile_ruleset_value_shows_it_escaped(tierkit, tmp_path):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text('tierkit: 1\nname: r\nversion: "1"\n"bad\\e[2Jkey": 1\nfields: {}\nschemes: []\n', encoding="utf-8")
    result = tierkit("validate", ruleset)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "bad\\x1b[2Jkey" in result.stdout
