"""The main job: demo data -> raw tables -> dbt build -> scorecard."""

from __future__ import annotations

import time
from pathlib import Path

from aimetrics.dbt_runner import DbtError, run_dbt
from aimetrics.errors import AimetricsError


def build(db_path: Path, full_refresh: bool = False, on_node=None) -> None:
    """dbt build (seeds, models, tests) on db_path; AimetricsError on failure.

    Incremental models rewrite only the dates new raw rows touch; full_refresh
    rebuilds them from all raw data (dbt refuses --full-refresh without the
    allow_full_refresh var, which this passes). on_node: called with (nodes
    done, nodes selected) as dbt finishes each node."""
    args, dbt_vars = (["build", "--full-refresh"], {"allow_full_refresh": True}) if full_refresh else (["build"], None)
    try:
        run_dbt(args, duckdb_path=db_path, dbt_vars=dbt_vars, on_node=on_node)
    except DbtError as exc:
        raise AimetricsError(str(exc)) from exc


def build_and_print(db_path: Path, full_refresh: bool = False) -> None:
    started = time.perf_counter()
    from aimetrics.progress import progress

    with progress("dbt build (seeds, models, tests)", None) as bar:
        build(db_path, full_refresh=full_refresh,
              on_node=lambda done, total: bar.update(completed=done, total=total))
    print(f"dbt build finished in {time.perf_counter() - started:.1f}s ({db_path})")
    print("quarantined rows: quarantine.quarantine_summary (one row per table x reason)")
    from aimetrics.scorecard import print_scorecard

    print_scorecard(db_path)


def load_demo(db_path: Path, scale: int, seed: int, out_dir: Path) -> dict[str, list[Path]]:
    """Generate the demo files and load them into a fresh DuckDB file."""
    from aimetrics.demo import generate
    from aimetrics.load import load_files

    db_path = Path(db_path)
    for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    from aimetrics.progress import progress

    with progress("generating demo interactions", scale) as bar:
        files = generate(scale=scale, seed=seed, out_dir=Path(out_dir), progress=lambda n: bar.update(completed=n))
    print(f"demo files written to {Path(out_dir)} ({sum(len(p) for p in files.values())} files)")
    for table, paths in files.items():
        n = load_files(db_path, table, paths)
        print(f"loaded {n:>9,} rows into raw.{table} ({db_path})")
    return files


def run_demo(db_path: Path, scale: int, seed: int, out_dir: Path) -> None:
    started = time.perf_counter()
    load_demo(db_path, scale, seed, out_dir)
    print(f"demo data generated and loaded in {time.perf_counter() - started:.1f}s")
    build_and_print(db_path)
