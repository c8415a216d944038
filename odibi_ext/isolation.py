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
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO
from typing import Any
from typing import Final
from typing import NamedTuple

from odibi_ext.discovery import Candidate
from odibi_ext.info import DriverInfo
from odibi_ext.registry import ConnectionRegistry

DEFAULT_TIMEOUT: Final = 30.0
#: The longest ``timeout`` accepted, in seconds (a day).
MAX_TIMEOUT: Final = 86_400.0
#: The most children ``jobs`` may ask for at once.
MAX_JOBS: Final = 256
#: The most drivers one child loads.
BATCH_SIZE: Final = 100

#: How often a waiting parent looks at its children, in seconds.
_POLL_S: Final = 0.05
#: How long, in all, a stopping check waits for its worker threads, in seconds.
_JOIN_S: Final = 5.0
#: File descriptors the parent holds per running child (result pipe, output
#: file, the child's stdin pipe and subprocess's own pipe while it starts).
_FDS_PER_CHILD: Final = 5
#: Errors of starting a process that mean "not now": wait for a running child.
_RESOURCE_ERRNOS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM})

#: The child's program, run with ``python -I``: read the request from stdin,
#: adopt the parent's sys.path, and only then import odibi_ext.
_CHILD: Final = (
    "import json, sys\n"
    "request = json.loads(sys.stdin.buffer.read())\n"
    "sys.path[:] = request['path']\n"
    "from odibi_ext.isolation import probe\n"
    "probe(request)\n"
)


class Progress(NamedTuple):
    """How far :func:`check_isolated` is: what its ``progress`` callback receives."""

    #: Drivers with a verdict so far.
    done: int
    #: Drivers loaded in child processes, in all.
    total: int
    #: The driver loading for the longest time: the one the check waits for (None between two).
    waiting_for: str | None
    #: Whole seconds ``waiting_for`` has been loading.
    waited_s: int


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
    supervisor = _Supervisor(_request(registry), timeout, workers, progress)
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
    supervisor = _Supervisor(_request(registry), timeout, 1)
    results = supervisor.run([[info]])
    return results.get(info.name, info), info.name not in supervisor.cut_off


def _loadable(info: DriverInfo) -> bool:
    """An installed driver (a plugin's or Odibi's built-in) the policy lets load."""
    return info.origin != "registered" and info.status == "available"


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


class _Outcome:
    """What one child reported before it ended: verdicts, and the driver it was loading."""

    __slots__ = ("code", "infos", "loading", "output", "registered", "timed_out")

    def __init__(self) -> None:
        self.infos: dict[int, DriverInfo] = {}
        #: What the plugins loaded registered through Odibi's seams.
        self.registered: list[Candidate] = []
        self.loading: int | None = None
        self.timed_out = False
        self.code: int | None = None
        self.output = ""


class _Supervisor:
    """Runs batches in children, ``workers`` at a time; splits a batch around a driver that
    hangs or kills its child; kills every child on the way out."""

    def __init__(
        self,
        request: dict[str, Any],
        timeout: float,
        workers: int,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self._request = request
        self._timeout = timeout
        self._workers = workers
        self._progress = progress
        self._work: queue.Queue[list[DriverInfo]] = queue.Queue()
        self._results: dict[str, DriverInfo] = {}
        self._lock = threading.Condition()
        self._unfinished = 0
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stop = threading.Event()
        #: Drivers whose child never reported them: hung, crashed or exited.
        self.cut_off: set[str] = set()
        #: What the plugins loaded registered through Odibi's seams, from every child.
        self.registered: list[Candidate] = []
        #: What the progress counts: drivers judged, and those loading since when.
        self._total = 0
        self._judged: set[str] = set()
        self._loading: dict[str, float] = {}

    def run(self, batches: list[list[DriverInfo]]) -> dict[str, DriverInfo]:
        self._total = sum(len(batch) for batch in batches)
        for batch in batches:
            self._submit(batch)
        threads: list[threading.Thread] = []
        # Everything from the first thread started on sits in the try: a Ctrl-C
        # at any point kills every child already started.
        try:
            for n in range(self._workers):
                thread = threading.Thread(
                    target=self._work_loop, name=f"odibi-ext-isolate-{n}", daemon=True
                )
                thread.start()
                threads.append(thread)  # only once started: join() refuses a thread before
            self._wait_for_the_work()
        finally:
            self._stop.set()
            self._kill_all()
            deadline = time.monotonic() + _JOIN_S
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        return self._results

    def _wait_for_the_work(self) -> None:
        """Return when every batch is finished, reporting progress meanwhile.

        The waits are short, whatever happens: a signal the kernel delivers to
        another thread does not wake this one, and only this (the main) thread
        raises ``KeyboardInterrupt``; a short wait acts on it within
        :data:`_POLL_S` times four.
        """
        shown = None
        while True:
            with self._lock:
                if shown is not None and self._unfinished:  # the first report comes at once
                    self._lock.wait(_POLL_S * 4)
                if not self._unfinished:
                    break
                now = self._progress_now()
            if self._progress is not None and now != shown:
                self._progress(now)  # outside the lock: the callback may take its time
            shown = now
        done = Progress(len(self._judged), self._total, None, 0)
        if self._progress is not None and done != shown:
            self._progress(done)

    def _progress_now(self) -> Progress:
        """The progress at this moment; the caller holds the lock."""
        if not self._loading:
            return Progress(len(self._judged), self._total, None, 0)
        since, name = min((since, name) for name, since in self._loading.items())
        return Progress(len(self._judged), self._total, name, int(time.monotonic() - since))

    def _submit(self, batch: list[DriverInfo]) -> None:
        with self._lock:
            self._unfinished += 1
        self._work.put(batch)

    def _finish(self, results: dict[str, DriverInfo], *later: list[DriverInfo]) -> None:
        for batch in later:
            if batch:
                self._submit(batch)
        with self._lock:
            self._results.update(results)
            self._judged.update(results)
            self._unfinished -= 1
            self._lock.notify_all()

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._work.get(timeout=_POLL_S * 4)
            except queue.Empty:
                continue
            try:
                self._run_batch(batch)
            except BaseException:  # never leave the supervisor waiting for this batch
                self._finish({})
                raise

    def _run_batch(self, batch: list[DriverInfo]) -> None:
        try:
            outcome = self._run_child(batch)
        except OSError as exc:
            if exc.errno in _RESOURCE_ERRNOS and self._running_count() > 0:
                self._wait_for_a_child()  # degrade: fewer children at once, then try again
                self._finish({}, batch)
                return
            self._finish({info.name: _not_started(info, exc) for info in batch})
            return
        if outcome is None:  # stopping
            self._finish({})
            return
        results = {batch[i].name: info for i, info in outcome.infos.items()}
        with self._lock:
            self.registered.extend(outcome.registered)
        unreported = [i for i in range(len(batch)) if i not in outcome.infos]
        if not unreported:
            self._finish(results)
            return
        culprit = outcome.loading if outcome.loading in unreported else unreported[0]
        after = [batch[i] for i in unreported if i != culprit]
        if culprit == 0:
            # It was the first (or only) driver its child loaded: the verdict is its own.
            results[batch[culprit].name] = _verdict(batch[culprit], outcome, self._timeout)
            self.cut_off.add(batch[culprit].name)
            self._finish(results, after)
        else:
            self._finish(results, [batch[culprit]], after)

    def _running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def _wait_for_a_child(self) -> None:
        with self._lock:
            count = len(self._running)
            while len(self._running) >= count and count and not self._stop.is_set():
                self._lock.wait(_POLL_S)

    def _run_child(self, batch: list[DriverInfo]) -> _Outcome | None:
        request = dict(self._request, names=[info.name for info in batch])
        with contextlib.ExitStack() as cleanup:
            reader, writer = os.pipe()
            cleanup.callback(os.close, reader)
            try:
                output = cleanup.enter_context(tempfile.TemporaryFile())
                request["result_fd"] = writer
                process = self._spawn(request, writer, output)
            finally:
                os.close(writer)
            try:
                outcome = self._follow(process, reader, batch)
            finally:
                _kill_group(process)  # also ends whatever the plugins left running
                process.wait()
                with self._lock:
                    self._running.discard(process)
                    for info in batch:
                        self._loading.pop(info.name, None)
                    self._lock.notify_all()
            if outcome is not None:
                outcome.code = process.returncode
                outcome.output = _last_line(output)
            return outcome

    def _spawn(
        self, request: dict[str, Any], writer: int, output: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        flags = ["-I"] + (["-B"] if sys.dont_write_bytecode else [])
        with self._lock:
            if self._stop.is_set():
                raise OSError(errno.ECANCELED, "the check was interrupted")
            process = subprocess.Popen(
                [sys.executable, *flags, "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=output,
                pass_fds=(writer,),
                # Its own process group, so a kill also ends whatever the plugin spawned,
                # and a Ctrl-C at the terminal reaches the parent only, which then kills it.
                start_new_session=True,
            )
            self._running.add(process)
        assert process.stdin is not None
        try:
            process.stdin.write(json.dumps(request).encode("utf-8", "surrogatepass"))
        except OSError:  # it died before reading: its status tells
            pass
        finally:
            with contextlib.suppress(OSError):
                process.stdin.close()
        return process

    def _follow(
        self, process: subprocess.Popen[bytes], reader: int, batch: list[DriverInfo]
    ) -> _Outcome | None:
        """Read the child's reports until it ends, times out, or the check stops."""
        outcome = _Outcome()
        poller = select.poll()
        poller.register(reader, select.POLLIN)
        pending = b""
        deadline = time.monotonic() + self._timeout
        exited = False
        while True:
            if self._stop.is_set():
                return None
            if poller.poll(_POLL_S * 1000):
                chunk = os.read(reader, 65536)
                if not chunk:
                    break  # every writer is gone
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    judged = _take(outcome, line)
                    if judged is not None:
                        deadline = time.monotonic() + self._timeout
                    self._note(batch, judged, outcome.loading)
                continue
            if exited:
                break  # ended, and nothing more is buffered (a helper may hold the pipe)
            if process.poll() is not None:
                exited = True  # one more poll: collect what it wrote just before ending
                continue
            if time.monotonic() >= deadline:
                outcome.timed_out = True
                break
        return outcome

    def _note(self, batch: list[DriverInfo], judged: int | None, loading: int | None) -> None:
        """Count a report of the child's, for the progress: a verdict, or a load begun."""
        with self._lock:
            if judged is not None and judged < len(batch):
                self._judged.add(batch[judged].name)
                self._loading.pop(batch[judged].name, None)
            if loading is not None and loading < len(batch):
                self._loading.setdefault(batch[loading].name, time.monotonic())

    def _kill_all(self) -> None:
        with self._lock:
            running = list(self._running)
        for process in running:
            _kill_group(process)


def _take(outcome: _Outcome, line: bytes) -> int | None:
    """Record one report; the position of the driver judged, if it was a verdict."""
    try:
        message = json.loads(line)
        if "loaded" in message:
            position = int(message["loaded"])
            outcome.infos[position] = DriverInfo.from_dict(message["info"])
            outcome.registered.extend(
                Candidate(**{k: v for k, v in c.items() if k in Candidate._fields})
                for c in message.get("registered", ())
            )
            outcome.loading = None
            return position
        outcome.loading = int(message["loading"])
    except (ValueError, TypeError, KeyError):
        pass
    return None


def _verdict(info: DriverInfo, outcome: _Outcome, timeout: float) -> DriverInfo:
    if outcome.timed_out:
        return _failed(
            info,
            f"timed out after {timeout:g} s while importing (process killed)",
            f"Its import did not finish: it may wait on a network or a lock. Give it more "
            f"time with --timeout, or disable the driver in the policy file; report it to "
            f"the maintainers of {_provider(info)}",
        )
    code = outcome.code if outcome.code is not None else 0
    if code < 0:
        how = f"process died: {_signal_name(-code)} while importing"
        advice = "Its import crashed the interpreter (a native extension, or os.abort())"
    else:
        how = f"exited with status {code} while importing"
        advice = "Its import ended the process (os._exit(), or a crash in native code)"
    last = outcome.output
    return _failed(
        info,
        f"{how}; last output: {last}" if last else how,
        f"{advice}: loading it in-process would end the application too. Disable the driver "
        f"in the policy file and report it to the maintainers of {_provider(info)}",
    )


def _not_started(info: DriverInfo, exc: OSError) -> DriverInfo:
    return _failed(
        info,
        f"not checked: a process to load it could not be started ({exc.strerror or exc})",
        "Free resources (raise the open-files limit with ulimit -n, or lower --jobs) and "
        "check again",
    )


def _failed(info: DriverInfo, error: str, reason: str) -> DriverInfo:
    return dataclasses.replace(info, status="failed", error=error, reason=reason, load_ms=None)


def _provider(info: DriverInfo) -> str:
    return info.distribution or "the providing distribution"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(OSError):
            process.kill()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(output: IO[bytes]) -> str:
    """The last non-empty line the child (or its plugins) printed, cut to 300 characters."""
    try:
        size = output.seek(0, os.SEEK_END)
        output.seek(max(0, size - 4096))
        tail = output.read()
    except OSError:
        return ""
    lines = [line.strip() for line in tail.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else ""
