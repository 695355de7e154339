"""`tierkit validate`: every class of error, with its exact message at file:line:col.

Run through the CLI in-process.  The fixtures in ``rulesets/bad-expr/`` list what
validate prints for them in ``# error: LINE:COL: message`` header comments (and
``# warning:`` ones), as the schema-level fixtures in ``rulesets/bad/`` do.  Besides
matching the text, each class's own test checks that the column really points at
the offending token: the text found at LINE:COL in the file is that token.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tierkit.cli import main
from tierkit.manager import make_registry
from tests.conftest import ROOT, TESTS

HERE = TESTS
BAD_EXPR = HERE / "rulesets" / "bad-expr"
BUNDLED = HERE.parent / "rulesets" / "b2b-manufacturing.yaml"

# Fixtures whose expected lines state the right behaviour, which the code does not
# have yet; strict, so that the fix shows up as a failure asking to drop the mark.
KNOWN_BUGS: dict[str, str] = {}


def validate(capsys, ruleset) -> tuple[int, list[str], str]:
    """Exit code, stdout lines and stderr of ``tierkit validate RULESET``."""
    code = main(["validate", str(ruleset)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out.splitlines(), err


def expected_lines(path: Path) -> list[str]:
    """The header's ``# error:``/``# warning:`` lines, as validate prints them after ``file:``."""
    found = re.findall(r"^# (error|warning): (\d+:\d+): (.*)$", path.read_text(encoding="utf-8"), flags=re.M)
    return [f"{where}: {message}" if kind == "error" else f"{where}: warning: {message}" for kind, where, message in found]


def without_file(path: Path, lines: list[str]) -> list[str]:
    prefix = f"{path}:"
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix) :] for line in lines]


def text_at(path: Path, line: int, col: int, length: int) -> str:
    """The ``length`` characters of the file at 1-based ``line:col``."""
    source_line = path.read_text(encoding="utf-8").splitlines()[line - 1]
    return source_line[col - 1 : col - 1 + length]


# The unknown-kind messages list the installed kinds: their fixture is checked with the
# built-in plugins only, so that it does not change as kinds are added.
BUILT_IN_PLUGINS = "bundled,formats,functions,rules,weighted"


B2B_SCHEME_COUNT = (ROOT / "rulesets" / "b2b-manufacturing.yaml").read_text(
    encoding="utf-8"
).count("\n    kind: ")


def fixture(name: str) -> Path:
    return BAD_EXPR / f"{name}.yaml"


def param(path: Path):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[path.stem])] if path.stem in KNOWN_BUGS else []
    return pytest.param(path, id=path.stem, marks=marks)


# -- golden: every fixture prints exactly its header lines ------------------------------


@pytest.mark.parametrize("path", [param(p) for p in sorted(BAD_EXPR.glob("*.yaml"))])
def test_bad_expr_rulesets(path, capsys, monkeypatch):
    if path.stem == "unknown-kind":
        monkeypatch.setenv("TIERKIT_LOAD_PLUGINS", BUILT_IN_PLUGINS)
    expected = expected_lines(path)
    assert expected, f"{path.name} lists no '# error:' or '# warning:' lines"
    code, out, err = validate(capsys, path)
    assert without_file(path, out) == expected
    errors = sum(": warning: " not in line for line in expected)
    if errors:
        assert code == 1
        assert err == f"{path}: {errors} error{'s' if errors != 1 else ''}\n"
    else:
        assert code == 0
        assert err.startswith(f"{path}: ok (")


def test_every_fixture_is_a_small_complete_ruleset():
    for path in BAD_EXPR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for key in ("tierkit: 1", f"name: {path.stem}", "fields:", "schemes:"):
            assert key in text, f"{path.name} lacks {key!r}"


# -- each class of error: exact line, and the column is the offending token's ------------


def test_yaml_syntax_error(capsys):
    path = fixture("yaml-syntax")
    code, out, err = validate(capsys, path)
    assert code == 1
    assert out == [f"{path}:14:7: invalid YAML: expected ',' or '}}', but got '-' (while parsing a flow mapping at line 13)"]
    assert err == f"{path}: 1 error\n"
    assert text_at(path, 14, 7, 1) == "-"
    assert text_at(path, 13, 7, 3) == "- {"


def test_schema_violation_names_the_typo_and_the_key_it_should_be(capsys):
    path = fixture("schema-typo")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [f"{path}:12:5: unknown key 'hit_polcy' in schemes[0] (did you mean 'hit_policy'?)"]
    assert text_at(path, 12, 5, 9) == "hit_polcy"


def test_expression_syntax_error_points_where_the_operand_is_missing(capsys):
    path = fixture("expr-syntax")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [f"{path}:13:48: syntax error: unexpected 'end of template' in expression `annual_procurement >= `"]
    # Just past the expression's last character: the closing quote.
    assert text_at(path, 13, 25, 24) == '"annual_procurement >= "'
    assert text_at(path, 13, 48, 1) == '"'


def test_unknown_name_with_did_you_mean(capsys):
    path = fixture("unknown-name")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:15:16: unknown name 'anual_procurement' in expression `anual_procurement` "
        "(did you mean 'annual_procurement'?)"
    ]
    assert text_at(path, 15, 16, 17) == "anual_procurement"


def test_unknown_function_with_did_you_mean(capsys):
    path = fixture("unknown-function")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:11:12: unknown function 'days_sinse' in expression `days_sinse(last_order_date)` "
        "(did you mean 'days_since'?)"
    ]
    assert text_at(path, 11, 12, 10) == "days_sinse"


def test_unknown_attribute_of_a_scheme_outcome(capsys):
    path = fixture("unknown-attribute")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:20:20: scheme 'grade' has no attribute 'lable' (it has label, score, tags) "
        "in expression `grade.lable == 'S'` (did you mean 'label'?)"
    ]
    assert text_at(path, 20, 20, 5) == "lable"


def test_enum_literal_typo(capsys):
    path = fixture("enum-typo")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:13:46: 'goverment' is not a value of industry (government, finance, other) "
        "in expression `industry == 'goverment'` (did you mean 'government'?)"
    ]
    assert text_at(path, 13, 46, 10) == "goverment'"


def test_comparing_a_date_with_a_string(capsys):
    path = fixture("date-string")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:13:45: cannot compare a date with a string in expression `last_order_date >= '2024-01-01'` "
        "(write dates as date('2024-01-31'))"
    ]
    assert text_at(path, 13, 45, 2) == ">="


def test_unknown_scheme_kind_lists_the_installed_kinds(capsys, monkeypatch):
    monkeypatch.setenv("TIERKIT_LOAD_PLUGINS", BUILT_IN_PLUGINS)
    path = fixture("unknown-kind")
    code, out, err = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:13:11: unknown scheme kind 'scorecard' (installed kinds: rules, weighted)",
        f"{path}:17:11: unknown scheme kind 'rule' (did you mean 'rules'? installed kinds: rules, weighted)",
    ]
    assert err == f"{path}: 2 errors\n"
    assert text_at(path, 13, 11, 9) == "scorecard"
    assert text_at(path, 17, 11, 4) == "rule"


def test_unknown_scheme_kind_lists_every_installed_kind(capsys):
    kinds = ", ".join(sorted(make_registry().kinds))
    assert "rules" in kinds and "weighted" in kinds
    path = fixture("unknown-kind")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:13:11: unknown scheme kind 'scorecard' (installed kinds: {kinds})",
        f"{path}:17:11: unknown scheme kind 'rule' (did you mean 'rules'? installed kinds: {kinds})",
    ]


def test_cycle_between_two_schemes(capsys):
    path = fixture("scheme-cycle")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [f"{path}:10:9: schemes form a cycle: a → b → a"]


def test_cycle_between_two_schemes_is_reported_at_the_first_scheme(capsys):
    """What already holds while the message is wrong: one error, exit 1, at ``id: a``."""
    path = fixture("scheme-cycle")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert len(out) == 1 and out[0].startswith(f"{path}:10:9: schemes form a cycle: a → b → a")
    assert text_at(path, 10, 9, 1) == "a"


def test_cycle_between_derived_features(capsys):
    path = fixture("derive-cycle")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [f"{path}:12:5: derived features form a cycle: share → wallet → share"]


def test_cycle_between_derived_features_is_an_error(capsys):
    path = fixture("derive-cycle")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out[0].startswith(f"{path}:12:5: derived features form a cycle: share → wallet → share")


def test_sandbox_payloads_are_refused_with_a_position(capsys):
    path = fixture("sandbox")
    code, out, err = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:16:39: attribute '__mro__' is not allowed in expression `().__class__.__mro__`",
        f"{path}:17:32: attribute '__class__' is not allowed in expression `id.__class__`",
        f"{path}:18:32: subscript [...] is not supported in expression `id[0] == 'C'`",
        f"{path}:19:32: only registered functions can be called; 'upper' is not one in expression `id.upper() == 'C'`",
        f"{path}:20:30: unknown function '__import__' in expression `__import__('os') == 1`",
    ]
    assert err == f"{path}: 5 errors\n"
    assert text_at(path, 16, 39, 7) == "__mro__"
    assert text_at(path, 17, 32, 9) == "__class__"
    assert text_at(path, 18, 32, 5) == "id[0]"
    assert text_at(path, 19, 32, 5) == "upper"
    assert text_at(path, 20, 30, 10) == "__import__"


def test_several_errors_in_one_file_are_all_reported_in_file_order(capsys):
    path = fixture("several")
    code, out, err = validate(capsys, path)
    assert code == 1
    assert without_file(path, out) == expected_lines(path)
    assert len(out) == 5
    assert err == f"{path}: 5 errors\n"
    positions = [tuple(int(part) for part in re.match(r"(\d+):(\d+):", line).groups()) for line in without_file(path, out)]
    assert positions == sorted(positions)
    tokens = ["days_sinse", "goverment", "anual_procurement", '"', "lable"]
    for (line, col), token in zip(positions, tokens):
        assert text_at(path, line, col, len(token)) == token


def test_a_warning_alone_does_not_fail(capsys):
    path = fixture("warning-only")
    code, out, err = validate(capsys, path)
    assert code == 0
    assert out == [
        f"{path}:14:7: warning: weights sum to 0.7, not 1; scores are normalised to 0-100 "
        "(say so with weights_total: normalise, or keep the total with weights_total: as-is)"
    ]
    assert err == f"{path}: ok (1 scheme, 1 warning)\n"


def test_the_clean_bundled_ruleset_by_name(capsys):
    code, out, err = validate(capsys, "b2b-manufacturing")
    assert code == 0
    assert out == []
    assert err.endswith(f"b2b-manufacturing.yaml: ok ({B2B_SCHEME_COUNT} schemes, 0 warnings)\n")


def test_the_clean_bundled_ruleset_by_path(capsys):
    code, out, err = validate(capsys, BUNDLED)
    assert code == 0
    assert out == []
    assert err == f"{BUNDLED}: ok ({B2B_SCHEME_COUNT} schemes, 0 warnings)\n"


# -- the column inside the expression, whatever the YAML style ---------------------------


@pytest.mark.parametrize(
    "line, col, token",
    [
        (21, 30, "goverment"),  # 'single-quoted with ''doubled'' quotes'
        (23, 30, "finanse"),  # "double-quoted with \"escapes\""
        (25, 28, "othr"),  # plain
        (29, 24, "goverment"),  # folded block, second line
        (33, 17, "anual_procurement"),  # literal block, second (more indented) line
        (36, 28, "dust"),  # double-quoted over two lines; 'dust' is also inside 'industry'
    ],
)
def test_column_inside_the_expression_for_every_yaml_style(capsys, line, col, token):
    path = fixture("quoting")
    _code, out, _ = validate(capsys, path)
    assert any(entry.startswith(f"{path}:{line}:{col}: ") for entry in out), out
    assert text_at(path, line, col, len(token)) == token


def test_an_expression_written_over_several_lines_is_shown_on_one(capsys):
    path = fixture("quoting")
    _code, out, _ = validate(capsys, path)
    assert len(out) == 6
    assert f"{path}:33:17: unknown name 'anual_procurement' in expression " in out[4]
    assert "`annual_procurement > 1.0e8 and anual_procurement < 1.0e9`" in out[4]


def write(tmp_path: Path, text: str, name: str = "ruleset.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
tierkit: 1
name: inline
version: "1"
fields:
  id: {type: string, required: true}
  industry: {type: enum, values: [government, finance, other]}
  annual_procurement: {type: number}
  last_order_date: {type: date}
"""


def test_a_folded_block_expression_error_is_one_line(tmp_path, capsys):
    path = write(tmp_path, BASE + """\
schemes:
  - id: track
    kind: rules
    rules:
      - id: a
        when: >
          annual_procurement > 1.0e9 and
          industry == 'goverment'
""")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:16:24: 'goverment' is not a value of industry (government, finance, other) in expression "
        "`annual_procurement > 1.0e9 and industry == 'goverment'` (did you mean 'government'?)"
    ]


def test_column_of_the_second_of_two_equal_operators(tmp_path, capsys):
    path = write(tmp_path, BASE + """\
schemes:
  - id: track
    kind: rules
    rules:
      - {id: a, when: "annual_procurement > 0 and last_order_date > '2024-01-01'"}
""")
    _code, out, _ = validate(capsys, path)
    assert out[0].startswith(f"{path}:13:67: cannot compare a date with a string")
    assert text_at(path, 13, 67, 4) == "> '2"


def test_rank_key_error_points_into_the_rank_key(tmp_path, capsys):
    path = write(tmp_path, BASE + """\
schemes:
  - id: grade
    kind: weighted
    indicators:
      - {id: scale, weight: 1, value: annual_procurement, linear: {from: 0, to: 1.0e9}}
    grades:
      - {id: A, min: 50}
      - {id: B, min: 0}
rank:
  - {by: grade.scor, order: desc}
""")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:18:16: scheme 'grade' has no attribute 'scor' (it has label, score, tags) "
        "in expression `grade.scor` (did you mean 'score'?)"
    ]
    assert text_at(path, 18, 16, 4) == "scor"


def test_short_form_derived_feature_column(tmp_path, capsys):
    path = write(tmp_path, BASE + """\
derive:
  recency: "days_sinse(last_order_date)"
schemes:
  - id: track
    kind: rules
    rules:
      - {id: a, when: "recency < 30"}
""")
    code, out, _ = validate(capsys, path)
    assert code == 1
    assert out == [
        f"{path}:10:13: unknown function 'days_sinse' in expression `days_sinse(last_order_date)` "
        "(did you mean 'days_since'?)"
    ]
    assert text_at(path, 10, 13, 10) == "days_sinse"


# -- what validate is given ------------------------------------------------------------


def test_a_missing_ruleset_file_is_a_usage_error(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "nothere.yaml")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == f"tierkit: ruleset file not found: {tmp_path / 'nothere.yaml'}\n"


def test_an_unknown_ruleset_name_lists_the_bundled_ones(capsys):
    code = main(["validate", "b2b-manufactring"])
    _out, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "tierkit: unknown ruleset 'b2b-manufactring': no such file or bundled ruleset "
        "(did you mean 'b2b-manufacturing'? bundled rulesets: "
        + ", ".join(sorted(p.stem for p in (ROOT / "rulesets").glob("*.yaml")))
        + ")\n"
    )
