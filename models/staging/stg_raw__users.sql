{{ config(**aimetrics.incremental_by_raw_key('users', 'user_id')) }}
-- raw.users, deduplicated (latest ingested_at wins) and valid against the contract.
-- A table kept by key (macro incremental_by_raw_key; a view on Spark): an incremental
-- run restages only the keys with a newly ingested raw copy, from all their copies.
select
    user_id,
    signed_up_at,
    segment,
    is_internal,
    ai_access
from {{ aimetrics.base_rows('users', aimetrics.new_raw_keys('users')) }} as staged
where dedup_rank = 1
  and reason_code is null
