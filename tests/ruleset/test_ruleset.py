"""Finding rulesets, ``extends`` and its merge rules, and positions across files."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pluggy
import pytest

from tierkit import hookspecs
from tierkit.errors import Position, RulesetError, TierkitError
from tierkit.plugins import bundled
from tierkit.ruleset.load import (
    available_rulesets,
    bundled_dirs,
    fingerprint_of,
    load_ruleset,
    resolve_ruleset_path,
)

BASE = """\
tierkit: 1
name: base
version: "1"
label: {en: Base, zh: 基础}
fields:
  spend: {type: number, unit: CNY, required: true}
  industry: {type: enum, values: [a, b]}
derive:
  half: "spend / 2"
schemes:
  - id: track
    kind: rules
    label: {en: Track, zh: 赛道}
    hit_policy: first
    rules:
      - {id: a, when: "industry == 'a'"}
      - {id: b, when: "industry == 'b'"}
  - id: grade
    kind: weighted
    indicators:
      - {id: spend, weight: 1, value: spend}
    grades: [{id: A, min: 0}]
  - id: extra
    kind: rules
    rules: []
rank:
  - {by: grade.score, order: desc}
  - {by: spend}
allocation:
  rules:
    - {id: big, when: "grade.label == 'A'", set: {cadence_days: 30}}
  default:
    id: rest
    set: {cadence_days: 120, team: Inside sales}
  capacity: {field: 100, inside: 400}
"""

CHILD = """\
extends: base/base.yaml
name: child
version: "2"
remove_schemes: [extra]
fields:
  spend: {type: integer}
  region: {type: string}
derive:
  double: "spend * 2"
schemes:
  - id: track
    label: {en: Industry track}
    rules:
      - {id: c, when: "industry == 'c'"}
  - id: priority
    kind: rules
    rules: []
rank:
  - {by: spend, order: asc}
allocation:
  rules:
    - {id: huge, when: "spend > 100", set: {cadence_days: 7}}
  default:
    set: {cadence_days: 90}
  capacity: {inside: 500}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def merged(tmp_path):
    write(tmp_path, "base/base.yaml", BASE)
    child = write(tmp_path, "child.yaml", CHILD)
    return load_ruleset(child, [])


def test_top_level_mappings_merge_and_the_child_wins(merged):
    data = merged.data
    assert data["name"] == "child" and data["version"] == "2" and data["tierkit"] == 1
    assert data["label"] == {"en": "Base", "zh": "基础"}
    assert merged.name == "child" and merged.version == "2"


def test_extends_and_remove_schemes_do_not_survive(merged):
    assert "extends" not in merged.data and "remove_schemes" not in merged.data


def test_fields_and_derive_merge_by_name_replacing_entries_whole(merged):
    assert merged.data["fields"] == {
        "spend": {"type": "integer"},  # no unit, no required: replaced whole
        "industry": {"type": "enum", "values": ["a", "b"]},
        "region": {"type": "string"},
    }
    assert merged.data["derive"] == {"half": "spend / 2", "double": "spend * 2"}


def test_schemes_merge_by_id(merged):
    schemes = merged.data["schemes"]
    assert [s["id"] for s in schemes] == ["track", "grade", "priority"]  # extra removed, priority appended
    track = schemes[0]
    assert track["kind"] == "rules" and track["hit_policy"] == "first"  # kept from the base
    assert track["label"] == {"en": "Industry track", "zh": "赛道"}  # mappings merge recursively
    assert track["rules"] == [{"id": "c", "when": "industry == 'c'"}]  # lists are replaced whole


def test_rank_is_replaced_whole(merged):
    assert merged.data["rank"] == [{"by": "spend", "order": "asc"}]


def test_allocation_merges_as_a_mapping_with_rules_replaced(merged):
    allocation = merged.data["allocation"]
    assert [r["id"] for r in allocation["rules"]] == ["huge"]
    assert allocation["default"] == {"id": "rest", "set": {"cadence_days": 90, "team": "Inside sales"}}
    assert allocation["capacity"] == {"field": 100, "inside": 500}


def test_positions_come_from_the_file_each_value_came_from(merged, tmp_path):
    base, child = str(tmp_path / "base/base.yaml"), str(tmp_path / "child.yaml")
    assert merged.source == tmp_path / "child.yaml"
    assert merged.files == (tmp_path / "child.yaml", tmp_path / "base/base.yaml")
    assert merged.position("name") == Position(child, 2, 7)
    assert merged.position("tierkit") == Position(base, 1, 10)
    assert merged.position("schemes", 0, "hit_policy") == Position(base, 14, 17)
    assert merged.position("schemes", 0, "label", "en") == Position(child, 12, 17)
    assert merged.position("schemes", 0, "label", "zh") == Position(base, 13, 28)
    assert merged.position("schemes", 0, "rules", 0, "when") == Position(child, 14, 23)
    assert merged.content_position("schemes", 0, "rules", 0, "when") == Position(child, 14, 24)
    assert merged.position("schemes", 1, "indicators", 0, "weight") == Position(base, 21, 29)
    assert merged.position("schemes", 2, "kind") == Position(child, 16, 11)
    assert merged.key_position("fields", "industry") == Position(base, 7, 3)
    assert merged.key_position("fields", "spend") == Position(child, 6, 3)
    assert merged.position("allocation", "default", "set", "team") == Position(base, 34, 36)
    # Unknown paths fall back to the nearest known parent.
    assert merged.position("schemes", 2, "nothing", 4) == Position(child, 15, 5)


def test_extends_chain(tmp_path):
    write(tmp_path, "a.yaml", "tierkit: 1\nname: a\nversion: '1'\nfields: {x: {type: number}}\nschemes: []\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\nfields: {y: {type: string}}\n")
    c = write(tmp_path, "c.yaml", "extends: ./b.yaml\nname: c\n")
    ruleset = load_ruleset(c, [])
    assert ruleset.data == {
        "tierkit": 1,
        "name": "c",
        "version": "1",
        "fields": {"x": {"type": "number"}, "y": {"type": "string"}},
        "schemes": [],
    }
    assert [p.name for p in ruleset.files] == ["c.yaml", "b.yaml", "a.yaml"]


def test_extends_cycle_names_the_files(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(a, [])
    (diag,) = caught.value.diagnostics
    assert diag.message == f"extends cycle: {a} -> {tmp_path / 'b.yaml'} -> {tmp_path / 'a.yaml'}"
    assert diag.position == Position(str(tmp_path / "b.yaml"), 2, 10)


def test_extending_itself_is_a_cycle(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: a.yaml\n")
    with pytest.raises(RulesetError, match="extends cycle"):
        load_ruleset(a, [])


def test_remove_schemes_naming_an_unknown_scheme(tmp_path):
    write(tmp_path, "base/base.yaml", BASE)
    child = write(tmp_path, "child.yaml", "extends: base/base.yaml\nremove_schemes: [track, grades]\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(child, [])
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{child}:2:25: remove_schemes names 'grades', which the base ruleset does not have "
        "(base schemes: track, grade, extra)"
    ]


def test_remove_schemes_without_extends(tmp_path):
    path = write(tmp_path, "r.yaml", "name: r\nremove_schemes: [x]\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path, [])
    assert str(caught.value) == f"{path}:2:1: remove_schemes only applies with extends"


def test_extends_must_be_a_string(tmp_path):
    path = write(tmp_path, "r.yaml", "extends: [a, b]\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path, [])
    assert str(caught.value) == f"{path}:1:10: extends must name a ruleset file or a bundled ruleset"


def test_a_ruleset_must_be_a_mapping(tmp_path):
    empty = write(tmp_path, "empty.yaml", "# nothing yet\n")
    with pytest.raises(RulesetError, match="the ruleset file is empty"):
        load_ruleset(empty, [])
    listed = write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(listed, [])
    assert str(caught.value) == f"{listed}:1:1: a ruleset is a mapping of keys at the top level, not a list"


# -- finding rulesets by path or bundled name ---------------------------------------


@pytest.fixture
def shelves(tmp_path):
    first = tmp_path / "first"
    second = tmp_path / "second"
    write(first, "retail.yaml", "tierkit: 1\nname: retail\nversion: '1'\nfields: {}\nschemes: []\n")
    write(second, "retail.yaml", "name: shadowed\n")
    write(second, "saas.yml", "tierkit: 1\nname: saas\nversion: '1'\nfields: {}\nschemes: []\n")
    write(second, "notes.txt", "not a ruleset\n")
    return [first, second]


def test_resolve_by_path_and_by_name(tmp_path, shelves):
    path = write(tmp_path, "mine.yaml", "name: mine\n")
    assert resolve_ruleset_path(str(path), shelves) == path
    assert resolve_ruleset_path("retail", shelves) == shelves[0] / "retail.yaml"  # first folder wins
    assert resolve_ruleset_path("saas", shelves) == shelves[1] / "saas.yml"
    assert available_rulesets(shelves) == ["retail", "saas"]


def test_unknown_name_lists_the_bundled_rulesets(shelves):
    with pytest.raises(TierkitError) as caught:
        resolve_ruleset_path("retial", shelves)
    assert str(caught.value) == (
        "unknown ruleset 'retial': no such file or bundled ruleset "
        "(did you mean 'retail'? bundled rulesets: retail, saas)"
    )


def test_missing_file_path(tmp_path, shelves):
    with pytest.raises(TierkitError, match=re.escape(f"ruleset file not found: {tmp_path / 'nope.yaml'}")):
        resolve_ruleset_path(str(tmp_path / "nope.yaml"), shelves)


def test_extends_an_unknown_name_points_at_extends(tmp_path, shelves):
    path = write(tmp_path, "r.yaml", "name: r\nextends: retial\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path, shelves)
    (diag,) = caught.value.diagnostics
    assert diag.position == Position(str(path), 2, 10)
    assert diag.message == "unknown ruleset 'retial': no such file or bundled ruleset"
    assert diag.hint == "did you mean 'retail'? bundled rulesets: retail, saas"


def test_extends_a_bundled_name(tmp_path, shelves):
    path = write(tmp_path, "r.yaml", "extends: saas\nname: mine\n")
    ruleset = load_ruleset(path, shelves)
    assert ruleset.data["name"] == "mine" and ruleset.data["version"] == "1"


def make_pm(*plugins):
    pm = pluggy.PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def test_bundled_plugin_offers_the_package_rulesets():
    dirs = bundled_dirs(make_pm(bundled))
    assert len(dirs) == 1 and (dirs[0] / "b2b-manufacturing.yaml").is_file()
    ruleset = load_ruleset("b2b-manufacturing", dirs)
    assert ruleset.name == "b2b-manufacturing"
    lines = (dirs[0] / "b2b-manufacturing.yaml").read_text(encoding="utf-8").splitlines()
    first_weight = next(number for number, line in enumerate(lines, 1) if line.strip().startswith("weight:"))
    assert ruleset.position("schemes", 1, "indicators", 0, "weight").line == first_weight


def test_bundled_dirs_flattens_every_plugins_folders(tmp_path):
    class Extra:
        @hookspecs.hookimpl
        def tierkit_ruleset_dirs(self):
            return [tmp_path / "x", tmp_path / "y"]

    class Nothing:
        @hookspecs.hookimpl
        def tierkit_ruleset_dirs(self):
            return None

    dirs = bundled_dirs(make_pm(bundled, Extra(), Nothing()))
    assert dirs[:2] == [tmp_path / "x", tmp_path / "y"]  # registered later, asked first
    assert len(dirs) == 3


# -- fingerprint ---------------------------------------------------------------------


def test_fingerprint_is_canonical(tmp_path):
    one = write(tmp_path, "one.yaml", "name: x\nlabel: {zh: 客户, en: Customer}\n")
    two = write(tmp_path, "two.yaml", "label:\n  en: Customer\n  zh: 客户\nname: x   # same data\n")
    first, second = load_ruleset(one, []), load_ruleset(two, [])
    expected = fingerprint_of({"name": "x", "label": {"en": "Customer", "zh": "客户"}})
    assert first.fingerprint == second.fingerprint == expected
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.fingerprint)
    assert fingerprint_of({"name": "y"}) != first.fingerprint
