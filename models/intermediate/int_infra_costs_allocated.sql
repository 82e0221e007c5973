{{ config(**aimetrics.incremental_by_date('cost_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- raw.infra_costs allocated to day x feature x model cells. A row naming both
-- feature and model goes to that cell (created if it had no query); a shared
-- row (feature and/or model null) is split over that day's cells in its scope
-- in proportion to their query counts (any status). Shared rows with no query
-- in scope are unallocated (coverage_unallocated_infra_costs).
with cells as (
    select requested_date as cost_date, feature, model, count(*) as queries
    from {{ ref('int_interactions') }}
    where {{ aimetrics.in_touched_dates('requested_date') }}
    group by requested_date, feature, model
),

infra as (
    select cost_date, feature, model, sum(cost_usd) as cost_usd
    from {{ ref('stg_raw__infra_costs') }}
    where {{ aimetrics.in_touched_dates('cost_date') }}
    group by cost_date, feature, model
),

exact as (
    select cost_date, feature, model, cost_usd
    from infra
    where feature is not null and model is not null
),

shared as (
    select
        cells.cost_date,
        cells.feature,
        cells.model,
        infra.cost_usd * cells.queries
            / sum(cells.queries) over (partition by infra.cost_date, infra.feature, infra.model) as cost_usd
    from infra
    inner join cells
        on infra.cost_date = cells.cost_date
        and (infra.feature is null or infra.feature = cells.feature)
        and (infra.model is null or infra.model = cells.model)
    where infra.feature is null or infra.model is null
)

select cost_date, feature, model, sum(cost_usd) as infra_cost_usd
from (
    select * from exact
    union all
    select * from shared
) as allocated
group by cost_date, feature, model
