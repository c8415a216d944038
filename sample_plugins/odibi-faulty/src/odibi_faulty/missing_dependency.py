"""Failure: the driver imports a client library that is not installed.

Importing this module raises ``ModuleNotFoundError``, as a real driver does
when its distribution forgot to declare a dependency. Loading reports a
failed driver naming the missing module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import odibi_faulty_nonexistent_client_lib  # type: ignore[import-not-found]  # the point


def create(name: str, config: Mapping[str, Any]) -> Any:
    """Create a connection through a client library that is never installed."""
    return odibi_faulty_nonexistent_client_lib.connect(name, **config)
