-- Baseline for the benchmark (`aimetrics bench`): the L6 columns of
-- marts.metrics_daily computed by ONE hand-written DuckDB script, straight from
-- the raw tables as `aimetrics load` lands them (typed columns) and the seed
-- CSV files. It is the engine's own limit for this work: no dbt, no
-- intermediate tables, one statement the optimizer sees whole.
--
-- Written from ../shared/spec/metrics.md and raw-contract.md (and the readings
-- of ambiguous spec text recorded in DECISIONLOG.md), NOT from the dbt models,
-- so that its agreement with the mart means something. Run from the project
-- root (it reads seeds/*.csv); writes bench_baseline.metrics_daily_l6.
-- Vars are the dbt defaults: maturity 24 h, window 5 min, edit ratio 0.10.

create schema if not exists bench_baseline;

-- whitespace per DECISIONLOG: space, tab, LF, VT, FF, CR
create or replace temp macro ws() as ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13);
-- a string empty after trimming is missing; identifiers otherwise as written
create or replace temp macro nb(s) as case when trim(s, ws()) = '' then null else s end;
-- enums: trimmed and lower-cased
create or replace temp macro en(s) as nullif(lower(trim(s, ws())), '');

create or replace table bench_baseline.metrics_daily_l6 as
with
-- ---------------------------------------------------------------- users
users_ranked as (
    select nb(user_id) as user_id, en(ai_access) as ai_access, is_internal,
           row_number() over (partition by user_id) as copy_rank
    from raw.users
),
internal_users as (  -- a quarantined users row counts as missing (not internal)
    select user_id from users_ranked
    where copy_rank = 1 and user_id is not null
      and (ai_access is null or ai_access in ('treatment', 'holdout'))
      and is_internal
),
-- ---------------------------------------------------------------- queries
inter_ranked as (
    select
        nb(interaction_id) as interaction_id, nb(task_id) as task_id, nb(user_id) as user_id,
        nb(feature) as feature, nb(model) as model, requested_at, responded_at,
        en(status) as status, input_tokens, output_tokens, cost_usd, confidence,
        coalesce(attempt, 1) as attempt, attempt as attempt_raw,
        -- latest ingested_at wins, null oldest; a null id is its own copy
        case when nb(interaction_id) is null then 1 else row_number() over (
            partition by interaction_id order by ingested_at desc nulls last) end as copy_rank
    from raw.interactions
),
queries as (
    select q.interaction_id, q.task_id, q.user_id, q.feature, q.model, q.requested_at,
           q.status, q.attempt, q.input_tokens, q.output_tokens, q.cost_usd,
           cast(q.requested_at as date) as q_date
    from inter_ranked q
    where q.copy_rank = 1
      and q.interaction_id is not null and q.task_id is not null and q.user_id is not null
      and q.feature is not null and q.model is not null and q.requested_at is not null
      and q.status in ('ok', 'error', 'timeout', 'refused', 'filtered')
      and (q.input_tokens is null or q.input_tokens >= 0)
      and (q.output_tokens is null or q.output_tokens >= 0)
      and (q.cost_usd is null or q.cost_usd >= 0)
      and (q.confidence is null or q.confidence between 0 and 1)
      and (q.attempt_raw is null or q.attempt_raw >= 1)
      and (q.responded_at is null or q.responded_at >= q.requested_at)
      and q.user_id not in (select user_id from internal_users)
),
latest_request as (select max(requested_at) as max_requested_at from queries),
-- first query of each task by (requested_at, attempt, interaction_id)
task_first as (
    select task_id,
           arg_min(feature, (requested_at, attempt, interaction_id)) as feature,
           arg_min(model, (requested_at, attempt, interaction_id)) as model,
           arg_min(interaction_id, (requested_at, attempt, interaction_id)) as first_query_id,
           min(requested_at) as first_requested_at
    from queries group by task_id
),
task_first_output as (
    select task_id, arg_min(interaction_id, (requested_at, attempt, interaction_id)) as first_output_id
    from queries where status = 'ok' group by task_id
),
-- per task and request instant, the output that sorts last (ties on requested_at)
outputs_by_instant as (
    select task_id, requested_at, arg_max(interaction_id, (attempt, interaction_id)) as interaction_id
    from queries where status = 'ok' group by task_id, requested_at
),
-- ---------------------------------------------------------------- events
event_ranked as (
    select nb(event_id) as event_id, nb(user_id) as user_id, occurred_at,
           en(event_type) as event_type, nb(task_id) as task_id, nb(interaction_id) as interaction_id,
           edit_distance, output_chars,
           case when nb(event_id) is null then 1 else row_number() over (
               partition by event_id order by ingested_at desc nulls last) end as copy_rank
    from raw.user_events
),
roles as (
    select en(event_type) as event_type, any_value(en(role)) as role
    from read_csv('seeds/event_roles.csv', header = true, all_varchar = true)
    group by en(event_type)
),
events as (
    select e.event_id, e.occurred_at, e.task_id as e_task_id, e.interaction_id as e_interaction_id,
           coalesce(r.role, 'activity') as role,
           -- substantive: ratio >= 0.10, or a size unknown (null) or zero
           (e.edit_distance is null or e.output_chars is null or e.output_chars = 0
            or e.edit_distance >= 0.10 * e.output_chars) as substantive
    from event_ranked e
    left join roles r on r.event_type = e.event_type
    where e.copy_rank = 1 and e.event_id is not null and e.user_id is not null
      and e.occurred_at is not null and e.event_type is not null
      and (e.edit_distance is null or e.edit_distance >= 0)
      and (e.output_chars is null or e.output_chars >= 0)
      and e.user_id not in (select user_id from internal_users)
),
-- the event's task (its task_id when known, else its query's task) and, when
-- its interaction_id names a known query, that query
events_resolved as (
    select e.*, q.interaction_id as named_query_id,
           case when tk.task_id is not null then tk.task_id else q.task_id end as ev_task_id,
           case when e.role in ('output_edited', 'escalated', 'manual_fallback')
                then (e.role <> 'output_edited' or e.substantive) else false end as is_intervention,
           case when e.role in ('output_rejected', 'regenerated', 'reprompted', 'escalated',
                                'manual_fallback', 'feedback_negative') then true
                when e.role = 'output_edited' then e.substantive else false end as is_corrective
    from events e
    left join task_first tk on tk.task_id = e.e_task_id
    left join queries q on q.interaction_id = e.e_interaction_id
),
-- an event with only a task: the task's latest output requested at or before it
events_asof as (
    select er.*, o.interaction_id as asof_output_id
    from events_resolved er
    asof left join outputs_by_instant o
        on o.task_id = er.ev_task_id and er.occurred_at >= o.requested_at
),
events_concerned as (
    select ea.event_id, ea.occurred_at, ea.role, ea.ev_task_id, ea.is_intervention, ea.is_corrective,
           case when ea.named_query_id is not null then ea.named_query_id
                when ea.ev_task_id is not null
                    then coalesce(ea.asof_output_id, tfo.first_output_id, tf.first_query_id)
           end as concerned_id
    from events_asof ea
    left join task_first_output tfo on tfo.task_id = ea.ev_task_id
    left join task_first tf on tf.task_id = ea.ev_task_id
),
-- ---------------------------------------------------------------- reviews
review_ranked as (
    select nb(review_id) as review_id, nb(interaction_id) as interaction_id,
           en(reviewer_kind) as reviewer_kind, en(dimension) as dimension, en(verdict) as verdict,
           en(severity) as severity, reviewed_at,
           case when nb(review_id) is null then 1
                else row_number() over (partition by review_id) end as copy_rank
    from raw.output_reviews
),
hallucination_final as (  -- tier 2 beats tier 1; tier-1 time ties go to llm_judge; then larger review_id
    select interaction_id,
           arg_max(verdict, (reviewer_kind = 'human_expert', reviewed_at, reviewer_kind = 'llm_judge', review_id))
               = 'fail' as hallucinated
    from review_ranked
    where copy_rank = 1 and review_id is not null and interaction_id is not null and reviewed_at is not null
      and reviewer_kind in ('automated', 'llm_judge', 'human_expert')
      and dimension = 'hallucination' and verdict in ('pass', 'fail')
      and (severity is null or severity in ('low', 'medium', 'high', 'critical'))
    group by interaction_id
),
-- ---------------------------------------------------------------- per query
pricing as (
    select model, cast(effective_from as date) as effective_from,
           cast(input_usd_per_1m_tokens as double) as p_in, cast(output_usd_per_1m_tokens as double) as p_out
    from read_csv('seeds/model_pricing.csv', header = true, all_varchar = true)
),
query_cost as (
    select q.interaction_id,
           coalesce(q.cost_usd,
                    (coalesce(q.input_tokens, 0) * p.p_in + coalesce(q.output_tokens, 0) * p.p_out) / 1e6,
                    0) as cost
    from queries q
    asof left join pricing p on p.model = q.model and q.q_date >= p.effective_from
),
first_accept as (  -- t: the first accepted/verified event concerning each query
    select concerned_id, min(occurred_at) as t_accept
    from events_concerned
    where role in ('output_accepted', 'output_verified') and concerned_id is not null
    group by concerned_id
),
corrected as (  -- a corrective event concerning the output or of its task within [t, t + 5 min]
    select fa.concerned_id
    from first_accept fa
    join events_concerned c on c.is_corrective and c.concerned_id = fa.concerned_id
    where c.occurred_at between fa.t_accept and fa.t_accept + interval 5 minute
    union
    select fa.concerned_id
    from first_accept fa
    join queries q on q.interaction_id = fa.concerned_id
    join events_concerned c on c.is_corrective and c.ev_task_id = q.task_id
    where c.occurred_at between fa.t_accept and fa.t_accept + interval 5 minute
),
query_level as (
    select q.interaction_id, q.q_date, q.feature, q.model, q.status, qc.cost,
           hf.hallucinated,
           (q.status = 'ok' and not coalesce(hf.hallucinated, false)
            and fa.t_accept is not null and cr.concerned_id is null) as is_valid
    from queries q
    join query_cost qc using (interaction_id)
    left join hallucination_final hf using (interaction_id)
    left join first_accept fa on fa.concerned_id = q.interaction_id
    left join corrected cr on cr.concerned_id = q.interaction_id
),
query_cells as (
    select q_date as metric_date, feature, model,
           count(*) as queries,
           count(*) filter (where status = 'ok' and hallucinated is not null) as reviewed_outputs,
           count(*) filter (where status = 'ok' and hallucinated) as hallucinated_outputs,
           count(*) filter (where is_valid) as valid_outputs,
           sum(cost) as query_cost_usd
    from query_level group by all
),
-- ---------------------------------------------------------------- events per cell
event_cells as (
    select cast(q.requested_at as date) as metric_date, q.feature, q.model,
           count(*) filter (where ec.is_intervention) as interventions
    from events_concerned ec join queries q on q.interaction_id = ec.concerned_id
    group by all
),
-- ---------------------------------------------------------------- tasks
task_events as (
    select ev_task_id as task_id,
           min(occurred_at) filter (where role = 'task_started') as first_started_at,
           bool_or(role = 'task_completed') as has_completed,
           bool_or(is_intervention) as has_intervention
    from events_concerned where ev_task_id is not null group by ev_task_id
),
task_accurate as (  -- first accepted/verified event of the task on a not-hallucinated output
    select ec.ev_task_id as task_id, min(ec.occurred_at) as t_accurate
    from events_concerned ec
    join queries q on q.interaction_id = ec.concerned_id and q.status = 'ok'
    left join hallucination_final hf on hf.interaction_id = ec.concerned_id
    where ec.role in ('output_accepted', 'output_verified') and not coalesce(hf.hallucinated, false)
      and ec.ev_task_id is not null
    group by ec.ev_task_id
),
tasks as (
    select tf.task_id, tf.feature, tf.model, s.task_start, cast(s.task_start as date) as task_date,
           s.task_start + interval 24 hour <= lr.max_requested_at as is_mature,
           coalesce(te.has_completed, false) and not coalesce(te.has_intervention, false) as completed_clean,
           (epoch_us(ta.t_accurate) - epoch_us(s.task_start)) / 1e6 as tta_s
    from task_first tf
    cross join latest_request lr
    left join task_events te using (task_id)
    left join task_accurate ta using (task_id)
    cross join lateral (
        select case when te.first_started_at < tf.first_requested_at then te.first_started_at
                    else tf.first_requested_at end as task_start
    ) s
),
task_cells as (
    select task_date as metric_date, feature, model,
           count(*) filter (where is_mature) as tasks_mature,
           count(*) filter (where is_mature and completed_clean) as tasks_completed,
           count(*) filter (where is_mature and tta_s is not null) as tta_tasks,
           quantile_cont(tta_s, 0.5) filter (where is_mature) as tta_p50_s,
           quantile_cont(tta_s, 0.9) filter (where is_mature) as tta_p90_s
    from tasks group by all
),
-- ---------------------------------------------------------------- infra costs
infra as (
    select cost_date, nb(feature) as feature, nb(model) as model, cost_usd
    from raw.infra_costs
    where cost_date is not null and en(cost_kind) is not null and cost_usd is not null and cost_usd >= 0
),
infra_direct as (
    select cost_date as metric_date, feature, model, sum(cost_usd) as infra_cost_usd
    from infra where feature is not null and model is not null group by all
),
infra_shared as (  -- split over the day's cells in scope by their query counts
    select qc.metric_date, qc.feature, qc.model,
           sum(i.cost_usd * qc.queries / scope.scope_queries) as infra_cost_usd
    from infra i
    join query_cells qc
        on qc.metric_date = i.cost_date
        and (i.feature is null or qc.feature = i.feature)
        and (i.model is null or qc.model = i.model)
    join lateral (
        select sum(q2.queries) as scope_queries from query_cells q2
        where q2.metric_date = i.cost_date
          and (i.feature is null or q2.feature = i.feature)
          and (i.model is null or q2.model = i.model)
    ) scope on true
    where i.feature is null or i.model is null
    group by all
),
infra_cells as (
    select metric_date, feature, model, sum(infra_cost_usd) as infra_cost_usd
    from (select * from infra_direct union all select * from infra_shared)
    group by all
),
-- ---------------------------------------------------------------- cells
cells as (
    select metric_date, feature, model from query_cells
    union select metric_date, feature, model from task_cells
    union select metric_date, feature, model from event_cells
    union select metric_date, feature, model from infra_direct
)
select
    c.metric_date, c.feature, c.model,
    coalesce(qc.queries, 0) as queries,
    coalesce(tc.tasks_mature, 0) as tasks_mature,
    coalesce(tc.tasks_completed, 0) as tasks_completed,
    coalesce(tc.tasks_completed, 0) / nullif(coalesce(tc.tasks_mature, 0), 0) as tcr,
    coalesce(qc.reviewed_outputs, 0) as reviewed_outputs,
    coalesce(qc.hallucinated_outputs, 0) as hallucinated_outputs,
    coalesce(qc.hallucinated_outputs, 0) / nullif(coalesce(qc.reviewed_outputs, 0), 0) as hallucination_rate,
    coalesce(tc.tta_tasks, 0) as tta_tasks,
    tc.tta_p50_s,
    tc.tta_p90_s,
    coalesce(ev.interventions, 0) as interventions,
    100.0 * coalesce(ev.interventions, 0) / nullif(coalesce(qc.queries, 0), 0) as hitl_f,
    coalesce(qc.query_cost_usd, 0) + coalesce(ic.infra_cost_usd, 0) as total_cost_usd,
    coalesce(qc.valid_outputs, 0) as valid_outputs,
    (coalesce(qc.query_cost_usd, 0) + coalesce(ic.infra_cost_usd, 0))
        / nullif(coalesce(qc.valid_outputs, 0), 0) as cpvo
from cells c
left join query_cells qc using (metric_date, feature, model)
left join task_cells tc using (metric_date, feature, model)
left join event_cells ev using (metric_date, feature, model)
left join infra_cells ic using (metric_date, feature, model);
