{{ config(**aimetrics.incremental_by_raw_key('user_events', 'event_id')) }}
-- raw.user_events, deduplicated (latest ingested_at wins), valid against the
-- contract, with each event type mapped to its role (unmapped types: activity).
-- A table kept by key (macro incremental_by_raw_key; a view on Spark): an incremental
-- run restages only the keys with a newly ingested raw copy, from all their copies.
select
    events.event_id,
    events.user_id,
    events.occurred_at,
    events.event_type,
    coalesce(roles.role, 'activity') as role,
    events.session_id,
    events.task_id,
    events.interaction_id,
    events.edit_distance,
    events.output_chars,
    events.properties,
    events.ingested_at
from {{ aimetrics.base_rows('user_events', aimetrics.new_raw_keys('user_events')) }} as events
left join {{ ref('stg_seeds__event_roles') }} as roles
    on events.event_type = roles.event_type
where events.dedup_rank = 1
  and events.reason_code is null
