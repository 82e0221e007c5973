"""``aimetrics portability``: the compiled project transpiles to Snowflake,
BigQuery and Databricks with no untranslatable construct, and the checker
itself catches what sqlglot lets through silently."""

from __future__ import annotations

import pytest

from aimetrics import portability

LISTS = portability.load_function_lists()


def findings(sql: str, macros: set[str] = frozenset()) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in portability.check_model("m", sql, LISTS, set(macros)):
        out.setdefault(f.target, []).append(f"{f.kind}: {f.detail}")
    return out


def test_function_lists_name_their_source():
    import yaml

    data = yaml.safe_load(portability.FUNCTIONS_FILE.read_text())
    for target in portability.TARGETS:
        assert data["targets"][target]["source"].startswith("https://")
        assert len(LISTS[target]["functions"]) > 50


@pytest.mark.parametrize("fn, target", [("lgamma(x)", "bigquery"), ("date_part('year', t)", "bigquery"),
                                        ("epoch_us(t)", "snowflake"), ("epoch_us(t)", "databricks")])
def test_passthrough_functions_are_caught(fn, target):
    """sqlglot passes these through unchanged, without a warning; the function lists catch them."""
    got = findings(f"select {fn} from t")
    assert any(line.startswith("undocumented") for line in got.get(target, [])), got


def test_semantics_changing_rewrites_are_flagged():
    got = findings("select quantile_cont(x, 0.5), hash(y) from t group by z")
    assert any("PERCENTILE_CONT" in line and line.startswith("approximate") for line in got["bigquery"])
    assert any("PERCENTILE_CONT" in line for line in got["databricks"])
    assert any("HASH" in line for line in got["snowflake"])
    assert any("HASH" in line for line in got["databricks"])


def test_dispatched_variant_covers_a_finding_only_when_it_exists():
    sql = "select quantile_cont(x, 0.5) from t"
    assert "bigquery" in findings(sql)
    covered = findings(sql, {"bigquery__percentile_cont", "databricks__percentile_cont"})
    assert all(line.startswith("covered") for lines in covered.values() for line in lines), covered


def test_portable_sql_has_no_findings():
    assert findings("select a, count(*), sum(b), coalesce(c, 0) from t group by a") == {}


def test_project_transpiles_with_no_untranslatable_construct(tmp_path):
    """CI fails here on a new unsupported construct: fix it with a dispatched
    macro variant (macros/cross_db.sql), or, after checking the vendor's
    reference, extend aimetrics/portability_functions.yml."""
    report = portability.check_project(workdir=tmp_path)
    assert report.models > 20
    assert report.ok, portability.format_report(report)


def test_variant_sql_is_checked_in_its_own_dialect():
    assert portability.check_variant("v", "percentile(a, 0.5)", "databricks", LISTS) == []
    got = portability.check_variant("v", "percentile_approx(a, 0.5)", "databricks", LISTS)
    assert [f.kind for f in got] == ["approximate"]
    got = portability.check_variant("v", "lgamma(a)", "bigquery", LISTS)
    assert [f.kind for f in got] == ["undocumented"]


def test_models_hold_no_engine_specific_sql():
    """Engine-specific SQL lives in dispatched macros (macros/cross_db.sql);
    models call those. A DuckDB-only (or Postgres-only) construct in a model
    fails here even when the DuckDB build passes."""
    import re

    from aimetrics import PROJECT_DIR

    forbidden = re.compile(
        r"::|\b(try_cast|safe_cast|epoch_us|epoch_ms|quantile_cont|quantile_disc|median|regexp_full_match|"
        r"regexp_matches|strftime|strptime|date_part|datepart|lgamma|hash|list_\w+|array_\w+|struct_pack|"
        r"timezone|make_date|make_timestamp|date_diff|datediff|date_add|dateadd|percentile_cont|"
        r"percentile_approx|approx_quantile|regr_slope|arg_max|arg_min|any_value|string_agg|group_concat|"
        r"ifnull|iff|nvl)\s*\(|\binterval\s+'|\b(double|hugeint|varchar|float64|int64)\b",
        re.IGNORECASE)
    problems = []
    for path in sorted((PROJECT_DIR / "models").rglob("*.sql")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", text, flags=re.S)  # macro calls are the portable way
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("--")[0]
            m = forbidden.search(code)
            if m:
                problems.append(f"{path.relative_to(PROJECT_DIR)}:{n}: {m.group(0)!r} in {line.strip()[:100]}")
    assert not problems, "engine-specific SQL in models (move it into a dispatched macro):\n" + "\n".join(problems)
