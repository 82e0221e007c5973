-- raw.interactions, deduplicated (latest ingested_at wins) and valid against the contract.
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
from {{ ref('base_raw__interactions') }}
where dedup_rank = 1
  and reason_code is null
