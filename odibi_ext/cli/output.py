"""Where the command writes: standard output for the answer, standard error for the rest.

Standard output holds the answer (the table, or the JSON a script parses) and
nothing else: what plugins print while a command runs goes to stderr, a
character stdout's encoding cannot hold is escaped, and a reader that goes
away (``odibi-ext list | head``) ends the command quietly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import sys
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import TextIO

from odibi_ext import render
from odibi_ext.redaction import mask_text
from odibi_ext.redaction import redact_text

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo

PROG: Final = "odibi-ext"


class OutputError(Exception):
    """Standard output cannot be written (a closed pipe, a full disk)."""


class Output:
    """Standard output whose write failures become :class:`OutputError`.

    Tells a failing stdout apart from every other ``OSError`` a command may
    meet, and catches the failure of the final flush, which would otherwise
    surface as a traceback while the interpreter exits.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc


def discard_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (captured, replaced): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def tolerate_unencodable_output() -> Callable[[], None]:
    """Let stdout print what its encoding cannot (``PYTHONIOENCODING=ascii``, the C locale).

    Such characters are written as backslash escapes instead of failing the
    command. Returns the function that puts the stream back as it was.
    """
    stream = sys.stdout
    errors = getattr(stream, "errors", None)
    if not isinstance(stream, io.TextIOWrapper) or errors not in ("strict", "surrogateescape"):
        return lambda: None
    stream.reconfigure(errors="backslashreplace")
    return lambda: stream.reconfigure(errors=errors)


@contextlib.contextmanager
def plugin_output_to_stderr() -> Iterator[None]:
    """Send what is printed meanwhile, by ``print`` or straight to file descriptor 1, to stderr."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    try:
        saved: int | None = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptor 1 or 2 (a closed stream): Python-level redirection only
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 1)
            os.close(saved)


# -- the answer ------------------------------------------------------------------------------


def dump(data: Any, out: TextIO) -> None:
    """Write ``data`` as indented JSON, the ``--format json`` answer."""
    out.write(json_text(data, indent=2) + "\n")


def json_text(data: Any, **options: Any) -> str:
    """Valid JSON, always: a NaN or infinity (TOML has them) is written as text, e.g. "nan"."""
    try:
        return json.dumps(data, allow_nan=False, default=str, **options)
    except ValueError:
        return json.dumps(_finite(data), allow_nan=False, default=str, **options)


def _finite(data: Any) -> Any:
    import math

    if isinstance(data, float) and not math.isfinite(data):
        return repr(data)
    if isinstance(data, Mapping):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(item) for item in data]
    return data


def for_output(infos: Sequence[DriverInfo]) -> list[DriverInfo]:
    """Driver information fit to print: credentials in plugins' messages masked by shape."""
    return [
        dataclasses.replace(
            info,
            error=redact_text(info.error) if info.error else None,
            reason=redact_text(info.reason) if info.reason else None,
        )
        for info in infos
    ]


def print_problems(infos: Sequence[DriverInfo], out: TextIO) -> None:
    """The failures and conflicts among ``infos``, each with its reason, below a table."""
    text = render.problems(infos)
    if text:
        print(f"\n{text}\n", file=out)


# -- the rest --------------------------------------------------------------------------------


def error(message: str) -> None:
    """``odibi-ext: error: MESSAGE`` on stderr, terminal escapes defused."""
    print(f"{PROG}: error: {render.escape(message, lines=True)}", file=sys.stderr)


def fail(message: str, code: int, fmt: str, out: TextIO) -> int:
    """Report an error on stderr and, for ``--format json``, as a JSON object on stdout."""
    error(message)
    if fmt == "json":
        dump({"ok": False, "error": message}, out)
    return code


def print_traceback(secrets: set[str]) -> None:
    """The traceback being handled, on stderr, with every known secret value masked."""
    sys.stderr.write(mask_text(traceback.format_exc(), secrets))
