"""aimetrics in Dagster: the dbt models as assets, the GX contracts as asset checks, a daily schedule.

The same three steps as ``aimetrics run`` (check raw -> dbt build -> check marts),
as Dagster sees them:

* the raw tables (dbt sources ``raw.*``) are external assets: something else
  lands them (``aimetrics load``, an ingestion job);
* each raw table carries the blocking asset check ``gx_contract``
  (:func:`aimetrics.checks.validate` on layer ``raw``): a failed error-severity
  expectation fails the check and Dagster skips the dbt build;
* every dbt model and seed is an asset (``@dbt_assets`` from the project's
  manifest) built by ``dbt build``; dagster-dbt turns the dbt tests into asset
  checks of their models;
* each public mart carries the asset check ``gx_contract`` (layer ``marts``);
* the job ``aimetrics_build`` runs all of it, and ``aimetrics_daily`` schedules
  it every day at 06:00 UTC.

The DuckDB file is the one the CLI and the dbt profile use: ``$AIMETRICS_DUCKDB_PATH``
(an absolute path), else ``aimetrics.duckdb`` in the repository.

Run it (README, "Scheduled runs"): ``pip install -e ".[dagster]"``, then
``dagster job execute -f orchestration/dagster/definitions.py -j aimetrics_build`` once, or
``dagster-daemon run -f orchestration/dagster/definitions.py`` for the schedule.
"""

# no `from __future__ import annotations`: Dagster reads the context and resource annotations at runtime
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from aimetrics import PROJECT_DIR
from aimetrics.checks import DEFAULT_DOCS_DIR, Report, load_suites, summary, validate
from aimetrics.cli import default_db_path
from aimetrics.dbt_runner import dbt_executable, run_dbt

#: dbt's target folder ($DBT_TARGET_PATH, else target/ in the project): the manifest the assets are
#: defined from, and the partial-parse file dagster-dbt copies into each run's own target folder
TARGET_DIR = PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")  # an absolute path stays as it is
CHECK_NAME = "gx_contract"
DAILY_CRON = "0 6 * * *"


def prepare_manifest(target_path: Path = TARGET_DIR) -> Path:
    """The project's manifest.json: ``dbt parse`` when it is missing, or always under ``dagster dev``."""
    manifest = Path(target_path) / "manifest.json"
    if not manifest.exists() or os.environ.get("DAGSTER_IS_DEV_CLI"):
        run_dbt(["parse"], target_path=target_path)
    return manifest


class AimetricsChecks(dg.ConfigurableResource):
    """Runs the project's GX suites (aimetrics.checks) on the DuckDB file; Data Docs go to docs_dir/<layer>."""

    docs_dir: str = str(DEFAULT_DOCS_DIR)

    def validate(self, layer: str) -> Report:
        return validate(default_db_path(), layer, docs_dir=Path(self.docs_dir) / layer)


def _suite_tables(layer: str) -> list[tuple[str, str]]:
    """(schema, table) of each suite of the layer, as contracts/<layer>/*.json name them."""
    return [(s["meta"]["schema"], s["meta"]["table"]) for s in load_suites(layer)]


def _check_results(report: Report, keys: dict[str, dg.AssetKey]) -> Iterator[dg.AssetCheckResult]:
    """One result per table: failed when a blocking (error) expectation failed; warnings as metadata."""
    for table, key in keys.items():
        failures = [f for f in report.failures if f.table == table]
        errors = [f for f in failures if f.blocking]
        lines = [f"{'ERROR' if f.blocking else 'warn'} {f.expectation}"
                 + (f": {f.rows:,} rows" if f.rows is not None else "") + (f" -> {f.note}" if f.note else "")
                 for f in failures]
        yield dg.AssetCheckResult(
            asset_key=key, check_name=CHECK_NAME, passed=not errors, severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "errors": len(errors),
                "warnings": len(failures) - len(errors),
                "not_landed": table in report.skipped,
                "failures": dg.MetadataValue.md("\n".join(f"- {ln}" for ln in lines) or "none"),
                "data_docs": str(report.docs_index) if report.docs_index else "",
            })


def _gx_check(layer: str, keys: dict[str, dg.AssetKey], blocking: bool, description: str):
    """One ``gx_contract`` check per table of the layer, all from one validate() of the layer."""

    @dg.multi_asset_check(
        name=f"check_{layer}",
        specs=[dg.AssetCheckSpec(CHECK_NAME, asset=key, blocking=blocking, description=description)
               for key in keys.values()])
    def check(context: dg.AssetCheckExecutionContext, checks: AimetricsChecks):
        report = checks.validate(layer)
        context.log.info(summary(report))
        yield from _check_results(report, keys)

    return check


def build_definitions(manifest: Path | Mapping, docs_dir: Path = DEFAULT_DOCS_DIR) -> dg.Definitions:
    """The Definitions for a dbt manifest (a manifest.json path, or the parsed dict); see the module docstring.

    docs_dir: where the GX Data Docs of the checks go (one subfolder per layer).
    """
    translator = DagsterDbtTranslator()
    nodes = manifest if isinstance(manifest, Mapping) else json.loads(Path(manifest).read_text())
    sources = {(s["schema"], s["name"]): translator.get_asset_key(s) for s in nodes["sources"].values()}
    models = {(n["schema"], n["name"]): translator.get_asset_key(n) for n in nodes["nodes"].values()
              if n["resource_type"] == "model"}
    # dbt's schema of a node is its configured schema (marts, quarantine), as the suites name it
    raw_keys = {f"{s}.{t}": sources[(s, t)] for s, t in _suite_tables("raw")}
    mart_keys = {f"{s}.{t}": models[(s, t)] for s, t in _suite_tables("marts")}

    raw_tables = [dg.AssetSpec(key, description=f"raw table {name}, landed by `aimetrics load`",
                               kinds={"duckdb"}, group_name="raw") for name, key in raw_keys.items()]

    check_raw = _gx_check("raw", raw_keys, blocking=True,
                          description="the raw contract's GX suite (contracts/raw): errors block the build")

    @dbt_assets(manifest=nodes, dagster_dbt_translator=translator, name="aimetrics_dbt")
    def aimetrics_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    check_marts = _gx_check("marts", mart_keys, blocking=False,
                            description="the mart's GX suite (contracts/marts): errors mean do not publish")

    job = dg.define_asset_job("aimetrics_build",
                              selection=dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks(),
                              description="check raw -> dbt build -> check marts, as `aimetrics run`")
    return dg.Definitions(
        assets=[*raw_tables, aimetrics_dbt],
        asset_checks=[check_raw, check_marts],
        jobs=[job],
        schedules=[dg.ScheduleDefinition(name="aimetrics_daily", job=job, cron_schedule=DAILY_CRON,
                                         execution_timezone="UTC",
                                         default_status=dg.DefaultScheduleStatus.RUNNING)],
        resources={
            "dbt": DbtCliResource(project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR),
                                  dbt_executable=dbt_executable(), global_config_flags=["--no-use-colors"]),
            "checks": AimetricsChecks(docs_dir=str(docs_dir)),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(prepare_manifest())
