-- MetricFlow's time spine: one row per UTC day from 2020-01-01 to 2039-12-31
-- (7,305 days). MetricFlow joins to it for metric_time at day grain and
-- coarser (week, month, ...), cumulative metrics and fill-nulls. The range is
-- fixed rather than derived from the data, so the spine is the same before
-- and after each load; widen it here if your data runs outside it. Plain SQL
-- (a cross join of digits and aimetrics.add_days), the same on every engine.
with digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

day_numbers as (
    select ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d as n
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
)

select {{ aimetrics.add_days("cast('2020-01-01' as date)", 'n') }} as date_day
from day_numbers
where n < 7305
