"""Changes people hear of: ``tierkit diff`` with names and owners in four formats,
``--exit-code`` for cron, and ``tierkit notify`` digests per owner, captured by a
webhook server on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import TESTS, run

FIXTURES = TESTS / "history"
# The history tests' ruleset with an owner field and a nail tag.
OWNED = (FIXTURES / "graded.yaml").read_text(encoding="utf-8").replace(
    "  name: {type: string}\n", "  name: {type: string}\n  owner: {type: string}\n  stalled: {type: boolean, default: false}\n"
).replace("      - {id: reference,", "      - {id: stuck, when: \"stalled\", tags: [nail]}\n      - {id: reference,")
COLUMNS = ("id", "name", "owner", "points", "unpaid", "stalled")
FIRST = {"K1": ("青岛金泰电子", "王芳", 70, 0, ""), "K2": ("Acme Ltd", "Li Na", 50, 0, ""), "K3": ("Beta | Co", "王芳", 30, 0, ""),
         "K4": ("Gamma", "", 45, 0, ""), "K5": ("Delta", "Li Na", 45, 0, "")}
SECOND = {**FIRST, "K1": ("青岛金泰电子", "王芳", 50, 0, ""),        # A → B
          "K2": ("Acme Ltd", "Li Na", 30, 0, ""),                   # B → C
          "K3": ("Beta | Co", "王芳", 30, 500, ""),                  # new at-risk
          "K4": ("Gamma", "", 45, 0, "true")}                        # new nail, no owner


def save(capsys, tmp_path: Path, customers: dict, as_of: str) -> None:
    ruleset = tmp_path / "owned.yaml"
    ruleset.write_text(OWNED, encoding="utf-8")
    source = tmp_path / f"customers-{as_of}.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([customer, *values] for customer, values in customers.items())
    code, _out, err = run(capsys, "evaluate", ruleset, source, "--as-of", as_of, "--save", "--store", tmp_path / "runs.sqlite")
    assert code == 0, err


@pytest.fixture
def store(tmp_path, capsys) -> Path:
    save(capsys, tmp_path, FIRST, "2026-10-01")
    save(capsys, tmp_path, SECOND, "2026-11-01")
    save(capsys, tmp_path, SECOND, "2026-11-02")  # nothing changed since run 2
    return tmp_path / "runs.sqlite"


# -- diff ------------------------------------------------------------------------------


def test_diff_text_shows_names_and_owners(store, capsys):
    code, out, _err = run(capsys, "diff", "1", "2", "--store", store)
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert ["K1", "青岛金泰电子", "王芳", "A", "B", "data", "changed"] in lines
    assert "nails: 1 new" in out and ["new", "K4", "Gamma", "watch", "data", "changed"] in lines


def test_diff_markdown_is_tables_under_headings(store, capsys):
    code, out, _err = run(capsys, "diff", "1", "2", "--store", store, "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "## Changes to history-test, as of 2026-10-01 → 2026-11-01"
    assert "### grade migrations: 2" in lines and "### at-risk: 1 new, 0 cleared" in lines
    assert "| A | B | 1 |" in lines
    assert "| K1 | 青岛金泰电子 | 王芳 | A | B | data changed |" in lines
    assert "| new | K3 | Beta \\| Co | 王芳 | watch | data changed |" in lines  # a | in a name stays in its cell
    assert lines[lines.index("| customer | name | owner | from | to | cause |") + 1] == "|---|---|---|---|---|---|"


def test_diff_csv_and_json_carry_names_and_owners(store, capsys):
    _code, out, _err = run(capsys, "diff", "1", "2", "--store", store, "--format", "csv")
    rows = {(row["change"], row["customer"]): row for row in csv.DictReader(out.splitlines())}
    assert (rows[("migration", "K1")]["name"], rows[("migration", "K1")]["owner"]) == ("青岛金泰电子", "王芳")
    assert rows[("nail_new", "K4")]["owner"] == ""
    _code, out, _err = run(capsys, "diff", "1", "2", "--store", store, "--format", "json")
    result = json.loads(out)
    assert result["nail"]["new"] == [{"id": "K4", "name": "Gamma", "owner": None, "scheme": "watch", "from": None,
                                      "to": "nail", "cause": "data changed"}]


@pytest.mark.parametrize(("runs", "options", "code"), [
    (("1", "2"), ["--exit-code"], 1),   # a grade changed, tags were gained
    (("2", "3"), ["--exit-code"], 0),   # nothing changed
    (("1", "2"), [], 0),                # without --exit-code, changes are no failure
])
def test_exit_code_says_whether_anything_changed(store, capsys, runs, options, code):
    assert run(capsys, "diff", *runs, "--store", store, "--format", "csv", *options)[0] == code


def test_a_store_of_the_first_version_gains_names_and_owners(store, capsys, tmp_path):
    with sqlite3.connect(store) as db:
        db.execute("ALTER TABLE customers DROP COLUMN name")
        db.execute("ALTER TABLE customers DROP COLUMN owner")
        db.execute("PRAGMA user_version = 1")
    code, out, _err = run(capsys, "diff", "1", "2", "--store", store, "--format", "json")
    assert code == 0 and json.loads(out)["migrations"]["grade"]["customers"][0]["owner"] is None
    save(capsys, tmp_path, FIRST, "2026-11-03")
    _code, out, _err = run(capsys, "diff", "3", "4", "--store", store, "--format", "json")
    assert json.loads(out)["migrations"]["grade"]["customers"][0]["owner"] == "王芳"
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)


# -- notify ----------------------------------------------------------------------------


def test_notify_sends_one_digest_per_owner(store, capsys, webhook):
    pytest.importorskip("apprise", reason="notify needs the notify extra (pip install -e '.[notify]')")
    server = webhook()
    code, out, err = run(capsys, "notify", "1", "2", "--store", store, "--to", f"json://127.0.0.1:{server.server_port}/hooks/sales")
    assert code == 0 and out == ""
    assert err == "sent 3 digests (6 changes) to 1 destination\n"
    assert [path for path, _ in server.received] == ["/hooks/sales"] * 3
    payloads = [payload for _, payload in server.received]
    assert [payload["title"] for payload in payloads] == [
        "Li Na: 1 change (history-test, 2026-10-01 → 2026-11-01)",
        "王芳: 3 changes (history-test, 2026-10-01 → 2026-11-01)",
        "(no owner): 2 changes (history-test, 2026-10-01 → 2026-11-01)",
    ]
    assert payloads[0]["message"] == "- K2 Acme Ltd: grade B → C (data changed)"
    assert payloads[1]["message"].splitlines() == [
        "- K1 青岛金泰电子: grade A → B (data changed)",
        "- K3 Beta | Co: watch quiet → risky (data changed)",
        "- K3 Beta | Co: new at-risk tag (data changed)",
    ]
    assert payloads[2]["message"].splitlines() == [
        "- K4 Gamma: watch quiet → stuck (data changed)", "- K4 Gamma: new nail tag (data changed)"]


def test_notify_sends_nothing_when_nothing_changed_and_dry_run_prints(store, capsys, webhook):
    pytest.importorskip("apprise", reason="notify needs the notify extra (pip install -e '.[notify]')")
    server = webhook()
    code, _out, err = run(capsys, "notify", "2", "3", "--store", store, "--to", f"json://127.0.0.1:{server.server_port}/")
    assert code == 0 and server.received == [] and "nothing to send" in err
    code, out, err = run(capsys, "notify", "1", "2", "--store", store, "--dry-run")
    assert code == 0 and out.startswith("Li Na: 1 change") and err == "would send 3 digests (6 changes)\n"


@pytest.mark.parametrize(("to", "message"), [
    (None, "give at least one --to URL"),
    ("nonsense://token-s3cret", "--to nonsense://…: not a notification URL apprise knows"),
    ("refused", "could not send Li Na's digest to every destination"),
])
def test_notify_failures_are_one_line_without_the_url_tokens(store, capsys, webhook, to, message):
    pytest.importorskip("apprise", reason="notify needs the notify extra (pip install -e '.[notify]')")
    if to == "refused":
        to = f"json://user:token-s3cret@127.0.0.1:{webhook(status=500).server_port}/"
    code, out, err = run(capsys, "notify", "1", "2", "--store", store, *(["--to", to] if to else []))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert message in err and "s3cret" not in err
