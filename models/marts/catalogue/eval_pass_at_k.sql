-- One row per eval_run_id x k (k in var('pass_at_k_values')): pass@k = mean
-- over the run's cases with n >= k of 1 - C(n - c, k) / C(n, k) (1 when
-- n - c < k), and pass^k = mean of C(c, k) / C(n, k). `cases` counts the
-- cases used; a k with no case of n >= k has no row.
{%- set ks = var('pass_at_k_values') %}

with cases as (
    select * from {{ ref('int_eval_cases') }}
),

per_k as (
    {%- for k in ks %}
    select
        eval_run_id,
        {{ k }} as k,
        count(*) as cases,
        avg({{ aimetrics.pass_at_k('samples', 'passed_samples', k) }}) as pass_at_k,
        avg({{ aimetrics.pass_hat_k('samples', 'passed_samples', k) }}) as pass_hat_k
    from cases
    where samples >= {{ k }}
    group by eval_run_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

runs as (
    select distinct eval_run_id, suite, model, model_version, run_at
    from cases
)

select
    per_k.eval_run_id,
    runs.suite,
    runs.model,
    runs.model_version,
    runs.run_at,
    cast(per_k.k as {{ dbt.type_int() }}) as k,
    cast(per_k.cases as {{ dbt.type_bigint() }}) as cases,
    cast(per_k.pass_at_k as {{ aimetrics.type_double() }}) as pass_at_k,
    cast(per_k.pass_hat_k as {{ aimetrics.type_double() }}) as pass_hat_k
from per_k
inner join runs
    on per_k.eval_run_id = runs.eval_run_id
