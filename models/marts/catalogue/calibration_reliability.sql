-- Reliability diagram: one row per ISO week x feature x model x confidence
-- bin with at least one calibrated output. Calibrated outputs: outputs with a
-- confidence and an adjudicated verdict; correct = the final `correctness`
-- verdict when present, else not adjudicated hallucinated. Bins:
-- var('calibration_bins') (10) equal-width bins of [0, 1], a confidence c in
-- bin least(floor(c * bins), bins - 1) (1.0 in the last bin). The week is
-- the output's (its requested_at date). Sums are kept so any grain
-- re-aggregates (ECE = sum over bins of |correct - confidence_sum| / outputs,
-- after summing each bin over the grain).
{%- set bins = var('calibration_bins') %}

with calibrated as (
    select
        {{ aimetrics.week_start('requested_date') }} as week,
        feature,
        model,
        confidence,
        {{ aimetrics.is_correct('correctness_verdict', 'hallucination_verdict') }} as is_correct
    from {{ ref('fct_interactions') }}
    where is_output
        and confidence is not null
),

binned as (
    select
        week,
        feature,
        model,
        {{ aimetrics.calibration_bin('confidence', bins) }} as bin,
        count(*) as outputs,
        sum(case when is_correct then 1 else 0 end) as correct_outputs,
        sum(confidence) as confidence_sum
    from calibrated
    where is_correct is not null
    group by week, feature, model, {{ aimetrics.calibration_bin('confidence', bins) }}
)

select
    week,
    feature,
    model,
    cast(bin as {{ dbt.type_int() }}) as bin,
    cast({{ bins }} as {{ dbt.type_int() }}) as bins,
    cast(bin as {{ aimetrics.type_double() }}) / {{ bins }} as bin_lower,
    cast(bin + 1 as {{ aimetrics.type_double() }}) / {{ bins }} as bin_upper,
    cast(outputs as {{ dbt.type_bigint() }}) as outputs,
    cast(correct_outputs as {{ dbt.type_bigint() }}) as correct_outputs,
    cast(confidence_sum as {{ aimetrics.type_double() }}) as confidence_sum,
    cast({{ aimetrics.safe_divide('confidence_sum', 'outputs') }} as {{ aimetrics.type_double() }}) as mean_confidence,
    cast({{ aimetrics.safe_divide('correct_outputs', 'outputs') }} as {{ aimetrics.type_double() }}) as accuracy
from binned
