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


{#- True for a landed type whose values are never blank text: numbers,
    booleans, dates, times. Its raw text is then a plain cast, no trim. -#}
{% macro _never_blank_type(data_type) -%}
    {%- set t = (data_type or '') | lower -%}
    {#- an ENUM's type lists its labels, which may contain any of the words below -#}
    {%- if aimetrics._is_text_type(t) or 'enum' in t -%}{{ return(false) }}{%- endif -%}
    {%- for word in ['int', 'double', 'float', 'real', 'decimal', 'numeric', 'timestamp', 'date', 'time', 'bool'] -%}
        {%- if word in t -%}{{ return(true) }}{%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}


{% macro _contract_sql_type(data_type) -%}
    {%- set types = {
        'text': dbt.type_string(), 'timestamp': dbt.type_timestamp(), 'date': 'date',
        'bigint': dbt.type_bigint(), 'double': aimetrics.type_double(), 'boolean': dbt.type_boolean()} -%}
    {{ return(types[data_type]) }}
{%- endmacro %}


{#- The landed columns of relation `rel` by lower-case name (empty when rel is none). -#}
{% macro _landed_columns(rel) -%}
    {%- set landed = {} -%}
    {%- if rel is not none -%}
        {%- for col in adapter.get_columns_in_relation(rel) -%}
            {%- do landed.update({col.name | lower: col}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(landed) }}
{%- endmacro %}


{#- SQL of a raw row's ingested_at in UTC (the base models' dedup_order_at),
    the row read as `alias`; a null timestamp when the column is not landed.
    landed: the raw table's columns (_landed_columns). -#}
{% macro _raw_ingested_at(landed, alias) -%}
    {%- set col = landed.get('ingested_at') -%}
    {%- if col is none -%}
        {{ return('cast(null as ' ~ dbt.type_timestamp() ~ ')') }}
    {%- endif -%}
    {{ return(aimetrics.to_utc_timestamp(alias ~ '.' ~ adapter.quote(col.name), col.dtype)) }}
{%- endmacro %}


{#- SQL of the cleaned key of a raw row read as `alias` (as stage_raw types it:
    an identifier kept as written, blank = null), for a table whose contract
    key is one column; none when that column is not landed. as_landed: the
    landed key cast to text instead, without the blank check: equal to the
    cleaned key except that a blank key stays blank, which no cleaned key
    equals, so `key in (cleaned keys)` selects the same rows without
    trimming every raw row (2 s of 2.4 s on 5.5M events). -#}
{% macro _raw_key(table_name, landed, alias, as_landed=false) -%}
    {%- set key = aimetrics.raw_contract_node(table_name).meta.get('key', []) -%}
    {%- if key | length != 1 -%}
        {{ exceptions.raise_compiler_error("raw table " ~ table_name ~ " has no one-column key: it cannot be staged by key") }}
    {%- endif -%}
    {%- set col = landed.get(key[0] | lower) -%}
    {%- if col is none -%}{{ return(none) }}{%- endif -%}
    {%- set landed_key = alias ~ '.' ~ adapter.quote(col.name) -%}
    {{ return('cast(' ~ landed_key ~ ' as ' ~ dbt.type_string() ~ ')' if as_landed else aimetrics.blank_to_null(landed_key)) }}
{%- endmacro %}


{#- Table-level rules of raw table `table_name`, checked after the
    per-column rules: a list of {when: SQL over the typed columns, true when
    broken; code; column; rule}. -#}
{% macro raw_table_checks(table_name) -%}
    {%- set checks = {
        'interactions': [{'when': 'responded_at < requested_at', 'code': 'out_of_range', 'column': 'responded_at',
                          'rule': 'interactions.responded_at must not be before requested_at'}],
    } -%}
    {{ return(checks.get(table_name, [])) }}
{%- endmacro %}


{#- SELECT of raw table `table_name` typed and checked against the contract:
    every contract column cleaned (text trimmed, empty = null, enums and
    `lowercase` columns lower-cased, timestamps in UTC, numbers cast), its raw
    text as <column>__raw, the first broken rule as reason_code /
    reason_column / reason_rule (null when the row is valid; table-level
    rules from raw_table_checks after the per-column rules), and dedup_rank
    (1 = the copy of its key with the latest ingested_at; rows with a null key
    part are each their own copy). Typing every row of a table with a
    one-column key, only the rows of a key landed more than once (about 1 %
    of events) go through the ranking window; the rest are rank 1 (the
    window over all 56M events of the 10M benchmark took 114 s of query
    time, the split 64 s).
    Every row by default (the base_raw__* models); an incremental run stages
    a subset without typing the rest:
    new_rows_only: only the rows ingested after the last complete run (less
      lookback_days; dedup_rank is then among those rows only);
    keys_in: SQL query of key values (one-column keys): every copy of those
      keys, so dedup_rank is exact for them. -#}
{% macro stage_raw(table_name, new_rows_only=false, keys_in=none) -%}
    {%- set rel = aimetrics.raw_relation(table_name) -%}
    {%- if not execute -%}
        select 1 as placeholder
        {{ return('') }}
    {%- endif -%}
    {%- set node = aimetrics.raw_contract_node(table_name) -%}
    {%- set key = node.meta.get('key', []) -%}
    {%- set landed = aimetrics._landed_columns(rel) -%}
    {%- set columns = node.columns.values() | list -%}
    {%- set checks = [] -%}
    {%- set subset = [] -%}
    {%- if new_rows_only -%}
        {%- do subset.append(aimetrics.is_new_raw_row(aimetrics._raw_ingested_at(landed, 'landed_rows'))) -%}
    {%- endif -%}
    {%- set raw_key = aimetrics._raw_key(table_name, landed, 'landed_rows', as_landed=true)
                      if key | length == 1 and rel is not none else none -%}
    {%- if keys_in is not none and rel is not none -%}
        {%- do subset.append('1 = 0' if raw_key is none else raw_key ~ ' in (' ~ keys_in ~ ')') -%}
    {%- endif -%}
    {#- rank only the copies of keys landed more than once (see above), when
        every row is typed: a subset (an incremental run) is small, and the
        split would read the raw table three times to select it. not exists,
        not `not in`: Postgres plans it as a hash anti-join at any size -#}
    {%- set split_copies = raw_key is not none and not subset -%}
    {#- each branch: its rows (where) and whether they go through the ranking window -#}
    {%- if split_copies -%}
        {%- set branches = [
            {'name': 'typed', 'ranked': false,
             'where': ['not exists (select 1 from copied_keys where copied_keys.key_value = ' ~ raw_key ~ ')']},
            {'name': 'typed_copies', 'ranked': true,
             'where': [raw_key ~ ' in (select key_value from copied_keys)']},
        ] -%}
    {%- else -%}
        {%- set branches = [{'name': 'typed', 'ranked': true, 'where': subset}] -%}
    {%- endif -%}

with
{%- if split_copies %}
copied_keys as (
    select {{ raw_key }} as key_value
    from {{ rel }} as landed_rows
    where {{ raw_key }} is not null
    group by {{ raw_key }}
    having count(*) > 1
),
{%- endif %}
{%- set typed_columns -%}
    {%- for c in columns %}
        {%- set meta = c.meta or {} -%}
        {%- set sql_type = aimetrics._contract_sql_type(c.data_type) -%}
        {%- set lc = landed.get(c.name | lower) -%}
        {%- if lc is none %}
        cast(null as {{ sql_type }}) as {{ c.name }},
        cast(null as {{ dbt.type_string() }}) as {{ c.name }}__raw,
        {%- else -%}
            {%- set raw = 'source.' ~ adapter.quote(lc.name) -%}
            {#- a number or timestamp cast to text is never blank: no trim (1.9 of 5.1 s on 5.6M events) -#}
            {%- set raw_text = ('cast(' ~ raw ~ ' as ' ~ dbt.type_string() ~ ')') if aimetrics._never_blank_type(lc.dtype)
                               else aimetrics.blank_to_null(raw) -%}
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
        {{ aimetrics._raw_ingested_at(landed, 'source') }} as dedup_order_at
{%- endset %}
{%- for branch in branches %}
{{ branch['name'] }} as (
    select
    {{- typed_columns }}
    from (
        {%- if rel is none %}
        select 1 as placeholder where 1 = 0
        {%- else %}
        select * from {{ rel }} as landed_rows
        {%- if branch['where'] %}
        where {% for cond in branch['where'] %}({{ cond }}){% if not loop.last %} and {% endif %}{% endfor %}
        {%- endif %}
        {%- endif %}
    ) as source
),
{%- endfor %}

checked as (
    {%- for branch in branches %}
    select
        {{ branch['name'] }}.*,
        {%- for part in ['code', 'column', 'rule'] %}
        case
            {%- for chk in checks + aimetrics.raw_table_checks(table_name) %}
            when {{ chk['when'] }} then '{{ chk[part] | replace("'", "''") }}'
            {%- endfor %}
        end as reason_{{ part }},
        {%- endfor %}
        {% if key | length > 0 and branch['ranked'] -%}
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
    from {{ branch['name'] }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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


{#- SQL query of the newest ingested_at (in UTC, as dedup_order_at) of raw
    table `table_name`, one row, column ingested_at: a scan of that one
    column, no typing of the other columns. Null when the table or its
    ingested_at column is not landed. -#}
{% macro raw_max_ingested_at(table_name) -%}
    {%- set none_sql = 'select cast(null as ' ~ dbt.type_timestamp() ~ ') as ingested_at' -%}
    {%- if not execute -%}{{ return(none_sql) }}{%- endif -%}
    {%- set rel = aimetrics.raw_relation(table_name) -%}
    {%- if rel is none -%}{{ return(none_sql) }}{%- endif -%}
    {%- set landed = aimetrics._landed_columns(rel) -%}
    {{ return('select max(' ~ aimetrics._raw_ingested_at(landed, 'landed_rows') ~ ') as ingested_at from '
              ~ rel ~ ' as landed_rows') }}
{%- endmacro %}


{#- SQL query of the keys (cleaned, as staged) of raw table `table_name`
    that have a copy ingested after the last complete run (less
    lookback_days): the keys whose deduplicated row may change. Reads the key
    and ingested_at columns only. One-column keys. -#}
{% macro new_raw_keys(table_name) -%}
    {%- set none_sql = 'select cast(null as ' ~ dbt.type_string() ~ ') as key_value where 1 = 0' -%}
    {%- if not execute -%}{{ return(none_sql) }}{%- endif -%}
    {%- set rel = aimetrics.raw_relation(table_name) -%}
    {%- if rel is none -%}{{ return(none_sql) }}{%- endif -%}
    {%- set landed = aimetrics._landed_columns(rel) -%}
    {%- set raw_key = aimetrics._raw_key(table_name, landed, 'new_rows') -%}
    {%- if raw_key is none -%}{{ return(none_sql) }}{%- endif -%}
    {{ return('select ' ~ raw_key ~ ' as key_value from ' ~ rel ~ ' as new_rows where '
              ~ aimetrics.is_new_raw_row(aimetrics._raw_ingested_at(landed, 'new_rows'))) }}
{%- endmacro %}


{#- The rows of base_raw__<table_name> a model reads, as a relation or a
    parenthesised query (give it an alias: Postgres requires one): all of them (a ref to the base model) unless this is
    an incremental run, then only every copy of the keys `keys_in` (SQL query
    of key values) selects, typed by stage_raw: dedup_rank and reason_code
    are then exact for those keys and no other raw row is typed. -#}
{% macro base_rows(table_name, keys_in) -%}
    {%- if aimetrics.incremental_run() -%}
        ({{ aimetrics.stage_raw(table_name, keys_in=keys_in) }})
    {%- else -%}
        {{ ref('base_raw__' ~ table_name) }}
    {%- endif -%}
{%- endmacro %}
