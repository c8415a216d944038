"""``check --isolate``: verdicts a plugin cannot garble, per driver, from few processes,
and no child outliving the command (issue 12).

Every test runs the real command in a real process (the console script or
``python -m odibi_ext``) against fake distributions on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import GOOD_FACTORY
from conftest import FakeSite
from plugin_kit import allow_only
from plugin_kit import install
from plugin_kit import odibi_ext_command
from plugin_kit import plugins_only
from plugin_kit import run_process

from odibi_ext import NAMESPACE


def check_isolate(
    policy: str,
    env: dict[str, str],
    *options: str,
    cwd: Path | None = None,
    timeout: float = 120,
) -> tuple[int, dict[str, dict[str, object]], str]:
    """Run ``odibi-ext check --isolate --format json``; exit code, plugins by name, stderr."""
    argv = [*odibi_ext_command(), "--config", policy, "check", "--isolate", "--format", "json"]
    done = run_process([*argv, *options], env, timeout=timeout, cwd=cwd)
    report = json.loads(done.stdout)
    return done.returncode, plugins_only(report["drivers"]), done.stderr


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


# -- healthy drivers stay healthy --------------------------------------------------------------

PRINTS_WITHOUT_NEWLINE = "print('initialising...', end='')\n" + GOOD_FACTORY
REPLACES_STDOUT = "import io, sys\nsys.stdout = io.StringIO()\n" + GOOD_FACTORY
CLOSES_STDOUT = "import os\nos.close(1)\n" + GOOD_FACTORY


def starts_a_helper(pid_file: Path) -> str:
    """A plugin whose import starts a helper process that inherits stdout and stderr."""
    return (
        "import subprocess\n"
        "_helper = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(_helper.pid))\n" + GOOD_FACTORY
    )


def test_a_healthy_driver_is_loaded_whatever_it_does_to_stdout(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    helper_pid = tmp_path / "helper.pid"
    dists = [
        install(site, "no-newline", PRINTS_WITHOUT_NEWLINE),
        install(site, "new-stdout", REPLACES_STDOUT),
        install(site, "closed-stdout", CLOSES_STDOUT),
        install(site, "with-helper", starts_a_helper(helper_pid)),
    ]

    code, drivers, err = check_isolate(allow_only(tmp_path, *dists), cli_env, "--timeout", "20")

    assert {name: d["status"] for name, d in drivers.items()} == dict.fromkeys(
        ["closed-stdout", "new-stdout", "no-newline", "with-helper"], "loaded"
    ), drivers
    assert code == 0, err
    # The helper the plugin started did not outlive the check.
    assert wait_until(lambda: not alive(int(helper_pid.read_text())), 10)


def test_code_in_the_working_directory_never_runs_in_a_child(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    marker = tmp_path / "cwd-code-ran"
    for module in ("json", "os", "odibi_ext"):  # what a child might import before sys.path is set
        (workdir / f"{module}.py").write_text(
            f"open({str(marker)!r}, 'a').write({module!r})\nraise SystemExit(9)\n"
        )
    policy = allow_only(tmp_path, install(site, "plain"))

    code, drivers, err = check_isolate(policy, cli_env, "--timeout", "20", cwd=workdir)

    assert drivers["plain"]["status"] == "loaded", drivers
    assert code == 0, err
    assert not marker.exists()


# -- verdicts per driver, from few processes ---------------------------------------------------

RECORDS_ITS_PROCESS = """
import os as _os

with open(_os.path.join({directory!r}, str(_os.getpid())), "w"):
    pass
"""


def test_thousands_of_entry_points_are_checked_by_few_processes(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    processes = tmp_path / "processes"
    processes.mkdir()
    count = 5000
    names = [f"many-{number:04}" for number in range(count)]
    site.distribution(
        "odibi-many",
        entry_points_text=f"[{NAMESPACE}]\n" + "".join(f"{n} = many:create\n" for n in names),
        modules={"many": RECORDS_ITS_PROCESS.format(directory=str(processes)) + GOOD_FACTORY},
    )

    code, drivers, err = check_isolate(
        allow_only(tmp_path, "odibi-many"), cli_env, "--timeout", "60", timeout=600
    )

    assert code == 0, err
    assert len(drivers) == count
    assert all(d["status"] == "loaded" for d in drivers.values())
    started = len(list(processes.iterdir()))  # the module is imported once per child
    assert 1 <= started <= 60, f"{started} processes for {count} drivers"


HANGS = "import time\ntime.sleep(120)\n" + GOOD_FACTORY
EXITS_HARD = "import os\nos._exit(3)\n"


def test_a_driver_that_hangs_or_kills_its_child_is_judged_alone(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    dists = [
        install(site, "a-good"),
        install(site, "b-hangs", HANGS),
        install(site, "c-good"),
        install(site, "d-exits", EXITS_HARD),
        install(site, "e-good"),
    ]

    # One job: all five start in one child, in name order.
    code, drivers, _ = check_isolate(
        allow_only(tmp_path, *dists), cli_env, "--timeout", "2", "--jobs", "1"
    )

    assert code == 1
    assert {name: d["status"] for name, d in drivers.items()} == {
        "a-good": "loaded",
        "b-hangs": "failed",
        "c-good": "loaded",
        "d-exits": "failed",
        "e-good": "loaded",
    }
    assert str(drivers["b-hangs"]["error"]).startswith("timed out after 2 s while importing")
    assert str(drivers["d-exits"]["error"]).startswith("exited with status 3 while importing")
    for good in ("a-good", "c-good", "e-good"):
        assert site.imports(good.replace("-", "_")) == 1  # no good driver was loaded twice


# -- no child outlives the command -------------------------------------------------------------


def stuck_with_a_helper(pids: Path) -> str:
    """A plugin that starts a helper process, then hangs; it writes ``pids/<its pid>``
    holding the helper's pid."""
    pids.mkdir()
    return (
        "import os, subprocess, time\n"
        "_helper = subprocess.Popen(['sleep', '300'])\n"
        f"open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').write(str(_helper.pid))\n"
        "time.sleep(300)\n"
    )


#: Runs the rest of its command line with SIGINT at its default disposition, as a shell
#: starts a foreground job. The test runner may not have it so: a background job of a
#: non-interactive shell (``python -m pytest &``) ignores SIGINT, and an ignored signal
#: stays ignored across fork and exec, so the command would rightly ignore the Ctrl-C.
AS_A_FOREGROUND_JOB = (
    sys.executable,
    "-c",
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "os.execv(sys.argv[1], sys.argv[1:])",
)


def test_ctrl_c_during_check_isolate_returns_promptly_and_kills_every_child(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    stuck = stuck_with_a_helper(pids)
    dists = [install(site, "stuck-one", stuck), install(site, "stuck-two", stuck)]
    policy = allow_only(tmp_path, *dists)
    parent = subprocess.Popen(
        [*AS_A_FOREGROUND_JOB, *odibi_ext_command(), "--config", policy, "check", "--isolate"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal's foreground job
    )
    try:
        started = lambda: [p for p in pids.iterdir() if p.read_text()]  # noqa: E731
        assert wait_until(lambda: len(started()) == 2, 60), "children never started"
        children = [int(path.name) for path in pids.iterdir()]
        helpers = [int(path.read_text()) for path in pids.iterdir()]

        os.killpg(parent.pid, signal.SIGINT)  # Ctrl-C: to the terminal's foreground group
        _, err = parent.communicate(timeout=15)
    finally:
        parent.kill()
        parent.wait()

    assert parent.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    for pid in children + helpers:
        assert wait_until(lambda pid=pid: not alive(pid), 10), f"process {pid} outlived the check"


def test_children_of_a_killed_check_do_not_outlive_it(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    stuck = stuck_with_a_helper(pids)
    parent = subprocess.Popen(
        [
            *odibi_ext_command(),
            "--config",
            allow_only(tmp_path, install(site, "stuck", stuck)),
            "check",
            "--isolate",
        ],
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = lambda: [p for p in pids.iterdir() if p.read_text()]  # noqa: E731
        assert wait_until(started, 60), "the child never started"
        [record] = started()
        child, helper = int(record.name), int(record.read_text())
    finally:
        parent.kill()  # SIGKILL: no cleanup in the parent at all
        parent.wait()

    assert wait_until(lambda: not alive(child), 10), "the child outlived its killed parent"
    assert wait_until(lambda: not alive(helper), 10), "the plugin's helper outlived the check"


def test_timeouts_kill_what_the_plugin_started(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    helper_pid = tmp_path / "helper.pid"
    source = (
        starts_a_helper(helper_pid).replace(GOOD_FACTORY, "") + "import time\ntime.sleep(300)\n"
    )
    policy = allow_only(tmp_path, install(site, "slow", source))

    code, drivers, _ = check_isolate(policy, cli_env, "--timeout", "2")

    assert code == 1
    assert str(drivers["slow"]["error"]).startswith("timed out after 2 s")
    assert wait_until(lambda: not alive(int(helper_pid.read_text())), 10)
