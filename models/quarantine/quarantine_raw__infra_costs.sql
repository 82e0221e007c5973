-- Rows of raw.infra_costs that break the contract: one row per bad raw row (the
-- winning copy of its key), with the rule it broke and its values as landed.
select
    raw_table,
    record_key,
    reason_code,
    reason_column,
    reason_rule,
    cost_date__raw as cost_date,
    feature__raw as feature,
    model__raw as model,
    cost_kind__raw as cost_kind,
    cost_usd__raw as cost_usd
from {{ ref('base_raw__infra_costs') }}
where dedup_rank = 1
  and reason_code is not null
