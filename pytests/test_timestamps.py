"""ISO-8601 text timestamps: offsets become UTC, naive text is UTC, garbage
is null — in staging (the dbt macro, independent of the session time zone)
and in the loader. Expected instants are written out by hand."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from aimetrics.dbt_runner import run_dbt
from aimetrics.load import load_files
from aimetrics.errors import AimetricsError

CASES = [
    ("2026-06-01T10:00:00.123+0200", dt.datetime(2026, 6, 1, 8, 0, 0, 123000)),
    ("2026-06-01 10:00:00 +02:00", dt.datetime(2026, 6, 1, 8, 0)),
    ("2026-06-01T10:00:00+02", dt.datetime(2026, 6, 1, 8, 0)),
    ("2026-06-01T10:00Z", dt.datetime(2026, 6, 1, 10, 0)),
    ("2026-06-01T10:00:00z", dt.datetime(2026, 6, 1, 10, 0)),
    ("2026-06-01T10:00:00 Z", dt.datetime(2026, 6, 1, 10, 0)),
    ("2026-06-01T10:00:00-05:30", dt.datetime(2026, 6, 1, 15, 30)),
    ("2026-06-01T23:30:00-01:00", dt.datetime(2026, 6, 2, 0, 30)),
    ("2026-06-01 10:00:00", dt.datetime(2026, 6, 1, 10, 0)),
    ("  2026-06-01T10:00:00  ", dt.datetime(2026, 6, 1, 10, 0)),
    ("2026-06-01", dt.datetime(2026, 6, 1, 0, 0)),
]
BAD = ["garbage", "2026-02-30T10:00:00Z", "2026-13-01"]


@pytest.fixture(scope="module")
def macro_sql(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ts")
    proc = run_dbt(
        ["compile", "--inline", "select {{ aimetrics.to_utc_timestamp('x', 'varchar') }} as ts from input",
         "--output", "json", "--quiet"],
        duckdb_path=tmp / "c.duckdb", target_path=tmp / "target",
    )
    return json.loads(proc.stdout)["compiled"]


@pytest.mark.parametrize("session_tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_staging_macro_converts_to_utc_whatever_the_session_zone(macro_sql, session_tz):
    con = duckdb.connect()
    con.execute(f"set TimeZone = '{session_tz}'")
    con.execute("create table input (x varchar)")
    for text, expected in CASES:
        con.execute("delete from input")
        con.execute("insert into input values (?)", [text])
        assert con.execute(macro_sql).fetchone()[0] == expected, text
    for text in BAD:
        con.execute("delete from input")
        con.execute("insert into input values (?)", [text])
        assert con.execute(macro_sql).fetchone()[0] is None, text


def test_loader_stores_the_same_utc_instants(tmp_path):
    db = tmp_path / "w.duckdb"
    path = tmp_path / "events.csv"
    lines = ["event_id,user_id,occurred_at,event_type"]
    lines += [f'e{i},u1,"{text}",thumbs_up' for i, (text, _) in enumerate(CASES)]
    path.write_text("\n".join(lines) + "\n")
    load_files(db, "user_events", [path])
    con = duckdb.connect(str(db), read_only=True)
    got = dict(con.execute("select event_id, occurred_at from raw.user_events").fetchall())
    assert got == {f"e{i}": expected for i, (_, expected) in enumerate(CASES)}


@pytest.mark.parametrize("text", BAD)
def test_loader_refuses_unparseable_timestamps(tmp_path, text):
    path = tmp_path / "events.csv"
    path.write_text(f'event_id,user_id,occurred_at,event_type\ne1,u1,"{text}",thumbs_up\n')
    with pytest.raises(AimetricsError, match="occurred_at"):
        load_files(tmp_path / "w.duckdb", "user_events", [path])
