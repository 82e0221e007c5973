{{ config(**aimetrics.incremental_by_raw_key('interactions', 'interaction_id')) }}
-- raw.interactions, deduplicated (latest ingested_at wins) and valid against the contract.
-- A table kept by key (macro incremental_by_raw_key; a view on Spark): an incremental
-- run restages only the keys with a newly ingested raw copy, from all their copies.
select
    interaction_id,
    task_id,
    user_id,
    session_id,
    feature,
    model,
    model_version,
    requested_at,
    responded_at,
    status,
    input_tokens,
    output_tokens,
    cost_usd,
    confidence,
    attempt,
    experiment_id,
    variant,
    ingested_at
from {{ aimetrics.base_rows('interactions', aimetrics.new_raw_keys('interactions')) }} as staged
where dedup_rank = 1
  and reason_code is null
