"""`aimetrics bench` end to end at a tiny scale, and its baseline comparison.

The benchmark's numbers are measured, never asserted here: this checks that the
command runs every phase, writes the documented JSON keys with positive
numbers, and that the hand-written baseline (bench/baseline_metrics_daily.sql,
written from the spec) agrees with marts.metrics_daily — and that the
comparison does fail when a mart number is off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from aimetrics.bench import MART_TABLE, compare_to_mart

KEYS = ("interactions", "events", "full_build_s", "full_build_with_tests_s", "incremental_s", "baseline_s",
        "full_over_baseline", "incremental_over_full")
PHASES = ("load", "seed", "full_build", "full_build_with_tests", "baseline", "land_day", "incremental",
          "baseline_after_day", "dbt_parse")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    out = work / "results.json"
    aimetrics = Path(sys.executable).parent / "aimetrics"
    # the mart and what it reads, and only the tests of those models (cautious: not a test that
    # also reads an unselected model): the whole project's tests would not fit the CI budget
    env = {**os.environ, "DBT_INDIRECT_SELECTION": "cautious"}
    proc = subprocess.run([str(aimetrics), "bench", "--interactions", "2000", "--select", "+metrics_daily",
                           "--no-incremental-tests", "--json", str(out), "--work-dir", str(work)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), work, proc.stdout


def test_bench_writes_every_key_with_positive_numbers(bench_run):
    results, _, stdout = bench_run
    for key in KEYS:
        assert isinstance(results[key], (int, float)) and results[key] > 0, key
    assert results["interactions"] >= 2000  # the generator tops up to whole users
    assert results["events"] > results["interactions"]
    assert set(results["peak_rss_mb"]) == set(PHASES)
    assert all(mb > 0 for mb in results["peak_rss_mb"].values())
    assert all(p["exit_code"] == 0 for p in results["phases"].values()), results["phases"]
    assert results["new_day_interactions"] > 0
    assert results["full_over_baseline"] == pytest.approx(results["full_build_s"] / results["baseline_s"], rel=1e-2)
    assert "| full_build |" in stdout


def test_baseline_agrees_with_the_mart_before_and_after_the_new_day(bench_run):
    results, _, _ = bench_run
    assert results["baseline_agrees"] is True, results["baseline_differences"]
    assert results["incremental_agrees"] is True, results["incremental_differences"]
    assert results["metrics_daily_rows"] > 0


@pytest.mark.parametrize("change, expected", [
    (f"update {MART_TABLE} set valid_outputs = valid_outputs + 1 where rowid = (select min(rowid) from {MART_TABLE})",
     "valid_outputs"),
    (f"update {MART_TABLE} set total_cost_usd = total_cost_usd * (1 + 1e-7) "
     f"where total_cost_usd > 0 and rowid = (select min(rowid) from {MART_TABLE} where total_cost_usd > 0)",
     "total_cost_usd"),
    (f"update {MART_TABLE} set hallucination_rate = null "
     f"where rowid = (select min(rowid) from {MART_TABLE} where hallucination_rate is not null)",
     "hallucination_rate"),
    (f"delete from {MART_TABLE} where rowid = (select max(rowid) from {MART_TABLE})", "in the baseline only"),
])
def test_comparison_fails_when_a_mart_number_is_perturbed(bench_run, tmp_path, change, expected):
    _, work, _ = bench_run
    db = tmp_path / "copy.duckdb"
    shutil.copy(work / "bench.duckdb", db)
    with duckdb.connect(str(db)) as con:
        assert compare_to_mart(con) == []
        con.execute(change)
        problems = compare_to_mart(con)
    assert len(problems) == 1 and expected in problems[0], problems
