"""Loading drivers in child processes, so a plugin cannot take the caller down.

A plugin that hangs at import, aborts, segfaults or calls ``os._exit`` kills
only its child: the parent reports it as a failed driver (``timed out after
3 s``, ``process died: SIGABRT``, ``exited with status 3``) and goes on.

Each child loads a batch of drivers one after the other and reports each
verdict as it goes, over a pipe of its own that plugin code does not know of
(not stdout: what plugins print, or a helper process they leave holding
stdout, cannot garble or delay a verdict). When a driver hangs or ends its
child, the drivers after it go on in a new child, and the driver itself is
tried again alone unless it was the first its child loaded: every verdict is
about one driver, and a distribution with thousands of entry points does not
start thousands of processes. Children run several at a time, bounded by the
CPU count and by the file descriptors left. A child starts in isolated mode
(``python -I``: nothing from the working directory or ``PYTHON*`` variables
runs before it adopts the parent's ``sys.path``), in a process group of its
own that is killed when it is done, so nothing a plugin spawned outlives the
check; a child whose parent dies kills its group too.

The caller may follow the work through a ``progress`` callback (drivers done
of the total, and the one being waited for), called in the caller's own
thread; a Ctrl-C (``KeyboardInterrupt``) stops the check at any point, killing
every child first.

This module is the entry point; the child's side lives in
:mod:`odibi_ext.isolation_child`, the parent's supervisor of the children in
:mod:`odibi_ext.isolation_supervisor`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any
from typing import Final

from odibi_ext.info import DriverInfo
from odibi_ext.isolation_child import probe
from odibi_ext.isolation_supervisor import Progress
from odibi_ext.isolation_supervisor import Supervisor
from odibi_ext.registry import ConnectionRegistry

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_TIMEOUT",
    "MAX_JOBS",
    "MAX_TIMEOUT",
    "Progress",
    "check_isolated",
    "load_isolated",
    "probe",
]

DEFAULT_TIMEOUT: Final = 30.0
#: The longest ``timeout`` accepted, in seconds (a day).
MAX_TIMEOUT: Final = 86_400.0
#: The most children ``jobs`` may ask for at once.
MAX_JOBS: Final = 256
#: The most drivers one child loads.
BATCH_SIZE: Final = 100

#: File descriptors the parent holds per running child (result pipe, output
#: file, the child's stdin pipe and subprocess's own pipe while it starts).
_FDS_PER_CHILD: Final = 5


def check_isolated(
    registry: ConnectionRegistry,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> list[DriverInfo]:
    """A :class:`DriverInfo` for every driver, each loadable one loaded in a child process.

    Conflicting, disabled and excluded drivers are reported without starting a
    process (their code must not run); in-process drivers are reported as they
    are. ``timeout`` bounds each driver's load in seconds; ``jobs`` (default:
    the CPU count) bounds how many children run at once. Never raises for a
    plugin's fault; ``ValueError`` for a ``timeout`` or ``jobs`` out of range.
    ``KeyboardInterrupt`` kills every child before it propagates.

    ``progress`` is called in the calling thread with a :class:`Progress`
    when the work starts, whenever it changes (at most a few times a second),
    and when it ends; what it raises stops the check as a Ctrl-C would.
    """
    if not 0 < timeout <= MAX_TIMEOUT:  # also refuses nan
        raise ValueError(f"timeout must be above 0 and at most {MAX_TIMEOUT:g} s, not {timeout}")
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}, not {jobs}")
    infos = [registry.info(name) for name in registry.names()]
    probed = [info for info in infos if _loadable(info)]
    if not probed:
        return infos
    workers = max(1, min(jobs or os.cpu_count() or 1, _fd_budget(), len(probed)))
    size = max(1, min(BATCH_SIZE, -(-len(probed) // workers)))
    batches = [probed[start : start + size] for start in range(0, len(probed), size)]
    supervisor = Supervisor(_request(registry), timeout, workers, progress)
    results = supervisor.run(batches)
    if not supervisor.registered:
        return [results.get(info.name, info) for info in infos]
    registry.note_registrations(supervisor.registered)
    touched = {candidate.name for candidate in supervisor.registered}
    return [
        registry.info(name) if name in touched else results.get(name, registry.info(name))
        for name in registry.names()
    ]


def load_isolated(
    registry: ConnectionRegistry, type_name: str, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[DriverInfo, bool]:
    """Load one driver in a process of its own, as :func:`check_isolated` loads each.

    Returns its :class:`DriverInfo` and whether the child finished loading it:
    ``False`` when the import hung past ``timeout``, crashed or ended the
    process (the info's ``error`` says which). A driver that is not an
    available installed one is reported as it is, without a process.
    """
    info = registry.info(type_name)
    if not _loadable(info):
        return info, True
    supervisor = Supervisor(_request(registry), timeout, 1)
    results = supervisor.run([[info]])
    return results.get(info.name, info), info.name not in supervisor.cut_off


def _loadable(info: DriverInfo) -> bool:
    """An installed driver (a plugin's or Odibi's built-in) the policy lets load."""
    return info.origin != "registered" and info.status == "available"


def _request(registry: ConnectionRegistry) -> dict[str, Any]:
    return {
        "path": [entry for entry in sys.path if isinstance(entry, str)],
        "namespace": registry.namespace,
        "policy": registry.policy.to_dict(),
        "parent": os.getpid(),
    }


def _fd_budget() -> int:
    """How many children the file descriptors left can serve at once."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return MAX_JOBS
    if soft == resource.RLIM_INFINITY:
        return MAX_JOBS
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = 32
    return max(1, (soft - in_use - 8) // _FDS_PER_CHILD)
