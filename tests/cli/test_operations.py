"""docs/operations.md's nightly script, run as written against a SQLite CRM and a
webhook on 127.0.0.1: two nights, the second after a customer's data changed."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytest.importorskip("sqlalchemy", reason="the nightly recipe needs the db extra (pip install -e '.[db]')")
pytest.importorskip("apprise", reason="the nightly recipe needs the notify extra (pip install -e '.[notify]')")

CUSTOMERS = ROOT / "examples" / "b2b-manufacturing" / "customers.csv"


def nightly_script() -> str:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    return re.search(r"## The job.*?```bash\n(.*?)```", guide, re.S).group(1)


def load_crm(path, customers: list[dict]) -> None:
    columns = list(customers[0])
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS customers")
        db.execute(f"CREATE TABLE customers ({', '.join(columns)})")
        db.executemany(f"INSERT INTO customers VALUES ({', '.join('?' * len(columns))})",
                       [[row[c] or None for c in columns] for row in customers])
        db.execute("CREATE TABLE IF NOT EXISTS orders (customer_id TEXT, order_date DATE, amount NUMERIC)")


@pytest.mark.slow
def test_the_nightly_script_writes_back_saves_and_notifies_owners(tmp_path, webhook):
    script = tmp_path / "nightly.sh"
    script.write_text(nightly_script(), encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tierkit"  # the checkout's command under the name the script uses
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tierkit "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    with open(CUSTOMERS, encoding="utf-8-sig", newline="") as handle:
        customers = list(csv.DictReader(handle))
    crm = tmp_path / "crm.db"
    load_crm(crm, customers)
    server = webhook()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CRM": f"sqlite:///{crm}",
           "NOTIFY": f"json://127.0.0.1:{server.server_port}/nightly", "TIERKIT_HOME": str(tmp_path)}

    def night() -> subprocess.CompletedProcess:
        done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert all(json.loads(line)["level"] in ("info", "warning") for line in done.stderr.splitlines() if line.startswith("{"))
        return done

    night()  # the first night: nothing to compare with
    with sqlite3.connect(crm) as db:
        assert db.execute("SELECT count(*), count(DISTINCT run_id) FROM customer_grades").fetchone() == (600, 1)
        top = db.execute("SELECT id, owner, grade_label FROM customer_grades WHERE rank = 1").fetchone()
    assert server.received == []
    customers[[row["id"] for row in customers].index(top[0])]["annual_procurement"] = "1000"  # a top customer shrinks
    load_crm(crm, customers)
    night()
    with sqlite3.connect(crm) as db:
        assert db.execute("SELECT run_id FROM customer_grades WHERE id = ?", (top[0],)).fetchone() == ("2",)
        assert db.execute("SELECT count(*) FROM customer_grades").fetchone() == (600,)
    titles = [payload["title"] for _path, payload in server.received]
    assert any(title.startswith(f"{top[1]}: ") for title in titles)
    assert any(top[0] in payload["message"] for _path, payload in server.received)
    assert (tmp_path / "changes.md").read_text(encoding="utf-8").startswith("## Changes to b2b-manufacturing")
