-- The event_roles seed with event_type and role trimmed and lower-cased, so
-- matching is case-insensitive on both sides of the join.
select
    lower({{ aimetrics.clean_text('event_type') }}) as event_type,
    lower({{ aimetrics.clean_text('role') }}) as role
from {{ ref('event_roles') }}
where {{ aimetrics.clean_text('event_type') }} is not null
