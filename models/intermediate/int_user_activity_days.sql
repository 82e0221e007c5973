{{ config(**aimetrics.incremental_by_date('activity_date', days_before=7)) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- One row per non-internal user and UTC day with any event or query, with the
-- user's next active day within the following 7 days (null when none):
-- retained within 7 days of this day when there is one. A day's row depends
-- on the 7 days after it only, so an incremental run rewrites the touched
-- dates and the 7 days before each, reading 7 days further.
with activity as (
    select user_id, occurred_date as activity_date from {{ ref('int_events') }}
    where {{ aimetrics.in_touched_dates('occurred_date', days_before=7, days_after=7) }}
    union
    select user_id, requested_date as activity_date from {{ ref('int_interactions') }}
    where {{ aimetrics.in_touched_dates('requested_date', days_before=7, days_after=7) }}
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
    case
        when next_activity_date <= {{ aimetrics.add_days('activity_date', 7) }} then next_activity_date
    end as next_activity_date,
    coalesce(next_activity_date <= {{ aimetrics.add_days('activity_date', 7) }}, false) as is_retained_7d
from with_next
where {{ aimetrics.in_touched_dates('activity_date', days_before=7) }}
