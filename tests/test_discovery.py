"""Discovery reads metadata only: names, info and ``in`` never import a plugin."""

from __future__ import annotations

import sys

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverNotFoundError
from odibi_ext import Policy
from odibi_ext.discovery import module_file


def test_names_info_and_contains_import_no_plugin(site: FakeSite) -> None:
    site.distribution(
        "odibi-alpha",
        "2.3.4",
        entry_points={"alpha": "alpha_plugin:create"},
        modules={"alpha_plugin": GOOD_FACTORY},
    )
    site.distribution(
        "odibi-beta",
        "0.1",
        entry_points={"beta": "beta_pkg.driver:create"},
        modules={"beta_pkg.driver": GOOD_FACTORY},
    )
    registry = ConnectionRegistry(policy=Policy())

    assert {"alpha", "beta"} <= set(registry.names())
    assert registry.names() == sorted(registry.names())
    assert "alpha" in registry
    assert "gamma" not in registry
    assert 42 not in registry
    info = registry.info("beta")
    assert info.status == "available"

    assert "alpha_plugin" not in sys.modules
    assert "beta_pkg" not in sys.modules
    assert site.imports("alpha_plugin") == 0
    assert site.imports("beta_pkg") == 0
    assert site.imports("beta_pkg.driver") == 0


def test_info_carries_provenance(site: FakeSite) -> None:
    site.distribution(
        "Odibi_Alpha",
        "2.3.4",
        entry_points={"alpha": "alpha_plugin:create"},
        modules={"alpha_plugin": GOOD_FACTORY},
    )
    info = ConnectionRegistry(policy=Policy()).info("alpha")

    assert info.name == "alpha"
    assert info.target == "alpha_plugin:create"
    assert info.distribution == "Odibi_Alpha"  # as written in its metadata
    assert info.version == "2.3.4"
    assert info.origin == "entry_point"
    assert info.load_ms is None
    assert info.error is None
    [candidate] = info.candidates
    assert candidate.location == str(site.root)
    assert candidate.selected


def test_provenance_survives_stevedores_dist_less_entry_points(site: FakeSite) -> None:
    """stevedore's cache rebuilds EntryPoint(name, value, group) with no ``.dist``."""
    from stevedore.extension import ExtensionManager

    namespace = f"odibi.test.provenance.{site.root.parent.name}"
    site.distribution(
        "odibi-alpha",
        "2.3.4",
        entry_points={"alpha": "alpha_plugin:create"},
        modules={"alpha_plugin": GOOD_FACTORY},
        group=namespace,
    )
    # A test instance lists the namespace through stevedore's cache without loading it.
    stevedore_view = ExtensionManager.make_test_instance([], namespace=namespace)
    [alpha] = stevedore_view.list_entry_points()
    assert getattr(alpha, "dist", None) is None  # the trap is real (3.9: no .dist at all)

    registry = ConnectionRegistry(namespace, policy=Policy())
    assert registry.info("alpha").distribution == "odibi-alpha"
    assert registry.get("alpha").__module__ == "alpha_plugin"
    assert registry.info("alpha").distribution == "odibi-alpha"
    ExtensionManager.ENTRY_POINT_CACHE.pop(namespace, None)


def test_unknown_name_suggests_a_close_match(site: FakeSite) -> None:
    site.distribution("odibi-wh", entry_points={"warehouse": "wh:create"})
    registry = ConnectionRegistry(policy=Policy())

    with pytest.raises(DriverNotFoundError) as caught:
        registry.info("warehous")

    error = caught.value
    assert isinstance(error, LookupError)
    assert error.type_name == "warehous"
    assert error.suggestion == "warehouse"
    assert "did you mean 'warehouse'?" in str(error)
    assert "warehouse" in error.available


@pytest.mark.parametrize("bad", [None, 3, b"sqlite", ["sqlite"]])
def test_type_name_must_be_a_str(bad: object) -> None:
    registry = ConnectionRegistry.from_factories({})
    with pytest.raises(TypeError, match="type name is a str"):
        registry.info(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        registry.get(bad)  # type: ignore[arg-type]


def test_a_shadowed_copy_of_a_distribution_is_ignored(
    site: FakeSite, tmp_path, monkeypatch
) -> None:
    later = tmp_path / "later"
    later.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(later)])
    site.distribution("odibi-alpha", "2.0", entry_points={"alpha": "alpha_new:create"})
    site.distribution("odibi-alpha", "1.0", entry_points={"alpha": "alpha_old:create"}, root=later)

    info = ConnectionRegistry(policy=Policy()).info("alpha")

    assert info.status == "available"  # one distribution, not a conflict
    assert info.version == "2.0"
    assert [c.target for c in info.candidates] == ["alpha_new:create"]


def test_a_distribution_with_broken_metadata_does_not_hide_others(site: FakeSite) -> None:
    site.distribution(
        "odibi-broken", entry_points_text="[odibi.connections]\nthis line has no equals sign\n"
    )
    site.distribution("odibi-alpha", entry_points={"alpha": "alpha_plugin:create"})

    registry = ConnectionRegistry(policy=Policy())

    assert "alpha" in registry.names()


def test_entry_points_of_other_groups_are_not_drivers(site: FakeSite) -> None:
    site.distribution(
        "odibi-cli-only", entry_points={"odibi-tool": "tool:main"}, group="console_scripts"
    )
    assert "odibi-tool" not in ConnectionRegistry(policy=Policy()).names()


def test_module_file_finds_the_file_without_importing(site: FakeSite) -> None:
    path = site.module("pkg_alpha.sub.driver", GOOD_FACTORY)

    assert module_file("pkg_alpha.sub.driver:create") == str(path)
    assert module_file("no_such_module_anywhere:create") is None
    assert "pkg_alpha" not in sys.modules
    assert site.imports("pkg_alpha") == 0
