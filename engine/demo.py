"""Seeded demo data, so every page has something true to show before anyone imports.

A manager trying the dashboard needs a customer base that behaves like a
real one: seasonal peaks (Double 11, December, the weeks before Chinese New
Year), new customers every month, customers whose spend collapses, sleepers,
frequent complainers, referrers, and a follow-up log in which some sleepers
woke up and some at-risk customers were won back. This module plants those
behaviours in random but reproducible data (same arguments, same rows) and
writes it through `engine.store`, replacing the rows of the four event
tables (DESIGN §3).

Everything is vectorised with numpy and made in chunks of customers, each
with its own seeded generator, so a million customers fit in memory and in
minutes. Customer ids run in order of first contact across chunks, which
lets a referred customer point to an earlier one without looking back.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from engine import store

CHUNK = 50_000
INTERACTIONS_PER_CUSTOMER = 8.0
REFERRER_EVERY = 16            # every 16th customer belongs to the referrer pool
ENTERPRISE_SHARE = 0.3
REFUND_SHARE = 0.02
# Orders of several lines (DESIGN §3): the share of purchases that get one or two
# more lines, and the orders that are cancelled or (in the last days) still unpaid.
MULTI_LINE_SHARE = 0.15
CANCELLED_SHARE = 0.03
PENDING_SHARE, PENDING_DAYS = 0.3, 10
LINES_PER_ORDER = 1 + MULTI_LINE_SHARE * 1.5   # so that rows average `per_customer`
STATUSES = ("paid", "refunded", "cancelled", "pending")

# Customer segments planted per customer; the share of the base each aims at.
# Sleepers are not drawn: they are the customers who dropped out (below).
NORMAL, SLEEPER, DECLINING, COMPLAINER, PROSPECT = range(5)
SEGMENT_SHARES = (0.86, 0.0, 0.09, 0.035, 0.015)
# Customers who buy drop out for good at a random time, as in the BG/NBD
# model of engine.clv: the time from their first possible purchase to the
# drop-out is exponential with this mean, so at any date a steady share of
# the living leave. Decliners, complainers and prospects stay. Those gone at
# least 120 days before the window ends are the sleepers.
LIFETIME_DAYS = 1600.0
SLEEPER_QUIET_DAYS = 120

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
                 "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN_CHARS = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰志海春红"
                    "子浩宇轩梓涵欣怡诺思雨佳俊嘉文博晨家瑞雅婷建国")
BRAND_CHARS = tuple("华信联创新达博远恒泰鑫盛安通天宏中科锐智云星明德嘉瑞")
INDUSTRIES = ("科技", "贸易", "电子", "机械", "建材", "物流", "餐饮管理",
              "医疗器械", "文化传媒", "教育咨询")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
REGION_SHARES = (0.32, 0.22, 0.16, 0.11, 0.10, 0.05, 0.04)
CITIES = (("上海", "杭州", "南京", "苏州", "宁波", "合肥", "济南", "福州"),
          ("广州", "深圳", "东莞", "佛山", "厦门", "南宁", "海口"),
          ("北京", "天津", "石家庄", "太原", "呼和浩特"),
          ("武汉", "长沙", "郑州", "南昌"),
          ("成都", "重庆", "昆明", "贵阳"),
          ("西安", "兰州", "银川", "乌鲁木齐"),
          ("沈阳", "大连", "长春", "哈尔滨"))
SOURCES = ("online_shop", "store", "exhibition", "referral", "advertising")
SOURCE_SHARES = ((0.45, 0.25, 0.03, 0.12, 0.15),   # individual
                 (0.10, 0.10, 0.35, 0.30, 0.15))   # enterprise
# The first four owners are account managers (enterprises), the rest service reps.
OWNERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴军")
ACCOUNT_MANAGERS = 4

CATEGORIES = ("办公设备", "电脑配件", "办公耗材", "办公家具", "软件服务")
CATEGORY_SHARES = ((0.15, 0.35, 0.35, 0.10, 0.05),  # individual: main category
                   (0.30, 0.15, 0.20, 0.15, 0.20))  # enterprise
PRODUCTS = (  # (product, category index, unit price in yuan)
    ("激光打印机", 0, 1899.0), ("碎纸机", 0, 699.0), ("投影仪", 0, 3299.0),
    ("扫描仪", 0, 1299.0), ("无线鼠标", 1, 129.0), ("机械键盘", 1, 399.0),
    ("显示器", 1, 1299.0), ("移动硬盘", 1, 459.0), ("A4打印纸", 2, 29.0),
    ("硒鼓", 2, 259.0), ("墨盒", 2, 89.0), ("文件夹", 2, 15.0),
    ("人体工学椅", 3, 1599.0), ("升降办公桌", 3, 2599.0), ("文件柜", 3, 899.0),
    ("年度维保服务", 4, 4800.0), ("云存储套餐", 4, 1200.0), ("安装调试服务", 4, 300.0))
CATEGORY_OF = np.array([p[1] for p in PRODUCTS])  # PRODUCTS are grouped by category
PRICES = np.array([p[2] for p in PRODUCTS])
# A customer's usual order value (yuan) is drawn around the mean of their
# type (individual, enterprise) with this spread of its log: customers'
# mean spends then vary like a real shop's, heavily but with a finite mean
# (the Gamma-Gamma spend model of engine.clv fits them).
ORDER_VALUE_MEANS = (500.0, 1500.0)
ORDER_VALUE_LOG_SD = 0.5

KINDS = ("consultation", "complaint", "feedback", "visit", "event", "referral", "other")
COMPLAINT = KINDS.index("complaint")
KIND_SHARES = ((0.40, 0.08, 0.20, 0.03, 0.08, 0.01, 0.20),   # individual
               (0.30, 0.07, 0.15, 0.20, 0.12, 0.02, 0.14),   # enterprise
               (0.36, 0.07, 0.18, 0.03, 0.08, 0.10, 0.18),   # individual referrer
               (0.27, 0.06, 0.13, 0.18, 0.11, 0.12, 0.13))   # enterprise referrer
CHANNELS = ("phone", "email", "online", "visit", "wechat", "sms")
KIND_CHANNELS = ((0.30, 0.10, 0.30, 0.00, 0.30, 0.0),  # consultation
                 (0.45, 0.10, 0.25, 0.00, 0.20, 0.0),  # complaint
                 (0.10, 0.20, 0.40, 0.00, 0.30, 0.0),  # feedback
                 (0.00, 0.00, 0.00, 1.00, 0.00, 0.0),  # visit
                 (0.00, 0.00, 0.40, 0.60, 0.00, 0.0),  # event
                 (0.30, 0.10, 0.20, 0.00, 0.40, 0.0),  # referral
                 (0.30, 0.20, 0.20, 0.10, 0.20, 0.0))  # other
TOPICS = ("物流延迟", "质量问题", "售后服务", "价格", "发票", "安装", "退换货", "产品功能")
TOPIC_SHARES = ((0.20, 0.22, 0.18, 0.12, 0.08, 0.10, 0.10, 0.00),  # complaint
                (0.45, 0.15, 0.12, 0.08, 0.06, 0.07, 0.07, 0.00),  # complaint, Nov-Feb
                (0.05, 0.00, 0.00, 0.30, 0.15, 0.20, 0.00, 0.30))  # consultation
SATISFACTION_SHARES = ((0.02, 0.05, 0.15, 0.38, 0.40),  # any kind but complaints
                       (0.35, 0.30, 0.20, 0.10, 0.05))  # complaint
NOTES = ("咨询产品参数与报价", "客户投诉，已登记工单", "使用体验反馈", "上门拜访",
         "参加新品发布会", "推荐新客户", "其他沟通")
ANSWERED_KINDS = np.isin(np.arange(len(KINDS)), [0, 1, 2, 6])  # carry response hours

ACTIONS = ("visit", "care", "wake_up", "win_back", "other")
VISIT, CARE, WAKE_UP, WIN_BACK, OTHER_ACTION = range(5)
ACTION_CHANNELS = ((0.0, 0.0, 0.0, 1.0, 0.0, 0.0),
                   (0.5, 0.0, 0.0, 0.0, 0.5, 0.0),
                   (0.0, 0.4, 0.0, 0.0, 0.3, 0.3),
                   (0.7, 0.0, 0.0, 0.3, 0.0, 0.0),
                   (0.5, 0.5, 0.0, 0.0, 0.0, 0.0))
CADENCE_DAYS = np.array([30, 14, 7, 1, 30])
NEEDS = (("年度采购计划", "新品试用", "续约洽谈"),
         ("使用体验回访", "优惠活动通知", "收集意见"),
         ("回归礼包", "了解流失原因", "新品推荐"),
         ("投诉处理", "价格优惠诉求", "售后支持"),
         ("更新联系方式", "开具发票", "资料核对"))
# Outcomes: 0 succeeded, 1 done without effect, 2 in progress, 3 paused.
OUTCOME_STATUS = np.array(["done", "done", "in_progress", "paused"])
OUTCOME_SHARES = ((0.0, 0.25, 0.55, 0.20),  # wake-up, win-back (successes are drawn apart)
                  (0.3, 0.55, 0.10, 0.05))  # routine: visit, care, other
RESULTS = (("客户满意，有追加订单意向", "已拜访，了解需求", "方案沟通中", "客户出差，暂缓"),
           ("客户反馈良好", "已回访，暂无新需求", "待客户确认优惠", "客户未接听，暂缓"),
           ("已唤醒，客户回购", "客户表示暂无需求", "已发送回归礼包，待回复", "客户暂不考虑"),
           ("已挽回，客户恢复下单", "已致歉并补偿，观察中", "问题处理中", "客户仍不满意，暂停跟进"),
           ("已更新客户资料", "已处理", "处理中", "暂缓"))

# Chinese New Year's day; years outside the table get no festival effect.
NEW_YEAR = {2015: "02-19", 2016: "02-08", 2017: "01-28", 2018: "02-16",
            2019: "02-05", 2020: "01-25", 2021: "02-12", 2022: "02-01",
            2023: "01-22", 2024: "02-10", 2025: "01-29", 2026: "02-17",
            2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03",
            2031: "01-23", 2032: "02-11", 2033: "01-31", 2034: "02-19",
            2035: "02-08"}


@dataclass(frozen=True)
class Calendar:
    """The demo window as day numbers 0 .. days - 1, with seasonal weights.

    `cum[d]` is the summed weight of the days before day d, so day d owns
    the interval [cum[d], cum[d + 1]) and sampling a uniform number on that
    scale draws days in proportion to their weight.
    """
    start: np.datetime64
    days: int
    cum: np.ndarray

    @property
    def last(self) -> int:
        """Day number of the window's end date."""
        return self.days - 1


@dataclass
class Customers:
    """One chunk of customers: per-customer arrays, days as window day numbers."""
    ids: np.ndarray          # "C000001", ... (str)
    gidx: np.ndarray         # position in the whole base, 0-based
    enterprise: np.ndarray   # bool
    owner: np.ndarray        # index into OWNERS
    first: np.ndarray        # first contact day
    start: np.ndarray        # first day they may buy
    stop: np.ndarray         # last day with any event (the window end unless asleep)
    segment: np.ndarray      # NORMAL, SLEEPER, ...
    buy_rate: np.ndarray     # relative purchase frequency, mean about 1
    talk_rate: np.ndarray    # relative interaction frequency
    favourite: np.ndarray    # usual product, in the main category
    order_value: np.ndarray  # usual order value in yuan
    terms: np.ndarray        # payment terms in days (enterprises)
    late_p: np.ndarray       # chance an invoice is paid late


def generate_demo(path: Path | str | None = None, *, customers: int = 5000,
                  months: int = 24, seed: int = 7, end: date = date(2026, 6, 30),
                  txns_per_customer: float = 30.0,
                  progress: Callable[[float], None] | None = None) -> dict[str, int]:
    """Replace the event tables of the database at `path` with demo data, in one write.

    Returns
    -------
    dict
        Rows written per table: ``customers``, ``transactions``,
        ``interactions``, ``followups``.
    """
    with store.write(path) as con:
        return write_demo(con, customers=customers, months=months, seed=seed,
                          end=end, txns_per_customer=txns_per_customer,
                          progress=progress)


def write_demo(con, *, customers: int = 5000, months: int = 24, seed: int = 7,
               end: date = date(2026, 6, 30), txns_per_customer: float = 30.0,
               progress: Callable[[float], None] | None = None) -> dict[str, int]:
    """Replace the rows of the four event tables on an open connection with demo data.

    The caller owns the transaction. Events fall in the `months` months
    ending with `end` (both ends included). `progress`, when given, is
    called with the finished fraction after each chunk of customers.

    Returns
    -------
    dict
        Rows written per table: ``customers``, ``transactions``,
        ``interactions``, ``followups``.
    """
    for name, value in (("customers", customers), ("months", months)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if txns_per_customer < 0:
        raise ValueError(f"txns_per_customer must not be negative, got {txns_per_customer}")
    cal = make_calendar(end, months)
    for table in store.EVENT_TABLES:
        con.execute(f"DELETE FROM {table}")
    counts = dict.fromkeys(store.EVENT_TABLES, 0)
    width = max(6, len(str(customers)))
    starts = range(0, customers, CHUNK)
    for k, lo in enumerate(starts):
        rng = np.random.default_rng([seed, k])
        gidx = np.arange(lo, min(lo + CHUNK, customers))
        written = _write_chunk(con, rng, cal, gidx, customers, width,
                               txns_per_customer, counts)
        for table, n in written.items():
            counts[table] += n
        if progress is not None:
            progress(float(gidx[-1] + 1) / customers)
    return counts


def make_calendar(end: date, months: int) -> Calendar:
    """The window of `months` months ending with `end`, weighted by season."""
    nxt = end + timedelta(days=1)
    year, month0 = divmod(nxt.year * 12 + nxt.month - 1 - months, 12)
    day = min(nxt.day, calendar.monthrange(year, month0 + 1)[1])
    start = np.datetime64(date(year, month0 + 1, day), "D")
    days = (np.datetime64(end, "D") - start).astype(int) + 1
    weights = season_weights(start + np.arange(days))
    return Calendar(start, int(days), np.concatenate([[0.0], np.cumsum(weights)]))


def season_weights(days: np.ndarray) -> np.ndarray:
    """Relative purchase intensity per day (datetime64[D] array); 1 is an ordinary day.

    Double 11 and December are high, so are the three weeks before Chinese
    New Year; the festival week itself is quiet, the 618 sales a little up.
    """
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
    w = np.ones(len(days))
    w[month == 11] = 1.5
    w[(month == 11) & (day_of_month <= 11)] = 1.9
    w[month == 12] = 1.4
    w[(month == 6) & (day_of_month <= 18)] = 1.2
    years = np.unique(days.astype("datetime64[Y]").astype(int) + 1970)
    for year in years:
        if int(year) not in NEW_YEAR:
            continue
        new_year = np.datetime64(f"{year}-{NEW_YEAR[int(year)]}")
        w[(days >= new_year - 24) & (days < new_year - 3)] *= 1.5
        w[(days >= new_year - 3) & (days <= new_year + 6)] *= 0.4
    return w


def _write_chunk(con, rng, cal, gidx, n_total, width, txns_per_customer, counts):
    """Make one chunk of customers with their events and insert it; return rows per table."""
    c = make_customers(rng, cal, gidx, n_total, width)
    followups, bought = make_followups(rng, c, cal, counts["followups"] + 1)
    tables = {
        "customers": customer_table(rng, c, cal),
        "transactions": make_transactions(rng, c, cal, txns_per_customer, bought,
                                          counts["transactions"] + 1),
        "interactions": make_interactions(rng, c, cal),
        "followups": followups,
    }
    for name, table in tables.items():
        _insert(con, name, table)
    return {name: table.num_rows for name, table in tables.items()}


def _insert(con, name: str, table: pa.Table) -> None:
    """Append an Arrow table whose columns are the table's, by name, without batch_id.

    A relation, unlike a registered view, does not keep the Arrow data
    alive until the transaction ends, so memory stays at one chunk.
    """
    stored = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_catalog = current_database() "
        "AND table_name = ? ORDER BY ordinal_position", [name]).fetchall()]
    given = set(table.column_names)
    items = ["printf('T%08d', txn_id)" if c == "txn_id" and name == "transactions"
             else (c if c in given else "NULL") for c in stored]
    con.from_arrow(table).project(", ".join(items)).insert_into(name)


# ---- drawing helpers ---------------------------------------------------------

def pick(rng, shares, group: np.ndarray) -> np.ndarray:
    """Draw one category per row, row i from the distribution `shares[group[i]]`.

    Returns
    -------
    numpy.ndarray
        Column indices into `shares` (int64), one per row of `group`.
    """
    cum = np.cumsum(np.asarray(shares, dtype=float), axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(group))
    out = np.empty(len(group), dtype=np.int64)
    for g in range(len(cum)):
        rows = group == g
        out[rows] = np.searchsorted(cum[g], u[rows], side="right")
    return np.minimum(out, cum.shape[1] - 1)


def sample_days(rng, cal: Calendar, lo: np.ndarray, hi: np.ndarray,
                quantile: np.ndarray | None = None) -> np.ndarray:
    """One day in [lo, hi] per row, drawn in proportion to the seasonal weight.

    `quantile` (in [0, 1), default uniform random) places the day within
    the row's seasonal mass, so callers can spread a customer's events.
    """
    a, b = cal.cum[lo], cal.cum[hi + 1]
    u = a + (rng.random(len(lo)) if quantile is None else quantile) * (b - a)
    return np.clip(np.searchsorted(cal.cum, u, side="right") - 1, lo, hi)


def spread(rng, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows for `counts[i]` events of each customer i, each in its own stratum.

    Event k of n falls at a random point in [k / n, (k + 1) / n), so a
    customer's purchases keep a rhythm instead of clumping by chance.

    Returns
    -------
    tuple
        Customer position per event, and the event's quantile in [0, 1).
    """
    owner = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, (rank + rng.random(len(owner))) / counts[owner]


def products_of(rng, category: np.ndarray) -> np.ndarray:
    """A random product of each given category (indices into PRODUCTS)."""
    sizes = np.bincount(CATEGORY_OF)
    offsets = np.cumsum(sizes) - sizes
    return offsets[category] + (rng.random(len(category)) * sizes[category]).astype(np.int64)


def affordable_products(rng, category: np.ndarray, value: np.ndarray) -> np.ndarray:
    """A random product of each given category priced at most `value`, else its cheapest.

    Returns
    -------
    numpy.ndarray
        Indices into PRODUCTS, one per row.
    """
    fits = (CATEGORY_OF[None, :] == category[:, None]) & (PRICES[None, :] <= value[:, None])
    in_category = np.where(CATEGORY_OF[None, :] == category[:, None], PRICES[None, :], np.inf)
    chosen = np.argmax(fits * rng.random(fits.shape), axis=1)
    return np.where(fits.any(axis=1), chosen, np.argmin(in_category, axis=1))


def uniform_days(rng, lo: np.ndarray, hi) -> np.ndarray:
    """One day in [lo, hi] per row, all days equally likely."""
    return lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)


def dates(cal: Calendar, days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Window day numbers as an Arrow date32 array, null where `mask` is true."""
    return pa.array(cal.start + days.astype("timedelta64[D]"), type=pa.date32(), mask=mask)


def timestamps(rng, cal: Calendar, days: np.ndarray) -> pa.Array:
    """Window day numbers at a random time in office hours (08:00-20:00)."""
    secs = rng.integers(8 * 3600, 20 * 3600, len(days)).astype("timedelta64[s]")
    return pa.array((cal.start + days.astype("timedelta64[D]")).astype("datetime64[s]") + secs)


def labels(codes: np.ndarray, values, mask: np.ndarray | None = None) -> pa.Array:
    """Codes into `values` as an Arrow dictionary array (cheap for millions of rows)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=mask),
                                          pa.array(list(values)))


# ---- customers -------------------------------------------------------------

def make_customers(rng, cal: Calendar, gidx: np.ndarray, n_total: int,
                   width: int) -> Customers:
    """Draw one chunk of customers and plant their segments.

    Returns
    -------
    Customers
        Per-customer arrays. Ordinary customers drop out at a random time
        (LIFETIME_DAYS): those gone at least SLEEPER_QUIET_DAYS before the
        window ends are sleepers, those gone later have simply stopped.
        Decliners and complainers have been buying long enough for the
        change to show.
    """
    n = len(gidx)
    ent = rng.random(n) < ENTERPRISE_SHARE
    first = first_contact_days(rng, gidx, n_total, cal.days)
    start = np.minimum(first + np.minimum(rng.geometric(0.15, n) - 1, 60), cal.last)
    segment = rng.choice(len(SEGMENT_SHARES), n, p=SEGMENT_SHARES)
    segment[(segment == DECLINING) & (start > cal.last - 240)] = NORMAL
    segment[(segment == COMPLAINER) & (start > cal.last - 90)] = NORMAL
    gone = start + np.floor(rng.exponential(LIFETIME_DAYS, n)).astype(np.int64)
    stop = np.where((segment == NORMAL) & (gone < cal.last), gone, cal.last)
    segment[(segment == NORMAL) & (stop <= cal.last - SLEEPER_QUIET_DAYS)] = SLEEPER
    buy_rate = rng.gamma(1.5, 1 / 1.5, n)
    order_value = (np.asarray(ORDER_VALUE_MEANS)[ent.astype(int)]
                   * rng.lognormal(-ORDER_VALUE_LOG_SD ** 2 / 2, ORDER_VALUE_LOG_SD, n))
    favourite = affordable_products(rng, pick(rng, CATEGORY_SHARES, ent.astype(int)),
                                    order_value)
    owner = np.where(ent, rng.integers(0, ACCOUNT_MANAGERS, n),
                     rng.integers(ACCOUNT_MANAGERS, len(OWNERS), n))
    return Customers(
        ids=customer_ids(gidx, width), gidx=gidx, enterprise=ent, owner=owner,
        first=first, start=start,
        stop=stop, segment=segment,
        buy_rate=buy_rate, talk_rate=np.sqrt(buy_rate) * rng.gamma(2.0, 0.5, n),
        favourite=favourite, order_value=order_value,
        terms=rng.choice([30, 45, 60], n), late_p=rng.beta(1.0, 6.0, n))


def first_contact_days(rng, gidx: np.ndarray, n_total: int, days: int) -> np.ndarray:
    """First contact day per customer, non-decreasing in the customer's position.

    Thirty per cent of the base is there in the window's first month; the
    rest arrive evenly over the window, so every month brings new customers.
    """
    q = (gidx + rng.random(len(gidx))) / n_total
    base, opening = 0.3, min(30, days // 4)
    later = opening + (q - base) / (1 - base) * (days - 1 - opening)
    return np.where(q < base, q / base * opening, later).astype(np.int64)


def customer_ids(gidx: np.ndarray, width: int) -> np.ndarray:
    """"C" plus the 1-based position, zero-padded to `width` digits."""
    return np.char.add("C", np.char.zfill((gidx + 1).astype(str), width))


def customer_table(rng, c: Customers, cal: Calendar) -> pa.Table:
    """The `customers` rows of a chunk, columns in table order but batch_id."""
    n = len(c.gidx)
    region = rng.choice(len(REGIONS), n, p=REGION_SHARES)
    source = pick(rng, SOURCE_SHARES, c.enterprise.astype(int))
    referred = (source == SOURCES.index("referral")) & (c.gidx > 0) & (rng.random(n) < 0.7)
    width = len(c.ids[0]) - 1
    return pa.table({
        "customer_id": c.ids,
        "name": np.where(c.enterprise, company_names(rng, region), person_names(rng, n)),
        "customer_type": np.where(c.enterprise, "enterprise", "individual"),
        "channel_type": np.where(c.enterprise, "B", "C"),
        "region": np.array(REGIONS)[region],
        "source": np.array(SOURCES)[source],
        "first_contact_date": dates(cal, c.first),
        "owner": np.array(OWNERS)[c.owner],
        "referred_by": pa.array(customer_ids(referrers(rng, c.gidx), width), mask=~referred),
        "contract_end": contract_ends(rng, c, cal),
    })


def referrers(rng, gidx: np.ndarray) -> np.ndarray:
    """Position of a random earlier member of the referrer pool, per customer.

    The pool is every REFERRER_EVERY-th customer, so the members before
    position i are 0, K, 2K, ... below i. Position 0 has none (gets 0).
    """
    members_before = -(-gidx // REFERRER_EVERY)
    return REFERRER_EVERY * (rng.random(len(gidx)) * members_before).astype(np.int64)


def person_names(rng, n: int) -> np.ndarray:
    """Chinese personal names: a common surname and one or two given characters."""
    rank = np.arange(len(SURNAMES))
    surname_p = 1 / (rank + 5) / np.sum(1 / (rank + 5))
    given = np.array(GIVEN_CHARS)
    second = np.where(rng.random(n) < 0.6, given[rng.integers(0, len(given), n)], "")
    name = np.char.add(np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=surname_p)],
                       given[rng.integers(0, len(given), n)])
    return np.char.add(name, second)


def company_names(rng, region: np.ndarray) -> np.ndarray:
    """Company names such as 杭州华信科技有限公司, with a city of the customer's region."""
    n = len(region)
    sizes = np.array([len(cities) for cities in CITIES])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    city = np.array(sum(CITIES, ()))[offsets[region]
                                     + (rng.random(n) * sizes[region]).astype(np.int64)]
    brand = np.array(BRAND_CHARS)[rng.integers(0, len(BRAND_CHARS), (2, n))]
    industry = np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)]
    name = np.char.add(np.char.add(city, brand[0]), brand[1])
    return np.char.add(np.char.add(name, industry), "有限公司")


def contract_ends(rng, c: Customers, cal: Calendar) -> pa.Array:
    """Enterprise contracts: one to three years from first contact, renewed by most
    live customers and few sleepers, so some ended and some run on. Null for individuals."""
    n = len(c.gidx)
    ends = c.first + 365 * rng.integers(1, 4, n)
    renew = (rng.random(n) < np.where(c.segment == SLEEPER, 0.1, 0.6)) & (ends < cal.last)
    ends = np.where(renew, ends + 365 * -(-(cal.last - ends) // 365), ends)
    return dates(cal, ends, mask=~c.enterprise)


# ---- follow-ups ------------------------------------------------------------

def make_followups(rng, c: Customers, cal: Calendar, first_id: int):
    """The follow-up log of a chunk and the purchases it led to.

    Part of the sleepers get a wake-up after 90 quiet days (counting the
    refunds that trail their last purchase) and some of them
    buy within two weeks; part of the decliners and complainers get a
    win-back in the last 100 days and some buy again within ten days.
    Enterprises get routine visits, some individuals care calls.

    Returns
    -------
    tuple
        The `followups` rows as an Arrow table (columns in table order but
        batch_id, ids from `first_id`), and the purchases they caused as a
        pair of arrays (customer position in the chunk, day).
    """
    n, last = len(c.gidx), cal.last
    live = c.segment != SLEEPER
    wake = np.flatnonzero((c.segment == SLEEPER) & (rng.random(n) < 0.55))
    win = np.flatnonzero(np.isin(c.segment, (DECLINING, COMPLAINER)) & (rng.random(n) < 0.6))
    visits = np.repeat(np.arange(n), rng.integers(1, 5, n) * (live & c.enterprise
                                                             & (rng.random(n) < 0.3)))
    care = np.repeat(np.arange(n), rng.integers(1, 4, n) * (live & ~c.enterprise
                                                           & (rng.random(n) < 0.08)))
    other = np.flatnonzero(rng.random(n) < 0.02)
    cust = np.concatenate([visits, care, wake, win, other])
    action = np.repeat(np.arange(len(ACTIONS)),
                       [len(visits), len(care), len(wake), len(win), len(other)])
    day = np.concatenate([
        uniform_days(rng, np.maximum(c.first[visits], last - 179), last),
        uniform_days(rng, np.maximum(c.first[care], last - 119), last),
        uniform_days(rng, c.stop[wake] + 105, last - 15),  # refunds trail by <= 14 days
        uniform_days(rng, np.maximum(c.start[win], last - 100), last - 12),
        uniform_days(rng, c.first[other], last)])
    outcome = pick(rng, OUTCOME_SHARES, np.isin(action, (VISIT, CARE, OTHER_ACTION)).astype(int))
    worked = np.isin(action, (WAKE_UP, WIN_BACK)) & (rng.random(len(cust)) < 0.4)
    outcome[worked] = 0
    lag = np.where(action == WAKE_UP, rng.integers(1, 15, len(cust)),
                   rng.integers(1, 11, len(cust)))
    bought = (cust[worked], day[worked] + lag[worked])
    order = np.lexsort((day, cust))
    return followup_table(rng, c, cal, cust[order], day[order], action[order],
                          outcome[order], first_id), bought


def followup_table(rng, c, cal, cust, day, action, outcome, first_id) -> pa.Table:
    """Follow-up rows from their customer, day, action and outcome codes."""
    m = len(cust)
    paused = outcome == 3
    return pa.table({
        "followup_id": np.arange(first_id, first_id + m, dtype=np.int64),
        "customer_id": labels(cust, c.ids),
        "ts": timestamps(rng, cal, day),
        "action": labels(action, ACTIONS),
        "channel": labels(pick(rng, ACTION_CHANNELS, action), CHANNELS),
        "need": np.array(NEEDS)[action, rng.integers(0, 3, m)],
        "result": np.array(RESULTS)[action, outcome],
        "next_contact_date": dates(cal, day + CADENCE_DAYS[action], mask=paused),
        "owner": labels(c.owner[cust], OWNERS),
        "status": OUTCOME_STATUS[outcome],
    })


# ---- transactions ------------------------------------------------------------

def make_transactions(rng, c: Customers, cal: Calendar, per_customer: float,
                      bought, first_no: int) -> pa.Table:
    """Purchase orders (some of several lines, some cancelled or unpaid) and refunds of a
    chunk, sorted by customer and date.

    Purchase counts follow each customer's rate and active span (prospects
    buy nothing); rows (lines) average `per_customer` over the chunk; dates follow
    the season. Decliners keep 30 % of their purchases in the last 120 days,
    at 60 % of the usual size. `bought` adds the follow-ups' purchases.

    Returns
    -------
    pyarrow.Table
        `transactions` columns in table order but batch_id; txn_id is the
        number from `first_no` (formatted by the insert).
    """
    mass = (cal.cum[c.stop + 1] - cal.cum[c.start]) * c.buy_rate * (c.segment != PROSPECT)
    scale = per_customer / LINES_PER_ORDER / mass.mean() if mass.any() else 0.0
    cust, quantile = spread(rng, rng.poisson(mass * scale))
    day = sample_days(rng, cal, c.start[cust], c.stop[cust], quantile)
    fading = (c.segment[cust] == DECLINING) & (day > cal.last - 120)
    keep = ~fading | (rng.random(len(day)) < 0.3)
    cust = np.concatenate([cust[keep], bought[0]])
    day = np.concatenate([day[keep], bought[1]])
    cols = purchase_columns(rng, c, cal, cust, day)
    refund = np.flatnonzero(rng.random(len(cust)) < REFUND_SHARE)
    cols = {k: np.concatenate([v, v[refund]]) for k, v in cols.items()}
    n_refunds = len(refund)
    is_refund = np.repeat([False, True], [len(cust), n_refunds])
    cols["day"][is_refund] = np.minimum(cols["day"][is_refund]
                                        + rng.integers(1, 15, n_refunds), cal.last)
    cols["amount"][is_refund] *= -1
    cols["unpaid"] |= is_refund
    cols["status"] = order_status(rng, cal, cols["day"], is_refund)
    cols = add_lines(rng, c, cols)
    order = np.lexsort((cols["line"], cols["order"], cols["day"], cols["cust"]))
    cols = {k: v[order] for k, v in cols.items()}
    void = cols["status"] >= STATUSES.index("cancelled")
    return pa.table({
        "customer_id": labels(cols["cust"], c.ids),
        "txn_date": dates(cal, cols["day"]),
        "amount": cols["amount"],
        "txn_id": first_no + cols["order"],
        "product": labels(cols["product"], [p[0] for p in PRODUCTS]),
        "category": labels(CATEGORY_OF[cols["product"]], CATEGORIES),
        "quantity": cols["quantity"],
        "unit_price": np.round(cols["amount"] / cols["quantity"], 2),
        "due_date": dates(cal, cols["due"], mask=cols["no_terms"] | (cols["status"] > 0)),
        "paid_date": dates(cal, cols["paid"], mask=cols["unpaid"] | void),
        "status": labels(cols["status"], STATUSES),
        "order_line": pa.array(cols["line"], mask=cols["line"] == 0, type=pa.int32()),
    })


def order_status(rng, cal: Calendar, day: np.ndarray, is_refund: np.ndarray) -> np.ndarray:
    """Codes into STATUSES: refunds; some orders cancelled; some of the last days' unpaid."""
    u = rng.random(len(day))
    status = np.where(is_refund, 1, 0)
    status = np.where(~is_refund & (u < CANCELLED_SHARE), 2, status)
    recent = day > cal.last - PENDING_DAYS
    return np.where(~is_refund & recent & (u > 1 - PENDING_SHARE), 3, status)


def add_lines(rng, c: Customers, cols: dict) -> dict:
    """Give some purchase orders one or two more lines (another product of the category).

    Every row so far is an order (`order` numbers them); a line copies its
    order's customer, day, dates and status. `line` numbers the lines of an
    order of several (1, 2, ...) and is 0 for an order of one row.
    """
    n = len(cols["cust"])
    multi = np.flatnonzero((cols["status"] != 1) & (rng.random(n) < MULTI_LINE_SHARE))
    extra = rng.integers(1, 3, len(multi))
    src = np.repeat(multi, extra)
    lines = {k: v[src] for k, v in cols.items()}
    lines["product"] = products_of(rng, CATEGORY_OF[cols["product"][src]])
    lines["quantity"] = rng.integers(1, 3, len(src)).astype(float)
    lines["amount"] = np.round(PRICES[lines["product"]] * lines["quantity"]
                               * np.where(c.enterprise[lines["cust"]], 0.9, 1.0), 2)
    cols["order"], lines["order"] = np.arange(n), src
    cols["line"] = np.where(np.isin(np.arange(n), multi), 1, 0)
    starts = np.cumsum(extra) - extra
    lines["line"] = np.arange(len(src)) - np.repeat(starts, extra) + 2
    return {k: np.concatenate([cols[k], lines[k]]) for k in cols}


def purchase_columns(rng, c: Customers, cal: Calendar, cust: np.ndarray,
                     day: np.ndarray) -> dict[str, np.ndarray]:
    """Product, quantity, amount and invoice days of purchases.

    A purchase is worth about the customer's usual order value; 60 % are
    their usual product, 30 % another of its category, 10 % anything not
    much dearer than that value, in the quantity the value buys.
    Enterprises get a 10 % discount, pay on
    30/45/60-day terms, sometimes late (a customer's habit), 3 % never;
    individuals pay at once and carry no invoice days.

    Returns
    -------
    dict
        Arrays cust, day, product (index into PRODUCTS), quantity, amount
        (yuan, cents), due, paid (days), no_terms and unpaid (masks).
    """
    m = len(cust)
    usual = c.favourite[cust]
    fading = (c.segment[cust] == DECLINING) & (day > cal.last - 120)
    value = c.order_value[cust] * rng.lognormal(0.0, 0.3, m) * np.where(fading, 0.6, 1.0)
    u = rng.random(m)
    product = np.where(u < 0.6, usual, np.where(
        u < 0.9, products_of(rng, CATEGORY_OF[usual]), rng.integers(0, len(PRODUCTS), m)))
    product = np.where(PRICES[product] > 2 * value, usual, product)
    quantity = np.maximum(1.0, np.round(value / PRICES[product]))
    ent = c.enterprise[cust]
    amount = (PRICES[product] * quantity * rng.lognormal(0.0, 0.05, m)
              * np.where(ent, 0.9, 1.0))
    terms = c.terms[cust]
    due = day + terms
    on_time = day + (rng.random(m) * (terms + 1)).astype(np.int64)
    paid = np.where(rng.random(m) < c.late_p[cust], due + rng.geometric(1 / 20, m), on_time)
    unpaid = ~ent | (rng.random(m) < 0.03) | (paid > cal.last)
    return {"cust": cust, "day": day, "product": product, "quantity": quantity,
            "amount": np.round(amount, 2), "due": due, "paid": paid,
            "no_terms": ~ent, "unpaid": unpaid}


# ---- interactions ------------------------------------------------------------

def make_interactions(rng, c: Customers, cal: Calendar) -> pa.Table:
    """Service interactions of a chunk, sorted by customer and time.

    About INTERACTIONS_PER_CUSTOMER per customer from first contact to
    their last active day, following the season; enterprises get more
    visits, the referrer pool more referrals. Complainers get two to five
    extra complaints in the last 90 days.

    Returns
    -------
    pyarrow.Table
        `interactions` columns in table order but batch_id.
    """
    n = len(c.gidx)
    mass = (cal.cum[c.stop + 1] - cal.cum[c.first]) * c.talk_rate
    cust = np.repeat(np.arange(n), rng.poisson(mass * INTERACTIONS_PER_CUSTOMER / mass.mean()))
    day = sample_days(rng, cal, c.first[cust], c.stop[cust])
    group = c.enterprise[cust] + 2 * (c.gidx[cust] % REFERRER_EVERY == 0)
    kind = pick(rng, KIND_SHARES, group.astype(int))
    extra = np.repeat(np.arange(n), rng.integers(2, 6, n) * (c.segment == COMPLAINER))
    cust = np.concatenate([cust, extra])
    day = np.concatenate([day, uniform_days(rng, np.full(len(extra), cal.last - 89), cal.last)])
    kind = np.concatenate([kind, np.full(len(extra), COMPLAINT)])
    order = np.lexsort((day, cust))
    return interaction_table(rng, c, cal, cust[order], day[order], kind[order])


def interaction_table(rng, c, cal, cust, day, kind) -> pa.Table:
    """Interaction rows from their customer, day and kind codes.

    Complaints pile up on late deliveries from November to February. About
    30 % carry no satisfaction; response hours only for answered kinds,
    slower for complaints and for some owners.
    """
    m = len(cust)
    complaint = kind == COMPLAINT
    month = (cal.start + day.astype("timedelta64[D]")).astype("datetime64[M]").astype(int) % 12
    peak = np.isin(month, (10, 11, 0, 1))
    topic = pick(rng, TOPIC_SHARES, np.where(complaint, peak.astype(int), 2))
    owner = c.owner[cust]
    speed = np.linspace(0.6, 1.8, len(OWNERS))[owner]
    hours = rng.lognormal(np.log(np.where(complaint, 6.0, 3.0)), 0.9, m) * speed
    return pa.table({
        "customer_id": labels(cust, c.ids),
        "ts": timestamps(rng, cal, day),
        "kind": labels(kind, KINDS),
        "channel": labels(pick(rng, KIND_CHANNELS, kind), CHANNELS),
        "topic": labels(topic, TOPICS, mask=~(complaint | (kind == 0))),
        "satisfaction": pa.array(1 + pick(rng, SATISFACTION_SHARES, complaint.astype(int)),
                                 type=pa.int32(), mask=rng.random(m) < 0.3),
        "response_hours": pa.array(np.round(hours, 1), mask=~ANSWERED_KINDS[kind]),
        "note": labels(kind, NOTES, mask=rng.random(m) >= 0.3),
        "owner": labels(owner, OWNERS),
    })
