"""Fast tests of the demo generator itself (no dbt): determinism, volume, formats,
planted malformed rows, and the planted rates measured straight from the files.

The empirical rates are computed here in plain Python/numpy from the files as
written (deduplicated by id, internal users and the outage day left out), with
the simplifications the generator's design allows (a task-only event concerns
the task's last query; no maturity cut, since every task's events are on its
own day). Tolerances: 4 binomial standard deviations from the actual
denominators, as in test_demo_planted.py (a correct generator fails one check
with probability ~6e-5).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from aimetrics import PROJECT_DIR, demo
from aimetrics.demo import PLANTED, expected_rates

SCALE = 40_000
SEED = 11
Z = 4.0
OUTAGE = date.fromisoformat(PLANTED["outage"]["date"])


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_gen")
    files = demo.generate(scale=SCALE, seed=SEED, out_dir=out)
    return {"files": files, "dir": out, "truth": demo.load_truth(out)}


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = demo.generate(scale=3_000, seed=5, out_dir=tmp_path / "a")
    b = demo.generate(scale=3_000, seed=5, out_dir=tmp_path / "b")
    assert [p.name for ps in a.values() for p in ps] == [p.name for ps in b.values() for p in ps]
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert da == db
    demo.generate(scale=3_000, seed=6, out_dir=tmp_path / "c")
    dc = _digest(tmp_path / "c")
    assert dc["interactions/part-00000.parquet"] != da["interactions/part-00000.parquet"]
    # regenerating into a used directory replaces the files
    demo.generate(scale=3_000, seed=5, out_dir=tmp_path / "c")
    assert _digest(tmp_path / "c") == da


def test_volume_and_formats(gen):
    files, truth = gen["files"], gen["truth"]
    assert set(files) == {"interactions", "user_events", "output_reviews", "eval_results", "users", "infra_costs"}
    # "about scale": the last user's queries overshoot by a handful at most
    assert SCALE <= truth["interactions_generated"] <= SCALE + 100
    rows = sum(pq.read_metadata(p).num_rows for p in files["interactions"])
    assert rows == truth["interactions_rows"]
    suffixes = {p.suffix for ps in files.values() for p in ps}
    assert suffixes == {".parquet", ".csv", ".jsonl"}
    assert [p.suffix for p in files["users"]] == [".csv"]
    assert [p.suffix for p in files["infra_costs"]] == [".jsonl"]
    mobile = next(p for p in files["user_events"] if p.suffix == ".csv").read_text()
    assert "+02:00" in mobile
    human = next(p for p in files["output_reviews"] if p.suffix == ".jsonl").read_text()
    assert "+02:00" in human and 'Z"' in human
    for ps in files.values():
        for p in ps:
            assert p.exists() and p.stat().st_size > 0


# ---------------------------------------------------------------------------
# reading the files back


def _utc(value) -> datetime | None:
    """Naive UTC datetime of a Parquet timestamp or an ISO text with or without offset."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    t = datetime.fromisoformat(value)
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _read(paths: list[Path]) -> list[dict]:
    rows: list[dict] = []
    for p in paths:
        if p.suffix == ".parquet":
            rows += pq.read_table(p).to_pylist()
        elif p.suffix == ".csv":
            with open(p, newline="") as f:
                rows += [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]
        else:
            rows += [json.loads(line) for line in p.read_text().splitlines()]
    return rows


def _read_prefixed(paths: list[Path], column: str, prefix: str) -> list[dict]:
    """Rows whose `column` starts with `prefix` (filtered in Arrow for Parquet files)."""
    rows: list[dict] = []
    for p in paths:
        if p.suffix == ".parquet":
            t = pq.read_table(p)
            rows += t.filter(pc.fill_null(pc.starts_with(t.column(column), prefix), False)).to_pylist()
        else:
            rows += [r for r in _read([p]) if (r[column] or "").startswith(prefix)]
    return rows


def _latest(rows: list[dict], key: str) -> dict[str, dict]:
    """Per id, the copy with the latest ingested_at (null oldest)."""
    out: dict[str, dict] = {}
    for r in rows:
        k = r[key]
        ing = _utc(r.get("ingested_at")) or datetime.min
        if k not in out or ing >= out[k]["_ing"]:
            out[k] = {**r, "_ing": ing}
    return out


@pytest.fixture(scope="module")
def data(gen):
    files = gen["files"]
    users = _read(files["users"])
    internal = {u["user_id"] for u in users if u["is_internal"] == "true"}
    inter = {k: r for k, r in _latest(_read(files["interactions"]), "interaction_id").items()
             if k and not k.startswith("i_bad_") and r["user_id"] not in internal}
    for r in inter.values():
        r["status"] = r["status"].strip().lower()
        r["day"] = r["requested_at"].date()
    tasks: dict[str, list[dict]] = defaultdict(list)
    for r in inter.values():
        tasks[r["task_id"]].append(r)
    for qs in tasks.values():
        qs.sort(key=lambda r: r["attempt"])
    with open(PROJECT_DIR / "seeds" / "event_roles.csv", newline="") as f:
        roles = {r["event_type"].strip().lower(): r["role"].strip().lower() for r in csv.DictReader(f)}
    events = []
    for e in _latest(_read(files["user_events"]), "event_id").values():
        if e["event_id"].startswith("e_bad_") or e["user_id"] in internal:
            continue
        e["t"] = _utc(e["occurred_at"])
        e["role"] = roles.get(e["event_type"].strip().lower(), "activity")
        for c in ("edit_distance", "output_chars"):
            e[c] = None if e[c] is None else int(e[c])
        q = inter.get(e["interaction_id"])
        if q is None and e["task_id"] in tasks:
            q = tasks[e["task_id"]][-1]
        e["q"] = q
        events.append(e)
    reviews = [r for r in _read(files["output_reviews"])
               if not r["review_id"].startswith("r_bad_") and r["interaction_id"] in inter]
    return {"inter": inter, "tasks": tasks, "events": events, "reviews": reviews, "internal": internal}


INTERVENTION_ROLES = {"escalated", "manual_fallback"}


def _is_intervention(e: dict) -> bool:
    if e["role"] in INTERVENTION_ROLES:
        return True
    if e["role"] == "output_edited":
        ed, oc = e["edit_distance"], e["output_chars"]
        return ed is None or oc is None or ed / oc >= 0.10
    return False


def _check(label: str, obs: list[tuple], key: str) -> None:
    """obs: (cell, day, numerator, denominator); planted p from expected_rates(cell, day)[key]."""
    x = n = e = var = 0.0
    for cell, day, num, den in obs:
        p = expected_rates(*cell, day)[key]
        x, n, e, var = x + num, n + den, e + den * p, var + den * p * (1 - p)
    assert abs(x - e) <= Z * math.sqrt(var), f"{label}: {x / n:.4f} vs planted {e / n:.4f}"


def _per_cell(items, fn_num, fn_den):
    """Group (cell, day) -> [num, den] over items with keys 'cell' and 'day'."""
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0])
    for it in items:
        a = acc[(it["cell"], it["day"])]
        a[0] += fn_num(it)
        a[1] += fn_den(it)
    by_cell: dict[tuple, list] = defaultdict(list)
    for (cell, day), (num, den) in acc.items():
        by_cell[cell].append((cell, day, num, den))
    return by_cell


@pytest.fixture(scope="module")
def per_query(data):
    """One record per query (outage day left out) with its events and final hallucination verdict."""
    ev_by_q: dict[str, list[dict]] = defaultdict(list)
    for e in data["events"]:
        if e["q"] is not None:
            ev_by_q[e["q"]["interaction_id"]].append(e)
    # adjudication: latest human_expert verdict, else latest tier-1 (llm_judge wins a tie on time, then
    # the larger review_id)
    best: dict[str, tuple] = {}
    for r in data["reviews"]:
        if (r["dimension"] or "").strip().lower() != "hallucination":
            continue
        kind = r["reviewer_kind"].strip().lower()
        rank = (1 if kind == "human_expert" else 0, _utc(r["reviewed_at"]), kind == "llm_judge", r["review_id"])
        if r["interaction_id"] not in best or rank > best[r["interaction_id"]][0]:
            best[r["interaction_id"]] = (rank, r["verdict"].strip().lower() == "fail")
    out = []
    for q in data["inter"].values():
        if q["day"] == OUTAGE:
            continue
        out.append({"cell": (q["feature"], q["model"]), "day": q["day"], "q": q,
                    "events": ev_by_q[q["interaction_id"]],
                    "verdict": best[q["interaction_id"]][1] if q["interaction_id"] in best else None})
    return out


CELLS = [tuple(c.split("/")) for c in PLANTED["cells"]]


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_query_level_rates_in_the_files(per_query, cell):
    qs = [r for r in per_query if r["cell"] == cell]
    outs = [r for r in qs if r["q"]["status"] == "ok"]
    reviewed = [r for r in outs if r["verdict"] is not None]
    _check(f"{cell} acceptance", _per_cell(outs, lambda r: any(e["role"] == "output_accepted" for e in r["events"]),
                                           lambda r: 1)[cell], "acceptance_rate")
    _check(f"{cell} review coverage", _per_cell(outs, lambda r: r["verdict"] is not None, lambda r: 1)[cell],
           "review_coverage")
    _check(f"{cell} HR", _per_cell(reviewed, lambda r: r["verdict"], lambda r: 1)[cell], "hr")
    _check(f"{cell} error rate", _per_cell(qs, lambda r: r["q"]["status"] in ("error", "timeout"),
                                           lambda r: 1)[cell], "error_rate")
    # HitL-F: intervention events per query, variance from the planted distribution
    x = sum(sum(_is_intervention(e) for e in r["events"]) for r in qs)
    e = sum(expected_rates(*cell, r["day"])["hitl_f"] / 100 for r in qs)
    var = sum(expected_rates(*cell, r["day"])["interventions_per_query_var"] for r in qs)
    assert abs(x - e) <= Z * math.sqrt(var), (cell, 100 * x / len(qs), 100 * e / len(qs))


def _behaviourally_valid(q: dict, task_events: list[dict]) -> bool:
    """Accepted or verified, and no corrective event of the output or its task in [t, t + 5 min]."""
    times = [e["t"] for e in task_events if e["q"] is q and e["role"] in ("output_accepted", "output_verified")]
    if not times:
        return False
    t = min(times)
    for e in task_events:
        corrective = (e["role"] in ("output_rejected", "regenerated", "reprompted", "escalated", "manual_fallback",
                                    "feedback_negative") or (e["role"] == "output_edited" and _is_intervention(e)))
        if corrective and t <= e["t"] <= t + timedelta(minutes=5):
            return False
    return True


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_task_level_rates_in_the_files(data, cell):
    by_task: dict[str, list[dict]] = defaultdict(list)
    for e in data["events"]:
        if e["q"] is not None:
            by_task[e["q"]["task_id"]].append(e)
    tasks, valid = [], []
    for task_id, qs in data["tasks"].items():
        first = qs[0]
        if (first["feature"], first["model"]) != cell or first["day"] == OUTAGE:
            continue
        evs = by_task[task_id]
        # every event of a task happens on the task's day (tasks never cross midnight)
        assert all(e["t"].date() == first["day"] for e in evs), task_id
        completed = any(e["role"] == "task_completed" for e in evs)
        clean = not any(_is_intervention(e) for e in evs)
        tasks.append({"cell": cell, "day": first["day"], "done": completed and clean})
        for q in qs:
            valid.append({"cell": cell, "day": q["day"],
                          "valid": q["status"] == "ok" and _behaviourally_valid(q, evs)})
    _check(f"{cell} TCR", _per_cell(tasks, lambda r: r["done"], lambda r: 1)[cell], "tcr")
    # behavioural validity alone: P(valid kind) without the review condition
    bv = _per_cell(valid, lambda r: r["valid"], lambda r: 1)[cell]
    x = sum(o[2] for o in bv)
    e = var = 0.0
    for _, day, _, den in bv:
        p = _behaviourally_valid_probability(cell, day)
        e, var = e + den * p, var + den * p * (1 - p)
    assert abs(x - e) <= Z * math.sqrt(var), (cell, x, e)


def _behaviourally_valid_probability(cell, day) -> float:
    status, h, r0, r1, _ = demo._regime_params(*cell, demo.day_index(day) // 7)
    return float(status[0] * sum(((1 - h) * r0[k] + h * r1[k]) for k in demo.BEHAVIOURALLY_VALID_KINDS))


def test_outage_day_events_are_missing(gen, data):
    truth = gen["truth"]["outage"]
    n, kept = truth["events_generated"], truth["events_kept"]
    keep = PLANTED["outage"]["expected_event_share_kept"]
    assert abs(kept - n * keep) <= Z * math.sqrt(n * keep * (1 - keep))
    per_day = defaultdict(int)
    for e in data["events"]:
        per_day[e["t"].date()] += 1
    neighbours = [per_day[OUTAGE + timedelta(days=d)] for d in (-7, -1, 1, 7)]
    assert per_day[OUTAGE] < 0.25 * min(neighbours)


def test_causal_retention_in_the_files(gen, data):
    """First activity and 7-day return per randomized user, straight from the files."""
    users = {u["user_id"]: u for u in _read(gen["files"]["users"]) if u["user_id"] and u["user_id"].strip()}
    days: dict[str, set] = defaultdict(set)
    for q in data["inter"].values():
        days[q["user_id"]].add(q["day"])
    for e in data["events"]:
        if e["t"] is not None:
            days[e["user_id"]].add(e["t"].date())
    last = max(max(d) for d in days.values())
    skip = {date.fromisoformat(w) for w in PLANTED["retention"]["outage_affected_cohort_weeks"]}
    counts = {"treatment": [0, 0], "holdout": [0, 0]}
    for u, ds in days.items():
        arm = (users.get(u, {}).get("ai_access") or "").strip().lower()
        if arm not in counts:
            continue
        a = min(ds)
        if a + timedelta(days=7) > last or a - timedelta(days=a.weekday()) in skip:
            continue
        counts[arm][0] += 1
        counts[arm][1] += any(a + timedelta(days=k) in ds for k in range(1, 8))
    r = PLANTED["retention"]
    for arm, p in (("treatment", r["treatment_retention_7d"]), ("holdout", r["holdout_retention_7d"])):
        n, x = counts[arm]
        assert abs(x - n * p) <= Z * math.sqrt(n * p * (1 - p)), (arm, x / n, p)
    # holdout users never send a query
    holdout = {u for u, v in users.items() if (v["ai_access"] or "").strip().lower() == "holdout"}
    assert not holdout & {q["user_id"] for q in data["inter"].values()}


# ---------------------------------------------------------------------------
# malformed rows


def test_planted_malformed_rows_are_in_the_files(gen):
    files = gen["files"]
    m = PLANTED["malformed"]

    bad = _read_prefixed(files["interactions"], "interaction_id", "i_bad_")
    winners = _latest(bad, "interaction_id")
    assert len(winners) == PLANTED["quarantine_rows"]["interactions"]
    w = list(winners.values())
    assert sum(r["task_id"] is None for r in w) == m["interactions"]["missing_required:task_id"]
    assert sum((r["user_id"] or "").strip() == "" for r in w) == m["interactions"]["missing_required:user_id (blank)"]
    assert sum(r["status"] not in demo.STATUSES for r in w) == m["interactions"]["invalid_enum:status"]
    assert sum((r["output_tokens"] or 0) < 0 for r in w) == m["interactions"]["out_of_range:output_tokens < 0"]
    assert sum((r["confidence"] or 0) > 1 for r in w) == (
        m["interactions"]["out_of_range:confidence > 1"]
        + m["interactions"]["out_of_range:confidence > 1 (the winning copy; its older copy is valid)"])
    assert sum(r["responded_at"] is not None and r["responded_at"] < r["requested_at"] for r in w) == \
        m["interactions"]["out_of_range:responded_at < requested_at"]
    assert sum(r["attempt"] < 1 for r in w) == m["interactions"]["out_of_range:attempt < 1"]
    assert sum((r["cost_usd"] or 0) < 0 for r in w) == m["interactions"]["out_of_range:cost_usd < 0"]
    assert len(bad) == len(winners) + 1  # one phantom has an older, valid copy
    # three real interactions have an older malformed copy; their later copy wins and is valid
    inter = pa.concat_tables([pq.read_table(p, columns=["interaction_id", "status", "ingested_at"])
                              for p in files["interactions"]])
    pending = set(inter.filter(pc.equal(inter.column("status"), "pending")).column("interaction_id").to_pylist())
    assert len(pending) == PLANTED["not_quarantined"]["interactions_older_copy_malformed"]
    copies = inter.filter(pc.is_in(inter.column("interaction_id"), pa.array(sorted(pending)))).to_pylist()
    assert all(r["status"] != "pending" for r in _latest(copies, "interaction_id").values())

    events = _read_prefixed(files["user_events"], "event_id", "e_bad_")
    assert len(events) == PLANTED["quarantine_rows"]["user_events"]
    assert sum(r["occurred_at"] is None for r in events) == m["user_events"]["missing_required:occurred_at"]
    assert sum(r["edit_distance"] is not None and r["edit_distance"] < 0 for r in events) == \
        m["user_events"]["out_of_range:edit_distance < 0"]

    reviews = _read_prefixed(files["output_reviews"], "review_id", "r_bad_")
    assert len(reviews) == PLANTED["quarantine_rows"]["output_reviews"]
    assert sum(r["severity"] == "severe" for r in reviews) == m["output_reviews"]["invalid_enum:severity"]

    users = _read(files["users"])
    assert sum(r["ai_access"] == "control" for r in users) == m["users"]["invalid_enum:ai_access"]
    assert sum((r["user_id"] or "").strip() == "" for r in users) == m["users"]["missing_required:user_id (blank)"]
    ids = [r["user_id"] for r in users if (r["user_id"] or "").strip()]
    assert len(ids) == len(set(ids))

    infra = _read(files["infra_costs"])
    bad_infra = [r for r in infra if r["cost_date"] is None or r["cost_kind"] is None or r["cost_usd"] < 0]
    assert len(bad_infra) == PLANTED["quarantine_rows"]["infra_costs"]

    ev = pa.concat_tables([pq.read_table(p) for p in files["eval_results"]]).to_pylist()
    bad_eval = [r for r in ev if r["sample_index"] < 0 or r["passed"] is None]
    assert len(bad_eval) == PLANTED["quarantine_rows"]["eval_results"]
    keys = [(r["eval_run_id"], r["case_id"], r["sample_index"]) for r in ev]
    assert len(keys) - len(set(keys)) == PLANTED["not_quarantined"]["eval_results_exact_duplicates"]


# ---------------------------------------------------------------------------
# the planted structure itself


def test_planted_structure_is_consistent():
    d = PLANTED["decay"]
    for key in ("weekly_hr", "weekly_tcr"):
        diffs = np.diff(d[key])
        assert np.allclose(diffs, diffs[0], atol=1e-6), f"{key} must be linear in the week"
    assert d["hr_slope_per_week"] > 0 > d["tcr_slope_per_week"]
    r = PLANTED["retention"]
    assert r["causal_lift_pts"] == pytest.approx(100 * (r["treatment_retention_7d"] - r["holdout_retention_7d"]))
    for cell in PLANTED["cells"]:
        e = expected_rates(*cell.split("/"), "2026-08-01")
        assert 0 < e["valid_per_query"] < e["output_rate"] <= 1
        assert e["cpvo"] == pytest.approx(e["cost_per_query"] / e["valid_per_query"])
        assert 0 < e["tcr"] < 1 and 0 < e["hr"] < 0.2
    # claude-3-5-haiku's price change on 2026-07-01 (seed) moves its planted cost
    before = expected_rates("email_draft", "claude-3-5-haiku", "2026-06-30")["cost_per_query"]
    after = expected_rates("email_draft", "claude-3-5-haiku", "2026-07-01")["cost_per_query"]
    assert after < before
    assert demo.price_on(PLANTED["unpriced_model"], "2026-07-01") is None
    assert sum(PLANTED["quarantine_rows"].values()) == sum(sum(v.values()) for v in PLANTED["malformed"].values())
    json.dumps(PLANTED)  # importable and serialisable
    for v, q in PLANTED["eval"]["pass_at_1"].items():
        assert q == pytest.approx(demo.EVAL_QUALITY[v])
