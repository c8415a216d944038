"""DataFrames in and out of SQLite: what Odibi's pandas engine calls for ``format: sql``.

pandas is imported here, inside the functions, and only here: the rest of
the driver needs the standard library alone. It is the sample's ``pandas``
extra (``pip install 'odibi-sqlite[pandas]'``).
"""

from __future__ import annotations

import datetime
import math
import sqlite3
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final

from odibi_sqlite.config import DRIVER
from odibi_sqlite.sql import quote_identifier

#: A ``pandas.DataFrame`` (pandas is optional here, and ships no type hints).
DataFrame = Any
#: Odibi's write modes as ``if_exists``: overwrite -> replace, append, fail.
IF_EXISTS: Final = ("replace", "append", "fail")


def pandas(method: str) -> Any:
    """The pandas module, or an ``ImportError`` naming the extra that brings it."""
    try:
        import pandas as pd  # type: ignore[import-untyped]  # only the DataFrame methods need it
    except ImportError as exc:
        raise ImportError(
            f"{DRIVER}: {method}() needs pandas, which is not installed; "
            f"install the driver's extra: pip install 'odibi-sqlite[pandas]'"
        ) from exc
    return pd


def read(
    db: sqlite3.Connection,
    method: str,
    query: str,
    params: Sequence[Any] | Mapping[str, Any] | None,
) -> DataFrame:
    """The rows of ``query`` (``params`` bound) as a DataFrame."""
    pd = pandas(method)
    return pd.read_sql_query(query, db, params=params)


def write(
    db: sqlite3.Connection,
    df: DataFrame,
    *,
    table: str,
    schema: str,
    if_exists: str,
    chunksize: int | None,
) -> int:
    """Write ``df`` to ``schema.table`` in one transaction; return the rows written.

    ``if_exists``: ``replace`` drops and recreates the table, ``append`` adds
    rows (creating the table when missing), ``fail`` refuses an existing
    table. Any error rolls everything back: the table is as it was.
    """
    pd = pandas("write_table")
    if if_exists not in IF_EXISTS:
        raise ValueError(
            f"{DRIVER}: if_exists must be one of {', '.join(IF_EXISTS)}, not {if_exists!r}"
        )
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{DRIVER}: write_table() needs a pandas DataFrame, not {type(df).__name__}"
        )
    size = _chunksize(chunksize, len(df))
    columns = [str(name) for name in df.columns]
    if len(set(columns)) != len(columns):
        raise ValueError(f"{DRIVER}: cannot write {table!r}: the DataFrame has duplicate columns")
    target = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    db.execute("BEGIN IMMEDIATE")
    try:
        exists = _exists(db, schema, table)
        if exists and if_exists == "fail":
            raise ValueError(
                f"{DRIVER}: table {schema}.{table} already exists; "
                f"write with mode append or overwrite"
            )
        if exists and if_exists == "replace":
            db.execute(f"DROP TABLE {target}")
        if not exists or if_exists == "replace":
            db.execute(_create(target, df, columns))
        placeholders = ", ".join("?" for _ in columns)
        insert = (
            f"INSERT INTO {target} ({', '.join(quote_identifier(c) for c in columns)}) "  # noqa: S608  # quoted identifiers
            f"VALUES ({placeholders})"
        )
        rows = _rows(df)
        for start in range(0, len(rows), size):
            db.executemany(insert, rows[start : start + size])
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return len(rows)


def _chunksize(chunksize: object, rows: int) -> int:
    if chunksize is None:
        return max(rows, 1)
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"{DRIVER}: chunksize must be an int >= 1, not {chunksize!r}")
    return chunksize


def _exists(db: sqlite3.Connection, schema: str, table: str) -> bool:
    try:
        row = db.execute(
            f"SELECT type FROM {quote_identifier(schema)}.sqlite_master WHERE name = ?",  # noqa: S608  # quoted identifier
            (table,),
        ).fetchone()
    except sqlite3.OperationalError as exc:  # "unknown database x"
        raise ValueError(f"{DRIVER}: no schema {schema!r} in this database: {exc}") from exc
    if row is not None and row[0] != "table":
        raise ValueError(f"{DRIVER}: {schema}.{table} is a {row[0]}, not a table; cannot write it")
    return row is not None


def _create(target: str, df: DataFrame, columns: list[str]) -> str:
    definitions = ", ".join(
        f"{quote_identifier(name)} {_affinity(df[original].dtype)}"
        for name, original in zip(columns, df.columns)
    )
    return f"CREATE TABLE {target} ({definitions})"


def _affinity(dtype: Any) -> str:
    """The SQLite column type pandas' own SQLite writer gives a dtype."""
    kind = getattr(dtype, "kind", "O")
    if kind in "iub":
        return "INTEGER"
    if kind == "f":
        return "REAL"
    if kind == "M":
        return "TIMESTAMP"
    return "TEXT"


def _rows(df: DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(_value(v) for v in row) for row in df.itertuples(index=False, name=None)]


def _value(value: object) -> Any:
    """A value sqlite3 can bind: NaN/NaT/NA are NULL, numpy scalars Python ones,
    timestamps ISO text, anything else unknown its str()."""
    if value is None or isinstance(value, (str, bytes, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if _is_missing(value):
        return None
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return (
            value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
        )
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _value(item())
    return str(value)


def _is_missing(value: object) -> bool:
    pd = pandas("write_table")
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other containers
        return False
