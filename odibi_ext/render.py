"""Turning driver information into text for people: fixed-width tables and detail views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from odibi_ext.errors import describe_provider
from odibi_ext.info import DriverInfo

#: Tables fit this many columns; longer cells are cut with an ellipsis.
WIDTH: Final = 100
ELLIPSIS: Final = "…"
_GAP: Final = "  "

LIST_COLUMNS: Final = ("NAME", "STATUS", "DISTRIBUTION", "VERSION", "TARGET")
LOADED_COLUMNS: Final = (*LIST_COLUMNS, "LOAD MS", "ERROR")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = WIDTH) -> str:
    """A left-aligned table no wider than ``width``; the widest columns give way first."""
    widths = [len(header) for header in headers]
    for row in rows:
        for column, cell in enumerate(row):
            widths[column] = max(widths[column], len(cell))
    floor = [max(len(header), 4) for header in headers]
    budget = width - len(_GAP) * (len(headers) - 1)
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=lambda c: widths[c] - floor[c])
        if widths[widest] <= floor[widest]:
            break
        widths[widest] -= 1
    lines = [_line(headers, widths)]
    lines.extend(_line(row, widths) for row in rows)
    return "\n".join(lines)


def driver_rows(infos: Sequence[DriverInfo], *, loaded: bool) -> list[list[str]]:
    """Rows for ``list`` (and, with ``loaded``, for ``list --load`` and ``check``)."""
    rows = []
    for info in infos:
        row = [info.name, info.status, info.distribution or "-", info.version or "-", info.target]
        if loaded:
            load_ms = f"{info.load_ms:.1f}" if info.load_ms is not None else "-"
            row += [load_ms, first_line(info.error) or "-"]
        rows.append(row)
    return rows


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
    """Everything known about one driver, one field a line (``odibi-ext show``)."""
    fields: list[tuple[str, str | None]] = [
        ("name", info.name),
        ("status", info.status),
        ("origin", info.origin),
        (
            "distribution",
            describe_provider(info.distribution, info.version) if info.distribution else None,
        ),
        ("target", info.target),
        ("module file", info.module_file),
        ("load time", f"{info.load_ms:.1f} ms" if info.load_ms is not None else None),
        ("signature", info.signature),
        ("doc", info.doc),
        ("error", info.error),
        ("reason", info.reason),
    ]
    shown = [(label, value) for label, value in fields if value]
    pad = max(len(label) for label, _ in shown) + 2
    lines = [f"{label + ':':<{pad}}{value}" for label, value in shown]
    if info.candidates:
        lines.append("candidates:")
        for candidate in info.candidates:
            mark = "*" if candidate.selected else "-"
            provider = describe_provider(candidate.distribution, candidate.version)
            where = f" in {candidate.location}" if candidate.location else ""
            verdict = "selected" if candidate.selected else "excluded"
            reason = f": {candidate.reason}" if candidate.reason else ""
            lines.append(f"  {mark} {provider} ({candidate.target}){where}")
            lines.append(f"      {verdict}{reason}")
    return "\n".join(lines)


def first_line(text: str | None) -> str | None:
    """The first line of ``text``."""
    return text.strip().splitlines()[0] if text and text.strip() else None


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return _GAP.join(_fit(cell, width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _fit(cell: str, width: int) -> str:
    if len(cell) > width:
        return cell[: width - 1] + ELLIPSIS
    return cell.ljust(width)
