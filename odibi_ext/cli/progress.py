"""A progress line for long work, redrawn in place on a terminal's stderr.

Shown only when stderr is a terminal: a pipe, a file or a CI log gets
nothing, so what a script or a log reads is the same as without it. Only a
carriage return and spaces redraw it (no escape sequences), so a dumb
terminal shows it too; it is cleared before the command's answer is written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import TextIO

from odibi_ext import render

if TYPE_CHECKING:
    from odibi_ext.isolation import Progress


class _Line:
    """One line of stderr, drawn over again each time."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._width = 0  # of what is drawn now
        try:
            columns = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            columns = 0
        self._columns = columns or 80  # a terminal of unknown size (a fresh pty) says 0

    def draw(self, text: str) -> None:
        text = text[: max(1, self._columns - 1)]  # a wrapped line cannot be drawn over
        self._write("\r" + text.ljust(self._width))
        self._width = len(text)

    def clear(self) -> None:
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a terminal gone away: the work goes on, unseen
            pass


def describe(progress: Progress) -> str:
    """``checking drivers: 12 of 40 done, waiting for sqlite (3 s)``."""
    text = f"checking drivers: {progress.done} of {progress.total} done"
    if progress.waiting_for is not None:
        text += f", waiting for {render.escape(progress.waiting_for)}"
        if progress.waited_s:
            text += f" ({progress.waited_s} s)"
    return text


def on_a_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal a person watches."""
    try:
        return stream.isatty()
    except (OSError, ValueError):  # closed, or not a real file
        return False


@contextlib.contextmanager
def progress_line(stream: TextIO) -> Iterator[Callable[[Progress], None] | None]:
    """The callback that shows progress on ``stream``, or None when it is no terminal.

    The line is cleared on the way out, also on Ctrl-C or an error, so what is
    printed next starts on a clean line.
    """
    if not on_a_terminal(stream):
        yield None
        return
    line = _Line(stream)
    try:
        yield lambda progress: line.draw(describe(progress))
    finally:
        line.clear()
