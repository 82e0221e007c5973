"""The marts reproduce published tables computed by other people on real data.

Every dataset of ``../shared/external/`` (see its README) is landed THROUGH THE
RAW CONTRACT — written to files, appended with ``aimetrics load`` into
``raw.*``, then ``dbt build`` — into ONE DuckDB file, built once for the module:

* Vectara hallucination leaderboard (all 96 models, 740,047 judgments): each
  judgment is an interaction (feature ``vectara_leaderboard``, model = the
  model's name, on its judgment date); invalid rows have status ``refused``,
  valid ones ``ok``; each judgment carries an ``automated`` review of dimension
  ``hallucination`` whose verdict is ``fail`` when ``hhem_score < 0.5``.
  Hallucination rate = hallucinated / reviewed outputs, answer rate = outputs /
  queries, both from ``metrics_daily``, must equal the published table after
  ``round(x * 100, 1)``.
* CRUXEval (codellama-7b, temperature 0.2): each task's n samples of which c
  passed become ``eval_results`` rows (one run per benchmark);
  ``eval_pass_at_k`` must give the authors' stored pass@1 and pass@5 to 1e-6
  (in percent).
* llmperf leaderboard (19 runs, one request a row): each request is an
  interaction (feature = provider, model = the run's model), responded_at =
  requested_at + the end-to-end latency rounded to the microsecond, status
  ``error`` when the request has an error code. ``supporting_metrics_daily``
  must give every published end-to-end latency quantile (p25 .. p99), the
  mean, min, max and sample standard deviation to the microsecond, and
  ``metrics_daily`` / ``supporting_metrics_daily`` the error rate of every run.
* ECE cases (``ece/``): each case's confidences are outputs with a
  ``correctness`` review (pass when correct); ``calibration_weekly.ece`` under
  each case's number of bins (var ``calibration_bins``, the calibration
  models rebuilt per bin count) must equal the spec's worked values.

The build selects those marts and everything upstream of them (seeds and
models; the generic data tests run on the demo builds of other modules, and
would each scan 740k staged rows here).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import duckdb
import pytest

from aimetrics import PROJECT_DIR
from aimetrics.dbt_runner import run_dbt
from aimetrics.load import load_files

EXTERNAL = Path(os.environ.get("AIMETRICS_EXTERNAL_DIR", PROJECT_DIR.parent / "shared" / "external"))
#: the spec's worked ECE values for the cases of ece/ (metrics.md, "Calibration")
SPEC_ECE = {
    "torchmetrics_doc_binary": 0.29,
    "torchmetrics_doc_multiclass_toplabel": 0.2,
    "value_on_inner_edge_0.5": 0.333333,
    "value_exactly_1.0": 0.475,
    "decimal_edges_nbins10": 0.1375,
}
MARTS = ["+metrics_daily", "+supporting_metrics_daily", "+eval_pass_at_k", "+calibration_weekly"]


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _write_raw_files(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, list[Path]]:
    """Raw-contract files (Parquet) of every published dataset, built in SQL."""
    files: dict[str, list[Path]] = {}

    def copy(table: str, name: str, sql: str) -> None:
        path = out / f"{name}.parquet"
        con.execute(f"copy ({sql}) to {_q(str(path))} (format parquet)")
        files.setdefault(table, []).append(path)

    # --- Vectara: judgments as interactions + automated hallucination reviews
    vectara = EXTERNAL / "vectara" / "hhem_judgments.csv.gz"
    con.execute(f"""create temp table vectara as
        select * from read_csv({_q(str(vectara))}, header = true, all_varchar = true)""")
    vid = "'vectara:' || model_name || ':' || summary_uid"
    copy("interactions", "vectara_interactions", f"""
        select {vid} as interaction_id, {vid} as task_id, 'vectara' as user_id,
               'vectara_leaderboard' as feature, model_name as model, model_name as model_version,
               cast(judgment_date as timestamp) + interval 12 hour as requested_at,
               case when is_valid = 'true' then cast(judgment_date as timestamp) + interval 12 hour end
                   as responded_at,
               case when is_valid = 'true' then 'ok' else 'refused' end as status
        from vectara""")
    copy("output_reviews", "vectara_reviews", f"""
        select 'hhem:' || {vid} as review_id, {vid} as interaction_id, 'automated' as reviewer_kind,
               'hallucination' as dimension,
               case when cast(hhem_score as double) < 0.5 then 'fail' else 'pass' end as verdict,
               cast(hhem_score as double) as score,
               cast(judgment_date as timestamp) + interval 13 hour as reviewed_at,
               hhem_version as reviewer_id
        from vectara""")

    # --- CRUXEval: per task n samples, c passed -> eval_results (sample i passes when i < c)
    nc = EXTERNAL / "passk" / "cruxeval_codellama7b_temp0.2_nc.csv"
    copy("eval_results", "cruxeval_eval_results", f"""
        select benchmark as eval_run_id, timestamp '2024-01-01 00:00:00' as run_at, benchmark as suite,
               model, model || '-temp' || cast(temperature as varchar) as model_version,
               task_id as case_id, cast(s.i as bigint) as sample_index, s.i < c as passed
        from read_csv({_q(str(nc))}, header = true) as tasks,
             lateral (select unnest(range(tasks.n)) as i) as s""")

    # --- llmperf: one request a row -> interactions with microsecond timestamps
    req = EXTERNAL / "latency" / "llmperf_requests.csv"
    copy("interactions", "llmperf_interactions", f"""
        select 'llmperf:' || run || ':' || cast(request_idx as varchar) as interaction_id,
               'llmperf:' || run || ':' || cast(request_idx as varchar) as task_id,
               'llmperf' as user_id, provider as feature, model, run as model_version,
               timestamp '2024-02-01 00:00:00' + to_microseconds(cast(request_idx as bigint) * 60000000)
                   as requested_at,
               case when error_code is null then
                   timestamp '2024-02-01 00:00:00' + to_microseconds(cast(request_idx as bigint) * 60000000)
                   + to_microseconds(cast(round(end_to_end_latency_s * 1000000) as bigint)) end as responded_at,
               case when error_code is null then 'ok' else 'error' end as status,
               cast(number_input_tokens as bigint) as input_tokens,
               case when error_code is null then cast(number_output_tokens as bigint) end as output_tokens
        from read_csv({_q(str(req))}, header = true, all_varchar = false)""")

    # --- ECE cases: confidences as outputs, correctness as reviews
    rows = []
    with open(EXTERNAL / "ece" / "ece_reference_cases.csv", newline="") as f:
        for case in csv.DictReader(f):
            for j, (c, ok) in enumerate(zip(json.loads(case["confidence"]), json.loads(case["correct"]))):
                rows.append((case["case"], j, float(c), bool(ok)))
    con.execute("create temp table ece(case_name varchar, j integer, confidence double, correct boolean)")
    con.executemany("insert into ece values (?, ?, ?, ?)", rows)
    copy("interactions", "ece_interactions", """
        select 'ece:' || case_name || ':' || cast(j as varchar) as interaction_id,
               'ece:' || case_name || ':' || cast(j as varchar) as task_id, 'ece' as user_id,
               'ece_' || case_name as feature, 'ece-model' as model,
               timestamp '2024-03-05 10:00:00' as requested_at, timestamp '2024-03-05 10:00:01' as responded_at,
               'ok' as status, confidence
        from ece""")
    copy("output_reviews", "ece_reviews", """
        select 'ece-review:' || case_name || ':' || cast(j as varchar) as review_id,
               'ece:' || case_name || ':' || cast(j as varchar) as interaction_id, 'human_expert' as reviewer_kind,
               'correctness' as dimension, case when correct then 'pass' else 'fail' end as verdict,
               timestamp '2024-03-06 10:00:00' as reviewed_at
        from ece""")

    # raw.user_events is required by the contract: these datasets have no events
    copy("user_events", "no_events", """
        select cast(null as varchar) as event_id, cast(null as varchar) as user_id,
               cast(null as timestamp) as occurred_at, cast(null as varchar) as event_type
        where false""")
    return files


def _fetch(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    assert EXTERNAL.is_dir(), (
        f"published reference data not found at {EXTERNAL} (set AIMETRICS_EXTERNAL_DIR)")
    root = tmp_path_factory.mktemp("published")
    db, target = root / "published.duckdb", root / "target"
    work = duckdb.connect()
    files = _write_raw_files(work, root)
    work.close()
    for table in ("interactions", "user_events", "output_reviews", "eval_results"):
        load_files(db, table, files[table])
    # the marts under test and everything upstream; the generic data tests run on the demo builds
    # (740k interactions make each of them a full scan of the staging views)
    run_dbt(["build", "--resource-type", "seed", "--resource-type", "model", "--select", *MARTS],
            duckdb_path=db, target_path=target)

    # ECE per case under that case's number of bins: rebuild the calibration marts per bin count
    ece: dict[tuple[str, int], float] = {}
    ece_sql = """select substr(feature, 5) as case_name, ece from marts.calibration_weekly
                 where feature like 'ece_%'"""
    for bins in (10, 2, 3):
        if bins != 10:
            run_dbt(["run", "-s", "calibration_reliability", "calibration_weekly"], duckdb_path=db,
                    target_path=target, dbt_vars={"calibration_bins": bins})
        con = duckdb.connect(str(db), read_only=True)
        for r in _fetch(con, ece_sql):
            ece[(r["case_name"], bins)] = r["ece"]
        con.close()
    con = duckdb.connect(str(db), read_only=True)
    yield {"con": con, "ece": ece}
    con.close()


# ---------------------------------------------------------------------------
# Vectara hallucination leaderboard: all 96 models


def _published_vectara() -> list[dict]:
    with open(EXTERNAL / "vectara" / "published_leaderboard_2026-03-10.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_vectara_every_model_hallucination_and_answer_rate(published):
    rows = {r["model"]: r for r in _fetch(published["con"], """
        select model, sum(hallucinated_outputs) as hallucinated, sum(reviewed_outputs) as reviewed,
               sum(outputs) as outputs, sum(queries) as queries
        from marts.metrics_daily where feature = 'vectara_leaderboard' group by model""")}
    table = _published_vectara()
    assert len(table) == 96 and len(rows) == 96
    wrong = []
    for p in table:
        r = rows[p["model_name"]]
        hr = round(int(r["hallucinated"]) / int(r["reviewed"]) * 100, 1)
        answer = round(int(r["outputs"]) / int(r["queries"]) * 100, 1)
        if hr != float(p["hallucination_rate_pct"]) or answer != float(p["answer_rate_pct"]):
            wrong.append((p["model_name"], hr, p["hallucination_rate_pct"], answer, p["answer_rate_pct"]))
    assert not wrong, f"{len(wrong)} of 96 models differ: {wrong[:5]}"


def test_vectara_rates_are_the_marts_own_columns(published):
    # one judgment date per model: metrics_daily's own rate columns are the leaderboard's figures
    rows = _fetch(published["con"], """
        select model, hallucination_rate, refusal_rate from marts.metrics_daily
        where feature = 'vectara_leaderboard'""")
    assert len(rows) == 96
    by_model = {r["model"]: r for r in rows}
    for p in _published_vectara():
        r = by_model[p["model_name"]]
        assert round(r["hallucination_rate"] * 100, 1) == float(p["hallucination_rate_pct"]), p["model_name"]
        assert round((1 - r["refusal_rate"]) * 100, 1) == float(p["answer_rate_pct"]), p["model_name"]


# ---------------------------------------------------------------------------
# CRUXEval pass@k: 4 of 4 published values


def test_cruxeval_pass_at_k(published):
    got = {(r["eval_run_id"], r["k"]): r for r in _fetch(published["con"], "select * from marts.eval_pass_at_k")}
    with open(EXTERNAL / "passk" / "published_passk.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 4
    for p in table:
        k = int(p["metric"].split("@")[1].split()[0])
        r = got[(p["benchmark"], k)]
        assert r["cases"] == int(p["n_tasks"])
        assert abs(100 * r["pass_at_k"] - float(p["published_value"])) <= 1e-6, (p["benchmark"], k, r["pass_at_k"])


# ---------------------------------------------------------------------------
# llmperf: every run's end-to-end latency statistics and error rate

LATENCY_STATS = {
    "quantiles_p25": "latency_p25_ms", "quantiles_p50": "latency_p50_ms", "quantiles_p75": "latency_p75_ms",
    "quantiles_p90": "latency_p90_ms", "quantiles_p95": "latency_p95_ms", "quantiles_p99": "latency_p99_ms",
    "mean": "latency_mean_ms", "min": "latency_min_ms", "max": "latency_max_ms", "stddev": "latency_stddev_ms",
}


@pytest.fixture(scope="module")
def llmperf(published):
    published_stats: dict[str, dict[str, float]] = {}
    with open(EXTERNAL / "latency" / "llmperf_published_summary.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["metric"] == "end_to_end_latency_s" or r["metric"] == "error_rate":
                key = r["stat"] if r["metric"] == "end_to_end_latency_s" else "error_rate"
                published_stats.setdefault(r["run"], {})[key] = float(r["value"])
    marts = {r["model_version"]: r for r in _fetch(published["con"], """
        select distinct i.model_version, s.*, m.error_rate as headline_error_rate
        from marts.supporting_metrics_daily as s
        inner join marts.fct_interactions as i
            on s.metric_date = i.requested_date and s.feature = i.feature and s.model = i.model
        inner join marts.metrics_daily as m
            on s.metric_date = m.metric_date and s.feature = m.feature and s.model = m.model
        where i.user_id = 'llmperf'""")}
    return published_stats, marts


def test_llmperf_every_run_is_one_mart_row(llmperf):
    published_stats, marts = llmperf
    assert len(published_stats) == 19
    assert set(marts) == set(published_stats)


@pytest.mark.parametrize("stat", list(LATENCY_STATS))
def test_llmperf_end_to_end_latency(llmperf, stat):
    published_stats, marts = llmperf
    column = LATENCY_STATS[stat]
    for run, stats in sorted(published_stats.items()):
        got_s = marts[run][column] / 1000.0
        # timestamps carry microseconds: every latency is exact to 0.5 us
        assert abs(got_s - stats[stat]) <= 1e-6, (run, stat, got_s, stats[stat])


def test_llmperf_error_rate_of_every_run(llmperf):
    published_stats, marts = llmperf
    for run, stats in published_stats.items():
        assert marts[run]["error_rate"] == pytest.approx(stats["error_rate"], abs=1e-12), run
        assert marts[run]["headline_error_rate"] == pytest.approx(stats["error_rate"], abs=1e-12), run


# ---------------------------------------------------------------------------
# ECE under the spec's binning


def test_ece_reference_cases(published):
    with open(EXTERNAL / "ece" / "ece_reference_cases.csv", newline="") as f:
        cases = list(csv.DictReader(f))
    assert {c["case"] for c in cases} == set(SPEC_ECE)
    for case in cases:
        got = published["ece"][(case["case"], int(case["n_bins"]))]
        assert round(got, 6) == pytest.approx(SPEC_ECE[case["case"]], abs=1e-12), (case["case"], got)
        assert math.isclose(got, SPEC_ECE[case["case"]], abs_tol=5e-7)
