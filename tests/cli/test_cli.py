"""The ``tierkit`` command line end to end, on the bundled ruleset and example data.

Most tests run the CLI in-process (``main([...])``); a few run the installed console
script in a subprocess to check exit codes and that no traceback ever reaches stderr.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import ROOT, TIERKIT, run, run_captured

EXAMPLES = ROOT / "examples" / "b2b-manufacturing"
CUSTOMERS = EXAMPLES / "customers.csv"
CUSTOMERS_ZH = EXAMPLES / "customers-zh.csv"
AS_OF = "2026-09-01"
RECORD_KEYS = ["id", "features", "outcomes", "rank", "allocation"]
OUTCOME_KEYS = ["label", "display", "score", "tags", "reasons"]
INDICATORS_EN = ["Purchase scale", "Profit room", "Market standing", "Our relationship"]
INDICATORS_ZH = ["采购规模", "利润空间", "江湖地位", "合作深度"]


def evaluate(capsys, *args, input_path=CUSTOMERS) -> tuple[int, str, str]:
    return run(capsys, *evaluate_args(*args, input_path=input_path))


def evaluate_args(*args, input_path=CUSTOMERS) -> list:
    return ["evaluate", "b2b-manufacturing", input_path, "--as-of", AS_OF, *args]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """``evaluated(*args, output=NAME)``: the in-process ``evaluate`` of the b2b sample
    with those arguments (written to file NAME in the module's folder), run once for the
    module: (exit code, stdout, stderr, output path or None).  The tests that read one
    run share it; those that compare two runs make the second themselves."""
    folder, runs = tmp_path_factory.mktemp("evaluated"), {}

    def evaluated_with(*args, output=None, input_path=CUSTOMERS):
        key = (args, output, input_path)
        if key not in runs:
            path = output and folder / output
            options = [*args, "-o", path] if path else args
            runs[key] = (*run_captured(*evaluate_args(*options, input_path=input_path)), path)
        return runs[key]

    return evaluated_with


def read_jsonl(text: str) -> tuple[dict, list[dict]]:
    lines = text.splitlines()
    first = json.loads(lines[0])
    assert list(first) == ["meta"]
    return first["meta"], [json.loads(line) for line in lines[1:]]


def one_line_failure(code: int, out: str, err: str) -> str:
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("tierkit: ")
    return err.rstrip("\n")


# -- evaluate: JSON Lines ----------------------------------------------------------------


@pytest.fixture
def jsonl(evaluated) -> tuple[dict, list[dict], str]:
    code, out, err, output = evaluated(output="results.jsonl")
    assert code == 0 and out == ""
    meta, records = read_jsonl(output.read_text(encoding="utf-8"))
    return meta, records, err


def test_meta_line(jsonl):
    meta, _records, _err = jsonl
    assert meta["ruleset"] == "b2b-manufacturing"
    assert meta["ruleset_version"] == "1.0.0"
    assert meta["fingerprint"].startswith("sha256:") and len(meta["fingerprint"]) == len("sha256:") + 64
    assert meta["as_of"] == AS_OF
    assert meta["lang"] == "zh"  # the ruleset's locale
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (600, 600, 0)


def test_summary_on_stderr(jsonl):
    _meta, _records, err = jsonl
    assert err == f"read 600 · evaluated 600 · rejected 0 · b2b-manufacturing 1.0.0 as of {AS_OF}\n"


_B2B = yaml.safe_load((ROOT / "rulesets" / "b2b-manufacturing.yaml").read_text(encoding="utf-8"))
B2B_SCHEMES = [scheme["id"] for scheme in _B2B["schemes"]]
B2B_ALLOCATION_RULES = {rule["id"] for rule in _B2B["allocation"]["rules"]} | {_B2B["allocation"]["default"]["id"]}


def test_600_records_in_rank_order_each_with_the_five_keys(jsonl):
    _meta, records, _err = jsonl
    assert len(records) == 600
    assert [record["rank"] for record in records] == list(range(1, 601))
    assert len({record["id"] for record in records}) == 600
    for record in records:
        assert list(record) == RECORD_KEYS
        assert record["id"] == record["features"]["id"]
        assert list(record["outcomes"]) == B2B_SCHEMES
        for outcome in record["outcomes"].values():
            assert list(outcome) == OUTCOME_KEYS
            assert outcome["reasons"] and all(reason["text"] for reason in outcome["reasons"])
        assert record["allocation"]["rule"] in B2B_ALLOCATION_RULES


def test_rank_follows_the_grade_score(jsonl):
    _meta, records, _err = jsonl
    scores = [record["outcomes"]["grade"]["score"] for record in records]
    known = [score for score in scores if score is not None]
    assert known == sorted(known, reverse=True)
    assert scores[: len(known)] == known  # missing scores rank last


def test_features_include_the_derived_ones(jsonl):
    _meta, records, _err = jsonl
    record = next(r for r in records if r["id"] == "C00017")
    features = record["features"]
    assert features["last_order_date"] is not None
    assert set(features) >= {"share_of_wallet", "days_since_order", "annual_procurement"}
    assert features["share_of_wallet"] == pytest.approx(features["our_revenue_12m"] / features["annual_procurement"])


def test_lang_en_gives_english_displays(evaluated):
    code, out, _, _ = evaluated("--lang", "en")
    assert code == 0
    meta, records = read_jsonl(out)
    assert meta["lang"] == "en"
    assert {r["outcomes"]["track"]["display"] for r in records} == {"Government", "Finance", "Manufacturing & energy", "General"}
    assert {r["outcomes"]["grade"]["display"] for r in records} == {
        "S: strategic core", "A: key account", "B: growth account", "C: standard account", "D: long tail"
    }
    strategic = next(r for r in records if r["allocation"]["rule"] == "strategic")
    assert strategic["allocation"]["team"] == "Iron triangle (sales + solution + delivery)"
    assert strategic["allocation"]["actions"][0] == "Quarterly executive visit, project or not"
    assert records[0]["outcomes"]["grade"]["reasons"][0]["text"].startswith("Purchase scale: ")


def test_lang_zh_gives_chinese_displays(evaluated):
    code, out, _, _ = evaluated("--lang", "zh")
    assert code == 0
    meta, records = read_jsonl(out)
    assert meta["lang"] == "zh"
    assert {r["outcomes"]["track"]["display"] for r in records} == {"政府", "金融", "制造与能源", "通用"}
    assert {r["outcomes"]["grade"]["display"] for r in records} == {
        "S 战略核心", "A 重点客户", "B 成长客户", "C 普通客户", "D 长尾客户"
    }
    strategic = next(r for r in records if r["allocation"]["rule"] == "strategic")
    assert strategic["allocation"]["team"] == "铁三角（销售+方案+交付）"
    assert records[0]["outcomes"]["grade"]["reasons"][0]["text"].startswith("采购规模：")


def test_labels_do_not_depend_on_the_language(evaluated):
    _, en, _, _ = evaluated("--lang", "en")
    _, zh, _, _ = evaluated("--lang", "zh")
    strip = lambda text: [(r["id"], r["rank"], r["outcomes"]["grade"]["label"], r["allocation"]["rule"]) for r in read_jsonl(text)[1]]
    assert strip(en) == strip(zh)


def test_as_of_is_recorded_and_used(capsys, evaluated):
    _, first, _, _ = evaluated()
    code, later, _ = run(capsys, "evaluate", "b2b-manufacturing", CUSTOMERS, "--as-of", "2026-12-31")
    assert code == 0
    meta_first, records_first = read_jsonl(first)
    meta_later, records_later = read_jsonl(later)
    assert meta_first["as_of"] == AS_OF and meta_later["as_of"] == "2026-12-31"
    days = lambda records: {r["id"]: r["features"]["days_since_order"] for r in records}
    first_days, later_days = days(records_first), days(records_later)
    assert all(later_days[i] - first_days[i] == 121 for i in first_days if first_days[i] is not None)


def test_same_inputs_give_byte_identical_jsonl(tmp_path, capsys, evaluated):
    first, second = evaluated(output="results.jsonl")[3], tmp_path / "b.jsonl"
    evaluate(capsys, "-o", second)
    assert first.read_bytes() == second.read_bytes()


def test_stdout_is_json_lines_without_o(jsonl, evaluated):
    code, out, err, _ = evaluated()
    assert code == 0
    meta, records = read_jsonl(out)
    assert len(records) == 600
    assert err.startswith("read 600 · evaluated 600 · rejected 0")
    # The same bytes as a .jsonl file.
    file_meta, file_records, _ = jsonl
    assert (meta, records) == (file_meta, file_records)


def test_dash_means_stdout(capsys):
    code, out, _ = evaluate(capsys, "-o", "-")
    assert code == 0
    assert len(out.splitlines()) == 601


# -- evaluate: CSV and XLSX --------------------------------------------------------------


def test_csv_output(evaluated):
    code, out, _, output = evaluated("--lang", "en", output="results.csv")
    assert code == 0 and out == ""
    assert output.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    with open(output, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 600
    assert [int(row["rank"]) for row in rows] == list(range(1, 601))
    assert {"id", "features.annual_procurement", "outcomes.grade.label", "outcomes.grade.display",
            "outcomes.track.tags", "allocation.rule"} <= set(rows[0])
    assert rows[0]["outcomes.grade.display"] in {"S: strategic core", "A: key account"}
    meta = json.loads(Path(f"{output}.meta.json").read_text(encoding="utf-8"))
    assert (meta["as_of"], meta["lang"], meta["read"], meta["evaluated"], meta["rejected"]) == (AS_OF, "en", 600, 600, 0)


def test_same_inputs_give_byte_identical_csv(tmp_path, capsys, evaluated):
    first, second = evaluated("--lang", "en", output="results.csv")[3], tmp_path / "b.csv"
    evaluate(capsys, "-o", second, "--lang", "en")
    assert first.read_bytes() == second.read_bytes()
    assert Path(f"{first}.meta.json").read_bytes() == Path(f"{second}.meta.json").read_bytes()


def xlsx_cells(path: Path) -> dict[str, list[tuple]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}
    finally:
        workbook.close()


def test_xlsx_output(evaluated):
    code, out, _, output = evaluated(output="results.xlsx")
    assert code == 0 and out == ""
    sheets = xlsx_cells(output)
    assert list(sheets) == ["results", "rejected", "summary"]
    header, *rows = sheets["results"]
    assert len(rows) == 600
    rank = header.index("排名")
    assert [row[rank] for row in rows] == list(range(1, 601))
    assert header[0] == "客户编号" and "客户等级" in header
    meta = {row[0]: row[1] for row in sheets["summary"] if row and row[0]}
    assert (meta["as_of"], meta["read"], meta["evaluated"], meta["rejected"]) == (AS_OF, 600, 600, 0)


@pytest.fixture(scope="module")
def xlsx_again(evaluated, tmp_path_factory) -> tuple[Path, Path]:
    """The module's workbook and a second one from the same inputs, written two seconds or
    more later (zip entries carry times in two-second steps): read by the cells and the
    bytes tests alike."""
    import time

    first, second = evaluated(output="results.xlsx")[3], tmp_path_factory.mktemp("again") / "b.xlsx"
    time.sleep(max(0.0, first.stat().st_mtime + 2.1 - time.time()))
    code, _out, err = run_captured(*evaluate_args("-o", second))
    assert code == 0, err
    return first, second


def test_same_inputs_give_the_same_xlsx_cells(xlsx_again):
    first, second = xlsx_again
    assert xlsx_cells(first) == xlsx_cells(second)


def test_same_inputs_give_byte_identical_xlsx(xlsx_again):
    first, second = xlsx_again
    assert first.read_bytes() == second.read_bytes()


# -- list fields ---------------------------------------------------------------------------

LIST_RULESET = """\
tierkit: 1
name: lists
version: "1"
fields:
  id: {type: string, required: true}
  products: {type: list}
schemes:
  - id: mix
    kind: rules
    rules:
      - {id: both, when: "products == ['a', 'b']"}
      - {id: not_both, when: "products != ['a', 'b'] and 'a' in products"}
    default: {id: other}
"""


@pytest.mark.parametrize("source", ["csv", "jsonl"])
def test_a_list_field_equals_a_list_literal(tmp_path, capsys, source):
    ruleset = tmp_path / "lists.yaml"
    ruleset.write_text(LIST_RULESET, encoding="utf-8")
    customers = tmp_path / f"customers.{source}"
    if source == "csv":
        customers.write_text('id,products\nX,"a,b"\nY,a\nZ,\n', encoding="utf-8")
    else:
        customers.write_text('{"id": "X", "products": ["a", "b"]}\n{"id": "Y", "products": ["a"]}\n{"id": "Z"}\n',
                             encoding="utf-8")
    code, out, err = run(capsys, "evaluate", ruleset, customers, "--as-of", AS_OF)
    assert code == 0, err
    _meta, records = read_jsonl(out)
    assert {r["id"]: r["outcomes"]["mix"]["label"] for r in records} == {"X": "both", "Y": "not_both", "Z": "other"}
    assert {r["id"]: r["features"]["products"] for r in records} == {"X": ["a", "b"], "Y": ["a"], "Z": None}
    code, out, err = run(capsys, "explain", ruleset, customers, "--customer", "X", "--as-of", AS_OF, "--json")
    assert code == 0 and json.loads(out)["features"]["products"] == ["a", "b"]
    # CSV and XLSX cells hold the items joined, as before
    for suffix in ("csv", "xlsx"):
        output = tmp_path / f"results.{suffix}"
        code, _out, err = run(capsys, "evaluate", ruleset, customers, "--as-of", AS_OF, "-o", output)
        assert code == 0, err
        if suffix == "csv":
            with open(output, encoding="utf-8-sig", newline="") as handle:
                cells = {row["id"]: row["features.products"] for row in csv.DictReader(handle)}
            assert cells == {"X": "a; b", "Y": "a", "Z": ""}
        else:
            header, *rows = xlsx_cells(output)["results"]
            column = header.index("products")
            assert {row[0]: row[column] for row in rows} == {"X": "a; b", "Y": "a", "Z": None}


# -- the Chinese export --------------------------------------------------------------------


def test_gb18030_file_with_chinese_headers(evaluated):
    code, out, err, _ = evaluated(input_path=CUSTOMERS_ZH)
    assert code == 0
    meta, records = read_jsonl(out)
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (50, 50, 0)
    assert err.startswith("read 50 · evaluated 50 · rejected 0")
    first = next(r for r in records if r["id"] == "C00001")
    assert first["features"]["name"] == "北京宏远置业有限公司"
    assert first["features"]["annual_procurement"] == 2_734_000.0  # "2,734,000"
    assert first["features"]["fortune500"] is False  # 否


def test_the_chinese_export_grades_as_the_utf8_file_does(evaluated):
    _, zh, _, _ = evaluated(input_path=CUSTOMERS_ZH)
    _, utf8, _, _ = evaluated()
    grades = {r["id"]: r["outcomes"]["grade"]["label"] for r in read_jsonl(utf8)[1]}
    for record in read_jsonl(zh)[1]:
        assert record["outcomes"]["grade"]["label"] == grades[record["id"]]


# -- explain -------------------------------------------------------------------------------


def test_explain_text_in_english(capsys):
    code, out, err = run(capsys, "explain", "b2b-manufacturing", CUSTOMERS, "--customer", "C00017", "--as-of", AS_OF, "--lang", "en")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "C00017  青岛金泰电子科技有限公司"
    assert f"rank 236 of 600   (as of {AS_OF}, b2b-manufacturing 1.0.0)" in out
    assert "Industry track (track): Manufacturing & energy (manufacturing)  [cost-first]" in out
    assert "Account grade (grade): B: growth account (B)  score 43.5" in out
    for indicator in INDICATORS_EN:
        assert f"  - {indicator}: " in out
    assert "  - score 43.5 ≥ 40 → B" in out
    assert "allocation: growth\n  - matched rule growth: Account grade is B: growth account\n  team: Account manager" in out
    assert "  cadence_days: 60" in out


def test_explain_text_in_the_rulesets_language(capsys):
    code, out, _ = run(capsys, "explain", "b2b-manufacturing", CUSTOMERS, "--customer", "C00017", "--as-of", AS_OF)
    assert code == 0
    assert "客户等级 (grade): B 成长客户 (B)  score 43.5" in out
    for indicator in INDICATORS_ZH:
        assert f"  - {indicator}：" in out
    assert "allocation: growth\n  - 命中规则 growth：客户等级属于 B 成长客户\n  team: 客户经理" in out


def test_explain_json(capsys):
    code, out, _ = run(capsys, "explain", "b2b-manufacturing", CUSTOMERS, "--customer", "C00017", "--as-of", AS_OF, "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["meta", *RECORD_KEYS]
    assert data["id"] == "C00017" and data["rank"] == 236
    assert data["meta"]["as_of"] == AS_OF and data["meta"]["ruleset"] == "b2b-manufacturing"
    grade = data["outcomes"]["grade"]
    assert grade["label"] == "B" and grade["score"] == pytest.approx(43.5, abs=0.05)
    assert [reason.get("indicator") for reason in grade["reasons"][:4]] == [
        "purchase_scale", "profit_room", "market_standing", "relationship"
    ]
    assert data["allocation"]["rule"] == "growth"


def test_explain_agrees_with_evaluate(jsonl, capsys):
    _meta, records, _err = jsonl
    record = next(r for r in records if r["id"] == "C00017")
    _code, out, _ = run(capsys, "explain", "b2b-manufacturing", CUSTOMERS, "--customer", "C00017", "--as-of", AS_OF, "--json")
    explained = json.loads(out)
    explained.pop("meta")
    assert explained == record


def test_explain_unknown_customer(capsys):
    line = one_line_failure(*run(capsys, "explain", "b2b-manufacturing", CUSTOMERS, "--customer", "C99999"))
    assert line == "tierkit: customer 'C99999' is not among the evaluated customers"


def test_explain_needs_a_customer(capsys):
    line = one_line_failure(*run(capsys, "explain", "b2b-manufacturing", CUSTOMERS))
    assert line == "tierkit: Missing option '--customer'."


# -- schema and plugins --------------------------------------------------------------------


def test_schema(capsys):
    code, out, err = run(capsys, "schema")
    assert code == 0 and err == ""
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    kinds = schema["$defs"]["scheme"]["properties"]["kind"]["enum"]
    assert {"rules", "weighted"} <= set(kinds)
    branches = [branch["if"]["properties"]["kind"]["const"] for branch in schema["$defs"]["scheme"]["allOf"]]
    assert branches == kinds  # one if/then branch per kind


def test_schema_to_a_file(tmp_path, capsys):
    path = tmp_path / "ruleset.schema.json"
    code, out, _ = run(capsys, "schema", "-o", path)
    assert code == 0 and out == ""
    _code, printed, _ = run(capsys, "schema")
    assert path.read_text(encoding="utf-8") == printed


def test_plugins(capsys):
    code, out, err = run(capsys, "plugins")
    assert code == 0 and err == ""
    lines = out.splitlines()
    sections = [line for line in lines if not line.startswith(" ")]
    assert sections == ["plugins:", "scheme kinds:", "functions:", "readers:", "writers:", "sources:"]
    for name in ("bundled", "formats", "functions", "rules", "weighted"):
        assert f"  {name}  (tierkit 0.1.0)" in lines
    kinds = lines[lines.index("scheme kinds:") + 1 : lines.index("functions:")]
    origins = {line.split()[0]: line.split()[1] for line in kinds}
    assert (origins["rules"], origins["weighted"]) == ("rules", "weighted")
    functions = {line.split()[0]: line.split(None, 2) for line in lines[lines.index("functions:") + 1 : lines.index("readers:")]}
    assert functions["days_since"] == ["days_since", "functions", "Days from a date to the as-of date."]
    assert {"date", "default", "coalesce", "days_until", "log10"} <= set(functions)
    assert "  .xlsx          formats      xlsx" in lines


# -- local plugins -------------------------------------------------------------------------

PLUGIN = '''\
from tierkit.hookspecs import hookimpl
from tierkit.registry import Function


def step(value, size):
    """Which step of a ladder of the given size a value stands on."""
    return int(value // size) if size > 0 else None


@hookimpl
def tierkit_functions(register):
    register(Function("step", step, ("number", "number"), "integer", "The step of a ladder a value stands on."))
'''

PLUGIN_RULESET = '''\
tierkit: 1
name: ladder
version: "1"
fields:
  id: {type: string, required: true}
  annual_procurement: {type: number, required: true}
derive:
  ladder_step: "step(annual_procurement, 1.0e8)"
schemes:
  - id: size
    kind: rules
    rules:
      - {id: top, when: "step(annual_procurement, 1.0e9) >= 1"}
      - {id: middle, when: "ladder_step >= 1"}
    default: {id: small}
rank:
  - {by: annual_procurement, order: desc}
'''


@pytest.fixture
def plugin_files(tmp_path) -> tuple[Path, Path]:
    plugin = tmp_path / "ladder_plugin.py"
    plugin.write_text(PLUGIN, encoding="utf-8")
    ruleset = tmp_path / "ladder.yaml"
    ruleset.write_text(PLUGIN_RULESET, encoding="utf-8")
    return plugin, ruleset


def test_a_local_plugin_function_in_an_expression(plugin_files, capsys):
    plugin, ruleset = plugin_files
    code, out, err = run(capsys, "--plugin", plugin, "evaluate", ruleset, CUSTOMERS, "--as-of", AS_OF)
    assert code == 0
    assert err.startswith("read 600 · evaluated 600 · rejected 0 · ladder 1 as of")
    meta, records = read_jsonl(out)
    assert meta["ruleset"] == "ladder"
    for record in records:
        procurement = record["features"]["annual_procurement"]
        assert record["features"]["ladder_step"] == int(procurement // 1.0e8)
        expected = "top" if procurement >= 1.0e9 else "middle" if procurement >= 1.0e8 else "small"
        assert record["outcomes"]["size"]["label"] == expected
    assert {r["outcomes"]["size"]["label"] for r in records} == {"top", "middle", "small"}


def test_a_local_plugin_is_listed_with_its_file(plugin_files, capsys):
    plugin, _ruleset = plugin_files
    code, out, _ = run(capsys, "--plugin", plugin, "plugins")
    assert code == 0
    assert f"  {plugin}  ({plugin})" in out.splitlines()
    step = next(line for line in out.splitlines() if line.split()[:1] == ["step"])
    assert step.split(None, 2) == ["step", str(plugin), "The step of a ladder a value stands on."]


def test_validate_with_a_local_plugin(plugin_files, capsys):
    plugin, ruleset = plugin_files
    code, out, err = run(capsys, "--plugin", plugin, "validate", ruleset)
    assert (code, out) == (0, "")
    assert err == f"{ruleset}: ok (1 scheme, 0 warnings)\n"


def test_without_the_plugin_its_function_is_unknown(plugin_files, capsys):
    _plugin, ruleset = plugin_files
    code, out, _ = run(capsys, "validate", ruleset)
    assert code == 1
    assert out.splitlines() == [
        f"{ruleset}:8:17: unknown function 'step' in expression `step(annual_procurement, 1.0e8)`",
        f"{ruleset}:13:26: unknown function 'step' in expression `step(annual_procurement, 1.0e9) >= 1`",
    ]


@pytest.mark.parametrize(
    "source, message",
    [
        ("def broken(:\n", "{path}: plugin failed to load: invalid syntax ({name}, line 1)"),
        ("import tierkit_no_such_module\n", "{path}: plugin failed to load: No module named 'tierkit_no_such_module'"),
        ("raise RuntimeError('not today')\n", "{path}: plugin failed to load: not today"),
        (
            "from tierkit.hookspecs import hookimpl\nfrom tierkit.registry import Function\n\n"
            "@hookimpl\ndef tierkit_functions(register):\n"
            "    register(Function('days_since', abs, ('number',), 'number', 'Clash.'))\n",
            "function 'days_since' is registered by both '{path}' and 'functions'",
        ),
        (
            "from tierkit.hookspecs import hookimpl\n\n@hookimpl\ndef tierkit_functions(register, extra):\n    pass\n",
            "{path}: hook tierkit_functions declares argument 'extra' that tierkit does not pass (tierkit_functions takes register)",
        ),
        (
            "from tierkit.hookspecs import hookimpl\n\n@hookimpl\ndef tierkit_scheme_kinds(register):\n    raise KeyError('boom')\n",
            "plugin '{path}' failed in tierkit_scheme_kinds: KeyError: 'boom'",
        ),
        (
            "from tierkit.hookspecs import hookimpl\n\n@hookimpl\ndef tierkit_readers(register):\n"
            "    raise RuntimeError('no\\nreaders today')\n",
            "plugin '{path}' failed in tierkit_readers: RuntimeError: no readers today",
        ),
        (
            "from tierkit.hookspecs import hookimpl\n\n@hookimpl\ndef tierkit_ruleset_dirs():\n    return 1 / 0\n",
            "plugin '{path}' failed in tierkit_ruleset_dirs: ZeroDivisionError: division by zero",
        ),
        (
            "from tierkit.hookspecs import hookimpl\n\n@hookimpl\ndef tierkit_ruleset_dirs():\n    return 5\n",
            "plugin '{path}': tierkit_ruleset_dirs returned 5, expected a list of folders",
        ),
    ],
    ids=["syntax-error", "import-error", "raises", "name-clash", "wrong-arguments", "hook-raises", "hook-raises-two-lines",
         "ruleset-dirs-raises", "ruleset-dirs-not-a-list"],
)
def test_a_broken_plugin_is_one_line(tmp_path, capsys, source, message):
    path = tmp_path / "broken_plugin.py"
    path.write_text(source, encoding="utf-8")
    line = one_line_failure(*run(capsys, "--plugin", path, "plugins"))
    assert line == "tierkit: " + message.format(path=path, name=path.name)


def test_a_plugin_with_a_misspelt_hook_is_one_line(tmp_path, capsys):
    path = tmp_path / "typo_plugin.py"
    path.write_text("from tierkit.hookspecs import hookimpl\n\n@hookimpl\ndef tierkit_function(register):\n    pass\n",
                    encoding="utf-8")
    line = one_line_failure(*run(capsys, "--plugin", path, "plugins"))
    assert "unknown hook 'tierkit_function'" in line


def test_a_plugin_file_given_twice_is_loaded_once(plugin_files, capsys, monkeypatch):
    plugin, ruleset = plugin_files
    monkeypatch.chdir(plugin.parent)
    for again in (plugin, plugin.name, f"./{plugin.name}"):
        code, out, err = run(capsys, "--plugin", plugin, "--plugin", again, "evaluate", ruleset, CUSTOMERS, "--as-of", AS_OF)
        assert code == 0, err
        assert len(read_jsonl(out)[1]) == 600
    code, out, _err = run(capsys, "--plugin", plugin, "--plugin", plugin, "plugins")
    assert code == 0 and out.splitlines().count(f"  {plugin}  ({plugin})") == 1


def test_a_plugin_file_named_like_an_installed_plugin_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").write_text("", encoding="utf-8")
    line = one_line_failure(*run(capsys, "--plugin", "rules", "plugins"))
    assert line.startswith("tierkit: rules: cannot load the plugin: a plugin named 'rules' is already loaded")


def test_a_missing_plugin_file(tmp_path, capsys):
    path = tmp_path / "nothere.py"
    line = one_line_failure(*run(capsys, "--plugin", path, "plugins"))
    assert line == f"tierkit: {path}: plugin file not found"


# -- help, version, usage ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "evaluate", "explain", "schema", "plugins"])
def test_help_for_every_command(capsys, command):
    code, out, err = run(capsys, command, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"Usage: tierkit {command} ")


def test_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("Usage: tierkit [OPTIONS] COMMAND [ARGS]...")
    for command in ("validate", "evaluate", "explain", "schema", "plugins"):
        assert f"  {command} " in out
    assert "--plugin" in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == "tierkit, version 0.1.0\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["frobnicate"], "No such command 'frobnicate'."),
        (["evaluate"], "Missing argument 'RULESET'."),
        (["evaluate", "b2b-manufacturing"], "nothing to evaluate: give a customer file, --orders ORDERS, or both"),
        (["evaluate", "b2b-manufacturing", str(CUSTOMERS), "--bogus"], "No such option '--bogus'."),
    ],
)
def test_usage_errors_are_one_line(capsys, args, message):
    line = one_line_failure(*run(capsys, *args))
    assert line == f"tierkit: {message}"


# -- the installed console script ----------------------------------------------------------


def tierkit(*args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([*TIERKIT, *map(str, args)], capture_output=True, text=True, encoding="utf-8", timeout=120, **kwargs)
    assert "Traceback" not in done.stderr
    return done


def test_console_script_evaluates(tmp_path):
    output = tmp_path / "out.jsonl"
    done = tierkit("evaluate", "b2b-manufacturing", CUSTOMERS, "-o", output, "--as-of", AS_OF)
    assert done.returncode == 0
    assert done.stdout == ""
    assert done.stderr == f"read 600 · evaluated 600 · rejected 0 · b2b-manufacturing 1.0.0 as of {AS_OF}\n"
    assert len(output.read_text(encoding="utf-8").splitlines()) == 601


def test_console_script_exit_codes(tmp_path):
    """Exit codes 0, 1 and 2 across the process boundary, a bad file and a bad command."""
    bad = ROOT / "tests" / "rulesets" / "bad-expr" / "several.yaml"
    assert tierkit("validate", "b2b-manufacturing").returncode == 0
    invalid = tierkit("validate", bad)
    assert invalid.returncode == 1
    assert invalid.stderr == f"{bad}: 5 errors\n"
    for args in (["evaluate", "b2b-manufacturing", tmp_path / "missing.csv"], ["no-such-command"]):
        done = tierkit(*args)
        assert done.returncode == 2, args
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("tierkit: "), done.stderr


@pytest.mark.parametrize("args", [
    ["evaluate", "b2b-manufacturing", CUSTOMERS, "--as-of", "someday"],
    ["explain", "b2b-manufacturing", CUSTOMERS, "--customer", "NOPE"],
    ["evaluate", "no-such-ruleset", CUSTOMERS],
], ids=["bad date", "unknown customer", "unknown ruleset"])
def test_bad_arguments_are_one_line_errors(args, capsys):
    line = one_line_failure(*run(capsys, *args))
    assert any(word in line for word in ("someday", "NOPE", "no-such-ruleset")), line


def test_console_script_with_a_broken_plugin(tmp_path):
    plugin = tmp_path / "broken.py"
    plugin.write_text("1 +\n", encoding="utf-8")
    done = tierkit("--plugin", plugin, "plugins")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "plugin failed to load" in done.stderr


def test_console_script_output_closed_early():
    """``tierkit evaluate … | head -1``: the reader stopping early is not an error."""
    process = subprocess.Popen(
        [*TIERKIT, "evaluate", "b2b-manufacturing", str(CUSTOMERS), "--as-of", AS_OF],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode("utf-8")
    process.stderr.close()
    assert process.wait(timeout=120) == 0
    assert json.loads(first)["meta"]["read"] == 600
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_console_script_help_and_python_m(capsys):
    assert tierkit("--help").returncode == 0
    for command in ("validate", "evaluate", "explain", "schema", "plugins"):  # in process: the help text is the point
        code, out, _err = run(capsys, command, "--help")
        assert code == 0 and out.startswith(f"Usage: tierkit {command} ")
    done = subprocess.run([sys.executable, "-c", "import tierkit.cli, sys; sys.exit(tierkit.cli.main(['--version']))"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "tierkit, version 0.1.0\n"
