"""What reaches a terminal, a pipe or a file: escaped, encodable, valid, and never a traceback.

Plugins control type names, targets and error texts; none of it may reach a
terminal unescaped. Output must degrade (escape) on an ASCII or C-locale
terminal, a closed pipe or a full disk must end the command with its exit
code and a line, not a traceback, and JSON output must stay valid JSON -
errors included.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from test_cli import Result
from test_cli import plugin
from test_cli import policy_file
from test_cli import run
from test_cli import spawn

from odibi_ext import render
from odibi_ext.cli import main
from odibi_ext.discovery import Candidate
from odibi_ext.info import DriverInfo

#: ESC and OSC/CSI sequences: retitle the window, clear the screen, recolour.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31m"
ESCAPED = "\\x1b]0;owned\\x07\\x1b[2J\\x1b[31m"
EVIL_NAME = "evil" + HOSTILE + "name"
RAISES_HOSTILE = f"raise RuntimeError({('boom ' + HOSTILE + ' done')!r})\n"

#: A factory whose connection fails validate() and whose close() fails too.
CLOSE_FAILS = '''
class Connection:
    def __init__(self, name, config):
        self.config = dict(config)

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        if self.config.get("fail"):
            raise ValueError("the real problem: " + str(self.config["fail"]))

    def close(self):
        raise RuntimeError("close broke too")


def create(name, config):
    """A connection whose close() always fails."""
    return Connection(name, config)
'''

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def no_control_characters(text: str) -> bool:
    return all(char.isprintable() or char == "\n" for char in text)


def only_driver(site: FakeSite, directory: Path, dist: str, type_name: str, source: str) -> Path:
    """Install ``dist`` offering ``type_name``; a policy file letting only it be seen."""
    module = dist.replace("-", "_") + "_mod"
    site.distribution(dist, entry_points={type_name: f"{module}:create"}, modules={module: source})
    return policy_file(directory, allowed=[dist])


@pytest.fixture
def evil(site: FakeSite, tmp_path: Path) -> Path:
    """A driver whose type name and import error carry terminal escapes, and a policy for it."""
    return only_driver(site, tmp_path, "odibi-evil", EVIL_NAME, RAISES_HOSTILE)


# -- escapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["list"],
        ["list", "--load"],
        ["check"],
        ["show", EVIL_NAME],
        ["show", EVIL_NAME, "--load"],
        ["connect", EVIL_NAME, "--name", "n" + HOSTILE],
        ["show", "x" + HOSTILE],
    ],
    ids=["list", "list-load", "check", "show", "show-load", "connect", "show-unknown"],
)
def test_nothing_a_plugin_controls_reaches_the_terminal_unescaped(
    evil: Path, cli_env: dict[str, str], argv: list[str]
) -> None:
    result = spawn("module", "--config", evil, *argv, env=cli_env)

    for text in (result.out, result.err):
        assert "\x1b" not in text, text
        assert "\x07" not in text, text
        assert no_control_characters(text), text
    assert "Traceback" not in result.err
    assert "evil\\x1b]0;owned" in result.out + result.err  # shown, as escapes


#: A plugin that logs terminal escapes while it is imported.
LOGS_HOSTILE = f"""
import logging
logging.getLogger("chatty").warning({("hello " + HOSTILE + " there")!r})
{GOOD_FACTORY}
"""


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["default", "verbose"])
def test_what_a_plugin_logs_reaches_stderr_escaped(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, verbose: list[str]
) -> None:
    policy = only_driver(site, tmp_path, "odibi-chatty", "chatty", LOGS_HOSTILE)

    result = spawn("module", *verbose, "--config", policy, "list", "--load", env=cli_env)

    assert result.code == 0
    assert f"hello {ESCAPED} there" in result.err
    assert "\x1b" not in result.err


def test_show_escapes_the_name_and_error_lines(evil: Path, cli_env: dict[str, str]) -> None:
    result = spawn("module", "--config", evil, "show", EVIL_NAME, "--load", env=cli_env)

    lines = result.out.splitlines()
    assert f"name:         evil{ESCAPED}name" in lines
    error = next(line for line in lines if line.startswith("error:"))
    assert "boom " + ESCAPED + " done" in error
    assert result.code == 0


def test_the_problems_block_of_check_escapes_the_name_and_the_error(
    evil: Path, cli_env: dict[str, str]
) -> None:
    result = spawn("module", "--config", evil, "check", env=cli_env)

    block = result.out.split("\n\n")[1]
    assert block.startswith(f"evil{ESCAPED}name: RuntimeError: boom {ESCAPED} done"), block
    assert result.code == 1


def test_connect_escapes_the_driver_and_name_lines(evil: Path, cli_env: dict[str, str]) -> None:
    result = spawn(
        "module", "--config", evil, "connect", EVIL_NAME, "--name", "n" + HOSTILE, env=cli_env
    )

    lines = result.out.splitlines()
    assert lines[0] == f"driver:  evil{ESCAPED}name (odibi-evil 1.0.0)"
    assert lines[1] == f"name:    n{ESCAPED}"
    assert lines[3].startswith(f"result:  failed: driver 'evil{ESCAPED}name' failed to load")
    assert f"RuntimeError: boom {ESCAPED} done" in lines[3]
    assert result.code == 1


@pytest.mark.parametrize("argv", [["list", "--load"], ["check"], ["show", EVIL_NAME, "--load"]])
def test_json_carries_the_text_as_it_is_and_escapes_it_as_json(
    evil: Path, cli_env: dict[str, str], argv: list[str]
) -> None:
    result = spawn("module", "--config", evil, *argv, "--format", "json", env=cli_env)

    assert "\x1b" not in result.out  # JSON escapes it: \u001b
    data = result.json()
    drivers = data if isinstance(data, list) else data.get("drivers", [data])
    [driver] = [d for d in drivers if d["status"] != "disabled"]  # Odibi's built-ins: disabled
    assert driver["name"] == EVIL_NAME
    assert HOSTILE in driver["error"]


NAMES_WITH_CONTROLS = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from("\x1b\x07\x9b\r\n\t\x00\x7f\u202e\u2028"),
    ),
    max_size=40,
)


@BOUNDED
@given(name=NAMES_WITH_CONTROLS, error=NAMES_WITH_CONTROLS, target=NAMES_WITH_CONTROLS)
def test_rendered_output_never_holds_a_control_character(
    name: str, error: str, target: str
) -> None:
    candidate = Candidate(name, target, "odibi-" + name, "1.0", "/x/" + name, True, error)
    info = DriverInfo(
        name=name,
        target=target,
        distribution="odibi-" + name,
        version="1.0",
        origin="entry_point",
        status="failed",
        load_ms=None,
        error="RuntimeError: " + error,
        reason=error or None,
        candidates=(candidate,),
        signature=name,
        doc=error,
        module_file="/x/" + name,
    )
    texts = [
        render.table(render.LOADED_COLUMNS, render.driver_rows([info], loaded=True)),
        render.detail(info),
        render.problems([info]),
        render.escape(name),
    ]
    for text in texts:
        assert no_control_characters(text), repr(text)
    assert all(c.isprintable() or c in "\n\t" for c in render.escape(error, lines=True))
    assert "\n" not in render.escape(name)
    assert render.escape(name) == name or not name.isprintable()


# -- encodings --------------------------------------------------------------------------------

NON_ASCII_NAME = "añy-驱动-💥"


@pytest.fixture
def non_ascii(site: FakeSite, tmp_path: Path) -> Path:
    return only_driver(site, tmp_path, "odibi-non-ascii", NON_ASCII_NAME, GOOD_FACTORY)


ASCII = {"PYTHONIOENCODING": "ascii"}
LATIN_1 = {"PYTHONIOENCODING": "latin-1"}
#: A C locale with both of Python's UTF-8 rescues switched off: stdout is ASCII.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}


@pytest.mark.parametrize(
    ("environment", "argv"),
    [
        *((ASCII, argv) for argv in (["list"], ["list", "--load"], ["check"], ["show"])),
        *((LATIN_1, argv) for argv in (["list", "--load"], ["show"])),
        *((C_LOCALE, argv) for argv in (["list"], ["list", "--load"], ["check"])),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, list) else "/".join(value.values()),
)
def test_a_terminal_that_cannot_encode_a_name_gets_it_escaped(
    non_ascii: Path,
    cli_env: dict[str, str],
    environment: Mapping[str, str],
    argv: list[str],
) -> None:
    if argv == ["show"]:
        argv = ["show", NON_ASCII_NAME, "--load"]
    env = {**cli_env, **environment}
    if environment is C_LOCALE:
        env.pop("PYTHONIOENCODING", None)

    done = subprocess.run(
        [sys.executable, "-m", "odibi_ext", "--config", str(non_ascii), *argv],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    out = done.stdout.decode("latin-1")
    assert "\\U0001f4a5" in out  # the character no such terminal has, as an escape
    assert "\\u9a71\\u52a8" in out
    assert "loaded" in out or "available" in out


ENCODINGS = st.sampled_from(
    ["ascii", "latin-1", "cp1252", "cp437", "koi8-r", "shift_jis", "utf-8", "utf-16"]
)


@BOUNDED
@given(encoding=ENCODINGS, errors=st.sampled_from(["strict", "surrogateescape"]))
def test_every_command_degrades_on_any_encoding(
    non_ascii: Path, encoding: str, errors: str
) -> None:
    shown = NON_ASCII_NAME.encode(encoding, "backslashreplace").decode(encoding)
    for argv in (["list"], ["list", "--load", "--format", "json"], ["check"]):
        stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors)
        with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(io.StringIO()):
            code = main(["--config", str(non_ascii), *argv])
        stream.flush()
        assert code == 0, (encoding, argv)
        assert stream.errors == errors  # put back as it was
        text = stream.buffer.getvalue().decode(encoding)  # type: ignore[attr-defined]
        if "json" in argv:
            plugins = [d["name"] for d in json.loads(text) if d["status"] != "disabled"]
            assert plugins == [NON_ASCII_NAME]
        else:
            assert shown in text


# -- closed or full stdout --------------------------------------------------------------------


def run_into(stdout: int | io.BufferedWriter, *argv: str | Path, env: Mapping[str, str]) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "odibi_ext", *(os.fspath(a) for a in argv)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=dict(env),
        timeout=60,
        check=False,
    )
    return Result(done.returncode, "", done.stderr.decode("utf-8", "replace"))


COMMANDS = [["--version"], ["list"], ["list", "--format", "json"], ["check"], ["--help"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_closed_pipe_ends_the_command_quietly_with_141(
    evil: Path, cli_env: dict[str, str], argv: list[str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written (`| true`)
    try:
        result = run_into(write_end, "--config", evil, *argv, env=cli_env)
    finally:
        os.close(write_end)

    assert "Traceback" not in result.err, result.err
    assert "Exception ignored" not in result.err
    if argv != ["--help"]:  # argparse swallows a failure to write its help
        assert result.code == 141


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_full_disk_is_one_line_and_exit_1(
    evil: Path, cli_env: dict[str, str], argv: list[str]
) -> None:
    with open("/dev/full", "wb") as full:
        result = run_into(full, "--config", evil, *argv, env=cli_env)

    assert "Traceback" not in result.err, result.err
    assert "Exception ignored" not in result.err
    if argv != ["--help"]:
        assert result.code == 1
        assert "odibi-ext: error: cannot write to standard output: No space left on device" in (
            result.err
        )


# -- JSON: valid, errors included -------------------------------------------------------------


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["show", "clitest-goood", "--format", "json"], 1, "did you mean 'clitest-good'?"),
        (["--format", "json", "show", "clitest-goood"], 1, "did you mean 'clitest-good'?"),
        (["connect", "clitest-good", "--set", "oops", "--format", "json"], 2, "malformed --set"),
        (["--config", "/nonexistent.toml", "list", "--format", "json"], 2, "does not exist"),
        (["connect", "clitest-good", "--config-file", "/", "--format", "json"], 2, "directory"),
        (["list", "--format", "json", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["lst", "--format=json"], 2, "invalid choice: 'lst'"),
    ],
    ids=[
        "show-unknown",
        "global-format",
        "bad-set",
        "missing-policy",
        "config-file-dir",
        "unknown-option",
        "unknown-command",
    ],
)
def test_a_json_command_answers_an_error_with_a_json_object(
    site: FakeSite, cli_env: dict[str, str], argv: list[str], code: int, words: str
) -> None:
    plugin(site, "clitest-good")

    result = spawn("module", *argv, env=cli_env)

    assert result.code == code
    answer = strict_json(result.out)
    assert answer["ok"] is False
    assert words in answer["error"]
    assert words in result.err  # and the line on stderr, as in table format


NUMBER_TEXTS = st.one_of(
    st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "0"]),
    st.floats().map(repr),
    st.floats().map(json.dumps),
    st.integers().map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-9, 9), st.integers(-400, 400)),
)


@BOUNDED
@given(text=NUMBER_TEXTS)
def test_any_number_given_to_set_gives_valid_json_or_a_usage_error(
    site: FakeSite, text: str
) -> None:
    if "clitest_number" not in {p.stem for p in site.root.glob("*.py")}:
        plugin(site, "clitest-number")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["connect", "clitest-number", "--set", f"timeout={text}", "--format", "json"])

    answer = strict_json(out.getvalue())
    if code == 2:
        assert "--set timeout=" in answer["error"]
        assert "too large" in answer["error"]
    else:
        assert code == 0, err.getvalue()
        timeout = answer["config"]["timeout"]
        assert timeout == text or timeout == json.loads(text)


def test_set_nan_stays_text_and_1e999_is_a_usage_error(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin(site, "clitest-good")

    nan = run(capsys, "connect", "clitest-good", "--set", "timeout=NaN", "--format", "json")
    huge = run(capsys, "connect", "clitest-good", "--set", "timeout=1e999")

    assert strict_json(nan.out)["config"]["timeout"] == "NaN"
    assert nan.code == 0
    assert huge.code == 2
    assert "--set timeout=1e999: the number is too large for a float" in huge.err


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_nan_and_infinity_from_a_toml_config_file_print_as_text(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    plugin(site, "clitest-good")
    config = tmp_path / "c.toml"
    config.write_text("timeout = nan\nlimit = -inf\n", encoding="utf-8")

    result = run(capsys, "connect", "clitest-good", "--config-file", config, "--format", fmt)

    assert result.code == 0
    if fmt == "json":
        assert strict_json(result.out)["config"] == {"timeout": "nan", "limit": "-inf"}
    else:
        shown = result.out.splitlines()[2].removeprefix("config:  ")
        assert strict_json(shown) == {"limit": "-inf", "timeout": "nan"}


# -- connect: close() never hides validate() --------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_failing_close_does_not_hide_the_validate_error(
    site: FakeSite, cli_env: dict[str, str], fmt: str
) -> None:
    plugin(site, "clitest-close", CLOSE_FAILS)

    failed = spawn(
        "module", "connect", "clitest-close", "--set", "fail=bad", "--format", fmt, env=cli_env
    )
    closed = spawn("module", "connect", "clitest-close", "--format", fmt, env=cli_env)

    assert failed.code == closed.code == 1
    if fmt == "json":
        assert failed.json()["error"] == "ValueError: the real problem: bad"  # type: ignore[index]
        assert closed.json()["error"] == "RuntimeError: close broke too"  # type: ignore[index]
    else:
        assert "result:  failed: ValueError: the real problem: bad" in failed.out
        assert "close broke" not in failed.out
        assert "result:  failed: RuntimeError: close broke too" in closed.out


# -- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["", "list", "show", "check", "connect"])
def test_help_fits_the_terminal_width(cli_env: dict[str, str], command: str) -> None:
    result = spawn("module", *command.split(), "--help", env={**cli_env, "COLUMNS": "80"})

    assert result.code == 0
    long_lines = [line for line in result.out.splitlines() if len(line) > 80]
    assert long_lines == []
    assert "  odibi-ext" in result.out  # the example, kept as written
