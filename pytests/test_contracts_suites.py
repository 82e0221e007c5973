"""The GX suites in contracts/ and the check summary, without a dbt build.

* the raw suites are what the raw contract (models/staging/_raw__sources.yml) generates;
* every suite loads as a GX ExpectationSuite, every expectation has a severity, and the
  marts suites name columns their model documents;
* ``aimetrics check raw`` on a small warehouse: exact failures, severities, samples,
  one-screen summary, Data Docs and failures.json written;
* ``--vars`` accepts data and refuses anything else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aimetrics import PROJECT_DIR
from aimetrics.checks import (CONTRACTS_DIR, ERROR, WARN, Failure, Report, load_suites, parse_vars, raw_suite,
                              summary, validate)
from aimetrics.contract import raw_contract
from aimetrics.errors import AimetricsError
from aimetrics.load import load_files


@pytest.mark.parametrize("table", sorted(raw_contract()))
def test_raw_suite_files_are_generated_from_the_raw_contract(table):
    committed = json.loads((CONTRACTS_DIR / "raw" / f"{table}.json").read_text())
    assert committed == raw_suite(raw_contract()[table]), (
        f"contracts/raw/{table}.json is stale: run `python -m aimetrics.checks --write-raw-suites`")


def test_raw_suites_cover_every_contract_rule():
    for table in raw_contract().values():
        exps = raw_suite(table)["expectations"]
        kinds = {(e["type"], e["kwargs"].get("column")) for e in exps}
        for c in table.columns:
            if c.required:
                assert ("expect_column_to_exist", c.name) in kinds
                assert ("expect_column_values_to_not_be_null", c.name) in kinds
            if c.min is not None or c.max is not None:
                assert ("expect_column_values_to_be_between", c.name) in kinds
            if c.enum:
                assert any(e["type"] == "unexpected_rows_expectation" and f"{c.name} is one of" in e["description"]
                           for e in exps)
            if c.data_type in ("timestamp", "date"):
                assert any(e["kwargs"].get("max_value") == {"$PARAMETER": "future_limit"}
                           and e["kwargs"]["column"] == c.name and e["severity"] == ERROR for e in exps)


def _documented_columns() -> dict[str, set[str]]:
    out = {}
    for path in [*(PROJECT_DIR / "models" / "marts").rglob("_*.yml"), PROJECT_DIR / "models/quarantine/_quarantine.yml"]:
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            out[model["name"]] = {c["name"] for c in model.get("columns", [])}
    return out


@pytest.mark.parametrize("layer", ["raw", "marts"])
def test_every_suite_loads_in_gx_with_severities_and_known_columns(layer):
    import great_expectations as gx

    documented = _documented_columns()
    for suite in load_suites(layer):
        gx.ExpectationSuite(name=suite["name"], expectations=suite["expectations"])
        meta = suite["meta"]
        assert suite["name"] == f"{meta['schema']}.{meta['table']}" and meta["sample_columns"]
        for e in suite["expectations"]:
            assert e["severity"] in (ERROR, WARN), (suite["name"], e)
            assert e["meta"]["on_failure"], (suite["name"], e)
            if layer == "marts":
                kw = e["kwargs"]
                cols = [c for c in (kw.get("column"), kw.get("column_A"), kw.get("column_B"),
                                    *kw.get("column_list", [])) if c]
                assert set(cols) <= documented[meta["table"]], (suite["name"], cols)


def test_public_marts_each_have_a_suite():
    names = {s["meta"]["table"] for s in load_suites("marts")}
    assert {"fct_interactions", "fct_tasks", "dim_users", "metrics_daily", "retention_weekly", "scorecard",
            "quarantine_summary"} <= names


# ----------------------------------------------------------------------------
# check raw on a small warehouse (no dbt)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """`aimetrics check raw` on a small warehouse, in a child process (see test_contracts_gx_compat)."""
    tmp = tmp_path_factory.mktemp("check_raw")
    db = tmp / "w.duckdb"
    calls = tmp / "calls.csv"
    calls.write_text(
        "interaction_id,task_id,user_id,feature,model,requested_at,responded_at,status,confidence\n"
        "i1,t1,u1,f,m,2026-06-01T10:00:00Z,2026-06-01T10:00:01Z, OK ,0.5\n"
        "i2,t2,u1,f,m,2026-06-01T10:00:00Z,,Exploded,1.5\n"
        "i3,,u1,f,m,2099-01-01T00:00:00Z,,ok,\n")
    events = tmp / "events.csv"
    events.write_text("event_id,user_id,occurred_at,event_type,interaction_id\ne1,u1,2026-06-01T10:00:05Z,x,i9\n")
    load_files(db, "interactions", [calls])
    load_files(db, "user_events", [events])
    result = subprocess.run([sys.executable, "-m", "aimetrics.cli", "--db", str(db), "check", "raw",
                             "--docs-dir", str(tmp / "docs")], capture_output=True, text=True, timeout=300)
    return result, json.loads((tmp / "docs" / "raw" / "failures.json").read_text()), tmp


def test_check_raw_reports_exact_failures_severities_and_samples(small):
    result, report, _ = small
    got = {f"{f['table']}: {f['expectation']}": (f["severity"], f["rows"], f["sample"]) for f in report["failures"]}
    assert got == {
        "raw.interactions: requested_at is not more than 1 day in the future": ("error", 1, ["i3"]),
        "raw.interactions: task_id is not null": ("warn", 1, ["i3"]),
        "raw.interactions: status is one of ok, error, timeout, refused, filtered (trimmed, case-insensitive)":
            ("warn", 1, ["i2|Exploded"]),
        "raw.interactions: confidence in [0, 1]": ("warn", 1, ["i2"]),
        "raw.user_events: interaction_id refers to a row of raw.interactions": ("warn", 1, ["e1|i9"]),
    }
    assert report["blocked"] and report["tables"] == 2
    assert sorted(report["skipped"]) == ["raw.eval_results", "raw.infra_costs", "raw.output_reviews", "raw.users"]
    assert result.returncode == 1 and "Traceback" not in result.stderr and "nanobind" not in result.stderr
    assert result.stderr.strip() == "aimetrics check raw: blocked by failed error-severity expectations (above)"


def test_check_raw_writes_data_docs(small):
    _, _, tmp = small
    assert (tmp / "docs" / "raw" / "index.html").exists()
    assert list((tmp / "docs" / "raw" / "validations").rglob("*.html"))


def test_summary_is_one_screen_errors_first(small):
    result, report, _ = small
    lines = result.stdout.splitlines()
    assert lines[0] == (f"check raw: 2 tables, {report['expectations']} expectations: "
                        "1 error (blocking), 4 warnings")
    assert lines[1] == "  ERROR raw.interactions: requested_at is not more than 1 day in the future: 1 row (e.g. i3)"
    assert lines[2].startswith("        blocks: a timestamp more than a day in the future")
    assert lines[3].startswith("  warn  raw.interactions: task_id is not null: 1 row (e.g. i3) -> ")
    many = Report("raw", [Failure("raw.t", f"rule {i}", WARN, i, ["k"]) for i in range(50)], 1, 50, None)
    text = summary(many)
    assert len(text.splitlines()) <= 12 and "... and 42 more (see the Data Docs)" in text


def test_long_and_unprintable_keys_are_shortened_in_the_sample():
    from aimetrics.checks import _show

    assert len(_show("x" * 5000)) == 40
    assert _show("a\nb") == "a\\nb"
    assert _show(None) == "NULL"


@pytest.mark.parametrize("text,expected", [
    (None, None),
    ("{min_sample: 50}", {"min_sample": 50}),
    ("{substantive_edit_ratio: 0.2, raw_schema: landing_zone, pass_at_k_values: [1, 3]}",
     {"substantive_edit_ratio": 0.2, "raw_schema": "landing_zone", "pass_at_k_values": [1, 3]}),
])
def test_vars_that_are_data_are_accepted(text, expected):
    assert parse_vars(text) == expected


@pytest.mark.parametrize("text", [
    '{min_sample: "30) or (1=1"}', "{raw_schema: 'raw; drop table raw.interactions'}", "{x: .nan}",
    "{task_maturity_hours: '24 + 0'}", "[1, 2]", "{a: {b: 1}}", "{'bad name': 1}", "{a: [1, 'x']}",
])
def test_vars_that_could_be_sql_are_refused(text):
    with pytest.raises(AimetricsError):
        parse_vars(text)


def test_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(AimetricsError, match="does not exist"):
        validate(tmp_path / "nope.duckdb", "raw")


def test_unknown_layer_is_a_clear_error():
    with pytest.raises(AimetricsError, match="unknown check layer"):
        load_suites("staging")


def test_suites_folder_is_documented():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "## Data contracts" in readme and "contracts/raw/" in readme and "contracts/marts/" in readme
    assert Path(CONTRACTS_DIR / "raw").is_dir() and Path(CONTRACTS_DIR / "marts").is_dir()
