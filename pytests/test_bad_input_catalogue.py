"""The bad-input catalogue: messy telemetry through ``aimetrics load`` and ``aimetrics run``.

Every case is a small file with at least one good row beside the bad one(s),
and asserts its exact outcome:

* **refused** by ``aimetrics load``: exit 2, one line naming the file, the
  column and the rule, and nothing of the call written;
* **quarantined** by staging: the bad row in ``quarantine.quarantine_raw__<table>``
  with its reason code, the good rows staged and in the marts;
* **accepted** as the contract says (normalised, deduplicated, kept as data);
* **warned** by ``aimetrics check raw`` / ``check marts`` while ``aimetrics run`` passes;
* **blocked** by ``aimetrics check raw``: exit 1, a one-screen summary naming
  table, expectation, rows and offending keys, nothing built.

To keep CI short, cases whose outcomes are independent share one warehouse:
all accepted files are loaded (one ``aimetrics load`` call per file) into one
DuckDB file and built by one ``aimetrics run``; refused files are tried on that
same file first (so the run also proves they left nothing behind); the
blocking cases share a second file and stop before dbt.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

DAY = "2026-06-02"


def ts(hh: int, mm: int = 0, ss: int = 0, day: str = DAY) -> str:
    return f"{day}T{hh:02d}:{mm:02d}:{ss:02d}Z"


def interaction(iid: str, **kw) -> dict:
    row = {"interaction_id": iid, "task_id": f"t_{iid}", "user_id": "u_good", "feature": "email_draft",
           "model": "gpt-4o", "requested_at": ts(10), "responded_at": ts(10, 0, 2), "status": "ok",
           "input_tokens": "10", "output_tokens": "20", "cost_usd": "0.001", "confidence": "0.5"}
    row.update(kw)
    return row


def event(eid: str, **kw) -> dict:
    row = {"event_id": eid, "user_id": "u_good", "occurred_at": ts(10, 1), "event_type": "suggestion_inserted",
           "interaction_id": None, "task_id": None}
    row.update(kw)
    return row


def review(rid: str, iid: str, **kw) -> dict:
    row = {"review_id": rid, "interaction_id": iid, "reviewer_kind": "llm_judge", "dimension": "hallucination",
           "verdict": "pass", "reviewed_at": ts(11)}
    row.update(kw)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def cli(db: Path, *args: str, tmp: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, DBT_LOG_PATH=str((tmp or db.parent) / "dbt_logs"))
    return subprocess.run([sys.executable, "-m", "aimetrics.cli", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=900, env=env)


def run(db: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    return cli(db, "run", "--docs-dir", str(tmp / "docs"), "--target-path", str(tmp / "target"), *extra, tmp=tmp)


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ----------------------------------------------------------------------------
# the accepted files: (case, table, writer) — every file has a good row <case>_ok


def _accepted_files(tmp: Path) -> list[tuple[str, str, Path]]:
    f = []

    def add(case: str, table: str, path: Path) -> None:
        f.append((case, table, path))

    # quarantined: one bad row beside a good one
    add("confidence_1_5", "interactions", write_csv(tmp / "confidence.csv", [
        interaction("confidence_1_5_ok"), interaction("confidence_1_5_bad", confidence="1.5")]))
    add("negative_tokens", "interactions", write_csv(tmp / "tokens.csv", [
        interaction("negative_tokens_ok"), interaction("negative_tokens_bad", output_tokens="-3")]))
    add("negative_cost", "interactions", write_csv(tmp / "cost.csv", [
        interaction("negative_cost_ok"), interaction("negative_cost_bad", cost_usd="-0.5")]))
    add("unknown_status", "interactions", write_csv(tmp / "status.csv", [
        interaction("unknown_status_ok"), interaction("unknown_status_bad", status="exploded")]))
    add("responded_before_requested", "interactions", write_csv(tmp / "order.csv", [
        interaction("responded_before_requested_ok"),
        interaction("responded_before_requested_bad", responded_at=ts(9, 59))]))
    add("blank_required", "interactions", write_csv(tmp / "blank.csv", [
        interaction("blank_required_ok"), interaction("blank_required_bad", user_id=" \t ")]))
    add("nan_and_infinity", "interactions", write_csv(tmp / "nan.csv", [
        interaction("nan_and_infinity_ok"), interaction("nan_and_infinity_bad", cost_usd="NaN"),
        interaction("nan_and_infinity_bad2", cost_usd="Infinity"), interaction("nan_and_infinity_bad3", confidence="nan")]))
    add("negative_edit_distance", "user_events", write_csv(tmp / "edit.csv", [
        event("negative_edit_distance_ok"),
        event("negative_edit_distance_bad", event_type="suggestion_edited", edit_distance="-1", output_chars="10")]))
    add("unknown_reviewer_kind", "output_reviews", write_csv(tmp / "reviewer.csv", [
        review("unknown_reviewer_kind_ok", "confidence_1_5_ok"),
        review("unknown_reviewer_kind_bad", "confidence_1_5_ok", reviewer_kind="crowd")]))
    add("unknown_ai_access", "users", write_csv(tmp / "users.csv", [
        {"user_id": "u_good", "ai_access": "treatment"}, {"user_id": "unknown_ai_access_bad", "ai_access": "Control"}]))
    add("negative_infra_cost", "infra_costs", write_csv(tmp / "infra.csv", [
        {"cost_date": DAY, "feature": "email_draft", "model": "gpt-4o", "cost_kind": "gpu", "cost_usd": "1.0"},
        {"cost_date": DAY, "feature": "email_draft", "model": "gpt-4o", "cost_kind": "gpu", "cost_usd": "-1.0"}]))

    # accepted as the contract says
    add("enum_case_and_whitespace", "interactions", write_csv(tmp / "enum.csv", [
        interaction("enum_case_and_whitespace_ok", status=" OK "),
        interaction("enum_case_and_whitespace_ok2", status="Timeout", responded_at="")]))
    add("naive_timestamps", "interactions", write_csv(tmp / "naive.csv", [
        interaction("naive_timestamps_ok", requested_at=f"{DAY} 12:00:00", responded_at=f"{DAY} 12:00:03")]))
    add("mixed_timestamp_formats", "interactions", write_jsonl(tmp / "mixed.jsonl", [
        interaction("mixed_timestamp_formats_ok", requested_at=f"{DAY}T14:00:00+02:00", responded_at=f"{DAY} 12:00:01Z"),
        interaction("mixed_timestamp_formats_ok2", requested_at=f"{DAY}T07:00:00-05:00",
                    responded_at=f"{DAY}T12:00:02.500000"),
        interaction("mixed_timestamp_formats_ok3", requested_at=f"{DAY} 12:00:00+0000", responded_at=None)]))
    add("extra_columns", "interactions", write_csv(tmp / "extra.csv", [
        interaction("extra_columns_ok", client_version="5.2.1", region="eu")]))
    add("unicode_and_long_ids", "interactions", write_csv(tmp / "unicode.csv", [
        interaction("unicode_and_long_ids_ok", user_id="ü-用户-🙂", feature="résumé_ü"),
        interaction("unicode_and_long_ids_ok2", task_id="t" * 5000)]))
    add("sql_text_in_strings", "interactions", write_csv(tmp / "sql.csv", [
        interaction("sql_text_in_strings_ok", feature="x'); drop table raw.interactions; --",
                    user_id="' or 1=1 --", model='gpt"; delete from raw.users; --')]))
    add("duplicate_id_within_batch", "interactions", write_csv(tmp / "dup_within.csv", [
        interaction("duplicate_id_within_batch_ok"), interaction("duplicate_id_within_batch_ok")]))
    # the same id in two batches: the later batch wins (loaded after this one, below)
    add("duplicate_id_across_batches", "interactions", write_csv(tmp / "dup_across_1.csv", [
        interaction("duplicate_id_across_batches_ok", status="timeout", responded_at="")]))
    add("duplicate_id_across_batches", "interactions", write_csv(tmp / "dup_across_2.csv", [
        interaction("duplicate_id_across_batches_ok", status="ok")]))
    same = write_csv(tmp / "same_file.csv", [interaction("same_file_twice_ok", ingested_at="2026-06-02T23:00:00Z")])
    add("same_file_twice", "interactions", same)
    add("same_file_twice", "interactions", same)
    add("unknown_model", "interactions", write_csv(tmp / "model.csv", [
        interaction("unknown_model_ok", model="acme-unpriced-1", cost_usd="")]))

    # warned
    add("orphan_events", "user_events", write_csv(tmp / "orphans.csv", [
        event("orphan_events_ok", interaction_id="confidence_1_5_ok", event_type="suggestion_inserted"),
        event("orphan_events_orphan", interaction_id="no_such_interaction", task_id="no_such_task")]))
    add("reviews_for_unknown_interactions", "output_reviews", write_csv(tmp / "review_orphans.csv", [
        review("reviews_for_unknown_interactions_ok", "negative_tokens_ok"),
        review("reviews_for_unknown_interactions_orphan", "no_such_interaction")]))
    add("conflicting_reviews_same_instant", "output_reviews", write_csv(tmp / "conflict.csv", [
        review("conflicting_reviews_same_instant_a", "negative_cost_ok", verdict="fail", reviewed_at=ts(12)),
        review("conflicting_reviews_same_instant_b", "negative_cost_ok", verdict="pass", reviewed_at=ts(12))]))
    add("unknown_event_type", "user_events", write_csv(tmp / "event_type.csv", [
        event("unknown_event_type_ok", event_type="Page_Scrolled ")]))
    return f


#: refused files: (case, table, file name, content writer, fragments of the one-line message)
def _refused_files(tmp: Path) -> list[tuple[str, str, Path, list[str]]]:
    good = interaction("refused_good_row")
    r = []
    no_task = {k: v for k, v in good.items() if k != "task_id"}
    r.append(("missing_required_column", "interactions",
              write_csv(tmp / "no_task.csv", [no_task]), ["no_task.csv", "missing required column task_id"]))
    r.append(("wrong_type_integer", "interactions",
              write_csv(tmp / "wrong_int.csv", [good, interaction("x", input_tokens="ten")]),
              ["wrong_int.csv", "column input_tokens", "not an integer", "'ten'"]))
    r.append(("wrong_type_timestamp", "interactions",
              write_csv(tmp / "wrong_ts.csv", [good, interaction("x", requested_at="yesterday")]),
              ["wrong_ts.csv", "column requested_at", "not a timestamp", "'yesterday'"]))
    r.append(("wrong_type_boolean", "eval_results",
              write_csv(tmp / "wrong_bool.csv", [
                  {"eval_run_id": "r1", "run_at": ts(9), "suite": "s", "model": "m", "model_version": "v",
                   "case_id": "c1", "sample_index": "0", "passed": "maybe"}]),
              ["wrong_bool.csv", "column passed", "not a boolean", "'maybe'"]))
    r.append(("sql_text_in_numeric_field", "interactions",
              write_csv(tmp / "sql_number.csv", [good, interaction("x", output_tokens="1; drop table raw.interactions")]),
              ["sql_number.csv", "column output_tokens", "not an integer"]))
    empty = tmp / "empty.csv"
    empty.write_text("")
    r.append(("empty_file", "interactions", empty, ["empty.csv", "missing required columns interaction_id"]))
    bad_jsonl = tmp / "malformed.jsonl"
    bad_jsonl.write_text(json.dumps(good) + "\n" + '{"interaction_id": "x", "task_id": \n' + json.dumps(good) + "\n")
    r.append(("jsonl_malformed_line", "interactions", bad_jsonl, ["malformed.jsonl", "cannot read as JSON Lines"]))
    renamed = tmp / "renamed.parquet"
    pq.write_table(pa.table({"interactionId": ["p1"], "task_id": ["t"], "user_id": ["u"], "feature": ["f"],
                             "model": ["m"], "requested_at": [ts(10)], "status": ["ok"]}), renamed)
    r.append(("parquet_different_schema", "interactions", renamed,
              ["renamed.parquet", "missing required column interaction_id"]))
    epoch = tmp / "epoch.parquet"
    pq.write_table(pa.table({"interaction_id": ["p2"], "task_id": ["t"], "user_id": ["u"], "feature": ["f"],
                             "model": ["m"], "requested_at": pa.array([1780000000], pa.int64()), "status": ["ok"]}), epoch)
    r.append(("parquet_epoch_integers_as_timestamp", "interactions", epoch,
              ["epoch.parquet", "column requested_at", "not a timestamp", "'1780000000'"]))
    short_row = tmp / "short_row.csv"
    short_row.write_text("interaction_id,task_id,user_id,feature,model,requested_at,status\n"
                         f"s1,t,u,f,m,{ts(10)},ok\ns2,t,u,f,m\n")
    r.append(("csv_row_with_missing_fields", "interactions", short_row, ["short_row.csv", "Line: 3", "Expected Number of Columns: 7 Found: 5"]))
    return r


REFUSED = ["missing_required_column", "wrong_type_integer", "wrong_type_timestamp", "wrong_type_boolean",
           "sql_text_in_numeric_field", "empty_file", "jsonl_malformed_line", "parquet_different_schema",
           "parquet_epoch_integers_as_timestamp", "csv_row_with_missing_fields"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """One warehouse: every accepted file loaded, every refused file tried, then `aimetrics run`."""
    tmp = tmp_path_factory.mktemp("catalogue")
    db = tmp / "catalogue.duckdb"
    loads = {}
    for case, table, path in _accepted_files(tmp):
        result = cli(db, "load", table, str(path))
        assert result.returncode == 0, (case, result.stderr)
        loads.setdefault(case, []).append(result)
    raw_before = {t: rows(db, f"select count(*) from raw.{t}")[0][0]
                  for t in ("interactions", "user_events", "output_reviews", "eval_results", "users", "infra_costs")
                  if rows(db, f"select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = '{t}'")[0][0]}
    refusals = {}
    for case, table, path, fragments in _refused_files(tmp):
        refusals[case] = (cli(db, "load", table, str(path)), fragments, table)
    result = run(db, tmp)
    yield {"db": db, "run": result, "loads": loads, "refusals": refusals, "raw_before": raw_before, "tmp": tmp}


def warnings_of(tmp_or_warehouse, layer: str) -> dict[str, dict]:
    """{"<table>: <expectation>": failure} from the run's failures.json (the summary shows one screen)."""
    docs = tmp_or_warehouse["tmp"] / "docs" / layer / "failures.json"
    return {f"{f['table']}: {f['expectation']}": f for f in json.loads(docs.read_text())["failures"]}


def _run_passed(warehouse) -> None:
    result = warehouse["run"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_run_passes_with_warnings_and_no_traceback(warehouse):
    _run_passed(warehouse)
    out = warehouse["run"].stdout
    assert "check raw:" in out and "check marts:" in out and "aimetrics run: passed" in out
    assert "0 errors" in out
    # the last line says where the results are: the database and both Data Docs
    last = out.strip().splitlines()[-1]
    docs = warehouse["tmp"] / "docs"
    assert last.startswith("aimetrics run: passed with ") and str(warehouse["db"]) in last, last
    assert str(docs / "raw" / "index.html") in last and str(docs / "marts" / "index.html") in last, last


@pytest.mark.parametrize("case", REFUSED)
def test_refused_naming_file_column_and_rule_and_nothing_written(warehouse, case):
    result, fragments, table = warehouse["refusals"][case]
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    # nothing of the refused call was written: the raw table holds what the accepted loads put there
    db = warehouse["db"]
    if table in warehouse["raw_before"]:
        assert rows(db, f"select count(*) from raw.{table}")[0][0] == warehouse["raw_before"][table]
    else:
        assert not rows(db, f"select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = '{table}'")[0][0]
    assert not rows(db, "select count(*) from raw.interactions where interaction_id in ('refused_good_row', 'p1', 'p2', 's1')")[0][0]


QUARANTINED = [
    # case, table, key of the bad row, reason_code, reason_column, the raw check's warning (None: staging only)
    ("confidence_1_5", "interactions", "confidence_1_5_bad", "out_of_range", "confidence", "confidence in [0, 1]"),
    ("negative_tokens", "interactions", "negative_tokens_bad", "out_of_range", "output_tokens", "output_tokens >= 0"),
    ("negative_cost", "interactions", "negative_cost_bad", "out_of_range", "cost_usd", "cost_usd >= 0"),
    ("unknown_status", "interactions", "unknown_status_bad", "invalid_enum", "status",
     "status is one of ok, error, timeout, refused, filtered (trimmed, case-insensitive)"),
    ("responded_before_requested", "interactions", "responded_before_requested_bad", "out_of_range", "responded_at",
     "responded_at >= requested_at"),
    # a blank string is not null in raw: only staging (trimmed, empty = missing) sees it
    ("blank_required", "interactions", "blank_required_bad", "missing_required", "user_id", None),
    # NaN and Infinity load into a DOUBLE column; staging takes them as the wrong type, as 'nan' in text
    ("nan_and_infinity", "interactions", "nan_and_infinity_bad", "invalid_type", "cost_usd", None),
    ("nan_and_infinity", "interactions", "nan_and_infinity_bad2", "invalid_type", "cost_usd", None),
    ("nan_and_infinity", "interactions", "nan_and_infinity_bad3", "invalid_type", "confidence", "confidence in [0, 1]"),
    ("negative_edit_distance", "user_events", "negative_edit_distance_bad", "out_of_range", "edit_distance",
     "edit_distance >= 0"),
    ("unknown_reviewer_kind", "output_reviews", "unknown_reviewer_kind_bad", "invalid_enum", "reviewer_kind",
     "reviewer_kind is one of automated, llm_judge, human_expert (trimmed, case-insensitive)"),
    ("unknown_ai_access", "users", "unknown_ai_access_bad", "invalid_enum", "ai_access",
     "ai_access is one of treatment, holdout (trimmed, case-insensitive)"),
    ("negative_infra_cost", "infra_costs", None, "out_of_range", "cost_usd", "cost_usd >= 0"),
]


@pytest.mark.parametrize("case,table,key,code,column,warning", QUARANTINED,
                         ids=[f"{q[0]}:{q[2]}" for q in QUARANTINED])
def test_quarantined_with_reason_and_rule_and_good_rows_kept(warehouse, case, table, key, code, column, warning):
    _run_passed(warehouse)
    db = warehouse["db"]
    where = "record_key is null" if key is None else f"record_key = '{key}'"
    got = rows(db, f"select reason_code, reason_column, reason_rule, raw_table from quarantine.quarantine_raw__{table} "
                   f"where {where}")
    assert len(got) == 1, got
    assert got[0][:2] == (code, column)
    assert got[0][2].startswith(f"{table}.{column} ") and got[0][3] == table
    assert rows(db, f"select sum(quarantined_rows) from quarantine.quarantine_summary "
                    f"where raw_table = '{table}' and reason_code = '{code}' and reason_column = '{column}'")[0][0] >= 1
    if warning is not None:  # warned by check raw before the build, with the row's key in the sample
        warned = warnings_of(warehouse, "raw")[f"raw.{table}: {warning}"]
        assert warned["severity"] == "warn" and warned["rows"] >= 1
        assert key is None or key in {s.split("|")[0] for s in warned["sample"]}, warned
    if table == "interactions":  # the good row of the same file reached the facts
        assert rows(db, f"select count(*) from marts.fct_interactions where interaction_id = '{case}_ok'")[0][0] == 1
    elif table == "user_events":
        assert rows(db, f"select count(*) from staging.stg_raw__user_events where event_id = '{case}_ok'")[0][0] == 1
    elif table == "output_reviews":
        assert rows(db, f"select count(*) from staging.stg_raw__output_reviews where review_id = '{case}_ok'")[0][0] == 1
    elif table == "users":
        assert rows(db, "select ai_access from marts.dim_users where user_id = 'u_good'")[0][0] == "treatment"
    else:
        assert rows(db, "select count(*), sum(cost_usd) from staging.stg_raw__infra_costs")[0] == (1, 1.0)


def test_quarantine_summary_counts_every_quarantined_row(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    for table in ("interactions", "user_events", "output_reviews", "users", "infra_costs"):
        summed = rows(db, f"select coalesce(sum(quarantined_rows), 0) from quarantine.quarantine_summary "
                          f"where raw_table = '{table}'")[0][0]
        assert summed == rows(db, f"select count(*) from quarantine.quarantine_raw__{table}")[0][0], table
    assert rows(db, "select event_date from quarantine.quarantine_summary where reason_column = 'confidence' "
                    "and reason_code = 'out_of_range'")[0][0].isoformat() == DAY


def _fct(db: Path, iid: str, columns: str = "count(*)") -> tuple:
    return rows(db, f"select {columns} from marts.fct_interactions where interaction_id = '{iid}'")[0]


def test_enum_case_and_whitespace_are_accepted(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert _fct(db, "enum_case_and_whitespace_ok", "status") == ("ok",)
    assert _fct(db, "enum_case_and_whitespace_ok2", "status") == ("timeout",)


def test_naive_timestamps_are_utc(warehouse):
    _run_passed(warehouse)
    got = _fct(warehouse["db"], "naive_timestamps_ok", "strftime(requested_at, '%Y-%m-%d %H:%M:%S'), latency_ms")
    assert got == (f"{DAY} 12:00:00", 3000.0)


def test_mixed_timestamp_formats_and_offsets_are_the_same_utc_instant(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    for iid, latency in (("mixed_timestamp_formats_ok", 1000.0), ("mixed_timestamp_formats_ok2", 2500.0),
                         ("mixed_timestamp_formats_ok3", None)):
        got = _fct(db, iid, "strftime(requested_at, '%Y-%m-%d %H:%M:%S'), latency_ms")
        assert got == (f"{DAY} 12:00:00", latency), iid


def test_extra_columns_are_kept_in_raw_and_ignored(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert rows(db, "select client_version, region from raw.interactions where interaction_id = 'extra_columns_ok'") \
        == [("5.2.1", "eu")]
    assert _fct(db, "extra_columns_ok") == (1,)


def test_unicode_and_very_long_ids_are_kept_exactly(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert _fct(db, "unicode_and_long_ids_ok", "user_id, feature") == ("ü-用户-🙂", "résumé_ü")
    assert _fct(db, "unicode_and_long_ids_ok2", "length(task_id)") == (5000,)
    assert rows(db, "select count(*) from marts.metrics_daily where feature = 'résumé_ü'")[0][0] == 1


def test_sql_text_in_string_fields_is_data(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert _fct(db, "sql_text_in_strings_ok", "feature, user_id, model") == (
        "x'); drop table raw.interactions; --", "' or 1=1 --", 'gpt"; delete from raw.users; --')
    assert rows(db, "select count(*) from raw.users")[0][0] == 2
    assert rows(db, "select count(*) from marts.metrics_daily where feature = 'x''); drop table raw.interactions; --'")[0][0] == 1


def test_duplicate_id_within_a_batch_counts_once_and_warns(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert rows(db, "select count(*) from raw.interactions where interaction_id = 'duplicate_id_within_batch_ok'")[0][0] == 2
    assert _fct(db, "duplicate_id_within_batch_ok") == (1,)
    warned = warnings_of(warehouse, "raw")["raw.interactions: (interaction_id, ingested_at) is unique"]
    # 2 rows here + the 2 copies of same_file_twice (its file carries one ingested_at for both loads)
    assert (warned["severity"], warned["rows"]) == ("warn", 4)


def test_duplicate_id_across_batches_latest_wins(warehouse):
    _run_passed(warehouse)
    assert _fct(warehouse["db"], "duplicate_id_across_batches_ok", "count(*), max(status)") == (1, "ok")


def test_second_load_of_the_same_file_is_idempotent(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert rows(db, "select count(*) from raw.interactions where interaction_id = 'same_file_twice_ok'")[0][0] == 2
    assert _fct(db, "same_file_twice_ok") == (1,)
    assert rows(db, "select count(*) from staging.base_raw__interactions "
                    "where interaction_id = 'same_file_twice_ok' and dedup_rank > 1")[0][0] == 1


def test_unknown_model_costs_zero_and_warns(warehouse):
    _run_passed(warehouse)
    assert _fct(warehouse["db"], "unknown_model_ok", "cost_usd, cost_source") == (0.0, "unpriced")
    warned = warnings_of(warehouse, "marts")["marts.coverage_unpriced_queries: no rows"]
    assert (warned["severity"], warned["rows"], warned["sample"]) == ("warn", 1, [f"acme-unpriced-1|{DAY}"])


def test_orphan_events_are_kept_for_retention_and_warned(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert rows(db, "select count(*) from staging.stg_raw__user_events where event_id = 'orphan_events_orphan'")[0][0] == 1
    assert _fct(db, "confidence_1_5_ok", "accepted_events") == (1,)  # the good event of the file
    warned = warnings_of(warehouse, "raw")["raw.user_events: interaction_id refers to a row of raw.interactions"]
    assert (warned["severity"], warned["rows"], warned["sample"]) == (
        "warn", 1, ["orphan_events_orphan|no_such_interaction"])


def test_reviews_for_unknown_interactions_count_nowhere_and_warn(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    assert rows(db, "select count(*) from staging.stg_raw__output_reviews "
                    "where review_id = 'reviews_for_unknown_interactions_orphan'")[0][0] == 1
    assert _fct(db, "negative_tokens_ok", "hallucination_verdict") == ("pass",)
    warned = warnings_of(warehouse, "raw")["raw.output_reviews: interaction_id refers to a row of raw.interactions"]
    assert (warned["severity"], warned["rows"], warned["sample"]) == (
        "warn", 1, ["reviews_for_unknown_interactions_orphan|no_such_interaction"])


def test_conflicting_reviews_at_the_same_instant_go_to_the_larger_review_id(warehouse):
    _run_passed(warehouse)
    # spec: a tier-1 tie on time that is not llm_judge vs automated goes to the larger review_id (..._b: pass)
    assert _fct(warehouse["db"], "negative_cost_ok", "hallucination_verdict, hallucination_decided_by_tier") == ("pass", 1)


def test_unknown_event_type_counts_as_activity_and_warns(warehouse):
    _run_passed(warehouse)
    assert rows(warehouse["db"], "select events from marts.coverage_unmapped_event_types "
                                 "where event_type = 'page_scrolled'")[0][0] == 1
    warned = warnings_of(warehouse, "marts")["marts.coverage_unmapped_event_types: no rows"]
    assert (warned["severity"], warned["rows"], warned["sample"]) == ("warn", 1, ["page_scrolled"])


def test_raw_rows_reconcile_after_the_catalogue(warehouse):
    _run_passed(warehouse)
    db = warehouse["db"]
    for table in ("interactions", "user_events", "output_reviews", "users", "infra_costs"):
        raw = rows(db, f"select count(*) from raw.{table}")[0][0]
        staged = rows(db, f"select count(*) from staging.stg_raw__{table}")[0][0]
        bad = rows(db, f"select count(*) from quarantine.quarantine_raw__{table}")[0][0]
        dups = rows(db, f"select count(*) from staging.base_raw__{table} where dedup_rank > 1")[0][0]
        assert raw == staged + bad + dups, table


def test_sql_text_in_dbt_vars_is_refused_before_anything_runs(warehouse, tmp_path):
    _run_passed(warehouse)
    db = warehouse["db"]
    before = rows(db, "select count(*) from marts.fct_interactions")[0][0]
    for bad in ('{min_sample: "30) or (1=1"}', "{raw_schema: 'raw; drop table raw.interactions'}",
                "{task_maturity_hours: '24 + 0*(select 1)'}"):
        result = run(db, tmp_path, "--vars", bad)
        assert result.returncode == 2, (bad, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "vars are data and never reach SQL as text" in result.stderr
        assert "check raw" not in result.stdout  # refused before anything ran
    assert rows(db, "select count(*) from marts.fct_interactions")[0][0] == before
    assert rows(db, "select count(*) from raw.interactions")[0][0] == warehouse["raw_before"]["interactions"]


# ----------------------------------------------------------------------------
# blocking cases: stop at check raw, nothing built


@pytest.fixture(scope="module")
def blocked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("blocked")
    db = tmp / "blocked.duckdb"
    files = [
        ("interactions", write_csv(tmp / "future.csv", [
            interaction("future_ok"), interaction("future_bad", requested_at="2099-01-01T00:00:00Z",
                                                  responded_at="2099-01-01T00:00:01Z")])),
        ("user_events", write_csv(tmp / "future_events.csv", [
            event("future_event_ok"), event("future_event_bad", occurred_at="2099-01-01T00:00:00+02:00")])),
    ]
    for table, path in files:
        assert cli(db, "load", table, str(path)).returncode == 0
    yield {"db": db, "run": run(db, tmp), "tmp": tmp}


def test_timestamps_more_than_a_day_in_the_future_block_the_run(blocked):
    result = blocked["run"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "check raw:" in out and "3 errors (blocking)" in out
    assert ("ERROR raw.interactions: requested_at is not more than 1 day in the future: 1 row (e.g. future_bad)"
            in out)
    assert ("ERROR raw.interactions: responded_at is not more than 1 day in the future: 1 row (e.g. future_bad)"
            in out)
    assert "ERROR raw.user_events: occurred_at is not more than 1 day in the future: 1 row (e.g. future_event_bad)" in out
    assert "dbt build" not in out and "check marts" not in out
    assert len(out.splitlines()) <= 40  # one screen
    assert "blocked at check raw" in result.stderr
    db = blocked["db"]
    assert rows(db, "select count(*) from raw.interactions")[0][0] == 2  # nothing lost: the good row is still there
    assert not rows(db, "select count(*) from duckdb_tables() where schema_name = 'marts'")[0][0]  # nothing built


def test_missing_required_table_blocks_with_what_to_load(tmp_path):
    db = tmp_path / "w.duckdb"
    assert cli(db, "load", "user_events", str(write_csv(tmp_path / "e.csv", [event("e_ok")]))).returncode == 0
    result = run(db, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ERROR raw.interactions: table exists" in result.stdout
    assert "aimetrics load interactions FILE..." in result.stdout


def test_header_only_file_loads_nothing_and_an_empty_required_table_blocks(tmp_path):
    db = tmp_path / "w.duckdb"
    header = tmp_path / "header_only.csv"
    header.write_text(",".join(interaction("x")) + "\n")
    result = cli(db, "load", "interactions", str(header))
    assert result.returncode == 0 and "loaded 0 rows" in result.stdout
    assert cli(db, "load", "user_events", str(write_csv(tmp_path / "e.csv", [event("e_ok")]))).returncode == 0
    result = run(db, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "ERROR raw.interactions: row count >= 1" in result.stdout
    assert rows(db, "select count(*) from raw.user_events")[0][0] == 1
