{#- Incremental builds (README "Incremental runs"). The incremental models
    are partitioned by a date; a run rewrites every partition whose date is
    in int_incremental_scope (the dates touched by raw rows ingested since the
    last complete run, minus var('lookback_days')), so the strategy
    (pre-hook delete of those dates then append, or insert_overwrite of
    those partitions on Spark) never changes the result. -#}


{#- Config of an incremental model rewritten by `date_column` (its
    unique_key: the grain whose rows are replaced): the one place the
    strategy is chosen. DuckDB, Postgres: every row of a touched date is
    deleted by the pre-hook (also the dates left with no rows), then the new
    rows appended (`append`: dbt's delete+insert would scan the table a
    second time to delete the same dates); on Spark/Databricks
    insert_overwrite of the date partitions. days_before: the model also
    rewrites the rows of up to that many days before each touched date. -#}
{% macro incremental_by_date(date_column, days_before=0) -%}
    {%- set spark = target.type in ('spark', 'databricks') -%}
    {%- set config = {'materialized': 'incremental', 'unique_key': date_column,
                      'incremental_strategy': 'insert_overwrite' if spark else 'append'} -%}
    {%- if spark -%}
        {%- do config.update({'partition_by': [date_column]}) -%}
    {%- else -%}
        {#- same transaction as the model -#}
        {%- do config.update({'pre_hook': "{{ aimetrics.delete_touched_dates('" ~ date_column ~ "', "
                                          ~ days_before ~ ") }}"}) -%}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}


{#- The pre-hook SQL of an appending incremental model: `delete_sql` (the
    rows this run rewrites) on an incremental run; on a run that rebuilds
    every row into an existing table (no complete run recorded, e.g. after
    a killed first build) every row, so nothing is appended twice; nothing
    (select 1) when the table is created. -#}
{% macro delete_rows_to_rewrite(delete_sql) -%}
    {%- if incremental_run() -%}
    {{ delete_sql }}
    {%- elif this is not none and is_incremental() -%}
    delete from {{ this }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}


{#- Config of an incremental model of weekly rows (or of rows whose partition
    date falls in a week that is rebuilt whole): a run rewrites every week
    holding a touched date, and the `weeks_after` weeks after each (for a row
    that compares a week with the previous one). Same strategy as
    incremental_by_date; the pre-hook deletes the rewritten weeks. The model
    must output every row of those weeks: filter its inputs with
    in_touched_weeks and its output with in_touched_weeks(date_column,
    weeks_after=weeks_after). -#}
{% macro incremental_by_week(date_column, weeks_after=0) -%}
    {%- set config = aimetrics.incremental_by_date(date_column) -%}
    {%- if 'pre_hook' in config -%}
        {%- do config.update({'pre_hook': "{{ aimetrics.delete_touched_weeks('" ~ date_column ~ "', "
                                          ~ weeks_after ~ ") }}"}) -%}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}


{#- pre-hook of incremental_by_week models: on an incremental run, delete
    every row whose week is rewritten (touched weeks and weeks_after after). -#}
{% macro delete_touched_weeks(date_column, weeks_after=0) -%}
    {{ aimetrics.delete_rows_to_rewrite(
        'delete from ' ~ this ~ ' where ' ~ aimetrics.in_touched_weeks(date_column, weeks_after=weeks_after)
        if incremental_run() else none) }}
{%- endmacro %}


{#- SQL predicate for an incremental_by_week model: the ISO week of
    `date_column` holds a touched date, or is up to `weeks_before` weeks
    before / `weeks_after` weeks after such a week. True on a full build.
    Models calling it declare `-- depends_on: {{ ref('int_incremental_scope') }}`. -#}
{% macro in_touched_weeks(date_column, weeks_before=0, weeks_after=0) -%}
    {%- if incremental_run() -%}
        {%- set scope = ref('int_incremental_scope') -%}
        {{ aimetrics.week_start(date_column) }} in (
            {%- for k in range(-weeks_after, weeks_before + 1) %}
            select {{ aimetrics.week_start('touched_date') if k == 0
                      else aimetrics.add_days(aimetrics.week_start('touched_date'), -7 * k) }} from {{ scope }}
            {%- if not loop.last %} union{% endif %}
            {%- endfor %})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- pre-hook of the incremental models: on an incremental run, delete every
    row of a touched date, so a date whose rows all left (a query replayed as
    invalid, a user marked internal) does not keep them. -#}
{% macro delete_touched_dates(date_column, days_before=0) -%}
    {{ aimetrics.delete_rows_to_rewrite(
        'delete from ' ~ this ~ ' where ' ~ aimetrics.in_touched_dates(date_column, days_before=days_before)
        if incremental_run() else none) }}
{%- endmacro %}


{#- The table that records, after each complete run, how far raw data has
    been processed (loaded_through = the newest ingested_at the run saw).
    Written only by record_incremental_watermark (on-run-end). -#}
{% macro watermark_relation() -%}
    {#- beside int_incremental_scope: its database and schema as dbt resolved them
        (target.database is undefined on Spark) -#}
    {%- set scope = graph.nodes['model.aimetrics.int_incremental_scope'] -%}
    {{ return(api.Relation.create(database=scope.database, schema=scope.schema,
                                  identifier='aimetrics_incremental_watermark')) }}
{%- endmacro %}


{#- The newest loaded_through of a complete run, as a Jinja value; none when
    no complete run is recorded (then every model rebuilds all its dates). -#}
{% macro previous_watermark() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set rel = watermark_relation() -%}
    {%- if adapter.get_relation(database=rel.database, schema=rel.schema, identifier=rel.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = run_query('select max(loaded_through) from ' ~ rel).columns[0].values()[0] -%}
    {{ return(value) }}
{%- endmacro %}


{#- The built relation of model `model_name` (none when not built yet), read
    without ref(): int_incremental_scope reads the previous state of models
    that run after it. -#}
{% macro built_model(model_name) -%}
    {%- set node = graph.nodes['model.aimetrics.' ~ model_name] -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}


{#- Names of the incremental models: those int_incremental_scope reads the
    previous state of, and whose success on-run-end requires. -#}
{% macro incremental_models() -%}
    {%- set names = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do names.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names | sort) }}
{%- endmacro %}


{#- True when this run can be incremental: a complete run is recorded and
    every incremental model is built. Otherwise every model rebuilds all
    its dates (a missing model cannot report its previous state). -#}
{% macro incremental_state_ready() -%}
    {%- if not execute or previous_watermark() is none -%}{{ return(false) }}{%- endif -%}
    {%- for name in incremental_models() -%}
        {%- if built_model(name) is none -%}{{ return(false) }}{%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}


{#- SQL predicate: the raw row (its ingested_at as `ingested_column`) arrived
    after the last complete run, less var('lookback_days'). Rows without an
    ingested_at never match: only a full refresh picks them up. -#}
{% macro is_new_raw_row(ingested_column) -%}
    {{ ingested_column }} > {{ dbt.dateadd('day', -1 * var('lookback_days'),
        "cast('" ~ previous_watermark() ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}


{#- True when this model run rewrites only the touched dates (an incremental
    run with a recorded complete run); false on a full build. -#}
{% macro incremental_run() -%}
    {%- if this is none or model.resource_type == 'unit_test' -%}{{ return(false) }}{%- endif -%}
    {{ return(is_incremental() and incremental_state_ready()) }}
{%- endmacro %}


{#- SQL predicate for an incremental model: `date_column` is a touched date,
    or up to `days_before` days before / `days_after` days after one. True on
    a full build. Put it on the model's inputs, so a run reads only what the
    touched dates need; the model must still output every row of its
    touched dates. Models calling it declare
    `-- depends_on: {{ ref('int_incremental_scope') }}`. -#}
{% macro in_touched_dates(date_column, days_before=0, days_after=0) -%}
    {%- if incremental_run() -%}
        {%- set scope = ref('int_incremental_scope') -%}
        {%- if days_before == 0 and days_after == 0 -%}
        {{ date_column }} in (select touched_date from {{ scope }})
        {%- else -%}
        {{ date_column }} in (
            {%- for k in range(-days_after, days_before + 1) %}
            select {{ aimetrics.add_days('touched_date', -k) }} from {{ scope }}
            {%- if not loop.last %} union{% endif %}
            {%- endfor %})
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- on-run-start: refuse `--full-refresh` unless var allow_full_refresh is
    true. A full refresh rebuilds every incremental model from all raw data. -#}
{% macro guard_full_refresh() -%}
    {%- if execute and flags.FULL_REFRESH and not var('allow_full_refresh') -%}
        {{ exceptions.raise_compiler_error(
            "--full-refresh rebuilds the incremental facts and marts from all raw data. "
            ~ "Daily runs do not need it (late and replayed rows are picked up incrementally). "
            ~ "To do it anyway: dbt build --full-refresh --vars '{allow_full_refresh: true}' "
            ~ "(or aimetrics build --full-refresh).") }}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- on-run-end: when every incremental model ran and succeeded in this
    invocation, record the newest ingested_at it saw (int_incremental_scope),
    so the next run starts from there. A partial selection or a failure
    records nothing: the next complete run reprocesses from the previous
    watermark, and rewriting a date twice gives the same rows. -#}
{% macro record_incremental_watermark(results) -%}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set succeeded = [] -%}
    {%- for res in results -%}
        {%- if res.node.resource_type == 'model' and res.status == 'success' -%}
            {%- do succeeded.append(res.node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set required = incremental_models() + ['int_incremental_scope'] -%}
    {%- for name in required -%}
        {%- if name not in succeeded -%}{{ return('select 1') }}{%- endif -%}
    {%- endfor -%}
    {%- set rel = watermark_relation() -%}
    {%- do adapter.create_schema(rel) -%}
    {%- do run_query('create table if not exists ' ~ rel ~ ' (loaded_through ' ~ dbt.type_timestamp()
                     ~ ', invocation_id ' ~ dbt.type_string() ~ ')') -%}
    insert into {{ rel }} (loaded_through, invocation_id)
    select max(loaded_through), '{{ invocation_id }}'
    from {{ built_model('int_incremental_scope') }}
    having max(loaded_through) is not null
{%- endmacro %}


{#- Config of a staging model of raw table `table_name` kept as a table of
    deduplicated rows by its contract key, `key_column`: on an incremental run
    every key with a copy among the new raw rows is deleted (pre-hook, also
    the keys whose new winner is invalid) and its valid winner, recomputed
    from all its copies, appended (strategy append after the pre-hook's
    delete: the key is the unique_key, replaced as a whole). Spark and
    Databricks (no key-based merge without Delta): a view, as before. -#}
{% macro incremental_by_raw_key(table_name, key_column) -%}
    {%- if target.type in ('spark', 'databricks') -%}
        {{ return({'materialized': 'view'}) }}
    {%- endif -%}
    {{ return({'materialized': 'incremental', 'unique_key': key_column, 'incremental_strategy': 'append',
               'pre_hook': "{{ aimetrics.delete_new_keys('" ~ table_name ~ "', '" ~ key_column ~ "') }}"}) }}
{%- endmacro %}


{#- pre-hook of the staging tables (incremental_by_raw_key): on an
    incremental run, delete every row whose key has a copy among the new raw
    rows, so a key whose new winner is invalid leaves the table. -#}
{% macro delete_new_keys(table_name, key_column) -%}
    {{ aimetrics.delete_rows_to_rewrite(
        'delete from ' ~ this ~ ' where ' ~ key_column ~ ' in (' ~ aimetrics.new_raw_keys(table_name) ~ ')'
        if incremental_run() else none) }}
{%- endmacro %}
