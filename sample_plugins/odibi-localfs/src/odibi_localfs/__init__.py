"""odibi-localfs: the ``localfs`` Odibi connection driver, for data files under one directory."""

from odibi_localfs.config import LocalConfig
from odibi_localfs.connection import LocalConnection
from odibi_localfs.connection import PathOutsideBaseError
from odibi_localfs.connection import create
from odibi_localfs.formats import FORMATS

__all__ = [
    "FORMATS",
    "LocalConfig",
    "LocalConnection",
    "PathOutsideBaseError",
    "create",
]
