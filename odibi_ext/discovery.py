"""Finding a namespace's entry points with their provenance, without importing any plugin.

:func:`scan` reads installed distributions' metadata through
``importlib.metadata``; :mod:`odibi_ext.index` keeps its answer on disk so that
later processes need not repeat it.
"""

import logging
import os
import sys
from typing import TYPE_CHECKING
from typing import Final
from typing import NamedTuple
from typing import Optional

if TYPE_CHECKING:
    import importlib.machinery
    import importlib.metadata

from odibi_ext import builtins
from odibi_ext.candidates import HOST_DISTRIBUTION
from odibi_ext.candidates import BrokenDistribution
from odibi_ext.candidates import Candidate
from odibi_ext.candidates import module_file
from odibi_ext.candidates import normalize_distribution

# The first five live in candidates.py (below this module and builtins.py);
# callers that know them from here keep working.
__all__ = [
    "HOST_DISTRIBUTION",
    "NAMESPACE",
    "BrokenDistribution",
    "Candidate",
    "Scan",
    "forget_process_caches",
    "is_valid_target",
    "module_file",
    "normalize_distribution",
    "path_entries",
    "scan",
]

LOG = logging.getLogger(__name__)

#: The entry-point group Odibi connection drivers are published in.
NAMESPACE: Final = "odibi.connections"


def is_valid_target(target: str) -> bool:
    """Whether an entry point value has the ``module:attr`` form a driver needs.

    Dotted identifiers on both sides; trailing ``[extras]`` are allowed.
    """
    # String methods, not a regular expression: compiling one would cost the
    # first load in every process more than the check itself.
    module, colon, attr = target.partition(":")
    attr = attr.split("[", 1)[0]
    return bool(colon) and _dotted(module.strip()) and _dotted(attr.strip())


def _dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def path_entries() -> list[str]:
    """``sys.path`` as absolute paths, in order (``""`` is the working directory)."""
    return [os.path.abspath(entry) for entry in sys.path if isinstance(entry, str)]


class Scan(NamedTuple):
    """What :func:`scan` found: the candidates, the files read, the distributions it could not."""

    candidates: list[Candidate]
    metadata_files: list[str]
    broken: list[BrokenDistribution]


def scan(namespace: str) -> Scan:
    """Every entry point in ``namespace``, in ``sys.path`` order, and what the answer rests on.

    A distribution shadowed by one of the same name earlier on ``sys.path`` is
    skipped, as Python's own imports would skip it. Within one ``sys.path``
    entry, distributions are ordered by name, so the order is deterministic.
    A distribution offering entry points in ``namespace`` whose metadata
    cannot be parsed (a line without ``=``, bytes that are not UTF-8) is
    returned in ``broken`` and its readable entries are kept, instead of
    hiding every other driver. ``metadata_files`` holds every distribution's
    ``entry_points.txt`` (its metadata directory when it has none) and each
    provider's metadata file, so that an index can notice any of them being
    written in place.

    For Odibi's own group, when Odibi is installed, its built-in factories
    come first (Odibi registers them before any plugin), with the source file
    they were read from and Odibi's metadata file among the files returned.
    """
    import importlib.metadata

    ranks = {entry: rank for rank, entry in reversed(list(enumerate(path_entries())))}
    section = f"[{namespace}]"
    found: list[tuple[int, str, int, Candidate]] = []
    metadata_files: list[str] = []
    broken: list[BrokenDistribution] = []
    seen_distributions: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    host: tuple[str | None, str | None] | None = None
    for dist in importlib.metadata.distributions():
        # PathDistribution keeps its directory private; without it the index
        # falls back to stamping sys.path entries only.
        metadata_dir = getattr(dist, "_path", None)
        entry_points_file = (
            os.path.join(str(metadata_dir), "entry_points.txt") if metadata_dir else None
        )
        try:
            identity = _identity(dist)
            if identity in seen_distributions:
                continue
            seen_distributions.add(identity)
            if identity == HOST_DISTRIBUTION and namespace == NAMESPACE:
                host = (dist.version, os.path.abspath(str(dist.locate_file(""))))
                if metadata_dir is not None:  # built-ins show its version
                    metadata_files.extend(_metadata_file(str(metadata_dir)))
            text, problem = _entry_points_text(dist, entry_points_file, section)
            stamp = _stamp(
                entry_points_file, metadata_dir, text is not None or problem is not None
            )
            # Most distributions publish nothing in our group: skip them
            # before paying for the metadata parse.
            if problem is None and (not text or section not in text):
                if stamp is not None and _rewritten_in_place(stamp):
                    metadata_files.append(stamp)
                continue
            if stamp is not None:
                metadata_files.append(stamp)
            metadata = dist.metadata
            distribution = header(metadata, "Name")
            version = header(metadata, "Version")
            location = os.path.abspath(str(dist.locate_file("")))
            entry_points, problem = _entries(dist, namespace, text, problem)
        except Exception as exc:  # one broken distribution must not hide the rest
            LOG.warning(
                "skipping a distribution with unreadable metadata (%s): %s",
                metadata_dir or dist,
                exc,
            )
            continue
        if metadata_dir is not None:
            metadata_files.extend(_metadata_file(str(metadata_dir)))
        if problem is not None:
            broken.append(
                BrokenDistribution(
                    distribution=distribution or identity,
                    version=version,
                    path=entry_points_file or str(metadata_dir or location),
                    error=problem,
                )
            )
        rank = ranks.get(location, len(ranks))
        for name, value in entry_points:
            key = (name, value, identity)
            if key in seen:
                continue
            seen.add(key)
            candidate = Candidate(
                name=name,
                target=value,
                distribution=distribution,
                version=version,
                location=location,
            )
            found.append((rank, identity, len(found), candidate))
    found.sort(key=lambda item: item[:3])
    candidates = _builtins_first([item[3] for item in found], host, metadata_files)
    return Scan(candidates, sorted(metadata_files), broken)


def _stamp(entry_points_file: Optional[str], metadata_dir: object, exists: bool) -> Optional[str]:
    """The file to stamp for a distribution's entry points: without one, its directory
    (creating the file there changes the directory's time)."""
    if entry_points_file is None:
        return None
    return entry_points_file if exists else str(metadata_dir)


def _rewritten_in_place(path: str) -> bool:
    """Whether tools rewrite this non-provider's metadata in place, so it must be stamped.

    ``setup.py egg_info`` / ``develop`` rewrite an in-tree ``*.egg-info``'s
    files in place. Installers write a ``*.dist-info`` as a new directory,
    which the ``sys.path`` entry's listing digest notices: stamping every
    installed distribution's file would make each warm start cost a ``stat``
    per distribution.
    """
    return ".egg-info" in path


def _builtins_first(
    candidates: list[Candidate],
    host: Optional[tuple[Optional[str], Optional[str]]],
    metadata_files: list[str],
) -> list[Candidate]:
    """Odibi's built-ins (when ``host``, its version and location, is known), then ``candidates``.

    The source file the built-ins were read from joins ``metadata_files``.
    """
    if host is None:
        return candidates
    offered, source = builtins.scan(*host)
    if source is not None:
        metadata_files.append(source)
    return [*offered, *candidates]


def _entries(
    dist: "importlib.metadata.Distribution",
    namespace: str,
    text: Optional[str],
    problem: Optional[str],
) -> tuple[list[tuple[str, str]], Optional[str]]:
    """``(name, value)`` of each entry point in ``namespace``, and what is wrong, if anything."""
    if problem is not None:
        return [], problem
    if sys.version_info < (3, 10):
        # 3.9 reads the file with ConfigParser, whose quirks 3.10 dropped ("[x] = y" is a
        # section there, "a: b" an entry, "%" an error): read the lines as 3.10 does.
        return _readable_entries(text or "", f"[{namespace}]")
    try:
        return [(ep.name, ep.value) for ep in dist.entry_points.select(group=namespace)], None
    except Exception as exc:  # a malformed line spoils importlib's whole parse
        entries, problem = _readable_entries(text or "", f"[{namespace}]")
        return entries, problem or _brief(exc)


def _metadata_file(directory: str) -> list[str]:
    """The file holding a distribution's name and version (``METADATA`` or ``PKG-INFO``)."""
    for name in ("METADATA", "PKG-INFO"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return [path]
    return []


def _entry_points_text(
    dist: "importlib.metadata.Distribution", path: Optional[str], section: str
) -> tuple[Optional[str], Optional[str]]:
    """The text of ``entry_points.txt``, or why it cannot be read when it concerns ``section``."""
    try:
        return dist.read_text("entry_points.txt"), None
    except UnicodeDecodeError as exc:
        if path is None:
            return None, f"entry_points.txt is not UTF-8 ({exc.reason} at byte {exc.start})"
        try:
            with open(path, "rb") as file:
                raw = file.read()
        except OSError:
            raw = b""
        if section.encode("ascii", "replace") not in raw:
            return None, None  # not a provider of ours: its encoding is not our business
        return None, f"entry_points.txt is not UTF-8 ({exc.reason} at byte {exc.start})"


def _readable_entries(text: str, section: str) -> tuple[list[tuple[str, str]], Optional[str]]:
    """The well-formed ``name = value`` lines of ``section``, and the first malformed line."""
    entries = []
    problem = None
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            shown = line if len(line) <= 60 else line[:57] + "..."
            problem = problem or f"line {number} {shown!r} is not 'name = module:attr'"
        elif current == section:
            entries.append((name.strip(), value.strip()))
    return entries, problem


def _brief(exc: BaseException) -> str:
    """``ExcType: message`` on one line, cut to a readable length."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _identity(dist: "importlib.metadata.Distribution") -> str:
    """The name two copies of one distribution share, cheaply.

    ``importlib.metadata`` derives it from the ``*.dist-info`` directory name
    (its private ``_normalized_name``) to skip shadowed copies without parsing
    every ``METADATA``; we follow the same rule, parsing only as a fallback.
    """
    name = getattr(dist, "_normalized_name", None) or header(dist.metadata, "Name")
    return normalize_distribution(str(name)) if name else f"<unnamed {id(dist)}>"


def header(metadata: "importlib.metadata.PackageMetadata", name: str) -> Optional[str]:
    """The header ``name`` of a distribution's metadata, ``None`` when missing or empty.

    Asked first: for a missing header importlib_metadata (on ``sys.meta_path``
    once imported, as Odibi does on Python 3.9) raises ``KeyError``, and the
    standard library answers ``None`` with a DeprecationWarning from 3.12.
    """
    return (metadata[name] or None) if name in metadata else None


def forget_process_caches(namespace: str) -> None:
    """Drop what this process remembers of installed distributions.

    The import system's finder caches (``importlib.metadata`` included), and
    stevedore's process-wide entry-point caches: its ``ENTRY_POINT_CACHE`` for
    ``namespace`` and its per-``sys.path`` memo, which never expire on their
    own. stevedore is not imported for this.
    """
    import importlib

    importlib.invalidate_caches()
    # Another thread may be importing stevedore right now: its modules can be
    # in sys.modules half initialized, so every attribute is looked up warily.
    extension = sys.modules.get("stevedore.extension")
    manager = getattr(extension, "ExtensionManager", None)
    cache = getattr(manager, "ENTRY_POINT_CACHE", None)
    if isinstance(cache, dict):
        cache.pop(namespace, None)
    stevedore_cache = sys.modules.get("stevedore._cache")
    internal = getattr(getattr(stevedore_cache, "_c", None), "_internal", None)
    if isinstance(internal, dict):
        internal.clear()
