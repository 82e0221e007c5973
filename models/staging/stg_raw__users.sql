-- raw.users, deduplicated (latest ingested_at wins) and valid against the contract.
select
    user_id,
    signed_up_at,
    segment,
    is_internal,
    ai_access
from {{ ref('base_raw__users') }}
where dedup_rank = 1
  and reason_code is null
