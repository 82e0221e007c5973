-- One row per non-internal user seen in raw.users, a query or an event, with
-- their attributes (null when raw.users has no valid row for them) and
-- activity span.
with activity as (
    select
        user_id,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date,
        count(*) as active_days
    from {{ ref('int_user_activity_days') }}
    group by user_id
),

user_ids as (
    select user_id from {{ ref('int_users') }} where not is_internal
    union
    select user_id from activity
)

select
    user_ids.user_id,
    users.signed_up_at,
    users.segment,
    users.ai_access,
    users.user_id is not null as in_users_table,
    activity.first_active_date,
    activity.last_active_date,
    coalesce(activity.active_days, 0) as active_days
from user_ids
left join {{ ref('int_users') }} as users
    on user_ids.user_id = users.user_id
left join activity
    on user_ids.user_id = activity.user_id
