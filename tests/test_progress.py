"""Progress of ``check --isolate`` (issue 22, item 4): the supervisor reports it through a
callback; the command draws it on stderr when stderr is a terminal (a real pty here), and
never in a pipe, JSON output or quiet runs.

No timings: a slow driver waits for a file the test (or the callback) writes once the
progress names it, so every wait is a handshake with a deadline.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeSite
from plugin_kit import allow_only
from plugin_kit import install
from plugin_kit import odibi_ext_command

from odibi_ext import ConnectionRegistry
from odibi_ext.cli.progress import describe
from odibi_ext.isolation import Progress
from odibi_ext.isolation import check_isolated
from odibi_ext.policy import Policy


def waits_for(go: Path) -> str:
    """A plugin whose import waits (at most two minutes) until ``go`` exists."""
    return (
        "import os, time\n"
        "_deadline = time.monotonic() + 120\n"
        f"while not os.path.exists({str(go)!r}) and time.monotonic() < _deadline:\n"
        "    time.sleep(0.02)\n"
        "def create(name, config):\n"
        "    return None\n"
    )


def two_drivers(site: FakeSite, tmp_path: Path) -> tuple[str, Path]:
    """``a-quick`` and ``b-slow`` (waiting for the file returned); the policy file's path."""
    go = tmp_path / "go"
    dists = [install(site, "a-quick"), install(site, "b-slow", waits_for(go))]
    return allow_only(tmp_path, *dists), go


# -- the supervisor's callback -----------------------------------------------------------------


def test_the_supervisor_reports_progress_in_the_callers_thread(
    site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(site.root))
    go = tmp_path / "go"
    install(site, "a-quick")
    install(site, "b-slow", waits_for(go))
    allowed = ["odibi-a-quick", "odibi-b-slow"]
    registry = ConnectionRegistry(policy=Policy(allowed_distributions=allowed))
    reports: list[tuple[Progress, int]] = []

    def follow(progress: Progress) -> None:
        reports.append((progress, threading.get_ident()))
        if progress.waiting_for == "b-slow":
            go.touch()  # the slow driver may finish once the progress has named it

    infos = check_isolated(registry, timeout=120, jobs=1, progress=follow)

    statuses = {info.name: info.status for info in infos if info.name in ("a-quick", "b-slow")}
    assert statuses == {"a-quick": "loaded", "b-slow": "loaded"}
    progresses = [progress for progress, _ in reports]
    total = progresses[0].total
    assert total >= 2  # the two plugins, and Odibi's built-ins the policy leaves
    assert progresses[0].done == 0
    assert progresses[-1] == Progress(total, total, None, 0)
    assert [p.done for p in progresses] == sorted(p.done for p in progresses)
    assert any(p.waiting_for == "b-slow" and p.done < total for p in progresses)
    assert {thread for _, thread in reports} == {threading.get_ident()}


def test_the_progress_line_names_the_driver_waited_for_with_escapes_defused() -> None:
    assert describe(Progress(3, 40, None, 0)) == "checking drivers: 3 of 40 done"
    assert describe(Progress(3, 40, "sqlite", 0)) == (
        "checking drivers: 3 of 40 done, waiting for sqlite"
    )
    assert describe(Progress(3, 40, "evil\x1b[2J", 7)) == (
        "checking drivers: 3 of 40 done, waiting for evil\\x1b[2J (7 s)"
    )


# -- the command, on a terminal and off it --------------------------------------------------


def run_with_stderr_on_a_pty(
    argv: list[str],
    env: dict[str, str],
    *,
    when: bytes | None = None,
    then: Callable[[], None] | None = None,
    timeout: float = 180,
) -> tuple[int, str, bytes]:
    """Run ``argv`` with stderr on a new pseudo-terminal: exit code, stdout, what the
    terminal received. ``then()`` runs once the terminal has received ``when``."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
        )
    finally:
        os.close(slave)
    received = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{' '.join(argv)} did not finish within {timeout} s: {received!r}")
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the last writer of the terminal is gone
                break
            if not chunk:
                break
            received += chunk
            if then is not None and when is not None and when in received:
                then()
                then = None
        assert process.stdout is not None
        out = process.stdout.read().decode("utf-8")
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return code, out, received


def test_check_isolate_draws_progress_in_place_on_a_terminal(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    policy, go = two_drivers(site, tmp_path)
    argv = [*odibi_ext_command(), "--config", policy, "check", "--isolate", "--jobs", "1"]

    code, out, terminal = run_with_stderr_on_a_pty(
        [*argv, "--timeout", "120"], cli_env, when=b"waiting for b-slow", then=go.touch
    )

    assert code == 0, terminal
    assert "2 loaded, 0 failed" in out  # the answer on stdout, as without a terminal
    assert "checking" not in out
    text = terminal.decode("utf-8")
    assert "\n" not in text
    assert "\x1b" not in text
    drawn = text.split("\r")
    waiting = "checking drivers: 1 of 2 done, waiting for b-slow"
    assert any(line.startswith(waiting) for line in drawn)
    assert "checking drivers: 2 of 2 done" in [line.rstrip() for line in drawn]
    assert drawn[-1] == ""
    assert drawn[-2].strip() == ""


@pytest.mark.parametrize(
    ("before", "after", "stderr_on"),
    [([], [], "pipe"), ([], ["--format", "json"], "pty"), (["-q"], [], "pty")],
    ids=["piped-stderr", "json-on-a-terminal", "quiet-on-a-terminal"],
)
def test_no_progress_reaches_a_pipe_json_output_or_a_quiet_run(
    site: FakeSite,
    cli_env: dict[str, str],
    tmp_path: Path,
    before: list[str],
    after: list[str],
    stderr_on: str,
) -> None:
    policy, go = two_drivers(site, tmp_path)
    go.touch()  # nothing to wait for: the first report comes as the work starts anyway
    argv = [*odibi_ext_command(), *before, "--config", policy, "check", "--isolate", *after]

    if stderr_on == "pipe":
        done = subprocess.run(argv, env=cli_env, capture_output=True, timeout=180, check=False)
        code, out, err = done.returncode, done.stdout.decode(), done.stderr
    else:
        code, out, err = run_with_stderr_on_a_pty(argv, cli_env)

    assert code == 0, err
    assert "checking drivers" not in out
    assert b"checking drivers" not in err
    assert b"\r" not in err
