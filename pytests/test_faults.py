"""Faults and readers (issue 7, item 5): killed builds, concurrent runs, atomic publish, failed publish.

The scenario is a scheduler's daily run: the build database holds day 1 (the
demo data without its last week of ``ingested_at``), built and published
(serving copy "A"); the new week is appended, and ``aimetrics run`` builds and
publishes "B". One uninterrupted run (module fixture) is the reference:

* a BI reader (pytests/faults_reader.py, a separate process) queries the
  serving copy read-only in a loop throughout that run and must always see
  exactly A or exactly B, never an error;
* a second ``aimetrics run`` started while it runs must exit at once (exit 2,
  a message naming the running one, no traceback) without touching anything;
* builds killed with SIGKILL at random points (seeded), then rerun, must end
  with marts equal row for row to the uninterrupted run's, the serving copy
  complete after every kill;
* a publish killed at random points, or failing on disk full, permission
  denied or a write cut short, must leave the previous serving copy intact.

CI time: one day-1 build without tests, three ``aimetrics run`` (one
uninterrupted, one killed, one rerun) and one killed ``dbt build``, on the
demo at 1,000 interactions. Measured: 181-197 s of CPU (user + sys, all
processes); every dbt run builds the same path, so dbt parses in full once.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from aimetrics import PROJECT_DIR
from aimetrics.dbt_runner import dbt_env, dbt_executable, run_dbt
from aimetrics.demo import generate
from aimetrics.errors import AimetricsError
from aimetrics.load import load_files
from aimetrics.lock import lock_path
from aimetrics.publish import publish
from faults_reader import file_fingerprint

SCALE = 1_000
NEW_DAYS = 7  # the last week of ingested_at arrives after day 1
READER = Path(__file__).with_name("faults_reader.py")
RAW_CHECKED = "/raw/index.html"  # the Data Docs line ending check raw's summary
BUILT = "dbt build passed"
PUBLISHING = "publishing the marts to"
TOLERANCE = 1e-9  # relative, on doubles: parallel aggregation may change the last bits between builds
PUBLISH_SCRIPT = ("import sys\nfrom aimetrics.errors import AimetricsError\nfrom aimetrics.publish import publish\n"
                  "try:\n    publish(sys.argv[1], sys.argv[2])\nexcept AimetricsError as exc:\n"
                  "    print(exc)\n    sys.exit(3)\n")


# ---------------------------------------------------------------- helpers


def cli(db: Path, *args) -> list[str]:
    return [sys.executable, "-m", "aimetrics.cli", "--db", str(db), *map(str, args)]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "DBT_PROFILES_DIR": str(PROJECT_DIR)}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock_is_free(db: Path) -> bool:
    """Try the build lock without waiting (and release it at once)."""
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def live_members(pgid: int) -> list[int]:
    """Pids of the process group that still run (zombies excluded: a container's init may not reap them)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def watch_lock(db: Path, pgid: int, seconds: float) -> None:
    """For a while after a kill: the build lock is never free while a process of the killed run still runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lock_is_free(db):
            alive = live_members(pgid)
            assert not alive, f"build lock free while processes {alive} of the killed run still run"
            return
        time.sleep(0.1)


def kill_group_and_wait_for_lock(db: Path, pgid: int, timeout: float = 60) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while not lock_is_free(db):
        assert time.monotonic() < deadline, f"build lock of {db} still held {timeout}s after its run was killed"
        time.sleep(0.1)
    assert not live_members(pgid)


def wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float = 600) -> float | None:
    """Unix time when text appears in the log; None when the process ended first."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            return time.time() if text in log.read_text(errors="replace") else None
        assert time.monotonic() < deadline, f"{text!r} not in {log} after {timeout}s"
        time.sleep(0.05)
    return time.time()


def marts_rows(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'marts' order by 1").fetchall()]
        out = {}
        for name in names:
            cur = con.execute(f'select * from marts."{name}"')
            out[name] = ([d[0] for d in cur.description], cur.fetchall())
        return out
    finally:
        con.close()


def _norm(v):
    if isinstance(v, Decimal):
        return float(v)
    return v


def _sort_key(row: tuple) -> tuple:
    """Rows ordered by every value, doubles rounded so last-bit noise cannot reorder them."""
    key = []
    for v in map(_norm, row):
        if isinstance(v, float) and math.isfinite(v):
            v = float(f"{v:.6g}")
        key.append((v is None, type(v).__name__, "" if v is None else v))
    return tuple(key)


def _same(a, b) -> bool:
    a, b = _norm(a), _norm(b)
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))
    return a == b and type(a) is type(b)


def mart_differences(expected: dict, got: dict) -> list[str]:
    """Every table, column and row of expected against got (doubles within TOLERANCE)."""
    problems = []
    if sorted(expected) != sorted(got):
        problems.append(f"tables differ: expected {sorted(expected)}, got {sorted(got)}")
    for name in sorted(set(expected) & set(got)):
        (e_cols, e_rows), (g_cols, g_rows) = expected[name], got[name]
        if e_cols != g_cols:
            problems.append(f"{name}: columns {g_cols}, expected {e_cols}")
            continue
        if len(e_rows) != len(g_rows):
            problems.append(f"{name}: {len(g_rows)} rows, expected {len(e_rows)}")
            continue
        for e, g in zip(sorted(e_rows, key=_sort_key), sorted(g_rows, key=_sort_key)):
            bad = [c for c, x, y in zip(e_cols, e, g) if not _same(x, y)]
            if bad:
                problems.append(f"{name}: row {g} differs from {e} in {bad}")
                break
    return problems


def assert_marts_equal(expected: dict, got_path: Path, label: str) -> None:
    assert any(rows for _, rows in expected.values()), "the expected marts are empty: nothing to compare"
    problems = mart_differences(expected, marts_rows(got_path))
    assert not problems, f"{label}: " + "\n".join(problems[:20])


def temp_leftovers(serving: Path) -> list[str]:
    return sorted(p.name for p in serving.parent.glob(f".{serving.name}.tmp-*"))


# ---------------------------------------------------------------- the daily scenario


@pytest.fixture(scope="module")
def day1(tmp_path_factory):
    """Demo data loaded in full; day 1 = without the last NEW_DAYS of ingested_at, built and published (A)."""
    d = tmp_path_factory.mktemp("faults")
    files = generate(scale=SCALE, seed=11, out_dir=d / "demo")
    full = d / "full.duckdb"
    for table, paths in files.items():
        load_files(full, table, paths, show_progress=False)
    build = d / "build" / "aimetrics.duckdb"  # every dbt run of the module builds this path: partial parsing
    build.parent.mkdir()
    shutil.copy(full, build)
    con = duckdb.connect(str(build))
    cutoff = con.execute(f"select max(ingested_at) - interval {NEW_DAYS} day from raw.interactions").fetchone()[0]
    tables = [r[0] for r in con.execute("select table_name from information_schema.columns where "
                                        "table_schema = 'raw' and column_name = 'ingested_at' order by 1").fetchall()]
    new_rows = 0
    for t in tables:
        new_rows += con.execute(f"delete from raw.{t} where ingested_at >= ?", [cutoff]).fetchone()[0]
    con.close()
    assert "interactions" in tables and new_rows > 100, "the new week must bring rows, else A equals B"
    target = d / "target"
    run_dbt(["build", "--exclude", "resource_type:test"], duckdb_path=build, target_path=target)
    serving = d / "serving_a.duckdb"
    publish(build, serving)
    db = d / "day1.duckdb"
    shutil.copy(build, db)
    return SimpleNamespace(dir=d, full=full, build=build, db=db, cutoff=cutoff, tables=tables, serving=serving,
                           target=target, fp=file_fingerprint(serving))


def day2(day1, name: str) -> tuple[Path, Path]:
    """The day-1 build database with the new week appended (at the module's one build path, which dbt's
    partial parsing needs: the database path is part of the profile), and a copy of serving copy A."""
    db = day1.build
    db.with_name(db.name + ".wal").unlink(missing_ok=True)  # a killed scenario's WAL must not replay on the copy
    shutil.copy(day1.db, db)
    con = duckdb.connect(str(db))
    con.execute(f"attach '{day1.full}' as full_data (read_only)")
    for t in day1.tables:
        con.execute(f"insert into raw.{t} by name select * from full_data.raw.{t} where ingested_at >= ?",
                    [day1.cutoff])
    con.close()
    serving = day1.dir / f"{name}_serving.duckdb"
    shutil.copy(day1.serving, serving)
    return db, serving


@pytest.fixture(scope="module")
def uninterrupted(day1):
    """The reference: one aimetrics run, with a BI reader looping on the serving copy and a second run tried."""
    db, serving = day2(day1, "uninterrupted")
    sha_a = sha(serving)
    reads, stop, log = day1.dir / "reads.jsonl", day1.dir / "reader.stop", day1.dir / "run.log"
    reader = subprocess.Popen([sys.executable, str(READER), str(serving), str(reads), str(stop)])
    while not (reads.exists() and reads.read_text()):
        assert reader.poll() is None, "the reader died before its first read"
        time.sleep(0.05)
    started = time.time()
    with log.open("w") as out:
        run = subprocess.Popen(cli(db, "run", "--serving", serving, "--docs-dir", day1.dir / "docs",
                                   "--target-path", day1.target),
                               stdout=out, stderr=subprocess.STDOUT, env=env(), start_new_session=True)
    lock = lock_path(db)
    while f"pid {run.pid}," not in (lock.read_text() if lock.exists() else ""):
        assert run.poll() is None, log.read_text()
        time.sleep(0.05)
    second = subprocess.run(cli(db, "run", "--serving", serving, "--docs-dir", day1.dir / "docs2",
                                "--target-path", day1.dir / "target2"),
                            capture_output=True, text=True, env=env(), timeout=120)
    first_running = run.poll() is None
    sha_after_second = sha(serving)
    t_raw = wait_for(log, RAW_CHECKED, run)
    t_built = wait_for(log, BUILT, run)
    t_publishing = wait_for(log, PUBLISHING, run)
    rc = run.wait(timeout=900)
    ended = time.time()
    while json.loads(reads.read_text().splitlines()[-1])["t"] <= ended:  # one more read after the run
        assert reader.poll() is None, "the reader died"
        time.sleep(0.05)
    stop.touch()
    reader.wait(timeout=60)
    assert rc == 0, log.read_text()[-3000:]
    assert None not in (t_raw, t_built, t_publishing), log.read_text()[-3000:]
    return SimpleNamespace(
        serving=serving, sha_a=sha_a, fp_a=day1.fp, fp_b=file_fingerprint(serving), rows=marts_rows(db),
        second=second, first_running=first_running, sha_after_second=sha_after_second,
        docs2=day1.dir / "docs2", target2=day1.dir / "target2",
        reads=[json.loads(line) for line in reads.read_text().splitlines()],
        started=started, t_raw=t_raw, t_built=t_built, t_publishing=t_publishing, ended=ended,
        log=log.read_text(),
    )


def test_second_run_exits_at_once_and_changes_nothing(uninterrupted):
    u = uninterrupted
    out = u.second.stdout + u.second.stderr
    assert u.second.returncode == 2, out
    assert u.first_running, "the second run returned only after the first had ended: it waited instead of exiting"
    assert "aimetrics run: error: another build is running on" in u.second.stderr, out
    assert "aimetrics run, pid" in u.second.stderr and "nothing was done" in u.second.stderr, out
    assert "Traceback" not in out
    assert not u.docs2.exists() and not u.target2.exists(), "the refused run wrote Data Docs or a dbt target"
    assert u.sha_after_second == u.sha_a, "the serving copy changed while the refused run ran"


def test_reader_reads_a_complete_version_throughout_the_build(uninterrupted):
    u = uninterrupted
    assert u.fp_a != u.fp_b, "A and B are equal: the test could not tell the versions apart"
    errors = [r for r in u.reads if "error" in r]
    assert not errors, f"{len(errors)} reads failed, e.g. {errors[0]['error']}"
    seen = ["A" if r["fp"] == u.fp_a else "B" if r["fp"] == u.fp_b else "other" for r in u.reads]
    assert "other" not in seen, "a reader saw a version that is neither the previous nor the new serving copy"
    assert "B" in seen and "A" not in seen[seen.index("B"):], "versions seen out of order (B, then A again)"
    during_build = [s for r, s in zip(u.reads, seen) if u.t_raw <= r["t"] <= u.t_built]
    assert len(during_build) >= 10, f"only {len(during_build)} reads while dbt build ran"
    assert all(s == "A" for r, s in zip(u.reads, seen) if r["t"] <= u.t_built), "B visible before publish"
    assert all(s == "B" for r, s in zip(u.reads, seen) if r["t"] > u.ended)


def test_serving_copy_is_the_built_marts(uninterrupted):
    u = uninterrupted
    built, served = u.rows, marts_rows(u.serving)
    assert sorted(built) == sorted(served) and len(built) >= 6
    for name, (cols, rows) in built.items():
        assert served[name][0] == cols, name
        assert sorted(served[name][1], key=repr) == sorted(rows, key=repr), name
    assert f"published {len(built)} tables of schema marts to {u.serving}" in u.log
    assert temp_leftovers(u.serving) == []


def test_killed_builds_rerun_to_the_uninterrupted_marts(day1, uninterrupted):
    """Seed 1: aimetrics run, SIGKILL of the run's own process at a random point of its dbt build (dbt
    orphaned, then killed); seed 2: dbt build, SIGKILL of its process group at a random point. Then rerun."""
    u = uninterrupted
    db, serving = day2(day1, "killed")
    window = u.t_built - u.t_raw  # how long dbt build ran in the uninterrupted run
    killed_midway = 0

    log = day1.dir / "killed_run.log"
    with log.open("w") as out:
        run = subprocess.Popen(cli(db, "run", "--serving", serving, "--docs-dir", day1.dir / "docs_killed",
                                   "--target-path", day1.target),
                               stdout=out, stderr=subprocess.STDOUT, env=env(), start_new_session=True)
    assert wait_for(log, RAW_CHECKED, run) is not None, log.read_text()
    time.sleep(random.Random(1).uniform(0, window))
    if run.poll() is None and BUILT not in log.read_text():
        killed_midway += 1
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    watch_lock(db, run.pid, seconds=3)
    kill_group_and_wait_for_lock(db, run.pid)
    assert file_fingerprint(serving) == u.fp_a or PUBLISHING in log.read_text()

    with (day1.dir / "killed_dbt.log").open("w") as out:
        dbt = subprocess.Popen([dbt_executable(), "--no-use-colors", "build", "--project-dir", str(PROJECT_DIR),
                                "--target-path", str(day1.target)],
                               cwd=PROJECT_DIR, env=dbt_env(db), stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    time.sleep(random.Random(2).uniform(0, window))
    if dbt.poll() is None:
        killed_midway += 1
        os.killpg(dbt.pid, signal.SIGKILL)
    dbt.wait()
    assert file_fingerprint(serving) == u.fp_a or PUBLISHING in log.read_text()
    assert killed_midway, "no kill landed while a build was running: the test proved nothing"

    rerun = subprocess.run(cli(db, "run", "--serving", serving, "--docs-dir", day1.dir / "docs_rerun",
                               "--target-path", day1.target), capture_output=True, text=True, env=env())
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert_marts_equal(u.rows, db, "build database after kills and rerun")
    assert_marts_equal(u.rows, serving, "serving copy after kills and rerun")
    assert temp_leftovers(serving) == []
    assert not db.with_name(db.name + ".wal").exists()


# ---------------------------------------------------------------- publish faults


@pytest.fixture(scope="module")
def changed(day1):
    """A build database whose marts differ from serving copy A (one metrics_daily row less), and its
    fingerprint once published: the "new version" the publish tests try to put in place of A."""
    db = day1.dir / "changed.duckdb"
    shutil.copy(day1.db, db)
    con = duckdb.connect(str(db))
    con.execute("delete from marts.metrics_daily "
                "where metric_date = (select min(metric_date) from marts.metrics_daily)")
    con.close()
    reference = day1.dir / "changed_serving.duckdb"
    publish(db, reference)
    fp = file_fingerprint(reference)
    assert fp != day1.fp
    return SimpleNamespace(db=db, fp=fp)


def test_killed_publish_leaves_a_complete_copy(day1, changed, tmp_path):
    """SIGKILL of a publish at random points (5 seeds): the serving copy is the old or the new version,
    never broken; the next publish removes the temporary files the killed ones left."""
    serving = tmp_path / "serving.duckdb"
    cmd = [sys.executable, "-c", PUBLISH_SCRIPT, str(changed.db), str(serving)]
    started = time.monotonic()
    subprocess.run(cmd, check=True, env=env())
    duration = time.monotonic() - started
    assert file_fingerprint(serving) == changed.fp
    alive_at_kill = 0
    for seed in range(1, 6):
        shutil.copy(day1.serving, serving)  # A
        proc = subprocess.Popen(cmd, env=env())
        time.sleep(random.Random(seed).uniform(0, duration))
        alive_at_kill += proc.poll() is None
        proc.kill()
        proc.wait()
        assert file_fingerprint(serving) in (day1.fp, changed.fp), f"seed {seed}: serving copy neither old nor new"
    assert alive_at_kill >= 2, "the kills came after the publishes had ended"
    publish(changed.db, serving)
    assert file_fingerprint(serving) == changed.fp
    assert temp_leftovers(serving) == []


def _previous_copy(day1, tmp_path: Path) -> Path:
    serving = tmp_path / "serving" / "aimetrics_serving.duckdb"
    serving.parent.mkdir()
    shutil.copy(day1.serving, serving)
    return serving


def _assert_intact(day1, serving: Path, sha_before: str, message: str, cause: str) -> None:
    assert sha(serving) == sha_before, "the previous serving copy changed"
    assert file_fingerprint(serving) == day1.fp
    assert temp_leftovers(serving) == [], "a temporary file was left behind"
    assert str(serving) in message and cause in message and "previous serving copy is unchanged" in message, message


@pytest.mark.parametrize("call, err", [("fsync", errno.ENOSPC), ("replace", errno.EACCES)])
def test_publish_os_error_keeps_previous_copy(day1, changed, tmp_path, monkeypatch, call, err):
    """Disk full when the copy is flushed, permission denied when it replaces the old one."""
    serving = _previous_copy(day1, tmp_path)
    before = sha(serving)

    def fail(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, call, fail)
    with pytest.raises(AimetricsError) as info:
        publish(changed.db, serving)
    monkeypatch.undo()
    _assert_intact(day1, serving, before, str(info.value), os.strerror(err))


def test_publish_refuses_a_serving_copy_named_like_the_schema(changed, tmp_path):
    """DuckDB names the database after its file: in marts.duckdb, marts.<table> would be ambiguous."""
    with pytest.raises(AimetricsError, match="cannot be named marts.duckdb: readers' marts.<table> would be ambiguous"):
        publish(changed.db, tmp_path / "marts.duckdb")
    assert list(tmp_path.iterdir()) == []


def test_publish_write_cut_short_keeps_previous_copy(day1, changed, tmp_path):
    """A real write failure midway: the publishing process may write files of at most 256 KiB (RLIMIT_FSIZE,
    as a full disk would stop it), the copy needs megabytes."""
    serving = _previous_copy(day1, tmp_path)
    before = sha(serving)
    limit = 256 * 1024
    script = ("import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n" + PUBLISH_SCRIPT)
    proc = subprocess.run([sys.executable, "-c", script, str(changed.db), str(serving)],
                          capture_output=True, text=True, env=env())
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    _assert_intact(day1, serving, before, proc.stdout, "File too large")


def test_publish_into_read_only_directory_keeps_previous_copy(day1, changed):
    """The serving directory made read-only (as root: the publishing process runs without the capabilities
    that bypass file permissions, through util-linux setpriv)."""
    base = Path(tempfile.mkdtemp(prefix="aimetrics-ro-"))
    try:
        serving = _previous_copy(day1, base)
        before = sha(serving)
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without util-linux setpriv: cannot make a directory read-only")
            caps = "-dac_override,-dac_read_search,-fowner,-linux_immutable"
            prefix = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--"]
        serving.parent.chmod(0o555)
        proc = subprocess.run([*prefix, sys.executable, "-c", PUBLISH_SCRIPT, str(changed.db), str(serving)],
                              capture_output=True, text=True, env=env())
        if prefix and "setpriv" in proc.stderr:
            pytest.skip(f"setpriv cannot drop capabilities here: {proc.stderr.strip()}")
        assert proc.returncode == 3, proc.stdout + proc.stderr
        serving.parent.chmod(0o755)
        _assert_intact(day1, serving, before, proc.stdout, "Permission denied")
    finally:
        for p in (base, base / "serving"):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize("serving_dir, code", [("serving", 0), ("missing", 1)])
def test_run_publishes_last_and_reports_a_failed_publish(changed, tmp_path, monkeypatch, capsys, serving_dir, code):
    """aimetrics run's last stage: publish after the checks pass; a failed publish blocks the run (exit 1)
    with the cause. The checks and dbt are replaced by passing stand-ins: only the publish stage is real."""
    from aimetrics import checks, dbt_runner

    monkeypatch.setattr(checks, "validate", lambda db, layer, docs_dir=None, **kwargs: checks.Report(layer, [], 1, 1, None))
    monkeypatch.setattr(dbt_runner, "run_dbt", lambda *args, **kwargs: None)
    (tmp_path / "serving").mkdir()
    serving = tmp_path / serving_dir / "aimetrics_serving.duckdb"
    assert checks.run_pipeline(changed.db, docs_dir=tmp_path / "docs", serving_path=serving) == code
    out, err = capsys.readouterr()
    if code == 0:
        assert file_fingerprint(serving) == changed.fp
        assert f"published {len(changed.fp)} tables of schema marts to {serving}" in out
    else:
        assert f"aimetrics run: blocked at publish: publishing the marts to {serving} failed: " in err
        assert "directory does not exist" in err and "the previous serving copy is unchanged" in err
        assert not serving.parent.exists()


# ---------------------------------------------------------------- the lock


def test_lock_held_by_dbt_child_after_the_run_is_killed(tmp_path):
    """The dbt subprocess inherits the build lock: killing the run alone does not free it while dbt lives."""
    db = tmp_path / "lock.duckdb"
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text("#!/bin/sh\nexec sleep 300\n")
    fake_dbt.chmod(0o755)
    script = ("import sys\nfrom aimetrics import dbt_runner\nfrom aimetrics.lock import build_lock\n"
              "dbt_runner.dbt_executable = lambda: sys.argv[2]\n"
              "with build_lock(sys.argv[1]):\n    print('locked', flush=True)\n"
              "    dbt_runner.run_dbt(['build'], duckdb_path=sys.argv[1])\n")
    run = subprocess.Popen([sys.executable, "-c", script, str(db), str(fake_dbt)], stdout=subprocess.PIPE,
                           text=True, start_new_session=True)
    try:
        assert run.stdout.readline().strip() == "locked"
        while len(live_members(run.pid)) < 2:  # the run and its "dbt"
            assert run.poll() is None
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        assert live_members(run.pid), "the dbt child died with the run"
        assert not lock_is_free(db), "the build lock was released while the run's dbt still runs"
    finally:
        kill_group_and_wait_for_lock(db, run.pid)


@pytest.mark.parametrize("command", [["run"], ["build"], ["load", "users", "users.csv"]])
def test_writers_refused_while_locked(tmp_path, command):
    """Every command that writes the database exits at once while another holds its lock, naming it."""
    db = tmp_path / "busy.duckdb"
    duckdb.connect(str(db)).execute("create schema raw; create table raw.users (user_id text)").close()
    (tmp_path / "users.csv").write_text("user_id\nu1\n")
    before = sha(db)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom aimetrics.lock import build_lock\n"
                               "with build_lock(sys.argv[1], 'aimetrics run'):\n    print('locked', flush=True)\n"
                               "    time.sleep(300)\n", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = subprocess.run(cli(db, *command), capture_output=True, text=True, env=env(), cwd=tmp_path, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert f"aimetrics run, pid {holder.pid}, started" in proc.stderr
        assert f"another build is running on {db}" in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        assert sha(db) == before and not db.with_name(db.name + ".wal").exists()
    finally:
        holder.kill()
        holder.wait()
    assert lock_is_free(db), "the lock outlived its holder"
