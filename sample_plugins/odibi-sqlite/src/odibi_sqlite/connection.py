"""``SQLiteConnection``: an Odibi connection to one SQLite database, and its factory."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from odibi_ext import Connection
from odibi_sqlite import catalog
from odibi_sqlite import frames
from odibi_sqlite import sql
from odibi_sqlite.config import DRIVER
from odibi_sqlite.config import MEMORY
from odibi_sqlite.config import SQLiteConfig
from odibi_sqlite.frames import DataFrame

LOG = logging.getLogger(__name__)


#: The schema Odibi's pandas engines before 3.4.4 give every unqualified table
#: (SQL Server's default, whatever ``default_schema`` says). SQLite has no
#: ``dbo``, and attaching the file again under that name locks it: here ``dbo``
#: names ``main``.
ODIBI_DEFAULT_SCHEMA = "dbo"
#: How those engines start a filtered read (``options.filter``), before the WHERE.
_FILTERED_READ = "SELECT * FROM [dbo].["


class SQLiteConnectionError(ConnectionError):
    """The database cannot be opened or used. ``path`` is the database's configured path."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def create(name: str, config: Mapping[str, Any]) -> SQLiteConnection:
    """Create a connection to a SQLite database file (or an in-memory database).

    ``config`` keys: ``path`` (required: a file path or ``":memory:"``),
    ``timeout`` (seconds to wait for a locked database, default 5.0) and
    ``read_only`` (default false; the file must then exist); Odibi's ``type``
    and ``validation_mode`` are accepted. Nothing is opened until first use,
    unless ``validation_mode`` is ``eager``: then the database is opened and
    checked now. Raises ``ValueError`` or ``TypeError`` naming the key when
    the config is wrong, :class:`SQLiteConnectionError` when an eager check fails.
    """
    return SQLiteConnection(name, config)


class SQLiteConnection(Connection):
    """An Odibi connection to one SQLite database, on the standard library's ``sqlite3``.

    The database is opened on first use and reused; a lock serialises calls,
    so one connection may be shared by threads. :meth:`close` (or leaving a
    ``with`` block) is final: any later call raises
    :class:`SQLiteConnectionError`.
    """

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{DRIVER}: a connection's name is a str, not {type(name).__name__}")
        self.name = name
        self.settings = SQLiteConfig.from_mapping(config)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._closed = False
        # Odibi never calls validate(): validation_mode eager is the driver's job.
        if self.settings.validation_mode == "eager":
            self.validate()

    def __repr__(self) -> str:
        mode = " read_only" if self.settings.read_only else ""
        state = " closed" if self._closed else ""
        return (
            f"<{type(self).__name__} name={self.name!r} path={self.settings.path!r}{mode}{state}>"
        )

    #: What Odibi's engines check before SQL they cannot do here (``merge`` needs ``"mssql"``).
    sql_dialect = "sqlite"
    #: The schema of the database file; Odibi reads and writes ``main.<table>``.
    default_schema = "main"

    def get_path(self, relative_path: str) -> str:
        """The table name, unchanged: Odibi splits ``schema.table`` itself.

        Raises ``TypeError`` for a non-str and ``ValueError`` for a name with a
        NUL character, which no SQL identifier may hold.
        """
        sql.quote_identifier(relative_path)  # the same checks as for every other name
        return relative_path

    def quote_identifier(self, name: str) -> str:
        """``name`` as one SQL identifier: ``a"b`` gives ``"a""b"``; dots stay inside it."""
        return sql.quote_identifier(name)

    def validate(self) -> None:
        """Open the database and read its schema.

        Raises :class:`SQLiteConnectionError` naming the path and the reason:
        a missing file in read-only mode, a missing directory, a file that is
        not a database, ...
        """
        with self._session() as db:
            try:
                db.execute("SELECT 1").fetchone()
                # SELECT 1 never reads the file; the schema read is what fails
                # for a file that is not a database.
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                raise self._cannot_open(str(exc)) from exc

    # -- what Odibi's pandas engine calls for format: sql (pandas needed) ---------------

    def read_table(self, table_name: str, schema: str = "") -> DataFrame:
        """Every row of ``schema.table_name`` as a DataFrame (``main`` when empty or ``dbo``)."""
        query = self.build_select_query(table_name, self._schema(schema))
        with self._session() as db:
            return frames.read(db, "read_table", query, None)

    def read_sql_query(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> DataFrame:
        """The rows of the SQL ``query`` as a DataFrame; ``params`` are bound, never pasted.

        An older Odibi's filtered read, ``SELECT * FROM [dbo].[t] WHERE ...``,
        reads ``main.t``.
        """
        with self._session() as db:
            return frames.read(db, "read_sql_query", _main_for_dbo(query), params)

    def read_sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> DataFrame:
        """The same as :meth:`read_sql_query` (Odibi calls both names)."""
        with self._session() as db:
            return frames.read(db, "read_sql", _main_for_dbo(query), params)

    def write_table(  # Odibi's keyword arguments
        self,
        df: DataFrame,
        table_name: str,
        schema: str = "",
        if_exists: str = "fail",
        chunksize: int | None = 1000,
    ) -> int:
        """Write ``df`` to ``schema.table_name`` (``main`` when empty or ``dbo``); the row count.

        ``if_exists``: ``replace`` (Odibi's ``overwrite``) drops and recreates
        the table, ``append`` adds rows and creates a missing table, ``fail``
        refuses an existing one. Rows go in ``chunksize`` at a time, all in
        one transaction: on any error the table is left as it was.
        """
        with self._session() as db:
            return frames.write(
                db,
                df,
                table=table_name,
                schema=self._schema(schema),
                if_exists=if_exists,
                chunksize=chunksize,
            )

    # -- discovery ------------------------------------------------------------------------

    def discover_catalog(  # noqa: PLR0917  # Odibi's signature
        self,
        include_schema: bool = False,
        include_stats: bool = False,
        limit: int = 200,
        recursive: bool = True,
        path: str = "",
        pattern: str = "",
    ) -> dict[str, Any]:
        """The tables and views of the main schema, as Odibi's ``CatalogSummary``.

        ``tables`` holds a ``DatasetRef`` per table or view, by name, at most
        ``limit``; ``row_count`` is filled with ``include_stats``.
        ``pattern`` filters names (``"fact_*"``); ``path`` is a schema, and
        only ``"main"`` (or ``""``) has tables here. ``include_schema`` and
        ``recursive`` change nothing: :meth:`get_table_info` gives a table's
        columns.
        """
        limit = _non_negative("limit", limit)
        if not isinstance(path, str) or not isinstance(pattern, str):
            raise TypeError(f"{DRIVER}: path and pattern are str")
        with self._session() as db:
            return catalog.catalog(
                db,
                self.name,
                include_stats=include_stats,
                limit=limit,
                path=path,
                pattern=pattern,
            )

    def get_table_info(self, table: str) -> dict[str, Any]:
        """``table`` as Odibi's ``Schema``: its ``DatasetRef`` (with the row count), its
        columns (``dtype`` is the declared type) and ``primary_key``.

        ``main.orders`` (a catalog entry's ``path``) names ``orders``. Raises
        ``LookupError`` naming ``table`` when there is no such table or view.
        """
        with self._session() as db:
            return catalog.table_info(db, catalog.table_name(db, table))

    def preview(
        self,
        dataset: str,
        rows: int = 5,
        columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """The first ``rows`` rows (at most 100) of ``dataset`` as Odibi's ``PreviewResult``.

        All columns, or only ``columns`` (``ValueError`` naming an unknown one);
        ``main.orders`` names ``orders``, as in :meth:`get_table_info`.
        """
        rows = _non_negative("rows", rows)
        with self._session() as db:
            table = catalog.table_name(db, dataset)
            names = _chosen(table, sql.columns(db, table), columns)
            return catalog.preview(db, table, rows, names)

    def get_schema(self, dataset: str) -> dict[str, Any]:
        """``{"dataset", "columns": [{"name", "type", "nullable", "primary_key"}]}``.

        ``type`` is the declared type (``""`` when none was declared). Raises
        ``LookupError`` naming ``dataset`` when there is no such table or view.
        """
        with self._session() as db:
            return {"dataset": dataset, "columns": sql.columns(db, dataset)}

    def profile(
        self,
        dataset: str,
        sample_rows: int = 1000,
        columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """Row count of ``dataset`` and statistics of its first ``sample_rows`` rows.

        Returns ``{"dataset", "row_count", "sampled_rows", "columns": {name:
        {"null_count", "distinct_count", "min", "max"}}}`` for every column,
        or only those in ``columns`` (``ValueError`` naming an unknown one).
        """
        sample_rows = _non_negative("sample_rows", sample_rows)
        with self._session() as db:
            names = _chosen(dataset, sql.columns(db, dataset), columns)
            return {
                "dataset": dataset,
                "row_count": sql.row_count(db, dataset),
                "sampled_rows": sql.sampled_rows(db, dataset, sample_rows),
                "columns": sql.column_stats(db, dataset, names, sample_rows),
            }

    def get_freshness(
        self,
        dataset: str,
        timestamp_column: str | None = None,
    ) -> dict[str, Any]:
        """``{"dataset", "column", "latest"}``: the largest value of ``timestamp_column``.

        ``timestamp_column`` is required (``ValueError`` without it, or when
        ``dataset`` has no such column): SQLite keeps no modification times.
        ``latest`` is ``None`` for an empty table.
        """
        if timestamp_column is None:
            raise ValueError(
                f"{DRIVER}: get_freshness({dataset!r}) needs timestamp_column; "
                f"SQLite keeps no modification times"
            )
        with self._session() as db:
            _chosen(dataset, sql.columns(db, dataset), [timestamp_column])
            value = sql.latest(db, dataset, timestamp_column)
        return {"dataset": dataset, "column": timestamp_column, "latest": value}

    def close(self) -> None:
        """Close the database. Idempotent; the connection cannot be used afterwards."""
        with self._lock:
            self._closed = True
            db, self._db = self._db, None
            if db is not None:
                db.close()

    # -- internals ----------------------------------------------------------------------

    def _schema(self, schema: str) -> str:
        return self.default_schema if schema in {"", ODIBI_DEFAULT_SCHEMA} else schema

    @contextlib.contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        """The open database, held under the lock; opened on first use."""
        with self._lock:
            if self._closed:
                raise SQLiteConnectionError(
                    f"SQLite connection {self.name!r} to {self.settings.path!r} is closed; "
                    f"create a new connection",
                    path=self.settings.path,
                )
            if self._db is None:
                self._db = self._open()
            yield self._db

    def _open(self) -> sqlite3.Connection:
        settings = self.settings
        problem = _file_problem(settings)
        if problem is not None:
            raise self._cannot_open(problem)
        target, uri = settings.path, False
        if settings.read_only:
            target, uri = _read_only_uri(settings.path), True
        try:
            # The lock, not sqlite3's thread check, keeps threads from interleaving.
            db = sqlite3.connect(
                target, timeout=settings.timeout, uri=uri, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._cannot_open(str(exc)) from exc
        LOG.debug("opened SQLite database %r for connection %r", settings.path, self.name)
        return db

    def _cannot_open(self, reason: str) -> SQLiteConnectionError:
        mode = " read-only" if self.settings.read_only else ""
        return SQLiteConnectionError(
            f"cannot open SQLite database {self.settings.path!r}{mode}: {reason}",
            path=self.settings.path,
        )


def _describe(
    db: sqlite3.Connection, name: str, kind: str, include_schema: bool, include_stats: bool
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "kind": kind}
    try:
        if include_schema:
            entry["columns"] = sql.columns(db, name)
        if include_stats:
            entry["row_count"] = sql.row_count(db, name)
    except sqlite3.Error as exc:  # a view over a dropped table must not hide the others
        entry["error"] = f"{type(exc).__name__}: {exc}"
    return entry


def _chosen(
    dataset: str, columns: list[dict[str, Any]], wanted: Sequence[str] | None
) -> list[str]:
    """The column names to work on: ``wanted`` (checked against the table), else all."""
    known = [str(column["name"]) for column in columns]
    if wanted is None:
        return known
    if isinstance(wanted, str):
        raise TypeError(f"{DRIVER}: columns must be a list of column names, not a str")
    for name in wanted:
        if name not in known:
            raise ValueError(
                f"{DRIVER}: {dataset!r} has no column {name!r}; it has {', '.join(known)}"
            )
    return list(dict.fromkeys(wanted))


def _non_negative(argument: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{DRIVER}: {argument} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{DRIVER}: {argument} must be >= 0, not {value}")
    return value


def _main_for_dbo(query: str) -> str:
    if isinstance(query, str) and query.startswith(_FILTERED_READ):
        return query.replace("[dbo].", "[main].", 1)
    return query


def _file_problem(settings: SQLiteConfig) -> str | None:
    """Why the database file cannot be opened, in plain words, or ``None``.

    sqlite3 says only "unable to open database file" for all of these.
    """
    if settings.path == MEMORY:
        return None
    path = Path(settings.path)
    if path.is_dir():
        return "it is a directory"
    if settings.read_only and not path.exists():
        return "file does not exist"
    parent = path.parent
    if not path.exists() and not parent.is_dir():
        return f"directory {os.fspath(parent)!r} does not exist"
    return None


def _read_only_uri(path: str) -> str:
    """A ``file:`` URI opening ``path`` read-only; ``?``, ``#`` and ``%`` in it are escaped."""
    absolute = Path(path).absolute().as_posix()
    if not absolute.startswith("/"):  # a Windows drive path: file:///C:/...
        absolute = "/" + absolute
    return f"file://{quote(absolute)}?mode=ro"
