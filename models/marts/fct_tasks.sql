{{ config(**aimetrics.incremental_by_date('task_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- One row per task: its start (earliest of its first query and any
-- task_started event of the task), maturity, completion, interventions and
-- time to accuracy. The task takes the user, feature, model and model_version
-- of its first query; task-level metrics belong to the UTC date of its start.
with candidate_tasks as (
    -- a task starts on a touched date only if its first query or a task_started event is on one
    select * from {{ ref('int_tasks') }}
    {%- if aimetrics.incremental_run() %}
    where {{ aimetrics.in_touched_dates('first_requested_date') }}
        or task_id in (
            select task_id from {{ ref('int_events') }}
            where role = 'task_started' and {{ aimetrics.in_touched_dates('occurred_date') }}
        )
    {%- endif %}
),

task_events as (
    select
        events.task_id,
        min(case when events.role = 'task_started' then events.occurred_at end) as first_task_started_at,
        max(case when events.role = 'task_completed' then 1 else 0 end) = 1 as has_completed_event,
        count(case when events.is_intervention then 1 end) as interventions,
        min(case
            when events.role in ('output_verified', 'output_accepted')
                and events.concerns_output
                and coalesce(interactions.is_hallucinated, false) = false
                then events.occurred_at
        end) as first_correct_output_at
    from {{ ref('int_events') }} as events
    left join {{ ref('fct_interactions') }} as interactions
        on events.concerned_interaction_id = interactions.interaction_id
    where events.task_id is not null
    {%- if aimetrics.incremental_run() %}
        and events.task_id in (select task_id from candidate_tasks)
    {%- endif %}
    group by events.task_id
),

latest_query as (
    select max(requested_at) as latest_requested_at
    from {{ ref('int_interactions') }}
),

tasks as (
    select
        tasks.*,
        case
            when task_events.first_task_started_at < tasks.first_requested_at
                then task_events.first_task_started_at
            else tasks.first_requested_at
        end as started_at,
        coalesce(task_events.has_completed_event, false) as has_completed_event,
        coalesce(task_events.interventions, 0) as interventions,
        task_events.first_correct_output_at
    from candidate_tasks as tasks
    left join task_events
        on tasks.task_id = task_events.task_id
)

select
    tasks.task_id,
    tasks.user_id,
    tasks.feature,
    tasks.model,
    tasks.model_version,
    tasks.first_interaction_id,
    tasks.first_output_id,
    tasks.queries,
    tasks.outputs,
    tasks.started_at,
    cast(tasks.started_at as date) as task_date,
    tasks.started_at <= {{ dbt.dateadd('hour', -1 * var('task_maturity_hours'), 'latest_query.latest_requested_at') }}
        as is_mature,
    tasks.has_completed_event,
    tasks.interventions,
    tasks.interventions > 0 as has_intervention,
    tasks.has_completed_event and tasks.interventions = 0 as is_completed_clean,
    tasks.first_correct_output_at,
    {{ aimetrics.seconds_between('tasks.started_at', 'tasks.first_correct_output_at') }} as tta_s
from tasks
cross join latest_query
where {{ aimetrics.in_touched_dates('cast(tasks.started_at as date)') }}
