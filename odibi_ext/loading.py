"""Loading a registry's drivers: one on a cache miss (single-flight), or all at once.

:class:`DriverLoading` is part of :class:`~odibi_ext.ConnectionRegistry` (a
base class of it). A cache miss of ``registry.get`` comes to :meth:`_load`:
concurrent first calls for one type name load it once, a load that fails is
recorded, and what loads is checked against the factory contract before it
is cached.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from odibi_ext.contract import check_factory
from odibi_ext.discovery import is_valid_target
from odibi_ext.errors import DriverConflictError
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import InvalidFactoryError
from odibi_ext.errors import copy_error
from odibi_ext.errors import describe_name
from odibi_ext.errors import describe_provider
from odibi_ext.typenames import type_name_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from odibi_ext.candidates import Candidate
    from odibi_ext.failures import FailureRecords
    from odibi_ext.info import DriverInfo
    from odibi_ext.resolution import Resolution
    from odibi_ext.resolution import Rules

    Factory = Callable[[str, Mapping[str, Any]], Any]

LOG = logging.getLogger("odibi_ext.registry")

#: How often a thread waiting for another's load checks that the wait can end (s).
_WAIT_CHECK_S: Final = 0.05


class DriverLoading:
    """Loading drivers and caching their factories; a base class of ConnectionRegistry."""

    # State and helpers of ConnectionRegistry that these methods use.
    namespace: str
    _lock: threading.RLock
    _name_locks: dict[str, threading.RLock]
    _rules: Rules
    _generation: int
    _registered: dict[str, Factory]
    _drivers: dict[str, Factory]
    _loaded: dict[str, float]
    _failed: FailureRecords
    _claims: dict[str, list[tuple[Candidate, Factory]]]
    _handed: dict[str, Factory]

    if TYPE_CHECKING:

        def names(self) -> list[str]: ...
        def info(self, type_name: str) -> DriverInfo: ...
        def is_loading(self, type_name: str) -> bool: ...
        def _installed(self) -> dict[str, Resolution]: ...
        def _not_found(
            self, type_name: str, resolution: Resolution | None
        ) -> DriverNotFoundError: ...
        @contextlib.contextmanager
        def _importing(self, candidates: list[Candidate]) -> Iterator[None]: ...
        @contextlib.contextmanager
        def _host_registrations(self) -> Iterator[None]: ...

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
