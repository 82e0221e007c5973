{{ config(**aimetrics.incremental_by_week('week', weeks_after=1)) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- Counter-metrics (Goodhart guards): one row per ISO week x feature with an
-- output or a task.
-- * Rubber-stamping: acceptance rate (outputs with an output_accepted event /
--   outputs, by the week of the output) paired with the downstream success
--   rate of accepted outputs (accepted outputs whose task has a
--   downstream_success event / accepted outputs); flagged when, against the
--   previous calendar week, acceptance rises while downstream success falls,
--   both beyond chance (95% Newcombe intervals of the two differences).
-- * Deflection: mature tasks with a task_completed event and no escalated
--   event / mature tasks (by the week of the task's start), paired with the
--   recontact rate: deflected tasks with a recontact event / deflected tasks.
-- * Segment guardrail: over the segments (raw.users.segment; users without
--   one are left out) with at least var('min_segment_tasks') (30) mature
--   tasks, lowest segment TCR / highest segment TCR; breached below
--   var('segment_guardrail_ratio') (0.8).
-- Incremental by week (macro incremental_by_week): a run rewrites the weeks
-- holding a touched date and the week after each (it compares with the
-- previous week), from the outputs and tasks of those weeks and the week
-- before, and the events of those tasks only.
with task_roles as (
    select
        task_id,
        max(case when role = 'downstream_success' then 1 else 0 end) = 1 as has_downstream_success,
        max(case when role = 'escalated' then 1 else 0 end) = 1 as has_escalation,
        max(case when role = 'recontact' then 1 else 0 end) = 1 as has_recontact
    from {{ ref('int_events') }}
    where task_id is not null
    {%- if aimetrics.incremental_run() %}
        and task_id in (
            select task_id from {{ ref('fct_interactions') }}
            where {{ aimetrics.in_touched_weeks('requested_date', weeks_before=1, weeks_after=1) }}
            union
            select task_id from {{ ref('fct_tasks') }}
            where {{ aimetrics.in_touched_weeks('task_date', weeks_before=1, weeks_after=1) }}
        )
    {%- endif %}
    group by task_id
),

acceptance as (
    select
        {{ aimetrics.week_start('interactions.requested_date') }} as week,
        interactions.feature,
        count(*) as outputs,
        sum(case when interactions.is_accepted then 1 else 0 end) as accepted_outputs,
        sum(case when interactions.is_accepted and coalesce(task_roles.has_downstream_success, false)
            then 1 else 0 end) as accepted_with_downstream_success
    from {{ ref('fct_interactions') }} as interactions
    left join task_roles
        on interactions.task_id = task_roles.task_id
    where interactions.is_output
        and {{ aimetrics.in_touched_weeks('interactions.requested_date', weeks_before=1, weeks_after=1) }}
    group by {{ aimetrics.week_start('interactions.requested_date') }}, interactions.feature
),

tasks as (
    select
        {{ aimetrics.week_start('tasks.task_date') }} as week,
        tasks.feature,
        users.segment,
        tasks.is_completed_clean,
        tasks.has_completed_event and not coalesce(task_roles.has_escalation, false) as is_deflected,
        coalesce(task_roles.has_recontact, false) as has_recontact
    from {{ ref('fct_tasks') }} as tasks
    left join task_roles
        on tasks.task_id = task_roles.task_id
    left join {{ ref('dim_users') }} as users
        on tasks.user_id = users.user_id
    where tasks.is_mature
        and {{ aimetrics.in_touched_weeks('tasks.task_date', weeks_before=1, weeks_after=1) }}
),

deflection as (
    select
        week,
        feature,
        count(*) as tasks_mature,
        sum(case when is_deflected then 1 else 0 end) as deflected_tasks,
        sum(case when is_deflected and has_recontact then 1 else 0 end) as recontacted_tasks
    from tasks
    group by week, feature
),

segments as (
    select
        week,
        feature,
        segment,
        count(*) as tasks_mature,
        {{ aimetrics.task_completion_rate('sum(case when is_completed_clean then 1 else 0 end)', 'count(*)') }} as tcr
    from tasks
    where segment is not null
    group by week, feature, segment
    having count(*) >= {{ var('min_segment_tasks') }}
),

segments_ranked as (
    select
        segments.*,
        row_number() over (partition by week, feature order by tcr, segment) as rank_low,
        row_number() over (partition by week, feature order by tcr desc, segment) as rank_high
    from segments
),

segment_guardrail as (
    select
        week,
        feature,
        count(*) as segments_compared,
        min(tcr) as min_segment_tcr,
        max(tcr) as max_segment_tcr,
        max(case when rank_low = 1 then segment end) as lowest_tcr_segment,
        max(case when rank_high = 1 then segment end) as highest_tcr_segment
    from segments_ranked
    group by week, feature
),

cells as (
    select week, feature from acceptance
    union
    select week, feature from deflection
),

joined as (
    select
        cells.week,
        cells.feature,
        coalesce(acceptance.outputs, 0) as outputs,
        coalesce(acceptance.accepted_outputs, 0) as accepted_outputs,
        coalesce(acceptance.accepted_with_downstream_success, 0) as accepted_with_downstream_success,
        coalesce(previous.outputs, 0) as previous_outputs,
        coalesce(previous.accepted_outputs, 0) as previous_accepted_outputs,
        coalesce(previous.accepted_with_downstream_success, 0) as previous_accepted_with_downstream_success,
        coalesce(deflection.tasks_mature, 0) as tasks_mature,
        coalesce(deflection.deflected_tasks, 0) as deflected_tasks,
        coalesce(deflection.recontacted_tasks, 0) as recontacted_tasks,
        coalesce(segment_guardrail.segments_compared, 0) as segments_compared,
        segment_guardrail.min_segment_tcr,
        segment_guardrail.max_segment_tcr,
        segment_guardrail.lowest_tcr_segment,
        segment_guardrail.highest_tcr_segment
    from cells
    left join acceptance
        on cells.week = acceptance.week and cells.feature = acceptance.feature
    left join acceptance as previous
        on previous.week = {{ aimetrics.add_days('cells.week', -7) }} and cells.feature = previous.feature
    left join deflection
        on cells.week = deflection.week and cells.feature = deflection.feature
    left join segment_guardrail
        on cells.week = segment_guardrail.week and cells.feature = segment_guardrail.feature
)

select
    week,
    feature,
    cast(outputs as {{ dbt.type_bigint() }}) as outputs,
    cast(accepted_outputs as {{ dbt.type_bigint() }}) as accepted_outputs,
    cast({{ aimetrics.safe_divide('accepted_outputs', 'outputs') }} as {{ aimetrics.type_double() }}) as acceptance_rate,
    cast(accepted_with_downstream_success as {{ dbt.type_bigint() }}) as accepted_with_downstream_success,
    cast({{ aimetrics.safe_divide('accepted_with_downstream_success', 'accepted_outputs') }} as {{ aimetrics.type_double() }})
        as downstream_success_rate,
    cast(previous_outputs as {{ dbt.type_bigint() }}) as previous_outputs,
    cast(previous_accepted_outputs as {{ dbt.type_bigint() }}) as previous_accepted_outputs,
    cast(previous_accepted_with_downstream_success as {{ dbt.type_bigint() }}) as previous_accepted_with_downstream_success,
    cast({{ aimetrics.safe_divide('accepted_outputs', 'outputs') }}
        - {{ aimetrics.safe_divide('previous_accepted_outputs', 'previous_outputs') }} as {{ aimetrics.type_double() }})
        as acceptance_change,
    cast({{ aimetrics.safe_divide('accepted_with_downstream_success', 'accepted_outputs') }}
        - {{ aimetrics.safe_divide('previous_accepted_with_downstream_success', 'previous_accepted_outputs') }}
        as {{ aimetrics.type_double() }}) as downstream_success_change,
    {{ aimetrics.is_rubber_stamping('accepted_outputs', 'outputs', 'previous_accepted_outputs', 'previous_outputs',
        'accepted_with_downstream_success', 'previous_accepted_with_downstream_success') }} as rubber_stamping_flag,
    cast(tasks_mature as {{ dbt.type_bigint() }}) as tasks_mature,
    cast(deflected_tasks as {{ dbt.type_bigint() }}) as deflected_tasks,
    cast({{ aimetrics.safe_divide('deflected_tasks', 'tasks_mature') }} as {{ aimetrics.type_double() }}) as deflection_rate,
    cast(recontacted_tasks as {{ dbt.type_bigint() }}) as recontacted_tasks,
    cast({{ aimetrics.safe_divide('recontacted_tasks', 'deflected_tasks') }} as {{ aimetrics.type_double() }}) as recontact_rate,
    cast(segments_compared as {{ dbt.type_bigint() }}) as segments_compared,
    lowest_tcr_segment,
    highest_tcr_segment,
    cast(min_segment_tcr as {{ aimetrics.type_double() }}) as min_segment_tcr,
    cast(max_segment_tcr as {{ aimetrics.type_double() }}) as max_segment_tcr,
    cast(case when segments_compared >= 2 then {{ aimetrics.segment_tcr_ratio('min_segment_tcr', 'max_segment_tcr') }} end
        as {{ aimetrics.type_double() }}) as segment_tcr_ratio,
    coalesce(segments_compared >= 2
        and {{ aimetrics.segment_tcr_ratio('min_segment_tcr', 'max_segment_tcr') }}
            < cast({{ var('segment_guardrail_ratio') }} as {{ aimetrics.type_double() }}), false)
        as segment_guardrail_breached
from joined
where {{ aimetrics.in_touched_weeks('week', weeks_after=1) }}
