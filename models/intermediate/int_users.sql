-- Staged users with is_internal defaulted to false (a null is_internal is not internal).
select
    user_id,
    signed_up_at,
    segment,
    coalesce(is_internal, false) as is_internal,
    ai_access
from {{ ref('stg_raw__users') }}
