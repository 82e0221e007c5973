-- Shared infra cost rows (feature and/or model null) with no query in their
-- scope on their day: they are in no metric.
with cells as (
    select distinct requested_date as cost_date, feature, model
    from {{ ref('int_interactions') }}
)

select
    infra.cost_date,
    infra.feature,
    infra.model,
    infra.cost_kind,
    sum(infra.cost_usd) as cost_usd
from {{ ref('stg_raw__infra_costs') }} as infra
where (infra.feature is null or infra.model is null)
    and not exists (
        select 1 from cells
        where cells.cost_date = infra.cost_date
            and (infra.feature is null or infra.feature = cells.feature)
            and (infra.model is null or infra.model = cells.model)
    )
group by infra.cost_date, infra.feature, infra.model, infra.cost_kind
