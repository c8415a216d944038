"""The base class of Odibi connections, mirroring Odibi 3.15.1's ``BaseConnection``."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11


class Connection(abc.ABC):
    """A connection created by a driver: ``factory(name, config) -> Connection``.

    Method for method and default for default Odibi 3.15.1's
    ``odibi.connections.base.BaseConnection``. Subclasses implement
    :meth:`get_path` and :meth:`validate`; the catalog, preview and profiling
    methods are optional and raise :class:`NotImplementedError` unless
    overridden; SQL connections set :attr:`sql_dialect` and
    :attr:`default_schema` and override :meth:`quote_identifier`.
    Subclassing is a convenience, not a requirement: the registry checks the
    shape (callable ``get_path`` and ``validate``), not the class.
    ``with connection:`` calls :meth:`close` on the way out.
    """

    @abc.abstractmethod
    def get_path(self, relative_path: str) -> str:
        """Return the full path or qualified name of ``relative_path`` in this connection."""

    @abc.abstractmethod
    def validate(self) -> None:
        """Check the configuration (and reachability); raise with a clear message if bad."""

    def discover_catalog(  # noqa: PLR0917  # Odibi's signature, positional as there
        self,
        include_schema: bool = False,
        include_stats: bool = False,
        limit: int = 200,
        recursive: bool = True,
        path: str = "",
        pattern: str = "",
    ) -> dict[str, Any]:
        """List the datasets this connection offers (tables, files, ...).

        At most ``limit`` of them; ``recursive`` descends into sub-folders or
        schemas; ``path`` scopes the search to one folder or schema and
        ``pattern`` filters names (``"*.csv"``, ``"fact_*"``). Odibi expects the
        shape of its ``CatalogSummary``.
        """
        raise NotImplementedError(self._unsupported("discover_catalog"))

    def get_schema(self, dataset: str) -> dict[str, Any]:
        """Describe the columns of ``dataset``."""
        raise NotImplementedError(self._unsupported("get_schema"))

    def profile(
        self,
        dataset: str,
        sample_rows: int = 1000,
        columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """Summarise ``dataset``: row count and per-column statistics."""
        raise NotImplementedError(self._unsupported("profile"))

    def preview(
        self,
        dataset: str,
        rows: int = 5,
        columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """The first ``rows`` rows of ``dataset`` (all columns, or only ``columns``)."""
        raise NotImplementedError(self._unsupported("preview"))

    def get_freshness(
        self,
        dataset: str,
        timestamp_column: str | None = None,
    ) -> dict[str, Any]:
        """Say how recent the data in ``dataset`` is."""
        raise NotImplementedError(self._unsupported("get_freshness"))

    #: The SQL dialect Odibi's engines write for (``"sqlite"``, ``"mssql"``, ...); ``""``: not SQL.
    sql_dialect: str = ""
    #: The schema a table name without one belongs to.
    default_schema: str = ""

    def quote_identifier(self, name: str) -> str:
        """``name`` quoted as one identifier of this dialect; the default leaves it as it is."""
        return name

    def qualify_table(self, table_name: str, schema: str = "") -> str:
        """``schema.table`` quoted, with :attr:`default_schema` when ``schema`` is empty."""
        schema = schema or self.default_schema
        if schema:
            return f"{self.quote_identifier(schema)}.{self.quote_identifier(table_name)}"
        return self.quote_identifier(table_name)

    def build_select_query(
        self,
        table_name: str,
        schema: str = "",
        where: str = "",
        limit: int = -1,
        columns: str = "*",
    ) -> str:
        """``SELECT columns FROM table [WHERE where] [LIMIT limit]`` in this dialect.

        ``where`` is a condition without the ``WHERE`` keyword; ``limit`` -1
        means no limit, 0 only the columns. ``columns`` and ``where`` are SQL,
        passed through as they are, as in Odibi.
        """
        query = f"SELECT {columns} FROM {self.qualify_table(table_name, schema)}"  # noqa: S608  # as Odibi builds it
        if where:
            query += f" WHERE {where}"
        if limit >= 0:
            query += f" LIMIT {limit}"
        return query

    def close(self) -> None:  # noqa: B027  # optional hook: most connections hold nothing
        """Release what the connection holds. The default does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _unsupported(self, method: str) -> str:
        return f"{type(self).__qualname__} does not support {method}()"
