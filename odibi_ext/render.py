"""Turning driver information into text for people: fixed-width tables and detail views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Final

from odibi_ext.errors import describe_provider
from odibi_ext.resolution import describe_candidate

if TYPE_CHECKING:  # a dataclass: imported by the commands that build one
    from odibi_ext.info import DriverInfo

#: Tables fit this many columns; longer cells are cut with an ellipsis.
WIDTH: Final = 100
ELLIPSIS: Final = "…"
_GAP: Final = "  "

LIST_COLUMNS: Final = ("NAME", "STATUS", "DISTRIBUTION", "VERSION", "TARGET")
LOADED_COLUMNS: Final = (*LIST_COLUMNS, "LOAD MS", "ERROR")


#: Columns that give way first when a table is too wide, with the width each
#: keeps as long as others can still give way.
_COMFORT: Final = {"TARGET": 24, "DISTRIBUTION": 18, "ERROR": 20}
#: The column that gives way last: a cut name is ambiguous.
_KEY: Final = "NAME"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = WIDTH) -> str:
    """A left-aligned table no wider than ``width``.

    Columns listed in ``_COMFORT`` shrink first, down to their comfortable
    width; then every column but NAME shrinks, widest first, down to its
    header; NAME shrinks only when nothing else can.
    """
    widths = [len(header) for header in headers]
    for row in rows:
        for column, cell in enumerate(row):
            widths[column] = max(widths[column], len(cell))
    budget = width - len(_GAP) * (len(headers) - 1)
    unlimited = 10**6
    for floors in (
        [max(len(h), _COMFORT.get(h, unlimited)) for h in headers],
        [unlimited if h == _KEY else max(len(h), 4) for h in headers],
        [max(len(h), 4) for h in headers],
    ):
        while sum(widths) > budget:
            widest = max(range(len(widths)), key=lambda c: widths[c] - floors[c])
            if widths[widest] <= floors[widest]:
                break
            widths[widest] -= 1
    lines = [_line(headers, widths)]
    lines.extend(_line(row, widths) for row in rows)
    return "\n".join(lines)


def driver_rows(infos: Sequence[DriverInfo], *, loaded: bool) -> list[list[str]]:
    """Rows for ``list`` (and, with ``loaded``, for ``list --load`` and ``check``)."""
    rows = []
    for info in infos:
        if info.status == "conflict":  # one row cannot name them all; problems() does
            row = [info.name, info.status, f"({len(info.candidates)} candidates)", "-", "-"]
        else:
            row = [info.name, info.status, info.distribution or "-", info.version or "-"]
            row.append(info.target)
        if loaded:
            load_ms = f"{info.load_ms:.1f}" if info.load_ms is not None else "-"
            row += [load_ms, first_line(info.error) or "-"]
        rows.append(row)
    return rows


def problems(infos: Sequence[DriverInfo]) -> str:
    """Every failed or conflicting driver's error in full, and what to do about it."""
    blocks = []
    for info in infos:
        if info.status not in ("failed", "conflict") or not info.error:
            continue
        lines = _wrap(
            escape(info.name) + ": " + escape(info.error, lines=True), indent="    ", cut=True
        )
        if info.reason and info.reason not in info.error:
            lines += _wrap(escape(info.reason, lines=True), indent="    ", first="    ", cut=True)
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def summary(infos: Sequence[DriverInfo]) -> str:
    """``12 drivers: 10 loaded, 1 failed, 1 conflicting``."""
    counts = {
        label: sum(1 for info in infos if info.status == status)
        for status, label in (
            ("loaded", "loaded"),
            ("failed", "failed"),
            ("conflict", "conflicting"),
            ("disabled", "disabled"),
            ("available", "not loaded"),
        )
    }
    always = ("loaded", "failed", "conflicting")
    parts = [f"{n} {label}" for label, n in counts.items() if n or label in always]
    noun = "driver" if len(infos) == 1 else "drivers"
    return f"{len(infos)} {noun}: {', '.join(parts)}"


def detail(info: DriverInfo) -> str:
    """Everything known about one driver, one field a line (``odibi-ext show``).

    A driver several candidates compete for gets no single provenance: its
    candidates, each with why it was selected or excluded, say it all.
    """
    single = sum(c.selected for c in info.candidates) == 1 or len(info.candidates) <= 1
    provider = describe_provider(info.distribution, info.version) if info.distribution else None
    fields: list[tuple[str, str | None]] = [
        ("name", info.name),
        ("status", info.status),
        ("origin", info.origin),
        ("distribution", provider if single else None),
        ("target", info.target if single else None),
        ("module file", info.module_file if single else None),
        ("load time", f"{info.load_ms:.1f} ms" if info.load_ms is not None else None),
        ("signature", info.signature),
        ("doc", info.doc),
        ("error", info.error),
        ("reason", info.reason),
    ]
    prose = ("doc", "error", "reason")  # may hold line breaks, which wrapping turns into spaces
    shown = [(label, escape(value, lines=label in prose)) for label, value in fields if value]
    pad = max(len(label) for label, _ in shown) + 2
    lines = []
    for label, value in shown:
        lines += _wrap(f"{label + ':':<{pad}}{value}", indent=" " * pad)
    if info.candidates:
        lines.append("candidates:")
        for candidate in info.candidates:
            mark = "*" if candidate.selected else "-"
            where = f" in {candidate.location}" if candidate.location else ""
            verdict = "selected" if candidate.selected else "excluded"
            reason = f": {candidate.reason}" if candidate.reason else ""
            lines.append(escape(f"  {mark} {describe_candidate(candidate)}{where}"))
            lines += _wrap(escape(f"{verdict}{reason}"), indent="      ", first="      ")
    return "\n".join(lines)


def escape(text: str, *, lines: bool = False) -> str:
    """``text`` safe to print on a terminal: control and other non-printable characters escaped.

    Names, targets and error texts come from plugins; an ESC or OSC sequence
    among them must not move the cursor, recolour the terminal or retitle the
    window. With ``lines``, line breaks and tabs are kept (prose that is wrapped).
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or (lines and char in "\n\t") else repr(char)[1:-1]
        for char in text
    )


def first_line(text: str | None) -> str | None:
    """The first line of ``text``."""
    return text.strip().splitlines()[0] if text and text.strip() else None


def _wrap(text: str, *, indent: str, first: str = "", cut: bool = False) -> list[str]:
    """``text`` wrapped at :data:`WIDTH`; with ``cut``, even a long word is broken to fit."""
    import textwrap

    wrapped = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=cut,
    )
    return wrapped or [first]


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return _GAP.join(_fit(cell, width) for cell, width in zip(cells, widths)).rstrip()


def _fit(cell: str, width: int) -> str:
    cell = escape(cell)
    if len(cell) > width:
        return cell[: width - 1] + ELLIPSIS
    return cell.ljust(width)
