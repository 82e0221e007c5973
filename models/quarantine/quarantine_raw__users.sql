-- Rows of raw.users that break the contract: one row per bad raw row (the
-- winning copy of its key), with the rule it broke and its values as landed.
select
    raw_table,
    record_key,
    reason_code,
    reason_column,
    reason_rule,
    user_id__raw as user_id,
    signed_up_at__raw as signed_up_at,
    segment__raw as segment,
    is_internal__raw as is_internal,
    ai_access__raw as ai_access
from {{ ref('base_raw__users') }}
where dedup_rank = 1
  and reason_code is not null
