"""Failure: the factory returns something that is not a connection.

Loading succeeds and the signature is right, but ``create`` returns a dict
without ``get_path`` and ``validate``; ``ConnectionRegistry.create`` raises
``InvalidConnectionError`` naming the returned type and the missing methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def create(name: str, config: Mapping[str, Any]) -> dict[str, str]:
    """Create a dict, not a connection."""
    return {"name": name}
