"""Rules for SQL connections: what Odibi's pandas engine calls for ``format: sql``, with the
arguments and DataFrames it really passes (see :mod:`odibi_ext.testing.sql_checks`).

They apply to a connection with ``read_table`` or ``read_sql_query`` (what
Odibi checks before a SQL read); the writing rules to one with
``write_table``. A read-only source names a table to read in
``readable_table``. Every table made starts with ``odibi_ext_contract_``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from odibi_ext.testing import data_shapes
from odibi_ext.testing.base import ContractBase
from odibi_ext.testing.base import RuleBroken
from odibi_ext.testing.sql_checks import NO_SUCH_SCHEMA
from odibi_ext.testing.sql_checks import TABLE_PREFIX as P
from odibi_ext.testing.sql_checks import expect
from odibi_ext.testing.sql_checks import import_pandas
from odibi_ext.testing.sql_checks import odibi_schema
from odibi_ext.testing.sql_checks import read
from odibi_ext.testing.sql_checks import read_filtered
from odibi_ext.testing.sql_checks import reads_sql
from odibi_ext.testing.sql_checks import rows
from odibi_ext.testing.sql_checks import write
from odibi_ext.testing.sql_checks import writes_sql
from odibi_ext.testing.subject import exception_text

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: Names that need quoting, as real projects have them; and names that break naive SQL.
QUOTED_TABLES: Final = (P + "orders-2024", P + 'we"ird', P + "t ; DROP TABLE x; --")
QUOTED_COLUMN: Final = "we\"ird 'col città"
HOSTILE_VALUE: Final = "'); DROP TABLE odibi_ext_contract_kept; --"
_REPLACE_FIX: Final = "make 'replace' drop and recreate the table and 'append' add rows to it"


class SQLRules(ContractBase):
    """sql_replace_and_append, sql_append_creates_the_table, sql_replace_takes_new_columns,
    sql_data_shapes, sql_honours_schema, sql_reads_through_get_path, sql_filtered_read,
    sql_schema_probe, sql_quoted_identifiers."""

    def test_sql_replace_and_append(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``replace``, ``append``, ``replace`` read back exactly; ``fail`` refuses an
        existing table and leaves it."""
        with self._sql(contract_registry, driver_config, "sql_replace_and_append") as (c, pd):
            schema, table = odibi_schema(c), P + "rows"
            first = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
            more = pd.DataFrame({"id": [3], "name": ["c"]})
            for mode, frame, wanted in (
                ("replace", first, [(1, "a"), (2, "b")]),
                ("append", more, [(1, "a"), (2, "b"), (3, "c")]),
                ("replace", more, [(3, "c")]),
            ):
                write(c, frame, table, schema, mode)
                got = rows(read(c, table, schema), ["id", "name"])
                expect(got, wanted, f"write_table(if_exists={mode!r})", _REPLACE_FIX)
            try:
                c.write_table(df=first, table_name=table, schema=schema, if_exists="fail")
            except Exception:  # noqa: S110  # refused, as mode: fail asks
                pass
            else:
                raise RuleBroken(
                    "write_table(if_exists='fail') on an existing table returned; Odibi's "
                    "mode: fail expects it to raise",
                    "raise (ValueError naming the table) when if_exists='fail' and the table "
                    "exists",
                )
            got = rows(read(c, table, schema), ["id", "name"])
            expect(got, [(3, "c")], "a refused if_exists='fail'", "leave the table as it was")

    def test_sql_append_creates_the_table(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``append`` to a table that does not exist yet creates it (a first ``mode: append``
        run)."""
        with self._sql(contract_registry, driver_config, "sql_append_creates_the_table") as (
            c,
            pd,
        ):
            schema, table = odibi_schema(c), P + "appended"
            write(c, pd.DataFrame({"id": [1]}), table, schema, "append", "the table is new")
            expect(
                rows(read(c, table, schema), ["id"]),
                [(1,)],
                "append to a new table",
                "create the table when it is missing",
            )

    def test_sql_replace_takes_new_columns(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """A ``replace`` whose DataFrame gained a column stores that column."""
        with self._sql(contract_registry, driver_config, "sql_replace_takes_new_columns") as (
            c,
            pd,
        ):
            schema, table = odibi_schema(c), P + "columns"
            write(c, pd.DataFrame({"id": [1], "name": ["a"]}), table, schema, "replace")
            wider = pd.DataFrame({"id": [2], "name": ["b"], "added": ["new"]})
            write(c, wider, table, schema, "replace", "a column was added since the last run")
            back = read(c, table, schema)
            if "added" not in back.columns:
                raise RuleBroken(
                    f"after a replace whose DataFrame gained the column 'added', read_table "
                    f"returned the columns {list(map(str, back.columns))}: the new column was "
                    f"dropped silently",
                    "implement replace as DROP TABLE and CREATE TABLE from the new "
                    "DataFrame's columns, not as DELETE and INSERT into the old table",
                )
            expect(rows(back, ["id", "name", "added"]), [(2, "b", "new")], "replace", _REPLACE_FIX)

    def test_sql_data_shapes(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """NULLs of every kind, numpy integers, floats, booleans, Timestamps, unicode and an
        empty DataFrame are written and read back as they were."""
        with self._sql(contract_registry, driver_config, "sql_data_shapes") as (c, pd):
            schema, table = odibi_schema(c), P + "shapes"
            frame = data_shapes.shapes_frame(pd)
            write(c, frame, table, schema, "replace", "a DataFrame as Odibi's nodes produce")
            mismatch = data_shapes.first_mismatch(pd, frame, read(c, table, schema))
            if mismatch is not None:
                raise RuleBroken(*mismatch)
            empty = frame.iloc[0:0]
            write(c, empty, P + "empty", schema, "replace", "a filter matched no row")
            back = read(c, P + "empty", schema)
            if len(back) or list(map(str, back.columns)) != list(map(str, frame.columns)):
                raise RuleBroken(
                    f"an empty DataFrame written with replace read back with {len(back)} rows "
                    f"and the columns {list(map(str, back.columns))}",
                    "create the table from df.columns and df.dtypes, not from the first row",
                )

    def test_sql_honours_schema(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``schema=`` picks the table: a read or write naming another schema never reaches
        the default schema's table."""
        with self._sql(contract_registry, driver_config, "sql_honours_schema", write=False) as (
            c,
            pd,
        ):
            schema = odibi_schema(c)
            if not writes_sql(c):
                self._read_only_schema(c)
                return
            table = P + "schema"
            write(c, pd.DataFrame({"id": [1, 2]}), table, schema, "replace")
            with contextlib.suppress(Exception):
                c.write_table(
                    df=pd.DataFrame({"id": [9]}),
                    table_name=table,
                    schema=NO_SUCH_SCHEMA,
                    if_exists="replace",
                    chunksize=1000,
                )
            expect(
                rows(read(c, table, schema), ["id"]),
                [(1,), (2,)],
                f"write_table(table_name={table!r}, schema={NO_SUCH_SCHEMA!r}, "
                f"if_exists='replace') (a write to another schema)",
                "write to the schema given: a staging write must never overwrite the "
                "default schema's table",
            )
            misread: list[tuple[Any, ...]] = []
            with contextlib.suppress(Exception):  # a missing schema may well raise
                misread = rows(c.read_table(table_name=table, schema=NO_SUCH_SCHEMA), ["id"])
            if misread == [(1,), (2,)]:
                raise RuleBroken(
                    f"read_table(table_name={table!r}, schema={NO_SUCH_SCHEMA!r}) returned "
                    f"the rows of the table in schema {schema!r}: `staging.orders` would "
                    f"silently read `{schema or 'main'}.orders`",
                    "read from the schema given (qualify the table: "
                    "self.qualify_table(table_name, schema))",
                )
            # SQLite's temp schema shadows main for unqualified names: only with a schema.
            sqlite = getattr(c, "sql_dialect", "") == "sqlite" and schema
            other = self.other_schema or ("temp" if sqlite else None)
            if other:
                write(c, pd.DataFrame({"id": [5]}), table, other, "replace", "other_schema")
                expect(
                    rows(read(c, table, other), ["id"]),
                    [(5,)],
                    f"a write to {other!r}",
                    ("write and read the schema given"),
                )
                expect(
                    rows(read(c, table, schema), ["id"]),
                    [(1,), (2,)],
                    (f"a write to schema {other!r}"),
                    "write to the schema given, never to the default one",
                )

    def test_sql_reads_through_get_path(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """A read as Odibi makes it, ``get_path(table)`` split once on ``.``, finds the table."""
        with self._sql(contract_registry, driver_config, "sql_reads_through_get_path", False) as (
            c,
            pd,
        ):
            table = self._readable(c, pd, P + "path")
            path = c.get_path(table)
            schema, name = path.split(".", 1) if "." in path else (odibi_schema(c), path)
            wanted = _summary(read(c, table, odibi_schema(c)))
            got = _summary(read(c, name, schema, f"get_path({table!r}) returned {path!r}"))
            if got != wanted:
                raise RuleBroken(
                    f"get_path({table!r}) returned {path!r}, which Odibi reads as "
                    f"read_table(table_name={name!r}, schema={schema!r}): {got[0]} rows with the "
                    f"columns {got[1]}, not {wanted[0]} rows with {wanted[1]}",
                    "return the table name unchanged, or qualified with the schema it is in",
                )

    def test_sql_filtered_read(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """A filter (``options.filter``) runs as ``read_sql_query(build_select_query(...,
        where=))``, on table names that need quoting too."""
        rule = "sql_filtered_read"
        with self._sql(contract_registry, driver_config, rule, write=False) as (c, pd):
            wanted = ("read_sql_query", "build_select_query")
            missing = [name for name in wanted if not callable(getattr(c, name, None))]
            if "read_sql_query" in missing:
                raise RuleBroken(
                    "the connection has no read_sql_query(): Odibi then ignores a read's "
                    "filter and passes every row on, silently",
                    "add read_sql_query(query) returning the query's rows as a DataFrame",
                )
            if missing:
                raise RuleBroken(
                    "the connection has read_sql_query() but no build_select_query(): every "
                    "filtered read fails with AttributeError",
                    "subclass odibi_ext.Connection (or Odibi's BaseConnection) or add "
                    "build_select_query(table_name, schema='', where='', limit=-1, columns='*')",
                )
            if not writes_sql(c):
                table = self._readable(c, pd, "")
                if len(read_filtered(c, table, odibi_schema(c), "1 = 0")):
                    raise RuleBroken("a filter '1 = 0' returned rows", "apply the where clause")
                return
            for table in (P + "filter", *QUOTED_TABLES):
                if self._written_or_refused(c, pd, table) is None:
                    continue
                got = rows(read_filtered(c, table, odibi_schema(c), "id = 2"), ["id"])
                expect(
                    got,
                    [(2,)],
                    f"a filtered read of {table!r} (where 'id = 2')",
                    (
                        "build 'SELECT * FROM <schema>.<table> WHERE <where>' with both "
                        "identifiers quoted by quote_identifier (doubling an embedded '\"')"
                    ),
                )

    def test_sql_schema_probe(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``schema_policy``'s probe, ``read_sql(build_select_query(table, limit=0))``, gives
        the columns and no row."""
        with self._sql(contract_registry, driver_config, "sql_schema_probe", write=False) as (
            c,
            pd,
        ):
            if not callable(getattr(c, "read_sql", None)):
                raise RuleBroken(
                    "the connection has no read_sql(): Odibi's schema_policy then logs a "
                    "warning and checks nothing",
                    "add read_sql(query) (the same as read_sql_query)",
                )
            table = self._readable(c, pd, P + "probe")
            call = f"read_sql(build_select_query({table!r}, limit=0))"
            try:
                back = c.read_sql(c.build_select_query(table, limit=0))
            except Exception as exc:
                raise RuleBroken(
                    f"{call} raised {exception_text(exc)}",
                    "build_select_query's default schema must be default_schema; limit=0 "
                    "must give a query returning no row",
                ) from exc
            columns = _summary(read(c, table, odibi_schema(c)))[1]
            if len(back) or list(map(str, back.columns)) != columns:
                raise RuleBroken(
                    f"{call} returned {len(back)} rows and the columns "
                    f"{list(map(str, back.columns))}",
                    "return the table's columns and no row for limit=0",
                )

    def test_sql_quoted_identifiers(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """Names with ``-``, ``"``, spaces, SQL and unicode round-trip; values are bound, never
        SQL. Refusing a name clearly (a message naming it) keeps the rule too."""
        with self._sql(contract_registry, driver_config, "sql_quoted_identifiers") as (c, pd):
            schema = odibi_schema(c)
            write(c, pd.DataFrame({"id": [1]}), P + "kept", schema, "replace")
            for table in QUOTED_TABLES:
                frame = pd.DataFrame({"id": [1], QUOTED_COLUMN: [HOSTILE_VALUE]})
                if self._written_or_refused(c, pd, table, frame) is None:
                    continue
                expect(
                    rows(read(c, table, schema), ["id", QUOTED_COLUMN]),
                    [(1, HOSTILE_VALUE)],
                    f"writing {table!r}",
                    "quote identifiers and bind values",
                )
            expect(
                rows(read(c, P + "kept", schema), ["id"]),
                [(1,)],
                ("writing tables with hostile names (SQL was injected)"),
                "quote identifiers and bind values, never format them into SQL",
            )

    # -- helpers -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _sql(
        self, registry: ConnectionRegistry, config: dict[str, Any], rule: str, write: bool = True
    ) -> Iterator[tuple[Any, ModuleType]]:
        with self._created(registry, config, rule) as connection:
            if not reads_sql(connection):
                self._not_applicable(
                    rule,
                    f"{type(connection).__qualname__} has neither read_table nor "
                    f"read_sql_query: Odibi's engine does not use it for format: sql",
                )
            if write and not writes_sql(connection):
                self._not_applicable(rule, "a read-only SQL source (no write_table)")
            pd = import_pandas()
            with self._rule(rule):
                yield connection, pd

    def _written_or_refused(self, c: Any, pd: ModuleType, table: str, frame: Any = None) -> Any:
        """Write ``table`` (ids 1..3); None when the driver refused the name clearly."""
        if frame is None:
            frame = pd.DataFrame({"id": [1, 2, 3]})
        try:
            c.write_table(
                df=frame,
                table_name=table,
                schema=odibi_schema(c),
                if_exists="replace",
                chunksize=1000,
            )
        except Exception as exc:
            names = [str(name) for name in (table, *frame.columns) if name != "id"]
            if any(name in str(exc) or repr(name) in str(exc) for name in names):
                return None  # a clear refusal: Odibi shows it, the author knows why
            write(c, frame, table, odibi_schema(c), "replace", "a name that needs quoting")
        return frame

    def _readable(self, c: Any, pd: ModuleType, table: str) -> str:
        """A table with rows: written as ``table`` (ids 1..3), or ``readable_table``."""
        if writes_sql(c):
            write(c, pd.DataFrame({"id": [1, 2, 3]}), table, odibi_schema(c), "replace")
            return table
        if not self.readable_table:
            raise RuleBroken(
                "a read-only SQL source (no write_table) and readable_table is not set, so "
                "the read rules have nothing to read",
                "set `readable_table = '<a table with rows in config's database>'`",
            )
        return self.readable_table

    def _read_only_schema(self, c: Any) -> None:
        table = self._readable(c, None, "")  # type: ignore[arg-type]
        wanted = read(c, table, odibi_schema(c))
        try:
            other = c.read_table(table_name=table, schema=NO_SUCH_SCHEMA)
        except Exception:
            return
        if len(other) == len(wanted) and list(other.columns) == list(wanted.columns):
            raise RuleBroken(
                f"read_table(table_name={table!r}, schema={NO_SUCH_SCHEMA!r}) returned the "
                f"table of the default schema",
                "read from the schema given (qualify the table with it)",
            )


def _summary(frame: Any) -> tuple[int, list[str]]:
    """A read's row count and column names: enough to tell two tables apart here."""
    return len(frame), list(map(str, getattr(frame, "columns", ())))
