{#- Constructs whose SQL differs by engine. Models call only these; each has a
    portable default__ and engine variants where the SQL truly differs. -#}

{#- Trimmed text, with a string that is empty after trimming as null. -#}
{% macro clean_text(expr) -%}
    {{ return(adapter.dispatch('clean_text', 'aimetrics')(expr)) }}
{%- endmacro %}

{% macro default__clean_text(expr) -%}
    nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{% macro duckdb__clean_text(expr) -%}
    nullif(trim(cast({{ expr }} as varchar), ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '')
{%- endmacro %}


{#- Text kept exactly as written, except that a value empty after trimming is null. -#}
{% macro blank_to_null(expr) -%}
    case when {{ aimetrics.clean_text(expr) }} is null then null else cast({{ expr }} as {{ dbt.type_string() }}) end
{%- endmacro %}


{#- Strict parse of trimmed text into a contract type (bigint, double,
    boolean); null when the text is not a literal of that type: '12.5' is not
    an integer, 'nan' and 'inf' are not numbers, booleans are
    true/false/t/f/yes/no/y/n/1/0 in any case. -#}
{% macro parse_text(expr, contract_type) -%}
    {{ return(adapter.dispatch('parse_text', 'aimetrics')(expr, contract_type)) }}
{%- endmacro %}

{% macro default__parse_text(expr, contract_type) -%}
    {%- if contract_type == 'boolean' -%}
        (case
            when lower({{ expr }}) in ('true', 't', 'yes', 'y', '1') then true
            when lower({{ expr }}) in ('false', 'f', 'no', 'n', '0') then false
        end)
    {%- elif contract_type == 'bigint' -%}
        (case when {{ expr }} ~ '^[+-]?[0-9]+$' then cast({{ expr }} as {{ dbt.type_bigint() }}) end)
    {%- elif contract_type == 'double' -%}
        (case when {{ expr }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'
            then cast({{ expr }} as {{ aimetrics.type_double() }}) end)
    {%- else -%}
        cast({{ expr }} as {{ contract_type }})
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__parse_text(expr, contract_type) -%}
    {%- if contract_type == 'bigint' -%}
        (case when regexp_full_match({{ expr }}, '[+-]?[0-9]+') then try_cast({{ expr }} as bigint) end)
    {%- elif contract_type == 'double' -%}
        (case when regexp_full_match({{ expr }}, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?')
            then try_cast({{ expr }} as double) end)
    {%- else -%}
        {{ aimetrics.default__parse_text(expr, contract_type) }}
    {%- endif -%}
{%- endmacro %}


{#- Cast that yields null instead of failing on a value of the wrong type. -#}
{% macro safe_cast(expr, data_type) -%}
    {{ return(adapter.dispatch('safe_cast', 'aimetrics')(expr, data_type)) }}
{%- endmacro %}

{% macro default__safe_cast(expr, data_type) -%}
    cast({{ expr }} as {{ data_type }})
{%- endmacro %}

{% macro duckdb__safe_cast(expr, data_type) -%}
    try_cast({{ expr }} as {{ data_type }})
{%- endmacro %}


{#- A raw timestamp column as a UTC timestamp without time zone.
    source_type is the column's type in the warehouse (from the relation's
    columns): timestamps with a zone are converted to UTC, naive ones are taken
    as UTC, and text is parsed as ISO-8601 (an offset is applied, a naive value
    is UTC). Unparseable text gives null. -#}
{% macro to_utc_timestamp(expr, source_type) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'aimetrics')(expr, source_type)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expr, source_type) -%}
    {%- set t = (source_type or '') | lower -%}
    {%- if 'with time zone' in t or t in ('timestamptz', 'timestamp_tz') -%}
        cast({{ expr }} at time zone 'UTC' as {{ dbt.type_timestamp() }})
    {%- elif 'timestamp' in t or t == 'date' -%}
        cast({{ expr }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast({{ aimetrics.clean_text(expr) }} as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expr, source_type) -%}
    {%- set t = (source_type or '') | lower -%}
    {%- if 'with time zone' in t -%}
        timezone('UTC', {{ expr }})
    {%- elif 'timestamp' in t or t == 'date' -%}
        cast({{ expr }} as timestamp)
    {%- else -%}
        {#- try_cast(text as timestamp) silently drops an offset, so text with
            an offset goes through timestamptz; naive text is parsed as is,
            independent of the session time zone. -#}
        {%- set text = aimetrics.clean_text(expr) -%}
        (case
            when regexp_matches({{ text }}, '\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?)$')
                {#- offset normalised first: 'z' -> +00:00, no space before the sign -#}
                then timezone('UTC', try_cast(
                    regexp_replace(regexp_replace({{ text }}, '\s*[zZ]$', '+00:00'), '\s+([+-]\d\d(:?\d\d)?)$', '\1')
                    as timestamptz))
            else try_cast({{ text }} as timestamp)
        end)
    {%- endif -%}
{%- endmacro %}


{#- Linear-interpolation percentile (numpy's default), as an aggregate. -#}
{% macro percentile_cont(expr, p) -%}
    {{ return(adapter.dispatch('percentile_cont', 'aimetrics')(expr, p)) }}
{%- endmacro %}

{% macro default__percentile_cont(expr, p) -%}
    percentile_cont({{ p }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expr, p) -%}
    quantile_cont({{ expr }}, {{ p }})
{%- endmacro %}


{#- Exact (fractional) seconds from start_ts to end_ts. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'aimetrics')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    extract(epoch from ({{ end_ts }} - {{ start_ts }}))
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
    (epoch_us({{ end_ts }}) - epoch_us({{ start_ts }})) / 1000000.0
{%- endmacro %}


{#- The date n days after a date (a date, not a timestamp). -#}
{% macro add_days(date_expr, n) -%}
    {{ return(adapter.dispatch('add_days', 'aimetrics')(date_expr, n)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, n) -%}
    cast({{ dbt.dateadd('day', n, date_expr) }} as date)
{%- endmacro %}

{% macro duckdb__add_days(date_expr, n) -%}
    ({{ date_expr }} + cast({{ n }} as integer))
{%- endmacro %}


{#- ISO week (Monday) of a date or timestamp, as a date. -#}
{% macro week_start(expr) -%}
    cast({{ dbt.date_trunc('week', expr) }} as date)
{%- endmacro %}


{#- 64-bit floating point type (aimetrics.type_double() is 32-bit on some engines). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'aimetrics')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
