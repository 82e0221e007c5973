-- One row per week (ISO, Monday) x feature x model with each of the six
-- headline metrics, its numerator and denominator, its thresholds (from the
-- metric_thresholds seed) and a status: healthy, at_risk, critical, or
-- insufficient_data when the denominator is below var('min_sample').
-- TTA is a median: its numerator is null and its denominator is the number of
-- mature tasks with a TTA. RΔ has no model: each model row of a feature
-- carries the feature's RΔ of that cohort week; its numerator is null and its
-- denominator the smaller of the two groups.
-- Verdicts of the metric catalogue ride along: the week's ECE and its status
-- (calibration_weekly), a drift alert of any model_version of the cell
-- (drift_weekly), a failed release gate of any model_version the cell served
-- that week (eval_release_gate), the feature's rubber-stamping flag and
-- segment guardrail (guardrails_weekly), and the week's flagged telemetry days.
{%- set metrics = [
    {'name': 'tcr', 'value': aimetrics.task_completion_rate('daily.tasks_completed', 'daily.tasks_mature'),
     'numerator': 'daily.tasks_completed', 'denominator': 'daily.tasks_mature'},
    {'name': 'hallucination_rate', 'value': aimetrics.hallucination_rate('daily.hallucinated_outputs', 'daily.reviewed_outputs'),
     'numerator': 'daily.hallucinated_outputs', 'denominator': 'daily.reviewed_outputs'},
    {'name': 'tta_p50_s', 'value': 'tta.tta_p50_s',
     'numerator': 'cast(null as ' ~ aimetrics.type_double() ~ ')', 'denominator': 'coalesce(tta.tta_tasks, 0)'},
    {'name': 'hitl_f', 'value': aimetrics.hitl_frequency('daily.interventions', 'daily.queries'),
     'numerator': 'daily.interventions', 'denominator': 'daily.queries'},
    {'name': 'retention_delta_pts', 'value': 'retention.retention_delta_pts',
     'numerator': 'cast(null as ' ~ aimetrics.type_double() ~ ')',
     'denominator': 'coalesce(case when retention.ai_users < retention.non_ai_users then retention.ai_users else retention.non_ai_users end, 0)'},
    {'name': 'cpvo', 'value': aimetrics.cost_per_valid_output('daily.total_cost_usd', 'daily.valid_outputs'),
     'numerator': 'daily.total_cost_usd', 'denominator': 'daily.valid_outputs'},
] %}

with daily as (
    select
        {{ aimetrics.week_start('metric_date') }} as week,
        feature,
        model,
        cast(sum(queries) as {{ dbt.type_bigint() }}) as queries,
        cast(sum(tasks_mature) as {{ dbt.type_bigint() }}) as tasks_mature,
        cast(sum(tasks_completed) as {{ dbt.type_bigint() }}) as tasks_completed,
        cast(sum(reviewed_outputs) as {{ dbt.type_bigint() }}) as reviewed_outputs,
        cast(sum(hallucinated_outputs) as {{ dbt.type_bigint() }}) as hallucinated_outputs,
        cast(sum(interventions) as {{ dbt.type_bigint() }}) as interventions,
        sum(total_cost_usd) as total_cost_usd,
        cast(sum(valid_outputs) as {{ dbt.type_bigint() }}) as valid_outputs
    from {{ ref('metrics_daily') }}
    group by {{ aimetrics.week_start('metric_date') }}, feature, model
),

tta as (
    select
        {{ aimetrics.week_start('task_date') }} as week,
        feature,
        model,
        count(tta_s) as tta_tasks,
        {{ aimetrics.percentile_cont('tta_s', 0.5) }} as tta_p50_s
    from {{ ref('fct_tasks') }}
    where is_mature
    group by {{ aimetrics.week_start('task_date') }}, feature, model
),

retention as (
    select cohort_week as week, feature, retention_delta_pts, ai_users, non_ai_users
    from {{ ref('retention_weekly') }}
),

thresholds as (
    select
        {%- for m in metrics %}
        max(case when metric = '{{ m.name }}' then direction end) as {{ m.name }}_direction,
        max(case when metric = '{{ m.name }}' then healthy end) as {{ m.name }}_healthy,
        max(case when metric = '{{ m.name }}' then critical end) as {{ m.name }}_critical{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_seeds__metric_thresholds') }}
),

calibration as (
    select week, feature, model, ece, ece_status
    from {{ ref('calibration_weekly') }}
),

drift as (
    select week, feature, model, max(case when alert then 1 else 0 end) = 1 as drift_alert
    from {{ ref('drift_weekly') }}
    group by week, feature, model
),

served_versions as (
    select distinct {{ aimetrics.week_start('requested_date') }} as week, feature, model, model_version
    from {{ ref('fct_interactions') }}
    where model_version is not null
),

gates as (
    select
        served_versions.week,
        served_versions.feature,
        served_versions.model,
        max(case when gate.gate_status = 'fail' then 1 else 0 end) = 1 as release_gate_failed
    from served_versions
    inner join {{ ref('eval_release_gate') }} as gate
        on served_versions.model_version = gate.model_version
    group by served_versions.week, served_versions.feature, served_versions.model
),

guardrails as (
    select week, feature, rubber_stamping_flag, segment_guardrail_breached
    from {{ ref('guardrails_weekly') }}
),

telemetry as (
    select
        {{ aimetrics.week_start('metric_date') }} as week,
        sum(case when is_flagged then 1 else 0 end) as flagged_days
    from {{ ref('telemetry_health_daily') }}
    group by {{ aimetrics.week_start('metric_date') }}
),

measured as (
    select
        daily.week,
        daily.feature,
        daily.model,
        {%- for m in metrics %}
        {{ m.value }} as {{ m.name }},
        {{ m.numerator }} as {{ m.name }}_numerator,
        {{ m.denominator }} as {{ m.name }}_denominator{{ ',' if not loop.last }}
        {%- endfor %}
    from daily
    left join tta
        on daily.week = tta.week and daily.feature = tta.feature and daily.model = tta.model
    left join retention
        on daily.week = retention.week and daily.feature = retention.feature
)

select
    measured.week,
    measured.feature,
    measured.model,
    {%- for m in metrics %}
    measured.{{ m.name }},
    measured.{{ m.name }}_numerator,
    measured.{{ m.name }}_denominator,
    thresholds.{{ m.name }}_healthy,
    thresholds.{{ m.name }}_critical,
    {{ aimetrics.metric_status('measured.' ~ m.name, 'thresholds.' ~ m.name ~ '_direction',
        'thresholds.' ~ m.name ~ '_healthy', 'thresholds.' ~ m.name ~ '_critical',
        'measured.' ~ m.name ~ '_denominator') }} as {{ m.name }}_status,
    {%- endfor %}
    calibration.ece,
    coalesce(calibration.ece_status, 'insufficient_data') as ece_status,
    coalesce(drift.drift_alert, false) as drift_alert,
    coalesce(gates.release_gate_failed, false) as release_gate_failed,
    coalesce(guardrails.rubber_stamping_flag, false) as rubber_stamping_flag,
    coalesce(guardrails.segment_guardrail_breached, false) as segment_guardrail_breached,
    cast(coalesce(telemetry.flagged_days, 0) as {{ dbt.type_bigint() }}) as telemetry_flagged_days
from measured
cross join thresholds
left join calibration
    on measured.week = calibration.week and measured.feature = calibration.feature and measured.model = calibration.model
left join drift
    on measured.week = drift.week and measured.feature = drift.feature and measured.model = drift.model
left join gates
    on measured.week = gates.week and measured.feature = gates.feature and measured.model = gates.model
left join guardrails
    on measured.week = guardrails.week and measured.feature = guardrails.feature
left join telemetry
    on measured.week = telemetry.week
