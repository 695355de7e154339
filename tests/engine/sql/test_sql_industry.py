"""The ``industry`` kind on DuckDB and Spark gives the Python engine's outcomes: label,
tags and ``matched_by`` for every customer, on generated populations: codes and texts
made of pieces that case folding and NFKC change (full-width forms, ligatures, ß,
dotted I, final sigma, Kangxi radicals, combining marks, odd spaces), hierarchical
codes at and past their prefixes, codes as numbers and lists, texts as lists, and the
order of precedence (the most specific code, then keywords in track order, then
``when``, then the fallback).  The fold the kind states as IR is compared with
:func:`tierkit.plugins.industry.fold` on every character Python's Unicode tables change.

Its boundary cases (tests/cases/industry.yml) and saas-enterprise, the bundled ruleset
that uses it, run in tests/engine/test_engines_cases.py."""

from __future__ import annotations

import random

import pytest

from sqlglot import exp

from tierkit.engine.evaluation import BoundPlan
from tierkit.io.fieldtypes import WHITESPACE
from tierkit.ir import nodes as ir
from tierkit.ir.to_sql import SqlLowering, to_sql, unicode_maps
from tierkit.plugins.industry import fold

from tests.engine_harness import AS_OF, compare_batch, compile_yaml, engine_fixture, python_outcomes, shared_engine


# -- the fold ---------------------------------------------------------------------------


def fold_texts():
    """Every character Python's NFKC, case folding or strip changes, between letters and
    before combining marks (which compose with what NFKC gives), and some whole texts."""
    compat, folding = unicode_maps()
    texts = [f" A{char}b\u0301{char}\u0327 " for char in sorted({*compat, *folding, *WHITESPACE})]
    return texts + [None, "", "  ", "e\u0301", "ＡＢＣ（北京）…℃ ß İ ΣΑΣ ǰ", "\u3000Straße\u00a0", "ﬁnance ⼯业"]


def test_fold_matches_python(engine):
    """The fold the kind states (strip, casefold, NFKC as IR functions) on the engine."""
    texts = fold_texts()
    engine.register_rows("_industry_fold", {"n": "integer", "x": "string"}, list(enumerate(texts)))
    x = ir.Column("x", ir.DType.STR)
    node = ir.Call("strip", (ir.Call("casefold", (ir.Call("nfkc", (x,), ir.DType.STR),), ir.DType.STR),), ir.DType.STR)
    folded = SqlLowering(str, engine.dialect.name).lower(node)
    rows = dict(engine.rows(to_sql(exp.select(exp.column("n"), folded).from_("_industry_fold"), engine.dialect.name)))
    wrong = [(texts[n], rows[n], fold(texts[n]) if texts[n] is not None else None) for n in range(len(texts))
             if rows[n] != (fold(texts[n]) if texts[n] is not None else None)]
    assert len(texts) > 5000
    assert wrong == []


# -- generated populations --------------------------------------------------------------

RULESET = """
fields:
  id: {type: string, required: true}
  name: {type: string}
  industry: {type: string}
  code_number: {type: number}
  code_integer: {type: integer}
  codes: {type: list}
  words: {type: list}
  revenue: {type: number}
schemes:
  - {id: preset, kind: industry, preset: china-b2b}
  - id: custom
    kind: industry
    code: industry
    text: name
    tracks:
      - {id: banks, codes: [66, J67, " j6 "], keywords: [Bank, 银行, ＢＡＮＫＩＮＧ], tags: [security-first]}
      - {id: makers, codes: [C, c34, C3411], keywords: [works, ﬁnance, Straße, "power grid"]}
      - {id: turkish, codes: [İ, "i̇3"], keywords: [İstanbul, ς]}
      - {id: radicals, keywords: [工业, ⼯厂, Ⅻ, ㈱, "e\u0301"]}
      - {id: big, when: "revenue > 1000"}
      - {id: small, when: "revenue <= 10"}
    fallback: {id: other, tags: [unknown-industry]}
  - id: numbers
    kind: industry
    code: code_number
    tracks:
      - {id: n34, codes: [34, "1.5"]}
      - {id: n3, codes: [3, "-1", nan, inf]}
      - {id: n1e, codes: ["1e"]}
  - id: integers
    kind: industry
    code: code_integer
    text: words
    tracks:
      - {id: i34, codes: [34], keywords: [ｍｉｎｉｎｇ]}
      - {id: i3, codes: ["3", "-"], keywords: [mine, ß]}
    fallback: general
  - id: listed
    kind: industry
    preset: china-b2b
    code: codes
    text: words
    tracks: [finance, manufacturing, {id: energy, keywords: [power]}]
"""

TEXT_PIECES = [
    "bank", "BANK", "Ｂａｎｋ", "ing", "ﬁ", "fi", "nance", "STRASSE", "Straße", "ẞ", "straß", "e", "\u0301", "é", "\u0327",
    "İ", "i\u0307", "ı", "stanbul", "ΣΑΣ", "ς", "σ", "工业", "⼯", "业", "厂", "Ⅻ", "XII", "㈱", "(株)", "works", "power",
    " grid", "\u3000", "\u00a0", " ", "\t", "\u0085", "ǰ", "j\u030c", "银行", "人民政府", "大学", "mine", "ｍｉｎｉｎｇ",
    "ß", "ss", "℡", "x",
]
CODE_PIECES = ["C", "c", "ｃ", "3", "4", "34", "３４", "11", ".", "-", "J", "6", "7", " ", "\u3000", "İ", "i\u0307", "S",
               "Q84", "F52", "b06", "finance", "FINANCE", "ﬁnance", "x", "e\u0301"]
NUMBERS = [None, float("nan"), float("inf"), float("-inf"), -1.0, 0.0, -0.0, 1.5, 3.0, 3.25, 34.0, 341.0, 34.5, 3.4e-5,
           1.0e-5, 12345678.5, 3.0e20, 3.4e15, 1.0e40]


engine = engine_fixture()


@pytest.fixture(scope="module")
def plan(registry):
    return compile_yaml("industry-sql", RULESET, registry)


def generated(plan, seed: int, size: int):
    assert [spec.name for spec in plan.fields] == ["id", "name", "industry", "code_number", "code_integer", "codes",
                                                   "words", "revenue"]
    rng = random.Random(seed)

    def text(pieces, most: int):
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, most)))

    def maybe(value):
        return None if rng.random() < 0.1 else value

    rows = []
    for n in range(size):
        rows.append([
            f"g{n}",
            maybe(text(TEXT_PIECES, 5)),
            maybe(text(CODE_PIECES, 4)),
            rng.choice(NUMBERS),
            maybe(rng.choice([-34, -1, 0, 3, 34, 341, 3411, 2**40])),
            maybe(tuple(rng.choice([text(CODE_PIECES, 3), None]) for _ in range(rng.randint(0, 3)))),
            maybe(tuple(rng.choice([text(TEXT_PIECES, 3), None]) for _ in range(rng.randint(0, 3)))),
            rng.choice([None, 5.0, 10.0, 500.0, 1000.0, 1000.5]),
        ])
    return BoundPlan(plan, AS_OF).run(rows)


def test_generated_populations(plan, engine, registry):
    evaluations = {f"seed {seed}": generated(plan, seed, 1500) for seed in range(2)}
    evaluations["one customer"] = generated(plan, 99, 1)
    outcomes = [o for e in evaluations.values() for o in python_outcomes(e, registry).values()]
    for scheme in ("custom", "listed"):
        assert {o[scheme][3]["matched_by"] for o in outcomes} >= {"code", "keyword", "fallback"}, scheme
    assert {o["custom"][0] for o in outcomes} == {"banks", "makers", "turkish", "radicals", "big", "small", "other"}
    assert {o["numbers"][0] for o in outcomes} == {"n34", "n3", "n1e", "general"}
    assert {o["integers"][0] for o in outcomes} == {"i34", "i3", "general"}
    assert compare_batch(evaluations, registry, engine) == []


def test_a_wrong_track_is_caught(plan, registry):
    """The comparison sees a difference: Python on other texts than the SQL engine's."""
    evaluation = generated(plan, 5, 300)
    other = generated(plan, 6, 300)
    other.bound = evaluation.bound
    other.rows = [row[: len(plan.fields)] + other.rows[i][len(plan.fields):] for i, row in enumerate(evaluation.rows)]
    assert compare_batch({"other": other}, registry, shared_engine("duckdb"))
