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
from odibi_sqlite import sql
from odibi_sqlite.config import DRIVER
from odibi_sqlite.config import MEMORY
from odibi_sqlite.config import SQLiteConfig

LOG = logging.getLogger(__name__)


class SQLiteConnectionError(ConnectionError):
    """The database cannot be opened or used. ``path`` is the database's configured path."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


def create(name: str, config: Mapping[str, Any]) -> SQLiteConnection:
    """Create a connection to a SQLite database file (or an in-memory database).

    ``config`` keys: ``path`` (required: a file path or ``":memory:"``),
    ``timeout`` (seconds to wait for a locked database, default 5.0) and
    ``read_only`` (default false; the file must then exist). Nothing is
    opened until first use. Raises ``ValueError`` or ``TypeError`` naming the
    key when the config is wrong.
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

    def __repr__(self) -> str:
        mode = " read_only" if self.settings.read_only else ""
        state = " closed" if self._closed else ""
        return (
            f"<{type(self).__name__} name={self.name!r} path={self.settings.path!r}{mode}{state}>"
        )

    def get_path(self, relative_path: str) -> str:
        """The table ``relative_path`` as a quoted SQL identifier: ``a"b`` gives ``"a""b"``."""
        return sql.quote_identifier(relative_path)

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

    def discover_catalog(
        self,
        include_schema: bool = False,
        include_stats: bool = False,
        limit: int = 200,
        recursive: bool = True,
    ) -> dict[str, Any]:
        """The tables and views, by name: ``{"connection", "type", "datasets", "truncated"}``.

        Each dataset is ``{"name", "kind": "table" | "view"}``, plus ``columns``
        (as in :meth:`get_schema`) with ``include_schema`` and ``row_count``
        with ``include_stats``. A view that cannot be read gets an ``error``
        instead. At most ``limit`` datasets; ``truncated`` says whether more
        exist. ``recursive`` has no meaning for SQLite and is ignored.
        """
        limit = _non_negative("limit", limit)
        with self._session() as db:
            found = sql.datasets(db, limit + 1)
            entries = [
                _describe(db, name, kind, include_schema, include_stats)
                for name, kind in found[:limit]
            ]
        return {
            "connection": self.name,
            "type": "sqlite",
            "datasets": entries,
            "truncated": len(found) > limit,
        }

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
