"""In-process drivers, the test constructor and Odibi's ``odibi.plugins`` API."""

from __future__ import annotations

import logging

import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import DriverLoadError
from odibi_ext import DriverNotFoundError
from odibi_ext import InvalidFactoryError
from odibi_ext import Policy
from odibi_ext.plugins import default_registry
from odibi_ext.plugins import get_connection_factory
from odibi_ext.plugins import load_plugins
from odibi_ext.plugins import register_connection_factory


class Memory:
    def __init__(self, name: str, config: object) -> None:
        self.name = name

    def get_path(self, relative_path: str) -> str:
        return f"memory://{relative_path}"

    def validate(self) -> None:
        pass


def memory(name: str, config: object) -> Memory:
    return Memory(name, config)


def test_from_factories_ignores_installed_distributions(site: FakeSite) -> None:
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )

    reg = ConnectionRegistry.from_factories({"memory": memory})

    assert reg.names() == ["memory"]
    assert reg.get("memory") is memory
    assert reg.create("memory", "m", {}).get_path("t") == "memory://t"
    info = reg.info("memory")
    assert (info.origin, info.status, info.target) == ("registered", "loaded", "<registered>")
    assert info.distribution is None
    assert reg.load_all()[0].name == "memory"
    assert site.imports("plugin_a") == 0


def test_register_checks_the_signature() -> None:
    reg = ConnectionRegistry.from_factories({})
    with pytest.raises(InvalidFactoryError, match=r"\(config\)"):
        reg.register("bad", lambda config: None)
    with pytest.raises(TypeError):
        reg.register(3, memory)  # type: ignore[arg-type]
    for bad_name in ("", "  padded ", "nul\x00byte"):
        with pytest.raises(ValueError, match="type name"):
            reg.register(bad_name, memory)
    assert reg.names() == []


def test_register_refuses_to_overwrite_unless_asked(site: FakeSite) -> None:
    site.distribution(
        "odibi-a", "1.0", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    reg = ConnectionRegistry(policy=Policy())
    reg.register("memory", memory)

    with pytest.raises(DriverConflictError, match="already registered"):
        reg.register("memory", memory)
    with pytest.raises(DriverConflictError, match=r"odibi-a 1\.0") as caught:
        reg.register("a", memory)
    assert caught.value.candidates == (("odibi-a", "1.0", "plugin_a:create"),)

    reg.register("a", memory, replace=True)
    assert reg.get("a") is memory
    assert reg.info("a").origin == "registered"
    assert site.imports("plugin_a") == 0

    reg.unregister("a")
    assert reg.get("a").__module__ == "plugin_a"
    assert reg.info("a").origin == "entry_point"
    with pytest.raises(DriverNotFoundError):
        reg.unregister("a")


def test_disabled_applies_to_registered_drivers_but_pins_do_not() -> None:
    reg = ConnectionRegistry.from_factories(
        {"legacy": memory, "pinned": memory},
        policy=Policy(
            disabled={"legacy"},
            pins={"pinned": "some-distribution"},
            allowed_distributions={"some-distribution"},
        ),
    )
    assert reg.info("legacy").status == "disabled"
    with pytest.raises(DriverNotFoundError, match="disabled"):
        reg.get("legacy")
    assert reg.get("pinned") is memory


def test_registered_drivers_survive_refresh() -> None:
    reg = ConnectionRegistry.from_factories({"memory": memory})
    reg.refresh()
    assert reg.get("memory") is memory


def test_compat_register_overwrites_and_get_returns_none_when_unknown_or_failing(
    site: FakeSite,
) -> None:
    site.distribution(
        "odibi-faulty",
        entry_points={"boom": "boom:create"},
        modules={"boom": "raise ImportError('no client library')\n"},
    )

    register_connection_factory("memory", memory)
    register_connection_factory("memory", Memory)  # overwrites, as Odibi does

    assert get_connection_factory("memory") is Memory
    assert get_connection_factory("no-such-driver") is None
    assert get_connection_factory("boom") is None
    assert "boom" in default_registry().failures()
    assert default_registry() is default_registry()


def test_compat_load_plugins_never_raises_for_a_plugin(
    site: FakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.distribution(
        "odibi-a", entry_points={"a": "plugin_a:create"}, modules={"plugin_a": GOOD_FACTORY}
    )
    site.distribution(
        "odibi-faulty",
        entry_points={"boom": "boom:create"},
        modules={"boom": "import sys\nsys.exit(2)\n"},
    )
    caplog.set_level(logging.ERROR, logger="odibi_ext")

    infos = {info.name: info.status for info in load_plugins()}

    assert infos["a"] == "loaded"
    assert infos["boom"] == "failed"
    assert get_connection_factory("a") is not None
    assert any("'boom'" in r.getMessage() for r in caplog.records)
    with pytest.raises(DriverLoadError):
        default_registry().get("boom")
