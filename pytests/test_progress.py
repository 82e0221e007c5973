"""Progress goes to stderr on a terminal only; stdout carries the same summary lines either way.

Long commands (demo, load, build, check, run) draw rich progress bars on
stderr when it is a terminal. These tests run ``aimetrics load`` with stderr on
a pseudo-terminal and on a pipe, and read dbt's real node lines for the dbt
build bar.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from aimetrics import PROJECT_DIR
from aimetrics.dbt_runner import node_progress

CALLS = ("interaction_id,task_id,user_id,feature,model,requested_at,status\n"
         "i1,t1,u1,f,m,2026-06-01T10:00:00Z,ok\n"
         "i2,t2,u1,f,m,2026-06-01T11:00:00Z,ok\n")


def _load(tmp: Path, name: str, tty: bool) -> tuple[str, str, int]:
    """`aimetrics load interactions` into tmp/name.duckdb; stderr on a pseudo-terminal when tty."""
    calls = tmp / "calls.csv"
    calls.write_text(CALLS)
    cmd = [sys.executable, "-m", "aimetrics.cli", "--db", str(tmp / f"{name}.duckdb"), "load", "interactions",
           str(calls)]
    if not tty:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120)
        return r.stdout, r.stderr, r.returncode
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=follower, text=True, cwd=PROJECT_DIR,
                            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read()
    proc.wait(timeout=120)
    os.close(leader)
    return out, b"".join(chunks).decode(errors="replace"), proc.returncode


def test_load_summary_is_the_same_on_a_terminal_and_progress_only_on_stderr(tmp_path):
    out_pipe, err_pipe, rc_pipe = _load(tmp_path, "pipe", tty=False)
    out_tty, err_tty, rc_tty = _load(tmp_path, "tty", tty=True)
    assert rc_pipe == rc_tty == 0
    assert err_pipe == ""  # no progress when stderr is not a terminal
    assert "loading" in err_tty  # the progress bar, drawn on the terminal
    assert "\x1b" not in out_tty and "loading" not in out_tty  # nothing of it on stdout
    summary = [f"loaded 2 rows into raw.interactions ({tmp_path / '{}.duckdb'})",
               "from 1 file(s); rows that break the contract are quarantined by dbt build "
               "(quarantine.quarantine_raw__interactions)"]
    assert out_pipe.splitlines() == [summary[0].format("pipe"), summary[1]]
    assert out_tty.splitlines() == [summary[0].format("tty"), summary[1]]


# dbt 1.11's own stdout of `dbt seed` (--no-use-colors), threads finishing out of order, with hooks
DBT_SEED_OUTPUT = """\
08:46:15  Concurrency: 4 threads (target='duckdb')
08:46:16  1 of 1 START hook: aimetrics.on-run-start.0 .................................... [RUN]
08:46:16  1 of 1 OK hook: aimetrics.on-run-start.0 ....................................... [OK in 0.06s]
08:46:16  1 of 4 START seed file staging.event_roles ..................................... [RUN]
08:46:16  2 of 4 START seed file staging.metric_thresholds ............................... [RUN]
08:46:17  3 of 4 OK loaded seed file staging.model_pricing ............................... [INSERT 6 in 0.55s]
08:46:17  4 of 4 OK loaded seed file staging.severity_weights ............................ [INSERT 4 in 0.56s]
08:46:17  2 of 4 ERROR loading seed file staging.metric_thresholds ....................... [ERROR in 0.57s]
08:46:17  1 of 4 SKIP seed file staging.event_roles ...................................... [SKIP]
08:46:17  1 of 1 OK hook: aimetrics.on-run-end.0 ......................................... [OK in 0.00s]
08:46:17  Finished running 2 project hooks, 4 seeds in 0 hours 0 minutes and 1.79 seconds (1.79s).
08:46:18  Done. PASS=2 WARN=0 ERROR=1 SKIP=1 NO-OP=0 TOTAL=4
"""


def test_dbt_node_lines_drive_the_build_bar():
    got = [node_progress(line) for line in DBT_SEED_OUTPUT.splitlines()]
    assert [g for g in got if g] == [(3, 4), (4, 4), (2, 4), (1, 4)]  # finished nodes only: no START, no hook
