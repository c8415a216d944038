"""The command line against plugins that print or leave threads running, and bad limits (issue 12).

Stdout of a command holds its answer and nothing else (what plugins print
goes to stderr); a command exits once it has its answer, whatever threads a
plugin left; ``--timeout`` and ``--jobs`` are checked before anything runs.
Real processes (``python -m odibi_ext`` and the console script) with a
deadline, so a command that would hang fails the test instead.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite
from plugin_kit import allow_only
from plugin_kit import install
from plugin_kit import odibi_ext_command
from plugin_kit import run_process

from odibi_ext.cli import main

#: Prints at import (with print, and straight to file descriptor 1) and in its factory.
CHATTY = (
    "import os, sys\n"
    "print('hello from import')\n"
    "print('no newline at import', end='')\n"
    "os.write(1, b'raw write to fd 1\\n')\n"
    + GOOD_FACTORY
    + "\n\n_create = create\n\n\ndef create(name, config):\n"
    "    print('hello from the factory')\n"
    "    return _create(name, config)\n"
)

#: Starts a thread at import that never ends and is not a daemon.
LEAVES_A_THREAD = (
    "import threading, time\n"
    "threading.Thread(target=time.sleep, args=(600,), name='plugin-poller').start()\n"
    + GOOD_FACTORY
)


def spawn(
    launcher: str, argv: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_process([*odibi_ext_command(launcher), *argv], env, timeout=timeout)


COMMANDS = {
    "list --load": (["list", "--load"], 0),
    "check": (["check"], 0),
    "check --isolate": (["check", "--isolate", "--timeout", "20"], 0),
    "show --load": (["show", "{name}", "--load"], 0),
    "connect": (["connect", "{name}"], 0),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_stdout_holds_only_the_json_when_a_plugin_prints(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, command: str
) -> None:
    policy = allow_only(tmp_path, install(site, "chatty", CHATTY))
    argv, expected = COMMANDS[command]
    argv = [arg.format(name="chatty") for arg in argv]

    done = spawn("module", ["--config", policy, *argv, "--format", "json"], cli_env)

    assert done.returncode == expected, done.stderr
    json.loads(done.stdout)  # nothing before or after the JSON
    if command != "check --isolate":  # there, the plugin prints in a child
        assert "hello from import" in done.stderr
        assert "raw write to fd 1" in done.stderr
    if command == "connect":
        assert "hello from the factory" in done.stderr


def test_in_process_json_stdout_holds_only_the_json(
    site: FakeSite, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    policy = allow_only(tmp_path, install(site, "chatty", CHATTY))
    capfd.readouterr()

    code = main(["--config", policy, "connect", "chatty", "--format", "json"])
    print("after the command: stdout is stdout again")

    out, err = capfd.readouterr()
    assert code == 0
    answer, after = out.rsplit("}\n", 1)
    assert json.loads(answer + "}")["ok"] is True
    assert after == "after the command: stdout is stdout again\n"
    assert "hello from import" in err
    assert "raw write to fd 1" in err


@pytest.mark.parametrize("command", ["list --load", "check", "show --load", "connect"])
@pytest.mark.parametrize("launcher", ["module", "script"])
def test_a_command_exits_with_its_answer_when_a_plugin_left_a_thread_running(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, command: str, launcher: str
) -> None:
    policy = allow_only(tmp_path, install(site, "poller", LEAVES_A_THREAD))
    argv, expected = COMMANDS[command]
    argv = [arg.format(name="poller") for arg in argv]

    done = spawn(launcher, ["--config", policy, *argv, "--format", "json"], cli_env, timeout=30)

    assert done.returncode == expected, done.stderr
    assert json.loads(done.stdout)


# -- --timeout and --jobs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--isolate", "--timeout", "inf"],
        ["--isolate", "--timeout", "1e308"],
        ["--isolate", "--timeout", "nan"],
        ["--isolate", "--timeout", "0"],
        ["--isolate", "--timeout", "-3"],
        ["--isolate", "--jobs", "0"],
        ["--isolate", "--jobs", "-1"],
        ["--isolate", "--jobs", "100000"],
        ["--timeout", "5"],
        ["--jobs", "2"],
    ],
    ids=" ".join,
)
def test_check_refuses_limits_out_of_range_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    capsys.readouterr()

    code = main(["check", *argv])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("odibi-ext: error: --")
    assert ("--timeout" in line) if "--timeout" in argv else ("--jobs" in line)


def test_check_isolate_still_works_under_a_low_open_files_limit(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    import resource

    names = [f"fd-{number:02}" for number in range(30)]
    policy = allow_only(tmp_path, *(install(site, name) for name in names))
    argv = ["--config", policy, "--format", "json", "check", "--isolate", "--jobs", "64"]

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    done = subprocess.run(
        [*odibi_ext_command("module"), *argv],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=low_limit,
    )

    assert done.returncode == 0, done.stderr
    statuses = {d["name"]: d["status"] for d in json.loads(done.stdout)["drivers"]}
    assert {name: statuses[name] for name in names} == dict.fromkeys(names, "loaded")
