"""The marts recover the truths planted by the demo generator (aimetrics.demo).

One module-scoped build: generate SCALE interactions with a fixed seed, load
every file with the loader, ``dbt build``, then read ``marts`` and
``quarantine``.

Tolerances (why a failure means a wrong model, not bad luck)
------------------------------------------------------------
Each planted rate is the exact expectation of its metric under the generative
process (``aimetrics.demo.expected_rates``; the demo module docstring derives
each one). Every numerator is a sum of independent draws given the realized
denominators: a task completes cleanly or not, a reviewed output is
adjudicated hallucinated or not, a query carries 0, 1 or 2 interventions, ...
(queries inside a task are i.i.d. draws and the number of attempts is a
stopping time, so Wald's identities give the same mean and variance per query
as for independent queries). So for a count X over cells-days with
denominators n_d and planted probabilities p_d:

    E[X] = sum n_d p_d,   Var[X] = sum n_d p_d (1 - p_d)   (or n_d * var_d),

computed from the *actual* denominators in metrics_daily. We assert
|X - E[X]| <= 4 sd. Counts are in the hundreds or thousands, so the normal
approximation holds: a correct model fails one assertion with probability
~6e-5 (two-sided 4 sigma), about 0.5% for the ~90 assertions of this module
together; the seed is fixed, so the outcome is deterministic. A model error
larger than 4 sd fails; at this scale 4 sd is about 0.02-0.05 on TCR and
acceptance per cell, 0.01-0.03 on HR, 2-3 interventions per 100 queries.

Slopes: the OLS slope of weekly rates is a fixed linear combination
sum c_w r_w of independent weekly rates, so its sd is
sqrt(sum c_w^2 p_w (1 - p_w) / n_w); the planted slopes are 7-10 of those sds
away from zero, so the sign assertions have power too.

CPVO is a ratio of two sums; its relative sd is at most the sum of the
relative sds of numerator and denominator (a bound that holds whatever their
correlation), so the CPVO tolerance is 4 * (cv_cost + cv_valid) * CPVO.

Exact checks (no tolerance) use the realized counts the generator writes to
``_truth.json``: queries, outputs, tasks and total cost per cell, quarantine
rows per table.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta

import numpy as np
import pyarrow.csv as pacsv
import pytest

duckdb = pytest.importorskip("duckdb")

from aimetrics import demo  # noqa: E402
from aimetrics.demo import PLANTED, expected_rates  # noqa: E402

SCALE = 100_000
SEED = 20260601
Z = 4.0  # tolerance in standard deviations, see the module docstring

OUTAGE = date.fromisoformat(PLANTED["outage"]["date"])
CELLS = [tuple(c.split("/")) for c in PLANTED["cells"]]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from aimetrics.dbt_runner import run_dbt
    from aimetrics.load import load_files

    root = tmp_path_factory.mktemp("demo_planted")
    db = root / "demo.duckdb"
    files = demo.generate(scale=SCALE, seed=SEED, out_dir=root / "data")
    for table, paths in files.items():
        load_files(db, table, paths)
    run_dbt(["build"], duckdb_path=db, target_path=root / "target")
    con = duckdb.connect(str(db), read_only=True)
    yield {"con": con, "truth": demo.load_truth(root / "data"), "data": root / "data"}
    con.close()


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def daily(built) -> dict[tuple[str, str], list[dict]]:
    """metrics_daily rows per planted (feature, model), outage day left out."""
    out: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in _rows(built["con"], "select * from marts.metrics_daily order by metric_date"):
        if (r["feature"], r["model"]) in CELLS and r["metric_date"] != OUTAGE:
            out[(r["feature"], r["model"])].append(r)
    return out


def _check_binomial(rows: list[dict], cell, num: str, den: str, key: str) -> None:
    """sum(num) against sum over days of den_d * p_d, within Z binomial sds."""
    x = n = e = var = 0.0
    for r in rows:
        p = expected_rates(*cell, r["metric_date"])[key]
        d = r[den] or 0
        x += r[num] or 0
        n += d
        e += d * p
        var += d * p * (1 - p)
    assert n > 0, f"{cell}: no {den}"
    sd = math.sqrt(var)
    assert abs(x - e) <= Z * sd, (
        f"{cell} {key}: observed {x / n:.4f} ({x:.0f}/{n:.0f}), planted {e / n:.4f}, "
        f"tolerance +-{Z * sd / n:.4f} ({Z:g} sd)")


# ---------------------------------------------------------------------------
# headline rates per feature x model


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_task_completion_rate(daily, cell):
    _check_binomial(daily[cell], cell, "tasks_completed", "tasks_mature", "tcr")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_hallucination_rate(daily, cell):
    _check_binomial(daily[cell], cell, "hallucinated_outputs", "reviewed_outputs", "hr")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_review_coverage(daily, cell):
    _check_binomial(daily[cell], cell, "reviewed_outputs", "outputs", "review_coverage")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_acceptance_rate(daily, cell):
    _check_binomial(daily[cell], cell, "accepted_outputs", "outputs", "acceptance_rate")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_tta_coverage(daily, cell):
    _check_binomial(daily[cell], cell, "tta_tasks", "tasks_mature", "tta_coverage")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_hitl_f(daily, cell):
    # interventions per query are 0, 1 or 2 (a double escalation): variance from the planted distribution
    rows = daily[cell]
    x = sum(r["interventions"] for r in rows)
    n = sum(r["queries"] for r in rows)
    e = sum(r["queries"] * expected_rates(*cell, r["metric_date"])["hitl_f"] / 100 for r in rows)
    var = sum(r["queries"] * expected_rates(*cell, r["metric_date"])["interventions_per_query_var"] for r in rows)
    sd = math.sqrt(var)
    assert abs(x - e) <= Z * sd, (
        f"{cell} HitL-F: observed {100 * x / n:.3f}, planted {100 * e / n:.3f}, tolerance +-{100 * Z * sd / n:.3f}")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_error_and_refusal_rates(daily, cell):
    rows = [dict(r, error_queries=round((r["error_rate"] or 0) * r["queries"]),
                 refused_queries=round((r["refusal_rate"] or 0) * r["queries"])) for r in daily[cell]]
    _check_binomial(rows, cell, "error_queries", "queries", "error_rate")
    _check_binomial(rows, cell, "refused_queries", "queries", "refusal_rate")


@pytest.mark.parametrize("cell", CELLS, ids="/".join)
def test_cost_per_valid_output(daily, cell):
    rows = daily[cell]
    cost = sum(r["total_cost_usd"] for r in rows)
    valid = sum(r["valid_outputs"] for r in rows)
    exp_cost = exp_valid = var_cost = var_valid = 0.0
    for r in rows:
        e = expected_rates(*cell, r["metric_date"])
        q = r["queries"]
        exp_cost += q * e["cost_per_query"]
        var_cost += q * e["cost_per_query_sd"] ** 2
        exp_valid += q * e["valid_per_query"]
        var_valid += q * e["valid_per_query"] * (1 - e["valid_per_query"])
    # valid outputs alone: binomial per query
    assert abs(valid - exp_valid) <= Z * math.sqrt(var_valid), (cell, valid, exp_valid)
    cpvo, planted = cost / valid, exp_cost / exp_valid
    rel = math.sqrt(var_cost) / exp_cost + math.sqrt(var_valid) / exp_valid
    assert abs(cpvo - planted) <= Z * rel * planted, (
        f"{cell} CPVO: observed {cpvo:.6f}, planted {planted:.6f}, tolerance +-{Z * rel * planted:.6f}")


# ---------------------------------------------------------------------------
# exact quantities


def test_counts_and_cost_match_the_generated_rows(built):
    con, truth = built["con"], built["truth"]
    got = {(r["feature"], r["model"]): r for r in _rows(con, """
        select feature, model, sum(queries) as queries, sum(outputs) as outputs, sum(tasks) as tasks,
               sum(total_cost_usd) as cost
        from marts.metrics_daily group by feature, model""")}
    for key, t in truth["cells"].items():
        r = got[tuple(key.split("/"))]
        assert (r["queries"], r["outputs"], r["tasks"]) == (t["queries"], t["outputs"], t["tasks"]), key
        assert r["cost"] == pytest.approx(t["total_cost_usd"], rel=1e-9), key
    # the infra row of a cell without queries creates that cell; the row with no query in scope is unallocated
    orphan = demo.ORPHAN_INFRA
    (row,) = _rows(con, f"""select * from marts.metrics_daily where feature = '{orphan["feature"]}'
                            and model = '{orphan["model"]}'""")
    assert row["queries"] == 0 and row["total_cost_usd"] == pytest.approx(orphan["cost_usd"])
    total = con.execute("select sum(total_cost_usd) from marts.metrics_daily").fetchone()[0]
    assert total == pytest.approx(sum(t["total_cost_usd"] for t in truth["cells"].values()) + orphan["cost_usd"],
                                  rel=1e-9)


def test_tta_is_bounded(built):
    # no task takes anywhere near an hour to its first accepted output; a timestamp offset handled wrongly
    # (mobile events are written as local +02:00 time) would put some of them 2 hours late
    (worst,) = built["con"].execute("select max(tta_p90_s) from marts.metrics_daily").fetchone()
    assert 0 < worst < PLANTED["tta_max_s"]


# ---------------------------------------------------------------------------
# decay of the new model version


def _weekly(rows: list[dict], num: str, den: str, key: str, cell, weeks: list[int]):
    start = date.fromisoformat(PLANTED["calendar"]["start"])
    x, n, p = [], [], []
    for w in weeks:
        rw = [r for r in rows if (r["metric_date"] - start).days // 7 == w]
        x.append(sum(r[num] for r in rw))
        n.append(sum(r[den] for r in rw))
        p.append(expected_rates(*cell, start + timedelta(days=7 * w))[key])
    return np.array(x, float), np.array(n, float), np.array(p)


@pytest.mark.parametrize("num,den,key,slope_key,sign", [
    ("hallucinated_outputs", "reviewed_outputs", "hr", "hr_slope_per_week", +1),
    ("tasks_completed", "tasks_mature", "tcr", "tcr_slope_per_week", -1),
])
def test_decaying_version_trend(daily, num, den, key, slope_key, sign):
    d = PLANTED["decay"]
    cell = (d["feature"], d["model"])
    weeks = d["weeks"]
    x, n, p = _weekly(daily[cell], num, den, key, cell, weeks)
    w = np.array(weeks, float)
    c = (w - w.mean()) / ((w - w.mean()) ** 2).sum()  # OLS slope = sum c_w * rate_w
    slope = float((c * x / n).sum())
    sd = float(np.sqrt((c ** 2 * p * (1 - p) / n).sum()))
    planted = d[slope_key]
    assert abs(planted) > Z * sd, "the planted slope must be detectable at this scale"
    assert sign * slope > 0, f"{key} slope {slope:+.5f} per week has the wrong sign"
    assert abs(slope - planted) <= Z * sd, (
        f"{key} slope {slope:+.5f} per week, planted {planted:+.5f}, tolerance +-{Z * sd:.5f}")


# ---------------------------------------------------------------------------
# retention


def test_causal_retention_lift(built):
    r = PLANTED["retention"]
    skip = set(r["outage_affected_cohort_weeks"])
    weeks = {row["cohort_week"]: row for row in _rows(built["con"], """
        select distinct cohort_week, treatment_users, treatment_retained, holdout_users, holdout_retained
        from marts.retention_weekly""")}
    rows = [v for k, v in weeks.items() if k.isoformat() not in skip]
    nt = sum(v["treatment_users"] for v in rows)
    xt = sum(v["treatment_retained"] for v in rows)
    nh = sum(v["holdout_users"] for v in rows)
    xh = sum(v["holdout_retained"] for v in rows)
    pt, ph = r["treatment_retention_7d"], r["holdout_retention_7d"]
    assert abs(xt - nt * pt) <= Z * math.sqrt(nt * pt * (1 - pt)), (xt / nt, pt)
    assert abs(xh - nh * ph) <= Z * math.sqrt(nh * ph * (1 - ph)), (xh / nh, ph)
    lift = 100 * (xt / nt - xh / nh)
    sd = 100 * math.sqrt(pt * (1 - pt) / nt + ph * (1 - ph) / nh)
    assert abs(lift - r["causal_lift_pts"]) <= Z * sd, (
        f"causal lift {lift:.2f} pts, planted {r['causal_lift_pts']:.2f}, tolerance +-{Z * sd:.2f}")
    assert lift > Z * sd  # and it is distinguishable from no effect


@pytest.mark.parametrize("feature", PLANTED["features"])
def test_ai_users_retention(built, feature):
    # AI users are adopters, whose return within 7 days after any active day has probability rho_adopter
    # (a Markov chain), so every (user, week) anchor is an independent Bernoulli draw
    r = PLANTED["retention"]
    skip = ", ".join(f"date '{w}'" for w in r["outage_affected_cohort_weeks"])
    n, x = built["con"].execute(f"""
        select sum(ai_users), sum(ai_users_retained) from marts.retention_weekly
        where feature = '{feature}' and cohort_week not in ({skip})""").fetchone()
    p = r["ai_retention_7d"]
    assert abs(x - n * p) <= Z * math.sqrt(n * p * (1 - p)), (feature, x / n, p)


# ---------------------------------------------------------------------------
# outage, internal users, quarantine


def test_outage_day_loses_events(built):
    con = built["con"]
    rows = _rows(con, f"select * from marts.metrics_daily where metric_date = date '{OUTAGE}'")
    keep = PLANTED["outage"]["expected_event_share_kept"]
    x = e = var = 0.0
    for r in rows:
        if (r["feature"], r["model"]) not in CELLS:
            continue
        p = keep * expected_rates(r["feature"], r["model"], OUTAGE)["acceptance_rate"]
        x += r["accepted_outputs"]
        e += r["outputs"] * p
        var += r["outputs"] * p * (1 - p)
    assert abs(x - e) <= Z * math.sqrt(var), (x, e)
    # queries are not lost: the day's query volume is that of its neighbours
    vol = dict(con.execute(f"""select metric_date, sum(queries) from marts.metrics_daily
        where metric_date between date '{OUTAGE}' - 7 and date '{OUTAGE}' + 7 group by 1""").fetchall())
    assert vol[OUTAGE] > 0.5 * float(np.median(list(vol.values())))


def test_internal_users_are_absent(built):
    con = built["con"]
    users = pacsv.read_csv(built["data"] / "users" / "users.csv",
                           convert_options=pacsv.ConvertOptions(column_types={"is_internal": "string"}))
    internal = {u for u, i in zip(users.column("user_id").to_pylist(), users.column("is_internal").to_pylist())
                if i == "true"}
    assert PLANTED["internal"]["qa_bot_user"] in internal and len(internal) > 1
    seen = {u for (u,) in con.execute("select distinct user_id from marts.fct_interactions").fetchall()}
    assert seen and not seen & internal
    # the QA bot's queries after the calendar's end neither create days nor move "the last day in the data"
    (last,) = con.execute("select max(metric_date) from marts.metrics_daily").fetchone()
    assert last.isoformat() == PLANTED["calendar"]["end"]
    (last_week,) = con.execute("select max(cohort_week) from marts.retention_weekly").fetchone()
    assert last_week <= date.fromisoformat(PLANTED["calendar"]["end"])


@pytest.mark.parametrize("table", list(PLANTED["quarantine_rows"]))
def test_malformed_rows_land_in_quarantine(built, table):
    con = built["con"]
    rows = _rows(con, f"select * from quarantine.quarantine_raw__{table}")
    assert len(rows) == PLANTED["quarantine_rows"][table]
    planted_codes = Counter()
    for reason, n in PLANTED["malformed"][table].items():
        planted_codes[reason.split(":", 1)[0]] += n
    assert Counter(r["reason_code"] for r in rows) == planted_codes
    # only planted phantoms are quarantined, never a row of the generated data
    key = {"interactions": "interaction_id", "user_events": "event_id", "output_reviews": "review_id",
           "users": "user_id"}.get(table)
    if key:
        prefix = {"interactions": "i_bad_", "user_events": "e_bad_", "output_reviews": "r_bad_",
                  "users": "u_bad_"}[table]
        for r in rows:
            assert r[key] is None or r[key].strip() == "" or r[key].startswith(prefix), r
