{{ config(**aimetrics.incremental_by_week('period_start')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- AI adoption per day and per ISO week: one row per period (`day` or `week`)
-- x period_start with any activity. Active users: non-internal users with any
-- event or query in the period; AI users: those with a query (any status, any
-- feature) in it; adoption rate = AI users / active users.
-- Incremental by week (macro incremental_by_week): a run rewrites the day and
-- week rows of every week holding a touched date, from that week's activity.
with activity as (
    select user_id, activity_date from {{ ref('int_user_activity_days') }}
    where {{ aimetrics.in_touched_weeks('activity_date') }}
),

ai_activity as (
    select distinct user_id, requested_date as activity_date from {{ ref('int_interactions') }}
    where {{ aimetrics.in_touched_weeks('requested_date') }}
),

periods as (
    select 'day' as period, activity.activity_date as period_start, activity.user_id, ai_activity.user_id as ai_user_id
    from activity
    left join ai_activity
        on activity.user_id = ai_activity.user_id
        and activity.activity_date = ai_activity.activity_date
    union all
    select 'week' as period, {{ aimetrics.week_start('activity.activity_date') }} as period_start,
        activity.user_id, ai_activity.user_id as ai_user_id
    from activity
    left join ai_activity
        on activity.user_id = ai_activity.user_id
        and activity.activity_date = ai_activity.activity_date
),

counted as (
    select
        period,
        period_start,
        count(distinct user_id) as active_users,
        count(distinct ai_user_id) as ai_users
    from periods
    group by period, period_start
)

select
    cast(period as {{ dbt.type_string() }}) as period,
    period_start,
    cast(active_users as {{ dbt.type_bigint() }}) as active_users,
    cast(ai_users as {{ dbt.type_bigint() }}) as ai_users,
    cast({{ aimetrics.safe_divide('ai_users', 'active_users') }} as {{ aimetrics.type_double() }}) as adoption_rate
from counted
