"""Creating connections with a registry's drivers, checked against the driver contract.

:class:`ConnectionCreation` is part of :class:`~odibi_ext.ConnectionRegistry`
(a base class of it): ``create`` for applications, ``create_as_host`` for a
host such as Odibi that only needs what it calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from odibi_ext.contract import check_connection
from odibi_ext.errors import ConnectionFailedError
from odibi_ext.errors import InvalidConnectionError
from odibi_ext.errors import add_note
from odibi_ext.errors import describe_name
from odibi_ext.errors import describe_provider
from odibi_ext.typenames import type_name_of

if TYPE_CHECKING:
    from collections.abc import Callable

    Factory = Callable[[str, Mapping[str, Any]], Any]

LOG = logging.getLogger("odibi_ext.registry")


class ConnectionCreation:
    """Creating connections; a base class of ConnectionRegistry."""

    # State and helpers of ConnectionRegistry that these methods use.
    _lenient: set[str]  # type names warned of a non-conforming connection

    if TYPE_CHECKING:

        def get(self, type_name: str) -> Factory: ...
        def _provider(self, type_name: str) -> tuple[str | None, str | None]: ...

    def create(self, type_name: str, name: str, config: Mapping[str, Any]) -> Any:
        """A new connection: ``get(type_name)(name, config)``, checked to be a connection.

        ``config`` must be a mapping (``TypeError`` otherwise). Raises
        :class:`InvalidConnectionError` when the factory returns something
        without callable ``get_path`` and ``validate``. An exception the
        factory raises propagates unchanged, with a note naming the driver;
        anything else it raises but ``KeyboardInterrupt`` (``SystemExit``, a
        ``BaseException`` of its own) becomes :class:`ConnectionFailedError`.
        """
        return self._create(type_name, name, config, strict=True)

    def create_as_host(self, type_name: str, name: str, config: Mapping[str, Any]) -> Any:
        """:meth:`create` as a host that only needs what it calls: a connection without
        callable ``get_path`` or ``validate`` is returned, with one WARNING per type name
        saying what the contract would refuse."""
        return self._create(type_name, name, config, strict=False)

    def _create(
        self, type_name: str, name: str, config: Mapping[str, Any], *, strict: bool
    ) -> Any:
        factory = self.get(type_name)
        type_name = type_name_of(type_name)
        if not isinstance(name, str):
            raise TypeError(f"a connection's name is a str, not {type(name).__qualname__}")
        if not isinstance(config, Mapping):
            raise TypeError(
                f"the config for driver {describe_name(type_name)} must be a mapping, "
                f"not {type(config).__qualname__}"
            )
        distribution, version = self._provider(type_name)
        if LOG.isEnabledFor(logging.DEBUG):
            from odibi_ext.redaction import redact

            LOG.debug(
                "creating connection %r with driver %s, config %r",
                name,
                describe_name(type_name),
                redact(config),
            )
        try:
            connection = factory(name, config)
        except Exception as exc:
            add_note(
                exc,
                f"raised by driver {describe_name(type_name)} "
                f"({describe_provider(distribution, version)}) while creating connection {name!r}",
            )
            raise
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit and kin must not end the caller
            from odibi_ext.redaction import secret_values

            raise ConnectionFailedError(
                exc,
                type_name=type_name,
                distribution=distribution,
                version=version,
                connection=name,
                secrets=secret_values(config),
            ) from exc
        try:
            check_connection(
                connection, type_name=type_name, distribution=distribution, version=version
            )
        except InvalidConnectionError as error:
            if strict:
                raise
            if type_name not in self._lenient:
                self._lenient.add(type_name)
                LOG.warning(
                    "%s; it is used all the same, as Odibi uses it (odibi-ext's contract "
                    "would refuse it)",
                    str(error).split(". A factory must", 1)[0],
                )
        return connection
