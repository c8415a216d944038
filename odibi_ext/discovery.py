"""Finding a namespace's entry points with their provenance, without importing any plugin.

:func:`scan` reads installed distributions' metadata through
``importlib.metadata``; :mod:`odibi_ext.index` keeps its answer on disk so that
later processes need not repeat it.
"""

import logging
import os
import re
import sys
from typing import TYPE_CHECKING
from typing import Final
from typing import NamedTuple

if TYPE_CHECKING:
    import importlib.machinery
    import importlib.metadata

LOG = logging.getLogger(__name__)

_SEPARATORS: Final = r"[-_.]+"

#: The entry-point group Odibi connection drivers are published in.
NAMESPACE: Final = "odibi.connections"


# No ``from __future__ import annotations`` here or in resolution.py: typing
# compiles a NamedTuple's string annotations one by one, a millisecond that
# every process loading a driver would pay.
class Candidate(NamedTuple):
    """One entry point offering a type name, with the distribution that publishes it.

    ``location`` is the ``sys.path`` entry the distribution was found in.
    ``selected`` and ``reason`` say whether the policy took this candidate and
    why it was taken or excluded; discovery leaves them unset. ``origin`` is
    ``"entry_point"``, or ``"builtin"`` for a factory Odibi itself registers
    (see :mod:`odibi_ext.builtins`).
    """

    name: str
    target: str
    distribution: str | None
    version: str | None
    location: str | None = None
    selected: bool = False
    reason: str | None = None
    origin: str = "entry_point"


#: Odibi's own distribution, normalized: its built-ins are candidates too.
_HOST: Final = "odibi"


def normalize_distribution(name: str) -> str:
    """A distribution name in comparable form (PEP 503): ``Odibi_SQLite`` is ``odibi-sqlite``."""
    return re.sub(_SEPARATORS, "-", name).lower()


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


def scan(namespace: str) -> tuple[list[Candidate], list[str]]:
    """Every entry point in ``namespace``, in ``sys.path`` order, and the metadata files read.

    A distribution shadowed by one of the same name earlier on ``sys.path`` is
    skipped, as Python's own imports would skip it. Within one ``sys.path``
    entry, distributions are ordered by name, so the order is deterministic.
    A distribution whose metadata cannot be parsed is skipped with a WARNING
    instead of hiding every other driver. The second list holds each
    provider's ``entry_points.txt`` path, where it is known, so that an index
    can notice when one is rewritten in place.

    For Odibi's own group, when Odibi is installed, its built-in factories
    come first (Odibi registers them before any plugin), with the source file
    they were read from among the files returned.
    """
    import importlib.metadata

    ranks = {entry: rank for rank, entry in reversed(list(enumerate(path_entries())))}
    section = f"[{namespace}]"
    found: list[tuple[int, str, int, Candidate]] = []
    metadata_files: list[str] = []
    seen_distributions: set[str] = set()
    seen: set[tuple[str, str, str]] = set()
    host: tuple[str | None, str | None] | None = None
    for dist in importlib.metadata.distributions():
        try:
            identity = _identity(dist)
            if identity in seen_distributions:
                continue
            seen_distributions.add(identity)
            if identity == _HOST and namespace == NAMESPACE:
                host = (dist.version, os.path.abspath(str(dist.locate_file(""))))
            text = dist.read_text("entry_points.txt")
            # Most distributions publish nothing in our group: skip them
            # before paying for the metadata parse.
            if not text or section not in text:
                continue
            distribution = dist.metadata["Name"] or None
            entry_points = dist.entry_points.select(group=namespace)
            version = dist.version
            location = os.path.abspath(str(dist.locate_file("")))
        except Exception as exc:  # one broken distribution must not hide the rest
            LOG.warning("skipping a distribution with unreadable metadata: %s", exc)
            continue
        # PathDistribution keeps its directory private; without it the index
        # falls back to stamping sys.path entries only.
        metadata_dir = getattr(dist, "_path", None)
        if metadata_dir is not None:
            metadata_files.append(os.path.join(str(metadata_dir), "entry_points.txt"))
        rank = ranks.get(location, len(ranks))
        for entry_point in entry_points:
            key = (entry_point.name, entry_point.value, identity)
            if key in seen:
                continue
            seen.add(key)
            candidate = Candidate(
                name=entry_point.name,
                target=entry_point.value,
                distribution=distribution,
                version=version,
                location=location,
            )
            found.append((rank, identity, len(found), candidate))
    found.sort(key=lambda item: item[:3])
    candidates = [item[3] for item in found]
    if host is not None:
        from odibi_ext import builtins

        offered, source = builtins.scan(*host)
        candidates[:0] = offered
        if source is not None:
            metadata_files.append(source)
    return candidates, sorted(metadata_files)


def _identity(dist: "importlib.metadata.Distribution") -> str:
    """The name two copies of one distribution share, cheaply.

    ``importlib.metadata`` derives it from the ``*.dist-info`` directory name
    (its private ``_normalized_name``) to skip shadowed copies without parsing
    every ``METADATA``; we follow the same rule, parsing only as a fallback.
    """
    name = getattr(dist, "_normalized_name", None) or dist.metadata["Name"]
    return normalize_distribution(str(name)) if name else f"<unnamed {id(dist)}>"


def module_file(target: str) -> str | None:
    """The file the target's module would be imported from, found without importing anything.

    Parent packages are searched through their specs, not imported, so no
    plugin code runs. Every finder on ``sys.meta_path`` is asked, so the
    finders of PEP 660 editable installs (``pip install -e``) are heard too.
    ``None`` when the module cannot be found.
    """
    module = target.partition(":")[0].strip()
    if not module:
        return None
    loaded = sys.modules.get(module)
    if loaded is not None:
        return getattr(loaded, "__file__", None)
    search: list[str] | None = None
    spec = None
    parts = module.split(".")
    for depth in range(1, len(parts) + 1):
        spec = _find_spec(".".join(parts[:depth]), search)
        if spec is None:
            return None
        locations = spec.submodule_search_locations
        search = list(locations) if locations is not None else None
        if depth < len(parts) and search is None:
            return None
    return spec.origin if spec is not None and spec.has_location else None


def _find_spec(name: str, search: list[str] | None) -> "importlib.machinery.ModuleSpec | None":
    """The spec the import system would use for ``name``, without importing it."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, search)
        except Exception as exc:  # a finder that cannot answer is no answer
            LOG.debug("import finder %r failed to look up %r: %s", finder, name, exc)
            continue
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def forget_process_caches(namespace: str) -> None:
    """Drop what this process remembers of installed distributions.

    The import system's finder caches (``importlib.metadata`` included), and
    stevedore's process-wide entry-point caches: its ``ENTRY_POINT_CACHE`` for
    ``namespace`` and its per-``sys.path`` memo, which never expire on their
    own. stevedore is not imported for this.
    """
    import importlib

    importlib.invalidate_caches()
    extension = sys.modules.get("stevedore.extension")
    if extension is not None:
        extension.ExtensionManager.ENTRY_POINT_CACHE.pop(namespace, None)
    stevedore_cache = sys.modules.get("stevedore._cache")
    internal = getattr(getattr(stevedore_cache, "_c", None), "_internal", None)
    if isinstance(internal, dict):
        internal.clear()
