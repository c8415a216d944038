"""odibi_ext: a stevedore-based extension manager for Odibi connection drivers."""

import logging
from typing import TYPE_CHECKING
from typing import Any

from odibi_ext._version import __version__
from odibi_ext.connection import Connection
from odibi_ext.discovery import Candidate
from odibi_ext.errors import DriverConflictError
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import InvalidConnectionError
from odibi_ext.errors import InvalidFactoryError
from odibi_ext.errors import OdibiExtError
from odibi_ext.registry import NAMESPACE
from odibi_ext.registry import ConnectionRegistry

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo
    from odibi_ext.policy import Policy

__all__ = [
    "NAMESPACE",
    "Candidate",
    "Connection",
    "ConnectionRegistry",
    "DriverConflictError",
    "DriverInfo",
    "DriverLoadError",
    "DriverNotFoundError",
    "InvalidConnectionError",
    "InvalidFactoryError",
    "OdibiExtError",
    "Policy",
    "__version__",
]

# The two dataclasses are imported on first use: ``dataclasses`` pulls in
# ``inspect``, which would add milliseconds to every process that only loads
# a driver.
_LAZY = {"DriverInfo": "odibi_ext.info", "Policy": "odibi_ext.policy"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'odibi_ext' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


logging.getLogger(__name__).addHandler(logging.NullHandler())
