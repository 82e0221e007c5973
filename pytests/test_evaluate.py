"""``aimetrics evaluate`` (aimetrics/evaluate.py): dbt-project-evaluator's rules.

Each rule is run on a small hand-made manifest: a clean project on which no
rule fires, and for each rule the clean project with one deliberate fault,
whose findings are written out by hand below (not produced by the code under
test). Then the exceptions seed (LIKE patterns, reasons required, stale rows
refused), and the real project: ``dbt parse`` + every rule passes with only the
exceptions recorded in seeds/dbt_project_evaluator_exceptions.csv. Last, the
vars the models read have their one default in dbt_project.yml.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from aimetrics import evaluate as ev

PROJECT_DIR = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- a tiny manifest builder


def _model(name, path, parents=(), materialized="table", description="A model.", access="protected",
           contract=False, columns=None, raw_code="select 1 as id"):
    return {"resource_type": "model", "name": name, "original_file_path": path,
            "depends_on": {"nodes": list(parents), "macros": []}, "config": {"materialized": materialized},
            "description": description, "access": access, "contract": {"enforced": contract},
            "columns": columns if columns is not None else {"id": {"description": "The key."}},
            "raw_code": raw_code}


def _test(name, model_id, column, macro, yml):
    return {"resource_type": "test", "name": name, "attached_node": model_id, "column_name": column,
            "original_file_path": yml, "depends_on": {"nodes": [model_id], "macros": [macro]}}


def _pk_tests(model_id, yml):
    name = model_id.split(".")[-1]
    return {f"test.p.unique_{name}": _test(f"unique_{name}_id", model_id, "id", "macro.dbt.test_unique", yml),
            f"test.p.not_null_{name}": _test(f"not_null_{name}_id", model_id, "id", "macro.dbt.test_not_null", yml)}


def _source(source_name, name, yml, description="A table.", source_description="A source."):
    return {"resource_type": "source", "source_name": source_name, "name": name, "original_file_path": yml,
            "description": description, "source_description": source_description}


def clean() -> dict:
    """source shop.orders -> stg_s__orders (view) -> int_orders -> fct_orders (public,
    contracted) -> exposure dashboard; every model documented and key-tested."""
    nodes = {
        "model.p.stg_s__orders": _model("stg_s__orders", "models/staging/shop/stg_s__orders.sql",
                                        ["source.p.shop.orders"], materialized="view"),
        "model.p.int_orders": _model("int_orders", "models/intermediate/int_orders.sql", ["model.p.stg_s__orders"]),
        "model.p.fct_orders": _model("fct_orders", "models/marts/fct_orders.sql", ["model.p.int_orders"],
                                     access="public", contract=True),
    }
    nodes.update(_pk_tests("model.p.stg_s__orders", "models/staging/shop/_s.yml"))
    nodes.update(_pk_tests("model.p.int_orders", "models/intermediate/_int.yml"))
    nodes.update(_pk_tests("model.p.fct_orders", "models/marts/_marts.yml"))
    return {
        "nodes": nodes,
        "sources": {"source.p.shop.orders": _source("shop", "orders", "models/staging/shop/_s.yml")},
        "exposures": {"exposure.p.dashboard": {"resource_type": "exposure", "name": "dashboard",
                                               "original_file_path": "models/marts/_exposures.yml",
                                               "depends_on": {"nodes": ["model.p.fct_orders"]},
                                               "description": "A dashboard."}},
    }


def _add_model(m: dict, name: str, path: str, parents, tested=True, **kw) -> dict:
    uid = f"model.p.{name}"
    m["nodes"][uid] = _model(name, path, parents, **kw)
    if tested:
        m["nodes"].update(_pk_tests(uid, path.rsplit("/", 1)[0] + "/_x.yml"))
    return m


def _rows(manifest: dict, rule: str, config: dict | None = None) -> list[dict]:
    outcome = ev.evaluate(manifest, config or dict(ev.DEFAULTS), [])
    return outcome["results"][rule]["open"]


# ---------------------------------------------------------------- one fault per rule


def _direct_join(m):
    return _add_model(m, "int_joined", "models/intermediate/int_joined.sql",
                      ["model.p.stg_s__orders", "source.p.shop.orders"])


def _marts_on_source(m):
    return _add_model(m, "fct_raw", "models/marts/fct_raw.sql", ["source.p.shop.orders"])


def _fanout(m):
    for n in ("fct_a", "fct_b", "fct_c"):
        _add_model(m, n, f"models/marts/{n}.sql", ["model.p.int_orders"])
    return m


def _multiple_sources(m):
    m["sources"]["source.p.shop.items"] = _source("shop", "items", "models/staging/shop/_s.yml")
    m["nodes"]["model.p.stg_s__orders"]["depends_on"]["nodes"].append("source.p.shop.items")
    return m


def _rejoining(m):
    # int_orders -> fct_orders directly and through int_bridge, whose only child is fct_orders
    _add_model(m, "int_bridge", "models/intermediate/int_bridge.sql", ["model.p.int_orders"])
    m["nodes"]["model.p.fct_orders"]["depends_on"]["nodes"].append("model.p.int_bridge")
    return m


def _root(m):
    return _add_model(m, "int_orphan", "models/intermediate/int_orphan.sql", [])


def _source_fanout(m):
    return _add_model(m, "stg_s__orders_copy", "models/staging/shop/stg_s__orders_copy.sql", ["source.p.shop.orders"],
                      materialized="view")


def _staging_on_int(m):
    return _add_model(m, "stg_s__late", "models/staging/shop/stg_s__late.sql", ["model.p.int_orders"])


def _staging_on_staging(m):
    return _add_model(m, "stg_s__more", "models/staging/shop/stg_s__more.sql", ["model.p.stg_s__orders"])


def _unused_source(m):
    m["sources"]["source.p.shop.spare"] = _source("shop", "spare", "models/staging/shop/_s.yml")
    return m


def _hard_coded(m):
    m["nodes"]["model.p.int_orders"]["raw_code"] = (
        "-- from comment.ignored\nselect o.*, extract(epoch from o.created_at) as e\n"
        "from {{ ref('stg_s__orders') }} as o\njoin analytics.dim_customers as c on c.id = o.id\n"
        "left join {{ var('schema') }}.refunds as r on r.id = o.id where o.note <> 'from a.b'")
    return m


def _no_pk(m):
    del m["nodes"]["test.p.unique_int_orders"]  # not_null alone is no primary-key test
    return m


def _untested(m):
    del m["nodes"]["test.p.unique_int_orders"], m["nodes"]["test.p.not_null_int_orders"]
    return m


def _undocumented(m):
    m["nodes"]["model.p.int_orders"]["description"] = "  "
    return m


def _undocumented_source(m):
    m["sources"]["source.p.shop.orders"]["source_description"] = ""
    return m


def _undocumented_source_table(m):
    m["sources"]["source.p.shop.orders"]["description"] = ""
    return m


def _bad_name(m):
    return _add_model(m, "orders_report", "models/marts/orders_report.sql", ["model.p.int_orders"])


def _bad_directory(m):
    # a marts model (dim_ prefix) nested in intermediate; a staging model outside its source's folder
    _add_model(m, "dim_customers", "models/intermediate/dim_customers.sql", ["model.p.int_orders"])
    m["nodes"]["model.p.stg_s__orders"]["original_file_path"] = "models/staging/stg_s__orders.sql"
    for t in ("unique", "not_null"):
        m["nodes"][f"test.p.{t}_stg_s__orders"]["original_file_path"] = "models/staging/_s.yml"
    return m


def _bad_source_directory(m):
    m["sources"]["source.p.shop.orders"]["original_file_path"] = "models/staging/_sources.yml"
    return m


def _bad_test_directory(m):
    m["nodes"]["test.p.unique_int_orders"]["original_file_path"] = "models/marts/_marts.yml"
    return m


def _chained_views(m):
    # stg_s__orders (view) -> int_v1 .. int_v4 (views) -> fct_orders_chain (table): 5 hops of views
    parent = "model.p.stg_s__orders"
    for i in range(1, 5):
        _add_model(m, f"int_v{i}", f"models/intermediate/int_v{i}.sql", [parent], materialized="view")
        parent = f"model.p.int_v{i}"
    return _add_model(m, "fct_orders_chain", "models/marts/fct_orders_chain.sql", [parent])


def _exposure_on_view(m):
    m["nodes"]["model.p.fct_orders"]["config"]["materialized"] = "view"
    return m


def _public_no_contract(m):
    m["nodes"]["model.p.fct_orders"]["contract"]["enforced"] = False
    return m


def _public_undocumented(m):
    m["nodes"]["model.p.fct_orders"]["columns"] = {"id": {"description": "The key."}, "amount": {"description": ""}}
    return m


def _exposure_on_private(m):
    m["exposures"]["exposure.p.dashboard"]["depends_on"]["nodes"].append("model.p.int_orders")
    return m


CASES = [
    ("fct_direct_join_to_source", _direct_join, [
        {"parent": "stg_s__orders", "parent_resource_type": "model", "child": "int_joined",
         "child_resource_type": "model"},
        {"parent": "shop.orders", "parent_resource_type": "source", "child": "int_joined",
         "child_resource_type": "model"}]),
    ("fct_marts_or_intermediate_dependent_on_source", _marts_on_source, [
        {"parent": "shop.orders", "parent_resource_type": "source", "child": "fct_raw", "child_model_type": "marts"}]),
    ("fct_model_fanout", _fanout, [{"parent": "int_orders", "leaf_children": "fct_a, fct_b, fct_c"}]),
    ("fct_multiple_sources_joined", _multiple_sources, [
        {"child": "stg_s__orders", "source_parents": "shop.items, shop.orders"}]),
    ("fct_rejoining_of_upstream_concepts", _rejoining, [
        {"parent": "int_orders", "child": "fct_orders", "parent_and_child": "int_bridge"}]),
    ("fct_root_models", _root, [{"child": "int_orphan"}]),
    ("fct_source_fanout", _source_fanout, [{"parent": "shop.orders", "model_children": "stg_s__orders, stg_s__orders_copy"}]),
    ("fct_staging_dependent_on_marts_or_intermediate", _staging_on_int, [
        {"parent": "int_orders", "parent_model_type": "intermediate", "child": "stg_s__late",
         "child_model_type": "staging"}]),
    ("fct_staging_dependent_on_staging", _staging_on_staging, [
        {"parent": "stg_s__orders", "parent_model_type": "staging", "child": "stg_s__more",
         "child_model_type": "staging"}]),
    ("fct_unused_sources", _unused_source, [{"parent": "shop.spare"}]),
    ("fct_hard_coded_references", _hard_coded, [
        {"model": "int_orders", "hard_coded_references": "analytics.dim_customers, {{ var('schema') }}.refunds"}]),
    ("fct_missing_primary_key_tests", _no_pk, [
        {"resource_name": "int_orders", "model_type": "intermediate", "is_primary_key_tested": False,
         "number_of_tests_on_model": 1}]),
    ("fct_test_coverage", _untested, [
        {"total_models": 3, "test_coverage_pct": 66.67, "target": 100, "models_without": "int_orders"}]),
    ("fct_undocumented_models", _undocumented, [{"resource_name": "int_orders", "model_type": "intermediate"}]),
    ("fct_documentation_coverage", _undocumented, [
        {"total_models": 3, "documentation_coverage_pct": 66.67, "target": 100, "models_without": "int_orders"}]),
    ("fct_undocumented_sources", _undocumented_source, [{"resource_name": "shop"}]),
    ("fct_undocumented_source_tables", _undocumented_source_table, [{"resource_name": "shop.orders"}]),
    ("fct_model_naming_conventions", _bad_name, [
        {"resource_name": "orders_report", "prefix": "orders_", "model_type": "marts",
         "appropriate_prefixes": "dim_, fct_"}]),
    ("fct_model_directories", _bad_directory, [
        {"resource_name": "stg_s__orders", "resource_type": "model", "model_type": "staging",
         "current_file_path": "models/staging/stg_s__orders.sql",
         "change_file_path_to": "models/staging/shop/stg_s__orders.sql"},
        {"resource_name": "dim_customers", "resource_type": "model", "model_type": "marts",
         "current_file_path": "models/intermediate/dim_customers.sql",
         "change_file_path_to": "models/.../marts/.../dim_customers.sql"}]),
    ("fct_source_directories", _bad_source_directory, [
        {"resource_name": "shop.orders", "resource_type": "source", "current_file_path": "models/staging/_sources.yml",
         "change_file_path_to": "models/staging/shop/_sources.yml"}]),
    ("fct_test_directories", _bad_test_directory, [
        {"test_name": "unique_int_orders_id", "model_name": "int_orders",
         "current_test_directory": "models/marts/", "change_test_directory_to": "models/intermediate/"}]),
    ("fct_chained_views_dependencies", _chained_views, [
        {"parent": "stg_s__orders", "child": "fct_orders_chain", "distance": 5,
         "path": "stg_s__orders > int_v1 > int_v2 > int_v3 > int_v4 > fct_orders_chain"}]),
    ("fct_exposure_parents_materializations", _exposure_on_view, [
        {"parent_resource_name": "fct_orders", "exposure_name": "dashboard", "parent_materialization": "view"}]),
    ("fct_public_models_without_contract", _public_no_contract, [
        {"resource_name": "fct_orders", "is_public": True, "contract_enforced": False}]),
    ("fct_undocumented_public_models", _public_undocumented, [
        {"resource_name": "fct_orders", "access": "public", "is_described": True, "total_defined_columns": 2,
         "total_described_columns": 1}]),
    ("fct_exposures_dependent_on_private_models", _exposure_on_private, [
        {"exposure_name": "dashboard", "parent_resource_name": "int_orders", "parent_access": "protected",
         "parent_resource_type": "model"}]),
]


def _sort(rows):
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def test_every_rule_has_a_case():
    assert {c[0] for c in CASES} == ev.RULE_NAMES


def test_clean_project_has_no_finding():
    outcome = ev.evaluate(clean(), dict(ev.DEFAULTS), [])
    found = {k: v["open"] for k, v in outcome["results"].items() if v["open"]}
    assert found == {}


@pytest.mark.parametrize("rule,fault,expected", CASES, ids=[c[0] for c in CASES])
def test_rule_fires_on_its_fault(rule, fault, expected):
    assert _sort(_rows(fault(clean()), rule)) == _sort(expected)


def test_chain_at_the_threshold_is_not_flagged():
    # stg (view) -> int_v1..int_v3 (views) -> table: 4 hops, the default threshold, not more
    m = clean()
    parent = "model.p.stg_s__orders"
    for i in range(1, 4):
        _add_model(m, f"int_v{i}", f"models/intermediate/int_v{i}.sql", [parent], materialized="view")
        parent = f"model.p.int_v{i}"
    _add_model(m, "fct_orders_chain", "models/marts/fct_orders_chain.sql", [parent])
    assert _rows(m, "fct_chained_views_dependencies") == []


def test_config_overrides_change_the_verdict():
    m = _fanout(clean())
    assert _rows(m, "fct_model_fanout", {**ev.DEFAULTS, "models_fanout_threshold": 4}) == []
    m = _bad_name(clean())
    assert _rows(m, "fct_model_naming_conventions", {**ev.DEFAULTS, "marts_prefixes": ["fct_", "dim_", "orders_"]}) == []
    # the project's own composite-key test counts once listed in primary_key_test_macros
    m = clean()
    del m["nodes"]["test.p.unique_int_orders"], m["nodes"]["test.p.not_null_int_orders"]
    m["nodes"]["test.p.ucc"] = _test("ucc_int_orders", "model.p.int_orders", None,
                                     "macro.p.test_unique_combination_of_columns", "models/intermediate/_int.yml")
    assert len(_rows(m, "fct_missing_primary_key_tests")) == 1
    cfg = {**ev.DEFAULTS, "primary_key_test_macros": [["dbt.test_unique", "dbt.test_not_null"],
                                                       ["p.test_unique_combination_of_columns"]]}
    assert _rows(m, "fct_missing_primary_key_tests", cfg) == []


# ---------------------------------------------------------------- exceptions seed and exit status


def test_like_is_sql_like():
    assert ev.like("base_raw__users", "base_raw__%")
    assert ev.like("baseXraw__users", "base_raw__%")  # _ is one character, as in SQL
    assert not ev.like("stg_raw__users", "base_raw__%")
    assert not ev.like("Scorecard", "scorecard")  # case-sensitive
    assert ev.like("raw.users", "raw.%") and not ev.like("rawXusers", "raw.%")


def _project(tmp_path: Path, seed: str | None) -> Path:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: p\nvars:\n  dbt_project_evaluator:\n    models_fanout_threshold: 3\n")
    if seed is not None:
        (tmp_path / ev.EXCEPTIONS_SEED).write_text("fct_name,column_name,id_to_exclude,comment\n" + seed)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(_fanout(_root(clean()))))
    return manifest


def test_exit_status_follows_the_seed(tmp_path, capsys):
    cases = [
        (None, 1),  # two open findings
        ("fct_root_models,child,int_orphan,kept for a test\n", 1),  # fanout still open
        ("fct_root_models,child,int_orphan,kept for a test\nfct_model_fanout,parent,int_%,reports\n", 0),
        ("fct_root_models,child,int_orphan,\nfct_model_fanout,parent,int_%,reports\n", 1),  # no reason
        ("fct_root_models,child,int_orphan,x\nfct_model_fanout,parent,int_%,y\nfct_root_models,child,gone,z\n", 1),
        ("fct_root_models,parent,int_orphan,wrong column\nfct_model_fanout,parent,int_%,y\n", 1),
    ]
    for i, (seed, code) in enumerate(cases):
        d = tmp_path / str(i)
        d.mkdir()
        manifest = _project(d, seed)
        assert ev.main(manifest_path=manifest, project_dir=d) == code, seed
    out = capsys.readouterr().out
    assert "no comment saying why" in out and "matches no finding" in out


@pytest.mark.parametrize("seed,message", [
    ("fct_nonexistent,child,x,y\n", "is not a rule"),
    ("fct_test_coverage,resource_name,x,y\n", "cannot be excepted"),
    ("fct_root_models,,x,y\n", "required"),
])
def test_bad_seed_rows_are_refused(tmp_path, seed, message):
    manifest = _project(tmp_path, seed)
    with pytest.raises(ev.AimetricsError, match=message):
        ev.main(manifest_path=manifest, project_dir=tmp_path)


def test_unreadable_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    with pytest.raises(ev.AimetricsError, match="cannot read manifest"):
        ev.main(manifest_path=tmp_path / "missing.json", project_dir=tmp_path)


# ---------------------------------------------------------------- the real project


@pytest.fixture(scope="module")
def project_outcome(dbt_parse_run) -> dict:
    manifest = dbt_parse_run[0]  # one dbt parse per session (pytests/conftest.py)
    config = ev.project_config(PROJECT_DIR)
    return ev.evaluate(manifest, config, ev.read_exceptions(PROJECT_DIR / ev.EXCEPTIONS_SEED))


def test_project_passes_with_only_recorded_exceptions(project_outcome):
    text, code = ev.report(project_outcome, verbose=True)
    assert code == 0, text
    assert project_outcome["seed_problems"] == []
    # something was evaluated: the project's marts are not all named fct_/dim_
    excepted = {r: len(v["excepted"]) for r, v in project_outcome["results"].items() if v["excepted"]}
    assert excepted.get("fct_model_naming_conventions", 0) > 0


def test_exceptions_seed_is_disabled_in_dbt_but_well_formed():
    rows = ev.read_exceptions(PROJECT_DIR / ev.EXCEPTIONS_SEED)
    assert rows and all(len(r["comment"]) >= 40 for r in rows), "each exception needs a real reason"


# ---------------------------------------------------------------- vars: one default, in dbt_project.yml

VAR_CALL = re.compile(r"\bvar\(\s*'(\w+)'\s*(,)?")
#: Its default depends on the engine (target.type), which dbt_project.yml cannot express.
ENGINE_DEFAULTED = {"python_udfs_enabled"}


def test_every_var_has_one_default_in_dbt_project_yml():
    declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    used, with_sql_default = set(), set()
    for folder in ("models", "macros"):
        for f in (PROJECT_DIR / folder).rglob("*"):
            if f.suffix not in (".sql", ".yml"):
                continue
            for line in f.read_text().splitlines():
                code = line.split("--")[0] if f.suffix == ".sql" else line
                if f.suffix == ".yml" and "description" in line:
                    continue
                for m in VAR_CALL.finditer(code):
                    used.add(m.group(1))
                    if m.group(2):
                        with_sql_default.add(m.group(1))
    assert "min_sample" in used and "calibration_bins" in used  # the scan sees the SQL
    assert with_sql_default == ENGINE_DEFAULTED
    assert used - set(declared) == ENGINE_DEFAULTED
