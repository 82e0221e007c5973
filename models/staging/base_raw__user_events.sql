-- Every row of raw.user_events, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__user_events keeps valid winners; quarantine_raw__user_events keeps invalid winners.
{{ aimetrics.stage_raw('user_events') }}
