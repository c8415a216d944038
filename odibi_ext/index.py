"""An on-disk index of a namespace's entry points, checked with one ``stat`` per path entry.

Scanning the metadata of every installed distribution costs time in
proportion to how many are installed. The index keeps the answer of
:func:`odibi_ext.discovery.scan`, keyed by interpreter, namespace and
``sys.path``, with the modification time of every ``sys.path`` entry and of
every provider's ``entry_points.txt``. Installing or removing a distribution
changes its directory's modification time, so checking the index costs
O(len(sys.path)) ``stat`` calls and a stale index is never served. A
directory whose time moved for another reason (files coming and going next to
a script) costs one listing of it, compared with a digest of its metadata
directories, instead of a full scan.

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
from odibi_ext.discovery import BrokenDistribution
from odibi_ext.discovery import Candidate
from odibi_ext.environment import CACHE_DIR_ENV
from odibi_ext.environment import NO_CACHE_ENV

LOG = logging.getLogger(__name__)

FORMAT: Final = 4

#: Directory timestamps move in kernel ticks, not nanoseconds: a directory
#: changed within this window of a scan could change again without its
#: timestamp moving, so such a scan is used but not written.
RACY_WINDOW_NS: Final = 2_000_000_000
#: Index files kept per cache directory (one per interpreter, namespace and
#: sys.path); the oldest are removed beyond this.
MAX_FILES: Final = 64

#: Directory names whose metadata ``importlib.metadata`` reads.
_METADATA_SUFFIXES: Final = (".dist-info", ".egg-info")

#: Index files are named ``odibi-ext-index-<32 hex digits>.json``: pruning
#: touches nothing else, since the directory may be shared.
_PREFIX: Final = "odibi-ext-index-"
_SUFFIX: Final = ".json"
_KEY_LENGTH: Final = 32

_FALSE_WORDS: Final = frozenset({"", "0", "false", "no", "off"})
#: ``$ODIBI_EXT_CACHE_DIR`` values as absolute paths, resolved on first use.
_ABSOLUTE_CACHE_DIRS: Final[dict[str, str]] = {}


def cache_dir() -> str | None:
    """The directory holding index files, or ``None`` when caching is off or has no home."""
    if os.environ.get(NO_CACHE_ENV, "").strip().lower() not in _FALSE_WORDS:
        return None
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        # A relative path is resolved once, against the working directory of the
        # first use: a later chdir must not move (and silently empty) the cache.
        absolute = _ABSOLUTE_CACHE_DIRS.get(explicit)
        if absolute is None:
            absolute = _ABSOLUTE_CACHE_DIRS.setdefault(explicit, os.path.abspath(explicit))
        return absolute
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return os.path.join(xdg, "odibi-ext")
    home = os.path.expanduser("~")
    if home == "~" or not os.path.isabs(home):
        return None
    return os.path.join(home, ".cache", "odibi-ext")


def candidates(namespace: str) -> list[Candidate]:
    """Every entry point of ``namespace`` with provenance, from the index when it is fresh.

    Same answer as ``discovery.scan(namespace).candidates``; imports no plugin.
    """
    return discover(namespace)[0]


def discover(namespace: str) -> tuple[list[Candidate], list[BrokenDistribution]]:
    """The candidates of ``namespace`` and the providers whose metadata cannot be read.

    From the index when it is fresh (a broken distribution is remembered
    there, so it is reported by every process, not only the one that
    scanned), else from :func:`odibi_ext.discovery.scan`. Imports no plugin.
    """
    directory = cache_dir()
    if directory is None or not _stampable():
        found = discovery.scan(namespace)
        return found.candidates, found.broken
    entries = discovery.path_entries()
    filename = os.path.join(directory, f"{_PREFIX}{_key(namespace, entries)}{_SUFFIX}")
    cached = _read(filename, namespace, entries)
    if cached is not None:
        found_candidates, broken, restamped = cached
        if restamped is not None:  # still right, but a directory's time moved: save a listing
            _save(
                filename, restamped, found_candidates, broken, namespace=namespace, entries=entries
            )
        return found_candidates, broken
    stamps = Stamps.take(entries)
    scanned = discovery.scan(namespace)
    stamps.add_files(scanned.metadata_files)
    _save(
        filename, stamps, scanned.candidates, scanned.broken, namespace=namespace, entries=entries
    )
    return scanned.candidates, scanned.broken


class Stamps:
    """What the index's answer depends on, cheap to check again.

    ``entries``: ``[path, mtime_ns, listing]`` for each ``sys.path`` entry,
    where ``listing`` digests the names and times of the metadata directories
    in it (``None`` for a zip file or a missing entry). ``files``:
    ``[path, mtime_ns]`` for each provider's ``entry_points.txt``, so that a
    file rewritten in place is noticed too.
    """

    __slots__ = ("entries", "files", "newest", "started")

    def __init__(self, entries: list[list[Any]], files: list[list[Any]]) -> None:
        self.entries = entries
        self.files = files
        self.started = time.time_ns()
        self.newest = max((mtime for _, mtime in files), default=-1)

    @classmethod
    def take(cls, paths: list[str]) -> Stamps:
        """Stamp ``paths`` now, before they are scanned: a change during the scan shows later."""
        stamps = cls([], [])
        for path in paths:
            mtime = _mtime(path)
            listing, newest = _listing(path)
            stamps.entries.append([path, mtime, listing])
            stamps.newest = max(stamps.newest, mtime, newest)
        return stamps

    def add_files(self, paths: list[str]) -> None:
        """Stamp the providers' ``entry_points.txt`` files."""
        for path in paths:
            mtime = _mtime(path)
            self.files.append([path, mtime])
            self.newest = max(self.newest, mtime)

    def racy(self) -> bool:
        """Whether something changed too recently for its timestamp to be trusted later."""
        return self.newest >= self.started - RACY_WINDOW_NS


def _save(
    filename: str,
    stamps: Stamps,
    found: list[Candidate],
    broken: list[BrokenDistribution],
    *,
    namespace: str,
    entries: list[str],
) -> None:
    if stamps.racy():
        LOG.debug("index %s not written: a path entry changed in the last seconds", filename)
        return
    payload = {
        "format": FORMAT,
        "namespace": namespace,
        "path": entries,
        "stamps": stamps.entries,
        "files": stamps.files,
        "candidates": [
            [c.name, c.target, c.distribution, c.version, c.location, c.origin] for c in found
        ],
        "broken": [list(b) for b in broken],
    }
    _write(filename, payload)


def _stampable() -> bool:
    # Distributions served by a custom finder on sys.meta_path are invisible
    # to our stamps; with one present, only a full scan is trustworthy.
    import importlib.machinery

    return not any(
        finder is not importlib.machinery.PathFinder
        and hasattr(finder, "find_distributions")
        and not _is_backport_path_finder(finder)
        for finder in sys.meta_path
    )


def _is_backport_path_finder(finder: object) -> bool:
    """Whether ``finder`` is importlib_metadata's twin of ``PathFinder``, reading ``sys.path``.

    Importing importlib_metadata (Odibi does on Python 3.9) puts it on
    ``sys.meta_path`` in place of ``PathFinder``'s distribution finding.
    """
    kind = type(finder)
    return kind.__module__ == "importlib_metadata" and kind.__name__ == "MetadataPathFinder"


def extra_names(namespace: str) -> dict[str, str]:
    """Type names plugins registered at import, as remembered: name -> the driver whose
    import registered it. A hint only (the driver is imported, then the name looked up);
    empty when caching is off or nothing is remembered for this ``sys.path``."""
    filename = _extras_file(namespace)
    if filename is None:
        return {}
    try:
        with open(filename, "rb") as file:
            if not _trusted(os.fstat(file.fileno())):
                return {}
            data = json.loads(file.read())
        extras = data["extra_names"]
        if data["format"] != FORMAT or not isinstance(extras, dict):
            return {}
        return {str(k): str(v) for k, v in extras.items() if isinstance(v, str)}
    except (OSError, ValueError, KeyError, TypeError, RecursionError, MemoryError):
        return {}


def remember_extra_names(namespace: str, extras: dict[str, str]) -> None:
    """Remember :func:`extra_names` for the next process on this ``sys.path``."""
    filename = _extras_file(namespace)
    if filename is not None:
        known = extra_names(namespace)
        known.update(extras)
        _write(filename, {"format": FORMAT, "extra_names": known, "candidates": []})


def _extras_file(namespace: str) -> str | None:
    directory = cache_dir()
    if directory is None:
        return None
    key = _key(f"{namespace} extra names", discovery.path_entries())
    return os.path.join(directory, f"{_PREFIX}{key}{_SUFFIX}")


def _key(namespace: str, entries: list[str]) -> str:
    identity = [FORMAT, namespace, sys.executable, sys.prefix, sys.version, entries]
    return _digest(json.dumps(identity))[:_KEY_LENGTH]


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return -1


def _listing(path: str) -> tuple[str | None, int]:
    """A digest of the metadata directories in ``path``, and the newest of their times."""
    rows = []
    newest = -1
    try:
        with os.scandir(path) as found:
            for entry in found:
                if entry.name.endswith(_METADATA_SUFFIXES):
                    mtime = entry.stat().st_mtime_ns
                    newest = max(newest, mtime)
                    rows.append(f"{entry.name}\t{mtime}")
    except (OSError, ValueError):  # not a directory (a zip file), gone, or unreadable
        return None, -1
    rows.sort()
    return _digest("\n".join(rows)), newest


def _read(
    filename: str, namespace: str, entries: list[str]
) -> tuple[list[Candidate], list[BrokenDistribution], Stamps | None] | None:
    """The index's candidates when it is fresh, with new stamps when they are worth saving."""
    try:
        with open(filename, "rb") as file:
            if not _trusted(os.fstat(file.fileno())):
                LOG.debug("index %s ignored: not ours, or writable by others", filename)
                return None
            data = json.loads(file.read())
        if data["format"] != FORMAT or data["namespace"] != namespace or data["path"] != entries:
            return None
        fresh, restamped = _check(data["stamps"], data["files"])
        if not fresh:
            LOG.debug("index %s is out of date", filename)
            return None
        found = [_candidate(row) for row in data["candidates"]]
        return found, [_broken(row) for row in data["broken"]], restamped
    except FileNotFoundError:
        return None
    # RecursionError: a deeply nested JSON array; MemoryError: a huge one.
    except (OSError, ValueError, KeyError, TypeError, RecursionError, MemoryError) as exc:
        LOG.debug("index %s ignored: %s", filename, exc)
        return None


def _check(entries: list[Any], files: list[Any]) -> tuple[bool, Stamps | None]:
    """Whether the stamps still hold, and new stamps when only directory times moved."""
    stat = os.stat  # one stat per distribution: this loop is most of a warm start
    for path, mtime in files:
        try:
            if stat(path).st_mtime_ns == mtime:
                continue
        except (OSError, ValueError, TypeError):
            if mtime == -1:
                continue
        LOG.debug("index: %s changed", path)
        return False, None
    restamped: Stamps | None = None
    for position, (path, mtime, listing) in enumerate(entries):
        if not isinstance(path, str):
            return False, None
        current = _mtime(path)
        if current == mtime:
            continue
        now, newest = _listing(path)
        if listing is None or now != listing:
            LOG.debug("index: the distributions in %s changed", path)
            return False, None
        if restamped is None:
            restamped = Stamps([list(entry) for entry in entries], [list(f) for f in files])
        restamped.entries[position][1] = current
        restamped.newest = max(restamped.newest, current, newest)
    return True, restamped


def _trusted(status: os.stat_result) -> bool:
    # The index decides which module gets imported: trust only our own files.
    if os.name != "posix":
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _candidate(row: Any) -> Candidate:
    if not isinstance(row, list) or len(row) != 6:
        raise TypeError(f"bad candidate row {row!r}")
    name, target, distribution, version, location, origin = row
    if not all(isinstance(value, str) for value in (name, target, origin)):
        raise TypeError(f"bad candidate row {row!r}")
    for optional in (distribution, version, location):
        if optional is not None and not isinstance(optional, str):
            raise TypeError(f"bad candidate row {row!r}")
    return Candidate(name, target, distribution, version, location, origin=origin)


def _broken(row: Any) -> BrokenDistribution:
    if (
        not isinstance(row, list)
        or len(row) != 4
        or not all(isinstance(value, str) for i, value in enumerate(row) if i != 1)
        or not (row[1] is None or isinstance(row[1], str))
    ):
        raise TypeError(f"bad broken-distribution row {row!r}")
    return BrokenDistribution(*row)


def _write(filename: str, payload: dict[str, Any]) -> None:
    directory = os.path.dirname(filename)
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
    """Remove the oldest index files beyond :data:`MAX_FILES`, and nothing that is not one.

    Only regular files (never following a symlink) named as this module
    names its files and owned by this user are candidates.
    """
    import stat

    owned = []
    try:
        with os.scandir(directory) as found:
            for entry in found:
                if not _is_index_name(entry.name):
                    continue
                try:
                    status = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(status.st_mode) and _trusted_owner(status):
                    owned.append((status.st_mtime_ns, entry.name))
    except OSError:
        return
    if len(owned) <= MAX_FILES:
        return
    owned.sort()
    for _, name in owned[: len(owned) - MAX_FILES // 2]:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))


def _is_index_name(name: str) -> bool:
    """Whether ``name`` is one of ours: an index file, or a temporary one left by a crash."""
    if not name.startswith(_PREFIX):
        return False
    rest = name[len(_PREFIX) :]
    key, suffix = rest[:_KEY_LENGTH], rest[_KEY_LENGTH:]
    if len(key) != _KEY_LENGTH or any(c not in "0123456789abcdef" for c in key):
        return False
    if suffix == _SUFFIX:
        return True
    # f"{filename}.{pid}.{thread id}.tmp", see _write
    parts = suffix.split(".")
    return (
        len(parts) == 5
        and parts[0] == ""
        and parts[1] == _SUFFIX[1:]
        and parts[2].isdigit()
        and parts[3].isdigit()
        and parts[4] == "tmp"
    )


def _trusted_owner(status: os.stat_result) -> bool:
    return os.name != "posix" or status.st_uid == os.getuid()
