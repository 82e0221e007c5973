{#- Metric formulas: each formula of ../shared/spec/metrics.md lives in exactly
    one macro here, dispatched so a team can override it. Arguments are SQL
    expressions; documentation in macros/_macros.yml. -#}

{#- numerator / denominator as a double; null when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'aimetrics')(numerator, denominator)) }}
{%- endmacro %}
{% macro default__safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ aimetrics.type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- TCR: mature tasks completed with no intervention / mature tasks. -#}
{% macro task_completion_rate(tasks_completed, tasks_mature) -%}
    {{ return(adapter.dispatch('task_completion_rate', 'aimetrics')(tasks_completed, tasks_mature)) }}
{%- endmacro %}
{% macro default__task_completion_rate(tasks_completed, tasks_mature) -%}
    {{ aimetrics.safe_divide(tasks_completed, tasks_mature) }}
{%- endmacro %}

{#- HR: outputs adjudicated hallucinated / outputs with a hallucination verdict. -#}
{% macro hallucination_rate(hallucinated_outputs, reviewed_outputs) -%}
    {{ return(adapter.dispatch('hallucination_rate', 'aimetrics')(hallucinated_outputs, reviewed_outputs)) }}
{%- endmacro %}
{% macro default__hallucination_rate(hallucinated_outputs, reviewed_outputs) -%}
    {{ aimetrics.safe_divide(hallucinated_outputs, reviewed_outputs) }}
{%- endmacro %}

{#- HitL-F: 100 * intervention events / queries. -#}
{% macro hitl_frequency(interventions, queries) -%}
    {{ return(adapter.dispatch('hitl_frequency', 'aimetrics')(interventions, queries)) }}
{%- endmacro %}
{% macro default__hitl_frequency(interventions, queries) -%}
    (100 * {{ aimetrics.safe_divide(interventions, queries) }})
{%- endmacro %}

{#- CPVO: total cost / valid outputs. -#}
{% macro cost_per_valid_output(total_cost_usd, valid_outputs) -%}
    {{ return(adapter.dispatch('cost_per_valid_output', 'aimetrics')(total_cost_usd, valid_outputs)) }}
{%- endmacro %}
{% macro default__cost_per_valid_output(total_cost_usd, valid_outputs) -%}
    {{ aimetrics.safe_divide(total_cost_usd, valid_outputs) }}
{%- endmacro %}

{#- RΔ in points: 100 * (retention of the first group - retention of the second). -#}
{% macro retention_delta_pts(retention_a, retention_b) -%}
    {{ return(adapter.dispatch('retention_delta_pts', 'aimetrics')(retention_a, retention_b)) }}
{%- endmacro %}
{% macro default__retention_delta_pts(retention_a, retention_b) -%}
    (100 * ({{ retention_a }} - {{ retention_b }}))
{%- endmacro %}

{#- An edit is substantive when edit_distance / output_chars >= ratio, or when
    either number is missing, or when output_chars is 0 (the ratio is
    undefined; unknown size counts against the output). -#}
{% macro is_substantive_edit(edit_distance, output_chars, ratio=none) -%}
    {{ return(adapter.dispatch('is_substantive_edit', 'aimetrics')(edit_distance, output_chars, ratio)) }}
{%- endmacro %}
{% macro default__is_substantive_edit(edit_distance, output_chars, ratio) -%}
    {%- set r = ratio if ratio is not none else var('substantive_edit_ratio') -%}
    ({{ edit_distance }} is null or {{ output_chars }} is null or {{ output_chars }} = 0
     or cast({{ edit_distance }} as {{ aimetrics.type_double() }}) / {{ output_chars }} >= cast({{ r }} as {{ aimetrics.type_double() }}))
{%- endmacro %}


{#- Wilson score interval for x successes in n trials (95% by default):
    bounds of a proportion, null when n = 0; exactly 0 (lower) when x = 0 and
    exactly 1 (upper) when x = n. -#}
{% macro wilson_low(successes, trials, z=none) -%}
    {{ return(adapter.dispatch('wilson_bound', 'aimetrics')(successes, trials, -1, z)) }}
{%- endmacro %}
{% macro wilson_high(successes, trials, z=none) -%}
    {{ return(adapter.dispatch('wilson_bound', 'aimetrics')(successes, trials, 1, z)) }}
{%- endmacro %}
{% macro default__wilson_bound(successes, trials, sign, z) -%}
    {#- the literal is cast: some engines (DuckDB) read it as a DECIMAL and lose precision;
        the bounds are set exactly at x = 0 and x = n, where the formula is exact only up to rounding -#}
    {%- set z = 'cast(' ~ (z if z is not none else var('wilson_z')) ~ ' as ' ~ aimetrics.type_double() ~ ')' -%}
    {%- set n = 'cast(' ~ trials ~ ' as ' ~ aimetrics.type_double() ~ ')' -%}
    {%- set p = aimetrics.safe_divide(successes, trials) -%}
    (case
        when not {{ trials }} > 0 then null
        when {{ successes }} {{ '>=' if sign > 0 else '<=' }} {{ trials if sign > 0 else 0 }} then {{ 1 if sign > 0 else 0 }}
        else
        ({{ p }} + {{ z }} * {{ z }} / (2 * {{ n }})
            {{ '+' if sign > 0 else '-' }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z }} * {{ z }} / (4 * {{ n }} * {{ n }})))
        / (1 + {{ z }} * {{ z }} / {{ n }})
    end)
{%- endmacro %}


{#- Newcombe's hybrid score interval (method 10) for p1 - p2, p1 = x1 / n1,
    p2 = x2 / n2, from the two Wilson intervals; multiplied by scale (100 for
    points). Null when either n is 0. -#}
{% macro newcombe_low(x1, n1, x2, n2, scale=1, z=none) -%}
    {{ return(adapter.dispatch('newcombe_bound', 'aimetrics')(x1, n1, x2, n2, -1, scale, z)) }}
{%- endmacro %}
{% macro newcombe_high(x1, n1, x2, n2, scale=1, z=none) -%}
    {{ return(adapter.dispatch('newcombe_bound', 'aimetrics')(x1, n1, x2, n2, 1, scale, z)) }}
{%- endmacro %}
{% macro default__newcombe_bound(x1, n1, x2, n2, sign, scale, z) -%}
    {%- set p1 = aimetrics.safe_divide(x1, n1) -%}
    {%- set p2 = aimetrics.safe_divide(x2, n2) -%}
    {%- if sign < 0 -%}
        {%- set a = '(' ~ p1 ~ ' - ' ~ aimetrics.wilson_low(x1, n1, z) ~ ')' -%}
        {%- set b = '(' ~ aimetrics.wilson_high(x2, n2, z) ~ ' - ' ~ p2 ~ ')' -%}
    {%- else -%}
        {%- set a = '(' ~ aimetrics.wilson_high(x1, n1, z) ~ ' - ' ~ p1 ~ ')' -%}
        {%- set b = '(' ~ p2 ~ ' - ' ~ aimetrics.wilson_low(x2, n2, z) ~ ')' -%}
    {%- endif -%}
    (case when {{ n1 }} > 0 and {{ n2 }} > 0 then
        {{ scale }} * (({{ p1 }} - {{ p2 }}) {{ '+' if sign > 0 else '-' }} sqrt({{ a }} * {{ a }} + {{ b }} * {{ b }}))
    end)
{%- endmacro %}


{#- Status of a metric value against its thresholds: insufficient_data when
    the value is null or the denominator is below min_sample; healthy on the
    healthy side of (or equal to) the healthy bound; critical strictly beyond
    the critical bound; else at_risk. direction: a SQL expression holding
    'higher_is_better' or 'lower_is_better'. -#}
{% macro metric_status(value, direction, healthy, critical, denominator, min_sample=none) -%}
    {{ return(adapter.dispatch('metric_status', 'aimetrics')(value, direction, healthy, critical, denominator, min_sample)) }}
{%- endmacro %}
{% macro default__metric_status(value, direction, healthy, critical, denominator, min_sample) -%}
    {%- set m = min_sample if min_sample is not none else var('min_sample') -%}
    (case
        when {{ value }} is null or coalesce({{ denominator }}, 0) < {{ m }} then 'insufficient_data'
        when {{ direction }} = 'higher_is_better' and {{ value }} >= {{ healthy }} then 'healthy'
        when {{ direction }} = 'lower_is_better' and {{ value }} <= {{ healthy }} then 'healthy'
        when {{ direction }} = 'higher_is_better' and {{ value }} < {{ critical }} then 'critical'
        when {{ direction }} = 'lower_is_better' and {{ value }} > {{ critical }} then 'critical'
        else 'at_risk'
    end)
{%- endmacro %}
