{{ config(**aimetrics.incremental_by_date('occurred_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- User events of non-internal users, attributed to a task and to the query
-- they concern:
-- * task: the event's task_id when that task is known, else the task of its
--   interaction_id;
-- * concerned query: the event's interaction_id when it is a known query;
--   else (only a task) the task's latest output requested at or before the
--   event, else the task's first output, else the task's first query.
-- The event counts in the date, feature and model of the query it concerns;
-- with neither task nor query known it counts for retention and adoption only.
-- An output_edited event that reports no edit size (edit_distance or
-- output_chars null) takes the size measured between the concerned output's
-- text and its final text by the Tier-1 text checks (int_text_checks, empty
-- unless var('python_udfs_enabled')).
with events as (
    select events.*
    from {{ ref('stg_raw__user_events') }} as events
    left join {{ ref('int_users') }} as users
        on events.user_id = users.user_id
    where not coalesce(users.is_internal, false)
        and {{ aimetrics.in_touched_dates('cast(events.occurred_at as date)') }}
),

resolved as (
    select
        events.*,
        named.interaction_id as named_interaction_id,
        coalesce(tasks.task_id, named.task_id) as resolved_task_id
    from events
    left join {{ ref('int_tasks') }} as tasks
        on events.task_id = tasks.task_id
    left join {{ ref('int_interactions') }} as named
        on events.interaction_id = named.interaction_id
),

latest_output_before as (
    select
        resolved.event_id,
        outputs.interaction_id,
        row_number() over (
            partition by resolved.event_id
            order by outputs.requested_at desc, outputs.attempt desc, outputs.interaction_id desc
        ) as output_rank
    from resolved
    inner join {{ ref('int_interactions') }} as outputs
        on resolved.resolved_task_id = outputs.task_id
        and outputs.is_output
        and outputs.requested_at <= resolved.occurred_at
    where resolved.named_interaction_id is null
        and resolved.resolved_task_id is not null
),

attributed as (
    select
        resolved.*,
        coalesce(
            resolved.named_interaction_id,
            latest_output_before.interaction_id,
            tasks.first_output_id,
            tasks.first_interaction_id
        ) as concerned_interaction_id
    from resolved
    left join latest_output_before
        on resolved.event_id = latest_output_before.event_id
        and latest_output_before.output_rank = 1
    left join {{ ref('int_tasks') }} as tasks
        on resolved.resolved_task_id = tasks.task_id
),

sized as (
    select
        attributed.*,
        case
            when attributed.role = 'output_edited'
                and (attributed.edit_distance is null or attributed.output_chars is null)
                and text_checks.final_edit_distance is not null
                then text_checks.final_edit_distance
            else attributed.edit_distance
        end as sized_edit_distance,
        case
            when attributed.role = 'output_edited'
                and (attributed.edit_distance is null or attributed.output_chars is null)
                and text_checks.final_edit_distance is not null
                then text_checks.output_chars
            else attributed.output_chars
        end as sized_output_chars
    from attributed
    left join {{ ref('int_text_checks') }} as text_checks
        on attributed.concerned_interaction_id = text_checks.interaction_id
)

select
    attributed.event_id,
    attributed.user_id,
    attributed.occurred_at,
    cast(attributed.occurred_at as date) as occurred_date,
    attributed.event_type,
    attributed.role,
    attributed.session_id,
    attributed.task_id as raw_task_id,
    attributed.interaction_id as raw_interaction_id,
    attributed.resolved_task_id as task_id,
    attributed.concerned_interaction_id,
    concerned.requested_date as attributed_date,
    concerned.feature as attributed_feature,
    concerned.model as attributed_model,
    coalesce(concerned.is_output, false) as concerns_output,
    attributed.sized_edit_distance as edit_distance,
    attributed.sized_output_chars as output_chars,
    case
        when attributed.role = 'output_edited'
            then {{ aimetrics.is_substantive_edit('attributed.sized_edit_distance', 'attributed.sized_output_chars') }}
    end as is_substantive_edit,
    (attributed.role in ('escalated', 'manual_fallback')
        or (attributed.role = 'output_edited'
            and {{ aimetrics.is_substantive_edit('attributed.sized_edit_distance', 'attributed.sized_output_chars') }}))
        as is_intervention,
    (attributed.role in ('output_rejected', 'regenerated', 'reprompted', 'escalated',
                         'manual_fallback', 'feedback_negative')
        or (attributed.role = 'output_edited'
            and {{ aimetrics.is_substantive_edit('attributed.sized_edit_distance', 'attributed.sized_output_chars') }}))
        as is_corrective
from sized as attributed
left join {{ ref('int_interactions') }} as concerned
    on attributed.concerned_interaction_id = concerned.interaction_id
