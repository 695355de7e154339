"""Real client exports (tests/data/exports, written by make_exports.py the way the
client's tools write them) give the expected counts and outcomes on every engine."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tierkit.cli import main

from tests.conftest import TIERKIT
from tests.conftest import TESTS

EXPORTS = TESTS / "data" / "exports"


def base_beside(folder: Path, name: str) -> str:
    """The export rulesets (and the lookup table they read) copied into ``folder``, for a
    ruleset there to extend ``name`` (``extends`` reaches no further than its own folder)."""
    for source in [*EXPORTS.glob("*.yaml"), EXPORTS / "city_tier.csv"]:
        shutil.copy(source, folder / source.name)
    return name
AS_OF = "2026-11-01"
ENGINES = ["python", "duckdb"]


def evaluate(capsys, tmp_path: Path, ruleset: str, *inputs, engine: str = "python", expect: int = 0):
    """The records (without meta), the meta and stderr of one ``evaluate`` run."""
    if engine != "python":
        pytest.importorskip("duckdb")
    output = tmp_path / f"out-{engine}-{len(list(tmp_path.iterdir()))}.jsonl"
    code = main(["evaluate", str(EXPORTS / ruleset), *map(str, inputs), "--as-of", AS_OF, "--engine", engine,
                 "-o", str(output), "--no-progress"])
    err = capsys.readouterr().err
    assert code == expect, err
    if code:
        return None, None, err
    meta, *records = (json.loads(line) for line in output.read_text(encoding="utf-8").splitlines())
    return records, meta["meta"], err


def outcomes(records: list[dict]) -> dict[str, tuple]:
    """What must not depend on the engine or the file format: inputs, labels, tags, rank."""
    return {
        record["id"]: (
            record["features"],
            {scheme: (outcome["label"], outcome["score"], outcome["tags"]) for scheme, outcome in record["outcomes"].items()},
            record["rank"],
        )
        for record in records
    }


def utf8_copy(tmp_path: Path, name: str) -> Path:
    """A GB18030 export saved again as UTF-8, which the SQL engines read themselves."""
    path = tmp_path / name
    path.write_text((EXPORTS / name).read_text(encoding="gb18030"), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- dates and percent cells

CRM_TAGS = {
    "C001": ["young", "visited", "state_owned"],  # founded 2026-03-05 as a date cell; 国有企业
    "C002": ["established", "state_owned"],  # 2019-11-30 as a serial with format id 14
    "C003": ["high_margin", "visited"],  # 2024-02-29 as a serial with the Chinese built-in id 31
    "C004": ["established"],  # its second row (capital 2,000万) replaces its first (80万)
    "C005": ["young", "high_margin"],  # 2025-12-31 as typed text
    "C006": ["established", "visited", "state_owned"],  # '国有企业 '; visited 30 days before the as-of date
    "C007": ["young", "visited"],  # capital 待定: missing
    "C008": ["established"],
    "C009": ["high_margin"],
    "C010": ["state_owned"],  # no founding date
}
OWNERSHIP = {"C001": "国企", "C002": "国企", "C003": "民企", "C004": "民企", "C005": "外企", "C006": "国企",
             "C007": "民企", "C008": "外企", "C009": "民企", "C010": "国企"}


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_date_cells_serials_and_percent_cells_read_as_the_csv_export(capsys, tmp_path, engine):
    xlsx, meta, _ = evaluate(capsys, tmp_path, "crm.yaml", EXPORTS / "crm_accounts.xlsx", engine=engine)
    assert (meta["read"], meta["evaluated"], meta["rejected"], meta["duplicates"]) == (11, 10, 0, 1)
    by_id = outcomes(xlsx)
    assert {key: value[1]["profile"][2] for key, value in by_id.items()} == CRM_TAGS
    features = by_id["C003"][0]
    assert features["founded"] == "2024-02-29" and features["margin"] == 22.0 and features["last_visit"] == "2026-10-31"
    assert by_id["C004"][0]["margin"] == 4.25
    gb18030, _, _ = evaluate(capsys, tmp_path, "crm.yaml", EXPORTS / "crm_accounts.csv", engine=engine)
    assert outcomes(gb18030) == by_id


def test_text_dates_in_every_common_form_read_alike_on_the_sql_engine(capsys, tmp_path):
    utf8 = utf8_copy(tmp_path, "crm_accounts.csv")
    python, _, _ = evaluate(capsys, tmp_path, "crm.yaml", EXPORTS / "crm_accounts.xlsx")
    duckdb, meta, _ = evaluate(capsys, tmp_path, "crm.yaml", utf8, engine="duckdb")
    assert meta["rejected"] == 0
    assert outcomes(duckdb) == outcomes(python)


# ---------------------------------------------------------------------------- synonyms, bad values, duplicate ids


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("export", ["crm_accounts.xlsx", "crm_accounts.csv", "utf-8"])
def test_synonyms_read_as_canonical_values_and_unreadable_values_as_missing(capsys, tmp_path, engine, export):
    path = utf8_copy(tmp_path, "crm_accounts.csv") if export == "utf-8" else EXPORTS / export
    records, meta, err = evaluate(capsys, tmp_path, "crm.yaml", path, engine=engine)
    assert {record["id"]: record["features"]["ownership"] for record in records} == OWNERSHIP
    assert next(r for r in records if r["id"] == "C007")["features"]["capital"] is None
    assert meta["coerced_to_missing"] == 1 and meta["rejected"] == 0
    assert f"coerced to missing: {path}:8: column '注册资本' (field capital): '待定' is not a number" in err
    assert "read 11 · evaluated 10 · rejected 0 · duplicate ids 1 (last kept) · coerced to missing 1 · " in err


@pytest.mark.parametrize("engine", ENGINES)
def test_by_default_a_repeated_id_and_an_unreadable_value_reject_the_row(capsys, tmp_path, engine):
    rejected = tmp_path / "rejected.csv"
    records, meta, err = evaluate(capsys, tmp_path, "crm-strict.yaml", EXPORTS / "crm_accounts.csv", "--rejected", rejected,
                                  engine=engine)
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (11, 9, 2)
    assert "duplicates" not in meta and "coerced_to_missing" not in meta
    assert rejected.read_text(encoding="utf-8-sig").splitlines()[1:] == [
        f"customers,{EXPORTS / 'crm_accounts.csv'},8,注册资本,capital,'待定' is not a number",
        f"customers,{EXPORTS / 'crm_accounts.csv'},12,,id,duplicate id 'C004' (first at row 5)",
    ]
    assert next(r for r in records if r["id"] == "C004")["features"]["capital"] == 800_000


@pytest.mark.parametrize("engine", ENGINES)
def test_duplicates_first_keeps_the_first_row_of_an_id(capsys, tmp_path, engine):
    ruleset = tmp_path / "first.yaml"
    ruleset.write_text(f"extends: {base_beside(tmp_path, 'crm.yaml')}\nname: crm-first\nduplicates: first\n", encoding="utf-8")
    records, meta, err = evaluate(capsys, tmp_path, ruleset, EXPORTS / "crm_accounts.csv", engine=engine)
    assert (meta["read"], meta["evaluated"], meta["rejected"], meta["duplicates"]) == (11, 10, 0, 1)
    c004 = next(r for r in records if r["id"] == "C004")
    assert c004["features"]["name"] == "西部物流" and c004["outcomes"]["profile"]["tags"] == []
    assert "duplicate ids 1 (first kept)" in err


def test_a_synonym_must_name_one_of_the_enum_values(capsys, tmp_path):
    ruleset = tmp_path / "bad.yaml"
    ruleset.write_text(
        "tierkit: 1\nname: bad\nversion: '1'\nfields:\n  id: {type: string}\n"
        "  ownership: {type: enum, values: [国企, 民企], synonyms: {国有企业: 国营}}\n"
        "schemes:\n  - {id: t, kind: rules, rules: [{id: a, when: 'true'}]}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(ruleset)]) == 1
    assert "bad.yaml:6:62: synonym '国有企业' of field 'ownership' names '国营', which is not one of its values" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the ERP's order export

ORDER_COUNTS = {"read": 17, "used": 11, "after_as_of": 1, "unknown_customer": 1, "rejected": 1, "excluded": 3,
                "duplicate_rows": 1, "zero_amount": 1, "negative_amount": 1, "of_rejected_accounts": 0}
# customer -> (order_count with orders.count: days, revenue, overdue_amount)
ORDER_FEATURES = {
    "C001": (2, 20000.0, 8000.0),
    "C002": (1, 30000.0, 0.0),  # the cancelled order and the line exported twice left out
    "C003": (1, 5000.0, 0.0),  # a free sample and an order on one day: one purchase
    "C004": (1, 13000.0, 0.0),  # refund left out; a credit note of -2,000 and an order on one day
    "C006": (1, 42000.0, 30000.0),  # the unreadable amount rejected
    "C007": (1, 3500.0, 0.0),  # the test order left out
}


def order_file(tmp_path: Path, export: str) -> Path:
    return utf8_copy(tmp_path, "erp_orders.csv") if export == "utf-8" else EXPORTS / export


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("export", ["erp_orders.xlsx", "erp_orders.csv", "utf-8"])
def test_order_filter_duplicate_lines_and_purchase_days(capsys, tmp_path, engine, export):
    orders = order_file(tmp_path, export)
    records, meta, err = evaluate(capsys, tmp_path, "crm-orders.yaml", EXPORTS / "crm_accounts.csv", "--orders", orders,
                                  engine=engine)
    assert {key: value for key, value in meta["orders"].items() if key != "file"} == ORDER_COUNTS
    assert (
        "orders: read 17 · used 11 · after as-of 1 · unknown customer 1 · rejected 1 · excluded by orders.where 3"
        " · duplicate rows dropped 1 · zero amount used 1 · negative amount used 1"
    ) in err
    features = {r["id"]: (r["features"]["order_count"], r["features"]["revenue"], r["features"]["overdue_amount"])
                for r in records if r["features"]["order_count"]}
    assert features == ORDER_FEATURES
    tags = {r["id"]: r["outcomes"]["buying"]["tags"] for r in records if r["outcomes"]["buying"]["tags"]}
    assert tags == {"C001": ["repeat", "overdue"], "C006": ["overdue"]}


@pytest.mark.parametrize("engine", ENGINES)
def test_orders_count_orders_counts_every_row(capsys, tmp_path, engine):
    ruleset = tmp_path / "rows.yaml"
    ruleset.write_text(f"extends: {base_beside(tmp_path, 'crm-orders.yaml')}\nname: crm-order-rows\norders: {{count: orders}}\n",
                       encoding="utf-8")
    records, _, _ = evaluate(capsys, tmp_path, ruleset, EXPORTS / "crm_accounts.csv", "--orders",
                             EXPORTS / "erp_orders.csv", engine=engine)
    counts = {r["id"]: r["features"]["order_count"] for r in records if r["features"]["order_count"]}
    assert counts == {"C001": 2, "C002": 1, "C003": 2, "C004": 2, "C006": 2, "C007": 1}
    assert next(r for r in records if r["id"] == "C004")["features"]["avg_order_value"] == 6500.0


def tierkit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*TIERKIT, *map(str, args)], capture_output=True, text=True, encoding="utf-8")


def refused(capsys, *args) -> tuple[int, list[str]]:
    """The exit code and stderr's lines of ``tierkit evaluate ARGS`` run in this process
    (``main`` is what the command runs; the test above runs the command itself)."""
    code = main(["evaluate", *map(str, args)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_ruleset_with_orders_needs_the_order_file(engine):
    if engine != "python":
        pytest.importorskip("duckdb")
    done = tierkit("evaluate", EXPORTS / "crm-orders.yaml", EXPORTS / "crm_accounts.csv", "--as-of", AS_OF, "--engine", engine)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tierkit: ruleset 'crm-orders' reads order history (orders:), but no order file was given: add --orders ORDERS"
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_order_feature_needs_its_columns(capsys, tmp_path, engine):
    if engine != "python":
        pytest.importorskip("duckdb")
    orders = tmp_path / "orders.csv"
    orders.write_text("客户编号,下单日期,订单金额,订单状态\nC001,2026-09-01,100,已完成\n", encoding="utf-8")
    code, err = refused(capsys, EXPORTS / "crm-orders.yaml", EXPORTS / "crm_accounts.csv", "--orders", orders,
                        "--as-of", AS_OF, "--engine", engine)
    assert code == 2
    assert err == [
        f"tierkit: {orders}: order feature 'overdue_amount' needs order columns paid_amount, due_date; "
        "found customer_id, order_date, amount (headers: 客户编号, 下单日期, 订单金额, 订单状态) "
        "(name their headers under orders.columns, or drop the feature from the ruleset)"
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_file_is_one_line_on_every_engine(capsys, tmp_path, engine):
    """The SQL engines read files themselves; a path that is no file is still worded
    as tierkit's readers word it, never an internal error."""
    if engine != "python":
        pytest.importorskip("duckdb")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    for missing, says in ((tmp_path / "nothere.csv", "file not found"), (folder, "not a file")):
        for ruleset, inputs in (("crm.yaml", (missing,)), ("crm-orders.yaml", (EXPORTS / "crm_accounts.csv", "--orders", missing))):
            code, err = refused(capsys, EXPORTS / ruleset, *inputs, "--as-of", AS_OF, "--engine", engine)
            assert (code, err) == (2, [f"tierkit: {missing}: {says}"]), inputs


@pytest.mark.parametrize("engine", ENGINES)
def test_an_order_export_of_a_period_without_orders(capsys, tmp_path, engine):
    """The ERP's export with its header row and no orders: every account evaluated with
    no orders, on every engine (not an order feature said to lack its columns)."""
    orders = tmp_path / "erp_orders.csv"
    orders.write_text((EXPORTS / "erp_orders.csv").read_text(encoding="gb18030").splitlines()[0] + "\n", encoding="utf-8")
    records, meta, err = evaluate(capsys, tmp_path, "crm-orders.yaml", EXPORTS / "crm_accounts.csv", "--orders", orders, engine=engine)
    assert "orders: read 0 · used 0 · after as-of 0 · unknown customer 0 · rejected 0 · excluded by orders.where 0" in err
    assert len(records) == 10 and {record["features"]["order_count"] for record in records} == {0}
    assert {record["features"]["overdue_amount"] for record in records} == {None}


def test_orders_where_is_checked_when_the_ruleset_is_validated(capsys, tmp_path):
    ruleset = tmp_path / "bad.yaml"
    ruleset.write_text(f"extends: {base_beside(tmp_path, 'crm-orders.yaml')}\nname: bad\norders: {{where: 'amount + 1'}}\n", encoding="utf-8")
    assert main(["validate", str(ruleset)]) == 1
    assert "orders.where must be a condition, not a number" in capsys.readouterr().out


# ---------------------------------------------------------------------------- counting rejected rows


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("export", ["erp_orders.xlsx", "utf-8"])
def test_orders_of_a_rejected_account_are_counted_as_such_and_the_counts_equal_the_files_rows(capsys, tmp_path, engine, export):
    ruleset = tmp_path / "strict.yaml"
    ruleset.write_text(f"extends: {base_beside(tmp_path, 'crm-orders.yaml')}\nname: crm-orders-strict\nduplicates: reject\n"
                       "fields:\n  capital: {type: number, aliases: [注册资本]}\n", encoding="utf-8")
    rejected = tmp_path / "rejected.csv"
    customers = utf8_copy(tmp_path, "crm_accounts.csv") if export == "utf-8" else EXPORTS / "crm_accounts.xlsx"
    records, meta, err = evaluate(capsys, tmp_path, ruleset, customers, "--orders", order_file(tmp_path, export),
                                  "--rejected", rejected, engine=engine)
    assert meta["rejected"] == 2 and meta["orders"]["of_rejected_accounts"] == 1  # C007's order
    assert meta["orders"]["unknown_customer"] == 1  # C999 only
    assert "· unknown customer 1 · rejected 1 · orders of rejected accounts: 1 ·" in err
    with open(rejected, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tables = [row["table"] for row in rows]
    assert tables.count("customers") == meta["rejected"] == 2
    assert tables.count("orders") == meta["orders"]["rejected"] + meta["orders"]["unknown_customer"] == 2
    assert f"rejected rows in {rejected}: 2 customers · 2 orders" in err
    assert [row["reason"] for row in rows if row["table"] == "orders"] == [
        "'abc' is not a number", f"customer 'C999' is not in {customers} (1 order)"
    ]


def test_explain_of_a_rejected_account_prints_its_rejection(capsys):
    code = main(["explain", str(EXPORTS / "crm-strict.yaml"), str(EXPORTS / "crm_accounts.csv"), "--customer", "C007",
                 "--as-of", AS_OF])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"tierkit: customer 'C007' was rejected: {EXPORTS / 'crm_accounts.csv'}:8: column '注册资本' (field capital): "
        "'待定' is not a number"
    )


# ---------------------------------------------------------------------------- lookup tables

TIERS = {"C001": 1.0, "C002": 1.0, "C003": 3.0, "C004": 2.0, "C005": 2.0, "C006": 1.0, "C007": 1.0, "C008": 2.0,
         "C009": None, "C010": 1.0}  # 青海 is not in the client's table: missing


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("export", ["crm_accounts.xlsx", "utf-8"])
def test_lookup_tables_from_a_file_and_inline(capsys, tmp_path, engine, export):
    path = utf8_copy(tmp_path, "crm_accounts.csv") if export == "utf-8" else EXPORTS / export
    records, _, _ = evaluate(capsys, tmp_path, "crm-lookups.yaml", path, engine=engine)
    by_id = {r["id"]: r for r in records}
    assert {key: r["features"]["tier"] for key, r in by_id.items()} == TIERS
    assert {key: r["outcomes"]["market"]["label"] for key, r in by_id.items()} == {
        key: {1.0: "tier1", 2.0: "tier2"}.get(tier, "other") for key, tier in TIERS.items()
    }
    assert by_id["C001"]["features"]["weighted_margin"] == pytest.approx(15.3 * 1.2)  # 国有企业 → 国企 → 1.2
    assert by_id["C009"]["features"]["weighted_margin"] == 27.5  # Private → 民企 → 1


def test_lookup_must_name_a_declared_table(capsys, tmp_path):
    ruleset = tmp_path / "bad.yaml"
    ruleset.write_text(f"extends: {base_beside(tmp_path, 'crm-lookups.yaml')}\nname: bad\nderive:\n  tier: \"lookup('city_tiers', province)\"\n",
                       encoding="utf-8")
    assert main(["validate", str(ruleset)]) == 1
    assert "no lookup table 'city_tiers' (did you mean 'city_tier'?) (tables: city_tier, ownership_weight)" in capsys.readouterr().out
    ruleset.write_text(f"extends: {base_beside(tmp_path, 'crm-lookups.yaml')}\nname: bad\nderive:\n  tier: \"lookup(province, province)\"\n",
                       encoding="utf-8")
    assert main(["validate", str(ruleset)]) == 1
    assert "lookup(...) must name a lookup table as text (tables: city_tier, ownership_weight)" in capsys.readouterr().out


# ---------------------------------------------------------------------------- a point-of-sale log: RFM where most buy once

def pos_lines() -> list[dict]:
    with open(EXPORTS / "pos_receipts.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def pos_revenue() -> dict[str, float]:
    """Each member's spend from the file itself, in exact decimals: voided receipts out,
    refunds in."""
    totals: dict[str, Decimal] = {}
    for line in pos_lines():
        if line["状态"] != "作废":
            totals[line["会员卡号"]] = totals.get(line["会员卡号"], Decimal(0)) + Decimal(line["金额"])
    return {member: float(total) for member, total in totals.items()}


def test_the_pos_log_is_what_a_store_exports():
    lines = pos_lines()
    assert (EXPORTS / "pos_receipts.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    assert (EXPORTS / "pos_receipts.csv").read_bytes().count(b"\r\n") == len(lines) + 1
    assert len(lines) == 1161 and len({line["小票号"] for line in lines}) == 464  # several lines per receipt
    assert [line["状态"] for line in lines if line["状态"] != "正常"] == ["退货", "作废"]
    days = {}
    for line in lines:
        days.setdefault(line["会员卡号"], set()).add(line["交易时间"][:10])
    assert len(days) == 200 and sum(len(seen) == 1 for seen in days.values()) == 140  # 70% came once


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_by_quintile_on_a_pos_log_warns_that_ties_collapse_f(capsys, tmp_path, engine):
    records, meta, err = evaluate(capsys, tmp_path, "pos-rfm.yaml", "--orders", EXPORTS / "pos_receipts.csv", engine=engine)
    assert (meta["read"], meta["evaluated"], meta["rejected"]) == (200, 200, 0)
    assert {key: value for key, value in meta["orders"].items() if key != "file"} == {
        "read": 1161, "used": 1160, "after_as_of": 0, "unknown_customer": 0, "rejected": 0, "excluded": 1,
        "duplicate_rows": 0, "zero_amount": 0, "negative_amount": 1, "of_rejected_accounts": 0}
    assert f"{EXPORTS / 'pos-rfm.yaml'}:19:5: warning: rfm: ties put 70% of the customers (140 of 200) in F 2: frequency " \
           "(order_count) by quintile tells them apart little (score it by cut points: bins: {frequency: fixed} with " \
           "cuts: {frequency: [...]}; one_time: true sets single buyers apart)" in err.splitlines()
    assert err.count("warning:") == 1  # recency and spend are spread enough
    labels = Counter(r["outcomes"]["rfm"]["label"] for r in records)
    assert labels == {"potential_loyalist": 39, "loyal": 34, "at_risk": 33, "lost": 26, "champions": 21, "hibernating": 19,
                      "need_attention": 14, "about_to_sleep": 12, "cant_lose": 2}  # no F 1: no new_customers, no promising
    by_id = {r["id"]: r for r in records}
    assert by_id["V0150"]["features"]["order_count"] == 4  # two receipts on one day: one purchase (orders.count: days)
    assert by_id["V0150"]["outcomes"]["rfm"]["label"] == "loyal"  # though silent for 200 days


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_by_cut_points_on_a_pos_log_sets_one_time_buyers_apart_without_warning(capsys, tmp_path, engine):
    records, meta, err = evaluate(capsys, tmp_path, "pos-rfm-fixed.yaml", "--orders", EXPORTS / "pos_receipts.csv",
                                  engine=engine)
    assert "warning" not in err and meta["evaluated"] == 200
    labels = Counter(r["outcomes"]["rfm"]["label"] for r in records)
    assert labels == {"one_time": 140, "loyal": 25, "at_risk": 13, "champions": 11, "need_attention": 6, "cant_lose": 2,
                      "lost": 2, "potential_loyalist": 1}
    by_id = {r["id"]: r for r in records}
    assert by_id["V0001"]["outcomes"]["rfm"]["display"] == "一次性客户"
    assert (by_id["V0150"]["outcomes"]["rfm"]["label"], by_id["V0150"]["outcomes"]["rfm"]["score"]) == ("at_risk", 8)
    silent = Counter(r["outcomes"]["rfm"]["label"] for r in records if r["features"]["recency_days"] > 365)
    assert silent == {"one_time": 55, "at_risk": 2, "lost": 2}  # R 1: none champions, loyal or needing attention


@pytest.mark.parametrize("engine", ENGINES)
def test_pos_spend_is_summed_exactly_so_equal_baskets_tie(capsys, tmp_path, engine):
    records, _, _ = evaluate(capsys, tmp_path, "pos-rfm-fixed.yaml", "--orders", EXPORTS / "pos_receipts.csv", engine=engine)
    revenue = {r["id"]: r["features"]["revenue"] for r in records}
    assert revenue == pos_revenue()  # every member, to the last bit: voided receipt out, refund in
    assert revenue["V0001"] == revenue["V0002"] == 27.1  # 19.90 + 7.20 and 27.10
    assert 19.9 + 7.2 == 27.099999999999998  # as doubles add them
