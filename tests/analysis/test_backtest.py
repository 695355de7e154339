"""``tierkit backtest``: grade as of a past date, then measure what each grade bought.

``tests/backtest/orders.csv`` is small enough to check by hand.  As of 2025-06-30 the
revenue so far grades S1 (1,500) and S2 (1,000) S, A1 (600) and A2 (700) A, B1 (200)
B, C1 (50) and C2 (20) C; N1 first buys after that date, and X1's row has no date.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from tierkit.analysis.backtest import horizon_end
from tierkit.errors import TierkitError

from tests.conftest import TIERKIT, run
from tests.conftest import ROOT, TESTS

HERE = TESTS / "backtest"
RULESET, ORDERS, CUSTOMERS = HERE / "ruleset.yaml", HERE / "orders.csv", HERE / "customers.csv"
EXAMPLES = ROOT / "examples"
AS_OF = "2025-06-30"


def backtest_json(capsys, *args, ruleset=RULESET, orders=ORDERS, as_of=AS_OF) -> tuple[dict, str]:
    code, out, err = run(capsys, "backtest", ruleset, *args, "--orders", orders, "--as-of", as_of, "--json")
    assert code == 0, err
    return json.loads(out), err


def rows(result: dict) -> dict:
    return {
        grade["label"]: (grade["customers"], grade["revenue"], grade["revenue_per_customer"], grade["retention"], grade["revenue_share"])
        for grade in result["grades"]
    }


# -- exact numbers ----------------------------------------------------------------------


def test_six_months_per_grade(capsys):
    result, err = backtest_json(capsys, "--horizon", "6m")
    # (2025-06-30, 2025-12-30]: S1 800, S2 400, A1 300, B1 60 (its 2025-12-31 order is out), C1 250, N1 999
    assert rows(result) == {
        "S": (2, 1200.0, 600.0, 1.0, 1200 / 1810),
        "A": (2, 300.0, 150.0, 0.5, 300 / 1810),
        "B": (1, 60.0, 60.0, 1.0, 60 / 1810),
        "C": (2, 250.0, 125.0, 0.5, 250 / 1810),
    }
    total = result["total"]
    assert (total["customers"], total["revenue"], total["retention"], total["revenue_share"]) == (7, 1810.0, 5 / 7, 1.0)
    assert result["ungraded"] == {"customers": 1, "orders": 1, "revenue": 999.0}
    assert result["top"] == {"labels": ["S", "A"], "customer_share": 4 / 7, "revenue_share": 1500 / 1810}
    assert (result["monotone"], result["order"], result["lift"]) == (False, ["S", "A", "B", "C"], 600 / 125)
    assert result["breaks"] == [{"higher": "B", "lower": "C", "higher_per_customer": 60.0, "lower_per_customer": 125.0}]
    assert result["verdict"] == (
        "the grades do not hold: C bought more per customer than B (125 vs 60);"
        " S+A (57.1% of customers) brought 82.9% of the horizon revenue"
    )
    horizon = result["meta"]["horizon"]
    assert horizon == {"length": "6m", "start": AS_OF, "end": "2025-12-30", "last_order_date": "2026-03-01", "complete": True}
    assert result["meta"]["scheme"] == {"id": "grade", "kind": "weighted", "label": "Grade"}
    assert result["meta"]["orders"]["rejected"] == 1 and "warning" not in err


def test_twelve_months_reach_past_the_last_order_and_say_so(capsys):
    result, err = backtest_json(capsys)  # the default horizon, 12m
    assert rows(result)["S"][:3] == (2, 6200.0, 3100.0)
    assert rows(result)["B"][:3] == (1, 160.0, 160.0)
    assert result["breaks"] == [{"higher": "A", "lower": "B", "higher_per_customer": 150.0, "lower_per_customer": 160.0}]
    assert result["meta"]["horizon"]["complete"] is False
    assert result["verdict"].endswith("(horizon incomplete: the last order is dated 2026-03-01, the horizon ends 2026-06-30)")
    assert "warning: the horizon ends 2026-06-30, after the last order in" in err
    assert err.count("\n") == 3  # the warning, the order summary and the read summary


def test_monotone_grades_with_a_customer_file(capsys):
    result, _ = backtest_json(capsys, CUSTOMERS, "--horizon", "1m")
    # Z9 is in the customer file with no order: graded C, bought nothing.
    assert rows(result) == {
        "S": (2, 800.0, 400.0, 0.5, 800 / 1160),
        "A": (2, 300.0, 150.0, 0.5, 300 / 1160),
        "B": (1, 60.0, 60.0, 1.0, 60 / 1160),
        "C": (3, 0.0, 0.0, 0.0, 0.0),
    }
    assert (result["monotone"], result["breaks"], result["lift"]) == (True, [], None)
    assert result["verdict"] == (
        "the grades hold: each grade bought more per customer than the next (S > A > B > C);"
        " S+A (50.0% of customers) brought 94.8% of the horizon revenue"
    )
    assert result["ungraded"] == {"customers": 0, "orders": 0, "revenue": 0}


def test_another_scheme_and_a_lift(capsys):
    result, _ = backtest_json(capsys, "--scheme", "activity", "--horizon", "6m")
    # big: S1, S2; small: A1 300, A2, B1 60, C1 250, C2
    assert rows(result) == {"big": (2, 1200.0, 600.0, 1.0, 1200 / 1810), "small": (5, 610.0, 122.0, 0.6, 610 / 1810)}
    assert result["top"]["labels"] == ["big"]
    assert result["monotone"] is True and result["lift"] == 600 / 122
    assert result["verdict"].endswith("; big bought 4.9× per customer what small did")


def test_the_terminal_view(capsys):
    code, out, err = run(capsys, "backtest", RULESET, "--orders", ORDERS, "--as-of", AS_OF, "--horizon", "6m")
    assert code == 0
    assert out.splitlines() == [
        "backtest: spend-tiers 1 · grade (Grade, weighted) graded as of 2025-06-30",
        "horizon 6m: orders after 2025-06-30 up to 2025-12-30 · last order in the file: 2026-03-01",
        "",
        "  grade  customers   share  revenue  per customer  retention  revenue share",
        "  -----  ---------  ------  -------  ------------  ---------  -------------",
        "  S              2   28.6%    1,200           600     100.0%          66.3%",
        "  A              2   28.6%      300           150      50.0%          16.6%",
        "  B              1   14.3%       60            60     100.0%           3.3%",
        "  C              2   28.6%      250           125      50.0%          13.8%",
        "  total          7  100.0%    1,810        258.57      71.4%         100.0%",
        "not graded: 1 customer with 1 order (999) in the horizon, left out of the shares",
        "",
        "top grades S+A: 57.1% of customers, 82.9% of the horizon revenue",
        "monotone: no (C > B in revenue per customer)",
        "verdict: the grades do not hold: C bought more per customer than B (125 vs 60);"
        " S+A (57.1% of customers) brought 82.9% of the horizon revenue",
    ]
    assert err.splitlines() == [
        "orders: read 17 · used 8 · after as-of 8 · unknown customer 0 · rejected 1"
        " · duplicate rows dropped 0 · zero amount used 0 · negative amount used 0",
        "read 7 · evaluated 7 · rejected 0",
    ]


def test_ties_break_monotonicity_and_nothing_bought_is_said(capsys):
    result, _ = backtest_json(capsys, "--horizon", "1d")
    assert result["total"]["revenue"] == 300.0  # A1 on 2025-07-01 only
    assert result["breaks"][-1] == {"higher": "B", "lower": "C", "higher_per_customer": 0.0, "lower_per_customer": 0.0}
    assert "C bought as much per customer as B (0 vs 0)" in result["verdict"]
    nothing, _ = backtest_json(capsys, "--horizon", "1d", as_of="2025-07-01")
    assert nothing["verdict"] == "no graded customer bought in the horizon: nothing to judge"


# -- horizons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "horizon", "end"),
    [
        ("2025-06-30", "12m", "2026-06-30"),
        ("2025-01-31", "1m", "2025-02-28"),
        ("2024-01-31", "1m", "2024-02-29"),
        ("2025-11-15", "3M", "2026-02-15"),
        ("2025-06-30", "90d", "2025-09-28"),
        ("2025-06-30", "2w", "2025-07-14"),
        ("2024-02-29", "1y", "2025-02-28"),
    ],
)
def test_horizon_end(as_of, horizon, end):
    assert horizon_end(dt.date.fromisoformat(as_of), horizon) == dt.date.fromisoformat(end)


@pytest.mark.parametrize("horizon", ["12", "m", "0m", "-3m", "12 months", "1.5y"])
def test_a_bad_horizon_is_an_error(horizon):
    with pytest.raises(TierkitError, match="expected a count and a unit"):
        horizon_end(dt.date(2025, 1, 1), horizon)


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--orders", ORDERS), "Missing option '--as-of'."),
        (("--as-of", AS_OF), "Missing option '--orders'."),
        (("--orders", ORDERS, "--as-of", "30/06/2025"), "Invalid value for '--as-of': '30/06/2025' is not a date in the form YYYY-MM-DD"),
        (("--orders", ORDERS, "--as-of", AS_OF, "--horizon", "a year"), "--horizon 'a year': expected a count and a unit, e.g. 12m, 6m, 90d, 2w or 1y"),
        (("--orders", ORDERS, "--as-of", AS_OF, "--scheme", "grades"), "--scheme 'grades': no such scheme in spend-tiers (did you mean 'grade'? schemes: activity, grade)"),
        (("--orders", HERE / "missing.csv", "--as-of", AS_OF), f"{HERE / 'missing.csv'}: file not found"),
    ],
)
def test_errors_are_one_line_and_exit_2(capsys, args, message):
    code, out, err = run(capsys, "backtest", RULESET, *args)
    assert (code, out, err) == (2, "", f"tierkit: {message}\n")


def test_a_ruleset_with_nothing_to_grade(tmp_path, capsys):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(
        "tierkit: 1\nname: seg\nversion: '1'\nfields: {id: {type: string, required: true}}\norders: {}\n"
        "schemes: [{id: tier, kind: pareto, value: revenue}]\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "backtest", ruleset, "--orders", ORDERS, "--as-of", AS_OF)
    assert (code, out) == (2, "")
    assert err == "tierkit: seg has no weighted, pipeline or rules scheme to backtest (name one with --scheme; schemes: tier (pareto))\n"
    result, _ = backtest_json(capsys, "--scheme", "tier", ruleset=ruleset)
    assert [grade["label"] for grade in result["grades"]][:3] == ["top", "middle", "bottom"]


def test_a_broken_ruleset_exits_1(tmp_path, capsys):
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(RULESET.read_text(encoding="utf-8").replace("value: revenue", "value: revenu"), encoding="utf-8")
    code, out, err = run(capsys, "backtest", ruleset, "--orders", ORDERS, "--as-of", AS_OF)
    assert code == 1 and out == "" and "unknown name 'revenu'" in err and err.count("\n") == 1


def test_installed_command():
    args = [*TIERKIT, "backtest", str(RULESET), "--orders", str(ORDERS), "--as-of", AS_OF, "--horizon", "6m", "--json"]
    done = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["total"]["revenue"] == 1810.0
    bad = subprocess.run([*args[:-3], "--horizon", "soon"], capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


# -- the sample data ----------------------------------------------------------------------


SAMPLES = [
    ("fmcg-distribution", EXAMPLES / "fmcg-distribution" / "distributors.csv", EXAMPLES / "fmcg-distribution" / "orders.csv"),
    ("retail-membership", None, EXAMPLES / "retail-membership" / "orders.csv"),
    ("saas-enterprise", EXAMPLES / "saas-enterprise" / "accounts.csv", EXAMPLES / "saas-enterprise" / "invoices.csv"),
]


@pytest.mark.parametrize(("ruleset", "customers", "orders"), SAMPLES, ids=[name for name, *_ in SAMPLES])
def test_sample_data(capsys, ruleset, customers, orders):
    inputs = [customers] if customers else []
    result, err = backtest_json(capsys, *inputs, ruleset=ruleset, orders=orders, as_of="2025-10-31")
    assert result["meta"]["horizon"]["complete"], err
    assert sum(grade["customers"] for grade in result["grades"]) == result["total"]["customers"] == result["meta"]["evaluated"] > 0
    assert sum(grade["revenue"] for grade in result["grades"]) == pytest.approx(result["total"]["revenue"])
    assert result["total"]["revenue"] > 0 and result["monotone"] is not None
    assert result["verdict"].startswith("the grades ")


def test_order_ids_are_read_as_the_id_field_reads_them(capsys, tmp_path):
    """Integer ids spelled '007' in the order file still find customer 7 in the horizon."""
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(
        "tierkit: 1\nname: ints\nversion: '1'\nfields: {id: {type: integer, required: true}}\norders: {}\n"
        "schemes:\n  - id: grade\n    kind: rules\n    rules: [{id: A, when: \"order_count >= 2\"}]\n    default: {id: B}\n",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "customer_id,order_date,amount\n007,2026-01-05,10\n7,2026-02-05,10\n8,2026-03-01,5\n"
        "007,2026-07-01,100\n8,2026-07-02,1\n",
        encoding="utf-8",
    )
    result, _ = backtest_json(capsys, ruleset=str(ruleset), orders=str(orders), as_of="2026-06-30")
    assert rows(result)["A"][:2] == (1, 100.0)
    assert rows(result)["B"][:2] == (1, 1.0)
    assert result["ungraded"]["customers"] == 0


def test_monotonicity_walks_the_declared_grade_order_not_the_rule_order(capsys, tmp_path):
    """The rules check the small customers first (C), then S and A, B by default; the
    scheme's labels: declare the grades best first, S A B C, and the check walks that."""
    text = RULESET.read_text(encoding="utf-8").replace(
        "rank:",
        "  - id: tier\n"
        "    kind: rules\n"
        "    rules:\n"
        "      - {id: C, when: \"revenue < 100\"}\n"
        "      - {id: S, when: \"revenue >= 1000\"}\n"
        "      - {id: A, when: \"revenue >= 500\"}\n"
        "    default: {id: B}\n"
        "    labels: {S: Strategic, A: Key, B: Regular, C: Small}\n"
        "rank:",
    )
    ruleset = tmp_path / "r.yaml"
    ruleset.write_text(text, encoding="utf-8")
    result, _ = backtest_json(capsys, "--scheme", "tier", "--horizon", "6m", ruleset=str(ruleset))
    assert [grade["label"] for grade in result["grades"]] == ["S", "A", "B", "C"]
    assert result["order"] == ["S", "A", "B", "C"] and result["top"]["labels"] == ["S", "A"]
    assert result["breaks"] == [{"higher": "B", "lower": "C", "higher_per_customer": 60.0, "lower_per_customer": 125.0}]
    # without labels: the rules' own order (C first) would be taken for the grades' order
    bare = tmp_path / "bare.yaml"
    bare.write_text(text.replace("    labels: {S: Strategic, A: Key, B: Regular, C: Small}\n", ""), encoding="utf-8")
    result, _ = backtest_json(capsys, "--scheme", "tier", "--horizon", "6m", ruleset=str(bare))
    assert result["order"] == ["C", "S", "A", "B"]
