"""``aimetrics load --format otlp-json``: OpenTelemetry GenAI spans -> raw.interactions / raw.output_reviews.

Two kinds of input, none written by this project's code (see ingest_shared.py):

* spans made by the real OpenTelemetry SDK and serialized by its own OTLP
  encoder (``encode_spans``) and protobuf's ``json_format``. OTLP/JSON wants
  trace and span ids as hex (json_format writes base64) and enums as integers,
  so the test writes both: the spec's OTLP/JSON (ids turned to hex) and
  json_format's raw output; both must give the same rows;
* the flat GenAI attribute maps of ``../shared/external/fixtures/otel-genai``
  (openinference test fixtures).

Every expected value comes from what the SDK was told (SDK_SPANS) or from the
fixture JSON, never from the adapter. The loaded rows then go through
``dbt build`` into ``marts.fct_interactions`` and ``marts.metrics_daily``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from aimetrics.cli import main
from ingest_shared import (
    GA, OTEL_FIXTURES as FIXTURES, SDK_EVAL_LOGS, SDK_SPANS as SPANS, SERVICE, StatusCode, make_spans, otlp_json, rows, ts,
    warehouse,
)

AIMETRICS = Path(sys.executable).parent / "aimetrics"


def load(db: Path, *args) -> int:
    return main(["--db", str(db), "load", "--format", "otlp-json", *map(str, args)])


@pytest.fixture(scope="module")
def sdk(tmp_path_factory):
    """SDK spans written as OTLP/JSON (hex ids) and as json_format's output (base64 ids, enum names)."""
    tmp = tmp_path_factory.mktemp("otlp")
    spans = make_spans()
    hex_file = tmp / "traces.json"
    hex_file.write_text(json.dumps(otlp_json(spans.values(), hex_ids=True)))
    b64_file = tmp / "traces_protojson.jsonl"  # JSON Lines, as the Collector's file exporter writes
    b64_file.write_text(json.dumps(otlp_json(spans.values(), hex_ids=False)) + "\n")
    return spans, hex_file, b64_file


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    db, spans, _ = warehouse(tmp_path_factory)
    return spans, db


built = loaded


def expected_interaction(name: str, span) -> dict:
    spec = SPANS[name]
    a = spec["attrs"]
    code = spec.get("status", (None,))[0]
    error_type = a.get("error.type")
    finish = a.get(GA.GEN_AI_RESPONSE_FINISH_REASONS, ())
    status = ("timeout" if code == StatusCode.ERROR and "Timeout" in error_type
              else "error" if code == StatusCode.ERROR
              else "filtered" if "content_filter" in finish else "ok")
    return {
        "interaction_id": format(span.context.span_id, "016x"),
        "task_id": format(span.context.trace_id, "032x"),
        "user_id": a.get("user.id") or a.get("enduser.id"),
        "session_id": a.get(GA.GEN_AI_CONVERSATION_ID) or a.get("session.id"),
        "feature": a.get(GA.GEN_AI_AGENT_NAME) or SERVICE,
        "model": a[GA.GEN_AI_REQUEST_MODEL],
        "model_version": a.get(GA.GEN_AI_RESPONSE_MODEL),
        "requested_at": ts(spec["start"]),
        "responded_at": ts(spec["end"]) if status == "ok" else None,
        "status": status,
        "input_tokens": a.get(GA.GEN_AI_USAGE_INPUT_TOKENS, a.get(GA.GEN_AI_USAGE_PROMPT_TOKENS)),
        "output_tokens": a.get(GA.GEN_AI_USAGE_OUTPUT_TOKENS, a.get(GA.GEN_AI_USAGE_COMPLETION_TOKENS)),
        "cost_usd": None,
        "provider": a.get(GA.GEN_AI_PROVIDER_NAME) or a.get(GA.GEN_AI_SYSTEM),
        "finish_reasons": ",".join(finish) or None,
        "trace_id": format(span.context.trace_id, "032x"),
        "source_format": "otlp-json",
    }


# ----------------------------------------------------------------------------
# SDK spans: every mapped field


def test_sdk_spans_map_every_field(loaded):
    spans, db = loaded
    got = {r["interaction_id"]: r for r in rows(db, "SELECT * FROM raw.interactions WHERE source_format = 'otlp-json'")}
    calls = [n for n in SPANS if not n.startswith("execute_tool")]
    for name in calls:
        want = expected_interaction(name, spans[name])
        row = got[want["interaction_id"]]
        assert {k: row[k] for k in want} == want, name
        assert row["ingested_at"] is not None
    tool = spans["execute_tool get_weather"]
    assert format(tool.context.span_id, "016x") not in got  # not a model call, not a row


def test_deprecated_attribute_names_are_read(loaded):
    spans, db = loaded
    sid = format(spans["chat_deprecated"].context.span_id, "016x")
    (row,) = rows(db, f"SELECT * FROM raw.interactions WHERE interaction_id = '{sid}'")
    assert (row["input_tokens"], row["output_tokens"], row["provider"]) == (50, 7, "anthropic")


def test_evaluation_events_become_reviews(loaded):
    spans, db = loaded
    got = {r["dimension"]: r for r in rows(db, "SELECT * FROM raw.output_reviews WHERE source_format = 'otlp-json'")}
    assert set(got) == {"hallucination", "correctness", "relevance", "groundedness", "safety"}
    current = format(spans["chat_current"].context.span_id, "016x")
    h = got["hallucination"]
    assert (h["interaction_id"], h["verdict"], h["score"], h["reviewer_kind"], h["reviewed_at"], h["comment"]) == (
        current, "fail", 0.3, "llm_judge", datetime(2026, 6, 1, 9, 5), "judged hallucination")
    # the label is the evaluator's verdict: it wins over the mapping's threshold (0.3 < 0.5 would pass)
    c = got["correctness"]
    assert (c["interaction_id"], c["verdict"], c["score"]) == (
        format(spans["chat_deprecated"].context.span_id, "016x"), "pass", None)
    # on the tool span, linked to its output by gen_ai.response.id; verdict by the mapping (0.2 < 0.5 -> fail)
    r = got["relevance"]
    assert (r["interaction_id"], r["verdict"], r["score"]) == (current, "fail", 0.2)
    assert len({row["review_id"] for row in got.values()}) == 5
    # sent as log records: parented to a span by spanId, or linked by gen_ai.response.id
    for span_name, name, label, response_id, when in SDK_EVAL_LOGS:
        r = got[name]
        target = spans[span_name] if span_name else spans["chat_current"]  # resp-1 is chat_current's response id
        assert (r["interaction_id"], r["verdict"], r["reviewed_at"]) == (
            format(target.context.span_id, "016x"), label, ts(when))


def test_base64_ids_and_enum_names_give_the_same_rows(sdk, tmp_path):
    _, hex_file, b64_file = sdk
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert load(a, hex_file) == 0 and load(b, b64_file) == 0
    cols = "interaction_id, task_id, status, requested_at, responded_at, input_tokens, output_tokens, parent_id"
    q = f"SELECT {cols} FROM raw.interactions ORDER BY interaction_id"
    assert rows(a, q) == rows(b, q) and len(rows(a, q)) == 6
    q = "SELECT review_id, interaction_id, verdict FROM raw.output_reviews ORDER BY review_id"
    assert rows(a, q) == rows(b, q)


# ----------------------------------------------------------------------------
# the openinference fixtures (flat attribute maps)


def test_fixture_attribute_maps(loaded):
    _, db = loaded
    current = json.loads((FIXTURES / "otel_genai_client_span_tool_calls.json").read_text())
    deprecated = json.loads((FIXTURES / "otel_genai_deprecated_client_span_tool_calls.json").read_text())
    got = rows(db, "SELECT * FROM raw.interactions WHERE source_file LIKE '%otel_genai_%' ORDER BY source_file")
    assert [Path(r["source_file"]).name for r in got] == [
        "otel_genai_client_span_tool_calls.json", "otel_genai_deprecated_client_span_tool_calls.json"]
    for src, row in zip((current, deprecated), got):
        assert row["interaction_id"] == src["gen_ai.response.id"]
        assert row["model"] == src["gen_ai.request.model"]
        assert row["model_version"] == src["gen_ai.response.model"]
        assert row["provider"] == src["gen_ai.provider.name"]
        assert (row["input_tokens"], row["output_tokens"]) == (src["gen_ai.usage.input_tokens"],
                                                                src["gen_ai.usage.output_tokens"])
        assert row["finish_reasons"] == ",".join(src["gen_ai.response.finish_reasons"])
        assert row["status"] == "ok"
        # a bare attribute map has no trace, span or times: those required columns stay null
        assert (row["task_id"], row["requested_at"], row["user_id"], row["feature"]) == (None, None, None, None)
    tool = json.loads((FIXTURES / "otel_genai_tool_execution_span.json").read_text())
    assert tool["gen_ai.operation.name"] == "execute_tool"  # the third fixture is skipped: not a model call


def test_cli_summary_names_tables_counts_and_skips(sdk, tmp_path):
    _, hex_file, _ = sdk
    db = tmp_path / "w.duckdb"
    r = subprocess.run([str(AIMETRICS), "--db", str(db), "load", "--format", "otlp-json", str(hex_file)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert f"loaded 6 rows into raw.interactions ({db})" in lines
    assert f"loaded 3 rows into raw.output_reviews ({db})" in lines
    assert "  1 of them lack a required value (user_id 1): dbt build quarantines them " \
           "(quarantine.quarantine_raw__interactions)" in lines
    assert "skipped 1 spans not model calls (gen_ai.operation.name=execute_tool): not rows of the raw contract" in lines
    assert r.stderr == ""  # no progress bar when stderr is not a terminal


# ----------------------------------------------------------------------------
# refusals: nothing written, the file and the field named


def _doc_with(span_patch: dict, attr: tuple[str, dict] | None = None) -> dict:
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "name": "chat", "startTimeUnixNano": "1780304400000000000", "endTimeUnixNano": "1780304401000000000",
            "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                           {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}}],
            "status": {}}
    if attr:
        span["attributes"].append({"key": attr[0], "value": attr[1]})
    span.update(span_patch)
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {}, "spans": [span]}]}]}


@pytest.mark.parametrize("patch, attr, fragments", [
    ({"spanId": "xyz"}, None, ["spans[0].spanId", "8-byte id", "'xyz'"]),
    ({"startTimeUnixNano": "2026-06-01T09:00:00Z"}, None, ["startTimeUnixNano", "unix nanoseconds"]),
    ({}, ("gen_ai.usage.input_tokens", {"doubleValue": 7.5}), ["gen_ai.usage.input_tokens", "integer", "7.5"]),
    ({}, ("gen_ai.usage.output_tokens", {"stringValue": "many"}), ["gen_ai.usage.output_tokens", "'many'"]),
])
def test_unmappable_values_are_refused(tmp_path, capsys, patch, attr, fragments):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_doc_with({})))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_doc_with(patch, attr)))
    db = tmp_path / "w.duckdb"
    assert load(db, good, bad) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    for f in fragments:
        assert f in err, (f, err)
    assert not db.exists() or not rows(db, "SELECT * FROM duckdb_tables() WHERE schema_name = 'raw'")


def test_not_otlp_is_refused(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert load(tmp_path / "w.duckdb", bad) == 2
    assert "neither an OTLP/JSON export (no resourceSpans) nor a map of gen_ai.* attributes" in capsys.readouterr().err
    bad.write_text("{not json")
    assert load(tmp_path / "w.duckdb", bad) == 2
    assert f"{bad}: not JSON" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# into the marts


def test_rows_reach_fct_interactions_and_metrics_daily(built):
    spans, db = built
    calls = [n for n in SPANS if not n.startswith("execute_tool") and n != "chat_no_user"]
    want = {format(spans[n].context.span_id, "016x"): expected_interaction(n, spans[n]) for n in calls}
    fct = {r["interaction_id"]: r for r in rows(
        db, "SELECT f.* FROM marts.fct_interactions f JOIN raw.interactions r USING (interaction_id) "
            "WHERE r.source_format = 'otlp-json'")}
    assert set(fct) == set(want)
    for iid, w in want.items():
        f = fct[iid]
        assert (f["feature"], f["model"], f["status"], f["input_tokens"], f["output_tokens"]) == (
            w["feature"], w["model"], w["status"], w["input_tokens"], w["output_tokens"])
    current = format(spans["chat_current"].context.span_id, "016x")
    assert fct[current]["is_hallucinated"] is True and fct[current]["hallucination_verdict"] == "fail"
    assert fct[current]["latency_ms"] == pytest.approx(
        (ts(SPANS["chat_current"]["end"]) - ts(SPANS["chat_current"]["start"])).total_seconds() * 1000)

    # metrics_daily, recomputed from the spans the SDK was told about
    md = {(r["feature"], r["model"]): r for r in rows(db, "SELECT * FROM marts.metrics_daily")}
    for (feature, model) in {(w["feature"], w["model"]) for w in want.values()}:
        mine = [w for w in want.values() if (w["feature"], w["model"]) == (feature, model)]
        r = md[(feature, model)]
        assert r["queries"] == len(mine)
        assert r["outputs"] == sum(w["status"] == "ok" for w in mine)
        assert r["error_rate"] == pytest.approx(sum(w["status"] in ("error", "timeout") for w in mine) / len(mine))
        assert r["refusal_rate"] == pytest.approx(sum(w["status"] in ("refused", "filtered") for w in mine) / len(mine))
    assert md[(SERVICE, "gpt-4o-mini")]["hallucinated_outputs"] == 1


def test_unmappable_rows_are_quarantined_with_a_reason(built):
    spans, db = built
    q = {r["interaction_id"]: r for r in rows(db, "SELECT * FROM quarantine.quarantine_raw__interactions")}
    no_user = format(spans["chat_no_user"].context.span_id, "016x")
    assert (q[no_user]["reason_code"], q[no_user]["reason_column"]) == ("missing_required", "user_id")
    fixture = json.loads((FIXTURES / "otel_genai_client_span_tool_calls.json").read_text())
    assert q[fixture["gen_ai.response.id"]]["reason_code"] == "missing_required"
