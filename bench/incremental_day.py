"""Full build vs a daily incremental run, on the demo data (issue 7, item 1). Not run in CI.

    .venv/bin/python bench/incremental_day.py [--interactions 500000] [--work /tmp/aimetrics_incr]

1. generates the demo data (`aimetrics demo` generator) and lands it with the loader;
2. copies every raw row before the demo's last calendar day into a fresh database (the
   history) and builds it (`dbt build` of seeds and models, no tests): the full build;
3. lands the last day (queries, events and reviews of that day, without ingested_at, so the
   loader stamps the load time) with the loader and builds again: the daily incremental run.
Prints both wall times (dbt start-up included), the models' own time, and the slowest models
of the incremental run (from run_results.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import duckdb

from aimetrics.bench import HISTORY_INGESTED  # the history as if landed day by day
from aimetrics.dbt_runner import run_dbt
from aimetrics.demo import CALENDAR_END
from aimetrics.load import load_files
from aimetrics.pipeline import load_demo

DAY_COLUMN = {"interactions": "requested_at", "user_events": "occurred_at", "output_reviews": "reviewed_at"}
TABLES = ("interactions", "user_events", "output_reviews", "eval_results", "users", "infra_costs")


def timed_run(db: Path, target: Path, label: str) -> dict:
    started = time.perf_counter()
    run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
            duckdb_path=db, target_path=target)
    wall = time.perf_counter() - started
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = sorted(((r["execution_time"], r["unique_id"].split(".")[-1]) for r in results), reverse=True)
    print(f"{label}: {wall:.1f}s wall (dbt start-up included), models {sum(t for t, _ in models):.1f}s")
    return {"wall_s": wall, "models_s": sum(t for t, _ in models), "slowest": models[:8]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interactions", type=int, default=500_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aimetrics_incr"))
    args = ap.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    scratch, db, target = work / "all.duckdb", work / "bench.duckdb", work / "target"
    if not scratch.exists():
        load_demo(scratch, args.interactions, 42, work / "data")
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    day = CALENDAR_END.isoformat()
    with duckdb.connect(str(db)) as con:
        con.execute(f"attach '{scratch}' as src (read_only)")
        con.execute("create schema raw")
        for t in TABLES:
            col = DAY_COLUMN.get(t)
            where = f"where {col} is null or {col} < timestamp '{day}'" if col else ""
            cols = [r[0] for r in con.sql(f"describe src.raw.{t}").fetchall()]
            stamp = f"replace ({HISTORY_INGESTED[t]} as ingested_at)" if t in HISTORY_INGESTED and "ingested_at" in cols else ""
            con.execute(f"create table raw.{t} as select * {stamp} from src.raw.{t} {where}")
            if col:
                con.execute(f"copy (select * exclude (ingested_at) from src.raw.{t} where {col} >= timestamp '{day}') "
                            f"to '{work / (t + '_day.parquet')}' (format parquet)")
        counts = {t: con.sql(f"select count(*) from raw.{t}").fetchall()[0][0] for t in DAY_COLUMN}
    print(f"history (before {day}): {counts}")
    full = timed_run(db, target, "full build (empty warehouse)")
    new_rows = {t: load_files(db, t, [work / f"{t}_day.parquet"], show_progress=False) for t in DAY_COLUMN}
    print(f"new day {day} and after: {new_rows}")
    incr = timed_run(db, target, "incremental run (one new day)")
    with duckdb.connect(str(db), read_only=True) as con:
        touched = con.sql("select count(touched_date) from intermediate.int_incremental_scope").fetchall()[0][0]
    print(f"dates rewritten: {touched}")
    print(f"incremental / full: {incr['wall_s'] / full['wall_s']:.1%} wall, {incr['models_s'] / full['models_s']:.1%} models")
    print("slowest models, incremental run:", ", ".join(f"{n} {t:.1f}s" for t, n in incr["slowest"]))
    print("slowest models, full build:", ", ".join(f"{n} {t:.1f}s" for t, n in full["slowest"]))


if __name__ == "__main__":
    main()
