"""Write the sample files a new user can import to try the Data page.

    python data/samples/make_samples.py

Four tables about the same 80 customers (ids S0001…S0080), written the way
Chinese CRM and shop exports look: Chinese headers, mixed date formats,
amounts with ¥ and thousands separators, Chinese status words.

- customers.csv      UTF-8 with BOM, Chinese headers (a CRM export)
- transactions.csv   GBK, Chinese headers (a shop export), 2025-01 … 2026-03
- transactions.xlsx  the orders of 2026-04 … 2026-06, sheet "订单" (and a notes sheet)
- interactions.csv   UTF-8, English headers, semicolon-separated (a ticket system)
- followups.csv      UTF-8, Chinese headers (a follow-up log)
- taobao_orders.csv  GBK, a Taobao/Tmall order report (member names, state words)
- order_lines.xlsx   order lines in the UCI Online Retail II layout, one sheet per year
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
N = 80
rng = np.random.default_rng(2024)

ids = np.array([f"S{i:04d}" for i in range(1, N + 1)])
surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
given = np.array(list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚"))
companies = np.array(["华信科技", "远达贸易", "恒泰电子", "鑫盛机械", "安通物流", "宏中建材",
                      "嘉瑞文化传媒", "博远教育咨询", "天成医疗器械", "明德餐饮管理"])
enterprise = rng.random(N) < 0.35
person = pd.Series(surnames[rng.integers(0, 20, N)]) + pd.Series(given[rng.integers(0, 20, N)])
name = np.where(enterprise, companies[rng.integers(0, 10, N)] + "有限公司", person)
first_day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 540, N), unit="D")
owners = np.array(["张伟", "王芳", "李娜", "刘洋", "陈静"])
referrer = np.where(rng.random(N) < 0.12, ids[np.maximum(np.arange(N) - rng.integers(1, 20, N), 0)], "")
referrer[0] = ""

customers = pd.DataFrame({
    "客户编号": ids,
    "客户名称": name,
    "客户类型": np.where(enterprise, "企业", "个人"),
    "地区": np.array(["华东", "华南", "华北", "华中", "西南"])[rng.integers(0, 5, N)],
    "客户来源": np.array(["淘宝", "门店", "展会", "老客户推荐", "广告"])[rng.integers(0, 5, N)],
    "首次接触日期": first_day.strftime("%Y/%m/%d"),
    "负责人": owners[rng.integers(0, 5, N)],
    "推荐人": referrer,
    "合同到期日": np.where(enterprise, (first_day + pd.Timedelta(days=730)).strftime("%Y-%m-%d"), ""),
})

# Orders: a few per customer, over 2025-01-01 … 2026-06-30.
per = rng.poisson(np.where(enterprise, 6, 3)) + 1
cust = np.repeat(np.arange(N), per)
days = rng.integers(0, 546, len(cust))
when = pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D")
order = np.argsort(when.to_numpy(), kind="stable")
cust, when = cust[order], when[order]
products = np.array([("激光打印机", "办公设备", 1899.0), ("碎纸机", "办公设备", 699.0),
                     ("无线鼠标", "电脑配件", 129.0), ("机械键盘", "电脑配件", 399.0),
                     ("A4打印纸", "办公耗材", 29.0), ("硒鼓", "办公耗材", 259.0),
                     ("人体工学椅", "办公家具", 1599.0), ("年度维保服务", "软件服务", 4800.0)],
                    dtype=object)
pick = rng.integers(0, len(products), len(cust))
qty = rng.integers(1, 6, len(cust))
amount = np.round(products[pick, 2].astype(float) * qty * rng.uniform(0.9, 1.0, len(cust)), 2)
refund = rng.random(len(cust)) < 0.04
amount = np.where(refund, -amount, amount)
txn = pd.DataFrame({
    "订单编号": [f"DD{20250000 + i:08d}" for i in range(len(cust))],
    "客户编号": ids[cust],
    "下单时间": when,
    "商品名称": products[pick, 0],
    "品类": products[pick, 1],
    "数量": qty,
    "实付金额": amount,
    "订单状态": np.where(refund, "已退款", "交易成功"),
})
early = txn["下单时间"] < pd.Timestamp("2026-04-01")
csv_part = txn[early].copy()
# Shop exports mix date styles and write money with a currency sign.
style = np.arange(len(csv_part)) % 3
d = csv_part["下单时间"]
csv_part["下单时间"] = np.select(
    [style == 0, style == 1],
    [d.dt.strftime("%Y-%m-%d %H:%M"), d.dt.year.astype(str) + "年" + d.dt.month.astype(str)
     + "月" + d.dt.day.astype(str) + "日"],
    d.dt.year.astype(str) + "/" + d.dt.month.astype(str) + "/" + d.dt.day.astype(str))
money = csv_part["实付金额"]
csv_part["实付金额"] = np.where(money < 0, "-￥", "￥") + money.abs().map("{:,.2f}".format)
csv_part.to_csv(HERE / "transactions.csv", index=False, encoding="gbk")

xlsx_part = txn[~early].copy()
with pd.ExcelWriter(HERE / "transactions.xlsx", engine="xlsxwriter",
                    datetime_format="yyyy-mm-dd hh:mm") as book:
    xlsx_part.to_excel(book, sheet_name="订单", index=False)
    pd.DataFrame({"说明": ["2026 年第二季度订单，导入时选择“订单”工作表。"]}).to_excel(
        book, sheet_name="说明", index=False)

customers.to_csv(HERE / "customers.csv", index=False, encoding="utf-8-sig")

# Service interactions from a ticket system (English headers, ';' separated).
m = 220
ic = rng.integers(0, N, m)
ts = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 546 * 24 * 60, m), unit="min")
kind = np.array(["咨询", "投诉", "反馈", "拜访", "活动", "推荐", "其他"])[
    rng.choice(7, m, p=[0.35, 0.12, 0.2, 0.08, 0.1, 0.05, 0.1])]
channel = np.array(["电话", "邮件", "在线客服", "上门", "微信"])[rng.integers(0, 5, m)]
channel = np.where(kind == "拜访", "上门", channel)
topic = np.where(kind == "投诉", np.array(["物流延迟", "质量问题", "售后服务", "发票"])[
    rng.integers(0, 4, m)], np.where(kind == "咨询", "产品功能", ""))
sat = np.where(kind == "投诉", rng.integers(1, 4, m), rng.integers(3, 6, m)).astype(object)
sat[rng.random(m) < 0.3] = ""
interactions = pd.DataFrame({
    "Customer ID": ids[ic],
    "Created": ts.strftime("%Y-%m-%d %H:%M"),
    "Type": kind,
    "Channel": channel,
    "Subject": topic,
    "CSAT": sat,
    "Response time (h)": np.round(rng.gamma(2, 3, m), 1),
    "Notes": np.where(kind == "投诉", "客户投诉，已登记工单", ""),
    "Agent": owners[rng.integers(0, 5, m)],
}).sort_values("Created", kind="stable")
interactions.to_csv(HERE / "interactions.csv", index=False, sep=";")

# Follow-ups logged by the account managers.
f = 60
fc = rng.integers(0, N, f)
fday = pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 480, f), unit="D")
action = np.array(["专属拜访", "关怀联系", "沉睡唤醒", "流失挽回"])[rng.integers(0, 4, f)]
followups = pd.DataFrame({
    "客户编号": ids[fc],
    "跟进日期": fday.strftime("%Y-%m-%d"),
    "跟进动作": action,
    "跟进方式": np.where(action == "专属拜访", "上门", np.where(rng.random(f) < 0.5, "电话", "微信")),
    "客户需求": np.array(["年度采购计划", "优惠活动通知", "了解流失原因", "售后支持"])[rng.integers(0, 4, f)],
    "跟进结果": np.array(["客户满意", "待客户确认", "暂无需求", "已恢复下单"])[rng.integers(0, 4, f)],
    "下次联系日期": (fday + pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
    "负责人": owners[rng.integers(0, 5, f)],
    "状态": np.array(["已完成", "跟进中", "暂停"])[rng.choice(3, f, p=[0.6, 0.3, 0.1])],
}).sort_values("跟进日期", kind="stable")
followups.to_csv(HERE / "followups.csv", index=False, encoding="utf-8")

if __name__ == "__main__":
    for path in sorted(HERE.glob("*.*")):
        if path.suffix != ".py":
            print(path.name, path.stat().st_size)

# A Taobao/Tmall order report (订单报表: GBK, one row per order, the platform's own
# headers and state words). Buyers are known by their member names only (made up),
# and the amount to import is what the buyer paid (买家实际支付金额), not 总金额.
t = 120
buyer = np.array([f"tb_{w}{n}" for w, n in zip(
    np.array(["xiaoyu", "mumu", "lanlan", "ajie", "dabao", "yiyi", "qiqi", "haha"])[
        rng.integers(0, 8, t)], rng.integers(10, 99, t))])
item, count = rng.integers(0, 6, t), rng.integers(1, 3, t)
goods = np.round(products[item, 2].astype(float) * count, 2)
post = np.where(goods >= 99, 0.0, 8.0)
paid = np.round((goods + post) * rng.uniform(0.85, 1.0, t), 2)
state = np.array(["交易成功", "卖家已发货，等待买家确认", "买家已付款，等待卖家发货", "交易关闭",
                  "等待买家付款"])[rng.choice(5, t, p=[0.6, 0.1, 0.05, 0.18, 0.07])]
created = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 180 * 24 * 60, t),
                                                        unit="min")
unpaid = np.isin(state, ["交易关闭", "等待买家付款"])
taobao = pd.DataFrame({
    "订单编号": [f"{3866000000000000000 + i * 7919}" for i in range(t)],
    "买家会员名": buyer,
    "买家支付宝账号": "", "支付单号": "",
    "买家应付货款": goods, "买家应付邮费": post, "总金额": goods + post,
    "买家实际支付金额": np.where(unpaid, 0.0, paid),
    "订单状态": state,
    "买家留言": "",
    "订单创建时间": created.strftime("%Y-%m-%d %H:%M:%S"),
    "订单付款时间": np.where(unpaid, "", (created + pd.Timedelta(minutes=3)).strftime(
        "%Y-%m-%d %H:%M:%S")),
    "宝贝标题": products[item, 0],
    "宝贝总数量": count,
    "店铺名称": "示例办公用品专营店",
    "订单关闭原因": np.where(state == "交易关闭", "买家不想买了", ""),
}).sort_values("订单创建时间", kind="stable")
taobao.to_csv(HERE / "taobao_orders.csv", index=False, encoding="gbk", float_format="%.2f")

# An order-line workbook in the layout of UCI "Online Retail II": one row per product
# line, no amount column (quantity × price), one sheet per year, invoices starting with
# C taking goods back, and a few lines without a customer (guest orders).
lines = []
for no in range(150):
    k = int(rng.integers(0, N))
    day = pd.Timestamp("2025-01-02") + pd.Timedelta(minutes=int(rng.integers(0, 540 * 24 * 60)))
    for line in range(int(rng.integers(1, 5))):
        p = int(rng.integers(0, len(products)))
        lines.append((f"{581000 + no}", f"SKU{p:03d}", products[p, 0], int(rng.integers(1, 4)),
                      day.strftime("%Y-%m-%d %H:%M"), products[p, 2], ids[k], "China"))
back = [(f"C{i}", s, d, -q, w, pr, c, co) for i, s, d, q, w, pr, c, co in lines[5:7]]
guests = [(f"{581900 + i}", "SKU004", "A4打印纸", 2, "2025-06-01 10:00", 29.0, "", "China")
          for i in range(3)]
order_lines = pd.DataFrame(lines + back + guests, columns=[
    "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID",
    "Country"]).sort_values("InvoiceDate", kind="stable")
year = order_lines["InvoiceDate"].str[:4]
with pd.ExcelWriter(HERE / "order_lines.xlsx", engine="xlsxwriter") as book:
    for y in sorted(year.unique()):
        order_lines[year == y].to_excel(book, sheet_name=f"Year {y}", index=False)
