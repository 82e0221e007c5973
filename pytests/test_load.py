"""Tests of the raw data loader (``aimetrics load`` / ``aimetrics.load.load_files``)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aimetrics import PROJECT_DIR
from aimetrics.contract import raw_contract
from aimetrics.errors import AimetricsError
from aimetrics.load import SQL_TYPES, load_files

AIMETRICS = Path(sys.executable).parent / "aimetrics"
if not AIMETRICS.exists():  # pragma: no cover - fall back to the project venv
    AIMETRICS = PROJECT_DIR / ".venv" / "bin" / "aimetrics"

UTC = dt.timezone.utc

# ----------------------------------------------------------------------------
# helpers


def interaction(i: int, **overrides) -> dict:
    row = {
        "interaction_id": f"i{i}",
        "task_id": f"t{i}",
        "user_id": f"u{i % 3}",
        "session_id": f"s{i}",
        "feature": "email_draft",
        "model": "gpt-x",
        "model_version": "v1",
        "requested_at": f"2026-06-01T10:{i % 60:02d}:00",
        "responded_at": f"2026-06-01T10:{i % 60:02d}:05",
        "status": "ok",
        "input_tokens": str(100 + i),
        "output_tokens": str(50 + i),
        "cost_usd": "0.0012",
        "confidence": "0.8",
        "attempt": "1",
        "experiment_id": "",
        "variant": "",
        "ingested_at": "2026-06-02T00:00:00Z",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def write_parquet(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def count(db: Path, table: str = "interactions") -> int:
    return query(db, f"SELECT count(*) FROM raw.{table}")[0][0]


def table_exists(db: Path, table: str = "interactions") -> bool:
    if not db.exists():
        return False
    return bool(query(db, f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = '{table}'")[0][0])


def column_types(db: Path, table: str) -> dict[str, str]:
    return dict(query(db, f"SELECT column_name, data_type FROM duckdb_columns() "
                          f"WHERE schema_name = 'raw' AND table_name = '{table}' ORDER BY column_index"))


def cli(db: Path, table: str, *files: Path, fmt: str | None = None) -> subprocess.CompletedProcess:
    args = [str(AIMETRICS), "--db", str(db), "load", table, *map(str, files)]
    if fmt:
        args += ["--format", fmt]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def assert_cli_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


# ----------------------------------------------------------------------------
# formats, table creation, appends


def test_csv_load_creates_table_with_contract_types(db, tmp_path):
    f = write_csv(tmp_path / "interactions.csv", [interaction(i) for i in range(5)])
    assert load_files(db, "interactions", [f]) == 5
    assert count(db) == 5
    contract = raw_contract()["interactions"]
    types = column_types(db, "interactions")
    assert list(types) == contract.column_names
    for col in contract.columns:
        assert types[col.name] == SQL_TYPES[col.data_type], col.name
    row = query(db, "SELECT input_tokens, cost_usd, requested_at FROM raw.interactions WHERE interaction_id = 'i3'")[0]
    assert row == (103, 0.0012, dt.datetime(2026, 6, 1, 10, 3))


@pytest.mark.parametrize("table", sorted(raw_contract()))
def test_every_contract_table_is_created_with_its_types(db, tmp_path, table):
    contract = raw_contract()[table]
    f = write_csv(tmp_path / f"{table}.csv", [{c: "" for c in contract.column_names}])
    assert load_files(db, table, [f]) == 1
    types = column_types(db, table)
    assert types == {c.name: SQL_TYPES[c.data_type] for c in contract.columns}


def test_parquet_load(db, tmp_path):
    table = pa.table({
        "interaction_id": ["p1", "p2"],
        "task_id": ["t1", "t2"],
        "user_id": ["u1", "u2"],
        "feature": ["search", "search"],
        "model": ["m", "m"],
        "requested_at": pa.array(
            [dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC), dt.datetime(2026, 6, 1, 9, 30, tzinfo=UTC)],
            type=pa.timestamp("us", tz="Europe/Paris"),
        ),
        "responded_at": pa.array([dt.datetime(2026, 6, 1, 8, 0, 3), None], type=pa.timestamp("ns")),
        "status": ["ok", "error"],
        "input_tokens": pa.array([10, None], type=pa.int32()),
        "output_tokens": pa.array([5.0, 7.0], type=pa.float64()),  # integral doubles are fine
        "cost_usd": pa.array([0.5, 1.25], type=pa.float32()),
        "attempt": pa.array([1, 2], type=pa.int64()),
    })
    f = write_parquet(tmp_path / "interactions.parquet", table)
    assert load_files(db, "interactions", [f]) == 2
    rows = query(db, "SELECT interaction_id, requested_at, responded_at, input_tokens, output_tokens, cost_usd, attempt "
                     "FROM raw.interactions ORDER BY 1")
    assert rows == [
        ("p1", dt.datetime(2026, 6, 1, 8, 0), dt.datetime(2026, 6, 1, 8, 0, 3), 10, 5, 0.5, 1),
        ("p2", dt.datetime(2026, 6, 1, 9, 30), None, None, 7, 1.25, 2),
    ]


def test_parquet_timestamptz_is_stored_as_utc(db, tmp_path):
    # TIMESTAMPTZ written by DuckDB itself, whatever the writer's session time zone.
    f = tmp_path / "users.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    con.execute(f"COPY (SELECT 'u1' AS user_id, TIMESTAMPTZ '2026-06-01 10:00:00+02:00' AS signed_up_at) TO '{f}'")
    con.close()
    assert load_files(db, "users", [f]) == 1
    assert query(db, "SELECT signed_up_at FROM raw.users") == [(dt.datetime(2026, 6, 1, 8, 0),)]


def test_jsonl_load(db, tmp_path):
    rows = [
        {**interaction(1), "input_tokens": 12, "confidence": 0.25, "requested_at": "2026-06-01T10:00:00+02:00"},
        {**interaction(2), "input_tokens": "13", "confidence": None, "cost_usd": ""},
    ]
    f = write_jsonl(tmp_path / "interactions.jsonl", rows)
    assert load_files(db, "interactions", [f]) == 2
    got = query(db, "SELECT interaction_id, input_tokens, confidence, cost_usd, requested_at, experiment_id "
                    "FROM raw.interactions ORDER BY 1")
    assert got == [
        ("i1", 12, 0.25, 0.0012, dt.datetime(2026, 6, 1, 8, 0), ""),
        ("i2", 13, None, None, dt.datetime(2026, 6, 1, 10, 2), ""),
    ]


@pytest.mark.parametrize("name", ["data.ndjson", "data.json", "data.txt"])
def test_jsonl_extensions_and_forced_format(db, tmp_path, name):
    f = write_jsonl(tmp_path / name, [interaction(1)])
    if name.endswith(".txt"):
        with pytest.raises(AimetricsError, match="cannot tell the format"):
            load_files(db, "interactions", [f])
        assert load_files(db, "interactions", [f], fmt="jsonl") == 1
    else:
        assert load_files(db, "interactions", [f]) == 1
    assert count(db) == 1


def test_forced_csv_format(db, tmp_path):
    f = write_csv(tmp_path / "export.dat", [interaction(1)])
    assert load_files(db, "interactions", [f], fmt="csv") == 1


def test_semicolon_csv(db, tmp_path):
    f = tmp_path / "semi.csv"
    f.write_text("user_id;segment;is_internal\nu1;pro;no\nu2;free;YES\n")
    assert load_files(db, "users", [f]) == 2
    assert query(db, "SELECT user_id, segment, is_internal FROM raw.users ORDER BY 1") == [
        ("u1", "pro", False), ("u2", "free", True)]


def test_append_twice_accumulates(db, tmp_path):
    f1 = write_csv(tmp_path / "a.csv", [interaction(i) for i in range(3)])
    f2 = write_csv(tmp_path / "b.csv", [interaction(i) for i in range(3, 7)])
    assert load_files(db, "interactions", [f1]) == 3
    assert load_files(db, "interactions", [f2]) == 4
    assert count(db) == 7
    # the same file again is appended again (duplicates are staging's business)
    assert load_files(db, "interactions", [f1]) == 3
    assert count(db) == 10


def test_several_files_and_formats_in_one_call(db, tmp_path):
    f1 = write_csv(tmp_path / "a.csv", [interaction(1)])
    f2 = write_jsonl(tmp_path / "b.jsonl", [interaction(2)])
    f3 = write_parquet(tmp_path / "c.parquet", pa.Table.from_pylist([interaction(3)]))
    assert load_files(db, "interactions", [f1, f2, f3]) == 3
    assert query(db, "SELECT list(interaction_id ORDER BY interaction_id) FROM raw.interactions") == [(["i1", "i2", "i3"],)]


def test_cli_load_success(db, tmp_path):
    f = write_csv(tmp_path / "interactions.csv", [interaction(i) for i in range(4)])
    r = cli(db, "interactions", f)
    assert r.returncode == 0, r.stderr
    assert "loaded 4 rows into raw.interactions" in r.stdout
    assert count(db) == 4


# ----------------------------------------------------------------------------
# refusals: nothing written, one-line message naming file, column and rule


def test_missing_required_column_refused(db, tmp_path):
    cols = [c for c in interaction(0) if c != "requested_at"]
    f = write_csv(tmp_path / "interactions.csv", [interaction(1)], columns=cols)
    with pytest.raises(AimetricsError, match=r"interactions\.csv: missing required column requested_at$"):
        load_files(db, "interactions", [f])
    assert not table_exists(db)

    err = assert_cli_error(cli(db, "interactions", f), "interactions.csv", "missing required column requested_at")
    assert err.startswith("aimetrics load: error:")
    assert not table_exists(db)


def test_missing_required_column_after_good_file_writes_nothing(db, tmp_path):
    good = write_csv(tmp_path / "good.csv", [interaction(i) for i in range(3)])
    load_files(db, "interactions", [good])
    bad = write_csv(tmp_path / "bad.csv", [interaction(9)], columns=[c for c in interaction(0) if c not in ("status", "model")])
    with pytest.raises(AimetricsError, match=r"bad\.csv: missing required columns model, status"):
        load_files(db, "interactions", [good, bad])
    assert count(db) == 3  # neither the good file of this call nor the bad one

    assert_cli_error(cli(db, "interactions", good, bad), "bad.csv", "missing required columns model, status")
    assert count(db) == 3


def test_nothing_written_on_failure_includes_new_columns_and_table(db, tmp_path):
    good = write_csv(tmp_path / "good.csv", [{**interaction(1), "brand_new": "x"}])
    bad = write_csv(tmp_path / "bad.csv", [interaction(2, input_tokens="lots")])
    with pytest.raises(AimetricsError):
        load_files(db, "interactions", [good, bad])
    assert not table_exists(db)
    load_files(db, "interactions", [write_csv(tmp_path / "ok.csv", [interaction(3)])])
    assert "brand_new" not in column_types(db, "interactions")


def test_wrong_type_refused_naming_column_and_row(db, tmp_path):
    rows = [interaction(i) for i in range(10)]
    for i in (6, 8, 9):
        rows[i]["input_tokens"] = "abc" if i == 6 else "12x"
    f = write_csv(tmp_path / "interactions.csv", rows)
    expected = "interactions.csv: column input_tokens: 3 values are not integers (first at row 7: 'abc')"
    with pytest.raises(AimetricsError) as exc:
        load_files(db, "interactions", [f])
    assert str(exc.value).endswith(expected)
    assert not table_exists(db)

    assert_cli_error(cli(db, "interactions", f), expected)
    assert not table_exists(db)


def test_wrong_types_in_several_columns_all_reported(db, tmp_path):
    rows = [interaction(1), interaction(2, requested_at="yesterday", confidence="high"), interaction(3, input_tokens="7.5")]
    f = write_csv(tmp_path / "interactions.csv", rows)
    with pytest.raises(AimetricsError) as exc:
        load_files(db, "interactions", [f])
    msg = str(exc.value)
    assert "column requested_at: 1 value is not a timestamp (first at row 2: 'yesterday')" in msg
    assert "column confidence: 1 value is not a number (first at row 2: 'high')" in msg
    assert "column input_tokens: 1 value is not an integer (first at row 3: '7.5')" in msg
    assert "\n" not in msg


def test_wrong_type_in_jsonl_and_parquet_refused(db, tmp_path):
    j = write_jsonl(tmp_path / "reviews.jsonl", [
        {"review_id": "r1", "interaction_id": "i1", "reviewer_kind": "automated", "dimension": "safety",
         "verdict": "pass", "score": {"nested": 1}, "reviewed_at": "2026-06-01"},
    ])
    with pytest.raises(AimetricsError, match=r"reviews\.jsonl: column score: 1 value is not a number \(first at row 1: "):
        load_files(db, "output_reviews", [j])

    p = write_parquet(tmp_path / "evals.parquet", pa.table({
        "eval_run_id": ["e"] * 2, "run_at": ["2026-06-01"] * 2, "suite": ["s"] * 2, "model": ["m"] * 2,
        "model_version": ["v"] * 2, "case_id": ["c1", "c2"], "sample_index": [0.0, 1.5], "passed": ["yes", "maybe"],
    }))
    r = cli(db, "eval_results", p)
    assert_cli_error(r, "evals.parquet", "column sample_index: 1 value is not an integer (first at row 2: '1.5')",
                     "column passed: 1 value is not a boolean")
    assert not table_exists(db, "eval_results")


def test_row_number_is_exact_in_a_large_file(db, tmp_path):
    n = 300_000
    f = tmp_path / "big.csv"
    with open(f, "w") as out:
        out.write("user_id,signed_up_at,is_internal\n")
        for i in range(n):
            out.write(f"u{i},2026-01-01 00:00:00,{'banana' if i == 254_321 else 'false'}\n")
    with pytest.raises(AimetricsError, match=r"column is_internal: 1 value is not a boolean .*first at row 254322: 'banana'"):
        load_files(db, "users", [f])


@pytest.mark.parametrize("kind", ["csv", "parquet", "jsonl"])
def test_corrupt_file_refused(db, tmp_path, kind):
    good = write_csv(tmp_path / "good.csv", [interaction(1)])
    if kind == "csv":
        bad = tmp_path / "broken.csv"
        lines = [",".join(interaction(0))] + [",".join(interaction(i).values()) for i in range(3)]
        lines.insert(2, "too,few,fields")
        bad.write_text("\n".join(lines) + "\n")
    elif kind == "parquet":
        bad = tmp_path / "broken.parquet"
        bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    else:
        bad = tmp_path / "broken.jsonl"
        bad.write_text(json.dumps(interaction(1)) + "\n{\"interaction_id\": \n")
    with pytest.raises(AimetricsError, match=rf"broken\.{kind}: cannot read as "):
        load_files(db, "interactions", [good, bad])
    assert not table_exists(db)
    assert_cli_error(cli(db, "interactions", good, bad), f"broken.{kind}", "cannot read as")
    assert not table_exists(db)


def test_missing_file_refused(db, tmp_path):
    assert_cli_error(cli(db, "interactions", tmp_path / "nope.csv"), "nope.csv", "file not found")
    assert not db.exists() or not table_exists(db)


def test_unknown_table_refused(db, tmp_path):
    f = write_csv(tmp_path / "x.csv", [interaction(1)])
    with pytest.raises(AimetricsError, match="unknown raw table 'interaction'.*interactions, user_events"):
        load_files(db, "interaction", [f])
    assert_cli_error(cli(db, "interaction", f), "unknown raw table 'interaction'", "valid tables:", "infra_costs")


def test_locked_database_refused(db, tmp_path):
    f = write_csv(tmp_path / "x.csv", [interaction(1)])
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
         str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert_cli_error(cli(db, "interactions", f), "locked by another process", str(db))
        with pytest.raises(AimetricsError, match="locked"):
            load_files(db, "interactions", [f])
    finally:
        holder.kill()
        holder.wait()
    assert load_files(db, "interactions", [f]) == 1


# ----------------------------------------------------------------------------
# what is loaded, not refused


def test_null_and_empty_required_values_are_loaded(db, tmp_path):
    rows = [interaction(1, user_id="", requested_at="", status=""), interaction(2, task_id="   ")]
    f = write_csv(tmp_path / "interactions.csv", rows)
    j = write_jsonl(tmp_path / "more.jsonl", [{**interaction(3), "user_id": None, "feature": ""}])
    assert load_files(db, "interactions", [f, j]) == 3
    got = query(db, "SELECT interaction_id, user_id, requested_at, status, task_id, feature FROM raw.interactions ORDER BY 1")
    assert got[0][0] == "i1" and got[0][1] in (None, "") and got[0][2] is None and got[0][3] in (None, "")
    assert got[1][4] == "   "  # text is kept as is
    assert got[2][1] is None and got[2][5] == ""


def test_out_of_range_and_bad_enum_values_are_loaded(db, tmp_path):
    f = write_csv(tmp_path / "interactions.csv",
                  [interaction(1, status="EXPLODED", input_tokens="-5", confidence="7", attempt="0")])
    assert load_files(db, "interactions", [f]) == 1
    assert query(db, "SELECT status, input_tokens, confidence, attempt FROM raw.interactions") == [("EXPLODED", -5, 7.0, 0)]


def test_empty_and_blank_typed_values_load_as_null(db, tmp_path):
    f = write_csv(tmp_path / "interactions.csv", [interaction(1, input_tokens="", confidence="  ", responded_at=" ")])
    j = write_jsonl(tmp_path / "i.jsonl", [interaction(2, input_tokens=" ", cost_usd="", responded_at="")])
    assert load_files(db, "interactions", [f, j]) == 2
    assert query(db, "SELECT input_tokens, confidence, responded_at FROM raw.interactions WHERE interaction_id = 'i1'") == [(None, None, None)]
    assert query(db, "SELECT input_tokens, cost_usd, responded_at FROM raw.interactions WHERE interaction_id = 'i2'") == [(None, None, None)]


def test_optional_columns_missing_load_as_null(db, tmp_path):
    contract = raw_contract()["interactions"]
    f = write_csv(tmp_path / "minimal.csv", [interaction(1)], columns=contract.required_columns)
    assert load_files(db, "interactions", [f]) == 1
    optional = [c.name for c in contract.columns if not c.required and c.name != "ingested_at"]
    row = query(db, f"SELECT {', '.join(optional)} FROM raw.interactions")[0]
    assert row == tuple([None] * len(optional))


def test_file_without_ingested_at_gets_the_load_time(db, tmp_path):
    contract = raw_contract()["interactions"]
    f = write_csv(tmp_path / "minimal.csv", [interaction(1)], columns=contract.required_columns)
    before = dt.datetime.now(UTC).replace(tzinfo=None)
    load_files(db, "interactions", [f])
    after = dt.datetime.now(UTC).replace(tzinfo=None)
    (stamped,) = query(db, "SELECT ingested_at FROM raw.interactions")[0]
    assert before - dt.timedelta(seconds=1) <= stamped <= after + dt.timedelta(seconds=1)
    # a file that has the column keeps its own values, nulls included
    g = write_csv(tmp_path / "own.csv", [interaction(2, ingested_at="")])
    load_files(db, "interactions", [g])
    assert query(db, "SELECT ingested_at FROM raw.interactions WHERE interaction_id = 'i2'") == [(None,)]


def test_extra_columns_are_kept(db, tmp_path):
    f1 = write_csv(tmp_path / "a.csv", [{**interaction(1), "region": "eu", "Prompt Template": "t1"}])
    assert load_files(db, "interactions", [f1]) == 1
    types = column_types(db, "interactions")
    assert types["region"] == "VARCHAR" and types["Prompt Template"] == "VARCHAR"
    assert list(types)[: len(raw_contract()["interactions"].columns)] == raw_contract()["interactions"].column_names

    # a later file without the extra column loads NULL there; one with a new extra adds it
    f2 = write_csv(tmp_path / "b.csv", [interaction(2)])
    f3 = write_jsonl(tmp_path / "c.jsonl", [{**interaction(3), "region": "us", "tags": ["a", "b"], "score_x": 3}])
    assert load_files(db, "interactions", [f2, f3]) == 2
    got = query(db, 'SELECT interaction_id, region, "Prompt Template", tags, score_x FROM raw.interactions ORDER BY 1')
    assert got == [("i1", "eu", "t1", None, None), ("i2", None, None, None, None), ("i3", "us", None, '["a","b"]', 3)]

    r = cli(db, "interactions", write_csv(tmp_path / "d.csv", [{**interaction(4), "REGION": "apac"}]))
    assert r.returncode == 0, r.stderr
    assert query(db, "SELECT region FROM raw.interactions WHERE interaction_id = 'i4'") == [("apac",)]


def test_extra_column_typed_then_text_is_widened(db, tmp_path):
    p = write_parquet(tmp_path / "a.parquet", pa.Table.from_pylist([{**interaction(1), "shard": 7}]))
    assert load_files(db, "interactions", [p]) == 1
    assert column_types(db, "interactions")["shard"] == "BIGINT"
    f = write_csv(tmp_path / "b.csv", [{**interaction(2), "shard": "eu-7"}])
    assert load_files(db, "interactions", [f]) == 1
    assert column_types(db, "interactions")["shard"] == "VARCHAR"
    assert query(db, "SELECT shard FROM raw.interactions ORDER BY interaction_id") == [("7",), ("eu-7",)]


# ----------------------------------------------------------------------------
# conversions


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_timestamp_offsets_become_utc(db, tmp_path, fmt):
    values = {
        "plus2": ("2026-06-01T10:00:00+02:00", dt.datetime(2026, 6, 1, 8, 0)),
        "zulu": ("2026-06-01T10:00:00Z", dt.datetime(2026, 6, 1, 10, 0)),
        "naive": ("2026-06-01 10:00:00", dt.datetime(2026, 6, 1, 10, 0)),
        "naive_t": ("2026-06-01T10:00:00.250", dt.datetime(2026, 6, 1, 10, 0, 0, 250000)),
        "minus5": ("2026-06-01T22:30:00-05:00", dt.datetime(2026, 6, 2, 3, 30)),
        "date_only": ("2026-06-01", dt.datetime(2026, 6, 1)),
    }
    rows = [{"event_id": k, "user_id": "u", "occurred_at": v, "event_type": "x"} for k, (v, _) in values.items()]
    f = write_csv(tmp_path / "e.csv", rows) if fmt == "csv" else write_jsonl(tmp_path / "e.jsonl", rows)
    # a session time zone elsewhere must not matter
    assert load_files(db, "user_events", [f]) == len(values)
    got = dict(query(db, "SELECT event_id, occurred_at FROM raw.user_events"))
    assert got == {k: expected for k, (_, expected) in values.items()}
    assert column_types(db, "user_events")["occurred_at"] == "TIMESTAMP"


def test_infra_cost_date_accepts_dates_and_timestamps(db, tmp_path):
    f = tmp_path / "costs.csv"
    f.write_text("cost_date,cost_kind,cost_usd\n2026-06-01,gpu,10.5\n2026-06-02T13:00:00Z,gpu,3\n2026-06-03 08:00:00,vector_db,1e2\n")
    assert load_files(db, "infra_costs", [f]) == 3
    assert query(db, "SELECT cost_date, cost_usd FROM raw.infra_costs ORDER BY 1") == [
        (dt.date(2026, 6, 1), 10.5), (dt.date(2026, 6, 2), 3.0), (dt.date(2026, 6, 3), 100.0)]
    bad = tmp_path / "bad_costs.csv"
    bad.write_text("cost_date,cost_kind,cost_usd\n2026-13-45,gpu,1\n")
    with pytest.raises(AimetricsError, match=r"column cost_date: 1 value is not a date \(first at row 1: '2026-13-45'\)"):
        load_files(db, "infra_costs", [bad])


def test_booleans(db, tmp_path):
    values = ["true", "FALSE", "1", "0", "t", "F", "yes", "No", " true "]
    rows = [{"eval_run_id": "e", "run_at": "2026-06-01", "suite": "s", "model": "m", "model_version": "v",
             "case_id": "c", "sample_index": str(i), "passed": v} for i, v in enumerate(values)]
    f = write_csv(tmp_path / "evals.csv", rows)
    assert load_files(db, "eval_results", [f]) == len(values)
    got = [r[0] for r in query(db, "SELECT passed FROM raw.eval_results ORDER BY sample_index")]
    assert got == [True, False, True, False, True, False, True, False, True]


def test_integers_accept_integral_text_only(db, tmp_path):
    f = write_csv(tmp_path / "ok.csv", [interaction(1, input_tokens=" 42 ", output_tokens="7.0", attempt="1e1")])
    assert load_files(db, "interactions", [f]) == 1
    assert query(db, "SELECT input_tokens, output_tokens, attempt FROM raw.interactions") == [(42, 7, 10)]


def test_quoted_empty_text_stays_empty_string(db, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text('user_id,segment,ai_access\nu1,"",\n')
    assert load_files(db, "users", [f]) == 1
    assert query(db, "SELECT segment, ai_access FROM raw.users") == [("", None)]


def test_header_names_match_case_insensitively_and_trimmed(db, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text(" User_ID ,SEGMENT\nu1,pro\n")
    assert load_files(db, "users", [f]) == 1
    assert query(db, "SELECT user_id, segment FROM raw.users") == [("u1", "pro")]
    assert list(column_types(db, "users")) == raw_contract()["users"].column_names


def test_header_only_file_loads_zero_rows(db, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text("user_id,segment\n")
    assert load_files(db, "users", [f]) == 0
    assert count(db, "users") == 0


def test_gzipped_csv(db, tmp_path):
    import gzip

    f = tmp_path / "users.csv.gz"
    with gzip.open(f, "wt") as out:
        out.write("user_id|segment\nu1|pro\nu2|free\n")
    assert load_files(db, "users", [f]) == 2
    assert query(db, "SELECT list(segment ORDER BY user_id) FROM raw.users") == [(["pro", "free"],)]


def test_csv_row_with_extra_field_refused_with_line_number(db, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text("user_id,segment\nu1,pro\nu2,free\nu3,free,surprise\nu4,pro\n")
    with pytest.raises(AimetricsError, match=r"users\.csv: cannot read as CSV: .*Line: 4.*Expected Number of Columns: 2 Found: 3"):
        load_files(db, "users", [f])
    assert not table_exists(db, "users")


def test_csv_hash_lines_are_data_not_comments(db, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text("user_id,segment\n#1,pro\nu2,\"a, b\"\n\"multi\nline\",x\n")
    assert load_files(db, "users", [f]) == 3
    assert sorted(query(db, "SELECT user_id, segment FROM raw.users")) == [
        ("#1", "pro"), ("multi\nline", "x"), ("u2", "a, b")]


def test_duplicate_columns_refused(db, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text("user_id,User_Id\nu1,u2\n")
    with pytest.raises(AimetricsError, match=r"users\.csv: columns 'user_id' and 'User_Id' are the same column"):
        load_files(db, "users", [f])
    j = write_jsonl(tmp_path / "users.jsonl", [{"user_id": "u1", "USER_ID": "u2"}])
    with pytest.raises(AimetricsError, match="are the same column"):
        load_files(db, "users", [j])
