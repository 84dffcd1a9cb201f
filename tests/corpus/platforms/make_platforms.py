"""Write one order export per shop platform, as the platform writes it (DESIGN §3).

    python tests/corpus/platforms/make_platforms.py

The headers, state words and encodings are the platforms' own (as their
order exports commonly come); buyers, products and numbers are made up.
Each file holds a handful of orders whose figures tests/test_platforms.py
works out by hand.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent


def text(name: str, body: str, encoding: str) -> None:
    (HERE / name).write_bytes(body.encode(encoding))


def workbook(name: str, sheets: dict[str, list[list]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(HERE / name)


# Taobao/Tmall 订单报表: GBK, one row per order; 买家实际支付金额 is what the buyer paid.
text("taobao_ExportOrderList.csv", """\
订单编号,买家会员名,买家支付宝账号,支付单号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,买家实际支付金额,买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址 ,运送方式,联系电话 ,联系手机,订单创建时间,订单付款时间 ,宝贝标题 ,宝贝种类 ,物流单号 ,物流公司,订单备注,宝贝总数量,店铺Id,店铺名称,订单关闭原因
="1876543210987654",小鱼爱喝茶,="xy***@163.com",="2024030122001",128.00,0.00,0,128.00,0,118.00,0,交易成功,,张**,浙江省 杭州市 西湖区 ***,快递,,138****0001,2024-03-01 10:12:30,2024-03-01 10:13:02,明前龙井 250g,1,="SF0001",顺丰速运,,1,123456,示例茶叶旗舰店,
="1876543210987655",小鱼爱喝茶,="xy***@163.com",,56.00,10.00,0,66.00,0,0.00,0,交易关闭,,张**,浙江省 杭州市 西湖区 ***,快递,,138****0001,2024-03-05 20:01:00,,紫砂杯,1,,,,1,123456,示例茶叶旗舰店,买家不想买了
="1876543210987656",tb_lanlan88,="ll***@qq.com",,299.00,0.00,0,299.00,0,0.00,0,等待买家付款,,李**,上海 上海市 浦东新区 ***,快递,,139****0002,2024-03-06 09:00:00,,礼盒装普洱,1,,,,1,123456,示例茶叶旗舰店,
="1876543210987657",tb_lanlan88,="ll***@qq.com",="2024030722009",199.00,0.00,0,199.00,0,189.00,0,卖家已发货，等待买家确认,要礼盒,李**,上海 上海市 浦东新区 ***,快递,,139****0002,2024-03-07 11:30:00,2024-03-07 11:31:10,铁观音 500g,2,="YT0002",圆通速递,,2,123456,示例茶叶旗舰店,
""", "gbk")

# JD 京东 商家后台订单导出: GBK; 应付金额 is what the buyer pays (京东价 the unit price).
text("jd_orders.csv", """\
订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,结算金额,余额支付,应付金额,订单状态,订单类型,下单帐号,客户姓名,客户地址,联系电话,订单备注,付款确认时间
250301000001,100012345,智能保温杯 500ml,2,在线支付,2024-03-02 08:15:00,89.00,178.00,168.00,0.00,168.00,完成,普通订单,jd_user_wang,王**,北京 朝阳区 ***,150****1111,,2024-03-02 08:16:00
250301000002,100012346,不锈钢饭盒,1,在线支付,2024-03-03 12:00:00,59.00,59.00,59.00,0.00,59.00,已取消,普通订单,jd_user_wang,王**,北京 朝阳区 ***,150****1111,,
250301000003,100012345,智能保温杯 500ml,1,货到付款,2024-03-04 18:30:00,89.00,89.00,89.00,0.00,89.00,等待出库,普通订单,jd_zhao_2024,赵**,广东 深圳市 ***,151****2222,,
""", "gbk")

# Pinduoduo 拼多多 商家后台订单导出: UTF-8 with BOM, amounts in 元 in the header.
text("pinduoduo_orders.csv", """\
商品,订单号,订单状态,商品总价(元),店铺优惠折扣(元),平台优惠折扣(元),邮费(元),用户实付金额(元),商家实收金额(元),商品数量(件),收货人,手机,拼单成功时间,订单成交时间,商品规格,售后状态
【两件装】纯棉毛巾,240310-123456789012345,已签收,39.80,0.00,5.00,0.00,34.80,39.80,2,刘**,13800000003,2024-03-10 14:00:00,2024-03-10 14:00:00,白色,无售后或售后取消
家用收纳盒,240311-223456789012345,已取消,25.90,0.00,0.00,0.00,25.90,25.90,1,刘**,13800000003,,2024-03-11 09:20:00,大号,无售后或售后取消
纯棉浴巾,240312-323456789012345,已发货，待签收,45.00,3.00,2.00,0.00,40.00,42.00,1,陈**,13800000004,2024-03-12 21:05:00,2024-03-12 21:05:00,灰色,无售后或售后取消
""", "utf-8-sig")

# Youzan 有赞 订单导出: UTF-8 with BOM, one row per order line, the paid amount on the first.
text("youzan_orders.csv", """\
订单号,订单状态,订单创建时间,买家付款时间,商品名称,商品单价,商品数量,订单实付金额,买家昵称,买家手机号,收货人/提货人,收货人手机号/提货人手机号
E20240315101010001,交易完成,2024-03-15 10:10:10,2024-03-15 10:11:00,手冲咖啡豆 200g,68.00,1,98.00,阿杰的咖啡,13900000005,阿杰,13900000005
E20240315101010001,交易完成,2024-03-15 10:10:10,2024-03-15 10:11:00,滤纸 100张,30.00,1,,阿杰的咖啡,13900000005,阿杰,13900000005
E20240316080000002,等待买家付款,2024-03-16 08:00:00,,挂耳咖啡 10包,45.00,1,45.00,木木,13900000006,木木,13900000006
""", "utf-8-sig")

# Douyin shop 抖店 订单导出: UTF-8 with BOM, one row per sub-order (子订单) of a main order.
text("douyin_orders.csv", """\
主订单编号,子订单编号,选购商品,商品规格,商品数量,商品ID,商家编码,商品单价,订单应付金额,运费,支付方式,收件人,收件人手机号,订单提交时间,支付完成时间,订单完成时间,订单状态,售后状态,取消原因
4912345678901234567,4912345678901234568,蓝牙耳机,白色,1,3601234567,EAR-01,129.00,119.00,0.00,抖音支付,周**,13700000007,2024/03/18 19:30:00,2024/03/18 19:30:20,2024/03/22 10:00:00,已完成,-,
4912345678901234567,4912345678901234569,耳机保护套,粉色,1,3601234568,EAR-02,19.90,19.90,0.00,抖音支付,周**,13700000007,2024/03/18 19:30:00,2024/03/18 19:30:20,2024/03/22 10:00:00,已完成,-,
4912345678901234570,4912345678901234571,充电宝,黑色,1,3601234569,PB-01,99.00,99.00,0.00,抖音支付,吴**,13700000008,2024/03/19 08:00:00,,,已关闭,-,超时未支付
""", "utf-8-sig")

# WeChat shop 微信小店 订单导出: an .xlsx workbook.
workbook("wechat_shop_orders.xlsx", {"订单列表": [
    ["订单号", "订单下单时间", "订单状态", "商品名称", "SKU编码", "商品单价", "商品数量",
     "订单实付金额", "买家昵称", "收货人", "收货人手机号"],
    ["3716123400001", "2024-03-20 12:00:00", "已完成", "手工皂", "SOAP-1", 25.00, 2, 50.00,
     "清风徐来", "孙**", "136****0009"],
    ["3716123400002", "2024-03-21 13:30:00", "已取消", "护手霜", "CREAM-1", 39.00, 1, 39.00,
     "清风徐来", "孙**", "136****0009"],
    ["3716123400003", "2024-03-22 09:45:00", "待发货", "手工皂", "SOAP-1", 25.00, 1, 25.00,
     "小太阳", "郑**", "135****0010"]]})

# Shopify orders_export.csv: UTF-8; order values on the first line of an order only.
text("shopify_orders_export.csv", """\
Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Billing Name,Cancelled at,Payment Method,Refunded Amount,Vendor,Outstanding Balance,Id,Phone
#1001,emma@example.com,paid,2024-03-01 10:05:00 +0800,fulfilled,2024-03-02 09:00:00 +0800,yes,USD,35.00,5.00,0.00,40.00,,0.00,Standard,2024-03-01 10:00:00 +0800,2,Linen Tote,12.50,,TOTE-1,Emma Stone,,Shopify Payments,0.00,Example Goods,0.00,5550001,
#1001,,,,,,,,,,,,,,,,1,Canvas Pouch,10.00,,POUCH-1,,,,,Example Goods,,,
#1002,liam@example.com,voided,,unfulfilled,,no,USD,22.00,0.00,0.00,22.00,,0.00,,2024-03-03 15:00:00 +0800,1,Linen Tote,22.00,,TOTE-2,Liam Chen,2024-03-03 16:00:00 +0800,manual,0.00,Example Goods,0.00,5550002,
#1003,emma@example.com,pending,,unfulfilled,,yes,USD,8.00,0.00,0.00,8.00,,0.00,,2024-03-04 11:00:00 +0800,1,Sticker Set,8.00,,STK-1,Emma Stone,,Bank Deposit,0.00,Example Goods,8.00,5550003,
""", "utf-8")

# WooCommerce order export (order/line CSV): UTF-8; order values on each order's first line.
text("woocommerce_orders.csv", """\
Order Number,Order Status,Order Date,First Name (Billing),Last Name (Billing),Email (Billing),Phone (Billing),Order Subtotal Amount,Order Shipping Amount,Order Total Amount,Payment Method Title,Item #,Item Name,Quantity (- Refund),Item Cost,SKU
2001,Completed,2024-03-05 09:00,Olivia,Wang,olivia@example.com,555-0101,30.00,5.00,35.00,Credit Card,1,Ceramic Mug,2,10.00,MUG-1
2001,,,,,,,,,,,2,Tea Towel,1,10.00,TOWEL-1
2002,Cancelled,2024-03-06 14:00,Noah,Li,noah@example.com,555-0102,18.00,0.00,18.00,PayPal,1,Tea Towel,1,18.00,TOWEL-1
2003,Pending payment,2024-03-07 16:30,Olivia,Wang,olivia@example.com,555-0101,12.00,0.00,12.00,Direct bank transfer,1,Coaster Set,1,12.00,COAST-1
""", "utf-8")

# UCI "Online Retail" (the first data set): InvoiceNo/UnitPrice/CustomerID, US dates,
# a cancellation invoice starting with C, a line without a customer.
text("online_retail.csv", """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/13/2010 8:26,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/13/2010 8:26,3.39,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,12/14/2010 8:28,1.85,17850,United Kingdom
C536379,D,Discount,-1,12/14/2010 9:41,27.50,14527,United Kingdom
536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/14/2010 8:34,1.69,13047,United Kingdom
536368,22960,JAM MAKING SET WITH JARS,6,12/14/2010 8:34,4.25,,United Kingdom
""", "utf-8")

# UCI "Online Retail II": Invoice/Price/Customer ID, one sheet per year.
_HEAD = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
         "Customer ID", "Country"]
workbook("online_retail_II.xlsx", {
    "Year 2009-2010": [_HEAD,
                       ["489434", "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", 12,
                        "2009-12-01 07:45:00", 6.95, 13085, "United Kingdom"],
                       ["489434", "79323P", "PINK CHERRY LIGHTS", 12, "2009-12-01 07:45:00",
                        6.75, 13085, "United Kingdom"]],
    "Year 2010-2011": [_HEAD,
                       ["539993", "22386", "JUMBO BAG PINK POLKADOT", 10, "2011-01-04 10:00:00",
                        1.95, 13313, "United Kingdom"],
                       ["C539994", "22386", "JUMBO BAG PINK POLKADOT", -2, "2011-01-05 10:00:00",
                        1.95, 13313, "United Kingdom"]]})

if __name__ == "__main__":
    print("\n".join(sorted(p.name for p in HERE.iterdir() if p.suffix in (".csv", ".xlsx"))))
