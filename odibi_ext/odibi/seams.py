"""The replacements of Odibi's plugin seams: what Odibi calls under the integration.

An :class:`Integration` holds the registry in charge, Odibi's own objects and
their replacements: ``register_connection_factory``,
``get_connection_factory``, ``load_plugins`` and the table
(:class:`~odibi_ext.odibi.table.FactoryTable`). What Odibi gets for a type
name is a :class:`CheckedFactory`, which creates connections through the
registry.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Mapping
from typing import Any
from typing import Final

from odibi_ext import builtins
from odibi_ext import index
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import OdibiExtError
from odibi_ext.errors import describe_provider
from odibi_ext.odibi.providers import provider_of
from odibi_ext.odibi.shape import TABLE
from odibi_ext.odibi.table import FactoryTable
from odibi_ext.registry import ConnectionRegistry
from odibi_ext.registry import Factory
from odibi_ext.registry import type_name_of

LOG = logging.getLogger("odibi_ext.odibi")


class UnsupportedConnectionTypeError(DriverNotFoundError, ValueError):
    """A project names a connection type no driver offers.

    Still the ``ValueError`` starting ``Unsupported connection type`` that
    Odibi raises and its callers match on, and also a
    :class:`~odibi_ext.DriverNotFoundError`, with the did-you-mean and the
    types available, built-ins and plugins alike.
    """

    def _compose(self, type_name: str) -> str:
        detail = super()._compose(type_name)
        return f"Unsupported connection type: {type_name}. {detail[:1].upper()}{detail[1:]}"


class Integration:
    """What one :func:`install` replaced: the registry in charge and Odibi's own objects."""

    def __init__(self, registry: ConnectionRegistry, originals: dict[str, Any]) -> None:
        self.registry = registry
        self.originals = originals  # name in odibi.plugins -> Odibi's own object
        self.table = FactoryTable(self)
        replacements: dict[str, Any] = {
            TABLE: self.table,
            "register_connection_factory": self.register_connection_factory,
            "get_connection_factory": self.get_connection_factory,
            "load_plugins": self.load_plugins,
        }
        self.replacements = replacements
        self._checked: dict[str, CheckedFactory] = {}
        #: The level of the line naming each connection type's driver.
        self.announce_level = logging.DEBUG

    def register_connection_factory(self, type_name: str, factory: Factory) -> None:
        """Odibi's ``register_connection_factory``: accepts what Odibi accepts, never raises.

        Who registers decides what it means. The built-in functions Odibi's
        ``register_builtins`` hands over serve the built-in drivers as they
        are (a patched one until the real one is handed again). A
        registration by an installed distribution's code is a candidate of
        that distribution, under the policy like an entry point. One by the
        user's own code (a script, a project's ``plugins.py``) overwrites, as
        in Odibi; a factory odibi-ext would refuse becomes a failing driver.
        """
        frame = sys._getframe(1)
        module = frame.f_globals.get("__name__")
        while isinstance(module, str) and module.startswith("odibi_ext.") and frame.f_back:
            frame = frame.f_back  # through FactoryTable.__setitem__
            module = frame.f_globals.get("__name__")
        if (
            module == builtins.FACTORY_MODULE
            and frame.f_code.co_name == builtins.REGISTER_FUNCTION
            and type(type_name) is str
            and self.registry.hand_builtin(type_name, factory)
        ):
            return
        self.adopt(type_name, factory, module if isinstance(module, str) else None)

    def adopt(self, type_name: object, factory: object, module: str | None) -> None:
        """Register ``factory`` as made by ``module``'s code (None: unknown, the user's)."""
        provider = provider_of(self.registry, module)
        try:
            name = type_name_of(type_name)
        except TypeError:
            name = ""
        if provider is None or not name or name != name.strip() or not name.isprintable():
            self.registry.register_leniently(type_name, factory, by=module)
            return
        distribution, version = provider
        self.registry.register_from(
            name,
            factory,  # type: ignore[arg-type]  # checked when it is used
            distribution=distribution,
            version=version,
            module=module or "?",
        )

    def get_connection_factory(self, type_name: str) -> Factory | None:
        """Odibi's ``get_connection_factory``: the factory for ``type_name``, or None.

        None for a name no driver offers (as Odibi answers), except to Odibi's
        project loader, which gets :class:`UnsupportedConnectionTypeError` with
        the did-you-mean and every usable type. A name a plugin registers at
        import is found whatever was imported before. What Odibi gets calls
        the registry: an error the factory raises carries a note naming the
        driver and its distribution. Raises the registry's error for a
        conflicting, failing or disabled driver.
        """
        try:
            factory = self.registry.get(type_name)
        except DriverNotFoundError as error:
            if error.reason is not None:  # offered, but the policy excludes it
                raise
            name = type_name_of(type_name)
            found = self._find_extra_name(name)
            if found is None:
                if sys._getframe(1).f_globals.get("__name__") in _PROJECT_LOADERS:
                    raise UnsupportedConnectionTypeError(
                        name, available=self.registry.usable_names()
                    ) from None
                return None
            factory = found
        except DriverLoadError as error:
            if error.loading:  # its own import asked: not registered yet, as in Odibi
                return None
            raise
        except TypeError:
            if sys._getframe(1).f_globals.get("__name__") in _PROJECT_LOADERS:
                raise UnsupportedConnectionTypeError(
                    repr(type_name), available=self.registry.usable_names()
                ) from None
            return None
        name = type_name_of(type_name)
        checked = self._checked.get(name)
        if (
            checked is None
            or checked.factory is not factory
            or checked.registry is not self.registry
        ):
            checked = self._checked[name] = CheckedFactory(self.registry, name, factory)
            self._announce(name)
        return checked

    def _find_extra_name(self, type_name: str) -> Factory | None:
        """A type name some plugin registers at import: Odibi finds those by importing every
        plugin. The driver remembered as registering it is imported first; else every driver
        the policy lets load (contained), and what registered which name is remembered."""
        registry = self.registry
        remembered = index.extra_names(registry.namespace).get(type_name)
        if remembered is not None and remembered in registry:
            with contextlib.suppress(OdibiExtError):
                registry.get(remembered)
            if type_name in registry.usable_names():
                return registry.get(type_name)
        known = set(registry.extra_names())
        registry.load_all()
        extras = registry.extra_names()
        if extras.keys() - known:
            index.remember_extra_names(registry.namespace, extras)
        if type_name not in registry:
            return None
        return registry.get(type_name)

    def _announce(self, type_name: str) -> None:
        """Say once which driver serves a connection type: Odibi's log shows no provenance.

        At DEBUG in library use (Odibi's INFO handler would render it on every
        project load); ``odibi-ext odibi`` says it at INFO.
        """
        level = self.announce_level
        if not LOG.isEnabledFor(level):
            return
        info = self.registry.info(type_name)
        if info.origin == "registered" and info.distribution is None:
            LOG.log(level, "connection type %r: a factory registered in-process", type_name)
            return
        LOG.log(
            level,
            "connection type %r: driver %s (%s%s), loaded by odibi-ext in %.1f ms",
            type_name,
            describe_provider(info.distribution, info.version),
            "built-in " if info.origin == "builtin" else "",
            info.reason if info.origin == "registered" else info.target,
            info.load_ms or 0.0,
        )

    def load_plugins(self) -> None:
        """Odibi's ``load_plugins``: imports nothing, drivers load when a project uses them."""
        LOG.debug("load_plugins(): nothing to import, drivers load on first use")

    def factories(self) -> dict[str, Factory]:
        """What Odibi's own dict should hold now: every factory usable without loading."""
        factories = self.registry.loaded_factories()
        for name in set(factories) - set(self.registry.usable_names()):
            del factories[name]
        return factories


#: Odibi's modules that build a project's connections: an unknown type name fails there.
_PROJECT_LOADERS: Final = frozenset({"odibi.pipeline"})


class CheckedFactory:
    """A driver's factory as Odibi gets it: ``factory(name, config)`` through the registry.

    ``factory`` is the driver's own object (also ``__wrapped__``); calling
    this creates the connection with :meth:`ConnectionRegistry.create_as_host`:
    what the factory raises names the driver, a ``SystemExit`` cannot end the
    process, and a connection lacking ``get_path`` or ``validate`` is used
    as Odibi would use it, with a WARNING.
    """

    __slots__ = ("__wrapped__", "factory", "registry", "type_name")

    def __init__(self, registry: ConnectionRegistry, type_name: str, factory: Factory) -> None:
        self.registry = registry
        self.type_name = type_name
        self.factory = factory
        self.__wrapped__ = factory

    def __call__(self, name: str, config: Mapping[str, Any]) -> Any:
        return self.registry.create_as_host(self.type_name, name, config)

    def __repr__(self) -> str:
        return f"<driver {self.type_name!r} of {self.registry!r}: {self.factory!r}>"
