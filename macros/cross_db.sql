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

{% macro spark__clean_text(expr) -%}
    nullif(trim(both concat(' ', chr(9), chr(10), chr(11), chr(12), chr(13)) from cast({{ expr }} as string)), '')
{%- endmacro %}


{#- Text kept exactly as written, except that a value empty after trimming is null. -#}
{% macro blank_to_null(expr) -%}
    {{ return(adapter.dispatch('blank_to_null', 'aimetrics')(expr)) }}
{%- endmacro %}

{% macro default__blank_to_null(expr) -%}
    case when {{ aimetrics.clean_text(expr) }} is null then null else cast({{ expr }} as {{ dbt.type_string() }}) end
{%- endmacro %}

{#- Same result; a text whose first character is not blank (almost every
    identifier) is returned without trimming it: trimming allocates a copy of
    every string, 11 s for the 56M distinct event_ids of the 10M benchmark
    against 1.3 s for this test. The codes are duckdb__clean_text's blank
    characters; ascii('') is 0, so '' takes the default (trimming) branch. -#}
{% macro duckdb__blank_to_null(expr) -%}
    {%- set text = 'cast(' ~ expr ~ ' as varchar)' -%}
    case
        when ascii({{ text }}) not in (0, 9, 10, 11, 12, 13, 32) then {{ text }}
        else {{ aimetrics.default__blank_to_null(expr) }}
    end
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


{#- Spark: rlike guards (a plain cast truncates '12.5' to 12 when ANSI mode is
    off, as dbt-spark sets it), then try_cast (null when out of range). Regexes
    avoid backslashes, which Spark string literals treat as escapes. A double
    text that overflows ('1e999') casts to Infinity: null, as on DuckDB. -#}
{% macro spark__parse_text(expr, contract_type) -%}
    {%- if contract_type == 'bigint' -%}
        (case when {{ expr }} rlike '^[+-]?[0-9]+$' then try_cast({{ expr }} as bigint) end)
    {%- elif contract_type == 'double' -%}
        (case when {{ expr }} rlike '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'
            then case when abs(try_cast({{ expr }} as double)) <= 1.7976931348623157e308
                then try_cast({{ expr }} as double) end end)
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


{% macro spark__safe_cast(expr, data_type) -%}
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


{#- Spark: with the session time zone UTC (profiles.yml), a cast of a
    timestamp_ntz or timestamp is the UTC instant. Text must match the same
    ISO-8601 shape as on Postgres before the cast (Spark's cast also takes
    '2024' or '2024-1-1'); a space before the offset is removed and z read as
    +00:00; the cast rejects a day, hour or minute out of range (null). -#}
{% macro spark__to_utc_timestamp(expr, source_type) -%}
    {%- set t = (source_type or '') | lower -%}
    {%- if 'timestamp' in t or t == 'date' -%}
        cast({{ expr }} as timestamp)
    {%- else -%}
        {%- set x = aimetrics.clean_text(expr) -%}
        {%- set iso = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?[ ]*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$' -%}
        (case when {{ x }} rlike '{{ iso }}' then
            try_cast(regexp_replace(regexp_replace({{ x }}, '[zZ]$', '+00:00'), '[ ]+([+-][0-9]{2}(:?[0-9]{2})?)$', '$1') as timestamp)
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

{#- Spark: 1000000.0 is a decimal literal there; a double division keeps the type double. -#}
{% macro spark__seconds_between(start_ts, end_ts) -%}
    (cast(unix_micros({{ end_ts }}) - unix_micros({{ start_ts }}) as double) / 1000000)
{%- endmacro %}

{#- extract(epoch ...) is an exact numeric on Postgres 14+; the result is a double everywhere. -#}
{% macro postgres__seconds_between(start_ts, end_ts) -%}
    cast(extract(epoch from ({{ end_ts }} - {{ start_ts }})) as double precision)
{%- endmacro %}


{#- dbt-spark's dateadd adds hours, minutes and seconds through unix seconds
    (to_timestamp(to_unix_timestamp(ts) + n)), which drops the fraction of a
    second: a window end of 10:05:00.750 becomes 10:05:00. timestampadd is
    exact to the microsecond for every unit. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
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


{#- Model contracts (yml data_type) name portable types: bigint, integer,
    double, varchar, boolean, date, timestamp. This is an engine's spelling of
    one of them: double is double precision on Postgres (aimetrics.type_double),
    varchar is string on Spark (dbt.type_string); the others are the same
    everywhere. -#}
{% macro contract_data_type(data_type) -%}
    {%- set t = (data_type or '') | trim | lower -%}
    {%- if t == 'double' -%}
        {{ return(aimetrics.type_double() | trim) }}
    {%- elif t in ('varchar', 'text', 'string') -%}
        {{ return(dbt.type_string() | trim) }}
    {%- endif -%}
    {{ return(data_type) }}
{%- endmacro %}

{#- A copy of a model's columns (name -> column dict) with each data_type in
    the engine's spelling (contract_data_type). -#}
{% macro contract_columns(columns) -%}
    {%- set translated = {} -%}
    {%- for name, col in columns.items() -%}
        {%- set copy = col.copy() -%}
        {%- if col.get('data_type') -%}
            {%- do copy.update({'data_type': aimetrics.contract_data_type(col['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(translated) }}
{%- endmacro %}

{#- dbt reads a contract's data_type in the query that gives the contract's
    column types (get_empty_schema_sql) and, where a contracted table is
    created from DDL (Postgres), in that DDL: both translated on the engines
    whose spelling differs. DuckDB takes the portable names as they are;
    Spark creates contracted tables with CTAS, so only the empty query. -#}
{% macro postgres__get_empty_schema_sql(columns) -%}
    {{ dbt.default__get_empty_schema_sql(aimetrics.contract_columns(columns)) }}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) -%}
    {{ dbt.default__get_empty_schema_sql(aimetrics.contract_columns(columns)) }}
{%- endmacro %}

{#- dbt's table_columns_and_constraints with translated types. -#}
{% macro postgres__get_table_columns_and_constraints() -%}
    {%- set column_ddl = adapter.render_raw_columns_constraints(raw_columns=aimetrics.contract_columns(model['columns'])) -%}
    {%- set model_ddl = adapter.render_raw_model_constraints(raw_constraints=model['constraints']) -%}
    ({{ (column_ddl + model_ddl) | join(', ') }})
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

{#- Open-source Spark has no access control (no roles, no GRANT): nothing on
    target type spark. Databricks (dbt-databricks) dispatches through spark__
    too, and has grants: there the default applies. -#}
{% macro spark__grant_schema_usage(schema, role) -%}
    {%- if target.type != 'spark' -%}
        {{ aimetrics.default__grant_schema_usage(schema, role) }}
    {%- endif -%}
{%- endmacro %}

{#- dbt's grants config, skipped on open-source Spark (its SHOW GRANTS does
    not exist); dbt's default on Databricks (see above). -#}
{% macro spark__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- if target.type != 'spark' -%}
        {{ return(dbt.default__apply_grants(relation, grant_config, should_revoke)) }}
    {%- endif -%}
{%- endmacro %}


{#- on-run-start: raw tables from Parquet files, for engines that read files
    where they lie. var('raw_parquet'): {table: path of a Parquet file or
    directory}; each becomes table <raw_schema>.<table> (replaced when it
    exists; the files are not copied). Empty (the default): nothing happens. -#}
{% macro register_raw_parquet() -%}
    {{ return(adapter.dispatch('register_raw_parquet', 'aimetrics')()) }}
{%- endmacro %}

{% macro default__register_raw_parquet() -%}
    {%- if var('raw_parquet') -%}
        {{ exceptions.raise_compiler_error("var raw_parquet is supported on Spark only; on "
            ~ target.type ~ " land the raw tables with `aimetrics load` or a warehouse loader") }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__register_raw_parquet() -%}
    {%- set tables = var('raw_parquet') -%}
    {%- if execute and tables -%}
        {%- set schema = var('raw_schema') -%}
        {%- do run_query('create schema if not exists ' ~ schema) -%}
        {%- for table, path in tables.items() -%}
            {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ table) -%}
            {%- do run_query('create table ' ~ schema ~ '.' ~ table ~ " using parquet location '"
                              ~ (path | replace("'", "\\'")) ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#- Seeds on Spark: dbt-spark's session method puts each value between quotes
    without escaping (a quote in a seed breaks the insert; a null becomes the
    text 'None'), so the rows are written as escaped literals instead. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set value = row[loop.index0] -%}
                cast({% if value is none %}null{% elif value is number %}{{ value }}{% else -%}
                    '{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'{%- endif %} as {{ type }})
                {{- ', ' if not loop.last }}
            {%- endfor -%}){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}
