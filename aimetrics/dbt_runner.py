"""Run dbt against the shipped project and profile.

dbt runs in a subprocess (the ``dbt`` executable of this interpreter's
environment): a dbt invocation holds global state and a DuckDB file lock, and
a separate process guarantees both are released when it ends.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from aimetrics import PROJECT_DIR
from aimetrics.lock import held_fds


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


def _failure_summary(output: str, target_path: Path, limit: int = 12) -> str:
    """The failing nodes and their messages, from run_results.json when dbt wrote one."""
    results_file = target_path / "run_results.json"
    lines = []
    if results_file.exists():
        results = json.loads(results_file.read_text()).get("results", [])
        failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
        for r in failed[:limit]:
            message = " ".join((r.get("message") or "").split())
            lines.append(f"- {r['unique_id']}: {r['status']}: {message[:400]}")
        if len(failed) > limit:
            lines.append(f"- ... and {len(failed) - limit} more")
    if not lines:  # parse or compile errors come before any result
        keep = [ln for ln in output.splitlines() if ln.strip() and " SKIP " not in ln and " PASS " not in ln
                and " START " not in ln and " OK " not in ln]
        lines = keep[-25:]
    return "\n".join(lines)


#: dbt's line for a finished node: "12:00:01  3 of 250 OK created sql view model ..." (not START, not hooks)
_NODE_DONE = re.compile(r"^\S*\s*(\d+) of (\d+) (?!START\b)[A-Z][A-Z-]* (?!hook:)")


def node_progress(line: str) -> tuple[int, int] | None:
    """(node number, nodes selected) when ``line`` is dbt's report of a finished node, else None."""
    m = _NODE_DONE.match(line)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _run_streaming(cmd: list[str], env: dict[str, str], on_node) -> subprocess.CompletedProcess:
    """Run dbt, reading its output line by line to report finished nodes; the output is kept whole."""
    lines = []
    with subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, pass_fds=held_fds()) as proc:  # dbt keeps the build lock
        done: set[int] = set()
        for line in proc.stdout:
            lines.append(line)
            node = node_progress(line)
            if node:
                done.add(node[0])  # nodes finish out of order with threads: count them
                on_node(len(done), node[1])
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(lines), None)


def run_dbt(
    args: list[str],
    duckdb_path: str | os.PathLike | None = None,
    dbt_vars: dict | None = None,
    capture: bool = True,
    target_path: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    on_node=None,
) -> subprocess.CompletedProcess:
    """Run ``dbt ARGS`` in the project; raise DbtError when it fails.

    duckdb_path: the DuckDB file to build (default: env AIMETRICS_DUCKDB_PATH,
    else aimetrics.duckdb in the repo root). dbt_vars: passed as --vars.
    target_path: dbt's target folder (separate folders let tests run builds
    side by side). env: extra environment variables for dbt (e.g.
    AIMETRICS_TARGET=postgres and the AIMETRICS_PG_* connection). The error message lists the failing nodes and their
    messages (from run_results.json), not the whole log. on_node: called with
    (nodes done, nodes selected) as each node finishes (output captured).
    """
    target = Path(target_path) if target_path is not None else PROJECT_DIR / "target"
    cmd = [dbt_executable(), "--no-use-colors", *args, "--project-dir", str(PROJECT_DIR),
           "--target-path", str(target)]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dbt_vars)]
    extra_env = env
    env = dbt_env(duckdb_path)
    if extra_env:
        env.update(extra_env)
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)
    if on_node is not None and capture:
        proc = _run_streaming(cmd, env, on_node)
    else:
        proc = subprocess.run(
            cmd, cwd=PROJECT_DIR, env=env, text=True, pass_fds=held_fds(),  # dbt keeps the build lock while it lives
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
        )
    if proc.returncode != 0:
        summary = _failure_summary(proc.stdout or "", target)
        raise DbtError(f"dbt {args[0]} failed (exit {proc.returncode}):\n{summary}")
    return proc
