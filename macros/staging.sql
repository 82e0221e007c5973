{#- Staging of a raw table against the raw contract in _raw__sources.yml. -#}

{#- The contract of raw table `table_name`: the source node from the graph
    (columns with data_type and meta.required / enum / min / max / lowercase). -#}
{% macro raw_contract_node(table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == 'raw' and node.name == table_name -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("raw contract has no table '" ~ table_name ~ "'") }}
{%- endmacro %}


{#- The landed raw relation, or none when an optional table was not landed.
    A missing required table stops the build with a message saying what to load. -#}
{% macro raw_relation(table_name) -%}
    {%- set src = source('raw', table_name) -%}
    {%- if not execute -%}{{ return(src) }}{%- endif -%}
    {%- set rel = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier) -%}
    {%- if rel is none -%}
        {%- set node = aimetrics.raw_contract_node(table_name) -%}
        {%- if not node.meta.get('optional_table', false) -%}
            {{ exceptions.raise_compiler_error(
                "raw table " ~ src.schema ~ "." ~ table_name ~ " does not exist: it is required by the raw contract. "
                ~ "Land it with `aimetrics load " ~ table_name ~ " FILE...` or your warehouse loader.") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(rel) }}
{%- endmacro %}


{% macro _is_text_type(data_type) -%}
    {%- set t = (data_type or '') | lower -%}
    {{ return('char' in t or 'text' in t or 'string' in t or t == 'json') }}
{%- endmacro %}


{% macro _contract_sql_type(data_type) -%}
    {%- set types = {
        'text': dbt.type_string(), 'timestamp': dbt.type_timestamp(), 'date': 'date',
        'bigint': dbt.type_bigint(), 'double': aimetrics.type_double(), 'boolean': dbt.type_boolean()} -%}
    {{ return(types[data_type]) }}
{%- endmacro %}


{#- SELECT of raw table `table_name` typed and checked against the contract:
    every contract column cleaned (text trimmed, empty = null, enums and
    `lowercase` columns lower-cased, timestamps in UTC, numbers cast), its raw
    text as <column>__raw, the first broken rule as reason_code /
    reason_column / reason_rule (null when the row is valid), and dedup_rank
    (1 = the copy of its key with the latest ingested_at; rows with a null key
    part are each their own copy).
    extra_checks: list of {when: SQL over typed columns, code, column, rule},
    checked after the per-column rules. -#}
{% macro stage_raw(table_name, extra_checks=[]) -%}
    {%- set rel = aimetrics.raw_relation(table_name) -%}
    {%- if not execute -%}
        select 1 as placeholder
        {{ return('') }}
    {%- endif -%}
    {%- set node = aimetrics.raw_contract_node(table_name) -%}
    {%- set key = node.meta.get('key', []) -%}
    {%- set landed = {} -%}
    {%- if rel is not none -%}
        {%- for col in adapter.get_columns_in_relation(rel) -%}
            {%- do landed.update({col.name | lower: col}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns = node.columns.values() | list -%}
    {%- set checks = [] -%}

with source as (
    {%- if rel is none %}
    select 1 as placeholder where 1 = 0
    {%- else %}
    select * from {{ rel }}
    {%- endif %}
),

typed as (
    select
    {%- for c in columns %}
        {%- set meta = c.meta or {} -%}
        {%- set sql_type = aimetrics._contract_sql_type(c.data_type) -%}
        {%- set lc = landed.get(c.name | lower) -%}
        {%- if lc is none %}
        cast(null as {{ sql_type }}) as {{ c.name }},
        cast(null as {{ dbt.type_string() }}) as {{ c.name }}__raw,
        {%- else -%}
            {%- set raw = 'source.' ~ adapter.quote(lc.name) -%}
            {%- set raw_text = aimetrics.blank_to_null(raw) -%}
            {%- set landed_type = (lc.dtype or '') | lower -%}
            {%- if c.data_type == 'text' -%}
                {%- if meta.get('enum') or meta.get('lowercase') -%}
                    {%- set typed = 'lower(' ~ aimetrics.clean_text(raw) ~ ')' -%}
                {%- else -%}
                    {#- identifiers and free text are kept exactly as written -#}
                    {%- set typed = raw_text -%}
                {%- endif -%}
            {%- elif c.data_type == 'timestamp' -%}
                {%- set typed = aimetrics.to_utc_timestamp(raw, lc.dtype) -%}
            {%- elif c.data_type == 'date' -%}
                {%- set typed = 'cast(' ~ aimetrics.to_utc_timestamp(raw, lc.dtype) ~ ' as date)' -%}
            {%- elif aimetrics._is_text_type(lc.dtype) -%}
                {%- set typed = aimetrics.parse_text(aimetrics.clean_text(raw), c.data_type) -%}
            {%- elif c.data_type == 'bigint' and ('double' in landed_type or 'float' in landed_type
                                                  or 'real' in landed_type or 'decimal' in landed_type
                                                  or 'numeric' in landed_type) -%}
                {#- an integral number is an integer; 12.5 is the wrong type, not 13 -#}
                {%- set typed = '(case when ' ~ raw ~ ' = floor(' ~ raw ~ ') then ' ~ aimetrics.safe_cast(raw, sql_type) ~ ' end)' -%}
            {%- elif c.data_type == 'double' -%}
                {#- NaN and +-Infinity are not numbers: the wrong type, as 'nan' and 'inf' are in text -#}
                {%- set cast_raw = aimetrics.safe_cast(raw, sql_type) -%}
                {%- set typed = '(case when ' ~ cast_raw ~ ' between -1.7976931348623157e308 and 1.7976931348623157e308 then '
                                ~ cast_raw ~ ' end)' -%}
            {%- else -%}
                {%- set typed = aimetrics.safe_cast(raw, sql_type) -%}
            {%- endif %}
        {{ typed }} as {{ c.name }},
        {{ raw_text }} as {{ c.name }}__raw,
        {%- endif -%}
        {#- per-column rules, in contract order -#}
        {%- set label = table_name ~ '.' ~ c.name -%}
        {%- if meta.get('required') -%}
            {%- do checks.append({'when': c.name ~ '__raw is null', 'code': 'missing_required', 'column': c.name,
                                  'rule': label ~ ' is required'}) -%}
        {%- endif -%}
        {%- if c.data_type != 'text' -%}
            {%- do checks.append({'when': c.name ~ '__raw is not null and ' ~ c.name ~ ' is null',
                                  'code': 'invalid_timestamp' if c.data_type in ('timestamp', 'date') else 'invalid_type',
                                  'column': c.name, 'rule': label ~ ' must be a valid ' ~ c.data_type}) -%}
        {%- endif -%}
        {%- if meta.get('enum') -%}
            {%- do checks.append({'when': c.name ~ " not in ('" ~ meta['enum'] | join("', '") ~ "')", 'code': 'invalid_enum',
                                  'column': c.name, 'rule': label ~ ' must be one of ' ~ meta['enum'] | join(', ')}) -%}
        {%- endif -%}
        {%- if meta.get('min') is not none -%}
            {%- do checks.append({'when': c.name ~ ' < ' ~ meta['min'], 'code': 'out_of_range', 'column': c.name,
                                  'rule': label ~ ' must be >= ' ~ meta['min']}) -%}
        {%- endif -%}
        {%- if meta.get('max') is not none -%}
            {%- do checks.append({'when': c.name ~ ' > ' ~ meta['max'], 'code': 'out_of_range', 'column': c.name,
                                  'rule': label ~ ' must be <= ' ~ meta['max']}) -%}
        {%- endif -%}
    {%- endfor %}
    {%- set order_col = landed.get('ingested_at') %}
        {% if order_col is not none -%}
        {{ aimetrics.to_utc_timestamp('source.' ~ adapter.quote(order_col.name), order_col.dtype) }}
        {%- else -%}
        cast(null as {{ dbt.type_timestamp() }})
        {%- endif %} as dedup_order_at
    from source
),

checked as (
    select
        typed.*,
        {%- for part in ['code', 'column', 'rule'] %}
        case
            {%- for chk in checks + extra_checks %}
            when {{ chk['when'] }} then '{{ chk[part] | replace("'", "''") }}'
            {%- endfor %}
        end as reason_{{ part }},
        {%- endfor %}
        {% if key | length > 0 -%}
        case
            when {% for k in key %}{{ k }} is null{% if not loop.last %} or {% endif %}{% endfor %} then 1
            else row_number() over (
                partition by {{ key | join(', ') }}
                order by dedup_order_at desc nulls last
            )
        end
        {%- else -%}
        1
        {%- endif %} as dedup_rank
    from typed
)

select
    {%- for c in columns %}
    {{ c.name }},
    {{ c.name }}__raw,
    {%- endfor %}
    dedup_order_at,
    reason_code,
    reason_column,
    reason_rule,
    dedup_rank,
    {{ "'" ~ table_name ~ "'" }} as raw_table,
    {%- set key_parts = [] -%}
    {%- for k in key -%}{%- do key_parts.append("coalesce(" ~ k ~ "__raw, '<null>')") -%}{%- endfor -%}
    {{ (key_parts | join(" || '|' || ")) if key_parts else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as record_key
from checked
{%- endmacro %}
