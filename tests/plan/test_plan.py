"""The plan compiler and the evaluation stage, through small inline rulesets."""

from __future__ import annotations

import datetime as dt

import pytest

from tierkit.engine.evaluation import BoundPlan, compile_ruleset
from tierkit.errors import RulesetError
from tierkit.io.tables import table_from_rows
from tierkit.ruleset.load import load_ruleset

AS_OF = dt.date(2026, 11, 1)


def run(tmp_path, registry, body: str, customers: list[dict]):
    path = tmp_path / "r.yaml"
    path.write_text("tierkit: 1\nname: t\nversion: '1'\n" + body, encoding="utf-8")
    plan = compile_ruleset(load_ruleset(path, registry.ruleset_dirs), registry)
    table = table_from_rows("c.csv", plan.fields, enumerate(customers, 2))
    evaluation = BoundPlan(plan, AS_OF).run(table.rows, table.row_numbers, table.file)
    return evaluation, table


TAGGED = """
fields: {id: {type: string, required: true}, region: {type: string}}
schemes:
  - id: zone
    kind: rules
    rules: [{id: special, when: "region == 's999'"}, {id: quoted, when: "region == \\"s1 s2\\""}]
    default: {id: other}
"""


def test_text_that_looks_like_a_slot_name_is_only_text(tmp_path, registry):
    evaluation, _ = run(tmp_path, registry, TAGGED, [{"id": "A", "region": "s999"}, {"id": "B", "region": "s1 s2"}, {"id": "C"}])
    assert evaluation.rejected == []
    assert [evaluation.label(i, "zone") for i in range(3)] == ["special", "quoted", "other"]


def test_a_repeated_id_is_rejected_naming_the_first_row(tmp_path, registry):
    evaluation, _ = run(tmp_path, registry, TAGGED, [{"id": "A"}, {"id": "B"}, {"id": "A"}])
    assert len(evaluation.rows) == 2
    (rejected,) = evaluation.rejected
    assert (rejected.row, rejected.field) == (4, "id")
    assert rejected.reason == "duplicate id 'A' (first at row 2)"


RANKED = """
fields: {id: {type: string, required: true}, score: {type: number}, size: {type: number}}
schemes: [{id: any, kind: rules, rules: [{id: x, when: "true"}]}]
rank:
  - {by: score, order: desc}
  - {by: size, order: asc}
"""


def test_rank_orders_by_each_key_in_turn_with_missing_values_last(tmp_path, registry):
    customers = [
        {"id": "A", "score": 5, "size": 3},
        {"id": "B"},
        {"id": "C", "score": 9, "size": 1},
        {"id": "D", "score": 5, "size": 1},
        {"id": "E", "score": 5},
        {"id": "F", "score": 5, "size": 1},
    ]
    evaluation, _ = run(tmp_path, registry, RANKED, customers)
    ranked = [row[0] for row in evaluation.ranked()]
    # C first; the tie on 5 is broken by size ascending (missing last), then input order.
    assert ranked == ["C", "D", "F", "A", "E", "B"]


def test_a_plugin_function_that_raises_rejects_only_that_row(tmp_path, registry):
    from tierkit.registry import Function, Registry

    def fragile(value):
        if value == "boom":
            raise RuntimeError("cannot handle boom")
        return value

    patched = Registry(**{**registry.__dict__, "functions": {**registry.functions, "fragile": Function("fragile", fragile, ("string",), "string", "test")}})
    body = """
fields: {id: {type: string, required: true}, tag: {type: string}}
schemes: [{id: t, kind: rules, rules: [{id: ok, when: "fragile(tag) == 'fine'"}], default: {id: no}}]
"""
    evaluation, _ = run(tmp_path, patched, body, [{"id": "A", "tag": "fine"}, {"id": "B", "tag": "boom"}, {"id": "C"}])
    assert [row[0] for row in evaluation.rows] == ["A", "C"]
    (rejected,) = evaluation.rejected
    assert rejected.row == 3 and rejected.reason == "evaluation failed: cannot handle boom"


def test_schemes_run_in_the_order_of_what_they_read(tmp_path, registry):
    body = """
fields: {id: {type: string, required: true}, x: {type: number, default: 0}}
schemes:
  - id: second
    kind: rules
    rules: [{id: big_first, when: "first.label == 'big'"}]
    default: {id: small_first}
  - id: first
    kind: rules
    rules: [{id: big, when: "x > 10"}]
    default: {id: small}
"""
    evaluation, _ = run(tmp_path, registry, body, [{"id": "A", "x": 11}, {"id": "B", "x": 1}])
    assert [evaluation.label(i, "second") for i in range(2)] == ["big_first", "small_first"]
    assert [scheme.id for scheme in evaluation.plan.schemes] == ["first", "second"]


def test_every_error_in_a_ruleset_is_reported_at_once(tmp_path, registry):
    body = """
fields: {id: {type: string, required: true}, x: {type: number}}
derive: {y: "x * z"}
schemes:
  - {id: a, kind: rules, rules: [{id: r, when: "x > 'text'"}]}
  - {id: b, kind: rules, rules: [{id: r, when: "unknown_thing"}]}
"""
    with pytest.raises(RulesetError) as failure:
        run(tmp_path, registry, body, [])
    messages = [d.message for d in failure.value.diagnostics]
    assert len(messages) == 3
    assert any("unknown name 'z'" in m for m in messages)
    assert any("cannot compare a number with a string" in m for m in messages)
    assert any("unknown name 'unknown_thing'" in m for m in messages)


def test_rows_without_an_id_are_rejected_not_evaluated(tmp_path, registry):
    body = """
fields: {id: {type: string}, region: {type: string}}
schemes: [{id: zone, kind: rules, rules: [{id: any, when: "true"}]}]
"""
    evaluation, _ = run(tmp_path, registry, body, [{"id": "A"}, {}, {"region": "x"}])
    assert [row[0] for row in evaluation.rows] == ["A"]
    assert [(r.row, r.field, r.reason) for r in evaluation.rejected] == [(3, "id", "missing id"), (4, "id", "missing id")]


def test_ranks_close_up_when_a_row_fails_after_ranking(tmp_path, registry):
    from tierkit.registry import Function, Registry

    def fragile(value):
        if value > 100:
            raise ValueError("too big")
        return value

    patched = Registry(**{**registry.__dict__, "functions": {**registry.functions, "fragile": Function("fragile", fragile, ("number",), "number", "test")}})
    body = """
fields: {id: {type: string, required: true}, n: {type: number}}
schemes: [{id: g, kind: rules, rules: [{id: x, when: "true"}]}]
rank: [{by: n, order: desc}]
allocation: {rules: [{id: a, when: "fragile(n) > 0", set: {cadence_days: 1}}]}
"""
    evaluation, _ = run(tmp_path, patched, body, [{"id": "A", "n": 3}, {"id": "B", "n": 1000}, {"id": "C", "n": 2}])
    assert sorted((row[0], evaluation.rank(i)) for i, row in enumerate(evaluation.rows)) == [("A", 1), ("C", 2)]
    assert [r.reason for r in evaluation.rejected] == ["evaluation failed: too big"]


def test_a_derived_feature_that_is_a_bare_name_waits_for_it(tmp_path, registry):
    body = """
fields: {id: {type: string, required: true}, x: {type: number, default: 1}}
derive: {value: "doubled", doubled: "x * 2"}
schemes: [{id: g, kind: rules, rules: [{id: two, when: "value == 2"}], default: {id: other}}]
"""
    evaluation, _ = run(tmp_path, registry, body, [{"id": "A"}])
    assert evaluation.label(0, "g") == "two"


def test_thousands_of_rules_compile_and_the_first_match_wins(tmp_path, registry):
    rules = "\n".join(f"      - {{id: r{i}, when: \"n >= {i}\"}}" for i in range(4000))
    body = f"""
fields: {{id: {{type: string, required: true}}, n: {{type: integer}}}}
schemes:
  - id: g
    kind: rules
    rules:
{rules}
    default: {{id: none}}
"""
    evaluation, _ = run(tmp_path, registry, body, [{"id": "A", "n": 3999}, {"id": "B", "n": 0}, {"id": "C"}])
    assert [evaluation.label(i, "g") for i in range(3)] == ["r0", "r0", "none"]


def test_a_date_that_does_not_exist_is_a_ruleset_error(tmp_path, registry):
    body = """
fields: {id: {type: string, required: true}, signed: {type: date}}
schemes: [{id: g, kind: rules, rules: [{id: new, when: "signed >= date('2024-02-30')"}]}]
"""
    with pytest.raises(RulesetError, match=r"date\('2024-02-30'\) is not a date"):
        run(tmp_path, registry, body, [])
