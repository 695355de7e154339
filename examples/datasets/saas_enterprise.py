"""Sample data for the ``saas-enterprise`` ruleset: an enterprise-software vendor's accounts.

Two files, both UTF-8 with a BOM so that Excel opens them correctly:

- ``saas-enterprise/accounts.csv``: 800 accounts from the CRM — government bodies,
  banks and insurers, factories and utilities, schools, hospitals, retailers and
  internet companies across twenty provinces — with their GB/T 4754-2017 industry
  code (blank for some, so the name decides), size, strategic-logo tier, the account
  executive's estimate of the full annual contract value the account could reach,
  licensed and active seats, the customer-success health score, and what the sales
  cycle showed of the buyer: discount requests, the price weight of their tender
  (RFP), a formal security review, the SLA tier asked for, a pilot request, the
  early-access (beta) programme;
- ``saas-enterprise/invoices.csv``: the billing system's invoices since January 2019,
  one per billing period (annual, half-yearly or quarterly in advance) plus prorated
  expansion invoices, with the amount paid, the due date and the payment date.

Contracts are signed at quarter ends and above all in December (budgets close with
the year), so renewals and invoices follow the same calendar.  Most customers renew
and grow their seats; some stopped paying a year or more ago (a renewal overdue, or
gone); some signed this half-year; about one account in seven is a prospect with no
invoice yet.  Public bodies pay slowly, a few invoices stay unpaid.  The next
scheduled invoice of some accounts is already issued with a date after 1 November
2026, and the billing system still holds a few invoices of accounts that were merged
or deleted in the CRM: ``tierkit evaluate`` counts and reports both.
"""

from __future__ import annotations

import datetime
import math
import random
from pathlib import Path

from generate import AS_OF, EN_BRANDS, PROVINCE_WEIGHTS, PROVINCES, TRADE_NAMES, _name, unique_name, write_csv

NAME = "saas-enterprise"
SEED = 20261124
N_ACCOUNTS = 800
FIRST_DAY = datetime.date(2019, 1, 1)
LIST_PRICE = 1800  # CNY per seat and year, for the core modules

ACCOUNT_COLUMNS = [
    "id", "name", "owner", "industry_code", "region", "employees", "logo_tier",
    "potential_arr", "licensed_seats", "active_seats", "health_score",
    "discount_requests", "rfp_price_weight", "security_review", "sla_tier",
    "pilot_requested", "beta_programme",
]
INVOICE_COLUMNS = ["invoice_no", "account_id", "invoice_date", "amount", "paid_amount", "due_date", "paid_date"]

OWNERS = ["周婷", "吴昊", "郑凯", "孙悦", "马骏", "朱琳", "胡斌", "郭静", "何磊", "林晓"]
OWNER_WEIGHTS = [14, 13, 12, 11, 11, 10, 9, 8, 7, 5]

# sector: (weight, GB/T 4754-2017 codes, median log10 employees, share of staff who use
# the software, (cost, quality, innovation) weights of the buyer's latent need type,
# chance of a formal tender, days to pay)
SECTORS = {
    "government": (15, ["S9221", "S9223", "S9224", "S9225", "S9226"], 2.8, 0.7, (50, 42, 8), 0.9, 75),
    "finance": (13, ["J6621", "J6622", "J6712", "J6811", "J6820", "J6911"], 3.3, 0.8, (22, 62, 16), 0.6, 25),
    "manufacturing": (26, ["C3484", "C3670", "C3982", "C2614", "C3130", "C3411", "C3824"], 2.9, 0.25,
                      (60, 26, 14), 0.25, 40),
    "energy": (6, ["D4411", "D4415", "D4416", "D4420", "D4511", "B0610"], 3.5, 0.3, (45, 42, 13), 0.6, 45),
    "education": (6, ["P8341", "P8336"], 3.1, 0.4, (62, 30, 8), 0.8, 60),
    "healthcare": (7, ["Q8411", "Q8415"], 3.1, 0.35, (40, 46, 14), 0.7, 60),
    "retail": (8, ["F5211", "F5212", "F5292"], 3.0, 0.2, (62, 18, 20), 0.25, 35),
    "internet": (12, ["I6510", "I6450", "I6420"], 2.6, 0.9, (28, 20, 52), 0.15, 30),
    "other": (7, ["L7211", "E4710", "G5430"], 2.4, 0.4, (55, 30, 15), 0.25, 40),
}
SECTOR_NAMES = list(SECTORS)
SECTOR_WEIGHTS = [SECTORS[s][0] for s in SECTOR_NAMES]
PUBLIC = {"government", "education", "healthcare"}

INTERNET_ZH = ["{city}{brand}网络科技有限公司", "{city}{brand}信息技术有限公司", "{city}{brand}数据科技有限公司",
               "{city}{brand}软件股份有限公司", "{city}{brand}互动娱乐有限公司"]
INTERNET_EN = ["Software", "Cloud", "Data", "Digital", "Interactive", "Networks"]

# Signing months: quarter ends and above all December, when budgets close.
MONTH_WEIGHTS = [5, 4, 7, 6, 6, 10, 6, 6, 10, 7, 9, 16]
YEAR_WEIGHTS = {2019: 6, 2020: 8, 2021: 11, 2022: 14, 2023: 16, 2024: 17, 2025: 17, 2026: 11}
CYCLES = [(12, 75), (6, 15), (3, 10)]  # billing period in months, weight
NEED_TYPES = ["cost", "quality", "innovation"]
UNKNOWN_ACCOUNTS = ["A09901", "A09902", "A09903"]  # merged or deleted in the CRM


def generate(n: int = N_ACCOUNTS, seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """Return ``(accounts, invoices)`` as typed rows (dates, floats, bools, None)."""
    rng = random.Random(seed)
    accounts, invoices = [], []
    used_names: set[str] = set()
    for i in range(1, n + 1):
        account_id = f"A{i:05d}"
        sector = rng.choices(SECTOR_NAMES, SECTOR_WEIGHTS)[0]
        _, codes, size_median, user_share, need_weights, tender_chance, pay_days = SECTORS[sector]
        province = rng.choices(PROVINCES, PROVINCE_WEIGHTS)[0]
        name = unique_name(lambda: _sector_name(rng, sector, province), used_names)
        employees = max(20, int(round(10 ** min(5.5, rng.gauss(size_median, 0.55)), -1)))
        logo = _logo_tier(rng, sector, employees)
        seats_potential = max(20, int(employees * user_share * rng.uniform(0.6, 1.2)))
        modules = rng.uniform(1.0, 2.5)  # how much of the product line the account could use
        potential_arr = float(round(seats_potential * LIST_PRICE * modules, -3))
        need = rng.choices(NEED_TYPES, need_weights)[0]
        discount = {"cost": rng.uniform(0.2, 0.4), "quality": rng.uniform(0.0, 0.15),
                    "innovation": rng.uniform(0.05, 0.25)}[need]
        price = int(round(LIST_PRICE * (1 - discount)))

        prospect = rng.random() < 0.14
        seats = active = health = None
        if not prospect:
            start = _signing_date(rng)
            stopped = rng.random() < 0.18 and start <= AS_OF - datetime.timedelta(days=420)
            cycle = rng.choices([c for c, _ in CYCLES], [w for _, w in CYCLES])[0]
            seats, history = _subscription(rng, account_id, start, stopped, cycle, seats_potential, price,
                                           pay_days, sector)
            invoices += history
            utilisation = 0.0 if stopped else min(1.0, max(0.05, rng.betavariate(5.0, 2.2)))
            active = int(round(seats * utilisation))
            if rng.random() < 0.04:
                health = None  # not yet instrumented by customer success
            else:
                health = _score(rng.gauss(15 if stopped else 22 + 70 * utilisation, 8))

        tender = rng.random() < tender_chance
        accounts.append({
            "id": account_id,
            "name": name,
            "owner": rng.choices(OWNERS, OWNER_WEIGHTS)[0],
            "industry_code": None if rng.random() < 0.15 else rng.choice(codes),
            "region": province[0],
            "employees": employees,
            "logo_tier": logo,
            "potential_arr": potential_arr,
            "licensed_seats": seats,
            "active_seats": active,
            "health_score": health,
            **_buyer_signals(rng, need, sector, tender, prospect),
        })
    for number, account_id in enumerate(UNKNOWN_ACCOUNTS):
        day = datetime.date(2025, 3 + 3 * number, 15)
        invoices.append(_invoice(rng, account_id, day, 36000.0 * (number + 1), 30, "other"))
    invoices.sort(key=lambda row: (row["invoice_date"], row["account_id"]))
    for number, invoice in enumerate(invoices, 1):
        invoice["invoice_no"] = f"INV{invoice['invoice_date'].year}{number:06d}"
    invoices = [{key: invoice[key] for key in INVOICE_COLUMNS} for invoice in invoices]
    return accounts, invoices


def _sector_name(rng: random.Random, sector: str, province: tuple) -> str:
    if sector != "internet":
        return _name(rng, sector, province)
    if rng.random() < 0.4:
        return f"{rng.choice(EN_BRANDS)} {rng.choice(INTERNET_EN)} {rng.choice(['Ltd', 'Inc.', 'Co., Ltd.'])}"
    return rng.choice(INTERNET_ZH).format(city=rng.choice(province[3]), brand=rng.choice(TRADE_NAMES))


def _logo_tier(rng: random.Random, sector: str, employees: int) -> str:
    """flagship (Fortune Global 500, a ministry), national (China top 500, a provincial
    body), regional (listed, a city government), or none."""
    size = math.log10(employees)
    if size >= 4.3:
        weights = [40, 45, 12, 3]
    elif size >= 3.6:
        weights = [6, 30, 40, 24]
    elif size >= 3.0:
        weights = [1, 6, 30, 63]
    else:
        weights = [0, 1, 8, 91]
    if sector == "government":  # bodies are judged by level, not size
        weights = [5, 20, 45, 30]
    return rng.choices(["flagship", "national", "regional", "none"], weights)[0]


def _signing_date(rng: random.Random) -> datetime.date:
    while True:
        year = rng.choices(list(YEAR_WEIGHTS), list(YEAR_WEIGHTS.values()))[0]
        month = rng.choices(range(1, 13), MONTH_WEIGHTS)[0]
        # December deals cluster in the last fortnight
        day = rng.randint(15, 31) if month == 12 else rng.randint(1, 28)
        signed = datetime.date(year, month, day)
        if FIRST_DAY <= signed < AS_OF:
            return signed


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, min(day.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31))


def _subscription(rng, account_id, start, stopped, cycle, seats_potential, price, pay_days, sector):
    """Invoices from ``start``, one per billing period in advance, seats growing at each
    anniversary and now and then mid-term; a stopped account was last invoiced for a
    period that began 400 days ago or more.  Half the running accounts already have
    their next invoice, dated up to 45 days after the as-of date.  Returns (seats now,
    invoices)."""
    penetration = min(0.9, max(0.02, math.exp(rng.gauss(math.log(0.15), 0.8))))
    seats = max(10, int(seats_potential * penetration))
    growth = math.exp(rng.gauss(math.log(1.12), 0.12))
    stop = None
    if stopped:  # the last period paid for ended 400 to 900 days ago
        stop = max(start, AS_OF - datetime.timedelta(days=rng.randint(400, 900)))
    horizon = AS_OF + datetime.timedelta(days=45) if rng.random() < 0.5 else AS_OF
    history, day, period = [], start, 0
    while day <= horizon and (stop is None or day <= stop):
        if period and period % (12 // cycle) == 0:  # an anniversary: renew, with more seats
            seats = min(seats_potential, max(seats, int(seats * growth)))
        history.append(_invoice(rng, account_id, day, seats * price * cycle / 12, pay_days, sector))
        if rng.random() < 0.08 * cycle / 12 and seats < seats_potential:  # a mid-term expansion
            extra = max(5, int(seats * rng.uniform(0.1, 0.4)))
            expanded = day + datetime.timedelta(days=rng.randint(20, 28 * cycle))
            if expanded <= AS_OF and (stop is None or expanded <= stop):
                remaining = max(1, (_add_months(day, cycle) - expanded).days) / 365
                history.append(_invoice(rng, account_id, expanded, extra * price * remaining, pay_days, sector))
                seats += extra
        period += 1
        day = _add_months(start, period * cycle)
    if stopped:
        history[-1]["paid_amount"] = 0.0 if rng.random() < 0.3 else history[-1]["paid_amount"]
        if not history[-1]["paid_amount"]:
            history[-1]["paid_date"] = None
    return seats, history


def _invoice(rng, account_id, day, amount, pay_days, sector) -> dict:
    amount = round(amount, 2)
    due = day + datetime.timedelta(days=60 if sector in PUBLIC else 30)
    paid_on = day + datetime.timedelta(days=max(1, int(rng.gauss(pay_days, pay_days * 0.35))))
    paid = amount
    if paid_on > AS_OF or rng.random() < 0.015:  # not paid yet, or never
        paid, paid_on = 0.0, None
    elif rng.random() < 0.01:  # a partial payment
        paid = round(amount * rng.choice([0.3, 0.5, 0.7]), 2)
    return {"account_id": account_id, "invoice_date": day, "amount": amount,
            "paid_amount": paid, "due_date": due, "paid_date": paid_on}


def _buyer_signals(rng: random.Random, need: str, sector: str, tender: bool, prospect: bool) -> dict:
    """What the sales cycle showed of the buyer, drawn from its latent need type."""
    if prospect and rng.random() < 0.3:
        discounts = None  # no proposal made yet
    else:
        discounts = _poisson(rng, {"cost": 3.0, "quality": 0.7, "innovation": 1.0}[need])
    weight = None
    if tender:
        low, high = {"cost": (40, 70), "quality": (10, 35), "innovation": (10, 30)}[need]
        if sector == "government":
            low = max(low, 30)  # a public tender's price weight has a floor
        weight = float(5 * round(rng.uniform(low, high) / 5))
    security = rng.random() < ({"quality": 0.7}.get(need, 0.12) + (0.2 if sector == "finance" else 0.0))
    if need == "quality":
        sla = rng.choices(["standard", "premium", "platinum"], [35, 45, 20])[0]
    else:
        sla = rng.choices(["standard", "premium", "platinum"], [85, 13, 2])[0]
    pilot = rng.random() < (0.7 if need == "innovation" else 0.08)
    beta = not prospect and rng.random() < (0.5 if need == "innovation" else 0.04)
    return {"discount_requests": discounts, "rfp_price_weight": weight, "security_review": security,
            "sla_tier": sla, "pilot_requested": pilot, "beta_programme": beta}


def _score(value: float) -> int:
    return int(min(100, max(0, round(value))))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def write(out: Path) -> list[Path]:
    """Write ``saas-enterprise/accounts.csv`` and ``invoices.csv`` under ``out``."""
    accounts, invoices = generate()
    folder = Path(out) / NAME
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "accounts.csv", folder / "invoices.csv"]
    write_csv(paths[0], accounts)
    write_csv(paths[1], invoices)
    return paths
