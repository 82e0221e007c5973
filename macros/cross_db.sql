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

{% macro postgres__clean_text(expr) -%}
    nullif(btrim(cast({{ expr }} as text), ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '')
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

{#- Postgres has no try_cast and a failing cast stops the query, so every cast
    is guarded: the regex first, then the range, in nested CASEs (Postgres
    evaluates a CASE's branches in order; AND has no guaranteed order). -#}
{% macro postgres__parse_text(expr, contract_type) -%}
    {%- if contract_type == 'bigint' -%}
        (case when {{ expr }} ~ '^[+-]?[0-9]{1,30}$' then
            case when cast({{ expr }} as numeric) between -9223372036854775808 and 9223372036854775807
                then cast({{ expr }} as bigint) end end)
    {%- elif contract_type == 'double' -%}
        {#- numeric holds any such literal with an exponent below 6 digits; a
            double must lie in [2.2250738585072014e-308, 1.7976931348623157e308] or be 0 -#}
        (case when {{ expr }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,5})?$' then
            case when abs(cast({{ expr }} as numeric)) <= 1.7976931348623157e308
                  and (cast({{ expr }} as numeric) = 0 or abs(cast({{ expr }} as numeric)) >= 2.2250738585072014e-308)
                then cast({{ expr }} as double precision) end end)
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

{#- Used on typed (non-text) landed columns only: text goes through
    parse_text / to_utc_timestamp. The one cast between number types that can
    fail is an out-of-range integer. -#}
{% macro postgres__safe_cast(expr, data_type) -%}
    {%- if data_type | lower in ('bigint', 'int8') -%}
        (case when {{ expr }} between -9223372036854775808 and 9223372036854775807 then cast({{ expr }} as bigint) end)
    {%- else -%}
        cast({{ expr }} as {{ data_type }})
    {%- endif -%}
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

{#- Text is validated before any cast (a failing cast would stop the query):
    ISO-8601 'YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]][Z|+HH[[:]MM]]]', a real
    calendar day (no 2026-02-30), hours <= 23, minutes and seconds <= 59,
    offset hours <= 23. The fraction is truncated to microseconds and the
    offset subtracted by arithmetic, so the session time zone plays no part. -#}
{% macro postgres__to_utc_timestamp(expr, source_type) -%}
    {%- set t = (source_type or '') | lower -%}
    {%- if 'timestamp' in t or t == 'date' -%}
        {{ aimetrics.default__to_utc_timestamp(expr, source_type) }}
    {%- else -%}
        {%- set x = aimetrics.clean_text(expr) -%}
        {%- set iso = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$' -%}
        {%- set y = 'cast(substr(' ~ x ~ ', 1, 4) as integer)' -%}
        {%- set m = 'cast(substr(' ~ x ~ ', 6, 2) as integer)' -%}
        {%- set d = 'cast(substr(' ~ x ~ ', 9, 2) as integer)' -%}
        {%- set off = "substring(" ~ x ~ " from '[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]+)?)?\s*([zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)$')" -%}
        {%- set off_h = "coalesce(cast(nullif(substr(" ~ off ~ ", 2, 2), '') as integer), 0)" -%}
        {%- set off_m = "coalesce(cast(nullif(substr(replace(" ~ off ~ ", ':', ''), 4, 2), '') as integer), 0)" -%}
        (case when {{ x }} ~ '{{ iso }}' then
            case when {{ y }} >= 1 and {{ m }} between 1 and 12
                      and coalesce(cast(nullif(substr({{ x }}, 12, 2), '') as integer), 0) <= 23
                      and coalesce(cast(nullif(substr({{ x }}, 15, 2), '') as integer), 0) <= 59
                      and coalesce(cast(nullif(substring({{ x }} from '^.{16}:([0-9]{2})'), '') as integer), 0) <= 59
                      and {{ off_h }} <= 23 and {{ off_m }} <= 59 then
                case when {{ d }} between 1 and extract(day from make_date({{ y }}, {{ m }}, 1) + interval '1 month' - interval '1 day') then
                    cast(substring({{ x }} from '^([0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]{1,6})?)?)?)') as timestamp)
                    - (case when {{ off }} like '-%' then -1 else 1 end) * make_interval(hours => {{ off_h }}, mins => {{ off_m }})
                end
            end
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

{#- Spark / Databricks: percentile() is the exact one (percentile_approx is not). -#}
{% macro databricks__percentile_cont(expr, p) -%}
    percentile({{ expr }}, {{ p }})
{%- endmacro %}

{% macro spark__percentile_cont(expr, p) -%}
    percentile({{ expr }}, {{ p }})
{%- endmacro %}

{#- BigQuery's PERCENTILE_CONT is analytic only; the exact aggregate is the
    interpolation between the two order statistics around p * (n - 1) of the
    group's sorted non-null values. -#}
{% macro bigquery__percentile_cont(expr, p) -%}
    {%- set sorted = 'array_agg(' ~ expr ~ ' ignore nulls order by ' ~ expr ~ ')' -%}
    {%- set pos = '(' ~ p ~ ' * (count(' ~ expr ~ ') - 1))' -%}
    ({{ sorted }}[safe_offset(cast(floor({{ pos }}) as int64))]
        + ({{ sorted }}[safe_offset(cast(ceil({{ pos }}) as int64))]
           - {{ sorted }}[safe_offset(cast(floor({{ pos }}) as int64))]) * ({{ pos }} - floor({{ pos }})))
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

{% macro snowflake__seconds_between(start_ts, end_ts) -%}
    (datediff('microsecond', {{ start_ts }}, {{ end_ts }}) / 1000000.0)
{%- endmacro %}

{% macro bigquery__seconds_between(start_ts, end_ts) -%}
    (timestamp_diff({{ end_ts }}, {{ start_ts }}, microsecond) / 1000000.0)
{%- endmacro %}

{% macro databricks__seconds_between(start_ts, end_ts) -%}
    ((unix_micros({{ end_ts }}) - unix_micros({{ start_ts }})) / 1000000.0)
{%- endmacro %}

{#- extract(epoch ...) is an exact numeric on Postgres 14+; the result is a double everywhere. -#}
{% macro postgres__seconds_between(start_ts, end_ts) -%}
    cast(extract(epoch from ({{ end_ts }} - {{ start_ts }})) as double precision)
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
    {{ return(adapter.dispatch('week_start', 'aimetrics')(expr)) }}
{%- endmacro %}

{% macro default__week_start(expr) -%}
    cast({{ dbt.date_trunc('week', expr) }} as date)
{%- endmacro %}

{#- date_trunc of a date resolves to timestamptz on Postgres, which truncates in
    the session time zone; as a timestamp it is the calendar week. -#}
{% macro postgres__week_start(expr) -%}
    cast(date_trunc('week', cast({{ expr }} as timestamp)) as date)
{%- endmacro %}

{#- BigQuery's WEEK starts on Sunday; ISOWEEK on Monday. -#}
{% macro bigquery__week_start(expr) -%}
    date_trunc(cast({{ expr }} as date), isoweek)
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

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{% macro databricks__type_double() -%}
    double
{%- endmacro %}


{#- on-run-start: type names the model contracts use that an engine lacks.
    The contracts are written with DuckDB's names (double, hugeint); on
    Postgres they are domains over double precision and numeric (sum(bigint)
    is numeric there, as it is hugeint on DuckDB). -#}
{% macro create_type_aliases() -%}
    {{ return(adapter.dispatch('create_type_aliases', 'aimetrics')()) }}
{%- endmacro %}

{% macro default__create_type_aliases() -%}
{%- endmacro %}

{% macro postgres__create_type_aliases() -%}
    do $$ begin
        if not exists (select from pg_type t join pg_namespace n on n.oid = t.typnamespace
                       where n.nspname = 'public' and t.typname = 'double') then
            create domain public.double as double precision;
        end if;
        if not exists (select from pg_type t join pg_namespace n on n.oid = t.typnamespace
                       where n.nspname = 'public' and t.typname = 'hugeint') then
            create domain public.hugeint as numeric;
        end if;
    end $$
{%- endmacro %}


{#- on-run-end: usage on a schema for a role (dbt's grants config grants
    select on each relation, not usage on its schema). No-op on DuckDB, which
    has no roles. -#}
{% macro grant_schema_usage(schema, role) -%}
    {{ return(adapter.dispatch('grant_schema_usage', 'aimetrics')(schema, role)) }}
{%- endmacro %}

{% macro default__grant_schema_usage(schema, role) -%}
    grant usage on schema {{ adapter.quote(schema) }} to {{ adapter.quote(role) }}
{%- endmacro %}

{% macro duckdb__grant_schema_usage(schema, role) -%}
{%- endmacro %}


{#- Contract type comparison on Postgres (overrides dbt's format_column there).
    The contracts name DuckDB's types; DuckDB's hugeint (its type of sum() over
    integers) is the domain hugeint (numeric) here, while Postgres gives sum()
    of an int bigint and sum() of a bigint numeric. So on Postgres the integer
    types and numeric compare as one family, "integer"; every other type is
    compared as dbt does. Remove once the contracts use portable types. -#}
{% macro postgres__format_column(column) -%}
    {%- set data_type = column.dtype -%}
    {%- if data_type | upper in ('SMALLINT', 'INTEGER', 'LONGINTEGER', 'BIGINT', 'DECIMAL', 'NUMERIC') -%}
        {%- set data_type = 'integer' -%}
    {%- endif -%}
    {{ return({'name': column.name, 'data_type': data_type, 'formatted': column.column.lower() ~ ' ' ~ data_type}) }}
{%- endmacro %}
