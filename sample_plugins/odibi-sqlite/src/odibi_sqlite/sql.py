"""The SQL a SQLite connection runs, on an open ``sqlite3.Connection``.

Every identifier goes through :func:`quote_identifier` and every value is a
bound parameter, so table and column names need no trust at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import Final

from odibi_sqlite.config import DRIVER

#: Four aggregates per column; SQLite allows 2000 result columns by default.
_COLUMNS_PER_QUERY: Final = 100


def quote_identifier(name: str) -> str:
    """``name`` as one SQL identifier: in double quotes, inner double quotes doubled.

    ``a"b`` becomes ``"a""b"``. A dotted name stays one
    identifier: ``"main.t"`` names a table called ``main.t``.
    """
    if not isinstance(name, str):
        raise TypeError(f"{DRIVER}: a table or column name is a str, not {type(name).__name__}")
    if "\x00" in name:
        raise ValueError(f"{DRIVER}: a table or column name cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def datasets(db: sqlite3.Connection, limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` ``(name, kind)`` of tables and views, by name, without SQLite's own."""
    rows = db.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT ?",
        (limit,),
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def exists(db: sqlite3.Connection, table: str) -> bool:
    """Whether the main schema has a table or view named ``table``."""
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)
    ).fetchone()
    return row is not None


def kind(db: sqlite3.Connection, table: str) -> str:
    """``"table"`` or ``"view"``: what ``table`` is in the main schema.

    Raises ``LookupError`` naming ``table`` when it is neither.
    """
    row = db.execute(
        "SELECT type FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)
    ).fetchone()
    if row is None:
        raise LookupError(f"{DRIVER}: no table or view named {table!r}")
    return str(row[0])


def first_rows(
    db: sqlite3.Connection, table: str, names: Sequence[str], limit: int
) -> list[tuple[Any, ...]]:
    """The first ``limit`` rows of ``table`` (in storage order), columns ``names`` only."""
    selected = ", ".join(quote_identifier(name) for name in names)
    return db.execute(
        f"SELECT {selected} FROM {quote_identifier(table)} LIMIT ?",  # noqa: S608  # quoted identifiers
        (limit,),
    ).fetchall()


def columns(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    """The columns of ``table`` (generated ones included), in declaration order.

    Raises ``LookupError`` naming ``table`` when there is no such table or view.
    """
    quote_identifier(table)  # the same checks as for every other name
    rows = db.execute(
        'SELECT name, type, "notnull", pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid',
        (table,),
    ).fetchall()
    if not rows:
        raise LookupError(f"{DRIVER}: no table or view named {table!r}")
    visible = [row for row in rows if row[4] != 1]  # hidden == 1: a virtual table's hidden column
    key_columns = sum(1 for row in visible if row[3])
    return [
        {
            "name": name,
            "type": declared,
            "nullable": not not_null and not _is_rowid_alias(declared, pk, key_columns),
            "primary_key": bool(pk),
        }
        for name, declared, not_null, pk, _hidden in visible
    ]


def row_count(db: sqlite3.Connection, table: str) -> int:
    """How many rows ``table`` holds."""
    (count,) = db.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchone()  # noqa: S608  # quoted identifier
    return int(count)


def sampled_rows(db: sqlite3.Connection, table: str, sample_rows: int) -> int:
    """How many rows the first ``sample_rows`` of ``table`` really are."""
    (count,) = db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {quote_identifier(table)} LIMIT ?)",  # noqa: S608  # quoted identifier
        (sample_rows,),
    ).fetchone()
    return int(count)


def column_stats(
    db: sqlite3.Connection, table: str, names: Sequence[str], sample_rows: int
) -> dict[str, dict[str, Any]]:
    """``null_count``, ``distinct_count``, ``min`` and ``max`` of each column in ``names``,
    over the first ``sample_rows`` rows of ``table`` (in storage order)."""
    stats: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(names, _COLUMNS_PER_QUERY):
        quoted = [quote_identifier(name) for name in chunk]
        aggregates = ", ".join(
            f"count(*) - count({q}), count(DISTINCT {q}), min({q}), max({q})" for q in quoted
        )
        sql = (
            f"SELECT {aggregates} FROM "  # noqa: S608  # quoted identifiers, bound LIMIT
            f"(SELECT {', '.join(quoted)} FROM {quote_identifier(table)} LIMIT ?)"
        )
        row = db.execute(sql, (sample_rows,)).fetchone()
        for position, name in enumerate(chunk):
            nulls, distinct, low, high = row[4 * position : 4 * position + 4]
            stats[name] = {
                "null_count": nulls,
                "distinct_count": distinct,
                "min": low,
                "max": high,
            }
    return stats


def latest(db: sqlite3.Connection, table: str, column: str) -> Any:
    """The largest value of ``column`` in ``table`` (``None`` when the table is empty)."""
    (value,) = db.execute(
        f"SELECT max({quote_identifier(column)}) FROM {quote_identifier(table)}"  # noqa: S608  # quoted identifiers
    ).fetchone()
    return value


def _is_rowid_alias(declared: str, pk: int, key_columns: int) -> bool:
    # SQLite lets a PRIMARY KEY column hold NULL, except the INTEGER PRIMARY KEY
    # that aliases the rowid (WITHOUT ROWID tables report their keys NOT NULL).
    return bool(pk) and key_columns == 1 and declared.upper() == "INTEGER"


def _chunks(names: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]
