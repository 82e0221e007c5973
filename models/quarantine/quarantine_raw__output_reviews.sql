-- Rows of raw.output_reviews that break the contract: one row per bad raw row (the
-- winning copy of its key), with the rule it broke and its values as landed.
select
    raw_table,
    record_key,
    reason_code,
    reason_column,
    reason_rule,
    review_id__raw as review_id,
    interaction_id__raw as interaction_id,
    reviewer_kind__raw as reviewer_kind,
    dimension__raw as dimension,
    verdict__raw as verdict,
    score__raw as score,
    severity__raw as severity,
    reviewed_at__raw as reviewed_at,
    reviewer_id__raw as reviewer_id
from {{ ref('base_raw__output_reviews') }}
where dedup_rank = 1
  and reason_code is not null
