"""Failure: importing the driver calls ``sys.exit(3)``.

``SystemExit`` is not an ``Exception``, so a loader that catches only
``Exception`` lets it end the whole process; odibi-ext must report a failed
driver instead.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

sys.exit(3)


def create(name: str, config: Mapping[str, Any]) -> Any:  # type: ignore[unreachable]
    """Never defined: the module exits before getting here."""
    raise NotImplementedError
