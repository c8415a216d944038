"""Which installed distribution a module registering a connection factory belongs to.

A registration through Odibi's seams by an installed distribution's code is a
candidate of that distribution; one by the user's own code has no provider.
"""

from __future__ import annotations

import sys

from odibi_ext.discovery import HOST_DISTRIBUTION
from odibi_ext.odibi.shape import HOST_PACKAGES
from odibi_ext.registry import ConnectionRegistry


def provider_of(
    registry: ConnectionRegistry, module: str | None
) -> tuple[str | None, str | None] | None:
    """The installed distribution whose code ``module`` is, or None for the user's own code."""
    if not module:
        return None
    top = module.partition(".")[0]
    if top in HOST_PACKAGES:
        return HOST_DISTRIBUTION, _host_version()
    provider = registry.provider_of_module(module)
    if provider is not None:
        return provider
    importing = registry.importing_now()
    if importing is not None and importing.distribution is not None:
        return importing.distribution, importing.version
    return _installed_provider(module)


def _host_version() -> str | None:
    odibi = sys.modules.get("odibi")
    version = getattr(odibi, "__version__", None)
    return version if isinstance(version, str) else None


def _installed_provider(module: str) -> tuple[str | None, str | None] | None:
    """The distribution whose files hold ``module``'s top-level package, if any."""
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    if not isinstance(path, str):
        return None
    import importlib.metadata
    import os

    top = module.partition(".")[0]
    names = _packages_distributions().get(top, [])
    for name in names:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        root = os.path.abspath(str(dist.locate_file("")))
        if os.path.abspath(path).startswith(root + os.sep):
            return dist.metadata["Name"] or name, dist.version
    return None


_PACKAGES: dict[str, list[str]] = {}


def _packages_distributions() -> dict[str, list[str]]:
    if not _PACKAGES:
        if sys.version_info >= (3, 10):
            from importlib.metadata import packages_distributions
        else:  # new in 3.10; Odibi requires importlib_metadata, which has it
            from importlib_metadata import packages_distributions

        _PACKAGES.update(packages_distributions())
    return _PACKAGES
