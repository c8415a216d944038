"""Reading the small text files an operator hands over: policy files and connection configs.

A path can name anything: a directory, ``/dev/zero``, ``/dev/urandom``, a FIFO
nobody writes to, a file of many megabytes. Only regular files are read, and
at most :data:`MAX_BYTES` of them, so a wrong path is a clear error, never a
hang or an exhausted memory.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import Any
from typing import Final

#: The most a policy or config file may hold; real ones are a few hundred bytes.
MAX_BYTES: Final = 1024 * 1024

_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_text(path: str, *, what: str, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` (a leading byte-order mark is dropped).

    Raises :class:`ValueError` naming ``what`` (``"policy file"``) and the path
    when the file does not exist, cannot be read, is not a regular file, holds
    more than ``limit`` bytes or is not UTF-8.
    """
    where = f"{what} {path}"
    # Non-blocking, so that opening a FIFO returns at once; fstat then refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ValueError(f"{where} does not exist") from None
    except OSError as exc:
        raise ValueError(f"{where} cannot be read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise ValueError(f"{where} is {kind}, not a regular file: give the path of a file")
    with os.fdopen(fd, "rb") as file:
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise ValueError(f"{where} cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ValueError(
            f"{where} is larger than {limit // 1024} KiB, the most read from such a file: "
            f"is it the right file?"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{where} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
            f"(offset {exc.start}); save it as UTF-8"
        ) from None


def read_config(path: str) -> dict[str, Any]:
    """The connection config mapping in the TOML or JSON file ``path``.

    ``.toml`` is TOML and ``.json`` JSON; any other name is read as JSON when
    its text starts with ``{``, else as TOML. A UTF-8 byte-order mark is fine.
    Raises :class:`ValueError` naming the path when the file cannot be read
    (as :func:`read_text`), does not parse (saying where), or holds anything
    but a mapping.
    """
    text = read_text(path, what="config file")
    lowered = path.lower()
    if lowered.endswith((".toml", ".json")):
        kind, guessed = ("TOML" if lowered.endswith(".toml") else "JSON"), ""
    else:
        kind = "JSON" if text.lstrip().startswith("{") else "TOML"
        guessed = f" (read as {kind}: name it .toml or .json to choose)"
    try:
        config = _parse(text, kind)
    except RecursionError:
        raise ValueError(f"config file {path} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError say where
        raise ValueError(f"config file {path} is not valid {kind}{guessed}: {exc}") from None
    if not isinstance(config, dict):
        raise ValueError(
            f"config file {path} must hold a JSON object (KEY: VALUE pairs), not "
            f"{_json_type(config)}"
        )
    return config


def _parse(text: str, kind: str) -> Any:
    if kind == "JSON":
        import json

        return json.loads(text)
    return parse_toml(text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def parse_toml(text: str) -> dict[str, Any]:
    """The TOML document ``text`` as a dict: ``tomllib`` from Python 3.11, ``tomli`` before.

    Raises :class:`ValueError` (``TOMLDecodeError``) when ``text`` is not TOML.
    """
    if sys.version_info >= (3, 11):
        import tomllib  # loaded on first use: only policy and TOML config files need it
    else:
        import tomli as tomllib

    return tomllib.loads(text)
