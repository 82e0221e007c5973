{{ config(**aimetrics.incremental_by_date('requested_date')) }}
-- depends_on: {{ ref('int_incremental_scope') }}
-- Tier-1 text checks (python_udfs/, registered in DuckDB by the dbt-duckdb
-- plugin): one row per output (status ok) of a non-internal user whose raw
-- row carries an output_text. The texts themselves are read here and never
-- stored: only the measurements leave this model. An incremental run types
-- only the raw copies of the queries of the touched dates.
-- * edit size between the output and the text finally used (final_text):
--   Levenshtein distance and distance / output length;
-- * fact consistency against source_text: the count of numbers, dates and
--   capitalised names of the output absent from the source; verdict `fail`
--   when any, `pass` when none, null without a source text.
-- Switched off by var('python_udfs_enabled') (false by default on engines
-- other than DuckDB, which lack the functions): the model is then empty, so
-- reviews and edit sizes come from the raw tables only.
{%- if var('python_udfs_enabled', target.type == 'duckdb') %}
with texts as (
    select
        raw_rows.interaction_id,
        raw_rows.output_text,
        raw_rows.final_text,
        raw_rows.source_text
    from {{ aimetrics.base_rows('interactions',
        'select interaction_id from ' ~ ref('int_interactions') ~ ' where ' ~ aimetrics.in_touched_dates('requested_date')) }} as raw_rows
    where raw_rows.dedup_rank = 1
        and raw_rows.reason_code is null
        and raw_rows.output_text is not null
        and {{ aimetrics.in_touched_dates('cast(raw_rows.requested_at as date)') }}
),

checked as (
    select
        interactions.interaction_id,
        interactions.requested_date,
        coalesce(interactions.responded_at, interactions.requested_at) as checked_at,
        length(texts.output_text) as output_chars,
        texts.final_text is not null as has_final_text,
        aimetrics_edit_distance(texts.output_text, texts.final_text) as final_edit_distance,
        aimetrics_edit_ratio(texts.output_text, texts.final_text) as final_edit_ratio,
        texts.source_text is not null as has_source_text,
        len(aimetrics_unsupported_facts(texts.output_text, texts.source_text)) as unsupported_facts
    from texts
    inner join {{ ref('int_interactions') }} as interactions
        on texts.interaction_id = interactions.interaction_id
    where interactions.is_output
)

select
    interaction_id,
    requested_date,
    checked_at,
    cast(output_chars as {{ dbt.type_bigint() }}) as output_chars,
    has_final_text,
    cast(final_edit_distance as {{ dbt.type_bigint() }}) as final_edit_distance,
    cast(final_edit_ratio as {{ aimetrics.type_double() }}) as final_edit_ratio,
    has_source_text,
    cast(unsupported_facts as {{ dbt.type_bigint() }}) as unsupported_facts,
    case
        when unsupported_facts > 0 then 'fail'
        when unsupported_facts = 0 then 'pass'
    end as fact_check_verdict
from checked
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as interaction_id,
    cast(null as date) as requested_date,
    cast(null as {{ dbt.type_timestamp() }}) as checked_at,
    cast(null as {{ dbt.type_bigint() }}) as output_chars,
    cast(null as {{ dbt.type_boolean() }}) as has_final_text,
    cast(null as {{ dbt.type_bigint() }}) as final_edit_distance,
    cast(null as {{ aimetrics.type_double() }}) as final_edit_ratio,
    cast(null as {{ dbt.type_boolean() }}) as has_source_text,
    cast(null as {{ dbt.type_bigint() }}) as unsupported_facts,
    cast(null as {{ dbt.type_string() }}) as fact_check_verdict
where 1 = 0
{%- endif %}
