"""Sample data for the ``retail-membership`` ruleset: a beauty salon's member visits.

One file, ``retail-membership/orders.csv`` (UTF-8 with a BOM, Chinese headers as a
salon's point-of-sale system exports them: 订单号, 客户编号, 会员姓名, 下单日期, 项目,
金额), one row per paid visit or card purchase of about 2,000 members from January
2024 to the end of October 2026.  There is no customer file: the ruleset works from
the visits alone.

Members differ the way a salon's do: a fifth came once for a trial and never again,
occasional visitors come every two to four months, regulars every few weeks, and a
small VIP circle every other week and buys prepaid treatment cards — so spending is
long-tailed.  Many members drift away after some months.  Visits and card sales follow
the salon's calendar: Women's Day (3.8), the weeks before the Spring Festival, 520
and Qixi, and the Double 11 card sale bring peaks; the Spring Festival holiday and the
National Day week are quiet.
"""

from __future__ import annotations

import datetime
import math
import random
from pathlib import Path

from generate import AS_OF, write_csv

NAME = "retail-membership"
SEED = 20261124
N_MEMBERS = 2000
FIRST_DAY = datetime.date(2024, 1, 1)
LAST_DAY = AS_OF - datetime.timedelta(days=1)

SPRING_FESTIVAL = [datetime.date(2024, 2, 10), datetime.date(2025, 1, 29), datetime.date(2026, 2, 17)]
QIXI = [datetime.date(2024, 8, 10), datetime.date(2025, 8, 29), datetime.date(2026, 8, 19)]

# (kind, share, days between visits, price level, chance a member drifts away)
MEMBER_KINDS = [
    ("trial", 17, None, 0, 1.0),
    ("occasional", 35, 120, 0, 0.5),
    ("regular", 38, 30, 1, 0.45),
    ("vip", 10, 14, 2, 0.25),
]

# (item, price); a member's price level picks from the cheaper or dearer end.
TREATMENTS = [
    ("基础面部护理", 198), ("美甲", 168), ("眼部护理", 238), ("深层清洁", 268), ("补水护理", 298),
    ("头皮护理", 328), ("肩颈理疗", 358), ("背部SPA", 398), ("抗衰紧致", 680), ("光子嫩肤", 1280),
]
CARDS = [("疗程卡", 1980), ("储值卡", 3000), ("疗程卡", 3980), ("储值卡", 5000), ("年卡", 6800),
         ("储值卡", 10000), ("至尊年卡", 19800)]

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
ZH_GIVEN = ["静", "丽", "敏", "婷", "娜", "芳", "雪", "琳", "颖", "倩", "晶", "悦", "欣怡", "梦瑶", "雅婷",
            "思琪", "诗涵", "佳怡", "晓燕", "慧敏", "子涵", "若曦", "雨桐", "美玲", "秀英", "丹", "蕾", "洁"]
EN_GIVEN = ["Lily", "Grace", "Vivian", "Cindy", "Amy", "Coco", "Jessica", "Fiona", "Sophia", "Emma",
            "Yoyo", "Kiki", "Angela", "Tina", "Helen", "Iris"]
ENGLISH_NAME_SHARE = 0.12

COLUMNS = ["订单号", "客户编号", "会员姓名", "下单日期", "项目", "金额"]


def generate(n: int = N_MEMBERS, seed: int = SEED) -> list[dict]:
    """Return the visits as typed rows keyed by the Chinese column names, by date."""
    rng = random.Random(seed)
    visits = []
    for i in range(1, n + 1):
        member = f"M{i:05d}"
        name = _name(rng)
        kind, _, gap, level, drift = rng.choices(MEMBER_KINDS, [k[1] for k in MEMBER_KINDS])[0]
        joined = _join_date(rng)
        if kind == "trial":
            visits.append(_visit(rng, member, name, joined, level, card_chance=0.03))
            continue
        gap *= math.exp(rng.gauss(0.0, 0.3))  # each member her own pace
        end = LAST_DAY
        if rng.random() < drift:  # drifts away after some months
            end = min(LAST_DAY, joined + datetime.timedelta(days=int(rng.expovariate(1 / 300)) + 20))
        card_chance = {0: 0.01, 1: 0.03, 2: 0.08}[level]
        day = joined
        while day <= end:
            visits.append(_visit(rng, member, name, day, level, card_chance))
            day = _next_visit(rng, day, gap)
        # The card sales of Women's Day and Double 11 bring in members who are still around.
        for event in _card_sales():
            if joined <= event <= end and rng.random() < {0: 0.06, 1: 0.12, 2: 0.3}[level]:
                visits.append(_card(rng, member, name, event + datetime.timedelta(days=rng.randrange(8)), level))
    visits = [v for v in visits if FIRST_DAY <= v["下单日期"] <= LAST_DAY]
    visits.sort(key=lambda v: (v["下单日期"], v["客户编号"]))
    for number, visit in enumerate(visits, 1):
        visit["订单号"] = f"{visit['下单日期']:%Y%m%d}{number:06d}"
    return [{key: visit[key] for key in COLUMNS} for visit in visits]


def _join_date(rng: random.Random) -> datetime.date:
    """A third were members before the data starts; the rest joined since, more around 3.8 and Double 11."""
    if rng.random() < 0.33:
        return FIRST_DAY + datetime.timedelta(days=rng.randrange(40))
    while True:
        day = FIRST_DAY + datetime.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
        if rng.random() < _pull(day) / 2.5:
            return day


# (first day, last day, chance to pull a visit due soon into the window): the salon's calendar.
def _events() -> list[tuple[datetime.date, datetime.date, float]]:
    events = []
    for year in (2024, 2025, 2026):
        events += [
            (datetime.date(year, 3, 1), datetime.date(year, 3, 8), 0.7),  # Women's Day (3.8)
            (datetime.date(year, 5, 14), datetime.date(year, 5, 20), 0.35),  # 520
            (datetime.date(year, 11, 1), datetime.date(year, 11, 11), 0.6),  # Double 11
        ]
    for festival in SPRING_FESTIVAL:  # look good for the new year
        events.append((festival - datetime.timedelta(days=24), festival - datetime.timedelta(days=3), 0.6))
    for qixi in QIXI:
        events.append((qixi - datetime.timedelta(days=7), qixi, 0.35))
    return sorted(events)


EVENTS = _events()
# Quiet weeks: the Spring Festival holiday and National Day travel.
QUIET = [(f - datetime.timedelta(days=2), f + datetime.timedelta(days=8)) for f in SPRING_FESTIVAL] + [
    (datetime.date(year, 10, 1), datetime.date(year, 10, 7)) for year in (2024, 2025, 2026)]


def _next_visit(rng: random.Random, day: datetime.date, gap: float) -> datetime.date:
    """The visit after ``day``: about ``gap`` days on, drawn into an event window that opens
    before it is due, and pushed past a quiet week."""
    due = day + datetime.timedelta(days=max(2, round(gap * rng.uniform(0.6, 1.4))))
    soonest = day + datetime.timedelta(days=max(2, round(0.7 * gap)))
    for first, last, chance in EVENTS:
        if soonest <= first <= due and rng.random() < chance:
            return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))
    for first, last in QUIET:
        if first <= due <= last and rng.random() < 0.75:
            return last + datetime.timedelta(days=1 + rng.randrange(5))
    return due


def _pull(day: datetime.date) -> float:
    """How strongly the calendar pulls on a day (1 is an ordinary day): joining and card sales."""
    for first, last, chance in EVENTS:
        if first <= day <= last:
            return 1.0 + 2.5 * chance
    for first, last in QUIET:
        if first <= day <= last:
            return 0.3
    return 1.0


def _card_sales() -> list[datetime.date]:
    """The first days of the Women's Day and Double 11 card sales in the data."""
    days = []
    for year in (2024, 2025, 2026):
        days += [datetime.date(year, 3, 1), datetime.date(year, 11, 1)]
    return [d for d in days if d < LAST_DAY]


def _visit(rng: random.Random, member: str, name: str, day: datetime.date, level: int, card_chance: float) -> dict:
    if rng.random() < card_chance * _pull(day):
        return _card(rng, member, name, day, level)
    low, high = {0: (0, 6), 1: (2, 9), 2: (4, 10)}[level]
    item, price = TREATMENTS[rng.randrange(low, high)]
    if rng.random() < 0.25:  # member discount on the day
        price = round(price * rng.choice([0.8, 0.85, 0.9]), 1)
    return _row(member, name, day, item, float(price))


def _card(rng: random.Random, member: str, name: str, day: datetime.date, level: int) -> dict:
    low, high = {0: (0, 3), 1: (0, 5), 2: (2, 7)}[level]
    item, price = CARDS[rng.randrange(low, high)]
    return _row(member, name, day, item, float(price))


def _row(member: str, name: str, day: datetime.date, item: str, amount: float) -> dict:
    return {"订单号": "", "客户编号": member, "会员姓名": name, "下单日期": day, "项目": item, "金额": amount}


def _name(rng: random.Random) -> str:
    surname = rng.choice(ZH_SURNAMES)
    if rng.random() < ENGLISH_NAME_SHARE:
        return f"{rng.choice(EN_GIVEN)} {_pinyin_surname(surname)}"
    return surname + rng.choice(ZH_GIVEN)


PINYIN = dict(zip(
    ZH_SURNAMES,
    ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
     "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Zheng", "Liang", "Xie", "Song", "Tang", "Xu", "Han", "Feng",
     "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang", "Yu", "Yu", "Du",
     "Ye", "Cheng", "Wei", "Su", "Lü", "Ding", "Ren", "Shen"],
))


def _pinyin_surname(surname: str) -> str:
    return PINYIN[surname]


def write(out: Path) -> list[Path]:
    """Write ``retail-membership/orders.csv`` under ``out``."""
    folder = Path(out) / NAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "orders.csv"
    write_csv(path, generate())
    return [path]
