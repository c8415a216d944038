"""What a registry hears through a host's seams: registrations by installed distributions'
code, the built-in functions the host hands over, and which driver is being imported.

:class:`HostRegistrations` is part of :class:`~odibi_ext.ConnectionRegistry`
(a base class of it); Odibi's integration (:mod:`odibi_ext.odibi`) and
``check`` use these methods. A registration by a distribution's code is a
candidate like an entry point, under the same policy; the user's own
registrations are :meth:`ConnectionRegistry.register`'s.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import cast

from odibi_ext.candidates import Candidate
from odibi_ext.candidates import normalize_distribution
from odibi_ext.contract import REGISTERED_TARGET
from odibi_ext.contract import check_factory
from odibi_ext.discovery import NAMESPACE
from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import InvalidFactoryError
from odibi_ext.errors import describe_name
from odibi_ext.resolution import resolve

if TYPE_CHECKING:
    from collections.abc import Callable

    from odibi_ext.failures import FailureRecords
    from odibi_ext.registry import ConnectionRegistry
    from odibi_ext.resolution import Resolution
    from odibi_ext.resolution import Rules

    Factory = Callable[[str, Mapping[str, Any]], Any]

LOG = logging.getLogger("odibi_ext.registry")

#: The code of ``Thread.join``: a frame running it shows which thread is waited for.
_JOIN_CODE: Final = threading.Thread.join.__code__


class HostRegistrations:
    """Registrations heard through a host's seams; a base class of ConnectionRegistry."""

    # State and helpers of ConnectionRegistry that these methods use.
    namespace: str
    _discovers: bool
    _lock: threading.RLock
    _rules: Rules
    _generation: int
    _found: list[Candidate]
    _resolutions: dict[str, Resolution] | None
    _registered: dict[str, Factory]
    _drivers: dict[str, Factory]
    _loaded: dict[str, float]
    _failed: FailureRecords
    #: Registrations by installed distributions' code, in order: candidates like
    #: entry points, each with its factory (see :meth:`register_from`).
    _claims: dict[str, list[tuple[Candidate, Factory]]]
    #: The built-in functions the host handed over, by type name: loaded as they are.
    _handed: dict[str, Factory]
    #: Type name -> (the thread importing its driver, the candidate imported).
    _loading: dict[str, tuple[int, Candidate]]
    #: Type names registered while a driver was imported -> that driver's type name.
    _extras: dict[str, str]

    if TYPE_CHECKING:

        def __contains__(self, type_name: object) -> bool: ...
        def _installed(self) -> dict[str, Resolution]: ...
        def _put_registered(self, type_name: str, factory: Factory) -> None: ...
        def candidates(self, type_name: str) -> tuple[Candidate, ...]: ...
        def unregister(self, type_name: str) -> None: ...

    def _init_host_registrations(self) -> None:
        self._found = []
        self._claims = {}
        self._handed = {}
        self._loading = {}
        self._extras = {}

    @contextlib.contextmanager
    def _host_registrations(self) -> Iterator[None]:
        """Plugins register through Odibi's seams while they import: with Odibi installed,
        those registrations are seen (as candidates of their distributions) while loading."""
        if self.namespace != NAMESPACE or not self._discovers:
            yield
            return
        from odibi_ext import odibi as host

        with host.watching(cast("ConnectionRegistry", self)):
            yield

    def register_leniently(self, type_name: object, factory: object, *, by: str | None) -> None:
        """Register as a host that accepts anything does: never raises for what is registered.

        A factory :meth:`register` would refuse (a signature that cannot take
        ``(name, config)``, something not callable) becomes a failing
        in-process driver: :meth:`get` raises the reason, :meth:`failures`
        lists it. ``by`` names the registering module, for the message.
        """
        try:
            name = _type_name_of(type_name)
        except TypeError:
            name = repr(type_name)
        try:
            check_factory(
                factory,
                type_name=name,
                target=REGISTERED_TARGET if by is None else f"<registered by {by}>",
                distribution=None,
                version=None,
            )
            error: DriverLoadError | None = None
        except InvalidFactoryError as invalid:
            error = invalid
        with self._lock:
            self._put_registered(name, factory)  # type: ignore[arg-type]  # checked above
            if error is not None:
                self._drivers.pop(name, None)
        if error is not None:
            self._failed.record(error, self._generation)

    def register_from(
        self,
        type_name: str,
        factory: Factory,
        *,
        distribution: str | None,
        version: str | None,
        module: str,
        origin: str = "registered",
    ) -> None:
        """A registration made by an installed distribution's code: a candidate for the name.

        It competes with the name's other candidates under the policy (a pin
        decides; with none it is a conflict, or ``on_conflict`` settles it),
        unless an entry point of the same distribution names the same type:
        what an entry point names wins over what its own code registers. A
        later registration by the same distribution replaces its earlier one.
        Never raises for the factory's fault: that is found when it is used.
        """
        type_name = _type_name_of(type_name)
        installed = self._installed()
        wanted = normalize_distribution(distribution) if distribution else None
        for candidate in self._found_for(type_name):
            if (
                candidate.origin != "registered"
                and candidate.distribution is not None
                and normalize_distribution(candidate.distribution) == wanted
                and (origin in (candidate.origin, "registered"))
            ):
                LOG.debug(
                    "driver %s registered by %s: its entry point %r wins",
                    describe_name(type_name),
                    module,
                    candidate.target,
                )
                return
        candidate = Candidate(
            name=type_name,
            target=REGISTERED_TARGET,
            distribution=distribution,
            version=version,
            origin=origin,
            registered_by=module,
        )
        with self._lock:
            claims = [
                (c, f)
                for c, f in self._claims.get(type_name, [])
                if c.distribution is None
                or wanted is None
                or normalize_distribution(c.distribution) != wanted
            ]
            claims.append((candidate, factory))
            self._claims[type_name] = claims
            before = installed.get(type_name)
            self._reresolve(type_name)
            self._forget_loaded(type_name)
        importing = self.importing_now()
        if importing is not None and importing.name != type_name:
            self._extras[type_name] = importing.name
        if before is None:
            LOG.debug("driver %s registered by %s", describe_name(type_name), module)

    def hand_builtin(self, type_name: str, factory: Factory) -> bool:
        """The host's built-in function for ``type_name``, as the host handed it over now.

        It is what the built-in driver creates connections with, used as it
        is (no second import); a different object (a test's patch) replaces
        it until the host hands the real one again. False when the host
        offers no such built-in.
        """
        if self._handed.get(type_name) is factory:
            return True
        if not any(c.origin == "builtin" for c in self.candidates(type_name)):
            return False
        with self._lock:
            self._handed[type_name] = factory
            if type_name in self._loaded and dict.get(self._drivers, type_name) is not None:
                resolution = self._installed().get(type_name)
                selected = resolution.selected if resolution is not None else None
                if selected is not None and selected.origin == "builtin":
                    self._drivers[type_name] = factory
        return True

    def handed_builtins(self) -> dict[str, Factory]:
        """The built-in functions the host handed over, by type name."""
        return dict(self._handed)

    def forget(self, type_name: str) -> bool:
        """Forget what a deletion from the host's table should: an in-process driver, a
        registration by a distribution, a handed built-in, a loaded driver (it loads again
        on next use). False when nothing was known under the name."""
        type_name = _type_name_of(type_name)
        with self._lock:
            known = type_name in self
            if type_name in self._registered:
                self.unregister(type_name)
                return True
            if self._claims.pop(type_name, None) is not None:
                self._reresolve(type_name)
            self._handed.pop(type_name, None)
            self._forget_loaded(type_name)
        return known

    def loaded_factories(self) -> dict[str, Factory]:
        """Every factory usable now without loading anything, by type name (the drivers
        loaded so far, the in-process ones and the handed built-ins)."""
        with self._lock:
            factories = dict(self._handed)
            for name in self._loaded:
                factory = dict.get(self._drivers, name)
                if factory is not None:
                    factories[name] = factory
            for name, factory in self._registered.items():
                if name not in self._failed and name not in self._rules.disabled:
                    factories[name] = factory
        return factories

    def is_loading(self, type_name: str) -> bool:
        """Whether waiting for ``type_name``'s driver would never end: this thread is
        importing it, or the thread importing it is joining this one (a plugin that
        looks itself up from a thread it starts and waits for)."""
        loading = self._loading.get(type_name)
        if loading is None:
            return False
        importer, _ = loading
        if importer == threading.get_ident():
            return True
        frame = sys._current_frames().get(importer)
        current = threading.current_thread()
        while frame is not None:
            if frame.f_code is _JOIN_CODE and frame.f_locals.get("self") is current:
                return True
            frame = frame.f_back
        return False

    def _found_for(self, type_name: str) -> list[Candidate]:
        return [c for c in self._found if c.name == type_name]

    def _reresolve(self, type_name: str) -> None:
        """Decide ``type_name`` again, with the registrations made since discovery."""
        group = [*self._found_for(type_name), *(c for c, _ in self._claims.get(type_name, []))]
        resolutions = dict(self._installed())
        if group:
            resolutions[type_name] = resolve(group, self._rules)[type_name]
        else:
            resolutions.pop(type_name, None)
        self._resolutions = resolutions

    def _forget_loaded(self, type_name: str) -> None:
        if type_name in self._registered:
            return
        self._loaded.pop(type_name, None)
        self._failed.pop(type_name)
        self._drivers.pop(type_name, None)

    @contextlib.contextmanager
    def _importing(self, candidates: list[Candidate]) -> Iterator[None]:
        """Mark ``candidates`` as being imported by this thread (see :meth:`is_loading`)."""
        ident = threading.get_ident()
        marks = {c.name: (ident, c) for c in candidates}
        self._loading.update(marks)
        try:
            yield
        finally:
            for name, mark in marks.items():
                if self._loading.get(name) is mark:
                    del self._loading[name]

    def importing_now(self) -> Candidate | None:
        """The candidate whose driver this thread is importing, if any."""
        ident = threading.get_ident()
        for thread, candidate in list(self._loading.values()):
            if thread == ident:
                return candidate
        return None

    def provider_of_module(self, module: str) -> tuple[str | None, str | None] | None:
        """The distribution (and version) of an installed driver whose entry point's
        module shares ``module``'s top-level package; None when none does."""
        top = module.partition(".")[0]
        self._installed()
        for candidate in self._found:
            if candidate.origin == "entry_point" and (
                candidate.target.partition(":")[0].strip().partition(".")[0] == top
            ):
                return candidate.distribution, candidate.version
        return None

    def registered_factories(self) -> dict[str, Factory]:
        """What was registered in this process, by type name: distributions' registrations,
        then the user's (which overwrite, as in Odibi)."""
        with self._lock:
            factories = {
                name: factory
                for name, group in self._claims.items()
                for _, factory in group
                if factory is not _seen_elsewhere
            }
            factories.update(self._registered)
        return factories

    def registrations(self) -> list[Candidate]:
        """The candidates registered by installed distributions' code, in order."""
        return [c for group in self._claims.values() for c, _ in group]

    def note_registrations(self, candidates: list[Candidate]) -> None:
        """Registrations seen in another process (``check --isolate``): candidates for the
        policy to judge and commands to show; their factories are not at hand here."""
        for candidate in candidates:
            if candidate.registered_by is None:
                continue
            self.register_from(
                candidate.name,
                _seen_elsewhere,
                distribution=candidate.distribution,
                version=candidate.version,
                module=candidate.registered_by,
                origin=candidate.origin,
            )

    def extra_names(self) -> dict[str, str]:
        """Type names registered while a driver was imported, other than the drivers'
        own names -> the type name of the driver whose import registered them."""
        return dict(self._extras)


def _seen_elsewhere(name: str, config: Mapping[str, Any]) -> Any:
    """The factory of a registration seen in another process: not usable here."""
    raise DriverLoadError(
        "this driver was registered in another process (odibi-ext check --isolate); "
        "it is not loaded in this one",
        type_name=name,
        target=REGISTERED_TARGET,
        distribution=None,
        version=None,
    )


def _type_name_of(type_name: object) -> str:
    from odibi_ext.registry import type_name_of  # the registry module imports this one

    return type_name_of(type_name)
