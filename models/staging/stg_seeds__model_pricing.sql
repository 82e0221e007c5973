-- The model_pricing seed: per model, the price in force from effective_from.
select
    {{ aimetrics.clean_text('model') }} as model,
    cast(effective_from as date) as effective_from,
    cast(input_usd_per_1m_tokens as {{ aimetrics.type_double() }}) as input_usd_per_1m_tokens,
    cast(output_usd_per_1m_tokens as {{ aimetrics.type_double() }}) as output_usd_per_1m_tokens
from {{ ref('model_pricing') }}
