"""The Odibi versions odibi-ext supports, and the installed one's version.

The supported range lives here alone: :data:`SUPPORTED` for messages,
``_LOWEST``/``_BEYOND`` for the check in :func:`supported_version`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Final

from odibi_ext.discovery import HOST_DISTRIBUTION
from odibi_ext.discovery import header
from odibi_ext.errors import OdibiExtError

if TYPE_CHECKING:
    import importlib.metadata

#: The Odibi versions whose plugin seams this module knows (``odibi/plugins.py``
#: is the same from 2.4.0 to 3.15.1; the modules binding it are checked too).
SUPPORTED: Final = ">=2.4, <4"
_LOWEST: Final = (2, 4)
_BEYOND: Final = (4,)


def supported_version() -> str:
    """The installed Odibi's version; raises :class:`~odibi_ext.OdibiExtError` when it is
    missing or outside :data:`SUPPORTED`."""
    import importlib.metadata

    try:
        version = version_of(importlib.metadata.distribution(HOST_DISTRIBUTION))
    except importlib.metadata.PackageNotFoundError:
        raise OdibiExtError(
            f"Odibi is not installed, so odibi-ext cannot take charge of its connection "
            f"plugins: pip install 'odibi-ext[odibi]' (supported: odibi {SUPPORTED})"
        ) from None
    release = release_of(version)
    if release is None or not _LOWEST <= release < _BEYOND:
        raise OdibiExtError(
            f"odibi {version} is installed, but odibi-ext supports odibi {SUPPORTED}: "
            f"install a supported Odibi (pip install 'odibi-ext[odibi]') or an odibi-ext "
            f"that supports odibi {version}"
        )
    return version


def version_of(dist: importlib.metadata.Distribution) -> str:
    """The ``Version`` header of a distribution's metadata.

    Read from the headers only: ``Distribution.version`` runs the email parser
    over the whole file (Odibi's is 400 lines), about 10 ms of every
    ``odibi-ext odibi`` start-up.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line:  # the end of the headers
            break
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() == "version":
            return value.strip()
    return header(dist.metadata, "Version") or "(no version in its metadata)"


def release_of(version: str) -> tuple[int, ...] | None:
    """Up to three leading release numbers of ``version``; None when it starts with none."""
    numbers = []
    for part in version.split(".")[:3]:
        digits = ""
        for character in part:
            if not character.isdigit():
                break
            digits += character
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers) or None
