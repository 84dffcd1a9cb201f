-- One row per customer known as of $as_of (DESIGN §4): the feature table that
-- scoring, RFM, pyramid, risk and lifecycle read. See customer.py for every
-- output column.
--
-- Portable subset (a later issue transpiles this to Spark SQL with SQLGlot):
-- date_diff('day', a, b) instead of date minus date, CASE inside aggregates
-- instead of FILTER, NULLIF around divisors, lag() for gaps, median().
--
-- Speed: each event table is read by its own CTE with plain GROUP BYs, never
-- through a shared CTE (a CTE read twice is materialised). Only the lag()
-- window partitions by a whole-number key per customer (customer_keys):
-- sorting by it is cheaper than by the text customer_id.
WITH bounds AS (
    -- T and the window edges. A window "(edge, T]" holds dates > edge;
    -- the 12 calendar months ending with T's month hold dates >= from_12m.
    SELECT
        CAST($as_of AS DATE)                                               AS t,
        CAST($as_of - INTERVAL 182 DAY AS DATE)                            AS edge_6m,
        CAST($as_of - INTERVAL 180 DAY AS DATE)                            AS edge_prev_90d,
        CAST($as_of - INTERVAL 90 DAY AS DATE)                             AS edge_90d,
        CAST($as_of - INTERVAL 30 DAY AS DATE)                             AS edge_30d,
        CAST(date_trunc('month', $as_of) - INTERVAL 11 MONTH AS DATE)      AS from_12m
),

customer_keys AS (
    -- A whole number per customer, in customer_id order (also the output order).
    SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS ckey
    FROM customers
),

order_lines AS (
    -- Every line with what it adds to spend and revenue (`money`): a refund
    -- counts negative (a negative amount, or any amount with status refunded:
    -- exports write refunds either way), a cancelled or pending line nothing.
    -- A line is `live` unless refunded, cancelled or pending.
    -- lines: begin
    SELECT
        customer_id, txn_id, order_line, txn_date, due_date, paid_date,
        CASE WHEN status IN ('cancelled', 'pending') THEN 0
             WHEN status = 'refunded' THEN -abs(amount)
             ELSE amount END                                               AS money,
        CASE WHEN coalesce(status, '') IN ('refunded', 'cancelled', 'pending')
             THEN 0 ELSE 1 END                                             AS live
    FROM transactions
    -- lines: end
),

orders AS (
    -- The orders (DESIGN §3): the lines sharing a txn_id are one order (one
    -- customer and one set of dates: the import sees to it, and numbers the
    -- lines of an order of several in `order_line`); a row without one is an
    -- order by itself. An order is a purchase when its money is >= 0 and one
    -- of its lines is live. Other queries of the engine read these orders too
    -- (engine.features.orders); the lines between the markers are shared.
    -- orders: begin
    SELECT
        customer_id, txn_id, txn_date, due_date, paid_date, money,
        CASE WHEN money >= 0 AND live = 1 THEN 1 ELSE 0 END                AS purchase,
        CASE WHEN money >= 0 AND live = 1 THEN money ELSE 0 END            AS purchase_money
    FROM order_lines
    WHERE order_line IS NULL
    UNION ALL
    SELECT
        customer_id, txn_id, txn_date, due_date, paid_date, sum(money)     AS money,
        CASE WHEN sum(money) >= 0 AND max(live) = 1 THEN 1 ELSE 0 END      AS purchase,
        CASE WHEN sum(money) >= 0 AND max(live) = 1 THEN sum(money)
             ELSE 0 END                                                    AS purchase_money
    FROM order_lines
    WHERE order_line IS NOT NULL
    GROUP BY customer_id, txn_id, txn_date, due_date, paid_date
    -- orders: end
),

txn_by_customer AS (
    -- Orders up to T, one pass of plain aggregates: spend and revenue sum
    -- money, purchases count purchases.
    SELECT
        o.customer_id,
        sum(CASE WHEN o.txn_date > b.edge_6m THEN o.money ELSE 0 END)      AS spend_6m,
        CAST(sum(CASE WHEN o.txn_date > b.edge_6m THEN o.purchase ELSE 0 END) AS BIGINT)
                                                                           AS purchases_6m,
        min(CASE WHEN o.purchase = 1 THEN o.txn_date END)                  AS first_purchase_date,
        max(CASE WHEN o.purchase = 1 THEN o.txn_date END)                  AS last_purchase_date,
        max(o.txn_date)                                                    AS last_txn_date,
        CAST(sum(CASE WHEN o.due_date <= b.t AND o.paid_date <= o.due_date
                      THEN 1 ELSE 0 END) AS BIGINT)                        AS paid_on_time,
        CAST(sum(CASE WHEN o.due_date <= b.t THEN 1 ELSE 0 END) AS BIGINT) AS payments_due,
        max(CASE WHEN o.purchase = 1 AND o.txn_date >= b.from_12m
                 THEN o.txn_date END)                                      AS last_purchase_12m,
        CAST(sum(CASE WHEN o.txn_date >= b.from_12m THEN o.purchase ELSE 0 END) AS BIGINT)
                                                                           AS frequency_12m,
        sum(CASE WHEN o.txn_date >= b.from_12m THEN o.money ELSE 0 END)    AS revenue_12m,
        sum(CASE WHEN o.txn_date > b.edge_90d THEN o.money ELSE 0 END)     AS spend_90d,
        sum(CASE WHEN o.txn_date > b.edge_prev_90d AND o.txn_date <= b.edge_90d
                 THEN o.money ELSE 0 END)                                  AS spend_prev_90d
    FROM orders AS o
    CROSS JOIN bounds AS b
    WHERE o.txn_date <= b.t
    GROUP BY o.customer_id
),

purchase_steps AS (
    -- Purchase days up to T, each with how it follows the customer's previous
    -- purchase: on a later day it starts a new purchase day (gap_days after
    -- the previous one), in a later month a new purchase month. A step
    -- depends on earlier purchases only, so the steps of all purchases serve
    -- every T: engine.features.customer passes them in precomputed when it
    -- computes many dates (the lines between the markers are replaced).
    -- steps: begin
    SELECT
        w.ckey, w.txn_date,
        (w.prev_date IS NULL OR w.prev_date < w.txn_date)                  AS new_day,
        CASE WHEN w.prev_date < w.txn_date
             THEN date_diff('day', w.prev_date, w.txn_date) END           AS gap_days,
        (w.prev_date IS NULL
         OR date_trunc('month', w.prev_date) < date_trunc('month', w.txn_date)) AS new_month
    FROM (
        SELECT
            k.ckey, o.txn_date,
            lag(o.txn_date) OVER (PARTITION BY k.ckey ORDER BY o.txn_date) AS prev_date
        FROM orders AS o
        JOIN customer_keys AS k ON k.customer_id = o.customer_id
        CROSS JOIN bounds AS b
        WHERE o.txn_date <= b.t AND o.purchase = 1
    ) AS w
    -- steps: end
),

purchase_days_by_customer AS (
    SELECT
        s.ckey,
        count(CASE WHEN s.new_day THEN 1 END)                              AS purchase_days,
        median(s.gap_days)                                                 AS median_gap_days,
        count(CASE WHEN s.new_month AND s.txn_date >= b.from_12m THEN 1 END) AS purchase_months_12m
    FROM purchase_steps AS s CROSS JOIN bounds AS b
    GROUP BY s.ckey
),

products_by_customer AS (
    -- Distinct products of the purchases in the last 6 months, over the lines
    -- that bought something (neither refunds, cancelled nor pending lines; a
    -- line of an order that is no purchase, e.g. one whose returns exceed it,
    -- bought nothing either); the category stands in where the product is empty.
    -- A row of its own is a purchase exactly when such a line, so only lines
    -- of orders of several lines look up their order (`void`: no purchase).
    SELECT
        t.customer_id,
        count(DISTINCT coalesce(nullif(t.product, ''), nullif(t.category, ''))) AS products_6m
    FROM transactions AS t
    CROSS JOIN bounds AS b
    LEFT JOIN orders AS void
      ON t.order_line IS NOT NULL AND void.purchase = 0
     AND void.customer_id = t.customer_id AND void.txn_id = t.txn_id
    WHERE t.txn_date > b.edge_6m AND t.txn_date <= b.t
      AND t.amount >= 0 AND coalesce(t.status, '') NOT IN ('refunded', 'cancelled', 'pending')
      AND void.customer_id IS NULL
    GROUP BY t.customer_id
),

interaction_by_customer AS (
    -- Interactions up to T, by calendar date.
    SELECT
        i.customer_id,
        count(CASE WHEN i.d > b.edge_6m THEN 1 END)                        AS interactions_6m,
        count(CASE WHEN i.d > b.edge_6m AND i.kind = 'event' THEN 1 END)   AS events_6m,
        median(CASE WHEN i.d > b.edge_6m THEN i.response_hours END)        AS median_response_hours_6m,
        count(CASE WHEN i.kind = 'referral' THEN 1 END)                    AS referral_interactions,
        count(CASE WHEN i.d > b.edge_90d AND i.kind = 'complaint' THEN 1 END) AS complaints_90d,
        count(CASE WHEN i.d > b.edge_30d THEN 1 END)                       AS interactions_30d,
        count(CASE WHEN i.d > b.edge_90d THEN 1 END)                       AS interactions_90d,
        min(i.d)                                                           AS first_interaction_date,
        max(i.d)                                                           AS last_interaction_date,
        max(CASE WHEN i.kind = 'consultation' THEN i.d END)                AS last_consultation_date
    FROM (SELECT customer_id, kind, response_hours, CAST(ts AS DATE) AS d
          FROM interactions) AS i
    CROSS JOIN bounds AS b
    WHERE i.d <= b.t
    GROUP BY i.customer_id
),

undated_customers AS (
    SELECT customer_id FROM customers WHERE first_contact_date IS NULL
),

events_after_t AS (
    -- Customers without a first contact date that have an event after T
    -- (not counted, only used to tell "no events at all" from "all events
    -- still to come"; a dated customer is known by its date). Work over
    -- many dates passes in those with any event at all instead: for a
    -- customer without events up to T, the same thing.
    -- after: begin
    SELECT customer_id FROM transactions CROSS JOIN bounds AS b
    WHERE txn_date > b.t AND customer_id IN (SELECT customer_id FROM undated_customers)
    UNION
    SELECT customer_id FROM interactions CROSS JOIN bounds AS b
    WHERE CAST(ts AS DATE) > b.t AND customer_id IN (SELECT customer_id FROM undated_customers)
    -- after: end
),

customer_rows AS (
    -- Every customer with its event aggregates, and whether it is known by
    -- T: a first contact on or before T, or an event on or before T, or no
    -- first contact date and no events at all.
    SELECT
        k.ckey,
        c.customer_id, c.name, c.customer_type, c.channel_type, c.region,
        c.source, c.owner, c.first_contact_date, c.contract_end, c.referred_by,
        b.t,
        tx.spend_6m, tx.purchases_6m, pr.products_6m, tx.first_purchase_date,
        tx.last_purchase_date, tx.last_txn_date, pd.purchase_days,
        pd.median_gap_days, pd.purchase_months_12m, tx.paid_on_time,
        tx.payments_due, tx.last_purchase_12m, tx.frequency_12m,
        tx.revenue_12m, tx.spend_90d, tx.spend_prev_90d,
        ia.interactions_6m, ia.events_6m, ia.median_response_hours_6m,
        ia.referral_interactions, ia.complaints_90d, ia.interactions_30d,
        ia.interactions_90d, ia.first_interaction_date,
        ia.last_interaction_date, ia.last_consultation_date,
        -- the earlier of the first contact date (once it has come) and the
        -- first interaction
        least(CASE WHEN c.first_contact_date <= b.t THEN c.first_contact_date END,
              ia.first_interaction_date)                                   AS first_contact,
        (c.first_contact_date <= b.t
         OR tx.customer_id IS NOT NULL
         OR ia.customer_id IS NOT NULL
         OR (c.first_contact_date IS NULL AND later.customer_id IS NULL)) AS is_known
    FROM customers AS c
    JOIN customer_keys AS k ON k.customer_id = c.customer_id
    CROSS JOIN bounds AS b
    LEFT JOIN txn_by_customer AS tx ON tx.customer_id = c.customer_id
    LEFT JOIN purchase_days_by_customer AS pd ON pd.ckey = k.ckey
    LEFT JOIN products_by_customer AS pr ON pr.customer_id = c.customer_id
    LEFT JOIN interaction_by_customer AS ia ON ia.customer_id = c.customer_id
    LEFT JOIN events_after_t AS later ON later.customer_id = c.customer_id
),

referrals AS (
    -- Known customers that name a referrer, counted for the referrer.
    SELECT referred_by AS customer_id, count(*) AS referred_customers
    FROM customer_rows
    WHERE is_known AND referred_by IS NOT NULL
    GROUP BY referred_by
)

SELECT
    c.customer_id, name, customer_type, channel_type, region, source, owner,
    first_contact_date, contract_end, referred_by,
    -- consumption
    coalesce(spend_6m, 0)                                                  AS spend_6m,
    coalesce(purchases_6m, 0)                                              AS purchases_6m,
    coalesce(round(spend_6m / NULLIF(purchases_6m, 0), 6), 0)             AS aov_6m,
    coalesce(products_6m, 0)                                               AS products_6m,
    -- interaction
    coalesce(interactions_6m, 0)                                           AS interactions_6m,
    coalesce(events_6m, 0)                                                 AS events_6m,
    -- DuckDB and Spark interpolate the middle pair in a different order (the last
    -- bit can differ); 6 decimals of an hour make the engines agree exactly.
    -- median_gap_days needs no rounding: halves of whole days are exact.
    round(median_response_hours_6m, 6)                                     AS median_response_hours_6m,
    -- stability
    first_purchase_date,
    first_interaction_date,
    first_contact,
    date_diff('day', least(first_purchase_date, first_contact), t)        AS tenure_days,
    coalesce(purchase_months_12m, 0)                                       AS purchase_months_12m,
    CAST(paid_on_time AS DOUBLE) / NULLIF(payments_due, 0)                 AS ontime_share,
    CASE WHEN contract_end > t THEN 1 WHEN contract_end <= t THEN 0 END    AS renewal,
    -- referral
    coalesce(r.referred_customers, 0)                                      AS referred_customers,
    coalesce(referral_interactions, 0)                                     AS referral_interactions,
    -- RFM over the 12 calendar months ending with T's month (NULL for non-buyers)
    last_purchase_12m,
    date_diff('day', last_purchase_12m, t)                                 AS recency_days_12m,
    coalesce(frequency_12m, 0)                                             AS frequency_12m,
    CASE WHEN frequency_12m > 0 THEN revenue_12m END                       AS monetary_12m,
    coalesce(revenue_12m, 0)                                               AS revenue_12m,
    -- risk, demand and lifecycle inputs
    coalesce(spend_90d, 0)                                                 AS spend_90d,
    coalesce(spend_prev_90d, 0)                                            AS spend_prev_90d,
    coalesce(complaints_90d, 0)                                            AS complaints_90d,
    coalesce(interactions_30d, 0)                                          AS interactions_30d,
    coalesce(interactions_90d, 0)                                          AS interactions_90d,
    last_txn_date,
    last_interaction_date,
    last_consultation_date,
    last_purchase_date,
    coalesce(purchase_days, 0)                                             AS purchase_days,
    median_gap_days,
    date_diff('day', last_purchase_date, t)                                AS days_since_last_purchase
FROM customer_rows AS c
LEFT JOIN referrals AS r ON r.customer_id = c.customer_id
WHERE c.is_known
ORDER BY c.ckey
