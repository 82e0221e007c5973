{#- Formulas of the metric catalogue (../shared/spec/metrics.md, "Supporting
    metrics"): one formula per macro, dispatched so a team can override it;
    every default__ is portable SQL, an engine variant exists only where the
    SQL truly differs. Arguments are SQL expressions unless documented
    otherwise (macros/_catalogue_macros.yml). -#}


{#- pass@k of one case: 1 - C(n - c, k) / C(n, k) (the unbiased estimator),
    1 when n - c < k. k is a Jinja integer: the ratio of binomial coefficients
    is the exact product prod_{i<k} (n - c - i) / (n - i), which has a zero
    factor (so pass@k is 1) exactly when n - c < k. Defined for n >= k. -#}
{% macro pass_at_k(n, c, k) -%}
    {{ return(adapter.dispatch('pass_at_k', 'aimetrics')(n, c, k)) }}
{%- endmacro %}
{% macro default__pass_at_k(n, c, k) -%}
    (case when {{ n }} - {{ c }} < {{ k }} then cast(1 as {{ aimetrics.type_double() }}) else 1 - (
        {%- for i in range(k | int) %}
        cast({{ n }} - {{ c }} - {{ i }} as {{ aimetrics.type_double() }}) / ({{ n }} - {{ i }}){{ ' *' if not loop.last }}
        {%- endfor %}
    ) end)
{%- endmacro %}


{#- pass^k of one case (all k samples pass): C(c, k) / C(n, k) =
    prod_{i<k} (c - i) / (n - i); 0 when c < k. Defined for n >= k. -#}
{% macro pass_hat_k(n, c, k) -%}
    {{ return(adapter.dispatch('pass_hat_k', 'aimetrics')(n, c, k)) }}
{%- endmacro %}
{% macro default__pass_hat_k(n, c, k) -%}
    (case when {{ c }} < {{ k }} then cast(0 as {{ aimetrics.type_double() }}) else (
        {%- for i in range(k | int) %}
        cast({{ c }} - {{ i }} as {{ aimetrics.type_double() }}) / ({{ n }} - {{ i }}){{ ' *' if not loop.last }}
        {%- endfor %}
    ) end)
{%- endmacro %}


{#- Release gate: passes when the lower bound of the 95% interval of
    (new pass rate - previous pass rate) is >= -var('release_gate_tolerance').
    Null when there is no interval (no previous version). -#}
{% macro release_gate_passed(diff_ci_low) -%}
    {{ return(adapter.dispatch('release_gate_passed', 'aimetrics')(diff_ci_low)) }}
{%- endmacro %}
{% macro default__release_gate_passed(diff_ci_low) -%}
    (case when {{ diff_ci_low }} is not null
        then {{ diff_ci_low }} >= -cast({{ var('release_gate_tolerance') }} as {{ aimetrics.type_double() }}) end)
{%- endmacro %}


{#- Correctness of a reviewed output for calibration and trust: the final
    `correctness` verdict when there is one, else not adjudicated hallucinated;
    null when the output has neither verdict. -#}
{% macro is_correct(correctness_verdict, hallucination_verdict) -%}
    {{ return(adapter.dispatch('is_correct', 'aimetrics')(correctness_verdict, hallucination_verdict)) }}
{%- endmacro %}
{% macro default__is_correct(correctness_verdict, hallucination_verdict) -%}
    (case
        when {{ correctness_verdict }} is not null then {{ correctness_verdict }} = 'pass'
        when {{ hallucination_verdict }} is not null then {{ hallucination_verdict }} <> 'fail'
    end)
{%- endmacro %}


{#- Calibration bin of a confidence in [0, 1] with `bins` equal-width bins:
    least(floor(c * bins), bins - 1), in double precision (so 1.0 falls in the
    last bin), numbered 0 .. bins - 1. -#}
{% macro calibration_bin(confidence, bins=none) -%}
    {{ return(adapter.dispatch('calibration_bin', 'aimetrics')(confidence, bins)) }}
{%- endmacro %}
{% macro default__calibration_bin(confidence, bins) -%}
    {%- set b = bins if bins is not none else var('calibration_bins') -%}
    {%- set scaled = 'floor(cast(' ~ confidence ~ ' as ' ~ aimetrics.type_double() ~ ') * ' ~ b ~ ')' -%}
    cast(case when {{ scaled }} > {{ b }} - 1 then {{ b }} - 1 else {{ scaled }} end as {{ dbt.type_int() }})
{%- endmacro %}


{#- Expected calibration error, an aggregate over calibration-bin rows (one
    row per bin at the grain wanted): sum over bins of n_b / N *
    |accuracy_b - mean confidence_b| = sum |correct_b - confidence_sum_b| / N.
    Null when N = 0. -#}
{% macro expected_calibration_error(correct, confidence_sum, outputs) -%}
    {{ return(adapter.dispatch('expected_calibration_error', 'aimetrics')(correct, confidence_sum, outputs)) }}
{%- endmacro %}
{% macro default__expected_calibration_error(correct, confidence_sum, outputs) -%}
    {{ aimetrics.safe_divide('sum(abs(' ~ correct ~ ' - ' ~ confidence_sum ~ '))', 'sum(' ~ outputs ~ ')') }}
{%- endmacro %}


{#- Confidence gap: mean confidence - accuracy = (confidence_sum - correct) / n. -#}
{% macro confidence_gap(confidence_sum, correct, outputs) -%}
    {{ return(adapter.dispatch('confidence_gap', 'aimetrics')(confidence_sum, correct, outputs)) }}
{%- endmacro %}
{% macro default__confidence_gap(confidence_sum, correct, outputs) -%}
    {{ aimetrics.safe_divide('(' ~ confidence_sum ~ ' - ' ~ correct ~ ')', outputs) }}
{%- endmacro %}


{#- Cohen's kappa of two raters on a pass/fail verdict from the 2x2 counts:
    (p_o - p_e) / (1 - p_e), p_o = agreements / pairs, p_e = p1_fail * p2_fail +
    p1_pass * p2_pass. Null when there is no pair or p_e = 1 (both raters give
    one and the same verdict to every pair). -#}
{% macro cohens_kappa(both_fail, first_fail_only, second_fail_only, both_pass) -%}
    {{ return(adapter.dispatch('cohens_kappa', 'aimetrics')(both_fail, first_fail_only, second_fail_only, both_pass)) }}
{%- endmacro %}
{% macro default__cohens_kappa(both_fail, first_fail_only, second_fail_only, both_pass) -%}
    {%- set d = aimetrics.type_double() -%}
    {%- set n = '(cast(' ~ both_fail ~ ' + ' ~ first_fail_only ~ ' + ' ~ second_fail_only ~ ' + ' ~ both_pass ~ ' as ' ~ d ~ '))' -%}
    {%- set po = '((' ~ both_fail ~ ' + ' ~ both_pass ~ ') / ' ~ n ~ ')' -%}
    {%- set pe = '(((' ~ both_fail ~ ' + ' ~ first_fail_only ~ ') * (' ~ both_fail ~ ' + ' ~ second_fail_only ~ ')'
        ~ ' + (' ~ second_fail_only ~ ' + ' ~ both_pass ~ ') * (' ~ first_fail_only ~ ' + ' ~ both_pass ~ ')) / (' ~ n ~ ' * ' ~ n ~ '))' -%}
    (case when {{ n }} > 0 and {{ pe }} < 1 then ({{ po }} - {{ pe }}) / (1 - {{ pe }}) end)
{%- endmacro %}


{#- Cost-weighted error rate: summed failure weights / outputs with any final verdict. -#}
{% macro cost_weighted_error_rate(weight_sum, judged_outputs) -%}
    {{ return(adapter.dispatch('cost_weighted_error_rate', 'aimetrics')(weight_sum, judged_outputs)) }}
{%- endmacro %}
{% macro default__cost_weighted_error_rate(weight_sum, judged_outputs) -%}
    {{ aimetrics.safe_divide(weight_sum, judged_outputs) }}
{%- endmacro %}


{#- Ordinary least-squares slope of y on x, as an aggregate over the rows
    where both are non-null; null with fewer than two distinct x.
    Dispatched: default__ from sums, duckdb__ and spark__ are regr_slope. -#}
{% macro ols_slope(y, x) -%}
    {{ return(adapter.dispatch('ols_slope', 'aimetrics')(y, x)) }}
{%- endmacro %}
{% macro default__ols_slope(y, x) -%}
    {%- set d = aimetrics.type_double() -%}
    {%- set yy = 'case when ' ~ x ~ ' is not null then cast(' ~ y ~ ' as ' ~ d ~ ') end' -%}
    {%- set xx = 'case when ' ~ y ~ ' is not null then cast(' ~ x ~ ' as ' ~ d ~ ') end' -%}
    {%- set den = 'count(' ~ yy ~ ') * sum((' ~ xx ~ ') * (' ~ xx ~ ')) - sum(' ~ xx ~ ') * sum(' ~ xx ~ ')' -%}
    ((count({{ yy }}) * sum(({{ xx }}) * ({{ yy }})) - sum({{ xx }}) * sum({{ yy }}))
        / nullif({{ den }}, 0))
{%- endmacro %}
{% macro duckdb__ols_slope(y, x) -%}
    regr_slope(cast({{ y }} as double), cast({{ x }} as double))
{%- endmacro %}
{% macro spark__ols_slope(y, x) -%}
    {{ aimetrics.duckdb__ols_slope(y, x) }}
{%- endmacro %}


{#- Weeks until a linear trend crosses a critical bound: 0 when the trend's
    current value is already beyond it, (critical - current) / slope when the
    trend moves towards it, null when it does not (or the slope is null).
    A slope within 1e-12 per week of zero is flat: rates are in [0, 1], and
    engines sum the same doubles in different orders (a flat series gives a
    slope of exactly 0 on DuckDB, 1e-18 on Spark), which must not turn
    "never" into 1e17 weeks.
    direction: SQL expression holding 'higher_is_better' or 'lower_is_better'. -#}
{% macro weeks_to_breach(trend_value, slope, critical, direction) -%}
    {{ return(adapter.dispatch('weeks_to_breach', 'aimetrics')(trend_value, slope, critical, direction)) }}
{%- endmacro %}
{% macro default__weeks_to_breach(trend_value, slope, critical, direction) -%}
    (case
        when {{ trend_value }} is null or {{ slope }} is null or {{ critical }} is null then null
        when {{ direction }} = 'higher_is_better' and {{ trend_value }} < {{ critical }} then 0
        when {{ direction }} = 'lower_is_better' and {{ trend_value }} > {{ critical }} then 0
        when {{ direction }} = 'higher_is_better' and {{ slope }} < -1e-12
            then ({{ critical }} - {{ trend_value }}) / {{ slope }}
        when {{ direction }} = 'lower_is_better' and {{ slope }} > 1e-12
            then ({{ critical }} - {{ trend_value }}) / {{ slope }}
    end)
{%- endmacro %}


{#- Drift alert: the trend breaches its critical bound sooner than the
    retraining cadence, var('retrain_cadence_weeks'); false when it never does. -#}
{% macro drift_alert(weeks_to_breach) -%}
    {{ return(adapter.dispatch('drift_alert', 'aimetrics')(weeks_to_breach)) }}
{%- endmacro %}
{% macro default__drift_alert(weeks_to_breach) -%}
    coalesce({{ weeks_to_breach }} < {{ var('retrain_cadence_weeks') }}, false)
{%- endmacro %}


{#- Rubber-stamping: acceptance rises week over week while the downstream
    success of accepted outputs falls, both beyond chance: the 95% Newcombe
    interval of the acceptance difference lies above 0 and that of the
    downstream-success difference below 0. False when a week is missing. -#}
{% macro is_rubber_stamping(accepted, outputs, prev_accepted, prev_outputs, succeeded, prev_succeeded) -%}
    {{ return(adapter.dispatch('is_rubber_stamping', 'aimetrics')(accepted, outputs, prev_accepted, prev_outputs, succeeded, prev_succeeded)) }}
{%- endmacro %}
{% macro default__is_rubber_stamping(accepted, outputs, prev_accepted, prev_outputs, succeeded, prev_succeeded) -%}
    coalesce(
        {{ aimetrics.newcombe_low(accepted, outputs, prev_accepted, prev_outputs) }} > 0
        and {{ aimetrics.newcombe_high(succeeded, accepted, prev_succeeded, prev_accepted) }} < 0,
        false)
{%- endmacro %}


{#- Segment guardrail ratio: lowest segment TCR / highest segment TCR; null
    when the highest is null or 0. -#}
{% macro segment_tcr_ratio(min_tcr, max_tcr) -%}
    {{ return(adapter.dispatch('segment_tcr_ratio', 'aimetrics')(min_tcr, max_tcr)) }}
{%- endmacro %}
{% macro default__segment_tcr_ratio(min_tcr, max_tcr) -%}
    {{ aimetrics.safe_divide(min_tcr, max_tcr) }}
{%- endmacro %}


{#- A volume drop: volume below var('volume_drop_ratio') (0.5) of its
    baseline (the trailing 7-day median); false when there is no baseline. -#}
{% macro is_volume_drop(volume, baseline) -%}
    {{ return(adapter.dispatch('is_volume_drop', 'aimetrics')(volume, baseline)) }}
{%- endmacro %}
{% macro default__is_volume_drop(volume, baseline) -%}
    coalesce({{ volume }} < cast({{ var('volume_drop_ratio') }} as {{ aimetrics.type_double() }}) * {{ baseline }}, false)
{%- endmacro %}


{#- Standard error of a mean of per-unit values from their count, sum and sum
    of squares (sample variance, n - 1); null when n < 2. -#}
{% macro mean_standard_error(total, total_sq, n) -%}
    {{ return(adapter.dispatch('mean_standard_error', 'aimetrics')(total, total_sq, n)) }}
{%- endmacro %}
{% macro default__mean_standard_error(total, total_sq, n) -%}
    {%- set d = aimetrics.type_double() -%}
    {%- set var_ = '((cast(' ~ total_sq ~ ' as ' ~ d ~ ') - cast(' ~ total ~ ' as ' ~ d ~ ') * ' ~ total ~ ' / ' ~ n ~ ') / (' ~ n ~ ' - 1))' -%}
    (case when {{ n }} > 1 then sqrt(case when {{ var_ }} > 0 then {{ var_ }} else 0 end / {{ n }}) end)
{%- endmacro %}


{#- Standard error of a ratio of sums R = sum(y) / sum(x) over n units, by the
    delta method: sqrt(sum((y - R x)^2) / (n - 1) / n) / mean(x), from the sums
    of y, x, y^2, x^2 and x*y; null when n < 2 or sum(x) = 0. -#}
{% macro ratio_standard_error(sum_y, sum_x, sum_yy, sum_xx, sum_xy, n) -%}
    {{ return(adapter.dispatch('ratio_standard_error', 'aimetrics')(sum_y, sum_x, sum_yy, sum_xx, sum_xy, n)) }}
{%- endmacro %}
{% macro default__ratio_standard_error(sum_y, sum_x, sum_yy, sum_xx, sum_xy, n) -%}
    {%- set d = aimetrics.type_double() -%}
    {%- set r = aimetrics.safe_divide(sum_y, sum_x) -%}
    {%- set ss = '(cast(' ~ sum_yy ~ ' as ' ~ d ~ ') - 2 * ' ~ r ~ ' * ' ~ sum_xy ~ ' + ' ~ r ~ ' * ' ~ r ~ ' * ' ~ sum_xx ~ ')' -%}
    (case when {{ n }} > 1 and {{ sum_x }} <> 0 then
        sqrt(case when {{ ss }} > 0 then {{ ss }} else 0 end / ({{ n }} - 1) / {{ n }})
        / (cast({{ sum_x }} as {{ d }}) / {{ n }})
    end)
{%- endmacro %}


{#- Bound of a normal 95% interval: estimate -/+ z * standard error (sign -1
    for the lower bound, 1 for the upper); null when either is null. -#}
{% macro normal_ci_low(estimate, standard_error, z=none) -%}
    {{ return(adapter.dispatch('normal_ci_bound', 'aimetrics')(estimate, standard_error, -1, z)) }}
{%- endmacro %}
{% macro normal_ci_high(estimate, standard_error, z=none) -%}
    {{ return(adapter.dispatch('normal_ci_bound', 'aimetrics')(estimate, standard_error, 1, z)) }}
{%- endmacro %}
{% macro default__normal_ci_bound(estimate, standard_error, sign, z) -%}
    {%- set z = 'cast(' ~ (z if z is not none else var('wilson_z')) ~ ' as ' ~ aimetrics.type_double() ~ ')' -%}
    ({{ estimate }} {{ '+' if sign > 0 else '-' }} {{ z }} * {{ standard_error }})
{%- endmacro %}
