{#- Order test: on every row, `column_name` <= `other_column` (+ tolerance).
    A row where either side is null passes. Used for numerator <= denominator
    (tasks_completed <= tasks_mature), nested counts (outputs <= queries),
    ordered interval bounds (hr_ci_low <= hallucination_rate <= hr_ci_high)
    and timestamps (requested_at <= responded_at).
    Fails with one row per offending row, with both values.
    Arguments (documented in macros/_generic_tests.yml):
      model         the model under test (set by dbt)
      column_name   the smaller side (set by dbt from the column it is on)
      other_column  column name or SQL expression of the larger side
      tolerance     non-negative slack for floating-point noise; default 0
                    (not added at all when 0, so timestamps and dates work) -#}
{% test not_greater_than(model, column_name, other_column, tolerance=0) %}
select
    {{ column_name }} as smaller_side,
    {{ other_column }} as larger_side
from {{ model }}
where {{ column_name }} is not null
  and {{ other_column }} is not null
  and {{ column_name }} > {{ other_column }}{% if tolerance %} + {{ tolerance }}{% endif %}
{% endtest %}
