-- raw.eval_results, deduplicated (latest ingested_at wins) and valid against the contract.
select
    eval_run_id,
    run_at,
    suite,
    model,
    model_version,
    case_id,
    sample_index,
    passed,
    score
from {{ ref('base_raw__eval_results') }}
where dedup_rank = 1
  and reason_code is null
