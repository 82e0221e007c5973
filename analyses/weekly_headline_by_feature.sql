-- Weekly headline metrics per feature, re-aggregated from metrics_daily's
-- numerators and denominators (never by averaging daily rates). Compile with
-- `dbt compile -s weekly_headline_by_feature` and run the SQL in target/compiled.
select
    {{ aimetrics.week_start('metric_date') }} as week,
    feature,
    sum(queries) as queries,
    {{ aimetrics.task_completion_rate('sum(tasks_completed)', 'sum(tasks_mature)') }} as tcr,
    {{ aimetrics.hallucination_rate('sum(hallucinated_outputs)', 'sum(reviewed_outputs)') }} as hallucination_rate,
    {{ aimetrics.hitl_frequency('sum(interventions)', 'sum(queries)') }} as hitl_f,
    {{ aimetrics.cost_per_valid_output('sum(total_cost_usd)', 'sum(valid_outputs)') }} as cpvo
from {{ ref('metrics_daily') }}
group by {{ aimetrics.week_start('metric_date') }}, feature
order by week, feature
