"""The dbt marts must agree with the independent Python reference.

For each seed and landing style: generate a small messy raw dataset, land it
in a fresh DuckDB file, run ``dbt build``, read ``marts.metrics_daily`` and
``marts.retention_weekly``, read the raw tables back from the same file, feed
them to ``reference.spec_reference.compute`` and compare every cell.

Counts must be equal; floats within 1e-9 absolute (cost columns: 1e-9
absolute or 1e-9 relative); None only matches None. Columns the SQL adds
beyond the spec's list are ignored.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from aimetrics.dbt_runner import run_dbt
from reference.messy_data import TABLES, generate, land
from reference.spec_reference import METRICS_DAILY_COLUMNS, RETENTION_WEEKLY_COLUMNS, compute

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

MARTS = {
    "metrics_daily": (("metric_date", "feature", "model"), METRICS_DAILY_COLUMNS),
    "retention_weekly": (("cohort_week", "feature"), RETENTION_WEEKLY_COLUMNS),
}
COUNT_COLUMNS = {
    "queries", "outputs", "tasks", "tasks_mature", "tasks_completed", "reviewed_outputs",
    "hallucinated_outputs", "tta_tasks", "interventions", "valid_outputs", "accepted_outputs",
    "ai_users", "ai_users_retained", "non_ai_users", "non_ai_users_retained",
    "treatment_users", "treatment_retained", "holdout_users", "holdout_retained",
}
COST_COLUMNS = {"total_cost_usd", "cpvo"}
MAX_DIFFS = 30


def fetch(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def key_value(v):
    # a DATE column read back as a midnight TIMESTAMP still names the same day
    if isinstance(v, dt.datetime) and v.time() == dt.time(0) and v.tzinfo is None:
        return v.date()
    return v


def same(column: str, sql_value, ref_value) -> bool:
    if sql_value is None or ref_value is None:
        return sql_value is None and ref_value is None
    if column in COUNT_COLUMNS:
        return isinstance(sql_value, (int, Decimal)) and not isinstance(sql_value, bool) and sql_value == ref_value
    if isinstance(ref_value, (dt.date, str)):
        return key_value(sql_value) == ref_value
    a, b = float(sql_value), float(ref_value)
    if math.isnan(a) or math.isnan(b):
        return False
    if column in COST_COLUMNS:
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return abs(a - b) <= 1e-9


def compare_mart(name: str, sql_rows: list[dict], ref_rows: list[dict]) -> list[str]:
    key_cols, columns = MARTS[name]
    problems = []
    if sql_rows:
        missing_cols = [c for c in columns if c not in sql_rows[0]]
        if missing_cols:
            return [f"{name}: SQL mart lacks columns {missing_cols}"]

    def index(rows, label):
        out = {}
        for r in rows:
            k = tuple(key_value(r[c]) for c in key_cols)
            if k in out:
                problems.append(f"{name}: duplicate key {k} in {label}")
            out[k] = r
        return out

    sql_by_key, ref_by_key = index(sql_rows, "SQL"), index(ref_rows, "reference")
    for k in sorted(set(ref_by_key) - set(sql_by_key), key=repr):
        problems.append(f"{name}: key {k} only in the reference")
    for k in sorted(set(sql_by_key) - set(ref_by_key), key=repr):
        problems.append(f"{name}: key {k} only in SQL")
    for k in sorted(set(sql_by_key) & set(ref_by_key), key=repr):
        s, r = sql_by_key[k], ref_by_key[k]
        for c in columns:
            if c in key_cols:
                continue
            if not same(c, s[c], r[c]):
                problems.append(f"{name}: key {k} column {c}: sql={s[c]!r} reference={r[c]!r}")
    return problems


@pytest.mark.parametrize("style", ["text", "typed"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_marts_agree_with_reference(tmp_path, seed, style):
    db = tmp_path / f"agreement_{seed}_{style}.duckdb"
    con = duckdb.connect(str(db))
    try:
        land(con, generate(seed), style)
    finally:
        con.close()

    run_dbt(["build"], duckdb_path=db, target_path=tmp_path / "target")

    con = duckdb.connect(str(db), read_only=True)
    try:
        sql = {name: fetch(con, f"select * from marts.{name}") for name in MARTS}
        raw = {t: fetch(con, f"select * from raw.{t}") for t in TABLES}
    finally:
        con.close()

    ref = compute(raw, SEEDS)
    assert ref["metrics_daily"], "the reference produced no rows: the generator is broken"

    problems = []
    for name in MARTS:
        problems += compare_mart(name, sql[name], ref[name])
    if problems:
        shown = "\n".join(problems[:MAX_DIFFS])
        more = f"\n... and {len(problems) - MAX_DIFFS} more" if len(problems) > MAX_DIFFS else ""
        pytest.fail(f"seed={seed} style={style}: {len(problems)} differences (SQL vs reference)\n{shown}{more}")
