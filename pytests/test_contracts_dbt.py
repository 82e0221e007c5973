"""dbt's side of the data contracts: enforced model contracts on the public marts and facts,
and source freshness on the raw tables.

* Every public mart and fact has ``contract: {enforced: true}``, ``access: public`` and a
  ``data_type`` on every column (from the manifest).
* dbt refuses to build a public model whose columns drift from its contract: a copy
  of the project (the real model files are never touched) gets one model with a
  changed type and one with a renamed column; ``dbt build --empty`` of seeds and
  models (no data, so it is quick) builds the unchanged facts and refuses both drifted models.
* ``dbt source freshness`` passes on freshly loaded raw tables and errors on stale ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from aimetrics import PROJECT_DIR
from aimetrics.dbt_runner import DbtError, dbt_env, dbt_executable, run_dbt
from aimetrics.load import load_files

PUBLIC = ["fct_interactions", "fct_tasks", "dim_users", "metrics_daily", "retention_weekly", "scorecard"]
IGNORE = shutil.ignore_patterns(".venv", ".git", "target", "logs", "*.duckdb", "*.wal", "demo_data",
                                "data_docs", "pytests", "__pycache__", "*.egg-info")


def _tiny_warehouse(db: Path, tmp: Path, ingested_at: str | None = None) -> None:
    calls = tmp / "calls.csv"
    row = {"interaction_id": "i1", "task_id": "t1", "user_id": "u1", "feature": "f", "model": "gpt-4o",
           "requested_at": "2026-06-01T10:00:00Z", "status": "ok"}
    if ingested_at:
        row["ingested_at"] = ingested_at
    with open(calls, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    events = tmp / "events.csv"
    events.write_text("event_id,user_id,occurred_at,event_type\ne1,u1,2026-06-01T10:00:05Z,suggestion_inserted\n")
    load_files(db, "interactions", [calls])
    load_files(db, "user_events", [events])


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    """`dbt build --empty` (seeds and models) on a copy of the project where two public models drift from their contract."""
    tmp = tmp_path_factory.mktemp("contract_drift")
    project = tmp / "project"
    shutil.copytree(PROJECT_DIR, project, ignore=IGNORE)
    models = project / "models" / "marts"
    # a type drift: active_days becomes a double; a name drift: ai_users is renamed
    for name, change in (("dim_users", "replace (cast(active_days as double) as active_days)"),
                         ("retention_weekly", "rename (ai_users as ai_user_count)")):
        path = models / f"{name}.sql"
        path.write_text(f"select * {change} from (\n{path.read_text()}\n) as drifted\n")
    db = tmp / "w.duckdb"
    _tiny_warehouse(db, tmp)
    result = subprocess.run(
        [dbt_executable(), "--no-use-colors", "build", "--empty", "--resource-type", "seed", "--resource-type", "model",
         "--select", "+dim_users", "+retention_weekly", "+fct_interactions", "+fct_tasks",
         "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(tmp / "target"),
         "--log-path", str(tmp / "logs")],
        cwd=project, env=dbt_env(db), capture_output=True, text=True, timeout=600)
    results = {r["unique_id"].split(".")[-1]: r for r in
               json.loads((tmp / "target" / "run_results.json").read_text())["results"]}
    return result, results


def test_unchanged_public_models_build_under_their_contract(drifted):
    _, results = drifted
    for name in ("fct_interactions", "fct_tasks"):
        assert results[name]["status"] == "success", results[name]["message"]


def test_dbt_refuses_a_public_model_whose_column_type_drifts(drifted):
    result, results = drifted
    assert result.returncode != 0
    r = results["dim_users"]
    assert r["status"] == "error"
    assert "contract" in r["message"].lower() and "active_days" in r["message"], r["message"]


def test_dbt_refuses_a_public_model_whose_column_is_renamed(drifted):
    _, results = drifted
    r = results["retention_weekly"]
    assert r["status"] == "error"
    assert "contract" in r["message"].lower() and "ai_user_count" in r["message"], r["message"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contract_parse")
    run_dbt(["parse"], duckdb_path=tmp / "parse.duckdb", target_path=tmp / "target")
    return json.loads((tmp / "target" / "manifest.json").read_text())


@pytest.mark.parametrize("name", PUBLIC)
def test_public_model_contract_is_declared(manifest, name):
    (node,) = [n for n in manifest["nodes"].values()
               if n["resource_type"] == "model" and n["name"] == name and n["package_name"] == "aimetrics"]
    assert node["access"] == "public"
    assert node["config"]["contract"]["enforced"] is True
    missing = [c for c, col in node["columns"].items() if not col.get("data_type")]
    assert node["columns"] and not missing, missing


@pytest.mark.parametrize("table", ["interactions", "user_events"])
def test_raw_sources_have_freshness_on_ingested_at(manifest, table):
    (node,) = [n for n in manifest["sources"].values() if n["source_name"] == "raw" and n["name"] == table]
    assert node["loaded_at_field"] == "ingested_at"
    assert node["freshness"]["warn_after"] == {"count": 1, "period": "day"}
    assert node["freshness"]["error_after"] == {"count": 3, "period": "day"}


def test_source_freshness_passes_on_fresh_data_and_errors_on_stale(tmp_path):
    fresh, stale = tmp_path / "fresh.duckdb", tmp_path / "stale.duckdb"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _tiny_warehouse(fresh, tmp_path / "a")  # the loader stamps the load time as ingested_at
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _tiny_warehouse(stale, tmp_path / "b", ingested_at=old)
    args = ["source", "freshness", "--select", "source:aimetrics.raw.interactions"]
    run_dbt(args, duckdb_path=fresh, target_path=tmp_path / "t1")
    with pytest.raises(DbtError):
        run_dbt(args, duckdb_path=stale, target_path=tmp_path / "t2")
    sources = json.loads((tmp_path / "t2" / "sources.json").read_text())["results"]
    assert [(r["unique_id"].split(".")[-1], r["status"]) for r in sources] == [("interactions", "error")]
