-- Queries with no cost_usd and no model_pricing row in force for their model
-- and date: they cost 0 in every metric until a price is added.
select
    model,
    requested_date,
    count(*) as queries,
    sum(coalesce(input_tokens, 0)) as input_tokens,
    sum(coalesce(output_tokens, 0)) as output_tokens
from {{ ref('int_interactions') }}
where cost_source = 'unpriced'
group by model, requested_date
