"""Failure: the module exists but defines no ``create``.

The entry point ``odibi_faulty.missing_attribute:create`` names an attribute
that is not there (a renamed factory, a typo in ``entry_points``), so loading
fails with an ``AttributeError``.
"""

from __future__ import annotations


def make_connection(name: str, config: object) -> None:
    """Not the factory the entry point names: the entry point says ``create``."""
