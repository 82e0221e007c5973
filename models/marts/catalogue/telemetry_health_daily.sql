-- One row per UTC day from the first to the last day with a query or an
-- event of a non-internal user (days without any get a row with zeros):
-- * instrumentation coverage = queries with at least one user event
--   concerning them (after attribution) / queries of the day;
-- * query and event volume against the median of the 7 preceding days
--   (null for the first 7 days of the data); a day whose volume is below
--   var('volume_drop_ratio') (0.5) of that median is flagged.
with query_days as (
    select requested_date as metric_date, count(*) as queries
    from {{ ref('int_interactions') }}
    group by requested_date
),

instrumented as (
    select interactions.requested_date as metric_date, count(*) as queries_with_events
    from {{ ref('int_interactions') }} as interactions
    where interactions.interaction_id in (
        select concerned_interaction_id from {{ ref('int_events') }} where concerned_interaction_id is not null
    )
    group by interactions.requested_date
),

event_days as (
    select occurred_date as metric_date, count(*) as events
    from {{ ref('int_events') }}
    group by occurred_date
),

bounds as (
    select min(metric_date) as first_date, max(metric_date) as last_date
    from (
        select metric_date from query_days
        union all
        select metric_date from event_days
    ) as days
),

digits as (
    {%- for d in range(10) %}
    select {{ d }} as digit{{ ' union all' if not loop.last }}
    {%- endfor %}
),

numbers as (
    select ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as n
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
),

spine as (
    select {{ aimetrics.add_days('bounds.first_date', 'numbers.n') }} as metric_date
    from bounds
    cross join numbers
    where numbers.n <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}
),

volumes as (
    select
        spine.metric_date,
        coalesce(query_days.queries, 0) as queries,
        coalesce(instrumented.queries_with_events, 0) as queries_with_events,
        coalesce(event_days.events, 0) as events
    from spine
    left join query_days on spine.metric_date = query_days.metric_date
    left join instrumented on spine.metric_date = instrumented.metric_date
    left join event_days on spine.metric_date = event_days.metric_date
),

baselines as (
    select
        cur.metric_date,
        count(*) as baseline_days,
        {{ aimetrics.percentile_cont('prev.queries', 0.5) }} as queries_median_7d,
        {{ aimetrics.percentile_cont('prev.events', 0.5) }} as events_median_7d
    from volumes as cur
    inner join volumes as prev
        on prev.metric_date >= {{ aimetrics.add_days('cur.metric_date', -7) }}
        and prev.metric_date < cur.metric_date
    group by cur.metric_date
),

measured as (
    select
        volumes.*,
        case when baselines.baseline_days = 7 then baselines.queries_median_7d end as queries_median_7d,
        case when baselines.baseline_days = 7 then baselines.events_median_7d end as events_median_7d
    from volumes
    left join baselines on volumes.metric_date = baselines.metric_date
)

select
    metric_date,
    cast(queries as {{ dbt.type_bigint() }}) as queries,
    cast(queries_with_events as {{ dbt.type_bigint() }}) as queries_with_events,
    cast({{ aimetrics.safe_divide('queries_with_events', 'queries') }} as {{ aimetrics.type_double() }})
        as instrumentation_coverage,
    cast(events as {{ dbt.type_bigint() }}) as events,
    cast(queries_median_7d as {{ aimetrics.type_double() }}) as queries_median_7d,
    cast(events_median_7d as {{ aimetrics.type_double() }}) as events_median_7d,
    {{ aimetrics.is_volume_drop('queries', 'queries_median_7d') }} as queries_volume_drop,
    {{ aimetrics.is_volume_drop('events', 'events_median_7d') }} as events_volume_drop,
    ({{ aimetrics.is_volume_drop('queries', 'queries_median_7d') }}
        or {{ aimetrics.is_volume_drop('events', 'events_median_7d') }}) as is_flagged
from measured
