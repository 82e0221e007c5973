{#- Grain test: no two rows of `model` share the same values of
    `combination_of_columns` (a list of column names or SQL expressions).
    Nulls are compared as equal (rows with null in the same key part and equal
    other parts count as duplicates), which is stricter than `unique`.
    Fails with one row per duplicated combination and its row count.
    Arguments (documented in macros/_generic_tests.yml):
      model                   the model under test (set by dbt)
      combination_of_columns  list of column names forming the grain -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- if combination_of_columns is string -%}
        {%- set combination_of_columns = [combination_of_columns] -%}
    {%- endif -%}
    {%- if combination_of_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("unique_combination_of_columns needs at least one column") }}
    {%- endif %}
select
    {%- for column in combination_of_columns %}
    {{ column }},
    {%- endfor %}
    count(*) as n_records
from {{ model }}
group by
    {%- for column in combination_of_columns %}
    {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
having count(*) > 1
{% endtest %}
