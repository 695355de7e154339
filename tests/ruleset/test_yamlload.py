"""YAML loading: positions of values, keys and string contents; YAML 1.1 traps closed."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from tierkit.errors import InputError, Position, RulesetError
from tierkit.ruleset.yamlload import FastPositionLoader, PositionLoader, load_with, load_yaml, load_yaml_file

from tests.conftest import ROOT

DOC = textwrap.dedent(
    """\
    name: demo
    schemes:
      - id: track
        when: "industry == 'x'"
      - id: grade
        indicators:
          - id: scale
            weight: 0.30
            bins: [{min: 1.0e10, points: 100}, {min: 0, points: 10}]
    note: 'it''s'
    block: |
      first line
      second line
    """
)


@pytest.fixture
def loaded():
    return load_yaml(DOC, "demo.yaml")


def test_plain_data(loaded):
    assert loaded.data["schemes"][1]["indicators"][0]["weight"] == 0.30
    assert loaded.data["note"] == "it's"
    assert loaded.data["block"] == "first line\nsecond line\n"
    assert loaded.file == "demo.yaml"


def test_positions_of_nested_values(loaded):
    at = loaded.positions
    assert at[()] == Position("demo.yaml", 1, 1)
    assert at[("name",)] == Position("demo.yaml", 1, 7)
    assert at[("schemes",)] == Position("demo.yaml", 3, 3)
    assert at[("schemes", 1)] == Position("demo.yaml", 5, 5)
    assert at[("schemes", 1, "indicators", 0, "weight")] == Position("demo.yaml", 8, 17)
    assert at[("schemes", 1, "indicators", 0, "bins", 0, "min")] == Position("demo.yaml", 9, 22)
    assert at[("schemes", 1, "indicators", 0, "bins", 1, "points")] == Position("demo.yaml", 9, 61)


def test_positions_of_keys(loaded):
    keys = loaded.key_positions
    assert keys[("schemes", 1, "indicators", 0, "weight")] == Position("demo.yaml", 8, 9)
    assert keys[("schemes", 1, "indicators", 0, "bins", 0, "min")] == Position("demo.yaml", 9, 17)
    assert ("schemes", 1) not in keys  # list items have no key


def test_nearest_position_walks_up(loaded):
    assert loaded.position(("schemes", 1, "indicators", 0, "nope", 3)) == Position("demo.yaml", 7, 9)


def test_content_position_inside_quoted_and_plain_strings(loaded):
    # Double-quoted: just after the quote.
    assert loaded.positions[("schemes", 0, "when")] == Position("demo.yaml", 4, 11)
    assert loaded.content_position(("schemes", 0, "when")) == Position("demo.yaml", 4, 12)
    # Single-quoted.
    assert loaded.content_position(("note",)) == Position("demo.yaml", 10, 8)
    # Plain: where the value starts.
    assert loaded.content_position(("schemes", 0, "id")) == Position("demo.yaml", 3, 9)
    # Block scalar: the first content line.
    assert loaded.content_position(("block",)) == Position("demo.yaml", 12, 3)
    # Not a string: the value's position.
    assert loaded.content_position(("schemes", 1, "indicators", 0, "weight")) == Position("demo.yaml", 8, 17)


def test_content_position_points_inside_an_expression():
    loaded = load_yaml('when: "a > 1 and b"\n', "x.yaml")
    text = loaded.data["when"]
    offset = text.index("b")
    assert loaded.content_position(("when",)).shifted(offset) == Position("x.yaml", 1, 18)


def test_content_position_skips_anchors_and_tags():
    loaded = load_yaml("a: &x !!str 'quoted'\nb: !!str plain\n", "x.yaml")
    assert loaded.content_position(("a",)) == Position("x.yaml", 1, 14)
    assert loaded.content_position(("b",)) == Position("x.yaml", 2, 10)


def test_duplicate_keys_are_reported_at_the_second_key():
    text = "a:\n  weight: 1\n  other: 2\n  weight: 3\nb: 1\nb: 2\n"
    with pytest.raises(RulesetError) as caught:
        load_yaml(text, "dup.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        "dup.yaml:4:3: duplicate key 'weight' (first at line 2)",
        "dup.yaml:6:1: duplicate key 'b' (first at line 5)",
    ]


def test_syntax_error_has_the_file_line_and_column():
    with pytest.raises(RulesetError) as caught:
        load_yaml("a: 1\nb: [1, 2\nc: 3\n", "broken.yaml")
    (diag,) = caught.value.diagnostics
    assert diag.position == Position("broken.yaml", 3, 2)
    assert diag.message == "invalid YAML: expected ',' or ']', but got ':'"
    assert diag.hint == "while parsing a flow sequence at line 2"
    assert "\n" not in str(diag)


def test_tab_indentation_is_a_syntax_error():
    with pytest.raises(RulesetError) as caught:
        load_yaml("a:\n\tb: 1\n", "tabs.yaml")
    assert caught.value.diagnostics[0].position == Position("tabs.yaml", 2, 1)
    assert "cannot start any token" in caught.value.diagnostics[0].message


def test_more_than_one_document_is_an_error():
    with pytest.raises(RulesetError, match="expected a single document"):
        load_yaml("a: 1\n---\nb: 2\n", "two.yaml")


def test_dates_stay_strings():
    assert load_yaml("d: 2024-01-01\nt: 2024-01-01 10:00:00\n", "x.yaml").data == {
        "d": "2024-01-01",
        "t": "2024-01-01 10:00:00",
    }


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On"])
def test_yes_no_on_off_stay_strings(word):
    assert load_yaml(f"v: {word}\n", "x.yaml").data == {"v": word}


@pytest.mark.parametrize(
    "word, value", [("true", True), ("false", False), ("True", True), ("FALSE", False), ("tRuE", True)]
)
def test_true_and_false_in_any_case_are_booleans(word, value):
    assert load_yaml(f"v: {word}\n", "x.yaml").data["v"] is value


@pytest.mark.parametrize(
    "text, value",
    [("1e10", 1e10), ("1.0e10", 1e10), ("-2.5E-3", -2.5e-3), (".5", 0.5), ("5.", 5.0), ("0.30", 0.3)],
)
def test_exponents_and_decimals_are_floats(text, value):
    loaded = load_yaml(f"v: {text}\n", "x.yaml").data["v"]
    assert isinstance(loaded, float) and loaded == value


@pytest.mark.parametrize("text, value", [("12", 12), ("-3", -3), ("017", 17), ("0o17", 15), ("0x1F", 31)])
def test_integers(text, value):
    loaded = load_yaml(f"v: {text}\n", "x.yaml").data["v"]
    assert type(loaded) is int and loaded == value


def test_infinity_nan_null_and_yaml_1_1_leftovers():
    data = load_yaml("a: .inf\nb: -.Inf\nc: .nan\nd: ~\ne:\nf: null\ng: 1_000\nh: 1:30\n", "x.yaml").data
    assert data["a"] == float("inf") and data["b"] == float("-inf") and data["c"] != data["c"]
    assert data["d"] is data["e"] is data["f"] is None
    assert data["g"] == "1_000" and data["h"] == "1:30"


def test_keys_are_strings():
    assert load_yaml("1: a\ntrue: b\n", "x.yaml").data == {"1": "a", "true": "b"}


def test_unsupported_tags_and_complex_keys_are_errors():
    with pytest.raises(RulesetError) as caught:
        load_yaml("a: !!binary aGk=\n? [x, y]\n: 1\nc: !custom 3\n", "x.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        "x.yaml:1:4: unsupported YAML tag '!!binary'",
        "x.yaml:2:3: a mapping key must be a plain value, not a list or a mapping",
        "x.yaml:4:4: unsupported YAML tag '!custom'",
    ]


def test_explicit_core_tags_convert():
    assert load_yaml("a: !!str 12\nb: !!int '7'\nc: !!float 2\n", "x.yaml").data == {"a": "12", "b": 7, "c": 2.0}


def test_merge_keys_and_aliases():
    text = "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n"
    loaded = load_yaml(text, "m.yaml")
    assert loaded.data["child"] == {"x": 1, "y": 3}
    assert loaded.positions[("child", "x")] == Position("m.yaml", 1, 14)  # where it was written
    assert loaded.positions[("child", "y")] == Position("m.yaml", 4, 6)


def test_recursive_alias_is_an_error():
    with pytest.raises(RulesetError, match="alias refers to a value that contains it"):
        load_yaml("a: &a [1, *a]\n", "r.yaml")


def test_empty_document_is_none():
    loaded = load_yaml("# nothing\n", "e.yaml")
    assert loaded.data is None and loaded.positions == {}


def test_pyyaml_load_with_the_loader_uses_the_same_scalars():
    assert yaml.load("a: 1e10\nb: yes\nc: 2024-01-01\nd: 0o10\n", Loader=PositionLoader) == {
        "a": 1e10,
        "b": "yes",
        "c": "2024-01-01",
        "d": 8,
    }


def test_load_yaml_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("\ufeffname: 客户\nv: 1\n", encoding="utf-8")
    loaded = load_yaml_file(path)
    assert loaded.data == {"name": "客户", "v": 1}
    assert loaded.positions[("v",)] == Position(str(path), 2, 4)


def test_load_yaml_file_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        load_yaml_file(tmp_path / "missing.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: café\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml_file(path)


def test_control_characters_are_an_error_with_a_position():
    with pytest.raises(RulesetError) as caught:
        load_yaml("a: 1\nb: x\x07\n", "c.yaml")
    assert caught.value.diagnostics[0].position == Position("c.yaml", 2, 5)


YAML_FILES = sorted(
    path for pattern in ("rulesets/*.yaml", "tests/**/*.yaml", "examples/**/*.yaml") for path in ROOT.glob(pattern)
)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_libyaml_events_give_what_the_python_parser_gives(path):
    """The fast loader is libyaml's parser under the same composer: every bundled and
    test YAML file loads to the same data with the same positions as with PyYAML's
    own parser."""
    text = path.read_text(encoding="utf-8")
    try:
        reference = load_with(PositionLoader, text, str(path))
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError, RulesetError):
        with pytest.raises((yaml.MarkedYAMLError, yaml.reader.ReaderError, RulesetError)):
            load_with(FastPositionLoader, text, str(path))
        return
    fast = load_with(FastPositionLoader, text, str(path))
    assert fast.data == reference.data
    assert fast.positions == reference.positions
    assert fast.key_positions == reference.key_positions
    assert fast.content_positions == reference.content_positions


def test_a_syntax_error_reads_as_the_python_parser_says_it():
    """libyaml's wording ("did not find expected …") is replaced by PyYAML's, which says
    what was found."""
    with pytest.raises(RulesetError) as caught:
        load_yaml("a: [1, 2\nb: 3\n", "broken.yaml")
    assert "but got" in caught.value.diagnostics[0].message
