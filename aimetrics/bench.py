"""``aimetrics bench``: the project's speed and memory against the engine's own limit.

One run, on one dataset, in a work folder (default ``bench_work/`` in the repo):

1. ``generate`` the demo data at ``--interactions`` (reused when the folder
   already holds the same scale and seed);
2. ``load``: land it in a fresh DuckDB file with ``aimetrics load``'s loader,
   then hold back the last calendar day (and the internal QA bot's later days)
   into schema ``bench_hold``: the full build sees the history only;
3. ``seed``: ``dbt seed``;
4. ``full_build``: ``dbt run`` (models only) on an empty warehouse;
5. ``full_build_with_tests``: ``dbt build --full-refresh`` (seeds, models, tests);
6. ``baseline``: ``bench/baseline_metrics_daily.sql``, one hand-written DuckDB
   script computing the L6 columns of ``metrics_daily`` from the raw tables;
   compared in code with ``marts.metrics_daily`` (counts exact, the rest to
   1e-9 relative): ``baseline_agrees``;
7. ``land_day``: append the held-back day to the raw tables with later
   ``ingested_at`` (each row's own shifted past the history's latest, so the
   order among copies of an id is kept);
8. ``incremental``: ``dbt run`` as the scheduled daily run does, on top of the
   full history; ``incremental_tests``: ``dbt test`` after it (skipped with
   ``--no-incremental-tests``);
9. ``baseline_after_day``: the baseline again on all data, compared with the
   marts the daily run left (``incremental_agrees``).

Every phase but generate runs as a child process; its wall time and peak RSS
(``os.wait4``'s ``ru_maxrss``: DuckDB's allocations count, it runs in the
child) are recorded. dbt and the baseline get the same DuckDB settings:
``AIMETRICS_MEMORY_LIMIT``, ``AIMETRICS_THREADS``, ``AIMETRICS_TEMP_DIRECTORY``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from aimetrics import PROJECT_DIR
from aimetrics.errors import AimetricsError

BASELINE_SQL = PROJECT_DIR / "bench" / "baseline_metrics_daily.sql"
BASELINE_TABLE = "bench_baseline.metrics_daily_l6"
MART_TABLE = "marts.metrics_daily"
HOLD_SCHEMA = "bench_hold"
KEY = ("metric_date", "feature", "model")
#: the L6 columns of metrics_daily the baseline computes: counts compared exactly
COUNT_COLUMNS = ("queries", "tasks_mature", "tasks_completed", "reviewed_outputs", "hallucinated_outputs",
                 "tta_tasks", "interventions", "valid_outputs")
#: ... and values compared to REL_TOL (sums of money and rates, which depend on summation order)
VALUE_COLUMNS = ("tcr", "hallucination_rate", "tta_p50_s", "tta_p90_s", "hitl_f", "total_cost_usd", "cpvo")
REL_TOL = 1e-9
#: (table, timestamp column) held back as "the new day": rows on or after the last calendar day
NEW_DAY_ROWS = (("interactions", "requested_at"), ("user_events", "occurred_at"),
                ("output_reviews", "reviewed_at"), ("infra_costs", "cost_date"))
#: The demo files give interactions and user_events a simulated ``ingested_at``; the other
#: tables' rows get the load time from the loader, months after the simulated history. The
#: incremental watermark is the newest ``ingested_at`` of all tables, so the history is
#: restamped as if it had been landed day by day (else every review would look newer than the
#: held-back day, and the daily run would rewrite every reviewed date). bench/incremental_day.py
#: uses the same stamps.
HISTORY_INGESTED = {"output_reviews": "reviewed_at + interval 1 hour", "users": "timestamp '2026-06-01'",
                    "infra_costs": "cost_date + interval 1 day"}
#: every dbt phase gets the same vars, so dbt's partial parsing (on by default) is never
#: invalidated between phases; allow_full_refresh only matters with --full-refresh
DBT_VARS = ["--vars", json.dumps({"allow_full_refresh": True})]


# ---------------------------------------------------------------------------- comparison

def compare_to_mart(con, baseline: str = BASELINE_TABLE, mart: str = MART_TABLE, limit: int = 10) -> list[str]:
    """Differences between the baseline table and the mart, as messages (empty: they agree).

    Rows are matched on (metric_date, feature, model); a row in one table only is
    a difference. Counts must be equal; other values equal within REL_TOL
    (relative; absolute 1e-12 near zero), null only where the other is null.
    """
    cols = ", ".join(KEY + COUNT_COLUMNS + VALUE_COLUMNS)
    order = ", ".join(KEY)
    base = {r[:3]: r[3:] for r in con.execute(f"select {cols} from {baseline} order by {order}").fetchall()}
    marts = {r[:3]: r[3:] for r in con.execute(f"select {cols} from {mart} order by {order}").fetchall()}
    names = COUNT_COLUMNS + VALUE_COLUMNS
    problems: list[str] = []
    for key in sorted(set(base) | set(marts), key=str):
        if key not in marts:
            problems.append(f"{key}: row in the baseline only")
        elif key not in base:
            problems.append(f"{key}: row in the mart only")
        else:
            for name, b, m in zip(names, base[key], marts[key]):
                if not _same(name, b, m):
                    problems.append(f"{key} {name}: baseline {b!r} != mart {m!r}")
    if len(problems) > limit:
        problems = problems[:limit] + [f"... and {len(problems) - limit} more"]
    return problems


def _same(name: str, b, m) -> bool:
    if b is None or m is None:
        return b is None and m is None
    if name in COUNT_COLUMNS:
        return int(b) == int(m)
    return math.isclose(float(b), float(m), rel_tol=REL_TOL, abs_tol=1e-12)


# ---------------------------------------------------------------------------- child phases

def _connect(db: str):
    """A DuckDB connection with the same settings as the dbt profile (the loader's, which reads
    the same AIMETRICS_* variables; run_bench sets AIMETRICS_THREADS for every child)."""
    from aimetrics.load import connect

    con = connect(db)
    con.execute("SET preserve_insertion_order = false")
    return con


def _child_generate(scale: str, seed: str, data_dir: str) -> None:
    from aimetrics.demo import generate

    generate(scale=int(scale), seed=int(seed), out_dir=Path(data_dir))


def _child_load(db: str, data_dir: str) -> None:
    from aimetrics.demo import CALENDAR_END, _TABLE_DIRS
    from aimetrics.load import load_tables

    files = {t: sorted(p for p in (Path(data_dir) / t).iterdir() if p.suffix in (".parquet", ".csv", ".jsonl"))
             for t in _TABLE_DIRS}
    load_tables(db, {t: f for t, f in files.items() if f}, show_progress=False)
    con = _connect(db)
    for table, stamp in HISTORY_INGESTED.items():
        con.execute(f"UPDATE raw.{table} SET ingested_at = {stamp}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {HOLD_SCHEMA}")
    for table, col in NEW_DAY_ROWS:
        cond = f"{col} >= DATE '{CALENDAR_END.isoformat()}'"
        con.execute(f"CREATE OR REPLACE TABLE {HOLD_SCHEMA}.{table} AS SELECT * FROM raw.{table} WHERE {cond}")
        con.execute(f"DELETE FROM raw.{table} WHERE {cond}")
    con.execute("CHECKPOINT")
    con.close()


def _child_land_day(db: str) -> None:
    con = _connect(db)
    latest = con.execute("SELECT greatest(" + ", ".join(
        f"(SELECT max(ingested_at) FROM raw.{t})" for t in ("interactions", "user_events", *HISTORY_INGESTED))
        + ")").fetchone()[0]
    con.execute("BEGIN")
    for table, _ in NEW_DAY_ROWS:
        cols = [r[0] for r in con.execute(f"DESCRIBE {HOLD_SCHEMA}.{table}").fetchall()]
        if "ingested_at" in cols:
            first = con.execute(f"SELECT min(ingested_at) FROM {HOLD_SCHEMA}.{table}").fetchone()[0]
            shift = max((latest - first).total_seconds() + 3600, 0) if latest and first else 0
            select = ", ".join(f"ingested_at + to_seconds({shift})" if c == "ingested_at" else c for c in cols)
        else:
            select = ", ".join(cols)
        con.execute(f"INSERT INTO raw.{table} ({', '.join(cols)}) SELECT {select} FROM {HOLD_SCHEMA}.{table}")
    con.execute("COMMIT")
    con.close()


def _child_baseline(db: str) -> None:
    con = _connect(db)
    con.execute(BASELINE_SQL.read_text())
    con.close()


CHILDREN = {"generate": _child_generate, "load": _child_load, "land_day": _child_land_day, "baseline": _child_baseline}


# ---------------------------------------------------------------------------- parent

def _run_child(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, int]:
    """Run cmd; return (seconds, peak RSS in MB, exit code)."""
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "ram_gb": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version()}


def run_bench(interactions: int, json_path: Path, work_dir: Path, seed: int = 42,
              select: str | None = None, incremental_tests: bool = True, only: list[str] | None = None,
              echo=print) -> dict:
    """Run every phase (or the phases in ``only``); write and return the results (module docstring).

    The JSON is rewritten after each phase, so an interrupted run leaves what it measured
    (``complete`` false). With ``only`` and without ``load``, the phases run on the work folder's
    existing database and their results are merged into the existing JSON, if any.
    """
    import duckdb

    from aimetrics.dbt_runner import dbt_env, dbt_executable

    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir, db = work_dir / "data", work_dir / "bench.duckdb"
    target = work_dir / "target"
    env = dbt_env(db)
    env.setdefault("AIMETRICS_MEMORY_LIMIT", "4GB")
    env.setdefault("AIMETRICS_THREADS", str(os.cpu_count() or 1))
    env.setdefault("AIMETRICS_TEMP_DIRECTORY", str(db) + ".tmp")
    results: dict = {"interactions_requested": interactions, "seed": seed,
                     "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "machine": machine(), "loadavg_start": list(os.getloadavg()),
                     "dbt_select": select, "memory_limit": env["AIMETRICS_MEMORY_LIMIT"], "threads": int(env["AIMETRICS_THREADS"]),
                     "duckdb": duckdb.__version__, "phases": {}, "peak_rss_mb": {}}
    reuse = only is not None and "load" not in only
    results["complete"] = False
    if reuse:
        if not db.exists():
            raise AimetricsError(f"--phases without load needs the database of an earlier run: {db} is missing")
        if Path(json_path).exists():
            earlier = json.loads(Path(json_path).read_text())
            results = {**earlier, "phases": earlier.get("phases", {}),
                       "resumed_utc": results["started_utc"], "loadavg_resumed": results["loadavg_start"],
                       "complete": False}

    # 1. data, in a child too: a child's ru_maxrss starts from its parent's size at fork, so the
    # driver stays small (its own peak is recorded: no phase can report less than it)
    truth = data_dir / "_truth.json"
    py = [sys.executable, "-m", "aimetrics.bench", "--child"]
    if reuse:
        echo(f"reusing the database {db}")
    elif truth.exists() and json.loads(truth.read_text()).get("scale") == interactions \
            and json.loads(truth.read_text()).get("seed") == seed:
        echo(f"reusing the demo data in {data_dir}")
    else:
        echo(f"generating {interactions:,} interactions into {data_dir} ...")
        seconds, rss, code = _run_child(py + ["generate", str(interactions), str(seed), str(data_dir)], env,
                                        work_dir / "generate.log")
        if code != 0:
            raise AimetricsError(f"generating the data failed; log {work_dir / 'generate.log'}")
        results["generate_s"], results["generate_peak_rss_mb"] = round(seconds, 2), round(rss, 1)
    if not reuse:
        for stale in (db, Path(str(db) + ".wal")):
            stale.unlink(missing_ok=True)

    dbt = [dbt_executable(), "--no-use-colors"]
    dbt_tail = ["--project-dir", str(PROJECT_DIR), "--target-path", str(target),
                "--log-path", str(work_dir / "dbt_logs"), *DBT_VARS]
    sel = ["--select", select] if select else []
    phases = [
        ("load", py + ["load", str(db), str(data_dir)]),
        ("seed", dbt + ["seed"] + dbt_tail),
        ("full_build", dbt + ["run"] + sel + dbt_tail),
        ("full_build_with_tests", dbt + ["build", "--full-refresh"] + sel + dbt_tail),
        ("baseline", py + ["baseline", str(db)]),
        ("land_day", py + ["land_day", str(db)]),
        ("incremental", dbt + ["run"] + sel + dbt_tail),
        *([("incremental_tests", dbt + ["test"] + sel + dbt_tail)] if incremental_tests else []),
        ("baseline_after_day", py + ["baseline", str(db)]),
        ("dbt_parse", dbt + ["parse"] + dbt_tail),
    ]
    if only is not None:
        unknown = set(only) - {name for name, _ in phases}
        if unknown:
            raise AimetricsError(f"unknown bench phase(s) {', '.join(sorted(unknown))}; phases: "
                                 + ", ".join(name for name, _ in phases))
    for name, cmd in phases:
        if only is not None and name not in only:
            continue
        echo(f"{name} ...")
        seconds, rss, code = _run_child(cmd, env, work_dir / f"{name}.log")
        results["phases"][name] = {"seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1), "exit_code": code}
        echo(f"  {seconds:8.1f} s  {rss:8.0f} MB  exit {code}")
        _write(results, json_path)
        if code != 0 and name in ("load", "seed", "full_build", "baseline", "land_day", "incremental",
                                  "baseline_after_day"):
            tail = (work_dir / f"{name}.log").read_text().splitlines()[-15:]
            raise AimetricsError(f"bench phase {name} failed (exit {code}); log {work_dir / (name + '.log')}:\n"
                                 + "\n".join(tail))
        if name == "load" or (reuse and "interactions" not in results):
            with duckdb.connect(str(db), read_only=True) as con:
                results["interactions"] = con.execute(
                    f"select (select count(*) from raw.interactions) + (select count(*) from {HOLD_SCHEMA}.interactions)"
                ).fetchone()[0]
                results["events"] = con.execute(
                    f"select (select count(*) from raw.user_events) + (select count(*) from {HOLD_SCHEMA}.user_events)"
                ).fetchone()[0]
                results["new_day_interactions"] = con.execute(
                    f"select count(*) from {HOLD_SCHEMA}.interactions").fetchone()[0]
                results["new_day_events"] = con.execute(f"select count(*) from {HOLD_SCHEMA}.user_events").fetchone()[0]
        if name in ("baseline", "baseline_after_day"):
            with duckdb.connect(str(db), read_only=True) as con:
                problems = compare_to_mart(con)
                results["metrics_daily_rows" if name == "baseline" else "metrics_daily_rows_after_day"] = \
                    con.execute(f"select count(*) from {MART_TABLE}").fetchone()[0]
            key = "baseline" if name == "baseline" else "incremental"
            results[f"{key}_agrees"] = not problems
            results[f"{key}_differences"] = problems
            echo(f"  {key}_agrees: {not problems}" + "".join(f"\n    {p}" for p in problems))
        _write(results, json_path)

    results["complete"] = all(name in results["phases"] for name, _ in phases)
    _write(results, json_path)
    echo(table(results))
    return results


def _write(results: dict, json_path: Path) -> None:
    """Derive the summary keys from the phases measured so far (null when missing) and write the JSON."""
    import resource

    ph = results["phases"]

    def sec(name):
        return ph[name]["seconds"] if name in ph else None

    for key, name in (("full_build_s", "full_build"), ("full_build_with_tests_s", "full_build_with_tests"),
                      ("incremental_s", "incremental"), ("incremental_tests_s", "incremental_tests"),
                      ("baseline_s", "baseline"), ("dbt_parse_s", "dbt_parse")):
        results[key] = sec(name)
    for name in ("full_build_with_tests", "incremental_tests"):
        if name in ph:
            results[f"{name}_exit_code"] = ph[name]["exit_code"]
    results["peak_rss_mb"] = {name: p["peak_rss_mb"] for name, p in ph.items()}
    full, base, inc = results["full_build_s"], results["baseline_s"], results["incremental_s"]
    results["full_over_baseline"] = round(full / base, 3) if full and base else None
    results["incremental_over_full"] = round(inc / full, 4) if full and inc else None
    results["loadavg_end"] = list(os.getloadavg())
    results["driver_peak_rss_mb"] = max(results.get("driver_peak_rss_mb", 0),
                                        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    results["finished_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")


def table(r: dict) -> str:
    """The results as a Markdown table."""
    lines = [f"{r['interactions']:,} interactions, {r['events']:,} events; new day: "
             f"{r['new_day_interactions']:,} interactions, {r['new_day_events']:,} events; "
             f"memory_limit {r['memory_limit']}, threads {r['threads']}", "",
             "| phase | seconds | peak RSS (MB) | exit |", "|---|---:|---:|---:|"]
    for name, p in r["phases"].items():
        lines.append(f"| {name} | {p['seconds']:.1f} | {p['peak_rss_mb']:.0f} | {p['exit_code']} |")
    lines += ["", f"full_over_baseline {r['full_over_baseline']}, incremental_over_full "
              f"{r['incremental_over_full']}, baseline_agrees {r.get('baseline_agrees')}, "
              f"incremental_agrees {r.get('incremental_agrees')}"]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        CHILDREN[sys.argv[2]](*sys.argv[3:])
    else:
        sys.exit("internal entry point of `aimetrics bench` (use the CLI)")
