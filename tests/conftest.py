"""Fixtures that install fake distributions for real: ``*.dist-info`` dirs on a temp ``sys.path``.

Nothing mocks ``importlib.metadata`` or stevedore: the fixtures write the same
files an installer writes (``METADATA``, ``entry_points.txt``) and the plugin
modules beside them, then put the directory on ``sys.path``. The helper is
the test kit's public one (``odibi_site``, :class:`odibi_ext.testing.TemporarySite`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import odibi_ext.plugins
from odibi_ext import NAMESPACE
from odibi_ext import discovery
from odibi_ext.testing import TemporarySite as FakeSite

#: The sample distributions of this repository.
SAMPLES = Path(__file__).resolve().parent.parent / "sample_plugins"

#: The type names Odibi registers itself, as odibi-ext finds them here (the
#: test extra installs Odibi). Tests about plugins alone disable them.
ODIBI_BUILTINS: tuple[str, ...] = tuple(
    candidate.name for candidate in discovery.scan(NAMESPACE)[0] if candidate.origin == "builtin"
)

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


@pytest.fixture
def site(odibi_site: FakeSite) -> FakeSite:
    """A fresh directory at the front of ``sys.path`` for fake distributions."""
    return odibi_site


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's policy or cache, or another test's default registry."""
    monkeypatch.delenv("ODIBI_EXT_CONFIG", raising=False)
    monkeypatch.delenv("ODIBI_EXT_NO_CACHE", raising=False)
    monkeypatch.setenv("ODIBI_EXT_CACHE_DIR", str(tmp_path / "odibi-ext-cache"))
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
