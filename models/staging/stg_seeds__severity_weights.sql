-- The severity_weights seed: the weight of a failed verdict per severity.
select
    lower({{ aimetrics.clean_text('severity') }}) as severity,
    cast(weight as {{ aimetrics.type_double() }}) as weight
from {{ ref('severity_weights') }}
