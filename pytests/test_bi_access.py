"""BI access: the SQLAlchemy URL of the README opens the marts read-only through duckdb-engine.

BI tools built on SQLAlchemy (Superset; also pandas, Jupyter SQL, marimo) connect with
``duckdb:///<absolute path>?access_mode=read_only`` and the ``duckdb-engine`` dialect. On the
small demo build (conftest.py ``small_demo_build``), with no build running, the test:

* lists schemas and tables as a BI tool's browser does (SQLAlchemy inspector);
* reads ``marts.scorecard`` through the URL and compares every row with a direct read of the
  same file by the ``duckdb`` client (exact), and its columns with the documented interface
  (``models/marts/_marts.yml``);
* proves writes are refused (insert, update, delete, create, drop) and change nothing;
* shows the single-writer rule the README states: while a BI connection is open, a read-write
  open of the file (what ``dbt build`` does) fails, and while a writer holds it, the BI
  connection cannot open it.

The file BI tools read is one parameter, ``bi_database`` below: today the file dbt builds.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
import yaml
from sqlalchemy import create_engine, inspect, text

PROJECT_DIR = Path(__file__).resolve().parent.parent
PUBLIC_MARTS = {"metrics_daily", "retention_weekly", "scorecard", "fct_interactions", "fct_tasks", "dim_users"}


def bi_url(path: Path) -> str:
    """The URL the README gives BI tools: absolute path, read-only."""
    return f"duckdb:///{Path(path).resolve()}?access_mode=read_only"


@pytest.fixture(scope="module")
def bi_database(small_demo_build) -> Path:
    """The DuckDB file BI tools are pointed at (switch it here if readers get a separate copy)."""
    return small_demo_build["db"]


@pytest.fixture(scope="module")
def direct_scorecard(bi_database) -> tuple[list[str], list[tuple]]:
    """The scorecard read by the duckdb client itself (closed before any SQLAlchemy engine opens)."""
    con = duckdb.connect(str(bi_database), read_only=True)
    try:
        cur = con.execute("select * from marts.scorecard order by week, feature, model")
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def engine(bi_database, direct_scorecard):
    eng = create_engine(bi_url(bi_database))
    yield eng
    eng.dispose()


def test_url_is_absolute_and_read_only(bi_database):
    url = sqlalchemy.engine.make_url(bi_url(bi_database))
    assert url.drivername == "duckdb"
    assert Path(url.database).is_absolute() and Path(url.database) == bi_database.resolve()
    assert url.query == {"access_mode": "read_only"}


def test_bi_tool_browser_lists_the_marts(engine):
    inspector = inspect(engine)
    schemas = inspector.get_schema_names()
    assert any(s.split(".")[-1] == "marts" for s in schemas), schemas
    tables = set(inspector.get_table_names(schema="marts"))
    assert PUBLIC_MARTS <= tables, PUBLIC_MARTS - tables


def test_scorecard_through_sqlalchemy_equals_the_file(engine, direct_scorecard):
    columns, rows = direct_scorecard
    with engine.connect() as conn:
        result = conn.execute(text("select * from marts.scorecard order by week, feature, model"))
        got_columns, got_rows = list(result.keys()), [tuple(r) for r in result]
    assert got_columns == columns
    assert got_rows == rows
    assert len(rows) >= 20, "too few scorecard rows to mean anything"
    statuses = {r[columns.index("tcr_status")] for r in rows}
    assert statuses <= {"healthy", "at_risk", "critical", "insufficient_data"} and len(statuses) >= 2


def test_scorecard_columns_are_the_documented_interface(direct_scorecard):
    marts_yml = yaml.safe_load((PROJECT_DIR / "models" / "marts" / "_marts.yml").read_text())
    documented = next(m for m in marts_yml["models"] if m["name"] == "scorecard")
    assert direct_scorecard[0] == [c["name"] for c in documented["columns"]]


@pytest.mark.parametrize("statement", [
    "insert into marts.scorecard select * from marts.scorecard limit 1",
    "update marts.scorecard set tcr = 1",
    "delete from marts.scorecard",
    "create table marts.bi_scratch as select 1 as x",
    "drop table marts.scorecard",
])
def test_writes_are_refused(engine, direct_scorecard, statement):
    with engine.connect() as conn:
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from marts.scorecard")).scalar() == len(direct_scorecard[1])


WRITER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])          # read-write, as dbt build opens it
    print("open", flush=True)
    sys.stdin.readline()                       # hold the file until told to stop
    con.close()
""")


def test_a_build_cannot_open_the_file_while_a_bi_tool_reads(engine, bi_database):
    with engine.connect() as conn:
        conn.execute(text("select 1")).scalar()
        writer = subprocess.run([sys.executable, "-c", WRITER, str(bi_database)], input="\n",
                                capture_output=True, text=True, timeout=120)
    assert writer.returncode != 0 and "lock" in writer.stderr.lower(), writer.stderr


def test_a_bi_tool_cannot_open_the_file_while_a_build_writes(engine, bi_database):
    engine.dispose()  # close the pooled connections of the other tests: no reader holds the file
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(bi_database)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open", writer.stderr.read()
        eng = create_engine(bi_url(bi_database))
        try:
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="(?i)lock"):
                with eng.connect() as conn:
                    conn.execute(text("select 1"))
        finally:
            eng.dispose()
    finally:
        writer.communicate("\n", timeout=120)
    assert writer.returncode == 0
