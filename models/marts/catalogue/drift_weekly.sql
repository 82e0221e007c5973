-- One row per ISO week x feature x model x model_version with a task or an
-- output that week: weekly TCR (mature tasks by the week of their start) and
-- HR (outputs by the week of their requested_at), and for each the decay
-- velocity: the OLS slope per week of the weekly rate over the trailing
-- var('drift_window_weeks') (6) weeks ending this week, over the weeks whose
-- denominator is at least var('min_sample') (30), given at least
-- var('drift_min_weeks') (3) such weeks. The trend's value this week is the
-- fitted line at this week; weeks to breach = weeks until the trend crosses
-- the metric's critical bound (metric_thresholds; 0 when already beyond it,
-- null when it moves away); alert when that is below
-- var('retrain_cadence_weeks') (4).
{%- set window_weeks = var('drift_window_weeks') %}
{%- set min_weeks = var('drift_min_weeks') %}
{%- set metrics = [
    {'name': 'tcr', 'threshold': 'tcr', 'numerator': 'tasks_completed', 'denominator': 'tasks_mature'},
    {'name': 'hr', 'threshold': 'hallucination_rate', 'numerator': 'hallucinated_outputs', 'denominator': 'reviewed_outputs'},
] %}

with task_weeks as (
    select
        {{ aimetrics.week_start('task_date') }} as week,
        feature,
        model,
        model_version,
        count(*) as tasks,
        sum(case when is_mature then 1 else 0 end) as tasks_mature,
        sum(case when is_mature and is_completed_clean then 1 else 0 end) as tasks_completed
    from {{ ref('fct_tasks') }}
    group by {{ aimetrics.week_start('task_date') }}, feature, model, model_version
),

output_weeks as (
    select
        {{ aimetrics.week_start('requested_date') }} as week,
        feature,
        model,
        model_version,
        sum(case when is_output then 1 else 0 end) as outputs,
        sum(case when has_hallucination_verdict then 1 else 0 end) as reviewed_outputs,
        sum(case when has_hallucination_verdict and is_hallucinated then 1 else 0 end) as hallucinated_outputs
    from {{ ref('fct_interactions') }}
    group by {{ aimetrics.week_start('requested_date') }}, feature, model, model_version
),

cells as (
    select week, feature, model, model_version from task_weeks
    union
    select week, feature, model, model_version from output_weeks
),

weekly as (
    select
        cells.week,
        cells.feature,
        cells.model,
        cells.model_version,
        coalesce(task_weeks.tasks_mature, 0) as tasks_mature,
        coalesce(task_weeks.tasks_completed, 0) as tasks_completed,
        coalesce(output_weeks.reviewed_outputs, 0) as reviewed_outputs,
        coalesce(output_weeks.hallucinated_outputs, 0) as hallucinated_outputs
    from cells
    left join task_weeks
        on cells.week = task_weeks.week
        and cells.feature = task_weeks.feature
        and cells.model = task_weeks.model
        and coalesce(cells.model_version, '') = coalesce(task_weeks.model_version, '')
        and (cells.model_version is null) = (task_weeks.model_version is null)
    left join output_weeks
        on cells.week = output_weeks.week
        and cells.feature = output_weeks.feature
        and cells.model = output_weeks.model
        and coalesce(cells.model_version, '') = coalesce(output_weeks.model_version, '')
        and (cells.model_version is null) = (output_weeks.model_version is null)
),

rates as (
    select
        weekly.*,
        {%- for m in metrics %}
        case when {{ m.denominator }} >= {{ var('min_sample') }}
            then {{ aimetrics.safe_divide(m.numerator, m.denominator) }} end as {{ m.name }}_fit_rate{{ ',' if not loop.last }}
        {%- endfor %}
    from weekly
),

windowed as (
    -- each week with the weeks of its trailing window; x = weeks relative to this week (-5 .. 0)
    select
        cur.week,
        cur.feature,
        cur.model,
        cur.model_version,
        cast({{ dbt.datediff('cur.week', 'prev.week', 'day') }} as {{ aimetrics.type_double() }}) / 7 as x,
        {%- for m in metrics %}
        prev.{{ m.name }}_fit_rate{{ ',' if not loop.last }}
        {%- endfor %}
    from rates as cur
    inner join rates as prev
        on cur.feature = prev.feature
        and cur.model = prev.model
        and coalesce(cur.model_version, '') = coalesce(prev.model_version, '')
        and (cur.model_version is null) = (prev.model_version is null)
        and prev.week <= cur.week
        and prev.week > {{ aimetrics.add_days('cur.week', -7 * window_weeks) }}
),

trends as (
    select
        week,
        feature,
        model,
        model_version,
        {%- for m in metrics %}
        count({{ m.name }}_fit_rate) as {{ m.name }}_window_weeks,
        {{ aimetrics.ols_slope(m.name ~ '_fit_rate', 'x') }} as {{ m.name }}_raw_slope,
        avg({{ m.name }}_fit_rate) as {{ m.name }}_mean_rate,
        avg(case when {{ m.name }}_fit_rate is not null then x end) as {{ m.name }}_mean_x{{ ',' if not loop.last }}
        {%- endfor %}
    from windowed
    group by week, feature, model, model_version
),

thresholds as (
    select
        {%- for m in metrics %}
        max(case when metric = '{{ m.threshold }}' then direction end) as {{ m.name }}_direction,
        max(case when metric = '{{ m.threshold }}' then critical end) as {{ m.name }}_critical{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_seeds__metric_thresholds') }}
),

fitted as (
    select
        rates.*,
        {%- for m in metrics %}
        trends.{{ m.name }}_window_weeks,
        case when trends.{{ m.name }}_window_weeks >= {{ min_weeks }} then trends.{{ m.name }}_raw_slope end
            as {{ m.name }}_slope_per_week,
        case when trends.{{ m.name }}_window_weeks >= {{ min_weeks }}
            then trends.{{ m.name }}_mean_rate - trends.{{ m.name }}_raw_slope * trends.{{ m.name }}_mean_x end
            as {{ m.name }}_trend,
        thresholds.{{ m.name }}_direction,
        thresholds.{{ m.name }}_critical{{ ',' if not loop.last }}
        {%- endfor %}
    from rates
    inner join trends
        on rates.week = trends.week
        and rates.feature = trends.feature
        and rates.model = trends.model
        and coalesce(rates.model_version, '') = coalesce(trends.model_version, '')
        and (rates.model_version is null) = (trends.model_version is null)
    cross join thresholds
),

breach as (
    select
        fitted.*,
        {%- for m in metrics %}
        {{ aimetrics.weeks_to_breach(m.name ~ '_trend', m.name ~ '_slope_per_week', m.name ~ '_critical', m.name ~ '_direction') }}
            as {{ m.name }}_weeks_to_breach{{ ',' if not loop.last }}
        {%- endfor %}
    from fitted
)

select
    week,
    feature,
    model,
    model_version,
    cast(tasks_mature as {{ dbt.type_bigint() }}) as tasks_mature,
    cast(tasks_completed as {{ dbt.type_bigint() }}) as tasks_completed,
    cast({{ aimetrics.task_completion_rate('tasks_completed', 'tasks_mature') }} as {{ aimetrics.type_double() }}) as tcr,
    cast(reviewed_outputs as {{ dbt.type_bigint() }}) as reviewed_outputs,
    cast(hallucinated_outputs as {{ dbt.type_bigint() }}) as hallucinated_outputs,
    cast({{ aimetrics.hallucination_rate('hallucinated_outputs', 'reviewed_outputs') }} as {{ aimetrics.type_double() }})
        as hallucination_rate,
    {%- for m in metrics %}
    cast({{ m.name }}_window_weeks as {{ dbt.type_bigint() }}) as {{ m.name }}_window_weeks,
    cast({{ m.name }}_slope_per_week as {{ aimetrics.type_double() }}) as {{ m.name }}_slope_per_week,
    cast({{ m.name }}_trend as {{ aimetrics.type_double() }}) as {{ m.name }}_trend,
    cast({{ m.name }}_critical as {{ aimetrics.type_double() }}) as {{ m.name }}_critical,
    cast({{ m.name }}_weeks_to_breach as {{ aimetrics.type_double() }}) as {{ m.name }}_weeks_to_breach,
    {{ aimetrics.drift_alert(m.name ~ '_weeks_to_breach') }} as {{ m.name }}_alert,
    {%- endfor %}
    ({%- for m in metrics %}{{ aimetrics.drift_alert(m.name ~ '_weeks_to_breach') }}{{ ' or ' if not loop.last }}{%- endfor %}) as alert
from breach
