"""The sample-data generator and the two reference evaluators used by the benchmark."""

import csv
import datetime
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
B2B_DIR = ROOT / "examples" / "b2b-manufacturing"
AS_OF = datetime.date(2026, 11, 1)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generate = _load("tierkit_examples_generate", ROOT / "examples" / "generate.py")
handwritten = _load("tierkit_bench_handwritten", ROOT / "benchmarks" / "handwritten.py")


def read_b2b(path):
    """Read the plain sample CSV back into typed customers."""
    def number(text):
        return float(text) if text else None

    def integer(text):
        return int(text) if text else None

    def day(text):
        return datetime.date.fromisoformat(text) if text else None

    with open(path, encoding="utf-8-sig", newline="") as f:
        return [{
            "id": row["id"],
            "name": row["name"],
            "owner": row["owner"] or None,
            "industry": row["industry"],
            "region": row["region"],
            "annual_procurement": float(row["annual_procurement"]),
            "our_revenue_12m": float(row["our_revenue_12m"]),
            "gross_margin_pct": number(row["gross_margin_pct"]),
            "fortune500": {"true": True, "false": False}[row["fortune500"]],
            "industry_leader": {"true": True, "false": False}[row["industry_leader"]],
            "employees": integer(row["employees"]),
            "last_order_date": day(row["last_order_date"]),
            "first_order_date": day(row["first_order_date"]),
            "order_count": int(row["order_count"]),
            "revenue_prev_12m": float(row["revenue_prev_12m"]),
            "created_date": day(row["created_date"]),
            "influence": integer(row["influence"]),
            "satisfaction": integer(row["satisfaction"]),
            "cooperation": integer(row["cooperation"]),
            "complaints_90d": int(row["complaints_90d"]),
            "competitor_contact": {"true": True, "false": False}[row["competitor_contact"]],
            "nail_reason": row["nail_reason"] or None,
        } for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def sample():
    return read_b2b(B2B_DIR / "customers.csv")


# --------------------------------------------------------------------------- generator


def test_regenerating_gives_the_committed_bytes(tmp_path, capsys):
    generate.main(["--out", str(tmp_path)])
    written = sorted(p.relative_to(tmp_path) for p in (tmp_path / "b2b-manufacturing").rglob("*")
                     if p.is_file())
    assert written == [Path("b2b-manufacturing/customers-zh.csv"),
                       Path("b2b-manufacturing/customers.csv")]
    for relative in written:
        committed = ROOT / "examples" / relative
        assert (tmp_path / relative).read_bytes() == committed.read_bytes(), relative


def test_same_seed_same_customers():
    assert generate.generate_b2b(200, 7) == generate.generate_b2b(200, 7)
    assert generate.generate_b2b(200, 7) != generate.generate_b2b(200, 8)


def test_committed_csv_reads_back_as_generated(sample):
    assert sample == generate.generate_b2b(600, generate.SEED)


def test_committed_csv_layout():
    raw = (B2B_DIR / "customers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(generate.B2B_COLUMNS)
    assert len(lines) == 601


def test_sample_looks_like_an_account_list(sample):
    assert [c["id"] for c in sample] == [f"C{i:05d}" for i in range(1, 601)]
    assert len({c["name"] for c in sample}) == 600
    assert set(c["industry"] for c in sample) == set(generate.INDUSTRIES)
    assert set(c["owner"] for c in sample) - {None} == set(generate.OWNERS)
    procurement = [c["annual_procurement"] for c in sample]
    assert 1e6 <= min(procurement) and max(procurement) <= 5e10
    assert 3 <= sum(p >= 1e10 for p in procurement) <= 6
    english = sum(c["name"].isascii() for c in sample) / 600
    assert 0.2 < english < 0.4
    assert 0.05 < sum(c["gross_margin_pct"] is None for c in sample) / 600 < 0.12
    assert 0.10 < sum(c["our_revenue_12m"] == 0 for c in sample) / 600 < 0.20
    assert 0.01 < sum(c["fortune500"] for c in sample) / 600 < 0.06
    dates = [c["last_order_date"] for c in sample if c["last_order_date"]]
    assert len(dates) < 600
    assert datetime.date(2024, 1, 1) <= min(dates) and max(dates) < AS_OF
    assert any((AS_OF - d).days > 365 for d in dates)  # some dormant accounts
    margins = [c["gross_margin_pct"] for c in sample if c["gross_margin_pct"] is not None]
    assert 3 <= min(margins) and max(margins) <= 45


def test_order_history_roll_ups_are_consistent(sample):
    for c in sample:
        first, last, count = c["first_order_date"], c["last_order_date"], c["order_count"]
        assert (first is None) == (last is None) == (count == 0), c["id"]
        assert c["created_date"] is not None and c["created_date"] < AS_OF
        if last is None:
            assert c["revenue_prev_12m"] == 0 and c["satisfaction"] is None
            assert c["complaints_90d"] == 0 and not c["competitor_contact"]
            continue
        assert c["created_date"] <= first <= last < AS_OF, c["id"]
        assert (count == 1) <= (first == last), c["id"]
        if (AS_OF - first).days <= 365 or (AS_OF - last).days > 730:
            assert c["revenue_prev_12m"] == 0, c["id"]  # no order in the previous 12 months
        elif (AS_OF - last).days > 365:
            assert c["revenue_prev_12m"] > 0 and c["our_revenue_12m"] == 0, c["id"]
        else:
            assert c["revenue_prev_12m"] > 0 and c["our_revenue_12m"] > 0, c["id"]
    for key in ("influence", "satisfaction", "cooperation"):
        values = [c[key] for c in sample if c[key] is not None]
        assert 0 <= min(values) and max(values) <= 100
    assert {c["nail_reason"] for c in sample} == {None, *generate.NAIL_REASONS}


def test_sample_mixes_every_lifecycle_stage(sample):
    stages = [handwritten.lifecycle_stage(c["first_order_date"], c["last_order_date"],
                                          c["order_count"], AS_OF) for c in sample]
    shares = {stage: stages.count(stage) / len(stages) for stage in set(stages)}
    assert set(shares) == {"potential", "new", "active", "dormant", "lost"}
    assert 0.5 < shares["active"] < 0.7 and 0.1 < shares["dormant"] < 0.25
    assert 0.05 < shares["new"] < 0.15 and 0.02 < shares["lost"] < 0.08


def test_chinese_export(sample):
    with open(B2B_DIR / "customers-zh.csv", encoding="gb18030", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == generate.B2B_COLUMNS_ZH
    body = rows[1:]
    assert [r[0] for r in body] == [c["id"] for c in sample[:50]]
    assert [r[1] for r in body] == [c["name"] for c in sample[:50]]
    assert {r[8] for r in body} | {r[9] for r in body} <= {"是", "否"}
    first = sample[0]
    assert body[0][5] == f"{int(first['annual_procurement']):,}"
    assert "," in body[0][5]
    assert (B2B_DIR / "customers-zh.csv").read_bytes().count(b"\r\n") == 51


# --------------------------------------------------------------------------- evaluators


def _same(got, expected):
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    for g, e in zip(got, expected):
        assert {k: g[k] for k in ("track", "grade", "rank", "allocation")} == \
            {k: e[k] for k in ("track", "grade", "rank", "allocation")}, g["id"]
        if e["score"] is None:
            assert g["score"] is None, g["id"]
        else:
            assert g["score"] == pytest.approx(e["score"], abs=1e-9), g["id"]


def test_handwritten_numbers_match_the_ruleset_file():
    grade = next(s for s in handwritten.load_ruleset()["schemes"] if s["id"] == "grade")
    assert [i["weight"] for i in grade["indicators"]] == [
        handwritten.W_SCALE, handwritten.W_PROFIT, handwritten.W_STANDING,
        handwritten.W_RELATION]
    assert {g["id"]: g["min"] for g in grade["grades"]} == handwritten.GRADE_MIN
    assert list(handwritten.GRADE_MIN) == ["S", "A", "B", "C", "D"]
    indicators = {i["id"]: i for i in grade["indicators"]}
    assert [(float(b["min"]), b["points"]) for b in indicators["purchase_scale"]["bins"]] == \
        [(1e10, 100), (1e9, 80), (1e8, 60), (1e7, 35), (0.0, 10)]
    assert indicators["profit_room"]["linear"] == {"from": 5, "to": 40}
    assert indicators["relationship"]["linear"] == {"from": 0, "to": 0.3}
    assert grade["missing"] == {"tolerance": 1}
    assert [p["when"] for p in grade["promote"]] == ["annual_procurement >= 1.0e10"]


def test_handwritten_lifecycle_and_portfolio_match_the_ruleset_file():
    schemes = {s["id"]: s for s in handwritten.load_ruleset()["schemes"]}
    lifecycle = schemes["lifecycle"]
    assert (lifecycle["new_days"], lifecycle["dormant_days"], lifecycle["lost_days"]) == \
        (handwritten.NEW_DAYS, handwritten.DORMANT_DAYS, handwritten.LOST_DAYS)
    nail = schemes["portfolio"]["nail"]
    assert float(nail["value_cut"]) == handwritten.NAIL_CUT
    assert nail["stalemate"] == (f"share_of_wallet < {handwritten.NAIL_MAX_SHARE} and "
                                 f"days_since(created_date) >= {handwritten.NAIL_STALEMATE_DAYS}")
    assert nail["return_value"] == \
        f"annual_procurement * {handwritten.NAIL_RETURN_SHARE} * gross_margin_pct / 100"
    assert float(nail["min_value"]) == handwritten.NAIL_MIN_RETURN
    signals = schemes["portfolio"]["at_risk"]["signals"]
    assert signals["order_decline"]["when"] == \
        f"revenue_trend < {handwritten.DECLINE} and lifecycle.label == 'active'"
    assert signals["complaints"]["when"] == f"complaints_90d >= {handwritten.COMPLAINTS}"
    assert signals["competitor"]["when"] == "competitor_contact"
    assert schemes["portfolio"]["at_risk"]["min_signals"] == 1
    allocation = handwritten.load_ruleset()["allocation"]
    assert [rule["id"] for rule in allocation["rules"]] == [
        "executive_rescue", "strategic", "risk_defence", "nail_escalation", "key",
        "reactivation", "growth"]
    assert allocation["default"]["id"] == "self_service"


def test_handwritten_and_naive_agree_on_the_sample(sample):
    hand = handwritten.evaluate_handwritten(sample, AS_OF)
    _same(handwritten.evaluate_naive(sample, AS_OF), hand)
    assert sorted(r["rank"] for r in hand) == list(range(1, 601))
    assert {r["grade"] for r in hand} == {"S", "A", "B", "C", "D"}


def customer(cid, procurement, revenue=0.0, margin=None, *, industry="manufacturing",
             fortune500=False, leader=False, last_order=None, first_order=None, orders=None,
             prev=0.0, created=None, complaints=0, competitor=False):
    return {"id": cid, "name": cid, "owner": None, "industry": industry, "region": None,
            "annual_procurement": procurement, "our_revenue_12m": revenue,
            "gross_margin_pct": margin, "fortune500": fortune500, "industry_leader": leader,
            "employees": None, "last_order_date": last_order, "first_order_date": first_order,
            "order_count": orders, "revenue_prev_12m": prev, "created_date": created,
            "influence": None, "satisfaction": None, "cooperation": None,
            "complaints_90d": complaints, "competitor_contact": competitor, "nail_reason": None}


def days_ago(days):
    return AS_OF - datetime.timedelta(days=days)


EDGE_CASES = [
    # everything at the top: 0.3*80 + 0.2*100 + 0.2*100 + 0.3*100
    (customer("X01", 2e9, 6e8, 40.0, fortune500=True, industry="finance",
              last_order=datetime.date(2026, 10, 1)),
     {"track": "finance", "grade": "S", "score": 94.0, "allocation": "strategic"}),
    # a giant we barely sell to is promoted to S, its score unchanged: 30 + 0 + 4 + 0
    (customer("X02", 2e10, 0.0, 5.0, industry="energy"),
     {"track": "manufacturing", "grade": "S", "score": 34.0, "allocation": "strategic"}),
    # margin missing: renormalised over the other three, (18 + 15 + 6) / 0.8
    (customer("X03", 1e8, 6e6, None, leader=True, industry="government"),
     {"track": "government", "grade": "B", "score": 48.75, "allocation": "growth"}),
    # margin and share of wallet both missing: over the tolerance of one
    (customer("X04", 0.0, 0.0, None, industry="education"),
     {"track": "general", "grade": "insufficient_data", "score": None,
      "allocation": "self_service"}),
    # margin above the range clamps to 100 points: 3 + 20 + 4 + 0.3 * (0.2 / 0.3 * 100)
    (customer("X05", 1e6, 2e5, 50.0, industry="retail"),
     {"track": "general", "grade": "B", "score": 47.0, "allocation": "growth"}),
    # margin below and share above the range clamp to 0 and 100: 3 + 0 + 4 + 30
    (customer("X06", 1e6, 5e5, 1.0),
     {"track": "manufacturing", "grade": "C", "score": 37.0, "allocation": "self_service"}),
    # X01's numbers, active, with revenue down to 0.6 of the year before: S and at risk
    (customer("X07", 2e9, 6e8, 40.0, fortune500=True, industry="finance", last_order=days_ago(30),
              first_order=days_ago(900), orders=20, prev=1e9),
     {"track": "finance", "grade": "S", "score": 94.0, "allocation": "executive_rescue"}),
    # scale 1e9 -> 80: 24; margin 40 -> 100: 20; standing 20: 4; share 0.015 -> 5: 1.5 = 49.5 (B)
    # with two complaints: at risk -> risk_defence
    (customer("X08", 1e9, 1.5e7, 40.0, last_order=days_ago(10), first_order=days_ago(400),
              orders=6, prev=1e7, complaints=2),
     {"track": "manufacturing", "grade": "B", "score": 49.5, "allocation": "risk_defence"}),
    # the same without complaints, in our books for two years with under 5% of the spend: a nail
    # (return 1e9 * 0.2 * 40% = 8e7 >= 5e6)
    (customer("X09", 1e9, 1.5e7, 40.0, last_order=days_ago(10), first_order=days_ago(400),
              orders=6, prev=1e7, created=days_ago(730)),
     {"track": "manufacturing", "grade": "B", "score": 49.5, "allocation": "nail_escalation"}),
    # a nail whose return is 1e8 * 0.2 * 10% = 2e6 < 5e6: nail_drop, not escalated
    # scale 60: 18; margin 10 -> 14.29: 2.857; leader 75: 15; share 0: 0 = 35.857 (C)
    (customer("X10", 1e8, 0.0, 10.0, leader=True, created=days_ago(400)),
     {"track": "manufacturing", "grade": "C", "score": 35.857142857142858,
      "allocation": "self_service"}),
    # dormant (last order 300 days ago) C: reactivation; 10.5 + 10 + 4 + 0.3 * 20 = 30.5
    (customer("X11", 2e7, 1.2e6, 22.5, last_order=days_ago(300), first_order=days_ago(1000),
              orders=5, prev=3e6),
     {"track": "manufacturing", "grade": "C", "score": 30.5, "allocation": "reactivation"}),
    # an industry leader never sold to: 24 + 20 + 15 + 0 = 59 (A); no creation date, so
    # the stalemate and the nail are undecided: key
    (customer("X12", 1e9, 0.0, 40.0, leader=True, industry="government"),
     {"track": "government", "grade": "A", "score": 59.0, "allocation": "key"}),
]


@pytest.mark.parametrize("evaluate", [handwritten.evaluate_handwritten,
                                      handwritten.evaluate_naive],
                         ids=["handwritten", "naive"])
def test_edge_cases(evaluate):
    customers = [c for c, _ in EDGE_CASES]
    results = evaluate(customers, AS_OF)
    for (c, expected), got in zip(EDGE_CASES, results):
        for key in ("track", "grade", "allocation"):
            assert got[key] == expected[key], (c["id"], key)
        if expected["score"] is None:
            assert got["score"] is None
        else:
            assert got["score"] == pytest.approx(expected["score"], abs=1e-9), c["id"]
    ranks = {r["id"]: r["rank"] for r in results}
    # by score desc, then procurement desc (X01 before X07 in input order), None last
    assert ranks == {"X01": 1, "X07": 2, "X12": 3, "X08": 4, "X09": 5, "X03": 6, "X05": 7,
                     "X06": 8, "X10": 9, "X02": 10, "X11": 11, "X04": 12}


@pytest.mark.parametrize("evaluate", [handwritten.evaluate_handwritten,
                                      handwritten.evaluate_naive],
                         ids=["handwritten", "naive"])
def test_rank_ties_break_on_procurement_then_input_order(evaluate):
    customers = [customer("B", 5e6, 0.0, 10.0), customer("A", 5e6, 0.0, 10.0),
                 customer("C", 6e6, 0.0, 10.0)]
    ranks = {r["id"]: r["rank"] for r in evaluate(customers, AS_OF)}
    assert ranks == {"C": 1, "B": 2, "A": 3}


@pytest.mark.slow  # the benchmark end to end, on 300 generated customers
def test_benchmark_smoke():
    pytest.importorskip("tierkit.engine.evaluation")
    pytest.importorskip("tierkit.cli")
    bench = _load("tierkit_bench_evaluate", ROOT / "benchmarks" / "bench_evaluate.py")
    assert bench.main(["--customers", "300", "--repeat", "1"]) == 0
