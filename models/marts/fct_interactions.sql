{{ config(**aimetrics.incremental_by_date('requested_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- One row per query of a non-internal user, with its cost, latency, final
-- review verdicts, reactions, interventions and validity. An output is a query
-- with status ok. Valid (for CPVO): an output not adjudicated hallucinated
-- that was accepted or verified (first at t) with no corrective event
-- concerning it or belonging to its task in [t, t + behavioral_window_minutes].
{#- int_events and int_interactions are read where needed (each read scans
    only the columns it uses), not through CTEs shared by several steps:
    DuckDB materializes or fans out a CTE read twice with all its columns,
    which cost a third of this model's time at 10M queries. -#}
{%- set touched_interactions = 'select interaction_id from ' ~ ref('int_interactions')
                               ~ ' where ' ~ aimetrics.in_touched_dates('requested_date') %}
with interactions as (
    select * from {{ ref('int_interactions') }}
    where {{ aimetrics.in_touched_dates('requested_date') }}
),

verdicts as (
    select
        interaction_id,
        max(case when dimension = 'hallucination' then final_verdict end) as hallucination_verdict,
        max(case when dimension = 'hallucination' then decided_by_tier end) as hallucination_decided_by_tier,
        max(case when dimension = 'correctness' then final_verdict end) as correctness_verdict,
        count(*) as reviewed_dimensions
    from {{ ref('int_review_verdicts') }}
    {%- if aimetrics.incremental_run() %}
    where interaction_id in (select interaction_id from ({{ touched_interactions }}) as touched)
    {%- endif %}
    group by interaction_id
),

reactions as (
    select
        concerned_interaction_id as interaction_id,
        min(case when role in ('output_accepted', 'output_verified') then occurred_at end)
            as first_accepted_or_verified_at,
        count(case when role = 'output_accepted' then 1 end) as accepted_events,
        count(case when role = 'output_verified' then 1 end) as verified_events,
        count(case when role = 'output_rejected' then 1 end) as rejected_events,
        count(case when role = 'output_edited' then 1 end) as edit_events,
        count(case when is_substantive_edit then 1 end) as substantive_edit_events,
        count(case when is_intervention then 1 end) as interventions,
        count(case when is_corrective then 1 end) as corrective_events
    from {{ ref('int_events') }} as events
    where events.concerned_interaction_id is not null
    {%- if aimetrics.incremental_run() %}
        -- the events concerning the queries of the touched dates
        and events.concerned_interaction_id in (select interaction_id from ({{ touched_interactions }}) as touched)
    {%- endif %}
    group by concerned_interaction_id
),

accepted as (
    select
        interactions.interaction_id,
        interactions.task_id,
        reactions.first_accepted_or_verified_at as window_start,
        {{ dbt.dateadd('minute', var('behavioral_window_minutes'), 'reactions.first_accepted_or_verified_at') }}
            as window_end
    from {{ ref('int_interactions') }} as interactions
    inner join reactions
        on interactions.interaction_id = reactions.interaction_id
    where interactions.is_output
        and reactions.first_accepted_or_verified_at is not null
        and {{ aimetrics.in_touched_dates('interactions.requested_date') }}
),

correctives_in_window as (
    -- corrective events concerning the output or belonging to its task
    select accepted.interaction_id, events.event_id
    from accepted
    inner join {{ ref('int_events') }} as events
        on events.concerned_interaction_id = accepted.interaction_id
    where events.is_corrective
        and events.occurred_at >= accepted.window_start
        and events.occurred_at <= accepted.window_end
    union
    select accepted.interaction_id, events.event_id
    from accepted
    inner join {{ ref('int_events') }} as events
        on events.task_id = accepted.task_id
    where events.is_corrective
        and events.occurred_at >= accepted.window_start
        and events.occurred_at <= accepted.window_end
),

corrective_counts as (
    select interaction_id, count(*) as corrective_events_in_window
    from correctives_in_window
    group by interaction_id
)

select
    interactions.interaction_id,
    interactions.task_id,
    interactions.user_id,
    interactions.session_id,
    interactions.feature,
    interactions.model,
    interactions.model_version,
    interactions.requested_at,
    interactions.responded_at,
    interactions.requested_date,
    interactions.status,
    interactions.is_output,
    interactions.attempt,
    interactions.input_tokens,
    interactions.output_tokens,
    interactions.reported_cost_usd,
    interactions.cost_usd,
    interactions.cost_source,
    interactions.latency_ms,
    interactions.confidence,
    interactions.experiment_id,
    interactions.variant,
    verdicts.hallucination_verdict,
    verdicts.hallucination_decided_by_tier,
    verdicts.correctness_verdict,
    coalesce(verdicts.hallucination_verdict = 'fail', false) as is_hallucinated,
    interactions.is_output and verdicts.hallucination_verdict is not null as has_hallucination_verdict,
    coalesce(reactions.accepted_events, 0) as accepted_events,
    coalesce(reactions.verified_events, 0) as verified_events,
    coalesce(reactions.rejected_events, 0) as rejected_events,
    coalesce(reactions.edit_events, 0) as edit_events,
    coalesce(reactions.substantive_edit_events, 0) as substantive_edit_events,
    coalesce(reactions.interventions, 0) as interventions,
    coalesce(reactions.corrective_events, 0) as corrective_events,
    interactions.is_output and coalesce(reactions.accepted_events, 0) > 0 as is_accepted,
    reactions.first_accepted_or_verified_at,
    coalesce(corrective_counts.corrective_events_in_window, 0) as corrective_events_in_window,
    (interactions.is_output
        and coalesce(verdicts.hallucination_verdict, 'pass') <> 'fail'
        and reactions.first_accepted_or_verified_at is not null
        and corrective_counts.interaction_id is null) as is_valid_output
from interactions
left join verdicts
    on interactions.interaction_id = verdicts.interaction_id
left join reactions
    on interactions.interaction_id = reactions.interaction_id
left join corrective_counts
    on interactions.interaction_id = corrective_counts.interaction_id
