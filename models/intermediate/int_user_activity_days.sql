-- One row per non-internal user and UTC day with any event or query, with the
-- user's next active day: retained within 7 days of this day when the next
-- active day is at most 7 days later.
with activity as (
    select user_id, occurred_date as activity_date from {{ ref('int_events') }}
    union
    select user_id, requested_date as activity_date from {{ ref('int_interactions') }}
),

with_next as (
    select
        user_id,
        activity_date,
        lead(activity_date) over (partition by user_id order by activity_date) as next_activity_date
    from activity
)

select
    user_id,
    activity_date,
    next_activity_date,
    coalesce(next_activity_date <= {{ aimetrics.add_days('activity_date', 7) }}, false) as is_retained_7d
from with_next
