-- One row per eval run and case: n samples generated and c passed, with the
-- run's suite, model, model_version and time. A run's suite, model and
-- model_version are those of its rows (should they disagree, the largest
-- value); its run_at is its earliest row's.
with runs as (
    select
        eval_run_id,
        max(suite) as suite,
        max(model) as model,
        max(model_version) as model_version,
        min(run_at) as run_at
    from {{ ref('stg_raw__eval_results') }}
    group by eval_run_id
),

cases as (
    select
        eval_run_id,
        case_id,
        count(*) as samples,
        sum(case when passed then 1 else 0 end) as passed_samples
    from {{ ref('stg_raw__eval_results') }}
    group by eval_run_id, case_id
)

select
    cases.eval_run_id,
    cases.case_id,
    runs.suite,
    runs.model,
    runs.model_version,
    runs.run_at,
    cast(cases.samples as {{ dbt.type_bigint() }}) as samples,
    cast(cases.passed_samples as {{ dbt.type_bigint() }}) as passed_samples
from cases
inner join runs
    on cases.eval_run_id = runs.eval_run_id
