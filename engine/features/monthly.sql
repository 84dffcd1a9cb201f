-- Calendar-month aggregates over raw events for the monthly review
-- (DESIGN §4.8): what happened *during* each month from $first (the first
-- day of the first month) to $last (the last day of the last month). Events
-- count by their calendar date (an interaction's or follow-up's `ts` counts
-- on its date). See month_activity.py for every output column.
--
-- The file holds four queries, each after a `-- name: <query>` line.
--
-- Portable subset (a later issue transpiles this to Spark SQL with SQLGlot):
-- no date minus date, CASE inside aggregates instead of FILTER, no list
-- functions, no arg_max, NULLIF around divisors.

-- name: customer_month_activity
-- One row per customer and month with any transaction, interaction or
-- follow-up in that month. Transactions and purchases count orders (the
-- temporary view `orders`, engine.features.orders): a purchase is an order
-- with money >= 0 that is not refunded, cancelled or pending; revenue is the
-- net sum of the orders' money (refunds negative, cancelled and pending nothing).
WITH bounds AS (
    SELECT CAST($first AS DATE) AS first_day, CAST($last AS DATE) AS last_day
),

txn AS (
    SELECT
        x.customer_id,
        CAST(date_trunc('month', x.txn_date) AS DATE)                      AS month,
        count(*)                                                           AS transactions,
        sum(x.purchase)                                                    AS purchases,
        sum(x.money)                                                       AS revenue
    FROM orders AS x CROSS JOIN bounds AS b
    WHERE x.txn_date >= b.first_day AND x.txn_date <= b.last_day
    GROUP BY x.customer_id, CAST(date_trunc('month', x.txn_date) AS DATE)
),

itr AS (
    SELECT
        i.customer_id,
        CAST(date_trunc('month', i.d) AS DATE)                             AS month,
        count(*)                                                           AS interactions
    FROM (SELECT customer_id, CAST(ts AS DATE) AS d FROM interactions) AS i
    CROSS JOIN bounds AS b
    WHERE i.d >= b.first_day AND i.d <= b.last_day
    GROUP BY i.customer_id, CAST(date_trunc('month', i.d) AS DATE)
),

fup AS (
    -- every follow-up logged, whatever its action or status
    SELECT
        f.customer_id,
        CAST(date_trunc('month', f.d) AS DATE)                             AS month,
        count(*)                                                           AS followups
    FROM (SELECT customer_id, CAST(ts AS DATE) AS d FROM followups) AS f
    CROSS JOIN bounds AS b
    WHERE f.d >= b.first_day AND f.d <= b.last_day
    GROUP BY f.customer_id, CAST(date_trunc('month', f.d) AS DATE)
),

customer_months AS (
    SELECT customer_id, month FROM txn
    UNION
    SELECT customer_id, month FROM itr
    UNION
    SELECT customer_id, month FROM fup
)

SELECT
    k.customer_id,
    k.month,
    coalesce(t.transactions, 0)                                            AS transactions,
    coalesce(t.purchases, 0)                                               AS purchases,
    coalesce(t.revenue, 0)                                                 AS revenue,
    coalesce(i.interactions, 0)                                            AS interactions,
    coalesce(f.followups, 0)                                               AS followups
FROM customer_months AS k
LEFT JOIN txn AS t ON t.customer_id = k.customer_id AND t.month = k.month
LEFT JOIN itr AS i ON i.customer_id = k.customer_id AND i.month = k.month
LEFT JOIN fup AS f ON f.customer_id = k.customer_id AND f.month = k.month
ORDER BY k.month, k.customer_id;

-- name: complaints_by_topic
-- Complaints (interactions of kind 'complaint') per month and topic; a
-- missing or blank topic counts as 'unspecified'.
WITH bounds AS (
    SELECT CAST($first AS DATE) AS first_day, CAST($last AS DATE) AS last_day
),

complaints AS (
    SELECT
        CAST(date_trunc('month', CAST(i.ts AS DATE)) AS DATE)              AS month,
        coalesce(nullif(trim(i.topic), ''), 'unspecified')                 AS topic
    FROM interactions AS i CROSS JOIN bounds AS b
    WHERE i.kind = 'complaint'
      AND CAST(i.ts AS DATE) >= b.first_day AND CAST(i.ts AS DATE) <= b.last_day
)

SELECT month, topic, count(*) AS complaints
FROM complaints
GROUP BY month, topic
ORDER BY month, complaints DESC, topic;

-- name: interactions_by_month
-- Interactions per month, how many carry a satisfaction rating, and the
-- mean of those ratings (NULL when none is rated).
WITH bounds AS (
    SELECT CAST($first AS DATE) AS first_day, CAST($last AS DATE) AS last_day
),

dated AS (
    SELECT
        CAST(date_trunc('month', CAST(i.ts AS DATE)) AS DATE)              AS month,
        i.kind, i.satisfaction
    FROM interactions AS i CROSS JOIN bounds AS b
    WHERE CAST(i.ts AS DATE) >= b.first_day AND CAST(i.ts AS DATE) <= b.last_day
)

SELECT
    month,
    count(*)                                                               AS interactions,
    count(CASE WHEN kind = 'complaint' THEN 1 END)                         AS complaints,
    count(satisfaction)                                                    AS rated,
    CAST(sum(satisfaction) AS DOUBLE) / NULLIF(count(satisfaction), 0)     AS mean_satisfaction
FROM dated
GROUP BY month
ORDER BY month;

-- name: customer_index
-- Every customer id in ascending order. A customer's position in it is the
-- integer key that lets the review join snapshots and activity by array
-- position instead of hashing a million ids on every month switch.
SELECT customer_id
FROM customers
ORDER BY customer_id;
