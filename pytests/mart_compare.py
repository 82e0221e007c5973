"""Every public mart of one warehouse's build equal to the DuckDB build of the same data.

Shared by the Postgres and Spark comparisons (pytests/test_postgres.py,
pytests/test_spark.py): rows are matched on each mart's key; counts must be
exact, floats equal within 1e-9 (relative above 1), nulls where nulls are.
A reader is ``mart name -> (column names, rows)``.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Callable

import duckdb
import pytest

#: the headline public marts and their keys (rows are matched on the key)
HEADLINE_MARTS = {
    "metrics_daily": ("metric_date", "feature", "model"),
    "retention_weekly": ("cohort_week", "feature"),
    "scorecard": ("week", "feature", "model"),
    "fct_interactions": ("interaction_id",),
    "fct_tasks": ("task_id",),
    "dim_users": ("user_id",),
}
#: the metric catalogue's marts (models/marts/catalogue) and their grains
CATALOGUE_MARTS = {
    "eval_pass_at_k": ("eval_run_id", "k"),
    "eval_release_gate": ("suite", "model_version"),
    "calibration_reliability": ("week", "feature", "model", "bin"),
    "calibration_weekly": ("week", "feature", "model"),
    "judge_agreement": ("week", "dimension"),
    "trust_calibration_weekly": ("week", "feature", "model"),
    "drift_weekly": ("week", "feature", "model", "model_version"),
    "guardrails_weekly": ("week", "feature"),
    "telemetry_health_daily": ("metric_date",),
    "adoption": ("period", "period_start"),
    "experiment_readout": ("experiment_id", "variant"),
    "supporting_metrics_daily": ("metric_date", "feature", "model"),
}
#: every public mart (access: public, enforced contract)
MARTS = {**HEADLINE_MARTS, **CATALOGUE_MARTS}
TOLERANCE = 1e-9
#: the Python UDF text checks (python_udfs/) exist in DuckDB only and are off
#: by default elsewhere; both builds run without them so they compute the same thing
SAME_FEATURES = {"python_udfs_enabled": False}

Reader = Callable[[str], tuple[list[str], list[tuple]]]


def norm(v):
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v


def same(a, b) -> bool:
    a, b = norm(a), norm(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, (str, dt.date)) or isinstance(b, (str, dt.date)):
        return a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def land_messy(path: Path, style: str) -> Path:
    """The messy reference data (pytests/reference/messy_data.py) landed as ``style`` in a new DuckDB file."""
    from reference.messy_data import generate, land

    con = duckdb.connect(str(path))
    try:
        land(con, generate(1), style)
    finally:
        con.close()
    return path


def duckdb_reader(path: Path) -> Reader:
    """Marts of a DuckDB build (schema marts)."""
    def read(mart: str):
        con = duckdb.connect(str(path), read_only=True)
        try:
            cur = con.execute(f"select * from marts.{mart}")
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()
    return read


def compare_marts(reference: Reader, other: Reader, other_name: str) -> tuple[list[str], list[str]]:
    """(differences, marts empty on DuckDB) over every public mart."""
    problems, empty = [], []
    for mart, key in MARTS.items():
        d_cols, d_rows = reference(mart)
        o_cols, o_rows = other(mart)
        if sorted(d_cols) != sorted(o_cols):
            problems.append(f"{mart}: columns differ: duckdb {d_cols} {other_name} {o_cols}")
            continue
        if d_cols != o_cols:  # Spark puts a table's partition column last: match columns by name
            order = [o_cols.index(c) for c in d_cols]
            o_rows = [tuple(r[i] for i in order) for r in o_rows]
        if not d_rows:
            empty.append(mart)
        if len(d_rows) != len(o_rows):
            problems.append(f"{mart}: {len(d_rows)} rows on DuckDB, {len(o_rows)} on {other_name}")
        idx = [d_cols.index(k) for k in key]
        d_by = {tuple(norm(r[i]) for i in idx): r for r in d_rows}
        o_by = {tuple(norm(r[i]) for i in idx): r for r in o_rows}
        for k in sorted(set(d_by) ^ set(o_by), key=repr)[:10]:
            problems.append(f"{mart}: key {k} only on {'DuckDB' if k in d_by else other_name}")
        for k in sorted(set(d_by) & set(o_by), key=repr):
            for c, a, b in zip(d_cols, d_by[k], o_by[k]):
                if not same(a, b):
                    problems.append(f"{mart}: key {k} column {c}: duckdb={a!r} {other_name}={b!r}")
    return problems, empty


def assert_equal_marts(reference: Reader, other: Reader, other_name: str, label: str,
                       may_be_empty: frozenset[str] = frozenset()) -> None:
    """Fail on any difference, and on an empty mart not in may_be_empty (its
    comparison would prove nothing)."""
    problems, empty = compare_marts(reference, other, other_name)
    if problems:
        shown = "\n".join(problems[:30])
        pytest.fail(f"{label}: {len(problems)} differences between DuckDB and {other_name}\n{shown}")
    unexpected = sorted(set(empty) - may_be_empty)
    assert not unexpected, f"{label}: marts empty on DuckDB, so their comparison proves nothing: {unexpected}"
