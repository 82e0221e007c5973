{{ config(**aimetrics.incremental_by_raw_key('output_reviews', 'review_id')) }}
-- raw.output_reviews, deduplicated (latest ingested_at wins) and valid against the contract.
-- A table kept by key (macro incremental_by_raw_key; a view on Spark): an incremental
-- run restages only the keys with a newly ingested raw copy, from all their copies.
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
from {{ aimetrics.base_rows('output_reviews', aimetrics.new_raw_keys('output_reviews')) }} as staged
where dedup_rank = 1
  and reason_code is null
