-- One row per ISO week x feature x model with at least one calibrated output
-- (an output with a confidence and an adjudicated verdict; correct = final
-- `correctness` verdict when present, else not adjudicated hallucinated):
-- ECE over var('calibration_bins') equal-width bins (from
-- calibration_reliability), the high-confidence error rate (wrong outputs /
-- calibrated outputs with confidence >= var('high_confidence_threshold'),
-- 0.9), the confidence gap (mean confidence - accuracy) and the ECE status
-- against the `ece` row of metric_thresholds.
with bins as (
    select
        week,
        feature,
        model,
        sum(outputs) as calibrated_outputs,
        sum(correct_outputs) as correct_outputs,
        sum(confidence_sum) as confidence_sum,
        {{ aimetrics.expected_calibration_error('correct_outputs', 'confidence_sum', 'outputs') }} as ece
    from {{ ref('calibration_reliability') }}
    group by week, feature, model
),

high_confidence as (
    select
        {{ aimetrics.week_start('requested_date') }} as week,
        feature,
        model,
        sum(case when {{ aimetrics.is_correct('correctness_verdict', 'hallucination_verdict') }} is not null
            then 1 else 0 end) as high_confidence_outputs,
        sum(case when not {{ aimetrics.is_correct('correctness_verdict', 'hallucination_verdict') }}
            then 1 else 0 end) as high_confidence_errors
    from {{ ref('fct_interactions') }}
    where is_output
        and confidence >= cast({{ var('high_confidence_threshold') }} as {{ aimetrics.type_double() }})
    group by {{ aimetrics.week_start('requested_date') }}, feature, model
),

thresholds as (
    select direction, healthy, critical
    from {{ ref('stg_seeds__metric_thresholds') }}
    where metric = 'ece'
)

select
    bins.week,
    bins.feature,
    bins.model,
    cast(bins.calibrated_outputs as {{ dbt.type_bigint() }}) as calibrated_outputs,
    cast(bins.correct_outputs as {{ dbt.type_bigint() }}) as correct_outputs,
    cast({{ aimetrics.safe_divide('bins.confidence_sum', 'bins.calibrated_outputs') }} as {{ aimetrics.type_double() }})
        as mean_confidence,
    cast({{ aimetrics.safe_divide('bins.correct_outputs', 'bins.calibrated_outputs') }} as {{ aimetrics.type_double() }})
        as accuracy,
    cast({{ aimetrics.confidence_gap('bins.confidence_sum', 'bins.correct_outputs', 'bins.calibrated_outputs') }}
        as {{ aimetrics.type_double() }}) as confidence_gap,
    cast(bins.ece as {{ aimetrics.type_double() }}) as ece,
    thresholds.healthy as ece_healthy,
    thresholds.critical as ece_critical,
    {{ aimetrics.metric_status('bins.ece', 'thresholds.direction', 'thresholds.healthy', 'thresholds.critical',
        'bins.calibrated_outputs') }} as ece_status,
    cast(coalesce(high_confidence.high_confidence_outputs, 0) as {{ dbt.type_bigint() }}) as high_confidence_outputs,
    cast(coalesce(high_confidence.high_confidence_errors, 0) as {{ dbt.type_bigint() }}) as high_confidence_errors,
    cast({{ aimetrics.safe_divide('high_confidence.high_confidence_errors', 'high_confidence.high_confidence_outputs') }}
        as {{ aimetrics.type_double() }}) as high_confidence_error_rate
from bins
left join high_confidence
    on bins.week = high_confidence.week
    and bins.feature = high_confidence.feature
    and bins.model = high_confidence.model
left join thresholds
    on 1 = 1
