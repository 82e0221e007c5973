-- KPI bridge for the weekly product review: from task completion to money.
-- Per ISO week and feature (re-aggregated from metrics_daily's numerators and
-- denominators, never by averaging daily rates):
--   TCR = tasks completed with no human intervention / mature tasks
--   -> human interventions avoided = those cleanly completed tasks (each would
--      otherwise have needed a person), and the interventions that still
--      happened, per 100 queries (HitL-F)
--   -> support cost avoided = interventions avoided * var('cost_per_human_intervention_usd')
--      (default 4.00 USD: a few minutes of an agent's time; set your own)
--   -> net = support cost avoided - what the AI cost (queries + infra).
-- Compile with `dbt compile -s kpi_bridge` and run target/compiled/.../kpi_bridge.sql.
{%- set cost_per_intervention = var('cost_per_human_intervention_usd', 4.00) %}
with weekly as (
    select
        {{ aimetrics.week_start('metric_date') }} as week,
        feature,
        sum(tasks_mature) as tasks_mature,
        sum(tasks_completed) as tasks_completed,
        sum(interventions) as interventions,
        sum(queries) as queries,
        sum(total_cost_usd) as ai_cost_usd
    from {{ ref('metrics_daily') }}
    group by {{ aimetrics.week_start('metric_date') }}, feature
)

select
    week,
    feature,
    tasks_mature,
    tasks_completed,
    {{ aimetrics.task_completion_rate('tasks_completed', 'tasks_mature') }} as tcr,
    tasks_completed as human_interventions_avoided,
    interventions as human_interventions,
    {{ aimetrics.hitl_frequency('interventions', 'queries') }} as hitl_f,
    cast({{ cost_per_intervention }} as {{ aimetrics.type_double() }}) as cost_per_human_intervention_usd,
    tasks_completed * cast({{ cost_per_intervention }} as {{ aimetrics.type_double() }}) as support_cost_avoided_usd,
    ai_cost_usd,
    tasks_completed * cast({{ cost_per_intervention }} as {{ aimetrics.type_double() }}) - ai_cost_usd as net_savings_usd
from weekly
order by week, feature
