"""Print the scorecard mart as a readable table."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from aimetrics.errors import AimetricsError

#: (column in marts.scorecard, header, value format)
HEADLINE = [
    ("tcr", "TCR", "{:.1%}"),
    ("hallucination_rate", "HR", "{:.2%}"),
    ("tta_p50_s", "TTA p50 (s)", "{:.1f}"),
    ("hitl_f", "HitL-F", "{:.1f}"),
    ("retention_delta_pts", "RΔ (pts)", "{:+.1f}"),
    ("cpvo", "CPVO ($)", "{:.4f}"),
]
STATUS_STYLE = {"healthy": "green", "at_risk": "yellow", "critical": "bold red", "insufficient_data": "dim"}


def read_scorecard(db_path: Path, weeks: int = 2) -> list[dict]:
    """Rows of marts.scorecard for the latest `weeks` weeks."""
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise AimetricsError(f"cannot open {db_path} read-only: {exc}") from exc
    try:
        cur = con.execute(
            """
            select * from marts.scorecard
            where week in (select distinct week from marts.scorecard order by week desc limit ?)
            order by week desc, feature, model
            """,
            [weeks],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
    except duckdb.CatalogException as exc:
        raise AimetricsError(f"{db_path} has no marts.scorecard: run `aimetrics build` first ({exc})") from exc
    finally:
        con.close()


def format_cell(value, status: str, fmt: str) -> str:
    text = "—" if value is None else fmt.format(value)
    return f"[{STATUS_STYLE.get(status, '')}]{text}[/]"


def quarantine_counts(db_path: Path) -> dict[str, int]:
    """Rows per quarantine model ({raw table: rows})."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'quarantine' "
            "union select view_name from duckdb_views() where schema_name = 'quarantine' order by 1"
        ).fetchall() if t.startswith("quarantine_raw__")]
        return {t.removeprefix("quarantine_raw__"): con.execute(f"select count(*) from quarantine.{t}").fetchone()[0]
                for t in tables}
    finally:
        con.close()


def print_scorecard(db_path: Path, weeks: int = 2, console: Console | None = None) -> None:
    # a pipe or log file gets a table wide enough for the feature and model names
    console = console or Console(width=None if Console().is_terminal else 120)
    rows = read_scorecard(db_path, weeks)
    if not rows:
        console.print("The scorecard is empty: no queries in the data.")
        return
    for week in sorted({r["week"] for r in rows}, reverse=True):
        table = Table(title=f"aimetrics scorecard — week of {week}", title_justify="left")
        table.add_column("feature")
        table.add_column("model")
        for _, header, _ in HEADLINE:
            table.add_column(header, justify="right")
        for r in (r for r in rows if r["week"] == week):
            table.add_row(
                r["feature"], r["model"],
                *(format_cell(r[col], r[f"{col}_status"], fmt) for col, _, fmt in HEADLINE),
            )
        console.print(table)
    console.print(
        "[green]healthy[/]  [yellow]at risk[/]  [bold red]critical[/]  [dim]insufficient data "
        "(fewer than min_sample in the denominator)[/]   — no value yet (e.g. RΔ needs 7 days after the week)"
    )
    quarantined = quarantine_counts(db_path)
    if any(quarantined.values()):
        listed = ", ".join(f"{t} {n:,}" for t, n in quarantined.items() if n)
        console.print(f"Quarantined rows (schema quarantine, each with its reason_code): {listed}")
