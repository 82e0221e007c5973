-- Quarantined raw rows counted by raw table, day and broken rule: the one place to see
-- how much bad input arrived, when, and why. Counts exactly the rows of the
-- quarantine_raw__* models (the winning copy of each key that breaks the contract).
{%- set event_time = {
    'interactions': 'requested_at',
    'user_events': 'occurred_at',
    'output_reviews': 'reviewed_at',
    'eval_results': 'run_at',
    'users': 'signed_up_at',
    'infra_costs': 'cost_date',
} %}
{%- for table, column in event_time.items() %}
select
    raw_table,
    cast({{ column }} as date) as event_date,
    reason_code,
    reason_column,
    reason_rule,
    count(*) as quarantined_rows
from {{ ref('base_raw__' ~ table) }}
where dedup_rank = 1
  and reason_code is not null
group by raw_table, cast({{ column }} as date), reason_code, reason_column, reason_rule
{% if not loop.last %}union all{% endif %}
{%- endfor %}
