-- Every row of raw.output_reviews, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__output_reviews keeps valid winners; quarantine_raw__output_reviews keeps invalid winners.
{{ aimetrics.stage_raw('output_reviews') }}
