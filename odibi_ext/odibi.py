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
from odibi_ext.discovery import HOST_DISTRIBUTION
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
        """Odibi's ``register_connection_factory``, going to the registry in charge.

        A factory registered by the user's code overwrites, as in Odibi. The
        built-ins Odibi registers again on every project load are already
        drivers of origin ``"builtin"``: they never replace what is there.
        """
        type_name = type_name_of(type_name)
        if self._is_builtin(type_name, factory):
            return
        self.registry.register(type_name, factory, replace=True)

    def get_connection_factory(self, type_name: str) -> Factory:
        """The factory for ``type_name``, loaded on first use, its connections checked.

        What Odibi gets calls ``registry.create``: a factory returning
        something that is not a connection fails with odibi-ext's
        :class:`~odibi_ext.InvalidConnectionError`, and an error the factory
        raises carries a note naming the driver and its distribution. Raises
        the registry's error for a conflicting, failing or disabled driver,
        and :class:`UnsupportedConnectionTypeError` for an unknown one.
        """
        try:
            factory = self.registry.get(type_name)
        except DriverNotFoundError as error:
            if error.reason is not None:  # offered, but the policy excludes it
                raise
            raise UnsupportedConnectionTypeError(
                type_name_of(type_name), available=self.registry.names()
            ) from None
        except TypeError:
            raise UnsupportedConnectionTypeError(
                repr(type_name), available=self.registry.names()
            ) from None
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

    def _announce(self, type_name: str) -> None:
        """Say once which driver serves a connection type: Odibi's log shows no provenance.

        At DEBUG in library use (Odibi's INFO handler would render it on every
        project load); ``odibi-ext odibi`` says it at INFO.
        """
        level = self.announce_level
        if not LOG.isEnabledFor(level):
            return
        info = self.registry.info(type_name)
        if info.origin == "registered":
            LOG.log(level, "connection type %r: a factory registered in-process", type_name)
            return
        LOG.log(
            level,
            "connection type %r: driver %s (%s%s), loaded by odibi-ext in %.1f ms",
            type_name,
            describe_provider(info.distribution, info.version),
            "built-in " if info.origin == "builtin" else "",
            info.target,
            info.load_ms or 0.0,
        )

    def load_plugins(self) -> None:
        """Odibi's ``load_plugins``: imports nothing, drivers load when a project uses them."""
        LOG.debug("load_plugins(): nothing to import, drivers load on first use")

    def _is_builtin(self, type_name: str, factory: object) -> bool:
        if getattr(factory, "__module__", None) != builtins.FACTORY_MODULE:
            return False
        target = f"{builtins.FACTORY_MODULE}:{getattr(factory, '__qualname__', '')}"
        candidates = self.registry.candidates(type_name)
        return any(c.origin == "builtin" and c.target == target for c in candidates)


class CheckedFactory:
    """A driver's factory as Odibi gets it: ``factory(name, config)`` through the registry.

    ``factory`` is the driver's own object (also ``__wrapped__``); calling
    this creates the connection with :meth:`ConnectionRegistry.create`, which
    checks the result.
    """

    __slots__ = ("__wrapped__", "factory", "registry", "type_name")

    def __init__(self, registry: ConnectionRegistry, type_name: str, factory: Factory) -> None:
        self.registry = registry
        self.type_name = type_name
        self.factory = factory
        self.__wrapped__ = factory

    def __call__(self, name: str, config: Mapping[str, Any]) -> Any:
        return self.registry.create(self.type_name, name, config)

    def __repr__(self) -> str:
        return f"<driver {self.type_name!r} of {self.registry!r}: {self.factory!r}>"


class FactoryTable(MutableMapping[str, Factory]):
    """Odibi's ``_CONNECTION_FACTORIES`` dict, as a view of the registry in charge.

    Listing names and ``in`` read metadata only (``odibi list connections``
    shows plugins without importing them); reading an item loads that driver.
    Setting an item registers a factory as ``register_connection_factory``
    does; deleting one, or :meth:`clear`, forgets in-process factories only.
    """

    def __init__(self, integration: _Integration) -> None:
        self._integration = integration

    def __getitem__(self, type_name: str) -> Factory:
        try:
            return self._integration.registry.get(type_name)
        except DriverNotFoundError:
            raise KeyError(type_name) from None

    def __setitem__(self, type_name: str, factory: Factory) -> None:
        self._integration.register_connection_factory(type_name, factory)

    def __delitem__(self, type_name: str) -> None:
        try:
            self._integration.registry.unregister(type_name)
        except DriverNotFoundError:
            raise KeyError(type_name) from None

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._integration.registry

    def __iter__(self) -> Iterator[str]:
        return iter(self._integration.registry.names())

    def __len__(self) -> int:
        return len(self._integration.registry.names())

    def clear(self) -> None:
        """Forget every in-process factory; installed drivers and built-ins stay offered."""
        registry = self._integration.registry
        for info in [registry.info(name) for name in registry.names()]:
            if info.origin == "registered":
                registry.unregister(info.name)

    def __repr__(self) -> str:
        return f"<odibi connection factories of {self._integration.registry!r}>"


_lock = threading.RLock()
_active: _Integration | None = None


def install(registry: ConnectionRegistry | None = None) -> ConnectionRegistry:
    """Put ``registry`` in charge of the installed Odibi's connection plugins; return it.

    ``registry`` defaults to the process-wide registry of
    :mod:`odibi_ext.plugins` (the operator's policy, ``ODIBI_EXT_CONFIG``).
    Idempotent: when installed already, the registry in charge stays, or is
    replaced by the one given. Raises :class:`~odibi_ext.OdibiExtError` when
    Odibi is missing, outside :data:`SUPPORTED`, or not shaped as expected;
    nothing is changed then.
    """
    global _active  # noqa: PLW0603  # one integration per process: Odibi's seams are global
    with _lock:
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
        _check_bindings(originals, version)
        integration = _Integration(registry, originals)
        _swap(originals, integration.replacements)
        _active = integration
        LOG.debug("odibi-ext is in charge of Odibi %s's connection plugins", version)
        return registry


def uninstall() -> None:
    """Give Odibi its own objects back wherever :func:`install` replaced them; else a no-op."""
    global _active  # noqa: PLW0603
    with _lock:
        if _active is None:
            return
        _swap(_active.replacements, _active.originals)
        _active = None


def is_installed() -> bool:
    """Whether odibi-ext is in charge of Odibi's connection plugins now."""
    return _active is not None


def _swap(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Bind ``new[name]`` wherever an Odibi module binds ``old[name]``."""
    for module in _host_modules():
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
    return dist.version or "(no version in its metadata)"


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


def _check_bindings(originals: dict[str, Any], version: str) -> None:
    """Every known binder already imported must hold Odibi's own object."""
    for module_name, name in _KNOWN_BINDINGS:
        module = sys.modules.get(module_name)
        if module is None:
            continue  # it will bind the replacement when Odibi imports it
        if getattr(module, name, None) is not originals[name]:
            raise _unexpected(
                version,
                f"{module_name}.{name} is not odibi.plugins.{name} (replaced by other code?)",
            )


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
    installed_before = is_installed()
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
        if not installed_before:
            uninstall()


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
