"""Fixtures that install fake distributions for real: ``*.dist-info`` dirs on a temp ``sys.path``.

Nothing mocks ``importlib.metadata`` or stevedore: the fixtures write the same
files an installer writes (``METADATA``, ``entry_points.txt``) and the plugin
modules beside them, then put the directory on ``sys.path``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

import odibi_ext.plugins
from odibi_ext import NAMESPACE
from odibi_ext import discovery
from odibi_ext.policy import normalize_distribution

#: The sample distributions of this repository.
SAMPLES = Path(__file__).resolve().parent.parent / "sample_plugins"

#: The type names Odibi registers itself, as odibi-ext finds them here (the
#: test extra installs Odibi). Tests about plugins alone disable them.
ODIBI_BUILTINS: tuple[str, ...] = tuple(
    candidate.name for candidate in discovery.scan(NAMESPACE)[0] if candidate.origin == "builtin"
)

#: Source of a plugin module that records each import in a marker file.
MARKED_MODULE = """
import os as _os
with open(_os.path.join({markers!r}, {module!r} + ".imported"), "a") as _f:
    _f.write("x")
"""

#: A factory returning a minimal connection.
GOOD_FACTORY = '''
class FakeConnection:
    def __init__(self, name, config):
        self.name = name
        self.config = dict(config)

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        if self.config.get("fail"):
            raise ValueError("validation failed: " + str(self.config["fail"]))


def create(name, config):
    """Create a fake connection.

    More text that is not part of the first paragraph.
    """
    return FakeConnection(name, config)
'''


class FakeSite:
    """A directory on ``sys.path`` where tests install fake distributions."""

    def __init__(self, root: Path, markers: Path) -> None:
        self.root = root
        self.markers = markers

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
        """Install ``name`` with ``entry_points`` (type name -> target) and its modules.

        Every module written records its imports in a marker file (see
        :meth:`imports`). Returns the ``*.dist-info`` directory.
        """
        where = root or self.root
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
        return dist_info

    def module(self, module: str, source: str, *, root: Path | None = None) -> Path:
        """Write ``module`` (dotted names make packages) with an import marker prepended."""
        where = root or self.root
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
        return MARKED_MODULE.format(markers=str(self.markers), module=module) + source


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """A fresh directory at the front of ``sys.path`` for fake distributions."""
    root = tmp_path / "site"
    markers = tmp_path / "markers"
    root.mkdir()
    markers.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield FakeSite(root, markers)
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None) or ""
        if file.startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's policy or cache, or another test's default registry."""
    monkeypatch.delenv("ODIBI_EXT_CONFIG", raising=False)
    monkeypatch.delenv("ODIBI_EXT_NO_CACHE", raising=False)
    monkeypatch.setenv("ODIBI_EXT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(odibi_ext.plugins, "_default", None)


@pytest.fixture
def cli_env(subprocess_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A child environment seeing the fake site first, with its own index cache and no policy."""
    env = dict(subprocess_env)
    env["ODIBI_EXT_CACHE_DIR"] = str(tmp_path / "child-cache")
    env.pop("ODIBI_EXT_CONFIG", None)
    env.pop("ODIBI_EXT_NO_CACHE", None)
    return env


@pytest.fixture
def subprocess_env(site: FakeSite) -> dict[str, str]:
    """Environment for a child process that sees the fake site first."""
    env = dict(os.environ)
    inherited = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(site.root), *([inherited] if inherited else [])])
    return env


@pytest.fixture(scope="module")
def odibi_host() -> Iterator[ModuleType]:
    """The installed Odibi, imported for the tests of one module; fails when it is missing.

    Importing Odibi puts a Rich handler writing to stdout on the root logger;
    the root logger is put back afterwards, so later tests see their own output only.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    import odibi.pipeline  # Odibi only for the modules that ask for it

    yield odibi
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def faulty_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """odibi-faulty pip-installed into a directory of its own (put it on PYTHONPATH)."""
    target = tmp_path_factory.mktemp("faulty")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            str(SAMPLES / "odibi-faulty"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return target
