"""Publish the marts for readers: a serving DuckDB file, replaced atomically.

DuckDB lets one process open a database file for writing and then refuses
every other process, read-only ones included, so BI tools cannot read the
build database while ``dbt build`` runs. ``aimetrics run`` therefore
publishes, after the mart checks pass, a copy of every table of schema
``marts`` to a separate serving file (default: ``<db stem>_serving.duckdb``
beside the build database; ``--serving`` or ``AIMETRICS_SERVING_PATH``):

1. write the copy to a temporary file in the serving file's directory
   (``.<name>.tmp-<pid>``), checkpoint and close it, fsync it;
2. ``os.replace`` it over the serving file (an atomic rename: a reader opens
   either the old file or the new one, never a mix), fsync the directory.

A reader that has the file open keeps reading the version it opened (its
descriptor holds the old file) and sees the new one when it reconnects. Any
failure before the rename (disk full, permission denied, a write cut short)
removes the temporary file and leaves the previous serving copy untouched.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

import duckdb

from aimetrics.errors import AimetricsError

SERVING_ENV = "AIMETRICS_SERVING_PATH"
SCHEMA = "marts"
SOURCE = "aimetrics_build_source"  # the build database's alias while copying


def default_serving_path(db_path: Path | str) -> Path:
    """$AIMETRICS_SERVING_PATH, else ``<db stem>_serving.duckdb`` beside the build database."""
    if os.environ.get(SERVING_ENV):
        return Path(os.environ[SERVING_ENV])
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}_serving.duckdb")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_copy(db_path: Path, tmp: Path) -> dict[str, int]:
    """Copy every table and view of schema marts of db_path into a new DuckDB file tmp, as tables."""
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"ATTACH {_quote(db_path)} AS {SOURCE} (READ_ONLY)")
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? "
            "and table_schema = ? order by table_name", [SOURCE, SCHEMA]).fetchall()]
        if not names:
            raise AimetricsError(f"{db_path} has no tables in schema {SCHEMA}: nothing to publish (run dbt build)")
        con.execute("BEGIN")
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        for name in names:
            con.execute(f"CREATE TABLE {SCHEMA}.{_ident(name)} AS SELECT * FROM {SOURCE}.{SCHEMA}.{_ident(name)}")
        con.execute("COMMIT")
        counts = {n: con.execute(f"select count(*) from {SCHEMA}.{_ident(n)}").fetchone()[0] for n in names}
        con.execute(f"DETACH {SOURCE}")
        con.execute("CHECKPOINT")
        return counts
    finally:
        con.close()


def publish(db_path: Path | str, serving_path: Path | str) -> dict[str, int]:
    """Replace serving_path atomically with a copy of the marts of db_path; rows per table.

    Raises AimetricsError, naming the file and the cause, when anything fails;
    the previous serving copy is then unchanged. Call it holding the build lock
    (:mod:`aimetrics.lock`): it removes temporary files a killed publish left.
    """
    db_path = Path(db_path).resolve()
    serving = Path(serving_path).absolute()
    if serving.resolve() == db_path:
        raise AimetricsError(f"the serving copy {serving} cannot be the build database itself")
    if serving.stem.lower() == SCHEMA:  # DuckDB names the catalog after the file: marts.<table> would be ambiguous
        raise AimetricsError(f"the serving copy cannot be named {serving.name}: readers' {SCHEMA}.<table> would be "
                             f"ambiguous (DuckDB names the database after the file); choose another name")
    directory = serving.parent
    tmp = directory / f".{serving.name}.tmp-{os.getpid()}"
    replaced = False
    try:
        if not directory.is_dir():
            raise FileNotFoundError(2, "directory does not exist", str(directory))
        for stale in directory.glob(f".{serving.name}.tmp-*"):  # left by a publish killed midway
            stale.unlink()
        counts = _write_copy(db_path, tmp)
        if serving.exists():  # keep the permissions given to the serving copy (e.g. readable by a BI group)
            os.chmod(tmp, stat.S_IMODE(serving.stat().st_mode))
        _fsync(tmp)
        os.replace(tmp, serving)
        replaced = True
        _fsync(directory)  # the rename itself survives a power cut
        return counts
    except (OSError, duckdb.Error, AimetricsError) as exc:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with suppress(OSError):
                leftover.unlink()
        if isinstance(exc, OSError):
            cause = f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc.strerror or exc)
        else:
            cause = " ".join(str(exc).split())[:300]
        if replaced:
            raise AimetricsError(f"published the marts to {serving}, but syncing its directory failed: "
                                 f"{cause}") from exc
        raise AimetricsError(f"publishing the marts to {serving} failed: {cause}; "
                             "the previous serving copy is unchanged") from exc
