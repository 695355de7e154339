"""Authoring warnings of ``validate``: what a ruleset says that cannot work as meant."""

from __future__ import annotations

from tierkit.cli import main

WEIGHTED = """\
tierkit: 1
name: w
version: "1"
fields:
  id: {type: string}
  a: {type: number}
  b: {type: number}
schemes:
  - id: g
    kind: weighted
    weights_total: as-is
    indicators:
      - {id: a, weight: 0.8, value: a, bins: [{min: 10, points: 80}, {min: 0, points: 10}]}
      - {id: b, weight: %s, value: b, linear: {from: 0, to: 10}}
    grades:
      - {id: S, min: 150}
      - {id: A, min: 60}
      - {id: B, min: 0}
"""


def validate(capsys, tmp_path, text: str) -> tuple[int, list[str]]:
    """validate's warnings without their positions."""
    code, warnings = located(capsys, tmp_path, text)
    return code, [line.split(": ", 1)[1] for line in warnings]


def test_weights_over_one_kept_as_is_and_an_unreachable_grade_are_warned(capsys, tmp_path):
    code, warnings = validate(capsys, tmp_path, WEIGHTED % "0.6")
    assert code == 0
    assert warnings == [
        "warning: weights_total: as-is with weights summing to 1.4: scores reach up to 140, not 100 "
        "(with weights over 1 in total, grade thresholds read on a 0-100 scale are easy to misjudge)",
        # 1.4 × (0.8 × 80 + 0.6 × 100) / 1.4
        "warning: grade 'S' is unreachable: it needs a score of 150, and the highest possible score is 124",
    ]


def test_reachable_grades_and_weights_of_one_give_no_warning(capsys, tmp_path):
    code, warnings = validate(capsys, tmp_path, (WEIGHTED % "0.2").replace("min: 150", "min: 70"))
    assert code == 0 and warnings == []  # best: 0.8 × 80 + 0.2 × 100 = 84


def located(capsys, tmp_path, text: str) -> tuple[int, list[str]]:
    """validate's warnings with their file:line:col, the file's name left out."""
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(text, encoding="utf-8")
    code = main(["validate", str(ruleset)])
    prefix = f"{ruleset}:"
    return code, [line[len(prefix):] for line in capsys.readouterr().out.splitlines() if ": warning: " in line]


RULES = """\
tierkit: 1
name: r
version: "1"
fields:
  id: {type: string}
  industry: {type: enum, values: [finance, retail, energy]}
  revenue: {type: number}
  vip: {type: boolean}
schemes:
  - id: track
    kind: rules
    rules:
      - {id: finance, when: "industry == 'finance'"}
      - {id: big_finance, when: "industry == 'finance' and revenue > 10"}
      - {id: energy, when: "industry in ['energy', 'retail'] and vip"}
      - {id: retail_vip, when: "vip and industry == 'retail'"}
      - {id: anyone, when: "true"}
      - {id: later, when: "revenue > 5"}
    default: {id: other}
allocation:
  rules:
    - {id: top, when: "revenue >= 100", set: {cadence_days: 7}}
    - {id: top_again, when: "revenue > 150", set: {cadence_days: 14}}
"""


def test_a_rule_an_earlier_one_shadows_is_warned_at_its_when(capsys, tmp_path):
    code, warnings = located(capsys, tmp_path, RULES)
    assert code == 0
    assert warnings == [
        "14:34: warning: rule 'big_finance' can never match: rule 'finance' before it matches every customer it "
        "matches (move it above that rule, or narrow that rule's when)",
        "16:33: warning: rule 'retail_vip' can never match: rule 'energy' before it matches every customer it "
        "matches (move it above that rule, or narrow that rule's when)",
        "18:28: warning: rule 'later' can never match: rule 'anyone' before it matches every customer "
        "(a rule whose when is true belongs last; or use default:)",
        "23:30: warning: rule 'top_again' can never match: rule 'top' before it matches every customer it matches "
        "(move it above that rule, or narrow that rule's when)",
    ]


def test_rules_in_a_working_order_and_collect_give_no_warning(capsys, tmp_path):
    fixed = (RULES.replace("      - {id: big_finance, when: \"industry == 'finance' and revenue > 10\"}\n", "")
             .replace("      - {id: finance,", "      - {id: big_finance, when: \"industry == 'finance' and revenue > 10\"}\n      - {id: finance,")
             .replace("      - {id: retail_vip, when: \"vip and industry == 'retail'\"}\n", "")
             .replace("      - {id: later, when: \"revenue > 5\"}\n", "")
             .replace("    - {id: top_again, when: \"revenue > 150\", set: {cadence_days: 14}}\n", ""))
    assert located(capsys, tmp_path, fixed) == (0, [])
    # under collect every matching rule counts: nothing is shadowed (the tags overlap, as allowed)
    collect = RULES.replace("    kind: rules\n", "    kind: rules\n    hit_policy: collect\n    overlap: allowed\n").split("allocation:")[0]
    assert located(capsys, tmp_path, collect) == (0, [])


MATRIX = """\
tierkit: 1
name: m
version: "1"
fields:
  id: {type: string}
  revenue: {type: number}
  orders: {type: number}
  vip: {type: boolean}
schemes:
  - id: fv
    kind: matrix
    x: {value: orders, cut: p0}
    y: {value: "10 if vip else 2", cut: 20}
    cells:
      low_high: {id: stream}
"""


def test_a_matrix_cell_no_combination_reaches_is_warned(capsys, tmp_path):
    code, warnings = located(capsys, tmp_path, MATRIX)
    assert code == 0
    assert warnings == [
        "13:8: warning: cell high_high ('high_high') is never reached: the y axis is never high "
        "(it gives only 10 or 2, against a cut of 20) (change the y axis, or its cut)",
        "15:17: warning: cell low_high ('stream') is never reached: the x axis is never low "
        "(its cut is the lowest value: nothing is below it) (change the x axis, or its cut)",
        "12:8: warning: cell low_low ('low_low') is never reached: the x axis is never low "
        "(its cut is the lowest value: nothing is below it) (change the x axis, or its cut)",
    ]


def test_matrix_axes_that_reach_both_sides_give_no_warning(capsys, tmp_path):
    text = MATRIX.replace("cut: p0", "cut: p10").replace("cut: 20", "cut: 5")
    assert located(capsys, tmp_path, text) == (0, [])
    boolean = MATRIX.replace('y: {value: "10 if vip else 2", cut: 20}', "y: {value: vip}").replace("cut: p0", "cut: median")
    assert located(capsys, tmp_path, boolean) == (0, [])


OVERLAP = """\
tierkit: 1
name: ov
version: "1"
fields:
  id: {type: string, required: true}
  influence: {type: number}
  satisfaction: {type: number}
  cooperation: {type: number}
  annual_procurement: {type: number}
  stalemate_days: {type: integer}
  revenue_trend: {type: number}
schemes:
  - id: pf
    kind: portfolio
%s
  - id: flags
    kind: rules
    hit_policy: collect
%s
    rules:
      - {id: big, when: "annual_procurement > 1000"}
      - {id: small, when: "annual_procurement < 10"}
      - {id: falling, when: "revenue_trend < 0.7"}
"""


def test_tags_one_account_can_carry_together_are_warned_each_with_an_account_that_does(capsys, tmp_path):
    code, warnings = validate(capsys, tmp_path, OVERLAP % ("    benchmark_and_nail: true", ""))
    assert code == 0
    assert [warning.split(" (e.g. ")[0] for warning in warnings] == [
        "warning: scheme 'pf': one account can carry both benchmark and nail",
        "warning: scheme 'flags': one account can carry both big and falling",
        "warning: scheme 'flags': one account can carry both falling and small",
    ]  # big and small never together: annual_procurement cannot be over 1000 and under 10
    example = dict(pair.rsplit(" ", 1) for pair in warnings[0].split(" (e.g. ")[1].split(")")[0].split(", "))
    assert min(float(example[name]) for name in ("influence", "satisfaction", "cooperation")) >= 70
    assert float(example["stalemate_days"]) >= 180
    assert "say overlap: [[benchmark, nail]], or overlap: allowed, if one account may carry both" in warnings[0]


def test_exclusive_tags_and_overlaps_the_ruleset_allows_are_not_warned(capsys, tmp_path):
    # a benchmark is no nail by default: both can never hold, so no warning
    code, warnings = validate(capsys, tmp_path, OVERLAP % ("", "    overlap: allowed"))
    assert code == 0 and warnings == []
    allowed = OVERLAP % ("    benchmark_and_nail: true\n    overlap: [[nail, benchmark]]", "    overlap: [[falling, big]]")
    code, warnings = validate(capsys, tmp_path, allowed)
    assert [warning.split(" (e.g. ")[0] for warning in warnings] == [
        "warning: scheme 'flags': one account can carry both falling and small"]


def test_a_first_hit_table_never_overlaps_and_the_bundled_rulesets_warn_of_nothing(capsys, tmp_path):
    code, warnings = validate(capsys, tmp_path, (OVERLAP % ("", "")).replace("hit_policy: collect", "hit_policy: first"))
    assert code == 0 and warnings == []
    for bundled in ("b2b-manufacturing", "fmcg-distribution", "retail-membership", "saas-enterprise"):
        assert main(["validate", bundled]) == 0
        assert ": warning: " not in capsys.readouterr().out


def test_overlap_takes_allowed_or_pairs(capsys, tmp_path):
    code, _ = validate(capsys, tmp_path, OVERLAP % ("    overlap: sometimes", ""))
    assert code != 0
