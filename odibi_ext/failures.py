"""What a registry remembers of drivers that failed to load, and the one ERROR line each gets."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Final

from odibi_ext.errors import DriverLoadError
from odibi_ext.errors import copy_error

if TYPE_CHECKING:
    from odibi_ext.candidates import Candidate

# The line is the registry's: operators and their log filters know it by that name.
LOG = logging.getLogger("odibi_ext.registry")

#: Marks log records about one driver's failure or conflict, which commands
#: also report in their output (the CLI does not print them twice).
REPORTED: Final = {"odibi_ext_driver_report": True}


class FailureRecords:
    """The failures of one registry by type name, each logged once as it is recorded.

    ``generation`` tells the registry's current discovery: a failure recorded
    for an older one (``refresh()`` ran meanwhile) is logged, not remembered.
    """

    __slots__ = ("_by_name", "_generation", "_lock")

    def __init__(self, lock: threading.RLock, generation: Callable[[], int]) -> None:
        self._by_name: dict[str, DriverLoadError] = {}
        self._lock = lock
        self._generation = generation

    def get(self, type_name: str) -> DriverLoadError | None:
        """The remembered failure of ``type_name`` (never raise it: raise a copy)."""
        return self._by_name.get(type_name)

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._by_name

    def pop(self, type_name: str) -> None:
        """Forget ``type_name``'s failure, if any."""
        self._by_name.pop(type_name, None)

    def clear(self) -> None:
        """Forget every failure."""
        self._by_name.clear()

    def record(self, error: DriverLoadError, generation: int) -> None:
        """Log ``error`` as one ERROR line (its traceback at DEBUG) and remember a copy."""
        cause = error.__cause__
        exc_info = None
        if cause is not None and LOG.isEnabledFor(logging.DEBUG):
            exc_info = (type(cause), cause, cause.__traceback__)
        LOG.error("%s", error, exc_info=exc_info, extra=REPORTED)
        with self._lock:
            if generation == self._generation():
                # A copy, never raised: the error raised now would pin this caller's
                # frames and context in the record, for every later caller to see.
                self._by_name[error.type_name or ""] = copy_error(error)

    def router(
        self, candidates: list[Candidate], generation: int, sink: dict[str, DriverLoadError]
    ) -> Callable[[str, BaseException], None]:
        """stevedore's ``on_load_failure_callback``: to logging, these records and ``sink``."""
        by_name = {candidate.name: candidate for candidate in candidates}

        def on_failure(type_name: str, exc: BaseException) -> None:
            candidate = by_name[type_name]
            error = DriverLoadError.from_exception(
                exc,
                type_name=type_name,
                target=candidate.target,
                distribution=candidate.distribution,
                version=candidate.version,
            )
            sink[type_name] = error
            self.record(error, generation)

        return on_failure

    def invalid_target(self, candidate: Candidate, generation: int) -> DriverLoadError:
        """Record (and return) the failure of an entry point whose value is not ``module:attr``."""
        error = DriverLoadError.invalid_target(
            type_name=candidate.name,
            target=candidate.target,
            distribution=candidate.distribution,
            version=candidate.version,
        )
        self.record(error, generation)
        return error
