{{ config(**aimetrics.incremental_by_date('metric_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- Supporting operational metrics: one row per metric_date x feature x model
-- with a query or a task (same cells and date rules as metrics_daily:
-- query-level columns on the query's date, event-based ones on the date of
-- the query they concern, task-level ones on the task's start date).
-- Latency: response time of outputs with a responded_at, in ms; quantiles
-- interpolate linearly, the standard deviation is the sample one (n - 1).
-- Costs here are query costs only (metrics_daily adds allocated infra cost).
{%- set quantiles = [25, 50, 75, 90, 95, 99] %}
{%- set d = aimetrics.type_double() %}

with queries as (
    select
        requested_date as metric_date,
        feature,
        model,
        count(*) as queries,
        sum(case when is_output then 1 else 0 end) as outputs,
        sum(case when status in ('error', 'timeout') then 1 else 0 end) as error_queries,
        sum(case when status in ('refused', 'filtered') then 1 else 0 end) as refused_queries,
        count(latency_ms) as latency_outputs,
        avg(latency_ms) as latency_mean_ms,
        stddev_samp(latency_ms) as latency_stddev_ms,
        min(latency_ms) as latency_min_ms,
        {%- for q in quantiles %}
        {{ aimetrics.percentile_cont('latency_ms', q / 100) }} as latency_p{{ q }}_ms,
        {%- endfor %}
        max(latency_ms) as latency_max_ms,
        sum(coalesce(input_tokens, 0)) as input_tokens,
        sum(coalesce(output_tokens, 0)) as output_tokens,
        sum(cost_usd) as query_cost_usd,
        sum(case when is_output and substantive_edit_events > 0 then 1 else 0 end) as substantively_edited_outputs,
        sum(case when is_output and edit_events > 0 then 1 else 0 end) as edited_outputs
    from {{ ref('fct_interactions') }}
    where {{ aimetrics.in_touched_dates('requested_date') }}
    group by requested_date, feature, model
),

edit_ratios as (
    -- per edited output, its largest edit ratio among edits of known size
    select
        concerned_interaction_id,
        attributed_date,
        attributed_feature,
        attributed_model,
        max(cast(edit_distance as {{ d }}) / output_chars) as edit_ratio
    from {{ ref('int_events') }}
    where role = 'output_edited'
        and concerns_output
        and edit_distance is not null
        and output_chars > 0
        and {{ aimetrics.in_touched_dates('attributed_date') }}
    group by concerned_interaction_id, attributed_date, attributed_feature, attributed_model
),

events as (
    select
        attributed_date as metric_date,
        attributed_feature as feature,
        attributed_model as model,
        sum(case when role = 'regenerated' then 1 else 0 end) as regenerations,
        sum(case when role = 'reprompted' then 1 else 0 end) as reprompts
    from {{ ref('int_events') }}
    where concerned_interaction_id is not null
        and {{ aimetrics.in_touched_dates('attributed_date') }}
    group by attributed_date, attributed_feature, attributed_model
),

edits as (
    select
        attributed_date as metric_date,
        attributed_feature as feature,
        attributed_model as model,
        count(*) as edit_ratio_outputs,
        avg(edit_ratio) as mean_edit_ratio
    from edit_ratios
    group by attributed_date, attributed_feature, attributed_model
),

scoped_tasks as (
    select * from {{ ref('fct_tasks') }}
    where {{ aimetrics.in_touched_dates('task_date') }}
),

task_costs as (
    select task_id, sum(cost_usd) as cost_usd
    from {{ ref('fct_interactions') }}
    {%- if aimetrics.incremental_run() %}
    where task_id in (select task_id from scoped_tasks)
    {%- endif %}
    group by task_id
),

tasks as (
    select
        tasks.task_date as metric_date,
        tasks.feature,
        tasks.model,
        count(*) as tasks,
        sum(case when tasks.is_mature then 1 else 0 end) as tasks_mature,
        sum(case when tasks.is_mature and abandoned.task_id is not null then 1 else 0 end) as abandoned_tasks,
        sum(coalesce(task_costs.cost_usd, 0)) as task_cost_usd
    from scoped_tasks as tasks
    left join task_costs
        on tasks.task_id = task_costs.task_id
    left join (
        select distinct task_id from {{ ref('int_events') }} where role = 'task_abandoned' and task_id is not null
    ) as abandoned
        on tasks.task_id = abandoned.task_id
    group by tasks.task_date, tasks.feature, tasks.model
),

cells as (
    select metric_date, feature, model from queries
    union
    select metric_date, feature, model from tasks
)

select
    cells.metric_date,
    cells.feature,
    cells.model,
    cast(coalesce(queries.queries, 0) as {{ dbt.type_bigint() }}) as queries,
    cast(coalesce(queries.outputs, 0) as {{ dbt.type_bigint() }}) as outputs,
    cast(coalesce(queries.error_queries, 0) as {{ dbt.type_bigint() }}) as error_queries,
    cast({{ aimetrics.safe_divide('queries.error_queries', 'queries.queries') }} as {{ d }}) as error_rate,
    cast(coalesce(queries.refused_queries, 0) as {{ dbt.type_bigint() }}) as refused_queries,
    cast({{ aimetrics.safe_divide('queries.refused_queries', 'queries.queries') }} as {{ d }}) as refusal_rate,
    cast(coalesce(queries.latency_outputs, 0) as {{ dbt.type_bigint() }}) as latency_outputs,
    cast(queries.latency_mean_ms as {{ d }}) as latency_mean_ms,
    cast(queries.latency_stddev_ms as {{ d }}) as latency_stddev_ms,
    cast(queries.latency_min_ms as {{ d }}) as latency_min_ms,
    {%- for q in quantiles %}
    cast(queries.latency_p{{ q }}_ms as {{ d }}) as latency_p{{ q }}_ms,
    {%- endfor %}
    cast(queries.latency_max_ms as {{ d }}) as latency_max_ms,
    cast(coalesce(queries.input_tokens, 0) as {{ dbt.type_bigint() }}) as input_tokens,
    cast(coalesce(queries.output_tokens, 0) as {{ dbt.type_bigint() }}) as output_tokens,
    cast({{ aimetrics.safe_divide('queries.input_tokens + queries.output_tokens', 'queries.queries') }} as {{ d }})
        as tokens_per_query,
    cast(coalesce(queries.query_cost_usd, 0) as {{ d }}) as query_cost_usd,
    cast({{ aimetrics.safe_divide('queries.query_cost_usd', 'queries.queries') }} as {{ d }}) as cost_per_query,
    cast(coalesce(events.regenerations, 0) as {{ dbt.type_bigint() }}) as regenerations,
    cast({{ aimetrics.safe_divide('events.regenerations', 'queries.queries') }} as {{ d }}) as regeneration_rate,
    cast(coalesce(events.reprompts, 0) as {{ dbt.type_bigint() }}) as reprompts,
    cast({{ aimetrics.safe_divide('events.reprompts', 'queries.queries') }} as {{ d }}) as reprompt_rate,
    cast(coalesce(queries.edited_outputs, 0) as {{ dbt.type_bigint() }}) as edited_outputs,
    cast(coalesce(queries.substantively_edited_outputs, 0) as {{ dbt.type_bigint() }}) as substantively_edited_outputs,
    cast({{ aimetrics.safe_divide('queries.substantively_edited_outputs', 'queries.outputs') }} as {{ d }})
        as substantive_edit_rate,
    cast(coalesce(edits.edit_ratio_outputs, 0) as {{ dbt.type_bigint() }}) as edit_ratio_outputs,
    cast(edits.mean_edit_ratio as {{ d }}) as mean_edit_ratio,
    cast(coalesce(tasks.tasks, 0) as {{ dbt.type_bigint() }}) as tasks,
    cast(coalesce(tasks.tasks_mature, 0) as {{ dbt.type_bigint() }}) as tasks_mature,
    cast(coalesce(tasks.abandoned_tasks, 0) as {{ dbt.type_bigint() }}) as abandoned_tasks,
    cast({{ aimetrics.safe_divide('tasks.abandoned_tasks', 'tasks.tasks_mature') }} as {{ d }}) as abandonment_rate,
    cast(coalesce(tasks.task_cost_usd, 0) as {{ d }}) as task_cost_usd,
    cast({{ aimetrics.safe_divide('tasks.task_cost_usd', 'tasks.tasks') }} as {{ d }}) as cost_per_task
from cells
left join queries
    on cells.metric_date = queries.metric_date and cells.feature = queries.feature and cells.model = queries.model
left join events
    on cells.metric_date = events.metric_date and cells.feature = events.feature and cells.model = events.model
left join edits
    on cells.metric_date = edits.metric_date and cells.feature = edits.feature and cells.model = edits.model
left join tasks
    on cells.metric_date = tasks.metric_date and cells.feature = tasks.feature and cells.model = tasks.model
