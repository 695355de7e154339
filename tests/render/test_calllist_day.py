"""``tierkit calllist`` as a day's work: the day's capacity, grade inside a quadrant, why
each account today, ``--date`` and the contacts logged in the CRM (``--contacts``)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.render.test_render import run_cli

AS_OF = "2026-11-01"
# Every account is important (its plan says so) with a 10-day cadence; S before D by the
# grade scheme's declared order.
DAY = """\
tierkit: 1
name: day
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  name: {type: string, required: true}
  owner: {type: string}
  level: {type: string}
  touched: {type: integer}
  overdue_amount: {type: number}
  revenue_trend: {type: number}
  flag: {type: string}
schemes:
  - id: grade
    kind: rules
    label: Grade
    rules:
      - {id: S, when: "level == 'S'", label: "S: strategic"}
      - {id: D, when: "level == 'D'", label: "D: long tail"}
  - id: watch
    kind: rules
    label: Watch
    rules: [{id: risk, when: "flag == 'risk'", tags: [at_risk]}]
    default: {id: fine}
rank:
  - {by: "revenue_trend", order: desc}
allocation:
  default:
    id: everyone
    set: {cadence_days: 10, important: true, executive_sponsor: VP Sales}
calllist: {contact: touched, per_day: 3}
"""
ACCOUNTS = """\
id,name,owner,level,touched,overdue_amount,revenue_trend,flag
D30,D thirty overdue,Ann,D,30,,1.2,
S11,S eleven,Ann,S,11,,1.0,
D12,D twelve,Ann,D,12,5000,1.1,
S15,S fifteen falling,Ann,S,15,,0.8,
SR,S at risk,Ann,S,2,,1.0,risk
S3,S three,Ann,S,3,,1.0,
"""


@pytest.fixture
def case(tmp_path) -> tuple[Path, Path]:
    (tmp_path / "day.yaml").write_text(DAY, encoding="utf-8")
    (tmp_path / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    return tmp_path / "day.yaml", tmp_path / "accounts.csv"


def calls(case, tmp_path, *options) -> list[dict]:
    out = tmp_path / "calls.csv"
    assert run_cli("calllist", *case, "--owner", "Ann", "--as-of", AS_OF, *options, "-o", out) == 0
    with out.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def test_a_day_holds_per_day_accounts_and_an_overdue_s_comes_before_a_d(case, tmp_path):
    rows = calls(case, tmp_path)
    # the emergency, then the urgent S accounts (most overdue first); D30, 30 days overdue, waits
    assert [row["ID"] for row in rows] == ["SR", "S15", "S11"]


def test_limit_overrides_the_capacity(case, tmp_path):
    assert [row["ID"] for row in calls(case, tmp_path, "--limit", "5")] == ["SR", "S15", "S11", "D30", "D12"]
    assert len(calls(case, tmp_path, "--limit", "1")) == 1


def test_each_action_says_why_this_account_today(case, tmp_path):
    actions = {row["ID"]: row["Action"] for row in calls(case, tmp_path, "--limit", "6")}
    assert actions["SR"].startswith("Rescue visit with VP Sales")
    assert actions["S15"] == "Review visit: revenue down 20% on the year before"
    assert actions["D12"] == "Collection call: 5,000 of receivables overdue"
    assert actions["D30"].startswith("Visit overdue by 20 days (every 10 days)")
    assert actions["S11"] == "Visit overdue by 1 days (every 10 days)"


def test_the_date_of_the_list_moves_every_due_date(case, tmp_path):
    rows = calls(case, tmp_path, "--limit", "6", "--date", "2026-11-08")
    status = {row["ID"]: row["Status"] for row in rows}
    assert status["S3"] == "due today"
    assert status["S11"] == "overdue 8 d"


def test_logged_contacts_reset_the_cadence_and_yesterdays_calls_drop_off(case, tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("account_id,date,outcome\nS15,2026-10-31,met the CFO\nS11,2026-10-30,voicemail\n"
                        "S11,2026-10-20,older\nD30,2026-12-01,after the day: ignored\n", encoding="utf-8")
    rows = calls(case, tmp_path, "--contacts", contacts)
    assert [row["ID"] for row in rows] == ["SR", "D30", "D12"]
    everyone = {row["ID"]: row for row in calls(case, tmp_path, "--contacts", contacts, "--limit", "6")}
    assert everyone["S15"]["Last contact"] == "2026-10-31" and everyone["S15"]["Status"] == "in 9 d"
    assert "last contact logged 2026-10-30 (voicemail)" in everyone["S11"]["Action"]
    assert everyone["D30"]["Flags"] == "overdue, return to pool"  # the future contact does not count


def test_a_contacts_file_without_an_id_column_is_one_line(case, tmp_path, capsys):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("who,date\nS15,2026-10-31\n", encoding="utf-8")
    assert run_cli("calllist", *case, "--owner", "Ann", "--as-of", AS_OF, "--contacts", contacts) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no id column" in error


def test_the_html_says_how_many_wait_for_another_day_in_chinese(case, tmp_path):
    out = tmp_path / "calls.html"
    assert run_cli("calllist", *case, "--owner", "Ann", "--as-of", AS_OF, "--lang", "zh", "-o", out) == 0
    page = out.read_text(encoding="utf-8")
    assert "另有 3 个客户留待他日（每天可处理 3 个）" in page and "挽救拜访，由VP Sales出面" in page


def save_run(case, tmp_path, accounts: str, as_of: str) -> Path:
    """Evaluate ``accounts`` as of ``as_of`` and save the run in the case's store."""
    data = tmp_path / f"accounts-{as_of}.csv"
    data.write_text(accounts, encoding="utf-8")
    store = tmp_path / "runs.sqlite"
    assert run_cli("evaluate", case[0], data, "--as-of", as_of, "--save", "--store", store, "-o", tmp_path / f"{as_of}.jsonl") == 0
    return store


# A month earlier SR was at risk already and S3 was not; today both are.
EARLIER = ACCOUNTS
TODAY = ACCOUNTS.replace("S3,S three,Ann,S,3,,1.0,", "S3,S three,Ann,S,3,,1.0,risk")


def test_a_new_at_risk_tag_gets_the_sponsors_rescue_visit_and_an_old_one_the_rescue_plan(case, tmp_path):
    store = save_run(case, tmp_path, EARLIER, "2026-10-01")
    save_run(case, tmp_path, TODAY, AS_OF)  # today's own run, saved already: not the one before
    (tmp_path / "accounts.csv").write_text(TODAY, encoding="utf-8")
    rows = {row["ID"]: row for row in calls(case, tmp_path, "--store", store, "--limit", "6")}
    assert [row for row in rows][:2] == ["S3", "SR"]  # the new emergency first
    assert rows["S3"]["Action"].startswith("Rescue visit with VP Sales")
    assert rows["S3"]["Flags"] == "emergency, new since the last run"
    assert rows["SR"]["Action"].startswith("Keep up the rescue plan (at_risk already in the run as of 2026-10-01)")
    assert rows["SR"]["Flags"] == "emergency"


def test_previous_picks_the_run_to_compare_with(case, tmp_path):
    store = save_run(case, tmp_path, TODAY, "2026-10-01")  # both at risk then
    save_run(case, tmp_path, EARLIER, "2026-10-15")  # only SR
    (tmp_path / "accounts.csv").write_text(TODAY, encoding="utf-8")
    latest = {row["ID"]: row["Action"] for row in calls(case, tmp_path, "--store", store, "--limit", "2")}
    assert latest["S3"].startswith("Rescue visit") and latest["SR"].startswith("Keep up the rescue plan")
    first = {row["ID"]: row["Action"] for row in calls(case, tmp_path, "--store", store, "--previous", "1", "--limit", "2")}
    assert all(action.startswith("Keep up the rescue plan") for action in first.values())


def test_without_an_earlier_run_every_at_risk_tag_counts_as_new(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERKIT_STORE", raising=False)
    rows = calls(case, tmp_path, "--limit", "1")
    assert rows[0]["Action"].startswith("Rescue visit with VP Sales") and rows[0]["Flags"] == "emergency"


def test_previous_without_a_store_is_one_line(case, tmp_path, capsys):
    code = run_cli("calllist", *case, "--owner", "Ann", "--as-of", AS_OF, "--store", tmp_path / "none.sqlite",
                   "--previous", "latest")
    assert code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no run store at" in error


def test_the_rescue_plan_and_the_comparison_in_chinese(case, tmp_path):
    store = save_run(case, tmp_path, EARLIER, "2026-10-01")
    (tmp_path / "accounts.csv").write_text(TODAY, encoding="utf-8")
    out = tmp_path / "calls.html"
    assert run_cli("calllist", *case, "--owner", "Ann", "--as-of", AS_OF, "--lang", "zh", "--store", store, "-o", out) == 0
    page = out.read_text(encoding="utf-8")
    assert "紧急标签与第 1 次运行（数据日期 2026年10月1日）比较" in page
    assert "挽救拜访，由VP Sales出面" in page and "较上次运行新增" in page
    assert "继续执行挽救计划（数据日期 2026年10月1日 的运行中已是at_risk）" in page
