"""dbt-duckdb plugin registering the Tier-1 text checks as DuckDB functions.

profiles.yml (duckdb output) lists it under ``plugins`` and puts this folder on ``module_paths``;
dbt-duckdb then calls :meth:`Plugin.configure_connection` on the connection it opens, which
registers (duckdb 2.0: types passed as strings):

* ``aimetrics_edit_distance(output_text VARCHAR, final_text VARCHAR) -> BIGINT``
* ``aimetrics_edit_ratio(output_text VARCHAR, final_text VARCHAR) -> DOUBLE``
* ``aimetrics_unsupported_facts(output_text VARCHAR, source_text VARCHAR) -> VARCHAR[]``

A null argument gives null; so does an edit ratio of an empty output.
"""

from __future__ import annotations

from aimetrics_text_checks import normalized_edit_ratio, text_edit_distance, unsupported_facts

try:  # the plugin base class exists only where dbt-duckdb is installed
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - lets `register` be used with plain duckdb
    BasePlugin = object

FUNCTIONS = (
    ("aimetrics_edit_distance", text_edit_distance, ["VARCHAR", "VARCHAR"], "BIGINT"),
    ("aimetrics_edit_ratio", normalized_edit_ratio, ["VARCHAR", "VARCHAR"], "DOUBLE"),
    ("aimetrics_unsupported_facts", unsupported_facts, ["VARCHAR", "VARCHAR"], "VARCHAR[]"),
)


def register(conn) -> None:
    """Register every text check on a DuckDB connection (idempotent)."""
    for name, fn, params, returns in FUNCTIONS:
        try:
            conn.remove_function(name)
        except Exception:  # not registered yet
            pass
        # special null handling: the functions take nulls themselves and may return null (an empty
        # output has no edit ratio)
        conn.create_function(name, fn, params, returns, null_handling="special")


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        register(conn)
