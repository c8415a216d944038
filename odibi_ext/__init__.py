"""odibi_ext: a stevedore-based extension manager for Odibi connection drivers."""

import logging

from odibi_ext._version import __version__
from odibi_ext.connection import Connection
from odibi_ext.errors import (
    DriverConflictError,
    DriverLoadError,
    DriverNotFoundError,
    InvalidConnectionError,
    InvalidFactoryError,
    OdibiExtError,
)
from odibi_ext.info import Candidate, DriverInfo
from odibi_ext.policy import Policy
from odibi_ext.registry import NAMESPACE, ConnectionRegistry

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

logging.getLogger(__name__).addHandler(logging.NullHandler())
