"""Sample data for the ``fmcg-distribution`` ruleset: an FMCG brand's regional distributors.

Two files, both UTF-8 with a BOM so that Excel opens them correctly:

- ``fmcg-distribution/distributors.csv``: 500 distributors (经销商) across twenty
  provinces, with the sales team's survey scores (influence, satisfaction,
  cooperation, 0-100), the share of their shelf that is ours (exclusivity, 0-1),
  their total annual sales over every brand they carry, the last visit, complaints
  in the last 90 days, competitor contact, and the stage of the local market;
- ``fmcg-distribution/orders.csv``: their purchase orders from September 2024 to the
  end of October 2026, with the amount paid so far and the payment due date, so
  that overdue receivables exist.

The orders follow the trade's calendar: distributors stock up in the five weeks
before the Spring Festival (the year's peak), buy little in the holiday itself, and
stock up again before the Mid-Autumn Festival.  Most distributors are steady, some
grow, some decline and a few have stopped ordering; a handful signed recently and
some of those have not ordered yet.  A few pay slowly or leave orders unpaid.
"""

from __future__ import annotations

import datetime
import math
import random
from pathlib import Path

from generate import AS_OF, OWNER_WEIGHTS, OWNERS, PROVINCE_WEIGHTS, PROVINCES, TRADE_NAMES, unique_name, write_csv

NAME = "fmcg-distribution"
SEED = 20261123
N_DISTRIBUTORS = 500
FIRST_DAY = datetime.date(2024, 9, 1)
LAST_DAY = AS_OF - datetime.timedelta(days=1)

# Spring Festival (春节) and Mid-Autumn Festival (中秋节) dates in the years covered.
SPRING_FESTIVAL = [datetime.date(2025, 1, 29), datetime.date(2026, 2, 17), datetime.date(2027, 2, 6)]
MID_AUTUMN = [datetime.date(2024, 9, 17), datetime.date(2025, 10, 6), datetime.date(2026, 9, 25)]

# How far our brand has got in each province: long-established east-coast markets are
# late (the easy distributors are won, nails are the growth), the newest are early.
LATE_MARKETS = {"江苏", "广东", "浙江", "上海", "北京", "山东"}
EARLY_MARKETS = {"云南", "广西", "江西", "辽宁", "陕西"}

# (trajectory, weight): how a distributor's orders develop over the two years.
TRAJECTORIES = [("steady", 60), ("growing", 15), ("declining", 9), ("churned", 5), ("new", 9), ("signed", 2)]

DISTRIBUTOR_TRADES = ["商贸", "食品贸易", "副食品批发", "酒水饮料", "日化百货", "供应链管理", "食品", "商业"]
DISTRIBUTOR_SUFFIXES = ["有限公司", "有限公司", "有限责任公司", "商行", "经营部"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
EN_BRANDS = ["Harbor", "Golden Grain", "Evergreen", "Sunrise", "Pearl River", "Jade", "Orient",
             "Lotus", "Summit", "Bluebird", "Silk Road", "Red Lantern"]
EN_TRADES = ["Foods Distribution", "Trading", "Beverage Supply", "Consumer Goods", "FMCG Logistics"]
EN_SUFFIXES = ["Co., Ltd.", "Ltd", "Trading Co."]
ENGLISH_NAME_SHARE = 0.08

NAIL_REASONS = ["no_trust", "competitor_offer", "internal_conflict"]

DISTRIBUTOR_COLUMNS = [
    "id", "name", "owner", "region", "city", "market_stage", "partner_since", "total_sales",
    "exclusivity", "influence", "satisfaction", "cooperation", "last_visit_date",
    "complaints_90d", "competitor_contact", "nail_reason",
]
ORDER_COLUMNS = ["order_id", "customer_id", "order_date", "amount", "paid_amount", "due_date"]


def generate(n: int = N_DISTRIBUTORS, seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """Return ``(distributors, orders)`` as typed rows (dates, floats, bools, None)."""
    rng = random.Random(seed)
    distributors, orders = [], []
    used_names: set[str] = set()
    for i in range(1, n + 1):
        province = rng.choices(PROVINCES, PROVINCE_WEIGHTS)[0]
        trajectory = rng.choices([t for t, _ in TRAJECTORIES], [w for _, w in TRAJECTORIES])[0]
        customer_id = f"D{i:04d}"
        # Total annual sales over every brand: lognormal, median 8 million CNY.
        total_sales = _round_significant(10 ** min(8.7, max(6.0, rng.gauss(6.9, 0.42))), 3)
        size = math.log10(total_sales) - 6.9  # about -0.9 .. +1.8
        # Big distributors carry many brands: less of their shelf is ours.
        exclusivity = rng.betavariate(2.2, 5.0) * (1.0 - 0.45 * max(0.0, size))
        exclusivity = round(min(0.85, max(0.01, exclusivity)), 2)
        # Our annual purchases from them follow their size and our share of their shelf.
        volume = total_sales * exclusivity * math.exp(rng.gauss(0.0, 0.35)) * 0.9
        # Orders a year: faster for big and stable ones, but not strictly (traffic and stream customers).
        frequency = min(60.0, max(4.0, math.exp(rng.gauss(math.log(22) + 0.2 * size, 0.5))))
        discipline = rng.choices(["good", "slow", "bad"], [76, 17, 7])[0]
        terms = rng.choice([30, 30, 45, 60]) if size > 0.3 else rng.choice([15, 30, 30, 45])

        if trajectory == "signed":
            partner_since = AS_OF - datetime.timedelta(days=rng.randint(10, 80))
        elif trajectory == "new":
            partner_since = AS_OF - datetime.timedelta(days=rng.randint(60, 330))
        else:
            partner_since = datetime.date(rng.randint(2012, 2023), rng.randint(1, 12), rng.randint(1, 28))

        orders += _orders(rng, customer_id, trajectory, partner_since, volume, frequency, discipline, terms)

        declining = trajectory in ("declining", "churned")
        influence = _score(rng, 58 + 16 * size, 14)
        satisfaction = _score(rng, 74 - (14 if declining else 0), 11)
        cooperation = _score(rng, 56 + 45 * exclusivity + (-12 if declining else 0), 12)
        gap = rng.random() < (0.35 if declining else 0.025)
        visit_days = rng.randint(61, 160) if gap else 1 + int(55 * rng.random() ** 1.6)
        last_visit = AS_OF - datetime.timedelta(days=visit_days)
        if trajectory == "signed" and last_visit < partner_since:
            last_visit = partner_since
        complaints = _poisson(rng, 1.0 if declining else 0.2)
        competitor = rng.random() < (0.35 if declining else 0.03)
        nail_reason = None
        if exclusivity < 0.15 and size > 0.2 and rng.random() < 0.7:
            nail_reason = rng.choices(NAIL_REASONS, [4, 5, 2])[0]
        short = province[1]
        city = rng.choice(province[3])
        stage = "late" if short in LATE_MARKETS else "early" if short in EARLY_MARKETS else "mid"
        distributors.append({
            "id": customer_id,
            "name": _unique_name(rng, city, size < -0.2, used_names),
            "owner": rng.choices(OWNERS, OWNER_WEIGHTS)[0],
            "region": province[0],
            "city": city,
            "market_stage": stage,
            "partner_since": partner_since,
            "total_sales": total_sales,
            "exclusivity": None if rng.random() < 0.015 else exclusivity,
            "influence": influence,
            "satisfaction": satisfaction,
            "cooperation": cooperation,
            "last_visit_date": last_visit,
            "complaints_90d": complaints,
            "competitor_contact": competitor,
            "nail_reason": nail_reason,
        })
    orders.sort(key=lambda o: (o["order_date"], o["customer_id"]))
    for number, order in enumerate(orders, 1):
        order["order_id"] = f"SO{order['order_date'].year}{number:06d}"
    orders = [{key: order[key] for key in ORDER_COLUMNS} for order in orders]
    return distributors, orders


def _orders(rng: random.Random, customer_id: str, trajectory: str, partner_since: datetime.date,
            volume: float, frequency: float, discipline: str, terms: int) -> list[dict]:
    """One distributor's orders, week by week, with the trade's seasonality."""
    start = max(FIRST_DAY, partner_since + datetime.timedelta(days=rng.randint(7, 40)))
    end = LAST_DAY
    if trajectory == "signed":
        return []
    if trajectory == "churned":
        end = AS_OF - datetime.timedelta(days=rng.randint(380, 650))
    span = max(1, (LAST_DAY - FIRST_DAY).days)
    order_size = volume / frequency
    gap_days = 365 / frequency
    rows = []
    day = start + datetime.timedelta(days=rng.randrange(max(1, int(gap_days))))
    while day <= end:
        progress = (day - FIRST_DAY).days / span  # 0 at the start of the data, 1 at its end
        trend = {"growing": 0.7 + 0.7 * progress, "declining": 1.25 - 0.9 * progress}.get(trajectory, 1.0)
        season = _season(day)
        amount = order_size * trend * (0.6 + 0.4 * season) * math.exp(rng.gauss(0.0, 0.25))
        amount = float(max(500, round(amount, -1)))
        due = day + datetime.timedelta(days=terms)
        rows.append({"customer_id": customer_id, "order_date": day, "amount": amount,
                     "paid_amount": _paid(rng, amount, day, due, discipline), "due_date": due})
        # Distributors reorder on a cycle, sooner when the season pulls (and as they grow).
        pace = season * (0.75 + 0.25 * trend)
        day += datetime.timedelta(days=max(1, round(gap_days / pace * rng.uniform(0.7, 1.3))))
    return rows


def _season(day: datetime.date) -> float:
    """Order intensity on a day: Spring Festival stocking is the peak, the holiday a trough."""
    for festival in SPRING_FESTIVAL:
        before = (festival - day).days
        if 3 <= before <= 38:
            return 2.3
        if -14 <= before < 3:
            return 0.35
    for festival in MID_AUTUMN:
        if 5 <= (festival - day).days <= 28:
            return 1.45
    if day.month in (6, 7, 8):
        return 1.1  # summer drinks
    return 1.0


def _paid(rng: random.Random, amount: float, ordered: datetime.date, due: datetime.date, discipline: str) -> float:
    """What the distributor had paid by the end of the data."""
    if due >= AS_OF:  # not due yet: some pay early, most not yet
        return amount if rng.random() < 0.35 else 0.0
    age = (AS_OF - ordered).days
    unpaid_chance = {"good": 0.0, "slow": 0.35, "bad": 0.65}[discipline] if age <= 200 else 0.0
    if discipline == "good" and age <= 120 and rng.random() < 0.01:
        unpaid_chance = 1.0  # even good payers forget an invoice now and then
    if rng.random() < unpaid_chance:
        return float(round(amount * rng.choice([0.0, 0.0, 0.3, 0.5, 0.8]), -1))
    return amount


def _score(rng: random.Random, centre: float, sigma: float) -> int:
    return int(min(99, max(5, round(rng.gauss(centre, sigma)))))


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; ``mean`` is small here."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _round_significant(value: float, digits: int) -> float:
    return float(round(value, digits - 1 - math.floor(math.log10(value))))


def _unique_name(rng: random.Random, city: str, small: bool, used: set[str]) -> str:
    """A company name; a small distributor is sometimes a family dealer (王记副食批发部)."""

    def draw() -> str:
        if rng.random() < ENGLISH_NAME_SHARE:
            return f"{rng.choice(EN_BRANDS)} {rng.choice(EN_TRADES)} {rng.choice(EN_SUFFIXES)}"
        if small and rng.random() < 0.4:
            return f"{city}{rng.choice(SURNAMES)}记{rng.choice(['副食批发部', '酒水商行', '食品经营部'])}"
        suffix = rng.choice(DISTRIBUTOR_SUFFIXES)  # drawn first: the committed data depends on the order
        return f"{city}{rng.choice(TRADE_NAMES)}{rng.choice(DISTRIBUTOR_TRADES)}{suffix}"

    return unique_name(draw, used, tries=30)


def write(out: Path) -> list[Path]:
    """Write ``fmcg-distribution/distributors.csv`` and ``orders.csv`` under ``out``."""
    distributors, orders = generate()
    folder = Path(out) / NAME
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "distributors.csv", folder / "orders.csv"]
    write_csv(paths[0], distributors)
    write_csv(paths[1], orders)
    return paths
