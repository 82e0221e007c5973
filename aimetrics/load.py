"""``aimetrics load``: append CSV / Parquet / JSON Lines files to a raw table.

The raw tables and their column types come from the raw contract
(:func:`aimetrics.contract.raw_contract`, i.e. ``models/staging/_raw__sources.yml``).

What the loader does, in one DuckDB transaction per call:

1. create schema ``raw`` and table ``raw.<table>`` with the contract's types
   if they are missing (text -> VARCHAR, timestamp -> TIMESTAMP holding UTC,
   bigint -> BIGINT, double -> DOUBLE, boolean -> BOOLEAN, date -> DATE);
2. read every file once with DuckDB's own reader (CSV as all VARCHAR,
   Parquet with its own types, JSON Lines with every key as VARCHAR), convert
   it to the table's types into a temporary table, flagging per row the values
   that could not be converted (one vectorised pass, no Python loop over
   rows), and check the flags and the required columns;
3. only when every file passed: add the extra (non-contract) columns, then
   ``INSERT ... SELECT`` the converted rows, and commit.

Anything wrong (unreadable file, missing required column, value that cannot
be stored in the typed column) raises :class:`AimetricsError` naming the file,
the column and the rule, and nothing of the call is written.

What the loader does *not* refuse, because staging quarantines it with a
reason code: null or empty required values, out-of-range numbers, values
outside an enum. The loader only refuses what cannot be stored in the typed
table.

Conversions (all in SQL):

* text columns keep the value as is (an empty string stays empty);
* in typed columns an empty or whitespace-only string is NULL;
* timestamps: text with an offset ('...+02:00', 'Z') becomes the UTC instant,
  naive text is taken as UTC, TIMESTAMPTZ values become UTC; stored as a naive
  TIMESTAMP. The session TimeZone is set to UTC, never inherited;
* dates: 'YYYY-MM-DD' or a timestamp text (its date as written);
* integers: '7', ' 7 ', '7.0', '1e3' are accepted, '7.5' and 'abc' are not;
* booleans: true/false/t/f/1/0/yes/no, case-insensitive.

Rows of a file without an ``ingested_at`` column get the load time there
(tables whose contract has ``ingested_at``), so deduplication keeps the
latest copy of a re-sent id.

Row numbers in messages count data rows from 1 (a CSV header is not a row).
"""

from __future__ import annotations

import csv
import gzip
import os
from datetime import datetime, timezone
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from aimetrics.contract import Table, raw_contract
from aimetrics.errors import AimetricsError

RAW_SCHEMA = "raw"
FORMATS = ("csv", "parquet", "jsonl")

#: contract data_type -> DuckDB column type
SQL_TYPES = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}

_EXTENSIONS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_COMPRESSION_SUFFIXES = (".gz", ".gzip", ".zst")

_INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}
_INT_TYPES_FIT_BIGINT = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE"}
_NAIVE_TS_TYPES = {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"}
_TZ_TYPE = "TIMESTAMP WITH TIME ZONE"

#: target type -> the rule a value broke, as "N values are not <rule>"
_RULES = {
    "BIGINT": ("an integer", "integers"),
    "DOUBLE": ("a number", "numbers"),
    "BOOLEAN": ("a boolean (true/false/1/0/yes/no)", "booleans (true/false/1/0/yes/no)"),
    "TIMESTAMP": ("a timestamp", "timestamps"),
    _TZ_TYPE: ("a timestamp", "timestamps"),
    "DATE": ("a date", "dates"),
}


# ----------------------------------------------------------------------------
# small helpers


def _qi(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _qs(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _one_line(exc: BaseException, limit: int = 400) -> str:
    """A DuckDB error message as one short line (no 'Possible fixes', no SQL echo)."""
    lines = []
    for line in str(exc).splitlines():
        line = line.strip()
        if not line:
            if lines:
                break
            continue
        if line.startswith(("Possible fixes", "LINE ", "The search space used was")):
            break
        lines.append(line[:200])
    msg = "; ".join(lines) or type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def _show(value: object, limit: int = 60) -> str:
    text = "NULL" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def _key(column_name: str) -> str:
    """Columns match case-insensitively and trimmed (DuckDB names are case-insensitive)."""
    return column_name.strip().lower()


def _base_type(sql_type: str) -> str:
    return sql_type.upper().split("(", 1)[0].strip()


def _is_nested(sql_type: str) -> bool:
    t = sql_type.upper()
    return t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION")) or t == "JSON"


def _simple_type(sql_type: str) -> str:
    """Type an extra column gets from a typed file: simple scalars keep theirs, the rest is VARCHAR."""
    base = _base_type(sql_type)
    if base in _INT_TYPES_FIT_BIGINT:
        return "BIGINT"
    if base in _FLOAT_TYPES or base == "DECIMAL":
        return "DOUBLE"
    if base in _NAIVE_TS_TYPES or sql_type.upper() == _TZ_TYPE:
        return "TIMESTAMP"
    if base in ("BOOLEAN", "DATE"):
        return base
    return "VARCHAR"


# ----------------------------------------------------------------------------
# conversion of one source column to one target type, as SQL


def _from_text(s: str, target: str) -> str:
    """Convert ``s`` (trimmed, non-empty VARCHAR or NULL) to ``target``; NULL when it cannot."""
    if target == "BIGINT":
        # try_cast('7.5' AS BIGINT) rounds to 8: accept only integral values.
        return (f"CASE WHEN try_cast({s} AS DOUBLE) = try_cast({s} AS BIGINT) "
                f"THEN try_cast({s} AS BIGINT) END")
    if target == "TIMESTAMP":
        # via TIMESTAMPTZ: a cast straight to TIMESTAMP would drop the offset. The offset is
        # normalised first ('z' -> +00:00, no space before the sign), as staging's
        # duckdb__to_utc_timestamp does; naive text is UTC (the session TimeZone is UTC).
        normalised = (f"regexp_replace(regexp_replace({s}, '\\s*[zZ]$', '+00:00'), "
                      f"'\\s+([+-]\\d\\d(:?\\d\\d)?)$', '\\1')")
        return f"timezone('UTC', try_cast({normalised} AS TIMESTAMPTZ))"
    return f"try_cast({s} AS {target})"


def _convert(x: str, src_type: str, target: str) -> tuple[str, str | None]:
    """SQL converting column ``x`` (of ``src_type``) to ``target``.

    Returns (value expression, presence predicate). The value is NULL when the
    source is NULL/empty or cannot be converted; a row fails when the presence
    predicate is true and the value is NULL. Presence is None when the
    conversion cannot fail.
    """
    src = src_type.upper()
    base = _base_type(src)
    target = target.upper()

    if target == "VARCHAR":  # text is kept as is: an empty string stays empty
        if src == "VARCHAR":
            return x, None
        if _is_nested(src) and src != "JSON":
            return f"CAST(to_json({x}) AS VARCHAR)", None
        if src == _TZ_TYPE:
            return f"CAST(timezone('UTC', {x}) AS VARCHAR)", None
        return f"CAST({x} AS VARCHAR)", None

    direct: str | None = None
    if src == target:
        direct = x
    elif target == "BIGINT" and base in _INT_TYPES:
        direct = f"try_cast({x} AS BIGINT)"
    elif target == "BIGINT" and (base in _FLOAT_TYPES or base == "DECIMAL"):
        direct = f"CASE WHEN {x} = trunc({x}) THEN try_cast({x} AS BIGINT) END"
    elif target == "DOUBLE" and (base in _INT_TYPES or base in _FLOAT_TYPES or base == "DECIMAL"):
        direct = f"CAST({x} AS DOUBLE)"
    elif target == "TIMESTAMP" and (base in _NAIVE_TS_TYPES or base == "DATE"):
        direct = f"CAST({x} AS TIMESTAMP)"
    elif target == "TIMESTAMP" and src == _TZ_TYPE:
        direct = f"timezone('UTC', {x})"
    elif target == "DATE" and base in _NAIVE_TS_TYPES:
        direct = f"CAST({x} AS DATE)"
    elif target == "DATE" and src == _TZ_TYPE:
        direct = f"CAST(timezone('UTC', {x}) AS DATE)"
    elif target == _TZ_TYPE and (base in _NAIVE_TS_TYPES or base == "DATE"):
        direct = f"CAST({x} AS TIMESTAMPTZ)"  # naive taken as UTC (session TimeZone is UTC)
    if direct is not None:
        return direct, f"{x} IS NOT NULL"

    # everything else goes through text: trimmed, empty or blank -> NULL
    if src == "VARCHAR":
        text = x
    elif _is_nested(src) and src != "JSON":
        text = f"CAST(to_json({x}) AS VARCHAR)"
    else:
        text = f"CAST({x} AS VARCHAR)"
    s = f"nullif(trim({text}), '')"
    return _from_text(s, target), f"{s} IS NOT NULL"


def _rule(target: str, n: int) -> str:
    one, many = _RULES.get(target.upper(), (f"convertible to {target}", f"convertible to {target}"))
    return f"1 value is not {one}" if n == 1 else f"{n} values are not {many}"


# ----------------------------------------------------------------------------
# files


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise AimetricsError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    name = path.name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    ext = Path(name).suffix
    if ext not in _EXTENSIONS:
        raise AimetricsError(
            f"{path}: cannot tell the format from the extension {ext or '(none)'!r}; "
            f"use .csv, .parquet/.pq, .jsonl/.ndjson/.json or --format {{{','.join(FORMATS)}}}"
        )
    return _EXTENSIONS[ext]


def _csv_header(path: Path) -> tuple[list[str], str] | None:
    """(column names, delimiter) from the header line of a CSV file; None for .zst files.

    The delimiter is the most frequent of , ; TAB | in the header line (',' on a
    tie). The file is then read with a fixed dialect (RFC 4180 quoting, no
    comment lines, no skipped rows) rather than DuckDB's sniffer, which on a
    malformed file can settle on skipping rows, treating '#' lines as
    comments or reading one big column, and so silently lose data.
    """
    name = path.name.lower()
    if name.endswith(".zst"):
        return None
    opener = gzip.open if name.endswith((".gz", ".gzip")) else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as f:
            line = f.readline(1 << 20)
    except (OSError, EOFError) as exc:
        raise AimetricsError(f"{path}: cannot read as CSV: {exc}") from None
    line = line.rstrip("\r\n")
    if not line.strip():
        return [], ","
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    delim = best if counts[best] > counts[","] else ","
    names = next(csv.reader([line], delimiter=delim, quotechar='"'))
    return [n if n.strip() else f"column{i}" for i, n in enumerate(names)], delim


def _refuse_duplicates(path: Path, names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        if _key(name) in seen:
            raise AimetricsError(
                f"{path}: columns {seen[_key(name)]!r} and {name!r} are the same column "
                "(column names match case-insensitively)"
            )
        seen[_key(name)] = name


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


_WHAT = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines", "rows": "converted rows"}


@dataclass
class Rows:
    """Rows an ingestion adapter converted from one file: text columns, checked like a CSV.

    ``path`` is the file they came from (named in messages); ``table`` is a
    pyarrow table of string columns, one per raw column (contract or extra).
    """

    path: Path
    table: pa.Table


@dataclass
class _Source:
    """One input file: how to read it, its columns, and its converted copy."""

    path: Path
    fmt: str
    relation: str  # SQL table function reading the file
    # (name in the file, DuckDB type as read, type a new extra column gets)
    columns: list[tuple[str, str, str]]
    temp: str  # temporary table holding the converted values v0, v1, ...
    rows: int = 0


def _open_source(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, index: int) -> _Source:
    """Find how to read one file and which columns it has (reads headers / metadata only)."""
    p = _qs(str(path))
    try:
        if fmt == "rows":
            raise AssertionError("use _rows_source")  # pragma: no cover
        if fmt == "csv":
            header = _csv_header(path)
            if header is None:  # compressed with zstd: let DuckDB find the header
                relation = (f"read_csv({p}, all_varchar=true, header=true, quote='\"', "
                            "allow_quoted_nulls=false, skip=0, comment='')")
                cols = [(n, t, "VARCHAR") for n, t in _describe(con, relation)]
            else:
                names, delim = header
                _refuse_duplicates(path, names)
                spec = ", ".join(f"{_qs(n)}: 'VARCHAR'" for n in names)
                relation = (f"read_csv({p}, auto_detect=false, header=true, columns={{{spec}}}, "
                            f"delim={_qs(delim)}, quote='\"', escape='\"', allow_quoted_nulls=false)")
                cols = [(n, "VARCHAR", "VARCHAR") for n in names]
        elif fmt == "parquet":
            relation = f"read_parquet({p})"
            cols = [(n, t, _simple_type(t)) for n, t in _describe(con, relation)]
        else:
            # Every key is read as VARCHAR (objects and arrays as JSON text) so values
            # follow the same conversion rules as CSV; a type guessed from a sample could
            # fail later in the file. The guessed type is used only for new extra columns.
            sampled = _describe(con, f"read_json({p}, format='newline_delimited')")
            known = {n for n, _ in sampled}
            # keys absent from the sample DuckDB's type detection read
            later = con.execute(
                f"SELECT DISTINCT unnest(json_keys(json)) AS k FROM "
                f"read_json_objects({p}, format='newline_delimited') ORDER BY k"
            ).fetchall()
            detected = sampled + [(k, "VARCHAR") for (k,) in later if k not in known]
            _refuse_duplicates(path, [n for n, _ in detected])
            cols = [(n, "VARCHAR", _simple_type(t)) for n, t in detected]
            spec = ", ".join(f"{_qs(n)}: 'VARCHAR'" for n, _ in detected)
            relation = (f"read_json({p}, format='newline_delimited', columns={{{spec}}})"
                        if detected else f"read_json({p}, format='newline_delimited')")
    except duckdb.Error as exc:
        raise AimetricsError(f"{path}: cannot read as {_WHAT[fmt]}: {_one_line(exc)}") from None
    return _Source(path, fmt, relation, cols, temp=f"__aimetrics_load_{index}")


def _rows_source(con: duckdb.DuckDBPyConnection, rows: Rows, index: int) -> _Source:
    """An adapter's converted rows, registered as a view: every column text, like a CSV."""
    name = f"__aimetrics_rows_{index}"
    con.execute("SELECT 1").fetchall()  # register() refuses while an earlier result is still pending
    con.register(name, rows.table)
    cols = [(n, "VARCHAR", "VARCHAR") for n in rows.table.column_names]
    return _Source(Path(rows.path), "rows", name, cols, temp=f"__aimetrics_load_{index}")


# ----------------------------------------------------------------------------
# the load


@dataclass
class _TableColumn:
    name: str
    sql_type: str  # the type it has, or will have after this load's ALTERs
    exists: bool  # already in the raw table
    contract: bool  # a contract column (never widened)
    widen: bool = False  # existing extra column to be changed to VARCHAR


_MASK_BITS = 62  # failure flags per BIGINT mask column


def _materialize(con: duckdb.DuckDBPyConnection, src: _Source,
                 table_cols: dict[str, _TableColumn]) -> list[tuple[int, _TableColumn, str, int]]:
    """Read and convert the file into its temp table, in one pass.

    The temp table has v<i> (column i converted to its table type) and mask
    columns __bad<m> with one bit per convertible column, set on the rows
    whose value could not be converted. Returns the checks as
    (column index, table column, mask column, bit).
    """
    inner, outer, flags, checks = [], [], [], []
    for i, (name, src_type, _) in enumerate(src.columns):
        col = table_cols[_key(name)]
        value, present = _convert(f"c{i}", src_type, col.sql_type)
        inner.append(f"{value} AS v{i}")
        outer.append(f"v{i}")
        if present is not None:
            inner.append(f"{present} AS p{i}")
            n = len(checks)
            mask, bit = f"__bad{n // _MASK_BITS}", n % _MASK_BITS
            checks.append((i, col, mask, bit))
            flags.append((mask, f"CASE WHEN p{i} AND v{i} IS NULL THEN {1 << bit} ELSE 0 END"))
    for mask in dict.fromkeys(m for m, _ in flags):
        outer.append(" + ".join(f for m, f in flags if m == mask) + f" AS {mask}")
    rename = ", ".join(f"{_qi(n)} AS c{i}" for i, (n, _, _) in enumerate(src.columns))
    try:
        if src.columns:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {src.temp} AS SELECT {', '.join(outer)} FROM "
                f"(SELECT {', '.join(inner)} FROM (SELECT {rename} FROM {src.relation}))"
            )
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {src.temp} (v0 VARCHAR)")
        src.rows = con.execute(f"SELECT count(*) FROM {src.temp}").fetchone()[0]
    except duckdb.Error as exc:
        raise AimetricsError(f"{src.path}: cannot read as {_WHAT[src.fmt]}: {_one_line(exc)}") from None
    return checks


def _check_source(con: duckdb.DuckDBPyConnection, src: _Source, contract: Table,
                  table_cols: dict[str, _TableColumn]) -> None:
    """Refuse a missing required column or a value that cannot be stored; convert the file."""
    _refuse_duplicates(src.path, [n for n, _, _ in src.columns])
    seen = {_key(n) for n, _, _ in src.columns}
    for name, _, hint in src.columns:
        key = _key(name)
        if key not in table_cols:  # a new extra column
            table_cols[key] = _TableColumn(name.strip(), hint, False, False)

    missing = [c for c in contract.required_columns if _key(c) not in seen]
    if missing:
        s = "" if len(missing) == 1 else "s"
        raise AimetricsError(f"{src.path}: missing required column{s} {', '.join(missing)}")

    while True:
        checks = _materialize(con, src, table_cols)
        if not checks or not src.rows:
            return
        counts = con.execute(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {m} & {1 << b} <> 0)" for _, _, m, b in checks)
            + f" FROM {src.temp}"
        ).fetchone()
        failed = [(check, n) for check, n in zip(checks, counts) if n]
        if not failed:
            return
        extra = [col for (_, col, _, _), _ in failed if not col.contract]
        if extra:
            # An extra column whose values do not all fit the type it got from an
            # earlier file or from this file's metadata: keep it as text instead.
            for col in extra:
                col.widen = col.exists
                col.sql_type = "VARCHAR"
            continue  # convert this file again
        problems = []
        for (i, col, mask, bit), n in failed:
            # rowids are not 0-based inside a transaction: count the rows before
            (row,) = con.execute(
                f"SELECT count(*) FROM {src.temp} WHERE rowid < "
                f"(SELECT min(rowid) FROM {src.temp} WHERE {mask} & {1 << bit} <> 0)"
            ).fetchone()
            name = src.columns[i][0]
            try:
                found = con.execute(
                    f"SELECT CAST({_qi(name)} AS VARCHAR) FROM {src.relation} LIMIT 1 OFFSET {row}"
                ).fetchone()
            except duckdb.Error:  # pragma: no cover - the file was just read
                found = None
            shown = f": {_show(found[0])}" if found else ""
            problems.append(f"column {name}: {_rule(col.sql_type, n)} (first at row {row + 1}{shown})")
        raise AimetricsError(f"{src.path}: " + "; ".join(problems))


def connect(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC with the profile's resource settings (`_limit_resources`);
    a clear error when the file is locked or cannot be opened."""
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.Error as exc:
        msg = _one_line(exc)
        if "lock" in msg.lower():
            raise AimetricsError(
                f"cannot open {db_path}: the database is locked by another process "
                f"(a dbt run, a notebook, another load?); close it and retry ({msg})"
            ) from None
        raise AimetricsError(f"cannot open DuckDB file {db_path}: {msg}") from None
    try:
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error as exc:  # pragma: no cover - ICU is bundled with the Python package
        con.close()
        raise AimetricsError(f"cannot set the DuckDB session time zone to UTC: {_one_line(exc)}") from None
    _limit_resources(con, db_path)
    return con


def _limit_resources(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> None:
    """The profile's DuckDB resource settings, from the same environment variables.

    Without them DuckDB takes 80% of RAM: loading 10M interactions reached 13.3 GB RSS. With
    a memory limit it spills the loader's temp tables to the temp directory instead.
    """
    settings = {"memory_limit": os.environ.get("AIMETRICS_MEMORY_LIMIT", "4GB"),
                "temp_directory": os.environ.get("AIMETRICS_TEMP_DIRECTORY", f"{db_path}.tmp")}
    if os.environ.get("AIMETRICS_THREADS"):
        settings["threads"] = os.environ["AIMETRICS_THREADS"]
    for name, value in settings.items():
        try:
            con.execute(f"SET {name} = {_qs(str(value))}")
        except duckdb.Error as exc:
            con.close()
            raise AimetricsError(f"cannot set DuckDB {name} = {value!r} (from AIMETRICS_*): {_one_line(exc)}") from None


def _table_columns(con: duckdb.DuckDBPyConnection, contract: Table) -> dict[str, _TableColumn]:
    """Create schema/table if missing; {lower-case name: column} of the table and missing contract columns."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_qi(RAW_SCHEMA)}")
    defs = ", ".join(f"{_qi(c.name)} {SQL_TYPES[c.data_type]}" for c in contract.columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {_qi(RAW_SCHEMA)}.{_qi(contract.name)} ({defs})")
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [RAW_SCHEMA, contract.name],
    ).fetchall()
    contract_names = {_key(c.name) for c in contract.columns}
    cols = {_key(n): _TableColumn(n, t, True, _key(n) in contract_names) for n, t in rows}
    for c in contract.columns:  # a table created by someone else may lack an optional contract column
        if _key(c.name) not in cols:
            cols[_key(c.name)] = _TableColumn(c.name, SQL_TYPES[c.data_type], False, True)
    return cols


def load_files(db_path: Path | str, table: str, files: Sequence[Path | str], fmt: str | None = None,
               show_progress: bool = True) -> int:
    """Append ``files`` to ``raw.<table>`` in one transaction; return the number of rows loaded.

    Raises :class:`AimetricsError`, and writes nothing, when the table is not a
    contract table, a file cannot be read, lacks a required column or holds a
    value that cannot be stored in its column's type.
    """
    if not files:
        raise AimetricsError("no files to load")
    return load_tables(db_path, {table: list(files)}, fmt=fmt, show_progress=show_progress)[table]


def load_tables(db_path: Path | str, inputs: dict[str, Sequence[Path | str | Rows]], fmt: str | None = None,
                show_progress: bool = True) -> dict[str, int]:
    """Append files (or adapters' :class:`Rows`) to several raw tables in ONE transaction.

    ``inputs`` maps a raw table to what goes into it. Returns {table: rows
    loaded}. Every table follows the rules of :func:`load_files`; a refusal in
    any of them writes nothing at all.
    """
    contract_tables = raw_contract()
    plans: list[tuple[Table, list[tuple[Path | Rows, str]]]] = []
    for table, items in inputs.items():
        if table not in contract_tables:
            raise AimetricsError(f"unknown raw table {table!r}; valid tables: {', '.join(contract_tables)}")
        plan: list[tuple[Path | Rows, str]] = []
        for item in items:
            if isinstance(item, Rows):
                plan.append((item, "rows"))
                continue
            path = Path(item)
            if not path.exists():
                raise AimetricsError(f"{path}: file not found")
            if not path.is_file():
                raise AimetricsError(f"{path}: not a file")
            plan.append((path, _format_of(path, fmt)))
        plans.append((contract_tables[table], plan))

    from aimetrics.progress import progress

    n_files = sum(len(plan) for _, plan in plans)
    con = connect(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            totals: dict[str, int] = {}
            with progress("loading", n_files if show_progress else None) as bar:
                first = 0
                for contract, plan in plans:
                    totals[contract.name] = _load(con, contract, plan, first, bar)
                    first += len(plan)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
    except duckdb.Error as exc:
        tables = ", ".join(f"{RAW_SCHEMA}.{c.name}" for c, _ in plans)
        raise AimetricsError(f"load into {tables} failed: {_one_line(exc)}") from None
    finally:
        con.close()
    return totals


def _load(con: duckdb.DuckDBPyConnection, contract: Table, plan: list[tuple[Path | Rows, str]],
          first_index: int = 0, bar=None) -> int:
    table_cols = _table_columns(con, contract)

    # 1. read, convert and check every file before writing anything
    sources = []
    for index, (path, fmt) in enumerate(plan, start=first_index):
        if bar is not None:
            bar.update(description=f"reading {Path(getattr(path, 'path', path)).name} -> raw.{contract.name}")
        if isinstance(path, Rows):
            src = _rows_source(con, path, index)
        else:
            src = _open_source(con, path, fmt, index)
        _check_source(con, src, contract, table_cols)
        sources.append(src)
        if bar is not None:
            bar.advance()

    # 2. schema changes: missing contract columns, new extra columns, extra columns widened to text
    target = f"{_qi(RAW_SCHEMA)}.{_qi(contract.name)}"
    for col in table_cols.values():
        if not col.exists:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {_qi(col.name)} {col.sql_type}")
            col.exists = True
        elif col.widen:
            con.execute(f"ALTER TABLE {target} ALTER COLUMN {_qi(col.name)} TYPE VARCHAR")
            col.widen = False

    # 3. append (an earlier file may hold an extra column in the type it had before widening).
    # A file without ingested_at gets the load time: the latest copy of a duplicated id wins
    # by ingested_at, so a re-sent row must be newer than the copy it replaces.
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    total = 0
    for src in sources:
        if src.rows and src.columns:
            cols = [table_cols[_key(n)] for n, _, _ in src.columns]
            names = [_qi(col.name) for col in cols]
            exprs = [f"CAST(v{i} AS {col.sql_type})" for i, col in enumerate(cols)]
            if "ingested_at" in contract.column_names and _key("ingested_at") not in {_key(n) for n, _, _ in src.columns}:
                names.append(_qi("ingested_at"))
                exprs.append(f"TIMESTAMP '{loaded_at}'")
            con.execute(f"INSERT INTO {target} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM {src.temp}")
            total += src.rows
        con.execute(f"DROP TABLE IF EXISTS {src.temp}")
        if src.fmt == "rows":
            con.execute("SELECT 1").fetchall()
            con.unregister(src.relation)
    return total
