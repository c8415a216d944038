"""The base class of Odibi connections, mirroring Odibi's ``BaseConnection``."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Any
from typing import Self


class Connection(abc.ABC):
    """A connection created by a driver: ``factory(name, config) -> Connection``.

    Subclasses implement :meth:`get_path` and :meth:`validate`; the catalog and
    profiling methods are optional and raise :class:`NotImplementedError`
    unless overridden. Subclassing is a convenience, not a requirement: the
    registry checks the shape (callable ``get_path`` and ``validate``), not the
    class. ``with connection:`` calls :meth:`close` on the way out.
    """

    @abc.abstractmethod
    def get_path(self, relative_path: str) -> str:
        """Return the full path or qualified name of ``relative_path`` in this connection."""

    @abc.abstractmethod
    def validate(self) -> None:
        """Check the configuration (and reachability); raise with a clear message if bad."""

    def discover_catalog(
        self,
        include_schema: bool = False,
        include_stats: bool = False,
        limit: int = 200,
        recursive: bool = True,
    ) -> dict[str, Any]:
        """List the datasets this connection offers (tables, files, ...)."""
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

    def get_freshness(
        self,
        dataset: str,
        timestamp_column: str | None = None,
    ) -> dict[str, Any]:
        """Say how recent the data in ``dataset`` is."""
        raise NotImplementedError(self._unsupported("get_freshness"))

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
