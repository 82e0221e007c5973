"""Bad input end to end: refused with a clear message, or quarantined with a
reason — never a traceback, never a silent drop."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from aimetrics import PROJECT_DIR

AIMETRICS = Path(sys.executable).parent / "aimetrics"
if not AIMETRICS.exists():  # pragma: no cover
    AIMETRICS = PROJECT_DIR / ".venv" / "bin" / "aimetrics"

COLUMNS = ["interaction_id", "task_id", "user_id", "feature", "model", "requested_at",
           "responded_at", "status", "input_tokens", "output_tokens", "confidence"]
GOOD = ["i1", "t1", "u1", "email_draft", "gpt-4o", "2026-06-01T10:00:00Z", "2026-06-01T10:00:02Z", "ok", "10", "20", "0.5"]


def write(path: Path, rows: list[list[str]], columns: list[str] = COLUMNS) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)
    return path


def aimetrics(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(AIMETRICS), "--db", str(db), *args], capture_output=True, text=True, timeout=600)


def test_missing_table_stops_the_build_with_a_clear_message(tmp_path):
    db = tmp_path / "w.duckdb"
    events = write(tmp_path / "events.csv", [["e1", "u1", "2026-06-01T10:00:00Z", "thumbs_up"]],
                   ["event_id", "user_id", "occurred_at", "event_type"])
    assert aimetrics(db, "load", "user_events", str(events)).returncode == 0
    result = aimetrics(db, "build")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "raw.interactions does not exist" in result.stderr
    assert "aimetrics load interactions" in result.stderr


def test_wrong_type_is_refused_naming_file_column_and_rule(tmp_path):
    db = tmp_path / "w.duckdb"
    bad = write(tmp_path / "bad.csv", [GOOD, ["i2", *GOOD[1:8], "ten", "20", "0.5"]])
    result = aimetrics(db, "load", "interactions", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bad.csv" in result.stderr and "input_tokens" in result.stderr and "integer" in result.stderr


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad_rows")
    db = tmp / "w.duckdb"
    rows = [
        GOOD,
        ["i2", "t2", "u1", "email_draft", "gpt-4o", "2026-06-01T11:00:00Z", "", " Exploded ", "10", "20", ""],  # bad enum
        ["i3", "t3", "u1", "email_draft", "gpt-4o", "2026-06-01T12:00:00Z", "", "ok", "-5", "20", ""],  # negative tokens
        ["i4", "t4", "  ", "email_draft", "gpt-4o", "2026-06-01T13:00:00Z", "", "ok", "1", "2", ""],  # blank user_id
        ["i5", "t5", "u1", "email_draft", "gpt-4o", "2026-06-01T14:00:00Z", "", "ok", "1", "2", "1.5"],  # confidence > 1
        ["i6", "t6", "u1", "email_draft", "gpt-4o", "2026-06-01T15:00:00Z", "2026-06-01T14:59:00Z", "ok", "1", "2", ""],  # responded before requested
        ["i1", "t1", "u1", "email_draft", "gpt-4o", "2026-06-01T10:00:00Z", "2026-06-01T10:00:02Z", "ok", "10", "20", "0.5"],  # duplicate of i1
    ]
    f = write(tmp / "interactions.csv", rows)
    events = write(tmp / "events.csv", [["e1", "u1", "2026-06-01T10:00:05Z", "suggestion_inserted", "i1"]],
                   ["event_id", "user_id", "occurred_at", "event_type", "interaction_id"])
    assert aimetrics(db, "load", "interactions", str(f)).returncode == 0
    assert aimetrics(db, "load", "user_events", str(events)).returncode == 0
    result = aimetrics(db, "build")
    assert result.returncode == 0, result.stdout + result.stderr
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def test_each_bad_row_is_quarantined_with_its_reason(quarantined):
    got = dict(quarantined.execute(
        "select record_key, reason_code || ':' || reason_column from quarantine.quarantine_raw__interactions"
    ).fetchall())
    assert got == {
        "i2": "invalid_enum:status",
        "i3": "out_of_range:input_tokens",
        "i4": "missing_required:user_id",
        "i5": "out_of_range:confidence",
        "i6": "out_of_range:responded_at",
    }


def test_raw_rows_reconcile(quarantined):
    raw = quarantined.execute("select count(*) from raw.interactions").fetchone()[0]
    staged = quarantined.execute("select count(*) from staging.stg_raw__interactions").fetchone()[0]
    bad = quarantined.execute("select count(*) from quarantine.quarantine_raw__interactions").fetchone()[0]
    dups = quarantined.execute("select count(*) from staging.base_raw__interactions where dedup_rank > 1").fetchone()[0]
    assert (raw, staged, bad, dups) == (7, 1, 5, 1)


def test_only_the_valid_row_reaches_the_marts(quarantined):
    assert quarantined.execute("select sum(queries), sum(accepted_outputs) from marts.metrics_daily").fetchone() == (1, 1)
