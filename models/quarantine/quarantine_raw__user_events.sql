-- Rows of raw.user_events that break the contract: one row per bad raw row (the
-- winning copy of its key), with the rule it broke and its values as landed.
select
    raw_table,
    record_key,
    reason_code,
    reason_column,
    reason_rule,
    event_id__raw as event_id,
    user_id__raw as user_id,
    occurred_at__raw as occurred_at,
    event_type__raw as event_type,
    session_id__raw as session_id,
    task_id__raw as task_id,
    interaction_id__raw as interaction_id,
    edit_distance__raw as edit_distance,
    output_chars__raw as output_chars,
    properties__raw as properties,
    ingested_at__raw as ingested_at
from {{ ref('base_raw__user_events') }}
where dedup_rank = 1
  and reason_code is not null
