"""odibi-sqlite: the ``sqlite`` Odibi connection driver, on the standard library's sqlite3."""

from odibi_sqlite.config import SQLiteConfig
from odibi_sqlite.connection import SQLiteConnection
from odibi_sqlite.connection import SQLiteConnectionError
from odibi_sqlite.connection import create
from odibi_sqlite.sql import quote_identifier

__all__ = [
    "SQLiteConfig",
    "SQLiteConnection",
    "SQLiteConnectionError",
    "create",
    "quote_identifier",
]
