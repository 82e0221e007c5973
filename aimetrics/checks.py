"""Data-contract checks with Great Expectations: ``aimetrics check raw|marts`` and ``aimetrics run``.

The suites are versioned JSON files in ``contracts/`` (GX's own suite format,
one file per table):

* ``contracts/raw/<table>.json``: one suite per raw table, generated from the
  raw contract (``models/staging/_raw__sources.yml``) by :func:`raw_suite`;
  ``python -m aimetrics.checks --write-raw-suites`` rewrites them after a
  contract change, and a test fails while they are out of date.
* ``contracts/marts/<model>.json``: one suite per public mart, written by hand.

Each expectation carries GX's own ``severity``: ``critical`` is an **error**
(blocks ``aimetrics run``), ``warning`` is a **warn** (reported). Each suite's
``meta`` names its table (``schema``, ``table``) and ``sample_columns``, the
columns printed as the sample of offending rows.

Validation runs in the database: GX's SQL data source on the DuckDB file
(read-only), so every expectation is a SQL query and no table is loaded into
pandas (see :mod:`aimetrics.gx_compat` for the one workaround this needs).
GX Data Docs (HTML) are written to ``docs_dir``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aimetrics import PROJECT_DIR
from aimetrics.contract import Table, raw_contract
from aimetrics.errors import AimetricsError

CONTRACTS_DIR = PROJECT_DIR / "contracts"
LAYERS = ("raw", "marts")
DEFAULT_DOCS_DIR = PROJECT_DIR / "data_docs"

ERROR, WARN = "critical", "warning"  # GX severities: critical blocks, warning reports
#: the suite parameter holding "now + 1 day" (naive UTC), the latest timestamp the raw checks accept
FUTURE_LIMIT = "future_limit"
FUTURE_TOLERANCE = dt.timedelta(days=1)
SAMPLE_SIZE = 5

#: the characters staging trims (macros/cross_db.sql, clean_text)
_TRIM_CHARS = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


# ----------------------------------------------------------------------------
# suites


def _expectation(type_: str, severity: str, on_failure: str, description: str | None = None, **kwargs) -> dict:
    exp = {"type": type_, "kwargs": kwargs, "severity": severity, "meta": {"on_failure": on_failure}}
    if description:
        exp["description"] = description
    return exp


def _sample_columns(table: Table) -> list[str]:
    return list(table.key) or [c.name for c in table.columns if c.required]


def raw_suite(table: Table) -> dict:
    """The GX suite (as a dict) of raw table ``table``, derived from its contract."""
    exps = []
    names = table.column_names
    for c in table.columns:
        if c.required:
            exps.append(_expectation(
                "expect_column_to_exist", ERROR,
                f"blocks: without its required column {c.name} every row of raw.{table.name} "
                f"would be quarantined",
                column=c.name))
    for c in table.columns:
        if c.required:
            exps.append(_expectation(
                "expect_column_values_to_not_be_null", WARN,
                "staging quarantines the row (missing_required)", column=c.name))
        if c.enum:
            values = ", ".join(f"'{v}'" for v in c.enum)
            exps.append(_expectation(
                "unexpected_rows_expectation", WARN, "staging quarantines the row (invalid_enum)",
                description=f"{c.name} is one of {', '.join(c.enum)} (trimmed, case-insensitive)",
                unexpected_rows_query=(
                    f"select {', '.join(_sample_columns(table))}, {c.name} from {{batch}} "
                    f"where nullif(lower(trim({c.name}, {_TRIM_CHARS})), '') not in ({values})")))
        if c.min is not None or c.max is not None:
            bounds = {k: v for k, v in (("min_value", c.min), ("max_value", c.max)) if v is not None}
            exps.append(_expectation(
                "expect_column_values_to_be_between", WARN, "staging quarantines the row (out_of_range)",
                column=c.name, **bounds))
        if c.data_type in ("timestamp", "date"):
            exps.append(_expectation(
                "expect_column_values_to_be_between", ERROR,
                "blocks: a timestamp more than a day in the future (clock skew, wrong unit or zone) "
                "would move 'the latest query' and 'the last day in the data' for every metric",
                description=f"{c.name} is not more than 1 day in the future",
                column=c.name, max_value={"$PARAMETER": FUTURE_LIMIT}))
    if table.name == "interactions":
        exps.append(_expectation(
            "expect_column_pair_values_a_to_be_greater_than_b", WARN,
            "staging quarantines the row (out_of_range on responded_at)",
            column_A="responded_at", column_B="requested_at", or_equal=True,
            ignore_row_if="either_value_is_missing"))
    if table.key:
        # "unique per batch": one load stamps one ingested_at, so a batch is a key x ingested_at;
        # copies across loads are re-sends that staging deduplicates (latest ingested_at wins).
        per_batch = [*table.key, "ingested_at"] if "ingested_at" in names else list(table.key)
        note = "staging keeps one copy per key (the latest ingested_at; equal ones are taken as identical)"
        if len(per_batch) == 1:
            exps.append(_expectation("expect_column_values_to_be_unique", WARN, note, column=per_batch[0]))
        else:
            exps.append(_expectation("expect_compound_columns_to_be_unique", WARN, note, column_list=per_batch))
    if table.name in ("user_events", "output_reviews"):  # orphans: they may be early, so only a warning
        exps.append(_expectation(
            "unexpected_rows_expectation", WARN,
            "counts for retention only (events) or in no metric (reviews) until the interaction lands",
            description="interaction_id refers to a row of raw.interactions",
            unexpected_rows_query=(
                f"select {', '.join(_sample_columns(table))}, interaction_id from {{batch}} "
                "where interaction_id is not null and interaction_id not in "
                "(select interaction_id from raw.interactions where interaction_id is not null)")))
    if not table.optional_table:
        exps.append(_expectation(
            "expect_table_row_count_to_be_between", ERROR,
            f"blocks: raw.{table.name} is required and empty, so every metric would be empty",
            min_value=1))
    return {
        "name": f"raw.{table.name}",
        "meta": {
            "schema": "raw", "table": table.name, "optional": table.optional_table,
            "sample_columns": _sample_columns(table),
            "generated_from": "models/staging/_raw__sources.yml (python -m aimetrics.checks --write-raw-suites)",
        },
        "expectations": exps,
    }


def _suite_json(suite: dict) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def write_raw_suites(folder: Path = CONTRACTS_DIR / "raw") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in raw_contract().values():
        path = folder / f"{table.name}.json"
        path.write_text(_suite_json(raw_suite(table)))
        paths.append(path)
    return paths


def load_suites(layer: str) -> list[dict]:
    """The suites of ``layer`` (raw or marts) as dicts, from contracts/<layer>/*.json."""
    if layer not in LAYERS:
        raise AimetricsError(f"unknown check layer {layer!r}; use one of {', '.join(LAYERS)}")
    files = sorted((CONTRACTS_DIR / layer).glob("*.json"))
    if not files:
        raise AimetricsError(f"no suites in {CONTRACTS_DIR / layer}")
    return [json.loads(f.read_text()) for f in files]


# ----------------------------------------------------------------------------
# validation


@dataclass
class Failure:
    """One failed (or broken) expectation."""

    table: str  # schema.table
    expectation: str  # short human description
    severity: str  # ERROR or WARN
    rows: int | None  # rows failing; None for table-level expectations
    sample: list[str] = field(default_factory=list)  # offending keys, at most SAMPLE_SIZE
    note: str = ""  # what happens to those rows, or an error message

    @property
    def blocking(self) -> bool:
        return self.severity == ERROR


@dataclass
class Report:
    layer: str
    failures: list[Failure]
    tables: int  # tables validated
    expectations: int  # expectations evaluated
    docs_index: Path | None
    skipped: list[str] = field(default_factory=list)  # optional tables not landed

    @property
    def blocked(self) -> bool:
        return any(f.blocking for f in self.failures)


def _num(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _label(config) -> str:
    """A short description of an expectation configuration."""
    if config.description:
        return config.description
    kw = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    t = config.type.removeprefix("expect_")
    if "min_value" in kw or "max_value" in kw:
        lo, hi = _num(kw.get("min_value")), _num(kw.get("max_value"))
        rng = f">= {lo}" if hi is None else f"<= {hi}" if lo is None else f"in [{lo}, {hi}]"
        return f"{kw.get('column', 'row count')} {rng}" if "column" in kw else f"row count {rng}"
    if t == "column_values_to_not_be_null":
        return f"{kw['column']} is not null"
    if t == "column_to_exist":
        return f"column {kw['column']} exists"
    if t == "column_values_to_be_in_set":
        return f"{kw['column']} in {{{', '.join(map(str, kw['value_set']))}}}"
    if t == "column_values_to_be_unique":
        return f"{kw['column']} is unique"
    if t == "compound_columns_to_be_unique":
        return f"({', '.join(kw['column_list'])}) is unique"
    if t == "column_pair_values_a_to_be_greater_than_b":
        op = ">=" if kw.get("or_equal") else ">"
        return f"{kw['column_A']} {op} {kw['column_B']}"
    if t == "table_row_count_to_equal":
        return "no rows" if kw.get("value") == 0 else f"row count = {kw.get('value')}"
    if t == "column_sum_to_be_between":
        return f"sum({kw['column']}) <= {kw.get('max_value')}"
    return f"{t}({', '.join(f'{k}={v}' for k, v in kw.items())})"


def _show(value: object, limit: int = 40) -> str:
    text = "NULL" if value is None else str(value)
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sample_from_index_list(index_list: list[dict], columns: list[str]) -> list[str]:
    out = []
    for row in index_list or []:
        key = "|".join(_show(row.get(c)) for c in columns if c in row)
        if key and key not in out:
            out.append(key)
        if len(out) >= SAMPLE_SIZE:
            break
    return out


def _unexpected_rows_sample(engine, query: str, schema: str, table: str) -> list[str]:
    """First rows of an unexpected_rows_query (its leading columns are the sample columns)."""
    import sqlalchemy as sa

    sql = query.replace("{batch}", f'"{schema}"."{table}"')
    try:
        with engine.connect() as conn:  # a persisted connection: see aimetrics.gx_compat
            rows = conn.execute(sa.text(f"select * from ({sql}) as unexpected limit {SAMPLE_SIZE}")).fetchall()
    except sa.exc.SQLAlchemyError:
        return []
    return ["|".join(_show(v) for v in r) for r in rows]


def _landed_columns(engine, schema: str, table: str) -> dict[str, str] | None:
    """{lower-case column name: type name} of a table; None when it does not exist."""
    import sqlalchemy as sa

    inspector = sa.inspect(engine)
    if not inspector.has_table(table, schema=schema):
        return None
    return {c["name"].lower(): str(c["type"]).upper() for c in inspector.get_columns(table, schema=schema)}


def _columns_of(expectation: dict) -> list[str]:
    kw = expectation["kwargs"]
    return [c for c in (kw.get("column"), kw.get("column_A"), kw.get("column_B"), *kw.get("column_list", [])) if c]


_TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR")
_COMPARED = ("expect_column_values_to_be_between", "expect_column_pair_values_a_to_be_greater_than_b")


def _applicable(expectations: list[dict], landed: dict[str, str]) -> list[dict]:
    """The expectations that can run on the landed table.

    Dropped: an expectation on a column that is not there (``expect_column_to_exist``
    reports a missing required column; a missing optional column reads as null),
    and a range or order comparison on a column landed as text (staging parses it
    and quarantines what is not a valid value).
    """
    out = []
    for exp in expectations:
        cols = [c.lower() for c in _columns_of(exp)]
        if exp["type"] != "expect_column_to_exist" and any(c not in landed for c in cols):
            continue
        if exp["type"] in _COMPARED and any(landed[c].startswith(_TEXT_TYPES) for c in cols):
            continue
        out.append(exp)
    return out


def _exception_message(info: dict | None) -> str | None:
    """The first exception message of a GX result's exception_info (flat, or keyed by metric)."""
    if not info:
        return None
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for i in infos:
        if i.get("raised_exception"):
            return " ".join(str(i.get("exception_message")).split())[:200]
    return None


_EMPTY_TABLE_CHECKS = ("expect_table_row_count_to_equal", "expect_column_sum_to_be_between")


def _failures_of(result, suite: dict, engine) -> list[Failure]:
    """Failures of one GX suite validation result."""
    meta = suite["meta"]
    where = f"{meta['schema']}.{meta['table']}"
    out = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        severity = ERROR if str(getattr(config.severity, "value", config.severity)) == ERROR else WARN
        note = (config.meta or {}).get("on_failure", "")
        message = _exception_message(r.exception_info)
        if message:
            out.append(Failure(where, _label(config), ERROR, None, [], f"the check itself failed: {message}"))
            continue
        res = r.result or {}
        sample: list[str] = []
        if config.type == "unexpected_rows_expectation":
            rows = res.get("observed_value")
            sample = _unexpected_rows_sample(engine, config.kwargs["unexpected_rows_query"],
                                             meta["schema"], meta["table"])
        elif "unexpected_count" in res:
            rows = res["unexpected_count"]
            sample = _sample_from_index_list(res.get("partial_unexpected_index_list"), meta["sample_columns"])
        elif config.type in _EMPTY_TABLE_CHECKS:  # "this table should be empty": its rows are the offenders
            rows = res.get("observed_value")
            sample = _unexpected_rows_sample(engine, f"select {', '.join(meta['sample_columns'])} from {{batch}}",
                                             meta["schema"], meta["table"])
        else:
            rows = None
            if "observed_value" in res:
                note = f"observed {res['observed_value']}; {note}"
        out.append(Failure(where, _label(config), severity, rows, sample, note))
    return out


def _context(docs_dir: Path | None):
    """An ephemeral GX context (nothing persisted but the Data Docs), progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(site_name="aimetrics", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return context


def _validate_suite(context, url: str, suite_dict: dict, now: dt.datetime) -> tuple[list[Failure], int] | None:
    """Validate one suite on its table: (failures, expectations run); None for a missing optional table.

    Each table gets its own data source, so its own connection: on DuckDB a failed
    query aborts the connection's transaction, and must not fail other tables' checks.
    """
    import great_expectations as gx

    from aimetrics import gx_compat

    meta = suite_dict["meta"]
    where = f"{meta['schema']}.{meta['table']}"
    source = context.data_sources.add_sql(name=where, connection_string=url, kwargs={"connect_args": {"config": {
        # the same knobs as the dbt profile (profiles.yml), so a check uses no more memory than a build
        "memory_limit": os.environ.get("AIMETRICS_MEMORY_LIMIT", "4GB"),
        "threads": int(os.environ.get("AIMETRICS_THREADS", "4")),
    }}})
    engine = source.get_engine()
    try:
        landed = _landed_columns(engine, meta["schema"], meta["table"])
        if landed is None:
            if meta.get("optional"):
                return None
            fix = (f"load it with `aimetrics load {meta['table']} FILE...`" if meta["schema"] == "raw"
                   else "run dbt build first")
            return [Failure(where, "table exists", ERROR, None, [], f"{where} does not exist; {fix}")], 1
        meta = {**meta, "sample_columns": [c for c in meta["sample_columns"] if c.lower() in landed]}
        suite = context.suites.add(gx.ExpectationSuite(
            name=suite_dict["name"], expectations=_applicable(suite_dict["expectations"], landed), meta=meta))
        asset = gx_compat.add_table_asset(source, where, meta["table"], meta["schema"])
        definition = context.validation_definitions.add(gx.ValidationDefinition(
            name=where, data=asset.add_batch_definition_whole_table("all rows"), suite=suite))
        result = definition.run(
            expectation_parameters={FUTURE_LIMIT: now + FUTURE_TOLERANCE},
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20,
                           "unexpected_index_column_names": meta["sample_columns"]},
        )
        return _failures_of(result, {**suite_dict, "meta": meta}, engine), len(result.results)
    finally:
        gx_compat.close_connections(source)  # release the DuckDB file before dbt opens it for writing


def validate(db_path: Path | str, layer: str, docs_dir: Path | str | None = None,
             now: dt.datetime | None = None, on_table=None) -> Report:
    """Validate every suite of ``layer`` against the DuckDB file, in the database.

    docs_dir: where to write the GX Data Docs (None: none). now: the clock of the
    future-timestamp rule (default: the current UTC time). on_table: called with
    (tables done, tables) after each suite.
    """
    db_path = Path(db_path).resolve()
    if not db_path.exists():
        raise AimetricsError(f"DuckDB file {db_path} does not exist; load data first (aimetrics load)")
    suites = load_suites(layer)
    from aimetrics import gx_compat

    gx_compat.enable_duckdb_pushdown()
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    docs_dir = Path(docs_dir).resolve() if docs_dir is not None else None
    url = f"duckdb:///{db_path}?access_mode=read_only"
    failures: list[Failure] = []
    skipped: list[str] = []
    tables = n_expectations = 0
    try:
        context = _context(docs_dir)
        for i, suite_dict in enumerate(suites, 1):
            outcome = _validate_suite(context, url, suite_dict, now)
            if on_table is not None:
                on_table(i, len(suites))
            if outcome is None:
                skipped.append(suite_dict["name"])
                continue
            failures += outcome[0]
            n_expectations += outcome[1]
            tables += 1
        docs_index = None
        if docs_dir is not None and tables:
            context.build_data_docs(site_names=["aimetrics"])
            docs_index = docs_dir / "index.html"
    except AimetricsError:
        raise
    except Exception as exc:  # GX or the database failed, not a check: one line, no traceback
        message = " ".join(str(exc).split())[:300]
        raise AimetricsError(f"check {layer} could not run on {db_path}: {type(exc).__name__}: {message}") from exc
    failures.sort(key=lambda f: not f.blocking)
    report = Report(layer, failures, tables, n_expectations, docs_index, skipped)
    if docs_dir is not None:
        write_report_json(report, docs_dir / "failures.json")
    return report


def write_report_json(report: Report, path: Path) -> None:
    """Every failure of the report (the summary shows one screen of them), for scripts and CI."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "layer": report.layer, "tables": report.tables, "expectations": report.expectations,
        "blocked": report.blocked, "skipped": report.skipped,
        "failures": [{"table": f.table, "expectation": f.expectation,
                      "severity": "error" if f.blocking else "warn", "rows": f.rows,
                      "sample": f.sample, "note": f.note} for f in report.failures],
    }, indent=2, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------
# the one-screen summary


def _failure_line(f: Failure) -> str:
    line = f"  {'ERROR' if f.blocking else 'warn '} {f.table}: {f.expectation}"
    if f.rows is not None:
        line += f": {f.rows:,} row{'s' * (f.rows != 1)}"
    if f.sample:
        line += f" (e.g. {', '.join(f.sample)})"
    return line


def summary(report: Report, max_errors: int = 10, max_warnings: int = 8) -> str:
    """One screen: per failed expectation its table, rows failing and a sample of offending keys.

    Errors first, each with what it means; then warnings, one line each. The
    rest is counted and left to the Data Docs.
    """
    errors = [f for f in report.failures if f.blocking]
    warnings = [f for f in report.failures if not f.blocking]
    lines = [f"check {report.layer}: {report.tables} tables, {report.expectations} expectations: "
             f"{len(errors)} error{'s' * (len(errors) != 1)} (blocking), "
             f"{len(warnings)} warning{'s' * (len(warnings) != 1)}"]
    for f in errors[:max_errors]:
        lines.append(_failure_line(f))
        if f.note:
            lines.append(f"        {f.note}")
    for f in warnings[:max_warnings]:
        lines.append(_failure_line(f) + (f" -> {f.note}" if f.note else ""))
    hidden = max(0, len(errors) - max_errors) + max(0, len(warnings) - max_warnings)
    if hidden:
        lines.append(f"  ... and {hidden} more (see the Data Docs)")
    if report.skipped:
        lines.append(f"  not landed (optional, not checked): {', '.join(report.skipped)}")
    if report.docs_index is not None:
        lines.append(f"  Data Docs: {report.docs_index} (all failures: {report.docs_index.parent / 'failures.json'})")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# aimetrics run


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def parse_vars(text: str | None) -> dict | None:
    """dbt vars from YAML text, refused unless every value is data: a number, a boolean,
    a list of numbers, or a plain name (letters, digits, underscore).

    The project's SQL interpolates var values, so anything else (quotes,
    semicolons, parentheses, spaces) is refused here rather than reaching SQL.
    """
    if text is None:
        return None
    import yaml

    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AimetricsError(f"--vars is not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(values, dict):
        raise AimetricsError("--vars must be a YAML mapping, e.g. '{min_sample: 50}'")

    def is_number(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")

    for name, value in values.items():
        ok = (is_number(value) or isinstance(value, bool)
              or (isinstance(value, list) and all(is_number(v) for v in value))
              or (isinstance(value, str) and _NAME.fullmatch(value) is not None))
        if not (isinstance(name, str) and _NAME.fullmatch(name)) or not ok:
            raise AimetricsError(
                f"--vars {name}: {str(value)[:80]!r} is not a number, boolean, list of numbers or plain name; "
                "vars are data and never reach SQL as text")
    return values


def validate_with_progress(db_path: Path | str, layer: str, docs_dir: Path | str | None = None) -> Report:
    """:func:`validate`, with a progress bar of the tables on stderr (on a terminal)."""
    from aimetrics.progress import progress

    with progress(f"check {layer}", None) as bar:
        return validate(db_path, layer, docs_dir=docs_dir,
                        on_table=lambda done, total: bar.update(completed=done, total=total))


def run_pipeline(db_path: Path | str, docs_dir: Path | str = DEFAULT_DOCS_DIR,
                 target_path: Path | str | None = None, dbt_vars: str | None = None,
                 serving_path: Path | str | None = None) -> int:
    """check raw -> dbt build -> check marts -> publish; stop at the first blocking failure.

    Prints each stage's summary and, when it passes, where the results are;
    returns the exit code: 0 passed (warnings allowed), 1 blocked (a failed
    error-severity expectation, a failed dbt build or a failed publish). Data
    Docs go to docs_dir/raw and docs_dir/marts. dbt_vars: YAML text, checked by
    :func:`parse_vars` before anything runs. serving_path: the serving copy the
    marts are published to (default: :func:`aimetrics.publish.default_serving_path`).
    The CLI holds the build lock (:mod:`aimetrics.lock`) around this. Progress
    bars go to stderr, on a terminal only.
    """
    import time

    from aimetrics.dbt_runner import DbtError, run_dbt
    from aimetrics.progress import progress

    vars_ = parse_vars(dbt_vars)
    docs_dir = Path(docs_dir)
    raw = validate_with_progress(db_path, "raw", docs_dir=docs_dir / "raw")
    print(summary(raw))
    if raw.blocked:
        print("aimetrics run: blocked at check raw: nothing was built", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        with progress("dbt build (seeds, models, tests)", None) as bar:
            run_dbt(["build"], duckdb_path=db_path, target_path=target_path, dbt_vars=vars_,
                    on_node=lambda done, total: bar.update(completed=done, total=total))
    except DbtError as exc:
        print(str(exc))
        print("aimetrics run: blocked at dbt build: the failing nodes are listed above", file=sys.stderr)
        return 1
    print(f"dbt build passed in {time.perf_counter() - started:.0f}s")
    marts = validate_with_progress(db_path, "marts", docs_dir=docs_dir / "marts")
    print(summary(marts))
    if marts.blocked:
        print("aimetrics run: blocked at check marts: not published; readers keep the previous serving copy",
              file=sys.stderr)
        return 1
    from aimetrics.publish import default_serving_path, publish

    serving_path = Path(serving_path) if serving_path is not None else default_serving_path(db_path)
    print(f"publishing the marts to {serving_path}")
    try:
        counts = publish(db_path, serving_path)
    except AimetricsError as exc:
        print(f"aimetrics run: blocked at publish: {exc}", file=sys.stderr)
        return 1
    print(f"published {len(counts)} tables of schema marts to {serving_path} ({sum(counts.values())} rows)")
    n_warn = sum(1 for f in raw.failures + marts.failures if not f.blocking)
    print(f"aimetrics run: passed with {n_warn} warning{'s' * (n_warn != 1)}: marts and quarantine built in "
          f"{Path(db_path)}, published to {serving_path}; Data Docs {docs_dir / 'raw' / 'index.html'}, "
          f"{docs_dir / 'marts' / 'index.html'}")
    return 0


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if sys.argv[1:] != ["--write-raw-suites"]:
        sys.exit("usage: python -m aimetrics.checks --write-raw-suites")
    for p in write_raw_suites():
        print(f"wrote {p.relative_to(PROJECT_DIR)}")
