"""A BI reader for pytests/test_faults.py, run as a separate process.

    python pytests/faults_reader.py SERVING.duckdb OUT.jsonl STOPFILE

Until STOPFILE exists: open the serving copy read-only (a new connection each
time, as a BI tool's new query would), fingerprint every table of schema
marts in that one connection, close, and append one JSON line
``{"t": unix time, "fp": {...}}`` or ``{"t": ..., "error": "..."}`` to OUT.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """{table: [rows, sum of row hashes]} for every table of schema marts: equal content, equal fingerprint."""
    names = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "order by table_name").fetchall()]
    out = {}
    for name in names:
        n, h = con.execute(f'select count(*), coalesce(sum(hash(t)::hugeint), 0) from marts."{name}" t').fetchone()
        out[name] = [n, str(h)]
    return out


def file_fingerprint(path: Path | str) -> dict[str, list]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return fingerprint(con)
    finally:
        con.close()


def main(serving: str, out: str, stop: str) -> None:
    with open(out, "a") as fh:
        while not Path(stop).exists():
            t = time.time()
            try:
                record = {"t": t, "fp": file_fingerprint(serving)}
            except Exception as exc:  # a refused or failed read is what the test looks for
                record = {"t": t, "error": f"{type(exc).__name__}: {exc}"}
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            time.sleep(0.05)


if __name__ == "__main__":
    main(*sys.argv[1:4])
