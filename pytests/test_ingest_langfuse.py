"""``aimetrics load --format langfuse``: Langfuse exports -> raw.interactions / raw.output_reviews.

Input: the real Langfuse trace downloads of ``../shared/external/fixtures/langfuse``
(camelCase, ``{trace, observations}`` with the scores inside the trace), and
the same records rewritten here in the blob-storage export's spelling
(snake_case, one JSONL file per table, ``YYYY-MM-DD HH:MM:SS.ffffff`` times,
``provided_model_name``) and in the enriched-observations export's shape
(trace fields on each observation, no trace records). All must give the same
rows. Expected values are recomputed from the fixture JSON in this file.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aimetrics.cli import main
from ingest_shared import LANGFUSE_FIXTURES as FIXTURES, THRESHOLDS, rows, warehouse

FILES = sorted(FIXTURES.glob("*.json"))
SOURCE_KIND = {"EVAL": "llm_judge", "ANNOTATION": "human_expert", "API": "automated"}


def utc(text: str) -> datetime:
    """An ISO-8601 text with Z/offset -> naive UTC (how the raw table stores it)."""
    return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None)


def fixtures() -> list[dict]:
    assert FILES, f"no Langfuse fixtures in {FIXTURES} (set AIMETRICS_EXTERNAL_DIR)"
    return [json.loads(f.read_text()) for f in FILES]


def thread_id(obs: dict) -> str | None:
    meta = obs.get("metadata")
    return meta.get("thread_id") if isinstance(meta, dict) else None


def expected_interactions(user_fallback: bool = True) -> dict[str, dict]:
    out = {}
    for doc in fixtures():
        trace = doc["trace"]
        for o in doc["observations"]:
            if o["type"] != "GENERATION":
                continue
            out[o["id"]] = {
                "interaction_id": o["id"],
                "task_id": trace["id"],
                "user_id": trace["userId"] or (thread_id(o) if user_fallback else None),
                "session_id": trace["sessionId"],
                "feature": trace["name"],
                "model": o["model"],
                "requested_at": utc(o["startTime"]),
                "responded_at": utc(o["endTime"]),
                "status": "ok" if o["level"] != "ERROR" else "error",
                "input_tokens": o["usageDetails"]["input"],
                "output_tokens": o["usageDetails"]["output"],
                "cost_usd": o["costDetails"]["total"],
                "trace_id": trace["id"],
                "parent_id": o.get("parentObservationId"),
            }
    return out


def expected_reviews() -> dict[str, dict]:
    out = {}
    for doc in fixtures():
        trace = doc["trace"]
        gens = [o for o in doc["observations"] if o["type"] == "GENERATION"]
        last = max(gens, key=lambda o: utc(o["endTime"]))["id"]  # a trace-level score: the trace's last output
        for s in trace["scores"]:
            assert s["observationId"] is None and s["dataType"] == "NUMERIC"  # what these fixtures hold
            threshold = THRESHOLDS.get(s["name"])
            out[s["id"]] = {
                "review_id": s["id"],
                "interaction_id": last,
                "reviewer_kind": SOURCE_KIND[s["source"]],
                "dimension": s["name"],
                "verdict": None if threshold is None else ("fail" if s["value"] >= threshold else "pass"),
                "score": float(s["value"]),
                "reviewed_at": utc(s["timestamp"]),
                "comment": s["comment"],
            }
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    db, _, _ = warehouse(tmp_path_factory)
    return db


def _raw(db: Path, table: str, cols) -> dict[str, dict]:
    key = "interaction_id" if table == "interactions" else "review_id"
    got = rows(db, f"SELECT {', '.join(cols)} FROM raw.{table} WHERE source_format = 'langfuse'")
    return {r[key]: r for r in got}


def test_generations_map_every_field(built):
    want = expected_interactions()
    assert len(want) == 10
    got = _raw(built, "interactions", next(iter(want.values())).keys())
    assert got == want


def test_scores_become_reviews_on_the_traces_last_output(built):
    want = expected_reviews()
    assert len(want) == 6
    got = _raw(built, "output_reviews", next(iter(want.values())).keys())
    assert got == want
    # the one toxic answer of the fixtures (0.8) fails, the rest pass
    assert sorted(r["verdict"] for r in got.values()) == ["fail"] + ["pass"] * 5


def test_missing_user_is_quarantined_with_a_reason(built):
    want = expected_interactions()
    no_user = {i for i, r in want.items() if r["user_id"] is None}
    assert no_user  # openai-agents and pydantic-ai traces have no userId and no thread_id
    q = {r["interaction_id"]: r for r in rows(built, "SELECT * FROM quarantine.quarantine_raw__interactions")}
    for i in no_user:
        assert (q[i]["reason_code"], q[i]["reason_column"]) == ("missing_required", "user_id")


def test_rows_reach_fct_interactions_and_metrics_daily(built):
    want = {i: r for i, r in expected_interactions().items() if r["user_id"] is not None}
    reviews = expected_reviews()
    fct = {r["interaction_id"]: r for r in rows(built, "SELECT * FROM marts.fct_interactions")}
    for i, w in want.items():
        f = fct[i]
        assert (f["feature"], f["model"], f["user_id"], f["status"]) == (w["feature"], w["model"], w["user_id"], "ok")
        assert f["reported_cost_usd"] == pytest.approx(w["cost_usd"])
        assert f["latency_ms"] == pytest.approx((w["responded_at"] - w["requested_at"]).total_seconds() * 1000)
        hall = [r["verdict"] for r in reviews.values() if r["interaction_id"] == i and r["dimension"] == "hallucination"]
        assert f["hallucination_verdict"] == (hall[0] if hall else None)
    md = {(r["metric_date"], r["feature"], r["model"]): r for r in rows(built, "SELECT * FROM marts.metrics_daily")}
    groups = {(w["requested_at"].date(), w["feature"], w["model"]) for w in want.values()}
    for key in groups:
        mine = [w for w in want.values() if (w["requested_at"].date(), w["feature"], w["model"]) == key]
        r = md[key]
        assert (r["queries"], r["outputs"]) == (len(mine), len(mine))
        assert r["total_cost_usd"] == pytest.approx(sum(w["cost_usd"] for w in mine))
        reviewed = [v for v in reviews.values() if v["dimension"] == "hallucination"
                    and v["interaction_id"] in {w["interaction_id"] for w in mine}]
        assert r["reviewed_outputs"] == len(reviewed)
        assert r["hallucinated_outputs"] == sum(v["verdict"] == "fail" for v in reviewed)


# ----------------------------------------------------------------------------
# the other export shapes give the same rows


BLOB_OBS = {"id": "id", "traceId": "trace_id", "type": "type", "startTime": "start_time", "endTime": "end_time",
            "model": "provided_model_name", "usageDetails": "usage_details", "costDetails": "cost_details",
            "level": "level", "statusMessage": "status_message", "parentObservationId": "parent_observation_id",
            "name": "name", "metadata": "metadata"}
BLOB_TRACE = {"id": "id", "timestamp": "timestamp", "name": "name", "userId": "user_id", "sessionId": "session_id",
              "metadata": "metadata"}
BLOB_SCORE = {"id": "id", "timestamp": "timestamp", "traceId": "trace_id", "observationId": "observation_id",
              "name": "name", "value": "value", "source": "source", "comment": "comment", "dataType": "data_type",
              "stringValue": "string_value"}
BLOB_TIMES = {"start_time", "end_time", "timestamp"}


def _blob(record: dict, names: dict) -> dict:
    out = {}
    for camel, snake in names.items():
        v = record.get(camel)
        if snake in BLOB_TIMES and v:  # the export writes 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
            v = utc(v).strftime("%Y-%m-%d %H:%M:%S.%f")
        out[snake] = v
    return out


def _load(db: Path, *files: Path, extra=()) -> None:
    assert main(["--db", str(db), "load", "--format", "langfuse", *map(str, files), *extra]) == 0


COLS = ["interaction_id", "task_id", "user_id", "session_id", "feature", "model", "requested_at", "responded_at",
        "status", "input_tokens", "output_tokens", "cost_usd"]
RCOLS = ["review_id", "interaction_id", "reviewer_kind", "dimension", "score", "reviewed_at"]


def test_blob_export_snake_case_gives_the_same_rows(tmp_path):
    traces, observations, scores = tmp_path / "traces.jsonl", tmp_path / "observations.jsonl", tmp_path / "scores.jsonl"
    with open(traces, "w") as t, open(observations, "w") as o, open(scores, "w") as s:
        for doc in fixtures():
            t.write(json.dumps(_blob(doc["trace"], BLOB_TRACE)) + "\n")
            for ob in doc["observations"]:
                o.write(json.dumps(_blob(ob, BLOB_OBS)) + "\n")
            for sc in doc["trace"]["scores"]:
                s.write(json.dumps(_blob(sc, BLOB_SCORE)) + "\n")
    camel, snake = tmp_path / "camel.duckdb", tmp_path / "snake.duckdb"
    _load(camel, *FILES)
    _load(snake, scores, observations, traces)  # any order: all files of a call are resolved together
    q = f"SELECT {', '.join(COLS)} FROM raw.interactions ORDER BY interaction_id"
    assert rows(snake, q) == rows(camel, q) and len(rows(camel, q)) == 10
    q = f"SELECT {', '.join(RCOLS)} FROM raw.output_reviews ORDER BY review_id"
    assert rows(snake, q) == rows(camel, q) and len(rows(camel, q)) == 6


def test_enriched_observations_export_without_trace_records(tmp_path):
    path = tmp_path / "observations_v2.jsonl"
    with open(path, "w") as f:
        for doc in fixtures():
            tr = doc["trace"]
            for ob in doc["observations"]:
                rec = _blob(ob, BLOB_OBS)
                rec.update(user_id=tr["userId"], session_id=tr["sessionId"], trace_name=tr["name"])
                f.write(json.dumps(rec) + "\n")
    db = tmp_path / "w.duckdb"
    _load(db, path)
    want = expected_interactions(user_fallback=False)
    got = {r["interaction_id"]: r for r in rows(db, f"SELECT {', '.join(COLS)} FROM raw.interactions")}
    assert got == {i: {c: w[c] for c in COLS} for i, w in want.items()}


def test_api_page_and_mapping_options(tmp_path):
    """The public API's {data: [...]} pages (trace with full observations and scores), a constant user,
    feature from trace metadata, and a score without a verdict rule (verdict null: quarantined)."""
    docs = fixtures()
    page = {"data": [{**d["trace"], "observations": d["observations"]} for d in docs], "meta": {"page": 1}}
    path = tmp_path / "traces_page.json"
    path.write_text(json.dumps(page))
    db = tmp_path / "w.duckdb"
    _load(db, path, extra=["--user-from", "trace.user_id,=anonymous",
                           "--feature-from", "trace.metadata.scope.name,trace.name"])
    got = {r["interaction_id"]: r for r in rows(db, "SELECT interaction_id, user_id, feature FROM raw.interactions")}
    for d in docs:
        tr = d["trace"]
        meta = json.loads(tr["metadata"]) if isinstance(tr["metadata"], str) else tr["metadata"]
        feature = (meta.get("scope") or {}).get("name") or tr["name"]
        for o in d["observations"]:
            if o["type"] == "GENERATION":
                assert (got[o["id"]]["user_id"], got[o["id"]]["feature"]) == (tr["userId"] or "anonymous", feature)
    verdicts = {r["verdict"] for r in rows(db, "SELECT verdict FROM raw.output_reviews")}
    assert verdicts == {None}  # no thresholds given: no verdict, dbt build quarantines these reviews


# ----------------------------------------------------------------------------
# refusals and skips


def test_bad_values_are_refused_naming_file_record_and_field(tmp_path, capsys):
    doc = fixtures()[0]
    gen = next(o for o in doc["observations"] if o["type"] == "GENERATION")
    for field, value, fragments in [
        ("startTime", "yesterday", ["start_time", "ISO-8601", "'yesterday'"]),
        ("usageDetails", {"input": 3.5, "output": 1}, ["usage_details.input", "integer", "3.5"]),
        ("costDetails", {"total": "cheap"}, ["cost_details.total", "number", "'cheap'"]),
    ]:
        bad = json.loads(json.dumps(doc))
        next(o for o in bad["observations"] if o["id"] == gen["id"])[field] = value
        path = tmp_path / f"bad_{field}.json"
        path.write_text(json.dumps(bad))
        db = tmp_path / f"{field}.duckdb"
        assert main(["--db", str(db), "load", "--format", "langfuse", str(FILES[1]), str(path)]) == 2
        err = capsys.readouterr().err
        for f in [str(path), gen["id"], *fragments]:
            assert f in err, (f, err)
        assert not db.exists() or not rows(db, "SELECT * FROM duckdb_tables() WHERE schema_name = 'raw'")


def test_unknown_record_is_refused(tmp_path, capsys):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"hello": "world"}) + "\n")
    assert main(["--db", str(tmp_path / "w.duckdb"), "load", "--format", "langfuse", str(path)]) == 2
    assert "neither a Langfuse trace" in capsys.readouterr().err


def test_summary_counts_skipped_observations(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "w.duckdb"), "load", "--format", "langfuse", *map(str, FILES)]) == 0
    out = capsys.readouterr().out.splitlines()
    kinds: dict[str, int] = {}
    for doc in fixtures():
        for o in doc["observations"]:
            if o["type"] != "GENERATION":
                kinds[o["type"]] = kinds.get(o["type"], 0) + 1
    for kind, n in kinds.items():
        assert f"skipped {n} observations not GENERATION (type {kind}): not rows of the raw contract" in out
    n_users = sum(1 for r in expected_interactions(user_fallback=False).values() if r["user_id"] is None)
    assert any(line.startswith(f"  {n_users} of them lack a required value (user_id {n_users})") for line in out)
    assert f"from {len(FILES)} langfuse file(s)" in out
