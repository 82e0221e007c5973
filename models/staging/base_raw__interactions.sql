-- Every row of raw.interactions, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__interactions keeps valid winners; quarantine_raw__interactions keeps invalid winners.
{{ aimetrics.stage_raw('interactions', extra_checks=[{'when': 'responded_at < requested_at', 'code': 'out_of_range', 'column': 'responded_at', 'rule': 'interactions.responded_at must not be before requested_at'}]) }}
