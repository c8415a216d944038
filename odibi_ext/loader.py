"""Loading drivers through stevedore, with every failure a plugin can cause contained.

stevedore catches ``Exception`` while loading but re-raises ``AssertionError``
and lets every other ``BaseException`` (``SystemExit``, a plugin's own
subclass) through; either would end an inspection run. Here they become
ordinary failures routed to the ``on_load_failure_callback``. Only
``KeyboardInterrupt`` propagates.

The managers are handed their entry points (``list_entry_points``), already
discovered and filtered by policy, so stevedore never rescans the
installation and never imports a candidate the policy excluded.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from stevedore.driver import DriverManager
from stevedore.exception import NoMatches
from stevedore.extension import ExtensionManager

from odibi_ext.discovery import Candidate

#: Told of each failure: the type name and what the plugin raised.
OnFailure = Callable[[str, BaseException], None]

# stevedore 5.5 (the last release for Python 3.9) is not generic, passes
# ``verify_requirements`` on to the load methods, and logs a missing driver
# unless told not to; 5.6 and later do none of that.
_GENERIC = hasattr(ExtensionManager, "__class_getitem__")
if TYPE_CHECKING or _GENERIC:
    _Manager = ExtensionManager[Any]
    _Driver = DriverManager[Any]
else:
    _Manager, _Driver = ExtensionManager, DriverManager


class _Escaped(Exception):
    """A ``BaseException`` stevedore would let through, carried as an ``Exception``."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original


class _ContainedLoading(_Manager):
    """Loads only the entry points it is given and turns every plugin fault into a failure."""

    _given: list[importlib.metadata.EntryPoint]
    _timings: dict[str, float]

    def list_entry_points(self) -> list[importlib.metadata.EntryPoint]:
        return self._given

    def _load_one_plugin(
        self,
        ep: importlib.metadata.EntryPoint,
        invoke_on_load: bool,
        invoke_args: tuple[Any, ...],
        invoke_kwds: dict[str, Any],
        *stevedore_5_5: Any,
    ) -> Any:
        started = time.perf_counter()
        try:
            return super()._load_one_plugin(
                ep, invoke_on_load, invoke_args, invoke_kwds, *stevedore_5_5
            )
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            if isinstance(exc, Exception) and not isinstance(exc, AssertionError):
                raise
            raise _Escaped(exc) from exc
        finally:
            self._timings[ep.name] = (time.perf_counter() - started) * 1000.0


class _OneDriver(_ContainedLoading, _Driver):
    def __init__(
        self,
        namespace: str,
        entry_point: importlib.metadata.EntryPoint,
        callback: Callable[[Any, importlib.metadata.EntryPoint, BaseException], None],
        timings: dict[str, float],
    ) -> None:
        self._given = [entry_point]
        self._timings = timings
        quiet: dict[str, Any] = {} if _GENERIC else {"warn_on_missing_entrypoint": False}
        super().__init__(namespace, entry_point.name, on_load_failure_callback=callback, **quiet)

    def _load_plugins(
        self,
        invoke_on_load: bool,
        invoke_args: tuple[Any, ...],
        invoke_kwds: dict[str, Any],
        *stevedore_5_5: Any,
    ) -> list[Any]:
        # The failure callback has logged why a driver is missing; stevedore's
        # "Could not load" warning would repeat it. DriverManager does not pass
        # on_missing_entrypoints_callback through (stevedore 5.10), so clear it here.
        self._on_missing_entrypoints_callback = None
        return super()._load_plugins(invoke_on_load, invoke_args, invoke_kwds, *stevedore_5_5)


class _WholeNamespace(_ContainedLoading):
    def __init__(
        self,
        namespace: str,
        entry_points: list[importlib.metadata.EntryPoint],
        callback: Callable[[Any, importlib.metadata.EntryPoint, BaseException], None],
        timings: dict[str, float],
    ) -> None:
        self._given = entry_points
        self._timings = timings
        super().__init__(namespace, on_load_failure_callback=callback)


def load_driver(
    namespace: str, candidate: Candidate, on_failure: OnFailure
) -> tuple[object | None, float]:
    """Load one candidate with stevedore's ``DriverManager``.

    Returns the loaded object and the milliseconds it took, or ``None`` after
    ``on_failure`` has been told why.
    """
    timings: dict[str, float] = {}
    entry_point = _entry_point(namespace, candidate)
    try:
        manager = _OneDriver(namespace, entry_point, _route(on_failure), timings)
    except NoMatches:  # the one entry point failed, and on_failure has heard about it
        return None, timings.get(candidate.name, 0.0)
    return manager.driver, timings[candidate.name]


def load_namespace(
    namespace: str, candidates: Sequence[Candidate], on_failure: OnFailure
) -> tuple[dict[str, object], dict[str, float]]:
    """Load many candidates (one per type name) with stevedore's ``ExtensionManager``.

    Returns the loaded objects by type name and the milliseconds each took;
    ``on_failure`` is told of every one that failed. Never raises for a
    plugin's fault.
    """
    timings: dict[str, float] = {}
    entry_points = [_entry_point(namespace, candidate) for candidate in candidates]
    manager = _WholeNamespace(namespace, entry_points, _route(on_failure), timings)
    return {extension.name: extension.plugin for extension in manager.extensions}, timings


def _entry_point(namespace: str, candidate: Candidate) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(candidate.name, candidate.target, namespace)


def _route(
    on_failure: OnFailure,
) -> Callable[[Any, importlib.metadata.EntryPoint, BaseException], None]:
    def on_load_failure(
        manager: Any, entry_point: importlib.metadata.EntryPoint, exc: BaseException
    ) -> None:
        on_failure(entry_point.name, exc.original if isinstance(exc, _Escaped) else exc)

    return on_load_failure
