-- Every row of raw.users, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__users keeps valid winners; quarantine_raw__users keeps invalid winners.
{{ aimetrics.stage_raw('users') }}
