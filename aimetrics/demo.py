"""Demo data with planted truths: ``generate(scale, seed, out_dir)``.

The generator writes the raw tables of the raw contract (Parquet, CSV and JSON
Lines) for a fixed calendar, 12 ISO weeks from Monday 2026-06-01 to Sunday
2026-08-23 (never relative to today), from a generative process whose
parameters are the *planted truths* in :data:`PLANTED`. Each planted rate is
the exact expectation of the metric as ``shared/spec/metrics.md`` computes it,
so a correct dbt build recovers it up to sampling noise; the expectations per
cell and day come from :func:`expected_rates`, computed by enumerating the
same probability tables the sampler draws from.

Generative process (per user, then per task, then per query)
------------------------------------------------------------
* Users arrive on a day ``d0`` drawn uniformly over the calendar. Their active
  days form a Markov chain: after each active day the user comes back within
  1..7 days with probability ``rho`` (their type's 7-day retention), else
  returns after 8..21 days with probability 0.3 or churns. Every active day
  has at least one ``page_view`` (an event type missing from ``event_roles``:
  role ``activity``). Activity lies between 06:00 and 23:00 UTC, so a task
  never crosses midnight.
* Users are ``treatment`` or ``holdout`` (randomized, 50/50), or enterprise
  (``ai_access`` null, AI allowed), or internal (``is_internal`` true, heavy AI
  users, excluded from every metric). Half the users are *engaged*; engaged
  users with AI access adopt AI: on 80% of their active days they run
  ``1 + Poisson(0.6)`` AI tasks. Holdout users never send a query.
* A task takes a feature (the user's primary feature 70% of the time) and a
  model (the feature's routing mix), and the model_version deployed in the
  task's week. It opens with ``assistant_opened`` (90% of tasks), then runs
  attempts: each query independently draws a status, for ``ok`` outputs a
  confidence and a true hallucination flag, and a *reaction kind*
  (:data:`KINDS`). Continue kinds (regenerate, re-prompt, retry) start the
  next attempt; any other kind ends the task. Because every query's draw is
  i.i.d. given (cell, week), every per-query proportion's expectation is the
  per-query probability (Wald's identity), and a task's terminal kind has
  distribution ``P(kind) / (1 - P(continue))``.
* Reaction kinds emit fixed event sequences: e.g. ``ACCEPT`` emits
  ``suggestion_inserted`` then ``goal_reached``; ``ACCEPT_EDIT_MAJOR`` emits
  ``suggestion_inserted`` then a substantive ``suggestion_edited`` 5..300 s
  later (exactly 300 s for 10%: the window's closed end); ``ACCEPT_DOWNVOTE``
  emits ``thumbs_down`` within the window; ``ACCEPT`` and ``VERIFY`` get a
  ``thumbs_down`` *after* the window for 5% (1 ms past it for a fifth of
  those), which must not invalidate them. So every accepted or verified
  output either has a corrective event within 5 minutes (by design) or none.
* Reviews: each output is tier-1 reviewed with probability 0.5 (llm_judge or
  automated; false-positive rate 0.01, false-negative rate 0.10), and of
  those 20% also get a ``human_expert`` verdict equal to the truth. Tie and
  order traps keep the adjudicated verdict equal to the designed one: an
  automated verdict at the same instant as the llm_judge one but opposite
  (llm_judge wins), two llm_judge verdicts at the same instant (the larger
  review_id carries the designed one), an earlier opposite tier-1 verdict, a
  human verdict earlier than the tier-1 one, and an earlier opposite human
  verdict written with a ``+02:00`` offset less than 2 hours before the final
  one (it is the latest only if the offset is ignored).

Planted truths and the mart columns that recover them
-----------------------------------------------------
``expected_rates(feature, model, day)`` returns, per query of that cell and
day (the test re-aggregates ``marts.metrics_daily`` per feature x model,
weighting each day's expectation by that day's denominator, leaving out the
outage day):

===================  ====================================  =====================================
planted              metrics_daily columns                 expectation
===================  ====================================  =====================================
``tcr``              tasks_completed / tasks_mature        P(terminal kind is clean-complete)
                                                           / (1 - P(continue))
``hr``               hallucinated_outputs /                h (r2 + (1-r2)(1-fnr))
                     reviewed_outputs                      + (1-h)(1-r2) fpr
``review_coverage``  reviewed_outputs / outputs            r1
``hitl_f``           100 * interventions / queries         100 * E[intervention events per query]
``acceptance_rate``  accepted_outputs / outputs            P(accepting kind | ok)
``valid_per_query``  valid_outputs / queries               sum over behaviourally valid kinds of
                                                           P(kind, H) * P(not adjudicated
                                                           hallucinated | H)
``cost_per_query``   total_cost_usd / queries              E[token cost priced by model_pricing]
                                                           + infra per query (exact)
``cpvo``             total_cost_usd / valid_outputs        cost_per_query / valid_per_query
``tta_coverage``     tta_tasks / tasks_mature              P(terminal output accepted or verified
                                                           and not adjudicated hallucinated)
``error_rate``       error_rate (x queries)                P(error) + P(timeout)
``refusal_rate``     refusal_rate (x queries)              P(refused) + P(filtered)
===================  ====================================  =====================================

* Decay (``PLANTED['decay']``): support_reply on gpt-4o-mini switches from
  version ``.v1`` to ``.v2`` on Monday 2026-06-15 (week 2). From then on the
  true hallucination rate of v2 rises by 0.008 per week and 0.010 of
  probability per week moves from ``ACCEPT`` to ``REJECT``. TCR, HR and
  acceptance are then exactly linear in the week: the weekly aggregates of
  metrics_daily for that cell have OLS slopes ``hr_slope_per_week``
  (adjudicated, attenuated by tier-1 errors) and ``tcr_slope_per_week``.
* Retention (``PLANTED['retention']``): the randomized ``ai_access`` split
  gives 7-day retention 0.50 (treatment) vs 0.40 (holdout), a causal lift of
  10 points: ``retention_weekly.treatment_retained / treatment_users`` etc. and
  ``causal_delta_pts``, over cohort weeks not touched by the outage. AI users'
  7-day retention from any anchor is 0.75 (``ai_retention_7d``), because the
  chain is Markov. The observational delta (``retention_delta_pts``) is *not*
  planted: it is inflated by selection (only engaged users adopt AI), which is
  what the causal columns correct.
* Outage (``PLANTED['outage']``): on 2026-07-15, 90% of user events (any
  type) are lost. Queries and reviews are not. Acceptance on that day is 0.1 x
  the planted rate; the tests leave the day out elsewhere.
* Rubber-stamping (``PLANTED['rubber_stamping']``): in weeks 9 and 10
  (2026-08-03, 2026-08-10) email_draft users accept more outputs unread:
  ``ACCEPT`` gains 0.07 of probability per week (taken half from
  ``REGENERATE``, half from ``REPROMPT``), so acceptance rises week over week,
  while the chance that an accepted or verified output leads to a
  ``reply_received`` (downstream success) falls from 0.5 by 0.15 per week.
  ``guardrails_weekly`` flags exactly those two weeks. Every planted rate
  above follows (``expected_rates`` reads the same tables).
* Text checks (``PLANTED['text_checks']``): 30% of search_answer outputs carry
  the optional ``output_text``, ``final_text`` and ``source_text``; the answer
  restates a figure, a name and a date of its source, except that a truly
  hallucinated answer misstates the figure, so the Tier-1 fact check
  (``int_text_checks``) fails exactly on those.
* Internal users (``is_internal`` true, 1.5% of users, plus a QA bot active
  2026-08-27..30, after the calendar): nothing of theirs may reach a mart, and
  the last metric_date stays 2026-08-23.
* Malformed rows (``PLANTED['malformed']``): a fixed number per table and
  reason, phantoms no other row refers to, each the winning copy of its key.
  ``PLANTED['quarantine_rows'][table]`` rows must land in
  ``quarantine.quarantine_raw__<table>``; the three interactions whose *older*
  copy is malformed and the duplicate eval row must not.
* Duplicates and late data: 3% of interactions are re-ingested (the older copy
  a provisional ``timeout`` with no response; the later copy wins), 1% of
  events are re-sent identically with a later ``ingested_at`` (some older
  copies with a null one), 0.2% exact copies; 2% of events arrive 2..5 days
  late. Enum values sometimes carry other cases and spaces (``' OK'``,
  ``'Suggestion_Inserted '``, ``'LLM_Judge'``).
* Costs: ``cost_usd`` is given for 60% of priced models' queries and equals
  what ``model_pricing`` gives (claude-3-5-haiku's price changes on
  2026-07-01); the rest is null and priced by dbt. ``acme-rag-7b`` is absent
  from the pricing seed and never carries a cost (unpriced; its cost is GPU
  infra). Infra rows are rates times the day's (non-internal, deduplicated,
  valid) query counts in their scope, so each query carries exactly
  ``platform + vector_db[feature] + gpu[model]`` of infra cost, plus a
  ``human_review`` cost per human-reviewed support output; one row for a cell
  with no query (code_review x claude-3-5-sonnet) and one with no query in
  scope (feature legal_summary, unallocated).
* Formats: interactions, user_events, output_reviews, eval_results in Parquet
  (naive UTC timestamps); events of mobile users (10%) in CSV with local
  ``+02:00`` timestamps; human_expert reviews in JSON Lines (offsets ``+02:00``,
  ``Z`` or none); users in CSV; infra_costs in JSON Lines.

* Evals (``PLANTED['eval']``): one suite per feature, 120 cases x 10 samples,
  one run per model_version; case c passes with a fixed probability around the
  version's quality, so E[pass@k] = mean over cases of 1 - (1 - p_c)^k
  (:func:`expected_pass_at_k`). The decaying support_reply v2 scores 6 points
  below v1 and fails the release gate.

Beside the raw files, ``generate`` writes ``_truth.json`` (not a raw table):
realized exact counts and costs per cell, for tests that need exact numbers.

Speed (2 vCPUs, measured with ``python -c "from aimetrics import demo;
demo.generate(N, 42, Path(...))"`` under ``/usr/bin/time``): 1M interactions
in 11 s, 10M in 67 s (25 chunks, 56M events, 2.8 GB of files). Users are
simulated in chunks of about 400k interactions, each written as its own
files, so memory stays near 1.7 GB whatever the scale.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from aimetrics import PROJECT_DIR

# ----------------------------------------------------------------------------
# calendar

CALENDAR_START = date(2026, 6, 1)  # a Monday
N_WEEKS = 12
N_DAYS = 7 * N_WEEKS
CALENDAR_END = CALENDAR_START + timedelta(days=N_DAYS - 1)  # 2026-08-23, a Sunday
_N_DAYS_EXT = N_DAYS + 7  # the internal QA bot runs in the week after the calendar
_N_WEEKS_EXT = N_WEEKS + 1
_US = 1_000_000
_DAY_US = 86_400 * _US
_EPOCH_US = (datetime(2026, 6, 1) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def day_index(day: int | date | datetime | str) -> int:
    """Days since CALENDAR_START (accepts an index, a date, a datetime or 'YYYY-MM-DD')."""
    if isinstance(day, (int, np.integer)):
        return int(day)
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    if isinstance(day, datetime):
        day = day.date()
    return (day - CALENDAR_START).days


def day_date(d: int) -> date:
    return CALENDAR_START + timedelta(days=int(d))


# ----------------------------------------------------------------------------
# products, models, routing

FEATURES = ("email_draft", "support_reply", "code_review", "search_answer")
#: acme-rag-7b is self-hosted and absent from seeds/model_pricing.csv (unpriced).
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "acme-rag-7b")
UNPRICED_MODEL = "acme-rag-7b"
#: share of users whose primary feature it is
FEATURE_SHARE = {"email_draft": 0.30, "support_reply": 0.35, "code_review": 0.15, "search_answer": 0.20}
P_PRIMARY_FEATURE = 0.7  # else a feature drawn uniformly
ROUTING = {
    "email_draft": {"gpt-4o-mini": 0.7, "claude-3-5-haiku": 0.3},
    "support_reply": {"gpt-4o-mini": 0.8, "gpt-4o": 0.2},
    "code_review": {"gpt-4o": 0.6, "claude-3-5-haiku": 0.4},
    "search_answer": {"acme-rag-7b": 0.6, "gpt-4o-mini": 0.4},
}
CELLS = tuple((f, m) for f in FEATURES for m in ROUTING[f])
_CELL_INDEX = {c: i for i, c in enumerate(CELLS)}

STATUSES = ("ok", "error", "timeout", "refused", "filtered")
STATUS_PROBS = {
    "gpt-4o-mini": (0.950, 0.015, 0.010, 0.015, 0.010),
    "gpt-4o": (0.960, 0.010, 0.010, 0.012, 0.008),
    "claude-3-5-haiku": (0.955, 0.012, 0.008, 0.020, 0.005),
    "acme-rag-7b": (0.930, 0.030, 0.025, 0.010, 0.005),
}
#: true hallucination rate of ok outputs per cell (the decaying cell: before its release)
HALLUCINATION = {
    ("email_draft", "gpt-4o-mini"): 0.030,
    ("email_draft", "claude-3-5-haiku"): 0.020,
    ("support_reply", "gpt-4o-mini"): 0.020,
    ("support_reply", "gpt-4o"): 0.012,
    ("code_review", "gpt-4o"): 0.018,
    ("code_review", "claude-3-5-haiku"): 0.028,
    ("search_answer", "acme-rag-7b"): 0.060,
    ("search_answer", "gpt-4o-mini"): 0.035,
}
MODEL_REPORTS_CONFIDENCE = {"gpt-4o-mini": True, "gpt-4o": True, "claude-3-5-haiku": True, "acme-rag-7b": False}
#: confidence of an ok output = 0.7 + 0.3 * Beta(6, 2); P(hallucinated | c) = h * (1 - c) / (1 - E[c]),
#: so the marginal rate is exactly h and confidence is correlated with correctness.
CONFIDENCE_BETA = (6.0, 2.0)
_CONF_MEAN = 0.7 + 0.3 * CONFIDENCE_BETA[0] / sum(CONFIDENCE_BETA)

LATENCY_MEDIAN_MS = {"gpt-4o-mini": 650.0, "gpt-4o": 1400.0, "claude-3-5-haiku": 900.0, "acme-rag-7b": 350.0}
LATENCY_FEATURE_FACTOR = {"email_draft": 1.0, "support_reply": 1.1, "code_review": 1.8, "search_answer": 1.2}
LATENCY_SIGMA = 0.45  # lognormal sigma of ok latency
TIMEOUT_S = 30.0

#: token ranges, uniform integers inclusive: (input lo, input hi, ok output lo, ok output hi)
TOKENS = {
    "email_draft": (300, 900, 150, 450),
    "support_reply": (800, 2400, 200, 600),
    "code_review": (1500, 6000, 200, 800),
    "search_answer": (1000, 3000, 80, 300),
}
REFUSED_OUTPUT_TOKENS = (5, 40)  # filtered: 0 output tokens; error / timeout: null
P_COST_GIVEN = 0.6  # share of priced models' queries whose cost_usd the provider reported

#: infra cost, USD: rates per (non-internal, valid) query of the day in the row's scope
INFRA_PLATFORM_PER_QUERY = 0.00005  # shared row (feature and model null)
INFRA_VECTOR_DB_PER_QUERY = {"search_answer": 0.0003, "support_reply": 0.0001}  # feature rows
INFRA_GPU_PER_QUERY = {"acme-rag-7b": 0.0008}  # model rows
INFRA_HUMAN_REVIEW_PER_OUTPUT = {"support_reply": 0.03}  # cell rows: per human-reviewed output
ORPHAN_INFRA = {"cost_date": "2026-07-20", "feature": "code_review", "model": "claude-3-5-sonnet",
                "cost_kind": "fine_tuning", "cost_usd": 25.0}
UNALLOCATED_INFRA = {"cost_date": "2026-07-21", "feature": "legal_summary", "model": None,
                     "cost_kind": "vector_db", "cost_usd": 7.5}

# ----------------------------------------------------------------------------
# reaction kinds

KINDS = (
    "ACCEPT",             # suggestion_inserted, goal_reached
    "VERIFY",             # answer_confirmed, goal_reached
    "EDIT_MINOR",         # suggestion_edited (< 10% changed), suggestion_inserted, goal_reached
    "ACCEPT_EDIT_MAJOR",  # suggestion_inserted, substantive suggestion_edited within 5 min, goal_reached
    "EDIT_MAJOR_ACCEPT",  # substantive suggestion_edited, then suggestion_inserted, goal_reached
    "ACCEPT_DOWNVOTE",    # suggestion_inserted, thumbs_down within 5 min, goal_reached
    "ESCALATE",           # handoff_to_agent (x2 for 20%), goal_reached by the agent for 50%
    "REJECT",             # suggestion_dismissed, assistant_closed_unfinished (70%)
    "MANUAL",             # suggestion_dismissed (50%), wrote_manually, goal_reached
    "IGNORE",             # nothing, or assistant_closed_unfinished (30%)
    "REGENERATE",         # regenerate_clicked -> next attempt
    "REPROMPT",           # prompt_rephrased -> next attempt
    "RETRY",              # (error / timeout) regenerate_clicked -> next attempt
    "REPROMPT_NOK",       # (refused / filtered) prompt_rephrased -> next attempt
    "MANUAL_NOK",         # (any failure) wrote_manually, goal_reached
    "ABANDON_NOK",        # (any failure) assistant_closed_unfinished (80%)
)
K = {name: i for i, name in enumerate(KINDS)}
N_OK_KINDS = 12
CONTINUE_KINDS = frozenset({K["REGENERATE"], K["REPROMPT"], K["RETRY"], K["REPROMPT_NOK"]})
CLEAN_COMPLETE_KINDS = frozenset({K["ACCEPT"], K["VERIFY"], K["EDIT_MINOR"], K["ACCEPT_DOWNVOTE"]})
ACCEPTED_KINDS = frozenset({K["ACCEPT"], K["EDIT_MINOR"], K["ACCEPT_EDIT_MAJOR"], K["EDIT_MAJOR_ACCEPT"],
                            K["ACCEPT_DOWNVOTE"]})
ACCEPT_OR_VERIFY_KINDS = ACCEPTED_KINDS | {K["VERIFY"]}
#: accepted / verified with no corrective event in [t, t + 5 min] (an edit *before* t does not count)
BEHAVIOURALLY_VALID_KINDS = frozenset({K["ACCEPT"], K["VERIFY"], K["EDIT_MINOR"], K["EDIT_MAJOR_ACCEPT"]})
P_DOUBLE_ESCALATION = 0.2
#: expected number of intervention events per kind (substantive edits, escalations, manual fallbacks)
INTERVENTIONS = {K["ACCEPT_EDIT_MAJOR"]: 1.0, K["EDIT_MAJOR_ACCEPT"]: 1.0, K["ESCALATE"]: 1.0 + P_DOUBLE_ESCALATION,
                 K["MANUAL"]: 1.0, K["MANUAL_NOK"]: 1.0}
INTERVENTIONS_SQ = {**INTERVENTIONS, K["ESCALATE"]: (1 - P_DOUBLE_ESCALATION) + 4 * P_DOUBLE_ESCALATION}


def _r(**kw: float) -> tuple[float, ...]:
    out = [0.0] * N_OK_KINDS
    for name, p in kw.items():
        out[K[name]] = p
    assert abs(sum(out) - 1.0) < 1e-12, (kw, sum(out))
    return tuple(out)


#: P(kind | ok output, hallucinated) per feature: index 0 = not hallucinated, 1 = hallucinated.
#: The continue kinds have the same probability either way (0.10 + 0.08).
REACTIONS = {
    "email_draft": (
        _r(ACCEPT=.50, EDIT_MINOR=.14, ACCEPT_EDIT_MAJOR=.04, EDIT_MAJOR_ACCEPT=.02, ACCEPT_DOWNVOTE=.02,
           REJECT=.05, MANUAL=.02, IGNORE=.03, REGENERATE=.10, REPROMPT=.08),
        _r(ACCEPT=.20, EDIT_MINOR=.05, ACCEPT_EDIT_MAJOR=.15, EDIT_MAJOR_ACCEPT=.05, ACCEPT_DOWNVOTE=.08,
           REJECT=.17, MANUAL=.10, IGNORE=.02, REGENERATE=.10, REPROMPT=.08),
    ),
    "support_reply": (
        _r(ACCEPT=.40, VERIFY=.10, EDIT_MINOR=.12, ACCEPT_EDIT_MAJOR=.04, EDIT_MAJOR_ACCEPT=.02,
           ACCEPT_DOWNVOTE=.02, ESCALATE=.05, REJECT=.03, MANUAL=.02, IGNORE=.02, REGENERATE=.10, REPROMPT=.08),
        _r(ACCEPT=.20, VERIFY=.02, EDIT_MINOR=.04, ACCEPT_EDIT_MAJOR=.12, EDIT_MAJOR_ACCEPT=.04,
           ACCEPT_DOWNVOTE=.06, ESCALATE=.15, REJECT=.10, MANUAL=.07, IGNORE=.02, REGENERATE=.10, REPROMPT=.08),
    ),
    "code_review": (
        _r(ACCEPT=.45, VERIFY=.05, EDIT_MINOR=.10, ACCEPT_EDIT_MAJOR=.05, EDIT_MAJOR_ACCEPT=.03,
           ACCEPT_DOWNVOTE=.02, ESCALATE=.02, REJECT=.06, MANUAL=.02, IGNORE=.02, REGENERATE=.10, REPROMPT=.08),
        _r(ACCEPT=.15, VERIFY=.01, EDIT_MINOR=.03, ACCEPT_EDIT_MAJOR=.15, EDIT_MAJOR_ACCEPT=.05,
           ACCEPT_DOWNVOTE=.08, ESCALATE=.05, REJECT=.18, MANUAL=.10, IGNORE=.02, REGENERATE=.10, REPROMPT=.08),
    ),
    "search_answer": (
        _r(ACCEPT=.15, VERIFY=.45, ACCEPT_DOWNVOTE=.03, ESCALATE=.03, REJECT=.05, MANUAL=.04, IGNORE=.07,
           REGENERATE=.10, REPROMPT=.08),
        _r(ACCEPT=.06, VERIFY=.20, ACCEPT_DOWNVOTE=.06, ESCALATE=.10, REJECT=.20, MANUAL=.12, IGNORE=.08,
           REGENERATE=.10, REPROMPT=.08),
    ),
}
#: P(kind | failed status), over (RETRY, REPROMPT_NOK, MANUAL_NOK, ABANDON_NOK)
FAILURE_REACTIONS = {
    "error": (0.7, 0.0, 0.1, 0.2),
    "timeout": (0.7, 0.0, 0.1, 0.2),
    "refused": (0.0, 0.6, 0.1, 0.3),
    "filtered": (0.0, 0.6, 0.1, 0.3),
}

# ----------------------------------------------------------------------------
# reviews

P_TIER1_REVIEW = 0.5     # r1: share of outputs with a tier-1 hallucination verdict
P_HUMAN_GIVEN_TIER1 = 0.2  # r2: share of those with a human_expert verdict (the truth)
TIER1_FPR = 0.01
TIER1_FNR = 0.10
P_LLM_JUDGE = 0.6        # else automated
#: tier-1 traps (one per reviewed output, exclusive): same-instant automated vs llm_judge (llm_judge wins),
#: two same-instant llm_judge verdicts (larger review_id wins), an earlier opposite tier-1 verdict
TIER1_TRAPS = {"automated_tie": 0.10, "llm_judge_tie": 0.03, "earlier_opposite": 0.05}
P_HUMAN_BEFORE_TIER1 = 0.10   # the human verdict is older than the tier-1 one (human still wins)
P_HUMAN_EARLIER_OPPOSITE = 0.15  # an older opposite human verdict, written with +02:00, < 2 h before
SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_PROBS = (0.4, 0.3, 0.2, 0.1)

# ----------------------------------------------------------------------------
# users and retention

P_INTERNAL = 0.015
P_ENTERPRISE = 0.08          # ai_access null, AI allowed
P_HOLDOUT = 0.5              # among randomized users
P_ENGAGED = 0.5
RHO_ADOPTER = 0.75           # engaged users with AI access (they use AI)
RHO_ENGAGED_NO_AI = 0.55     # engaged holdout users
RHO_CASUAL = 0.25            # casual users, any arm (they never use AI)
P_RETURN_AFTER_LAPSE = 0.30  # after a gap > 7 days, come back after 8..21 days, else churn
P_AI_DAY = 0.8
TASKS_PER_AI_DAY_POISSON = 0.6  # 1 + Poisson(0.6), at most 6
P_MOBILE = 0.10              # their events land in CSV with +02:00 local timestamps
P_MISSING_FROM_USERS = 0.02  # not in raw.users at all (counts as not internal)
P_IS_INTERNAL_NULL = 0.03
SEGMENTS = ("free", "pro", "team")
SEGMENT_PROBS = (0.5, 0.35, 0.15)
QA_BOT_USER = "u_qa_bot"
QA_BOT_DAYS = (87, 88, 89, 90)  # 2026-08-27 .. 2026-08-30, after the calendar

# ----------------------------------------------------------------------------
# decay, outage, data quality

DECAY = {
    "feature": "support_reply",
    "model": "gpt-4o-mini",
    "old_version": "gpt-4o-mini+support_reply.v1",
    "new_version": "gpt-4o-mini+support_reply.v2",
    "release_date": "2026-06-15",
    "release_week": 2,
    "h_at_release": 0.015,
    "h_per_week": 0.008,
    "accept_to_reject_per_week": 0.010,
}
OUTAGE = {"date": "2026-07-15", "drop_probability": 0.9}
#: rubber-stamping: in these weeks users of the feature accept more and more outputs unread (probability moves
#: from regenerate / re-prompt to ACCEPT) while fewer accepted outputs lead to downstream success
RUBBER_STAMP = {
    "feature": "email_draft",
    "weeks": (9, 10),                      # 2026-08-03 and 2026-08-10; week 11 is back to normal
    "accept_shift_per_week": 0.07,         # k-th week: +0.07 k on ACCEPT, half from REGENERATE, half from REPROMPT
    "downstream_success": 0.5,             # P(reply_received | ACCEPT or VERIFY output) of the feature otherwise
    "downstream_drop_per_week": 0.15,      # k-th week: 0.5 - 0.15 k
}
_OUTAGE_DAY = day_index(OUTAGE["date"])
P_INTERACTION_DUPLICATE = 0.03
P_DUPLICATE_NULL_INGESTED = 0.1   # of those: the older copy has a null ingested_at
P_EVENT_RESENT = 0.01
P_EVENT_EXACT_COPY = 0.002
P_EVENT_LATE = 0.02               # ingested 2..5 days after it occurred
P_ENUM_VARIANT = 0.01             # ' OK', 'Suggestion_Inserted ', 'LLM_Judge', ...
#: optional text columns (output_text, final_text, source_text) on a share of the feature's outputs, for the
#: Tier-1 text checks: the answer restates a figure, a name and a date of its source; a truly hallucinated
#: answer gets another figure (so the fact check fails on it); the answer is used as is (final = output)
TEXT_CHECKS = {"feature": "search_answer", "share": 0.3}
TEXT_NAMES = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Margaret Hamilton",
              "Tim Berners-Lee")
EXPERIMENT = {"experiment_id": "exp_email_tone", "feature": "email_draft", "from_date": "2026-06-22",
              "variants": ("control", "concise")}

#: eval suites: one per feature, N_EVAL_CASES cases x N_EVAL_SAMPLES samples, one run per version;
#: case c of a version with quality q passes with p_c = q + EVAL_SPREAD * (1 - 2 (c + 0.5) / n)
N_EVAL_CASES = 120
N_EVAL_SAMPLES = 10
EVAL_SPREAD = 0.08
EVAL_QUALITY = {
    "gpt-4o-mini+email_draft.v1": 0.86,
    "claude-3-5-haiku+email_draft.v1": 0.88,
    "gpt-4o-mini+support_reply.v1": 0.86,
    "gpt-4o-mini+support_reply.v2": 0.80,   # the decaying release: fails the release gate
    "gpt-4o+support_reply.v1": 0.90,
    "gpt-4o+code_review.v1": 0.84,
    "claude-3-5-haiku+code_review.v1": 0.80,
    "acme-rag-7b+search_answer.v1": 0.78,
    "gpt-4o-mini+search_answer.v1": 0.83,
}


def version_of(feature: str, model: str, week: int) -> str:
    if (feature, model) == (DECAY["feature"], DECAY["model"]):
        return DECAY["new_version"] if week >= DECAY["release_week"] else DECAY["old_version"]
    return f"{model}+{feature}.v1"


# Malformed rows, {table: {"<reason_code>:<what>": count}}: phantoms (no other row refers to them), each
# the winning copy of its key, so each is one quarantine row.
MALFORMED = {
    "interactions": {
        "missing_required:task_id": 2,
        "missing_required:user_id (blank)": 1,
        "invalid_enum:status": 2,
        "out_of_range:output_tokens < 0": 2,
        "out_of_range:confidence > 1": 2,
        "out_of_range:responded_at < requested_at": 2,
        "out_of_range:attempt < 1": 1,
        "out_of_range:cost_usd < 0": 1,
        "out_of_range:confidence > 1 (the winning copy; its older copy is valid)": 1,
    },
    "user_events": {
        "missing_required:occurred_at": 2,
        "missing_required:event_type (blank)": 1,
        "missing_required:user_id": 1,
        "out_of_range:edit_distance < 0": 2,
        "out_of_range:output_chars < 0": 1,
    },
    "output_reviews": {
        "invalid_enum:severity": 2,
        "invalid_enum:reviewer_kind": 2,
        "invalid_enum:verdict": 1,
        "missing_required:reviewed_at": 1,
        "missing_required:dimension": 1,
        "missing_required:interaction_id": 1,
    },
    "users": {
        "invalid_enum:ai_access": 2,
        "missing_required:user_id (blank)": 1,
    },
    "infra_costs": {
        "out_of_range:cost_usd < 0": 1,
        "missing_required:cost_kind": 1,
        "missing_required:cost_date": 1,
    },
    "eval_results": {
        "out_of_range:sample_index < 0": 1,
        "missing_required:passed": 1,
    },
}
#: interactions whose older copy is malformed (bad status) but whose later, winning copy is valid
N_OLDER_COPY_MALFORMED = 3
N_EVAL_EXACT_DUPLICATES = 1


# ----------------------------------------------------------------------------
# pricing (read from the seed, so the planted cost follows the seed)


@lru_cache(maxsize=1)
def _pricing() -> dict[str, list[tuple[date, float, float]]]:
    out: dict[str, list[tuple[date, float, float]]] = {}
    with open(PROJECT_DIR / "seeds" / "model_pricing.csv", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["model"].strip(), []).append((
                date.fromisoformat(row["effective_from"].strip()),
                float(row["input_usd_per_1m_tokens"]), float(row["output_usd_per_1m_tokens"])))
    for rows in out.values():
        rows.sort()
    return out


def price_on(model: str, day: int | date | str) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens in force for `model` on that day, or None when unpriced."""
    d = day_date(day_index(day))
    best = None
    for eff, pin, pout in _pricing().get(model, []):
        if eff <= d:
            best = (pin, pout)
    return best


@lru_cache(maxsize=1)
def _price_arrays() -> tuple[np.ndarray, np.ndarray]:
    pin = np.zeros((len(MODELS), _N_DAYS_EXT))
    pout = np.zeros((len(MODELS), _N_DAYS_EXT))
    for mi, m in enumerate(MODELS):
        for d in range(_N_DAYS_EXT):
            p = price_on(m, d)
            if p is not None:
                pin[mi, d], pout[mi, d] = p
    return pin, pout


# ----------------------------------------------------------------------------
# regimes: the probability tables of one cell in one week


def _rubber_stamp_k(feature: str, week: int) -> int:
    """1, 2, ... in the k-th rubber-stamping week of the feature, else 0."""
    weeks = RUBBER_STAMP["weeks"]
    if feature == RUBBER_STAMP["feature"] and week in weeks:
        return week - weeks[0] + 1
    return 0


def downstream_success_prob(feature: str, week: int) -> float:
    """P(a reply_received event | an ACCEPT or VERIFY output) of the feature in that week (0 for features
    without downstream events)."""
    if feature not in ("email_draft", "support_reply"):
        return 0.0
    return RUBBER_STAMP["downstream_success"] - RUBBER_STAMP["downstream_drop_per_week"] * _rubber_stamp_k(feature, week)


def _regime_params(feature: str, model: str, week: int):
    """(status probs, true hallucination rate, reactions if not hallucinated, if hallucinated, version)."""
    status = np.array(STATUS_PROBS[model], dtype=float)
    r0 = np.array(REACTIONS[feature][0], dtype=float)
    r1 = np.array(REACTIONS[feature][1], dtype=float)
    h = HALLUCINATION[(feature, model)]
    if (feature, model) == (DECAY["feature"], DECAY["model"]) and week >= DECAY["release_week"]:
        k = week - DECAY["release_week"]
        h = DECAY["h_at_release"] + DECAY["h_per_week"] * k
        shift = DECAY["accept_to_reject_per_week"] * k
        for r in (r0, r1):
            r[K["ACCEPT"]] -= shift
            r[K["REJECT"]] += shift
            assert r.min() >= 0
    k = _rubber_stamp_k(feature, week)
    if k:
        shift = RUBBER_STAMP["accept_shift_per_week"] * k
        for r in (r0, r1):
            r[K["ACCEPT"]] += shift
            r[K["REGENERATE"]] -= shift / 2
            r[K["REPROMPT"]] -= shift / 2
            assert r.min() >= -1e-12
            np.clip(r, 0.0, None, out=r)
    return status, h, r0, r1, version_of(feature, model, week)


@lru_cache(maxsize=1)
def _regime_tables():
    n = len(CELLS) * _N_WEEKS_EXT
    status = np.zeros((n, 5))
    h = np.zeros(n)
    react = np.zeros((n, 2, N_OK_KINDS))
    versions: list[str] = []
    version_idx = np.zeros(n, dtype=np.int64)
    for ci, (f, m) in enumerate(CELLS):
        for w in range(_N_WEEKS_EXT):
            i = ci * _N_WEEKS_EXT + w
            st, hh, r0, r1, v = _regime_params(f, m, w)
            status[i], h[i], react[i, 0], react[i, 1] = st, hh, r0, r1
            if v not in versions:
                versions.append(v)
            version_idx[i] = versions.index(v)
    return status, h, react, versions, version_idx


def _adjudicated_fail_prob(hallucinated: bool) -> float:
    """P(final hallucination verdict is fail | output reviewed, truth)."""
    r2 = P_HUMAN_GIVEN_TIER1
    if hallucinated:
        return r2 + (1 - r2) * (1 - TIER1_FNR)
    return (1 - r2) * TIER1_FPR


def _token_moments(lo: int, hi: int) -> tuple[float, float]:
    mean = (lo + hi) / 2
    var = ((hi - lo + 1) ** 2 - 1) / 12
    return mean, var + mean * mean


@lru_cache(maxsize=None)
def _expected(feature: str, model: str, week: int, pin: float, pout: float) -> dict:
    status, h, r0, r1, version = _regime_params(feature, model, week)
    p_ok = status[0]
    # per-query joint probabilities of each kind, split by truth for ok outputs
    pk0 = p_ok * (1 - h) * r0
    pk1 = p_ok * h * r1
    pk = np.zeros(len(KINDS))
    pk[:N_OK_KINDS] = pk0 + pk1
    for si, s in enumerate(STATUSES[1:], start=1):
        pk[N_OK_KINDS:] += status[si] * np.array(FAILURE_REACTIONS[s])
    assert abs(pk.sum() - 1) < 1e-12
    p_cont = sum(pk[k] for k in CONTINUE_KINDS)
    a1, a0 = _adjudicated_fail_prob(True), _adjudicated_fail_prob(False)
    not_adj0 = 1 - P_TIER1_REVIEW * a0  # P(not adjudicated hallucinated | not hallucinated)
    not_adj1 = 1 - P_TIER1_REVIEW * a1
    tcr = sum(pk[k] for k in CLEAN_COMPLETE_KINDS) / (1 - p_cont)
    acceptance = sum(pk[k] for k in ACCEPTED_KINDS) / p_ok
    valid = sum(pk0[k] * not_adj0 + pk1[k] * not_adj1 for k in BEHAVIOURALLY_VALID_KINDS)
    tta_cov = sum(pk0[k] * not_adj0 + pk1[k] * not_adj1 for k in ACCEPT_OR_VERIFY_KINDS) / (1 - p_cont)
    hitl = sum(pk[k] * v for k, v in INTERVENTIONS.items())
    hitl_sq = sum(pk[k] * v for k, v in INTERVENTIONS_SQ.items())
    hr = h * a1 + (1 - h) * a0

    # cost per query: tokens priced by the seed + infra rates (+ human review per human-reviewed output)
    ilo, ihi, olo, ohi = TOKENS[feature]
    e_in, e_in2 = _token_moments(ilo, ihi)
    out_moments = {"ok": _token_moments(olo, ohi), "refused": _token_moments(*REFUSED_OUTPUT_TOKENS),
                   "filtered": (0.0, 0.0), "error": (0.0, 0.0), "timeout": (0.0, 0.0)}
    fixed = (INFRA_PLATFORM_PER_QUERY + INFRA_VECTOR_DB_PER_QUERY.get(feature, 0.0)
             + INFRA_GPU_PER_QUERY.get(model, 0.0))
    hr_cost = INFRA_HUMAN_REVIEW_PER_OUTPUT.get(feature, 0.0)
    q_human = P_TIER1_REVIEW * P_HUMAN_GIVEN_TIER1
    cost1 = cost2 = 0.0
    for si, s in enumerate(STATUSES):
        e_out, e_out2 = out_moments[s]
        c1 = (e_in * pin + e_out * pout) / 1e6
        c2 = (e_in2 * pin * pin + 2 * e_in * e_out * pin * pout + e_out2 * pout * pout) / 1e12
        # X = C + fixed (+ hr_cost w.p. q_human when ok), the review draw independent of the tokens
        x1 = c1 + fixed
        x2 = c2 + 2 * c1 * fixed + fixed * fixed
        if s == "ok" and hr_cost:
            x2 += 2 * x1 * hr_cost * q_human + hr_cost * hr_cost * q_human
            x1 += hr_cost * q_human
        cost1 += status[si] * x1
        cost2 += status[si] * x2
    return {
        "model_version": version,
        "true_hallucination_rate": h,
        "output_rate": p_ok,
        "p_continue": p_cont,
        "queries_per_task": 1 / (1 - p_cont),
        "tcr": tcr,
        "hr": hr,
        "review_coverage": P_TIER1_REVIEW,
        "hitl_f": 100 * hitl,
        "interventions_per_query_var": hitl_sq - hitl * hitl,
        "acceptance_rate": acceptance,
        "valid_per_query": valid,
        "valid_per_output": valid / p_ok,
        "tta_coverage": tta_cov,
        "cost_per_query": cost1,
        "cost_per_query_sd": math.sqrt(max(cost2 - cost1 * cost1, 0.0)),
        "cpvo": cost1 / valid,
        "error_rate": status[1] + status[2],
        "refusal_rate": status[3] + status[4],
    }


def expected_rates(feature: str, model: str, day: int | date | str) -> dict:
    """Planted expectation of each metric, per query / output / task of one cell on one day.

    Keys: tcr, hr, review_coverage, hitl_f (per 100 queries),
    interventions_per_query_var, acceptance_rate, valid_per_query,
    valid_per_output, tta_coverage, cost_per_query, cost_per_query_sd, cpvo,
    error_rate, refusal_rate, output_rate, queries_per_task, p_continue,
    true_hallucination_rate, model_version. The outage day is not special
    here: on it the event-based rates are lower (see PLANTED['outage']).
    """
    d = day_index(day)
    price = price_on(model, d) or (0.0, 0.0)
    return dict(_expected(feature, model, d // 7, *price))


def _ols_slope(y: list[float]) -> float:
    x = np.arange(len(y), dtype=float)
    return float(np.polyfit(x, np.array(y), 1)[0])


def _build_planted() -> dict:
    cells = {}
    for f, m in CELLS:
        e = expected_rates(f, m, 0)
        cells[f"{f}/{m}"] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in e.items()}
    rw = DECAY["release_week"]
    weeks = list(range(rw, N_WEEKS))
    weekly = [expected_rates(DECAY["feature"], DECAY["model"], 7 * w) for w in weeks]
    decay = {
        **DECAY,
        "weeks": weeks,
        "weekly_true_hallucination_rate": [round(e["true_hallucination_rate"], 6) for e in weekly],
        "weekly_hr": [round(e["hr"], 6) for e in weekly],
        "weekly_tcr": [round(e["tcr"], 6) for e in weekly],
        "hr_slope_per_week": _ols_slope([e["hr"] for e in weekly]),
        "tcr_slope_per_week": _ols_slope([e["tcr"] for e in weekly]),
        "acceptance_slope_per_week": _ols_slope([e["acceptance_rate"] for e in weekly]),
    }
    p_t = P_ENGAGED * RHO_ADOPTER + (1 - P_ENGAGED) * RHO_CASUAL
    p_h = P_ENGAGED * RHO_ENGAGED_NO_AI + (1 - P_ENGAGED) * RHO_CASUAL
    affected = sorted({(day_index(OUTAGE["date"]) - k) // 7 for k in range(0, 8)})
    retention = {
        "p_engaged": P_ENGAGED,
        "rho_adopter": RHO_ADOPTER,
        "rho_engaged_no_ai": RHO_ENGAGED_NO_AI,
        "rho_casual": RHO_CASUAL,
        "treatment_retention_7d": p_t,
        "holdout_retention_7d": p_h,
        "causal_lift_pts": 100 * (p_t - p_h),
        "ai_retention_7d": RHO_ADOPTER,
        "note": ("retained = active in [anchor+1, anchor+7]; the observational retention_delta_pts is not "
                 "planted: AI users are the engaged ones (selection), so it exceeds the causal lift"),
        # anchors in [outage - 7, outage] may lose their return visit to the outage
        "outage_affected_cohort_weeks": [day_date(7 * w).isoformat() for w in affected],
    }
    return {
        "calendar": {"start": CALENDAR_START.isoformat(), "end": CALENDAR_END.isoformat(), "days": N_DAYS,
                     "weeks": N_WEEKS},
        "features": FEATURES,
        "models": MODELS,
        "unpriced_model": UNPRICED_MODEL,
        "routing": ROUTING,
        "cells": cells,
        "status_probs": {m: dict(zip(STATUSES, p)) for m, p in STATUS_PROBS.items()},
        "true_hallucination_rate": {f"{f}/{m}": h for (f, m), h in HALLUCINATION.items()},
        "reviews": {"tier1_review_rate": P_TIER1_REVIEW, "human_given_tier1": P_HUMAN_GIVEN_TIER1,
                    "tier1_fpr": TIER1_FPR, "tier1_fnr": TIER1_FNR, "tier1_traps": TIER1_TRAPS,
                    "human_before_tier1": P_HUMAN_BEFORE_TIER1,
                    "human_earlier_opposite_offset": P_HUMAN_EARLIER_OPPOSITE},
        "decay": decay,
        "retention": retention,
        "outage": {**OUTAGE, "expected_event_share_kept": 1 - OUTAGE["drop_probability"]},
        "text_checks": {**TEXT_CHECKS, "note": "the fact check fails exactly on the truly hallucinated answers "
                                                 "with texts; final_text = output_text (edit distance 0)"},
        "rubber_stamping": {
            **{k: v for k, v in RUBBER_STAMP.items() if k != "weeks"},
            "weeks": [day_date(7 * w).isoformat() for w in RUBBER_STAMP["weeks"]],
            # each rubber-stamping week against the week before it: acceptance up, downstream success down
            "flagged_weeks": [day_date(7 * w).isoformat() for w in RUBBER_STAMP["weeks"]],
            "weekly_downstream_success_prob": {
                day_date(7 * w).isoformat(): downstream_success_prob(RUBBER_STAMP["feature"], w) for w in range(N_WEEKS)},
        },
        "internal": {"share_of_users": P_INTERNAL, "qa_bot_user": QA_BOT_USER,
                     "qa_bot_dates": [day_date(d).isoformat() for d in QA_BOT_DAYS]},
        "infra": {"platform_per_query": INFRA_PLATFORM_PER_QUERY, "vector_db_per_query": INFRA_VECTOR_DB_PER_QUERY,
                  "gpu_per_query": INFRA_GPU_PER_QUERY, "human_review_per_output": INFRA_HUMAN_REVIEW_PER_OUTPUT,
                  "orphan_cell_row": ORPHAN_INFRA, "unallocated_row": UNALLOCATED_INFRA},
        "malformed": MALFORMED,
        "quarantine_rows": {t: sum(v.values()) for t, v in MALFORMED.items()},
        "not_quarantined": {"interactions_older_copy_malformed": N_OLDER_COPY_MALFORMED,
                            "eval_results_exact_duplicates": N_EVAL_EXACT_DUPLICATES},
        "eval": {"cases": N_EVAL_CASES, "samples": N_EVAL_SAMPLES, "quality": EVAL_QUALITY,
                 "pass_at_1": {v: expected_pass_at_k(v, 1) for v in EVAL_QUALITY}},
        "tta_max_s": 3600,  # no task takes anywhere near an hour to its first accepted output
    }


def eval_case_probs(version: str) -> np.ndarray:
    c = np.arange(N_EVAL_CASES)
    return EVAL_QUALITY[version] + EVAL_SPREAD * (1 - 2 * (c + 0.5) / N_EVAL_CASES)


def expected_pass_at_k(version: str, k: int) -> float:
    """E[pass@k] of one run: mean over cases of 1 - (1 - p_c)^k (the estimator is unbiased)."""
    return float(np.mean(1 - (1 - eval_case_probs(version)) ** k))


# ----------------------------------------------------------------------------
# sampling helpers


def _categorical(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element of `rows` from the categorical distribution probs[row] (probs: R x K)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(len(probs))[:, None]).ravel()
    u = rng.random(len(rows)) + rows
    idx = np.searchsorted(flat, u, side="right")
    return idx - rows * probs.shape[1]


def _uniform_us(rng: np.random.Generator, lo_s: float, hi_s: float, n: int) -> np.ndarray:
    return (rng.uniform(lo_s, hi_s, n) * _US).astype(np.int64)


def _group_offsets(group: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Cumulative sum of gaps within consecutive runs of equal `group` values (inclusive)."""
    cs = np.cumsum(gaps)
    starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    base = np.repeat(cs[starts] - gaps[starts], np.diff(np.r_[starts, len(group)]))
    return cs - base


# ----------------------------------------------------------------------------
# simulation of one chunk of users


def _make_users(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    u = rng.random(n)
    group = np.where(u < P_INTERNAL, 3, np.where(u < P_INTERNAL + P_ENTERPRISE, 2,
                     np.where(rng.random(n) < P_HOLDOUT, 1, 0)))  # 0 treatment, 1 holdout, 2 enterprise, 3 internal
    engaged = (rng.random(n) < P_ENGAGED) | (group == 3)
    adopter = engaged & (group != 1)
    rho = np.where(adopter, RHO_ADOPTER, np.where(engaged, RHO_ENGAGED_NO_AI, RHO_CASUAL))
    feat_p = np.array([FEATURE_SHARE[f] for f in FEATURES])
    return {
        "group": group,
        "adopter": adopter,
        "rho": rho,
        "primary": _categorical(rng, feat_p[None, :], np.zeros(n, dtype=np.int64)),
        "mobile": rng.random(n) < P_MOBILE,
        "segment": _categorical(rng, np.array(SEGMENT_PROBS)[None, :], np.zeros(n, dtype=np.int64)),
        "in_users": (rng.random(n) >= P_MISSING_FROM_USERS) | (group == 3),
        "internal_null": (rng.random(n) < P_IS_INTERNAL_NULL) & (group != 3),
        "d0": rng.integers(0, N_DAYS, n),
    }


def _make_user_days(rng: np.random.Generator, users: dict) -> tuple[np.ndarray, np.ndarray]:
    """Active days: the Markov chain of returns. Returns (user index, day) sorted by user, day."""
    n = len(users["d0"])
    uid = [np.arange(n)]
    day = [users["d0"].copy()]
    cur_u, cur_d = np.arange(n), users["d0"].copy()
    rho = users["rho"]
    while cur_u.size:
        m = cur_u.size
        back = rng.random(m) < rho[cur_u]
        short = rng.integers(1, 8, m)
        lapse = rng.random(m) < P_RETURN_AFTER_LAPSE
        long = rng.integers(8, 22, m)
        gap = np.where(back, short, np.where(lapse, long, -1))
        nxt = cur_d + gap
        keep = (gap > 0) & (nxt < N_DAYS)
        cur_u, cur_d = cur_u[keep], nxt[keep]
        uid.append(cur_u)
        day.append(cur_d)
    uid_a, day_a = np.concatenate(uid), np.concatenate(day)
    order = np.lexsort((day_a, uid_a))
    return uid_a[order], day_a[order]


class _Chunk:
    """Arrays of one simulated chunk: users, user-days, tasks, queries."""

    def __init__(self, users: dict, ud_user: np.ndarray, ud_day: np.ndarray):
        self.users = users
        self.ud_user = ud_user
        self.ud_day = ud_day


def _simulate_tasks(rng: np.random.Generator, ch: _Chunk, forced_tasks: int | None = None) -> None:
    users = ch.users
    n_ud = len(ch.ud_user)
    ch.ud_start = (ch.ud_day.astype(np.int64) * _DAY_US
                   + _uniform_us(rng, 6 * 3600, 17 * 3600, n_ud))
    ai_day = users["adopter"][ch.ud_user] & (rng.random(n_ud) < P_AI_DAY)
    n_tasks = np.where(ai_day, 1 + np.minimum(rng.poisson(TASKS_PER_AI_DAY_POISSON, n_ud), 5), 0)
    if forced_tasks is not None:
        n_tasks[:] = forced_tasks
    t_ud = np.repeat(np.arange(n_ud), n_tasks)
    nt = t_ud.size
    t_user = ch.ud_user[t_ud]
    t_day = ch.ud_day[t_ud]
    gaps = _uniform_us(rng, 3 * 60, 15 * 60, nt)
    t_start = ch.ud_start[t_ud] + _group_offsets(t_ud, gaps)
    own = rng.random(nt) < P_PRIMARY_FEATURE
    t_feat = np.where(own, users["primary"][t_user], rng.integers(0, len(FEATURES), nt))
    # model by the feature's routing
    cell_of = np.zeros((len(FEATURES), len(MODELS)), dtype=np.int64) - 1
    route = np.zeros((len(FEATURES), len(MODELS)))
    for (f, m), ci in _CELL_INDEX.items():
        cell_of[FEATURES.index(f), MODELS.index(m)] = ci
        route[FEATURES.index(f), MODELS.index(m)] = ROUTING[f][m]
    t_model = _categorical(rng, route, t_feat)
    t_cell = cell_of[t_feat, t_model]
    t_regime = t_cell * _N_WEEKS_EXT + t_day // 7
    ch.t_ud, ch.t_user, ch.t_day, ch.t_start = t_ud, t_user, t_day, t_start
    ch.t_feat, ch.t_model, ch.t_cell, ch.t_regime = t_feat, t_model, t_cell, t_regime
    ch.t_has_started_event = rng.random(nt) < 0.9

    # attempts: i.i.d. query draws until a terminal kind
    status_p, h_tab, react, _, _ = _regime_tables()
    fail_p = np.array([FAILURE_REACTIONS[s] for s in STATUSES[1:]])
    lat_med = np.array([LATENCY_MEDIAN_MS[m] for m in MODELS])
    lat_fac = np.array([LATENCY_FEATURE_FACTOR[f] for f in FEATURES])
    reports_conf = np.array([MODEL_REPORTS_CONFIDENCE[m] for m in MODELS])
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                         ("task", "attempt", "status", "hall", "kind", "conf", "req", "resp", "t0")}
    active = np.arange(nt)
    t_req = t_start + _uniform_us(rng, 1, 5, nt)
    attempt = 1
    while active.size:
        n = active.size
        reg = t_regime[active]
        status = _categorical(rng, status_p, reg)
        ok = status == 0
        conf = np.full(n, np.nan)
        has_conf = ok & reports_conf[t_model[active]]
        conf[has_conf] = 0.7 + 0.3 * rng.beta(*CONFIDENCE_BETA, int(has_conf.sum()))
        h_eff = h_tab[reg] * np.where(has_conf, (1 - np.nan_to_num(conf)) / (1 - _CONF_MEAN), 1.0)
        hall = ok & (rng.random(n) < h_eff)
        kind = np.zeros(n, dtype=np.int64)
        ok_rows = reg * 2 + hall
        kind_ok = _categorical(rng, react.reshape(-1, N_OK_KINDS), ok_rows)
        kind_fail = N_OK_KINDS + _categorical(rng, fail_p, np.maximum(status - 1, 0))
        kind = np.where(ok, kind_ok, kind_fail)
        # timing
        lat_ok = lat_med[t_model[active]] * lat_fac[t_feat[active]] * np.exp(LATENCY_SIGMA * rng.standard_normal(n))
        lat_us = np.select(
            [ok, status == 1, status == 2],
            [(lat_ok * 1000).astype(np.int64), _uniform_us(rng, 0.1, 3.0, n), np.full(n, int(TIMEOUT_S * _US))],
            _uniform_us(rng, 0.15, 0.6, n))
        resp = np.where((status == 1) | (status == 2), -1, t_req + lat_us)
        t0 = t_req + lat_us + _uniform_us(rng, 1, 10, n)
        for k, v in (("task", active), ("attempt", np.full(n, attempt)), ("status", status), ("hall", hall),
                     ("kind", kind), ("conf", conf), ("req", t_req), ("resp", resp), ("t0", t0)):
            cols[k].append(v)
        cont = np.isin(kind, list(CONTINUE_KINDS))
        quick = (kind == K["REGENERATE"]) | (kind == K["RETRY"])
        delay = np.where(quick, _uniform_us(rng, 0.5, 3, n), _uniform_us(rng, 5, 40, n))
        active, t_req = active[cont], (t0 + delay)[cont]
        attempt += 1
    for k, v in cols.items():
        setattr(ch, "q_" + k, np.concatenate(v))


def _truncate(ch: _Chunk, keep_users: int) -> None:
    """Keep the first `keep_users` users of the chunk and everything of theirs."""
    for k in list(ch.users):
        ch.users[k] = ch.users[k][:keep_users]
    ud_keep = ch.ud_user < keep_users
    t_keep = ch.t_user < keep_users
    t_new = np.cumsum(t_keep) - 1
    ud_new = np.cumsum(ud_keep) - 1
    for name in ("ud_user", "ud_day", "ud_start"):
        setattr(ch, name, getattr(ch, name)[ud_keep])
    for name in ("t_ud", "t_user", "t_day", "t_start", "t_feat", "t_model", "t_cell", "t_regime",
                 "t_has_started_event"):
        setattr(ch, name, getattr(ch, name)[t_keep])
    ch.t_ud = ud_new[ch.t_ud]
    q_keep = t_keep[ch.q_task]
    for name in ("q_task", "q_attempt", "q_status", "q_hall", "q_kind", "q_conf", "q_req", "q_resp", "q_t0"):
        setattr(ch, name, getattr(ch, name)[q_keep])
    ch.q_task = t_new[ch.q_task]


# ----------------------------------------------------------------------------
# events

EVENT_TYPES = (
    "assistant_opened", "goal_reached", "assistant_closed_unfinished", "suggestion_inserted",
    "answer_confirmed", "suggestion_edited", "suggestion_dismissed", "regenerate_clicked",
    "prompt_rephrased", "handoff_to_agent", "wrote_manually", "thumbs_up", "thumbs_down",
    "reply_received", "ticket_reopened", "page_view",
    # canonical names and enum variants, mapped by the seed after trim + lower-case
    "output_accepted", "Suggestion_Inserted ", "task_completed",
)
ET = {name: i for i, name in enumerate(EVENT_TYPES)}
_OUTPUT_LEVEL_EVENTS = np.zeros(len(EVENT_TYPES), dtype=bool)
for _name in ("suggestion_inserted", "answer_confirmed", "suggestion_edited", "suggestion_dismissed",
              "regenerate_clicked", "prompt_rephrased", "handoff_to_agent", "wrote_manually", "thumbs_up",
              "thumbs_down", "output_accepted", "Suggestion_Inserted "):
    _OUTPUT_LEVEL_EVENTS[ET[_name]] = True
PAGE_PATHS = ('{"path":"/inbox"}', '{"path":"/tickets"}', '{"path":"/repo/pulls"}', '{"path":"/search"}',
              '{"path":"/settings"}')


class _Events:
    def __init__(self) -> None:
        self.q: list[np.ndarray] = []
        self.et: list[np.ndarray] = []
        self.t: list[np.ndarray] = []
        self.ed: list[np.ndarray] = []
        self.oc: list[np.ndarray] = []

    def add(self, q: np.ndarray, et: int, t: np.ndarray, ed: np.ndarray | None = None,
            oc: np.ndarray | None = None) -> None:
        n = len(q)
        self.q.append(q)
        self.et.append(np.full(n, et, dtype=np.int64))
        self.t.append(t)
        self.ed.append(np.full(n, -1, dtype=np.int64) if ed is None else ed)
        self.oc.append(np.full(n, -1, dtype=np.int64) if oc is None else oc)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"q": np.concatenate(self.q), "et": np.concatenate(self.et), "t": np.concatenate(self.t),
                "ed": np.concatenate(self.ed), "oc": np.concatenate(self.oc)}


def _reaction_events(rng: np.random.Generator, ch: _Chunk, out_tokens: np.ndarray) -> dict[str, np.ndarray]:
    ev = _Events()
    kind, t0 = ch.q_kind, ch.q_t0
    feat = ch.t_feat[ch.q_task]
    q_week = ch.t_day[ch.q_task] // 7
    ds_table = np.array([[downstream_success_prob(f, w) for w in range(_N_WEEKS_EXT)] for f in FEATURES])
    p_downstream = ds_table[feat, np.minimum(q_week, _N_WEEKS_EXT - 1)]

    def sel(*names: str) -> np.ndarray:
        return np.flatnonzero(np.isin(kind, [K[n] for n in names]))

    def u(idx: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return _uniform_us(rng, lo, hi, len(idx))

    def chars(idx: np.ndarray) -> np.ndarray:
        return np.maximum((out_tokens[idx] * rng.uniform(3.5, 4.5, len(idx))).astype(np.int64), 20)

    def minor_edit(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        oc = chars(idx)
        ed = np.floor(oc * rng.uniform(0.005, 0.095, len(idx))).astype(np.int64)
        return ed, oc

    def major_edit(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        oc = chars(idx)
        ed = np.ceil(oc * rng.uniform(0.12, 0.7, len(idx))).astype(np.int64)
        v = rng.random(len(idx))
        boundary = v < 0.05  # exactly 10%: substantive
        oc = np.where(boundary, (oc // 10) * 10, oc)
        ed = np.where(boundary, oc // 10, ed)
        ed = np.where((v >= 0.05) & (v < 0.08), -1, ed)   # unknown size counts against the output
        oc = np.where((v >= 0.08) & (v < 0.10), -1, oc)
        return ed, oc

    def accept_type(idx: np.ndarray) -> list[tuple[np.ndarray, int]]:
        v = rng.random(len(idx))
        return [(idx[v < 0.03], ET["output_accepted"]),
                (idx[(v >= 0.03) & (v < 0.03 + P_ENUM_VARIANT)], ET["Suggestion_Inserted "]),
                (idx[v >= 0.03 + P_ENUM_VARIANT], ET["suggestion_inserted"])]

    def add_accept(idx: np.ndarray, t: np.ndarray) -> None:
        order = np.argsort(idx)
        idx_sorted, t_sorted = idx[order], t[order]
        for part, et in accept_type(idx_sorted):
            ev.add(part, et, t_sorted[np.searchsorted(idx_sorted, part)])

    def goal(idx: np.ndarray, t: np.ndarray) -> None:
        v = rng.random(len(idx)) < 0.03
        ev.add(idx[v], ET["task_completed"], t[v])
        ev.add(idx[~v], ET["goal_reached"], t[~v])

    def extras(idx: np.ndarray, t_accept: np.ndarray) -> None:
        """thumbs_up, downstream success, and a thumbs_down after the 5-minute window."""
        m = rng.random(len(idx)) < 0.15
        ev.add(idx[m], ET["thumbs_up"], t_accept[m] + u(idx[m], 5, 120))
        m = rng.random(len(idx)) < p_downstream[idx]
        ev.add(idx[m], ET["reply_received"], t_accept[m] + u(idx[m], 600, 5400))
        m = rng.random(len(idx)) < 0.05
        late = np.where(rng.random(int(m.sum())) < 0.2, 300 * _US + 1000, u(idx[m], 301, 3600))
        ev.add(idx[m], ET["thumbs_down"], t_accept[m] + late)

    # ACCEPT
    i = sel("ACCEPT")
    add_accept(i, t0[i])
    goal(i, t0[i] + u(i, 3, 60))
    extras(i, t0[i])
    # VERIFY
    i = sel("VERIFY")
    ev.add(i, ET["answer_confirmed"], t0[i])
    goal(i, t0[i] + u(i, 3, 60))
    extras(i, t0[i])
    # EDIT_MINOR: a non-substantive edit, then the insert
    i = sel("EDIT_MINOR")
    ed, oc = minor_edit(i)
    ev.add(i, ET["suggestion_edited"], t0[i], ed, oc)
    ta = t0[i] + u(i, 3, 40)
    add_accept(i, ta)
    goal(i, ta + u(i, 3, 60))
    # ACCEPT_EDIT_MAJOR: insert, then a substantive edit within the window (exactly 300 s for 10%)
    i = sel("ACCEPT_EDIT_MAJOR")
    add_accept(i, t0[i])
    d = np.where(rng.random(len(i)) < 0.1, 300 * _US, u(i, 5, 299))
    ed, oc = major_edit(i)
    ev.add(i, ET["suggestion_edited"], t0[i] + d, ed, oc)
    goal(i, t0[i] + d + u(i, 3, 60))
    # EDIT_MAJOR_ACCEPT: a substantive edit *before* the insert (does not invalidate it)
    i = sel("EDIT_MAJOR_ACCEPT")
    ed, oc = major_edit(i)
    ev.add(i, ET["suggestion_edited"], t0[i], ed, oc)
    ta = t0[i] + u(i, 5, 120)
    add_accept(i, ta)
    goal(i, ta + u(i, 3, 60))
    # ACCEPT_DOWNVOTE: insert, thumbs_down within the window (exactly 300 s for 10%), goal reached
    i = sel("ACCEPT_DOWNVOTE")
    add_accept(i, t0[i])
    d = np.where(rng.random(len(i)) < 0.1, 300 * _US, u(i, 1, 299))
    ev.add(i, ET["thumbs_down"], t0[i] + d)
    goal(i, t0[i] + d + u(i, 3, 60))
    # ESCALATE
    i = sel("ESCALATE")
    ev.add(i, ET["handoff_to_agent"], t0[i])
    m = rng.random(len(i)) < P_DOUBLE_ESCALATION
    ev.add(i[m], ET["handoff_to_agent"], t0[i[m]] + u(i[m], 60, 600))
    m = rng.random(len(i)) < 0.5
    tg = t0[i[m]] + u(i[m], 900, 3600)
    goal(i[m], tg)
    r = m.copy()
    r[m] = (rng.random(int(m.sum())) < 0.2) & (feat[i[m]] == 1)
    ev.add(i[r], ET["ticket_reopened"], t0[i[r]] + 3600 * _US + u(i[r], 60, 3600))
    # REJECT
    i = sel("REJECT")
    ev.add(i, ET["suggestion_dismissed"], t0[i])
    m = rng.random(len(i)) < 0.3
    ev.add(i[m], ET["thumbs_down"], t0[i[m]] + u(i[m], 1, 20))
    m = rng.random(len(i)) < 0.7
    ev.add(i[m], ET["assistant_closed_unfinished"], t0[i[m]] + u(i[m], 21, 60))
    # MANUAL
    i = sel("MANUAL")
    m = rng.random(len(i)) < 0.5
    ev.add(i[m], ET["suggestion_dismissed"], t0[i[m]])
    tm = t0[i] + u(i, 5, 60)
    ev.add(i, ET["wrote_manually"], tm)
    goal(i, tm + u(i, 60, 600))
    # IGNORE
    i = sel("IGNORE")
    m = rng.random(len(i)) < 0.3
    ev.add(i[m], ET["assistant_closed_unfinished"], t0[i[m]] + u(i[m], 30, 300))
    # continue kinds
    i = sel("REGENERATE", "RETRY")
    ev.add(i, ET["regenerate_clicked"], t0[i])
    i = sel("REPROMPT", "REPROMPT_NOK")
    ev.add(i, ET["prompt_rephrased"], t0[i])
    # failures
    i = sel("MANUAL_NOK")
    ev.add(i, ET["wrote_manually"], t0[i])
    goal(i, t0[i] + u(i, 60, 600))
    i = sel("ABANDON_NOK")
    m = rng.random(len(i)) < 0.8
    ev.add(i[m], ET["assistant_closed_unfinished"], t0[i[m]])
    return ev.arrays()


# ----------------------------------------------------------------------------
# id and text helpers


def _answer_texts(rng: np.random.Generator, eligible: np.ndarray, hallucinated: np.ndarray) -> dict[str, pa.Array]:
    """output_text / final_text / source_text for a TEXT_CHECKS['share'] of the eligible outputs (else null).

    Drawn from their own generator, so the other columns do not depend on them."""
    n = len(eligible)
    has = eligible & (rng.random(n) < TEXT_CHECKS["share"])
    figure = rng.integers(1_000, 100_000, n)
    name = rng.integers(0, len(TEXT_NAMES), n)
    day = rng.integers(0, 365, n)
    out = np.full(n, None, dtype=object)
    src = np.full(n, None, dtype=object)
    for i in np.flatnonzero(has):
        d = date(2025, 1, 1) + timedelta(days=int(day[i]))
        who = TEXT_NAMES[name[i]]
        said = int(figure[i]) + (7 if hallucinated[i] else 0)
        out[i] = f"{who} reported {said:,} units on {d.strftime('%B')} {d.day}, {d.year}."
        src[i] = f"Quarterly note. On {d.isoformat()}, {who} reported a total of {int(figure[i])} units."
    return {"output_text": pa.array(out, pa.string()), "final_text": pa.array(out, pa.string()),
            "source_text": pa.array(src, pa.string())}


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers, pa.int64()), pa.string()), "")


def _ts(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array((us + _EPOCH_US).view("datetime64[us]"), pa.timestamp("us"), mask=null)


def _iso(ts: pa.Array, offset_hours: np.ndarray | None = None, zulu: np.ndarray | None = None) -> pa.Array:
    """ISO-8601 text of naive-UTC timestamps (microseconds); rows with offset_hours > 0 as local time
    with that offset, rows with zulu (and no offset) with a 'Z'."""
    if offset_hours is not None:
        ts = pc.add(ts, pa.array(offset_hours.astype(np.int64) * 3600 * _US, pa.duration("us")))
    text = pc.replace_substring(pc.cast(ts, pa.string()), " ", "T", max_replacements=1)
    n = len(ts)
    suffix = np.full(n, "", dtype=object)
    if zulu is not None:
        suffix[zulu] = "Z"
    if offset_hours is not None:
        for h in np.unique(offset_hours[offset_hours > 0]):
            suffix[offset_hours == h] = "+%02d:00" % h
    return pc.binary_join_element_wise(text, pa.array(suffix, pa.string()), "")


def _str_codes(codes: np.ndarray, names: tuple[str, ...], null: np.ndarray | None = None) -> pa.Array:
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=null), pa.array(names))
    return pc.cast(arr, pa.string())


def _opt_int(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.int64(), mask=values < 0)


def _jsonl_bytes(table: pa.Table) -> bytes:
    """JSON Lines of a table whose strings need no escaping (ids, enums, ISO text), vectorised."""
    parts = []
    for i, name in enumerate(table.column_names):
        col = table.column(name).combine_chunks()
        if pa.types.is_string(col.type):
            bad = pc.any(pc.match_substring_regex(col, r'["\\\x00-\x1f]')).as_py()
            assert not bad, f"{name}: a value needs JSON escaping"
            v = pc.binary_join_element_wise('"', col, '"', "")
        else:  # numbers and booleans print as JSON literals
            v = pc.cast(col, pa.string())
        v = pc.fill_null(v, "null")
        parts.append(pc.binary_join_element_wise(("{" if i == 0 else ",") + json.dumps(name) + ":", v, ""))
    lines = pc.binary_join_element_wise(*parts, "}\n", "")
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset: lines.offset + len(lines) + 1]
    return bytes(lines.buffers()[2])[offsets[0]: offsets[-1]] if len(lines) else b""


# ----------------------------------------------------------------------------
# schemas

SCHEMAS = {
    "interactions": pa.schema([
        ("interaction_id", pa.string()), ("task_id", pa.string()), ("user_id", pa.string()),
        ("session_id", pa.string()), ("feature", pa.string()), ("model", pa.string()),
        ("model_version", pa.string()), ("requested_at", pa.timestamp("us")), ("responded_at", pa.timestamp("us")),
        ("status", pa.string()), ("input_tokens", pa.int64()), ("output_tokens", pa.int64()),
        ("cost_usd", pa.float64()), ("confidence", pa.float64()), ("attempt", pa.int64()),
        ("experiment_id", pa.string()), ("variant", pa.string()), ("output_text", pa.string()),
        ("final_text", pa.string()), ("source_text", pa.string()), ("ingested_at", pa.timestamp("us"))]),
    "user_events": pa.schema([
        ("event_id", pa.string()), ("user_id", pa.string()), ("occurred_at", pa.timestamp("us")),
        ("event_type", pa.string()), ("session_id", pa.string()), ("task_id", pa.string()),
        ("interaction_id", pa.string()), ("edit_distance", pa.int64()), ("output_chars", pa.int64()),
        ("properties", pa.string()), ("ingested_at", pa.timestamp("us"))]),
    "output_reviews": pa.schema([
        ("review_id", pa.string()), ("interaction_id", pa.string()), ("reviewer_kind", pa.string()),
        ("dimension", pa.string()), ("verdict", pa.string()), ("score", pa.float64()), ("severity", pa.string()),
        ("reviewed_at", pa.timestamp("us")), ("reviewer_id", pa.string())]),
    "eval_results": pa.schema([
        ("eval_run_id", pa.string()), ("run_at", pa.timestamp("us")), ("suite", pa.string()),
        ("model", pa.string()), ("model_version", pa.string()), ("case_id", pa.string()),
        ("sample_index", pa.int64()), ("passed", pa.bool_()), ("score", pa.float64())]),
}
USERS_COLUMNS = ("user_id", "signed_up_at", "segment", "is_internal", "ai_access")


def _table(name: str, cols: dict) -> pa.Table:
    """A table of schema SCHEMAS[name] from {column: Arrow array or numpy array}."""
    schema = SCHEMAS[name]
    arrays = [c.cast(f.type) if isinstance(c := cols[f.name], pa.Array) else pa.array(c, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _ts_py(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day_date(day), datetime.min.time()) + timedelta(hours=hh, minutes=mm)


# ----------------------------------------------------------------------------
# the generator


class _Counters:
    def __init__(self) -> None:
        self.user = self.task = self.query = self.event = self.ud = 0


class _Accumulator:
    """Exact realized counts and costs of non-internal, deduplicated, valid rows (for infra and _truth.json)."""

    def __init__(self) -> None:
        self.q_cell_day = np.zeros((len(CELLS), _N_DAYS_EXT), dtype=np.int64)
        self.human_cell_day = np.zeros((len(CELLS), _N_DAYS_EXT), dtype=np.int64)
        self.outputs_cell = np.zeros(len(CELLS), dtype=np.int64)
        self.api_cost_cell = np.zeros(len(CELLS))
        self.tasks_cell = np.zeros(len(CELLS), dtype=np.int64)
        self.interactions_rows = 0
        self.interaction_duplicates = 0
        self.event_rows = 0
        self.event_duplicates = 0
        self.events_outage_generated = 0
        self.events_outage_kept = 0
        self.review_rows = 0
        self.users_written = 0
        self.internal_users = 0
        self.queries_total = 0
        self.late_events = 0


def _emit_chunk(rng: np.random.Generator, ch: _Chunk, cnt: _Counters, acc: _Accumulator,
                user_ids: pa.Array | None = None) -> dict[str, list]:
    """Turn a simulated chunk into raw tables; returns {table: [pa.Table or CSV/JSONL payload]}."""
    users = ch.users
    n_users = len(users["d0"])
    if user_ids is None:
        user_ids = _ids("u", cnt.user + np.arange(n_users))
    internal = users["group"] == 3
    nq, nt, n_ud = len(ch.q_task), len(ch.t_user), len(ch.ud_user)
    q_user = ch.t_user[ch.q_task]
    q_feat = ch.t_feat[ch.q_task]
    q_model = ch.t_model[ch.q_task]
    q_cell = ch.t_cell[ch.q_task]
    q_day = ch.t_day[ch.q_task]
    q_num = cnt.query + np.arange(nq)
    t_num = cnt.task + np.arange(nt)
    ud_num = cnt.ud + np.arange(n_ud)
    status = ch.q_status
    ok = status == 0
    # id strings, built once and taken by index
    iid = _ids("i", q_num)
    tid = _ids("t", t_num)
    sid = _ids("s", ud_num)

    # tokens and cost
    tok = np.array([TOKENS[f] for f in FEATURES])
    in_tok = rng.integers(tok[q_feat, 0], tok[q_feat, 1] + 1)
    out_tok = np.select([ok, status == 3, status == 4],
                        [rng.integers(tok[q_feat, 2], tok[q_feat, 3] + 1),
                         rng.integers(REFUSED_OUTPUT_TOKENS[0], REFUSED_OUTPUT_TOKENS[1] + 1, nq),
                         np.zeros(nq, dtype=np.int64)], -1)
    pin, pout = _price_arrays()
    price_day = np.minimum(q_day, _N_DAYS_EXT - 1)
    true_cost = (in_tok * pin[q_model, price_day] + np.maximum(out_tok, 0) * pout[q_model, price_day]) / 1e6
    priced = np.array([m != UNPRICED_MODEL for m in MODELS])[q_model]
    cost_given = priced & (rng.random(nq) < P_COST_GIVEN)
    in_tok_null = cost_given & (rng.random(nq) < 0.02)

    # reviews (drawn before the events so the human-review infra counts are known)
    rv = _reviews(rng, ch, ok, q_num, q_cell)

    # realized accumulators (non-internal only)
    ext = ~internal[q_user]
    np.add.at(acc.q_cell_day, (q_cell[ext], q_day[ext]), 1)
    np.add.at(acc.human_cell_day, (q_cell[rv["human_q"]][ext[rv["human_q"]]],
                                   q_day[rv["human_q"]][ext[rv["human_q"]]]), 1)
    np.add.at(acc.outputs_cell, q_cell[ext & ok], 1)
    np.add.at(acc.api_cost_cell, q_cell[ext], true_cost[ext])
    np.add.at(acc.tasks_cell, ch.t_cell[~internal[ch.t_user]], 1)
    acc.queries_total += nq
    acc.internal_users += int(internal.sum())

    # ---- interactions
    responded_null = ch.q_resp < 0
    status_codes = status.copy()
    v = rng.random(nq)
    status_codes[ok & (v < P_ENUM_VARIANT / 2)] = 5
    status_codes[ok & (v >= P_ENUM_VARIANT / 2) & (v < P_ENUM_VARIANT)] = 6
    status_names = STATUSES + ("OK", " ok ")
    _, _, _, versions, version_idx = _regime_tables()
    exp_on = (q_feat == FEATURES.index(EXPERIMENT["feature"])) & (q_day >= day_index(EXPERIMENT["from_date"]))
    ingest_delay = np.where(rng.random(nq) < 0.01, _uniform_us(rng, 2 * 86400, 4 * 86400, nq),
                            _uniform_us(rng, 30, 300, nq))
    inter = {
        "interaction_id": iid,
        "task_id": tid.take(pa.array(ch.q_task)),
        "user_id": user_ids.take(pa.array(q_user)),
        "session_id": sid.take(pa.array(ch.t_ud[ch.q_task])),
        "feature": _str_codes(q_feat, FEATURES),
        "model": _str_codes(q_model, MODELS),
        "model_version": _str_codes(version_idx[ch.t_regime[ch.q_task]], tuple(versions)),
        "requested_at": _ts(ch.q_req),
        "responded_at": _ts(np.where(responded_null, 0, ch.q_resp), responded_null),
        "status": _str_codes(status_codes, status_names),
        "input_tokens": pa.array(in_tok, pa.int64(), mask=in_tok_null),
        "output_tokens": _opt_int(out_tok),
        "cost_usd": pa.array(true_cost, pa.float64(), mask=~cost_given),
        "confidence": pa.array(ch.q_conf, pa.float64(), mask=np.isnan(ch.q_conf)),
        "attempt": ch.q_attempt,
        "experiment_id": pa.array(np.where(exp_on, EXPERIMENT["experiment_id"], None), pa.string()),
        "variant": pa.array(np.where(exp_on, np.array(EXPERIMENT["variants"])[q_user % 2], None), pa.string()),
        **_answer_texts(np.random.default_rng([int(cnt.query), 4242]),
                        ok & (q_feat == FEATURES.index(TEXT_CHECKS["feature"])), ch.q_hall),
        "ingested_at": _ts(ch.q_req + ingest_delay),
    }
    inter_t = _table("interactions", inter)
    # re-ingested interactions: an older provisional copy (timeout, no response), the later one wins
    dup = np.flatnonzero(rng.random(nq) < P_INTERACTION_DUPLICATE)
    if dup.size:
        older = inter_t.take(pa.array(dup))
        null_ing = rng.random(dup.size) < P_DUPLICATE_NULL_INGESTED
        older = older.set_column(older.schema.get_field_index("status"), "status",
                                 pa.array(["timeout"] * dup.size, pa.string()))
        for col in ("responded_at",):
            older = older.set_column(older.schema.get_field_index(col), col, pa.nulls(dup.size, pa.timestamp("us")))
        for col in ("output_tokens",):
            older = older.set_column(older.schema.get_field_index(col), col, pa.nulls(dup.size, pa.int64()))
        older = older.set_column(older.schema.get_field_index("cost_usd"), "cost_usd",
                                 pa.nulls(dup.size, pa.float64()))
        older = older.set_column(older.schema.get_field_index("ingested_at"), "ingested_at",
                                 _ts(ch.q_req[dup] + _US, null_ing))
        inter_t = pa.concat_tables([inter_t, older])
    acc.interactions_rows += inter_t.num_rows
    acc.interaction_duplicates += int(dup.size)

    # ---- user events
    ev = _reaction_events(rng, ch, out_tok)
    # task_started events (task level)
    first_q = np.full(nt, -1, dtype=np.int64)
    first_mask = ch.q_attempt == 1
    first_q[ch.q_task[first_mask]] = np.flatnonzero(first_mask)
    ts_tasks = np.flatnonzero(ch.t_has_started_event)
    v = rng.random(ts_tasks.size) < 0.03
    e_q = np.concatenate([ev["q"], first_q[ts_tasks]])
    e_et = np.concatenate([ev["et"], np.where(v, len(EVENT_TYPES), ET["assistant_opened"])])
    e_t = np.concatenate([ev["t"], ch.t_start[ts_tasks]])
    e_ed = np.concatenate([ev["ed"], np.full(ts_tasks.size, -1)])
    e_oc = np.concatenate([ev["oc"], np.full(ts_tasks.size, -1)])
    ev_types = EVENT_TYPES + ("task_started",)
    output_level = np.r_[_OUTPUT_LEVEL_EVENTS, False][e_et]
    # the output an event names; some output-level events of the terminal output name only the task,
    # some name only the output
    terminal_ok = ok[e_q] & (ch.q_kind[e_q] < K["REGENERATE"])
    v = rng.random(e_q.size)
    has_iid = output_level & ~(terminal_ok & (v < 0.08))
    has_task = ~(has_iid & (v > 0.95))
    e_user = q_user[e_q]
    e_session = ch.t_ud[ch.q_task[e_q]]
    # page views: every active day
    n_pv = 1 + rng.poisson(1.0, n_ud)
    pv_ud = np.repeat(np.arange(n_ud), n_pv)
    pv_t = ch.ud_start[pv_ud] + _uniform_us(rng, 0, 3 * 3600, pv_ud.size)
    pv_props = rng.integers(0, len(PAGE_PATHS), pv_ud.size)
    n_re = e_q.size
    all_user = np.concatenate([e_user, ch.ud_user[pv_ud]])
    all_t = np.concatenate([e_t, pv_t])
    all_et = np.concatenate([e_et, np.full(pv_ud.size, ET["page_view"])])
    all_session = np.concatenate([e_session, pv_ud])
    all_q = np.concatenate([e_q, np.full(pv_ud.size, -1)])
    all_task = np.where(all_q >= 0, ch.q_task[np.maximum(all_q, 0)], -1)
    all_has_iid = np.concatenate([has_iid, np.zeros(pv_ud.size, bool)])
    all_has_task = np.concatenate([has_task, np.zeros(pv_ud.size, bool)])
    all_ed = np.concatenate([e_ed, np.full(pv_ud.size, -1)])
    all_oc = np.concatenate([e_oc, np.full(pv_ud.size, -1)])
    all_props = np.concatenate([np.full(n_re, -1), pv_props])
    # the outage: 90% of the events of that day are lost
    on_outage = all_t // _DAY_US == _OUTAGE_DAY
    kept = ~(on_outage & (rng.random(all_t.size) < OUTAGE["drop_probability"]))
    acc.events_outage_generated += int((on_outage & ~internal[all_user]).sum())
    acc.events_outage_kept += int((on_outage & kept & ~internal[all_user]).sum())
    sel = np.flatnonzero(kept)
    ne = sel.size
    e_num = cnt.event + np.arange(ne)
    late = rng.random(ne) < P_EVENT_LATE
    e_ing = all_t[sel] + np.where(late, _uniform_us(rng, 2 * 86400, 5 * 86400, ne), _uniform_us(rng, 1, 120, ne))
    acc.late_events += int(late.sum())
    # re-sent events: identical content, later ingested_at (older copy: sometimes a null ingested_at);
    # the events of mobile users go to a CSV file of their own
    v = rng.random(ne)
    resent = np.flatnonzero(v < P_EVENT_RESENT)
    exact = np.flatnonzero((v >= P_EVENT_RESENT) & (v < P_EVENT_RESENT + P_EVENT_EXACT_COPY))
    rows = np.concatenate([np.arange(ne), resent, exact])
    ing = np.concatenate([e_ing, e_ing[resent] - 1000, e_ing[exact]])
    ing_null = np.concatenate([np.zeros(ne, bool), rng.random(resent.size) < 0.3, np.zeros(exact.size, bool)])
    mobile = users["mobile"][all_user[sel]][rows]
    acc.event_rows += rows.size
    acc.event_duplicates += int(resent.size + exact.size)
    ev_parts = {}
    for name, m in (("user_events", ~mobile), ("user_events_mobile", mobile)):
        r = rows[m]
        src = sel[r]
        ev_parts[name] = _table("user_events", {
            "event_id": _ids("e", e_num[r]),
            "user_id": user_ids.take(pa.array(all_user[src])),
            "occurred_at": _ts(all_t[src]),
            "event_type": _str_codes(all_et[src], ev_types),
            "session_id": sid.take(pa.array(all_session[src])),
            "task_id": tid.take(pa.array(np.maximum(all_task[src], 0), mask=~all_has_task[src])),
            "interaction_id": iid.take(pa.array(np.maximum(all_q[src], 0), mask=~all_has_iid[src])),
            "edit_distance": _opt_int(all_ed[src]),
            "output_chars": _opt_int(all_oc[src]),
            "properties": _str_codes(np.maximum(all_props[src], 0), PAGE_PATHS, all_props[src] < 0),
            "ingested_at": _ts(ing[m], ing_null[m]),
        })

    # ---- reviews
    rev_t, rev_human_jsonl = _review_tables(rng, rv, q_num, iid, ch)
    acc.review_rows += rev_t.num_rows + rev_human_jsonl.num_rows

    # ---- users (CSV text)
    in_users = np.flatnonzero(users["in_users"])
    acc.users_written += in_users.size
    signed = (users["d0"][in_users] * _DAY_US + 6 * 3600 * _US
              - _uniform_us(rng, 0, 3600 * 5, in_users.size))
    off = np.where(users["mobile"][in_users], 2, 0)
    ai_access = np.select([users["group"][in_users] == 0, users["group"][in_users] == 1], [0, 1], 2)
    ai_access = np.where((ai_access == 0) & (rng.random(in_users.size) < P_ENUM_VARIANT * 2), 3, ai_access)
    is_int = np.where(users["internal_null"][in_users], 2, internal[in_users].astype(np.int64))
    users_t = pa.table({
        "user_id": user_ids.take(pa.array(in_users)),
        "signed_up_at": _iso(_ts(signed), off, zulu=rng.random(in_users.size) < 0.2),
        "segment": _str_codes(users["segment"][in_users], SEGMENTS),
        "is_internal": _str_codes(np.minimum(is_int, 1), ("false", "true"), is_int == 2),
        "ai_access": _str_codes(np.minimum(ai_access, 3), ("treatment", "holdout", "", "Treatment"), ai_access == 2),
    })

    cnt.user += n_users
    cnt.task += nt
    cnt.query += nq
    cnt.event += ne
    cnt.ud += n_ud
    return {
        "interactions": inter_t,
        **ev_parts,
        "output_reviews": rev_t,
        "output_reviews_human": rev_human_jsonl,
        "users": users_t,
    }


def _reviews(rng: np.random.Generator, ch: _Chunk, ok: np.ndarray, q_num: np.ndarray, q_cell: np.ndarray) -> dict:
    """Draw which outputs are reviewed, by whom, and the verdicts (the designed final verdict per output)."""
    outs = np.flatnonzero(ok)
    tier1 = outs[rng.random(outs.size) < P_TIER1_REVIEW]
    n = tier1.size
    truth = ch.q_hall[tier1]
    wrong = np.where(truth, rng.random(n) < TIER1_FNR, rng.random(n) < TIER1_FPR)
    verdict1 = truth ^ wrong  # True = fail
    human = rng.random(n) < P_HUMAN_GIVEN_TIER1
    return {"tier1": tier1, "verdict1": verdict1, "truth": truth, "human": human, "human_q": tier1[human]}


def _review_tables(rng: np.random.Generator, rv: dict, q_num: np.ndarray, iid: pa.Array,
                   ch: _Chunk) -> tuple[pa.Table, pa.Table]:
    tier1, verdict1, truth, human = rv["tier1"], rv["verdict1"], rv["truth"], rv["human"]
    n = tier1.size
    resp = ch.q_resp[tier1]
    llm = rng.random(n) < P_LLM_JUDGE
    t1 = resp + _uniform_us(rng, 60, 6 * 3600, n)
    th = resp + _uniform_us(rng, 86400, 5 * 86400, n)
    before = human & (rng.random(n) < P_HUMAN_BEFORE_TIER1)
    th = np.where(before, resp + _uniform_us(rng, 600, 3600, n), th)
    t1 = np.where(before, th + _uniform_us(rng, 3600, 86400, n), t1)
    trap_u = rng.random(n)
    a, b, c = (TIER1_TRAPS[k] for k in ("automated_tie", "llm_judge_tie", "earlier_opposite"))
    trap_auto = trap_u < a
    trap_llm = (trap_u >= a) & (trap_u < a + b)
    trap_early = (trap_u >= a + b) & (trap_u < a + b + c)
    base = np.arange(n)
    rid_num = q_num[tier1]  # one review "family" per reviewed output: r<interaction number><suffix>

    rows_q, rows_id, rows_kind, rows_verdict, rows_t, rows_dim = [], [], [], [], [], []

    def add(idx, suffix, kind, verdict, t, dim=0):
        rows_q.append(idx)
        rows_id.append((rid_num[idx], suffix))
        rows_kind.append(np.broadcast_to(kind, idx.shape) if np.ndim(kind) == 0 else kind)
        rows_verdict.append(verdict)
        rows_t.append(t)
        rows_dim.append(np.full(idx.size, dim))

    # the designed tier-1 verdict: llm_judge or automated (in the ties: llm_judge, and the larger id)
    plain = ~(trap_auto | trap_llm)
    add(base[plain], "a", np.where(llm[plain], 1, 0), verdict1[plain], t1[plain])
    add(base[trap_auto], "a", np.ones(int(trap_auto.sum()), np.int64), verdict1[trap_auto], t1[trap_auto])
    add(base[trap_auto], "b", np.zeros(int(trap_auto.sum()), np.int64), ~verdict1[trap_auto], t1[trap_auto])
    add(base[trap_llm], "b", np.ones(int(trap_llm.sum()), np.int64), verdict1[trap_llm], t1[trap_llm])
    add(base[trap_llm], "a", np.ones(int(trap_llm.sum()), np.int64), ~verdict1[trap_llm], t1[trap_llm])
    e = base[trap_early]
    add(e, "c", rng.integers(0, 2, e.size), ~verdict1[e], t1[e] - _uniform_us(rng, 3600, 86400, e.size))
    # a safety verdict from the automated checker on half of the reviewed outputs (not a hallucination verdict)
    s = base[rng.random(n) < 0.5]
    add(s, "s", np.zeros(s.size, np.int64), rng.random(s.size) < 0.01, t1[s], dim=1)

    q = np.concatenate(rows_q)
    ids = pc.binary_join_element_wise(
        _ids("r", np.concatenate([x for x, _ in rows_id])),
        pa.array(np.concatenate([np.full(x.size, sfx) for x, sfx in rows_id])), "")
    kind = np.concatenate(rows_kind)
    verdict = np.concatenate(rows_verdict)
    t = np.concatenate(rows_t)
    dim = np.concatenate(rows_dim)
    nr = q.size
    v = rng.random(nr)
    kind_codes = np.where((kind == 1) & (v < P_ENUM_VARIANT * 2), 2, kind)  # 'LLM_Judge'
    dim_codes = np.where((dim == 0) & (v > 1 - P_ENUM_VARIANT * 2), 2, dim)  # ' Hallucination '
    fail = verdict.astype(bool)
    sev = _categorical(rng, np.array(SEVERITY_PROBS)[None, :], np.zeros(nr, np.int64))
    sev = np.where(fail & (dim == 1), 2, sev)
    sev_codes = np.where(fail & (rng.random(nr) < 0.05), 4, sev)  # an upper-case variant
    sev_names = SEVERITIES + ("High",)
    score = np.where(fail, rng.uniform(0.0, 0.5, nr), rng.uniform(0.5, 1.0, nr))
    tier1_t = _table("output_reviews", {
        "review_id": ids,
        "interaction_id": iid.take(pa.array(tier1[q])),
        "reviewer_kind": _str_codes(kind_codes, ("automated", "llm_judge", "LLM_Judge")),
        "dimension": _str_codes(dim_codes, ("hallucination", "safety", " Hallucination ")),
        "verdict": _str_codes(fail.astype(np.int64), ("pass", "fail")),
        "score": pa.array(score, pa.float64(), mask=kind == 0),
        "severity": _str_codes(sev_codes, sev_names, ~fail),
        "reviewed_at": _ts(t),
        "reviewer_id": _str_codes(kind, ("auto-checker-3", "judge-gpt-4o")),
    })

    # human_expert verdicts (JSON Lines): the truth; 15% also an older opposite one with +02:00, < 2 h before
    hi = base[human]
    hv = truth[hi]
    early = (rng.random(hi.size) < P_HUMAN_EARLIER_OPPOSITE) & ~before[hi]
    he = hi[early]
    h_q = np.concatenate([hi, he])
    h_fail = np.concatenate([hv, ~truth[he]])
    h_t = np.concatenate([th[hi], th[he] - _uniform_us(rng, 600, 6600, he.size)])
    h_sfx = np.concatenate([np.full(hi.size, "h"), np.full(he.size, "g")])
    offset = np.concatenate([np.where(rng.random(hi.size) < 0.3, 2, 0), np.full(he.size, 2)])
    zulu = np.concatenate([rng.random(hi.size) < 0.4, np.zeros(he.size, bool)])
    nh = h_q.size
    h_sev = _categorical(rng, np.array(SEVERITY_PROBS)[None, :], np.zeros(nh, np.int64))
    human_t = pa.table({
        "review_id": pc.binary_join_element_wise(_ids("r", rid_num[h_q]), pa.array(h_sfx), ""),
        "interaction_id": iid.take(pa.array(tier1[h_q])),
        "reviewer_kind": pa.array(["human_expert"] * nh, pa.string()),
        "dimension": pa.array(["hallucination"] * nh, pa.string()),
        "verdict": _str_codes(h_fail.astype(np.int64), ("pass", "fail")),
        "score": pa.array(np.where(h_fail, 0.0, 1.0)),
        "severity": _str_codes(h_sev, SEVERITIES, ~h_fail),
        "reviewed_at": _iso(_ts(h_t), offset, zulu),
        "reviewer_id": _ids("expert-", rng.integers(1, 9, nh)),
    })
    return tier1_t, human_t


# ----------------------------------------------------------------------------
# fixed tables: malformed rows, eval results, infra costs


def _malformed_interactions() -> pa.Table:
    base = dict(task_id="t_bad", user_id="u_bad_phantom", session_id=None, feature="email_draft",
                model="gpt-4o-mini", model_version="gpt-4o-mini+email_draft.v1",
                requested_at=_ts_py(10, 12), responded_at=_ts_py(10, 12, 1), status="ok", input_tokens=500,
                output_tokens=200, cost_usd=None, confidence=0.9, attempt=1, experiment_id=None, variant=None,
                ingested_at=_ts_py(10, 13))
    rows = []
    n = 0

    def row(**kw):
        nonlocal n
        n += 1
        rows.append({**base, "interaction_id": f"i_bad_{n:02d}", "task_id": f"t_bad_{n:02d}", **kw})

    m = MALFORMED["interactions"]
    for _ in range(m["missing_required:task_id"]):
        row(task_id=None)
    for _ in range(m["missing_required:user_id (blank)"]):
        row(user_id="   ")
    for _ in range(m["invalid_enum:status"]):
        row(status="succeeded")
    for _ in range(m["out_of_range:output_tokens < 0"]):
        row(output_tokens=-5)
    for _ in range(m["out_of_range:confidence > 1"]):
        row(confidence=1.3)
    for _ in range(m["out_of_range:responded_at < requested_at"]):
        row(responded_at=_ts_py(10, 11, 59))
    for _ in range(m["out_of_range:attempt < 1"]):
        row(attempt=0)
    for _ in range(m["out_of_range:cost_usd < 0"]):
        row(cost_usd=-0.01)
    for _ in range(m["out_of_range:confidence > 1 (the winning copy; its older copy is valid)"]):
        row(ingested_at=_ts_py(10, 13))                   # older, valid
        rows.append({**rows[-1], "confidence": 1.7, "ingested_at": _ts_py(11, 9)})  # later, invalid: wins
    return pa.Table.from_pylist(rows, schema=SCHEMAS["interactions"])


def _malformed_events() -> pa.Table:
    base = dict(user_id="u_bad_phantom", occurred_at=_ts_py(10, 12), event_type="suggestion_inserted",
                session_id=None, task_id="t_bad_ev", interaction_id=None, edit_distance=None, output_chars=None,
                properties=None, ingested_at=_ts_py(10, 13))
    rows = []
    m = MALFORMED["user_events"]
    spec = ([dict(occurred_at=None)] * m["missing_required:occurred_at"]
            + [dict(event_type=" ")] * m["missing_required:event_type (blank)"]
            + [dict(user_id=None)] * m["missing_required:user_id"]
            + [dict(event_type="suggestion_edited", edit_distance=-3, output_chars=400)]
            * m["out_of_range:edit_distance < 0"]
            + [dict(event_type="suggestion_edited", edit_distance=3, output_chars=-1)]
            * m["out_of_range:output_chars < 0"])
    for i, kw in enumerate(spec, 1):
        rows.append({**base, "event_id": f"e_bad_{i:02d}", **kw})
    return pa.Table.from_pylist(rows, schema=SCHEMAS["user_events"])


def _malformed_reviews(targets: list[str]) -> pa.Table:
    base = dict(reviewer_kind="llm_judge", dimension="hallucination", verdict="fail", score=0.1, severity="high",
                reviewed_at=_ts_py(12, 9), reviewer_id="judge-gpt-4o")
    m = MALFORMED["output_reviews"]
    spec = ([dict(severity="severe")] * m["invalid_enum:severity"]
            + [dict(reviewer_kind="crowd")] * m["invalid_enum:reviewer_kind"]
            + [dict(verdict="maybe")] * m["invalid_enum:verdict"]
            + [dict(reviewed_at=None)] * m["missing_required:reviewed_at"]
            + [dict(dimension=None)] * m["missing_required:dimension"]
            + [dict(interaction_id=None)] * m["missing_required:interaction_id"])
    rows = []
    for i, kw in enumerate(spec, 1):
        rows.append({**base, "review_id": f"r_bad_{i:02d}", "interaction_id": targets[i % len(targets)], **kw})
    return pa.Table.from_pylist(rows, schema=SCHEMAS["output_reviews"])


def _eval_table() -> pa.Table:
    rng = np.random.default_rng(20260601)  # fixed: the eval suites do not depend on the demo seed
    cols: dict[str, list] = {f.name: [] for f in SCHEMAS["eval_results"]}
    runs = []
    for f in FEATURES:
        for m in ROUTING[f]:
            versions = [version_of(f, m, 0)]
            if (f, m) == (DECAY["feature"], DECAY["model"]):
                versions.append(DECAY["new_version"])
            for v in versions:
                run_day = 0 if v.endswith(".v1") else day_index(DECAY["release_date"]) - 1
                runs.append((f, m, v, run_day))
    for n_run, (f, m, v, run_day) in enumerate(runs):
        p = eval_case_probs(v)
        passed = rng.random((N_EVAL_CASES, N_EVAL_SAMPLES)) < p[:, None]
        run_id = f"eval_{v.replace('+', '_')}"
        run_at = _ts_py(run_day, 1, n_run)
        for c in range(N_EVAL_CASES):
            for s in range(N_EVAL_SAMPLES):
                cols["eval_run_id"].append(run_id)
                cols["run_at"].append(run_at)
                cols["suite"].append(f"{f}_golden")
                cols["model"].append(m)
                cols["model_version"].append(v)
                cols["case_id"].append(f"{f}-case-{c:03d}")
                cols["sample_index"].append(s)
                cols["passed"].append(bool(passed[c, s]))
                cols["score"].append(float(passed[c, s]))
    t = pa.table(cols, schema=SCHEMAS["eval_results"])
    first = t.slice(0, 1).to_pylist()[0]
    bad = [
        {**first, "case_id": "bad-case-1", "sample_index": -1},
        {**first, "case_id": "bad-case-2", "passed": None},
    ]
    assert len(bad) == sum(MALFORMED["eval_results"].values())
    dups = t.slice(5, N_EVAL_EXACT_DUPLICATES)
    return pa.concat_tables([t, pa.Table.from_pylist(bad, schema=SCHEMAS["eval_results"]), dups])


def _infra_rows(acc: _Accumulator) -> list[dict]:
    rows = []
    q = acc.q_cell_day[:, :N_DAYS]
    cell_f = np.array([FEATURES.index(f) for f, _ in CELLS])
    cell_m = np.array([MODELS.index(m) for _, m in CELLS])
    for d in range(N_DAYS):
        day = day_date(d).isoformat()
        qd = q[:, d]
        if qd.sum():
            kind = "platform" if d % 3 else " Platform"
            rows.append({"cost_date": day, "feature": None, "model": None, "cost_kind": kind,
                         "cost_usd": INFRA_PLATFORM_PER_QUERY * int(qd.sum())})
        for f, rate in INFRA_VECTOR_DB_PER_QUERY.items():
            n = int(qd[cell_f == FEATURES.index(f)].sum())
            if n:
                rows.append({"cost_date": day, "feature": f, "model": None, "cost_kind": "vector_db",
                             "cost_usd": rate * n})
        for m, rate in INFRA_GPU_PER_QUERY.items():
            n = int(qd[cell_m == MODELS.index(m)].sum())
            if n:
                rows.append({"cost_date": day, "feature": None, "model": m, "cost_kind": "GPU" if d % 2 else "gpu",
                             "cost_usd": rate * n})
        for ci, (f, m) in enumerate(CELLS):
            rate = INFRA_HUMAN_REVIEW_PER_OUTPUT.get(f)
            n = int(acc.human_cell_day[ci, d])
            if rate and n:
                rows.append({"cost_date": day, "feature": f, "model": m, "cost_kind": "human_review",
                             "cost_usd": rate * n})
    rows.append(dict(ORPHAN_INFRA))
    rows.append(dict(UNALLOCATED_INFRA))
    m = MALFORMED["infra_costs"]
    rows += [{"cost_date": "2026-07-01", "feature": "email_draft", "model": None, "cost_kind": "gpu",
              "cost_usd": -12.5}] * m["out_of_range:cost_usd < 0"]
    rows += [{"cost_date": "2026-07-01", "feature": "email_draft", "model": None, "cost_kind": None,
              "cost_usd": 3.0}] * m["missing_required:cost_kind"]
    rows += [{"cost_date": None, "feature": "email_draft", "model": None, "cost_kind": "gpu",
              "cost_usd": 3.0}] * m["missing_required:cost_date"]
    return rows


def _infra_allocated_per_cell(acc: _Accumulator) -> np.ndarray:
    """Exact infra cost each cell receives (allocation by query counts, rates x counts)."""
    q = acc.q_cell_day[:, :N_DAYS].sum(axis=1).astype(float)
    out = q * INFRA_PLATFORM_PER_QUERY
    for ci, (f, m) in enumerate(CELLS):
        out[ci] += q[ci] * (INFRA_VECTOR_DB_PER_QUERY.get(f, 0.0) + INFRA_GPU_PER_QUERY.get(m, 0.0))
        out[ci] += INFRA_HUMAN_REVIEW_PER_OUTPUT.get(f, 0.0) * acc.human_cell_day[ci, :N_DAYS].sum()
    return out


# ----------------------------------------------------------------------------
# public entry point

#: interactions per simulated user (measured): sizes the user chunks
_EST_QUERIES_PER_USER = 1.9
_CHUNK_QUERIES = 400_000
_TABLE_DIRS = ("interactions", "user_events", "output_reviews", "eval_results", "users", "infra_costs")


def _clean_out_dir(out_dir: Path) -> None:
    for name in _TABLE_DIRS:
        d = out_dir / name
        if d.is_dir():
            for p in d.iterdir():
                if p.is_file() and p.suffix in (".parquet", ".csv", ".jsonl"):
                    p.unlink()
    (out_dir / "_truth.json").unlink(missing_ok=True)


def generate(scale: int, seed: int, out_dir: Path, progress=None) -> dict[str, list[Path]]:
    """Write about `scale` interactions of demo data (and everything that goes with them) to out_dir.

    Same (scale, seed) -> byte-identical files. Returns {raw table: [files]}
    in the order they should be loaded. Also writes out_dir/_truth.json
    (realized exact counts and costs; see :func:`load_truth`). ``progress``,
    when given, is called with the number of interactions written so far.
    """
    if scale < 1:
        raise ValueError("scale must be >= 1")
    out_dir = Path(out_dir)
    _clean_out_dir(out_dir)
    for name in _TABLE_DIRS:
        (out_dir / name).mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {name: [] for name in _TABLE_DIRS}
    cnt, acc = _Counters(), _Accumulator()
    users_path = out_dir / "users" / "users.csv"
    users_schema = pa.schema([(c, pa.string()) for c in USERS_COLUMNS])
    users_csv = pacsv.CSVWriter(users_path, users_schema)  # streamed: one users table per chunk
    review_targets: list[str] = []

    def write(part: str, out: dict[str, pa.Table]) -> None:
        p = out_dir / "interactions" / f"{part}.parquet"
        pq.write_table(out["interactions"], p, compression="zstd")
        files["interactions"].append(p)
        p = out_dir / "user_events" / f"{part}.parquet"
        pq.write_table(out["user_events"], p, compression="zstd")
        files["user_events"].append(p)
        if out["user_events_mobile"].num_rows:
            p = out_dir / "user_events" / f"{part}-mobile.csv"
            mob = out["user_events_mobile"]
            n = mob.num_rows
            two = np.full(n, 2)
            for col in ("occurred_at", "ingested_at"):
                i = mob.schema.get_field_index(col)
                mob = mob.set_column(i, col, _iso(mob.column(col).combine_chunks(), two))
            pacsv.write_csv(mob, p)
            files["user_events"].append(p)
        p = out_dir / "output_reviews" / f"{part}.parquet"
        pq.write_table(out["output_reviews"], p, compression="zstd")
        files["output_reviews"].append(p)
        if out["output_reviews_human"].num_rows:
            p = out_dir / "output_reviews" / f"{part}-human.jsonl"
            p.write_bytes(_jsonl_bytes(out["output_reviews_human"]))
            files["output_reviews"].append(p)
        users_csv.write_table(out["users"].select(list(USERS_COLUMNS)).cast(users_schema))

    # chunks of users until `scale` interactions
    chunk_no = 0
    while cnt.query < scale:
        remaining = scale - cnt.query
        target = min(remaining, _CHUNK_QUERIES)
        n_users = int(math.ceil(target / _EST_QUERIES_PER_USER * 1.2)) + 50
        rng = np.random.default_rng([seed, chunk_no])
        users = _make_users(rng, n_users)
        ud_user, ud_day = _make_user_days(rng, users)
        ch = _Chunk(users, ud_user, ud_day)
        _simulate_tasks(rng, ch)
        per_user = np.bincount(ch.t_user[ch.q_task], minlength=n_users)
        cum = np.cumsum(per_user)
        if cum[-1] >= target:
            _truncate(ch, int(np.searchsorted(cum, target)) + 1)
        out = _emit_chunk(rng, ch, cnt, acc)
        if not review_targets:
            review_targets = out["output_reviews"].column("interaction_id").slice(0, 3).to_pylist()
        write(f"part-{chunk_no:05d}", out)
        chunk_no += 1
        if progress is not None:
            progress(min(cnt.query, scale))

    # the internal QA bot: queries after the calendar's end
    rng = np.random.default_rng([seed, 1_000_000])
    qa_users = {"group": np.array([3]), "adopter": np.array([True]), "rho": np.array([1.0]),
                "primary": np.array([0]), "mobile": np.array([False]), "segment": np.array([2]),
                "in_users": np.array([True]), "internal_null": np.array([False]), "d0": np.array([QA_BOT_DAYS[0]])}
    ch = _Chunk(qa_users, np.zeros(len(QA_BOT_DAYS), dtype=np.int64), np.array(QA_BOT_DAYS))
    _simulate_tasks(rng, ch, forced_tasks=5)
    out = _emit_chunk(rng, ch, cnt, acc, user_ids=pa.array([QA_BOT_USER]))
    write("part-qa", out)

    # malformed phantoms and older-malformed duplicates, in their own files
    inter_bad = _malformed_interactions()
    first = pq.read_table(files["interactions"][0]).slice(0, N_OLDER_COPY_MALFORMED)
    older = first.set_column(first.schema.get_field_index("status"), "status",
                             pa.array(["pending"] * first.num_rows, pa.string()))
    older = older.set_column(older.schema.get_field_index("ingested_at"), "ingested_at",
                             pa.array([datetime(2026, 5, 1)] * first.num_rows, pa.timestamp("us")))
    p = out_dir / "interactions" / "extras.parquet"
    pq.write_table(pa.concat_tables([inter_bad, older]), p, compression="zstd")
    files["interactions"].append(p)
    p = out_dir / "user_events" / "extras.parquet"
    pq.write_table(_malformed_events(), p, compression="zstd")
    files["user_events"].append(p)
    p = out_dir / "output_reviews" / "extras.parquet"
    pq.write_table(_malformed_reviews(review_targets), p, compression="zstd")
    files["output_reviews"].append(p)

    # users (CSV), with malformed rows
    m = MALFORMED["users"]
    bad_users = pa.table({
        "user_id": ["u_bad_user_1", "u_bad_user_2"][: m["invalid_enum:ai_access"]]
        + ["  "] * m["missing_required:user_id (blank)"],
        "signed_up_at": ["2026-06-03T09:00:00"] * sum(m.values()),
        "segment": ["free"] * sum(m.values()),
        "is_internal": ["false"] * sum(m.values()),
        "ai_access": ["control"] * m["invalid_enum:ai_access"] + ["treatment"] * m["missing_required:user_id (blank)"],
    })
    users_csv.write_table(bad_users.cast(users_schema))
    users_csv.close()
    files["users"].append(users_path)

    # eval results
    p = out_dir / "eval_results" / "eval_results.parquet"
    pq.write_table(_eval_table(), p, compression="zstd")
    files["eval_results"].append(p)

    # infra costs (JSON Lines)
    p = out_dir / "infra_costs" / "infra_costs.jsonl"
    with open(p, "w") as f:
        for row in _infra_rows(acc):
            f.write(json.dumps(row) + "\n")
    files["infra_costs"].append(p)

    infra = _infra_allocated_per_cell(acc)
    truth = {
        "scale": scale,
        "seed": seed,
        "chunks": chunk_no,
        "interactions_generated": int(acc.queries_total),
        "interactions_rows": int(acc.interactions_rows) + inter_bad.num_rows + N_OLDER_COPY_MALFORMED,
        "interaction_duplicates": int(acc.interaction_duplicates) + N_OLDER_COPY_MALFORMED,
        "event_rows": int(acc.event_rows) + sum(MALFORMED["user_events"].values()),
        "event_duplicates": int(acc.event_duplicates),
        "late_events": int(acc.late_events),
        "review_rows": int(acc.review_rows) + sum(MALFORMED["output_reviews"].values()),
        "outage": {"date": OUTAGE["date"], "events_generated": acc.events_outage_generated,
                   "events_kept": acc.events_outage_kept},
        "users_written": int(acc.users_written),
        "internal_users": int(acc.internal_users),
        "cells": {
            f"{f}/{m}": {
                "queries": int(acc.q_cell_day[ci].sum()),
                "outputs": int(acc.outputs_cell[ci]),
                "tasks": int(acc.tasks_cell[ci]),
                "api_cost_usd": float(acc.api_cost_cell[ci]),
                "infra_cost_usd": float(infra[ci]),
                "total_cost_usd": float(acc.api_cost_cell[ci] + infra[ci]),
                "human_reviewed_outputs": int(acc.human_cell_day[ci].sum()),
            } for ci, (f, m) in enumerate(CELLS)
        },
    }
    (out_dir / "_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return files


def load_truth(out_dir: Path) -> dict:
    """The realized exact counts written by :func:`generate` beside the raw files."""
    return json.loads((Path(out_dir) / "_truth.json").read_text())


PLANTED: dict = _build_planted()
