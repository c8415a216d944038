"""The registry: connection drivers by type name, each loaded once, through stevedore.

:class:`ConnectionRegistry` is built of parts, one concept each: this module
holds discovery and information (metadata only), the warm cache behind
``get``, in-process drivers and ``refresh``; loading a driver on a cache miss
and ``load_all`` are :mod:`odibi_ext.loading`'s, creating connections
:mod:`odibi_ext.creation`'s, what a host's seams hand over
:mod:`odibi_ext.registrations`'s and the failure records
:mod:`odibi_ext.failures`'s.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from odibi_ext import index
from odibi_ext.contract import REGISTERED_TARGET
from odibi_ext.contract import check_factory
from odibi_ext.creation import ConnectionCreation
from odibi_ext.discovery import NAMESPACE as _NAMESPACE
from odibi_ext.discovery import BrokenDistribution
from odibi_ext.discovery import Candidate
from odibi_ext.discovery import forget_process_caches
from odibi_ext.environment import CONFIG_ENV
from odibi_ext.errors import DriverConflictError
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import describe_name
from odibi_ext.failures import FailureRecords
from odibi_ext.loading import DriverLoading
from odibi_ext.registrations import HostRegistrations
from odibi_ext.resolution import UNRESTRICTED
from odibi_ext.resolution import Resolution
from odibi_ext.resolution import resolve
from odibi_ext.typenames import type_name_of

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo
    from odibi_ext.policy import Policy
    from odibi_ext.resolution import Rules

# DriverInfo and Policy are dataclasses, and importing ``dataclasses`` costs a
# process several milliseconds (it imports ``inspect``): the load path below
# avoids both, importing them only when information is asked for.

__all__ = ["NAMESPACE", "ConnectionRegistry", "Factory", "type_name_of"]

LOG = logging.getLogger(__name__)

#: The entry-point group drivers are published in.
NAMESPACE: Final = _NAMESPACE

#: ``factory(name, config) -> connection``.
Factory = Callable[[str, Mapping[str, Any]], Any]


class _DriverCache(dict[str, Factory]):
    """Loaded factories by type name; a miss asks the registry to load the driver."""

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[str], Factory]) -> None:
        super().__init__()
        self._load = load

    def __missing__(self, type_name: str) -> Factory:
        return self._load(type_name)


# ``registry.get`` is this dict's C-level ``__getitem__`` (see ConnectionRegistry.__init__),
# so a wrong call is reported by CPython itself, as "<qualified name of this class>
# .__getitem__() takes exactly one argument (2 given)": the name says what the caller needs.
_DriverCache.__qualname__ = (
    "ConnectionRegistry.get(type_name) takes one type name and no default (test "
    "'type_name in registry' first, or catch DriverNotFoundError); ConnectionRegistry.get"
)


class ConnectionRegistry(ConnectionCreation, DriverLoading, HostRegistrations):
    """Connection drivers by type name: discovered without importing, loaded on demand, once.

    ``names()``, ``info()`` and ``in`` read installed metadata only. ``get()``
    loads just the driver asked for, through stevedore's ``DriverManager``,
    checks it is a ``factory(name, config)`` and caches it: later calls return
    the identical object, and concurrent first calls load it once. A driver
    that fails is remembered, and asking again raises the same error without
    re-importing, until :meth:`refresh`.

    ``policy`` decides which drivers may load and how conflicts resolve; the
    default (``None``) is the operator's policy, read by
    :meth:`Policy.from_env` from the file named by ``ODIBI_EXT_CONFIG``.
    """

    def __init__(self, namespace: str = NAMESPACE, *, policy: Policy | None = None) -> None:
        if not isinstance(namespace, str):
            raise TypeError(f"namespace must be a str, not {type(namespace).__qualname__}")
        if not namespace:
            raise ValueError("namespace must not be empty: it is an entry-point group name")
        if policy is None:
            path = os.environ.get(CONFIG_ENV, "")
            if path:
                from odibi_ext.policy import Policy

                policy = Policy.from_file(path)
        else:
            from odibi_ext.policy import Policy

            if not isinstance(policy, Policy):
                raise TypeError(f"policy must be a Policy, not {type(policy).__qualname__}")
        self.namespace = namespace
        self._policy = policy  # None: the default Policy(), built only if asked for
        self._rules: Rules = UNRESTRICTED if policy is None else policy
        self._lock = threading.RLock()
        self._name_locks: dict[str, threading.RLock] = {}
        self._drivers = _DriverCache(self._load)
        self._registered: dict[str, Factory] = {}
        self._loaded: dict[str, float] = {}  # type name -> milliseconds its load took
        self._failed = FailureRecords(self._lock, lambda: self._generation)
        self._resolutions: dict[str, Resolution] | None = None
        self._init_host_registrations()
        self._broken: list[BrokenDistribution] = []
        self._generation = 0
        self._lenient: set[str] = set()  # type names warned of a non-conforming connection
        self._discovers = True
        if type(self).get is ConnectionRegistry.get:
            # The warm path is a C-level dict lookup: no Python frame, no lock.
            self.get = self._drivers.__getitem__  # type: ignore[method-assign,assignment]

    @classmethod
    def from_factories(
        cls, factories: Mapping[str, Factory], *, policy: Policy | None = None
    ) -> ConnectionRegistry:
        """A registry holding only ``factories``, ignoring installed distributions.

        For tests of applications: no plugin needs to be installed, and none
        that is installed can interfere.
        """
        from odibi_ext.policy import Policy

        registry = cls(policy=Policy() if policy is None else policy)
        registry._discovers = False
        for type_name, factory in factories.items():
            registry.register(type_name, factory)
        return registry

    @property
    def policy(self) -> Policy:
        """The policy this registry applies."""
        if self._policy is None:
            from odibi_ext.policy import Policy

            self._policy = Policy()
        return self._policy

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} namespace={self.namespace!r} {self._rules.describe()}>"

    # -- discovery: metadata only, no plugin code ---------------------------------------

    def names(self) -> list[str]:
        """Every type name offered, sorted: installed (failing or conflicting too) or registered.

        Names offered only by distributions outside ``allowed_distributions``
        are left out. Imports no plugin.
        """
        offered = {name for name, r in self._installed().items() if r.verdict != "hidden"}
        offered.update(self._registered)
        return sorted(offered)

    def __contains__(self, type_name: object) -> bool:
        if not isinstance(type_name, str):
            return False
        type_name = type_name_of(type_name)
        if type_name in self._registered:
            return True
        resolution = self._installed().get(type_name)
        return resolution is not None and resolution.verdict != "hidden"

    def info(self, type_name: str) -> DriverInfo:
        """What is known about one driver, without importing it.

        Raises :class:`DriverNotFoundError` for a name that is not offered.
        """
        type_name = type_name_of(type_name)
        if type_name in self._registered:
            return self._registered_info(type_name)
        resolution = self._installed().get(type_name)
        if resolution is None or resolution.verdict == "hidden":
            raise self._not_found(type_name, resolution)
        return self._entry_point_info(resolution)

    def usable_names(self) -> list[str]:
        """The type names a project can use now, sorted: :meth:`names` without the
        conflicting, disabled, pinned-away and failed ones. Imports no plugin."""
        disabled = self._rules.disabled
        usable = {
            name
            for name, resolution in self._installed().items()
            if resolution.verdict == "available"
        }
        usable.update(self._registered)
        return sorted(
            name
            for name in usable
            if name not in self._failed and not (name in self._registered and name in disabled)
        )

    def candidates(self, type_name: str) -> tuple[Candidate, ...]:
        """The installed candidates offering ``type_name``, as the policy annotated them.

        Empty when nothing installed offers it. Cheaper than :meth:`info` (no
        :class:`DriverInfo` is built); imports no plugin.
        """
        resolution = self._installed().get(type_name_of(type_name))
        return resolution.candidates if resolution is not None else ()

    def broken_distributions(self) -> list[BrokenDistribution]:
        """Distributions offering drivers whose entry-point metadata cannot be read.

        Their readable entries are offered as usual; each is also logged as a
        WARNING once per discovery. Imports no plugin.
        """
        self._installed()
        return list(self._broken)

    def failures(self) -> dict[str, DriverInfo]:
        """The drivers that failed to load (or cannot, as pinned), by type name."""
        infos = (self.info(name) for name in self.names())
        return {info.name: info for info in infos if info.status == "failed"}

    # -- loading (the slow path and load_all: odibi_ext.loading) ------------------------

    def get(self, type_name: str) -> Factory:
        """The factory of driver ``type_name``, loaded on first use and cached.

        Raises :class:`DriverNotFoundError` (also a ``LookupError``) for an
        unknown, disabled or excluded name, :class:`DriverConflictError` when
        several distributions offer it and the policy does not choose,
        :class:`DriverLoadError` (or :class:`InvalidFactoryError`) when it
        cannot be loaded, and ``TypeError`` when ``type_name`` is not a str.
        """
        return self._drivers[type_name]

    # -- in-process drivers -------------------------------------------------------------

    def register(self, type_name: str, factory: Factory, *, replace: bool = False) -> None:
        """Add an in-process driver.

        The factory's signature is checked (:class:`InvalidFactoryError`).
        Raises :class:`DriverConflictError` when the name is already provided,
        registered or installed, unless ``replace=True``; a registered driver
        shadows an installed one. ``disabled`` in the policy applies to it;
        ``pins`` and ``allowed_distributions`` do not.
        """
        type_name = type_name_of(type_name)
        if not type_name or type_name != type_name.strip() or not type_name.isprintable():
            raise ValueError(
                f"a type name must be non-empty, printable and without surrounding "
                f"whitespace: {describe_name(type_name)}"
            )
        check_factory(
            factory,
            type_name=type_name,
            target=REGISTERED_TARGET,
            distribution=None,
            version=None,
        )
        with self._lock:
            if not replace:
                self._refuse_overwrite(type_name)
            self._put_registered(type_name, factory)
        LOG.debug("registered in-process driver %s", describe_name(type_name))

    def _put_registered(self, type_name: str, factory: Factory) -> None:
        self._registered[type_name] = factory
        self._failed.pop(type_name)
        if type_name in self._rules.disabled:
            self._drivers.pop(type_name, None)
        else:
            self._drivers[type_name] = factory

    def unregister(self, type_name: str) -> None:
        """Forget an in-process driver; an installed driver it shadowed is offered again.

        Raises :class:`DriverNotFoundError` when no such driver was registered.
        """
        type_name = type_name_of(type_name)
        with self._lock:
            if self._registered.pop(type_name, None) is None:
                raise DriverNotFoundError(
                    type_name,
                    available=self._registered,
                    reason="it was never registered in-process",
                )
            self._drivers.pop(type_name, None)
            self._loaded.pop(type_name, None)

    def refresh(self) -> None:
        """Forget everything cached and rediscover on next use.

        Clears this registry's drivers, failure records and discovery, the
        import system's finder caches and stevedore's process-global
        entry-point caches, so a distribution installed or removed while the
        process runs is seen. In-process drivers stay registered.
        """
        with self._lock:
            self._generation += 1
            self._resolutions = None
            self._loaded.clear()
            self._failed.clear()
            self._drivers.clear()
            for type_name, factory in self._registered.items():
                if type_name not in self._rules.disabled:
                    self._drivers[type_name] = factory
            if self._discovers:
                forget_process_caches(self.namespace)

    # -- internals ----------------------------------------------------------------------

    def _installed(self) -> dict[str, Resolution]:
        resolutions = self._resolutions
        if resolutions is None:
            with self._lock:
                if self._resolutions is None:
                    found, self._broken = (
                        index.discover(self.namespace) if self._discovers else ([], [])
                    )
                    for broken in self._broken:
                        LOG.warning("%s", broken.describe())
                    self._found = found
                    claims = [c for group in self._claims.values() for c, _ in group]
                    self._resolutions = resolve([*found, *claims], self._rules)
                    if self._policy is not None and self._discovers:
                        for warning in self._policy.unmatched(found):
                            LOG.warning("%s", warning)
                resolutions = self._resolutions
        return resolutions

    def _refuse_overwrite(self, type_name: str) -> None:
        if type_name in self._registered:
            raise DriverConflictError.already_provided(
                type_name, [(None, None, REGISTERED_TARGET)]
            )
        resolution = self._installed().get(type_name)
        if resolution is not None and resolution.verdict != "hidden":
            selected = resolution.selected
            offered = resolution.contenders or (
                (selected,) if selected is not None else resolution.candidates
            )
            raise DriverConflictError.already_provided(
                type_name, [(c.distribution, c.version, c.target) for c in offered]
            )

    def _not_found(self, type_name: str, resolution: Resolution | None) -> DriverNotFoundError:
        reason = resolution.reason if resolution is not None else None
        return DriverNotFoundError(type_name, available=self.names(), reason=reason)

    def _provider(self, type_name: str) -> tuple[str | None, str | None]:
        if type_name in self._registered:
            return None, None
        resolution = self._installed().get(type_name)
        selected = resolution.selected if resolution is not None else None
        if selected is None:
            return None, None
        return selected.distribution, selected.version

    def _registered_info(self, type_name: str) -> DriverInfo:
        from odibi_ext.info import registered_info

        resolution = self._installed().get(type_name)
        disabled = type_name in self._rules.disabled
        return registered_info(
            type_name,
            self._registered[type_name],
            disabled_by=self._rules.describe() if disabled else None,
            shadowed=resolution.candidates if resolution is not None else (),
            failure=self._failed.get(type_name),
        )

    def _entry_point_info(self, resolution: Resolution) -> DriverInfo:
        from odibi_ext.info import entry_point_info

        load_ms = self._loaded.get(resolution.name)
        return entry_point_info(
            resolution,
            load_ms=load_ms,
            factory=dict.get(self._drivers, resolution.name) if load_ms is not None else None,
            failure=self._failed.get(resolution.name),
        )
