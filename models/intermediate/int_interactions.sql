{{ config(**aimetrics.incremental_by_date('requested_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- Queries of non-internal users, with their cost (reported, else priced from
-- model_pricing) and latency. Every later model starts from this one, so the
-- internal-user exclusion happens once, here.
with interactions as (
    select interactions.*
    from {{ ref('stg_raw__interactions') }} as interactions
    left join {{ ref('int_users') }} as users
        on interactions.user_id = users.user_id
    where not coalesce(users.is_internal, false)
        and {{ aimetrics.in_touched_dates('cast(interactions.requested_at as date)') }}
),

-- each price of a model holds from its effective_from until the model's next
-- price (unique per model x effective_from, tested on the seed): a query's
-- price is the one whose period holds its UTC date, found by an equi-join on
-- the model, so the queries are read once (no ranking window over them)
price_periods as (
    select
        model,
        effective_from,
        lead(effective_from) over (partition by model order by effective_from) as effective_until,
        input_usd_per_1m_tokens,
        output_usd_per_1m_tokens
    from {{ ref('stg_seeds__model_pricing') }}
)

select
    interactions.interaction_id,
    interactions.task_id,
    interactions.user_id,
    interactions.session_id,
    interactions.feature,
    interactions.model,
    interactions.model_version,
    interactions.requested_at,
    interactions.responded_at,
    cast(interactions.requested_at as date) as requested_date,
    interactions.status,
    interactions.status = 'ok' as is_output,
    interactions.input_tokens,
    interactions.output_tokens,
    interactions.cost_usd as reported_cost_usd,
    case
        when interactions.cost_usd is not null then interactions.cost_usd
        when prices.model is not null then
            (coalesce(interactions.input_tokens, 0) * prices.input_usd_per_1m_tokens
             + coalesce(interactions.output_tokens, 0) * prices.output_usd_per_1m_tokens) / 1000000.0
        else 0
    end as cost_usd,
    case
        when interactions.cost_usd is not null then 'reported'
        when prices.model is not null then 'priced'
        else 'unpriced'
    end as cost_source,
    interactions.confidence,
    coalesce(interactions.attempt, 1) as attempt,
    interactions.experiment_id,
    interactions.variant,
    case
        when interactions.status = 'ok' and interactions.responded_at is not null
            then 1000 * {{ aimetrics.seconds_between('interactions.requested_at', 'interactions.responded_at') }}
    end as latency_ms
from interactions
left join price_periods as prices
    on interactions.model = prices.model
    and prices.effective_from <= cast(interactions.requested_at as date)
    and (prices.effective_until is null or cast(interactions.requested_at as date) < prices.effective_until)
