"""Who may offer a type name: candidates, distributions whose metadata cannot be read,
and where a module would load from.

Below both :mod:`odibi_ext.discovery` (entry points) and
:mod:`odibi_ext.builtins` (Odibi's own factories), so that neither imports
the other's caller. Imports no plugin.
"""

import logging
import re
import sys
from typing import TYPE_CHECKING
from typing import Final
from typing import NamedTuple
from typing import Optional

if TYPE_CHECKING:
    import importlib.machinery

LOG = logging.getLogger(__name__)

_SEPARATORS: Final = r"[-_.]+"


# No ``from __future__ import annotations`` here or in discovery.py and resolution.py: typing
# compiles a NamedTuple's string annotations one by one, a millisecond that
# every process loading a driver would pay. So annotations evaluated at run
# time spell ``Optional[X]``: ``X | None`` needs Python 3.10.
class BrokenDistribution(NamedTuple):
    """A distribution offering entry points in the group whose metadata cannot be read.

    ``path`` is its metadata file (``entry_points.txt``) or directory; ``error``
    says what is wrong with it. Its readable entries are still offered.
    """

    distribution: str
    version: Optional[str]
    path: str
    error: str

    def describe(self) -> str:
        """One line naming the distribution, its file, what is wrong and what to do."""
        provider = f"{self.distribution} {self.version}" if self.version else self.distribution
        return (
            f"distribution {provider} has unreadable entry-point metadata ({self.path}): "
            f"{self.error}; its drivers may be missing. Reinstall it (pip install "
            f"--force-reinstall {self.distribution}) or report it to its maintainers"
        )


class Candidate(NamedTuple):
    """One entry point offering a type name, with the distribution that publishes it.

    ``location`` is the ``sys.path`` entry the distribution was found in.
    ``selected`` and ``reason`` say whether the policy took this candidate and
    why it was taken or excluded; discovery leaves them unset. ``origin`` is
    ``"entry_point"``, ``"builtin"`` for a factory Odibi itself registers
    (see :mod:`odibi_ext.builtins`), or ``"registered"`` for a factory an
    installed distribution's code registered through Odibi's
    ``register_connection_factory``; ``registered_by`` then names the
    registering module.
    """

    name: str
    target: str
    distribution: Optional[str]
    version: Optional[str]
    location: Optional[str] = None
    selected: bool = False
    reason: Optional[str] = None
    origin: str = "entry_point"
    registered_by: Optional[str] = None


#: Odibi's own distribution, as its metadata names it (also its normalized
#: name): its built-ins are candidates too (see :mod:`odibi_ext.builtins`).
HOST_DISTRIBUTION: Final = "odibi"


def normalize_distribution(name: str) -> str:
    """A distribution name in comparable form (PEP 503): ``Odibi_SQLite`` is ``odibi-sqlite``."""
    return re.sub(_SEPARATORS, "-", name).lower()


def module_file(target: str) -> Optional[str]:
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


def _find_spec(name: str, search: Optional[list[str]]) -> "importlib.machinery.ModuleSpec | None":
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
