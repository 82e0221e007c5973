"""Shared fixtures: one ``dbt parse`` of the project per test session.

Several modules read the manifest (docs completeness, aimetrics evaluate); a
parse takes tens of seconds on a loaded 2-core machine, so it runs once, into a
temporary target folder (the working ``target/`` is untouched).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        pytest.skip("dbt is not installed")
    return found


@pytest.fixture(scope="session")
def dbt_parse_run(tmp_path_factory) -> tuple[dict, str]:
    target = tmp_path_factory.mktemp("dbt_parse_target")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        # parse does not query the database, but the profile must render
        "AIMETRICS_DUCKDB_PATH": str(target / "parse.duckdb"),
    }
    cmd = [
        _dbt_executable(), "--no-use-colors", "parse",
        "--project-dir", str(PROJECT_DIR),
        "--target-path", str(target),
        "--log-path", str(target / "logs"),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=PROJECT_DIR)
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, f"dbt parse failed:\n{output}"
    manifest = json.loads((target / "manifest.json").read_text())
    return manifest, output




#: Interactions of the small demo build shared by the semantic-layer and BI-access tests.
SMALL_DEMO_SCALE = 5_000
SMALL_DEMO_SEED = 20260601


@pytest.fixture(scope="session")
def small_demo_build(tmp_path_factory) -> dict[str, Path]:
    """A small demo dataset loaded and built (models and seeds, no data tests) into a DuckDB file.

    Returns ``{"db": the DuckDB file, "target": dbt's target folder of that build (manifest.json,
    semantic_manifest.json)}``. No connection stays open: each test opens the file itself (and
    must close it before another process writes or opens it read-write). The data tests run on
    the demo data in the other demo modules; this build is for readers of the marts.
    """
    from aimetrics import demo
    from aimetrics.dbt_runner import run_dbt
    from aimetrics.load import load_files

    root = tmp_path_factory.mktemp("small_demo")
    db = root / "demo.duckdb"
    files = demo.generate(scale=SMALL_DEMO_SCALE, seed=SMALL_DEMO_SEED, out_dir=root / "data")
    for table, paths in files.items():
        load_files(db, table, paths)
    run_dbt(["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
            duckdb_path=db, target_path=root / "target")
    return {"db": db, "target": root / "target"}
