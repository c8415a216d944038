"""Policy files (``--config``) and config files (``connect --config-file``) of every kind.

A path can name a directory, a device that never ends (``/dev/zero``,
``/dev/urandom``), a FIFO nobody writes to, a huge file, a file with a
byte-order mark or in the wrong format. Each gets one clear line naming the
file, exit 2, and no hang; the right parser is chosen by the extension and its
own error (with the line) is reported.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeSite
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from test_cli import RECORDING_FACTORY
from test_cli import plugin
from test_cli import run
from test_cli import spawn

from odibi_ext import Policy
from odibi_ext.cli import main
from odibi_ext.textfile import MAX_BYTES

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fifo(directory: Path) -> Path:
    path = directory / "pipe.toml"
    if not path.exists():
        os.mkfifo(path)
    return path


def huge(directory: Path) -> Path:
    path = directory / "huge.toml"
    with open(path, "wb") as file:
        file.truncate(MAX_BYTES * 50)  # sparse: 50 MiB of NULs, cheap to make
    return path


#: Paths that are no regular file, with the words the error must hold.
SPECIAL: dict[str, tuple[Callable[[Path], Path], str]] = {
    "directory": (lambda d: d, "is a directory, not a regular file"),
    "fifo": (fifo, "is a FIFO (named pipe), not a regular file"),
    "dev-zero": (lambda d: Path("/dev/zero"), "is a character device, not a regular file"),
    "dev-urandom": (lambda d: Path("/dev/urandom"), "is a character device, not a regular file"),
    "huge": (huge, "is larger than 1024 KiB"),
    "missing": (lambda d: d / "missing.toml", "does not exist"),
}


@pytest.mark.parametrize("kind", sorted(SPECIAL))
def test_a_policy_path_that_is_no_small_regular_file_is_one_line_and_exit_2(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, kind: str
) -> None:
    make, words = SPECIAL[kind]
    path = make(tmp_path)

    result = spawn("module", "--config", path, "list", env=cli_env, timeout=30)

    assert result.code == 2
    assert result.err.startswith(f"odibi-ext: error: policy file {path} {words}")
    assert result.err.count("\n") == 1
    assert words in result.err
    assert "Traceback" not in result.err
    assert result.out == ""


@pytest.mark.parametrize("kind", sorted(SPECIAL))
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_config_file_that_is_no_small_regular_file_is_one_line_and_exit_2(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, kind: str, fmt: str
) -> None:
    plugin(site, "clitest-good")
    make, words = SPECIAL[kind]
    path = make(tmp_path)

    result = spawn(
        "module",
        "connect",
        "clitest-good",
        "--config-file",
        path,
        "--format",
        fmt,
        env=cli_env,
        timeout=30,
    )

    assert result.code == 2
    assert f"config file {path} {words}" in result.err
    assert "Traceback" not in result.err
    if fmt == "json":
        assert words in result.json()["error"]  # type: ignore[index]
    else:
        assert result.out == ""


@pytest.mark.parametrize("suffix", [".toml", ".conf"])
def test_a_policy_file_with_a_utf8_byte_order_mark_is_read(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"policy{suffix}"
    path.write_bytes(b'\xef\xbb\xbf[odibi_ext]\ndisabled = ["legacy"]\n')

    assert Policy.from_file(path).disabled == frozenset({"legacy"})


@pytest.mark.parametrize("suffix", [".toml", ".json", ".conf"])
def test_a_config_file_with_a_utf8_byte_order_mark_is_read(
    site: FakeSite, capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    record = tmp_path / "record.json"
    plugin(site, "clitest-rec", RECORDING_FACTORY)
    path = tmp_path / f"config{suffix}"
    if suffix == ".toml":
        body = f"record = {json.dumps(str(record))}\nn = 1\n"
    else:
        body = json.dumps({"record": str(record), "n": 1})
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())

    result = run(capsys, "connect", "clitest-rec", "--config-file", path)

    assert result.code == 0, result.err
    assert json.loads(record.read_text())["config"] == {"record": str(record), "n": 1}


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("c.toml", "path = \n", "is not valid TOML: Invalid value (at line 1, column 8)"),
        ("c.toml", '{"path": "x"}', "is not valid TOML"),
        ("c.json", '{"path": }', "is not valid JSON: Expecting value: line 1 column 10"),
        ("c.json", "path = 'x'", "is not valid JSON"),
        ("c.conf", '{"path": ', "is not valid JSON (read as JSON: name it .toml or .json"),
        ("c.conf", "path = = 1", "is not valid TOML (read as TOML: name it .toml or .json"),
        ("c.json", "[1, 2]", "must hold a JSON object (KEY: VALUE pairs), not an array"),
        ("c.json", "null", "not null"),
        ("c.toml", "\xff", "is not UTF-8 text"),
    ],
)
def test_the_parser_follows_the_extension_and_says_what_failed_where(
    site: FakeSite,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    content: str,
    words: str,
) -> None:
    plugin(site, "clitest-good")
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1") if "\xff" in content else content.encode())

    result = run(capsys, "connect", "clitest-good", "--config-file", path)

    assert result.code == 2
    assert f"config file {path}" in result.err
    assert words in result.err
    assert "neither" not in result.err  # only the parser that was tried speaks
    if name.endswith(".toml"):
        assert "JSON" not in result.err.replace("JSON object", "")
    if name.endswith(".json"):
        assert "TOML" not in result.err


FILE_KINDS = st.sampled_from(sorted(SPECIAL))
CONTENTS = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.builds(
        lambda key, value: f"[odibi_ext]\n{key} = {value}\n".encode(),
        st.sampled_from(["disabled", "allowed_distributions", "on_conflict", "pins", "other"]),
        st.sampled_from(["[]", '["a"]', "[1]", "1", "1.5", "true", "2024-01-01", '"x"', "{}"]),
    ),
)


@BOUNDED
@given(kind=st.one_of(FILE_KINDS, st.just("regular")), content=CONTENTS, bom=st.booleans())
def test_any_file_is_read_or_refused_with_a_line_naming_it(
    tmp_path: Path, kind: str, content: bytes, bom: bool
) -> None:
    if kind == "regular":
        path = tmp_path / "any.toml"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content)
    else:
        path = SPECIAL[kind][0](tmp_path)
    for argv in (
        ["--config", str(path), "list", "--format", "json"],
        ["connect", "none-such", "--config-file", str(path), "--format", "json"],
    ):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        answer = json.loads(out.getvalue())
        if code == 2:
            assert err.getvalue().startswith("odibi-ext: error: ")
            assert str(path) in err.getvalue()
            assert err.getvalue().count("\n") == 1
            assert "Traceback" not in err.getvalue()
            assert str(path) in answer["error"]
            assert " a int" not in answer["error"]
        else:
            assert kind == "regular"
            assert code in (0, 1)  # listed, or connect's unknown driver
