"""``tierkit calllist``: Eisenhower order, emergencies on top, overdue and return-to-pool
flags at their exact boundaries, and the terminal, CSV and HTML outputs."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import inspect
from pathlib import Path

import pytest

from tierkit.render.calllist import CallItem, CallList, build_calllist, follow_up
from tierkit.engine.evaluation import compile_ruleset
from tierkit.engine.job import run_job
from tierkit.manager import make_registry
from tierkit.ruleset.load import load_ruleset

from tests.render.test_brief import Page
from tests.render.test_render import AS_OF, run_cli, write_small_case

# Gold accounts are important (the plan says so) with a 10-day cadence and a 25-day pool
# deadline; silver ones are not, with the same cadence and the default deadline (20).
CALLS = """\
tierkit: 1
name: calls
version: "1"
locale: en
fields:
  id: {type: string, required: true}
  name: {type: string, required: true}
  owner: {type: string}
  tier: {type: string, default: silver}
  flag: {type: string}
  touched: {type: integer}
schemes:
  - id: watch
    kind: rules
    label: Watch
    rules: [{id: risk, when: "flag == 'risk'", tags: [at_risk]}, {id: hot, when: "flag == 'hot'", tags: [hot]}]
    default: {id: fine}
rank:
  - {by: "1 if tier == 'gold' else 0", order: desc}
allocation:
  rules:
    - id: gold
      when: "tier == 'gold'"
      set: {cadence_days: 10, important: true, pool_return_days: 25}
  default:
    id: silver
    set: {cadence_days: 10, important: false}
"""
CALLS_CALLLIST = "calllist: {contact: touched}\n"
CUSTOMERS = """\
id,name,owner,tier,flag,touched
S9,Silver nine,Ann,silver,,9
G9,Gold nine,Ann,gold,,9
S10,Silver ten,Ann,silver,,10
G10,Gold ten,Ann,gold,,10
SN,Silver never,Ann,silver,,
G11,Gold eleven,Ann,gold,,11
S20,Silver twenty,Ann,silver,,20
S21,Silver twenty-one,Ann,silver,,21
G25,Gold twenty-five,Ann,gold,,25
G26,Gold twenty-six,Ann,gold,,26
SR,Silver at risk,Ann,silver,risk,3
SH,Silver hot,Ann,silver,hot,3
B1,Bob's only,Bob,gold,,1
"""
# inside a quadrant by grade (the watch scheme declares risk, hot, fine), then days overdue
EXPECTED_ORDER = ["SR", "G26", "G25", "G11", "G10", "G9", "S21", "S20", "S10", "SN", "SH", "S9"]


def write_calls(folder: Path, calllist_section: str = CALLS_CALLLIST) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calls.yaml").write_text(CALLS + calllist_section, encoding="utf-8")
    (folder / "calls.csv").write_text(CUSTOMERS, encoding="utf-8")
    return folder / "calls.yaml", folder / "calls.csv"


def calllist_of(ruleset: Path, customers: Path, owner: str, lang: str = "en"):
    registry = make_registry()
    plan = compile_ruleset(load_ruleset(ruleset, registry.ruleset_dirs), registry)
    evaluation = run_job(plan, registry, str(customers), None, dt.date(2026, 11, 1)).evaluation
    return build_calllist(evaluation, owner, lang)


@pytest.fixture
def calls(tmp_path):
    return calllist_of(*write_calls(tmp_path), "Ann")


def test_eisenhower_order_with_the_emergency_on_top(calls):
    assert [item.id for item in calls.items] == EXPECTED_ORDER
    assert [item.quadrant for item in calls.items] == [4, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4]
    assert [item.order for item in calls.items] == list(range(1, 13))
    assert calls.items[0].emergency and not any(item.emergency for item in calls.items[1:])


def test_only_the_configured_tags_are_emergencies(tmp_path):
    calls = calllist_of(*write_calls(tmp_path, "calllist: {contact: touched, emergency_tags: [hot, at_risk]}\n"), "Ann")
    assert [item.id for item in calls.items][:2] == ["SR", "SH"]


@pytest.mark.parametrize(
    ("customer", "urgent", "overdue", "pool"),
    [
        ("G9", False, False, False),  # a day before the cadence runs out
        ("G10", True, False, False),  # the deadline day: due, not yet overdue
        ("G11", True, True, False),  # one day past it
        ("G25", True, True, False),  # the plan's pool deadline itself
        ("G26", True, True, True),  # one day past it
        ("S20", True, True, False),  # the default pool deadline: twice the cadence
        ("S21", True, True, True),
        ("SN", True, False, False),  # no contact date: urgent, never overdue
    ],
)
def test_flags_at_their_boundaries(calls, customer, urgent, overdue, pool):
    item = next(item for item in calls.items if item.id == customer)
    assert (item.follow_up.urgent, item.follow_up.overdue, item.follow_up.pool_return) == (urgent, overdue, pool)
    assert ("overdue" in item.flags, "pool_return" in item.flags) == (overdue, pool)


def test_status_texts(calls):
    status = {item.id: item.cells["status"] for item in calls.items}
    assert status["G9"] == "in 1 d" and status["G10"] == "due today" and status["G26"] == "overdue 16 d"
    assert status["SN"] == "unknown"
    assert "no_contact" in next(item for item in calls.items if item.id == "SN").flags
    assert calls.items[0].cells["quadrant"] == "Emergency · Q4"
    assert next(item for item in calls.items if item.id == "G26").cells["action"] == (
        "Visit overdue by 16 days (every 10 days); return to the shared pool"
    )


def test_follow_up_from_a_date_field():
    as_of = dt.date(2026, 11, 1)
    source = type("Source", (), {"name": "last", "as_days": False})()
    status = follow_up({"last": dt.date(2026, 10, 18)}, {"cadence_days": 14}, source, as_of)
    assert (status.days_since, status.due_date, status.days_left, status.urgent, status.overdue) == (
        14, dt.date(2026, 11, 1), 0, True, False)
    assert follow_up({"last": None}, {}, source, as_of).urgent is False  # no cadence, never urgent


def test_importance_defaults_to_top_grade_or_top_fifth(tmp_path):
    """Without `important` in the plans: S accounts, or the top 20% of the ranking."""
    ruleset, customers = write_small_case(tmp_path / "case")
    calls = calllist_of(ruleset, customers, "王芳", "zh")
    assert [(item.id, item.important, item.quadrant) for item in calls.items] == [
        ("K02", False, 3),  # at risk: on top although urgent only
        ("K01", True, 1),  # S, due today (14 days, cadence 14)
        ("K03", False, 3),  # B, due today (60 days, cadence 60)
    ]
    k02 = calls.items[0]
    assert k02.emergency and k02.follow_up.days_since == 61 and "pool_return" in k02.flags  # 61 > 2 × 30
    assert k02.cells["action"] == "挽救拜访，由客户经理出面：防守：把他们重新变回钉子客户或更好；退回公海"


def test_csv_has_one_row_per_account_with_the_columns_shown(tmp_path, capsys):
    ruleset, customers = write_calls(tmp_path)
    out = tmp_path / "ann.csv"
    assert run_cli("calllist", ruleset, customers, "--owner", "Ann", "-o", out, "--as-of", AS_OF) == 0
    with open(out, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["#", "Quadrant", "ID", "Customer", "Grade", "Rank", "Last contact", "Days since", "Cadence",
                       "Due", "Status", "Flags", "Action"]
    assert [row[2] for row in rows[1:]] == EXPECTED_ORDER
    g26 = rows[1 + EXPECTED_ORDER.index("G26")]
    assert g26[7:12] == ["26", "10", "2026-10-16", "overdue 16 d", "overdue, return to pool"]


def test_the_terminal_table_is_the_default(tmp_path, capsys):
    ruleset, customers = write_calls(tmp_path)
    assert run_cli("calllist", ruleset, customers, "--owner", "Ann", "--as-of", AS_OF) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Call list: Ann"
    assert out[1].split()[:3] == ["#", "Quadrant", "ID"]
    assert [line.split()[0] for line in out[3:15]] == [str(n) for n in range(1, 13)]
    assert out[3].split()[4] == "SR"


def test_html_output(tmp_path):
    ruleset, customers = write_calls(tmp_path)
    out = tmp_path / "ann.html"
    assert run_cli("calllist", ruleset, customers, "--owner", "Ann", "-o", out, "--as-of", AS_OF) == 0
    page = Page(out.read_text(encoding="utf-8"))
    assert [e["attrs"]["data-customer"] for e in page.find() if "data-customer" in e["attrs"]] == EXPECTED_ORDER
    assert page.find("emergency") and page.find("pool_return") and page.find("rules")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--owner", "Zed"), "tierkit: no accounts owned by 'Zed'; known owners: Ann, Bob"),
        (("--owner", "Ann", "-o", "x.pdf"), "tierkit: -o x.pdf: the call list is a .html or .csv file (or, without -o, a table here)"),
        ((), "tierkit: Missing option '--owner'."),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    ruleset, customers = write_calls(tmp_path)
    assert run_cli("calllist", ruleset, customers, *args) == 2
    assert capsys.readouterr().err.strip() == message


def test_an_unknown_contact_field_is_named(tmp_path, capsys):
    ruleset, customers = write_calls(tmp_path, "calllist: {contact: touchd}\n")
    assert run_cli("calllist", ruleset, customers, "--owner", "Ann") == 2
    assert "calllist.contact names 'touchd', which is no field or derived feature" in capsys.readouterr().err


@pytest.mark.parametrize("cls", [CallList, CallItem], ids=lambda cls: cls.__name__)
def test_every_calllist_context_field_is_documented(cls):
    doc = inspect.getdoc(cls) or ""
    assert [f.name for f in dataclasses.fields(cls) if f"``{f.name}``" not in doc] == []
