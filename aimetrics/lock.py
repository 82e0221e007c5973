"""One writer per build database: an exclusive ``flock`` on ``<database>.lock``.

``aimetrics run`` and ``aimetrics build`` take the lock before they touch the
database. A second one started meanwhile exits at once with a message naming
the holder, instead of failing midway on DuckDB's own file lock. The lock is
the kernel's (``fcntl.flock``), not the file's existence: the OS releases it
when the holder dies, even by SIGKILL, so a killed run never leaves a stale
lock. The file itself stays (it holds only the holder's pid and start time,
for the message).

The dbt subprocess inherits the locked file descriptor (:func:`held_fds`, passed
by :func:`aimetrics.dbt_runner.run_dbt`): a flock belongs to the open file
description, so when a run is killed but its dbt child lives on, the lock
stays held until dbt ends too, and no new run can write beside it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aimetrics.errors import AimetricsError

_held: dict[Path, int] = {}


def lock_path(db_path: Path | str) -> Path:
    db_path = Path(db_path).resolve()
    return db_path.with_name(db_path.name + ".lock")


def held_fds() -> tuple[int, ...]:
    """File descriptors of the locks this process holds (for subprocesses to inherit)."""
    return tuple(_held.values())


@contextmanager
def build_lock(db_path: Path | str, command: str = "aimetrics run") -> Iterator[Path]:
    """Hold the build lock of db_path for the block; AimetricsError at once when another process holds it."""
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the command creates the database there anyway
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AimetricsError(f"cannot create the build lock {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise AimetricsError(
                f"another build is running on {Path(db_path).resolve()} ({holder}; lock {path}); "
                "nothing was done: run again when it has finished") from None
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{command}, pid {os.getpid()}, started {started}\n".encode(), 0)
        _held[path] = fd
        try:
            yield path
        finally:
            del _held[path]
    finally:
        os.close(fd)  # closing the last descriptor of the open file releases the lock
