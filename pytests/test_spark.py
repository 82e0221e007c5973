"""The project builds on Spark (dbt-spark's session method, local pyspark) and agrees with DuckDB.

Java comes from ``scripts/spark.sh java`` (Debian's openjdk-17-jre-headless,
installed with apt-get when ``java`` is missing); pyspark and dbt-spark from
the ``spark`` extra. A dataset is landed in a fresh DuckDB file, its raw
tables copied to Parquet as they are (same column types), and ``dbt build``
runs on both: on Spark with data tests (the raw tables registered over the
Parquet files by the on-run-start hook, var ``raw_parquet``), on DuckDB
seeds and models only (its tests run in the rest of the suite). Every public
mart must then be equal (pytests/mart_compare.py: same rows, exact counts,
floats to 1e-9). The Spark marts are read from their Parquet files by DuckDB.

CI builds a small demo and runs scorecard's data tests on Spark (CI time:
one Spark build is minutes on two cores); ``AIMETRICS_SPARK_FULL=1`` builds
the default-size demo (20,000 interactions) with every data test, and the
messy reference data landed as text and typed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from aimetrics import PROJECT_DIR
from aimetrics.dbt_runner import run_dbt
from mart_compare import CATALOGUE_MARTS, MARTS, SAME_FEATURES, assert_equal_marts, duckdb_reader, land_messy

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Java is installed on Linux only")

SCRIPT = PROJECT_DIR / "scripts" / "spark.sh"
FULL = os.environ.get("AIMETRICS_SPARK_FULL") == "1"
#: interactions in the demo built in CI (full: the demo's default size)
DEMO_SCALE = 20_000 if FULL else 1_500
#: catalogue marts the small demo leaves empty: none may be
MAY_BE_EMPTY: frozenset[str] = frozenset()
#: seeds, models and data tests on Spark (unit tests are engine-independent
#: logic, run on DuckDB in the rest of the suite). CI runs the data tests of
#: scorecard only (52: not_null, between, accepted_values, not_greater_than,
#: the grain), one query each; the full run all of them (869).
SPARK_BUILD = ["build", "--exclude-resource-type", "unit_test"] + ([] if FULL else [
    "--indirect-selection", "empty",
    "--select", "resource_type:seed resource_type:model resource_type:test,fqn:*_scorecard_*"])


@pytest.fixture(scope="session")
def java_env() -> dict:
    proc = subprocess.run(["bash", str(SCRIPT), "java"], text=True, capture_output=True)
    if proc.returncode != 0:
        pytest.fail(f"scripts/spark.sh java failed:\n{proc.stderr[-3000:]}")
    try:
        import pyspark  # noqa: F401
        import dbt.adapters.spark  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"the spark extra is not installed (pip install -e '.[spark]'): {exc}")
    return {line.split("=", 1)[0][len("export "):]: line.split("=", 1)[1]
            for line in proc.stdout.splitlines() if line.startswith("export ")}


def raw_to_parquet(duckdb_path: Path, out_dir: Path) -> dict[str, str]:
    """Each table of schema raw as a Parquet directory: {table: path} (var raw_parquet)."""
    con = duckdb.connect(str(duckdb_path), read_only=True)
    paths = {}
    try:
        con.execute("set TimeZone = 'UTC'")
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1").fetchall()]
        for table in tables:
            d = out_dir / table
            d.mkdir(parents=True)
            con.execute(f"copy raw.\"{table}\" to '{d / 'part-0.parquet'}' (format parquet)")
            paths[table] = str(d)
    finally:
        con.close()
    return paths


def spark_reader(spark_dir: Path):
    """Marts of a Spark build, from the Parquet files of its warehouse."""
    def read(mart: str):
        files = spark_dir / "warehouse" / "marts.db" / mart
        con = duckdb.connect()
        try:
            con.execute("set TimeZone = 'UTC'")
            # the incremental marts are partitioned by their date (insert_overwrite): that column
            # lives in the directory names (metric_date=2026-07-24/), read back as a DATE
            cur = con.execute(f"select * from read_parquet('{files}/**/*.parquet', hive_partitioning = true)")
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()
    return read


def build_both(root: Path, duckdb_path: Path, java: dict) -> Path:
    """Raw tables to Parquet, then dbt build on DuckDB and on Spark side by side; the Spark dir."""
    spark_dir = root / "spark"
    raw = raw_to_parquet(duckdb_path, root / "raw_parquet")
    spark_env = {**java, "AIMETRICS_TARGET": "spark", "AIMETRICS_SPARK_DIR": str(spark_dir)}
    with ThreadPoolExecutor(max_workers=2) as pool:  # two dbt subprocesses: separate files and targets
        builds = [
            pool.submit(run_dbt, ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
                        duckdb_path=duckdb_path, target_path=root / "target_duckdb", dbt_vars=SAME_FEATURES),
            pool.submit(run_dbt, SPARK_BUILD, target_path=root / "target_spark",
                        dbt_vars={**SAME_FEATURES, "raw_parquet": raw}, env=spark_env),
        ]
        for build in builds:
            build.result()
    return spark_dir


@pytest.fixture(scope="module")
def demo_build(java_env, tmp_path_factory):
    from aimetrics.demo import generate
    from aimetrics.load import load_files

    root = tmp_path_factory.mktemp("spark_demo")
    db = root / "demo.duckdb"
    for table, paths in generate(scale=DEMO_SCALE, seed=11, out_dir=root / "data").items():
        load_files(db, table, paths)
    return db, build_both(root, db, java_env)


def test_demo_agrees(demo_build):
    db, spark_dir = demo_build
    assert_equal_marts(duckdb_reader(db), spark_reader(spark_dir), "Spark", f"demo of {DEMO_SCALE} interactions",
                       may_be_empty=MAY_BE_EMPTY)


def test_every_public_mart_is_a_parquet_table(demo_build):
    """The marts are Parquet tables (not Delta: no jars), one directory each."""
    _, spark_dir = demo_build
    for mart in MARTS:
        files = list((spark_dir / "warehouse" / "marts.db" / mart).glob("**/*.parquet"))
        assert files, f"no Parquet files for mart {mart}"


@pytest.mark.skipif(not FULL, reason="AIMETRICS_SPARK_FULL=1: messy reference data (two more Spark builds)")
@pytest.mark.parametrize("style", ["text", "typed"])
def test_messy_data_agrees(java_env, tmp_path, style):
    db = land_messy(tmp_path / f"messy_{style}.duckdb", style)
    spark_dir = build_both(tmp_path, db, java_env)
    assert_equal_marts(duckdb_reader(db), spark_reader(spark_dir), "Spark", f"messy data landed as {style}",
                       may_be_empty=frozenset(CATALOGUE_MARTS))
