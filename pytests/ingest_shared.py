"""Shared by test_ingest_otlp.py and test_ingest_langfuse.py: test inputs and ONE warehouse.

The inputs are not written by this project's adapters:

* SDK_SPANS: what the real OpenTelemetry SDK is told (attributes by their
  semantic-convention constants, times, status, evaluation events);
  :func:`make_spans` runs the SDK and :func:`otlp_json` serializes its spans
  with the SDK's own OTLP encoder (``encode_spans``) and protobuf's
  ``json_format``;
* the fixtures of ``../shared/external/fixtures`` (openinference GenAI
  attribute maps, Langfuse trace downloads).

:func:`warehouse` loads both formats into one DuckDB file through the CLI and
runs ``dbt build`` once (the models upstream of the marts and quarantine,
without tests: the full build with its ~900 tests takes minutes), cached for
the test session: both test modules read the same built file.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from aimetrics import PROJECT_DIR
from aimetrics.cli import main
from aimetrics.dbt_runner import run_dbt

try:  # test-only dependencies: the 'otel' extra. A missing extra fails these tests, it does not skip them.
    from google.protobuf import json_format
    from opentelemetry import trace
except ImportError as exc:  # pragma: no cover
    raise ImportError(f"{exc}: the ingestion tests need the 'otel' extra: pip install -e '.[test,otel]'") from exc
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as GA
from opentelemetry.trace import Status, StatusCode

EXTERNAL = Path(os.environ.get("AIMETRICS_EXTERNAL_DIR", PROJECT_DIR.parent / "shared" / "external"))
OTEL_FIXTURES = EXTERNAL / "fixtures" / "otel-genai"
LANGFUSE_FIXTURES = EXTERNAL / "fixtures" / "langfuse"
UTC = timezone.utc

# the options the shared warehouse loads Langfuse with (the tests recompute from them)
LANGFUSE_USER_FROM = "trace.user_id,observation.metadata.thread_id"
THRESHOLDS = {"hallucination": 0.5, "toxicity": 0.5}  # fail_at_or_above
MAPPING_YAML = """\
reviews:
  fail_at_or_above: {hallucination: 0.5, toxicity: 0.5}
  fail_below: {relevance: 0.5}
"""


def ns(dt: datetime, extra_ns: int = 0) -> int:
    """Unix nanoseconds of a whole-second UTC datetime plus extra nanoseconds."""
    return int(dt.replace(tzinfo=UTC).timestamp()) * 1_000_000_000 + extra_ns


T0 = datetime(2026, 6, 1, 9, 0, 0)

# What the SDK is told, span by span (name -> attributes, times, status, events).
# Times: whole seconds + nanoseconds; the raw table keeps microseconds (nanoseconds below are dropped).
SDK_SPANS = {
    "chat_current": dict(
        attrs={GA.GEN_AI_OPERATION_NAME: "chat", GA.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
               GA.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18", GA.GEN_AI_PROVIDER_NAME: "openai",
               GA.GEN_AI_USAGE_INPUT_TOKENS: 120, GA.GEN_AI_USAGE_OUTPUT_TOKENS: 30,
               GA.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",), GA.GEN_AI_CONVERSATION_ID: "conv-1",
               GA.GEN_AI_RESPONSE_ID: "resp-1", "user.id": "u1"},
        start=(T0, 123_456_789), end=(datetime(2026, 6, 1, 9, 0, 2), 500_000_999),
        events=[(GA.GEN_AI_EVALUATION_NAME, "hallucination", "fail", 0.3, (datetime(2026, 6, 1, 9, 5), 0))]),
    "chat_deprecated": dict(
        attrs={GA.GEN_AI_OPERATION_NAME: "chat", GA.GEN_AI_REQUEST_MODEL: "claude-3-5-haiku",
               GA.GEN_AI_SYSTEM: "anthropic", GA.GEN_AI_USAGE_PROMPT_TOKENS: 50,
               GA.GEN_AI_USAGE_COMPLETION_TOKENS: 7, GA.GEN_AI_AGENT_NAME: "email_draft",
               "enduser.id": "u2", "session.id": "s-2"},
        start=(datetime(2026, 6, 1, 10, 0, 0), 0), end=(datetime(2026, 6, 1, 10, 0, 1), 0),
        events=[(GA.GEN_AI_EVALUATION_NAME, "correctness", "pass", None, (datetime(2026, 6, 1, 10, 1), 0))]),
    "chat_timeout": dict(
        attrs={GA.GEN_AI_OPERATION_NAME: "chat", GA.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
               GA.GEN_AI_PROVIDER_NAME: "openai", "error.type": "openai.APITimeoutError", "user.id": "u1"},
        start=(datetime(2026, 6, 1, 11, 0, 0), 0), end=(datetime(2026, 6, 1, 11, 0, 30), 0),
        status=(StatusCode.ERROR, "Request timed out."), events=[]),
    "chat_error": dict(
        attrs={GA.GEN_AI_OPERATION_NAME: "chat", GA.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
               GA.GEN_AI_PROVIDER_NAME: "openai", "error.type": "500", "user.id": "u3"},
        start=(datetime(2026, 6, 1, 12, 0, 0), 0), end=(datetime(2026, 6, 1, 12, 0, 1), 0),
        status=(StatusCode.ERROR, "Internal Server Error"), events=[]),
    "chat_filtered": dict(
        attrs={GA.GEN_AI_OPERATION_NAME: "chat", GA.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
               GA.GEN_AI_RESPONSE_FINISH_REASONS: ("content_filter",), GA.GEN_AI_USAGE_INPUT_TOKENS: 10,
               GA.GEN_AI_USAGE_OUTPUT_TOKENS: 0, "user.id": "u3"},
        start=(datetime(2026, 6, 1, 13, 0, 0), 0), end=(datetime(2026, 6, 1, 13, 0, 1), 0), events=[]),
    "chat_no_user": dict(  # lands with user_id null: staging quarantines it
        attrs={GA.GEN_AI_OPERATION_NAME: "chat", GA.GEN_AI_REQUEST_MODEL: "gpt-4o-mini"},
        start=(datetime(2026, 6, 1, 14, 0, 0), 0), end=(datetime(2026, 6, 1, 14, 0, 1), 0), events=[]),
    "execute_tool get_weather": dict(  # not a model call: not a row; its evaluation event names resp-1
        attrs={GA.GEN_AI_OPERATION_NAME: "execute_tool", "gen_ai.tool.name": "get_weather"},
        start=(T0, 200_000_000), end=(T0, 300_000_000),
        events=[(GA.GEN_AI_EVALUATION_NAME, "relevance", None, 0.2, (datetime(2026, 6, 1, 9, 6), 0), "resp-1")]),
}
SERVICE = "support-bot"


def _eval_attrs(event) -> dict:
    _, name, label, value, _, *rest = event
    attrs = {GA.GEN_AI_EVALUATION_NAME: name}
    if label is not None:
        attrs[GA.GEN_AI_EVALUATION_SCORE_LABEL] = label
    if value is not None:
        attrs[GA.GEN_AI_EVALUATION_SCORE_VALUE] = value
    if rest:
        attrs[GA.GEN_AI_RESPONSE_ID] = rest[0]
    attrs[GA.GEN_AI_EVALUATION_EXPLANATION] = f"judged {name}"
    return attrs


def make_spans():
    """Run the SDK; return its finished ReadableSpans by name."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("aimetrics-test")
    parent = None
    for name, spec in SDK_SPANS.items():
        ctx = trace.set_span_in_context(parent) if name.startswith("execute_tool") else None
        span = tracer.start_span(name, context=ctx, attributes=spec["attrs"], start_time=ns(*spec["start"]))
        for event in spec["events"]:
            span.add_event("gen_ai.evaluation.result", _eval_attrs(event), timestamp=ns(*event[4]))
        if "status" in spec:
            span.set_status(Status(*spec["status"]))
        span.end(end_time=ns(*spec["end"]))
        if name == "chat_current":
            parent = span
    provider.shutdown()
    return {s.name: s for s in exporter.get_finished_spans()}


def otlp_json(spans, hex_ids: bool) -> dict:
    """The SDK's own OTLP encoding, as JSON: hex ids + integer enums (OTLP/JSON) or json_format's defaults."""
    doc = json_format.MessageToDict(encode_spans(list(spans)), use_integers_for_enums=hex_ids)
    if hex_ids:  # OTLP/JSON: "traceId and spanId ... MUST be represented as case-insensitive hex-encoded strings"
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in sp:
                            sp[key] = base64.b64decode(sp[key]).hex()
    return doc


# evaluation results sent as log records (the Events API), by the SDK's LoggerProvider:
# (span it is parented to or None, evaluation name, label, gen_ai.response.id, time)
SDK_EVAL_LOGS = [
    ("chat_deprecated", "groundedness", "fail", None, (datetime(2026, 6, 1, 10, 2), 0)),
    (None, "safety", "pass", "resp-1", (datetime(2026, 6, 1, 9, 7), 0)),
]


def make_eval_logs(spans) -> dict:
    """Emit SDK_EVAL_LOGS (and one unrelated log record) with the SDK; their OTLP/JSON (hex ids)."""
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("aimetrics-test")
    for span_name, name, label, response_id, when in SDK_EVAL_LOGS:
        attrs = {GA.GEN_AI_EVALUATION_NAME: name, GA.GEN_AI_EVALUATION_SCORE_LABEL: label}
        if response_id:
            attrs[GA.GEN_AI_RESPONSE_ID] = response_id
        ctx = trace.set_span_in_context(trace.NonRecordingSpan(spans[span_name].context)) if span_name else None
        logger.emit(timestamp=ns(*when), context=ctx, attributes=attrs, event_name="gen_ai.evaluation.result")
    logger.emit(timestamp=ns(T0), body="an ordinary log line")
    provider.shutdown()
    doc = json_format.MessageToDict(encode_logs(exporter.get_finished_logs()), use_integers_for_enums=True)
    for rl in doc["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for rec in sl["logRecords"]:
                for key in ("traceId", "spanId"):
                    if rec.get(key):
                        rec[key] = base64.b64decode(rec[key]).hex()
    return doc


def ts(parts) -> datetime:
    dt, extra = parts
    return dt.replace(microsecond=extra // 1000)


def rows(db: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


_BUILT: dict[str, object] = {}


def warehouse(tmp_path_factory) -> tuple[Path, dict, Path]:
    """(built DuckDB file, SDK spans by name, OTLP/JSON file of them): loaded and built once per session."""
    if not _BUILT:
        tmp = tmp_path_factory.mktemp("ingest_warehouse")
        spans = make_spans()
        otlp_file = tmp / "traces.json"
        otlp_file.write_text(json.dumps(otlp_json(spans.values(), hex_ids=True)))
        logs_file = tmp / "logs.json"
        logs_file.write_text(json.dumps(make_eval_logs(spans)))
        mapping = tmp / "mapping.yml"
        mapping.write_text(MAPPING_YAML)
        db = tmp / "w.duckdb"
        assert main(["--db", str(db), "load", "--format", "otlp-json", str(otlp_file), str(logs_file),
                     *map(str, sorted(OTEL_FIXTURES.glob("*.json"))), "--mapping", str(mapping)]) == 0
        assert main(["--db", str(db), "load", "--format", "langfuse", *map(str, sorted(LANGFUSE_FIXTURES.glob("*.json"))),
                     "--mapping", str(mapping), "--user-from", LANGFUSE_USER_FROM]) == 0
        empty = tmp / "user_events.csv"  # a required raw table; no product events here
        empty.write_text("event_id,user_id,occurred_at,event_type\n")
        assert main(["--db", str(db), "load", "user_events", str(empty)]) == 0
        run_dbt(["build", "--select", "+metrics_daily", "+fct_interactions", "+quarantine_raw__interactions",
                 "+quarantine_raw__output_reviews", "--exclude-resource-type", "test", "unit_test"],
                duckdb_path=db, target_path=tmp / "target", env={"DBT_LOG_PATH": str(tmp / "logs")})
        _BUILT.update(db=db, spans=spans, otlp_file=otlp_file)
    return _BUILT["db"], _BUILT["spans"], _BUILT["otlp_file"]
