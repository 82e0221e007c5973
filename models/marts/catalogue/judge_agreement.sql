-- One row per ISO week x review dimension with at least one output that has
-- both a tier-1 verdict (the latest llm_judge / automated one, ties as in
-- adjudication) and a tier-2 verdict (the latest human_expert one): the 2x2
-- table of the two verdicts, the agreement rate and Cohen's kappa. The week is
-- the output's (its requested_at date); only outputs (status ok) count.
with pairs as (
    select
        {{ aimetrics.week_start('interactions.requested_date') }} as week,
        verdicts.dimension,
        verdicts.tier1_verdict,
        verdicts.tier2_verdict
    from {{ ref('int_review_verdicts') }} as verdicts
    inner join {{ ref('fct_interactions') }} as interactions
        on verdicts.interaction_id = interactions.interaction_id
    where interactions.is_output
        and verdicts.tier1_verdict is not null
        and verdicts.tier2_verdict is not null
),

counted as (
    select
        week,
        dimension,
        count(*) as pairs,
        sum(case when tier1_verdict = 'fail' and tier2_verdict = 'fail' then 1 else 0 end) as both_fail,
        sum(case when tier1_verdict = 'fail' and tier2_verdict = 'pass' then 1 else 0 end) as tier1_fail_tier2_pass,
        sum(case when tier1_verdict = 'pass' and tier2_verdict = 'fail' then 1 else 0 end) as tier1_pass_tier2_fail,
        sum(case when tier1_verdict = 'pass' and tier2_verdict = 'pass' then 1 else 0 end) as both_pass
    from pairs
    group by week, dimension
)

select
    week,
    dimension,
    cast(pairs as {{ dbt.type_bigint() }}) as pairs,
    cast(both_fail + both_pass as {{ dbt.type_bigint() }}) as agreements,
    cast(both_fail as {{ dbt.type_bigint() }}) as both_fail,
    cast(tier1_fail_tier2_pass as {{ dbt.type_bigint() }}) as tier1_fail_tier2_pass,
    cast(tier1_pass_tier2_fail as {{ dbt.type_bigint() }}) as tier1_pass_tier2_fail,
    cast(both_pass as {{ dbt.type_bigint() }}) as both_pass,
    cast({{ aimetrics.safe_divide('both_fail + both_pass', 'pairs') }} as {{ aimetrics.type_double() }}) as agreement_rate,
    cast({{ aimetrics.safe_divide('both_fail + tier1_fail_tier2_pass', 'pairs') }} as {{ aimetrics.type_double() }})
        as tier1_fail_rate,
    cast({{ aimetrics.safe_divide('both_fail + tier1_pass_tier2_fail', 'pairs') }} as {{ aimetrics.type_double() }})
        as tier2_fail_rate,
    cast({{ aimetrics.cohens_kappa('both_fail', 'tier1_fail_tier2_pass', 'tier1_pass_tier2_fail', 'both_pass') }}
        as {{ aimetrics.type_double() }}) as cohens_kappa
from counted
