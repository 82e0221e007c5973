{{ config(**aimetrics.incremental_by_date('requested_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- Adjudication: one row per reviewed query and dimension. The final verdict
-- is the latest human_expert verdict (tier 2) if there is one, else the latest
-- tier-1 verdict (llm_judge or automated; a tie on time goes to llm_judge, any
-- other tie to the larger review_id). Tier 3 (behaviour) is in fct_interactions.
-- The fact-consistency verdicts of the Tier-1 text checks (int_text_checks,
-- empty unless var('python_udfs_enabled')) are `automated` reviews too, of
-- dimension var('fact_check_dimension') (default groundedness), made at the
-- response.
with all_reviews as (
    select review_id, interaction_id, reviewer_kind, dimension, verdict, score, severity, reviewed_at, reviewer_id
    from {{ ref('stg_raw__output_reviews') }}
    union all
    select
        'text_check:' || interaction_id as review_id,
        interaction_id,
        'automated' as reviewer_kind,
        '{{ var('fact_check_dimension') }}' as dimension,
        fact_check_verdict as verdict,
        cast(unsupported_facts as {{ aimetrics.type_double() }}) as score,
        cast(null as {{ dbt.type_string() }}) as severity,
        checked_at as reviewed_at,
        'aimetrics.fact_check' as reviewer_id
    from {{ ref('int_text_checks') }}
    where fact_check_verdict is not null
),

reviews as (
    select
        reviews.*,
        case when reviews.reviewer_kind = 'human_expert' then 2 else 1 end as tier,
        case when reviews.reviewer_kind = 'llm_judge' then 1 else 0 end as kind_priority,
        interactions.requested_date
    from all_reviews as reviews
    inner join {{ ref('int_interactions') }} as interactions
        on reviews.interaction_id = interactions.interaction_id
    where {{ aimetrics.in_touched_dates('interactions.requested_date') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by interaction_id, dimension
            order by tier desc, reviewed_at desc, kind_priority desc, review_id desc
        ) as final_rank,
        row_number() over (
            partition by interaction_id, dimension, tier
            order by reviewed_at desc, kind_priority desc, review_id desc
        ) as rank_within_tier
    from reviews
)

select
    interaction_id,
    dimension,
    requested_date,
    max(case when final_rank = 1 then verdict end) as final_verdict,
    max(case when final_rank = 1 then tier end) as decided_by_tier,
    max(case when final_rank = 1 then reviewer_kind end) as decided_by_reviewer_kind,
    max(case when final_rank = 1 then review_id end) as decided_by_review_id,
    max(case when final_rank = 1 then severity end) as final_severity,
    max(case when final_rank = 1 then reviewed_at end) as final_reviewed_at,
    max(case when tier = 1 and rank_within_tier = 1 then verdict end) as tier1_verdict,
    max(case when tier = 2 and rank_within_tier = 1 then verdict end) as tier2_verdict,
    count(*) as reviews
from ranked
group by interaction_id, dimension, requested_date
