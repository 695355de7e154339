"""``tierkit whatif``: the same customers under a ruleset as it is and as changed.

The fixture ruleset ``tests/whatif/tiers.yaml`` scores ``(spend + 2 × margin) / 2``, so
every expected number below is worked out by hand from ``tests/whatif/customers.csv``:
K1 100 (S), K2 75 (A), K3 70 (A), K4 40 (B), K5 85 (S), K6 20 (B).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tierkit.analysis import whatif as whatif_module
from tierkit.errors import Position, TierkitError
from tierkit.ruleset.load import load_ruleset
from tierkit.analysis.whatif import apply_changes, migration_matrix, resolve_path

from tests.conftest import TIERKIT, run
from tests.conftest import ROOT, TESTS

HERE = TESTS / "whatif"
RULESET, OTHER, CUSTOMERS = HERE / "tiers.yaml", HERE / "tiers-v2.yaml", HERE / "customers.csv"
B2B = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"
AS_OF = "2026-01-01"


def whatif_json(capsys, *args, ruleset=RULESET, customers=CUSTOMERS) -> dict:
    code, out, err = run(capsys, "whatif", ruleset, customers, "--as-of", AS_OF, "--json", *args)
    assert code == 0, err
    return json.loads(out)


def by_id(result: dict) -> dict:
    return {scheme["id"]: scheme for scheme in result["schemes"]}


def one_line(code: int, out: str, err: str, exit_code: int = 2) -> str:
    assert code == exit_code
    assert out == ""
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


# -- --set: counts, matrix, movers ------------------------------------------------------


def test_a_lower_threshold_moves_the_customers_between_the_old_and_new_threshold(capsys):
    result = whatif_json(capsys, "--set", "schemes.grade.grades.S.min=70")
    assert result["customers"] == 6
    grade, track = by_id(result)["grade"], by_id(result)["track"]
    assert (grade["changed"], grade["scores_changed"], track["changed"]) == (2, 0, 0)
    assert grade["matrix"] == {"from": ["S", "A", "B"], "to": ["S", "B"], "counts": [[2, 0], [2, 0], [0, 2]]}
    assert track["matrix"] is None
    assert (result["allocation_changed"], result["rank_changed"], result["moved"]) == (2, 0, 2)
    assert [mover["id"] for mover in result["movers"]] == ["K2", "K3"]
    change = result["movers"][0]["changes"][0]
    assert change["scheme"] == "grade" and change["score_change"] == 0
    assert (change["before"]["label"], change["after"]["label"]) == ("A", "S")
    assert change["before"]["reasons"][-2]["text"] == "score 75.0 ≥ 50 → A"
    assert change["after"]["reasons"][-1]["text"] == "score 75.0 ≥ 70 → S"
    assert result["meta"]["after"]["changes"] == ["schemes.grade.grades.S.min=70"]
    assert result["meta"]["before"]["fingerprint"] != result["meta"]["after"]["fingerprint"]


def test_a_weight_change_moves_scores_and_movers_come_largest_change_first(capsys):
    result = whatif_json(capsys, "--set", "schemes.grade.indicators.size.weight=0.7", "--top", "2")
    grade = by_id(result)["grade"]
    assert (grade["changed"], grade["scores_changed"], grade["matrix"]) == (0, 3, None)
    # (0.7·spend + 0.5·2·margin) / 1.2: K2 75 → 77.5, K3 70 → 68.33, K5 85 → 84.17
    assert result["moved"] == 3
    assert [(m["id"], round(m["changes"][0]["score_change"], 4)) for m in result["movers"]] == [("K2", 2.5), ("K3", -1.6667)]


def test_a_rule_condition_is_set_as_text_and_a_rank_order_by_index(capsys):
    result = whatif_json(capsys, "--set", "schemes.track.rules.government.when=industry == 'government' and spend > 50")
    track = by_id(result)["track"]
    assert track["changed"] == 1
    assert track["matrix"] == {
        "from": ["government", "finance", "general"],
        "to": ["government", "finance", "general"],
        "counts": [[1, 0, 1], [0, 2, 0], [0, 0, 2]],
    }
    assert [m["id"] for m in result["movers"]] == ["K4"]
    assert whatif_json(capsys, "--set", "rank.0.order=asc")["rank_changed"] == 6


def test_several_sets_apply_in_order(capsys):
    result = whatif_json(capsys, "--set", "schemes.grade.grades.S.min=70", "--set", "schemes.grade.grades.S.min=90", "--top", "0")
    assert by_id(result)["grade"]["matrix"]["counts"] == [[1, 1, 0], [0, 2, 0], [0, 0, 2]]
    assert result["movers"] == [] and result["moved"] == 1


def test_the_terminal_view(capsys):
    code, out, err = run(capsys, "whatif", RULESET, CUSTOMERS, "--as-of", AS_OF, "--set", "schemes.grade.grades.S.min=70")
    assert code == 0
    assert out.splitlines()[:2] == ["what-if: tiers 1 as it is, and with schemes.grade.grades.S.min=70", "6 customers as of 2026-01-01"]
    assert "  grade (Grade)  weighted        2               0" in out
    assert "grade (Grade): 2 change label (rows: before, columns: after)" in out
    matrix = out.split("columns: after)\n")[1].split("\n\n")[0].splitlines()
    assert matrix == [
        "  before \\ after  S  B  total",
        "  --------------  -  -  -----",
        "  S               2  ·      2",
        "  A               2  ·      2",
        "  B               ·  2      2",
        "  total           4  2      6",
    ]
    assert "top movers: 2 of 2" in out
    assert "1. K2 Beta · rank 3 → 3\n   grade: A (A: key) → S (S: core) · score 75.0 → 75.0\n     before:\n" in out
    assert "       - score 75.0 ≥ 70 → S" in out
    assert err == "read 6 · compared 6 · rejected 0 before, 0 after · as of 2026-01-01\n"


def test_labels_and_reasons_follow_lang(capsys):
    code, out, _ = run(capsys, "whatif", RULESET, CUSTOMERS, "--as-of", AS_OF, "--lang", "zh", "--set", "schemes.grade.grades.S.min=70")
    assert code == 0
    assert "grade (等级)" in out and "A (A 重点) → S (S 核心)" in out and "得分 75.0 ≥ 70 → S" in out


def test_a_change_that_only_warns_runs_and_shows_the_warning(capsys):
    code, _out, err = run(capsys, "whatif", RULESET, CUSTOMERS, "--as-of", AS_OF, "--set", "schemes.grade.indicators.size.weight=0.7")
    assert code == 0
    assert "warning: weights sum to 1.2, not 1" in err


# -- --against --------------------------------------------------------------------------


def test_against_another_ruleset_matches_schemes_by_id(capsys):
    result = whatif_json(capsys, "--against", OTHER)
    assert result["schemes_only_before"] == ["track"] and result["schemes_only_after"] == ["size"]
    grade = by_id(result)["grade"]
    assert grade["changed"] == 3
    assert grade["matrix"] == {"from": ["S", "A", "B"], "to": ["S", "A", "B"], "counts": [[2, 0, 0], [2, 0, 0], [0, 1, 1]]}
    assert result["meta"]["after"]["version"] == "2" and "changes" not in result["meta"]["after"]
    code, out, _ = run(capsys, "whatif", RULESET, CUSTOMERS, "--as-of", AS_OF, "--against", OTHER)
    assert "schemes only before: track\nschemes only after: size" in out


def test_customers_rejected_on_one_side_are_listed(tmp_path, capsys):
    other = tmp_path / "strict.yaml"
    other.write_text(RULESET.read_text(encoding="utf-8").replace("margin: {type: number}", "margin: {type: number, required: true}"))
    customers = tmp_path / "c.csv"
    customers.write_text(CUSTOMERS.read_text(encoding="utf-8") + "K7,Eta,other,10,\n", encoding="utf-8")
    result = whatif_json(capsys, "--against", other, customers=customers)
    assert result["only_before"] == ["K7"] and result["customers"] == 6
    assert result["meta"]["rejected"] == {"before": 0, "after": 1}


# -- reading once -------------------------------------------------------------------------


def test_the_input_is_read_once_when_both_rulesets_read_it_alike(capsys, monkeypatch):
    calls = []
    real = whatif_module.run_job
    monkeypatch.setattr(whatif_module, "run_job", lambda *args, **kwargs: calls.append(args) or real(*args, **kwargs))
    same = whatif_json(capsys, "--set", "schemes.grade.grades.S.min=70")
    assert len(calls) == 1
    # A changed field contract reads the input again, with the same result.
    again = whatif_json(capsys, "--set", "schemes.grade.grades.S.min=70", "--set", "fields.margin.type=integer")
    assert len(calls) == 3
    assert by_id(again)["grade"]["matrix"] == by_id(same)["grade"]["matrix"]


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("schemes.grade.gardes.S.min=1", "--set schemes.grade.gardes.S.min: schemes.grade has no 'gardes' (did you mean schemes.grade.grades.S.min?)"),
        ("schemes.grade.grades.X.min=1", "--set schemes.grade.grades.X.min: schemes.grade.grades has no 'X' (it has S, A, B)"),
        ("schemes.grade.grades.5.min=1", "--set schemes.grade.grades.5.min: schemes.grade.grades has no '5' (it has S, A, B)"),
        ("schemas.grade=1", "--set schemas.grade: the ruleset has no 'schemas' (did you mean schemes.grade?)"),
        ("schemes.grade.grades.S.min.x=1", "--set schemes.grade.grades.S.min.x: schemes.grade.grades.S.min is a single value (80), it has no 'x'"),
        ("schemes.grade.grades.S.min", "--set 'schemes.grade.grades.S.min': expected KEY=VALUE, e.g. schemes.grade.grades.S.min=70"),
        ("schemes.grade.grades.S.min=[1", "--set schemes.grade.grades.S.min: cannot read the value as YAML: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_a_bad_set_is_one_line_and_exit_2(capsys, assignment, message):
    assert one_line(*run(capsys, "whatif", RULESET, CUSTOMERS, "--set", assignment)) == f"tierkit: {message}"


def test_a_change_that_breaks_the_ruleset_gives_the_validation_errors_at_the_set(capsys):
    code, out, err = run(capsys, "whatif", RULESET, CUSTOMERS, "--set", "schemes.grade.grades.S.min=abc")
    assert one_line(code, out, err, exit_code=1) == (
        "--set schemes.grade.grades.S.min:1:1: schemes[1].grades[0].min must be a number, not a string ('abc')"
    )
    code, out, err = run(capsys, "whatif", RULESET, CUSTOMERS, "--set", "schemes.track.rules.government.when=industry == 'goverment'")
    assert one_line(code, out, err, exit_code=1).startswith(
        "--set schemes.track.rules.government.when:1:14: 'goverment' is not a value of industry"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either --set KEY=VALUE (repeatable) or --against OTHER.yaml"),
        (("--set", "rank.0.order=asc", "--against", OTHER), "give either --set KEY=VALUE (repeatable) or --against OTHER.yaml, not both"),
        (("--against", "nowhere.yaml"), "ruleset file not found: nowhere.yaml"),
        (("--set", "rank.0.order=asc", "--top", "-1"), "Invalid value for '--top': -1 is not in the range x>=0."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(capsys, args, message):
    assert one_line(*run(capsys, "whatif", RULESET, CUSTOMERS, *args)) == f"tierkit: {message}"


# -- the changed ruleset itself -----------------------------------------------------------


def test_apply_changes_keeps_positions_and_points_set_values_at_their_argument(registry):
    base = load_ruleset(RULESET, registry.ruleset_dirs)
    changed = apply_changes(base, ("schemes.grade.grades.S.min=70", "schemes.track.rules.0.when='spend > 1'"))
    assert base.data["schemes"][1]["grades"][0]["min"] == 80  # the original is untouched
    assert changed.data["schemes"][1]["grades"][0]["min"] == 70
    assert changed.position("schemes", 1, "grades", 0, "min") == Position("--set schemes.grade.grades.S.min", 1, 1)
    assert changed.key_position("schemes", 1, "grades", 0, "min") == base.key_position("schemes", 1, "grades", 0, "min")
    assert changed.content_position("schemes", 0, "rules", 0, "when") == Position("--set schemes.track.rules.0.when", 1, 2)
    assert changed.position("schemes", 1, "grades", 1, "min") == base.position("schemes", 1, "grades", 1, "min")
    assert changed.fingerprint != base.fingerprint


def test_values_are_read_as_the_ruleset_loader_reads_yaml(registry):
    base = load_ruleset(RULESET, registry.ruleset_dirs)
    changed = apply_changes(base, ("name=yes", "version=2024-01-01", "schemes.grade.grades.S.min=1e2", "rank=[{by: spend, order: asc}]"))
    assert (changed.data["name"], changed.data["version"]) == ("yes", "2024-01-01")
    assert changed.data["schemes"][1]["grades"][0]["min"] == 100.0
    assert changed.data["rank"] == [{"by": "spend", "order": "asc"}]
    assert changed.position("rank", 0, "order") == Position("--set rank", 1, 21)


def test_resolve_path_prefers_ids_and_falls_back_to_indices():
    data = {"rules": [{"id": "1", "x": 0}, {"id": "a", "x": 1}, {"x": 2}]}
    assert resolve_path(data, "rules.1.x") == ("rules", 0, "x")  # the id "1", not index 1
    assert resolve_path(data, "rules.2.x") == ("rules", 2, "x")
    with pytest.raises(TierkitError, match="has no 'b'"):
        resolve_path(data, "rules.b.x")


def test_migration_matrix_orders_labels_as_declared_then_as_seen():
    moves = [("B", "A"), ("A", "A"), (None, "B"), ("X", "X")]
    assert migration_matrix(moves, ["A", "B"]) == {
        "from": ["A", "B", None, "X"],
        "to": ["A", "B", "X"],
        "counts": [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]],
    }


# -- on the bundled ruleset, and through the installed command ----------------------------


def test_on_the_bundled_ruleset_every_move_is_up_into_s(capsys):
    result = whatif_json(capsys, "--set", "schemes.grade.grades.S.min=60", ruleset="b2b-manufacturing", customers=B2B)
    grade = by_id(result)["grade"]
    matrix = grade["matrix"]
    assert result["customers"] == 600 and grade["changed"] > 0
    moved = {(old, new): count for old, row in zip(matrix["from"], matrix["counts"]) for new, count in zip(matrix["to"], row) if count and old != new}
    assert set(moved) == {("A", "S")} and moved[("A", "S")] == grade["changed"] == result["moved"]
    assert all(m["changes"][0]["after"]["label"] == "S" for m in result["movers"])


def installed(*args) -> subprocess.CompletedProcess:
    done = subprocess.run([*TIERKIT, *map(str, args)], capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert "Traceback" not in done.stderr
    return done


def test_installed_command():
    done = installed("whatif", RULESET, CUSTOMERS, "--as-of", AS_OF, "--set", "schemes.grade.grades.S.min=70", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["moved"] == 2
    bad = installed("whatif", RULESET, CUSTOMERS, "--set", "nope=1")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("tierkit: --set nope: the ruleset has no 'nope'") and bad.stderr.count("\n") == 1
    broken = installed("whatif", RULESET, CUSTOMERS, "--set", "schemes.grade.grades.S.min=abc")
    assert broken.returncode == 1 and broken.stderr.startswith("--set schemes.grade.grades.S.min:1:1: ")
