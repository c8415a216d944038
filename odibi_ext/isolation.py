"""Loading each driver in a child process of its own, so a plugin cannot take the caller down.

A plugin that hangs at import, aborts, segfaults or calls ``os._exit`` kills
only its own child: the parent reports it as a failed driver (``timed out
after 3 s``, ``process died: SIGABRT``, ``exited with status 3``) and goes
on. Children run several at a time, bounded by the CPU count, each with the
parent's ``sys.path`` and policy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from typing import Final

from odibi_ext.info import DriverInfo
from odibi_ext.registry import ConnectionRegistry

DEFAULT_TIMEOUT: Final = 30.0

#: Marks the child's result line, so output a plugin prints cannot be mistaken for it.
#: Printable on purpose: str.splitlines() would split at a control character.
_RESULT_MARK: Final = "@@odibi-ext-isolated-result@@ "

#: The child's program: adopt the parent's sys.path before importing anything else.
_CHILD: Final = (
    "import json, sys\n"
    "request = json.loads(sys.argv[1])\n"
    "sys.path[:] = request['path']\n"
    "from odibi_ext.isolation import probe\n"
    "probe(request)\n"
)


def check_isolated(
    registry: ConnectionRegistry,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int | None = None,
) -> list[DriverInfo]:
    """A :class:`DriverInfo` for every driver, each loadable one loaded in its own process.

    Conflicting, disabled and excluded drivers are reported without starting a
    process (their code must not run); in-process drivers are reported as they
    are. ``timeout`` bounds each child in seconds; ``jobs`` (default: the CPU
    count) bounds how many run at once. Never raises for a plugin's fault.
    """
    infos = [registry.info(name) for name in registry.names()]
    probed = [i for i in infos if i.origin == "entry_point" and i.status == "available"]
    workers = max(1, jobs or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="odibi-ext-isolate") as pool:
        results = dict(
            zip(
                (info.name for info in probed),
                pool.map(lambda info: _run_child(registry, info, timeout), probed),
                strict=True,
            )
        )
    return [results.get(info.name, info) for info in infos]


def probe(request: dict[str, Any]) -> None:
    """The child's side: load one driver and print its :class:`DriverInfo` as a marked line."""
    from odibi_ext.errors import OdibiExtError
    from odibi_ext.policy import Policy

    registry = ConnectionRegistry(request["namespace"], policy=Policy(**request["policy"]))
    name = request["name"]
    with contextlib.suppress(OdibiExtError):  # recorded; info() below reports it
        registry.get(name)
    line = _RESULT_MARK + json.dumps(registry.info(name).to_dict()) + "\n"
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), line.encode("utf-8", "backslashreplace"))
    # Skip interpreter shutdown: a plugin's atexit hooks or non-daemon threads
    # must not turn a finished probe into a timeout.
    os._exit(0)


def load_isolated(
    registry: ConnectionRegistry, type_name: str, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[DriverInfo, bool]:
    """Load one driver in a process of its own, as :func:`check_isolated` loads each.

    Returns its :class:`DriverInfo` and whether the child process finished:
    ``False`` when the import hung past ``timeout``, crashed or ended the
    process (the info's ``error`` says which). A driver that is not an
    available entry point is reported as it is, without a process.
    """
    info = registry.info(type_name)
    if info.origin != "entry_point" or info.status != "available":
        return info, True
    return _isolated(registry, info, timeout)


def _run_child(registry: ConnectionRegistry, info: DriverInfo, timeout: float) -> DriverInfo:
    return _isolated(registry, info, timeout)[0]


def _isolated(
    registry: ConnectionRegistry, info: DriverInfo, timeout: float
) -> tuple[DriverInfo, bool]:
    request = {
        "path": [entry for entry in sys.path if isinstance(entry, str)],
        "namespace": registry.namespace,
        "name": info.name,
        "policy": registry.policy.to_dict(),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(request)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Its own process group, so a timeout also ends whatever the plugin spawned.
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        timed_out = _failed(
            info,
            f"timed out after {timeout:g} s while importing (process killed)",
            f"Its import did not finish: it may wait on a network or a lock. Give it more "
            f"time with --timeout, or disable the driver in the policy file; report it to "
            f"the maintainers of {_provider(info)}",
        )
        return timed_out, False
    for line in reversed(stdout.decode("utf-8", "replace").split("\n")):
        if line.startswith(_RESULT_MARK):
            try:
                return DriverInfo.from_dict(json.loads(line[len(_RESULT_MARK) :])), True
            except (ValueError, TypeError):
                break
    code = process.returncode
    if code < 0:
        how = f"process died: {_signal_name(-code)} while importing"
        advice = "Its import crashed the interpreter (a native extension, or os.abort())"
    else:
        how = f"exited with status {code} while importing"
        advice = "Its import ended the process (os._exit(), or a crash in native code)"
    last = _last_line(stderr)
    died = _failed(
        info,
        f"{how}; last output: {last}" if last else how,
        f"{advice}: loading it in-process would end the application too. Disable the driver "
        f"in the policy file and report it to the maintainers of {_provider(info)}",
    )
    return died, False


def _failed(info: DriverInfo, error: str, reason: str) -> DriverInfo:
    return dataclasses.replace(info, status="failed", error=error, reason=reason, load_ms=None)


def _provider(info: DriverInfo) -> str:
    return info.distribution or "the providing distribution"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else ""
