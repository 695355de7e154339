"""Results files as an input: Parquet output in the results layout every engine writes,
reading .jsonl/.csv/.parquet results back into records, and ``brief``, ``report`` and
``calllist --results FILE`` printing exactly what they print when they evaluate (less
the reasons, with a note, when the engine that made the file records none)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import pytest

from tierkit.engine.evaluation import compile_ruleset
from tierkit.io.tables import compact_json, write_results
from tierkit.engine.job import run_job
from tierkit.manager import make_registry
from tierkit.engine.results import (
    ResultsSchema, column_type, read_evaluation, read_results, results_schema, value_type, write_meta,
)
from tierkit.ruleset.load import load_ruleset

from tests.render.test_brief import EXAMPLE, Page
from tests.store.test_history import FIXTURES
from tests.render.test_render import AS_OF, run_cli

SUFFIXES = ("jsonl", "csv", "parquet")
OWNER = "王芳"

# Every column type of the results layout: an integer id, each field type, derived
# features, a list field, and allocation keys whose values are ints, ints and
# decimals, a mix (JSON), an object (JSON), lists of text and booleans.
TYPED = """\
tierkit: 1
name: typed
version: "1"
locale: en
fields:
  id: {type: integer, required: true}
  name: {type: string}
  owner: {type: string}
  revenue: {type: number}
  visits: {type: integer}
  active: {type: boolean}
  joined: {type: date}
  products: {type: list}
  segment: {type: enum, values: [smb, mid, ent]}
  last_contact_date: {type: date}
derive:
  per_visit: "revenue / visits if visits > 0 else none"
  tenure_days: "days_since(joined)"
  big: "revenue >= 1000"
  active_contact: "last_contact_date if active else none"
schemes:
  - id: tier
    kind: rules
    label: Tier
    rules:
      - {id: gold, when: "revenue >= 1000", label: Gold, tags: [vip, big-spender]}
    default: {id: silver, label: Silver}
rank:
  - {by: revenue, order: desc}
allocation:
  rules:
    - id: gold
      when: "tier.label == 'gold'"
      set: {cadence_days: 7, x_priority: 1, x_weight: 0.5, x_meta: {level: 2, owner: key}, x_flags: [a, b], important: true}
  default:
    id: rest
    set: {cadence_days: 30.5, x_priority: high, x_weight: 2, x_flags: [c], important: false}
"""

TYPED_CUSTOMERS = """\
id,name,owner,revenue,visits,active,joined,products,segment,last_contact_date
7,Alpha,Ann,2500.5,5,yes,2020-03-01,"pumps;valves",ent,2026-10-01
8,Beta,Ann,900,0,no,2024-12-31,,smb,
9,Gamma,Bob,,3,,,"seals",,2026-09-15
"""


def json_normal(record: dict) -> dict:
    """A record as written and read back: reasons are JSON (their dates are ISO text)."""
    outcomes = {scheme: {**outcome, **({"reasons": json.loads(compact_json(outcome["reasons"]))} if "reasons" in outcome else {})}
                for scheme, outcome in record["outcomes"].items()}
    return {**record, "outcomes": outcomes}


def evaluate(ruleset, customers, as_of: str = AS_OF, lang: str | None = None):
    registry = make_registry()
    plan = compile_ruleset(load_ruleset(str(ruleset), registry.ruleset_dirs), registry)
    job = run_job(plan, registry, str(customers), None, dt.date.fromisoformat(as_of))
    lang = lang or plan.ruleset.data.get("locale", "en")
    return job, plan, lang, registry


def write_all(folder: Path, name: str, *args) -> dict[str, Path]:
    """``tierkit evaluate … -o`` into a file of each suffix."""
    files = {}
    for suffix in SUFFIXES:
        path = folder / f"{name}.{suffix}"
        assert run_cli("evaluate", *args, "-o", path) == 0
        files[suffix] = path
    return files


def without_reasons(folder: Path, plan, job, lang: str, engine: str = "duckdb") -> Path:
    """A Parquet file as a SQL engine writes it: the results layout with no reasons."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    schema = results_schema(plan, lang, reasons=False)
    path = folder / f"{engine}.parquet"
    rows = [schema.flat(record) for record in job.evaluation.records(lang)]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema.arrow_schema()), path)
    write_meta(path, {**job.meta(lang), "engine": engine})
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The b2b sample evaluated once; its results as .jsonl, .csv and .parquet, and as
    a reasons-free Parquet file of the kind the SQL engines write."""
    pytest.importorskip("pyarrow")
    folder = tmp_path_factory.mktemp("results")
    files = write_all(folder, "b2b", "b2b-manufacturing", EXAMPLE, "--as-of", AS_OF)
    job, plan, lang, _ = evaluate("b2b-manufacturing", EXAMPLE)
    files["sql"] = without_reasons(folder, plan, job, lang)
    return folder, files, job, plan, lang


def html_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- writing and reading back ----------------------------------------------------------------


def test_parquet_round_trip_equals_the_jsonl_and_csv_records(sample):
    _folder, files, job, plan, lang = sample
    expected = [json_normal(record) for record in job.evaluation.records(lang)]
    read = {suffix: read_results(files[suffix], plan) for suffix in SUFFIXES}
    for suffix in SUFFIXES:
        meta, records = read[suffix]
        assert meta == job.meta(lang), suffix
        assert records == expected, suffix
    # the same Python types, not only equal values: dates, tuples of list fields, ints
    first = [read[suffix][1][0] for suffix in SUFFIXES]
    for record in first:
        assert {k: type(v) for k, v in record["features"].items()} == {k: type(v) for k, v in expected[0]["features"].items()}
        assert {k: type(v) for k, v in record["allocation"].items()} == {k: type(v) for k, v in expected[0]["allocation"].items()}
    assert meta["engine"] == "python"


def test_the_parquet_file_has_the_columns_and_types_of_the_results_schema(sample):
    pq = pytest.importorskip("pyarrow.parquet")
    _folder, files, _job, plan, lang = sample
    written = pq.read_schema(files["parquet"])
    schema = results_schema(plan, lang)
    assert written.names == [column.name for column in schema.columns]
    assert [(f.name, str(f.type)) for f in written] == [(name, str(kind)) for name, kind in schema.pairs()]
    types = {f.name: str(f.type) for f in written}
    assert types["id"] == "string" and types["rank"] == "int64"
    assert types["features.annual_procurement"] == "double" and types["features.employees"] == "int64"
    assert types["features.fortune500"] == "bool" and types["features.last_order_date"] == "date32[day]"
    assert types["features.share_of_wallet"] == "double" and types["features.days_since_order"] == "int64"  # derived
    assert types["outcomes.grade.tags"] == "list<element: string>" and types["outcomes.grade.score"] == "double"
    assert types["allocation.cadence_days"] == "int64" and types["allocation.actions"] == "list<element: string>"
    assert written.field("outcomes.grade.reasons").metadata == {b"tierkit.type": b"json"}
    meta = json.loads((files["parquet"].parent / "b2b.parquet.meta.json").read_text(encoding="utf-8"))
    assert (meta["engine"], meta["ruleset"], meta["evaluated"]) == ("python", "b2b-manufacturing", 600)


def test_every_column_type_round_trips(tmp_path):
    pytest.importorskip("pyarrow")
    ruleset, customers = tmp_path / "typed.yaml", tmp_path / "customers.csv"
    ruleset.write_text(TYPED, encoding="utf-8")
    customers.write_text(TYPED_CUSTOMERS, encoding="utf-8")
    files = write_all(tmp_path, "typed", ruleset, customers, "--as-of", AS_OF)
    job, plan, lang, _ = evaluate(ruleset, customers)
    expected = [json_normal(record) for record in job.evaluation.records(lang)]
    for suffix in SUFFIXES:
        assert read_results(files[suffix], plan)[1] == expected, suffix
    types = {column.name: column.type for column in results_schema(plan, lang)}
    assert types["id"] == "int64"
    assert (types["features.products"], types["features.segment"], types["features.joined"]) == ("list<string>", "string", "date32")
    assert (types["features.per_visit"], types["features.tenure_days"], types["features.big"]) == ("double", "int64", "bool")
    assert types["features.active_contact"] == "date32"
    assert (types["allocation.cadence_days"], types["allocation.x_weight"]) == ("double", "double")  # 7 and 30.5
    assert (types["allocation.x_priority"], types["allocation.x_meta"]) == ("json", "json")  # 1 and "high"; an object
    assert (types["allocation.x_flags"], types["allocation.important"]) == ("list<string>", "bool")
    gold = read_results(files["parquet"], plan)[1][0]
    assert gold["features"]["products"] == ("pumps", "valves") and gold["features"]["joined"] == dt.date(2020, 3, 1)
    assert gold["allocation"] == {"rule": "gold", "cadence_days": 7, "x_priority": 1, "x_weight": 0.5,
                                  "x_meta": {"level": 2, "owner": "key"}, "x_flags": ["a", "b"], "important": True}
    assert type(gold["allocation"]["cadence_days"]) is int  # the plan's own value, not the column's 7.0
    assert results_schema(plan, lang).allocation_values()[-1]["allocation.x_priority"] == '"high"'


def test_overrides_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    customers = FIXTURES / "customers.csv"
    files = write_all(tmp_path, "pinned", FIXTURES / "pinned.yaml", customers, "--as-of", "2026-09-01")
    job, plan, lang, _ = evaluate(FIXTURES / "pinned.yaml", customers, "2026-09-01")
    expected = [json_normal(record) for record in job.evaluation.records(lang)]
    assert any("override" in outcome for record in expected for outcome in record["outcomes"].values())
    for suffix in SUFFIXES:
        assert read_results(files[suffix], plan)[1] == expected, suffix
    assert "outcomes.grade.override" in [column.name for column in results_schema(plan, lang)]


def test_records_of_no_plan_are_typed_by_their_values(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    records = [
        {"id": "a", "rank": 1, "features": {"x": 1.5, "d": dt.date(2026, 1, 2), "l": ("p", "q")},
         "outcomes": {"s": {"label": "A", "score": None, "tags": ["t"], "reasons": [{"text": "why"}]}},
         "allocation": {"rule": "r", "n": 3, "m": 1}},
        {"id": "b", "rank": 2, "features": {"x": 2, "d": None, "l": None},
         "outcomes": {"s": {"label": None, "score": 0.5, "tags": [], "reasons": []}},
         "allocation": {"rule": None, "n": 4, "m": "many"}},
    ]
    path = tmp_path / "plain.parquet"
    write_results(path, records, {"ruleset": "x"}, make_registry())
    types = {f.name: str(f.type) for f in pq.read_schema(path)}
    assert types == {
        "id": "string", "rank": "int64", "features.x": "double", "features.d": "date32[day]", "features.l": "list<element: string>",
        "outcomes.s.label": "string", "outcomes.s.score": "double", "outcomes.s.tags": "list<element: string>",
        "outcomes.s.reasons": "string", "allocation.rule": "string", "allocation.n": "int64", "allocation.m": "string",
    }
    rows = pq.read_table(path).to_pylist()
    assert rows[0]["outcomes.s.reasons"] == '[{"text":"why"}]' and rows[1]["allocation.m"] == '"many"'
    meta = json.loads(path.with_name("plain.parquet.meta.json").read_text(encoding="utf-8"))
    assert meta.pop("file")["bytes"] == path.stat().st_size and meta == {"ruleset": "x"}


def test_value_and_column_types():
    assert value_type([1, 2, None]) == "int64" and value_type([1, 2.5]) == "double" and value_type([True, None]) == "bool"
    assert value_type(["a", None]) == "string" and value_type([["a"], []]) == "list<string>" and value_type([None]) == "string"
    assert value_type([1, "a"]) == "json" and value_type([{"a": 1}]) == "json" and value_type([[1, 2]]) == "json"
    assert value_type([True, 1]) == "json"
    assert [column_type(t) for t in ("number", "integer", "boolean", "date", "string", "enum", "list", "any")] == [
        "double", "int64", "bool", "date32", "string", "string", "list<string>", "json"]


# -- printing from results files ---------------------------------------------------------------


PRINTS = ("brief.html", "report.html", "calls.html", "calls.csv")


def print_all(folder: Path, *source) -> Path:
    """A rep's briefs, the report and a rep's call list (HTML and CSV), printed from ``source``."""
    folder.mkdir()
    assert run_cli("brief", "b2b-manufacturing", *source, "--owner", OWNER, "-o", folder / "brief.html") == 0
    assert run_cli("report", "b2b-manufacturing", *source, "-o", folder / "report.html") == 0
    assert run_cli("calllist", "b2b-manufacturing", *source, "--owner", OWNER, "-o", folder / "calls.html") == 0
    assert run_cli("calllist", "b2b-manufacturing", *source, "--owner", OWNER, "-o", folder / "calls.csv") == 0
    return folder


@pytest.fixture(scope="module")
def printed_by_the_run(sample) -> Path:
    folder, *_ = sample
    return print_all(folder / "ran", EXAMPLE, "--as-of", AS_OF)


@pytest.mark.slow  # each command run on the sample data, from the run and from its file
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_brief_report_and_calllist_from_a_results_file_are_those_of_the_run(sample, printed_by_the_run, suffix):
    folder, files, _job, _plan, _lang = sample
    read = print_all(folder / f"read-{suffix}", "--results", files[suffix])
    for name in PRINTS:
        assert (read / name).read_bytes() == (printed_by_the_run / name).read_bytes(), name
    brief = html_of(read / "brief.html")
    assert brief.count('<article class="page brief') == 1 + 98 and "reasons-note" not in brief  # the owner's cover, then the pages
    assert "<svg" in html_of(read / "report.html").split('class="part matrix"')[1]  # the scatter, from the reasons


def _sections(page: Page, cls: str) -> list[str]:
    return [" ".join("".join(element["text"]).split()) for element in page.find(cls)]


def test_a_brief_without_reasons_says_so_and_keeps_everything_else(sample, tmp_path):
    _folder, files, _job, _plan, _lang = sample
    for lang, note in (("zh", "生成这些结果的 DuckDB 引擎未记录评级理由。"),
                       ("en", "Reasons were not recorded by the DuckDB engine that made these results.")):
        ran, read = tmp_path / f"ran-{lang}.html", tmp_path / f"read-{lang}.html"
        assert run_cli("brief", "b2b-manufacturing", EXAMPLE, "--as-of", AS_OF, "--lang", lang, "--customer", "C00590", "-o", ran) == 0
        assert run_cli("brief", "b2b-manufacturing", "--results", files["sql"], "--lang", lang, "--customer", "C00590", "-o", read) == 0
        full, bare = Page(html_of(ran)), Page(html_of(read))
        assert bare.text("reasons-note") == note and not full.find("reasons-note")
        assert _sections(full, "reasons") and all(text == "" for text in _sections(bare, "reasons"))
        assert not bare.find("contributions") and full.find("contributions")  # the bars are drawn from the reasons
        for cls in ("account", "chips", "allocation", "playbook", "run"):
            assert _sections(bare, cls) == _sections(full, cls), cls
        # the page with its reasons is longer and may keep only the facts the schemes read
        fields = [{e["attrs"]["data-field"] for e in page.find("fact")} for page in (full, bare)]
        assert fields[0] and fields[0] <= fields[1]
        why_full = [e for e in full.elements if e["tag"] == "h3"]
        why_bare = [e for e in bare.elements if e["tag"] == "h3"]
        assert ["".join(e["text"]) for e in why_bare] == ["".join(e["text"]) for e in why_full]  # verdicts and scores


def test_a_brief_in_another_language_than_the_file_leaves_the_reasons_out(sample, tmp_path):
    _folder, files, _job, _plan, _lang = sample
    out = tmp_path / "en.html"
    assert run_cli("brief", "b2b-manufacturing", "--results", files["jsonl"], "--lang", "en", "--customer", "C00590", "-o", out) == 0
    page = Page(html_of(out))
    assert page.text("reasons-note") == "Reasons were recorded in Chinese only; print with --lang zh to show them."
    assert page.text("chip", data_scheme="grade").endswith("A: key account")  # labels follow --lang all the same


def test_report_and_calllist_without_reasons(sample, printed_by_the_run):
    folder, files, _job, _plan, _lang = sample
    read = print_all(folder / "read-sql", "--results", files["sql"])
    ran, bare = html_of(printed_by_the_run / "report.html"), html_of(read / "report.html")
    scatter = re.compile(r'<figure class="chart">\s*<svg[^>]*aria-label="价值×潜力".*?</figure>', re.S)
    assert len(scatter.findall(ran)) == 1 and not scatter.findall(bare)  # the matrix's points come from the reasons
    assert scatter.sub("", ran) == bare  # everything else is the same
    for name in ("calls.html", "calls.csv"):  # a call list reads no reasons
        assert (read / name).read_bytes() == (printed_by_the_run / name).read_bytes(), name
    assert html_of(read / "brief.html").count('<p class="muted reasons-note">生成这些结果的 DuckDB 引擎未记录评级理由。</p>') == 98


def test_an_evaluation_from_a_results_file_is_the_plans_rows(sample):
    _folder, files, job, plan, lang = sample
    evaluation = read_evaluation(files["parquet"], plan)
    ran = job.evaluation
    assert evaluation.bound.as_of == dt.date(2026, 11, 1) and len(evaluation.rows) == len(ran.rows)
    for mine, theirs in zip(evaluation.ranked(), ran.ranked()):
        for scheme in plan.schemes:
            assert mine[scheme.slot.index][:3] == tuple(theirs[scheme.slot.index][:2]) + (tuple(theirs[scheme.slot.index][2]),)
        assert mine[plan.rank_slot.index] == theirs[plan.rank_slot.index]
        assert plan.allocation_index(mine) == plan.allocation_index(theirs)
        assert mine[:len(plan.fields)] == theirs[:len(plan.fields)]
    assert evaluation.missing_reasons(lang) is None and evaluation.missing_reasons("en") == ("language", "zh")
    assert read_evaluation(files["sql"], plan).missing_reasons(lang) == ("engine", "duckdb")


# -- errors ------------------------------------------------------------------------------------


def test_input_and_results_together_are_a_usage_error(sample, capsys):
    _folder, files, *_ = sample
    capsys.readouterr()
    assert run_cli("report", "b2b-manufacturing", EXAMPLE, "--results", files["jsonl"], "-o", "x.html") == 2
    assert capsys.readouterr().err == "tierkit: give INPUT or --results FILE, not both: the results are already evaluated\n"
    assert run_cli("brief", "b2b-manufacturing", "--orders", EXAMPLE, "--results", files["jsonl"], "--all", "-o", "x.html") == 2
    assert "give --orders or --results FILE, not both" in capsys.readouterr().err
    assert run_cli("calllist", "b2b-manufacturing", "--results", files["jsonl"], "--owner", OWNER, "--store", "runs.sqlite") == 2
    assert capsys.readouterr().err == "tierkit: --store is read when evaluating; --results FILE is already evaluated\n"
    assert run_cli("report", "b2b-manufacturing", "-o", "x.html") == 2
    assert capsys.readouterr().err == "tierkit: nothing to evaluate: give a customer file, --orders ORDERS, both, or --results FILE\n"


def test_results_of_another_ruleset_or_version_are_refused(sample, tmp_path, capsys):
    _folder, files, *_ = sample
    capsys.readouterr()
    assert run_cli("report", "saas-enterprise", "--results", files["parquet"], "-o", tmp_path / "x.html") == 2
    assert capsys.readouterr().err == f"tierkit: {files['parquet']}: these are results of ruleset 'b2b-manufacturing', not 'saas-enterprise'\n"
    changed = tmp_path / "changed.jsonl"
    lines = files["jsonl"].read_text(encoding="utf-8").splitlines(keepends=True)
    meta = json.loads(lines[0])
    meta["meta"]["fingerprint"] = "sha256:" + "0" * 64
    changed.write_text(json.dumps(meta) + "\n" + "".join(lines[1:]), encoding="utf-8")
    assert run_cli("brief", "b2b-manufacturing", "--results", changed, "--all", "-o", tmp_path / "x.html") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tierkit: {changed}: these results were made with another version of 'b2b-manufacturing' "
                          "(fingerprint 000000000000, 1.0.0; the ruleset's is ")
    assert err.endswith("(evaluate again, or give the ruleset the results were made with)\n") and err.count("\n") == 1
    assert not (tmp_path / "x.html").exists()


def test_unknown_suffix_missing_meta_and_another_date_are_one_line_errors(sample, tmp_path, capsys):
    _folder, files, *_ = sample
    capsys.readouterr()
    other = tmp_path / "results.xlsx"
    other.write_bytes(b"")
    assert run_cli("report", "b2b-manufacturing", "--results", other, "-o", tmp_path / "x.html") == 2
    assert capsys.readouterr().err == (f"tierkit: {other}: no results reader for '.xlsx' files "
                                       "(known extensions: .csv, .jsonl, .ndjson, .parquet)\n")
    alone = tmp_path / "alone.csv"
    alone.write_bytes(files["csv"].read_bytes())
    assert run_cli("report", "b2b-manufacturing", "--results", alone, "-o", tmp_path / "x.html") == 2
    assert capsys.readouterr().err == (f"tierkit: {alone}: no alone.csv.meta.json beside it: a results file's meta "
                                       "(ruleset, as-of date, language) is kept there\n")
    assert run_cli("calllist", "b2b-manufacturing", "--results", files["jsonl"], "--owner", OWNER, "--as-of", "2026-11-02") == 2
    assert capsys.readouterr().err == (f"tierkit: --results {files['jsonl']} holds results as of 2026-11-01, not 2026-11-02: "
                                       "evaluate again for another date\n")
    assert run_cli("calllist", "b2b-manufacturing", "--results", files["jsonl"], "--owner", OWNER, "--as-of", AS_OF) == 0


def test_without_pyarrow_parquet_is_a_one_line_error(sample, tmp_path, monkeypatch, capsys):
    _folder, files, *_ = sample
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    capsys.readouterr()
    out = tmp_path / "results.parquet"
    assert run_cli("evaluate", "b2b-manufacturing", EXAMPLE, "--as-of", AS_OF, "-o", out) == 2
    assert capsys.readouterr().err == "tierkit: Parquet files need pyarrow: pip install 'tierkit[duckdb]'\n"
    assert not out.exists()
    assert run_cli("report", "b2b-manufacturing", "--results", files["parquet"], "-o", tmp_path / "x.html") == 2
    assert capsys.readouterr().err == "tierkit: Parquet files need pyarrow: pip install 'tierkit[duckdb]'\n"


def test_the_schema_is_what_the_sql_engines_are_told_to_write(sample):
    _folder, _files, _job, plan, lang = sample
    with_reasons, without = results_schema(plan, lang), results_schema(plan, lang, reasons=False)
    assert [c.name for c in with_reasons if not c.name.endswith(".reasons")] == [c.name for c in without]
    assert isinstance(without, ResultsSchema) and without.reasons is False
    values = without.allocation_values()
    assert set(values) == set(plan.plans) | {None}
    assert values[None] == dict.fromkeys((c.name for c in without.allocation), None)
    strategic = next(index for index, rule in plan.allocation_rule_ids.items() if rule == "strategic")
    assert values[strategic]["allocation.rule"] == "strategic" and values[strategic]["allocation.cadence_days"] == 14
