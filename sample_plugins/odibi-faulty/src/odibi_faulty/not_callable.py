"""Failure: the entry point's target is not callable.

``create`` is a dict, so the loaded object cannot be a factory; the registry
raises ``InvalidFactoryError`` saying what it found instead.
"""

from __future__ import annotations

create = {"not": "a function"}
