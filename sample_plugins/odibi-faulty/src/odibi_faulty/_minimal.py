"""A connection-shaped object without odibi-ext: the registry checks shape, not class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MinimalConnection:
    """Has callable ``get_path`` and ``validate``, which is all a connection must have."""

    def __init__(self, name: str, config: Mapping[str, Any], driver: str) -> None:
        self.name = name
        self.driver = driver
        self._config_keys = sorted(config)  # keys only: values may be secrets

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} driver={self.driver!r}>"

    def get_path(self, relative_path: str) -> str:
        """``relative_path`` unchanged."""
        return relative_path

    def validate(self) -> None:
        """Always valid."""

    def close(self) -> None:
        """Nothing to release."""
