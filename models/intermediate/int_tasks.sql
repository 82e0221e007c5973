{{ config(**aimetrics.incremental_by_date('first_requested_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- One row per task (a task_id with at least one query): its first query,
-- whose user, feature, model and model_version the task takes, and its first
-- output. "First" orders by (requested_at, attempt, interaction_id).
with ordered as (
    select
        *,
        row_number() over (
            partition by task_id
            order by requested_at, attempt, interaction_id
        ) as query_rank,
        row_number() over (
            partition by task_id, is_output
            order by requested_at, attempt, interaction_id
        ) as rank_within_status_group
    from {{ ref('int_interactions') }}
    {%- if aimetrics.incremental_run() %}
    -- every query of each task with a query on a touched date
    where task_id in (
        select task_id from {{ ref('int_interactions') }}
        where {{ aimetrics.in_touched_dates('requested_date') }}
    )
    {%- endif %}
),

tasks as (
    select
        task_id,
        max(case when query_rank = 1 then interaction_id end) as first_interaction_id,
        max(case when query_rank = 1 then user_id end) as user_id,
        max(case when query_rank = 1 then feature end) as feature,
        max(case when query_rank = 1 then model end) as model,
        max(case when query_rank = 1 then model_version end) as model_version,
        min(requested_at) as first_requested_at,
        max(case when is_output and rank_within_status_group = 1 then interaction_id end) as first_output_id,
        count(*) as queries,
        count(case when is_output then 1 end) as outputs
    from ordered
    group by task_id
)

select
    task_id,
    first_interaction_id,
    user_id,
    feature,
    model,
    model_version,
    first_requested_at,
    cast(first_requested_at as date) as first_requested_date,
    first_output_id,
    queries,
    outputs
from tasks
where {{ aimetrics.in_touched_dates('cast(first_requested_at as date)') }}
