"""Unit tests of the reference oracle on tiny hand-built cases.

Every expected value is worked out by hand in the comments, from
shared/spec/metrics.md and raw-contract.md, not by running the oracle.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest

from reference.spec_reference import (
    METRICS_DAILY_COLUMNS,
    RETENTION_WEEKLY_COLUMNS,
    compute,
    newcombe_interval,
    quantile_cont,
    wilson_interval,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
Z = 1.959963984540054
D0 = dt.datetime(2026, 6, 1)  # a Monday


def at(day=0, h=0, m=0, s=0, us=0) -> dt.datetime:
    return D0 + dt.timedelta(days=day, hours=h, minutes=m, seconds=s, microseconds=us)


def day(n) -> dt.date:
    return (D0 + dt.timedelta(days=n)).date()


def q(iid, task, req, user="u1", feature="f", model="m", status="ok", attempt=1,
      latency_ms=1000, cost=0.0, **kw) -> dict:
    row = {
        "interaction_id": iid, "task_id": task, "user_id": user, "feature": feature,
        "model": model, "requested_at": req,
        "responded_at": (req + dt.timedelta(milliseconds=latency_ms)
                         if status == "ok" and isinstance(req, dt.datetime) else None),
        "status": status, "attempt": attempt, "cost_usd": cost,
    }
    row.update(kw)
    return row


def ev(eid, when, etype, user="u1", task=None, iid=None, ed=None, oc=None, **kw) -> dict:
    row = {"event_id": eid, "user_id": user, "occurred_at": when, "event_type": etype,
           "task_id": task, "interaction_id": iid, "edit_distance": ed, "output_chars": oc}
    row.update(kw)
    return row


def rv(rid, iid, kind, verdict, when, dim="hallucination", **kw) -> dict:
    row = {"review_id": rid, "interaction_id": iid, "reviewer_kind": kind, "dimension": dim,
           "verdict": verdict, "reviewed_at": when}
    row.update(kw)
    return row


def clock(d=10) -> dict:
    """A query far in the future (own feature) so that every earlier task is mature."""
    return q("clock", "T_clock", at(d, 12), user="u_clock", feature="clock_feature")


def run(**tables) -> dict:
    return compute(tables, SEEDS)


def cell(out, d, feature="f", model="m") -> dict:
    rows = [r for r in out["metrics_daily"]
            if (r["metric_date"], r["feature"], r["model"]) == (d, feature, model)]
    assert len(rows) == 1, f"no single row for {(d, feature, model)}: {rows}"
    return rows[0]


def has_cell(out, d, feature="f", model="m") -> bool:
    return any((r["metric_date"], r["feature"], r["model"]) == (d, feature, model)
               for r in out["metrics_daily"])


# ---------------------------------------------------------------------------


def test_two_outputs_review_ties_and_wilson():
    # One task, two outputs requested at the same instant (attempts 1 and 2).
    # i1: human_expert pass r1 and human_expert fail r2 at the same reviewed_at ->
    #     tie on time goes to the larger review_id (r2 = fail); a later llm_judge
    #     pass is tier 1 and loses to tier 2 -> i1 hallucinated.
    # i2: automated fail r9 and llm_judge pass r3 at the same time -> tier-1 tie
    #     goes to llm_judge although r9 is the larger id -> pass.
    # HR = 1/2. Wilson(1, 2), z^2 = 3.841458820694124:
    #   denom  = 1 + z^2/2 = 2.920729410347062
    #   centre = (0.5 + z^2/4) / denom = 1.460364705173531 / 2.920729410347062 = 0.5
    #   half   = z * sqrt(0.5*0.5/2 + z^2/16) / denom
    #          = 1.959964 * sqrt(0.125 + 0.240091176) / 2.920729 = 0.405469
    #   -> (0.094531, 0.905469)
    rt = at(0, 15)
    out = run(
        interactions=[q("i1", "T1", at(0, 10)), q("i2", "T1", at(0, 10), attempt=2)],
        output_reviews=[
            rv("r1", "i1", "human_expert", "pass", rt),
            rv("r2", "i1", "human_expert", "fail", rt),
            rv("r0", "i1", "llm_judge", "pass", rt + dt.timedelta(hours=1)),
            rv("r9", "i2", "automated", "fail", rt),
            rv("r3", "i2", "llm_judge", "pass", rt, dim=" Hallucination "),
        ],
    )
    r = cell(out, day(0))
    assert (r["outputs"], r["reviewed_outputs"], r["hallucinated_outputs"]) == (2, 2, 1)
    assert r["hallucination_rate"] == 0.5
    assert r["review_coverage"] == 1.0
    assert r["hr_ci_low"] == pytest.approx(0.094531, abs=1e-6)
    assert r["hr_ci_high"] == pytest.approx(0.905469, abs=1e-6)
    half = Z * math.sqrt(0.125 + Z * Z / 16) / (1 + Z * Z / 2)
    assert r["hr_ci_low"] == pytest.approx(0.5 - half, abs=1e-12)


def test_tier1_latest_wins_and_other_dimensions_ignored():
    # i1: llm_judge fail at 12:00, automated pass at 12:00:01 -> latest tier 1 = pass.
    # i2: only a correctness fail -> no hallucination verdict -> not reviewed.
    # i3: human_expert pass at 12:00, llm_judge fail later -> tier 2 wins = pass.
    # reviewed 2 (i1, i3), hallucinated 0, coverage 2/3.
    out = run(
        interactions=[q("i1", "T1", at(0, 9)), q("i2", "T2", at(0, 9)), q("i3", "T3", at(0, 9))],
        output_reviews=[
            rv("r1", "i1", "llm_judge", "fail", at(0, 12)),
            rv("r2", "i1", "automated", "pass", at(0, 12, 0, 1)),
            rv("r3", "i2", "human_expert", "fail", at(0, 12), dim="correctness"),
            rv("r4", "i3", "human_expert", "pass", at(0, 12)),
            rv("r5", "i3", "LLM_Judge", " FAIL ", at(0, 13)),
        ],
    )
    r = cell(out, day(0))
    assert (r["reviewed_outputs"], r["hallucinated_outputs"]) == (2, 0)
    assert r["hallucination_rate"] == 0.0
    assert r["review_coverage"] == pytest.approx(2 / 3)
    # Wilson at p = 0: the lower bound is exactly 0 (centre == half)
    assert r["hr_ci_low"] == pytest.approx(0.0, abs=1e-15)


def test_substantive_edit_boundary_and_hitl_f():
    # Six tasks, one output each, all in cell (day 0, f, m), each with one edit
    # and a task_completed event; a far clock query makes them mature.
    #   10/100 = 0.10 >= 0.10      -> substantive (boundary included)
    #    9/100 = 0.09              -> not
    #   None/50 (unknown size)     -> substantive
    #    5/0   (ratio undefined)   -> substantive
    #    0/100 = 0                 -> not
    #    3/30  = 0.10              -> substantive
    # interventions = 4, queries = 6 -> hitl_f = 100*4/6 = 66.666...
    # completed without intervention: the 9/100 and 0/100 tasks -> 2 of 6.
    sizes = [(10, 100), (9, 100), (None, 50), (5, 0), (0, 100), (3, 30)]
    inter, events = [clock()], []
    for k, (ed, oc) in enumerate(sizes):
        inter.append(q(f"i{k}", f"T{k}", at(0, 9, k)))
        events.append(ev(f"e{k}", at(0, 9, k, 30), "suggestion_edited", iid=f"i{k}", ed=ed, oc=oc))
        events.append(ev(f"c{k}", at(0, 10, k), "task_completed", task=f"T{k}"))
    r = cell(run(interactions=inter, user_events=events), day(0))
    assert r["interventions"] == 4
    assert r["hitl_f"] == pytest.approx(100 * 4 / 6)
    assert (r["tasks"], r["tasks_mature"], r["tasks_completed"]) == (6, 6, 2)
    assert r["tcr"] == pytest.approx(2 / 6)


def test_substantive_ratio_var_is_used():
    # With substantive_edit_ratio = 0.5: 10/100 is no longer substantive.
    out = compute(
        {"interactions": [q("i1", "T1", at(0, 9))],
         "user_events": [ev("e1", at(0, 9, 1), "output_edited", iid="i1", ed=10, oc=100)]},
        SEEDS, {"substantive_edit_ratio": 0.5},
    )
    assert cell(out, day(0))["interventions"] == 0


def test_behavioural_window_boundaries_and_cpvo():
    # Each output is its own task; accept at t0 = query + 20 s.
    #   o1 rejected at t0           -> corrective inside [t0, t0+5min] -> invalid
    #   o2 rejected at t0 + 5 min   -> end included                  -> invalid
    #   o3 rejected at t0 + 5min+1us-> just after                    -> valid
    #   o4 rejected at t0 - 1 s     -> before t does not count       -> valid
    #   o5 accepted, nothing else                                    -> valid
    #   o6 accepted but human_expert hallucination fail              -> invalid (still accepted)
    #   o7 no accept/verify event                                    -> invalid
    #   o8 verified only (no accept)                                 -> valid, not "accepted"
    #   o9 accepted, non-substantive edit (1/100) at t0 + 1 min      -> valid
    # valid = o3 o4 o5 o8 o9 = 5; accepted = o1..o6, o9 = 7; outputs 9.
    # cost 0.01 per query -> total 0.09 -> cpvo = 0.09 / 5 = 0.018
    inter, events, reviews = [], [], []
    five = dt.timedelta(minutes=5)
    for k in range(1, 10):
        inter.append(q(f"o{k}", f"T{k}", at(0, 10, 10 * k), cost=0.01))
    t = {k: at(0, 10, 10 * k, 20) for k in range(1, 10)}
    for k in (1, 2, 3, 4, 5, 6, 9):
        events.append(ev(f"a{k}", t[k], "output_accepted", iid=f"o{k}"))
    events += [
        ev("x1", t[1], "output_rejected", iid="o1"),
        ev("x2", t[2] + five, "suggestion_dismissed", iid="o2"),
        ev("x3", t[3] + five + dt.timedelta(microseconds=1), "output_rejected", iid="o3"),
        ev("x4", t[4] - dt.timedelta(seconds=1), "output_rejected", iid="o4"),
        ev("v8", t[8], "answer_confirmed", iid="o8"),
        ev("x9", t[9] + dt.timedelta(minutes=1), "output_edited", iid="o9", ed=1, oc=100),
    ]
    reviews.append(rv("r6", "o6", "human_expert", "fail", at(1)))
    r = cell(run(interactions=inter, user_events=events, output_reviews=reviews), day(0))
    assert r["outputs"] == 9
    assert r["valid_outputs"] == 5
    assert r["accepted_outputs"] == 7
    assert r["acceptance_rate"] == pytest.approx(7 / 9)
    assert r["total_cost_usd"] == pytest.approx(0.09, rel=1e-12)
    assert r["cpvo"] == pytest.approx(0.018, rel=1e-12)


def test_window_uses_first_success_and_task_level_corrective():
    # Task T1 with outputs a (10:00) and b (10:10); task T2 with output c; task T3 with d.
    #   a: verified at 10:05 -> t = 10:05 (the first success, not the 10:12 accept);
    #      rejected at 10:11 = t + 6 min -> outside [t, t+5min] -> a stays valid.
    #   b: accepted at 10:20 -> t; a `regenerated` event with only task T1 at 10:22
    #      concerns b (latest output <= 10:22) and is inside b's window -> b invalid.
    #   c: accepted at 11:00 -> t; a `reprompted` event at 11:03 with task_id T2 but
    #      naming d (task T3) belongs to T2 = c's task -> corrective inside c's window
    #      -> c invalid.
    #   d: no accept/verify -> invalid.
    # valid_outputs = 1 (a).
    out = run(
        interactions=[q("a", "T1", at(0, 10)), q("b", "T1", at(0, 10, 10), attempt=2),
                      q("c", "T2", at(0, 11)), q("d", "T3", at(0, 11, 1))],
        user_events=[
            ev("e1", at(0, 10, 5), "output_verified", iid="a"),
            ev("e2", at(0, 10, 11), "output_rejected", iid="a"),
            ev("e3", at(0, 10, 12), "output_accepted", iid="a"),
            ev("e4", at(0, 10, 20), "output_accepted", iid="b"),
            ev("e5", at(0, 10, 22), "regenerated", task="T1"),
            ev("e6", at(0, 11, 0), "output_accepted", iid="c"),
            ev("e7", at(0, 11, 3), "reprompted", task="T2", iid="d"),
        ],
    )
    assert cell(out, day(0))["valid_outputs"] == 1


def test_shared_infra_split_two_to_one():
    # Day 0 query counts (any status, internal users excluded):
    #   A = (f1, m1): 2 queries (ok + error); B = (f1, m2): 1; C = (f2, m1): 1;
    #   an internal user's query in (f2, m2) is excluded: no cell, no share.
    # infra rows on day 0:
    #   fully shared 4.0  -> A 4*2/4 = 2.0, B 1.0, C 1.0
    #   feature f1   3.0  -> A 3*2/3 = 2.0, B 1.0   (the 2:1 split)
    #   model m1     0.9  -> A 0.9*2/3 = 0.6, C 0.3
    #   exact (f3, m9) 0.5 -> new cell with 0 queries
    #   feature f9 2.0, model m2 on day 1, model m_int 1.0 -> no query in scope -> unallocated
    # totals: A 4.6, B 2.0, C 1.3, (f3, m9) 0.5
    out = run(
        interactions=[
            q("a1", "Ta1", at(0, 9), feature="f1", model="m1"),
            q("a2", "Ta2", at(0, 9, 1), feature="f1", model="m1", status="error"),
            q("b1", "Tb1", at(0, 9), feature="f1", model="m2"),
            q("c1", "Tc1", at(0, 9), feature="f2", model="m1"),
            q("x1", "Tx1", at(0, 9), feature="f2", model="m_int", user="staff"),
        ],
        users=[{"user_id": "staff", "is_internal": True}],
        infra_costs=[
            {"cost_date": day(0), "feature": None, "model": None, "cost_kind": "gpu", "cost_usd": 4.0},
            {"cost_date": day(0), "feature": "f1", "model": None, "cost_kind": "Vector_DB", "cost_usd": Decimal("3.0")},
            {"cost_date": day(0), "feature": "  ", "model": "m1", "cost_kind": "gpu", "cost_usd": "0.9"},
            {"cost_date": "2026-06-01", "feature": "f3", "model": "m9", "cost_kind": "gpu", "cost_usd": 0.5},
            {"cost_date": day(0), "feature": "f9", "model": None, "cost_kind": "gpu", "cost_usd": 2.0},
            {"cost_date": day(1), "feature": None, "model": "m2", "cost_kind": "gpu", "cost_usd": 2.0},
            {"cost_date": day(0), "feature": None, "model": "m_int", "cost_kind": "gpu", "cost_usd": 1.0},
            {"cost_date": day(0), "feature": None, "model": None, "cost_kind": "gpu", "cost_usd": -1.0},  # quarantined
            {"cost_date": day(0), "feature": None, "model": None, "cost_kind": " ", "cost_usd": 5.0},  # quarantined
        ],
    )
    assert cell(out, day(0), "f1", "m1")["total_cost_usd"] == pytest.approx(4.6, rel=1e-12)
    assert cell(out, day(0), "f1", "m2")["total_cost_usd"] == pytest.approx(2.0, rel=1e-12)
    assert cell(out, day(0), "f2", "m1")["total_cost_usd"] == pytest.approx(1.3, rel=1e-12)
    new = cell(out, day(0), "f3", "m9")
    assert new["total_cost_usd"] == pytest.approx(0.5)
    assert (new["queries"], new["outputs"], new["tasks"], new["valid_outputs"]) == (0, 0, 0, 0)
    assert new["hitl_f"] is None and new["error_rate"] is None and new["cpvo"] is None
    assert not has_cell(out, day(0), "f2", "m_int")
    assert len(out["metrics_daily"]) == 4
    assert sum(r["total_cost_usd"] for r in out["metrics_daily"]) == pytest.approx(8.4)


def test_newcombe_published_examples():
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10
    # (hybrid score from Wilson intervals), rounded to 4 decimals.
    assert newcombe_interval(56, 70, 48, 80, Z) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert newcombe_interval(9, 10, 3, 10, Z) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert newcombe_interval(6, 7, 2, 7, Z) == pytest.approx((0.0582, 0.8062), abs=5e-5)
    assert newcombe_interval(5, 56, 0, 29, Z) == pytest.approx((-0.0381, 0.1926), abs=5e-5)
    assert newcombe_interval(1, 0, 1, 2, Z) is None


def test_retention_anchor_exactly_seven_days_and_newcombe_by_hand():
    # Last day in the data L = day 14 (a's page_view). Week W = day 7 (Monday).
    #   a: query of f on day 7 -> AI, anchor 7, 7+7 = 14 <= L eligible; active day 14 -> retained
    #   e: query of f on day 7 -> AI, eligible, never active again -> not retained
    #   b: query of f on day 8 -> AI, anchor 8, 15 > L -> not counted
    #   c: page_view day 7 and day 9 -> non-AI, anchor 7, retained (9 in [8, 14])
    #   d: page_view day 8 only -> non-AI, anchor 8 -> not counted
    # ai 1/2, non-ai 1/1 -> delta = 100*(0.5 - 1.0) = -50 points.
    # Wilson(1,2) = (0.5 - h, 0.5 + h), h = 0.405468794...
    # Wilson(1,1): denom = 1 + z^2 = 4.841458820694124, centre = (1 + z^2/2)/denom,
    #   half = (z^2/2)/denom -> (1/denom, 1) = (0.206549314, 1.0)
    # Newcombe: low  = -0.5 - sqrt(h^2 + (1 - 1)^2)          = -0.5 - h
    #           high = -0.5 + sqrt(h^2 + (1 - 0.206549314)^2)
    # Causal: ai_access a=treatment, e=treatment, c=holdout, b=holdout; first activity
    #   a, e, c on day 7 (week W), b on day 8 (not eligible). treatment 1/2, holdout 1/1
    #   -> causal = -50.
    out = run(
        interactions=[
            q("qa", "Ta", at(7, 9), user="a"), q("qe", "Te", at(7, 9), user="e"),
            q("qb", "Tb", at(8, 9), user="b"),
        ],
        user_events=[
            ev("pa", at(14, 8), "page_view", user="a"),
            ev("pc1", at(7, 8), "page_view", user="c"), ev("pc2", at(9, 8), "Settings_Opened", user="c"),
            ev("pd", at(8, 8), "page_view", user="d"),
        ],
        users=[
            {"user_id": "a", "ai_access": "treatment"}, {"user_id": "e", "ai_access": " Treatment"},
            {"user_id": "c", "ai_access": "HOLDOUT"}, {"user_id": "b", "ai_access": "holdout"},
        ],
    )
    assert len(out["retention_weekly"]) == 1
    r = out["retention_weekly"][0]
    assert list(r) == RETENTION_WEEKLY_COLUMNS
    assert (r["cohort_week"], r["feature"]) == (day(7), "f")
    assert (r["ai_users"], r["ai_users_retained"], r["non_ai_users"], r["non_ai_users_retained"]) == (2, 1, 1, 1)
    assert (r["ai_retention_7d"], r["non_ai_retention_7d"]) == (0.5, 1.0)
    assert r["retention_delta_pts"] == pytest.approx(-50.0)
    h = Z * math.sqrt(0.125 + Z * Z / 16) / (1 + Z * Z / 2)
    l2 = 1 / (1 + Z * Z)
    assert l2 == pytest.approx(0.206549314, abs=1e-9)
    assert r["delta_ci_low"] == pytest.approx(100 * (-0.5 - h), abs=1e-9)
    assert r["delta_ci_high"] == pytest.approx(100 * (-0.5 + math.sqrt(h * h + (1 - l2) ** 2)), abs=1e-9)
    assert r["delta_ci_low"] == pytest.approx(-90.5469, abs=1e-4)
    assert r["delta_ci_high"] == pytest.approx(39.1049, abs=1e-4)
    assert (r["treatment_users"], r["treatment_retained"], r["holdout_users"], r["holdout_retained"]) == (2, 1, 1, 1)
    assert r["causal_delta_pts"] == pytest.approx(-50.0)


def test_retention_rows_only_for_weeks_with_a_query_and_causal_by_first_week():
    # f has queries in week 0 (day 2) only; page views continue into week 1.
    # Last day = day 12. u1: query day 2 -> AI anchor 2, retained (page_view day 5).
    # u2: page_view day 0 and day 8 -> non-AI in week 0, anchor 0, retained? day 8 is in
    #     [1, 7]? no -> not retained.
    # Causal: u1 first activity day 2 (week 0) treatment retained; u2 first activity
    #   day 0 (week 0) holdout not retained -> 100*(1 - 0) = 100.
    # Week 1 has no query of f -> no row for it.
    out = run(
        interactions=[q("q1", "T1", at(2, 9), user="u1")],
        user_events=[ev("p1", at(5), "page_view", user="u1"), ev("p2", at(0), "page_view", user="u2"),
                     ev("p3", at(8), "page_view", user="u2"), ev("p4", at(12), "page_view", user="u3")],
        users=[{"user_id": "u1", "ai_access": "treatment"}, {"user_id": "u2", "ai_access": "holdout"}],
    )
    assert [(r["cohort_week"], r["feature"]) for r in out["retention_weekly"]] == [(day(0), "f")]
    r = out["retention_weekly"][0]
    assert (r["ai_users"], r["ai_users_retained"], r["non_ai_users"], r["non_ai_users_retained"]) == (1, 1, 1, 0)
    assert r["retention_delta_pts"] == pytest.approx(100.0)
    assert (r["treatment_users"], r["treatment_retained"], r["holdout_users"], r["holdout_retained"]) == (1, 1, 1, 0)
    assert r["causal_delta_pts"] == pytest.approx(100.0)


def test_dedup_latest_ingested_wins_then_winner_validated():
    # x1: older copy valid (ingested 01:00), newer copy has status 'bogus' (02:00)
    #     -> winner invalid -> the whole id is quarantined, the older copy is not used.
    # x2: copy with null ingested_at (error) loses to a dated copy (ok).
    # x3: older copy invalid (negative tokens), newer valid -> kept.
    # x4: garbage ingested_at text sorts oldest -> the dated ok copy wins.
    # -> queries 3 (x2, x3, x4), all ok; an accept naming x1 concerns nothing.
    ing = lambda h: at(0, h)  # noqa: E731
    out = run(
        interactions=[
            q("x1", "T1", at(0, 9), ingested_at=ing(1)), q("x1", "T1", at(0, 9), status="bogus", ingested_at=ing(2)),
            q("x2", "T2", at(0, 9), status="error", ingested_at=None), q("x2", "T2", at(0, 9), ingested_at=ing(1)),
            q("x3", "T3", at(0, 9), input_tokens=-5, ingested_at=ing(1)), q("x3", "T3", at(0, 9), ingested_at=ing(2)),
            q("x4", "T4", at(0, 9), status="error", ingested_at="soon"), q("x4", "T4", at(0, 9), ingested_at="2026-06-01 00:10"),
        ],
        user_events=[ev("e1", at(0, 9, 1), "output_accepted", iid="x1")],
    )
    r = cell(out, day(0))
    assert (r["queries"], r["outputs"], r["tasks"], r["accepted_outputs"]) == (3, 3, 3, 0)
    assert r["error_rate"] == 0.0


def test_quarantine_rules_on_interactions():
    # Only g1 (and g2: responded_at == requested_at, confidence 1.0, tokens 0) are valid.
    base = at(0, 9)
    bad = [
        dict(user_id=None), dict(feature="   "), dict(status="weird"), dict(input_tokens=-1),
        dict(output_tokens="12x"), dict(cost_usd=-0.01), dict(confidence=1.5), dict(confidence=-0.1),
        dict(attempt=0), dict(responded_at=base - dt.timedelta(seconds=1)),
        dict(requested_at="not a time"), dict(requested_at="2026-02-30 10:00:00"), dict(attempt="first"),
        dict(interaction_id=" "),
    ]
    inter = [q(f"b{k}", f"Tb{k}", base, **kw) for k, kw in enumerate(bad)]
    inter += [q("g1", "Tg1", base), q("g2", "Tg2", base, latency_ms=0, confidence=1.0, input_tokens=0,
                                       output_tokens="0", attempt=" 2 ", status=" OK ",
                                       responded_at=base)]
    r = cell(run(interactions=inter), day(0))
    assert (r["queries"], r["outputs"]) == (2, 2)
    assert r["latency_p50_ms"] == pytest.approx(500.0)  # (0 + 1000) / 2


def test_internal_users_excluded_everywhere():
    # staff is internal (is_internal 'TRUE ' as text). Its query on day 5 would be the
    # latest requested_at; without it the latest is day 3 12:00 (u1), so u1's task
    # started day 3 10:00 is NOT mature (2 h < 24 h).
    # Users: ghost (no users row), nul (is_internal null), quar (row quarantined by a bad
    # ai_access, although it says internal) are NOT internal -> their queries count.
    # staff's event on u1's output is dropped (no acceptance).
    out = run(
        interactions=[
            q("i1", "T1", at(3, 10)), q("i2", "T2", at(3, 12)),
            q("g", "Tg", at(3, 10), user="ghost"), q("n", "Tn", at(3, 10), user="nul"),
            q("qq", "Tq", at(3, 10), user="quar"), q("s", "Ts", at(5, 10), user="staff"),
        ],
        user_events=[ev("e1", at(3, 10, 1), "output_accepted", user="staff", iid="i1"),
                     ev("e2", at(3, 11), "task_completed", task="T1")],
        users=[{"user_id": "staff", "is_internal": "TRUE "}, {"user_id": "nul", "is_internal": None},
               {"user_id": "quar", "is_internal": True, "ai_access": "maybe"}],
    )
    r = cell(out, day(3))
    assert (r["queries"], r["tasks"], r["tasks_mature"], r["accepted_outputs"]) == (5, 5, 0, 0)
    assert r["tcr"] is None
    assert not has_cell(out, day(5))


def test_timestamp_offsets_z_naive_and_garbage():
    # '2026-06-02T01:00:00+02:00' = 2026-06-01 23:00 UTC -> metric_date 2026-06-01;
    #   responded '2026-06-01T23:00:01.5Z' -> latency 1500 ms.
    # naive '2026-06-01 22:00:00' (UTC) responded at 23:00:02+01:00 = 22:00:02 UTC -> 2000 ms.
    # 'soon' is unparseable -> quarantined. p50 of (1500, 2000) = 1750.
    tz1 = dt.timezone(dt.timedelta(hours=1))
    out = run(interactions=[
        q("a", "Ta", "2026-06-02T01:00:00+02:00", responded_at="2026-06-01T23:00:01.5Z"),
        q("b", "Tb", "2026-06-01 22:00:00", responded_at=dt.datetime(2026, 6, 1, 23, 0, 2, tzinfo=tz1)),
        q("c", "Tc", "soon", responded_at=None),
    ])
    assert [r["metric_date"] for r in out["metrics_daily"]] == [day(0)]
    r = cell(out, day(0))
    assert r["queries"] == 2
    assert r["latency_p50_ms"] == pytest.approx(1750.0)


def test_event_attribution_to_outputs_and_first_query():
    # Task T (feature f): first query q0 (error, model m, 10:00), outputs o1 (model m2,
    # 10:01) and o2 (model m3, 10:05). Escalations:
    #   only task at 10:03            -> latest output <= 10:03 = o1     -> (f, m2)
    #   only task at 09:00            -> none before -> first output o1  -> (f, m2)
    #   only task at 10:05 + unknown iid 'zz' -> o2 (inclusive)          -> (f, m3)
    #   iid o2 without task at 11:00                                     -> (f, m3)
    #   naming the non-ok query q0                                      -> (f, m)
    # Task T2 (feature g) has only an error query: an escalation with only the task
    # concerns its first query -> (g, m). An escalation with neither id counts nowhere.
    out = run(
        interactions=[
            q("q0", "T", at(0, 10), status="error"), q("o1", "T", at(0, 10, 1), model="m2", attempt=2),
            q("o2", "T", at(0, 10, 5), model="m3", attempt=3), q("g0", "T2", at(0, 10), feature="g", status="timeout"),
        ],
        user_events=[
            ev("e1", at(0, 10, 3), "escalated", task="T"), ev("e2", at(0, 9), "handoff_to_agent", task="T"),
            ev("e3", at(0, 10, 5), "escalated", task="T", iid="zz"), ev("e4", at(0, 11), "escalated", iid="o2"),
            ev("e5", at(0, 10, 2), "manual_fallback", iid="q0"), ev("e6", at(0, 10, 2), "escalated", task="T2"),
            ev("e7", at(0, 10, 2), "escalated"),
        ],
    )
    assert cell(out, day(0), "f", "m")["interventions"] == 1
    assert cell(out, day(0), "f", "m2")["interventions"] == 2
    assert cell(out, day(0), "f", "m3")["interventions"] == 2
    assert cell(out, day(0), "g", "m")["interventions"] == 1
    assert cell(out, day(0), "f", "m2")["hitl_f"] == pytest.approx(200.0)
    # tasks belong to the first query's model m: T and T2 in their features
    assert cell(out, day(0), "f", "m")["tasks"] == 1 and cell(out, day(0), "f", "m2")["tasks"] == 0


def test_task_started_earlier_creates_cell_and_negative_tta():
    # First query at day 1 00:00:30; a task_started event (seed name assistant_opened,
    # mixed case) at day 0 23:59:50 -> start on day 0 -> task cell (day 0) has tasks 1,
    # queries 0. An accept concerning the output at day 0 23:59:40 -> TTA = -10 s.
    out = run(
        interactions=[q("o", "T", at(1, 0, 0, 30)), clock()],
        user_events=[
            ev("s", at(0, 23, 59, 50), " Assistant_Opened", task="T"),
            ev("a", at(0, 23, 59, 40), "output_accepted", iid="o"),
        ],
    )
    t = cell(out, day(0))
    assert (t["queries"], t["tasks"], t["tasks_mature"], t["tta_tasks"]) == (0, 1, 1, 1)
    assert t["tta_p50_s"] == pytest.approx(-10.0) and t["tta_p90_s"] == pytest.approx(-10.0)
    assert t["tta_coverage"] == 1.0
    assert t["accepted_outputs"] == 0 and t["total_cost_usd"] == 0.0
    qd = cell(out, day(1))
    assert (qd["queries"], qd["tasks"], qd["accepted_outputs"]) == (1, 0, 1)


def test_tta_skips_hallucinated_output_and_percentiles():
    # Task A: o1 (09:00:00) hallucinated (human fail) accepted at +20 s -> skipped;
    #   o2 verified at 09:01:12.5 -> TTA = 72.5 s.
    # Task B: start 09:00, accepted at 09:00:10 -> 10 s. Task C: no success -> no TTA.
    # tta values [10, 72.5]: p50 = 41.25, p90 = 10 + 0.9*62.5 = 66.25; coverage 2/3.
    out = run(
        interactions=[q("o1", "A", at(0, 9)), q("o2", "A", at(0, 9, 1), attempt=2),
                      q("b1", "B", at(0, 9)), q("c1", "C", at(0, 9)), clock()],
        user_events=[ev("e1", at(0, 9, 0, 20), "output_accepted", iid="o1"),
                     ev("e2", at(0, 9, 1, 12, 500000), "output_verified", iid="o2"),
                     ev("e3", at(0, 9, 0, 10), "suggestion_inserted", task="B")],
        output_reviews=[rv("r1", "o1", "human_expert", "fail", at(0, 12))],
    )
    r = cell(out, day(0))
    assert (r["tasks_mature"], r["tta_tasks"]) == (3, 2)
    assert r["tta_p50_s"] == pytest.approx(41.25)
    assert r["tta_p90_s"] == pytest.approx(66.25)
    assert r["tta_coverage"] == pytest.approx(2 / 3)


def test_maturity_boundary_exactly_24h():
    # Latest requested_at = day 3 12:00. Task A at day 2 12:00 (exactly 24 h before)
    # is mature; task B at day 2 12:00:01 is not. Both completed cleanly.
    out = run(
        interactions=[q("a", "A", at(2, 12)), q("b", "B", at(2, 12, 0, 1)), q("z", "Z", at(3, 12))],
        user_events=[ev("ca", at(2, 13), "task_completed", task="A"), ev("cb", at(2, 13), "goal_reached", task="B")],
    )
    r = cell(out, day(2))
    assert (r["tasks"], r["tasks_mature"], r["tasks_completed"], r["tcr"]) == (2, 1, 1, 1.0)


def test_tcr_interventions_make_tasks_unclean():
    # A: completed, clean -> counts. B: completed + escalated (even after completion) -> no.
    # C: completed + non-substantive edit (5/100) -> counts. D: no completion -> no.
    # E: completed + substantive edit with missing output_chars -> no.
    out = run(
        interactions=[q(f"i{t}", t, at(0, 9)) for t in "ABCDE"] + [clock()],
        user_events=[
            ev("a", at(0, 10), "task_completed", task="A"),
            ev("b1", at(0, 10), "task_completed", task="B"), ev("b2", at(0, 11), "escalated", task="B"),
            ev("c1", at(0, 10), "task_completed", task="C"), ev("c2", at(0, 9, 5), "output_edited", iid="iC", ed=5, oc=100),
            ev("e1", at(0, 10), "task_completed", iid="iE"), ev("e2", at(0, 9, 5), "output_edited", task="E", ed=5),
        ],
    )
    r = cell(out, day(0))
    assert (r["tasks_mature"], r["tasks_completed"]) == (5, 2)
    assert r["tcr"] == pytest.approx(0.4)
    assert r["interventions"] == 2  # b2, e2


def test_cost_pricing_by_effective_date():
    # claude-3-5-haiku: 0.80/4.00 per 1M from 2024-11-04, 0.60/3.00 from 2026-07-01.
    #   2026-06-30, 1000 in / 500 out: (1000*0.80 + 500*4.00)/1e6 = 0.0028
    #   2026-07-01, 1000 in / 500 out: (1000*0.60 + 500*3.00)/1e6 = 0.0021
    #   2026-07-01, null in / 500 out: (0 + 1500)/1e6           = 0.0015
    #   2026-07-01, cost_usd 0.5 given                          = 0.5
    #   unknown model, null cost                                = 0
    # error queries are priced too: 2026-07-01 error, 0 in / 100 out = 0.0003
    c = "claude-3-5-haiku"
    out = run(interactions=[
        q("a", "A", dt.datetime(2026, 6, 30, 9), model=c, cost=None, input_tokens=1000, output_tokens=500),
        q("b", "B", dt.datetime(2026, 7, 1, 9), model=c, cost=None, input_tokens=1000, output_tokens=500),
        q("c", "C", dt.datetime(2026, 7, 1, 9), model=c, cost=None, input_tokens=None, output_tokens=500),
        q("d", "D", dt.datetime(2026, 7, 1, 9), model=c, cost="0.5"),
        q("e", "E", dt.datetime(2026, 7, 1, 9), model=c, cost=None, status="error", input_tokens=0, output_tokens=100),
        q("f", "F", dt.datetime(2026, 7, 1, 9), model="no-such-model", cost=None, input_tokens=10**6),
    ])
    assert cell(out, dt.date(2026, 6, 30), "f", c)["total_cost_usd"] == pytest.approx(0.0028, rel=1e-12)
    assert cell(out, dt.date(2026, 7, 1), "f", c)["total_cost_usd"] == pytest.approx(0.0021 + 0.0015 + 0.5 + 0.0003, rel=1e-12)
    assert cell(out, dt.date(2026, 7, 1), "f", "no-such-model")["total_cost_usd"] == 0.0


def test_latency_percentiles_error_and_refusal_rates():
    # ok latencies 100, 200, 300, 400 ms; refused with a response is not an output.
    # p50: pos 1.5 -> 250; p95: pos 2.85 -> 300 + 0.85*100 = 385; p99: pos 2.97 -> 397.
    # queries 8: error + timeout = 2 -> 0.25; refused + filtered = 2 -> 0.25.
    inter = [q(f"o{k}", f"T{k}", at(0, 9, k), latency_ms=100 * k) for k in range(1, 5)]
    inter += [q("e", "Te", at(0, 9), status="error"), q("t", "Tt", at(0, 9), status="TIMEOUT"),
              q("r", "Tr", at(0, 9), status="refused", responded_at=at(0, 9, 0, 9)),
              q("f", "Tf", at(0, 9), status=" filtered")]
    r = cell(run(interactions=inter), day(0))
    assert (r["queries"], r["outputs"]) == (8, 4)
    assert r["latency_p50_ms"] == pytest.approx(250.0)
    assert r["latency_p95_ms"] == pytest.approx(385.0)
    assert r["latency_p99_ms"] == pytest.approx(397.0)
    assert (r["error_rate"], r["refusal_rate"]) == (0.25, 0.25)
    assert quantile_cont([], 0.5) is None and quantile_cont([7.0], 0.9) == 7.0


def test_enum_cleaning_roles_and_quarantined_reviews():
    # event types are trimmed + lower-cased on both sides of the seed join:
    # ' Suggestion_Inserted ' -> output_accepted; 'Weird_Click' -> activity (no effect).
    # A review with severity 'extreme' is quarantined; one with ' HIGH ' is valid.
    out = run(
        interactions=[q("o1", "T1", at(0, 9)), q("o2", "T2", at(0, 9))],
        user_events=[ev("e1", at(0, 9, 1), " Suggestion_Inserted ", iid="o1"),
                     ev("e2", at(0, 9, 1), "Weird_Click", iid="o2")],
        output_reviews=[rv("r1", "o1", "llm_judge", "fail", at(1), severity="extreme"),
                        rv("r2", "o2", "Human_Expert ", "Fail", at(1), severity=" HIGH ")],
    )
    r = cell(out, day(0))
    assert r["accepted_outputs"] == 1
    assert (r["reviewed_outputs"], r["hallucinated_outputs"]) == (1, 1)


def test_output_shape_columns_and_types():
    out = run(interactions=[q("o1", "T1", at(0, 9), status="error")])
    (r,) = out["metrics_daily"]
    assert list(r) == METRICS_DAILY_COLUMNS
    for col in ("queries", "outputs", "tasks", "tasks_mature", "tasks_completed", "reviewed_outputs",
                "hallucinated_outputs", "tta_tasks", "interventions", "valid_outputs", "accepted_outputs"):
        assert type(r[col]) is int and r[col] >= 0
    assert isinstance(r["total_cost_usd"], float)
    assert r["metric_date"] == day(0) and type(r["metric_date"]) is dt.date
    for col in ("tcr", "hallucination_rate", "hr_ci_low", "review_coverage", "tta_p50_s", "acceptance_rate",
                "cpvo", "latency_p50_ms"):
        assert r[col] is None
    assert r["error_rate"] == 1.0 and r["hitl_f"] == 0.0
    assert compute({}, SEEDS) == {"metrics_daily": [], "retention_weekly": []}


def test_wilson_interval_formula():
    # Wilson(0, 10): centre = (z^2/20)/(1 + z^2/10), half = z*sqrt(z^2/400)/(1+z^2/10) = same
    # -> low 0, high = (z^2/10)/(1 + z^2/10) = 0.384145882/1.384145882 = 0.277532...
    lo, hi = wilson_interval(0, 10, Z)
    assert lo == pytest.approx(0.0, abs=1e-15)
    assert hi == pytest.approx((Z * Z / 10) / (1 + Z * Z / 10), abs=1e-15)
    assert hi == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(0, 0, Z) is None
