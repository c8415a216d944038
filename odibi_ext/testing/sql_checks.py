"""The SQL calls Odibi's pandas engine makes, made the same way, each check raising
:class:`~odibi_ext.testing.base.RuleBroken` with what went wrong and what to change.

Traced in ``odibi/engine/pandas_engine.py`` (3.15.1):

- schema: ``getattr(connection, "default_schema", "dbo")`` for an unqualified
  table (``''`` when the attribute is ``''``), ``"schema.table"`` split once;
- read: ``get_path(table)`` first, then ``read_table(table_name=, schema=)``;
  with a filter, if the connection has ``read_sql_query``:
  ``read_sql_query(build_select_query(table, schema, where=...))``, and
  without it the filter is dropped silently;
- ``schema_policy``: ``read_sql(build_select_query(table, limit=0))``;
- write: ``write_table(df=, table_name=, schema=, if_exists=, chunksize=1000)``
  with ``if_exists`` ``"append"`` for ``mode: append``, ``"fail"`` for
  ``mode: fail``, ``"replace"`` for every other mode.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any
from typing import Final

import pytest

from odibi_ext.testing.base import RuleBroken
from odibi_ext.testing.subject import exception_text

#: Every table the rules make starts with this (drop them with it if a run is cut off).
TABLE_PREFIX: Final = "odibi_ext_contract_"
#: A schema no database has: a driver passing ``schema`` on must not find the default one.
NO_SUCH_SCHEMA: Final = "odibi_ext_contract_no_such_schema"


def reads_sql(connection: object) -> bool:
    """Whether Odibi's pandas engine reads ``format: sql`` through ``connection``."""
    return any(
        callable(getattr(connection, name, None)) for name in ("read_table", "read_sql_query")
    )


def writes_sql(connection: object) -> bool:
    """Whether Odibi's pandas engine writes ``format: sql`` through ``connection``."""
    return callable(getattr(connection, "write_table", None))


def import_pandas() -> ModuleType:
    """pandas, or the test failed saying the data rules cannot run without it."""
    import importlib

    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        pytest.fail(
            "not checked: pandas is not installed, and the data rules (the SQL round trips) "
            "need it as Odibi's engine does; install it in the test environment "
            "(declare it in your test extra: pip install -e '.[test]')",
            pytrace=False,
        )
    return pandas


def odibi_schema(connection: Any) -> str:
    """The ``schema`` Odibi's pandas engine passes for an unqualified table."""
    schema: str = getattr(connection, "default_schema", "dbo")
    return schema


def write(  # noqa: PLR0917  # Odibi's arguments, in its order
    connection: Any, frame: Any, table: str, schema: str, if_exists: str, why: str = ""
) -> None:
    """``write_table`` as Odibi calls it; a failure raised as :class:`RuleBroken`."""
    call = (
        f"write_table(df=<{len(frame)} rows: {', '.join(map(str, frame.columns))}>, "
        f"table_name={table!r}, schema={schema!r}, if_exists={if_exists!r}, chunksize=1000)"
    )
    try:
        connection.write_table(
            df=frame, table_name=table, schema=schema, if_exists=if_exists, chunksize=1000
        )
    except Exception as exc:
        raise call_failed(connection, call, exc, (schema, table), why) from exc


def read(connection: Any, table: str, schema: str, why: str = "") -> Any:
    """``read_table`` as Odibi calls it; a failure raised as :class:`RuleBroken`."""
    call = f"read_table(table_name={table!r}, schema={schema!r})"
    try:
        return connection.read_table(table_name=table, schema=schema)
    except Exception as exc:
        raise call_failed(connection, call, exc, (schema, table), why) from exc


def read_filtered(connection: Any, table: str, schema: str, where: str) -> Any:
    """``read_sql_query(build_select_query(table, schema, where=where))``, as Odibi filters."""
    call = f"read_sql_query(build_select_query({table!r}, {schema!r}, where={where!r}))"
    try:
        query = connection.build_select_query(table, schema, where=where)
        return connection.read_sql_query(query)
    except Exception as exc:
        raise call_failed(connection, call, exc, (schema, table), "") from exc


def call_failed(
    connection: Any, call: str, exc: Exception, names: tuple[str, str], why: str
) -> RuleBroken:
    """What a failed call of Odibi's means, and the change most likely to fix it.

    ``names`` are the schema and table of the call. An error naming the
    default schema but not the table (``unknown database dbo``) is about
    ``default_schema``; one naming the table is about the table's name.
    """
    schema, table = names
    context = f" ({why})" if why else ""
    text = exception_text(exc)
    default = getattr(connection, "default_schema", None)
    names_schema = bool(schema) and re.search(rf"\b{re.escape(schema)}\b", text) is not None
    if schema == default and names_schema and table not in text:
        fix = (
            f"Odibi passes default_schema ({schema!r}) as schema= for every unqualified "
            f"table: set default_schema to a schema the database has (SQLite: 'main'), "
            f"or to '' and treat an empty schema as the database's default"
        )
    elif call.startswith("write_table"):
        fix = (
            "accept the call as Odibi makes it: create the table from df's columns and dtypes "
            "when it is missing, quote identifiers, bind values as parameters (convert "
            "Timestamp, numpy scalars and NaN/NaT/NA to Python values first)"
        )
    elif call.startswith("read_sql_query"):
        fix = (
            "build 'SELECT * FROM <schema>.<table> WHERE <where>' with both identifiers "
            "quoted by quote_identifier (doubling an embedded '\"'), and run it in "
            "read_sql_query"
        )
    else:
        fix = (
            "accept the call as Odibi makes it: read the table named in the schema given, "
            "quoting both identifiers, and return a pandas DataFrame"
        )
    return RuleBroken(f"{call}{context} raised {text}", fix)


def rows(frame: Any, columns: list[str]) -> list[tuple[Any, ...]]:
    """The frame's rows as plain tuples in ``columns`` order, sorted; columns missing: a marker."""
    if not hasattr(frame, "columns"):
        return [("<not a DataFrame>", type(frame).__name__)]
    if any(column not in frame.columns for column in columns):
        return [("<columns>", *map(str, frame.columns))]
    return sorted(
        (tuple(plain(value) for value in row) for row in frame[columns].itertuples(index=False)),
        key=repr,
    )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else as it is."""
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, (bytes, str)) else value


def expect(
    got: list[tuple[Any, ...]], wanted: list[tuple[Any, ...]], after: str, fix: str
) -> None:
    """Rows read back ``after`` a call are the ``wanted`` ones, else the rule broke."""
    if got != sorted(wanted, key=repr):
        raise RuleBroken(f"after {after} the table read back as {got}, expected {wanted}", fix)


def isolated(first: Any, second: Any) -> None:
    """Rows one connection writes are not seen by another pointing elsewhere."""
    pd = import_pandas()
    table = TABLE_PREFIX + "isolated"
    for connection, value in ((first, 1), (second, 2)):
        frame = pd.DataFrame({"id": [value]})
        write(connection, frame, table, odibi_schema(connection), "replace")
    for connection, value in ((first, 1), (second, 2)):
        got = rows(read(connection, table, odibi_schema(connection)), ["id"])
        if got != [(value,)]:
            raise RuleBroken(
                f"two connections whose configs point at different places wrote {table!r} "
                f"(id 1, then id 2); one of them reads back {got}: they share one database",
                "keep the database handle on the connection (self), opened from its own "
                "config, never in a module-level or class-level variable",
            )


def thread_round_trip(connection: Any) -> None:
    """A write and a read of one small table (run from another thread by the caller)."""
    pd = import_pandas()
    table = TABLE_PREFIX + "threads"
    schema = odibi_schema(connection)
    write(connection, pd.DataFrame({"id": [7]}), table, schema, "replace")
    expect(
        rows(read(connection, table, schema), ["id"]),
        [(7,)],
        "write_table from another thread",
        "make the connection's calls safe from any thread",
    )
