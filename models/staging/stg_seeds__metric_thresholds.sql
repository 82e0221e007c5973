-- The metric_thresholds seed: per metric, its direction and bounds.
select
    lower({{ aimetrics.clean_text('metric') }}) as metric,
    lower({{ aimetrics.clean_text('direction') }}) as direction,
    cast(healthy as {{ aimetrics.type_double() }}) as healthy,
    cast(critical as {{ aimetrics.type_double() }}) as critical,
    rationale
from {{ ref('metric_thresholds') }}
