-- Every row of raw.infra_costs, typed and cleaned against the raw contract, with the
-- first broken rule (reason_code) and its rank among copies of its key.
-- stg_raw__infra_costs keeps valid winners; quarantine_raw__infra_costs keeps invalid winners.
{{ aimetrics.stage_raw('infra_costs') }}
