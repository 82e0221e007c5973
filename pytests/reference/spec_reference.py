"""Independent reference implementation ("oracle") of the aimetrics marts.

Written only from ``shared/spec/raw-contract.md``, ``shared/spec/metrics.md``,
the seeds and the contract yml, in plain Python (standard library only: no
pandas, numpy or SQL), so that the dbt models can be compared against it.

    compute(raw, seeds_dir, vars=None) -> {"metrics_daily": [...], "retention_weekly": [...]}

``raw`` maps a raw table name to its rows (``dict(zip(column_names, row))``).

AMBIGUITIES AND CHOICES
=======================
Where the spec leaves room, the most literal reading was chosen:

 1. Trimming. "Trimmed" removes ASCII whitespace (space, tab, newline, CR,
    FF, VT) from both ends, not only spaces. A value that is empty after this
    trim is null in every column (ids included).
 2. Identifiers (interaction_id, task_id, user_id, event_id, review_id,
    session_id, feature, model, model_version, ...) are "kept exactly as
    written": they are NOT trimmed and NOT lower-cased. ' u1' and 'u1' are two
    different users; a whitespace-only identifier is null (missing).
    Other free text (properties, reviewer_id, experiment_id, variant) is kept
    as written too.
 3. Enum columns (status, reviewer_kind, verdict, severity, ai_access,
    cost_kind, dimension, event_type and the seed's event_type/role) are
    trimmed and lower-cased before any check or join. Only status,
    reviewer_kind, verdict, severity and ai_access have a closed list; cost_kind,
    dimension and event_type accept any value.
 4. Type parsing of text (the contract allows text landing):
    - timestamps: ISO-8601 'YYYY-MM-DD', or 'YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]'
      optionally followed by 'Z' or an offset '+HH', '+HHMM', '+HH:MM'
      (fraction truncated to microseconds). An offset is converted to UTC, a
      naive value is UTC. A DATE value in a timestamp column is its midnight.
      Anything else (including impossible dates like 2026-02-30) is
      unparseable -> the row is quarantined.
    - date (infra_costs.cost_date): text must be 'YYYY-MM-DD'; a datetime value
      is converted to UTC and its date taken.
    - integers: optional sign and digits only ('12', ' 12 '); '12.5', '1e3',
      'abc' are the wrong type -> quarantine (DuckDB's lenient cast would round
      '12.5' to 13; we do not). An integral float/Decimal is accepted.
    - doubles: any finite decimal / scientific literal; 'nan', 'inf' and
      garbage are the wrong type -> quarantine.
    - booleans: true/false, t/f, yes/no, y/n, 1/0 (any case); anything else is
      the wrong type -> quarantine.
    - a non-string value in a text column is converted with str().
 5. Every contract column is validated, also the ones the two marts do not use
    (e.g. a garbage users.signed_up_at or a bad score quarantines the row). An
    unparseable ingested_at quarantines the row too. eval_results is not needed
    by these marts and is ignored.
 6. Deduplication happens before validation: per table and key value (the
    key as written, after the empty->null rule), the copy with the latest
    parsed ingested_at wins; null AND unparseable ingested_at sort oldest. The
    winner alone is then validated; when it breaks the contract the whole id
    disappears (an older valid copy is never used). Rows whose key is null are
    quarantined by the required rule. infra_costs has no key and is not
    deduplicated. Ties on ingested_at are assumed identical (the spec says so);
    the first such copy in input order is kept. output_reviews and users have
    no ingested_at in the contract (an extra column of that name is ignored):
    all their copies tie, i.e. duplicated ids there are assumed identical.
 7. Internal users: a user is internal only when its winning, valid users row
    has is_internal = true. Exclusion is row-level: every interaction and
    every event whose own user_id is internal is dropped before anything else
    (tasks, attribution, maturity, "last day", shared-cost splits, retention).
    Reviews and infra rows carry no user: a review of an internal user's
    output names an unknown interaction and is ignored.
 8. "Known" task = a task_id present among the clean, non-internal
    interactions; "known" interaction = a clean, non-internal interaction of
    ANY status (an event or review naming a non-ok query concerns that query).
 9. Ordering of a task's interactions/outputs uses (requested_at,
    coalesce(attempt, 1), interaction_id); attempt's documented default 1 is
    applied for ordering. Ids compare as plain strings (code point order).
10. Event -> task: the task of its task_id when known, else the task of its
    interaction_id when that interaction is known, else none. This is also
    used when task_id and interaction_id point at different tasks (the event
    belongs to the task_id's task but concerns the named interaction).
11. Event -> concerned interaction, applied to EVERY event role (not only the
    output-level reactions): the named interaction when known; else, when the
    task is known, the task's latest ok output with requested_at <= occurred_at,
    else the task's first ok output, else (task without any ok output) the
    task's first query. An event with neither a known task nor a known
    interaction concerns nothing and counts for retention/adoption only.
    Event counts (interventions) are placed in the cell (UTC date of
    requested_at, feature, model) of the concerned interaction.
12. Output-level counts (reviewed/hallucinated/accepted/valid outputs) only
    count interactions with status ok; they go to the output's own cell. An
    accept/verify event or a review that concerns a non-ok query is ignored
    for them. Likewise TTA only uses accept/verify events whose concerned
    interaction is an ok output.
13. Task start = min(first interaction's requested_at, occurred_at of every
    task_started event belonging to the task); its date/feature/model give the
    cell of tasks, tasks_mature, tasks_completed, tcr and tta_*. A task_started
    event earlier than the first query can therefore create a cell with
    tasks = 1 and queries = 0.
14. Maturity: start + task_maturity_hours <= max(requested_at) over the clean,
    non-internal interactions of any status (inclusive: exactly 24 h is mature).
15. Task has an intervention when ANY event belonging to it is a substantive
    output_edited, escalated or manual_fallback, whenever it happens.
    tasks_completed = mature tasks with >= 1 task_completed event and no
    intervention (completion event timing does not matter either).
16. Substantive edit: edit_distance / output_chars >= ratio, computed as a
    floating division (so 10/100 >= 0.10 is substantive). When either number
    is null it is substantive; when output_chars = 0 (ratio undefined, also
    0/0) it is substantive too.
17. Interventions are counted per event (two escalations count 2) in the cell
    of the concerned interaction; hitl_f = 100 * interventions / queries of that
    same cell (null when the cell has no query).
18. Adjudication per (ok output, dimension): the latest human_expert review
    (tie on reviewed_at -> larger review_id); else the latest tier-1 review
    (tie on reviewed_at -> llm_judge over automated; remaining ties -> larger
    review_id). Reviews naming unknown interactions are ignored. Dimension is
    lower-cased, so 'Hallucination' counts as 'hallucination'. A review's
    severity plays no role in these two marts.
19. TTA: for a mature task, seconds from task start to the earliest event
    belonging to the task with role output_accepted or output_verified whose
    concerned interaction is an ok output not adjudicated hallucinated
    (unreviewed = not hallucinated). Negative values are kept. tta_tasks =
    mature tasks with a TTA; p50/p90 are linear-interpolation percentiles.
20. Valid output: ok output, not adjudicated hallucinated, with an
    output_accepted/output_verified event concerning it; t = earliest such
    event; invalid if any corrective event (substantive edit, output_rejected,
    regenerated, reprompted, escalated, manual_fallback, feedback_negative)
    that concerns it OR belongs to its task has occurred_at in
    [t, t + behavioral_window_minutes] (both ends inclusive).
21. accepted_outputs = ok outputs with >= 1 output_accepted event concerning
    them (output_verified does not count).
22. Query cost: cost_usd when not null, else (coalesce(input_tokens,0) * input
    price + coalesce(output_tokens,0) * output price) / 1e6 with the
    model_pricing row of the exact same model string with the latest
    effective_from <= UTC date of requested_at; no such row -> 0. Applies to
    every query status.
23. Infra cost: a valid row with feature and model goes to its exact cell
    (creating it even when cost_usd = 0). A shared row (feature null and/or
    model null) is split over the cells of cost_date in its scope that have
    >= 1 (non-internal, any status) query, as cost * cell_queries /
    scope_queries; with no such query it is unallocated (not in any row).
24. Latency: over ok outputs with a non-null responded_at, in ms (exact,
    fractional) at the query's cell; null when none.
25. error_rate = (error + timeout) / queries, refusal_rate = (refused +
    filtered) / queries, per query cell; null when the cell has no query.
26. metrics_daily rows: union of the cells of queries, tasks (start date),
    events and reviews (concerned interaction's cell; always also a query
    cell) and allocated infra cost (exact cells + shared-allocation cells).
27. Wilson interval (HR): the textbook score interval with the var z, not
    clamped; null when reviewed_outputs = 0.
28. "Last day in the data" = max UTC date over clean non-internal events
    (any role, known task or not) and interactions (any status).
29. Retention (observational), week W (ISO Monday) x feature F, a row for each
    W in which F has a clean non-internal query: active users = users with an
    event or query dated in W; AI users = those with a query of F in W (anchor
    = first such day); non-AI = other active users (anchor = first active day
    in W). Retained = any event/query on a day in [anchor+1, anchor+7]. Only
    users with anchor + 7 <= last day count, and ai_users / non_ai_users are
    these eligible counts (the "n" of each rate).
30. retention_delta_pts = 100 * (ai rate - non-ai rate); its interval is
    Newcombe's hybrid score (method 10): low = d - sqrt((p1-l1)^2 + (u2-p2)^2),
    high = d + sqrt((u1-p1)^2 + (p2-l2)^2), from Wilson intervals with z,
    multiplied by 100; all three null when either n is 0.
31. Causal ITT: users with a valid, non-internal users row whose ai_access is
    set AND who have at least one event or query; cohort = ISO week of their
    first active day (all features); anchor = that day; retained and
    eligibility as in 29. treatment_users / holdout_users are eligible counts.
    The values repeat on every feature row of the week; weeks without a query
    have no row, so their causal numbers are not shown.
32. Sorting: rows are returned sorted by their key; metric_date/cohort_week are
    datetime.date, counts int, rates/costs float or None.
33. A retention_weekly row exists for every (W, F) with a query even when no
    user is eligible yet (the newest week): counts 0, rates/deltas null.
34. A review of a non-ok query is placed in that query's cell (it always has
    a row through the query) but is never a "reviewed output" (HR counts ok
    outputs only, see 12).
35. Missing optional columns are read as null (e.g. no `confidence` column);
    extra columns are ignored; absent/empty optional tables (users,
    infra_costs, output_reviews) behave as empty. An extra column named
    ingested_at on users/output_reviews is ignored (see 6).
36. vars: substantive_edit_ratio, task_maturity_hours, behavioral_window_minutes
    and z (the dbt var name wilson_z is accepted as an alias for z).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

DEFAULT_VARS = {
    "substantive_edit_ratio": 0.10,
    "task_maturity_hours": 24,
    "behavioral_window_minutes": 5,
    "z": 1.959963984540054,
}

METRICS_DAILY_COLUMNS = [
    "metric_date", "feature", "model", "queries", "outputs", "tasks", "tasks_mature",
    "tasks_completed", "tcr", "reviewed_outputs", "hallucinated_outputs",
    "hallucination_rate", "hr_ci_low", "hr_ci_high", "review_coverage", "tta_tasks",
    "tta_p50_s", "tta_p90_s", "tta_coverage", "interventions", "hitl_f",
    "total_cost_usd", "valid_outputs", "cpvo", "accepted_outputs", "acceptance_rate",
    "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate", "refusal_rate",
]

RETENTION_WEEKLY_COLUMNS = [
    "cohort_week", "feature", "ai_users", "ai_users_retained", "ai_retention_7d",
    "non_ai_users", "non_ai_users_retained", "non_ai_retention_7d",
    "retention_delta_pts", "delta_ci_low", "delta_ci_high", "treatment_users",
    "treatment_retained", "holdout_users", "holdout_retained", "causal_delta_pts",
]

# --------------------------------------------------------------------------
# The raw contract (from raw-contract.md): column -> (kind, required, enum, min, max)
# kinds: id (identifier, kept as written), text (free text, kept as written),
# enum (trimmed + lower-cased), timestamp, date, int, float, bool
# --------------------------------------------------------------------------


def _col(kind, required=False, enum=None, lo=None, hi=None):
    return (kind, required, enum, lo, hi)


CONTRACT = {
    "interactions": {
        "key": "interaction_id",
        "columns": {
            "interaction_id": _col("id", True),
            "task_id": _col("id", True),
            "user_id": _col("id", True),
            "session_id": _col("id"),
            "feature": _col("id", True),
            "model": _col("id", True),
            "model_version": _col("id"),
            "requested_at": _col("timestamp", True),
            "responded_at": _col("timestamp"),
            "status": _col("enum", True, ("ok", "error", "timeout", "refused", "filtered")),
            "input_tokens": _col("int", lo=0),
            "output_tokens": _col("int", lo=0),
            "cost_usd": _col("float", lo=0),
            "confidence": _col("float", lo=0, hi=1),
            "attempt": _col("int", lo=1),
            "experiment_id": _col("text"),
            "variant": _col("text"),
            "ingested_at": _col("timestamp"),
        },
    },
    "user_events": {
        "key": "event_id",
        "columns": {
            "event_id": _col("id", True),
            "user_id": _col("id", True),
            "occurred_at": _col("timestamp", True),
            "event_type": _col("enum", True),
            "session_id": _col("id"),
            "task_id": _col("id"),
            "interaction_id": _col("id"),
            "edit_distance": _col("int", lo=0),
            "output_chars": _col("int", lo=0),
            "properties": _col("text"),
            "ingested_at": _col("timestamp"),
        },
    },
    "output_reviews": {
        "key": "review_id",
        "columns": {
            "review_id": _col("id", True),
            "interaction_id": _col("id", True),
            "reviewer_kind": _col("enum", True, ("automated", "llm_judge", "human_expert")),
            "dimension": _col("enum", True),
            "verdict": _col("enum", True, ("pass", "fail")),
            "score": _col("float"),
            "severity": _col("enum", False, ("low", "medium", "high", "critical")),
            "reviewed_at": _col("timestamp", True),
            "reviewer_id": _col("text"),
        },
    },
    "users": {
        "key": "user_id",
        "columns": {
            "user_id": _col("id", True),
            "signed_up_at": _col("timestamp"),
            "segment": _col("id"),
            "is_internal": _col("bool"),
            "ai_access": _col("enum", False, ("treatment", "holdout")),
        },
    },
    "infra_costs": {
        "key": None,
        "columns": {
            "cost_date": _col("date", True),
            "feature": _col("id"),
            "model": _col("id"),
            "cost_kind": _col("enum", True),
            "cost_usd": _col("float", True, lo=0),
        },
    },
}

ROLE_INTERVENTION_ALWAYS = {"escalated", "manual_fallback"}
ROLE_CORRECTIVE_ALWAYS = {
    "output_rejected", "regenerated", "reprompted", "escalated",
    "manual_fallback", "feedback_negative",
}
ROLE_SUCCESS = {"output_accepted", "output_verified"}
TIER1_KINDS = {"automated": 0, "llm_judge": 1}  # tie on time: llm_judge wins

# --------------------------------------------------------------------------
# Cleaning: trimming, type parsing, validation
# --------------------------------------------------------------------------

_WS = " \t\n\r\f\v"


class Violation(Exception):
    """A value that breaks the contract (wrong type, enum, range)."""


def trim(s: str) -> str:
    return s.strip(_WS)


_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def to_utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(tzinfo=None)


def parse_timestamp_text(s: str) -> dt.datetime:
    m = _TS_RE.match(s)
    if not m:
        raise Violation(f"unparseable timestamp {s!r}")
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        value = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
    except ValueError as exc:
        raise Violation(f"unparseable timestamp {s!r}") from exc
    if off and off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        digits = off[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:4] or 0)
        if oh > 23 or om > 59:
            raise Violation(f"bad offset {s!r}")
        value = value - sign * dt.timedelta(hours=oh, minutes=om)
    return value


def parse_value(value, kind: str):
    """Return the cleaned value (None = missing) or raise Violation."""
    if value is None:
        return None
    if isinstance(value, str):
        text = trim(value)
        if text == "":
            return None
    else:
        text = None

    if kind == "id" or kind == "text":
        return value if isinstance(value, str) else str(value)
    if kind == "enum":
        return (text if text is not None else str(value)).lower()
    if kind == "timestamp":
        if text is not None:
            return parse_timestamp_text(text)
        if isinstance(value, dt.datetime):
            return to_utc_naive(value)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        raise Violation(f"not a timestamp: {value!r}")
    if kind == "date":
        if text is not None:
            m = _DATE_RE.match(text)
            if not m:
                raise Violation(f"unparseable date {text!r}")
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                raise Violation(f"unparseable date {text!r}") from exc
        if isinstance(value, dt.datetime):
            return to_utc_naive(value).date()
        if isinstance(value, dt.date):
            return value
        raise Violation(f"not a date: {value!r}")
    if kind == "int":
        if text is not None:
            if not _INT_RE.match(text):
                raise Violation(f"not an integer: {text!r}")
            return int(text)
        if isinstance(value, bool):
            raise Violation("boolean in an integer column")
        if isinstance(value, int):
            return value
        if isinstance(value, (float, Decimal)):
            if not math.isfinite(float(value)) or value != int(value):
                raise Violation(f"not an integer: {value!r}")
            return int(value)
        raise Violation(f"not an integer: {value!r}")
    if kind == "float":
        if text is not None:
            if not _FLOAT_RE.match(text):
                raise Violation(f"not a number: {text!r}")
            result = float(text)
        elif isinstance(value, bool):
            raise Violation("boolean in a numeric column")
        elif isinstance(value, (int, float, Decimal)):
            result = float(value)
        else:
            raise Violation(f"not a number: {value!r}")
        if not math.isfinite(result):
            raise Violation(f"not a finite number: {value!r}")
        return result
    if kind == "bool":
        if text is not None:
            low = text.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise Violation(f"not a boolean: {text!r}")
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise Violation(f"not a boolean: {value!r}")
    raise ValueError(kind)


def clean_row(table: str, row: dict) -> tuple[dict, list[str]]:
    """Parse one raw row by the contract: (values, violations)."""
    values, violations = {}, []
    for name, (kind, required, enum, lo, hi) in CONTRACT[table]["columns"].items():
        try:
            v = parse_value(row.get(name), kind)
        except Violation as exc:
            violations.append(f"{name}: {exc}")
            values[name] = None
            continue
        if v is None:
            if required:
                violations.append(f"{name}: missing")
        else:
            if enum is not None and v not in enum:
                violations.append(f"{name}: {v!r} not in enum")
            if lo is not None and v < lo:
                violations.append(f"{name}: {v!r} < {lo}")
            if hi is not None and v > hi:
                violations.append(f"{name}: {v!r} > {hi}")
        values[name] = v
    if table == "interactions":
        req, resp = values.get("requested_at"), values.get("responded_at")
        if req is not None and resp is not None and resp < req:
            violations.append("responded_at before requested_at")
    return values, violations


def dedup_sort_key(table: str, row: dict):
    """ingested_at of a raw copy; null and unparseable sort oldest.

    Only tables whose contract has ingested_at use it; elsewhere every copy
    ties (and is, by the spec, identical)."""
    if "ingested_at" not in CONTRACT[table]["columns"]:
        return (False, dt.datetime.min)
    try:
        ts = parse_value(row.get("ingested_at"), "timestamp")
    except Violation:
        ts = None
    return (ts is not None, ts or dt.datetime.min)


def latest_copy_wins(table: str, rows: list[dict]) -> list[dict]:
    key = CONTRACT[table]["key"]
    if key is None:
        return list(rows)
    winners: dict = {}
    keyless = []
    for row in rows:
        try:
            k = parse_value(row.get(key), "id")
        except Violation:
            k = None
        if k is None:
            keyless.append(row)  # quarantined by the required rule
            continue
        best = winners.get(k)
        if best is None or dedup_sort_key(table, row) > dedup_sort_key(table, best):
            winners[k] = row
    return list(winners.values()) + keyless


def staged(table: str, rows: list[dict] | None) -> list[dict]:
    """Staging model: dedup (latest ingested_at wins), then validate the winner."""
    out = []
    for row in latest_copy_wins(table, rows or []):
        values, violations = clean_row(table, row)
        if not violations:
            out.append(values)
    return out


# --------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------


def load_event_roles(seeds_dir: Path) -> dict[str, str]:
    roles = {}
    with open(Path(seeds_dir) / "event_roles.csv", newline="") as f:
        for r in csv.DictReader(f):
            roles[trim(r["event_type"]).lower()] = trim(r["role"]).lower()
    return roles


def load_model_pricing(seeds_dir: Path) -> dict[str, list[tuple[dt.date, float, float]]]:
    prices = defaultdict(list)
    with open(Path(seeds_dir) / "model_pricing.csv", newline="") as f:
        for r in csv.DictReader(f):
            prices[r["model"]].append(
                (
                    dt.date.fromisoformat(trim(r["effective_from"])),
                    float(r["input_usd_per_1m_tokens"]),
                    float(r["output_usd_per_1m_tokens"]),
                )
            )
    for rows in prices.values():
        rows.sort()
    return prices


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


def quantile_cont(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy default, quantile_cont)."""
    if not values:
        return None
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def ratio(num, den) -> float | None:
    return None if not den else num / den


def wilson_interval(k: int, n: int, z: float) -> tuple[float, float] | None:
    if n == 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return center - half, center + half


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, z: float):
    """Newcombe hybrid score interval for p1 - p2 (fractions)."""
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z)
    l2, u2 = wilson_interval(k2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def iso_monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


# --------------------------------------------------------------------------
# Domain model
# --------------------------------------------------------------------------


def interaction_order(i: dict):
    attempt = i["attempt"] if i["attempt"] is not None else 1
    return (i["requested_at"], attempt, i["interaction_id"])


def internal_user_ids(users: list[dict]) -> set[str]:
    return {u["user_id"] for u in users if u["is_internal"] is True}


def build_tasks(interactions: list[dict]) -> dict[str, dict]:
    by_task = defaultdict(list)
    for i in interactions:
        by_task[i["task_id"]].append(i)
    tasks = {}
    for task_id, its in by_task.items():
        its.sort(key=interaction_order)
        first = its[0]
        tasks[task_id] = {
            "task_id": task_id,
            "interactions": its,
            "outputs": [i for i in its if i["status"] == "ok"],
            "first": first,
            "feature": first["feature"],
            "model": first["model"],
            "user_id": first["user_id"],
            "events": [],
        }
    return tasks


def event_task_id(ev: dict, tasks: dict, interactions_by_id: dict) -> str | None:
    if ev["task_id"] is not None and ev["task_id"] in tasks:
        return ev["task_id"]
    i = interactions_by_id.get(ev["interaction_id"])
    return i["task_id"] if i is not None else None


def concerned_interaction(ev: dict, task: dict | None, interactions_by_id: dict) -> dict | None:
    named = interactions_by_id.get(ev["interaction_id"])
    if named is not None:
        return named
    if task is None:
        return None
    outputs = task["outputs"]
    if not outputs:
        return task["first"]  # task's first query when it has no output
    before = [o for o in outputs if o["requested_at"] <= ev["occurred_at"]]
    return before[-1] if before else outputs[0]


def is_substantive_edit(ev: dict, ratio_threshold: float) -> bool:
    if ev["role"] != "output_edited":
        return False
    ed, oc = ev["edit_distance"], ev["output_chars"]
    if ed is None or oc is None or oc == 0:
        return True
    return ed / oc >= ratio_threshold


def is_intervention(ev: dict, ratio_threshold: float) -> bool:
    return ev["role"] in ROLE_INTERVENTION_ALWAYS or is_substantive_edit(ev, ratio_threshold)


def is_corrective(ev: dict, ratio_threshold: float) -> bool:
    return ev["role"] in ROLE_CORRECTIVE_ALWAYS or is_substantive_edit(ev, ratio_threshold)


def adjudicate(reviews: list[dict]) -> dict | None:
    """Final review of one output and dimension (tier 2, else tier 1)."""
    tier2 = [r for r in reviews if r["reviewer_kind"] == "human_expert"]
    if tier2:
        return max(tier2, key=lambda r: (r["reviewed_at"], r["review_id"]))
    tier1 = [r for r in reviews if r["reviewer_kind"] in TIER1_KINDS]
    if tier1:
        return max(
            tier1,
            key=lambda r: (r["reviewed_at"], TIER1_KINDS[r["reviewer_kind"]], r["review_id"]),
        )
    return None


def query_cost(i: dict, pricing: dict) -> float:
    if i["cost_usd"] is not None:
        return i["cost_usd"]
    day = i["requested_at"].date()
    in_force = [p for p in pricing.get(i["model"], []) if p[0] <= day]
    if not in_force:
        return 0.0
    _, in_price, out_price = max(in_force, key=lambda p: p[0])
    return ((i["input_tokens"] or 0) * in_price + (i["output_tokens"] or 0) * out_price) / 1e6


def cell_of(i: dict) -> tuple:
    return (i["requested_at"].date(), i["feature"], i["model"])


# --------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------


def compute(raw: dict, seeds_dir: Path, vars: dict | None = None) -> dict:
    v = dict(DEFAULT_VARS)
    if vars:
        v.update(vars)
        if "wilson_z" in vars and "z" not in vars:
            v["z"] = vars["wilson_z"]
    edit_ratio = float(v["substantive_edit_ratio"])
    maturity = dt.timedelta(hours=float(v["task_maturity_hours"]))
    window = dt.timedelta(minutes=float(v["behavioral_window_minutes"]))
    z = float(v["z"])

    roles = load_event_roles(seeds_dir)
    pricing = load_model_pricing(seeds_dir)

    # ---- staging + internal exclusion
    users = staged("users", raw.get("users"))
    internal = internal_user_ids(users)
    interactions = [i for i in staged("interactions", raw.get("interactions")) if i["user_id"] not in internal]
    events = [e for e in staged("user_events", raw.get("user_events")) if e["user_id"] not in internal]
    reviews = staged("output_reviews", raw.get("output_reviews"))
    infra = staged("infra_costs", raw.get("infra_costs"))
    for e in events:
        e["role"] = roles.get(e["event_type"], "activity")

    interactions_by_id = {i["interaction_id"]: i for i in interactions}
    tasks = build_tasks(interactions)
    latest_request = max((i["requested_at"] for i in interactions), default=None)

    # ---- event attribution
    for e in events:
        tid = event_task_id(e, tasks, interactions_by_id)
        e["task"] = tasks[tid] if tid is not None else None
        e["concerns"] = concerned_interaction(e, e["task"], interactions_by_id)
        if e["task"] is not None:
            e["task"]["events"].append(e)

    # ---- adjudication (final verdict per ok output and dimension)
    reviews_by_output_dim = defaultdict(list)
    for r in reviews:
        i = interactions_by_id.get(r["interaction_id"])
        if i is not None and i["status"] == "ok":
            reviews_by_output_dim[(r["interaction_id"], r["dimension"])].append(r)
    final_hallucination = {}
    for (iid, dim), rs in reviews_by_output_dim.items():
        if dim == "hallucination":
            final_hallucination[iid] = adjudicate(rs)["verdict"]

    def hallucinated(i: dict) -> bool:
        return final_hallucination.get(i["interaction_id"]) == "fail"

    # ---- task start, maturity, completion, TTA
    for t in tasks.values():
        starts = [t["first"]["requested_at"]] + [
            e["occurred_at"] for e in t["events"] if e["role"] == "task_started"
        ]
        t["start"] = min(starts)
        t["mature"] = t["start"] + maturity <= latest_request
        t["has_intervention"] = any(is_intervention(e, edit_ratio) for e in t["events"])
        t["completed"] = any(e["role"] == "task_completed" for e in t["events"]) and not t["has_intervention"]
        successes = [
            e["occurred_at"] for e in t["events"]
            if e["role"] in ROLE_SUCCESS
            and e["concerns"] is not None
            and e["concerns"]["status"] == "ok"
            and not hallucinated(e["concerns"])
        ]
        t["tta_s"] = (min(successes) - t["start"]).total_seconds() if successes else None

    # ---- output-level: accepted, valid
    events_concerning = defaultdict(list)
    for e in events:
        if e["concerns"] is not None:
            events_concerning[e["concerns"]["interaction_id"]].append(e)

    def behaviourally_valid(o: dict) -> bool:
        mine = events_concerning[o["interaction_id"]]
        success_times = [e["occurred_at"] for e in mine if e["role"] in ROLE_SUCCESS]
        if not success_times:
            return False
        t0 = min(success_times)
        related = {id(e): e for e in mine}
        for e in tasks[o["task_id"]]["events"]:
            related[id(e)] = e
        return not any(
            is_corrective(e, edit_ratio) and t0 <= e["occurred_at"] <= t0 + window
            for e in related.values()
        )

    # ---- metrics_daily cells
    cells = defaultdict(lambda: {
        "queries": 0, "outputs": 0, "errors": 0, "refusals": 0, "cost": 0.0,
        "latencies": [], "tasks": 0, "tasks_mature": 0, "tasks_completed": 0, "tta": [],
        "reviewed": 0, "hallucinated": 0, "interventions": 0, "valid": 0, "accepted": 0,
    })

    for i in interactions:
        c = cells[cell_of(i)]
        c["queries"] += 1
        c["cost"] += query_cost(i, pricing)
        if i["status"] in ("error", "timeout"):
            c["errors"] += 1
        if i["status"] in ("refused", "filtered"):
            c["refusals"] += 1
        if i["status"] == "ok":
            c["outputs"] += 1
            if i["responded_at"] is not None:
                c["latencies"].append((i["responded_at"] - i["requested_at"]).total_seconds() * 1000.0)
            if i["interaction_id"] in final_hallucination:
                c["reviewed"] += 1
                if hallucinated(i):
                    c["hallucinated"] += 1
            mine = events_concerning[i["interaction_id"]]
            if any(e["role"] == "output_accepted" for e in mine):
                c["accepted"] += 1
            if not hallucinated(i) and behaviourally_valid(i):
                c["valid"] += 1

    for t in tasks.values():
        c = cells[(t["start"].date(), t["feature"], t["model"])]
        c["tasks"] += 1
        if t["mature"]:
            c["tasks_mature"] += 1
            if t["completed"]:
                c["tasks_completed"] += 1
            if t["tta_s"] is not None:
                c["tta"].append(t["tta_s"])

    for e in events:
        if e["concerns"] is not None:
            c = cells[cell_of(e["concerns"])]
            if is_intervention(e, edit_ratio):
                c["interventions"] += 1

    for r in reviews:  # reviews only ever touch existing query cells; kept for row existence
        i = interactions_by_id.get(r["interaction_id"])
        if i is not None:
            cells[cell_of(i)]

    allocate_infra_costs(infra, cells)

    metrics_daily = []
    for key in sorted(cells):
        c = cells[key]
        wil = wilson_interval(c["hallucinated"], c["reviewed"], z)
        tta_tasks = len(c["tta"])
        cost = float(c["cost"])
        metrics_daily.append({
            "metric_date": key[0],
            "feature": key[1],
            "model": key[2],
            "queries": c["queries"],
            "outputs": c["outputs"],
            "tasks": c["tasks"],
            "tasks_mature": c["tasks_mature"],
            "tasks_completed": c["tasks_completed"],
            "tcr": ratio(c["tasks_completed"], c["tasks_mature"]),
            "reviewed_outputs": c["reviewed"],
            "hallucinated_outputs": c["hallucinated"],
            "hallucination_rate": ratio(c["hallucinated"], c["reviewed"]),
            "hr_ci_low": wil[0] if wil else None,
            "hr_ci_high": wil[1] if wil else None,
            "review_coverage": ratio(c["reviewed"], c["outputs"]),
            "tta_tasks": tta_tasks,
            "tta_p50_s": quantile_cont(c["tta"], 0.5),
            "tta_p90_s": quantile_cont(c["tta"], 0.9),
            "tta_coverage": ratio(tta_tasks, c["tasks_mature"]),
            "interventions": c["interventions"],
            "hitl_f": None if not c["queries"] else 100.0 * c["interventions"] / c["queries"],
            "total_cost_usd": cost,
            "valid_outputs": c["valid"],
            "cpvo": ratio(cost, c["valid"]),
            "accepted_outputs": c["accepted"],
            "acceptance_rate": ratio(c["accepted"], c["outputs"]),
            "latency_p50_ms": quantile_cont(c["latencies"], 0.5),
            "latency_p95_ms": quantile_cont(c["latencies"], 0.95),
            "latency_p99_ms": quantile_cont(c["latencies"], 0.99),
            "error_rate": ratio(c["errors"], c["queries"]),
            "refusal_rate": ratio(c["refusals"], c["queries"]),
        })

    retention_weekly = compute_retention(interactions, events, users, internal, z)
    return {"metrics_daily": metrics_daily, "retention_weekly": retention_weekly}


def allocate_infra_costs(infra: list[dict], cells: dict) -> None:
    """Exact rows to their cell; shared rows split by query counts in scope."""
    query_cells = [(k, c["queries"]) for k, c in list(cells.items()) if c["queries"] > 0]
    for row in infra:
        day, feature, model = row["cost_date"], row["feature"], row["model"]
        if feature is not None and model is not None:
            cells[(day, feature, model)]["cost"] += row["cost_usd"]
            continue
        scope = [
            (k, q) for k, q in query_cells
            if k[0] == day
            and (feature is None or k[1] == feature)
            and (model is None or k[2] == model)
        ]
        total = sum(q for _, q in scope)
        if total == 0:
            continue  # unallocated
        for k, q in scope:
            cells[k]["cost"] += row["cost_usd"] * q / total


# --------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------


def compute_retention(interactions, events, users, internal, z) -> list[dict]:
    active_days = defaultdict(set)        # user -> UTC dates with any event or query
    query_days = defaultdict(set)         # (user, feature) -> UTC dates with a query
    feature_weeks = set()                 # (week, feature) with a query
    for i in interactions:
        d = i["requested_at"].date()
        active_days[i["user_id"]].add(d)
        query_days[(i["user_id"], i["feature"])].add(d)
        feature_weeks.add((iso_monday(d), i["feature"]))
    for e in events:
        active_days[e["user_id"]].add(e["occurred_at"].date())
    if not active_days:
        return []
    last_day = max(max(ds) for ds in active_days.values())
    one, seven = dt.timedelta(days=1), dt.timedelta(days=7)

    def eligible(anchor):
        return anchor + seven <= last_day

    def retained(user, anchor):
        return any(anchor + one <= d <= anchor + seven for d in active_days[user])

    # causal ITT cohorts by first active week
    causal = defaultdict(lambda: {"treatment": [0, 0], "holdout": [0, 0]})
    for u in users:
        arm = u["ai_access"]
        if arm is None or u["user_id"] in internal or not active_days.get(u["user_id"]):
            continue
        anchor = min(active_days[u["user_id"]])
        if not eligible(anchor):
            continue
        counts = causal[iso_monday(anchor)][arm]
        counts[0] += 1
        counts[1] += int(retained(u["user_id"], anchor))

    rows = []
    for week, feature in sorted(feature_weeks):
        week_days = {week + dt.timedelta(days=k) for k in range(7)}
        ai_anchor, non_ai_anchor = {}, {}
        for user, days in active_days.items():
            in_week = days & week_days
            if not in_week:
                continue
            q_in_week = query_days.get((user, feature), set()) & week_days
            if q_in_week:
                ai_anchor[user] = min(q_in_week)
            else:
                non_ai_anchor[user] = min(in_week)
        ai_n = ai_k = non_n = non_k = 0
        for user, anchor in ai_anchor.items():
            if eligible(anchor):
                ai_n += 1
                ai_k += int(retained(user, anchor))
        for user, anchor in non_ai_anchor.items():
            if eligible(anchor):
                non_n += 1
                non_k += int(retained(user, anchor))
        ai_rate, non_rate = ratio(ai_k, ai_n), ratio(non_k, non_n)
        delta = None if ai_rate is None or non_rate is None else 100.0 * (ai_rate - non_rate)
        ci = newcombe_interval(ai_k, ai_n, non_k, non_n, z)
        cw = causal.get(week, {"treatment": [0, 0], "holdout": [0, 0]})
        (t_n, t_k), (h_n, h_k) = cw["treatment"], cw["holdout"]
        t_rate, h_rate = ratio(t_k, t_n), ratio(h_k, h_n)
        rows.append({
            "cohort_week": week,
            "feature": feature,
            "ai_users": ai_n,
            "ai_users_retained": ai_k,
            "ai_retention_7d": ai_rate,
            "non_ai_users": non_n,
            "non_ai_users_retained": non_k,
            "non_ai_retention_7d": non_rate,
            "retention_delta_pts": delta,
            "delta_ci_low": 100.0 * ci[0] if ci else None,
            "delta_ci_high": 100.0 * ci[1] if ci else None,
            "treatment_users": t_n,
            "treatment_retained": t_k,
            "holdout_users": h_n,
            "holdout_retained": h_k,
            "causal_delta_pts": None if t_rate is None or h_rate is None else 100.0 * (t_rate - h_rate),
        })
    return rows
