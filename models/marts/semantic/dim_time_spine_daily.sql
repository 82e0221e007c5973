-- MetricFlow's time spine: one row per UTC day from 2020-01-01 to 2039-12-31.
-- MetricFlow joins to it for metric_time at day grain and coarser (week,
-- month, ...), cumulative metrics and fill-nulls. The range is fixed (7,305
-- days) rather than derived from the data, so the spine is the same before
-- and after each load; widen it here if your data runs outside it.
with days as (
    {{ dbt.date_spine('day', "cast('2020-01-01' as date)", "cast('2040-01-01' as date)") }}
)

select cast(date_day as date) as date_day
from days
