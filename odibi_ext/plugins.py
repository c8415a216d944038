"""Odibi's ``odibi.plugins`` API, kept working on top of one process-wide registry.

Code written for Odibi's ``register_connection_factory`` /
``get_connection_factory`` / ``load_plugins`` runs unchanged; the registry
behind it loads drivers lazily, remembers failures and honours the operator's
policy (``ODIBI_EXT_CONFIG``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from odibi_ext.errors import OdibiExtError
from odibi_ext.registry import ConnectionRegistry
from odibi_ext.registry import Factory

if TYPE_CHECKING:  # a dataclass: odibi_ext.odibi.install() reaches this module at start-up
    from odibi_ext.info import DriverInfo

_default: ConnectionRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> ConnectionRegistry:
    """The process-wide registry, created on first use with the operator's policy."""
    global _default  # noqa: PLW0603  # one registry per process is the point
    registry = _default
    if registry is None:
        with _default_lock:
            if _default is None:
                _default = ConnectionRegistry()
            registry = _default
    return registry


def register_connection_factory(type_name: str, factory: Factory) -> None:
    """Register ``factory`` for ``type_name``, overwriting any driver so named, as Odibi does."""
    default_registry().register(type_name, factory, replace=True)


def get_connection_factory(type_name: str) -> Factory | None:
    """The factory for ``type_name``, or ``None`` when it is unknown or cannot be loaded."""
    try:
        return default_registry().get(type_name)
    except (OdibiExtError, TypeError):
        return None


def load_plugins() -> list[DriverInfo]:
    """Load every installed driver; a plugin's failure is logged and recorded, never raised."""
    return default_registry().load_all()
