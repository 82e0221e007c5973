-- Rows of raw.eval_results that break the contract: one row per bad raw row (the
-- winning copy of its key), with the rule it broke and its values as landed.
select
    raw_table,
    record_key,
    reason_code,
    reason_column,
    reason_rule,
    eval_run_id__raw as eval_run_id,
    run_at__raw as run_at,
    suite__raw as suite,
    model__raw as model,
    model_version__raw as model_version,
    case_id__raw as case_id,
    sample_index__raw as sample_index,
    passed__raw as passed,
    score__raw as score
from {{ ref('base_raw__eval_results') }}
where dedup_rank = 1
  and reason_code is not null
