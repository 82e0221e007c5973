-- raw.output_reviews, deduplicated (latest ingested_at wins) and valid against the contract.
select
    review_id,
    interaction_id,
    reviewer_kind,
    dimension,
    verdict,
    score,
    severity,
    reviewed_at,
    reviewer_id
from {{ ref('base_raw__output_reviews') }}
where dedup_rank = 1
  and reason_code is null
