"""The raw input contract, read from the dbt sources file.

``models/staging/_raw__sources.yml`` is the single machine-readable copy of
``raw-contract.md``: column names, types and, in ``meta``, whether a column is
required, its enum and its range. The loader and the data-contract checks read
it from here so the contract is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from aimetrics import PROJECT_DIR

SOURCES_FILE = PROJECT_DIR / "models" / "staging" / "_raw__sources.yml"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # text, timestamp, bigint, double, boolean, date
    required: bool = False
    enum: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    optional_table: bool
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"raw.{self.name} has no contract column {name!r}")


@lru_cache(maxsize=1)
def raw_contract() -> dict[str, Table]:
    """Return {table name: Table} for every raw table of the contract."""
    doc = yaml.safe_load(SOURCES_FILE.read_text())
    (source,) = [s for s in doc["sources"] if s["name"] == "raw"]
    tables = {}
    for t in source["tables"]:
        meta = t.get("meta", {})
        cols = []
        for c in t["columns"]:
            cm = c.get("meta", {}) or {}
            cols.append(
                Column(
                    name=c["name"],
                    data_type=c["data_type"],
                    required=bool(cm.get("required", False)),
                    enum=tuple(cm["enum"]) if "enum" in cm else None,
                    min=cm.get("min"),
                    max=cm.get("max"),
                    description=c.get("description", ""),
                )
            )
        tables[t["name"]] = Table(
            name=t["name"],
            key=tuple(meta.get("key", [])),
            optional_table=bool(meta.get("optional_table", False)),
            columns=tuple(cols),
        )
    return tables
