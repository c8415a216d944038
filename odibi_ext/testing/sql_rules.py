"""The contract's rules for SQL connections: DataFrames written and read the way Odibi does.

Odibi's pandas engine treats a connection with ``read_table``/``write_table``
as a SQL database: it splits ``"schema.table"`` once (else uses
``default_schema``), writes with ``write_table(df=, table_name=, schema=,
if_exists='replace'|'append'|'fail', chunksize=)`` and reads with
``read_table(table_name=, schema=)``, or with ``build_select_query(table,
schema, where=...)`` then ``read_sql_query(sql)`` when the project filters.
Each rule returns ``None`` when kept, else ``(problem, fix)``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any
from typing import Final
from typing import Optional

import pytest

Problem = Optional[tuple[str, str]]

#: Names that break naive string formatting of SQL: quotes, spaces, a statement.
HOSTILE_TABLE: Final = 'contract "t" ; DROP TABLE x; --'
HOSTILE_COLUMN: Final = "we\"ird 'col"
HOSTILE_VALUE: Final = "'); DROP TABLE contract_kept; --"


def speaks_sql(connection: object) -> bool:
    """Whether Odibi's pandas engine would use ``connection`` as a SQL database."""
    return callable(getattr(connection, "read_table", None)) and callable(
        getattr(connection, "write_table", None)
    )


def import_pandas() -> ModuleType:
    """pandas, or a skip saying why the SQL rules did not run."""
    pandas: ModuleType = pytest.importorskip(
        "pandas",
        reason="pandas is not installed: the SQL round-trip rules need it (pip install pandas)",
    )
    return pandas


def sql_replace_and_append(connection: Any, pd: ModuleType) -> Problem:
    """replace, append, replace again: each read returns exactly what should be there."""
    schema = _schema(connection)
    first = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    more = pd.DataFrame({"id": [3], "name": ["c"]})
    steps = [
        ("replace", first, [(1, "a"), (2, "b")]),
        ("append", more, [(1, "a"), (2, "b"), (3, "c")]),
        ("replace", more, [(3, "c")]),
    ]
    for if_exists, frame, expected in steps:
        _write(connection, frame, "contract_rows", schema, if_exists)
        rows = _rows(
            connection.read_table(table_name="contract_rows", schema=schema), ["id", "name"]
        )
        if rows != expected:
            return (
                f"after write_table(if_exists={if_exists!r}) read_table returned {rows}, "
                f"expected {expected}",
                "make 'replace' drop and recreate the table and 'append' add rows to it",
            )
    return None


def sql_schema_qualified_table(connection: Any, pd: ModuleType) -> Problem:
    """``default_schema`` is set and served; a filtered read via ``build_select_query`` works."""
    schema = getattr(connection, "default_schema", None)
    if not isinstance(schema, str) or not schema:
        return (
            f"default_schema is {schema!r}; Odibi then qualifies every unqualified table "
            f"with 'dbo'",
            "set default_schema to the schema unqualified tables live in (SQLite: 'main')",
        )
    _write(connection, pd.DataFrame({"id": [1, 2]}), "contract_qualified", schema, "replace")
    rows = _rows(connection.read_table(table_name="contract_qualified", schema=schema), ["id"])
    if rows != [(1,), (2,)]:
        return (
            f"read_table(table_name='contract_qualified', schema={schema!r}) returned {rows}",
            "read the table named in the schema given",
        )
    if callable(getattr(connection, "build_select_query", None)) and callable(
        getattr(connection, "read_sql_query", None)
    ):
        query = connection.build_select_query("contract_qualified", schema, where="id = 2")
        rows = _rows(connection.read_sql_query(query), ["id"])
        if rows != [(2,)]:
            return (
                f"read_sql_query(build_select_query('contract_qualified', {schema!r}, "
                f"where='id = 2')) returned {rows}",
                "build 'SELECT * FROM <schema>.<table> WHERE <where>' with quoted identifiers",
            )
    return None


def sql_hostile_identifiers(connection: Any, pd: ModuleType) -> Problem:
    """Quotes, spaces and statements in names and values are data, never SQL."""
    schema = _schema(connection)
    _write(connection, pd.DataFrame({"id": [1]}), "contract_kept", schema, "replace")
    frame = pd.DataFrame({"id": [1], HOSTILE_COLUMN: [HOSTILE_VALUE]})
    try:
        _write(connection, frame, HOSTILE_TABLE, schema, "replace")
        back = connection.read_table(table_name=HOSTILE_TABLE, schema=schema)
    except Exception as exc:
        return (
            f"writing or reading table {HOSTILE_TABLE!r} with column {HOSTILE_COLUMN!r} "
            f"raised {type(exc).__name__}: {exc}",
            "quote identifiers with the dialect's quoting (double every embedded quote) and "
            "bind values as parameters, never format them into SQL",
        )
    rows = _rows(back, ["id", HOSTILE_COLUMN])
    if rows != [(1, HOSTILE_VALUE)]:
        return (
            f"table {HOSTILE_TABLE!r} read back as {rows}",
            "quote identifiers and bind values",
        )
    kept = _rows(connection.read_table(table_name="contract_kept", schema=schema), ["id"])
    if kept != [(1,)]:
        return (
            "the table 'contract_kept' changed after writing a hostile name: SQL was injected",
            "quote identifiers and bind values",
        )
    return None


def _schema(connection: Any) -> str:
    # What Odibi's engine passes for an unqualified table name.
    return str(getattr(connection, "default_schema", "dbo") or "dbo")


def _write(connection: Any, frame: Any, table: str, schema: str, if_exists: str) -> None:
    connection.write_table(
        df=frame, table_name=table, schema=schema, if_exists=if_exists, chunksize=1000
    )


def _rows(frame: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    """The frame's rows as plain tuples in ``columns`` order, sorted; columns missing: []."""
    if any(column not in frame.columns for column in columns):
        return [("<columns>", *map(str, frame.columns))]
    return sorted(
        tuple(_plain(value) for value in row) for row in frame[columns].itertuples(index=False)
    )


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars compare as Python values
    return item() if callable(item) else value
