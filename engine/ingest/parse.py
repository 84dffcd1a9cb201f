"""Value parsers: the text of a cell to the value stored, as DuckDB SQL macros.

Parsing runs in DuckDB so that a million rows parse in parallel and in C++,
never row by row in Python. `install(con)` defines the macros on a
connection (temporary, gone when it closes); every macro takes a cell that
`ingest_clean` has already trimmed and returns NULL where it cannot parse, so
"empty" and "unparseable" are told apart by looking at both.

Each macro tries the cheap exact cast first and only sends the rest through
the slower patterns, so clean ISO files pay almost nothing:

- dates: 2024-01-15, 2024/1/15, 2024.1.15, 2024年1月15日, 20240115, 15.01.2024
  (year last: day first or month first, chosen per file), Excel serial
  numbers (45306, 45306.5), and any of these with a time of day;
- amounts: 1234.5, 1,234.50, ¥1,234.50, ￥12, $12, €12, RMB 12, 12元, -12,
  (12.00) and 12.00- for negatives, 1.234,50 (decimal comma);
- numbers: like amounts without currency, with a trailing unit (3件, 2小时);
- ratings: 1-5, "5分", "★★★★";
- codes: matched on their letters and digits only, case-insensitive, through
  the synonyms in VOCABULARIES.

`parse_values` runs one parser over a Python list, for tests and previews.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from typing import Iterable, Sequence

import duckdb
import pandas as pd

from engine.ingest.db import register, unregister

# Cells holding one of these mean "no value".
NULL_MARKERS = ("null", "NULL", "Null", "None", "nan", "NaN", "N/A", "n/a", "#N/A",
                "-", "--", "—", "——")
YEARS = (1900, 2999)   # a parsed date outside these years is a typo, not a date
_WHITESPACE = " \t\r\n\u3000\u00a0\ufeff"

_TIME = ("", " %H:%M:%S", " %H:%M", " %H:%M:%S.%f", " %I:%M %p", " %I:%M:%S %p")
_YMD = [f"{d}{t}" for d in ("%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%d") for t in _TIME] + [
    f"%Y年%m月%d日{t}" for t in ("", " %H:%M:%S", " %H:%M", "%H:%M:%S", "%H:%M",
                                 " %H时%M分%S秒", " %H时%M分", "%H时%M分%S秒", "%H时%M分")]
_DMY = [f"{d}{t}" for d in ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y") for t in _TIME]
_MDY = [f"{d}{t}" for d in ("%m.%d.%Y", "%m/%d/%Y", "%m-%d-%Y") for t in _TIME]

# A time of day followed by a zone (Z, +08:00, +0800, -05:00): converted to local time.
_ZONE = r"\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d:?\d\d)$"
_OFFSET = r"\s*([+-]\d\d):?(\d\d)$"
_FULL_WIDTH, _HALF_WIDTH = "０１２３４５６７８９．，－＋：／", "0123456789.,-+:/"
# Every full-width form of a printable ASCII character (！ … ～), for ids typed with a
# Chinese input method in full-width mode: Ｃ００１ is C001.
_WIDE_ASCII = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_NARROW_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
# Satisfaction in words (满意度), best first: 5 … 1.
RATING_WORDS = {5: ("非常满意", "很满意", "十分满意", "特别满意", "very satisfied"),
                4: ("满意", "比较满意", "较满意", "satisfied"),
                3: ("一般", "基本满意", "还行", "neutral"),
                2: ("不满意", "不太满意", "较不满意", "dissatisfied", "unsatisfied"),
                1: ("非常不满意", "很不满意", "极不满意", "十分不满意", "very dissatisfied")}
_AMOUNT_NOISE = r"(?i:rmb|cny|usd|eur|hkd|yuan)|[元圆¥￥$€£]"
_EXCEL_TEXT = r"^(?:=\"(.*)\"|=(.*)|'(.*))$"  # ="00123", =00123, '00123
_UNITS = r"\s*(件|个|只|台|套|份|次|箱|盒|小时|分钟|分|星|(?i:hours?|hrs?|h|pcs?|units?|stars?))$"
# A duration written in minutes (response hours): its number is divided by 60 (checked
# before the units above, which drop 分 as the points of a rating).
_MINUTES = r"\s*(分钟|分|(?i:minutes?|mins?))$"


def _lit(text: str) -> str:
    """A SQL string literal of one of this module's constants (never user text)."""
    return "'" + text.replace("'", "''") + "'"


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_lit(i) for i in items) + "]"


_RATING_WORDS = " ".join(f"WHEN lower(s) IN ({', '.join(_lit(w) for w in words)}) THEN {score}.0"
                         for score, words in RATING_WORDS.items())
_EXOTIC = "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE if c != " ")
_EXOTIC_EDGE = f"^[{_EXOTIC}]|[{_EXOTIC}]$"   # whitespace trim() alone leaves

# One macro per concept. A macro that looks at its argument more than once
# takes a column (not a macro call) as argument where speed matters, so that
# DuckDB does not inline a costly expression many times; the staging query
# (validate.py) feeds text cells through separate projection levels. The
# *_slow parts only ever see the cells the exact cast could not read.
MACROS = f"""
CREATE OR REPLACE TEMP MACRO ingest_trim(x) AS
    CASE WHEN regexp_matches(x, {_lit(_EXOTIC_EDGE)})
         THEN trim(x, {_lit(_WHITESPACE)}) ELSE trim(x) END;

CREATE OR REPLACE TEMP MACRO ingest_null(t) AS
    CASE WHEN t = '' THEN NULL
         WHEN strlen(t) <= {max(len(m.encode()) for m in NULL_MARKERS)}
              AND contains({_lit("".join(sorted({m[0] for m in NULL_MARKERS})))}, left(t, 1))
              AND regexp_full_match(t, {_lit("|".join(re.escape(m) for m in NULL_MARKERS))})
         THEN NULL ELSE t END;

CREATE OR REPLACE TEMP MACRO ingest_clean(x) AS ingest_null(ingest_trim(x));

-- Free text without the apostrophe a spreadsheet (or this app's own CSV files) puts
-- before text that would otherwise run as a formula ('=A1, '@name), so a rejects file,
-- corrected and imported again, stores what was meant.
CREATE OR REPLACE TEMP MACRO ingest_text(s) AS
    CASE WHEN starts_with(s, {_lit("'")}) AND regexp_matches(s, {_lit("^'[=+@-]")})
         THEN substr(s, 2) ELSE s END;

CREATE OR REPLACE TEMP MACRO ingest_plausible(t) AS
    CASE WHEN year(t) BETWEEN {YEARS[0]} AND {YEARS[1]} THEN t END;

CREATE OR REPLACE TEMP MACRO ingest_ts_patterns(s, day_first) AS
    CASE WHEN s IS NOT NULL THEN coalesce(
        try_strptime(regexp_replace(s, '\\s*([年月日时分秒])\\s*', '\\1', 'g'), {_list(_YMD)}),
        CASE WHEN regexp_full_match(s, '\\d{{8}}') THEN try_strptime(s, '%Y%m%d') END,
        CASE WHEN regexp_full_match(s, '\\d{{14}}') THEN try_strptime(s, '%Y%m%d%H%M%S') END,
        CASE WHEN day_first THEN try_strptime(s, {_list(_DMY)})
             ELSE try_strptime(s, {_list(_MDY)}) END,
        CASE WHEN regexp_full_match(s, '\\d{{5}}(\\.\\d+)?')
             THEN TIMESTAMP '1899-12-30'
                  + to_microseconds(CAST(round(CAST(s AS DOUBLE) * 86400000000) AS BIGINT)) END)
    END;

CREATE OR REPLACE TEMP MACRO ingest_ts_zoned(s) AS
    CASE WHEN regexp_matches(s, {_lit(_ZONE)})
         THEN CAST(try_cast(regexp_replace(regexp_replace(s, '\\s*[zZ]$', '+00:00'),
                                           {_lit(_OFFSET)}, '\\1:\\2') AS TIMESTAMPTZ)
                   AS TIMESTAMP) END;

CREATE OR REPLACE TEMP MACRO ingest_ts_slow(s, day_first) AS
    ingest_plausible(coalesce(ingest_ts_zoned(s), ingest_ts_patterns(s, day_first)));

CREATE OR REPLACE TEMP MACRO ingest_may_be_zoned(x) AS
    strlen(x) > 12 AND (contains('zZmM', right(x, 1)) OR contains('+-', substr(x, -6, 1))
                        OR contains('+-', substr(x, -5, 1)));

CREATE OR REPLACE TEMP MACRO ingest_halfwidth(s) AS
    translate(s, {_lit(_FULL_WIDTH)}, {_lit(_HALF_WIDTH)});

CREATE OR REPLACE TEMP MACRO ingest_decimal_text(b) AS
    CASE WHEN regexp_full_match(b, '[-+]?\\d{{1,3}}([, \\x{{a0}}]\\d{{3}})+(\\.\\d+)?')
              THEN regexp_replace(b, '[, \\x{{a0}}]', '', 'g')
         WHEN regexp_full_match(b, '[-+]?\\d{{1,3}}(\\.\\d{{3}})+,\\d+|[-+]?\\d+,\\d{{1,2}}')
              THEN replace(replace(b, '.', ''), ',', '.')
         WHEN regexp_full_match(b, '[-+]?(\\d+\\.?\\d*|\\.\\d+)') THEN b END;

CREATE OR REPLACE TEMP MACRO ingest_money_text(s) AS
    trim(translate(regexp_replace(s, {_lit(_AMOUNT_NOISE)}, '', 'g'), '，－−（）', ',--()'));

CREATE OR REPLACE TEMP MACRO ingest_amount_plain(u) AS
    try_cast(ingest_decimal_text(regexp_replace(u, '^\\((.*)\\)$|^(.*)-$', '\\1\\2'))
             AS DECIMAL(18, 2))
    * CASE WHEN regexp_full_match(u, '\\(.*\\)|.+-') THEN -1 ELSE 1 END;

CREATE OR REPLACE TEMP MACRO ingest_amount_slow(u) AS
    CASE WHEN ends_with(u, '万')
         THEN CAST(try_cast(ingest_decimal_text(trim(rtrim(u, '万'))) AS DECIMAL(18, 6)) * 10000
                   AS DECIMAL(18, 2))
         ELSE ingest_amount_plain(u) END;

CREATE OR REPLACE TEMP MACRO ingest_finite(v) AS CASE WHEN isfinite(v) THEN v END;

CREATE OR REPLACE TEMP MACRO ingest_number_slow(s) AS
    ingest_finite(try_cast(ingest_decimal_text(
        trim(regexp_replace(translate(s, '，－−', ',--'), {_lit(_UNITS)}, ''))) AS DOUBLE));

CREATE OR REPLACE TEMP MACRO ingest_hours_slow(s) AS
    CASE WHEN regexp_full_match(s, '\\d{{1,4}}:[0-5]\\d(:[0-5]\\d)?')
         THEN CAST(split_part(s, ':', 1) AS DOUBLE) + CAST(split_part(s, ':', 2) AS DOUBLE) / 60
              + coalesce(CAST(nullif(split_part(s, ':', 3), '') AS DOUBLE), 0) / 3600
         WHEN regexp_matches(s, {_lit(_MINUTES)})
         THEN ingest_number_slow(regexp_replace(s, {_lit(_MINUTES)}, '')) / 60
         ELSE ingest_number_slow(s) END;

CREATE OR REPLACE TEMP MACRO ingest_rating_clean(s) AS
    CASE {_RATING_WORDS}
         WHEN regexp_full_match(s, '[★☆]+')
         THEN CAST(length(s) - length(replace(s, '★', '')) AS DOUBLE)
         ELSE coalesce(ingest_finite(try_cast(s AS DOUBLE)), ingest_number_slow(s)) END;

CREATE OR REPLACE TEMP MACRO ingest_key(s) AS
    nullif(regexp_replace(lower(s), '[^\\p{{L}}\\p{{N}}]+', '', 'g'), '');
"""

# Stored code -> the words that mean it (the code itself always counts).
# kind "code" vocabularies turn anything else into `other`; kind "label"
# vocabularies (customer_type, channel_type, source) keep it as written.
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "consultation": ("咨询", "询价", "问询", "询问", "售前咨询", "售后咨询", "产品咨询",
                         "inquiry", "enquiry", "consult", "question", "pre-sales"),
        "complaint": ("投诉", "客诉", "抱怨", "差评", "投诉建议", "complain", "complaints"),
        "feedback": ("反馈", "建议", "意见", "评价", "回访", "满意度调查", "调研",
                     "survey", "review", "suggestion", "comment"),
        "visit": ("拜访", "上门", "到访", "走访", "来访", "面谈", "上门拜访", "meeting", "onsite"),
        "event": ("活动", "参加活动", "展会", "会议", "沙龙", "培训", "发布会", "讲座",
                  "webinar", "seminar", "exhibition", "workshop", "conference"),
        "referral": ("推荐", "转介绍", "介绍客户", "推荐客户", "refer", "referred"),
        "other": ("其他", "其它", "misc", "others"),
    },
    "channel": {
        "phone": ("电话", "电话联系", "来电", "去电", "呼入", "呼出", "座机", "手机", "热线",
                  "tel", "telephone", "call", "phonecall", "mobile", "hotline"),
        "email": ("邮件", "电子邮件", "邮箱", "mail", "e-mail"),
        "online": ("在线", "在线客服", "网上", "网站", "官网", "线上", "客服系统", "网页",
                   "chat", "livechat", "web", "website", "app"),
        "visit": ("上门", "拜访", "到店", "面谈", "现场", "门店", "线下", "当面",
                  "instore", "offline", "inperson", "facetoface", "onsite"),
        "wechat": ("微信", "企业微信", "企微", "公众号", "小程序", "weixin", "wx", "wecom"),
        "sms": ("短信", "短消息", "text", "textmessage"),
        "other": ("其他", "其它", "others"),
    },
    # The shop platforms' own order states (Taobao/Tmall, JD, Pinduoduo, Youzan,
    # Douyin shop, WeChat shop, Shopify, WooCommerce): an order paid for and on
    # its way counts as paid; a closed or cancelled one as cancelled; one not
    # yet paid as pending (DESIGN §3).
    "txn_status": {
        "paid": ("已支付", "已付款", "支付成功", "付款成功", "已完成", "完成", "交易成功",
                 "交易完成", "已收款", "已结算", "已发货", "已签收", "成功", "正常",
                 "买家已付款，等待卖家发货", "卖家已发货，等待买家确认", "买家已付款",
                 "卖家已发货", "等待卖家发货", "等待买家确认收货", "待发货", "待收货",
                 "待出库", "已出库", "等待出库", "等待确认收货", "已发货，待签收",
                 "已发货待签收", "已收货", "订单完成", "交易完成，已评价",
                 "部分发货", "已付款待发货", "等待商家发货", "商家已发货", "待评价",
                 "completed", "complete", "success", "successful", "settled", "done", "ok",
                 "processing", "fulfilled", "shipped", "delivered", "authorized",
                 "partially_paid", "partially paid", "partially_refunded", "partially refunded"),
        "refunded": ("已退款", "退款", "退款成功", "退货", "已退货", "退货退款", "退款完成",
                     "售后完成", "已退款，交易关闭",
                     "refund", "returned", "return", "reversed"),
        "cancelled": ("交易关闭", "已取消", "订单关闭", "已关闭", "取消", "订单取消", "已作废",
                      "作废", "关闭", "交易取消", "用户取消", "系统取消", "超时取消",
                      "canceled", "voided", "void", "expired", "closed", "failed", "trash"),
        "pending": ("等待买家付款", "待付款", "未付款", "待支付", "未支付", "等待付款",
                    "待买家付款", "等待支付", "未付", "待确认", "unpaid", "awaiting payment",
                    "pending payment", "pending_payment", "on hold", "on-hold", "onhold"),
        "other": ("其他", "其它"),
    },
    "followup_status": {
        "in_progress": ("进行中", "跟进中", "处理中", "待跟进", "未完成", "待处理", "跟进",
                        "ongoing", "open", "pending", "processing", "inprogress", "todo"),
        "done": ("已完成", "完成", "已结束", "结束", "已解决", "已处理", "已关闭",
                 "completed", "closed", "finished", "resolved"),
        "paused": ("暂停", "已暂停", "搁置", "挂起", "暂缓", "onhold", "hold", "suspended"),
        "other": ("其他", "其它"),
    },
    "action": {
        "visit": ("拜访", "专属拜访", "上门拜访", "客户拜访", "走访"),
        "care": ("关怀", "关怀联系", "问候", "日常维护", "维护", "定期关怀", "caring", "care call"),
        "wake_up": ("唤醒", "沉睡唤醒", "激活", "召回沉睡", "wakeup", "reactivation", "reactivate"),
        "win_back": ("挽回", "流失挽回", "挽留", "召回", "winback", "retention", "retain"),
        "other": ("其他", "其它"),
    },
    "customer_type": {
        "enterprise": ("企业", "公司", "单位", "机构", "企业客户", "法人", "对公", "组织",
                       "company", "corporate", "business", "organization", "organisation", "b2b"),
        "individual": ("个人", "个体", "个人客户", "散客", "自然人", "消费者",
                       "person", "personal", "consumer", "private", "b2c"),
    },
    "channel_type": {
        "B": ("b端", "b2b", "tob", "企业", "对公", "business"),
        "C": ("c端", "b2c", "toc", "个人", "零售", "consumer", "retail"),
    },
    "source": {
        "online_shop": ("网店", "网上商城", "线上商城", "电商", "淘宝", "天猫", "京东", "拼多多",
                        "抖音", "有赞", "微店", "官网商城", "online shop", "online store",
                        "ecommerce", "webshop", "taobao", "tmall", "jd"),
        "store": ("门店", "实体店", "线下门店", "到店", "店铺", "retail store", "shop"),
        "exhibition": ("展会", "展览", "博览会", "trade show", "expo", "fair"),
        "referral": ("推荐", "转介绍", "老客户推荐", "老带新", "介绍", "referred", "word of mouth"),
        "advertising": ("广告", "投放", "广告投放", "推广", "搜索广告", "ads", "advert", "ad",
                        "campaign"),
    },
}


def normalise(text: str) -> str:
    """Letters and digits only, lower case: how headers and codes are compared.

    Matches the SQL macro `ingest_key` on ordinary text; full-width forms
    (ＩＤ) fold to their ASCII twins first.
    """
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return re.sub(r"[\W_]+", "", text)


def code_table() -> pd.DataFrame:
    """Every (vocabulary, key, code) the code columns resolve through."""
    rows = {(vocab, normalise(word), code)
            for vocab, codes in VOCABULARIES.items()
            for code, words in codes.items()
            for word in (code, *words)}
    frame = pd.DataFrame(sorted(rows), columns=["vocabulary", "key", "code"])
    clash = frame[frame.duplicated(["vocabulary", "key"], keep=False)]
    if len(clash):
        raise ValueError(f"synonym listed for two codes: {clash.to_dict('records')}")
    return frame


# The bytes that the steps of `ingest_id` look for (UTF-8 of a full-width form starts
# with EF), so that a file that never holds one is read without that step.
ID_BYTES = frozenset(b"='.@\xef")


def id_macro(absent: frozenset[int] = frozenset()) -> str:
    """The macro `ingest_id`: an id as a manager means it, for a file that never holds
    the bytes `absent` (`readers.scan_csv`).

    Full-width letters, digits and signs become their ASCII (looked for only in
    text that is not all ASCII: strlen counts bytes, length characters); the
    text of a spreadsheet's ="00123" is taken; a whole number a program wrote
    as a float becomes that number (UCI Online Retail's CSV: Customer ID
    13085.0, which its workbook holds as 13085); an e-mail address goes to
    lower case (a shop export may write a buyer's address in either case).
    A step whose byte the file never holds cannot change an id and is left
    out: on a file of 2M rows with two id columns the steps took an eighth
    of its read (0.1 s of 0.6–0.9 s). Any full-width form may become any of
    those signs, so a file that may hold one gets every step.
    """
    if 0xEF not in absent:
        absent = frozenset()
    steps = []
    if not {ord("="), ord("'")} <= absent:
        steps.append(f"WHEN starts_with(s, '=') OR starts_with(s, {_lit(chr(39))}) "
                     f"THEN nullif(trim(regexp_replace(s, {_lit(_EXCEL_TEXT)}, "
                     "'\\1\\2\\3'), ' '), '')")
    if ord(".") not in absent:
        steps.append("WHEN contains(s, '.') AND regexp_full_match(s, '[0-9]+\\.0+') "
                     "THEN split_part(s, '.', 1)")
    if ord("@") not in absent:
        steps.append("WHEN contains(s, '@') THEN lower(s)")
    ascii_id = f"CASE {' '.join(steps)} ELSE s END" if steps else "s"
    if 0xEF in absent:
        return f"CREATE OR REPLACE TEMP MACRO ingest_id(s) AS {ascii_id};"
    return f"""
        CREATE OR REPLACE TEMP MACRO ingest_ascii_id(s) AS {ascii_id};
        CREATE OR REPLACE TEMP MACRO ingest_id(s) AS
            CASE WHEN strlen(s) <> length(s) AND regexp_matches(s, '[\\x{{ff01}}-\\x{{ff5e}}]')
                 THEN ingest_ascii_id(translate(s, {_lit(_WIDE_ASCII)}, {_lit(_NARROW_ASCII)}))
                 ELSE ingest_ascii_id(s) END;"""


def install(con: duckdb.DuckDBPyConnection, absent: frozenset[int] = frozenset()) -> None:
    """Define the parsing macros and the `_ingest_codes` table on this connection;
    `absent`: bytes the file to read never holds (see `id_macro`)."""
    con.execute(MACROS + id_macro(absent))
    register(con, "_ingest_codes_frame", code_table())
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE _ingest_codes AS "
                    "SELECT * FROM _ingest_codes_frame")
    finally:
        unregister(con, "_ingest_codes_frame")


# Kinds whose value is cast out of the raw cell; the others (id, text, code,
# label) are cleaned text (see validate.staging_select).
PARSED_KINDS = ("date", "timestamp", "amount", "number", "hours", "rating")


def cast_sql(kind: str, x: str) -> str:
    """SQL for the quick exact cast of raw cell `x`: NULL where the slow path must look."""
    return {
        "date": f"CASE WHEN NOT ingest_may_be_zoned({x}) THEN try_cast({x} AS DATE) END",
        "timestamp": f"CASE WHEN NOT ingest_may_be_zoned({x}) THEN try_cast({x} AS TIMESTAMP) END",
        "amount": f"try_cast({x} AS DECIMAL(18, 2))",
        "number": f"ingest_finite(try_cast({x} AS DOUBLE))",
        "hours": f"ingest_finite(try_cast({x} AS DOUBLE))",
        "rating": f"ingest_finite(try_cast({x} AS DOUBLE))",
    }[kind]


def slow_sql(kind: str, s: str, *, day_first: bool = True) -> str:
    """SQL for the value of cleaned cell `s` (a column) that the exact cast could not read."""
    df = "TRUE" if day_first else "FALSE"
    return {
        "date": f"CAST(ingest_ts_slow(ingest_halfwidth({s}), {df}) AS DATE)",
        "timestamp": f"ingest_ts_slow(ingest_halfwidth({s}), {df})",
        "amount": f"ingest_amount_slow(ingest_money_text(ingest_halfwidth({s})))",
        "number": f"ingest_number_slow(ingest_halfwidth({s}))",
        "hours": f"ingest_hours_slow(ingest_halfwidth({s}))",
        "rating": f"ingest_rating_clean(ingest_halfwidth({s}))",
    }[kind]


_scratch: dict = {}
_scratch_lock = threading.Lock()


def _scratch_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the macros, for `parse_values` (no database file)."""
    if "con" not in _scratch:
        con = duckdb.connect()
        install(con)
        _scratch["con"] = con
    return _scratch["con"]


def parse_values(kind: str, values: Iterable, *, day_first: bool = True,
                 vocabulary: str | None = None) -> list:
    """Parse Python values as an import would; None where a value does not parse.

    For kind ``code``/``label`` give `vocabulary`; the result is the stored
    code (``other`` or the text as written where no synonym matches).
    """
    frame = pd.DataFrame({"x": pd.Series(list(values), dtype="string")})
    frame["i"] = range(len(frame))
    cells = ("SELECT i, x, ingest_null(u) AS s FROM "
             "(SELECT i, x, ingest_trim(x) AS u FROM _values)")
    params: list = []
    if kind in PARSED_KINDS:
        cast = cast_sql(kind, "x")
        value = (f"coalesce(q, CASE WHEN c IS NOT NULL THEN "
                 f"{slow_sql(kind, 'c', day_first=day_first)} END)")
        if kind in ("date", "timestamp"):
            value = f"ingest_plausible({value})"
        elif kind == "rating":
            value = f"CAST(nullif(list_position([1, 2, 3, 4, 5], {value}), 0) AS INTEGER)"
        sql = (f"SELECT {value} FROM (SELECT i, {cast} AS q, CASE WHEN x IS NOT NULL AND "
               f"{cast} IS NULL THEN s END AS c FROM ({cells})) ORDER BY i")
    elif kind in ("code", "label"):
        fallback = "'other'" if kind == "code" else "v.s"
        sql = (f"SELECT CASE WHEN v.s IS NULL THEN NULL ELSE coalesce(c.code, {fallback}) END "
               f"FROM ({cells}) v LEFT JOIN _ingest_codes c ON c.vocabulary = ? "
               "AND c.key = ingest_key(v.s) ORDER BY v.i")
        params = [vocabulary]
    else:
        value = {"id": "ingest_id(s)", "text": "ingest_text(s)"}.get(kind, "s")
        sql = f"SELECT {value} FROM ({cells}) ORDER BY i"
    with _scratch_lock:
        con = _scratch_connection()
        register(con, "_values", frame)
        try:
            return [r[0] for r in con.execute(sql, params).fetchall()]
        finally:
            unregister(con, "_values")


_YEAR_LAST = r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{4}"


def year_last_order_sql(cells: Sequence[str], relation: str) -> str:
    """SQL for (some first number > 12, some second number > 12) over the year-last dates
    (15.01.2024, 01/15/2024) of these raw columns of a whole file: what tells the order."""
    parts = " UNION ALL ".join(f"SELECT {c} AS x FROM {relation}" for c in cells)
    return (f"SELECT coalesce(bool_or(a > 12), false), coalesce(bool_or(b > 12), false) FROM ("
            f"SELECT try_cast(regexp_extract(x, {_lit(_YEAR_LAST)}, 1) AS INTEGER) AS a, "
            f"try_cast(regexp_extract(x, {_lit(_YEAR_LAST)}, 2) AS INTEGER) AS b "
            f"FROM ({parts}) WHERE regexp_matches(x, {_lit(_YEAR_LAST)}))")


def has_year_last(values: Iterable) -> bool:
    """Whether a sample holds year-last dates (15.01.2024, 01/15/2024) at all."""
    found = pd.Series(list(values), dtype="string").str.extract(_YEAR_LAST)[0]
    return bool(found.notna().any())


def guess_day_first(values: Iterable) -> bool | None:
    """Whether year-last dates (15.01.2024, 01/15/2024) in a sample put the day first.

    True when some first number is over 12, False when some second number
    is, None when the sample does not tell (no year-last dates, or every
    one ambiguous, or both kinds: a file that mixes orders cannot be read).
    """
    s = pd.Series(list(values), dtype="string").str.strip()
    parts = s.str.extract(r"^(\d{1,2})[./-](\d{1,2})[./-]\d{4}")
    first, second = (pd.to_numeric(parts[i], errors="coerce") for i in (0, 1))
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first != month_first:
        return day_first
    return None
