"""Putting odibi-ext in charge of the installed Odibi's connection plugins.

Odibi keeps its connection factories in ``odibi.plugins``: a dict
``_CONNECTION_FACTORIES`` and the functions ``register_connection_factory``,
``get_connection_factory`` and ``load_plugins``. Other Odibi modules bind
those names when they are imported (``odibi.pipeline``,
``odibi.connections.factory``, ``odibi.cli.list_cmd``, ...), so replacing
them in ``odibi.plugins`` alone would split Odibi in two. :func:`install`
replaces each name in ``odibi.plugins`` and in every Odibi module that has
already bound it; modules Odibi imports later bind the replacements by
themselves. :func:`uninstall` puts Odibi's own objects back wherever a
replacement is bound, whenever that module was imported.

Under the integration, every lookup goes to a :class:`ConnectionRegistry`:
drivers load when a project first uses them, Odibi's built-ins are drivers of
origin ``"builtin"`` (conflicts with plugins are reported, the policy
settles them), and a type name that is conflicting, failing or disabled fails
the project with the registry's error. This is the only module of odibi_ext
that imports Odibi.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import sys
import threading
import types
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import MutableMapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from odibi_ext import builtins
from odibi_ext import index
from odibi_ext.discovery import HOST_DISTRIBUTION
from odibi_ext.discovery import header
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import OdibiExtError
from odibi_ext.errors import describe_provider
from odibi_ext.registry import ConnectionRegistry
from odibi_ext.registry import Factory
from odibi_ext.registry import type_name_of

if TYPE_CHECKING:
    import importlib.metadata

LOG = logging.getLogger(__name__)

#: The Odibi versions whose plugin seams this module knows (``odibi/plugins.py``
#: is the same from 2.4.0 to 3.15.1; the modules binding it are checked too).
SUPPORTED: Final = ">=2.4, <4"
_LOWEST: Final = (2, 4)
_BEYOND: Final = (4,)

_PLUGINS_MODULE: Final = "odibi.plugins"
_TABLE: Final = "_CONNECTION_FACTORIES"
_FUNCTIONS: Final = ("register_connection_factory", "get_connection_factory", "load_plugins")
#: Modules known to bind the seams at import time: each must hold Odibi's own
#: object when it is already imported, or the Odibi is not shaped as expected.
_KNOWN_BINDINGS: Final = (
    ("odibi.pipeline", "get_connection_factory"),
    ("odibi.pipeline", "load_plugins"),
    ("odibi.connections.factory", "register_connection_factory"),
    ("odibi.cli.list_cmd", _TABLE),
)
#: Where bindings are looked for: Odibi and its MCP server.
_HOST_PACKAGES: Final = ("odibi", "odibi_mcp")


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


class _Integration:
    """What one :func:`install` replaced: the registry in charge and Odibi's own objects."""

    def __init__(self, registry: ConnectionRegistry, originals: dict[str, Any]) -> None:
        self.registry = registry
        self.originals = originals  # name in odibi.plugins -> Odibi's own object
        self.table = FactoryTable(self)
        replacements: dict[str, Any] = {
            _TABLE: self.table,
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
        provider = _provider(self.registry, module)
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


def _provider(
    registry: ConnectionRegistry, module: str | None
) -> tuple[str | None, str | None] | None:
    """The installed distribution whose code ``module`` is, or None for the user's own code."""
    if not module:
        return None
    top = module.partition(".")[0]
    if top in _HOST_PACKAGES:
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


class FactoryTable(MutableMapping[str, Factory]):
    """Odibi's ``_CONNECTION_FACTORIES`` dict, as a view of the registry in charge.

    ``in``, iteration and ``len`` list the type names a project can use
    (conflicting, disabled and failing ones left out) and import nothing:
    ``odibi list connections`` shows plugins without importing them. Reading
    an item loads that driver; :meth:`get` answers None where Odibi's dict
    would. Setting an item registers as ``register_connection_factory``
    does; deleting one forgets it (a built-in or an installed driver is
    offered again when Odibi registers or a project uses it).
    """

    def __init__(self, integration: _Integration) -> None:
        self._integration = integration

    def __getitem__(self, type_name: str) -> Factory:
        registry = self._integration.registry
        if type_name not in self:
            raise KeyError(type_name)
        try:
            return registry.get(type_name)
        except OdibiExtError as error:
            raise KeyError(str(error)) from error

    def get(self, type_name: str, default: Any = None) -> Any:
        try:
            return self[type_name]
        except (KeyError, TypeError):
            return default

    def copy(self) -> dict[str, Factory]:
        """A plain dict of every usable type name's factory (loading those not loaded yet)."""
        copied = {}
        for type_name in self:
            factory = self.get(type_name)
            if factory is not None:
                copied[type_name] = factory
        return copied

    def __setitem__(self, type_name: str, factory: Factory) -> None:
        self._integration.register_connection_factory(type_name, factory)

    def __delitem__(self, type_name: str) -> None:
        try:
            known = self._integration.registry.forget(type_name)
        except TypeError:
            known = False
        if not known:
            raise KeyError(type_name)

    def __contains__(self, type_name: object) -> bool:
        if not isinstance(type_name, str):
            return False
        return type_name_of(type_name) in self._integration.registry.usable_names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._integration.registry.usable_names())

    def __len__(self) -> int:
        return len(self._integration.registry.usable_names())

    def clear(self) -> None:
        """Forget every in-process factory; installed drivers and built-ins stay offered."""
        registry = self._integration.registry
        for info in [registry.info(name) for name in registry.names()]:
            if info.origin == "registered":
                registry.forget(info.name)

    def __repr__(self) -> str:
        return f"<odibi connection factories of {self._integration.registry!r}>"


_lock = threading.RLock()
_active: _Integration | None = None


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
        version = _supported_version()
        plugins = _plugins_module(version)
        originals = {name: getattr(plugins, name) for name in (_TABLE, *_FUNCTIONS)}
        _check_bindings(originals, version, stale.replacements if stale is not None else {})
        integration = _Integration(registry, originals)
        if adopt:
            _adopt_table(integration, originals[_TABLE])
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
        plugins = sys.modules.get(_PLUGINS_MODULE)
        if plugins is not None and not _still_bound(integration):
            # Reloaded: its new objects are Odibi's now, for every module to share.
            originals = {name: getattr(plugins, name, originals[name]) for name in originals}
        table = originals[_TABLE]
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


def _still_bound(integration: _Integration) -> bool:
    plugins = sys.modules.get(_PLUGINS_MODULE)
    return plugins is None or (
        getattr(plugins, "get_connection_factory", None)
        is integration.replacements["get_connection_factory"]
    )


def _adopt_table(integration: _Integration, table: dict[str, Any]) -> None:
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
    plugins = sys.modules.get(_PLUGINS_MODULE)
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
        if isinstance(module, types.ModuleType) and name.partition(".")[0] in _HOST_PACKAGES:
            modules.append(module)
    return modules


def validation_mode_enum() -> type[enum.Enum] | None:
    """Odibi's ``ValidationMode`` (what it passes as ``validation_mode``); None without Odibi.

    ``odibi.config`` loads pydantic, not pandas, and leaves logging alone.
    """
    import importlib.util

    if importlib.util.find_spec("odibi") is None:
        return None
    from odibi.config import ValidationMode  # type: ignore[import-untyped]

    mode: type[enum.Enum] = ValidationMode
    return mode


def _supported_version() -> str:
    import importlib.metadata

    try:
        version = _version_of(importlib.metadata.distribution(HOST_DISTRIBUTION))
    except importlib.metadata.PackageNotFoundError:
        raise OdibiExtError(
            f"Odibi is not installed, so odibi-ext cannot take charge of its connection "
            f"plugins: pip install 'odibi-ext[odibi]' (supported: odibi {SUPPORTED})"
        ) from None
    release = _release(version)
    if release is None or not _LOWEST <= release < _BEYOND:
        raise OdibiExtError(
            f"odibi {version} is installed, but odibi-ext supports odibi {SUPPORTED}: "
            f"install a supported Odibi (pip install 'odibi-ext[odibi]') or an odibi-ext "
            f"that supports odibi {version}"
        )
    return version


def _version_of(dist: importlib.metadata.Distribution) -> str:
    """The ``Version`` header of a distribution's metadata.

    Read from the headers only: ``Distribution.version`` runs the email parser
    over the whole file (Odibi's is 400 lines), about 10 ms of every
    ``odibi-ext odibi`` start-up.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line:  # the end of the headers
            break
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == "version":
            return value.strip()
    return header(dist.metadata, "Version") or "(no version in its metadata)"


def _release(version: str) -> tuple[int, ...] | None:
    numbers = []
    for part in version.split(".")[:3]:
        digits = ""
        for character in part:
            if not character.isdigit():
                break
            digits += character
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers) or None


def _plugins_module(version: str) -> types.ModuleType:
    import importlib

    try:
        plugins = importlib.import_module(_PLUGINS_MODULE)
    except Exception as exc:
        raise _unexpected(version, f"{_PLUGINS_MODULE} cannot be imported ({exc})") from exc
    table = getattr(plugins, _TABLE, None)
    if type(table) is not dict:
        raise _unexpected(version, f"{_PLUGINS_MODULE}.{_TABLE} is not Odibi's dict")
    for name in _FUNCTIONS:
        if not isinstance(getattr(plugins, name, None), types.FunctionType):
            raise _unexpected(version, f"{_PLUGINS_MODULE}.{name} is not a function")
    return plugins


def _check_bindings(originals: dict[str, Any], version: str, stale: dict[str, Any]) -> None:
    """Every known binder already imported must hold Odibi's own object (or, after a
    reload of ``odibi.plugins``, the replacement installed before it: ``stale``)."""
    for module_name, name in _KNOWN_BINDINGS:
        module = sys.modules.get(module_name)
        if module is None:
            continue  # it will bind the replacement when Odibi imports it
        bound = getattr(module, name, None)
        if bound is None and _initializing(module):
            continue  # being imported by another thread: it binds from odibi.plugins
        if bound is not originals[name] and (name not in stale or bound is not stale[name]):
            raise _unexpected(
                version,
                f"{module_name}.{name} is not odibi.plugins.{name} (replaced by other code?)",
            )


def _initializing(module: types.ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _unexpected(version: str, what: str) -> OdibiExtError:
    return OdibiExtError(
        f"odibi {version} is not shaped as odibi-ext expects: {what}; nothing was changed. "
        f"odibi-ext supports odibi {SUPPORTED}: install one of those, or report this to "
        f"odibi-ext with the Odibi version"
    )


def run(argv: Sequence[str], registry: ConnectionRegistry | None = None) -> int:
    """Run Odibi's command line (``odibi ARGV...``) with ``registry`` in charge; its exit status.

    The integration is installed for the run and removed after it. Before
    returning, Odibi's background writers (its ``DerivedUpdater`` thread) are
    given time to finish: an interpreter that shuts down while they are in
    deltalake's native code aborts, and their writes would be lost.
    Raises :class:`~odibi_ext.OdibiExtError` when Odibi cannot be used.
    """
    index.cache_dir()  # a relative ODIBI_EXT_CACHE_DIR means the directory we start in
    previous = _active.registry if is_installed() and _active is not None else None
    install(registry)
    integration = _active
    assert integration is not None  # installed just above
    saved_level, integration.announce_level = integration.announce_level, logging.INFO
    saved_argv = sys.argv
    sys.argv = ["odibi", *argv]
    try:
        from odibi.cli.main import main as odibi_main  # type: ignore[import-untyped]

        try:
            status: object = odibi_main()
        except SystemExit as exc:  # argparse's --help, usage errors
            status = exc.code
        _join_background_writers()
        return _exit_status(status)
    finally:
        sys.argv = saved_argv
        integration.announce_level = saved_level
        if previous is None:
            uninstall()
        else:
            install(previous)


#: Threads Odibi starts after a run whose work must not be cut off.
_BACKGROUND_WRITERS: Final = frozenset({"DerivedUpdater"})
#: How long to wait for them; they write a few small Delta tables.
_BACKGROUND_TIMEOUT_S: Final = 120.0


def _join_background_writers() -> None:
    for thread in threading.enumerate():
        if thread.name in _BACKGROUND_WRITERS and thread is not threading.current_thread():
            LOG.debug("waiting for Odibi's %s thread to finish its writes", thread.name)
            thread.join(_BACKGROUND_TIMEOUT_S)


def _exit_status(status: object) -> int:
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1
