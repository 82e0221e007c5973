{{ config(**aimetrics.incremental_by_date('metric_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- One row per metric_date x feature x model with any query, task, event,
-- review or allocated cost. Query-level columns belong to the query's
-- requested_at date; task-level columns (tasks*, tcr, tta*) to the task's
-- start date; events and reviews to the date, feature and model of the query
-- they concern. Every rate sits beside its numerator and denominator.
with query_metrics as (
    select
        requested_date as metric_date,
        feature,
        model,
        count(*) as queries,
        count(case when is_output then 1 end) as outputs,
        count(case when has_hallucination_verdict then 1 end) as reviewed_outputs,
        count(case when has_hallucination_verdict and is_hallucinated then 1 end) as hallucinated_outputs,
        count(case when is_valid_output then 1 end) as valid_outputs,
        count(case when is_accepted then 1 end) as accepted_outputs,
        sum(cost_usd) as query_cost_usd,
        {{ aimetrics.percentile_cont('latency_ms', 0.5) }} as latency_p50_ms,
        {{ aimetrics.percentile_cont('latency_ms', 0.95) }} as latency_p95_ms,
        {{ aimetrics.percentile_cont('latency_ms', 0.99) }} as latency_p99_ms,
        count(case when status in ('error', 'timeout') then 1 end) as error_queries,
        count(case when status in ('refused', 'filtered') then 1 end) as refused_queries
    from {{ ref('fct_interactions') }}
    where {{ aimetrics.in_touched_dates('requested_date') }}
    group by requested_date, feature, model
),

event_metrics as (
    select
        attributed_date as metric_date,
        attributed_feature as feature,
        attributed_model as model,
        count(case when is_intervention then 1 end) as interventions
    from {{ ref('int_events') }}
    where concerned_interaction_id is not null
        and {{ aimetrics.in_touched_dates('attributed_date') }}
    group by attributed_date, attributed_feature, attributed_model
),

task_metrics as (
    select
        task_date as metric_date,
        feature,
        model,
        count(*) as tasks,
        count(case when is_mature then 1 end) as tasks_mature,
        count(case when is_mature and is_completed_clean then 1 end) as tasks_completed,
        count(case when is_mature and tta_s is not null then 1 end) as tta_tasks,
        {{ aimetrics.percentile_cont('case when is_mature then tta_s end', 0.5) }} as tta_p50_s,
        {{ aimetrics.percentile_cont('case when is_mature then tta_s end', 0.9) }} as tta_p90_s
    from {{ ref('fct_tasks') }}
    where {{ aimetrics.in_touched_dates('task_date') }}
    group by task_date, feature, model
),

infra as (
    select cost_date as metric_date, feature, model, infra_cost_usd
    from {{ ref('int_infra_costs_allocated') }}
    where {{ aimetrics.in_touched_dates('cost_date') }}
),

cells as (
    select metric_date, feature, model from query_metrics
    union
    select metric_date, feature, model from task_metrics
    union
    select metric_date, feature, model from event_metrics
    union
    select metric_date, feature, model from infra
),

joined as (
    select
        cells.metric_date,
        cells.feature,
        cells.model,
        coalesce(query_metrics.queries, 0) as queries,
        coalesce(query_metrics.outputs, 0) as outputs,
        coalesce(task_metrics.tasks, 0) as tasks,
        coalesce(task_metrics.tasks_mature, 0) as tasks_mature,
        coalesce(task_metrics.tasks_completed, 0) as tasks_completed,
        coalesce(query_metrics.reviewed_outputs, 0) as reviewed_outputs,
        coalesce(query_metrics.hallucinated_outputs, 0) as hallucinated_outputs,
        coalesce(task_metrics.tta_tasks, 0) as tta_tasks,
        task_metrics.tta_p50_s,
        task_metrics.tta_p90_s,
        coalesce(event_metrics.interventions, 0) as interventions,
        coalesce(query_metrics.query_cost_usd, 0) + coalesce(infra.infra_cost_usd, 0) as total_cost_usd,
        coalesce(query_metrics.valid_outputs, 0) as valid_outputs,
        coalesce(query_metrics.accepted_outputs, 0) as accepted_outputs,
        query_metrics.latency_p50_ms,
        query_metrics.latency_p95_ms,
        query_metrics.latency_p99_ms,
        coalesce(query_metrics.error_queries, 0) as error_queries,
        coalesce(query_metrics.refused_queries, 0) as refused_queries
    from cells
    left join query_metrics
        on cells.metric_date = query_metrics.metric_date
        and cells.feature = query_metrics.feature
        and cells.model = query_metrics.model
    left join task_metrics
        on cells.metric_date = task_metrics.metric_date
        and cells.feature = task_metrics.feature
        and cells.model = task_metrics.model
    left join event_metrics
        on cells.metric_date = event_metrics.metric_date
        and cells.feature = event_metrics.feature
        and cells.model = event_metrics.model
    left join infra
        on cells.metric_date = infra.metric_date
        and cells.feature = infra.feature
        and cells.model = infra.model
)

select
    metric_date,
    feature,
    model,
    queries,
    outputs,
    tasks,
    tasks_mature,
    tasks_completed,
    {{ aimetrics.task_completion_rate('tasks_completed', 'tasks_mature') }} as tcr,
    reviewed_outputs,
    hallucinated_outputs,
    {{ aimetrics.hallucination_rate('hallucinated_outputs', 'reviewed_outputs') }} as hallucination_rate,
    {{ aimetrics.wilson_low('hallucinated_outputs', 'reviewed_outputs') }} as hr_ci_low,
    {{ aimetrics.wilson_high('hallucinated_outputs', 'reviewed_outputs') }} as hr_ci_high,
    {{ aimetrics.safe_divide('reviewed_outputs', 'outputs') }} as review_coverage,
    tta_tasks,
    tta_p50_s,
    tta_p90_s,
    {{ aimetrics.safe_divide('tta_tasks', 'tasks_mature') }} as tta_coverage,
    interventions,
    {{ aimetrics.hitl_frequency('interventions', 'queries') }} as hitl_f,
    total_cost_usd,
    valid_outputs,
    {{ aimetrics.cost_per_valid_output('total_cost_usd', 'valid_outputs') }} as cpvo,
    accepted_outputs,
    {{ aimetrics.safe_divide('accepted_outputs', 'outputs') }} as acceptance_rate,
    latency_p50_ms,
    latency_p95_ms,
    latency_p99_ms,
    {{ aimetrics.safe_divide('error_queries', 'queries') }} as error_rate,
    {{ aimetrics.safe_divide('refused_queries', 'queries') }} as refusal_rate
from joined
