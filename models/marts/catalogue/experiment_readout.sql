-- A/B readout: one row per experiment_id x variant (queries carry them;
-- a task belongs to the arm of its first query). For each arm, the headline
-- metrics with 95% intervals: TCR, HR and acceptance rate (Wilson), HitL-F
-- (normal interval of the mean interventions per query) and CPVO (delta
-- method for a ratio of sums, query cost only: infra cost is not allocated to
-- arms); TTA's median is reported without an interval. Each arm's difference
-- from the experiment's control arm (the variant named `control`, else the
-- first alphabetically; a null variant sorts last on every engine, Spark
-- included), variant - control, with a 95% interval (Newcombe for
-- proportions, normal with summed variances otherwise) and whether the
-- interval excludes zero; the control row's differences are null.
{%- set proportions = [
    {'name': 'tcr', 'numerator': 'tasks_completed', 'denominator': 'tasks_mature'},
    {'name': 'hallucination_rate', 'numerator': 'hallucinated_outputs', 'denominator': 'reviewed_outputs'},
    {'name': 'acceptance_rate', 'numerator': 'accepted_outputs', 'denominator': 'outputs'},
] %}
{%- set d = aimetrics.type_double() %}

with query_arms as (
    select
        experiment_id,
        variant,
        count(*) as queries,
        sum(case when is_output then 1 else 0 end) as outputs,
        sum(case when has_hallucination_verdict then 1 else 0 end) as reviewed_outputs,
        sum(case when has_hallucination_verdict and is_hallucinated then 1 else 0 end) as hallucinated_outputs,
        sum(case when is_accepted then 1 else 0 end) as accepted_outputs,
        sum(interventions) as interventions,
        sum(interventions * interventions) as interventions_sq,
        sum(cost_usd) as total_cost_usd,
        sum(cost_usd * cost_usd) as cost_sq,
        sum(case when is_valid_output then 1 else 0 end) as valid_outputs,
        sum(case when is_valid_output then cost_usd else 0 end) as valid_cost
    from {{ ref('fct_interactions') }}
    where experiment_id is not null
    group by experiment_id, variant
),

task_arms as (
    select
        first_queries.experiment_id,
        first_queries.variant,
        sum(case when tasks.is_mature then 1 else 0 end) as tasks_mature,
        sum(case when tasks.is_mature and tasks.is_completed_clean then 1 else 0 end) as tasks_completed,
        sum(case when tasks.is_mature and tasks.tta_s is not null then 1 else 0 end) as tta_tasks,
        {{ aimetrics.percentile_cont('case when tasks.is_mature then tasks.tta_s end', 0.5) }} as tta_p50_s
    from {{ ref('fct_tasks') }} as tasks
    inner join {{ ref('fct_interactions') }} as first_queries
        on tasks.first_interaction_id = first_queries.interaction_id
    where first_queries.experiment_id is not null
    group by first_queries.experiment_id, first_queries.variant
),

arms as (
    select
        query_arms.*,
        coalesce(task_arms.tasks_mature, 0) as tasks_mature,
        coalesce(task_arms.tasks_completed, 0) as tasks_completed,
        coalesce(task_arms.tta_tasks, 0) as tta_tasks,
        task_arms.tta_p50_s
    from query_arms
    left join task_arms
        on query_arms.experiment_id = task_arms.experiment_id
        and coalesce(query_arms.variant, '') = coalesce(task_arms.variant, '')
        and (query_arms.variant is null) = (task_arms.variant is null)
),

estimated as (
    select
        arms.*,
        {{ aimetrics.hitl_frequency('interventions', 'queries') }} as hitl_f,
        100 * {{ aimetrics.mean_standard_error('interventions', 'interventions_sq', 'queries') }} as hitl_f_se,
        {{ aimetrics.cost_per_valid_output('total_cost_usd', 'valid_outputs') }} as cpvo,
        {{ aimetrics.ratio_standard_error('total_cost_usd', 'valid_outputs', 'cost_sq', 'valid_outputs', 'valid_cost', 'queries') }}
            as cpvo_se,
        row_number() over (
            partition by experiment_id
            order by case when variant = 'control' then 0 else 1 end, variant nulls last
        ) as control_rank
    from arms
),

with_control as (
    select
        arm.*,
        control.variant as control_variant,
        {%- for p in proportions %}
        control.{{ p.numerator }} as control_{{ p.numerator }},
        control.{{ p.denominator }} as control_{{ p.denominator }},
        {%- endfor %}
        control.hitl_f as control_hitl_f,
        control.hitl_f_se as control_hitl_f_se,
        control.cpvo as control_cpvo,
        control.cpvo_se as control_cpvo_se,
        control.tta_p50_s as control_tta_p50_s
    from estimated as arm
    inner join estimated as control
        on arm.experiment_id = control.experiment_id
        and control.control_rank = 1
)

select
    experiment_id,
    variant,
    control_variant,
    control_rank = 1 as is_control,
    cast(queries as {{ dbt.type_bigint() }}) as queries,
    cast(outputs as {{ dbt.type_bigint() }}) as outputs,
    cast(tasks_mature as {{ dbt.type_bigint() }}) as tasks_mature,
    cast(tasks_completed as {{ dbt.type_bigint() }}) as tasks_completed,
    cast(reviewed_outputs as {{ dbt.type_bigint() }}) as reviewed_outputs,
    cast(hallucinated_outputs as {{ dbt.type_bigint() }}) as hallucinated_outputs,
    cast(accepted_outputs as {{ dbt.type_bigint() }}) as accepted_outputs,
    cast(interventions as {{ dbt.type_bigint() }}) as interventions,
    cast(total_cost_usd as {{ d }}) as total_cost_usd,
    cast(valid_outputs as {{ dbt.type_bigint() }}) as valid_outputs,
    cast(tta_tasks as {{ dbt.type_bigint() }}) as tta_tasks,
    {%- for p in proportions %}
    cast({{ aimetrics.safe_divide(p.numerator, p.denominator) }} as {{ d }}) as {{ p.name }},
    cast({{ aimetrics.wilson_low(p.numerator, p.denominator) }} as {{ d }}) as {{ p.name }}_ci_low,
    cast({{ aimetrics.wilson_high(p.numerator, p.denominator) }} as {{ d }}) as {{ p.name }}_ci_high,
    cast(case when control_rank > 1 then {{ aimetrics.safe_divide(p.numerator, p.denominator) }}
        - {{ aimetrics.safe_divide('control_' ~ p.numerator, 'control_' ~ p.denominator) }} end as {{ d }})
        as {{ p.name }}_diff,
    cast(case when control_rank > 1 then {{ aimetrics.newcombe_low(p.numerator, p.denominator,
        'control_' ~ p.numerator, 'control_' ~ p.denominator) }} end as {{ d }}) as {{ p.name }}_diff_ci_low,
    cast(case when control_rank > 1 then {{ aimetrics.newcombe_high(p.numerator, p.denominator,
        'control_' ~ p.numerator, 'control_' ~ p.denominator) }} end as {{ d }}) as {{ p.name }}_diff_ci_high,
    case when control_rank > 1 then
        ({{ aimetrics.newcombe_low(p.numerator, p.denominator, 'control_' ~ p.numerator, 'control_' ~ p.denominator) }} > 0
         or {{ aimetrics.newcombe_high(p.numerator, p.denominator, 'control_' ~ p.numerator, 'control_' ~ p.denominator) }} < 0)
    end as {{ p.name }}_diff_excludes_zero,
    {%- endfor %}
    {%- for m in ['hitl_f', 'cpvo'] %}
    {%- set diff_se = 'sqrt(' ~ m ~ '_se * ' ~ m ~ '_se + control_' ~ m ~ '_se * control_' ~ m ~ '_se)' %}
    cast({{ m }} as {{ d }}) as {{ m }},
    cast({{ aimetrics.normal_ci_low(m, m ~ '_se') }} as {{ d }}) as {{ m }}_ci_low,
    cast({{ aimetrics.normal_ci_high(m, m ~ '_se') }} as {{ d }}) as {{ m }}_ci_high,
    cast(case when control_rank > 1 then {{ m }} - control_{{ m }} end as {{ d }}) as {{ m }}_diff,
    cast(case when control_rank > 1 then {{ aimetrics.normal_ci_low(m ~ ' - control_' ~ m, diff_se) }} end as {{ d }})
        as {{ m }}_diff_ci_low,
    cast(case when control_rank > 1 then {{ aimetrics.normal_ci_high(m ~ ' - control_' ~ m, diff_se) }} end as {{ d }})
        as {{ m }}_diff_ci_high,
    case when control_rank > 1 then
        ({{ aimetrics.normal_ci_low(m ~ ' - control_' ~ m, diff_se) }} > 0
         or {{ aimetrics.normal_ci_high(m ~ ' - control_' ~ m, diff_se) }} < 0)
    end as {{ m }}_diff_excludes_zero,
    {%- endfor %}
    cast(tta_p50_s as {{ d }}) as tta_p50_s,
    cast(case when control_rank > 1 then tta_p50_s - control_tta_p50_s end as {{ d }}) as tta_p50_s_diff
from with_control
