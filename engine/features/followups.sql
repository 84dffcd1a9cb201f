-- The follow-up log as of $as_of, one row per customer and action: the last
-- follow-up of the action (whatever its status) and the date of the last one
-- that is not paused, which the maintenance plan counts its cadence from
-- (DESIGN §4.7: "done or in progress, not paused"; a follow-up without a
-- status, as an import without that column leaves it, happened and counts). Follow-ups count by
-- their calendar date, T itself included. See followup_state.py for the
-- output columns.
--
-- Portable subset (transpiled to Spark SQL by a later issue): row_number()
-- instead of arg_max, CASE inside aggregates instead of FILTER.
WITH logged AS (
    SELECT
        f.followup_id, f.customer_id,
        coalesce(f.action, 'other')                                        AS action,
        f.ts, CAST(f.ts AS DATE)                                           AS d,
        f.status, f.result, f.channel, f.need, f.next_contact_date, f.owner
    FROM followups AS f
    WHERE CAST(f.ts AS DATE) <= CAST($as_of AS DATE)
),

ranked AS (
    -- rank 1 is the latest follow-up of the customer and action; ties on
    -- the timestamp go to the later logged one (higher id)
    SELECT
        l.*,
        row_number() OVER (
            PARTITION BY l.customer_id, l.action
            ORDER BY l.ts DESC, l.followup_id DESC)                        AS rank_latest
    FROM logged AS l
)

SELECT
    customer_id,
    action,
    count(*)                                                               AS followups,
    max(CASE WHEN coalesce(status, '') <> 'paused' THEN d END)            AS last_active_date,
    max(CASE WHEN rank_latest = 1 THEN followup_id END)                    AS last_followup_id,
    max(CASE WHEN rank_latest = 1 THEN d END)                              AS last_date,
    max(CASE WHEN rank_latest = 1 THEN status END)                         AS last_status,
    max(CASE WHEN rank_latest = 1 THEN result END)                         AS last_result,
    max(CASE WHEN rank_latest = 1 THEN channel END)                        AS last_channel,
    max(CASE WHEN rank_latest = 1 THEN need END)                           AS last_need,
    max(CASE WHEN rank_latest = 1 THEN next_contact_date END)              AS last_next_contact_date,
    max(CASE WHEN rank_latest = 1 THEN owner END)                          AS last_owner
FROM ranked
GROUP BY customer_id, action
ORDER BY customer_id, action
