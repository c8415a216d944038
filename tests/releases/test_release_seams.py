"""install() and uninstall() on this Odibi release: every seam replaced, then given back.

The bindings differ by release: ``odibi.pipeline`` and
``odibi.connections.factory`` bind the seams in every release,
``odibi.cli.list_cmd`` binds the factory table from 2.8.0 on.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from release_kit import HAS_LIST_MODULE
from release_kit import VERSION

from odibi_ext import ConnectionRegistry
from odibi_ext import OdibiExtError
from odibi_ext import Policy
from odibi_ext import odibi as integration

pytestmark = pytest.mark.usefixtures("odibi_host")

SEAMS = ("_CONNECTION_FACTORIES", "register_connection_factory", "get_connection_factory")
SEAMS += ("load_plugins",)


@pytest.fixture
def in_charge() -> Iterator[None]:
    yield
    integration.uninstall()
    assert not integration.is_installed()


def binders() -> list[tuple[ModuleType, str]]:
    """Every (module, name) of this release that binds a seam, ``odibi.plugins`` first."""
    plugins = importlib.import_module("odibi.plugins")
    pipeline = importlib.import_module("odibi.pipeline")
    factory = importlib.import_module("odibi.connections.factory")
    found = [(plugins, name) for name in SEAMS]
    found += [(pipeline, "get_connection_factory"), (pipeline, "load_plugins")]
    found += [(factory, "register_connection_factory")]
    if HAS_LIST_MODULE:
        found.append((importlib.import_module("odibi.cli.list_cmd"), "_CONNECTION_FACTORIES"))
    return found


def test_the_list_module_exists_from_2_8_0_on() -> None:
    if HAS_LIST_MODULE:
        importlib.import_module("odibi.cli.list_cmd")
    else:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("odibi.cli.list_cmd")


def test_install_replaces_every_seam_and_uninstall_restores_each_by_identity(
    tmp_path: Path, in_charge: None
) -> None:
    from odibi.pipeline import PipelineManager

    bound = binders()
    originals = {(module.__name__, name): getattr(module, name) for module, name in bound}
    plugins = bound[0][0]

    registry = integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))

    for module, name in bound:
        replacement = getattr(module, name)
        assert replacement is not originals[module.__name__, name], (module.__name__, name)
        assert replacement is getattr(plugins, name), (module.__name__, name)
    assert "sqlite" in plugins._CONNECTION_FACTORIES  # the table is the registry's view
    built = PipelineManager._build_connections(
        {"wh": {"type": "sqlite", "path": str(tmp_path / "w.db")}}
    )
    assert type(built["wh"]).__name__ == "SQLiteConnection"
    assert registry.info("sqlite").status == "loaded"

    integration.uninstall()

    for module, name in bound:
        assert getattr(module, name) is originals[module.__name__, name], (module.__name__, name)


def test_a_typo_is_odibi_s_value_error_with_a_did_you_mean(in_charge: None) -> None:
    from odibi.pipeline import PipelineManager

    integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))

    with pytest.raises(ValueError, match="Unsupported connection type: sqlit") as caught:
        PipelineManager._build_connections({"wh": {"type": "sqlit", "path": "w.db"}})

    message = str(caught.value)
    assert "did you mean 'sqlite'?" in message
    assert "local" in message


def test_install_names_this_release_when_it_refuses_a_reshaped_one(
    monkeypatch: pytest.MonkeyPatch, in_charge: None
) -> None:
    pipeline: Any = importlib.import_module("odibi.pipeline")
    # What another library patching Odibi would leave behind.
    monkeypatch.setattr(pipeline, "get_connection_factory", lambda type_name: None)

    with pytest.raises(OdibiExtError) as caught:
        integration.install(ConnectionRegistry(policy=Policy()))

    message = str(caught.value)
    assert f"odibi {VERSION} is not shaped as odibi-ext expects" in message
    assert "odibi.pipeline.get_connection_factory" in message
    assert integration.SUPPORTED in message
    assert not integration.is_installed()
