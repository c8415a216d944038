"""Failure: a valid driver whose type name, ``local``, is also odibi-localfs's.

With both distributions installed, the default policy (``on_conflict =
"error"``) loads neither and names both; a pin (``[odibi_ext.pins] local =
"odibi-localfs"``) or ``on_conflict = "first"``/``"last"`` chooses one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odibi_faulty._minimal import MinimalConnection


def create(name: str, config: Mapping[str, Any]) -> MinimalConnection:
    """Create a minimal connection from odibi-faulty, which should not win ``local``."""
    return MinimalConnection(name, config, "odibi-faulty local")
