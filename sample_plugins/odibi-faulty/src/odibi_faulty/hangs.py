"""Failure: importing the driver hangs, when ``ODIBI_FAULTY_HANG=1``.

With that variable set the import sleeps forever, as a driver blocked on a
network call at import time would; only a loader running it in a subprocess
with a timeout (``odibi-ext check --isolate``) survives. Without it this is a
valid driver, so the hang can be switched on for the one test that wants it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from odibi_faulty._minimal import MinimalConnection

if os.environ.get("ODIBI_FAULTY_HANG") == "1":
    while True:
        time.sleep(3600)


def create(name: str, config: Mapping[str, Any]) -> MinimalConnection:
    """Create a minimal connection that is always valid (when the import did not hang)."""
    return MinimalConnection(name, config, "faulty-hang")
