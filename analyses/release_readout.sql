-- Release readout for one model_version, for the weekly product review:
-- release gate, drift and calibration side by side, one row per ISO week x
-- feature x model the version served (from drift_weekly).
-- The version: var('release_model_version'); by default the one whose latest
-- eval gate ran last (the newest release). Columns:
--   gate_*      the version's release gate on its suites (worst status over them)
--   tcr / hr    weekly TCR and HR of the version, their decay slopes, weeks to
--               breach and drift alert
--   ece ...     calibration of the cell that week (all versions of the model
--               in that feature: calibration is kept per feature and model)
-- Compile with `dbt compile -s release_readout` and run the compiled SQL.
{%- set version = var('release_model_version', none) %}
with chosen as (
    {%- if version is not none %}
    select cast('{{ version }}' as {{ dbt.type_string() }}) as model_version
    {%- else %}
    select model_version
    from (
        select model_version, row_number() over (order by max(first_run_at) desc, model_version desc) as recency
        from {{ ref('eval_release_gate') }}
        group by model_version
    ) as ranked
    where recency = 1
    {%- endif %}
),

gate as (
    select
        gates.model_version,
        count(*) as gate_suites,
        case
            when max(case when gates.gate_status = 'fail' then 1 else 0 end) = 1 then 'fail'
            when max(case when gates.gate_status = 'pass' then 1 else 0 end) = 1 then 'pass'
            else 'no_baseline'
        end as gate_status,
        min(gates.pass_rate) as gate_pass_rate,
        min(gates.previous_pass_rate) as gate_previous_pass_rate,
        min(gates.diff_ci_low) as gate_diff_ci_low,
        min(gates.tolerance) as gate_tolerance
    from {{ ref('eval_release_gate') }} as gates
    inner join chosen
        on gates.model_version = chosen.model_version
    group by gates.model_version
)

select
    drift.model_version,
    drift.week,
    drift.feature,
    drift.model,
    gate.gate_suites,
    gate.gate_status,
    gate.gate_pass_rate,
    gate.gate_previous_pass_rate,
    gate.gate_diff_ci_low,
    gate.gate_tolerance,
    drift.tcr,
    drift.tcr_slope_per_week,
    drift.tcr_weeks_to_breach,
    drift.hallucination_rate,
    drift.hr_slope_per_week,
    drift.hr_weeks_to_breach,
    drift.alert as drift_alert,
    calibration.ece,
    calibration.ece_status,
    calibration.confidence_gap,
    calibration.high_confidence_error_rate
from {{ ref('drift_weekly') }} as drift
inner join chosen
    on drift.model_version = chosen.model_version
left join gate
    on drift.model_version = gate.model_version
left join {{ ref('calibration_weekly') }} as calibration
    on drift.week = calibration.week
    and drift.feature = calibration.feature
    and drift.model = calibration.model
order by drift.week, drift.feature, drift.model
