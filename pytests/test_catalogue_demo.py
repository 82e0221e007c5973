"""The catalogue marts on the demo data: independent reference, planted truths.

One module-scoped build: generate SCALE interactions of demo data (fixed seed),
load them with the loader, ``dbt build`` (every generic test and unit test of
the catalogue marts runs there too), ``dbt compile`` of the weekly-review
analyses, then:

* every column of every row of each catalogue mart must equal the independent
  plain-Python computation of ``reference/catalogue_reference.py`` from the
  raw tables read back from the same file (counts exactly, floats to 1e-9,
  costs to 1e-9 relative);
* the planted truths of ``aimetrics.demo`` are detected: the decaying
  support_reply v2 raises a drift alert (its HR slope within 4 sd of the
  planted one) and fails its release gate, the outage day is the one flagged
  telemetry day, the rubber-stamping weeks are exactly the flagged ones, and
  pass@1 of every eval run is within 4 sd of its planted expectation;
* the scorecard carries those verdicts, and the analyses (KPI bridge, release
  readout) run on the data and agree with the marts.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pytest

from aimetrics import demo
from aimetrics.dbt_runner import run_dbt
from aimetrics.demo import PLANTED, expected_pass_at_k, expected_rates
from aimetrics.load import load_files
from mart_compare import CATALOGUE_MARTS
from reference.catalogue_reference import compute_catalogue

SCALE = 100_000
SEED = 20260601
Z = 4.0
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ANALYSES = ("kpi_bridge", "release_readout")
RAW_TABLES = ("interactions", "user_events", "output_reviews", "users", "infra_costs", "eval_results")

#: mart -> its grain (the comparison key)
MARTS = CATALOGUE_MARTS
RELATIVE = {"total_cost_usd", "query_cost_usd", "cost_per_query", "task_cost_usd", "cost_per_task", "cpvo",
            "cpvo_ci_low", "cpvo_ci_high", "cpvo_diff", "cpvo_diff_ci_low", "cpvo_diff_ci_high"}


def _fetch(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalogue_demo")
    db = root / "demo.duckdb"
    files = demo.generate(scale=SCALE, seed=SEED, out_dir=root / "data")
    for table, paths in files.items():
        load_files(db, table, paths)
    run_dbt(["build"], duckdb_path=db, target_path=root / "target")
    # the weekly-review analyses, compiled by dbt (before this process opens the file read-only)
    run_dbt(["compile", "--select", *ANALYSES], duckdb_path=db, target_path=root / "target",
            dbt_vars={"cost_per_human_intervention_usd": 2.5})
    return root


@pytest.fixture(scope="module")
def built(build_dir):
    con = duckdb.connect(str(build_dir / "demo.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def analyses(build_dir, built):
    compiled = build_dir / "target" / "compiled" / "aimetrics" / "analyses"
    return {name: _fetch(built, (compiled / f"{name}.sql").read_text()) for name in ANALYSES}


@pytest.fixture(scope="module")
def reference(built):
    raw = {t: _fetch(built, f"select * from raw.{t}") for t in RAW_TABLES}
    return compute_catalogue(raw, SEEDS)


def _key(v):
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date()
    return v


def _same(column: str, a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, bool) or isinstance(a, bool):
        return a == b
    if isinstance(b, (str, dt.date)):
        return _key(a) == b
    if isinstance(b, int) and not isinstance(a, float):
        return isinstance(a, (int, Decimal)) and a == b
    x, y = float(a), float(b)
    if column in RELATIVE:
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return abs(x - y) <= 1e-9


@pytest.mark.parametrize("mart", list(MARTS))
def test_mart_agrees_with_independent_reference(built, reference, mart):
    keys = MARTS[mart]
    sql_rows = _fetch(built, f"select * from marts.{mart}")
    ref_rows = reference[mart]
    assert ref_rows, f"the reference computed no {mart} row"
    sql = {tuple(_key(r[k]) for k in keys): r for r in sql_rows}
    ref = {tuple(r[k] for k in keys): r for r in ref_rows}
    assert len(sql) == len(sql_rows) and len(ref) == len(ref_rows), "duplicate keys"
    problems = [f"only in SQL: {k}" for k in set(sql) - set(ref)] + [f"only in reference: {k}" for k in set(ref) - set(sql)]
    columns = [c for c in sql_rows[0] if c not in keys]
    missing = [c for c in columns if c not in ref_rows[0]]
    assert not missing, f"the reference lacks columns {missing}"
    for k in sorted(set(sql) & set(ref), key=repr):
        for c in columns:
            if not _same(c, sql[k][c], ref[k][c]):
                problems.append(f"{k} {c}: sql={sql[k][c]!r} reference={ref[k][c]!r}")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:30])


# ---------------------------------------------------------------------------
# planted truths


def test_decay_raises_a_drift_alert(built):
    d = PLANTED["decay"]
    rows = _fetch(built, f"""select * from marts.drift_weekly
        where feature = '{d["feature"]}' and model = '{d["model"]}' and model_version = '{d["new_version"]}'
        order by week""")
    with_slope = [r for r in rows if r["hr_slope_per_week"] is not None]
    assert len(with_slope) >= 6
    assert all(r["hr_alert"] and r["alert"] for r in with_slope), [(r["week"], r["hr_weeks_to_breach"]) for r in rows]
    # the last week's slope (trailing 6 weeks) against the planted slope, with the sd of an OLS slope of
    # independent weekly binomial rates
    last = with_slope[-1]
    window = [r for r in rows if 0 <= (last["week"] - r["week"]).days < 7 * 6]
    assert len(window) == 6 and last["hr_window_weeks"] == 6
    x = np.array([(r["week"] - last["week"]).days / 7 for r in window])
    c = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    p = np.array([expected_rates(d["feature"], d["model"], r["week"])["hr"] for r in window])
    n = np.array([r["reviewed_outputs"] for r in window], float)
    sd = float(np.sqrt((c ** 2 * p * (1 - p) / n).sum()))
    assert abs(last["hr_slope_per_week"] - d["hr_slope_per_week"]) <= Z * sd, (last["hr_slope_per_week"], sd)
    # and it is told apart from no decay (a 6-week window of ~600 reviews a week has less power than
    # the whole 10-week decay: 2 sd here)
    assert last["hr_slope_per_week"] > 2 * sd


def test_stable_low_hr_versions_raise_no_hr_alert(built):
    stable = [c for c in PLANTED["cells"] if PLANTED["cells"][c]["hr"] < 0.03
              and c != f'{PLANTED["decay"]["feature"]}/{PLANTED["decay"]["model"]}']
    assert stable
    for cell in stable:
        feature, model = cell.split("/")
        (alerts,) = built.execute(f"""select count(*) from marts.drift_weekly
            where feature = '{feature}' and model = '{model}' and hr_alert""").fetchone()
        assert alerts == 0, cell


def test_decaying_release_fails_its_gate(built):
    d = PLANTED["decay"]
    (row,) = _fetch(built, f"select * from marts.eval_release_gate where model_version = '{d['new_version']}'")
    assert row["gate_status"] == "fail" and row["gate_passed"] is False
    assert row["diff_ci_high"] < 0


def test_pass_at_1_matches_the_planted_quality(built):
    for r in _fetch(built, "select * from marts.eval_pass_at_k where k = 1"):
        probs = demo.eval_case_probs(r["model_version"])
        sd = math.sqrt(float((probs * (1 - probs)).sum()) / PLANTED["eval"]["samples"]) / len(probs)
        assert abs(r["pass_at_k"] - expected_pass_at_k(r["model_version"], 1)) <= Z * sd, r["model_version"]
        assert r["cases"] == PLANTED["eval"]["cases"]


def test_outage_day_is_the_only_flagged_day(built):
    flagged = [r["metric_date"].isoformat() for r in _fetch(built, """
        select metric_date from marts.telemetry_health_daily where is_flagged order by 1""")]
    calendar = PLANTED["calendar"]
    assert [d for d in flagged if calendar["start"] <= d <= calendar["end"]] == [PLANTED["outage"]["date"]]
    (row,) = _fetch(built, f"select * from marts.telemetry_health_daily where metric_date = '{PLANTED['outage']['date']}'")
    assert row["events_volume_drop"] and not row["queries_volume_drop"]


def test_rubber_stamping_weeks_are_flagged(built):
    rs = PLANTED["rubber_stamping"]
    flagged = _fetch(built, "select week, feature from marts.guardrails_weekly where rubber_stamping_flag order by 1, 2")
    assert [(r["week"].isoformat(), r["feature"]) for r in flagged] == [(w, rs["feature"]) for w in rs["flagged_weeks"]]


def test_scorecard_carries_the_verdicts(built):
    d, rs = PLANTED["decay"], PLANTED["rubber_stamping"]
    rows = _fetch(built, f"""select * from marts.scorecard where feature = '{d["feature"]}'
        and model = '{d["model"]}' order by week""")
    assert rows[-1]["drift_alert"] and rows[-1]["release_gate_failed"]
    assert rows[0]["release_gate_failed"] is False  # week 0 runs v1 only
    flagged = {r["week"].isoformat() for r in _fetch(built, f"""select week from marts.scorecard
        where feature = '{rs["feature"]}' and rubber_stamping_flag""")}
    assert flagged == set(rs["flagged_weeks"])
    outage_week = (dt.date.fromisoformat(PLANTED["outage"]["date"]) - dt.timedelta(days=2)).isoformat()
    weeks = {r["week"].isoformat(): r["telemetry_flagged_days"] for r in _fetch(
        built, "select distinct week, telemetry_flagged_days from marts.scorecard")}
    assert weeks[outage_week] == 1 and sum(weeks.values()) == 1


# ---------------------------------------------------------------------------
# the weekly-review analyses run on the demo data


def test_kpi_bridge(built, analyses):
    rows = analyses["kpi_bridge"]
    sums = {(r["week"], r["feature"]): r for r in _fetch(built, """
        select date_trunc('week', metric_date)::date as week, feature, sum(tasks_completed) as completed,
               sum(tasks_mature) as mature, sum(total_cost_usd) as cost
        from marts.metrics_daily group by all""")}
    assert len(rows) == len(sums)
    for r in rows:
        s = sums[(r["week"], r["feature"])]
        assert r["human_interventions_avoided"] == s["completed"]
        assert r["cost_per_human_intervention_usd"] == 2.5  # the var reaches the analysis
        assert r["support_cost_avoided_usd"] == pytest.approx(2.5 * s["completed"])
        assert r["net_savings_usd"] == pytest.approx(2.5 * s["completed"] - s["cost"])
        assert r["tcr"] == (s["completed"] / s["mature"] if s["mature"] else None)


def test_release_readout_of_the_newest_release(analyses):
    rows = analyses["release_readout"]
    d = PLANTED["decay"]
    assert rows and {r["model_version"] for r in rows} == {d["new_version"]}
    assert all(r["gate_status"] == "fail" for r in rows)
    assert rows[-1]["drift_alert"] is True
    assert all(r["ece_status"] is not None for r in rows)
