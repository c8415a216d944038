"""Throwaway distributions, installed for real on a temporary ``sys.path`` entry.

Nothing is mocked: :class:`TemporarySite` writes what an installer writes (a
``*.dist-info`` directory with ``METADATA`` and ``entry_points.txt``) and the
modules beside it, so ``importlib.metadata``, stevedore and odibi-ext find the
distribution exactly as they would find one ``pip`` installed.
:func:`temporary_site` puts the directory on ``sys.path`` and, on the way
out, takes it off again and forgets everything the process remembered about
it: the import system's caches, stevedore's entry-point cache, the modules
imported from it and the default registry of :mod:`odibi_ext.plugins`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from odibi_ext.discovery import forget_process_caches
from odibi_ext.discovery import normalize_distribution
from odibi_ext.registry import NAMESPACE

#: Prepended to every module written: records each execution in a marker file.
_MARKED_MODULE: Final = """
import os as _os
with open(_os.path.join({markers!r}, {module!r} + ".imported"), "a") as _f:
    _f.write("x")
"""


class TemporarySite:
    """A directory on ``sys.path`` to install throwaway distributions into.

    ``root`` is the directory; ``markers`` the directory where every module
    written here records its imports (see :meth:`imports`), in this process
    or any other.
    """

    def __init__(self, root: Path, markers: Path) -> None:
        self.root = root
        self.markers = markers
        #: Every directory written to, and every entry-point group used, for cleanup.
        self.roots: set[Path] = {root}
        self.groups: set[str] = {NAMESPACE}

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} root={str(self.root)!r}>"

    def distribution(
        self,
        name: str,
        version: str = "1.0.0",
        *,
        entry_points: Mapping[str, str] | None = None,
        modules: Mapping[str, str] | None = None,
        group: str = NAMESPACE,
        entry_points_text: str | None = None,
        root: Path | None = None,
    ) -> Path:
        """Install distribution ``name`` at ``version``; return its ``*.dist-info`` directory.

        ``entry_points`` maps each type name to its target (``"module:attr"``)
        in ``group``; ``entry_points_text`` replaces the whole
        ``entry_points.txt`` instead. ``modules`` maps dotted module names to
        their source (dedented; dotted names make packages). ``root`` installs
        into another directory, which the caller puts on ``sys.path``.
        """
        where = root or self.root
        self.roots.add(where)
        self.groups.add(group)
        dist_info = where / f"{normalize_distribution(name).replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        if entry_points_text is None:
            lines = [
                f"{type_name} = {target}" for type_name, target in (entry_points or {}).items()
            ]
            entry_points_text = f"[{group}]\n" + "\n".join(lines) + "\n"
        (dist_info / "entry_points.txt").write_text(entry_points_text, encoding="utf-8")
        for module, source in (modules or {}).items():
            self.module(module, source, root=where)
        forget_process_caches(group)
        return dist_info

    def module(self, module: str, source: str, *, root: Path | None = None) -> Path:
        """Write ``module`` (dotted names make packages) with an import marker prepended."""
        where = root or self.root
        self.roots.add(where)
        parts = module.split(".")
        for depth in range(1, len(parts)):
            package = where.joinpath(*parts[:depth])
            package.mkdir(exist_ok=True)
            init = package / "__init__.py"
            if not init.exists():
                init.write_text(self._marked(".".join(parts[:depth]), ""), encoding="utf-8")
        path = where.joinpath(*parts[:-1], parts[-1] + ".py")
        path.write_text(self._marked(module, textwrap.dedent(source)), encoding="utf-8")
        return path

    def imports(self, module: str) -> int:
        """How many times ``module`` has been imported (executed), in any process."""
        marker = self.markers / f"{module}.imported"
        return len(marker.read_text()) if marker.exists() else 0

    def _marked(self, module: str, source: str) -> str:
        return _MARKED_MODULE.format(markers=str(self.markers), module=module) + source


@contextlib.contextmanager
def temporary_site(
    root: Path, markers: Path, *, scope: Path | None = None
) -> Iterator[TemporarySite]:
    """A :class:`TemporarySite` in ``root``, first on ``sys.path`` while the block runs.

    Both directories are created. On exit ``root`` leaves ``sys.path`` and the
    process forgets the site: modules imported from its directories (or from
    anywhere under ``scope``) leave ``sys.modules``, the import system's and
    stevedore's caches are dropped, and the default registry of
    :mod:`odibi_ext.plugins`, if one exists, is refreshed. Files stay.
    """
    root.mkdir(parents=True, exist_ok=True)
    markers.mkdir(parents=True, exist_ok=True)
    site = TemporarySite(root, markers)
    before = set(sys.modules)
    # The list itself: a test may swap sys.path for another list meanwhile
    # (monkeypatch.setattr) and put this one back after the block ends.
    path = sys.path
    path.insert(0, str(root))
    forget_process_caches(NAMESPACE)
    try:
        yield site
    finally:
        for entries in {id(path): path, id(sys.path): sys.path}.values():
            with contextlib.suppress(ValueError):
                entries.remove(str(root))
        prefixes = [str(path) for path in (*site.roots, *([scope] if scope else []))]
        for name in set(sys.modules) - before:
            if _imported_from(sys.modules.get(name), prefixes):
                del sys.modules[name]
        for group in site.groups:
            forget_process_caches(group)
        _refresh_default_registry()


def _imported_from(module: object, prefixes: list[str]) -> bool:
    paths = [getattr(module, "__file__", None) or ""]
    paths.extend(str(entry) for entry in getattr(module, "__path__", None) or ())
    return any(
        path == prefix or path.startswith(prefix + os.sep)
        for path in paths
        if path
        for prefix in prefixes
    )


def _refresh_default_registry() -> None:
    plugins = sys.modules.get("odibi_ext.plugins")
    registry = getattr(plugins, "_default", None)
    if registry is not None:
        registry.refresh()
