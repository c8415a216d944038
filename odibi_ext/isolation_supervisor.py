"""The parent's side of an isolated check: children run in batches, followed, judged.

:class:`Supervisor` runs batches of drivers in child processes
(:mod:`odibi_ext.isolation_child`), ``workers`` at a time, each in a process
group of its own; reads each child's reports; bounds each driver's load by the
timeout; splits a batch around a driver that hangs or ends its child, so every
verdict is about one driver; reports :class:`Progress`; and kills every child
on the way out, a Ctrl-C included. :mod:`odibi_ext.isolation` is its caller.
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
from odibi_ext.isolation_child import CHILD

#: How often a waiting parent looks at its children, in seconds.
_POLL_S: Final = 0.05
#: How long, in all, a stopping check waits for its worker threads, in seconds.
_JOIN_S: Final = 5.0
#: Errors of starting a process that mean "not now": wait for a running child.
_RESOURCE_ERRNOS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM})


class Progress(NamedTuple):
    """How far an isolated check is: what the ``progress`` callback of
    :func:`~odibi_ext.isolation.check_isolated` receives."""

    #: Drivers with a verdict so far.
    done: int
    #: Drivers loaded in child processes, in all.
    total: int
    #: The driver loading for the longest time: the one the check waits for (None between two).
    waiting_for: str | None
    #: Whole seconds ``waiting_for`` has been loading.
    waited_s: int


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


class Supervisor:
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
                [sys.executable, *flags, "-c", CHILD],
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
