-- For every raw table: raw rows = staged + quarantined + duplicates removed.
-- Returns one row per table that does not reconcile (the test fails on any row).
{%- set tables = ['interactions', 'user_events', 'output_reviews', 'eval_results', 'users', 'infra_costs'] %}
{%- for t in tables %}
{%- set rel = aimetrics.raw_relation(t) %}
select *
from (
    select
        '{{ t }}' as raw_table,
        {% if rel is not none -%}(select count(*) from {{ rel }}){%- else -%}0{%- endif %} as raw_rows,
        (select count(*) from {{ ref('stg_raw__' ~ t) }}) as staged_rows,
        (select count(*) from {{ ref('quarantine_raw__' ~ t) }}) as quarantined_rows,
        (select count(*) from {{ ref('base_raw__' ~ t) }} where dedup_rank > 1) as duplicate_rows
) as counts_{{ t }}
where raw_rows <> staged_rows + quarantined_rows + duplicate_rows
{% if not loop.last %}union all{% endif %}
{%- endfor %}
