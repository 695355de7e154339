"""A small YAML file cannot stand for a huge or deep tree: alias bombs, deep nesting,
huge files and files of too many values are each one error at file:line:col, found
fast; and no text at all makes the loader fail other than with a ruleset error."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierkit.ruleset import yamlload
from tierkit.engine.evaluation import check_ruleset
from tierkit.errors import RulesetError, TierkitError
from tierkit.ruleset.load import load_ruleset
from tierkit.ruleset.yamlload import MAX_ALIAS_VALUES, MAX_DEPTH, load_yaml, load_yaml_file

from tests.conftest import examples

# A "billion laughs": nine levels of nine aliases each (9**9 strings) in 417 bytes; the one
# reported took validate past 60 s and 3.4 GB in 796 bytes.
BOMB = "tierkit: 1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n" for previous, name in zip("abcdefgh", "bcdefghi")
)


def validate(tierkit, tmp_path, text: str):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path, tierkit("validate", path)


@pytest.mark.slow
def test_the_billion_laughs_fails_at_the_alias_that_crosses_the_limit(tierkit, tmp_path):
    assert len(BOMB.encode()) < 796
    path, result = validate(tierkit, tmp_path, BOMB)
    assert result.returncode == 1
    assert result.stdout == f"{path}:7:8: too many aliases (limit {MAX_ALIAS_VALUES})\n"
    assert result.stderr == f"{path}: 1 error\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, where",
    [
        ("tierkit: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n", "2:67"),
        ("x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "1:256"),
        ("x:\n" + "".join("  " * depth + "- \n" for depth in range(1, 200)), "65:129"),
    ],
    ids=["flow-lists", "flow-mappings", "block-lists"],
)
def test_deep_nesting_is_an_error_at_the_level_past_the_limit(tierkit, tmp_path, text, where):
    path, result = validate(tierkit, tmp_path, text)
    assert result.returncode == 1, result.stderr
    assert result.stdout == f"{path}:{where}: values nest too deep (limit {MAX_DEPTH} levels)\n"
    assert "RecursionError" not in result.stderr + result.stdout


def test_aliases_count_towards_the_depth():
    half = MAX_DEPTH // 2 + 1
    text = "a: &deep " + "[" * half + "]" * half + "\nb: " + "[" * half + "*deep" + "]" * half + "\n"
    with pytest.raises(RulesetError) as caught:
        load_yaml(text, "r.yaml")
    assert str(caught.value) == f"r.yaml:2:{half + 4}: values nest too deep (limit {MAX_DEPTH} levels)"


def test_an_alias_of_itself_is_still_the_error_it_was():
    with pytest.raises(RulesetError) as caught:
        load_yaml("a: &x [1, *x]\n", "r.yaml")
    assert "an alias refers to a value that contains it" in str(caught.value)


def test_a_few_aliases_and_merges_still_load():
    text = "base: &base {x: 1, y: [1, 2]}\none: {<<: *base, z: 3}\ntwo: *base\n"
    assert load_yaml(text, "r.yaml").data == {"base": {"x": 1, "y": [1, 2]}, "one": {"x": 1, "y": [1, 2], "z": 3},
                                             "two": {"x": 1, "y": [1, 2]}}


def test_a_file_of_too_many_values_fails_where_it_crosses_the_limit(monkeypatch):
    monkeypatch.setattr(yamlload, "MAX_VALUES", 10)
    with pytest.raises(RulesetError) as caught:
        load_yaml("a: [1, 2, 3]\nb: [4, 5, 6, 7, 8]\n", "r.yaml")
    assert str(caught.value) == "r.yaml:2:11: too many values (limit 10 keys and values in a file)"


def test_a_file_too_large_is_refused_before_it_is_read_whole(monkeypatch, tmp_path):
    monkeypatch.setattr(yamlload, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200 + "\n", encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_yaml_file(path)
    assert str(caught.value) == f"{path}: the file is too large (limit 100 bytes)"
    with pytest.raises(RulesetError):
        load_yaml_file("/dev/zero")  # endless: read no further than the limit


def test_windows_line_ends_still_give_the_same_positions(tmp_path):
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"a: 1\r\nb:\r\n  c: 'x'\r\n")
    loaded = load_yaml_file(path)
    assert loaded.data == {"a": 1, "b": {"c": "x"}}
    assert str(loaded.content_position(("b", "c"))) == f"{path}:3:7"


YAML_TEXT = st.text(alphabet=st.sampled_from(list("[]{}:,-&*!|>'\"#<? \n\tab01.~") + ["\\", "\t", "\x00", "é"]), max_size=200)


@settings(max_examples=examples(100), deadline=None)
@given(YAML_TEXT)
def test_any_text_loads_or_is_a_ruleset_error(text):
    try:
        load_yaml(text, "fuzz.yaml")
    except RulesetError as error:
        assert error.diagnostics and all(str(d).startswith("fuzz.yaml") for d in error.diagnostics)


@settings(max_examples=examples(100), deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=30), st.integers(min_value=1, max_value=5))
def test_anchored_and_aliased_data_loads_or_is_a_ruleset_error(value, copies):
    text = f"a: &a {json.dumps(value)}\nb: [{', '.join(['*a'] * copies)}]\n"
    try:
        loaded = load_yaml(text, "fuzz.yaml")
    except RulesetError:
        return
    assert loaded.data["b"] == [loaded.data["a"]] * copies


@pytest.mark.slow
def test_a_ruleset_of_100000_rules_stops_at_the_values_limit(tmp_path):
    """The documented limit: about 14,000 one-line rules fit in a file; more is one error,
    found while reading, before anything is built or compiled."""
    rules = "".join(f'      - {{id: r{i}, when: "revenue >= {i}", label: R{i}}}\n' for i in range(100_000))
    path = tmp_path / "many.yaml"
    path.write_text("tierkit: 1\nname: many\nversion: '1'\nfields: {revenue: {type: number}}\nschemes:\n"
                    "  - id: size\n    kind: rules\n    label: Size\n    rules:\n" + rules, encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path, [])
    assert re.fullmatch(rf"{re.escape(str(path))}:14\d\d\d:\d+: too many values \(limit 100,000 keys and values in a file\)",
                        str(caught.value))


@pytest.mark.parametrize("text, where", [('a: "\\ud800"\n', "1:4"), ('"\\udc00x": 1\n', "1:1")], ids=["value", "key"])
def test_an_escape_giving_half_a_character_is_an_error_at_its_place(text, where):
    with pytest.raises(RulesetError) as caught:
        load_yaml(text, "r.yaml")
    assert str(caught.value).startswith(f"r.yaml:{where}: \\u")
    assert "is half of a character, not one" in str(caught.value)


BASE_RULESET = {"tierkit": 1, "name": "fuzz", "version": "1", "fields": {"id": {"type": "string"}, "revenue": {"type": "number"}},
                "schemes": [{"id": "s", "kind": "rules", "label": "S", "rules": [{"id": "r", "when": "revenue > 1", "label": "R"}],
                             "default": {"id": "d", "label": "D"}}]}
KEYS = st.sampled_from(["id", "kind", "label", "when", "rules", "default", "type", "value", "weight", "grades", "min", "by"])
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=examples(100), deadline=None)
@given(st.sampled_from(["fields", "schemes", "rank", "allocation", "derive", "name", "id_field", "locale"]), ANY_VALUE,
       st.sampled_from(["rules", "weighted", "matrix", "industry", "portfolio", "rfm", "pareto", "lifecycle", "pipeline"]))
def test_any_ruleset_data_validates_or_is_a_user_error(tmp_path_factory, registry, key, value, kind):
    """Whatever a ruleset's keys hold (YAML written as JSON, escapes included), checking
    it gives diagnostics or a user error, never another exception."""
    data = json.loads(json.dumps(BASE_RULESET))
    data["schemes"][0]["kind"] = kind
    data[key] = value
    path = tmp_path_factory.mktemp("fuzz") / "r.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        check_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    except TierkitError:
        pass
