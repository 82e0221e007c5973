"""Run dbt against the shipped project and profile.

dbt runs in a subprocess (the ``dbt`` executable of this interpreter's
environment): a dbt invocation holds global state and a DuckDB file lock, and
a separate process guarantees both are released when it ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aimetrics import PROJECT_DIR


class DbtError(RuntimeError):
    """dbt exited non-zero; the message carries the tail of its log."""


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(duckdb_path: str | os.PathLike | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if duckdb_path is not None:
        env["AIMETRICS_DUCKDB_PATH"] = str(Path(duckdb_path).resolve())
    return env


def run_dbt(
    args: list[str],
    duckdb_path: str | os.PathLike | None = None,
    dbt_vars: dict | None = None,
    capture: bool = True,
    target_path: str | os.PathLike | None = None,
) -> subprocess.CompletedProcess:
    """Run ``dbt ARGS`` in the project; raise DbtError when it fails.

    duckdb_path: the DuckDB file to build (default: env AIMETRICS_DUCKDB_PATH,
    else aimetrics.duckdb in the repo root). dbt_vars: passed as --vars.
    target_path: dbt's target folder (separate folders let tests run builds
    side by side).
    """
    cmd = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR)]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dbt_vars)]
    if target_path is not None:
        cmd += ["--target-path", str(target_path)]
    env = dbt_env(duckdb_path)
    proc = subprocess.run(
        cmd, cwd=PROJECT_DIR, env=env, text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout or "").splitlines()[-60:])
        raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return proc
