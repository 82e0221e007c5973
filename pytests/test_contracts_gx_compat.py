"""The Great Expectations / DuckDB workaround (aimetrics/gx_compat.py) still holds.

These tests fail loudly when a GX upgrade changes what the workaround relies on:

* GX still has the private names we patch (``_PERSISTED_CONNECTION_DIALECTS``,
  the execution engine's ``_connection``);
* without the workaround GX still cannot compute SQL metrics on DuckDB (the day
  this test fails, GX fixed it: delete gx_compat's patch, and this test);
* with it, expectations compute the right counts as SQL in the database, with
  pandas' SQL readers disabled;
* closing the data source releases the DuckDB file (dbt can then write it);
* the CLI prints no teardown noise (``nanobind: leaked ...``) and no traceback.

GX runs in a child process (``probe``): a process that imported both GX and
duckdb-engine prints that teardown noise when it ends, which would bury
pytest's closing lines.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap

import duckdb
import pytest

PROBE = textwrap.dedent('''
    import json, sys
    import pandas
    from aimetrics import gx_compat
    import great_expectations as gx

    db, patched = sys.argv[1], sys.argv[2] == "1"
    def no_pandas(*args, **kwargs):
        raise AssertionError("GX read a table into pandas")
    for name in ("read_sql", "read_sql_query", "read_sql_table"):
        setattr(pandas, name, no_pandas)
    (gx_compat.enable_duckdb_pushdown if patched else gx_compat.disable_duckdb_pushdown)()
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="w", connection_string=f"duckdb:///{db}?access_mode=read_only")
    asset = gx_compat.add_table_asset(source, "t", "t", "raw")
    suite = gx.ExpectationSuite(name="s", expectations=[
        gx.expectations.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=5),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="id"),
    ])
    result = asset.add_batch_definition_whole_table("all").get_batch().validate(suite, result_format="SUMMARY")
    engine_type = type(source.get_execution_engine()).__name__
    gx_compat.close_connections(source)
    import duckdb
    con = duckdb.connect(db)  # read-write: fails while this process still holds the file read-only
    con.execute("insert into raw.t values (1000, 0)")
    con.close()
    print(json.dumps({
        "persisted": gx_compat.duckdb_connection_is_persisted(),
        "engine": engine_type,
        "results": [{"success": r.success, "result": r.result, "exception": str(r.exception_info)}
                    for r in result.results],
    }, default=str))
    sys.stdout.flush()
    gx_compat.exit_without_teardown(0)
''')


def _db(tmp_path):
    path = tmp_path / "gx.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create table raw.t as select range as id, range % 7 as x from range(1000)")
    con.close()
    return path


@pytest.fixture()
def db(tmp_path):
    return _db(tmp_path)


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    """The probe with the workaround: (its output, its DuckDB file)."""
    path = _db(tmp_path_factory.mktemp("gx_patched"))
    return probe(path, patched=True), path


def probe(db, patched: bool) -> dict:
    # A script file, not ``python -c``: pyspark (imported by GX when the spark
    # extra is installed) takes a ``__main__`` without a file for a doctest run
    # and exits 0 before the probe prints anything.
    script = db.parent / "gx_probe.py"
    script.write_text(PROBE)
    result = subprocess.run([sys.executable, str(script), str(db), "1" if patched else "0"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nanobind" not in result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gx_still_has_the_private_names_the_workaround_patches():
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    assert isinstance(engine._PERSISTED_CONNECTION_DIALECTS, tuple)
    assert hasattr(engine.SqlAlchemyExecutionEngine, "get_connection")
    assert "_connection" in engine.SqlAlchemyExecutionEngine.__init__.__code__.co_names
    assert "_PERSISTED_CONNECTION_DIALECTS" in inspect.getsource(engine.SqlAlchemyExecutionEngine.get_connection)


def test_without_the_workaround_gx_still_fails_on_duckdb(db):
    got = probe(db, patched=False)
    assert not got["persisted"]
    assert not any(r["success"] for r in got["results"])
    assert all("list index out of range" in r["exception"] for r in got["results"]), (
        "GX now computes SQL metrics on DuckDB without keeping the connection open: "
        "remove the patch in aimetrics/gx_compat.py and this test", got)


def test_with_the_workaround_expectations_run_as_sql_in_the_database(patched):
    got, _ = patched
    assert got["persisted"] and got["engine"] == "SqlAlchemyExecutionEngine"
    between, not_null = got["results"]
    assert "'raised_exception': False" in between["exception"], between
    assert between["result"]["element_count"] == 1000
    assert between["result"]["unexpected_count"] == sum(1 for i in range(1000) if i % 7 > 5)
    assert not_null["success"]


def test_closing_the_data_source_releases_the_duckdb_file(patched):
    _, path = patched  # the probe wrote to the file after closing GX's connections
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("select count(*) from raw.t").fetchone()[0] == 1001
    con.close()


def test_the_cli_prints_no_teardown_noise_and_no_traceback(db, tmp_path):
    result = subprocess.run([sys.executable, "-m", "aimetrics.cli", "--db", str(db), "check", "raw",
                             "--docs-dir", str(tmp_path / "docs")], capture_output=True, text=True, timeout=300)
    assert "nanobind" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    # raw.t is not a contract table: the required raw tables are missing, which blocks
    assert result.returncode == 1
    assert "ERROR raw.interactions: table exists" in result.stdout
