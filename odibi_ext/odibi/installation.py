"""Putting a registry in charge of Odibi's seams, and giving Odibi its own objects back.

:func:`install` replaces each seam in ``odibi.plugins`` and in every Odibi
module that has already bound it; modules Odibi imports later bind the
replacements by themselves. :func:`uninstall` puts Odibi's own objects back
wherever a replacement is bound. One integration per process: Odibi's seams
are global.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

from odibi_ext import builtins
from odibi_ext.errors import OdibiExtError
from odibi_ext.odibi.seams import Integration
from odibi_ext.odibi.shape import FUNCTIONS
from odibi_ext.odibi.shape import HOST_PACKAGES
from odibi_ext.odibi.shape import PLUGINS_MODULE
from odibi_ext.odibi.shape import TABLE
from odibi_ext.odibi.shape import check_bindings
from odibi_ext.odibi.shape import plugins_module
from odibi_ext.odibi.versions import supported_version
from odibi_ext.registry import ConnectionRegistry
from odibi_ext.registry import Factory

LOG = logging.getLogger("odibi_ext.odibi")

_lock = threading.RLock()
_active: Integration | None = None


def install(registry: ConnectionRegistry | None = None) -> ConnectionRegistry:
    """Put ``registry`` in charge of the installed Odibi's connection plugins; return it.

    ``registry`` defaults to the process-wide registry of
    :mod:`odibi_ext.plugins` (the operator's policy, ``ODIBI_EXT_CONFIG``).
    Idempotent: when installed already, the registry in charge stays, or is
    replaced by the one given. What Odibi's table holds already (registered
    by the application at start-up, or during an earlier project load) is
    adopted, with its provider where it can be found. Raises
    :class:`~odibi_ext.OdibiExtError` when Odibi is missing, outside
    :data:`SUPPORTED`, or not shaped as expected; nothing is changed then.
    """
    return _install(registry, adopt=True)


def _install(registry: ConnectionRegistry | None, *, adopt: bool) -> ConnectionRegistry:
    global _active  # noqa: PLW0603  # one integration per process: Odibi's seams are global
    with _lock:
        stale = None
        if _active is not None and not _still_bound(_active):
            # odibi.plugins was reloaded: install again over the new module, and replace
            # the old replacements other modules still bind.
            stale, _active = _active, None
        if registry is None and stale is not None:
            registry = stale.registry
        if registry is None:
            if _active is not None:
                return _active.registry
            from odibi_ext.plugins import default_registry

            registry = default_registry()
        elif not isinstance(registry, ConnectionRegistry):
            raise TypeError(
                f"registry must be a ConnectionRegistry, not {type(registry).__qualname__}"
            )
        if _active is not None:
            _active.registry = registry
            return registry
        version = supported_version()
        plugins = plugins_module(version)
        originals = {name: getattr(plugins, name) for name in (TABLE, *FUNCTIONS)}
        check_bindings(originals, version, stale.replacements if stale is not None else {})
        integration = Integration(registry, originals)
        if adopt:
            _adopt_table(integration, originals[TABLE])
        _swap(originals, integration.replacements)
        if stale is not None:
            _swap(stale.replacements, integration.replacements)
        _active = integration
        LOG.debug("odibi-ext is in charge of Odibi %s's connection plugins", version)
        return registry


def uninstall() -> None:
    """Give Odibi its own objects back wherever :func:`install` replaced them; else a no-op.

    Odibi's own table is left holding what is registered at that moment
    (built-ins, drivers loaded so far, in-process factories), so a build in
    flight and code that registered meanwhile keep working.
    """
    _uninstall(None)


def _uninstall(left: dict[str, Factory] | None) -> None:
    """Uninstall, leaving ``left`` (default: every factory usable now) in Odibi's table."""
    global _active  # noqa: PLW0603
    with _lock:
        integration = _active
        if integration is None:
            return
        originals = integration.originals
        plugins = sys.modules.get(PLUGINS_MODULE)
        if plugins is not None and not _still_bound(integration):
            # Reloaded: its new objects are Odibi's now, for every module to share.
            originals = {name: getattr(plugins, name, originals[name]) for name in originals}
        table = originals[TABLE]
        if isinstance(table, dict):
            table.update(integration.factories() if left is None else left)
        _swap(integration.replacements, originals)
        _active = None


@contextlib.contextmanager
def watching(registry: ConnectionRegistry) -> Iterator[None]:
    """Registrations through Odibi's seams go to ``registry`` while the block runs.

    For loading every plugin (``check``, ``list --load``): what a plugin
    registers as it is imported becomes a candidate of its distribution. A
    no-op when Odibi is missing or unsupported, or the integration is
    installed already (its registry hears them).
    """
    import importlib.util

    with _lock:
        installed_here = False
        if _active is None and importlib.util.find_spec("odibi") is not None:
            try:
                _install(registry, adopt=False)
                installed_here = True
            except OdibiExtError as error:
                LOG.debug("registrations through Odibi are not watched: %s", error)
    try:
        yield
    finally:
        if installed_here:
            with _lock:
                if _active is not None and _active.registry is registry:
                    # Odibi's table gets what was registered, as stock loading would leave it.
                    _uninstall(registry.registered_factories())


def is_installed() -> bool:
    """Whether odibi-ext is in charge of Odibi's connection plugins now."""
    integration = _active
    return integration is not None and _still_bound(integration)


def _still_bound(integration: Integration) -> bool:
    plugins = sys.modules.get(PLUGINS_MODULE)
    return plugins is None or (
        getattr(plugins, "get_connection_factory", None)
        is integration.replacements["get_connection_factory"]
    )


def _adopt_table(integration: Integration, table: dict[str, Any]) -> None:
    """Take in what Odibi's table holds: built-ins as handed over, the rest registered
    by the module that defined it (an installed distribution's, or the user's)."""
    registry = integration.registry
    for type_name, factory in list(table.items()):
        if type(type_name) is not str:
            continue
        module = getattr(factory, "__module__", None)
        target = f"{module}:{getattr(factory, '__qualname__', '')}"
        if module == builtins.FACTORY_MODULE and any(
            c.origin == "builtin" and c.target == target for c in registry.candidates(type_name)
        ):
            registry.hand_builtin(type_name, factory)
        elif any(
            c.origin == "entry_point" and c.target.replace(" ", "") == target
            for c in registry.candidates(type_name)
        ):
            continue  # loaded by Odibi's own load_plugins: the entry point loads it again
        else:
            integration.adopt(type_name, factory, module if isinstance(module, str) else None)


def _swap(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Bind ``new[name]`` wherever an Odibi module binds ``old[name]``.

    ``odibi.plugins`` first, then the modules imported by then: a module whose
    import is under way binds from ``odibi.plugins`` after this, or is among them.
    """
    plugins = sys.modules.get(PLUGINS_MODULE)
    if plugins is not None:
        _rebind(plugins, old, new)
    for module in _host_modules():
        if module is not plugins:
            _rebind(module, old, new)


def _rebind(module: types.ModuleType, old: dict[str, Any], new: dict[str, Any]) -> None:
    namespace = vars(module)
    for name, value in old.items():
        if namespace.get(name) is value:
            namespace[name] = new[name]


def _host_modules() -> list[types.ModuleType]:
    modules = []
    for name, module in list(sys.modules.items()):
        if isinstance(module, types.ModuleType) and name.partition(".")[0] in HOST_PACKAGES:
            modules.append(module)
    return modules


def active() -> Integration | None:
    """The integration installed now, if any (it may have been unbound by a reload)."""
    return _active
