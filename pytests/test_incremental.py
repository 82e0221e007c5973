"""Incremental runs give exactly the marts of a full build (README "Incremental runs").

A small demo dataset is landed in random batches, as a scheduler would: each
batch holds the rows of a span of days plus rows that arrive late — events of
tasks landed in earlier batches, reviews days after their output, infra costs
after their day — and replays of earlier rows (identical copies, copies with a
changed value that wins deduplication and rewrites an old row, invalid copies
that send an old row to quarantine, changed copies stamped before their
original that lose), and users re-sent as internal. Every
batch is loaded with `aimetrics load`'s loader with a later `ingested_at`,
then `dbt run` updates the incremental models. At the end every public mart
(`access: public`) must equal, row for row, the same database rebuilt with a
guarded full refresh. Several seeds; dbt runs in-process (dbtRunner).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from aimetrics.demo import generate
from aimetrics.load import load_files

PROJECT_DIR = Path(__file__).resolve().parent.parent
# (random seed, lookback_days: None = the project default); with lookback 0 a run
# reprocesses exactly the rows ingested since the last run
SEEDS = [(11, None), (23, 0), (37, 0)]
BATCHES = 3
SCALE = 1500
# dbt build without data tests and unit tests (the rest of the suite runs those): seeds and models
MODELS_AND_SEEDS = ("build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
BATCH_EPOCH = datetime(2027, 1, 4)  # batch k is ingested from BATCH_EPOCH + k * BATCH_EVERY_DAYS (after the demo's times)
BATCH_EVERY_DAYS = 3  # more than lookback_days (1): a run does not simply redo the previous batch


def public_models() -> list[str]:
    names = []
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text()) or {}
        for model in doc.get("models", []) or []:
            access = model.get("access") or (model.get("config") or {}).get("access")
            if access == "public":
                names.append(model["name"])
    return sorted(names)


# ---------------------------------------------------------------- dbt in-process

class Dbt:
    """dbt in this process (no start-up per call); one target folder, so partial parsing is reused."""

    def __init__(self, target_path: Path):
        from dbt.cli.main import dbtRunner

        self.runner = dbtRunner()
        self.target_path = target_path

    def __call__(self, db: Path, *args: str, expect_ok: bool = True):
        started = time.perf_counter()
        os.environ["AIMETRICS_DUCKDB_PATH"] = str(db)
        os.environ["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
        res = self.runner.invoke([*args, "--project-dir", str(PROJECT_DIR), "--target-path", str(self.target_path),
                                  "--log-path", str(self.target_path / "logs"), "--quiet"])
        self.release(db)
        if expect_ok:
            failed = [f"{r.node.unique_id}: {r.status}: {r.message}" for r in (res.result or [])
                      if str(r.status) not in ("success", "pass")] if res.result is not None else []
            assert res.success, f"dbt {' '.join(args)} failed: {res.exception}\n" + "\n".join(failed[:10])
        print(f"dbt {args[0]} on {db.name}: {time.perf_counter() - started:.1f}s")
        return res

    @staticmethod
    def release(db: Path) -> None:
        """Close dbt-duckdb's process-wide database handle, as a dbt process ending would.

        It keeps the file open with the profile's settings (temp_directory, ...),
        and DuckDB refuses a second connection to the same file with other settings.
        """
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        with DuckDBConnectionManager._LOCK:
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
                DuckDBConnectionManager._ENV = None


# ---------------------------------------------------------------- batches

def _raw_tables(demo_dir: Path, scratch: Path) -> dict[str, pa.Table]:
    """The demo files landed once by the real loader, read back typed."""
    files = generate(scale=SCALE, seed=5, out_dir=demo_dir)
    for table, paths in files.items():
        load_files(scratch, table, paths, show_progress=False)
    with duckdb.connect(str(scratch), read_only=True) as con:
        return {t: con.sql(f"select * from raw.{t}").to_arrow_table() for t in files}


def _day(col: pa.ChunkedArray) -> np.ndarray:
    """Days since 2026-06-01 of a timestamp or date column (nulls: day -1)."""
    null = pc.is_null(col).to_numpy(zero_copy_only=False)
    days = pc.fill_null(pc.cast(pc.cast(col, pa.timestamp("us")), pa.int64()), 0).to_numpy(zero_copy_only=False)
    out = np.floor((days - 1_780_272_000_000_000) / 86_400e6).astype(np.int64)
    out[null] = -1
    return out


def _with_ingested(tab: pa.Table, batch: int, order: np.ndarray, late: float) -> pa.Table:
    """ingested_at of batch `batch`: BATCH_EPOCH + batch days, spread over 6 h keeping the rows' own order
    (`order`, earlier = smaller; nulls first), plus `late` hours for replays."""
    rank = np.argsort(np.argsort(order, kind="stable"), kind="stable") / max(len(order), 1)
    base = BATCH_EPOCH + timedelta(days=BATCH_EVERY_DAYS * batch, hours=late)
    stamps = [base + timedelta(hours=6 * float(r)) for r in rank]
    arr = pa.array(stamps, pa.timestamp("us"))
    if "ingested_at" in tab.column_names:
        return tab.set_column(tab.column_names.index("ingested_at"), "ingested_at", arr)
    return tab.append_column("ingested_at", arr)


def _order(tab: pa.Table) -> np.ndarray:
    if "ingested_at" not in tab.column_names:
        return np.zeros(tab.num_rows)
    ts = pc.cast(pc.cast(tab["ingested_at"], pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False)
    null = pc.is_null(tab["ingested_at"]).to_numpy(zero_copy_only=False)
    return np.where(null, np.iinfo(np.int64).min, ts).astype(float)


def _replace(tab: pa.Table, column: str, values: list) -> pa.Table:
    return tab.set_column(tab.column_names.index(column), column, pa.array(values, tab.schema.field(column).type))


def make_batches(raw: dict[str, pa.Table], seed: int) -> list[dict[str, pa.Table]]:
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(10, 85), BATCHES - 1, replace=False))  # batch k: days [cuts[k-1], cuts[k])

    def by_day(day: np.ndarray) -> np.ndarray:
        return np.searchsorted(cuts, np.maximum(day, 0), side="right")

    def late(day: np.ndarray, share: float, window: int) -> np.ndarray:
        """The batch of each row by its day; a `share` of the rows of the last `window` days
        before a batch's cut arrive with the next batch instead (late)."""
        batch = by_day(day)
        end = np.append(cuts, 10_000)[batch]
        move = (end - day <= window) & (rng.random(len(day)) < share) & (batch < BATCHES - 1)
        return np.where(move, batch + 1, batch)

    n_users = raw["users"].num_rows
    plan = {
        "interactions": by_day(_day(raw["interactions"]["requested_at"])),
        "user_events": late(_day(raw["user_events"]["occurred_at"]), 0.3, 5),      # late events of earlier tasks
        "output_reviews": late(_day(raw["output_reviews"]["reviewed_at"]), 0.5, 7),  # reviews days after the output
        "infra_costs": late(_day(raw["infra_costs"]["cost_date"]), 0.5, 3),
        "users": np.where(rng.random(n_users) < 0.8, 0, rng.integers(0, BATCHES, n_users)),
        "eval_results": rng.integers(0, BATCHES, raw["eval_results"].num_rows),
    }
    batches: list[dict[str, list[pa.Table]]] = [{t: [] for t in raw} for _ in range(BATCHES)]
    for table, assign in plan.items():
        tab = raw[table]
        for b in range(BATCHES):
            part = tab.filter(pa.array(assign == b))
            batches[b][table].append(_with_ingested(part, b, _order(part), late=0))

    # replays of rows of earlier batches (any age), landed after that batch's own rows
    def replay(table: str, count: int, mutate) -> None:
        tab, assign = raw[table], plan[table]
        for b in range(1, BATCHES):
            earlier = np.flatnonzero(assign < b)
            pick = rng.choice(earlier, min(count, len(earlier)), replace=False)
            rows = mutate(tab.take(pa.array(pick)))
            batches[b][table].append(_with_ingested(rows, b, np.arange(rows.num_rows), late=7))

    def mutate_interactions(rows: pa.Table) -> pa.Table:
        n = rows.num_rows
        kind = rng.integers(0, 4, n)  # 0 identical, 1 status changed, 2 cost changed, 3 invalid (quarantined)
        kind[0] = 3  # every batch replays a valid query as invalid: it must leave staging for quarantine
        status = [("timeout" if s == "ok" else "ok") if k == 1 else s
                  for s, k in zip(rows["status"].to_pylist(), kind)]
        cost = [(c or 0.0) * 3 + 0.01 if k == 2 else c for c, k in zip(rows["cost_usd"].to_pylist(), kind)]
        conf = [1.7 if k == 3 else c for c, k in zip(rows["confidence"].to_pylist(), kind)]
        rows = _replace(_replace(_replace(rows, "status", status), "cost_usd", cost), "confidence", conf)
        return rows

    tasks = raw["interactions"]["task_id"].to_pylist()

    def mutate_events(rows: pa.Table) -> pa.Table:
        n = rows.num_rows
        kind = rng.integers(0, 3, n)  # 0 identical, 1 another type, 2 moved to another task
        types = ["output_rejected" if t == "output_accepted" else "output_accepted"
                 for t in rows["event_type"].to_pylist()]
        et = [t2 if k == 1 else t for t, t2, k in zip(rows["event_type"].to_pylist(), types, kind)]
        task = [tasks[rng.integers(len(tasks))] if k == 2 else t for t, k in zip(rows["task_id"].to_pylist(), kind)]
        return _replace(_replace(rows, "event_type", et), "task_id", task)

    outputs = raw["interactions"]["interaction_id"].to_pylist()

    def mutate_reviews(rows: pa.Table) -> pa.Table:
        # the verdict flipped, or the review re-sent naming another query
        kind = rng.integers(0, 2, rows.num_rows)
        verdict = [{"pass": "fail", "fail": "pass"}.get(v, v) if k == 0 else v
                   for v, k in zip(rows["verdict"].to_pylist(), kind)]
        target = [outputs[rng.integers(len(outputs))] if k == 1 else i
                  for i, k in zip(rows["interaction_id"].to_pylist(), kind)]
        return _replace(_replace(rows, "verdict", verdict), "interaction_id", target)

    def mutate_users(rows: pa.Table) -> pa.Table:
        # re-sent as internal: everything of theirs leaves the metrics
        return _replace(rows, "is_internal", [True] * rows.num_rows)

    replay("interactions", 3, mutate_interactions)
    replay("user_events", 3, mutate_events)
    replay("output_reviews", 4, mutate_reviews)
    replay("users", 1, mutate_users)
    return [{t: pa.concat_tables(parts) for t, parts in batch.items() if sum(p.num_rows for p in parts)}
            for batch in batches]


def add_stale_copies(batches: list[dict[str, pa.Table]], count: int = 5) -> None:
    """Copies of queries of the previous batch with another status, stamped an hour before their
    original: new to the next run when lookback_days >= 1, yet losing deduplication to the original,
    so staging must restage a key from all its copies, not from its new ones."""
    for k in range(1, BATCHES):
        prev = batches[k - 1]["interactions"].slice(0, count)
        status = ["timeout" if s == "ok" else "ok" for s in prev["status"].to_pylist()]
        stamps = [t - timedelta(hours=1) for t in prev["ingested_at"].to_pylist()]
        stale = _replace(_replace(prev, "status", status), "ingested_at", stamps)
        batches[k]["interactions"] = pa.concat_tables([batches[k]["interactions"], stale])


def land(db: Path, batch: dict[str, pa.Table], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table, tab in batch.items():
        path = folder / f"{table}.parquet"
        pq.write_table(tab, path)
        load_files(db, table, [path], show_progress=False)


# ---------------------------------------------------------------- comparison

def _rows(db: Path, table: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db)) as con:
        schema = (con.sql(f"select table_schema from information_schema.tables where table_name = '{table}'").fetchall()
                  or [None])[0]
        assert schema, f"{table} not built in {db}"
        rel = con.sql(f'select * from "{schema[0]}"."{table}" order by all')
        return rel.columns, rel.fetchall()


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)  # sums of the same doubles in another order
    return a == b


def mart_differences(incremental: Path, full: Path, tables: list[str] | None = None) -> list[str]:
    problems = []
    for table in tables or public_models():
        cols, rows_inc = _rows(incremental, table)
        _, rows_full = _rows(full, table)
        if len(rows_inc) != len(rows_full):
            problems.append(f"{table}: {len(rows_inc)} rows incrementally, {len(rows_full)} in the full build")
        bad = [(ri, rf) for ri, rf in zip(rows_inc, rows_full)
               if len(ri) != len(rf) or not all(_same(x, y) for x, y in zip(ri, rf))]
        if bad:
            ri, rf = bad[0]
            diff = {c: (x, y) for c, x, y in zip(cols, ri, rf) if not _same(x, y)}
            problems.append(f"{table}: {len(bad)} rows differ; first: {diff}")
    return problems


#: staging tables kept by key on an incremental run (macro incremental_by_raw_key), with their key
STAGED_BY_KEY = {"interactions": "interaction_id", "user_events": "event_id", "output_reviews": "review_id",
                 "users": "user_id"}


def reconciliation_problems(db: Path) -> list[str]:
    """Every raw row is staged, quarantined or a duplicate, once: raw = stg + quarantine + duplicates,
    and no key is both staged and quarantined (counts from the raw tables and the base views, which
    type and deduplicate every raw row on read)."""
    problems = []
    with duckdb.connect(str(db), read_only=True) as con:
        for table, key in STAGED_BY_KEY.items():
            raw_n, stg_n, quarantined, duplicates, both = con.sql(f"""
                select (select count(*) from raw.{table}),
                       (select count(*) from staging.stg_raw__{table}),
                       (select count(*) from quarantine.quarantine_raw__{table}),
                       (select count(*) from staging.base_raw__{table} where dedup_rank > 1),
                       (select count(*) from staging.stg_raw__{table}
                        where {key} in (select {key} from staging.base_raw__{table}
                                        where dedup_rank = 1 and reason_code is not null))""").fetchall()[0]
            if raw_n != stg_n + quarantined + duplicates or both:
                problems.append(f"{table}: raw {raw_n} != staged {stg_n} + quarantined {quarantined} "
                                f"+ duplicates {duplicates}, or {both} keys both staged and quarantined")
    return problems


# ---------------------------------------------------------------- tests

@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> dict[str, pa.Table]:
    tmp = tmp_path_factory.mktemp("incremental_demo")
    return _raw_tables(tmp / "demo", tmp / "scratch.duckdb")


@pytest.fixture(scope="module")
def dbt(tmp_path_factory) -> Dbt:
    return Dbt(tmp_path_factory.mktemp("incremental_target"))


@pytest.mark.parametrize(("seed", "lookback"), SEEDS)
def test_incremental_runs_equal_full_refresh(raw, dbt, tmp_path, seed, lookback):
    batches = make_batches(raw, seed)
    if lookback is None:  # the default lookback (1 day) sees them as new
        add_stale_copies(batches)
    extra = () if lookback is None else ("--vars", f"{{lookback_days: {lookback}}}")
    db = tmp_path / "incremental.duckdb"
    for k, batch in enumerate(batches):
        land(db, batch, tmp_path / f"batch{k}")
        dbt(db, *MODELS_AND_SEEDS, *extra)
        if k == BATCHES - 1:  # not vacuous: the last run rewrites some dates, and (lookback 0) not all
            with duckdb.connect(str(db)) as con:
                touched, days = con.sql(
                    "select (select count(touched_date) from intermediate.int_incremental_scope),"
                    " (select count(distinct metric_date) from marts.metrics_daily)").fetchall()[0]
            print(f"batch {k}: {touched} of {days} dates rewritten")
            assert touched > 0
            if lookback == 0:  # with the default lookback the last run also redoes the previous batch
                assert touched < days
    with duckdb.connect(str(db)) as con:
        runs = con.sql("select count(*) from intermediate.aimetrics_incremental_watermark").fetchall()[0][0]
    assert runs == BATCHES, "every complete run records its watermark"

    full = tmp_path / "full.duckdb"
    shutil.copy(db, full)
    dbt(full, *MODELS_AND_SEEDS, "--full-refresh", "--vars", "{allow_full_refresh: true}")
    problems = mart_differences(db, full)
    assert not problems, "incremental marts differ from the full refresh:\n" + "\n".join(problems)
    # the staging tables kept by key (only keys with a new raw copy restaged) equal a restaging of all rows
    problems = mart_differences(db, full, [f"stg_raw__{t}" for t in STAGED_BY_KEY])
    assert not problems, "incremental staging differs from the full refresh:\n" + "\n".join(problems)
    problems = reconciliation_problems(db)
    assert not problems, "\n".join(problems)
    with duckdb.connect(str(db), read_only=True) as con:  # not vacuous: a replay made a valid query's winner invalid
        assert con.sql("""select count(*) from staging.base_raw__interactions as winner
                          where dedup_rank = 1 and reason_code is not null and interaction_id in (
                              select interaction_id from staging.base_raw__interactions
                              where dedup_rank > 1 and reason_code is null)""").fetchall()[0][0] > 0


def test_full_refresh_is_refused_without_the_var(raw, dbt, tmp_path):
    db = tmp_path / "guard.duckdb"
    land(db, make_batches(raw, 1)[0], tmp_path / "batch0")
    res = dbt(db, *MODELS_AND_SEEDS, "--full-refresh", expect_ok=False)
    assert not res.success
    assert "allow_full_refresh" in str(res.exception)
    with duckdb.connect(str(db)) as con:
        built = con.sql("select count(*) from information_schema.tables where table_schema = 'marts'").fetchall()[0][0]
    assert built == 0, "a refused full refresh builds nothing"


def test_a_change_in_one_week_rewrites_the_week_after(raw, dbt, tmp_path):
    """guardrails_weekly compares each week with the previous one: a query of week W replayed as
    invalid changes W + 1's previous-week counts although no date of W + 1 is touched. The
    random batches touch nearly every week, so this case is built on purpose: one query whose
    task and events all lie in W, a following week with outputs of its feature, and a run that
    must touch dates of W only."""
    db = tmp_path / "one_week.duckdb"
    everything = {t: _with_ingested(tab, 0, _order(tab), late=0) for t, tab in raw.items()}
    land(db, everything, tmp_path / "all")
    dbt(db, *MODELS_AND_SEEDS)
    week = "date_trunc('week', {})"
    with duckdb.connect(str(db)) as con:
        picked = con.sql(f"""
            with task_days as (
                select task_id, requested_date as day from intermediate.int_interactions
                union all select task_id, occurred_date from intermediate.int_events where task_id is not null
                union all select task_id, attributed_date from intermediate.int_events where task_id is not null
            ),
            one_week_tasks as (
                select task_id from task_days group by task_id
                having min({week.format('day')}) = max({week.format('day')})
            )
            select q.interaction_id, {week.format('q.requested_date')} as w
            from marts.fct_interactions as q
            where q.is_output
                and q.task_id in (select task_id from one_week_tasks)
                and q.interaction_id not in (select concerned_interaction_id from intermediate.int_events
                                             where concerned_interaction_id is not null
                                                 and {week.format('occurred_date')} <> {week.format('attributed_date')})
                and exists (select 1 from marts.fct_interactions as nxt
                            where nxt.is_output and nxt.feature = q.feature
                                and {week.format('nxt.requested_date')} = {week.format('q.requested_date')} + interval 7 day)
            order by q.requested_date, q.interaction_id
            limit 1""").fetchall()
        assert picked, "the demo has a query whose task lies in one week followed by a week with outputs"
        query_id, w = picked[0]
        replay = con.sql(f"select * from raw.interactions where interaction_id = '{query_id}'").to_arrow_table()
    replay = _replace(replay, "confidence", [1.7] * replay.num_rows)  # out of range: the query goes to quarantine
    replay = _with_ingested(replay, 1, np.arange(replay.num_rows), late=0)
    land(db, {"interactions": replay}, tmp_path / "replay")
    dbt(db, *MODELS_AND_SEEDS, "--vars", "{lookback_days: 0}")
    with duckdb.connect(str(db)) as con:
        weeks = con.sql(f"select distinct {week.format('touched_date')} from intermediate.int_incremental_scope"
                        " where touched_date is not null").fetchall()
    assert [r[0] for r in weeks] == [w], f"the run touches week {w} only, not {weeks}"

    full = tmp_path / "one_week_full.duckdb"
    shutil.copy(db, full)
    dbt(full, *MODELS_AND_SEEDS, "--full-refresh", "--vars", "{allow_full_refresh: true}")
    problems = mart_differences(db, full)
    assert not problems, "incremental marts differ from the full refresh:\n" + "\n".join(problems)


def test_a_build_without_a_recorded_run_rebuilds_into_the_existing_tables(raw, dbt, tmp_path):
    """A first build killed after its models were built and before on-run-end recorded the run
    leaves incremental tables and no watermark: the next run rebuilds every row into those tables
    (they are not recreated without --full-refresh) and must not append them a second time."""
    db = tmp_path / "unrecorded.duckdb"
    batches = make_batches(raw, 3)
    land(db, batches[0], tmp_path / "batch0")
    dbt(db, *MODELS_AND_SEEDS)
    with duckdb.connect(str(db)) as con:  # as if killed before on-run-end
        con.execute("drop table intermediate.aimetrics_incremental_watermark")
    land(db, batches[1], tmp_path / "batch1")
    dbt(db, *MODELS_AND_SEEDS)
    full = tmp_path / "unrecorded_full.duckdb"
    shutil.copy(db, full)
    dbt(full, *MODELS_AND_SEEDS, "--full-refresh", "--vars", "{allow_full_refresh: true}")
    problems = mart_differences(db, full) + mart_differences(db, full, [f"stg_raw__{t}" for t in STAGED_BY_KEY])
    assert not problems, "a rebuild into existing tables differs from the full refresh:\n" + "\n".join(problems)
