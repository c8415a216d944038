"""Registries for tests: one that sees no installed driver, one that sees one distribution's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from odibi_ext.registry import ConnectionRegistry
from odibi_ext.registry import Factory

#: The connection types Odibi 3.15.1 registers itself (``register_builtins``). Kept
#: here, not read from Odibi, because a driver's author may test without Odibi
#: installed, and a plugin claiming one of these displaces the built-in once it is.
ODIBI_BUILTIN_TYPE_NAMES: Final = frozenset(
    {
        "local",
        "http",
        "azure_blob",
        "azure_adls",
        "delta",
        "sql_server",
        "azure_sql",
        "postgres",
        "postgresql",
        "unity_catalog",
    }
)


def empty_registry(factories: Mapping[str, Factory] | None = None) -> ConnectionRegistry:
    """A registry holding only ``factories``: no installed distribution is seen."""
    return ConnectionRegistry.from_factories(factories or {})


def installed_registry(distribution: str) -> ConnectionRegistry:
    """A registry whose drivers are the ones ``distribution`` installs, each pinned to it.

    Other distributions are hidden (``allowed_distributions``). What the policy
    cannot hide, the host's built-ins, is disabled unless ``distribution``
    offers the same name, where the pin settles the clash in its favour.
    """
    from odibi_ext.discovery import normalize_distribution
    from odibi_ext.policy import Policy

    allowed = frozenset({distribution})
    wanted = normalize_distribution(distribution)
    scoped = ConnectionRegistry(policy=Policy(allowed_distributions=allowed))
    offered = {
        name
        for name in scoped.names()
        if any(
            normalize_distribution(c.distribution or "") == wanted
            for c in scoped.info(name).candidates
        )
    }
    policy = Policy(
        allowed_distributions=allowed,
        pins=dict.fromkeys(offered, distribution),
        disabled=frozenset(scoped.names()) - offered,
    )
    return ConnectionRegistry(policy=policy)
