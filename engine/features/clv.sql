-- Per-customer purchase-day summaries for the lifetime-value models
-- (DESIGN §4.9): one row per customer with a purchase on or before
-- $calibration_end, as in Fader, Hardie & Lee (2005). See clv_inputs.py for
-- every output column.
--
-- A purchase is an order (the temporary view `orders`, engine.features.orders)
-- with money >= 0 that is not refunded, cancelled or pending (DESIGN §3, §4);
-- purchases of one customer on one day are one purchase day,
-- whose spend is the sum of their amounts (summed as DECIMAL: exact, so the
-- same in any order, and so is every fit on them). x counts the purchase days after
-- the first, up to the calibration end; recency and age run from the first
-- purchase day. Holdout purchase days are those in ($calibration_end, $as_of].
--
-- Portable subset (a later issue transpiles this to Spark SQL with SQLGlot):
-- date_diff('day', a, b) instead of date minus date, CASE inside aggregates
-- instead of FILTER, NULLIF around divisors.
WITH bounds AS (
    SELECT
        CAST($calibration_end AS DATE)                                     AS cal_end,
        CAST($as_of AS DATE)                                               AS t
),

purchase_days AS (
    -- One row per customer and purchase day up to the end of the holdout.
    SELECT
        x.customer_id,
        x.txn_date                                                         AS day,
        sum(x.purchase_money)                                              AS spend
    FROM orders AS x CROSS JOIN bounds AS b
    WHERE x.txn_date <= b.t
      AND x.purchase = 1
    GROUP BY x.customer_id, x.txn_date
),

first_days AS (
    -- The calibration customers and their first purchase day.
    SELECT p.customer_id, min(p.day)                                       AS first_day
    FROM purchase_days AS p CROSS JOIN bounds AS b
    WHERE p.day <= b.cal_end
    GROUP BY p.customer_id
),

per_customer AS (
    SELECT
        f.customer_id,
        f.first_day,
        b.cal_end,
        max(CASE WHEN p.day <= b.cal_end THEN p.day END)                   AS last_day,
        count(CASE WHEN p.day > f.first_day AND p.day <= b.cal_end
                   THEN 1 END)                                             AS x,
        sum(CASE WHEN p.day > f.first_day AND p.day <= b.cal_end
                 THEN p.spend END)                                         AS repeat_spend,
        count(CASE WHEN p.day > b.cal_end THEN 1 END)                      AS holdout_purchase_days
    FROM first_days AS f
    JOIN purchase_days AS p ON p.customer_id = f.customer_id
    CROSS JOIN bounds AS b
    GROUP BY f.customer_id, f.first_day, b.cal_end
)

SELECT
    customer_id,
    first_day                                                              AS first_purchase_date,
    last_day                                                               AS last_purchase_date,
    x,
    date_diff('day', first_day, last_day)                                  AS t_x_days,
    date_diff('day', first_day, cal_end)                                   AS age_days,
    CAST(repeat_spend AS DOUBLE) / NULLIF(x, 0)                            AS mean_repeat_spend,
    holdout_purchase_days
FROM per_customer
ORDER BY customer_id
