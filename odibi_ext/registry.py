"""The registry: connection drivers by type name, each loaded once, through stevedore."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from odibi_ext import index
from odibi_ext.contract import REGISTERED_TARGET
from odibi_ext.contract import check_connection
from odibi_ext.contract import check_factory
from odibi_ext.discovery import NAMESPACE as _NAMESPACE
from odibi_ext.discovery import BrokenDistribution
from odibi_ext.discovery import Candidate
from odibi_ext.discovery import forget_process_caches
from odibi_ext.discovery import is_valid_target
from odibi_ext.environment import CONFIG_ENV
from odibi_ext.errors import ConnectionFailedError
from odibi_ext.errors import DriverConflictError
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import InvalidConnectionError
from odibi_ext.errors import InvalidFactoryError
from odibi_ext.errors import add_note
from odibi_ext.errors import copy_error
from odibi_ext.errors import describe_name
from odibi_ext.errors import describe_provider
from odibi_ext.failures import FailureRecords
from odibi_ext.registrations import HostRegistrations
from odibi_ext.resolution import UNRESTRICTED
from odibi_ext.resolution import Resolution
from odibi_ext.resolution import resolve

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo
    from odibi_ext.policy import Policy
    from odibi_ext.resolution import Rules

# DriverInfo and Policy are dataclasses, and importing ``dataclasses`` costs a
# process several milliseconds (it imports ``inspect``): the load path below
# avoids both, importing them only when information is asked for.

LOG = logging.getLogger(__name__)

#: The entry-point group drivers are published in.
NAMESPACE: Final = _NAMESPACE

#: How often a thread waiting for another's load checks that the wait can end (s).
_WAIT_CHECK_S: Final = 0.05

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


class ConnectionRegistry(HostRegistrations):
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

    # -- loading ------------------------------------------------------------------------

    def get(self, type_name: str) -> Factory:
        """The factory of driver ``type_name``, loaded on first use and cached.

        Raises :class:`DriverNotFoundError` (also a ``LookupError``) for an
        unknown, disabled or excluded name, :class:`DriverConflictError` when
        several distributions offer it and the policy does not choose,
        :class:`DriverLoadError` (or :class:`InvalidFactoryError`) when it
        cannot be loaded, and ``TypeError`` when ``type_name`` is not a str.
        """
        return self._drivers[type_name]

    def create(self, type_name: str, name: str, config: Mapping[str, Any]) -> Any:
        """A new connection: ``get(type_name)(name, config)``, checked to be a connection.

        ``config`` must be a mapping (``TypeError`` otherwise). Raises
        :class:`InvalidConnectionError` when the factory returns something
        without callable ``get_path`` and ``validate``. An exception the
        factory raises propagates unchanged, with a note naming the driver;
        anything else it raises but ``KeyboardInterrupt`` (``SystemExit``, a
        ``BaseException`` of its own) becomes :class:`ConnectionFailedError`.
        """
        return self._create(type_name, name, config, strict=True)

    def create_as_host(self, type_name: str, name: str, config: Mapping[str, Any]) -> Any:
        """:meth:`create` as a host that only needs what it calls: a connection without
        callable ``get_path`` or ``validate`` is returned, with one WARNING per type name
        saying what the contract would refuse."""
        return self._create(type_name, name, config, strict=False)

    def _create(
        self, type_name: str, name: str, config: Mapping[str, Any], *, strict: bool
    ) -> Any:
        factory = self.get(type_name)
        type_name = type_name_of(type_name)
        if not isinstance(name, str):
            raise TypeError(f"a connection's name is a str, not {type(name).__qualname__}")
        if not isinstance(config, Mapping):
            raise TypeError(
                f"the config for driver {describe_name(type_name)} must be a mapping, "
                f"not {type(config).__qualname__}"
            )
        distribution, version = self._provider(type_name)
        if LOG.isEnabledFor(logging.DEBUG):
            from odibi_ext.redaction import redact

            LOG.debug(
                "creating connection %r with driver %s, config %r",
                name,
                describe_name(type_name),
                redact(config),
            )
        try:
            connection = factory(name, config)
        except Exception as exc:
            add_note(
                exc,
                f"raised by driver {describe_name(type_name)} "
                f"({describe_provider(distribution, version)}) while creating connection {name!r}",
            )
            raise
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit and kin must not end the caller
            from odibi_ext.redaction import secret_values

            raise ConnectionFailedError(
                exc,
                type_name=type_name,
                distribution=distribution,
                version=version,
                connection=name,
                secrets=secret_values(config),
            ) from exc
        try:
            check_connection(
                connection, type_name=type_name, distribution=distribution, version=version
            )
        except InvalidConnectionError as error:
            if strict:
                raise
            if type_name not in self._lenient:
                self._lenient.add(type_name)
                LOG.warning(
                    "%s; it is used all the same, as Odibi uses it (odibi-ext's contract "
                    "would refuse it)",
                    str(error).split(". A factory must", 1)[0],
                )
        return connection

    def load_all(self) -> list[DriverInfo]:
        """Load every driver that may load, through stevedore's ``ExtensionManager``.

        Conflicting, disabled and excluded candidates are not imported.
        Returns a :class:`DriverInfo` for every name; never raises for a
        plugin's fault.
        """
        with self._host_registrations():
            return self._load_all()

    def _load_all(self) -> list[DriverInfo]:
        generation = self._generation
        # One name's lock at a time: a driver that hangs delays only the names
        # asked for after it, and a plugin whose import resolves another
        # driver from a worker thread finds that driver's lock free.
        for resolution in self._pending(self._installed()):
            with self._name_lock(resolution.name):
                if generation != self._generation:
                    break  # refresh() ran: what is pending was decided by an old discovery
                name = resolution.name
                if not (name in self._registered or name in self._loaded or name in self._failed):
                    self._load_many([resolution], generation)  # not loaded while we waited
        return [self.info(name) for name in self.names()]

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

    def _name_lock(self, type_name: str) -> threading.RLock:
        lock = self._name_locks.get(type_name)
        if lock is None:
            with self._lock:
                lock = self._name_locks.setdefault(type_name, threading.RLock())
        return lock

    def _load(self, type_name: str) -> Factory:
        """The slow path of :meth:`get`: a cache miss."""
        type_name = type_name_of(type_name)
        failure = self._failed.get(type_name)
        if failure is not None:
            raise copy_error(failure)
        registered = self._registered.get(type_name)
        if registered is not None:
            if type_name in self._rules.disabled:
                raise DriverNotFoundError(
                    type_name,
                    available=self.names(),
                    reason=f"disabled by {self._rules.describe()}",
                )
            return registered  # refresh() is putting it back into the cache
        candidate = self._loadable(type_name)
        generation = self._generation
        lock = self._name_lock(type_name)
        # Wait for a load under way, unless the wait would never end (see is_loading).
        while not lock.acquire(timeout=_WAIT_CHECK_S):
            if self.is_loading(type_name):
                raise self._in_progress(candidate)
        try:
            if self.is_loading(type_name):  # re-entered by the importing thread
                raise self._in_progress(candidate)
            factory = dict.get(self._drivers, type_name)
            if factory is not None:  # another thread loaded it while we waited
                return factory
            failure = self._failed.get(type_name)
            if failure is not None:
                raise copy_error(failure)
            return self._load_one(candidate, generation)
        finally:
            lock.release()

    @staticmethod
    def _in_progress(candidate: Candidate) -> DriverLoadError:
        return DriverLoadError.in_progress(
            type_name=candidate.name,
            target=candidate.target,
            distribution=candidate.distribution,
            version=candidate.version,
        )

    def _loadable(self, type_name: str) -> Candidate:
        """The candidate to load for ``type_name``, or the error saying why there is none."""
        resolution = self._installed().get(type_name)
        if resolution is None or resolution.verdict == "hidden":
            raise self._not_found(type_name, resolution)
        if resolution.verdict == "conflict":
            raise DriverConflictError(
                resolution.reason or "",
                type_name=type_name,
                candidates=[(c.distribution, c.version, c.target) for c in resolution.contenders],
            )
        selected = resolution.selected
        if selected is None:  # disabled, or pinned to an absent distribution
            raise self._not_found(type_name, resolution)
        return selected

    def _load_one(self, candidate: Candidate, generation: int) -> Factory:
        held = self._held_factory(candidate)
        if held is not None:
            return self._accept(candidate, held, 0.0, generation)
        from odibi_ext import loader  # stevedore is imported when a driver is first loaded

        if not is_valid_target(candidate.target):
            raise self._failed.invalid_target(candidate, generation)
        sink: dict[str, DriverLoadError] = {}
        with self._importing([candidate]):
            plugin, load_ms = loader.load_driver(
                self.namespace, candidate, self._failed.router([candidate], generation, sink)
            )
        if plugin is None:
            raise sink[candidate.name]
        return self._accept(candidate, plugin, load_ms, generation)

    def _held_factory(self, candidate: Candidate) -> object | None:
        """The factory already at hand for a candidate (registered, or a handed built-in)."""
        if candidate.origin == "builtin":
            return self._handed.get(candidate.name)
        if candidate.origin == "registered":
            for claim, factory in self._claims.get(candidate.name, []):
                if claim.distribution == candidate.distribution:
                    return factory
        return None

    def _load_many(self, pending: list[Resolution], generation: int) -> None:
        from odibi_ext import loader

        candidates = []
        for resolution in pending:
            candidate = resolution.selected
            assert candidate is not None  # _pending keeps only selected candidates
            held = self._held_factory(candidate)
            if held is not None:
                with contextlib.suppress(InvalidFactoryError):  # recorded by _accept
                    self._accept(candidate, held, 0.0, generation)
            elif is_valid_target(candidate.target):
                candidates.append(candidate)
            else:
                self._failed.invalid_target(candidate, generation)
        if not candidates:
            return
        # Failures reach the records through the router; nobody reads this sink.
        with self._importing(candidates):
            plugins, timings = loader.load_namespace(
                self.namespace, candidates, self._failed.router(candidates, generation, {})
            )
        for candidate in candidates:
            if candidate.name in plugins:
                with contextlib.suppress(InvalidFactoryError):  # recorded by _accept
                    self._accept(
                        candidate,
                        plugins[candidate.name],
                        timings.get(candidate.name, 0.0),
                        generation,
                    )

    def _pending(self, installed: dict[str, Resolution]) -> list[Resolution]:
        return [
            installed[name]
            for name in sorted(installed)
            if installed[name].selected is not None
            and name not in self._registered
            and name not in self._loaded
            and name not in self._failed
        ]

    def _accept(
        self, candidate: Candidate, plugin: object, load_ms: float, generation: int
    ) -> Factory:
        """Check a loaded object against the factory contract and cache it."""
        try:
            check_factory(
                plugin,
                type_name=candidate.name,
                target=candidate.target,
                distribution=candidate.distribution,
                version=candidate.version,
            )
        except InvalidFactoryError as error:
            self._failed.record(error, generation)
            raise
        factory: Factory = plugin  # type: ignore[assignment]  # checked just above
        with self._lock:
            if generation == self._generation and candidate.name not in self._registered:
                self._loaded[candidate.name] = load_ms
                # Interned: a type name written as a literal then matches by identity.
                self._drivers[sys.intern(candidate.name)] = factory
        LOG.debug(
            "loaded driver %s from %r (%s) in %.1f ms",
            describe_name(candidate.name),
            candidate.target,
            describe_provider(candidate.distribution, candidate.version),
            load_ms,
        )
        return factory

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


def type_name_of(type_name: object) -> str:
    """``type_name`` as a plain str; a str-enum member (``ConnectionType.LOCAL``) is its value.

    Raises ``TypeError`` for anything that is not a str.
    """
    if type(type_name) is str:
        return type_name
    if not isinstance(type_name, str):
        raise TypeError(f"a driver's type name is a str, not {type(type_name).__qualname__}")
    # str() of a str-enum member is "ConnectionType.LOCAL"; its str data is the value.
    return str.__str__(type_name)
