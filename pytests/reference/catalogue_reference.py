"""Independent plain-Python reference of the metric-catalogue marts.

    compute_catalogue(raw, seeds_dir, vars=None) -> {mart name: [rows]}

Starts from the RAW tables (``raw`` maps a table name to its rows), cleans and
attributes them with the helpers of ``spec_reference`` (the plain-Python
oracle of the core layer: staging, internal users, tasks, event attribution,
adjudication, cost), then computes every catalogue mart from the spec's
"Supporting metrics" text and the definitions recorded for issue 4 — no SQL,
no project macro, standard library only. Binomial ratios use ``math.comb``
(the SQL uses an unrolled product), the regression slope the textbook
centred formula (the SQL uses ``regr_slope``), quantiles ``quantile_cont``.

Readings of the spec the SQL must agree with (each is a decision of issue 4):

 1. Weeks are ISO weeks (Monday) of the output's requested_at date for
    output/query columns and of the task's start date for task columns.
 2. pass@k per run and k in vars['pass_at_k_values'] over cases with n >= k;
    a run's suite / model / model_version is the largest value among its rows,
    its run_at the earliest.
 3. Release gate per suite x model_version: samples pooled over all runs of
    the version on the suite; previous version = the one with the next
    earlier first run_at (ties by name); gate passes when the Newcombe lower
    bound >= -tolerance; no previous version -> status no_baseline.
 4. Calibration: outputs with a confidence and a final correctness or
    hallucination verdict; correct = correctness pass if present else
    hallucination not fail; bin = min(floor(c * B), B - 1). High-confidence:
    confidence >= 0.9 among calibrated outputs.
 5. Judge agreement: ok outputs with both a latest tier-1 and a latest tier-2
    verdict on a dimension.
 6. Trust: over-trust among outputs adjudicated hallucinated; under-trust
    among correct outputs (as in 4), rejected (output_rejected concerning it)
    or substantively edited (a substantive output_edited concerning it);
    cost-weighted error: max weight of failed final verdicts (null severity =
    the seed's lowest weight), over outputs with any final verdict.
 7. Drift: per week x feature x model x model_version; weekly rates enter the
    slope only when their denominator >= min_sample; >= 3 points in the
    trailing 6-week window; trend = fitted value at this week; weeks to
    breach 0 when already strictly beyond critical.
 8. Guardrails: downstream success = accepted output whose task has a
    downstream_success event; rubber-stamping = Newcombe interval of the
    acceptance change above 0 and of the downstream change below 0, against
    the calendar week before; deflection over mature tasks; segments with a
    null segment left out; the segment ratio needs >= 2 segments.
 9. Telemetry: calendar from the first to the last day with a query or event;
    baseline = median of the 7 preceding days, only when all 7 are in range.
10. Experiment readout: tasks by their first query's arm; HitL-F interval
    from per-query intervention counts (sample variance); CPVO interval by
    the delta method over queries; control = 'control' else the first variant.
11. Supporting metrics: as in metrics_daily's cells for queries and tasks;
    mean edit ratio over edited outputs of their largest known-size ratio.
12. Text checks (optional raw columns output_text / final_text / source_text,
    from the winning valid copy; blank = missing): each ok output of a
    non-internal user with an output and a source text gets an `automated`
    review of dimension `groundedness` at its responded_at (else
    requested_at), fail when any fact is unsupported; an output_edited event
    without a size takes (edit distance, output length) of its concerned
    output's output and final text. The text algorithms themselves are the
    functions of python_udfs (tested on hand-made cases on their own).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import defaultdict
from pathlib import Path

import sys

from reference.spec_reference import (
    DEFAULT_VARS, ROLE_SUCCESS, Violation, adjudicate, build_tasks, concerned_interaction,
    event_task_id, internal_user_ids, iso_monday, is_corrective, is_intervention,
    is_substantive_edit, latest_copy_wins, load_event_roles, load_model_pricing, newcombe_interval,
    parse_value, quantile_cont, query_cost, ratio, staged, trim, wilson_interval,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python_udfs"))
from aimetrics_text_checks import text_edit_distance, unsupported_facts  # noqa: E402

CATALOGUE_VARS = {
    "pass_at_k_values": [1, 3, 5, 10],
    "release_gate_tolerance": 0.02,
    "calibration_bins": 10,
    "high_confidence_threshold": 0.9,
    "drift_window_weeks": 6,
    "drift_min_weeks": 3,
    "retrain_cadence_weeks": 4,
    "min_sample": 30,
    "min_segment_tasks": 30,
    "segment_guardrail_ratio": 0.8,
    "volume_drop_ratio": 0.5,
    "fact_check_dimension": "groundedness",
}

EVAL_COLUMNS = {
    "eval_run_id": ("id", True), "run_at": ("timestamp", True), "suite": ("id", True),
    "model": ("id", True), "model_version": ("id", True), "case_id": ("id", True),
    "sample_index": ("int", True), "passed": ("bool", True), "score": ("float", False),
}


def _seed_rows(seeds_dir: Path, name: str) -> list[dict]:
    with open(Path(seeds_dir) / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def stage_eval_results(rows: list[dict]) -> list[dict]:
    """eval_results: valid rows, one per (run, case, sample) (copies are identical: no ingested_at)."""
    out = {}
    for row in rows or []:
        values, ok = {}, True
        for name, (kind, required) in EVAL_COLUMNS.items():
            try:
                v = parse_value(row.get(name), kind)
            except Violation:
                ok = False
                break
            if v is None and required:
                ok = False
                break
            values[name] = v
        if ok and values["sample_index"] >= 0:
            out.setdefault((values["eval_run_id"], values["case_id"], values["sample_index"]), values)
    return list(out.values())


# ---------------------------------------------------------------------------
# Facts: the cleaned, attributed world (core layer semantics, via spec_reference)


def facts(raw: dict, seeds_dir: Path, v: dict) -> dict:
    roles = load_event_roles(seeds_dir)
    pricing = load_model_pricing(seeds_dir)
    users = staged("users", raw.get("users"))
    internal = internal_user_ids(users)
    interactions = [i for i in staged("interactions", raw.get("interactions")) if i["user_id"] not in internal]
    events = [e for e in staged("user_events", raw.get("user_events")) if e["user_id"] not in internal]
    reviews = staged("output_reviews", raw.get("output_reviews"))
    for e in events:
        e["role"] = roles.get(e["event_type"], "activity")
    by_id = {i["interaction_id"]: i for i in interactions}

    # Tier-1 text checks: texts of the winning copies of valid, non-internal outputs
    def text(row, name):
        value = row.get(name)
        return None if value is None or trim(str(value)) == "" else str(value)

    texts = {}
    for row in latest_copy_wins("interactions", raw.get("interactions") or []):
        iid = row.get("interaction_id")
        if iid in by_id and by_id[iid]["status"] == "ok" and text(row, "output_text") is not None:
            texts[iid] = (text(row, "output_text"), text(row, "final_text"), text(row, "source_text"))
    for iid, (out, final, source) in texts.items():
        if source is not None:
            i = by_id[iid]
            reviews.append({"review_id": f"text_check:{iid}", "interaction_id": iid, "reviewer_kind": "automated",
                            "dimension": v["fact_check_dimension"],
                            "verdict": "fail" if unsupported_facts(out, source) else "pass",
                            "severity": None, "reviewed_at": i["responded_at"] or i["requested_at"]})
    tasks = build_tasks(interactions)
    latest = max((i["requested_at"] for i in interactions), default=None)
    edit_ratio = float(v["substantive_edit_ratio"])
    window = dt.timedelta(minutes=float(v["behavioral_window_minutes"]))
    maturity = dt.timedelta(hours=float(v["task_maturity_hours"]))

    for e in events:
        tid = event_task_id(e, tasks, by_id)
        e["task"] = tasks[tid] if tid is not None else None
        e["concerns"] = concerned_interaction(e, e["task"], by_id)
        if e["task"] is not None:
            e["task"]["events"].append(e)
        if (e["role"] == "output_edited" and (e["edit_distance"] is None or e["output_chars"] is None)
                and e["concerns"] is not None and e["concerns"]["interaction_id"] in texts):
            out, final, _ = texts[e["concerns"]["interaction_id"]]
            if final is not None:
                e["edit_distance"], e["output_chars"] = text_edit_distance(out, final), len(out)
        e["substantive"] = is_substantive_edit(e, edit_ratio)
        e["intervention"] = is_intervention(e, edit_ratio)
        e["corrective"] = is_corrective(e, edit_ratio)

    # verdicts per query and dimension: final, latest tier 1, latest tier 2
    grouped = defaultdict(list)
    for r in reviews:
        if r["interaction_id"] in by_id:
            grouped[(r["interaction_id"], r["dimension"])].append(r)
    verdicts = defaultdict(dict)  # interaction_id -> dimension -> dict
    for (iid, dim), rs in grouped.items():
        final = adjudicate(rs)
        t1 = adjudicate([r for r in rs if r["reviewer_kind"] != "human_expert"])
        t2 = adjudicate([r for r in rs if r["reviewer_kind"] == "human_expert"])
        verdicts[iid][dim] = {"final": final["verdict"], "severity": final["severity"],
                              "tier1": t1["verdict"] if t1 else None, "tier2": t2["verdict"] if t2 else None}

    concerning = defaultdict(list)
    for e in events:
        if e["concerns"] is not None:
            concerning[e["concerns"]["interaction_id"]].append(e)

    for i in interactions:
        i["date"] = i["requested_at"].date()
        i["is_output"] = i["status"] == "ok"
        i["cost"] = query_cost(i, pricing)
        i["latency_ms"] = ((i["responded_at"] - i["requested_at"]) / dt.timedelta(microseconds=1) / 1000.0
                           if i["is_output"] and i["responded_at"] is not None else None)
        vd = verdicts.get(i["interaction_id"], {})
        i["verdicts"] = vd
        hall = vd.get("hallucination", {}).get("final")
        corr = vd.get("correctness", {}).get("final")
        i["hallucination_verdict"], i["correctness_verdict"] = hall, corr
        i["hallucinated"] = hall == "fail"
        i["correct"] = (corr == "pass") if corr is not None else ((hall != "fail") if hall is not None else None)
        mine = concerning[i["interaction_id"]]
        i["events"] = mine
        i["accepted"] = i["is_output"] and any(e["role"] == "output_accepted" for e in mine)
        i["rejected"] = any(e["role"] == "output_rejected" for e in mine)
        i["edited"] = any(e["role"] == "output_edited" for e in mine)
        i["substantively_edited"] = any(e["substantive"] for e in mine)
        i["interventions"] = sum(1 for e in mine if e["intervention"])
        successes = [e["occurred_at"] for e in mine if e["role"] in ROLE_SUCCESS]
        valid = False
        if i["is_output"] and not i["hallucinated"] and successes:
            t0 = min(successes)
            related = {id(e): e for e in mine}
            for e in tasks[i["task_id"]]["events"]:
                related[id(e)] = e
            valid = not any(e["corrective"] and t0 <= e["occurred_at"] <= t0 + window for e in related.values())
        i["valid"] = valid

    for t in tasks.values():
        t["start"] = min([t["first"]["requested_at"]]
                         + [e["occurred_at"] for e in t["events"] if e["role"] == "task_started"])
        t["date"] = t["start"].date()
        t["model_version"] = t["first"]["model_version"]
        t["mature"] = t["start"] + maturity <= latest
        t["roles"] = {e["role"] for e in t["events"]}
        t["has_intervention"] = any(e["intervention"] for e in t["events"])
        t["has_completed_event"] = "task_completed" in t["roles"]
        t["completed"] = t["has_completed_event"] and not t["has_intervention"]
        ok = [e["occurred_at"] for e in t["events"]
              if e["role"] in ROLE_SUCCESS and e["concerns"] is not None
              and e["concerns"]["status"] == "ok" and not e["concerns"]["hallucinated"]]
        t["tta_s"] = (min(ok) - t["start"]) / dt.timedelta(microseconds=1) / 1e6 if ok else None

    segment = {u["user_id"]: u["segment"] for u in users}
    return {"interactions": interactions, "events": events, "tasks": tasks, "users": users,
            "internal": internal, "segment": segment, "evals": stage_eval_results(raw.get("eval_results")),
            "weights": {r["severity"].strip().lower(): float(r["weight"]) for r in _seed_rows(seeds_dir, "severity_weights")},
            "thresholds": {r["metric"]: r for r in _seed_rows(seeds_dir, "metric_thresholds")}}


# ---------------------------------------------------------------------------
# Marts


def eval_marts(f: dict, v: dict) -> tuple[list[dict], list[dict]]:
    runs, cases = {}, defaultdict(lambda: [0, 0])
    for r in f["evals"]:
        run = runs.setdefault(r["eval_run_id"], {"suite": r["suite"], "model": r["model"],
                                                 "model_version": r["model_version"], "run_at": r["run_at"]})
        for k in ("suite", "model", "model_version"):
            run[k] = max(run[k], r[k])
        run["run_at"] = min(run["run_at"], r["run_at"])
        c = cases[(r["eval_run_id"], r["case_id"])]
        c[0] += 1
        c[1] += int(r["passed"])
    pass_at_k = []
    for run_id, run in sorted(runs.items()):
        mine = [nc for (rid, _), nc in cases.items() if rid == run_id]
        for k in v["pass_at_k_values"]:
            used = [(n, c) for n, c in mine if n >= k]
            if not used:
                continue
            pak = [1.0 if n - c < k else 1 - math.comb(n - c, k) / math.comb(n, k) for n, c in used]
            phk = [math.comb(c, k) / math.comb(n, k) for n, c in used]
            pass_at_k.append({"eval_run_id": run_id, **run, "k": k, "cases": len(used),
                              "pass_at_k": sum(pak) / len(pak), "pass_hat_k": sum(phk) / len(phk)})
    versions = {}
    for (run_id, _), (n, c) in cases.items():
        run = runs[run_id]
        key = (run["suite"], run["model_version"])
        ver = versions.setdefault(key, {"model": run["model"], "first_run_at": run["run_at"], "runs": set(),
                                        "samples": 0, "passed_samples": 0})
        ver["model"] = max(ver["model"], run["model"])
        ver["first_run_at"] = min(ver["first_run_at"], run["run_at"])
        ver["runs"].add(run_id)
        ver["samples"] += n
        ver["passed_samples"] += c
    gates = []
    z = v["z"]
    for suite in sorted({s for s, _ in versions}):
        ordered = sorted(((mv, ver) for (s, mv), ver in versions.items() if s == suite),
                         key=lambda t: (t[1]["first_run_at"], t[0]))
        prev = None
        for mv, ver in ordered:
            row = {"suite": suite, "model_version": mv, "model": ver["model"], "first_run_at": ver["first_run_at"],
                   "runs": len(ver["runs"]), "samples": ver["samples"], "passed_samples": ver["passed_samples"],
                   "pass_rate": ver["passed_samples"] / ver["samples"], "tolerance": v["release_gate_tolerance"]}
            if prev is None:
                row.update(previous_model_version=None, previous_samples=None, previous_passed_samples=None,
                           previous_pass_rate=None, pass_rate_diff=None, diff_ci_low=None, diff_ci_high=None,
                           gate_passed=None, gate_status="no_baseline")
            else:
                pmv, pver = prev
                lo, hi = newcombe_interval(ver["passed_samples"], ver["samples"], pver["passed_samples"],
                                           pver["samples"], z)
                passed = lo >= -v["release_gate_tolerance"]
                row.update(previous_model_version=pmv, previous_samples=pver["samples"],
                           previous_passed_samples=pver["passed_samples"],
                           previous_pass_rate=pver["passed_samples"] / pver["samples"],
                           pass_rate_diff=row["pass_rate"] - pver["passed_samples"] / pver["samples"],
                           diff_ci_low=lo, diff_ci_high=hi, gate_passed=passed,
                           gate_status="pass" if passed else "fail")
            gates.append(row)
            prev = (mv, ver)
    return pass_at_k, gates


def _status(value, denominator, thr: dict | None, min_sample: int) -> str:
    if value is None or denominator < min_sample:
        return "insufficient_data"
    healthy, critical = float(thr["healthy"]), float(thr["critical"])
    if thr["direction"] == "higher_is_better":
        return "healthy" if value >= healthy else "critical" if value < critical else "at_risk"
    return "healthy" if value <= healthy else "critical" if value > critical else "at_risk"


def calibration_marts(f: dict, v: dict) -> tuple[list[dict], list[dict]]:
    bins_n = v["calibration_bins"]
    bins = defaultdict(lambda: [0, 0, 0.0])
    cells = defaultdict(lambda: [0, 0, 0.0, 0, 0])  # n, correct, conf_sum, high n, high wrong
    for i in f["interactions"]:
        if not i["is_output"] or i["confidence"] is None or i["correct"] is None:
            continue
        key = (iso_monday(i["date"]), i["feature"], i["model"])
        b = min(math.floor(i["confidence"] * bins_n), bins_n - 1)
        s = bins[key + (b,)]
        s[0] += 1
        s[1] += int(i["correct"])
        s[2] += i["confidence"]
        c = cells[key]
        c[0] += 1
        c[1] += int(i["correct"])
        c[2] += i["confidence"]
        if i["confidence"] >= v["high_confidence_threshold"]:
            c[3] += 1
            c[4] += int(not i["correct"])
    reliability = [{"week": k[0], "feature": k[1], "model": k[2], "bin": k[3], "bins": bins_n,
                    "bin_lower": k[3] / bins_n, "bin_upper": (k[3] + 1) / bins_n, "outputs": s[0],
                    "correct_outputs": s[1], "confidence_sum": s[2], "mean_confidence": s[2] / s[0],
                    "accuracy": s[1] / s[0]} for k, s in sorted(bins.items())]
    thr = f["thresholds"].get("ece")
    weekly = []
    for key, c in sorted(cells.items()):
        ece = sum(abs(s[1] - s[2]) for k, s in bins.items() if k[:3] == key) / c[0]
        weekly.append({"week": key[0], "feature": key[1], "model": key[2], "calibrated_outputs": c[0],
                       "correct_outputs": c[1], "mean_confidence": c[2] / c[0], "accuracy": c[1] / c[0],
                       "confidence_gap": (c[2] - c[1]) / c[0], "ece": ece,
                       "ece_healthy": float(thr["healthy"]), "ece_critical": float(thr["critical"]),
                       "ece_status": _status(ece, c[0], thr, v["min_sample"]),
                       "high_confidence_outputs": c[3], "high_confidence_errors": c[4],
                       "high_confidence_error_rate": ratio(c[4], c[3])})
    return reliability, weekly


def judge_agreement(f: dict, v: dict) -> list[dict]:
    cells = defaultdict(lambda: defaultdict(int))
    for i in f["interactions"]:
        if not i["is_output"]:
            continue
        for dim, vd in i["verdicts"].items():
            if vd["tier1"] is None or vd["tier2"] is None:
                continue
            cells[(iso_monday(i["date"]), dim)][(vd["tier1"], vd["tier2"])] += 1
    rows = []
    for (week, dim), c in sorted(cells.items()):
        ff, fp, pf, pp = c[("fail", "fail")], c[("fail", "pass")], c[("pass", "fail")], c[("pass", "pass")]
        n = ff + fp + pf + pp
        po = (ff + pp) / n
        p1, p2 = (ff + fp) / n, (ff + pf) / n
        pe = p1 * p2 + (1 - p1) * (1 - p2)
        rows.append({"week": week, "dimension": dim, "pairs": n, "agreements": ff + pp, "both_fail": ff,
                     "tier1_fail_tier2_pass": fp, "tier1_pass_tier2_fail": pf, "both_pass": pp,
                     "agreement_rate": po, "tier1_fail_rate": p1, "tier2_fail_rate": p2,
                     "cohens_kappa": (po - pe) / (1 - pe) if pe < 1 else None})
    return rows


def trust_calibration(f: dict, v: dict) -> list[dict]:
    weights, lowest = f["weights"], min(f["weights"].values())
    cells = defaultdict(lambda: defaultdict(float))
    for i in f["interactions"]:
        if not i["is_output"]:
            continue
        c = cells[(iso_monday(i["date"]), i["feature"], i["model"])]
        c["outputs"] += 1
        if i["hallucinated"]:
            c["hallucinated"] += 1
            c["hallucinated_accepted"] += int(i["accepted"])
        if i["correct"]:
            c["correct"] += 1
            c["correct_rejected"] += int(i["rejected"] or i["substantively_edited"])
        if i["verdicts"]:
            c["judged"] += 1
            c["weight"] += max([weights.get(vd["severity"], lowest) if vd["severity"] is not None else lowest
                                for vd in i["verdicts"].values() if vd["final"] == "fail"], default=0.0)
    rows = []
    for (week, feature, model), c in sorted(cells.items()):
        rows.append({"week": week, "feature": feature, "model": model, "outputs": int(c["outputs"]),
                     "hallucinated_outputs": int(c["hallucinated"]),
                     "hallucinated_accepted": int(c["hallucinated_accepted"]),
                     "over_trust_rate": ratio(c["hallucinated_accepted"], c["hallucinated"]),
                     "correct_outputs": int(c["correct"]), "correct_rejected_or_edited": int(c["correct_rejected"]),
                     "under_trust_rate": ratio(c["correct_rejected"], c["correct"]),
                     "judged_outputs": int(c["judged"]), "failure_weight_sum": c["weight"],
                     "cost_weighted_error_rate": ratio(c["weight"], c["judged"])})
    return rows


def _slope(points: list[tuple[float, float]]):
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None, None
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return b, my - b * mx  # slope, fitted value at x = 0 (this week)


#: a slope closer to zero than this (per week) is flat: the trend never breaches
FLAT_SLOPE = 1e-12


def _weeks_to_breach(trend, slope, critical, direction):
    if trend is None or slope is None:
        return None
    if direction == "higher_is_better":
        if trend < critical:
            return 0.0
        return (critical - trend) / slope if slope < -FLAT_SLOPE else None
    if trend > critical:
        return 0.0
    return (critical - trend) / slope if slope > FLAT_SLOPE else None


def drift_weekly(f: dict, v: dict) -> list[dict]:
    cells = defaultdict(lambda: [0, 0, 0, 0])  # tasks_mature, completed, reviewed, hallucinated
    for t in f["tasks"].values():
        c = cells[(iso_monday(t["date"]), t["feature"], t["model"], t["model_version"])]
        if t["mature"]:
            c[0] += 1
            c[1] += int(t["completed"])
    for i in f["interactions"]:
        c = cells[(iso_monday(i["date"]), i["feature"], i["model"], i["model_version"])]
        if i["is_output"] and i["hallucination_verdict"] is not None:
            c[2] += 1
            c[3] += int(i["hallucinated"])
    metrics = {"tcr": (1, 0, "tcr"), "hr": (3, 2, "hallucination_rate")}
    rows = []
    for key, c in sorted(cells.items(), key=lambda kv: tuple("" if x is None else x for x in kv[0])):
        week, feature, model, mv = key
        row = {"week": week, "feature": feature, "model": model, "model_version": mv,
               "tasks_mature": c[0], "tasks_completed": c[1], "tcr": ratio(c[1], c[0]),
               "reviewed_outputs": c[2], "hallucinated_outputs": c[3], "hallucination_rate": ratio(c[3], c[2])}
        alert = False
        for m, (num, den, thr_name) in metrics.items():
            points = []
            for back in range(v["drift_window_weeks"]):
                pc = cells.get((week - dt.timedelta(days=7 * back), feature, model, mv))
                if pc is not None and pc[den] >= v["min_sample"]:
                    points.append((-float(back), pc[num] / pc[den]))
            slope = trend = None
            if len(points) >= v["drift_min_weeks"]:
                slope, trend = _slope(points)
            thr = f["thresholds"][thr_name]
            critical = float(thr["critical"])
            wtb = _weeks_to_breach(trend, slope, critical, thr["direction"])
            m_alert = wtb is not None and wtb < v["retrain_cadence_weeks"]
            alert = alert or m_alert
            row.update({f"{m}_window_weeks": len(points), f"{m}_slope_per_week": slope, f"{m}_trend": trend,
                        f"{m}_critical": critical, f"{m}_weeks_to_breach": wtb, f"{m}_alert": m_alert})
        row["alert"] = alert
        rows.append(row)
    return rows


def guardrails_weekly(f: dict, v: dict) -> list[dict]:
    z = v["z"]
    acc = defaultdict(lambda: [0, 0, 0])
    for i in f["interactions"]:
        if not i["is_output"]:
            continue
        a = acc[(iso_monday(i["date"]), i["feature"])]
        a[0] += 1
        if i["accepted"]:
            a[1] += 1
            a[2] += int("downstream_success" in f["tasks"][i["task_id"]]["roles"])
    defl = defaultdict(lambda: [0, 0, 0])
    seg = defaultdict(lambda: [0, 0])
    for t in f["tasks"].values():
        if not t["mature"]:
            continue
        key = (iso_monday(t["date"]), t["feature"])
        deflected = t["has_completed_event"] and "escalated" not in t["roles"]
        d = defl[key]
        d[0] += 1
        d[1] += int(deflected)
        d[2] += int(deflected and "recontact" in t["roles"])
        s = f["segment"].get(t["user_id"])
        if s is not None:
            seg[key + (s,)][0] += 1
            seg[key + (s,)][1] += int(t["completed"])
    rows = []
    for key in sorted(set(acc) | set(defl)):
        week, feature = key
        o, a, ds = acc.get(key, [0, 0, 0])
        po, pa, pds = acc.get((week - dt.timedelta(days=7), feature), [0, 0, 0])
        ci_acc = newcombe_interval(a, o, pa, po, z)
        ci_ds = newcombe_interval(ds, a, pds, pa, z)
        t_n, t_d, t_r = defl.get(key, [0, 0, 0])
        segs = sorted((c / n, s) for (w, ft, s), (n, c) in seg.items()
                      if (w, ft) == key and n >= v["min_segment_tasks"])
        high = sorted(segs, key=lambda x: (-x[0], x[1]))
        ratio_ = segs[0][0] / high[0][0] if len(segs) >= 2 and high[0][0] > 0 else None
        rows.append({
            "week": week, "feature": feature, "outputs": o, "accepted_outputs": a,
            "acceptance_rate": ratio(a, o), "accepted_with_downstream_success": ds,
            "downstream_success_rate": ratio(ds, a), "previous_outputs": po, "previous_accepted_outputs": pa,
            "previous_accepted_with_downstream_success": pds,
            "acceptance_change": None if not o or not po else a / o - pa / po,
            "downstream_success_change": None if not a or not pa else ds / a - pds / pa,
            "rubber_stamping_flag": bool(ci_acc and ci_ds and ci_acc[0] > 0 and ci_ds[1] < 0),
            "tasks_mature": t_n, "deflected_tasks": t_d, "deflection_rate": ratio(t_d, t_n),
            "recontacted_tasks": t_r, "recontact_rate": ratio(t_r, t_d), "segments_compared": len(segs),
            "lowest_tcr_segment": segs[0][1] if segs else None, "highest_tcr_segment": high[0][1] if high else None,
            "min_segment_tcr": segs[0][0] if segs else None, "max_segment_tcr": high[0][0] if high else None,
            "segment_tcr_ratio": ratio_,
            "segment_guardrail_breached": ratio_ is not None and ratio_ < v["segment_guardrail_ratio"],
        })
    return rows


def telemetry_health(f: dict, v: dict) -> list[dict]:
    queries, covered, events = defaultdict(int), defaultdict(int), defaultdict(int)
    for i in f["interactions"]:
        queries[i["date"]] += 1
        covered[i["date"]] += int(bool(i["events"]))
    for e in f["events"]:
        events[e["occurred_at"].date()] += 1
    days = set(queries) | set(events)
    if not days:
        return []
    first, last = min(days), max(days)
    rows = []
    d = first
    while d <= last:
        prev = [first + dt.timedelta(days=k) for k in range((d - first).days - 7, (d - first).days)] \
            if (d - first).days >= 7 else None
        qm = quantile_cont([queries[p] for p in prev], 0.5) if prev else None
        em = quantile_cont([events[p] for p in prev], 0.5) if prev else None
        qd = qm is not None and queries[d] < v["volume_drop_ratio"] * qm
        ed = em is not None and events[d] < v["volume_drop_ratio"] * em
        rows.append({"metric_date": d, "queries": queries[d], "queries_with_events": covered[d],
                     "instrumentation_coverage": ratio(covered[d], queries[d]), "events": events[d],
                     "queries_median_7d": qm, "events_median_7d": em, "queries_volume_drop": qd,
                     "events_volume_drop": ed, "is_flagged": qd or ed})
        d += dt.timedelta(days=1)
    return rows


def adoption(f: dict, v: dict) -> list[dict]:
    active, ai = defaultdict(set), defaultdict(set)
    for i in f["interactions"]:
        for period, start in (("day", i["date"]), ("week", iso_monday(i["date"]))):
            active[(period, start)].add(i["user_id"])
            ai[(period, start)].add(i["user_id"])
    for e in f["events"]:
        d = e["occurred_at"].date()
        for period, start in (("day", d), ("week", iso_monday(d))):
            active[(period, start)].add(e["user_id"])
    return [{"period": p, "period_start": s, "active_users": len(u), "ai_users": len(ai[(p, s)]),
             "adoption_rate": len(ai[(p, s)]) / len(u)} for (p, s), u in sorted(active.items())]


def experiment_readout(f: dict, v: dict) -> list[dict]:
    z = v["z"]
    arms = defaultdict(lambda: defaultdict(float))
    tta = defaultdict(list)
    for i in f["interactions"]:
        if i["experiment_id"] is None:
            continue
        a = arms[(i["experiment_id"], i["variant"])]
        a["queries"] += 1
        a["outputs"] += int(i["is_output"])
        if i["is_output"] and i["hallucination_verdict"] is not None:
            a["reviewed_outputs"] += 1
            a["hallucinated_outputs"] += int(i["hallucinated"])
        a["accepted_outputs"] += int(i["accepted"])
        a["interventions"] += i["interventions"]
        a["interventions_sq"] += i["interventions"] ** 2
        a["cost"] += i["cost"]
        a["cost_sq"] += i["cost"] ** 2
        a["valid_outputs"] += int(i["valid"])
        a["valid_cost"] += i["cost"] if i["valid"] else 0.0
    for t in f["tasks"].values():
        first = t["first"]
        if first["experiment_id"] is None or not t["mature"]:
            continue
        key = (first["experiment_id"], first["variant"])
        a = arms[key]
        a["tasks_mature"] += 1
        a["tasks_completed"] += int(t["completed"])
        if t["tta_s"] is not None:
            tta[key].append(t["tta_s"])

    def est(a):
        n = a["queries"]
        out = {"hitl_f": 100 * a["interventions"] / n if n else None, "hitl_f_se": None,
               "cpvo": ratio(a["cost"], a["valid_outputs"]), "cpvo_se": None}
        if n > 1:
            var = max((a["interventions_sq"] - a["interventions"] ** 2 / n) / (n - 1), 0.0)
            out["hitl_f_se"] = 100 * math.sqrt(var / n)
            if a["valid_outputs"]:
                r = a["cost"] / a["valid_outputs"]
                ss = max(a["cost_sq"] - 2 * r * a["valid_cost"] + r * r * a["valid_outputs"], 0.0)
                out["cpvo_se"] = math.sqrt(ss / (n - 1) / n) / (a["valid_outputs"] / n)
        return out

    rows = []
    for exp in sorted({e for e, _ in arms}):
        variants = sorted((var for e, var in arms if e == exp), key=lambda x: (x != "control", x))
        control = variants[0]
        ca, ce = arms[(exp, control)], est(arms[(exp, control)])
        for var in sorted(variants):
            a, e = arms[(exp, var)], est(arms[(exp, var)])
            is_control = var == control
            tta_p50 = quantile_cont(tta[(exp, var)], 0.5)
            row = {"experiment_id": exp, "variant": var, "control_variant": control, "is_control": is_control,
                   **{k: int(a[k]) for k in ("queries", "outputs", "tasks_mature", "tasks_completed",
                                             "reviewed_outputs", "hallucinated_outputs", "accepted_outputs",
                                             "interventions", "valid_outputs")},
                   "total_cost_usd": a["cost"], "tta_tasks": len(tta[(exp, var)])}
            for m, num, den in (("tcr", "tasks_completed", "tasks_mature"),
                                ("hallucination_rate", "hallucinated_outputs", "reviewed_outputs"),
                                ("acceptance_rate", "accepted_outputs", "outputs")):
                w = wilson_interval(int(a[num]), int(a[den]), z)
                row[m] = ratio(a[num], a[den])
                row[f"{m}_ci_low"], row[f"{m}_ci_high"] = w if w else (None, None)
                diff = ci = None
                if not is_control:
                    r1, r2 = ratio(a[num], a[den]), ratio(ca[num], ca[den])
                    diff = None if r1 is None or r2 is None else r1 - r2
                    ci = newcombe_interval(int(a[num]), int(a[den]), int(ca[num]), int(ca[den]), z)
                row[f"{m}_diff"] = diff
                row[f"{m}_diff_ci_low"], row[f"{m}_diff_ci_high"] = ci if ci else (None, None)
                row[f"{m}_diff_excludes_zero"] = None if is_control else (None if ci is None else (ci[0] > 0 or ci[1] < 0))
            for m in ("hitl_f", "cpvo"):
                val, se = e[m], e[f"{m}_se"]
                row[m] = val
                row[f"{m}_ci_low"] = None if val is None or se is None else val - z * se
                row[f"{m}_ci_high"] = None if val is None or se is None else val + z * se
                diff = lo = hi = excl = None
                if not is_control and val is not None and ce[m] is not None:
                    diff = val - ce[m]
                    if se is not None and ce[f"{m}_se"] is not None:
                        dse = math.sqrt(se * se + ce[f"{m}_se"] ** 2)
                        lo, hi = diff - z * dse, diff + z * dse
                        excl = lo > 0 or hi < 0
                row[f"{m}_diff"], row[f"{m}_diff_ci_low"], row[f"{m}_diff_ci_high"] = diff, lo, hi
                row[f"{m}_diff_excludes_zero"] = excl
            row["tta_p50_s"] = tta_p50
            c50 = quantile_cont(tta[(exp, control)], 0.5)
            row["tta_p50_s_diff"] = None if is_control or tta_p50 is None or c50 is None else tta_p50 - c50
            rows.append(row)
    return rows


def supporting_metrics(f: dict, v: dict) -> list[dict]:
    cells = defaultdict(lambda: defaultdict(float))
    lat = defaultdict(list)
    ratios = defaultdict(list)
    for i in f["interactions"]:
        key = (i["date"], i["feature"], i["model"])
        c = cells[key]
        c["queries"] += 1
        c["outputs"] += int(i["is_output"])
        c["error_queries"] += int(i["status"] in ("error", "timeout"))
        c["refused_queries"] += int(i["status"] in ("refused", "filtered"))
        if i["latency_ms"] is not None:
            lat[key].append(i["latency_ms"])
        c["input_tokens"] += i["input_tokens"] or 0
        c["output_tokens"] += i["output_tokens"] or 0
        c["query_cost_usd"] += i["cost"]
        if i["is_output"]:
            c["edited_outputs"] += int(i["edited"])
            c["substantively_edited_outputs"] += int(i["substantively_edited"])
            known = [e["edit_distance"] / e["output_chars"] for e in i["events"]
                     if e["role"] == "output_edited" and e["edit_distance"] is not None
                     and e["output_chars"] is not None and e["output_chars"] > 0]
            if known:
                ratios[key].append(max(known))
        c["regenerations"] += sum(1 for e in i["events"] if e["role"] == "regenerated")
        c["reprompts"] += sum(1 for e in i["events"] if e["role"] == "reprompted")
    task_cost = defaultdict(float)
    for i in f["interactions"]:
        task_cost[i["task_id"]] += i["cost"]
    for t in f["tasks"].values():
        c = cells[(t["date"], t["feature"], t["model"])]
        c["tasks"] += 1
        if t["mature"]:
            c["tasks_mature"] += 1
            c["abandoned_tasks"] += int("task_abandoned" in t["roles"])
        c["task_cost_usd"] += task_cost[t["task_id"]]
    rows = []
    for key, c in sorted(cells.items()):
        xs = lat[key]
        n = len(xs)
        mean = sum(xs) / n if n else None
        row = {"metric_date": key[0], "feature": key[1], "model": key[2]}
        for k in ("queries", "outputs", "error_queries", "refused_queries", "input_tokens", "output_tokens",
                  "regenerations", "reprompts", "edited_outputs", "substantively_edited_outputs", "tasks",
                  "tasks_mature", "abandoned_tasks"):
            row[k] = int(c[k])
        q = c["queries"]
        row.update({
            "error_rate": ratio(c["error_queries"], q), "refusal_rate": ratio(c["refused_queries"], q),
            "latency_outputs": n, "latency_mean_ms": mean,
            "latency_stddev_ms": math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None,
            "latency_min_ms": min(xs) if xs else None, "latency_max_ms": max(xs) if xs else None,
            **{f"latency_p{p}_ms": quantile_cont(xs, p / 100) for p in (25, 50, 75, 90, 95, 99)},
            "tokens_per_query": ratio(c["input_tokens"] + c["output_tokens"], q),
            "query_cost_usd": c["query_cost_usd"], "cost_per_query": ratio(c["query_cost_usd"], q),
            "regeneration_rate": ratio(c["regenerations"], q), "reprompt_rate": ratio(c["reprompts"], q),
            "substantive_edit_rate": ratio(c["substantively_edited_outputs"], c["outputs"]),
            "edit_ratio_outputs": len(ratios[key]),
            "mean_edit_ratio": sum(ratios[key]) / len(ratios[key]) if ratios[key] else None,
            "abandonment_rate": ratio(c["abandoned_tasks"], c["tasks_mature"]),
            "task_cost_usd": c["task_cost_usd"], "cost_per_task": ratio(c["task_cost_usd"], c["tasks"]),
        })
        rows.append(row)
    return rows


def compute_catalogue(raw: dict, seeds_dir: Path, vars: dict | None = None) -> dict[str, list[dict]]:
    v = {**DEFAULT_VARS, **CATALOGUE_VARS, **(vars or {})}
    f = facts(raw, seeds_dir, v)
    pass_at_k, gates = eval_marts(f, v)
    reliability, calibration = calibration_marts(f, v)
    return {
        "eval_pass_at_k": pass_at_k,
        "eval_release_gate": gates,
        "calibration_reliability": reliability,
        "calibration_weekly": calibration,
        "judge_agreement": judge_agreement(f, v),
        "trust_calibration_weekly": trust_calibration(f, v),
        "drift_weekly": drift_weekly(f, v),
        "guardrails_weekly": guardrails_weekly(f, v),
        "telemetry_health_daily": telemetry_health(f, v),
        "adoption": adoption(f, v),
        "experiment_readout": experiment_readout(f, v),
        "supporting_metrics_daily": supporting_metrics(f, v),
    }
