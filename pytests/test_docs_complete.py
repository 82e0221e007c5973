"""Documentation and grain-test completeness of the dbt project.

Runs ``dbt parse`` on the project (profile from the project directory, target
path in a temporary directory, so the working ``target/`` is untouched) and
checks ``manifest.json``:

* every model and seed has a description, and every column listed in its yml
  has a non-empty description (``{{ doc(...) }}`` blocks are already rendered
  in the manifest);
* every model has its grain test: ``unique`` + ``not_null`` on a single key,
  ``unique_combination_of_columns`` on a composite one (``GRAINS``); a model
  with no unique grain (``NO_UNIQUE_GRAIN``) has the tests that stand in for it;
  a model in neither list must still carry some unfiltered grain test;
* every macro of the project (except dispatched adapter variants such as
  ``default__x`` / ``duckdb__x``, ``generate_schema_name`` and generic tests)
  has a description, and its documented arguments are exactly the macro's
  signature, in order, each with a type and a description;
* the parse emits no warning (unused or misplaced yml config, patches for
  missing nodes, deprecations).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2
import jinja2.nodes
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE = "aimetrics"

#: The grain of each model (its unique key), as the model yml must test it.
GRAINS: dict[str, list[str]] = {
    "stg_raw__interactions": ["interaction_id"],
    "stg_raw__user_events": ["event_id"],
    "stg_raw__output_reviews": ["review_id"],
    "stg_raw__eval_results": ["eval_run_id", "case_id", "sample_index"],
    "stg_raw__users": ["user_id"],
    "stg_seeds__event_roles": ["event_type"],
    "stg_seeds__model_pricing": ["model", "effective_from"],
    "stg_seeds__metric_thresholds": ["metric"],
    "stg_seeds__severity_weights": ["severity"],
    "int_users": ["user_id"],
    "int_interactions": ["interaction_id"],
    "int_tasks": ["task_id"],
    "int_events": ["event_id"],
    "int_review_verdicts": ["interaction_id", "dimension"],
    "int_user_activity_days": ["user_id", "activity_date"],
    "int_infra_costs_allocated": ["cost_date", "feature", "model"],
    "fct_interactions": ["interaction_id"],
    "fct_tasks": ["task_id"],
    "dim_users": ["user_id"],
    "metrics_daily": ["metric_date", "feature", "model"],
    "retention_weekly": ["cohort_week", "feature"],
    "scorecard": ["week", "feature", "model"],
    "dim_time_spine_daily": ["date_day"],
    "coverage_unallocated_infra_costs": ["cost_date", "feature", "model", "cost_kind"],
    "coverage_unmapped_event_types": ["event_type"],
    "coverage_unpriced_queries": ["model", "requested_date"],
}

#: Models without a unique grain, and the columns that must be tested not_null
#: instead (an empty list: at least one data test of any kind).
NO_UNIQUE_GRAIN: dict[str, list[str]] = {
    # raw.infra_costs has no key: two identical rows are two costs
    "stg_raw__infra_costs": ["cost_date", "cost_kind", "cost_usd"],
    # one row per touched date plus one null-date row carrying loaded_through (tested unique)
    "int_incremental_scope": [],
}
#: Name patterns of models without a unique grain: base_raw__* hold every raw
#: row (duplicates included); quarantine_raw__* may hold several rows with a
#: null key part.
NO_UNIQUE_GRAIN_PATTERNS = [re.compile(r"^base_raw__"), re.compile(r"^quarantine_raw__")]

#: Dispatched adapter variants (documented under their public macro).
VARIANT = re.compile(
    r"^(default|duckdb|postgres|redshift|snowflake|bigquery|databricks|spark|trino|sqlserver|fabric|athena)__"
)
UNDOCUMENTED_MACROS = {"generate_schema_name"}

@pytest.fixture(scope="module")
def parse_run(dbt_parse_run) -> tuple[dict, str]:
    """``dbt parse`` of the project, shared with other test modules (pytests/conftest.py)."""
    return dbt_parse_run


@pytest.fixture(scope="module")
def manifest(parse_run) -> dict:
    return parse_run[0]


def _project_nodes(manifest: dict, resource_type: str) -> list[dict]:
    return sorted(
        (n for n in manifest["nodes"].values()
         if n["resource_type"] == resource_type and n["package_name"] == PACKAGE),
        key=lambda n: n["name"],
    )


def _blank(text) -> bool:
    return not (text or "").strip()


def test_parse_has_no_warnings(parse_run):
    _, output = parse_run
    warnings = [line for line in output.splitlines() if "WARNING" in line or "Deprecat" in line]
    assert not warnings, "dbt parse warned:\n" + "\n".join(warnings)


@pytest.mark.parametrize("resource_type", ["model", "seed"])
def test_every_node_has_a_description(manifest, resource_type):
    nodes = _project_nodes(manifest, resource_type)
    assert nodes, f"no {resource_type} in the manifest"
    missing = [n["name"] for n in nodes if _blank(n["description"])]
    assert not missing, f"{resource_type}s without a description: {missing}"


@pytest.mark.parametrize("resource_type", ["model", "seed"])
def test_every_listed_column_has_a_description(manifest, resource_type):
    problems = []
    for node in _project_nodes(manifest, resource_type):
        if not node["columns"]:
            problems.append(f"{node['name']}: no column documented")
        for column in node["columns"].values():
            if _blank(column["description"]):
                problems.append(f"{node['name']}.{column['name']}")
    assert not problems, "undocumented columns:\n" + "\n".join(problems)


def _tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    """Generic data tests per attached model unique_id: name, column, kwargs, where."""
    out: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        meta = node.get("test_metadata") or {}
        attached = node.get("attached_node")
        if not attached:
            continue
        out.setdefault(attached, []).append({
            "name": meta.get("name"),  # None for a singular test
            "column": node.get("column_name"),
            "kwargs": meta.get("kwargs") or {},
            "where": (node.get("config") or {}).get("where"),
        })
    return out


def _has_test(tests: list[dict], name: str, column: str | None = None, combination=None) -> bool:
    for t in tests:
        if t["name"] != name or t["where"]:
            continue
        if column is not None and t["column"] != column:
            continue
        if combination is not None and list(t["kwargs"].get("combination_of_columns") or []) != combination:
            continue
        return True
    return False


def test_every_model_has_its_grain_test(manifest):
    tests = _tests_by_model(manifest)
    models = _project_nodes(manifest, "model")
    names = {m["name"] for m in models}
    problems = []
    stale = sorted(set(GRAINS) - names)
    if stale:
        problems.append(f"GRAINS names models that do not exist: {stale}")
    for m in models:
        name, attached = m["name"], tests.get(m["unique_id"], [])
        if name in GRAINS:
            key = GRAINS[name]
            if len(key) == 1:
                for test_name in ("unique", "not_null"):
                    if not _has_test(attached, test_name, column=key[0]):
                        problems.append(f"{name}: no unfiltered {test_name} test on {key[0]}")
            elif not _has_test(attached, "unique_combination_of_columns", combination=key):
                problems.append(f"{name}: no unfiltered unique_combination_of_columns test on {key}")
        elif name in NO_UNIQUE_GRAIN:
            for column in NO_UNIQUE_GRAIN[name]:
                if not _has_test(attached, "not_null", column=column):
                    problems.append(f"{name}: no not_null test on required column {column}")
        elif any(p.search(name) for p in NO_UNIQUE_GRAIN_PATTERNS):
            if not attached:
                problems.append(f"{name}: no data test at all")
        elif not (any(t["name"] == "unique" and not t["where"] for t in attached)
                  or _has_test(attached, "unique_combination_of_columns")):
            problems.append(
                f"{name}: no grain test (unique + not_null on its key, or "
                f"unique_combination_of_columns); add it to its yml and to GRAINS here")
    assert not problems, "\n".join(problems)


def _signature(macro: dict) -> list[str]:
    """Argument names of the macro, from its Jinja definition."""
    env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    tree = env.parse(macro["macro_sql"])
    for node in tree.find_all(jinja2.nodes.Macro):
        if node.name == macro["name"]:
            return [arg.name for arg in node.args]
    raise AssertionError(f"cannot find the definition of macro {macro['name']}")


def _documented_macros(manifest: dict) -> list[dict]:
    return sorted(
        (m for m in manifest["macros"].values()
         if m["package_name"] == PACKAGE
         and not VARIANT.match(m["name"])
         and not m["name"].startswith("test_")
         and m["name"] not in UNDOCUMENTED_MACROS),
        key=lambda m: m["name"],
    )


def test_every_macro_is_documented(manifest):
    macros = _documented_macros(manifest)
    assert macros, "no project macro found"
    problems = []
    for macro in macros:
        name = macro["name"]
        if _blank(macro["description"]):
            problems.append(f"{name}: no description")
        signature = _signature(macro)
        documented = [a["name"] for a in macro["arguments"]]
        if documented != signature:
            problems.append(f"{name}: documented arguments {documented} != signature {signature}")
        for arg in macro["arguments"]:
            if _blank(arg.get("description")):
                problems.append(f"{name}({arg['name']}): no description")
            if _blank(arg.get("type")):
                problems.append(f"{name}({arg['name']}): no type")
    assert not problems, "\n".join(problems)
