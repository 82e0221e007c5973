-- Every row of raw.interactions, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__interactions keeps valid winners; quarantine_raw__interactions keeps invalid winners.
{{ aimetrics.stage_raw('interactions') }}
