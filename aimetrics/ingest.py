"""Ingestion adapters: OpenTelemetry GenAI traces and Langfuse exports -> raw tables.

``aimetrics load --format otlp-json|langfuse FILE...`` converts each file to
rows of ``raw.interactions`` and ``raw.output_reviews`` (the raw contract) and
hands them to the ordinary loader (:func:`aimetrics.load.load_tables`): one
transaction for all files and both tables, the loader's refusals, and
``ingested_at`` set to the load time.

What is refused (nothing of the call is written), with the file, the record
and the field named: a file that is not JSON / JSON Lines, a document of
neither shape, an id that is neither hex nor base64 of the right length, a
time that is not an integer of unix nanoseconds (OTLP) or an ISO-8601 text
(Langfuse), a token count that is not an integer, a cost or score that is not
a number, a mapping file that does not parse.

What lands and is quarantined by staging with a reason code: a model call
without a user, feature, model, task or time (the required column is left
null), a review whose verdict cannot be derived (verdict null), a review
whose output is not in the loaded files (interaction_id null).

What is not a row at all, and is counted by kind in the summary: spans that
are not model calls (tool executions, agent invocations, HTTP spans, ...),
Langfuse observations other than GENERATION.

Parsing is plain ``json``: OTLP/JSON is not the protobuf JSON mapping
(ids are hex, not base64; enums are integers), so the protobuf parser would
misread ids, and only a dozen fields are read.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from aimetrics.errors import AimetricsError
from aimetrics.load import Rows

ADAPTER_FORMATS = ("otlp-json", "langfuse")

#: where feature, task, user and session come from, tried in order (first non-empty wins)
DEFAULT_MAPPING: dict[str, dict[str, list[str]]] = {
    "otlp-json": {
        "feature": ["gen_ai.agent.name", "service.name"],
        "task": ["trace_id"],
        "user": ["user.id", "enduser.id"],
        "session": ["gen_ai.conversation.id", "session.id"],
    },
    # observation.*: the enriched observations export (observations_v2) carries trace fields on each row
    "langfuse": {
        "feature": ["trace.name", "observation.trace_name"],
        "task": ["trace.id", "observation.trace_id"],
        "user": ["trace.user_id", "observation.user_id"],
        "session": ["trace.session_id", "observation.session_id"],
    },
}
MAPPED = ("feature", "task", "user", "session")

#: gen_ai.operation.name values that are one model output (an interaction)
MODEL_CALL_OPERATIONS = {"chat", "text_completion", "generate_content"}

INTERACTION_COLUMNS = [
    "interaction_id", "task_id", "user_id", "session_id", "feature", "model", "model_version",
    "requested_at", "responded_at", "status", "input_tokens", "output_tokens", "cost_usd",
    # extra columns (kept by the loader, ignored by staging)
    "source_format", "source_file", "trace_id", "parent_id", "provider", "response_model",
    "finish_reasons", "error_type", "ended_at",
]
REVIEW_COLUMNS = [
    "review_id", "interaction_id", "reviewer_kind", "dimension", "verdict", "score", "reviewed_at",
    "reviewer_id",
    "source_format", "source_file", "trace_id", "label", "comment",
]

#: Langfuse score source -> reviewer_kind
LANGFUSE_REVIEWER_KIND = {"EVAL": "llm_judge", "ANNOTATION": "human_expert", "API": "automated"}
PASS_LABELS = {"pass", "passed"}
FAIL_LABELS = {"fail", "failed"}


# ----------------------------------------------------------------------------
# mapping configuration


@dataclass
class Mapping:
    """Which source field carries feature/task/user/session, and how reviews get a verdict."""

    fields: dict[str, list[str]]
    reviewer_kind: str = "llm_judge"  # OTLP evaluation events say nothing about who judged
    labels: dict[str, str] = field(default_factory=dict)  # label -> pass|fail
    fail_at_or_above: dict[str, float] = field(default_factory=dict)  # dimension -> threshold
    fail_below: dict[str, float] = field(default_factory=dict)


def _as_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise AimetricsError(f"{where}: expected a source key or a list of them, got {value!r}")
    return value


def _thresholds(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AimetricsError(f"{where}: expected a map dimension: number, got {value!r}")
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise AimetricsError(f"{where}.{k}: expected a number, got {v!r}")
        out[str(k).strip().lower()] = float(v)
    return out


def load_mapping(fmt: str, mapping_file: Path | None = None,
                 overrides: dict[str, str | None] | None = None) -> Mapping:
    """The defaults, then the YAML mapping file's section for ``fmt``, then CLI overrides."""
    fields = {k: list(v) for k, v in DEFAULT_MAPPING[fmt].items()}
    m = Mapping(fields)
    if mapping_file is not None:
        try:
            doc = yaml.safe_load(Path(mapping_file).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise AimetricsError(f"{mapping_file}: cannot read the mapping file: {exc}") from None
        if not isinstance(doc, dict):
            raise AimetricsError(f"{mapping_file}: expected a YAML map with sections otlp-json, langfuse, reviews")
        unknown = set(doc) - {"otlp-json", "langfuse", "reviews"}
        if unknown:
            raise AimetricsError(f"{mapping_file}: unknown section(s) {', '.join(sorted(unknown))} "
                                 "(expected otlp-json, langfuse, reviews)")
        section = doc.get(fmt) or {}
        for key, value in section.items():
            if key not in MAPPED:
                raise AimetricsError(f"{mapping_file}: {fmt}.{key}: unknown field (expected {', '.join(MAPPED)})")
            fields[key] = _as_list(value, f"{mapping_file}: {fmt}.{key}")
        reviews = doc.get("reviews") or {}
        unknown = set(reviews) - {"reviewer_kind", "labels", "fail_at_or_above", "fail_below"}
        if unknown:
            raise AimetricsError(f"{mapping_file}: reviews: unknown key(s) {', '.join(sorted(unknown))}")
        if "reviewer_kind" in reviews:
            m.reviewer_kind = str(reviews["reviewer_kind"])
        labels = reviews.get("labels") or {}
        for label, verdict in labels.items():
            if str(verdict).lower() not in ("pass", "fail"):
                raise AimetricsError(f"{mapping_file}: reviews.labels.{label}: verdict must be pass or fail, "
                                     f"got {verdict!r}")
            m.labels[str(label).strip().lower()] = str(verdict).lower()
        m.fail_at_or_above = _thresholds(reviews.get("fail_at_or_above"), f"{mapping_file}: reviews.fail_at_or_above")
        m.fail_below = _thresholds(reviews.get("fail_below"), f"{mapping_file}: reviews.fail_below")
    for key, value in (overrides or {}).items():
        if value:
            fields[key] = _as_list(value, f"--{key}-from")
    if fmt == "langfuse":
        for key, sources in fields.items():
            for s in sources:
                if not s.startswith(("=", "trace.", "observation.")):
                    raise AimetricsError(f"langfuse {key} source {s!r}: must start with 'trace.' or "
                                         "'observation.' (or '=' for a constant)")
    return m


def verdict_of(dimension: str | None, label: str | None, score: float | None, mapping: Mapping) -> str | None:
    """pass/fail from a label (pass/fail, or the mapping's labels), else from the score's threshold."""
    if label is not None:
        lab = str(label).strip().lower()
        if lab in PASS_LABELS:
            return "pass"
        if lab in FAIL_LABELS:
            return "fail"
        if lab in mapping.labels:
            return mapping.labels[lab]
    dim = (dimension or "").strip().lower()
    if score is not None:
        if dim in mapping.fail_at_or_above:
            return "fail" if score >= mapping.fail_at_or_above[dim] else "pass"
        if dim in mapping.fail_below:
            return "fail" if score < mapping.fail_below[dim] else "pass"
    return None


# ----------------------------------------------------------------------------
# shared helpers


@dataclass
class Converted:
    """What the adapter made of the files: rows per table, and what was not a row, by kind."""

    interactions: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)


def _read_json_docs(path: Path) -> list[Any]:
    """One JSON document, or JSON Lines (one document per line, as the Collector's file exporter writes)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AimetricsError(f"{path}: cannot read: {exc}") from None
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as whole:
        docs = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if n == 1:
                    raise AimetricsError(f"{path}: not JSON: {whole}") from None
                raise AimetricsError(f"{path}: line {n}: not JSON: {exc}") from None
        return docs


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int(value: Any, where: str) -> int | None:
    """An integer token count: int, or a float / text holding an integral value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise AimetricsError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise AimetricsError(f"{where}: expected an integer, got {value!r}") from None
    if f != f or f in (float("inf"), float("-inf")) or f != int(f):
        raise AimetricsError(f"{where}: expected an integer, got {value!r}")
    return int(f)


def _float(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AimetricsError(f"{where}: expected a number, got {value!r}") from None


def _to_table(rows: list[dict], columns: list[str]) -> pa.Table:
    return pa.table({c: pa.array([_text(r.get(c)) for r in rows], pa.string()) for c in columns})


def to_rows(conv: Converted) -> dict[str, list[Rows]]:
    """The converted rows, one :class:`Rows` per source file and table, for load_tables."""
    out: dict[str, list[Rows]] = {}
    for table, rows, columns in (("interactions", conv.interactions, INTERACTION_COLUMNS),
                                 ("output_reviews", conv.reviews, REVIEW_COLUMNS)):
        by_file: dict[str, list[dict]] = {}
        for r in rows:
            by_file.setdefault(r["source_file"], []).append(r)
        if by_file:
            out[table] = [Rows(Path(f), _to_table(rs, columns)) for f, rs in by_file.items()]
    return out


# ----------------------------------------------------------------------------
# OpenTelemetry (OTLP/JSON and flat attribute maps)

_EPOCH = datetime(1970, 1, 1)


def _nanos_to_text(value: Any, where: str) -> str | None:
    """Unix nanoseconds (a JSON string or number) -> 'YYYY-MM-DD HH:MM:SS.ffffff' UTC; 0/absent -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
        raise AimetricsError(f"{where}: expected unix nanoseconds as an integer string, got {value!r}")
    n = int(value)
    if n == 0:  # proto3 default: not set
        return None
    micros = n // 1000  # nanoseconds below a microsecond are dropped (TIMESTAMP holds microseconds)
    return (_EPOCH + timedelta(microseconds=micros)).isoformat(sep=" ", timespec="microseconds")


def _otlp_id(value: Any, nbytes: int, where: str) -> str | None:
    """A trace (16 bytes) or span (8 bytes) id as lower-case hex.

    OTLP/JSON writes ids as hex; the protobuf JSON mapping (json_format) writes
    base64. Both are accepted; an all-zero id is 'not set'.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) == 2 * nbytes:
            h = value.lower()
            return None if set(h) == {"0"} else h
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == nbytes:
            return None if raw == bytes(nbytes) else raw.hex()
    raise AimetricsError(f"{where}: expected a {nbytes}-byte id as {2 * nbytes} hex digits, got {value!r}")


def any_value(v: Any) -> Any:
    """An OTLP/JSON AnyValue object -> a Python value."""
    if not isinstance(v, dict):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:  # int64 is a JSON string in OTLP/JSON
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])  # also 'NaN', 'Infinity'
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values", []) or []]
    if "kvlistValue" in v:
        return {kv.get("key"): any_value(kv.get("value")) for kv in (v["kvlistValue"] or {}).get("values", []) or []}
    if "bytesValue" in v:
        return v["bytesValue"]
    return None  # an empty AnyValue


def _attributes(kvs: Any, where: str) -> dict[str, Any]:
    if kvs is None:
        return {}
    if not isinstance(kvs, list):
        raise AimetricsError(f"{where}: attributes must be a list of {{key, value}}, got {type(kvs).__name__}")
    out = {}
    for kv in kvs:
        if not isinstance(kv, dict) or "key" not in kv:
            raise AimetricsError(f"{where}: attribute {kv!r} has no key")
        try:
            out[kv["key"]] = any_value(kv.get("value"))
        except (TypeError, ValueError) as exc:
            raise AimetricsError(f"{where}: attribute {kv['key']}: not a valid AnyValue: {exc}") from None
    return out


def _first(attrs: dict, *names: str) -> Any:
    for n in names:
        v = attrs.get(n)
        if v is not None and v != "" and v != []:
            return v
    return None


def _resolve_otlp(key: str, span: dict, attrs: dict, resource: dict) -> str | None:
    if key.startswith("="):
        return key[1:]
    if key in ("trace_id", "span_id", "span_name"):
        return span.get(key)
    v = _first(attrs, key)
    if v is None:
        v = _first(resource, key)
    return None if v is None else _text(v)


def _evaluation_reviews(conv: Converted, path: Path, where: str, span: dict,
                        events: list[tuple[str, dict, str | None]], mapping: Mapping,
                        pending: list[tuple[dict, str | None]], on_model_call: bool, index: int | None = None) -> None:
    """gen_ai.evaluation.result events -> review rows; the output is the span, else found by gen_ai.response.id."""
    for i, (ev_name, ev, ev_time) in enumerate(events):
        if ev_name != "gen_ai.evaluation.result":
            continue
        i = i if index is None else index
        dim = _text(_first(ev, "gen_ai.evaluation.name"))
        label = _text(_first(ev, "gen_ai.evaluation.score.label"))
        score = _float(_first(ev, "gen_ai.evaluation.score.value"),
                       f"{where}: event {i} attribute gen_ai.evaluation.score.value")
        response_id = _text(_first(ev, "gen_ai.response.id"))
        anchor = span.get("span_id") or response_id
        review = {
            "review_id": f"{anchor}:eval:{i}:{dim}" if anchor else None,
            "interaction_id": span.get("span_id") if on_model_call else None,
            "reviewer_kind": mapping.reviewer_kind,
            "dimension": dim,
            "verdict": verdict_of(dim, label, score, mapping),
            "score": score,
            "reviewed_at": ev_time,
            "reviewer_id": None,
            "source_format": "otlp-json", "source_file": str(path),
            "trace_id": span.get("trace_id"), "label": label,
            "comment": _text(_first(ev, "gen_ai.evaluation.explanation")),
        }
        conv.reviews.append(review)
        if not on_model_call:  # parented elsewhere: find the output by gen_ai.response.id
            pending.append((review, response_id))


def _status(code: Any, finish_reasons: list[str], error_type: str | None) -> str:
    if code in (2, "2", "STATUS_CODE_ERROR"):
        return "timeout" if error_type and "timeout" in error_type.lower() else "error"
    reasons = {str(r).lower() for r in finish_reasons}
    if "content_filter" in reasons:
        return "filtered"
    if "refusal" in reasons:
        return "refused"
    return "ok"


def _otlp_span(conv: Converted, path: Path, where: str, span: dict, attrs: dict, resource: dict,
               events: list[tuple[str, dict, str | None]], mapping: Mapping,
               pending: list[tuple[dict, str | None]]) -> None:
    """One span (or flat attribute map) -> an interaction row and review rows, or a skip."""
    op = _first(attrs, "gen_ai.operation.name")
    req_model = _first(attrs, "gen_ai.request.model")
    resp_model = _first(attrs, "gen_ai.response.model")
    is_call = op in MODEL_CALL_OPERATIONS if op is not None else (req_model is not None or resp_model is not None)

    # evaluation events become reviews, whether or not the span they sit on is a model call
    _evaluation_reviews(conv, path, where, span, events, mapping, pending, on_model_call=is_call)

    if not is_call:
        conv.skipped[f"spans not model calls (gen_ai.operation.name={op})" if op
                     else "spans without gen_ai model attributes"] += 1
        return

    finish = _first(attrs, "gen_ai.response.finish_reasons")
    finish_list = [str(x) for x in finish] if isinstance(finish, list) else ([str(finish)] if finish else [])
    error_type = _text(_first(attrs, "error.type"))
    status = _status(span.get("status_code"), finish_list, error_type)
    fields = {k: next((v for v in (_resolve_otlp(s, span, attrs, resource) for s in sources) if v), None)
              for k, sources in mapping.fields.items()}
    ended = span.get("end")
    conv.interactions.append({
        "interaction_id": span.get("span_id") or _text(_first(attrs, "gen_ai.response.id")),
        "task_id": fields["task"],
        "user_id": fields["user"],
        "session_id": fields["session"],
        "feature": fields["feature"],
        "model": _text(req_model if req_model is not None else resp_model),
        "model_version": _text(resp_model),
        "requested_at": span.get("start"),
        "responded_at": ended if status == "ok" else None,
        "status": status,
        "input_tokens": _int(_first(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
                             f"{where}: attribute gen_ai.usage.input_tokens"),
        "output_tokens": _int(_first(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
                              f"{where}: attribute gen_ai.usage.output_tokens"),
        "cost_usd": None,  # no GenAI convention for cost: priced from the model_pricing seed
        "source_format": "otlp-json", "source_file": str(path),
        "trace_id": span.get("trace_id"), "parent_id": span.get("parent_span_id"),
        "provider": _text(_first(attrs, "gen_ai.provider.name", "gen_ai.system")),
        "response_model": _text(resp_model),
        "finish_reasons": ",".join(finish_list) or None,
        "error_type": error_type or (span.get("status_message") if status in ("error", "timeout") else None),
        "ended_at": ended,
        "_response_id": _text(_first(attrs, "gen_ai.response.id")),
    })


def convert_otlp(paths: list[Path], mapping: Mapping) -> Converted:
    """OTLP/JSON trace exports (``resourceSpans``) or flat GenAI attribute maps -> raw rows."""
    conv = Converted(files=list(paths))
    pending: list[tuple[dict, str | None]] = []
    for path in paths:
        for d, doc in enumerate(_read_json_docs(path), start=1):
            items = doc if isinstance(doc, list) else [doc]
            for j, item in enumerate(items):
                where = f"{path}: document {d}" + (f" item {j}" if isinstance(doc, list) else "")
                if not isinstance(item, dict):
                    raise AimetricsError(f"{where}: expected a JSON object, got {type(item).__name__}")
                if "resourceSpans" in item or "resourceLogs" in item:
                    _otlp_request(conv, path, where, item, mapping, pending)
                    _otlp_logs(conv, path, where, item, mapping, pending)
                elif "resource_spans" in item:
                    raise AimetricsError(f"{where}: 'resource_spans' is the protobuf field name; OTLP/JSON "
                                         "uses lowerCamelCase keys (resourceSpans, scopeSpans, ...)")
                elif any(k.startswith("gen_ai.") for k in item):  # a flat attribute map: one span, no ids or times
                    _otlp_span(conv, path, where, {}, item, {}, [], mapping, pending)
                else:
                    raise AimetricsError(f"{where}: neither an OTLP/JSON export (no resourceSpans) nor a map of "
                                         "gen_ai.* attributes")
    _link_by_response_id(conv, pending)
    for r in conv.interactions:
        r.pop("_response_id", None)
    return conv


def _otlp_request(conv: Converted, path: Path, where: str, doc: dict, mapping: Mapping,
                  pending: list[tuple[dict, str | None]]) -> None:
    for r, rs in enumerate(doc.get("resourceSpans") or []):
        resource = _attributes((rs.get("resource") or {}).get("attributes"), f"{where} resourceSpans[{r}].resource")
        for s, ss in enumerate(rs.get("scopeSpans") or []):
            for k, sp in enumerate(ss.get("spans") or []):
                w = f"{where} resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"
                if not isinstance(sp, dict):
                    raise AimetricsError(f"{w}: expected a span object")
                span = {
                    "trace_id": _otlp_id(sp.get("traceId"), 16, f"{w}.traceId"),
                    "span_id": _otlp_id(sp.get("spanId"), 8, f"{w}.spanId"),
                    "parent_span_id": _otlp_id(sp.get("parentSpanId"), 8, f"{w}.parentSpanId"),
                    "span_name": sp.get("name"),
                    "start": _nanos_to_text(sp.get("startTimeUnixNano"), f"{w}.startTimeUnixNano"),
                    "end": _nanos_to_text(sp.get("endTimeUnixNano"), f"{w}.endTimeUnixNano"),
                    "status_code": (sp.get("status") or {}).get("code"),
                    "status_message": (sp.get("status") or {}).get("message") or None,
                }
                w = f"{where} span {span['span_id']}"
                attrs = _attributes(sp.get("attributes"), w)
                events = [(ev.get("name"), _attributes(ev.get("attributes"), f"{w} event {e}"),
                           _nanos_to_text(ev.get("timeUnixNano"), f"{w} event {e}.timeUnixNano"))
                          for e, ev in enumerate(sp.get("events") or [])]
                _otlp_span(conv, path, w, span, attrs, resource, events, mapping, pending)


def _otlp_logs(conv: Converted, path: Path, where: str, doc: dict, mapping: Mapping,
               pending: list[tuple[dict, str | None]]) -> None:
    """gen_ai.evaluation.result events sent as log records (the Logs/Events API), parented by spanId."""
    for r, rl in enumerate(doc.get("resourceLogs") or []):
        for s, sl in enumerate(rl.get("scopeLogs") or []):
            for k, rec in enumerate(sl.get("logRecords") or []):
                w = f"{where} resourceLogs[{r}].scopeLogs[{s}].logRecords[{k}]"
                attrs = _attributes(rec.get("attributes"), w)
                name = rec.get("eventName") or attrs.get("event.name")
                if name != "gen_ai.evaluation.result":
                    conv.skipped[f"log records not gen_ai.evaluation.result ({name or 'no event name'})"] += 1
                    continue
                span_id = _otlp_id(rec.get("spanId"), 8, f"{w}.spanId")
                time = (_nanos_to_text(rec.get("timeUnixNano"), f"{w}.timeUnixNano")
                        or _nanos_to_text(rec.get("observedTimeUnixNano"), f"{w}.observedTimeUnixNano"))
                span = {"trace_id": _otlp_id(rec.get("traceId"), 16, f"{w}.traceId"), "span_id": span_id}
                _evaluation_reviews(conv, path, w, span, [(name, attrs, time)], mapping, pending,
                                    on_model_call=span_id is not None, index=k)


def _link_by_response_id(conv: Converted, pending: list[tuple[dict, str | None]]) -> None:
    """Reviews on a span other than the model call: the output with that gen_ai.response.id."""
    by_response = {r["_response_id"]: r["interaction_id"] for r in conv.interactions if r.get("_response_id")}
    for review, response_id in pending:
        review["interaction_id"] = by_response.get(response_id)  # None -> quarantined: missing interaction_id


# ----------------------------------------------------------------------------
# Langfuse (UI/API downloads in camelCase, blob-storage exports in snake_case)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _norm(record: dict) -> dict:
    """Top-level keys in snake_case (the blob export's spelling); nested values untouched."""
    return {_snake(k): v for k, v in record.items()}


def _kind(rec: dict) -> str | None:
    if "type" in rec and "start_time" in rec and "trace_id" in rec:
        return "observation"
    if "trace_id" in rec and ("data_type" in rec or "value" in rec or "string_value" in rec) and "name" in rec:
        return "score"
    if "id" in rec and "timestamp" in rec and "trace_id" not in rec:
        return "trace"
    return None


def _walk(value: Any, path: str) -> Any:
    """Follow a dotted path; a key may itself hold dots (``metadata.attributes.user.id``); JSON text is parsed."""
    if not path:
        return value
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if not isinstance(value, dict):
        return None
    parts = path.split(".")
    for n in range(len(parts), 0, -1):  # the longest key that exists wins
        key = ".".join(parts[:n])
        if key in value:
            found = _walk(value[key], ".".join(parts[n:]))
            if found is not None:
                return found
    return None


def _resolve_langfuse(key: str, trace: dict, obs: dict) -> str | None:
    if key.startswith("="):
        return key[1:]
    root, _, rest = key.partition(".")
    head, _, tail = rest.partition(".")
    rec = trace if root == "trace" else obs
    v = _walk(rec.get(_snake(head)), tail) if tail else rec.get(_snake(head))
    return None if v in (None, "", [], {}) else _text(v)


def _iso(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AimetricsError(f"{where}: expected an ISO-8601 timestamp, got {value!r}")
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        raise AimetricsError(f"{where}: expected an ISO-8601 timestamp, got {value!r}") from None
    return value.strip()


def _langfuse_records(path: Path) -> list[tuple[str, dict, str]]:
    """Every trace, observation and score in the file, whatever the export's shape."""
    out: list[tuple[str, dict, str]] = []

    def visit(item: Any, where: str) -> None:
        if isinstance(item, list):
            for i, x in enumerate(item):
                visit(x, f"{where}[{i}]")
            return
        if not isinstance(item, dict):
            raise AimetricsError(f"{where}: expected a JSON object, got {type(item).__name__}")
        if "data" in item and isinstance(item["data"], list) and "id" not in item:  # API page {data, meta}
            visit(item["data"], f"{where}.data")
            return
        if "trace" in item and isinstance(item["trace"], dict):  # UI download {trace, observations}
            visit(item["trace"], f"{where}.trace")
            visit(item.get("observations") or [], f"{where}.observations")
            return
        rec = _norm(item)
        kind = _kind(rec)
        if kind is None:
            raise AimetricsError(f"{where}: neither a Langfuse trace (id, timestamp), observation (id, trace_id, "
                                 "type, start_time) nor score (trace_id, name, value)")
        nested_obs = rec.pop("observations", None) if kind == "trace" else None
        nested_scores = rec.pop("scores", None) if kind == "trace" else None
        out.append((kind, rec, where))
        for name, nested in (("observations", nested_obs), ("scores", nested_scores)):
            for i, x in enumerate(nested or []):
                if isinstance(x, dict):  # the trace list endpoint gives ids only; those are skipped
                    x = {"trace_id": rec.get("id"), **_norm(x)}
                    visit(x, f"{where}.{name}[{i}]")

    for d, doc in enumerate(_read_json_docs(path), start=1):
        visit(doc, f"{path}: document {d}")
    return out


def convert_langfuse(paths: list[Path], mapping: Mapping) -> Converted:
    """Langfuse traces, GENERATION observations and scores -> raw rows (all files resolved together)."""
    conv = Converted(files=list(paths))
    traces: dict[str, dict] = {}
    observations: list[tuple[dict, str, Path]] = []
    scores: list[tuple[dict, str, Path]] = []
    for path in paths:
        for kind, rec, where in _langfuse_records(path):
            if kind == "trace":
                traces[rec["id"]] = {**traces.get(rec["id"], {}), **rec}
            elif kind == "observation":
                observations.append((rec, where, path))
            else:
                scores.append((rec, where, path))

    last_generation: dict[str, tuple[str, str]] = {}  # trace id -> (end or start time, observation id)
    for obs, where, path in observations:
        if str(obs.get("type")).upper() != "GENERATION":
            conv.skipped[f"observations not GENERATION (type {obs.get('type')})"] += 1
            continue
        where = f"{where} (observation {obs.get('id')})"
        trace = traces.get(obs.get("trace_id"), {"id": obs.get("trace_id")})
        fields = {k: next((v for v in (_resolve_langfuse(s, trace, obs) for s in sources) if v), None)
                  for k, sources in mapping.fields.items()}
        usage = obs.get("usage_details") or {}
        legacy = obs.get("usage") or {}
        input_tokens = _first(usage, "input", "prompt_tokens")
        if input_tokens is None:
            input_tokens = _first({"a": obs.get("input_usage") or None, "b": legacy.get("input")}, "a", "b")
        output_tokens = _first(usage, "output", "completion_tokens")
        if output_tokens is None:
            output_tokens = _first({"a": obs.get("output_usage") or None, "b": legacy.get("output")}, "a", "b")
        cost_details = obs.get("cost_details")
        if isinstance(cost_details, dict) and cost_details.get("total") is not None:
            cost = cost_details["total"]
        elif cost_details:
            cost = sum(_float(v, f"{where}: cost_details") or 0 for v in cost_details.values())
        elif cost_details is None:  # older exports: the calculated total only
            cost = _first(obs, "total_cost", "calculated_total_cost")
        else:
            cost = None  # {}: Langfuse has no cost for it -> priced from the seed
        level = str(obs.get("level") or "DEFAULT").upper()
        message = _text(obs.get("status_message"))
        status = ("timeout" if message and re.search(r"time ?out|timed out", message, re.I) else "error") \
            if level == "ERROR" else "ok"
        start = _iso(obs.get("start_time"), f"{where}: start_time")
        end = _iso(obs.get("end_time"), f"{where}: end_time")
        model = _first(obs, "model", "provided_model_name")
        conv.interactions.append({
            "interaction_id": obs.get("id"),
            "task_id": fields["task"], "user_id": fields["user"], "session_id": fields["session"],
            "feature": fields["feature"],
            "model": _text(model),
            "model_version": _text(obs.get("version")),
            "requested_at": start,
            "responded_at": end if status == "ok" else None,
            "status": status,
            "input_tokens": _int(input_tokens, f"{where}: usage_details.input"),
            "output_tokens": _int(output_tokens, f"{where}: usage_details.output"),
            "cost_usd": _float(cost, f"{where}: cost_details.total"),
            "source_format": "langfuse", "source_file": str(path),
            "trace_id": obs.get("trace_id"), "parent_id": obs.get("parent_observation_id"),
            "provider": None, "response_model": None, "finish_reasons": None,
            "error_type": message if status != "ok" else None,
            "ended_at": end,
        })
        key = (end or start or "", obs.get("id"))
        if obs.get("trace_id") not in last_generation or key > last_generation[obs["trace_id"]]:
            last_generation[obs["trace_id"]] = key

    for score, where, path in scores:
        where = f"{where} (score {score.get('id')})"
        value = _float(score.get("value"), f"{where}: value")
        label = _text(score.get("string_value"))
        if str(score.get("data_type") or "").upper() == "BOOLEAN":
            label = None  # 'True'/'False' says the value, not the verdict: the threshold decides
        dim = _text(score.get("name"))
        target = score.get("observation_id")
        if not target and score.get("trace_id") in last_generation:  # a trace-level score: the trace's last output
            target = last_generation[score["trace_id"]][1]
        conv.reviews.append({
            "review_id": score.get("id"),
            "interaction_id": target or None,
            "reviewer_kind": LANGFUSE_REVIEWER_KIND.get(str(score.get("source") or "").upper(),
                                                        _text(score.get("source"))),
            "dimension": dim,
            "verdict": verdict_of(dim, label, value, mapping),
            "score": value,
            "reviewed_at": _iso(score.get("timestamp"), f"{where}: timestamp"),
            "reviewer_id": _text(score.get("author_user_id")),
            "source_format": "langfuse", "source_file": str(path),
            "trace_id": score.get("trace_id"), "label": label, "comment": _text(score.get("comment")),
        })
    return conv


def convert(fmt: str, paths: list[Path], mapping: Mapping) -> Converted:
    for p in paths:
        if not p.exists():
            raise AimetricsError(f"{p}: file not found")
        if not p.is_file():
            raise AimetricsError(f"{p}: not a file")
    from aimetrics.progress import progress

    with progress(f"reading {fmt}", None):
        return convert_otlp(paths, mapping) if fmt == "otlp-json" else convert_langfuse(paths, mapping)
