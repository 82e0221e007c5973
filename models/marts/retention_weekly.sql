-- One row per cohort_week (ISO week, Monday) x feature in which the feature
-- had a query.
-- Observational RΔ: active users of the week are those with any event or
-- query in it; AI users had a query of the feature in the week (anchor: their
-- first such day), every other active user is a non-AI user (anchor: their
-- first active day of the week). Retained: active on any day in
-- [anchor + 1, anchor + 7]; only users with anchor + 7 <= the last day in the
-- data count.
-- Causal RΔ (intention to treat): users with ai_access set, grouped by the
-- week of their first activity in the data (anchor: that day); these columns
-- depend on the week only and repeat on each feature row.
with activity as (
    select * from {{ ref('int_user_activity_days') }}
),

last_day as (
    select max(activity_date) as last_date from activity
),

feature_weeks as (
    select distinct {{ aimetrics.week_start('requested_date') }} as cohort_week, feature
    from {{ ref('int_interactions') }}
),

ai_users as (
    select
        {{ aimetrics.week_start('requested_date') }} as cohort_week,
        feature,
        user_id,
        min(requested_date) as anchor_date
    from {{ ref('int_interactions') }}
    group by {{ aimetrics.week_start('requested_date') }}, feature, user_id
),

week_users as (
    select
        {{ aimetrics.week_start('activity_date') }} as cohort_week,
        user_id,
        min(activity_date) as anchor_date
    from activity
    group by {{ aimetrics.week_start('activity_date') }}, user_id
),

non_ai_users as (
    select feature_weeks.cohort_week, feature_weeks.feature, week_users.user_id, week_users.anchor_date
    from feature_weeks
    inner join week_users
        on feature_weeks.cohort_week = week_users.cohort_week
    left join ai_users
        on ai_users.cohort_week = feature_weeks.cohort_week
        and ai_users.feature = feature_weeks.feature
        and ai_users.user_id = week_users.user_id
    where ai_users.user_id is null
),

cohorts as (
    select cohort_week, feature, user_id, anchor_date, true as is_ai_user from ai_users
    union all
    select cohort_week, feature, user_id, anchor_date, false as is_ai_user from non_ai_users
),

observational as (
    select
        cohorts.cohort_week,
        cohorts.feature,
        count(case when cohorts.is_ai_user then 1 end) as ai_users,
        count(case when cohorts.is_ai_user and activity.is_retained_7d then 1 end) as ai_users_retained,
        count(case when not cohorts.is_ai_user then 1 end) as non_ai_users,
        count(case when not cohorts.is_ai_user and activity.is_retained_7d then 1 end) as non_ai_users_retained
    from cohorts
    inner join activity
        on cohorts.user_id = activity.user_id
        and cohorts.anchor_date = activity.activity_date
    cross join last_day
    where {{ aimetrics.add_days('cohorts.anchor_date', 7) }} <= last_day.last_date
    group by cohorts.cohort_week, cohorts.feature
),

first_activity as (
    select user_id, min(activity_date) as anchor_date
    from activity
    group by user_id
),

causal as (
    select
        {{ aimetrics.week_start('first_activity.anchor_date') }} as cohort_week,
        count(case when users.ai_access = 'treatment' then 1 end) as treatment_users,
        count(case when users.ai_access = 'treatment' and activity.is_retained_7d then 1 end) as treatment_retained,
        count(case when users.ai_access = 'holdout' then 1 end) as holdout_users,
        count(case when users.ai_access = 'holdout' and activity.is_retained_7d then 1 end) as holdout_retained
    from {{ ref('int_users') }} as users
    inner join first_activity
        on users.user_id = first_activity.user_id
    inner join activity
        on first_activity.user_id = activity.user_id
        and first_activity.anchor_date = activity.activity_date
    cross join last_day
    where users.ai_access is not null
        and not users.is_internal
        and {{ aimetrics.add_days('first_activity.anchor_date', 7) }} <= last_day.last_date
    group by {{ aimetrics.week_start('first_activity.anchor_date') }}
),

joined as (
    select
        feature_weeks.cohort_week,
        feature_weeks.feature,
        coalesce(observational.ai_users, 0) as ai_users,
        coalesce(observational.ai_users_retained, 0) as ai_users_retained,
        coalesce(observational.non_ai_users, 0) as non_ai_users,
        coalesce(observational.non_ai_users_retained, 0) as non_ai_users_retained,
        coalesce(causal.treatment_users, 0) as treatment_users,
        coalesce(causal.treatment_retained, 0) as treatment_retained,
        coalesce(causal.holdout_users, 0) as holdout_users,
        coalesce(causal.holdout_retained, 0) as holdout_retained
    from feature_weeks
    left join observational
        on feature_weeks.cohort_week = observational.cohort_week
        and feature_weeks.feature = observational.feature
    left join causal
        on feature_weeks.cohort_week = causal.cohort_week
)

select
    cohort_week,
    feature,
    ai_users,
    ai_users_retained,
    {{ aimetrics.safe_divide('ai_users_retained', 'ai_users') }} as ai_retention_7d,
    non_ai_users,
    non_ai_users_retained,
    {{ aimetrics.safe_divide('non_ai_users_retained', 'non_ai_users') }} as non_ai_retention_7d,
    {{ aimetrics.retention_delta_pts(
        aimetrics.safe_divide('ai_users_retained', 'ai_users'),
        aimetrics.safe_divide('non_ai_users_retained', 'non_ai_users')) }} as retention_delta_pts,
    {{ aimetrics.newcombe_low('ai_users_retained', 'ai_users', 'non_ai_users_retained', 'non_ai_users', scale=100) }}
        as delta_ci_low,
    {{ aimetrics.newcombe_high('ai_users_retained', 'ai_users', 'non_ai_users_retained', 'non_ai_users', scale=100) }}
        as delta_ci_high,
    treatment_users,
    treatment_retained,
    holdout_users,
    holdout_retained,
    {{ aimetrics.retention_delta_pts(
        aimetrics.safe_divide('treatment_retained', 'treatment_users'),
        aimetrics.safe_divide('holdout_retained', 'holdout_users')) }} as causal_delta_pts
from joined
