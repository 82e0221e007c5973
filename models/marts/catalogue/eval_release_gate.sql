-- One row per suite x model_version evaluated on it: its pass rate counting
-- samples (passed samples / samples, over all its runs on the suite) against
-- the previous model_version on the same suite (versions ordered by their
-- first run_at on it, ties by name), with the 95% Newcombe interval of the
-- difference. The gate passes when the interval's lower bound is
-- >= -var('release_gate_tolerance') (0.02); the first version of a suite has
-- no baseline (gate_passed null, gate_status `no_baseline`).
with versions as (
    select
        suite,
        model_version,
        max(model) as model,
        min(run_at) as first_run_at,
        count(distinct eval_run_id) as runs,
        sum(samples) as samples,
        sum(passed_samples) as passed_samples
    from {{ ref('int_eval_cases') }}
    group by suite, model_version
),

ordered as (
    select
        versions.*,
        lag(model_version) over (partition by suite order by first_run_at, model_version) as previous_model_version,
        lag(samples) over (partition by suite order by first_run_at, model_version) as previous_samples,
        lag(passed_samples) over (partition by suite order by first_run_at, model_version) as previous_passed_samples
    from versions
),

gated as (
    select
        ordered.*,
        {{ aimetrics.safe_divide('passed_samples', 'samples') }} as pass_rate,
        {{ aimetrics.safe_divide('previous_passed_samples', 'previous_samples') }} as previous_pass_rate,
        {{ aimetrics.newcombe_low('passed_samples', 'samples', 'previous_passed_samples', 'previous_samples') }} as diff_ci_low,
        {{ aimetrics.newcombe_high('passed_samples', 'samples', 'previous_passed_samples', 'previous_samples') }} as diff_ci_high
    from ordered
)

select
    suite,
    model_version,
    model,
    first_run_at,
    cast(runs as {{ dbt.type_bigint() }}) as runs,
    cast(samples as {{ dbt.type_bigint() }}) as samples,
    cast(passed_samples as {{ dbt.type_bigint() }}) as passed_samples,
    cast(pass_rate as {{ aimetrics.type_double() }}) as pass_rate,
    previous_model_version,
    cast(previous_samples as {{ dbt.type_bigint() }}) as previous_samples,
    cast(previous_passed_samples as {{ dbt.type_bigint() }}) as previous_passed_samples,
    cast(previous_pass_rate as {{ aimetrics.type_double() }}) as previous_pass_rate,
    cast(pass_rate - previous_pass_rate as {{ aimetrics.type_double() }}) as pass_rate_diff,
    cast(diff_ci_low as {{ aimetrics.type_double() }}) as diff_ci_low,
    cast(diff_ci_high as {{ aimetrics.type_double() }}) as diff_ci_high,
    cast({{ var('release_gate_tolerance') }} as {{ aimetrics.type_double() }}) as tolerance,
    {{ aimetrics.release_gate_passed('diff_ci_low') }} as gate_passed,
    case
        when previous_model_version is null then 'no_baseline'
        when {{ aimetrics.release_gate_passed('diff_ci_low') }} then 'pass'
        else 'fail'
    end as gate_status
from gated
