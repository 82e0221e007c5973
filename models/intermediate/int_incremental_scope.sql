-- depends_on: {{ ref('int_users') }}, {{ ref('stg_raw__interactions') }}
-- depends_on: {{ ref('base_raw__interactions') }}, {{ ref('base_raw__user_events') }}, {{ ref('base_raw__output_reviews') }}
-- depends_on: {{ ref('base_raw__users') }}, {{ ref('base_raw__infra_costs') }}
-- The dates an incremental run rewrites (touched_date), and the newest raw
-- ingested_at this run saw (loaded_through; recorded after a complete run).
-- Built first, from the raw rows ingested since the last complete run (less
-- var('lookback_days')) and the previous state of the incremental models.
-- A date is touched when a row of any incremental model dated then may
-- change: the old and new dates of every changed query and event; every date
-- of a touched task (its queries, its events, its start); the dates of the
-- queries a new review or a user's new row concerns; tasks whose maturity
-- flips because the latest query moved; new infra cost dates.
-- Touched tasks: tasks of changed queries (old and new task), of new events
-- (their task, their named query's task, their previous task), of reviewed
-- queries and of events concerning them; then the previous task of every
-- event attributed to a touched task or naming a changed query.
-- On a full build (no complete run recorded) it holds loaded_through only.
-- The raw rows are read as the base_raw__* models type them (stage_raw), but
-- only the new ones: loaded_through scans the ingested_at columns alone.
{%- set ready = aimetrics.incremental_state_ready() %}
{%- set raw_tables = ['interactions', 'user_events', 'output_reviews', 'users', 'infra_costs'] %}

with loaded as (
    select max(ingested_at) as loaded_through
    from (
        {%- for t in raw_tables %}
        {{ aimetrics.raw_max_ingested_at(t) }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as per_table
)
{%- if ready %},
{%- set old_interactions = aimetrics.built_model('int_interactions') %}
{%- set old_events = aimetrics.built_model('int_events') %}
{%- set old_tasks = aimetrics.built_model('fct_tasks') %}

new_interactions as (
    select interaction_id, task_id, user_id, requested_at
    from ({{ aimetrics.stage_raw('interactions', new_rows_only=true) }}) as new_rows
),

new_events as (
    select event_id, task_id, interaction_id, occurred_at
    from ({{ aimetrics.stage_raw('user_events', new_rows_only=true) }}) as new_rows
),

-- the queries of every copy of a new review's id: a re-sent review may name another query
new_reviews as (
    select interaction_id
    from ({{ aimetrics.stage_raw('output_reviews', keys_in=aimetrics.new_raw_keys('output_reviews')) }}) as copies
),

new_users as (
    select user_id
    from ({{ aimetrics.stage_raw('users', new_rows_only=true) }}) as new_rows
),

-- queries as known before this run and as newly landed
known_queries as (
    select interaction_id, task_id from {{ old_interactions }}
    union all
    select interaction_id, task_id from new_interactions
),

seed_tasks as (
    select task_id from new_interactions
    union
    select old.task_id from {{ old_interactions }} as old
    where old.interaction_id in (select interaction_id from new_interactions)
    union
    select task_id from new_events
    union
    select known.task_id from known_queries as known
    where known.interaction_id in (select interaction_id from new_events)
        or known.interaction_id in (select interaction_id from new_reviews)
    union
    select old.task_id from {{ old_events }} as old
    where old.event_id in (select event_id from new_events)
        or old.concerned_interaction_id in (select interaction_id from new_reviews)
    union
    select old.task_id from {{ old_interactions }} as old
    where old.user_id in (select user_id from new_users)
),

touched_events as (
    select old.event_id, old.task_id, old.occurred_date, old.attributed_date
    from {{ old_events }} as old
    where old.task_id in (select task_id from seed_tasks)
        or old.raw_task_id in (select task_id from seed_tasks)
        or old.raw_interaction_id in (select interaction_id from new_interactions)
        or old.event_id in (select event_id from new_events)
        or old.user_id in (select user_id from new_users)
),

touched_tasks as (
    select task_id from seed_tasks
    union
    select task_id from touched_events
),

-- the latest query after this run (maturity is relative to it): unchanged
-- queries as they were, changed ones as staged now
latest_query as (
    select max(requested_at) as latest_requested_at
    from (
        select old.requested_at
        from {{ old_interactions }} as old
        where old.interaction_id not in (select interaction_id from new_interactions where interaction_id is not null)
            and old.user_id not in (select user_id from {{ ref('int_users') }} where is_internal)
        union all
        select staged.requested_at
        from {{ ref('stg_raw__interactions') }} as staged
        left join {{ ref('int_users') }} as users
            on staged.user_id = users.user_id
        where staged.interaction_id in (select interaction_id from new_interactions)
            and not coalesce(users.is_internal, false)
    ) as queries
),

touched as (
    select cast(requested_at as date) as touched_date from new_interactions
    union
    select cast(occurred_at as date) from new_events
    union
    select old.requested_date
    from {{ old_interactions }} as old
    where old.task_id in (select task_id from touched_tasks)
        or old.interaction_id in (select interaction_id from new_interactions)
        or old.interaction_id in (select interaction_id from new_reviews)
        or old.user_id in (select user_id from new_users)
    union
    select occurred_date from touched_events
    union
    select attributed_date from touched_events
    union
    select old.occurred_date from {{ old_events }} as old
    where old.task_id in (select task_id from touched_tasks)
    union
    select old.task_date
    from {{ old_tasks }} as old
    cross join latest_query
    where old.task_id in (select task_id from touched_tasks)
        or old.is_mature <> coalesce(
            old.started_at <= {{ dbt.dateadd('hour', -1 * var('task_maturity_hours'), 'latest_query.latest_requested_at') }},
            false)
    union
    select cost_date
    from ({{ aimetrics.stage_raw('infra_costs', new_rows_only=true) }}) as new_rows
)

select touched.touched_date, loaded.loaded_through
from touched
cross join loaded
where touched.touched_date is not null
union all
select cast(null as date) as touched_date, loaded.loaded_through
from loaded
{%- else %}

select cast(null as date) as touched_date, loaded.loaded_through
from loaded
{%- endif %}
