"""The consultant's loop: ``tierkit init`` scaffolds a ruleset folder, ``tierkit test``
runs its YAML tests.

``init`` writes everything the loop needs, so that the first ``tierkit validate`` and
``tierkit test`` pass before anything is edited: the ruleset (with the schema beside
it for editors), sample customers (and orders, when the ruleset reads them), a local
``templates/`` folder, and a tests file whose expectations are what the scaffolded
ruleset gives the sample customers, with the reasons as comments to check them by.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import click
import yaml

from tierkit.cli import Session, cli
from tierkit.cli.options import AS_OF
from tierkit.engine.evaluation import Evaluation
from tierkit.errors import EXIT_INVALID, Position, TierkitError
from tierkit.io.tables import RowError, normalise_header, read_rows
from tierkit.io.outputs import csv_writer
from tierkit.plan.order_features import ORDER_COLUMNS, REQUIRED_COLUMNS
from tierkit.ruleset.load import Ruleset, resolve_ruleset_path
from tierkit.ruleset.schema import ruleset_schema
from tierkit.analysis.testing import Case, CaseRunner, find_header, id_headers, load_cases

MODELINE = "# yaml-language-server: $schema=./ruleset.schema.json"
TESTS_FILE = "tests.yaml"
SAMPLE_SIZE = 12  # customers copied from example data
SINGLE_CASES = 5  # customers given by id, chosen to show every outcome


# -- tierkit test ----------------------------------------------------------------------


@cli.command("test")
@click.argument("ruleset")
@click.argument("tests", required=False)
@click.option("-k", "keyword", help="Run only the cases whose name contains this text.")
@click.pass_obj
def test_command(session: Session, ruleset: str, tests: str | None, keyword: str | None) -> None:
    """Run a ruleset's YAML test cases; exit 1 if one fails.

    TESTS defaults to tests.yaml beside the RULESET file; a bundled ruleset needs it
    given.  Prints PASSED or FAILED per case, then "N passed, M failed".
    """
    loaded = session.ruleset(ruleset)
    tests_path = Path(tests) if tests else default_tests(ruleset, loaded)
    runner = CaseRunner(session.registry)
    runner.plan_for(loaded)  # an invalid ruleset fails here, with every error, exit 1
    cases = load_cases(tests_path, session.registry, ruleset=loaded)
    if keyword:
        cases = [case for case in cases if keyword.lower() in case.name.lower()]
    if not cases:
        raise TierkitError("no test cases" + (f" whose name contains {keyword!r}" if keyword else ""), hint=str(tests_path))
    click.echo(f"{tests_path}: {len(cases)} case{'s' if len(cases) != 1 else ''} · {loaded.name} {loaded.version}")
    failed = 0
    for case in cases:
        try:
            failures = runner.run(case).failures
        except TierkitError as error:  # e.g. an inline ruleset that does not compile
            failures = str(error).splitlines()
        failed += bool(failures)
        click.echo(f"{'FAILED' if failures else 'PASSED'} {case.name}")
        for failure in failures:
            click.echo(f"    {failure}")
        if failures and case.position is not None:
            click.echo(f"    (case at {case.position})")
    click.echo(f"{len(cases) - failed} passed, {failed} failed")
    if failed:
        click.get_current_context().exit(EXIT_INVALID)


def default_tests(ref: str, loaded: Ruleset) -> Path:
    """``tests.yaml`` beside a ruleset file; a bundled ruleset ships no tests."""
    if not Path(ref).expanduser().is_file():
        raise TierkitError(
            f"{ref!r} is a bundled ruleset, whose tests are not installed with it: give the tests file",
            hint=f"e.g. tierkit test {ref} tests/golden/{ref}.yaml in tierkit's source tree",
        )
    path = loaded.source.parent / TESTS_FILE
    if not path.is_file():
        raise TierkitError(f"no tests file: {path} does not exist", hint="give one: tierkit test RULESET TESTS")
    return path


# -- tierkit init ----------------------------------------------------------------------


@cli.command()
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "source", metavar="BUNDLED", help="Start from a bundled ruleset (a name, or a ruleset file) and its example data.")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty, replacing the scaffold's files.")
@AS_OF
@click.pass_obj
def init(session: Session, directory: Path, source: str | None, force: bool, as_of: dt.date) -> None:
    """Scaffold a ruleset folder whose tests pass out of the box.

    DIR gets ruleset.yaml (with ruleset.schema.json for editors), sample customers
    (and orders), tests.yaml and a templates/ folder; --as-of fixes the tests' date.
    """
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise TierkitError(f"{directory} is not empty (use --force to write the scaffold into it)")
    if source:
        origin = resolve_ruleset_path(source, session.registry.ruleset_dirs)
        base = session.ruleset(str(origin))
        text = copied_ruleset(origin.read_text(encoding="utf-8"), base, ruleset_name(directory))
    else:
        origin, text = None, STARTER_RULESET.replace("name: my-ruleset", f"name: {ruleset_name(directory)}", 1)
    try:
        (directory / "templates").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TierkitError(f"cannot create the folder: {error.strerror or error}", Position(str(directory))) from None
    written = [write(directory / "ruleset.yaml", text)]
    ruleset = session.ruleset(str(directory / "ruleset.yaml"))
    written.append(write(directory / "ruleset.schema.json", schema_text(session)))
    customers, orders = sample_data(session, ruleset, origin, as_of)
    written.append(write_csv(directory / "customers.csv", customers))
    if orders:
        written.append(write_csv(directory / "orders.csv", orders))
    written.append(write(directory / "templates" / "README.md", TEMPLATES_README))
    tests = scaffold_tests(session, ruleset, directory, directory / "orders.csv" if orders else None, as_of)
    written.append(write(directory / TESTS_FILE, tests))
    for path in written:
        click.echo(f"wrote {path}")
    rules = directory / "ruleset.yaml"
    click.echo(f"next: tierkit validate {rules} · tierkit test {rules} · tierkit explain {rules} {directory / 'customers.csv'}"
               f"{' --orders ' + str(directory / 'orders.csv') if orders else ''} --customer ID")


def write(path: Path, text: str) -> Path:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise TierkitError(f"cannot write: {error.strerror or error}", Position(str(path))) from None
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    """CSV with a BOM, so that Excel opens Chinese text correctly."""
    out = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return write(path, "\ufeff" + out.getvalue())


def schema_text(session: Session) -> str:
    """Exactly what ``tierkit schema`` prints."""
    return json.dumps(ruleset_schema(session.registry.kinds), ensure_ascii=False, indent=2) + "\n"


def ruleset_name(directory: Path) -> str:
    """The folder's name as a ruleset name (lowercase, digits, '-' and '_')."""
    name = re.sub(r"[^a-z0-9_-]+", "-", directory.resolve().name.lower()).strip("-_")
    return name or "my-ruleset"


def copied_ruleset(text: str, base: Ruleset, name: str) -> str:
    """A ruleset file's text, renamed, with the schema modeline first."""
    lines = [line for line in text.splitlines() if not line.startswith("# yaml-language-server:")]
    body = re.sub(r"^name:.*$", f"name: {name}", "\n".join(lines), count=1, flags=re.M)
    return f"{MODELINE}\n# Started from {base.name} {base.version} (tierkit init --from); edit freely.\n{body}\n"


# -- sample data -----------------------------------------------------------------------


def sample_data(session: Session, ruleset: Ruleset, origin: Path | None, as_of: dt.date) -> tuple[list[dict], list[dict]]:
    """Customers (and orders, if the ruleset reads them): a slice of the source's example
    data where there is some, else the starter's, else rows made from the field types."""
    wants_orders = "orders" in ruleset.data
    if origin is None:
        customers = [dict(zip(STARTER_CUSTOMERS[0], row)) for row in STARTER_CUSTOMERS[1:]]
        return customers, []
    folder = example_folder(session, origin, ruleset)
    id_field = ruleset.id_field
    found = order_file(session, folder, ruleset) if folder and wants_orders else None
    customers = read_sample(session, customer_file(folder, found)) if folder else []
    orders = read_sample(session, found) if found else []
    customers = customers[:SAMPLE_SIZE]
    if orders:  # the orders of the sample customers, or the first customers of the orders
        column = order_customer_column(ruleset, orders[0])
        ids = [str(row.get(id_column(ruleset, row))) for row in customers]
        ids = ids or list(dict.fromkeys(row[column] for row in orders))[:SAMPLE_SIZE]
        orders = [row for row in orders if row[column] in ids]
        customers = customers or [{id_field: key} for key in ids]
    if not customers:
        customers = generated_customers(ruleset, as_of)
        orders = generated_orders(customers, id_field, as_of) if wants_orders else []
    return customers, orders


def example_folder(session: Session, origin: Path, ruleset: Ruleset) -> Path | None:
    """Where a ruleset's example data lives: ``examples/<name>/`` beside its folder (as
    in tierkit's source tree), or the ruleset's own folder."""
    name = origin.stem
    for folder in (origin.parent.parent / "examples" / name, origin.parent / "examples" / name, origin.parent):
        found = order_file(session, folder, ruleset) if "orders" in ruleset.data else None
        if customer_file(folder, found).is_file() or found is not None:
            return folder
    return None


def customer_file(folder: Path, orders: Path | None = None) -> Path:
    """``customers.csv``, else the folder's first other CSV file that is not an order file:
    not named ``orders…``, and not ``orders`` (the one :func:`order_file` found)."""
    others = sorted(
        p for p in folder.glob("*.csv") if not p.stem.startswith("orders") and p != orders
    ) if folder.is_dir() else []
    return folder / "customers.csv" if (folder / "customers.csv").is_file() or not others else others[0]


def order_file(session: Session, folder: Path, ruleset: Ruleset) -> Path | None:
    """A folder's order file: ``orders.csv``, else its first CSV file whose headers name
    every required order column, as ``--orders`` matches them (with the aliases of
    ``orders.columns`` in the ruleset), e.g. ``invoices.csv`` with ``account_id``,
    ``invoice_date`` and ``amount``."""
    if not folder.is_dir():
        return None
    if (folder / "orders.csv").is_file():
        return folder / "orders.csv"
    lookup = order_column_lookup(ruleset)
    for path in sorted(folder.glob("*.csv")):
        if path.stem != "customers" and set(REQUIRED_COLUMNS) <= {lookup.get(normalise_header(h)) for h in headers(session, path)}:
            return path
    return None


def order_column_lookup(ruleset: Ruleset) -> dict[str, str]:
    """Normalised header -> order column, with the ruleset's ``orders.columns`` aliases."""
    extra_aliases = (ruleset.data.get("orders") or {}).get("columns") or {}
    lookup: dict[str, str] = {}
    for name, (_type, aliases) in ORDER_COLUMNS.items():
        extra = extra_aliases.get(name) or ()
        for alias in (name, *aliases, *([extra] if isinstance(extra, str) else extra)):
            lookup.setdefault(normalise_header(alias), name)
    return lookup


def headers(session: Session, path: Path) -> tuple[str, ...]:
    """The column headers of a file's first readable row (none for an unreadable file)."""
    rows = None
    try:
        rows = read_rows(path, session.registry)
        for _, raw in rows:
            if not isinstance(raw, RowError):
                return tuple(raw)
    except TierkitError:
        pass
    finally:
        if rows is not None:
            rows.close()
    return ()


def read_sample(session: Session, path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [dict(raw) for _, raw in read_rows(path, session.registry) if not isinstance(raw, RowError)]


def id_column(ruleset: Ruleset, row: dict) -> str | None:
    return find_header(row, id_headers(ruleset))


def order_customer_column(ruleset: Ruleset, row: dict) -> str | None:
    extra = ((ruleset.data.get("orders") or {}).get("columns") or {}).get("customer_id") or ()
    aliases = ("customer_id", *ORDER_COLUMNS["customer_id"][1], *([extra] if isinstance(extra, str) else extra))
    return find_header(row, {normalise_header(name) for name in aliases})


NUMBERS = (3.0e6, 2.5e7, 8.0e7, 4.0e8, 1.5e9, 1.2e10, 6.0e5, 5.0e7)


def generated_customers(ruleset: Ruleset, as_of: dt.date, count: int = 8) -> list[dict]:
    """A handful of rows made from the field types, varied so outcomes differ."""
    rows = []
    id_field = ruleset.id_field
    for index in range(count):
        row = {}
        for offset, (name, config) in enumerate(ruleset.data["fields"].items()):
            row[name] = generated_value(name, config, index, offset, id_field, as_of)
        rows.append(row)
    return rows


def generated_value(name: str, config: dict, index: int, offset: int, id_field: str, as_of: dt.date):
    kind = config.get("type")
    if name == id_field:
        return f"C{index + 1:05d}"
    if kind == "enum":
        values = config.get("values") or [""]
        return values[(index + offset) % len(values)]
    if kind == "number":
        return 5 + (index * 7 + offset) % 45 if config.get("unit") == "%" else NUMBERS[(index + offset) % len(NUMBERS)]
    if kind == "integer":
        return 10 * (1 + (index * 3 + offset) % 50)
    if kind == "boolean":
        return "true" if (index + offset) % 3 == 0 else "false"
    if kind == "date":
        return (as_of - dt.timedelta(days=20 + 45 * ((index + offset) % 12))).isoformat()
    if kind == "list":
        return ""
    return f"{name} {index + 1}"


def generated_orders(customers: list[dict], id_field: str, as_of: dt.date) -> list[dict]:
    """Three orders per customer, some paid late and some not in full."""
    orders = []
    for index, customer in enumerate(customers):
        for number, days_ago in enumerate((25 + 10 * index, 150 + 20 * index, 420 + 15 * index)):
            day = as_of - dt.timedelta(days=days_ago)
            amount = 10000 * (1 + (index * 5 + number) % 9)
            paid = amount if (index + number) % 4 else amount // 2
            orders.append({
                "customer_id": customer[id_field], "order_date": day.isoformat(), "amount": amount, "paid_amount": paid,
                "due_date": (day + dt.timedelta(days=30)).isoformat(),
                "paid_date": (day + dt.timedelta(days=20 + 15 * ((index + number) % 5))).isoformat() if paid == amount else "",
            })
    return orders


# -- the scaffold's tests --------------------------------------------------------------


def scaffold_tests(session: Session, ruleset: Ruleset, directory: Path, orders: Path | None, as_of: dt.date) -> str:
    """Cases on the sample customers with what the ruleset gives them as expectations:
    one per distinct outcome by id, one inline customer, and the rank order."""
    runner = CaseRunner(session.registry)
    plan = runner.plan_for(ruleset)
    lang = ruleset.data.get("locale", "en")
    rows = {str(row.get(id_column(ruleset, row))): row for row in read_sample(session, directory / "customers.csv")}

    def evaluated(keys: list[str], customers: list[dict] | None = None):
        customers = customers or [rows[key] for key in keys]
        return runner.evaluate(Case("init", None, ruleset, as_of, customers, {}, ids=keys, orders=orders))

    def record(keys: list[str], customers: list[dict] | None = None) -> dict:
        evaluation = evaluated(keys, customers)
        return evaluation.record(evaluation.rows[0], lang)

    everyone = evaluated(list(rows))
    picked = representatives(everyone)
    lines = [TESTS_HEADER.format(date=as_of.isoformat()), "ruleset: ruleset.yaml", "data: customers.csv"]
    lines += ["orders: orders.csv"] if orders else []
    lines += [f"as_of: {as_of.isoformat()}", "cases:"]
    for key in picked:
        result = record([key])
        title = ", ".join(f"{scheme.id} {result['outcomes'][scheme.id]['label']}" for scheme in plan.schemes)
        lines += case_lines(f"{key} is {title}", f"customer: {flow(key)}", result)
    evaluated_ids = [str(row[plan.id_index]) for row in everyone.rows]
    inline_key = next((key for key in evaluated_ids if key not in picked), None)
    if inline_key is not None:
        inline = {name: typed(value) for name, value in rows[inline_key].items() if value not in (None, "")}
        lines += case_lines(f"{inline_key}, given inline", f"customer: {flow(inline)}", record([inline_key], [inline]))
    top = sorted([str(row[plan.id_index]) for row in everyone.ranked()][:6], key=list(rows).index)
    if len(top) > 1:  # ranked among themselves: shares and percentiles are over the case's customers
        ranked = [str(row[plan.id_index]) for row in evaluated(top).ranked()]
        lines += [f"  - name: {len(top)} sample customers in rank order", f"    customers: {flow(top)}", f"    order: {flow(ranked)}"]
    return "\n".join(lines) + "\n"


def representatives(evaluation: Evaluation) -> list[str]:
    """A few customers who between them get every label and allocation rule the sample
    shows (a greedy cover: most new outcomes first, the better ranked on ties)."""
    plan = evaluation.plan
    shows = {
        str(row[plan.id_index]): {(s.id, row[s.slot.index][0]) for s in plan.schemes} | {("", row[plan.allocation.slot.index][0])}
        for row in evaluation.ranked()
    }
    picked: list[str] = []
    covered: set = set()
    while len(picked) < SINGLE_CASES:
        best = max(shows, key=lambda key: len(shows[key] - covered), default=None)
        if best is None or not shows[best] - covered:
            break
        picked.append(best)
        covered |= shows.pop(best)
    return picked


def case_lines(name: str, customer: str, record: dict) -> list[str]:
    """One case: its customer, each outcome's reasons as comments, and the outcomes."""
    expect = {}
    lines = [f"  - name: {flow(name)}", f"    {customer}"]
    for scheme_id, outcome in record["outcomes"].items():
        expect[scheme_id] = outcome["label"] if outcome["score"] is None else {"label": outcome["label"], "score": round(outcome["score"], 6)}
        lines.append(f"    # {scheme_id} = {outcome['display']}:")
        lines += [f"    #   {reason['text']}".replace("\n", " ") for reason in outcome["reasons"]]
    if record["allocation"]["rule"] is not None:
        expect["allocation"] = record["allocation"]["rule"]
    lines.append(f"    expect: {flow(expect)}")
    return lines


NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def typed(value):
    """A cell as a test file would write it: numbers and true/false as such, the rest as text."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, str) and NUMBER.match(value.strip()):
        number = float(value)
        number = int(number) if number.is_integer() and abs(number) < 1e15 else number
        return number if str(number) == value.strip() else value  # keep 00123 and 2.5e9 as written
    return value


def flow(value) -> str:
    """A value as one line of YAML."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**6).strip().removesuffix("\n...").removesuffix(" ...")


TESTS_HEADER = """\
# Tests of ruleset.yaml: run them with `tierkit test ruleset.yaml` (docs/testing.md).
# Each case gives customers (by id from customers.csv, or inline) and what they must get.
# These expectations are what the scaffolded ruleset gave the sample customers on
# {date}, with its reasons as comments: check each against what the client expects,
# then add a case for every rule and every grade boundary you change.
"""

TEMPLATES_README = """\
# Templates

Put a template here under the name of one of tierkit's own (`brief.html`, `brief_page.html`,
`kinds/<kind>.html`, …) and briefs for this ruleset use yours instead; start it with
`{% extends "default:brief.html" %}` to change only the blocks you need.
"""

STARTER_RULESET = """\
# yaml-language-server: $schema=./ruleset.schema.json
# A starter ruleset: classify by industry track, grade by a weighted score, and give
# each grade (and the government track) its own resource plan. docs/rulesets.md has
# every key; `tierkit validate ruleset.yaml` checks it, `tierkit test ruleset.yaml`
# runs tests.yaml.
tierkit: 1
name: my-ruleset
version: 0.1.0
locale: en
label: {en: My client, zh: 我的客户}

# The customer data contract: one entry per column (aliases match other headers).
fields:
  id: {type: string, required: true, label: {en: Customer ID, zh: 客户编号}, aliases: [customer_id, 客户编号]}
  name: {type: string, required: true, label: {en: Customer name, zh: 客户名称}, aliases: [客户名称]}
  owner: {type: string, label: {en: Account owner, zh: 负责销售}, aliases: [负责销售]}
  industry:
    type: enum
    values: [government, finance, manufacturing, retail, other]
    default: other
    label: {en: Industry, zh: 行业}
    aliases: [行业]
  annual_procurement: {type: number, required: true, unit: CNY, label: {en: Annual procurement, zh: 年采购总额}, aliases: [年采购总额]}
  our_revenue_12m: {type: number, default: 0, unit: CNY, label: {en: "Our revenue, 12 months", zh: 近12个月收入}, aliases: [近12个月收入]}
  gross_margin_pct: {type: number, unit: "%", label: {en: Gross margin, zh: 毛利率}, aliases: [毛利率]}

# Derived features: expressions over fields (and other derived features).
derive:
  share_of_wallet:
    expr: "our_revenue_12m / annual_procurement if annual_procurement > 0 else none"
    label: {en: Share of wallet, zh: 钱包份额}

schemes:
  # Classify (分类): which track, hence how to sell. The first matching rule wins.
  - id: track
    kind: rules
    label: {en: Industry track, zh: 行业赛道}
    rules:
      - id: government
        when: "industry == 'government'"
        label: {en: Government, zh: 政府}
        tags: [compliance, long-approval]
      - id: finance
        when: "industry == 'finance'"
        label: {en: Finance, zh: 金融}
        tags: [security-first]
    default: {id: general, label: {en: General, zh: 通用}}

  # Grade (分级): how much to invest. Each indicator gives 0-100 points; the score is
  # their weighted sum. One missing indicator is tolerated (the rest are renormalised).
  - id: grade
    kind: weighted
    label: {en: Account grade, zh: 客户等级}
    missing: {tolerance: 1}
    indicators:
      - id: purchase_scale
        label: {en: Purchase scale, zh: 采购规模}
        weight: 0.4
        value: annual_procurement
        bins: [{min: 1.0e9, points: 100}, {min: 1.0e8, points: 70}, {min: 1.0e7, points: 40}, {min: 0, points: 10}]
      - id: profit_room
        label: {en: Profit room, zh: 利润空间}
        weight: 0.3
        value: gross_margin_pct
        linear: {from: 5, to: 40}
      - id: relationship
        label: {en: Our relationship, zh: 合作深度}
        weight: 0.3
        value: share_of_wallet
        linear: {from: 0, to: 0.3}
    grades:
      - {id: A, min: 60, label: {en: "A: key account", zh: A 重点客户}}
      - {id: B, min: 35, label: {en: "B: growth account", zh: B 成长客户}}
      - {id: C, min: 0, label: {en: "C: long tail", zh: C 长尾客户}}

# Best first: by score, then by procurement.
rank:
  - {by: grade.score, order: desc}
  - {by: annual_procurement, order: desc}

# Allocate differently (差异化配置): the first matching rule gives the plan.
allocation:
  rules:
    - id: key_government
      when: "grade.label == 'A' and track.label == 'government'"
      set:
        team: {en: Key account team + compliance specialist, zh: 大客户团队+合规专员}
        cadence_days: 14
        executive_sponsor: {en: VP Sales, zh: 销售副总裁}
        actions: [{en: Map the approval chain, zh: 梳理审批链条}]
    - id: key
      when: "grade.label == 'A'"
      set: {team: {en: Senior account manager, zh: 资深客户经理}, cadence_days: 30}
    - id: growth
      when: "grade.label == 'B'"
      set: {team: {en: Account manager, zh: 客户经理}, cadence_days: 60}
  default:
    id: self_service
    set: {team: {en: Inside sales, zh: 电话销售}, cadence_days: 120, service_level: {en: Self-service, zh: 自助服务}}
"""

STARTER_CUSTOMERS = [
    ("id", "name", "owner", "industry", "annual_procurement", "our_revenue_12m", "gross_margin_pct"),
    ("C00001", "江苏省财政厅", "张伟", "government", "2.5e9", "1.2e8", "31"),
    ("C00002", "Harbor Trust Bank", "李娜", "finance", "6.0e8", "9.0e7", "36"),
    ("C00003", "苏州精工机械有限公司", "王芳", "manufacturing", "8.0e7", "6.0e6", "18"),
    ("C00004", "Northwind Retail", "张伟", "retail", "2.0e7", "0", "12"),
    ("C00005", "杭州市教育局", "李娜", "government", "4.0e7", "1.0e6", ""),
    ("C00006", "宁波小商品批发部", "王芳", "retail", "3.0e6", "2.0e5", "9"),
    ("C00007", "Acme Components", "张伟", "manufacturing", "1.5e8", "3.0e7", "22"),
    ("C00008", "无锡新能源科技有限公司", "李娜", "other", "9.0e8", "", "27"),
]
