{{ config(**aimetrics.incremental_by_week('week')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- One row per ISO week x feature x model with at least one output (the week
-- of its requested_at date):
-- * over-trust = hallucinated outputs (adjudicated) that were accepted (an
--   output_accepted event) / hallucinated outputs;
-- * under-trust = correct outputs (final `correctness` verdict pass when
--   present, else a hallucination verdict that is not fail) that were
--   rejected or substantively edited / correct outputs;
-- * cost-weighted error rate = sum over outputs of the weight (severity_weights
--   seed) of the most severe failed final verdict across dimensions, 0 if
--   none / outputs with any final verdict. A failed verdict without a
--   severity weighs as the seed's lowest weight.
-- Incremental by week (macro incremental_by_week): a run rewrites the weeks
-- holding a touched date, from the outputs and verdicts of those weeks.
with weights as (
    select severity, weight from {{ ref('stg_seeds__severity_weights') }}
),

lowest_weight as (
    select min(weight) as weight from weights
),

failure_weights as (
    select
        verdicts.interaction_id,
        max(case
            when verdicts.final_verdict = 'fail' then coalesce(weights.weight, lowest_weight.weight)
            else 0
        end) as failure_weight
    from {{ ref('int_review_verdicts') }} as verdicts
    left join weights
        on verdicts.final_severity = weights.severity
    cross join lowest_weight
    where {{ aimetrics.in_touched_weeks('verdicts.requested_date') }}
    group by verdicts.interaction_id
),

outputs as (
    select
        {{ aimetrics.week_start('interactions.requested_date') }} as week,
        interactions.feature,
        interactions.model,
        interactions.is_hallucinated and interactions.has_hallucination_verdict as is_hallucinated,
        interactions.is_accepted,
        {{ aimetrics.is_correct('interactions.correctness_verdict', 'interactions.hallucination_verdict') }} as is_correct,
        (interactions.rejected_events > 0 or interactions.substantive_edit_events > 0) as is_rejected_or_edited,
        failure_weights.interaction_id is not null as is_judged,
        coalesce(failure_weights.failure_weight, 0) as failure_weight
    from {{ ref('fct_interactions') }} as interactions
    left join failure_weights
        on interactions.interaction_id = failure_weights.interaction_id
    where interactions.is_output
        and {{ aimetrics.in_touched_weeks('interactions.requested_date') }}
),

counted as (
    select
        week,
        feature,
        model,
        count(*) as outputs,
        sum(case when is_hallucinated then 1 else 0 end) as hallucinated_outputs,
        sum(case when is_hallucinated and is_accepted then 1 else 0 end) as hallucinated_accepted,
        sum(case when is_correct then 1 else 0 end) as correct_outputs,
        sum(case when is_correct and is_rejected_or_edited then 1 else 0 end) as correct_rejected_or_edited,
        sum(case when is_judged then 1 else 0 end) as judged_outputs,
        sum(failure_weight) as failure_weight_sum
    from outputs
    group by week, feature, model
)

select
    week,
    feature,
    model,
    cast(outputs as {{ dbt.type_bigint() }}) as outputs,
    cast(hallucinated_outputs as {{ dbt.type_bigint() }}) as hallucinated_outputs,
    cast(hallucinated_accepted as {{ dbt.type_bigint() }}) as hallucinated_accepted,
    cast({{ aimetrics.safe_divide('hallucinated_accepted', 'hallucinated_outputs') }} as {{ aimetrics.type_double() }})
        as over_trust_rate,
    cast(correct_outputs as {{ dbt.type_bigint() }}) as correct_outputs,
    cast(correct_rejected_or_edited as {{ dbt.type_bigint() }}) as correct_rejected_or_edited,
    cast({{ aimetrics.safe_divide('correct_rejected_or_edited', 'correct_outputs') }} as {{ aimetrics.type_double() }})
        as under_trust_rate,
    cast(judged_outputs as {{ dbt.type_bigint() }}) as judged_outputs,
    cast(failure_weight_sum as {{ aimetrics.type_double() }}) as failure_weight_sum,
    cast({{ aimetrics.cost_weighted_error_rate('failure_weight_sum', 'judged_outputs') }} as {{ aimetrics.type_double() }})
        as cost_weighted_error_rate
from counted
