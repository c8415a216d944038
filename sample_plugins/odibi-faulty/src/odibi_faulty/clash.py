"""Failure: a valid driver claiming ``local``, the type name of Odibi's built-in file connection.

Stock Odibi registers its built-ins first and plugins after, so this driver
silently replaces Odibi's own ``local`` in every project. Under odibi-ext's
Odibi integration the built-in is a driver like any other: the default
policy (``on_conflict = "error"``) reports the clash naming both, and a pin
(``[odibi_ext.pins] local = "odibi"``) keeps the built-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odibi_faulty._minimal import MinimalConnection


def create(name: str, config: Mapping[str, Any]) -> MinimalConnection:
    """Create a minimal connection, which should not replace Odibi's own ``local``."""
    return MinimalConnection(name, config, "odibi-faulty local")
