-- raw.infra_costs, deduplicated (latest ingested_at wins) and valid against the contract.
select
    cost_date,
    feature,
    model,
    cost_kind,
    cost_usd
from {{ ref('base_raw__infra_costs') }}
where dedup_rank = 1
  and reason_code is null
