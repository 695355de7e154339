"""The composed ruleset schema, and validation errors as sentences at file:line:col."""

from __future__ import annotations

import re
from pathlib import Path

import pluggy
import pytest
from jsonschema import Draft202012Validator

from tierkit import hookspecs
from tierkit.errors import Diagnostic, Position, RulesetError, TierkitError
from tierkit.registry import Registry, SchemeKind
from tierkit.ruleset.load import load_ruleset
from tierkit.ruleset.schema import (
    SCHEMA_ID,
    format_diagnostic_with_excerpt,
    ruleset_schema,
    undocumented_properties,
    validate_ruleset,
)
from tests.conftest import TESTS

HERE = TESTS
BAD = HERE / "rulesets" / "bad"
B2B = HERE.parent / "rulesets" / "b2b-manufacturing.yaml"


def doc(title, description, **schema):
    return {"title": title, "description": description, **schema}


# Stand-ins for the built-in kinds, with the keys the bundled ruleset uses.
RULES_CONFIG = {
    "type": "object",
    "required": ["rules"],
    "properties": {
        "hit_policy": doc("Hit policy", "Which matching rules count.", enum=["first", "collect"]),
        "rules": doc("Rules", "Rules tried in order.", type="array", items={"$ref": "#/$defs/rule"}),
        "default": doc("Default", "The outcome when no rule matches.", **{"$ref": "#/$defs/outcome"}),
    },
    "$defs": {
        "rule": {
            "type": "object",
            "required": ["id", "when"],
            "additionalProperties": False,
            "properties": {
                "id": doc("Id", "The outcome id.", **{"$ref": "#/$defs/identifier"}),
                "when": doc("When", "The condition.", **{"$ref": "#/$defs/expression"}),
                "label": doc("Label", "Display name.", **{"$ref": "#/$defs/label"}),
                "tags": doc("Tags", "Tags to attach.", type="array", items={"type": "string"}),
            },
        },
        "outcome": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": doc("Id", "The outcome id.", **{"$ref": "#/$defs/identifier"}),
                "label": doc("Label", "Display name.", **{"$ref": "#/$defs/label"}),
                "tags": doc("Tags", "Tags to attach.", type="array", items={"type": "string"}),
            },
        },
    },
}

WEIGHTED_CONFIG = {
    "type": "object",
    "required": ["indicators", "grades"],
    "properties": {
        "weights_total": doc("Weights total", "How weights are totalled.", enum=["as-is", "normalise"]),
        "missing": doc(
            "Missing values",
            "How many indicators may be missing.",
            type="object",
            additionalProperties=False,
            properties={"tolerance": doc("Tolerance", "Indicators that may be missing.", type="integer", minimum=0)},
        ),
        "indicators": doc(
            "Indicators",
            "The weighted indicators.",
            type="array",
            minItems=1,
            items={
                "type": "object",
                "required": ["id", "weight"],
                "additionalProperties": False,
                "properties": {
                    "id": doc("Id", "Indicator id.", **{"$ref": "#/$defs/identifier"}),
                    "label": doc("Label", "Display name.", **{"$ref": "#/$defs/label"}),
                    "weight": doc("Weight", "Its weight.", type="number", minimum=0),
                    "value": doc("Value", "The value scored.", **{"$ref": "#/$defs/expression"}),
                    "points": doc("Points", "An expression giving points.", **{"$ref": "#/$defs/expression"}),
                    "bins": doc(
                        "Bins",
                        "Points by threshold.",
                        type="array",
                        items={
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "min": doc("Min", "Lower bound.", type="number"),
                                "points": doc("Points", "Points.", type="number"),
                            },
                        },
                    ),
                    "linear": doc(
                        "Linear",
                        "Points scaled linearly.",
                        type="object",
                        additionalProperties=False,
                        properties={
                            "from": doc("From", "Zero points at.", type="number"),
                            "to": doc("To", "Full points at.", type="number"),
                        },
                    ),
                },
            },
        ),
        "grades": doc(
            "Grades",
            "Grades by minimum score.",
            type="array",
            items={
                "type": "object",
                "required": ["id", "min"],
                "additionalProperties": False,
                "properties": {
                    "id": doc("Id", "Grade id.", type="string"),
                    "min": doc("Min", "Minimum score.", type="number"),
                    "label": doc("Label", "Display name.", **{"$ref": "#/$defs/label"}),
                },
            },
        ),
        "promote": doc(
            "Promote",
            "Conditions that set a grade directly.",
            type="array",
            items={
                "type": "object",
                "required": ["when", "grade"],
                "additionalProperties": False,
                "properties": {
                    "when": doc("When", "The condition.", **{"$ref": "#/$defs/expression"}),
                    "grade": doc("Grade", "The grade to give.", type="string"),
                    "reason": doc("Reason", "Why.", **{"$ref": "#/$defs/label"}),
                },
            },
        ),
    },
}


class StubKinds:
    @hookspecs.hookimpl
    def tierkit_scheme_kinds(self, register):
        register(SchemeKind("rules", "Classify by the first matching rule.", RULES_CONFIG, compile=lambda build: None))
        register(SchemeKind("weighted", "Grade by a weighted score.", WEIGHTED_CONFIG, compile=lambda build: None))


@pytest.fixture(scope="module")
def kinds():
    pm = pluggy.PluginManager("tierkit")
    pm.add_hookspecs(hookspecs)
    pm.register(StubKinds(), name="stub-kinds")
    return Registry.collect(pm).kinds


def write(tmp_path, text, name="ruleset.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def validate_text(tmp_path, kinds, text):
    path = write(tmp_path, text)
    return path, validate_ruleset(load_ruleset(path, []), kinds)


MINIMAL = """\
tierkit: 1
name: minimal
version: "1"
fields:
  spend: {type: number}
schemes:
  - id: track
    kind: rules
    rules:
      - {id: big, when: "spend > 100"}
"""


# -- the schema itself -----------------------------------------------------------------


def test_composed_schema_is_a_valid_draft_2020_12_schema(kinds):
    schema = ruleset_schema(kinds)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"]


def test_every_property_has_a_title_and_description(kinds):
    assert undocumented_properties(ruleset_schema(kinds)) == []


def test_every_fixed_key_object_rejects_unknown_keys(kinds):
    """Objects listing their keys say additionalProperties: false, except the scheme
    object, whose keys depend on its kind (each kind's branch closes it), and ``if``
    conditions."""
    open_objects = []

    def walk(node, where):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node and where != "#/$defs/scheme":
                open_objects.append(where)
            for key, value in node.items():
                if key != "if":
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(ruleset_schema(kinds), "#")
    assert open_objects == []


def test_kinds_are_composed_as_if_then_branches(kinds):
    scheme = ruleset_schema(kinds)["$defs"]["scheme"]
    assert scheme["properties"]["kind"]["enum"] == ["rules", "weighted"]
    branch = scheme["allOf"][1]
    assert branch["if"] == {"properties": {"kind": {"const": "weighted"}}, "required": ["kind"]}
    then = branch["then"]
    assert then["additionalProperties"] is False
    assert then["required"] == ["indicators", "grades"]
    assert {"id", "kind", "label", "description", "indicators", "grades"} <= set(then["properties"])


def test_kind_defs_are_hoisted_and_their_refs_rewritten(kinds):
    schema = ruleset_schema(kinds)
    assert "rules.rule" in schema["$defs"] and "rules.outcome" in schema["$defs"]
    rules_then = schema["$defs"]["scheme"]["allOf"][0]["then"]
    assert rules_then["properties"]["rules"]["items"] == {"$ref": "#/$defs/rules.rule"}
    # References to core definitions are left alone.
    assert schema["$defs"]["rules.rule"]["properties"]["when"]["$ref"] == "#/$defs/expression"


def test_a_kind_with_an_invalid_config_schema_is_named():
    bad = SchemeKind("broken", "Broken.", {"type": "object", "properties": {"x": {"type": "nonsense"}}}, compile=None)
    with pytest.raises(TierkitError, match="scheme kind 'broken' has an invalid config schema"):
        ruleset_schema({"broken": bad})


def test_bundled_b2b_ruleset_is_valid():
    """Against every installed kind: the bundled ruleset uses more than the stubs here."""
    from tierkit.manager import make_registry

    ruleset = load_ruleset(B2B, [])
    assert validate_ruleset(ruleset, make_registry().kinds) == []


def test_minimal_ruleset_is_valid(tmp_path, kinds):
    _, found = validate_text(tmp_path, kinds, MINIMAL)
    assert found == []


# -- each class of error, with its exact message and position -------------------------


def test_unknown_key_points_at_the_key_and_suggests(tmp_path, kinds):
    text = """\
tierkit: 1
name: t
version: "1"
fields: {spend: {type: number}}
schemes:
  - id: track
    kind: rules
    rules: [{id: a, when: "true"}]
  - id: grade
    kind: weighted
    indicators:
      - id: spend
        wieght: 0.3
    grades: [{id: A, min: 0}]
"""
    path, found = validate_text(tmp_path, kinds, text)
    assert found == [
        Diagnostic(
            "unknown key 'wieght' in schemes[1].indicators[0]",
            Position(str(path), 13, 9),
            hint="did you mean 'weight'?",
        )
    ]
    assert str(found[0]) == f"{path}:13:9: unknown key 'wieght' in schemes[1].indicators[0] (did you mean 'weight'?)"


def test_missing_required_key(tmp_path, kinds):
    text = MINIMAL.replace("    kind: rules\n", "")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [f"{path}:7:5: schemes[0] is missing required key 'kind'"]


def test_missing_required_key_at_the_top_level(tmp_path, kinds):
    text = MINIMAL.replace('version: "1"\n', "")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [f"{path}:1:1: the ruleset is missing required key 'version'"]


def test_wrong_type(tmp_path, kinds):
    text = """\
tierkit: 1
name: t
version: "1"
fields: {spend: {type: number}}
schemes:
  - id: track
    kind: rules
    rules: [{id: a, when: "true"}]
  - id: grade
    kind: weighted
    indicators:
      - {id: spend, weight: '0.3'}
    grades: [{id: A, min: 0}]
"""
    path, found = validate_text(tmp_path, kinds, text)
    assert [(d.message, d.position) for d in found] == [
        ("schemes[1].indicators[0].weight must be a number, not a string ('0.3')", Position(str(path), 12, 29))
    ]
    assert found[0].hint == "remove the quotes to make it a number"


def test_enum(tmp_path, kinds):
    text = MINIMAL.replace("spend: {type: number}", "industry: {type: text}")
    path, found = validate_text(tmp_path, kinds, text)
    assert [(d.message, d.position) for d in found] == [
        (
            "fields.industry.type must be one of number, integer, string, boolean, date, enum, list, not 'text'",
            Position(str(path), 5, 20),
        )
    ]


def test_unknown_kind_reports_only_the_kind(tmp_path, kinds):
    text = MINIMAL.replace("kind: rules", "kind: weigted")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [
        f"{path}:8:11: unknown scheme kind 'weigted' (did you mean 'weighted'? installed kinds: rules, weighted)"
    ]


def test_a_misspelt_kind_key_is_hinted(tmp_path, kinds):
    text = MINIMAL.replace("    kind: rules", "    kidn: rules")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [
        f"{path}:7:5: schemes[0] is missing required key 'kind' (is 'kidn' a misspelling of it?)"
    ]


def test_a_kind_that_is_not_a_string_is_one_error(tmp_path, kinds):
    text = MINIMAL.replace("kind: rules", "kind: 5")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [
        f"{path}:8:11: schemes[0].kind must be a string, not a number (5) (put it in quotes to keep it as text)"
    ]


def test_kind_specific_keys_are_checked_against_the_schemes_own_kind(tmp_path, kinds):
    text = MINIMAL.replace("kind: rules", "kind: weighted")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [
        f"{path}:7:5: schemes[0] is missing required key 'grades'",
        f"{path}:7:5: schemes[0] is missing required key 'indicators'",
        f"{path}:9:5: unknown key 'rules' in schemes[0]",
    ]


def test_alternatives_name_the_types_that_would_do(tmp_path, kinds):
    text = MINIMAL + "label: 5\n"
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [
        f"{path}:11:8: label must be a string or a mapping, not a number (5) (put it in quotes to keep it as text)"
    ]


def test_alternatives_explain_the_alternative_of_the_right_type(tmp_path, kinds):
    text = MINIMAL + "label: {en: Fine, fr: Bien}\nderive:\n  share: {exp: spend / 2}\n"
    path, found = validate_text(tmp_path, kinds, text)
    # The misspelt 'exp' explains the missing 'expr': one error, not two.
    assert [str(d) for d in found] == [
        f"{path}:11:19: unknown key 'fr' in label",
        f"{path}:13:11: unknown key 'exp' in derive.share (did you mean 'expr'?)",
    ]


def test_errors_are_all_reported_and_sorted(tmp_path, kinds):
    text = MINIMAL.replace("tierkit: 1", "tierkit: 2").replace("name: minimal", "name: My Rules")
    text = text.replace('version: "1"', "version: 1.0")
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [
        f"{path}:1:10: tierkit must be 1, not 2 (this tierkit reads ruleset format 1)",
        f"{path}:2:7: name must be lowercase letters, digits, '-' and '_', starting with a letter or digit, "
        "not 'My Rules'",
        f"{path}:3:10: version must be a string, not a number (1.0) (put it in quotes to keep it as text)",
    ]


def test_duplicate_scheme_ids(tmp_path, kinds):
    text = MINIMAL + "  - id: track\n    kind: rules\n    rules: []\n"
    path, found = validate_text(tmp_path, kinds, text)
    assert [str(d) for d in found] == [f"{path}:11:9: duplicate scheme id 'track' (first at line 7)"]


# -- golden files: every bad ruleset with the exact errors it gives --------------------


def expected_errors(path: Path) -> list[str]:
    """The ``# error: LINE:COL: message`` lines at the top of a bad ruleset."""
    return re.findall(r"^# error: (.*)$", path.read_text(encoding="utf-8"), flags=re.M)


def rendered_errors(path: Path, kinds) -> list[str]:
    try:
        found = validate_ruleset(load_ruleset(path, []), kinds)
    except RulesetError as error:
        found = error.diagnostics
    return [str(d).removeprefix(f"{path}:") for d in found]


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_rulesets(path, kinds):
    expected = expected_errors(path)
    assert expected, f"{path.name} lists no '# error:' lines"
    assert rendered_errors(path, kinds) == expected


# -- excerpts --------------------------------------------------------------------------


def test_excerpt_has_a_caret_under_the_column():
    source = "a: 1\n  wieght: 0.3\n"
    diag = Diagnostic("unknown key 'wieght'", Position("f.yaml", 2, 3), hint="did you mean 'weight'?")
    assert format_diagnostic_with_excerpt(diag, source) == (
        "f.yaml:2:3: unknown key 'wieght' (did you mean 'weight'?)\n"
        " 2 |   wieght: 0.3\n"
        "   |   ^"
    )


def test_excerpt_caret_counts_wide_characters_twice():
    source = "label: {zh: 客户, en: x}\n"
    diag = Diagnostic("here", Position("f.yaml", 1, 16))
    assert format_diagnostic_with_excerpt(diag, source).splitlines()[-1] == "   | " + " " * 17 + "^"


def test_excerpt_without_a_line_is_the_message_alone():
    diag = Diagnostic("broken", Position("f.yaml"))
    assert format_diagnostic_with_excerpt(diag, "a: 1\n") == "f.yaml: broken"
