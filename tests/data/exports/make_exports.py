"""Write the export corpus the way the client's tools write it; run to regenerate.

* ``crm_accounts.xlsx``: a CRM account export as Chinese Excel saves it.  Dates are true
  date cells, serial numbers with the international date format (id 14), serial numbers
  with the Chinese built-in format id 31 (``yyyy"年"m"月"d"日"``, stored by id only, as
  Excel and WPS in Chinese write it), custom ``yyyy/m/d`` formats and typed text; margins
  are percent cells; last visits are date-time cells.
* ``crm_accounts.csv``: the same accounts as the GB18030 CSV the same CRM exports, with
  text dates in every common form, amounts with 万/亿/¥ and margins as ``15.3%``.

* ``city_tier.csv``: the client's table of city tiers by province (GB18030), which
  ``crm-lookups.yaml`` reads as a lookup table.
* ``erp_orders.csv`` (GB18030) and ``erp_orders.xlsx`` (order dates as date cells and as
  serials with the Chinese built-in format): the ERP's order/receivable export of
  those accounts, with a status column holding cancelled (已取消), refunded (退款) and
  test (测试) orders, a zero-amount line, a credit note, a line exported twice, an
  unreadable amount, an order after the as-of date, an unknown customer and two orders
  of one customer on one day.

* ``pos_receipts.csv``: a convenience store's point-of-sale export of receipt lines
  (UTF-8 with a byte-order mark, as POS back offices write for Excel; CRLF line ends;
  times as ``2026-10-03 14:22:05``): several lines per receipt, 70% of the members
  on one visit only, a member buying twice on one day, a line refunded at the counter
  (退货, negative amount), a voided receipt (作废) and two members whose baskets total
  27.10 (19.90 + 7.20, which adds up to 27.099999999999998 in doubles, and one line).

Both account files spell the ownership (企业性质) as the sales reps typed it (国有企业, 民营, Private, a
trailing space), hold a capital of 待定 (not known yet) and list account C004 twice, the
second time with its updated capital.

    python tests/data/exports/make_exports.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
EXCEL_EPOCH = dt.date(1899, 12, 30)

# id, name, ownership, registered capital (CNY), founded, gross margin (%), last visit
ACCOUNTS = [
    ("C001", "华东机械厂", "国有企业", 5_000_000, dt.date(2026, 3, 5), 15.3, dt.datetime(2026, 10, 20, 9, 30)),
    ("C002", "南方电子", "国企", 120_000_000, dt.date(2019, 11, 30), 8.5, dt.datetime(2026, 9, 1)),
    ("C003", "北方重工", "民营企业", 3_000_000, dt.date(2024, 2, 29), 22.0, dt.datetime(2026, 10, 31, 17, 45)),
    ("C004", "西部物流", "民企", 800_000, dt.date(2010, 1, 1), 4.25, dt.datetime(2025, 12, 24)),
    ("C005", "中原食品", "外资企业", 15_000_000, dt.date(2025, 12, 31), 31.0, dt.datetime(2026, 6, 15, 8, 0)),
    ("C006", "东海化工", "国有企业 ", 250_000_000, dt.date(2001, 7, 1), 12.75, dt.datetime(2026, 10, 2)),
    ("C007", "蓝天纺织", "民营", "待定", dt.date(2026, 10, 1), 9.0, dt.datetime(2026, 10, 30, 14, 0)),
    ("C008", "长江建材", "外企", 60_000_000, dt.date(2015, 5, 20), 18.5, dt.datetime(2026, 1, 10)),
    ("C009", "高原乳业", "Private", 9_500_000, dt.date(2023, 8, 8), 27.5, dt.datetime(2026, 8, 8, 10, 10)),
    ("C010", "珠江贸易", "国企", 1_000_000, None, 3.0, None),
    ("C004", "西部物流集团", "民企", 20_000_000, dt.date(2010, 1, 1), 4.25, dt.datetime(2025, 12, 24)),
]
HEADERS = ["客户编号", "客户名称", "企业性质", "注册资本", "成立日期", "毛利率", "最近拜访", "省份"]
PROVINCES = ["江苏", "广东", "辽宁", "四川", "河南", "浙江", "江苏", "湖北", "青海", "广东", "四川"]
# The client's own table of city tiers by province (青海 is not in it).
CITY_TIERS = [("广东", 1), ("浙江", 1), ("江苏", 1), ("湖北", 2), ("四川", 2), ("河南", 2), ("辽宁", 3)]

# How each account's founding date is stored in the workbook, in turn.
XLSX_DATE_FORMS = ("date cell", "serial id 14", "serial id 31", "serial yyyy/m/d", "text")
# How each account's founding date is written in the CSV, in turn.
CSV_DATE_FORMS = ("{:%Y-%m-%d}", "{d.year}/{d.month}/{d.day}", "{d.year}.{d.month}.{d.day}",
                  "{d.year}年{d.month}月{d.day}日", "{:%Y%m%d}")
CHINESE_DATE = 'yyyy"年"m"月"d"日"'


HEADERS_ORDERS = ["订单编号", "客户编号", "下单日期", "订单金额", "订单状态", "已付金额", "到期日", "付款日期"]
# order number, customer, order date, amount, status, paid, due date, paid date
ORDERS = [
    ("SO001", "C001", dt.date(2026, 9, 1), 12000, "已完成", 12000, dt.date(2026, 10, 1), dt.date(2026, 9, 20)),
    ("SO002", "C001", dt.date(2026, 10, 15), 8000, "已完成", 0, dt.date(2026, 10, 25), None),  # overdue
    ("SO003", "C002", dt.date(2026, 7, 1), 50000, "已取消", 0, dt.date(2026, 8, 1), None),  # cancelled
    ("SO004", "C002", dt.date(2026, 8, 1), 30000, "已完成", 30000, dt.date(2026, 9, 1), dt.date(2026, 8, 20)),
    ("SO004", "C002", dt.date(2026, 8, 1), 30000, "已完成", 30000, dt.date(2026, 9, 1), dt.date(2026, 8, 20)),  # exported twice
    ("SO005", "C003", dt.date(2026, 6, 1), 0, "已完成", 0, dt.date(2026, 7, 1), None),  # a free sample
    ("SO006", "C003", dt.date(2026, 6, 1), 5000, "已完成", 5000, dt.date(2026, 7, 1), dt.date(2026, 6, 10)),
    ("SO007", "C004", dt.date(2026, 5, 5), 20000, "退款", 0, dt.date(2026, 6, 5), None),  # refunded
    ("SO008", "C004", dt.date(2026, 5, 6), -2000, "已完成", -2000, dt.date(2026, 6, 6), dt.date(2026, 5, 6)),  # credit note
    ("SO009", "C004", dt.date(2026, 5, 6), 15000, "已完成", 15000, dt.date(2026, 6, 6), dt.date(2026, 6, 1)),
    ("SO010", "C005", dt.date(2026, 11, 15), 9000, "已完成", 0, dt.date(2026, 12, 15), None),  # after the as-of date
    ("SO011", "C006", dt.date(2026, 3, 1), "abc", "已完成", 0, dt.date(2026, 4, 1), None),  # unreadable amount
    ("SO012", "C999", dt.date(2026, 4, 1), 1000, "已完成", 1000, dt.date(2026, 5, 1), dt.date(2026, 4, 2)),  # unknown
    ("SO013", "C007", dt.date(2026, 10, 30), 3000, "测试", 0, dt.date(2026, 11, 30), None),  # a test order
    ("SO014", "C006", dt.date(2026, 10, 10), 40000, "已完成", 10000, dt.date(2026, 10, 20), None),  # overdue 30000
    ("SO015", "C006", dt.date(2026, 10, 10), 2000, "已完成", 2000, dt.date(2026, 10, 20), dt.date(2026, 10, 12)),
    ("SO016", "C007", dt.date(2026, 10, 31), 3500, "已完成", 3500, dt.date(2026, 11, 30), None),  # capital 待定
]


HEADERS_POS = ["小票号", "行号", "交易时间", "门店", "会员卡号", "商品编码", "商品名称", "数量", "单价", "金额", "状态"]
POS_AS_OF = dt.date(2026, 11, 1)
POS_MEMBERS = 200  # V0001-V0140 visit once, V0141-V0200 come back
POS_ITEMS = [("6901028075831", "矿泉水 550ml", 2.0), ("6920459905012", "方便面 桶装", 4.5), ("6902538006100", "酸奶 200g", 6.8),
             ("6925303730574", "薯片 75g", 8.5), ("6901939621608", "可乐 330ml", 3.0), ("6903148042441", "洗发水 400ml", 39.9),
             ("6922266440663", "纸巾 10包", 19.9), ("6907992500133", "牛奶 1L", 12.1), ("6954767413874", "面包", 7.2)]


def pos_visits() -> list[tuple]:
    """(member, day, [(item, quantity)...], status) per receipt, fixed: the same file each run."""
    rng = random.Random(20261101)
    visits = []
    for number in range(3, POS_MEMBERS + 1):  # V0001 and V0002: the equal baskets below
        member = f"V{number:04d}"
        days = 1 if number <= 140 else 2 + (number * 7) % 8
        for _ in range(days):
            day = POS_AS_OF - dt.timedelta(days=rng.randrange(1, 540 if number % 10 else 900))
            lines = [(rng.randrange(len(POS_ITEMS)), 1 + rng.randrange(3)) for _ in range(1 + rng.randrange(4))]
            visits.append((member, day, lines, "正常"))
    # a member buying twice on one day (two receipts, one purchase day)
    visits.append(("V0150", next(day for member, day, _lines, _status in visits if member == "V0150"), [(0, 2)], "正常"))
    # 19.90 + 7.20 in one basket, and 27.10 in one line: equal spend, to the cent
    visits += [("V0001", POS_AS_OF - dt.timedelta(days=40), [(6, 1), (8, 1)], "正常")]
    visits += [("V0002", POS_AS_OF - dt.timedelta(days=41), [(None, 1)], "正常")]
    # a voided receipt of a member who also bought
    visits.append(("V0160", POS_AS_OF - dt.timedelta(days=3), [(5, 3)], "作废"))
    visits.sort(key=lambda visit: visit[1])
    return visits


def write_pos_csv(path: Path) -> None:
    """Receipt lines as the back office exports them, receipt by receipt in time order."""
    rng = random.Random(5)
    visits = pos_visits()
    refunded = False
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS_POS)
        for number, (member, day, lines, status) in enumerate(visits, 1):
            moment = dt.datetime.combine(day, dt.time(8 + rng.randrange(14), rng.randrange(60), rng.randrange(60)))
            receipt = f"{day:%Y%m%d}{number:05d}"
            for index, (item, quantity) in enumerate(lines):
                code, name, price = ("2800000193004", "熟食便当", 27.1) if item is None else POS_ITEMS[item]
                writer.writerow([receipt, index + 1, f"{moment:%Y-%m-%d %H:%M:%S}", "0012 南京西路店", member, code, name,
                                 quantity, f"{price:.2f}", f"{price * quantity:.2f}", status])
                if member == "V0180" and index == 0 and not refunded:  # returned at the counter: the line, negative
                    refunded = True
                    writer.writerow([receipt, len(lines) + 1, f"{moment:%Y-%m-%d %H:%M:%S}", "0012 南京西路店", member, code,
                                     name, -quantity, f"{price:.2f}", f"{-price * quantity:.2f}", "退货"])


def serial(day: dt.date) -> int:
    return (day - EXCEL_EPOCH).days


def write_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for index, (key, name, ownership, capital, founded, margin, visit) in enumerate(ACCOUNTS):
        sheet.append([key, name, ownership, capital, None, margin / 100, visit, PROVINCES[index]])
        row = sheet.max_row
        if founded is not None:
            cell = sheet.cell(row, 5)
            form = XLSX_DATE_FORMS[index % len(XLSX_DATE_FORMS)]
            cell.value = founded if form == "date cell" else f"{founded:%Y-%m-%d}" if form == "text" else serial(founded)
            cell.number_format = {"date cell": "yyyy-mm-dd", "serial id 14": "mm-dd-yy", "serial id 31": CHINESE_DATE,
                                  "serial yyyy/m/d": "yyyy/m/d", "text": "@"}[form]
        sheet.cell(row, 6).number_format = "0.00%"
        if visit is not None and index % 2:  # every other visit as a serial with a date-time format
            sheet.cell(row, 7).value = serial(visit.date()) + (visit - dt.datetime.combine(visit.date(), dt.time())).seconds / 86400
        sheet.cell(row, 7).number_format = "yyyy-mm-dd hh:mm"
    workbook.save(path)
    _store_chinese_format_by_id(path)


def _store_chinese_format_by_id(path: Path) -> None:
    """Rewrite the custom ``yyyy"年"m"月"d"日"`` format as built-in id 31, as Chinese Excel stores it."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "xl/styles.xml":
                text = data.decode()
                custom = re.search(r'<numFmt numFmtId="(\d+)" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"\s*/>', text)
                text = text.replace(custom.group(0), "")
                text = text.replace(f'numFmtId="{custom.group(1)}"', 'numFmtId="31"')
                count = int(re.search(r'<numFmts count="(\d+)"', text).group(1))
                text = text.replace(f'<numFmts count="{count}"', f'<numFmts count="{count - 1}"')
                data = text.encode()
            target.writestr(info, data)


def write_orders_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS_ORDERS)
    for index, order in enumerate(ORDERS):
        sheet.append(list(order))
        row = sheet.max_row
        for column in (3, 7, 8):
            cell = sheet.cell(row, column)
            if cell.value is not None and index % 2:  # every other row as serials shown as 2026年3月5日
                cell.value = serial(cell.value)
                cell.number_format = CHINESE_DATE
            elif cell.value is not None:
                cell.number_format = "yyyy-mm-dd"
    workbook.save(path)
    _store_chinese_format_by_id(path)


def write_orders_csv(path: Path) -> None:
    with open(path, "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS_ORDERS)
        for number, customer, day, amount, status, paid, due, paid_on in ORDERS:
            writer.writerow([number, customer, f"{day:%Y/%m/%d}", amount, status, paid, f"{due:%Y-%m-%d}",
                             "" if paid_on is None else f"{paid_on:%Y-%m-%d}"])


def write_csv(path: Path) -> None:
    with open(path, "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for index, (key, name, ownership, capital, founded, margin, visit) in enumerate(ACCOUNTS):
            shown_capital = (capital if isinstance(capital, str) else f"{capital / 10**8:g}亿" if capital >= 10**8
                             else f"{capital / 10**4:g}万" if index % 2 else f"¥{capital:,}")
            form = CSV_DATE_FORMS[index % len(CSV_DATE_FORMS)]
            shown_founded = "" if founded is None else form.format(founded, d=founded)
            shown_visit = "" if visit is None else f"{visit:%Y-%m-%d %H:%M}" if visit.time() != dt.time() else f"{visit:%Y-%m-%d}"
            writer.writerow([key, name, ownership, shown_capital, shown_founded, f"{margin:.2f}%", shown_visit, PROVINCES[index]])


if __name__ == "__main__":
    write_xlsx(HERE / "crm_accounts.xlsx")
    write_csv(HERE / "crm_accounts.csv")
    with open(HERE / "city_tier.csv", "w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows([("省份", "城市等级"), *CITY_TIERS])
    write_orders_xlsx(HERE / "erp_orders.xlsx")
    write_orders_csv(HERE / "erp_orders.csv")
    write_pos_csv(HERE / "pos_receipts.csv")
