{#- Range test: every non-null value of `column_name` lies in
    [min_value - tolerance, max_value + tolerance]. Null passes. Either bound
    may be omitted (none = unbounded on that side). `tolerance` absorbs
    floating-point noise in computed values (e.g. a Wilson bound of -4e-17 at
    p = 0); it defaults to 0 (exact bounds).
    Fails with one row per offending value.
    Arguments (documented in macros/_generic_tests.yml):
      model         the model under test (set by dbt)
      column_name   the column (or SQL expression) under test (set by dbt)
      min_value     inclusive lower bound, a number; none = no lower bound
      max_value     inclusive upper bound, a number; none = no upper bound
      tolerance     non-negative slack added outside both bounds; default 0 -#}
{% test between(model, column_name, min_value=none, max_value=none, tolerance=0) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("between needs min_value, max_value or both") }}
    {%- endif %}
select {{ column_name }} as value_out_of_range
from {{ model }}
where {{ column_name }} is not null
  and (
    {%- if min_value is not none %}
        {{ column_name }} < {{ min_value }}{% if tolerance %} - {{ tolerance }}{% endif %}
    {%- endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %}
        {{ column_name }} > {{ max_value }}{% if tolerance %} + {{ tolerance }}{% endif %}
    {%- endif %}
  )
{% endtest %}
