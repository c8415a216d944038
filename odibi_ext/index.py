"""An on-disk index of a namespace's entry points, checked with one ``stat`` per path entry.

Scanning the metadata of every installed distribution costs time in
proportion to how many are installed. The index keeps the answer of
:func:`odibi_ext.discovery.scan`, keyed by interpreter, namespace and
``sys.path``, with the modification time of every ``sys.path`` entry and of
every provider's ``entry_points.txt``. Installing or removing a distribution
changes its directory's modification time, so checking the index costs
O(len(sys.path)) ``stat`` calls and a stale index is never served.

Where it lives: ``$ODIBI_EXT_CACHE_DIR``, else ``$XDG_CACHE_HOME/odibi-ext``,
else ``~/.cache/odibi-ext``. ``ODIBI_EXT_NO_CACHE=1`` switches it off. A file
that is missing, corrupt, truncated, foreign (another user's, or writable by
others) or out of date is ignored and rebuilt; files are written to a private
temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from typing import Any
from typing import Final

from odibi_ext import discovery
from odibi_ext.discovery import Candidate
from odibi_ext.environment import CACHE_DIR_ENV
from odibi_ext.environment import NO_CACHE_ENV

LOG = logging.getLogger(__name__)

FORMAT: Final = 1

#: Directory timestamps move in kernel ticks, not nanoseconds: a directory
#: changed within this window of a scan could change again without its
#: timestamp moving, so such a scan is used but not written.
RACY_WINDOW_NS: Final = 2_000_000_000
#: Index files kept per cache directory (one per interpreter, namespace and
#: sys.path); the oldest are removed beyond this.
MAX_FILES: Final = 64

_FALSE_WORDS: Final = frozenset({"", "0", "false", "no", "off"})


def cache_dir() -> str | None:
    """The directory holding index files, or ``None`` when caching is off or has no home."""
    if os.environ.get(NO_CACHE_ENV, "").strip().lower() not in _FALSE_WORDS:
        return None
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, "odibi-ext")
    home = os.path.expanduser("~")
    if home == "~" or not os.path.isabs(home):
        return None
    return os.path.join(home, ".cache", "odibi-ext")


def candidates(namespace: str) -> list[Candidate]:
    """Every entry point of ``namespace`` with provenance, from the index when it is fresh.

    Same answer as ``discovery.scan(namespace)[0]``; imports no plugin.
    """
    directory = cache_dir()
    if directory is None or not _stampable():
        return discovery.scan(namespace)[0]
    entries = discovery.path_entries()
    filename = os.path.join(directory, f"{_key(namespace, entries)}.json")
    cached = _read(filename, namespace, entries)
    if cached is not None:
        return cached
    started = time.time_ns()
    stamps = _stamps(entries)
    found, metadata_files = discovery.scan(namespace)
    stamps += _stamps(metadata_files)
    if any(mtime >= started - RACY_WINDOW_NS for _, mtime in stamps):
        LOG.debug("index %s not written: a path entry changed in the last seconds", filename)
        return found
    payload = {
        "format": FORMAT,
        "namespace": namespace,
        "path": entries,
        "stamps": stamps,
        "candidates": [[c.name, c.target, c.distribution, c.version, c.location] for c in found],
    }
    _write(directory, filename, payload)
    return found


def _stampable() -> bool:
    # Distributions served by a custom finder on sys.meta_path are invisible
    # to our stamps; with one present, only a full scan is trustworthy.
    import importlib.machinery

    return not any(
        finder is not importlib.machinery.PathFinder and hasattr(finder, "find_distributions")
        for finder in sys.meta_path
    )


def _key(namespace: str, entries: list[str]) -> str:
    import hashlib

    identity = [FORMAT, namespace, sys.executable, sys.prefix, sys.version, entries]
    return hashlib.sha256(json.dumps(identity).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return -1


def _stamps(paths: list[str]) -> list[tuple[str, int]]:
    return [(path, _mtime(path)) for path in paths]


def _read(filename: str, namespace: str, entries: list[str]) -> list[Candidate] | None:
    try:
        with open(filename, "rb") as file:
            if not _trusted(os.fstat(file.fileno())):
                LOG.debug("index %s ignored: not ours, or writable by others", filename)
                return None
            data = json.loads(file.read())
        if data["format"] != FORMAT or data["namespace"] != namespace or data["path"] != entries:
            return None
        for path, mtime in data["stamps"]:
            if not isinstance(path, str) or _mtime(path) != mtime:
                LOG.debug("index %s is out of date: %s changed", filename, path)
                return None
        return [_candidate(row) for row in data["candidates"]]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        LOG.debug("index %s ignored: %s", filename, exc)
        return None


def _trusted(status: os.stat_result) -> bool:
    # The index decides which module gets imported: trust only our own files.
    if os.name != "posix":
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _candidate(row: Any) -> Candidate:
    if not isinstance(row, list) or len(row) != 5:
        raise TypeError(f"bad candidate row {row!r}")
    name, target, distribution, version, location = row
    if not isinstance(name, str) or not isinstance(target, str):
        raise TypeError(f"bad candidate row {row!r}")
    for optional in (distribution, version, location):
        if optional is not None and not isinstance(optional, str):
            raise TypeError(f"bad candidate row {row!r}")
    return Candidate(name, target, distribution, version, location)


def _write(directory: str, filename: str, payload: dict[str, Any]) -> None:
    temporary = f"{filename}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8", errors="surrogatepass") as file:
            json.dump(payload, file)
        os.replace(temporary, filename)
    except (OSError, ValueError) as exc:
        LOG.debug("index %s not written: %s", filename, exc)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    LOG.debug("index %s written (%d entry points)", filename, len(payload["candidates"]))
    _prune(directory)


def _prune(directory: str) -> None:
    try:
        files = [(entry.stat().st_mtime_ns, entry.path) for entry in os.scandir(directory)]
    except OSError:
        return
    if len(files) <= MAX_FILES:
        return
    files.sort()
    for _, path in files[: len(files) - MAX_FILES // 2]:
        with contextlib.suppress(OSError):
            os.unlink(path)
