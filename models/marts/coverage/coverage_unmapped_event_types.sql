-- Event types of non-internal users missing from the event_roles seed (they
-- get role `activity` and count for retention and adoption only), with how
-- often and when they were seen.
select
    event_type,
    count(*) as events,
    min(occurred_at) as first_seen_at,
    max(occurred_at) as last_seen_at
from {{ ref('int_events') }} as events
where not exists (
    select 1 from {{ ref('stg_seeds__event_roles') }} as roles
    where roles.event_type = events.event_type
)
group by event_type
