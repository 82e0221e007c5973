"""The interval macros (Wilson, Newcombe) against statsmodels.

The macros are compiled by dbt (`dbt compile --inline`) and evaluated in
DuckDB over a grid of counts, including 0 and n successes and n = 0; the
expected values come from statsmodels, an implementation that shares no code
with ours.
"""

from __future__ import annotations

import json
import math

import duckdb
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from aimetrics.dbt_runner import run_dbt

Z = 1.959963984540054  # the spec's z; statsmodels uses norm.ppf(0.975), the same double


def compile_inline(sql: str, tmp_path) -> str:
    proc = run_dbt(
        ["compile", "--inline", sql, "--output", "json", "--quiet"],
        duckdb_path=tmp_path / "compile.duckdb", target_path=tmp_path / "target",
    )
    return json.loads(proc.stdout)["compiled"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("intervals")
    wilson = compile_inline(
        "select x, n, {{ aimetrics.wilson_low('x', 'n') }} as lo, {{ aimetrics.wilson_high('x', 'n') }} as hi from grid",
        tmp,
    )
    newcombe = compile_inline(
        "select x1, n1, x2, n2,"
        " {{ aimetrics.newcombe_low('x1', 'n1', 'x2', 'n2', scale=100) }} as lo,"
        " {{ aimetrics.newcombe_high('x1', 'n1', 'x2', 'n2', scale=100) }} as hi from pairs",
        tmp,
    )
    return wilson, newcombe


def test_statsmodels_uses_the_spec_z():
    from scipy.stats import norm

    assert norm.ppf(0.975) == Z


def test_wilson_matches_statsmodels_on_a_grid(compiled):
    wilson_sql, _ = compiled
    con = duckdb.connect()
    con.execute("create table grid as select x, n from range(0, 61) t(n), range(0, 61) s(x) where x <= n")
    con.execute("insert into grid values (0, 1000), (1, 1000), (999, 1000), (1000, 1000), (3, 100000)")
    rows = con.execute(wilson_sql).fetchall()
    assert len(rows) == 61 * 62 // 2 + 5
    for x, n, lo, hi in rows:
        if n == 0:
            assert lo is None and hi is None
            continue
        exp_lo, exp_hi = proportion_confint(x, n, alpha=0.05, method="wilson")
        # statsmodels' own rounding at the extremes is ~1e-17; ours is exact there
        assert lo == pytest.approx(exp_lo, abs=1e-12), (x, n)
        assert hi == pytest.approx(exp_hi, abs=1e-12), (x, n)
        assert 0.0 <= lo <= x / n <= hi <= 1.0, (x, n, lo, hi)
        if x == 0:
            assert lo == 0.0
        if x == n:
            assert hi == 1.0


def test_newcombe_matches_statsmodels(compiled):
    _, newcombe_sql = compiled
    con = duckdb.connect()
    pairs = [
        (56, 70, 48, 80), (9, 10, 3, 10), (6, 7, 2, 7), (5, 56, 0, 29), (0, 10, 0, 20),
        (10, 10, 0, 10), (1, 2, 1, 2), (30, 40, 10, 50), (0, 0, 3, 9), (3, 9, 0, 0),
        (120, 400, 95, 410), (1, 1, 0, 1),
    ]
    con.execute("create table pairs (x1 int, n1 int, x2 int, n2 int)")
    con.executemany("insert into pairs values (?, ?, ?, ?)", pairs)
    rows = con.execute(newcombe_sql).fetchall()
    assert len(rows) == len(pairs)
    for x1, n1, x2, n2, lo, hi in rows:
        if n1 == 0 or n2 == 0:
            assert lo is None and hi is None
            continue
        exp_lo, exp_hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        assert lo == pytest.approx(100 * exp_lo, abs=1e-9), (x1, n1, x2, n2)
        assert hi == pytest.approx(100 * exp_hi, abs=1e-9), (x1, n1, x2, n2)
        d = 100 * (x1 / n1 - x2 / n2)
        assert lo <= d + 1e-12 and d - 1e-12 <= hi


def test_newcombe_published_example():
    """Newcombe (1998), Table II, method 10: 56/70 vs 48/80 -> (0.0524, 0.3339)."""
    lo, hi = confint_proportions_2indep(56, 70, 48, 80, method="newcomb", compare="diff")
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    assert math.isfinite(lo)
