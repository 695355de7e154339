"""RFM's ``bins``, ``cuts`` and ``one_time`` as a ruleset author meets them: the errors
``validate`` prints, the keys ``tierkit schema`` shows, the reasons of fixed bins, and
the run-time warning when ties collapse a quintile (and none for fixed bins).

The outcomes on every engine are the cases of tests/cases/rfm.yml; the warning on a
real point-of-sale log, from the command line on Python and DuckDB, is in
tests/io/test_exports.py."""

from __future__ import annotations

import json
import re

import pytest

from tierkit.cli import main
from tierkit.manager import make_registry

from tests.engine_harness import compile_yaml, evaluate_rows

REGISTRY = make_registry()

RULESET = """\
tierkit: 1
name: r
version: "1"
fields:
  id: {type: string}
  recency_days: {type: integer}
  order_count: {type: integer}
  revenue: {type: number}
schemes:
  - id: rfm
    kind: rfm
%s
"""
FIELDS = """\
fields:
  id: {type: string}
  recency_days: {type: integer}
  order_count: {type: integer}
  revenue: {type: number}
"""


def validate(capsys, tmp_path, scheme_keys: str) -> tuple[int, list[str]]:
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(RULESET % scheme_keys, encoding="utf-8")
    code = main(["validate", str(ruleset)])
    captured = capsys.readouterr()
    return code, [re.sub(r"^.*r\.yaml:\d+:\d+: ", "", line) for line in (captured.out + captured.err).splitlines()
                  if re.match(r".*r\.yaml:\d+:\d+: ", line)]


@pytest.mark.parametrize(("keys", "message"), [
    ("    bins: fixed\n    cuts: {recency: [30, 90, 180, 365], frequency: [1, 2, 4, 8]}",
     "monetary is binned fixed and has no cut points (give cuts: {monetary: [four ascending numbers]})"),
    ("    bins: {recency: fixed}\n    cuts: {recency: [30, 180, 90, 365]}",
     "the recency cuts [30, 180, 90, 365] do not ascend (each cut is the largest value of its bin, smallest first)"),
    ("    bins: {recency: fixed}\n    cuts: {recency: [30, 90, 180, 365], monetary: [1, 2, 3, 4]}",
     "cuts for monetary, which is scored by quintile, would be ignored "
     "(write bins: fixed, or bins: {monetary: fixed})"),
])
def test_cut_points_that_cannot_work_are_errors_at_their_line(capsys, tmp_path, keys, message):
    code, lines = validate(capsys, tmp_path, keys)
    assert code == 1
    assert lines == [message]


def test_cut_points_are_four_numbers_and_bins_a_known_method(capsys, tmp_path):
    code, lines = validate(capsys, tmp_path, "    bins: fixed\n    cuts: {recency: [30, 90], frequency: [1, 2, 4, 8], "
                                             "monetary: [1, 2, 3, 4]}")
    assert code == 1 and lines == ["schemes[0].cuts.recency must have at least 4 items"]
    code, lines = validate(capsys, tmp_path, "    bins: decile")
    assert code == 1 and len(lines) == 1 and "bins" in lines[0], lines


def test_a_ruleset_with_fixed_bins_and_one_time_validates_without_warning(capsys, tmp_path):
    code, lines = validate(capsys, tmp_path, "    bins: fixed\n    one_time: true\n"
                                             "    cuts: {recency: [30, 90, 180, 365], frequency: [1, 2, 4, 8], "
                                             "monetary: [500, 2000, 5000, 20000]}")
    assert code == 0 and lines == []


def test_the_schema_shows_bins_cuts_and_one_time_with_titles(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    text = json.dumps(schema, ensure_ascii=False)
    for title in ('"title": "Bins"', '"title": "Cut points"', '"title": "Recency cuts"', '"title": "One-time buyers"'):
        assert title in text
    assert "each is the largest value of its bin" in text


ONE_TIMERS = [{"id": f"C{i:02}", "recency_days": str(i * 7), "order_count": "1" if i < 14 else str(i - 12),
               "revenue": str(100 + i)} for i in range(20)]  # 14 of 20 bought once


def test_ties_that_collapse_a_quintile_are_warned_naming_scheme_dimension_score_and_share():
    plan = compile_yaml("r", FIELDS + "schemes:\n  - {id: rfm, kind: rfm}\n", REGISTRY)
    evaluation = evaluate_rows(plan, ONE_TIMERS)
    assert [str(warning).split(": ", 1)[1] for warning in evaluation.warnings] == [
        "warning: rfm: ties put 70% of the customers (14 of 20) in F 2: frequency (order_count) by quintile tells them "
        "apart little (score it by cut points: bins: {frequency: fixed} with cuts: {frequency: [...]}; "
        "one_time: true sets single buyers apart)"
    ]


def test_fixed_bins_are_never_warned_of_and_one_time_buyers_get_their_segment():
    plan = compile_yaml("r", FIELDS + """\
schemes:
  - id: rfm
    kind: rfm
    bins: {frequency: fixed}
    cuts: {frequency: [1, 2, 4, 8]}
    one_time: true
""", REGISTRY)
    evaluation = evaluate_rows(plan, ONE_TIMERS)
    assert evaluation.warnings == []
    labels = [evaluation.label(index, "rfm") for index in range(len(ONE_TIMERS))]
    assert labels.count("one_time") == 14 and "one_time" not in labels[14:]


def test_fixed_bins_explain_where_the_value_sits_among_the_cuts():
    plan = compile_yaml("r", FIELDS + """\
schemes:
  - id: rfm
    kind: rfm
    bins: fixed
    cuts: {recency: [30, 90, 180, 365], frequency: [1, 2, 4, 8], monetary: [500, 2000, 5000, 20000]}
    one_time: true
""", REGISTRY)
    evaluation = evaluate_rows(plan, [{"id": "A", "recency_days": "120", "order_count": "1", "revenue": "25000"}])
    record = evaluation.record(evaluation.rows[0], "en")
    texts = [reason["text"] for reason in record["outcomes"]["rfm"]["reasons"]]
    assert texts == [
        "recency 120 (recency_days): 90 < 120 ≤ 180 → R 3 of 5",
        "frequency 1 (order_count): 1 ≤ 1 → F 1 of 5",
        "monetary 25,000 (revenue): 20,000 < 25,000 → M 5 of 5",
        "one purchase (order_count = 1) → One-time buyers",
    ]
    zh = [reason["text"] for reason in evaluation.record(evaluation.rows[0], "zh")["outcomes"]["rfm"]["reasons"]]
    assert zh[0] == "最近一次消费 120（recency_days）：90 < 120 ≤ 180 → R 3 分（满分 5）"
    assert zh[-1] == "仅消费一次（order_count = 1）→ 一次性客户"
