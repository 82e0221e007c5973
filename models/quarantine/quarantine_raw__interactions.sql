-- Rows of raw.interactions that break the contract: one row per bad raw row (the
-- winning copy of its key), with the rule it broke and its values as landed.
select
    raw_table,
    record_key,
    reason_code,
    reason_column,
    reason_rule,
    interaction_id__raw as interaction_id,
    task_id__raw as task_id,
    user_id__raw as user_id,
    session_id__raw as session_id,
    feature__raw as feature,
    model__raw as model,
    model_version__raw as model_version,
    requested_at__raw as requested_at,
    responded_at__raw as responded_at,
    status__raw as status,
    input_tokens__raw as input_tokens,
    output_tokens__raw as output_tokens,
    cost_usd__raw as cost_usd,
    confidence__raw as confidence,
    attempt__raw as attempt,
    experiment_id__raw as experiment_id,
    variant__raw as variant,
    ingested_at__raw as ingested_at
from {{ ref('base_raw__interactions') }}
where dedup_rank = 1
  and reason_code is not null
