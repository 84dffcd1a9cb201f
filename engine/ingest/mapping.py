"""Column mapping: which header of a file fills which canonical column.

Headers are matched on their letters and digits only (case, spaces and
punctuation ignored; a bracketed unit such as "金额（元）" may be dropped) to
the Chinese and English synonyms below, the usual headers of Chinese CRM,
shop and ticket exports. When two headers claim one column the better
synonym wins (实付金额 over 订单金额). The user can change any of it; a
mapping can be saved by name in the settings table and used again.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from engine import audit, store
from engine.ingest.columns import TABLES, columns, required
from engine.ingest.errors import ImportRejected, Problem
from engine.ingest.parse import normalise
from engine.ingest.platforms import detect_platform, platform_mapping

Mapping = dict[str, "str | None"]   # file header -> canonical column, None = not imported

_CUSTOMER_ID = ("customer id", "cust id", "customer no", "customer number", "customer code",
                "client id", "client no", "member id", "member no", "user id", "uid",
                "buyer id", "account id", "客户编号", "客户ID", "客户号", "客户代码", "客户编码",
                "客户账号", "会员编号", "会员ID", "会员号", "会员卡号", "用户ID", "用户编号",
                "买家ID", "买家编号", "顾客编号", "账户ID", "客户id号")
# How shop exports name a buyer that has no customer id, in this order.
_BUYER = ("下单帐号", "下单账号", "买家账号", "买家帐号", "买家会员名", "买家昵称", "会员名",
          "客户名称", "customerid", "email", "e-mail", "邮箱", "电子邮箱", "手机号",
          "手机号码", "买家手机号", "用户购买手机号", "收件人手机号", "收货人手机号")
_OWNER = ("owner", "account manager", "sales rep", "salesperson", "sales", "assigned to",
          "handler", "agent", "assignee", "rep", "负责人", "客户经理", "销售", "销售员", "业务员", "跟进人", "归属人",
          "所属销售", "专属顾问", "客服", "处理人", "经办人", "坐席", "客服人员")
_TS = ("timestamp", "time", "datetime", "date", "created at", "created", "时间", "日期",
       "创建时间", "记录时间", "发生时间")

# table -> canonical column -> synonyms, best first. The canonical name
# itself always matches, before any synonym.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": _CUSTOMER_ID + ("id", "编号", "code"),
        "name": ("customer name", "client name", "company name", "full name", "company",
                 "客户名称", "客户名", "客户姓名", "姓名", "名称", "公司名称", "企业名称",
                 "单位名称", "会员名称", "会员姓名", "顾客姓名", "名字"),
        "customer_type": ("customer type", "client type", "type", "客户类型", "客户类别",
                          "客户性质", "类型", "类别"),
        "channel_type": ("channel type", "business type", "b/c", "bc", "渠道类型", "业务类型",
                         "b端c端", "客户渠道类型"),
        "region": ("region", "area", "province", "city", "location", "地区", "区域", "省份",
                   "城市", "所在地区", "所属区域", "地域", "大区", "所在城市", "省市"),
        "source": ("source", "lead source", "acquisition channel", "channel", "客户来源", "来源",
                   "来源渠道", "获客渠道", "渠道来源", "渠道"),
        "first_contact_date": ("first contact date", "first contact", "created at", "created",
                               "create time", "signup date", "registration date", "join date",
                               "首次接触日期", "首次接触时间", "首次联系日期", "首次联系",
                               "创建时间", "创建日期", "注册时间", "注册日期", "建档日期",
                               "建档时间", "入会日期", "开户日期", "录入时间", "成为客户日期"),
        "owner": _OWNER,
        "referred_by": ("referred by", "referrer", "referrer id", "推荐人", "推荐人编号",
                        "推荐人ID", "介绍人", "推荐客户", "推荐人客户编号"),
        "contract_end": ("contract end", "contract end date", "contract expiry", "expiry date",
                         "renewal date", "合同到期日", "合同到期日期", "合同截止日期",
                         "合同到期", "到期日期", "到期日", "合同结束日期", "续约日期"),
    },
    "transactions": {
        # No id: the first of a buyer's member name, e-mail or phone (DESIGN §3).
        "customer_id": _CUSTOMER_ID + _BUYER,
        "txn_date": ("transaction date", "order date", "order time", "purchase date",
                     "invoice date", "created at", "date created", "order created",
                     "date", "time", "交易日期", "交易时间", "下单时间", "下单日期", "订单日期",
                     "订单时间", "订单创建时间", "订单提交时间", "订单下单时间", "订单成交时间",
                     "拼单成功时间", "创建时间", "购买日期", "购买时间", "成交日期",
                     "成交时间", "消费日期", "消费时间", "销售日期", "日期", "时间"),
        # What the customer actually paid comes first (DESIGN §3, "Which money column"),
        # before a column named amount itself; a bare "paid" after it (it may be a yes/no).
        "amount": ("paid amount", "amount paid", "payment amount", "实付金额",
                   "买家实际支付金额", "实际支付金额", "用户实付金额", "订单实付金额",
                   "实际支付", "实付", "实付款", "买家实付金额", "实收金额", "支付金额",
                   "付款金额", "应付金额", "订单应付金额", "amount", "paid", "total", "order total",
                   "order total amount", "total amount", "order amount", "sales", "revenue",
                   "交易金额", "消费金额", "成交金额", "金额", "销售额", "销售金额", "订单金额",
                   "总金额", "总价", "合计", "金额元"),
        "txn_id": ("transaction id", "order id", "order no", "order number", "invoice no",
                   "invoice", "invoice number", "receipt no", "订单编号", "订单号",
                   "主订单编号", "交易编号", "交易号", "交易单号", "流水号", "单号", "订单ID",
                   "交易ID", "小票号", "销售单号"),
        "product": ("product", "product name", "item", "item name", "lineitem name",
                    "description", "goods", "产品", "产品名称", "商品", "商品名称",
                    "选购商品", "商品标题", "品名", "货品名称", "宝贝标题", "服务项目", "sku",
                    "stock code"),
        "category": ("category", "product category", "品类", "类别", "分类", "商品类别",
                     "产品类别", "商品分类", "产品分类", "类目"),
        "quantity": ("quantity", "qty", "units", "lineitem quantity", "count", "数量",
                     "购买数量", "商品数量", "宝贝总数量", "订购数量", "件数"),
        "unit_price": ("unit price", "price", "lineitem price", "item cost", "item price",
                       "单价", "商品单价", "销售单价", "成交单价", "商品价格", "京东价"),
        "due_date": ("due date", "payment due", "应付日期", "应收日期", "付款期限",
                     "账期到期日", "应付款日期", "到期付款日"),
        "paid_date": ("paid date", "payment date", "paid at", "付款日期", "付款时间",
                      "支付时间", "支付日期", "回款日期", "实际付款日期", "收款日期",
                      "订单付款时间", "买家付款时间", "支付完成时间", "付款确认时间"),
        "status": ("status", "order status", "financial status", "payment status", "state",
                   "状态", "订单状态", "交易状态", "支付状态"),
    },
    "interactions": {
        "customer_id": _CUSTOMER_ID,
        "ts": ("interaction time", "contact time", "互动时间", "接触时间", "联系时间", "沟通时间",
               "来电时间", "咨询时间", "服务时间", "工单时间") + _TS,
        "kind": ("kind", "interaction type", "type", "event type", "类型", "互动类型",
                 "事件类型", "工单类型", "服务类型", "接触类型", "类别"),
        "channel": ("channel", "contact channel", "via", "medium", "渠道", "联系渠道",
                    "沟通渠道", "接触渠道", "沟通方式", "方式", "来源渠道"),
        "topic": ("topic", "subject", "issue", "title", "reason", "主题", "问题", "问题类型",
                  "问题分类", "投诉主题", "事由", "标题", "话题"),
        "satisfaction": ("satisfaction", "csat", "rating", "score", "满意度", "满意度评分",
                         "评分", "评价分", "满意度打分", "打分", "星级"),
        "response_hours": ("response hours", "response time", "first response hours",
                           "响应时长", "响应时间", "响应小时", "响应时长小时", "处理时长"),
        "note": ("note", "notes", "remark", "remarks", "comment", "description", "content",
                 "details", "memo", "备注", "内容", "说明", "描述", "详情", "沟通内容", "记录",
                 "咨询内容", "工单内容"),
        "owner": _OWNER,
    },
    "followups": {
        "customer_id": _CUSTOMER_ID,
        "ts": ("follow up time", "followup time", "follow up date", "跟进时间", "跟进日期",
               "维护时间", "维护日期", "联系时间") + _TS,
        "action": ("action", "follow up type", "followup type", "activity", "跟进动作",
                   "维护动作", "动作", "跟进类型", "维护类型", "行动", "措施", "维护策略"),
        "channel": ("channel", "via", "渠道", "跟进方式", "联系方式", "沟通方式", "方式",
                    "跟进渠道"),
        "need": ("need", "needs", "request", "customer need", "需求", "客户需求", "诉求"),
        "result": ("result", "outcome", "结果", "跟进结果", "处理结果", "效果", "维护结果"),
        "next_contact_date": ("next contact", "next contact date", "next follow up",
                              "next followup date", "下次联系日期", "下次联系时间",
                              "下次跟进日期", "下次跟进时间", "计划联系日期", "下次联系"),
        "owner": _OWNER,
        "status": ("status", "state", "状态", "跟进状态", "处理状态"),
    },
}
_BRACKETS = re.compile(r"[(\[（【［].*?[)\]）】］]")


def _index(table: str) -> dict[str, tuple[int, str]]:
    """normalised header -> (priority, canonical column) for one table."""
    index: dict[str, tuple[int, str]] = {}
    for col in columns(table):
        synonyms = SYNONYMS[table].get(col.name, ())
        # the canonical name first, unless its synonyms place it (amount: after what was paid)
        words = synonyms if col.name in synonyms else (col.name, *synonyms)
        for rank, word in enumerate(words):
            key = normalise(word)
            if key and (key not in index or index[key][0] > rank):
                index[key] = (rank, col.name)
    return index


def match_header(header: str, table: str) -> tuple[int, str] | None:
    """(priority, canonical column) a header maps to on its own, or None."""
    index = _index(table)
    for text in (header, _BRACKETS.sub("", header)):
        key = normalise(text)
        if key in index:
            return index[key]
    return None


def auto_mapping(headers: list[str], table: str) -> Mapping:
    """Every header of a file -> the canonical column it fills, or None.

    Each canonical column is claimed by at most one header: the one with
    the better synonym, the leftmost on a tie.
    """
    claims: dict[str, tuple[int, int, str]] = {}
    for pos, header in enumerate(headers):
        found = match_header(header, table)
        if found is None:
            continue
        rank, target = found
        if target not in claims or claims[target][:2] > (rank, pos):
            claims[target] = (rank, pos, header)
    chosen = {header: target for target, (_, _, header) in claims.items()}
    return {h: chosen.get(h) for h in headers}


def resolve_mapping(headers: list[str], table: str, given: Mapping | None = None, *,
                    file: str = "", sheets: list[str] | None = None) -> Mapping:
    """The mapping to import with: `given` where it speaks, automatic elsewhere.

    `given` maps headers to canonical columns (None or "" = leave that
    header out); headers it does not name are mapped automatically unless
    their column is already taken. Raises ImportRejected when the result
    does not work for `table` (see `mapping_problems`).
    """
    mapping = merge_mapping(headers, table, given)
    problems = mapping_problems(headers, table, mapping, file=file, given=given, sheets=sheets)
    if problems:
        raise ImportRejected(problems)
    return mapping


def merge_mapping(headers: list[str], table: str, given: Mapping | None) -> Mapping:
    """`given` over a shop platform's mapping (transactions, when the headers are its
    order report's) over the automatic mapping, without checking it. A column that
    `given` maps a header to is taken from whichever header would have had it."""
    given = {_find_header(h, headers): (t or None) for h, t in (given or {}).items()}
    platform = detect_platform(headers) if table == "transactions" else None
    if platform is not None:   # a column the user gives another header is theirs to give
        claimed = {t for t in given.values() if t}
        given = {**{h: t for h, t in platform_mapping(platform, headers).items()
                    if t not in claimed}, **given}
    taken = {t for h, t in given.items() if t and h in headers}
    auto = auto_mapping([h for h in headers if h not in given], table)
    merged = {}
    for header in headers:
        if header in given:
            merged[header] = given[header]
        else:
            target = auto.get(header)
            merged[header] = target if target not in taken else None
    # headers named in `given` that the file lacks stay visible to the check
    merged.update({h: t for h, t in given.items() if h not in merged})
    return merged


def mapping_problems(headers: list[str], table: str, mapping: Mapping, *, file: str = "",
                     given: Mapping | None = None, sheets: list[str] | None = None
                     ) -> list[Problem]:
    """What keeps a mapping from working: unknown names, doubles, required columns left out
    (in a workbook of several `sheets`, the message names them: another may be the one)."""
    names = [c.name for c in columns(table)]
    problems = []
    for header, target in mapping.items():
        if header not in headers:
            problems.append(Problem("unknown_header", file, value=header,
                                    params={"headers": ", ".join(headers)}))
        if target and target not in names:
            problems.append(Problem("unknown_target", file, column=header, value=target,
                                    params={"table": table, "targets": ", ".join(names)}))
    by_target: dict[str, list[str]] = {}
    for header, target in mapping.items():
        if target in names and header in headers:
            by_target.setdefault(target, []).append(header)
    for target, hs in by_target.items():
        if len(hs) > 1:
            problems.append(Problem("duplicate_target", file, target=target,
                                    params={"headers": ", ".join(f'"{h}"' for h in hs)}))
    for target in required(table, by_target):
        if target not in by_target and sheets and len(sheets) > 1:
            problems.append(Problem("missing_column_sheets", file, target=target,
                                    params={"table": table, "sheets": ", ".join(sheets)}))
        elif target not in by_target:
            problems.append(Problem("missing_column", file, target=target,
                                    params={"table": table}))
    return problems


# Words of a header that holds money (for `money_columns`), compared normalised.
_MONEY_WORDS = ("金额", "货款", "应付", "实付", "实收", "邮费", "运费", "总价", "合计",
                "amount", "total", "paid", "price", "subtotal", "shipping", "refund")


def money_columns(headers: list[str], mapping: Mapping) -> tuple[str | None, list[str]]:
    """The header `amount` is taken from, and the file's other money headers.

    A shop export often has several (应付, 总金额, 实付, Subtotal, Total); the
    mapping screen shows which one was chosen (DESIGN §3, "Which money column").
    """
    chosen = next((h for h, t in mapping.items() if t == "amount" and h in headers), None)
    others = [h for h in headers if h != chosen and mapping.get(h) in (None, "")
              and any(normalise(w) in normalise(h) for w in _MONEY_WORDS)]
    return chosen, others


def _find_header(name: str, headers: list[str]) -> str:
    """The file's header a user-given name means: exact, else equal when normalised."""
    if name in headers:
        return name
    matches = [h for h in headers if normalise(h) == normalise(name)]
    return matches[0] if len(matches) == 1 else name


# ---- the editable table of the Data page -------------------------------------

def mapping_frame(headers: list[str], table: str, mapping: Mapping | None = None,
                  sample: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per header: `header`, `example` (first non-empty sample value), `column`.

    `column` is the canonical column or "" (not imported); edit it and hand
    the frame back through `mapping_from_frame`.
    """
    mapping = merge_mapping(headers, table, mapping)
    if sample is not None and len(sample):
        examples = sample.replace("", pd.NA).bfill().iloc[0].reindex(headers)
    else:
        examples = pd.Series(pd.NA, index=headers)
    return pd.DataFrame({
        "header": headers,
        "example": examples.astype("string").fillna("").to_numpy(),
        "column": [mapping.get(h) or "" for h in headers],
    })


def mapping_from_frame(frame: pd.DataFrame) -> Mapping:
    """The mapping an edited `mapping_frame` describes."""
    targets = frame["column"].fillna("").astype(str).str.strip()
    return dict(zip(frame["header"].astype(str), targets.where(targets != "", None)))


def column_choices(table: str) -> list[str]:
    """What a header can map to: "" (not imported) and the table's columns."""
    return ["", *(c.name for c in TABLES[table])]


# ---- mappings given as JSON, and saved by name --------------------------------

def parse_mapping_json(text: str) -> Mapping:
    """A mapping from inline JSON or from the path of a JSON file.

    The JSON is an object from headers to canonical columns (null = leave
    out), or a saved mapping's {"table": ..., "mapping": {...}}.
    """
    source = text.strip()
    if not source.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"--mapping: {text!r} is neither a JSON object nor a file")
        source = path.read_text(encoding="utf-8-sig")
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--mapping: not valid JSON ({exc.msg}, position {exc.pos})") from None
    if isinstance(value, dict) and isinstance(value.get("mapping"), dict):
        value = value["mapping"]
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()):
        raise ValueError('--mapping: expected an object such as {"下单日期": "txn_date"}')
    return value


def save_mapping(db, name: str, table: str, mapping: Mapping, *,
                 actor: str = audit.LOCAL) -> None:
    """Keep a mapping under `name` (replacing one of that name) for later imports (audited)."""
    columns(table)
    if not name.strip():
        raise ValueError("a saved mapping needs a name")
    value = json.dumps({"table": table, "mapping": mapping}, ensure_ascii=False)
    with store.write(db) as con:
        con.execute("DELETE FROM settings WHERE kind = 'mapping' AND name = ?", [name])
        con.execute("INSERT INTO settings VALUES ('mapping', ?, ?, ?)",
                    [name, value, datetime.now()])
        audit.record(con, actor, "mapping_saved", {"name": name, "table": table})


def load_mapping(db, name: str) -> tuple[str, Mapping]:
    """(table, mapping) saved under `name`; KeyError when there is none."""
    with store.connect(db) as con:
        row = con.execute("SELECT value FROM settings WHERE kind = 'mapping' AND name = ? "
                          "ORDER BY saved_at DESC LIMIT 1", [name]).fetchone()
    if row is None:
        raise KeyError(f"no saved mapping named {name!r}")
    value = json.loads(row[0])
    return value["table"], value["mapping"]


def list_mappings(db, table: str | None = None) -> pd.DataFrame:
    """Saved mappings: name, table, saved_at, mapping (dict), newest first."""
    with store.connect(db) as con:
        rows = con.execute("SELECT name, value, saved_at FROM settings WHERE kind = 'mapping' "
                           "ORDER BY saved_at DESC").fetchdf()
    values = rows["value"].map(json.loads)
    frame = pd.DataFrame({
        "name": rows["name"],
        "table": values.map(lambda v: v["table"]),
        "saved_at": rows["saved_at"],
        "mapping": values.map(lambda v: v["mapping"]),
    })
    if table is not None:
        frame = frame[frame["table"] == table].reset_index(drop=True)
    return frame


def delete_mapping(db, name: str, *, actor: str = audit.LOCAL) -> None:
    """Forget the mapping saved under `name` (audited)."""
    with store.write(db) as con:
        con.execute("DELETE FROM settings WHERE kind = 'mapping' AND name = ?", [name])
        audit.record(con, actor, "mapping_deleted", {"name": name})
