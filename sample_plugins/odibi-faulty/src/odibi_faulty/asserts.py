"""Failure: importing the driver raises ``AssertionError``.

stevedore re-raises ``AssertionError`` while loading instead of reporting it,
so this would end an inspection run; odibi-ext must report a failed driver.
It is raised explicitly, not with ``assert``, so it also fails under ``python -O``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

raise AssertionError("odibi-faulty: this driver asserts while being imported")


def create(name: str, config: Mapping[str, Any]) -> Any:  # type: ignore[unreachable]
    """Never defined: the module raises before getting here."""
    raise NotImplementedError
