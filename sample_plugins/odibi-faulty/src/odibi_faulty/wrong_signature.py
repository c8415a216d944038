"""Failure: the factory has the wrong signature, ``create(config)`` instead of
``create(name, config)``.

The module imports fine; the registry's signature check refuses the loaded
object with an ``InvalidFactoryError`` showing the expected and actual signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odibi_faulty._minimal import MinimalConnection


def create(config: Mapping[str, Any]) -> MinimalConnection:
    """Create a connection from ``config`` alone (wrong: the name is missing)."""
    return MinimalConnection("unnamed", config, "faulty-signature")
