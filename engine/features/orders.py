"""Orders from their lines, for the queries beside the feature query (DESIGN §3, §4).

Purchases, frequency and average order value count orders: the lines sharing
a txn_id are one order, a row without one an order by itself; cancelled and
pending orders add no money. The rule is written once, as the `orders` part
of the feature query (`customer.sql`, between its "orders" markers); the
Overview's activity, the monthly review and the lifetime-value inputs read
it as a temporary view of that same SQL on their connection.
"""
from __future__ import annotations

from engine.features.customer import marked

VIEW_SQL = ("CREATE OR REPLACE TEMP VIEW orders AS\nWITH order_lines AS (\n" + marked("lines")
            + ")\n" + marked("orders"))


def install(con) -> None:
    """Define the temporary view `orders` on this connection.

    One row per order. Columns: customer_id, txn_id, txn_date, due_date, paid_date,
    money (net, DECIMAL), purchase (1 for a purchase, else 0), purchase_money
    (money of a purchase, else 0).
    """
    con.execute(VIEW_SQL)
