"""The child process's side of an isolated check: load drivers, report each verdict.

:data:`CHILD` is the program the parent runs with ``python -I``; it adopts the
parent's ``sys.path`` and calls :func:`probe`, which loads each driver asked
for and writes a JSON line per event to a pipe of its own (``{"loading": i}``
when a load begins, ``{"loaded": i, "info": ..., "registered": [...]}`` when
it ends), and kills its process group should the parent die first.
:mod:`odibi_ext.isolation_supervisor` runs children and reads these lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from typing import Any
from typing import Final

from odibi_ext.registry import ConnectionRegistry

#: The child's program, run with ``python -I``: read the request from stdin,
#: adopt the parent's sys.path, and only then import odibi_ext.
CHILD: Final = (
    "import json, sys\n"
    "request = json.loads(sys.stdin.buffer.read())\n"
    "sys.path[:] = request['path']\n"
    "from odibi_ext.isolation_child import probe\n"
    "probe(request)\n"
)


def probe(request: dict[str, Any]) -> None:
    """The child's side: load each driver asked for and report it on the result channel."""
    channel = request["result_fd"]
    os.set_inheritable(channel, False)  # nothing the plugin starts may hold it
    with open(os.devnull, "rb") as devnull:  # the request was stdin; plugins get nothing
        os.dup2(devnull.fileno(), 0)
    _watch_parent(request["parent"])
    from odibi_ext.errors import OdibiExtError
    from odibi_ext.odibi import watching
    from odibi_ext.policy import Policy

    registry = ConnectionRegistry(request["namespace"], policy=Policy(**request["policy"]))
    reported = 0
    with watching(registry):  # what plugins register through Odibi's seams is reported too
        for position, name in enumerate(request["names"]):
            _send(channel, {"loading": position})
            with contextlib.suppress(OdibiExtError):  # recorded; info() below reports it
                registry.get(name)
            registered = registry.registrations()
            _send(
                channel,
                {
                    "loaded": position,
                    "info": registry.info(name).to_dict(),
                    "registered": [c._asdict() for c in registered[reported:]],
                },
            )
            reported = len(registered)
    # Skip interpreter shutdown: a plugin's atexit hooks or non-daemon threads
    # must not turn a finished probe into a timeout.
    os._exit(0)


def _send(channel: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode("ascii")  # json.dumps escapes non-ASCII
    while data:
        data = data[os.write(channel, data) :]


def _watch_parent(parent: int) -> None:
    """End this child, and whatever its plugins started, if the parent dies first."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        with contextlib.suppress(OSError):
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="odibi-ext-parent-watch", daemon=True).start()
