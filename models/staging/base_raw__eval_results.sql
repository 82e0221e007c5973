-- Every row of raw.eval_results, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__eval_results keeps valid winners; quarantine_raw__eval_results keeps invalid winners.
{{ aimetrics.stage_raw('eval_results') }}
