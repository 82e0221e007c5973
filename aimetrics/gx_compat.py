"""The one place aimetrics works around Great Expectations' handling of DuckDB.

The problem (great-expectations 1.24 with duckdb-engine): GX's SQL execution
engine runs each metric query in ``with engine.connect() as conn:`` and reads
the rows only after that block has closed the connection — except for the
dialects in ``_PERSISTED_CONNECTION_DIALECTS`` (sqlite, mssql, bigquery,
databricks), for which it keeps one connection open. A closed duckdb-engine
connection yields no rows, so every SQL metric fails with ``list index out of
range`` and every expectation reports an exception instead of a result.

The workaround: register ``duckdb`` among the persisted-connection dialects.
GX then opens one connection per data source (``StaticPool``) and reads its
results on that open connection, so the expectations run in the database as
SQL (``SELECT count(*) ... WHERE NOT (...)``), never by loading the table into
pandas.

What comes with it, also handled here: a persisted connection is never closed
by GX, so :func:`close_connections` closes it (else the process keeps the
DuckDB file and ``dbt build`` cannot lock it); and on DuckDB a failed query
aborts the connection's transaction, so callers give each table its own data
source (one bad query must not fail the next table's checks). Two more GX 1.24
quirks: :func:`add_table_asset` (deprecated ``schema_name``) and
:func:`exit_without_teardown` (teardown noise).

``pytests/test_contracts_gx_compat.py`` fails loudly when GX changes: when the
private names used here disappear, and when GX starts to work without the
workaround (then the patch can go).
"""

from __future__ import annotations

import os
import sys

from great_expectations.execution_engine import sqlalchemy_execution_engine as _engine

DUCKDB = "duckdb"


class _Dialect(str):
    """A dialect name GX can compare like its own ``GXSqlDialect`` members.

    GX tests ``engine.dialect_name in _PERSISTED_CONNECTION_DIALECTS`` (string
    equality) and ``connection_string.startswith(dialect.value)``.
    """

    @property
    def value(self) -> str:
        return str(self)


def persisted_connection_dialects() -> tuple:
    """GX's current tuple of dialects that keep one connection open."""
    return _engine._PERSISTED_CONNECTION_DIALECTS


def duckdb_connection_is_persisted() -> bool:
    return any(str(getattr(d, "value", d)).lower() == DUCKDB for d in persisted_connection_dialects())


def enable_duckdb_pushdown() -> None:
    """Make GX keep its DuckDB connection open (idempotent). Call before creating a data source."""
    if not duckdb_connection_is_persisted():
        _engine._PERSISTED_CONNECTION_DIALECTS = (*persisted_connection_dialects(), _Dialect(DUCKDB))


def disable_duckdb_pushdown() -> None:
    """Undo :func:`enable_duckdb_pushdown` (for the test that GX still needs it)."""
    _engine._PERSISTED_CONNECTION_DIALECTS = tuple(
        d for d in persisted_connection_dialects() if str(getattr(d, "value", d)).lower() != DUCKDB
    )


def exit_without_teardown(code: int) -> None:
    """Flush the output and end the process now, skipping the interpreter's teardown.

    With great_expectations and duckdb-engine both imported, duckdb 2.0's
    nanobind bindings print ~80 lines of "nanobind: leaked N instances" when
    the interpreter tears down: DuckDB type objects still referenced from GX's
    and SQLAlchemy's caches (and duckdb's own module constants) are freed after
    the extension module. Harmless, but it would push the one-screen summary
    off the screen. Only the CLI calls this, once everything is printed and
    every DuckDB connection is closed (:func:`close_connections`).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def close_connections(source) -> None:
    """Close every DuckDB connection a GX SQL data source opened.

    A data source has two SQLAlchemy engines (one for introspection, one in its
    execution engine), and the execution engine keeps its persisted connection
    in ``_connection``. All must be closed, or this process keeps the DuckDB
    file open and a later ``dbt build`` cannot lock it for writing.
    """
    execution_engine = source.get_execution_engine()
    connection = getattr(execution_engine, "_connection", None)
    if connection is not None:
        connection.close()
        execution_engine._connection = None
    execution_engine.engine.dispose()
    source.get_engine().dispose()


def add_table_asset(source, name: str, table: str, schema: str):
    """A table asset of ``schema.table``.

    GX 1.24 deprecates ``schema_name`` in favour of a schema in the connection
    configuration, but DuckDB cannot set a default schema there (``search_path``
    is not a connection option), and one warehouse check reads several schemas.
    The deprecation warning is silenced here, for this call only.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)
        return source.add_table_asset(name=name, table_name=table, schema_name=schema)
