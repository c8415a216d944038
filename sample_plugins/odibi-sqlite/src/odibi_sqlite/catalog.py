"""Discovery answers in the shapes of Odibi's ``odibi.discovery.types`` models.

``CatalogSummary``, ``Schema`` and ``PreviewResult`` as plain dicts (the
driver does not import Odibi): the keys of each model's ``model_dump()``,
with timestamps as ISO 8601 text so that ``odibi discover --format json``
can print them.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import Final

from odibi_sqlite import sql

#: SQLite's schema of the database file itself.
MAIN: Final = "main"
#: Rows a preview returns at most, as Odibi's own connections cap it.
MAX_PREVIEW_ROWS: Final = 100


def dataset_ref(name: str, kind: str, row_count: int | None = None) -> dict[str, Any]:
    """A ``DatasetRef`` for a table or view of the main schema."""
    return {
        "name": name,
        "namespace": MAIN,
        "kind": kind,
        "path": f"{MAIN}.{name}",
        "format": None,
        "size_bytes": None,
        "row_count": row_count,
        "modified_at": None,
    }


def catalog(
    db: sqlite3.Connection,
    connection: str,
    *,
    include_stats: bool,
    limit: int,
    path: str,
    pattern: str,
) -> dict[str, Any]:
    """A ``CatalogSummary`` of the tables and views of the main schema."""
    if path not in {"", MAIN}:
        return _summary(connection, [], [], f"Schema {path!r} not found; SQLite has {MAIN!r}", [])
    found = [
        (name, kind)
        for name, kind in sql.datasets(db, -1)
        if not pattern or fnmatch.fnmatchcase(name, pattern)
    ]
    tables = []
    problems = []
    for name, kind in found[:limit]:
        count = None
        if include_stats:
            try:
                count = sql.row_count(db, name)
            except sqlite3.Error as exc:  # a view over a dropped table must not hide the others
                problems.append(f"Cannot count the rows of {name!r}: {exc}")
        tables.append(dataset_ref(name, kind, count))
    suggestions = [f"Found {len(found)} tables and views in schema {MAIN!r}", *problems]
    if len(found) > limit:
        suggestions.append(f"Showing the first {limit}; raise limit to see the others")
    return _summary(
        connection,
        [MAIN],
        tables,
        "Use get_table_info() for a table's columns, preview() for its rows",
        suggestions,
    )


def table_name(db: sqlite3.Connection, dataset: str) -> str:
    """The table ``dataset`` names: itself, or without ``main.`` as the catalog's paths have it.

    A table whose own name starts with ``main.`` keeps it.
    """
    prefix = f"{MAIN}."
    if dataset.startswith(prefix) and not sql.exists(db, dataset):
        return dataset[len(prefix) :]
    return dataset


def table_info(db: sqlite3.Connection, table: str) -> dict[str, Any]:
    """A ``Schema``: the table (or view) with its row count, columns and primary key."""
    columns = sql.columns(db, table)
    return {
        "dataset": dataset_ref(table, sql.kind(db, table), sql.row_count(db, table)),
        "columns": [
            {
                "name": column["name"],
                "dtype": column["type"],
                "nullable": column["nullable"],
                "description": None,
                "null_count": None,
                "null_pct": None,
                "cardinality": None,
                "distinct_count": None,
                "sample_values": [],
                "detected_pattern": None,
            }
            for column in columns
        ],
        "primary_key": [c["name"] for c in columns if c["primary_key"]] or None,
        "generated_at": _now(),
    }


def preview(db: sqlite3.Connection, table: str, rows: int, columns: list[str]) -> dict[str, Any]:
    """A ``PreviewResult``: the first ``rows`` rows (at most 100) of ``columns``."""
    wanted = min(rows, MAX_PREVIEW_ROWS)
    total = sql.row_count(db, table)
    found = sql.first_rows(db, table, columns, wanted)
    return {
        "dataset": dataset_ref(table, sql.kind(db, table), total),
        "columns": list(columns),
        "rows": [dict(zip(columns, row)) for row in found],
        "total_rows": total,
        "truncated": total > len(found),
        "format": None,
    }


def _summary(
    connection: str,
    schemas: list[str],
    tables: list[dict[str, Any]],
    next_step: str,
    suggestions: list[str],
) -> dict[str, Any]:
    return {
        "connection_name": connection,
        "connection_type": "sqlite",
        "generated_at": _now(),
        "schemas": schemas,
        "tables": tables,
        "folders": None,
        "files": None,
        "total_datasets": len(tables),
        "formats": {},
        "next_step": next_step,
        "suggestions": suggestions,
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
