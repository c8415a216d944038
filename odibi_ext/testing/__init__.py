"""odibi-ext's test kit for driver authors and applications: a pytest plugin.

Installing odibi-ext registers this module with pytest (entry point
``pytest11: odibi_ext``), so every project's tests can use:

- fixture ``odibi_registry``: a ``ConnectionRegistry`` that sees no installed
  distribution, for application tests (``register`` what the test needs);
- fixture ``odibi_site``: a temporary ``sys.path`` entry to install throwaway
  distributions into (:class:`TemporarySite`), forgotten after the test;
- :class:`DriverContract`: the conformance suite a driver's tests subclass;
- :func:`installed_registry`: a registry seeing one distribution's drivers only.

Importing it is cheap and changes nothing: no Odibi, no pandas, no autouse
fixture; the fixtures and rules import what they need when they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from odibi_ext.environment import CACHE_DIR_ENV
from odibi_ext.registry import ConnectionRegistry
from odibi_ext.testing.contract import DriverContract
from odibi_ext.testing.distributions import TemporarySite
from odibi_ext.testing.distributions import temporary_site
from odibi_ext.testing.registries import empty_registry
from odibi_ext.testing.registries import installed_registry

__all__ = [
    "DriverContract",
    "TemporarySite",
    "installed_registry",
    "odibi_registry",
    "odibi_site",
    "temporary_site",
]


@pytest.fixture
def odibi_registry() -> ConnectionRegistry:
    """odibi-ext: a ConnectionRegistry that sees no installed driver; register() what you need."""
    return empty_registry()


@pytest.fixture
def odibi_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TemporarySite]:
    """odibi-ext: a temporary sys.path entry to install throwaway distributions into.

    ``odibi_site.distribution("odibi-x", entry_points={"x": "x_mod:create"},
    modules={"x_mod": source})`` writes a real ``*.dist-info``; after the test
    the directory leaves ``sys.path`` and every cache forgets it. odibi-ext's
    index lives in the test's ``tmp_path`` meanwhile.
    """
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "odibi-ext-cache"))
    with temporary_site(tmp_path / "site", tmp_path / "markers", scope=tmp_path) as site:
        yield site
