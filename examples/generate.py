"""Generate the synthetic sample data shipped in ``examples/``.

Every dataset is one ``generate_<name>(n, seed)`` function that returns typed rows
(``float``, ``bool``, ``datetime.date`` or ``None`` for a blank cell) and one
``write_<name>(out_dir)`` function that writes its files. ``main()`` regenerates them all.
The seed is fixed and only the standard library is used, so the same command always
writes the same bytes::

    python examples/generate.py [--out examples]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib
import math
import random
import sys
from pathlib import Path

SEED = 20261122
AS_OF = datetime.date(2026, 11, 1)
EARLIEST_ORDER = datetime.date(2024, 1, 1)

# --------------------------------------------------------------------------- b2b-manufacturing

B2B_COLUMNS = [
    "id", "name", "owner", "industry", "region", "annual_procurement", "our_revenue_12m",
    "gross_margin_pct", "fortune500", "industry_leader", "employees", "last_order_date",
    # The CRM's roll-ups of the ERP order history, and the rep's assessments.
    "first_order_date", "order_count", "revenue_prev_12m", "created_date", "influence",
    "satisfaction", "cooperation", "complaints_90d", "competitor_contact", "nail_reason",
]
B2B_COLUMNS_ZH = [
    "客户编号", "客户名称", "负责销售", "行业", "区域", "年采购总额", "近12个月收入",
    "毛利率", "世界500强", "行业龙头", "员工人数", "最近下单日期",
    "首次下单日期", "累计订单数", "前12个月收入", "建档日期", "影响力",
    "满意度", "配合度", "近90天投诉次数", "接触竞争对手", "钉子原因",
]

OWNERS = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨帆", "赵磊", "黄丽"]
OWNER_WEIGHTS = [18, 16, 14, 13, 12, 11, 9, 7]  # some reps carry bigger books

INDUSTRIES = ["manufacturing", "energy", "government", "finance",
              "education", "healthcare", "retail", "other"]
INDUSTRY_WEIGHTS = [40, 10, 12, 10, 8, 8, 7, 5]

# Median of log10(annual procurement, CNY) per industry; utilities and banks buy big.
PROCUREMENT_LOG10_MEDIAN = {
    "manufacturing": 7.5, "energy": 8.3, "government": 7.9, "finance": 8.0,
    "education": 7.2, "healthcare": 7.4, "retail": 7.3, "other": 7.0,
}
PROCUREMENT_LOG10_SIGMA = 0.9
PROCUREMENT_MIN, PROCUREMENT_MAX = 1.0e6, 5.0e10

# Typical gross margin (%) we make per industry; cost-first factories squeeze it hardest.
MARGIN_CENTRE = {
    "manufacturing": 16, "energy": 18, "government": 28, "finance": 30,
    "education": 25, "healthcare": 27, "retail": 14, "other": 20,
}

# (province, short name, weight, cities); the short name is used inside company names.
PROVINCES = [
    ("江苏省", "江苏", 12, ["苏州", "南京", "无锡", "常州", "南通"]),
    ("广东省", "广东", 12, ["广州", "深圳", "东莞", "佛山", "珠海"]),
    ("浙江省", "浙江", 10, ["杭州", "宁波", "温州", "绍兴", "嘉兴"]),
    ("山东省", "山东", 8, ["济南", "青岛", "烟台", "潍坊"]),
    ("上海市", "上海", 7, ["上海"]),
    ("北京市", "北京", 6, ["北京"]),
    ("四川省", "四川", 5, ["成都", "绵阳", "德阳"]),
    ("湖北省", "湖北", 5, ["武汉", "襄阳", "宜昌"]),
    ("河南省", "河南", 5, ["郑州", "洛阳", "新乡"]),
    ("福建省", "福建", 4, ["福州", "厦门", "泉州"]),
    ("湖南省", "湖南", 4, ["长沙", "株洲", "湘潭"]),
    ("安徽省", "安徽", 4, ["合肥", "芜湖", "马鞍山"]),
    ("河北省", "河北", 3, ["石家庄", "唐山", "保定"]),
    ("天津市", "天津", 3, ["天津"]),
    ("重庆市", "重庆", 3, ["重庆"]),
    ("陕西省", "陕西", 3, ["西安", "宝鸡"]),
    ("辽宁省", "辽宁", 3, ["沈阳", "大连", "鞍山"]),
    ("江西省", "江西", 2, ["南昌", "赣州"]),
    ("广西壮族自治区", "广西", 2, ["南宁", "柳州"]),
    ("云南省", "云南", 2, ["昆明", "曲靖"]),
]
PROVINCE_WEIGHTS = [p[2] for p in PROVINCES]

TRADE_NAMES = [
    "恒达", "华盛", "远航", "金泰", "宏图", "瑞丰", "永信", "鼎新", "中联", "汇通",
    "博远", "天成", "新锐", "万邦", "安泰", "精诚", "三友", "东升", "嘉禾", "德润",
    "盛世", "华创", "亿通", "信达", "宏远", "凯达", "同力", "立信", "佳和", "振华",
    "富源", "卓越", "海纳", "长盛", "银河", "锦程", "泰和", "明德", "华瑞", "启航",
]
COMPANY_SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司", "集团"]
COMPANY_SUFFIX_WEIGHTS = [60, 25, 10, 5]
NUMERALS = "一二三四五六七八九"

MANUFACTURING_TRADES = [
    "精密机械", "汽车零部件", "电子科技", "重工机械", "化工", "钢铁", "新材料", "模具",
    "电气设备", "数控机床", "纺织", "塑胶制品", "液压设备", "轴承", "食品机械",
    "包装机械", "光电科技", "半导体设备",
]
GOVERNMENT_BUREAUS = [
    "财政局", "交通运输局", "水务局", "应急管理局", "住房和城乡建设局", "生态环境局",
    "公安局", "工业和信息化局", "卫生健康委员会", "教育局", "市场监督管理局",
]
PROVINCIAL_DEPARTMENTS = ["财政厅", "交通运输厅", "水利厅", "教育厅", "发展和改革委员会"]

# Chinese name patterns per industry. Fields: {city} {province} {short} {brand} {trade}
# {suffix} {n}; {trade} and {suffix} are filled for the industry's own vocabulary.
ZH_PATTERNS = {
    "manufacturing": ["{city}{brand}{trade}{suffix}"],
    "energy": [
        "国家电网{short}分公司", "{city}{brand}能源集团", "{short}{brand}发电有限公司",
        "{city}燃气集团有限公司", "{city}{brand}光伏科技有限公司",
        "{city}{brand}新能源{suffix}", "{city}热力有限公司",
    ],
    "government": [
        "{city}市{bureau}", "{city}市{bureau}", "{city}市{bureau}",
        "{province}{department}", "{city}高新技术产业开发区管理委员会",
        "{city}经济技术开发区管理委员会",
    ],
    "finance": [
        "{city}农村商业银行股份有限公司", "{city}银行股份有限公司",
        "{brand}证券股份有限公司", "{brand}财产保险股份有限公司{city}分公司",
        "{brand}金融租赁有限公司", "{city}{brand}融资担保有限公司",
    ],
    "education": [
        "{city}大学", "{city}职业技术学院", "{city}工业职业技术学院", "{city}科技大学",
        "{city}市第{n}中学", "{city}{brand}外国语学校",
    ],
    "healthcare": [
        "{city}市第{n}人民医院", "{city}市中医院", "{city}市妇幼保健院",
        "{city}{brand}医药股份有限公司", "{city}{brand}医疗器械有限公司",
        "{city}{brand}生物制药有限公司",
    ],
    "retail": [
        "{city}{brand}商贸有限公司", "{city}{brand}百货股份有限公司",
        "{city}{brand}连锁超市有限公司", "{city}{brand}电器连锁有限公司",
        "{city}{brand}供应链管理有限公司",
    ],
    "other": [
        "{city}{brand}物流有限公司", "{city}{brand}建设工程有限公司",
        "{city}{brand}科技有限公司", "{city}{brand}环保科技有限公司",
        "{city}{brand}置业有限公司",
    ],
}

EN_BRANDS = [
    "Northwind", "Harbor", "Summit", "Bluewater", "Redstone", "Evergreen", "Pacific Rim",
    "Orient", "Silverline", "Granite Peak", "Lakeside", "Meridian", "Crescent",
    "Ironbridge", "Westbrook", "Stellar", "Kingsway", "Goldfield", "Riverton", "Apex",
    "Falcon", "Oakridge", "Cobalt", "Sterling", "Horizon", "Eastgate",
]
EN_TRADES = {
    "manufacturing": ["Precision Tooling", "Machinery", "Auto Components", "Electronics",
                      "Industrial Systems", "Advanced Materials", "Robotics", "Plastics"],
    "energy": ["Energy", "Power", "Renewables", "Solar", "Gas & Power", "Utilities"],
    "finance": ["Capital", "Bank", "Securities", "Insurance", "Financial Leasing",
                "Asset Management"],
    "education": ["International School", "Institute of Technology", "Academy"],
    "healthcare": ["Medical", "Pharmaceuticals", "Biotech", "Health", "Diagnostics"],
    "retail": ["Retail", "Trading", "Stores", "Supply Chain", "Consumer Brands"],
    "other": ["Logistics", "Engineering", "Technologies", "Consulting", "Properties"],
}
EN_SUFFIXES = ["Ltd", "Co., Ltd.", "Group", "Inc.", "Holdings", "(China) Co., Ltd."]
EN_SUFFIX_WEIGHTS = [35, 20, 20, 10, 8, 7]
ENGLISH_NAME_SHARE = 0.34  # of non-government customers, so that ~30% of all names are English


def generate_b2b(n: int, seed: int = SEED) -> list[dict]:
    """Return ``n`` typed customers for the ``b2b-manufacturing`` ruleset.

    Amounts are long-tailed, margin and dates are sometimes blank, and the fields are
    correlated the way a real account list is: big buyers are more often Fortune 500 or
    industry leaders, dormant and never-ordered accounts brought no revenue this year.
    """
    rng = random.Random(seed)
    history = random.Random(f"b2b-history-{seed}")  # its own stream: the core columns stay put
    used_names: set[str] = set()
    customers = []
    for i in range(1, n + 1):
        industry = rng.choices(INDUSTRIES, INDUSTRY_WEIGHTS)[0]
        province = rng.choices(PROVINCES, PROVINCE_WEIGHTS)[0]
        name = unique_name(lambda: _name(rng, industry, province), used_names)
        owner = None if rng.random() < 0.015 else rng.choices(OWNERS, OWNER_WEIGHTS)[0]
        procurement = _procurement(rng, industry)

        # Lifecycle first: never-ordered and dormant accounts have no revenue in 12 months.
        status = rng.random()
        if status < 0.07:
            last_order = None
        elif status < 0.15:
            days_ago = rng.randint(366, (AS_OF - EARLIEST_ORDER).days)
            last_order = AS_OF - datetime.timedelta(days=days_ago)
        else:
            days_ago = 1 + int(364 * rng.random() ** 1.5)  # most ordered recently
            last_order = AS_OF - datetime.timedelta(days=days_ago)
        active = last_order is not None and (AS_OF - last_order).days <= 365
        revenue = _revenue(rng, procurement) if active else 0.0

        margin_missing = rng.random() < (0.75 if last_order is None else 0.025)
        margin = None if margin_missing else _margin(rng, industry)

        # Public bodies are never Fortune 500 companies nor "industry leaders".
        company = industry not in ("government", "education")
        if procurement >= 1e10:
            fortune500 = rng.random() < 0.7 and company
        elif procurement >= 1e9:
            fortune500 = rng.random() < 0.2 and company
        else:
            fortune500 = rng.random() < 0.025 and company
        leader_chance = 0.4 if procurement >= 1e9 else 0.22 if procurement >= 1e8 else 0.07
        industry_leader = rng.random() < leader_chance and industry != "government"

        customer = {
            "id": f"C{i:05d}",
            "name": name,
            "owner": owner,
            "industry": industry,
            "region": province[0],
            "annual_procurement": procurement,
            "our_revenue_12m": revenue,
            "gross_margin_pct": margin,
            "fortune500": fortune500,
            "industry_leader": industry_leader,
            "employees": None if rng.random() < 0.02 else _employees(rng, procurement),
            "last_order_date": last_order,
        }
        customer.update(_b2b_history(history, customer))
        customers.append(customer)
    return customers


# Lifecycle windows of the ruleset, used to draw a realistic mix of stages.
B2B_NEW_DAYS, B2B_DORMANT_DAYS, B2B_LOST_DAYS = 180, 270, 540
NAIL_REASONS = ["no_trust", "competitor_offer", "internal_conflict"]
NAIL_REASON_WEIGHTS = [35, 45, 20]


def _b2b_history(rng: random.Random, c: dict) -> dict:
    """The order-history roll-ups and the rep's assessments of one customer.

    Drawn from their own random stream, after the account's core columns, and kept
    consistent with them: no first order without a last one, the first never after
    the last, one order means the same day, revenue in the previous 12 months only
    when there were orders then, and a trend that falls for dormant accounts.
    """
    last, revenue, procurement = c["last_order_date"], c["our_revenue_12m"], c["annual_procurement"]
    if last is None:  # a prospect: in the CRM for a while, never bought
        created = AS_OF - datetime.timedelta(days=rng.randint(20, 1500))
        first, count, prev, d_last = None, 0, 0.0, None
    else:
        d_last = (AS_OF - last).days
        if d_last <= 150 and rng.random() < 0.2:  # won this half-year
            d_first = rng.randint(d_last, B2B_NEW_DAYS)
            count = 1 if d_first == d_last else rng.randint(2, 4)
        elif d_last > B2B_DORMANT_DAYS and rng.random() < 0.25:  # bought once, never again
            d_first, count = d_last, 1
        else:
            years = math.exp(rng.gauss(math.log(3.5), 0.7))
            d_first = min(15 * 365, max(d_last + 30, 200, int(years * 365)))
            per_year = math.exp(rng.gauss(math.log(8.0 if procurement >= 1e8 else 4.0), 0.5))
            count = max(2, 1 + round((d_first - d_last) / 365 * per_year))
        first = AS_OF - datetime.timedelta(days=d_first)
        created = first - datetime.timedelta(days=rng.randint(0, 400))
        if d_first <= 365 or d_last > 730:  # no order in the previous 12 months
            prev = 0.0
        elif d_last > 365:  # everything was bought in the previous 12 months
            prev = _revenue(rng, procurement)
        else:
            if d_last > B2B_DORMANT_DAYS:
                trend = 0.15 + 0.6 * rng.random()
            elif rng.random() < 0.09:
                trend = 0.25 + 0.44 * rng.random()
            else:
                trend = math.exp(rng.gauss(math.log(1.08), 0.2))
            prev = float(max(1000, round(revenue / trend, -2)))
    share = revenue / procurement
    declining = prev > 0 and revenue / prev < 0.7

    base = 86 if c["fortune500"] else 76 if c["industry_leader"] else 34 + 10 * (math.log10(procurement) - 6)
    if c["industry"] == "government":
        base += 10  # a public buyer is a reference for everyone around it
    influence = _score(rng.gauss(base, 10))
    ordered = last is not None
    warmth = rng.gauss(0.0, 1.0)  # how well the account and our people get on
    satisfaction = None if not ordered or rng.random() < 0.03 else _score(rng.gauss(72 + 9 * warmth, 8))
    cooperation = None if rng.random() < 0.03 else \
        _score(rng.gauss(44 + (80 * share if ordered else 0) + 12 * warmth, 9))
    complaints = 0
    if ordered and d_last <= B2B_DORMANT_DAYS:
        r = rng.random()
        complaints = 0 if r < 0.86 else 1 if r < 0.95 else 2 if r < 0.985 else rng.randint(3, 4)
        if complaints and satisfaction is not None:
            satisfaction = max(0, satisfaction - 10 * complaints)
    competitor = ordered and d_last <= B2B_LOST_DAYS and rng.random() < (0.12 if declining else 0.02)
    stuck = procurement >= 1e8 and share < 0.05
    reason = rng.choices(NAIL_REASONS, NAIL_REASON_WEIGHTS)[0] if stuck and rng.random() < 0.6 else None
    return {
        "first_order_date": first,
        "order_count": count,
        "revenue_prev_12m": prev,
        "created_date": created,
        "influence": influence,
        "satisfaction": satisfaction,
        "cooperation": cooperation,
        "complaints_90d": complaints,
        "competitor_contact": competitor,
        "nail_reason": reason,
    }


def _score(value: float) -> int:
    """A 0-100 assessment, as reps enter them."""
    return int(min(100, max(0, round(value))))


def unique_name(draw, used: set[str], tries: int = 20) -> str:
    """Call ``draw()`` until it gives a new name; a suffix like "（2）" makes the rare
    stubborn clash unique.  Shared by every dataset so their names never repeat."""
    for _ in range(tries):
        name = draw()
        if name not in used:
            break
    else:
        base, k = name, 2
        while f"{base}（{k}）" in used:
            k += 1
        name = f"{base}（{k}）"
    used.add(name)
    return name


def _name(rng: random.Random, industry: str, province: tuple) -> str:
    full, short, _, cities = province
    if industry != "government" and rng.random() < ENGLISH_NAME_SHARE:
        suffix = rng.choices(EN_SUFFIXES, EN_SUFFIX_WEIGHTS)[0]
        trade = rng.choice(EN_TRADES[industry])
        if industry == "education":
            return f"{rng.choice(EN_BRANDS)} {trade}"
        return f"{rng.choice(EN_BRANDS)} {trade} {suffix}"
    pattern = rng.choice(ZH_PATTERNS[industry])
    department = rng.choice(PROVINCIAL_DEPARTMENTS)
    if full.endswith("市"):  # a municipality has bureaus, not provincial departments
        department = department.replace("厅", "局")
    return pattern.format(
        city=rng.choice(cities),
        province=full,
        short=short,
        brand=rng.choice(TRADE_NAMES),
        trade=rng.choice(MANUFACTURING_TRADES),
        suffix=rng.choices(COMPANY_SUFFIXES, COMPANY_SUFFIX_WEIGHTS)[0],
        bureau=rng.choice(GOVERNMENT_BUREAUS),
        department=department,
        n=rng.choice(NUMERALS),
    )


def _procurement(rng: random.Random, industry: str) -> float:
    """Lognormal, truncated to 1e6 .. 5e10 CNY, rounded to four significant digits."""
    lo, hi = math.log10(PROCUREMENT_MIN), math.log10(PROCUREMENT_MAX)
    while True:
        x = rng.gauss(PROCUREMENT_LOG10_MEDIAN[industry], PROCUREMENT_LOG10_SIGMA)
        if lo <= x <= hi:
            break
    return _round_significant(10.0 ** x, 4)


def _revenue(rng: random.Random, procurement: float) -> float:
    """Our share of the account's spend: mostly 0-30%, a few loyal accounts above it."""
    if rng.random() < 0.04:
        share = 0.3 + 0.4 * rng.random()
    else:
        share = 0.3 * rng.random()
    if procurement >= 1e10:  # a giant spreads its spend over many vendors
        share *= 0.2
    elif procurement >= 1e9:
        share *= 0.6
    elif procurement >= 1e8:
        share *= 0.9
    return float(max(1000, round(procurement * share, -2)))


def _margin(rng: random.Random, industry: str) -> float:
    value = rng.gauss(MARGIN_CENTRE[industry], 7.0)
    return round(min(45.0, max(3.0, value)), 1)


def _employees(rng: random.Random, procurement: float) -> int:
    x = 2.3 + 0.55 * (math.log10(procurement) - 7.5) + rng.gauss(0.0, 0.35)
    return max(5, int(round(10.0 ** x)))


def _round_significant(value: float, digits: int) -> float:
    return float(round(value, digits - 1 - math.floor(math.log10(value))))


def write_b2b(out_dir: Path, n: int = 600, seed: int = SEED) -> list[Path]:
    """Write ``b2b-manufacturing/customers.csv`` and its Chinese-export twin."""
    rows = generate_b2b(n, seed)
    folder = Path(out_dir) / "b2b-manufacturing"
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "customers.csv"
    write_csv(plain, rows)
    # The kind of file a Chinese Excel/WPS export gives: GB18030, Chinese headers,
    # 是/否 booleans, amounts with thousands separators, CRLF line ends.
    zh = folder / "customers-zh.csv"
    write_csv(zh, rows[:50], headers=B2B_COLUMNS_ZH, encoding="gb18030",
              lineterminator="\r\n", formatter=_format_b2b_zh)
    return [plain, zh]


def _format_b2b_zh(key: str, value) -> str:
    if key == "revenue_prev_12m" and value is not None:
        return format_cell_zh("our_revenue_12m", value)
    return format_cell_zh(key, value)


# --------------------------------------------------------------------------- CSV writing

AMOUNT_FIELDS = {"annual_procurement", "our_revenue_12m"}


def format_cell(key: str, value) -> str:
    """Plain export: ``true``/``false``, ISO dates, numbers without separators, blank None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def format_cell_zh(key: str, value) -> str:
    """Chinese office export: ``是``/``否`` and amounts written as ``1,234,567``."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in AMOUNT_FIELDS and value is not None:
        return f"{int(value):,}" if value.is_integer() else f"{value:,}"
    return format_cell(key, value)


def write_csv(path, rows: list[dict], *, headers: list[str] | None = None,
              encoding: str = "utf-8-sig", lineterminator: str = "\n",
              formatter=format_cell) -> None:
    """Write typed ``rows`` as CSV, columns in the rows' key order.

    ``headers`` renames the columns (same order); the default encoding writes a BOM,
    which is what Excel needs to open UTF-8 correctly.
    """
    keys = list(rows[0])
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator=lineterminator)
        writer.writerow(headers or keys)
        for row in rows:
            writer.writerow([formatter(key, row[key]) for key in keys])


# --------------------------------------------------------------------------- command line

DATASETS = {
    "b2b-manufacturing": write_b2b,
}


def all_datasets() -> dict:
    """The datasets above, and each module in ``datasets/`` with a ``NAME`` and a
    ``write(out) -> list[Path]`` (they may import this module's shared helpers)."""
    found = dict(DATASETS)
    folder = Path(__file__).resolve().parent / "datasets"
    if str(folder.parent) not in sys.path:
        sys.path.insert(0, str(folder.parent))
    for path in sorted(folder.glob("*.py")):
        module = importlib.import_module(f"datasets.{path.stem}")
        found[module.NAME] = module.write
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate every example dataset.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output folder (default: the examples/ folder)")
    args = parser.parse_args(argv)
    for write in all_datasets().values():
        for path in write(args.out):
            print(path)


if __name__ == "__main__":
    main()
