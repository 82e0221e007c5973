"""The Dagster example (orchestration/dagster/definitions.py) runs the pipeline in-process.

One module-scoped run of the scheduled job ``aimetrics_build`` on a small demo
warehouse: the raw GX checks, ``dbt build`` as dbt assets, the marts GX checks.
The marts are compared with the counts the demo generator realized
(``_truth.json``, :data:`aimetrics.demo.PLANTED`), not with anything the
pipeline computed. A second run on a raw table with a future timestamp shows
the blocking raw check stops the build.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed (pip install -e '.[dagster]')")
pytest.importorskip("dagster_dbt")
duckdb = pytest.importorskip("duckdb")

from aimetrics import PROJECT_DIR, demo  # noqa: E402
from aimetrics.dbt_runner import run_dbt  # noqa: E402
from aimetrics.load import load_files  # noqa: E402

DEFINITIONS = PROJECT_DIR / "orchestration" / "dagster" / "definitions.py"
SCALE, SEED = 2_000, 11


def _module():
    spec = importlib.util.spec_from_file_location("aimetrics_dagster_definitions", DEFINITIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _suite_tables(layer: str) -> set[str]:
    """schema.table of every GX suite of the layer, read from the suite files."""
    out = set()
    for f in (PROJECT_DIR / "contracts" / layer).glob("*.json"):
        meta = json.loads(f.read_text())["meta"]
        out.add(f"{meta['schema']}.{meta['table']}")
    return out


def _run_job(manifest, tmp, db):
    """Execute the scheduled job in-process on DuckDB file db (env as the CLI and the dbt profile read it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIMETRICS_DUCKDB_PATH", str(db))
        mp.setenv("DBT_TARGET_PATH", str(tmp / "target"))  # dagster-dbt's per-run target folders go below
        defs = _module().build_definitions(manifest, docs_dir=tmp / "docs")
        job = defs.resolve_job_def("aimetrics_build")
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return defs, result


def _gx_results(result) -> dict[str, object]:
    """{schema.table: evaluation} of the gx_contract checks."""
    return {".".join(e.asset_key.path): e for e in result.get_asset_check_evaluations()
            if e.check_name == "gx_contract"}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """A folder, the demo DuckDB path in it, and the manifest parsed with that profile into its target folder.

    dagster-dbt copies the target folder's partial-parse file into each run's folder, so the build
    does not parse the project again.
    """
    tmp = tmp_path_factory.mktemp("dagster_demo")
    db = tmp / "demo.duckdb"
    run_dbt(["parse"], duckdb_path=db, target_path=tmp / "target")
    return tmp, db, json.loads((tmp / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def demo_run(parsed):
    tmp, db, manifest = parsed
    for table, paths in demo.generate(scale=SCALE, seed=SEED, out_dir=tmp / "data").items():
        load_files(db, table, paths)
    defs, result = _run_job(manifest, tmp, db)
    return {"defs": defs, "result": result, "db": db, "truth": demo.load_truth(tmp / "data"), "manifest": manifest}


def test_job_succeeds_and_materializes_every_dbt_model_and_seed(demo_run):
    result, manifest = demo_run["result"], demo_run["manifest"]
    assert result.success, [e.message for e in result.get_step_failure_events()]
    built = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    expected = {n["name"] for n in manifest["nodes"].values()
                if n["resource_type"] in ("model", "seed") and n["config"].get("enabled", True)}
    assert expected and built == expected


def test_gx_contracts_ran_as_asset_checks_on_every_suite_table_and_passed(demo_run):
    got = _gx_results(demo_run["result"])
    assert set(got) == _suite_tables("raw") | _suite_tables("marts")
    assert _suite_tables("raw") and _suite_tables("marts")
    failed = {k: e.metadata for k, e in got.items() if not e.passed}
    assert not failed
    # the demo plants malformed raw rows: the raw checks report them as warnings, not errors
    assert got["raw.interactions"].metadata["warnings"].value > 0
    assert got["raw.interactions"].metadata["errors"].value == 0


def test_dbt_tests_ran_as_asset_checks(demo_run):
    dbt_checks = [e for e in demo_run["result"].get_asset_check_evaluations() if e.check_name != "gx_contract"]
    n_tests = sum(1 for n in demo_run["manifest"]["nodes"].values()
                  if n["resource_type"] == "test" and n.get("attached_node"))
    assert n_tests and len(dbt_checks) == n_tests
    assert all(e.passed for e in dbt_checks), [e.check_name for e in dbt_checks if not e.passed]


def test_marts_have_the_generated_row_counts(demo_run):
    truth = demo_run["truth"]
    con = duckdb.connect(str(demo_run["db"]), read_only=True)
    try:
        n_queries = sum(c["queries"] for c in truth["cells"].values())
        n_tasks = sum(c["tasks"] for c in truth["cells"].values())
        assert con.execute("select count(*) from marts.fct_interactions").fetchone()[0] == n_queries
        assert con.execute("select count(*) from marts.fct_tasks").fetchone()[0] == n_tasks
        per_cell = {f"{f}/{m}": (q, o, t) for f, m, q, o, t in con.execute(
            "select feature, model, sum(queries), sum(outputs), sum(tasks) from marts.metrics_daily "
            "group by feature, model having sum(queries) > 0").fetchall()}
        assert per_cell == {k: (c["queries"], c["outputs"], c["tasks"]) for k, c in truth["cells"].items()}
        quarantined = dict(con.execute(
            "select raw_table, sum(quarantined_rows) from quarantine.quarantine_summary group by 1").fetchall())
        assert quarantined == demo.PLANTED["quarantine_rows"]
    finally:
        con.close()


def test_daily_schedule_runs_the_job(demo_run):
    schedule = demo_run["defs"].resolve_schedule_def("aimetrics_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "0 6 * * *", "UTC", "aimetrics_build")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING  # the daemon runs it without a UI toggle


def test_blocking_raw_check_stops_the_build(parsed, tmp_path):
    db = tmp_path / "bad.duckdb"
    calls = tmp_path / "calls.csv"
    calls.write_text("interaction_id,task_id,user_id,feature,model,requested_at,status\n"
                     "i1,t1,u1,f,m,2099-01-01T00:00:00Z,ok\n")
    load_files(db, "interactions", [calls])
    _, result = _run_job(parsed[2], tmp_path, db)
    assert not result.success
    raw = _gx_results(result)["raw.interactions"]
    assert not raw.passed and raw.metadata["errors"].value >= 1
    assert "requested_at is not more than 1 day in the future" in raw.metadata["failures"].value
    assert not result.is_node_success("aimetrics_dbt") and not result.get_asset_materialization_events()
    con = duckdb.connect(str(db), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    finally:
        con.close()
    assert "marts" not in schemas
