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
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(text, encoding="utf-8")
    code = main(["validate", str(ruleset)])
    return code, [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines() if ": warning: " in line]


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
