"""Seeded generator of small, messy raw datasets for the reference comparison.

    raw = generate(seed, n_tasks=60)          # {table: [row dict, ...]}
    land(con, raw, style="text" | "typed")    # creates schema raw and its tables

``generate`` returns rows as a warehouse loader would hand them over: values
are str (padded, empty, mixed case, ISO text with 'Z' / offsets, garbage),
naive (UTC) or tz-aware datetimes, date, int, float, bool or None.

``land(style="text")`` lands EVERY column as VARCHAR (datetimes rendered as
ISO text in several formats, numbers and booleans as text, sometimes padded).
``land(style="typed")`` lands contract types (TIMESTAMP / TIMESTAMPTZ /
BIGINT / DOUBLE / DECIMAL / BOOLEAN / DATE); a row holding a value that cannot
be typed (garbage timestamp, '12x' tokens, 'maybe' boolean) is dropped for
that style only, whitespace-only strings in typed columns land as NULL.
Optional columns are omitted in some styles (typed: interactions.confidence
and user_events.properties; text: output_reviews.score), and extra, unknown
columns are added (ignored by the contract).

Every crafted scenario is marked ``# S<n>`` with the rule it exercises.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

#: Identifiers with leading/trailing blanks (kept as written by the oracle,
#: see AMBIGUITIES 2). Set False to keep every identifier clean.
PADDED_IDENTIFIERS = True
#: Enums padded with tabs / newlines besides spaces (AMBIGUITIES 1).
TAB_PADDING = True

BASE = dt.datetime(2026, 6, 22)  # a Monday; the data spans three ISO weeks
LAST_DAY_OFFSET = 20             # 2026-07-12, a Sunday: the last day in the data
FEATURES = ["email_draft", "support_reply", "code_assist"]
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "mystery-model"]  # last one unpriced

TABLES = ["interactions", "user_events", "output_reviews", "eval_results", "users", "infra_costs"]

# typed-style column types, contract order
TYPED_COLUMNS = {
    "interactions": [
        ("interaction_id", "VARCHAR"), ("task_id", "VARCHAR"), ("user_id", "VARCHAR"),
        ("session_id", "VARCHAR"), ("feature", "VARCHAR"), ("model", "VARCHAR"),
        ("model_version", "VARCHAR"), ("requested_at", "TIMESTAMPTZ"),
        ("responded_at", "TIMESTAMP"), ("status", "VARCHAR"), ("input_tokens", "BIGINT"),
        ("output_tokens", "BIGINT"), ("cost_usd", "DOUBLE"), ("confidence", "DOUBLE"),
        ("attempt", "BIGINT"), ("experiment_id", "VARCHAR"), ("variant", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ],
    "user_events": [
        ("event_id", "VARCHAR"), ("user_id", "VARCHAR"), ("occurred_at", "TIMESTAMP"),
        ("event_type", "VARCHAR"), ("session_id", "VARCHAR"), ("task_id", "VARCHAR"),
        ("interaction_id", "VARCHAR"), ("edit_distance", "BIGINT"), ("output_chars", "BIGINT"),
        ("properties", "VARCHAR"), ("ingested_at", "TIMESTAMP"),
    ],
    "output_reviews": [
        ("review_id", "VARCHAR"), ("interaction_id", "VARCHAR"), ("reviewer_kind", "VARCHAR"),
        ("dimension", "VARCHAR"), ("verdict", "VARCHAR"), ("score", "DOUBLE"),
        ("severity", "VARCHAR"), ("reviewed_at", "TIMESTAMPTZ"), ("reviewer_id", "VARCHAR"),
    ],
    "eval_results": [
        ("eval_run_id", "VARCHAR"), ("run_at", "TIMESTAMP"), ("suite", "VARCHAR"),
        ("model", "VARCHAR"), ("model_version", "VARCHAR"), ("case_id", "VARCHAR"),
        ("sample_index", "BIGINT"), ("passed", "BOOLEAN"), ("score", "DOUBLE"),
    ],
    "users": [
        ("user_id", "VARCHAR"), ("signed_up_at", "TIMESTAMP"), ("segment", "VARCHAR"),
        ("is_internal", "BOOLEAN"), ("ai_access", "VARCHAR"),
    ],
    "infra_costs": [
        ("cost_date", "DATE"), ("feature", "VARCHAR"), ("model", "VARCHAR"),
        ("cost_kind", "VARCHAR"), ("cost_usd", "DECIMAL(18,6)"),
    ],
}
OMITTED = {
    "typed": {("interactions", "confidence"), ("user_events", "properties")},
    "text": {("output_reviews", "score")},
}
EXTRA_COLUMNS = {
    "text": {"interactions": [("loader_batch", "VARCHAR")]},
    "typed": {"user_events": [("client_version", "VARCHAR")]},
}

GARBAGE_TIMESTAMPS = ["not a time", "2026-02-30 10:00:00", "yesterday", "2026/06/25 10:00", "25.06.2026"]


def _ts(day: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> dt.datetime:
    return BASE + dt.timedelta(days=day, hours=hh, minutes=mm, seconds=ss, microseconds=us)


class _Gen:
    def __init__(self, seed: int, n_tasks: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_tasks = n_tasks
        self.rows = {t: [] for t in TABLES}
        self.counters = {}
        self.regular_users = [f"u{k:02d}" for k in range(1, 13)]

    # ---- messy representations -------------------------------------------------
    def nid(self, prefix: str, width: int = 4) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]:0{width}d}"

    def stamp(self, when: dt.datetime | None):
        """A timestamp as a loader might hand it over (naive UTC, aware, ISO text)."""
        if when is None:
            return None
        r = self.rng.random()
        if r < 0.55:
            return when  # naive = UTC
        if r < 0.70:
            tz = dt.timezone(dt.timedelta(hours=self.rng.choice([2, -5, 9])))
            return when.replace(tzinfo=dt.timezone.utc).astimezone(tz)
        if r < 0.80:
            return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"
        if r < 0.90:
            off = self.rng.choice([(2, 0), (-3, -30), (5, 30)])
            delta = dt.timedelta(hours=off[0], minutes=off[1])
            local = when + delta
            sign = "+" if delta >= dt.timedelta(0) else "-"
            mins = abs(int(delta.total_seconds())) // 60
            return local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "") + f"{sign}{mins // 60:02d}:{mins % 60:02d}"
        return " " + when.strftime("%Y-%m-%d %H:%M:%S") + (f".{when.microsecond:06d}" if when.microsecond else "") + " "

    def enum(self, value: str | None):
        if value is None:
            return None
        r = self.rng.random()
        if r < 0.6:
            return value
        if r < 0.75:
            return value.upper()
        if r < 0.85:
            return "  " + value.title() + " "
        if r < 0.95 or not TAB_PADDING:
            return value.capitalize() + "   "
        return "\t" + value + "\n"

    def maybe_text_int(self, value: int | None):
        if value is not None and self.rng.random() < 0.1:
            return f" {value} "
        return value

    # ---- builders ---------------------------------------------------------------
    def interaction(self, task_id, user, feature, model, requested_at, status="ok", attempt=1,
                    latency_ms=None, cost_usd="auto", in_tok="auto", out_tok="auto",
                    iid=None, ingested_at="auto", confidence="auto", raw_overrides=None):
        iid = iid or self.nid("i")
        if latency_ms is None:
            latency_ms = self.rng.randint(150, 9000) + self.rng.randint(0, 999) / 1000.0
        responded = None
        if status in ("ok", "refused", "filtered") or (status == "error" and self.rng.random() < 0.3):
            responded = requested_at + dt.timedelta(milliseconds=latency_ms)
        if in_tok == "auto":
            in_tok = self.rng.choice([None, self.rng.randint(10, 4000), self.rng.randint(10, 4000)])
        if out_tok == "auto":
            out_tok = self.rng.choice([None, self.rng.randint(0, 1500), self.rng.randint(0, 1500)])
        if cost_usd == "auto":
            cost_usd = None if self.rng.random() < 0.5 else round(self.rng.uniform(0.0, 0.01), 6)
        if confidence == "auto":
            confidence = None if self.rng.random() < 0.2 else round(self.rng.random(), 4)
        if ingested_at == "auto":
            ingested_at = None if self.rng.random() < 0.3 else requested_at + dt.timedelta(hours=1)
        row = {
            "interaction_id": iid,
            "task_id": task_id,
            "user_id": user,
            "session_id": f"s-{user}-{requested_at:%m%d}",
            "feature": feature,
            "model": model,
            "model_version": f"{model}@v{self.rng.randint(1, 2)}",
            "requested_at": self.stamp(requested_at),
            "responded_at": self.stamp(responded),
            "status": self.enum(status),
            "input_tokens": self.maybe_text_int(in_tok),
            "output_tokens": self.maybe_text_int(out_tok),
            "cost_usd": cost_usd,
            "confidence": confidence,
            "attempt": attempt,
            "experiment_id": self.rng.choice([None, "exp-1", ""]),
            "variant": self.rng.choice([None, "a", "b"]),
            "ingested_at": self.stamp(ingested_at),
            "loader_batch": "b1",
        }
        row.update(raw_overrides or {})
        self.rows["interactions"].append(row)
        return {"id": iid, "task": task_id, "user": user, "at": requested_at, "status": status,
                "feature": feature, "model": model, "row": row}

    def event(self, user, when, event_type, task_id=None, interaction_id=None,
              edit_distance=None, output_chars=None, eid=None, ingested_at="auto", raw_overrides=None):
        eid = eid or self.nid("e", 5)
        if ingested_at == "auto":
            ingested_at = None if self.rng.random() < 0.3 else when + dt.timedelta(minutes=30)
        row = {
            "event_id": eid,
            "user_id": user,
            "occurred_at": self.stamp(when),
            "event_type": self.enum(event_type),
            "session_id": self.rng.choice([None, "", f"s-{user}"]),
            "task_id": task_id,
            "interaction_id": interaction_id,
            "edit_distance": self.maybe_text_int(edit_distance),
            "output_chars": self.maybe_text_int(output_chars),
            "properties": self.rng.choice([None, '{"k": 1}', "not json", "   "]),
            "ingested_at": self.stamp(ingested_at),
            "client_version": "1.2.3",
        }
        row.update(raw_overrides or {})
        self.rows["user_events"].append(row)
        return row

    def review(self, interaction_id, kind, dimension, verdict, when, severity=None, rid=None, raw_overrides=None):
        rid = rid or self.nid("r", 5)
        row = {
            "review_id": rid,
            "interaction_id": interaction_id,
            "reviewer_kind": self.enum(kind),
            "dimension": self.enum(dimension),
            "verdict": self.enum(verdict),
            "score": round(self.rng.random(), 3),
            "severity": self.enum(severity),
            "reviewed_at": self.stamp(when),
            "reviewer_id": f"{kind}-{self.rng.randint(1, 3)}",
        }
        row.update(raw_overrides or {})
        self.rows["output_reviews"].append(row)
        return row

    def user(self, user_id, is_internal=False, ai_access=None, segment="free", ingested=None, raw_overrides=None):
        row = {
            "user_id": user_id,
            "signed_up_at": self.stamp(BASE - dt.timedelta(days=self.rng.randint(1, 300))),
            "segment": segment,
            "is_internal": is_internal,
            "ai_access": self.enum(ai_access),
        }
        row.update(raw_overrides or {})
        self.rows["users"].append(row)
        return row

    def infra(self, day, feature, model, kind, cost, raw_overrides=None):
        row = {
            "cost_date": (BASE + dt.timedelta(days=day)).date() if isinstance(day, int) else day,
            "feature": feature,
            "model": model,
            "cost_kind": self.enum(kind),
            "cost_usd": cost,
        }
        row.update(raw_overrides or {})
        self.rows["infra_costs"].append(row)
        return row

    # ---- the dataset ------------------------------------------------------------
    def build(self):
        self.users()
        self.random_tasks()
        self.activity()
        self.crafted_ordering_and_attribution()
        self.crafted_reviews()
        self.crafted_substantive_edits()
        self.crafted_behavioural_window()
        self.crafted_tta_and_start()
        self.crafted_internal_users()
        self.crafted_costs_and_infra()
        self.crafted_duplicates()
        self.crafted_bad_rows()
        self.crafted_maturity_and_retention()
        self.eval_results()
        self.rng.shuffle(self.rows["interactions"])
        self.rng.shuffle(self.rows["user_events"])
        return self.rows

    def users(self):
        for k, u in enumerate(self.regular_users):
            arm = [None, "treatment", "holdout"][k % 3] if k > 0 else "treatment"
            self.user(u, is_internal=self.rng.choice([False, False, "false", " FALSE "]), ai_access=arm,
                      segment=self.rng.choice(["free", "pro", ""]))
        # S9 internal users, null is_internal, missing users, quarantined users rows.
        # users has no ingested_at in the contract, so duplicated user rows are identical copies.
        self.user("int01", is_internal=True, ai_access="treatment")
        self.user("int02", is_internal=" TRUE ", ai_access="holdout")
        self.user("u_nullint", is_internal=None, ai_access="holdout")
        self.user("u_emptyint", is_internal="   ", ai_access="treatment")  # empty -> null -> not internal
        # a quarantined row (bad optional enum) says internal: the user counts as missing -> not internal
        self.user("u_quar", is_internal=True, ai_access="maybe")
        # identical duplicate copies of an internal user
        row = self.user("u_dupint", is_internal=True, ai_access="holdout")
        self.rows["users"].append(dict(row))
        self.user("u_badbool", is_internal="maybe", ai_access="treatment")  # wrong type (text only)
        self.user("u_badarm", is_internal=False, ai_access="control")       # bad optional enum
        self.user("   ", is_internal=True)                                    # missing key
        self.user("u_badsignup", is_internal=True, raw_overrides={"signed_up_at": "someday"})
        # ghost01 has no users row at all

    def pick_user(self):
        r = self.rng.random()
        if r < 0.78:
            return self.rng.choice(self.regular_users)
        return self.rng.choice(["int01", "int02", "u_nullint", "u_emptyint", "u_quar", "u_dupint",
                                "ghost01", "u_badbool", "u_badarm", "u_badsignup"])

    def random_tasks(self):
        for _ in range(self.n_tasks):
            task_id = self.nid("t", 3)
            user = self.pick_user()
            feature = self.rng.choice(FEATURES)
            model = self.rng.choice(MODELS)
            day = self.rng.randint(0, LAST_DAY_OFFSET - 1) if self.rng.random() < 0.85 else LAST_DAY_OFFSET
            start = _ts(day, self.rng.randint(6, 11 if day == LAST_DAY_OFFSET else 22),
                        self.rng.randint(0, 59), self.rng.randint(0, 59), self.rng.choice([0, 0, 250000]))
            n = self.rng.choice([1, 1, 1, 2, 2, 3])
            t = start
            its = []
            for a in range(1, n + 1):
                status = self.rng.choices(["ok", "error", "timeout", "refused", "filtered"], [75, 8, 5, 6, 6])[0]
                attempt = a if self.rng.random() < 0.85 else None
                it_model = model if self.rng.random() < 0.85 else self.rng.choice(MODELS)
                its.append(self.interaction(task_id, user, feature, it_model, t, status, attempt))
                t = t + dt.timedelta(seconds=self.rng.choice([0, 5, 30, 90]))
            outputs = [i for i in its if i["status"] == "ok"]
            # task_started, sometimes before the first query
            if self.rng.random() < 0.4:
                self.event(user, start - dt.timedelta(seconds=self.rng.choice([0, 3, 40])), "task_started",
                           **self.ids(task_id, its[0]["id"]))
            when = t + dt.timedelta(seconds=self.rng.randint(2, 20))
            target = outputs[-1] if outputs else its[-1]
            pattern = self.rng.choice(["accept", "accept", "verify", "edit_small", "edit_big", "reject",
                                       "escalate", "fallback", "nothing", "accept_then_reject",
                                       "thumbs_down", "regenerate"])
            ids = self.ids(task_id, target["id"])
            if pattern in ("accept", "accept_then_reject"):
                self.event(user, when, self.rng.choice(["output_accepted", "suggestion_inserted"]), **ids)
                if pattern == "accept_then_reject":
                    self.event(user, when + dt.timedelta(seconds=self.rng.choice([0, 60, 300, 301, 900])),
                               "output_rejected", **self.ids(task_id, target["id"]))
            elif pattern == "verify":
                self.event(user, when, self.rng.choice(["output_verified", "Answer_Confirmed"]), **ids)
            elif pattern in ("edit_small", "edit_big"):
                oc = self.rng.choice([100, 200, 0, None])
                ed = self.rng.choice([5, 9]) if pattern == "edit_small" else self.rng.choice([10, 20, 40, None])
                self.event(user, when, self.rng.choice(["output_edited", "suggestion_edited"]), **ids,
                           edit_distance=ed, output_chars=oc)
                self.event(user, when + dt.timedelta(seconds=30), "output_accepted", **self.ids(task_id, target["id"]))
            elif pattern == "reject":
                self.event(user, when, "suggestion_dismissed", **ids)
            elif pattern == "escalate":
                self.event(user, when, "handoff_to_agent", **ids)
                if self.rng.random() < 0.3:
                    self.event(user, when + dt.timedelta(seconds=10), "escalated", **ids)
            elif pattern == "fallback":
                self.event(user, when, "wrote_manually", **ids)
            elif pattern == "thumbs_down":
                self.event(user, when, "output_accepted", **ids)
                self.event(user, when + dt.timedelta(seconds=self.rng.choice([100, 400])), "thumbs_down", **ids)
            elif pattern == "regenerate":
                self.event(user, when, "regenerate_clicked", task_id=task_id)
            if self.rng.random() < 0.6:
                self.event(user, when + dt.timedelta(minutes=self.rng.randint(1, 40)),
                           self.rng.choice(["task_completed", "goal_reached"]), task_id=task_id)
            elif self.rng.random() < 0.3:
                self.event(user, when + dt.timedelta(minutes=3), "task_abandoned", task_id=task_id)
            if self.rng.random() < 0.2:
                self.event(user, when + dt.timedelta(hours=2), "reply_received", task_id=task_id)
            for o in outputs:
                if self.rng.random() < 0.45:
                    self.random_reviews(o)

    def ids(self, task_id, interaction_id):
        """Events with only task_id, only interaction_id, or both."""
        r = self.rng.random()
        if r < 0.35:
            return {"task_id": task_id, "interaction_id": interaction_id}
        if r < 0.65:
            return {"task_id": None, "interaction_id": interaction_id}
        if r < 0.9:
            return {"task_id": task_id, "interaction_id": None}
        return {"task_id": task_id, "interaction_id": "i_unknown"}

    def random_reviews(self, o):
        when = o["at"] + dt.timedelta(hours=self.rng.randint(1, 30))
        for _ in range(self.rng.randint(1, 3)):
            kind = self.rng.choice(["automated", "llm_judge", "llm_judge", "human_expert"])
            dim = self.rng.choice(["hallucination", "hallucination", "correctness", "Hallucination", "tone"])
            verdict = self.rng.choice(["pass", "pass", "fail"])
            sev = self.rng.choice(["low", "high", "critical", None]) if verdict == "fail" else None
            self.review(o["id"], kind, dim, verdict,
                        when + dt.timedelta(minutes=self.rng.choice([0, 0, 5, 60])), severity=sev)

    def activity(self):
        """Product activity unrelated to tasks (retention and adoption only)."""
        for u in self.regular_users + ["ghost01", "u_nullint", "int01"]:
            for _ in range(self.rng.randint(2, 8)):
                day = self.rng.randint(0, LAST_DAY_OFFSET)
                self.event(u, _ts(day, self.rng.randint(0, 23), self.rng.randint(0, 59)),
                           self.rng.choice(["page_view", "Settings_Opened", "activity", "thumbs_up"]))
        for u in ["u_retain_only"]:  # a user that never queries anything
            for day in (1, 3, 9, 12, 19):
                self.event(u, _ts(day, 12), "page_view")

    # ---- crafted scenarios ------------------------------------------------------
    def crafted_ordering_and_attribution(self):
        # S1 three interactions with the same requested_at: (requested_at, attempt, id)
        t = "T_tie"
        at = _ts(2, 10)
        first = self.interaction(t, "u01", "email_draft", "gpt-4o-mini", at, "error", attempt=1, iid="iT_tie_b")
        a = self.interaction(t, "u01", "email_draft", "gpt-4o", at, "ok", attempt=2, iid="iT_tie_a")
        c = self.interaction(t, "u01", "email_draft", "gpt-4o", at, "ok", attempt=2, iid="iT_tie_c")
        self.event("u01", at + dt.timedelta(seconds=30), "output_accepted", task_id=t)      # -> iT_tie_c
        self.event("u01", at - dt.timedelta(seconds=60), "output_rejected", task_id=t)     # -> first output iT_tie_a
        self.event("u01", at + dt.timedelta(seconds=40), "output_edited", interaction_id=first["id"],
                   edit_distance=50, output_chars=100)                                       # names a non-ok query
        self.event("u01", at + dt.timedelta(seconds=45), "output_accepted", interaction_id=first["id"])
        self.event("u01", at + dt.timedelta(minutes=20), "task_completed", task_id=t)
        # S7 id combinations
        t2 = "T_combo"
        o = self.interaction(t2, "u02", "support_reply", "gpt-4o-mini", _ts(3, 9), "ok", attempt=1)
        o2 = self.interaction(t2, "u02", "support_reply", "gpt-4o-mini", _ts(3, 9, 1), "ok", attempt=2)
        self.event("u02", _ts(3, 9, 0, 30), "output_verified", task_id="T_nope", interaction_id=o["id"])  # unknown task, known output
        self.event("u02", _ts(3, 9, 2), "output_accepted", task_id=t2, interaction_id="i_nope")           # unknown output -> only task -> o2
        self.event("u02", _ts(3, 9, 3), "escalated", task_id=None, interaction_id=None)                   # neither: retention only
        self.event("u02", _ts(3, 9, 4), "escalated", task_id="T_nope", interaction_id="i_nope")           # both unknown
        self.event("u02", _ts(3, 9, 5), "task_completed", task_id=t2, interaction_id=a["id"])            # both known, different tasks
        self.event("u02", _ts(3, 9, 6), "manual_fallback", task_id="T_tie", interaction_id=o2["id"])     # task T_tie, concerns o2
        if PADDED_IDENTIFIERS:
            self.event("u02", _ts(3, 9, 7), "output_rejected", task_id=" " + t2, interaction_id=None)     # padded id: unknown task
            self.interaction("T_pad", "u03", " email_draft", "gpt-4o-mini", _ts(3, 11), "ok")             # padded feature: own cell
        # an unknown event type -> activity
        self.event("u02", _ts(3, 9, 8), "Some_New_Event", task_id=t2)

    def crafted_reviews(self):
        # S2 adjudication tiers and ties (review ids increase with creation order)
        outs = [self.interaction(f"T_rev{k}", "u03", "code_assist", "gpt-4o", _ts(4, 8 + k), "ok", attempt=1)
                for k in range(7)]
        when = _ts(5, 12)
        o = outs[0]  # tier 2 tie on reviewed_at -> larger review_id (fail) wins over a later llm_judge pass
        self.review(o["id"], "human_expert", "hallucination", "pass", when)
        self.review(o["id"], "human_expert", "hallucination", "fail", when, severity="high")
        self.review(o["id"], "llm_judge", "hallucination", "pass", when + dt.timedelta(hours=3))
        o = outs[1]  # tier 1 tie: llm_judge (fail) beats automated (pass) even with a larger id
        self.review(o["id"], "llm_judge", "hallucination", "fail", when, severity="low")
        self.review(o["id"], "automated", "hallucination", "pass", when)
        o = outs[2]  # tier 1 tie, same kind -> larger id (fail)
        self.review(o["id"], "automated", "hallucination", "pass", when)
        self.review(o["id"], "automated", "hallucination", "fail", when, severity="medium")
        o = outs[3]  # latest tier 1 wins: earlier llm_judge fail, later automated pass -> pass
        self.review(o["id"], "llm_judge", "hallucination", "fail", when)
        self.review(o["id"], "automated", "hallucination", "pass", when + dt.timedelta(seconds=1))
        o = outs[4]  # dimension with odd case; correctness fail ignored for HR
        self.review(o["id"], "LLM_Judge", " Hallucination ", "FAIL", when, severity="Critical")
        self.review(o["id"], "human_expert", "correctness", "fail", when)
        o = outs[5]  # human pass overrides a later tier-1 fail
        self.review(o["id"], "human_expert", "hallucination", "pass", when)
        self.review(o["id"], "llm_judge", "hallucination", "fail", when + dt.timedelta(hours=1))
        # accepted but hallucinated: accepted yes, valid no
        self.event("u03", _ts(4, 8, 1), "output_accepted", interaction_id=outs[0]["id"])
        self.event("u03", _ts(4, 13, 1), "output_accepted", interaction_id=outs[5]["id"])
        # review of a non-ok query and of an unknown interaction
        bad = self.interaction("T_rev_err", "u03", "code_assist", "gpt-4o", _ts(4, 16), "refused", attempt=1)
        self.review(bad["id"], "human_expert", "hallucination", "fail", when)
        self.review("i_ghost", "human_expert", "hallucination", "fail", when)
        # invalid reviews: bad kind, bad verdict, bad severity, missing reviewed_at; garbage time (text only)
        self.review(outs[6]["id"], "crowd", "hallucination", "fail", when)
        self.review(outs[6]["id"], "llm_judge", "hallucination", "unsure", when)
        self.review(outs[6]["id"], "llm_judge", "hallucination", "fail", when, severity="extreme")
        self.review(outs[6]["id"], "llm_judge", "hallucination", "fail", None)
        self.review(outs[6]["id"], "llm_judge", "hallucination", "fail", when, raw_overrides={"reviewed_at": "last tuesday"})
        self.review(outs[6]["id"], "automated", "hallucination", "pass", when, severity="  ")  # empty severity -> null, valid
        # review duplicates are keyed by review_id (no ingested_at): an exact duplicate copy
        dup = self.review(outs[6]["id"], "automated", "safety", "pass", when)
        self.rows["output_reviews"].append(dict(dup))

    def crafted_substantive_edits(self):
        # S3 edit ratio boundary (0.10 inclusive), missing sizes, output_chars 0
        cases = [(10, 100), (9, 100), (3, 30), (None, 50), (5, None), (5, 0), (0, 0), (0, 100)]
        for k, (ed, oc) in enumerate(cases):
            o = self.interaction(f"T_edit{k}", "u04", "email_draft", "gpt-4o-mini", _ts(6, 9, k), "ok", attempt=1)
            self.event("u04", _ts(6, 9, k, 20), "output_accepted", interaction_id=o["id"])
            self.event("u04", _ts(6, 9, k, 40), "suggestion_edited", interaction_id=o["id"],
                       edit_distance=ed, output_chars=oc)
            self.event("u04", _ts(6, 10, k), "task_completed", task_id=o["task"])

    def crafted_behavioural_window(self):
        # S4 corrective events around t (accept) and t + 5 min
        offsets = [
            ("output_rejected", dt.timedelta(0)),                          # exactly t -> invalid
            ("output_rejected", dt.timedelta(minutes=5)),                  # exactly t+5min -> invalid
            ("output_rejected", dt.timedelta(minutes=5, seconds=1)),       # just after -> valid
            ("output_rejected", dt.timedelta(minutes=5, microseconds=1)),  # 1 microsecond after -> valid
            ("output_rejected", -dt.timedelta(seconds=1)),                 # before t -> valid
            ("thumbs_down", dt.timedelta(minutes=2)),                      # feedback_negative -> invalid
            ("thumbs_up", dt.timedelta(minutes=2)),                        # not corrective -> valid
            ("prompt_rephrased", dt.timedelta(minutes=1)),                 # reprompted -> invalid
        ]
        for k, (etype, off) in enumerate(offsets):
            t0 = _ts(7, 14, 2 * k)
            o = self.interaction(f"T_win{k}", "u05", "support_reply", "claude-3-5-haiku", t0 - dt.timedelta(seconds=20),
                                 "ok", attempt=1)
            self.event("u05", t0, "output_accepted", interaction_id=o["id"])
            self.event("u05", t0 + off, etype, interaction_id=o["id"])
        # non-substantive edit inside the window stays valid; substantive one invalidates
        for k, (ed, oc) in enumerate([(1, 100), (60, 100)]):
            t0 = _ts(7, 16, 2 * k)
            o = self.interaction(f"T_winedit{k}", "u05", "support_reply", "claude-3-5-haiku",
                                 t0 - dt.timedelta(seconds=20), "ok", attempt=1)
            self.event("u05", t0, "answer_confirmed", interaction_id=o["id"])
            self.event("u05", t0 + dt.timedelta(minutes=1), "output_edited", interaction_id=o["id"],
                       edit_distance=ed, output_chars=oc)
        # a corrective event of the task concerning another output still invalidates
        t0 = _ts(7, 18)
        o1 = self.interaction("T_wintask", "u05", "support_reply", "claude-3-5-haiku", t0 - dt.timedelta(minutes=1), "ok", attempt=1)
        o2 = self.interaction("T_wintask", "u05", "support_reply", "claude-3-5-haiku", t0 + dt.timedelta(minutes=1), "ok", attempt=2)
        self.event("u05", t0, "output_verified", interaction_id=o1["id"])
        self.event("u05", t0 + dt.timedelta(minutes=2), "regenerated", interaction_id=o2["id"])
        self.event("u05", t0 + dt.timedelta(minutes=2, seconds=30), "output_accepted", interaction_id=o2["id"])
        # verify first, accept later: t is the verify
        t0 = _ts(7, 19)
        o = self.interaction("T_wintwo", "u05", "support_reply", "claude-3-5-haiku", t0 - dt.timedelta(seconds=5), "ok", attempt=1)
        self.event("u05", t0, "output_verified", interaction_id=o["id"])
        self.event("u05", t0 + dt.timedelta(minutes=7), "output_accepted", interaction_id=o["id"])
        self.event("u05", t0 + dt.timedelta(minutes=8), "output_rejected", interaction_id=o["id"])

    def crafted_tta_and_start(self):
        # S5 task_started before the first query, across midnight; accepted before the start
        q_at = _ts(5, 0, 0, 30)
        o = self.interaction("T_early", "u06", "code_assist", "claude-3-5-haiku", q_at, "ok", attempt=1)
        self.event("u06", _ts(4, 23, 59, 50), "assistant_opened", task_id="T_early")  # start -> previous day
        self.event("u06", _ts(4, 23, 59, 40), "output_accepted", interaction_id=o["id"])  # TTA = -10 s
        self.event("u06", _ts(5, 0, 5), "task_completed", task_id="T_early")
        # S6 a task without any ok output: events with only the task concern its first query
        e1 = self.interaction("T_noout", "u06", "email_draft", "gpt-4o", _ts(8, 11), "timeout", attempt=1)
        self.interaction("T_noout", "u06", "email_draft", "gpt-4o", _ts(8, 11, 1), "error", attempt=2)
        self.event("u06", _ts(8, 11, 5), "escalated", task_id="T_noout")
        self.event("u06", _ts(8, 11, 6), "output_accepted", task_id="T_noout")
        self.event("u06", _ts(8, 11, 7), "task_completed", interaction_id=e1["id"])
        # TTA: first success concerns a hallucinated output -> the later clean one counts
        o1 = self.interaction("T_tta", "u06", "email_draft", "gpt-4o-mini", _ts(9, 9), "ok", attempt=1)
        o2 = self.interaction("T_tta", "u06", "email_draft", "gpt-4o-mini", _ts(9, 9, 1), "ok", attempt=2)
        self.review(o1["id"], "human_expert", "hallucination", "fail", _ts(9, 12))
        self.event("u06", _ts(9, 9, 0, 20), "output_accepted", interaction_id=o1["id"])
        self.event("u06", _ts(9, 9, 1, 12, 500000), "output_verified", interaction_id=o2["id"])
        self.event("u06", _ts(9, 9, 3), "task_completed", task_id="T_tta")

    def crafted_internal_users(self):
        # S8 internal users' queries and events are excluded everywhere, incl. the latest requested_at
        o = self.interaction("T_int", "int01", "email_draft", "gpt-4o-mini", _ts(LAST_DAY_OFFSET + 2, 9), "ok", attempt=1)
        self.event("int01", _ts(LAST_DAY_OFFSET + 2, 9, 1), "output_accepted", interaction_id=o["id"])
        o = self.interaction("T_int2", "int02", "support_reply", "gpt-4o", _ts(6, 9), "ok", attempt=1)
        self.event("u07", _ts(6, 9, 1), "output_accepted", interaction_id=o["id"])  # regular user on internal task -> unknown
        self.event("int02", _ts(6, 9, 2), "escalated", task_id="T_rev0")          # internal on a regular task -> dropped
        o = self.interaction("T_dupint", "u_dupint", "support_reply", "gpt-4o", _ts(6, 9, 5), "ok", attempt=1)
        o = self.interaction("T_quar", "u_quar", "support_reply", "gpt-4o", _ts(6, 9, 6), "ok", attempt=1)
        self.event("u_quar", _ts(6, 9, 7), "output_accepted", interaction_id=o["id"])
        self.interaction("T_ghost", "ghost01", "support_reply", "gpt-4o", _ts(6, 9, 8), "ok", attempt=1)

    def crafted_costs_and_infra(self):
        # S10 pricing: cost given, priced, unpriced, price change 2026-07-01 (day 9)
        for k, (model, day, cost, it, ot) in enumerate([
            ("gpt-4o-mini", 10, None, 1000, 500),
            ("gpt-4o-mini", 10, 0.0123, 1000, 500),
            ("claude-3-5-haiku", 8, None, 2000, 1000),   # 2026-06-30: old price
            ("claude-3-5-haiku", 9, None, 2000, 1000),   # 2026-07-01: new price
            ("claude-3-5-haiku", 9, None, None, 1000),   # missing input tokens -> 0
            ("mystery-model", 10, None, 5000, 5000),     # no price -> 0
            ("gpt-4o", 10, None, None, None),
        ]):
            self.interaction(f"T_cost{k}", "u08", "code_assist", model, _ts(day, 0, 30 + k), "ok", attempt=1,
                             cost_usd=cost, in_tok=it, out_tok=ot)
        # S11 a day with known query counts: day 11, email_draft gpt-4o-mini x2, email_draft gpt-4o x1,
        # support_reply gpt-4o x3 (crafted; random tasks may add to them)
        for k in range(2):
            self.interaction(f"T_inf_a{k}", "u09", "email_draft", "gpt-4o-mini", _ts(11, 1, k), "ok", attempt=1)
        self.interaction("T_inf_b", "u09", "email_draft", "gpt-4o", _ts(11, 1, 5), "error", attempt=1)
        for k in range(3):
            self.interaction(f"T_inf_c{k}", "u09", "support_reply", "gpt-4o", _ts(11, 2, k), "filtered", attempt=1)
        self.infra(11, "email_draft", "gpt-4o-mini", "GPU", 1.25)        # exact
        self.infra(11, "email_draft", None, "vector_db", 0.9)           # feature-shared
        self.infra(11, None, "gpt-4o", " human_review ", 0.8)           # model-shared
        self.infra(11, None, None, "gpu", 3.0)                          # fully shared
        self.infra(11, "code_assist", "batch-embedder", "gpu", 0.5)      # exact: creates a cell with 0 queries
        self.infra(11, "email_draft", "gpt-4o-mini", "gpu", 0)           # exact, zero
        self.infra(45, None, None, "gpu", 7.0)                           # no query that day -> unallocated
        self.infra(11, "ghost_feature", None, "gpu", 2.0)                # no query in scope -> unallocated
        self.infra(11, None, "ghost_model", "gpu", 2.0)                  # no query in scope -> unallocated
        self.infra(12, None, None, "gpu", 1.0)
        self.infra(13, "support_reply", None, "gpu", 0.333333)
        # invalid infra rows
        self.infra(11, None, None, "gpu", -1.0)                          # negative cost
        self.infra(11, None, None, "  ", 1.0)                            # missing cost_kind
        self.infra(11, None, None, "gpu", None)                          # missing cost
        self.infra("2026-13-01", None, None, "gpu", 1.0)                 # garbage date (text only)
        self.infra(None, None, None, "gpu", 1.0)                         # missing date
        self.infra(11, "", "", "gpu", 0.6)                               # empty -> null -> fully shared

    def crafted_duplicates(self):
        # S12 latest ingested_at wins, then the winner is validated
        at = _ts(12, 10)
        # newer copy invalid while the older copy was valid -> the id disappears
        r_old = self.interaction("T_dup1", "u10", "email_draft", "gpt-4o-mini", at, "ok", attempt=1,
                                 iid="i_dup_bad", ingested_at=_ts(12, 11))
        new = dict(r_old["row"], status="weird", ingested_at=self.stamp(_ts(12, 12)))
        self.rows["interactions"].append(new)
        self.event("u10", at + dt.timedelta(seconds=30), "output_accepted", interaction_id="i_dup_bad")  # unknown
        # older copy invalid, newer valid -> kept
        r = self.interaction("T_dup2", "u10", "email_draft", "gpt-4o-mini", at + dt.timedelta(minutes=1), "ok",
                             attempt=1, iid="i_dup_good", ingested_at=_ts(12, 13), in_tok=100, out_tok=10, cost_usd=None)
        self.rows["interactions"].append(dict(r["row"], input_tokens=-5, ingested_at=self.stamp(_ts(12, 11))))
        # null ingested_at copy loses to any dated copy
        r = self.interaction("T_dup3", "u10", "email_draft", "gpt-4o-mini", at + dt.timedelta(minutes=2), "error",
                             attempt=1, iid="i_dup_null", ingested_at=None)
        self.rows["interactions"].append(dict(r["row"], status="ok", responded_at=self.stamp(at + dt.timedelta(minutes=2, seconds=1)),
                                              ingested_at=self.stamp(_ts(12, 9))))
        # identical copies with null ingested_at
        r = self.interaction("T_dup4", "u10", "email_draft", "gpt-4o-mini", at + dt.timedelta(minutes=3), "ok",
                             attempt=1, iid="i_dup_same", ingested_at=None)
        self.rows["interactions"].append(dict(r["row"]))
        # an unparseable ingested_at sorts oldest; a dated copy wins. As the only copy it quarantines.
        r = self.interaction("T_dup5", "u10", "email_draft", "gpt-4o-mini", at + dt.timedelta(minutes=4), "ok",
                             attempt=1, iid="i_dup_garbage_ing", ingested_at=_ts(12, 15))
        self.rows["interactions"].append(dict(r["row"], status="refused", ingested_at="sometime"))
        self.interaction("T_dup6", "u10", "email_draft", "gpt-4o-mini", at + dt.timedelta(minutes=5), "ok",
                         attempt=1, iid="i_only_garbage_ing", raw_overrides={"ingested_at": "sometime"})
        # events: newer copy invalid (negative edit_distance) -> event disappears
        ev = self.event("u10", at + dt.timedelta(minutes=1, seconds=10), "escalated", interaction_id="i_dup_good",
                        eid="e_dup_bad", ingested_at=_ts(12, 11))
        self.rows["user_events"].append(dict(ev, edit_distance=-1, ingested_at=self.stamp(_ts(12, 12))))
        # events: newer valid copy changes the type
        ev = self.event("u10", at + dt.timedelta(minutes=1, seconds=20), "output_rejected", interaction_id="i_dup_good",
                        eid="e_dup_good", ingested_at=_ts(12, 11))
        self.rows["user_events"].append(dict(ev, event_type="output_accepted", ingested_at=self.stamp(_ts(12, 14))))
        # events: null ingested_at copy is oldest
        ev = self.event("u10", at + dt.timedelta(minutes=1, seconds=30), "wrote_manually", interaction_id="i_dup_good",
                        eid="e_dup_null", ingested_at=None)
        self.rows["user_events"].append(dict(ev, event_type="thumbs_up", ingested_at=self.stamp(_ts(12, 14))))

    def crafted_bad_rows(self):
        at = _ts(13, 15)
        bad = [
            {"user_id": None},                            # missing required
            {"feature": "   "},                           # empty after trim -> missing
            {"model": ""},
            {"task_id": None},
            {"status": "weird"},                          # bad enum
            {"status": None},
            {"input_tokens": -1},                         # ranges
            {"output_tokens": -20},
            {"cost_usd": -0.5},
            {"confidence": 1.5},
            {"confidence": -0.1},
            {"attempt": 0},
            {"responded_at": at - dt.timedelta(seconds=1)},   # responded before requested
            {"requested_at": None},
            {"requested_at": "not a time"},               # unparseable (text only)
            {"responded_at": "2026-02-30 10:00:00"},
            {"input_tokens": "12x"},                      # wrong type (text only)
            {"confidence": "high"},
            {"attempt": "first"},
            {"interaction_id": "  "},
        ]
        for k, override in enumerate(bad):
            self.interaction(f"T_bad{k}", "u11", "support_reply", "gpt-4o-mini", at + dt.timedelta(minutes=k), "ok",
                             attempt=1, raw_overrides=override)
        # valid edge values
        self.interaction("T_edge0", "u11", "support_reply", "gpt-4o-mini", at, "ok", attempt=1,
                         confidence=1.0, in_tok=0, out_tok=0, cost_usd=0.0)
        self.interaction("T_edge1", "u11", "support_reply", "gpt-4o-mini", at + dt.timedelta(seconds=1), "ok",
                         attempt=None, confidence=0.0, latency_ms=0)  # responded_at == requested_at
        self.interaction("T_edge2", "u11", "support_reply", "gpt-4o-mini", at + dt.timedelta(seconds=2), " Timeout ",
                         attempt=1, raw_overrides={"input_tokens": " 42 ", "attempt": " 3 "})
        # events: missing required, bad ranges, garbage time
        for k, override in enumerate([
            {"user_id": "  "}, {"occurred_at": None}, {"event_type": ""}, {"edit_distance": -3},
            {"output_chars": -1}, {"occurred_at": "garbage"}, {"event_id": None}, {"edit_distance": "ten"},
        ]):
            self.event("u11", at + dt.timedelta(minutes=30 + k), "output_accepted", task_id="T_edge0",
                       raw_overrides=override)
        # an invalid event far in the future must not move the last day
        self.event("u11", _ts(LAST_DAY_OFFSET + 5), "page_view", raw_overrides={"user_id": None})

    def crafted_maturity_and_retention(self):
        # S14 the latest (non-internal) requested_at: day 20 18:00
        latest = _ts(LAST_DAY_OFFSET, 18)
        self.interaction("T_last", "u12", "code_assist", "gpt-4o-mini", latest, "ok", attempt=1)
        o = self.interaction("T_mature_edge", "u12", "code_assist", "gpt-4o-mini", latest - dt.timedelta(hours=24), "ok", attempt=1)
        self.event("u12", latest - dt.timedelta(hours=23, minutes=59), "task_completed", task_id=o["task"])
        self.event("u12", latest - dt.timedelta(hours=23, minutes=59, seconds=30), "output_accepted", interaction_id=o["id"])
        o = self.interaction("T_immature", "u12", "code_assist", "gpt-4o-mini",
                             latest - dt.timedelta(hours=24) + dt.timedelta(seconds=1), "ok", attempt=1)
        self.event("u12", latest - dt.timedelta(hours=23), "task_completed", task_id=o["task"])
        # a task whose task_started event makes it mature although its first query is not
        o = self.interaction("T_started_early", "u12", "code_assist", "gpt-4o-mini",
                             latest - dt.timedelta(hours=20), "ok", attempt=1)
        self.event("u12", latest - dt.timedelta(hours=25), "task_started", task_id=o["task"])
        self.event("u12", latest - dt.timedelta(hours=19), "task_completed", task_id=o["task"])
        # S15 anchor exactly 7 days before the last day (day 13 -> day 20), retained on the last day
        self.interaction("T_anchor", "u_anchor", "email_draft", "gpt-4o", _ts(LAST_DAY_OFFSET - 7, 8), "ok", attempt=1)
        self.event("u_anchor", _ts(LAST_DAY_OFFSET, 7), "page_view")
        # anchor 6 days before the last day: not eligible
        self.interaction("T_anchor2", "u_anchor2", "email_draft", "gpt-4o", _ts(LAST_DAY_OFFSET - 6, 8), "ok", attempt=1)
        self.event("u_anchor2", _ts(LAST_DAY_OFFSET, 7), "page_view")
        # a non-AI user whose first activity of the week is on Monday; retained on day +8 only (not retained)
        self.event("u_nonai", _ts(7, 9), "page_view")
        self.event("u_nonai", _ts(15, 9), "page_view")
        # causal arms for these helper users
        self.user("u_anchor", ai_access="Treatment")
        self.user("u_anchor2", ai_access="holdout")
        self.user("u_nonai", ai_access=" HOLDOUT ")
        self.user("u_retain_only", ai_access="holdout")

    def eval_results(self):
        for run in range(2):
            for case in range(3):
                for s in range(3):
                    self.rows["eval_results"].append({
                        "eval_run_id": f"run{run}", "run_at": _ts(run * 7), "suite": "core",
                        "model": "gpt-4o-mini", "model_version": f"gpt-4o-mini@v{run + 1}",
                        "case_id": f"c{case}", "sample_index": s,
                        "passed": self.rng.random() < 0.7, "score": round(self.rng.random(), 3),
                    })


def generate(seed: int, n_tasks: int = 60) -> dict[str, list[dict]]:
    """A small messy raw dataset, deterministic for a seed."""
    return _Gen(seed, n_tasks).build()


# ---------------------------------------------------------------------------
# Landing
# ---------------------------------------------------------------------------


class _Untypable(Exception):
    pass


_TEXT_INT = re.compile(r"^[+-]?\d+$")


def _parse_text_ts(s: str) -> dt.datetime:
    s = s.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$", s):
        raise _Untypable(s)
    try:
        v = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _Untypable(s) from exc
    return v


def _to_typed(value, sql_type: str):
    if value is None:
        return None
    if isinstance(value, str) and sql_type != "VARCHAR" and value.strip() == "":
        return None
    if sql_type == "VARCHAR":
        return value if isinstance(value, str) else str(value)
    if sql_type == "BIGINT":
        if isinstance(value, str):
            if not _TEXT_INT.match(value.strip()):
                raise _Untypable(value)
            return int(value.strip())
        return int(value)
    if sql_type == "DOUBLE":
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError as exc:
                raise _Untypable(value) from exc
        return float(value)
    if sql_type.startswith("DECIMAL"):
        return Decimal(str(round(float(value), 6)))
    if sql_type == "BOOLEAN":
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "t", "1"):
                return True
            if low in ("false", "f", "0"):
                return False
            raise _Untypable(value)
        return bool(value)
    if sql_type in ("TIMESTAMP", "TIMESTAMPTZ"):
        if isinstance(value, str):
            value = _parse_text_ts(value)
        elif not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if sql_type == "TIMESTAMP":
            if value.tzinfo is not None:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value
    if sql_type == "DATE":
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                raise _Untypable(value) from exc
        if isinstance(value, dt.datetime):
            return value.date()
        return value
    raise ValueError(sql_type)


def _to_text(value, rng: random.Random):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return rng.choice(["true", "TRUE", "True"]) if value else rng.choice(["false", "FALSE", "False"])
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        frac = f".{value.microsecond:06d}" if value.microsecond else ""
        if value.tzinfo is not None:
            return value.strftime("%Y-%m-%dT%H:%M:%S") + frac + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]
        sep = rng.choice([" ", "T"])
        suffix = rng.choice(["", "", "Z", "+00:00"])
        return value.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + frac + suffix
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def land(con, raw: dict[str, list[dict]], style: str) -> None:
    """Create schema raw and every table of ``raw`` in the given style."""
    if style not in ("text", "typed"):
        raise ValueError(style)
    rng = random.Random(f"land-{style}")
    con.execute("create schema if not exists raw")
    for table, columns in TYPED_COLUMNS.items():
        cols = [(n, t) for n, t in columns if (table, n) not in OMITTED[style]]
        cols += EXTRA_COLUMNS[style].get(table, [])
        if style == "text":
            cols = [(n, "VARCHAR") for n, _ in cols]
        ddl = ", ".join(f'"{n}" {t}' for n, t in cols)
        con.execute(f"drop table if exists raw.{table}")
        con.execute(f"create table raw.{table} ({ddl})")
        out = []
        for row in raw.get(table, []) or []:
            try:
                if style == "text":
                    out.append([_to_text(row.get(n), rng) for n, _ in cols])
                else:
                    out.append([_to_typed(row.get(n), t) for n, t in cols])
            except _Untypable:
                continue  # typed style cannot hold this malformed row
        if out:
            placeholders = ", ".join("?" for _ in cols)
            con.executemany(f"insert into raw.{table} values ({placeholders})", out)
