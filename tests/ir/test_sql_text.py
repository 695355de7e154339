"""SQL texts kept between runs (tierkit.ir.sql_text): keyed on the whole tree, so that
what changes a tree's lowering gives a fresh one, and a broken cache is never used."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import tierkit.ir.to_sql as to_sql
from tierkit.engine.sql.input import _coercion
from tierkit.ir import nodes as ir
from tierkit.ir.sql_text import expression_sql, remembered, tree_key

AMOUNT = ir.Column("amount", ir.DType.FLOAT)


def top_level(value):
    return value


def test_a_function_is_named_alike_across_processes_only_when_it_can_be():
    assert ir.function_key(top_level).endswith("test_sql_text.top_level")
    assert ir.function_key(lambda value: value) is None
    read_a, _ = _coercion("enum", ("a", "b"), ())
    read_c, _ = _coercion("enum", ("c",), ())
    assert ir.function_key(read_a) and ir.function_key(read_a) != ir.function_key(read_c)
    call = ir.PyCall(read_a, (ir.Column("x", ir.DType.STR),), ir.DType.STR)
    other = ir.PyCall(read_c, (ir.Column("x", ir.DType.STR),), ir.DType.STR)
    assert call.udf_name() != other.udf_name()


def test_the_key_holds_every_part_of_the_tree_and_where_bindings_are_stored():
    tree = ir.Compare(">", ir.Ref("x", ir.DType.FLOAT), ir.lit(1.0))
    assert tree_key(tree, {"x": "s1"}.__getitem__) != tree_key(tree, {"x": "s2"}.__getitem__)
    assert tree_key(ir.Lit(dt.date(2026, 11, 1), ir.DType.DATE)) != tree_key(ir.lit("2026-11-01"))
    assert tree_key(ir.Arith("+", AMOUNT, ir.lit(1.0))) != tree_key(ir.Arith("-", AMOUNT, ir.lit(1.0)))


def test_a_kept_text_is_used_again_with_the_functions_it_calls(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERKIT_CACHE_DIR", str(tmp_path))
    read, _ = _coercion("integer", (), ())
    tree = ir.PyCall(read, (ir.Column("raw", ir.DType.STR),), ir.DType.INT)
    with remembered("scope"):
        first_udfs: dict = {}
        first = expression_sql(tree, "duckdb", udfs=first_udfs)

    def fail(*args, **kwargs):
        raise AssertionError("lowered again")

    monkeypatch.setattr(to_sql, "lower_expression", fail)
    with remembered("scope"):
        again_udfs: dict = {}
        assert expression_sql(tree, "duckdb", udfs=again_udfs) == first
    assert again_udfs == first_udfs == {tree.udf_name(): tree}


def test_a_changed_tree_is_lowered_afresh(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERKIT_CACHE_DIR", str(tmp_path))
    with remembered("scope"):
        before = expression_sql(ir.Arith("+", AMOUNT, ir.lit(1.0)), "duckdb")
    with remembered("scope"):
        after = expression_sql(ir.Arith("+", AMOUNT, ir.lit(2.0)), "duckdb")
    assert before != after and after == to_sql.lower_expression(ir.Arith("+", AMOUNT, ir.lit(2.0)), "duckdb")[0]


@pytest.mark.parametrize("content", ["{not json", json.dumps(["a list"]), "corrupt-entries"])
def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path, monkeypatch, content):
    monkeypatch.setenv("TIERKIT_CACHE_DIR", str(tmp_path))
    tree = ir.Arith("*", AMOUNT, ir.lit(3.0))
    expected = to_sql.lower_expression(tree, "duckdb")[0]
    with remembered("scope"):
        expression_sql(tree, "duckdb")
    (kept,) = tmp_path.glob("sql-*.json")
    if content == "corrupt-entries":  # every entry's text replaced by something that is not text
        content = json.dumps(dict.fromkeys(json.loads(kept.read_text()), 42))
    kept.write_text(content)
    with remembered("scope"):
        assert expression_sql(tree, "duckdb") == expected
    assert list(json.loads(kept.read_text()).values()) == [expected]


def test_an_unwritable_cache_never_fails(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("TIERKIT_CACHE_DIR", str(blocker / "cache"))  # a directory under a file
    with remembered("scope"):
        assert expression_sql(ir.Arith("+", AMOUNT, ir.lit(1.0)), "duckdb")
