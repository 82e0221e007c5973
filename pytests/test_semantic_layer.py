"""The semantic layer: MetricFlow's answers equal the marts.

One small demo build (``small_demo_build`` in conftest.py: 5,000 interactions, models and
seeds), then the real ``mf`` CLI of ``dbt-metricflow`` (the ``semantic`` extra) runs against it:
``mf validate-configs`` (semantic and data-warehouse validations) and several ``mf query`` calls
written to CSV. Every answer is compared with an independent aggregation in plain Python of the
marts' own rows, read back from the same file:

* rates at a coarser grain than the mart (week x feature, month x model_version x segment) from
  the summed numerators and denominators of ``metrics_daily`` or of the fact rows, never from
  averaged rates;
* the TTA median with numpy's linear-interpolation percentile over the mature task rows of the
  group (a median of daily medians would be wrong);
* at the marts' own grain, the marts' own values (``metrics_daily``, ``scorecard``,
  ``retention_weekly``), latency p50/p95 and TTA p90 included;
* groupings the data cannot support are refused by MetricFlow, not answered: CPVO by
  model_version (infra cost is allocated per day x feature x model), RΔ by model.

Counts compare exactly; rates, medians and costs to 1e-9 (relative for costs). A missing row
counts as null on either side, so a row only one side has fails unless its values are null.
MetricFlow reads ``<project>/target/semantic_manifest.json`` and nothing else of the project
folder, so the test gives it a folder with ``dbt_project.yml`` and the build's target (the
working ``target/`` is untouched); the profile (and its UDF plugin) comes from the repo root.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
MF = Path(sys.executable).parent / "mf"

COUNTS = {"queries", "tasks", "tasks_mature", "tasks_completed", "valid_outputs", "reviewed_outputs"}
COSTS = {"cpvo", "total_cost_usd"}


@pytest.fixture(scope="module")
def mf_env(small_demo_build, tmp_path_factory) -> dict:
    assert MF.exists(), (
        f"{MF} missing: install the semantic extra (pip install -e '.[semantic]'; make test does)")
    project = tmp_path_factory.mktemp("mf_project")
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
    (project / "target").symlink_to(small_demo_build["target"], target_is_directory=True)
    assert (project / "target" / "semantic_manifest.json").exists()
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "AIMETRICS_DUCKDB_PATH": str(small_demo_build["db"]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return {"cwd": project, "env": env}


def _mf(mf_env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(MF), *args], cwd=mf_env["cwd"], env=mf_env["env"],
                          capture_output=True, text=True)


def _value(text: str):
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _key_part(text: str):
    if text == "":
        return None
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return dt.date.fromisoformat(text[:10])
    return text


def _read_answer(path: Path, metrics: list[str], group_by: list[str]) -> dict[tuple, dict]:
    """The CSV of ``mf query --csv``: {group-by values: {metric: value}}."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    result: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(_key_part(row[g]) for g in group_by)
        assert key not in result, f"mf returned {key} twice"
        result[key] = {m: _value(row[m]) for m in metrics}
    return result


#: Runs several ``mf`` commands in one process through the ``mf`` entry point itself
#: (``dbt_metricflow.cli.main:cli``, what ``.venv/bin/mf`` calls), saving a process start and the
#: imports (seconds of CPU each) per query. argv: JSON list of argument lists, result file.
MF_BATCH = """
import contextlib, io, json, sys
from dbt_metricflow.cli.main import cli
results = []
for args in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            cli.main(args, prog_name="mf", standalone_mode=False)
            returncode = 0
        except SystemExit as exc:
            returncode = exc.code
    results.append({"returncode": returncode, "output": out.getvalue()})
open(sys.argv[2], "w").write(json.dumps(results))
"""

#: name -> (metrics, group-by) of the queries answered in one batch
QUERIES = {
    "week_feature_model": (["tcr", "hallucination_rate", "hitl_f", "cpvo", "tta_p50_s"],
                           ["metric_time__week", "feature", "model"]),
    "retention": (["retention_delta_pts", "ai_retention_7d", "non_ai_retention_7d"],
                  ["metric_time__week", "feature"]),
    "retention_month": (["retention_delta_pts"], ["metric_time__month"]),
    "version_segment": (["tcr", "hallucination_rate", "hitl_f", "tta_p50_s", "acceptance_rate", "tasks_mature"],
                        ["metric_time__month", "model_version", "user__segment"]),
    "daily": (["cpvo", "acceptance_rate", "review_coverage", "tta_coverage", "error_rate", "refusal_rate",
               "latency_p50_ms", "latency_p95_ms", "tta_p90_s", "queries", "total_cost_usd"],
              ["metric_time__day", "feature", "model"]),
}
#: name -> (metrics, group-by) MetricFlow must refuse
REFUSED = {
    "cpvo_by_version": (["cpvo"], ["model_version"]),
    "retention_by_model": (["retention_delta_pts"], ["model"]),
}


def _fetch(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def answers(mf_env) -> dict:
    """Every MetricFlow call of the module, run before this process opens the file.

    ``mf validate-configs`` and the issue's query run as the ``mf`` executable; the other
    queries in one batch process (MF_BATCH).
    """
    cwd = mf_env["cwd"]
    out = {"validate": _mf(mf_env, "validate-configs")}
    literal = _mf(mf_env, "query", "--metrics", "tcr,hallucination_rate",
                  "--group-by", "metric_time__week,feature", "--csv", str(cwd / "week_feature.csv"))
    assert literal.returncode == 0, f"mf query failed:\n{literal.stdout}\n{literal.stderr}"
    out["week_feature"] = _read_answer(cwd / "week_feature.csv", ["tcr", "hallucination_rate"],
                                       ["metric_time__week", "feature"])
    calls = [["query", "--metrics", ",".join(m), "--group-by", ",".join(g), "--csv", str(cwd / f"{name}.csv")]
             for name, (m, g) in QUERIES.items()]
    calls += [["query", "--metrics", ",".join(m), "--group-by", ",".join(g)] for m, g in REFUSED.values()]
    proc = subprocess.run([sys.executable, "-c", MF_BATCH, json.dumps(calls), str(cwd / "batch.json")],
                          cwd=cwd, env=mf_env["env"], capture_output=True, text=True)
    assert proc.returncode == 0, f"mf batch failed:\n{proc.stdout}\n{proc.stderr}"
    results = json.loads((cwd / "batch.json").read_text())
    for (name, (metrics, group_by)), result in zip(QUERIES.items(), results):
        assert result["returncode"] == 0, f"mf query {name} failed:\n{result['output']}"
        out[name] = _read_answer(cwd / f"{name}.csv", metrics, group_by)
    out.update(zip(REFUSED, results[len(QUERIES):]))
    return out


@pytest.fixture(scope="module")
def marts(small_demo_build, answers) -> dict[str, list[dict]]:
    con = duckdb.connect(str(small_demo_build["db"]), read_only=True)
    try:
        return {name: _fetch(con, f"select * from marts.{name}")
                for name in ("metrics_daily", "scorecard", "retention_weekly", "fct_interactions", "fct_tasks",
                             "dim_users")}
    finally:
        con.close()


# --- independent aggregation -------------------------------------------------------------------

def _week(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _month(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _ratio(num, den, scale: float = 1.0):
    return scale * num / den if den else None


def _median(values: list[float], q: float = 50):
    return float(np.percentile(values, q)) if values else None


def _sum_by(rows, key, columns):
    sums: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        for c in columns:
            sums[key(r)][c] += float(r[c] or 0)
    return sums


def _daily_rates(sums: dict) -> dict:
    """The headline rates of the spec from summed metrics_daily numerators and denominators."""
    return {
        "tcr": _ratio(sums["tasks_completed"], sums["tasks_mature"]),
        "hallucination_rate": _ratio(sums["hallucinated_outputs"], sums["reviewed_outputs"]),
        "hitl_f": _ratio(sums["interventions"], sums["queries"], 100.0),
        "cpvo": _ratio(sums["total_cost_usd"], sums["valid_outputs"]),
    }


DAILY_SUMS = ["tasks_completed", "tasks_mature", "hallucinated_outputs", "reviewed_outputs", "interventions",
              "queries", "total_cost_usd", "valid_outputs"]


def _same(metric: str, got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if metric in COUNTS:
        return got == want
    if metric in COSTS:
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


def assert_agree(got: dict[tuple, dict], want: dict[tuple, dict], metrics: list[str], min_values: int = 20):
    """Every key of either side; a side without the key reads null. At least min_values non-null pairs."""
    problems, compared = [], 0
    for key in sorted(set(got) | set(want), key=repr):
        for m in metrics:
            g, w = got.get(key, {}).get(m), want.get(key, {}).get(m)
            if not _same(m, g, w):
                problems.append(f"{key} {m}: mf {g!r} != expected {w!r}")
            compared += g is not None
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:20])
    assert compared >= min_values, f"only {compared} non-null values compared"


# --- tests -------------------------------------------------------------------------------------

def test_validate_configs(answers):
    proc = answers["validate"]
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Successfully validated the semantics of built manifest (ERRORS: 0" in output, output
    for step in ("semantic models", "dimensions", "entities", "measures", "metrics"):
        assert f"Successfully validated {step} against data warehouse (ERRORS: 0" in output, output


def test_tcr_and_hr_by_week_and_feature(answers, marts):
    """The issue's query: mf query --metrics tcr,hallucination_rate --group-by metric_time__week,feature."""
    sums = _sum_by(marts["metrics_daily"], lambda r: (_week(r["metric_date"]), r["feature"]), DAILY_SUMS)
    want = {k: _daily_rates(s) for k, s in sums.items()}
    assert_agree(answers["week_feature"], want, ["tcr", "hallucination_rate"])


def test_headline_by_week_feature_model_equals_scorecard(answers, marts):
    got = answers["week_feature_model"]
    metrics = ["tcr", "hallucination_rate", "hitl_f", "cpvo", "tta_p50_s"]
    # the scorecard mart's own values
    scorecard = {(r["week"], r["feature"], r["model"]): {m: r[m] for m in metrics} for r in marts["scorecard"]}
    scorecard = {k: {m: (float(v) if v is not None else None) for m, v in row.items()} for k, row in scorecard.items()}
    assert_agree(got, scorecard, metrics)
    # and an independent aggregation: summed daily numerators, TTA median over the task rows
    sums = _sum_by(marts["metrics_daily"], lambda r: (_week(r["metric_date"]), r["feature"], r["model"]),
                   DAILY_SUMS)
    tta: dict[tuple, list[float]] = defaultdict(list)
    for t in marts["fct_tasks"]:
        if t["is_mature"] and t["tta_s"] is not None:
            tta[(_week(t["task_date"]), t["feature"], t["model"])].append(t["tta_s"])
    want = {k: {**_daily_rates(s), "tta_p50_s": _median(tta.get(k, []))} for k, s in sums.items()}
    assert_agree(got, want, metrics)


def test_retention_delta_by_week_and_feature(answers, marts):
    got = answers["retention"]
    rows = marts["retention_weekly"]
    mart = {(r["cohort_week"], r["feature"]): {
        "retention_delta_pts": r["retention_delta_pts"], "ai_retention_7d": r["ai_retention_7d"],
        "non_ai_retention_7d": r["non_ai_retention_7d"]} for r in rows}
    assert_agree(got, mart, list(mart[next(iter(mart))]), min_values=10)
    # the scorecard carries the feature's RΔ on each model row of the week
    for r in marts["scorecard"]:
        value = got.get((r["week"], r["feature"]), {}).get("retention_delta_pts")
        assert _same("retention_delta_pts", value, r["retention_delta_pts"]), (r["week"], r["feature"])


def test_retention_delta_pools_user_weeks_at_a_coarser_grain(answers, marts):
    sums = _sum_by(marts["retention_weekly"], lambda r: (_month(r["cohort_week"]),),
                   ["ai_users", "ai_users_retained", "non_ai_users", "non_ai_users_retained"])
    want = {}
    for k, s in sums.items():
        ai = _ratio(s["ai_users_retained"], s["ai_users"])
        non_ai = _ratio(s["non_ai_users_retained"], s["non_ai_users"])
        want[k] = {"retention_delta_pts": None if ai is None or non_ai is None else 100 * (ai - non_ai)}
    assert_agree(answers["retention_month"], want, ["retention_delta_pts"], min_values=2)


def test_headline_by_model_version_and_segment(answers, marts):
    """model_version and segment live on the facts (and dim_users), not on metrics_daily."""
    segment = {u["user_id"]: u["segment"] for u in marts["dim_users"]}
    want: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    tta: dict[tuple, list[float]] = defaultdict(list)
    task_keys = set()
    for t in marts["fct_tasks"]:
        key = (_month(t["task_date"]), t["model_version"], segment[t["user_id"]])
        task_keys.add(key)
        want[key]["tasks_mature"] += t["is_mature"]
        want[key]["tasks_completed"] += t["is_mature"] and t["is_completed_clean"]
        if t["is_mature"] and t["tta_s"] is not None:
            tta[key].append(t["tta_s"])
    for i in marts["fct_interactions"]:
        key = (_month(i["requested_date"]), i["model_version"], segment[i["user_id"]])
        s = want[key]
        s["queries"] += 1
        s["outputs"] += i["is_output"]
        s["accepted_outputs"] += i["is_accepted"]
        s["reviewed_outputs"] += i["has_hallucination_verdict"]
        s["hallucinated_outputs"] += i["has_hallucination_verdict"] and i["is_hallucinated"]
        s["interventions"] += i["interventions"]
    expected = {k: {
        "tcr": _ratio(s["tasks_completed"], s["tasks_mature"]),
        "hallucination_rate": _ratio(s["hallucinated_outputs"], s["reviewed_outputs"]),
        "hitl_f": _ratio(s["interventions"], s["queries"], 100.0),
        "acceptance_rate": _ratio(s["accepted_outputs"], s["outputs"]),
        "tta_p50_s": _median(tta.get(k, [])),
        # a group with queries but no task started in it: no task row, so mf's count is null
        "tasks_mature": s["tasks_mature"] if k in task_keys else None,
    } for k, s in want.items()}
    got = answers["version_segment"]
    assert_agree(got, expected, ["tcr", "hallucination_rate", "hitl_f", "acceptance_rate", "tta_p50_s",
                                 "tasks_mature"])
    assert {k[2] for k in got} >= {"free", "pro", "team"}, "segments missing from the answer"
    assert len({k[1] for k in got if k[1]}) >= 4, "model versions missing from the answer"


def test_daily_grain_equals_metrics_daily(answers, marts):
    """At the mart's own grain every metric equals the mart's column (percentiles included)."""
    metrics = ["cpvo", "acceptance_rate", "review_coverage", "tta_coverage", "error_rate", "refusal_rate",
               "latency_p50_ms", "latency_p95_ms", "tta_p90_s", "queries", "total_cost_usd"]
    want = {}
    for r in marts["metrics_daily"]:
        row = {m: (float(r[m]) if r[m] is not None else None) for m in metrics}
        # a cell with no query of its own (only tasks, events or infra cost): mf has no queries row
        if r["queries"] == 0:
            row["queries"] = None
        want[(r["metric_date"], r["feature"], r["model"])] = row
    assert_agree(answers["daily"], want, metrics, min_values=200)


@pytest.mark.parametrize("call, needle", [
    ("cpvo_by_version", "SimpleMetric('total_cost_usd')"),
    ("retention_by_model", "SimpleMetric('ai_users"),
])
def test_groupings_the_data_cannot_support_are_refused(answers, call, needle):
    output = answers[call]["output"]
    assert answers[call]["returncode"] != 0, f"{call} was answered:\n{output}"
    assert "does not match any of the available group-by-items" in output and needle in output, output
