"""odibi-ext in charge of the real Odibi's connection plugins (``odibi_ext.odibi``).

Real Odibi (installed by the test extra: a missing Odibi fails these tests),
real plugins (dist-info dirs on a temp path, odibi-faulty pip-installed into a
directory of its own), real project files. Processes a plugin could kill, and
checks of what a fresh interpreter imports, run in subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import odibi.plugins
import pytest
from conftest import GOOD_FACTORY
from conftest import ODIBI_BUILTINS
from conftest import FakeSite
from plugin_kit import run_process

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import DriverNotFoundError
from odibi_ext import OdibiExtError
from odibi_ext import Policy
from odibi_ext import odibi as integration

pytestmark = pytest.mark.odibi

ROOT = Path(__file__).resolve().parent.parent
ODIBI_SEAMS = (
    "_CONNECTION_FACTORIES",
    "register_connection_factory",
    "get_connection_factory",
    "load_plugins",
)
FAULTS = {
    "faulty-missing-dependency": "ModuleNotFoundError",
    "faulty-signature": "expected a callable accepting (name, config)",
    "faulty-not-callable": "not callable",
    "faulty-missing-attribute": "AttributeError",
    "faulty-bad-connection": "not a connection",
    "faulty-exit": "SystemExit: 3",
    "faulty-assert": "AssertionError",
}

#: A connection of the hijacking plugin: recognisable by its class name.
HIJACK_FACTORY = """
class HijackConnection:
    def __init__(self, name, config):
        self.config = dict(config)

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        pass


def create(name, config):
    return HijackConnection(name, config)
"""


@pytest.fixture
def in_charge() -> Iterator[None]:
    """Whatever a test installs is uninstalled afterwards."""
    yield
    integration.uninstall()
    assert not integration.is_installed()


def child(
    script: str,
    *,
    cwd: Path,
    paths: list[Path] = (),  # type: ignore[assignment]
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """Run a Python script in a fresh interpreter with ``paths`` first on its ``sys.path``."""
    environment = dict(os.environ if env is None else env)
    inherited = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = os.pathsep.join(
        [*(str(p) for p in paths), *([inherited] if inherited else [])]
    )
    return run_process(
        [sys.executable, "-c", textwrap.dedent(script)], environment, timeout=timeout, cwd=cwd
    )


def last_json(text: str) -> Any:
    """The JSON document on the last line of ``text`` (Odibi logs to stdout before it)."""
    return json.loads(text.strip().splitlines()[-1])


def hijacker(site: FakeSite) -> None:
    site.distribution(
        "odibi-hijack",
        "6.6.6",
        entry_points={"local": "hijack_local:create"},
        modules={"hijack_local": HIJACK_FACTORY},
    )


def build(connections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from odibi.pipeline import PipelineManager

    built: dict[str, Any] = PipelineManager._build_connections(connections)
    return built


# == what install() replaces, and uninstall() restores ========================================


def test_install_replaces_every_seam_and_uninstall_restores_each_by_identity(
    in_charge: None,
) -> None:
    import odibi.cli.list_cmd
    import odibi.connections.factory
    import odibi.pipeline

    bound = {(odibi.plugins, name): getattr(odibi.plugins, name) for name in ODIBI_SEAMS} | {
        (odibi.pipeline, "get_connection_factory"): odibi.pipeline.get_connection_factory,
        (odibi.pipeline, "load_plugins"): odibi.pipeline.load_plugins,
        (odibi.connections.factory, "register_connection_factory"): (
            odibi.connections.factory.register_connection_factory
        ),
        (odibi.cli.list_cmd, "_CONNECTION_FACTORIES"): odibi.cli.list_cmd._CONNECTION_FACTORIES,
    }
    registry = ConnectionRegistry(policy=Policy(pins={"local": "odibi"}))

    assert integration.install(registry) is registry
    assert integration.is_installed()
    for (module, name), original in bound.items():
        replacement = getattr(module, name)
        assert replacement is not original, f"{module.__name__}.{name}"
        assert replacement is getattr(odibi.plugins, name), f"{module.__name__}.{name}"

    integration.uninstall()

    assert not integration.is_installed()
    for (module, name), original in bound.items():
        assert getattr(module, name) is original, f"{module.__name__}.{name}"
    integration.uninstall()  # a no-op when not installed


def test_install_is_idempotent_and_can_hand_over_to_another_registry(in_charge: None) -> None:
    first = ConnectionRegistry(policy=Policy())
    second = ConnectionRegistry(policy=Policy())

    assert integration.install(first) is first
    replaced = odibi.plugins.get_connection_factory
    assert integration.install() is first  # no registry given: the one in charge stays
    assert integration.install(second) is second
    assert odibi.plugins.get_connection_factory is replaced  # patched once, not twice


def test_install_without_a_registry_uses_the_process_wide_default(in_charge: None) -> None:
    import odibi_ext.plugins

    assert integration.install() is odibi_ext.plugins.default_registry()


def test_modules_odibi_imports_later_bind_the_replacements_and_get_the_originals_back(
    tmp_path: Path,
) -> None:
    result = child(
        """
        import json, sys
        import odibi.plugins
        original = odibi.plugins.get_connection_factory
        from odibi_ext import odibi as integration
        integration.install()
        assert "odibi.pipeline" not in sys.modules
        import odibi.pipeline
        bound_under = odibi.pipeline.get_connection_factory is odibi.plugins.get_connection_factory
        integration.uninstall()
        print(json.dumps([
            bound_under,
            odibi.pipeline.get_connection_factory is original,
            odibi.plugins.get_connection_factory is original,
        ]))
        """,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout) == [True, True, True]


# == refusing an Odibi that is missing, unsupported or reshaped ===============================


def test_an_odibi_outside_the_supported_range_is_refused_and_nothing_is_changed(
    site: FakeSite, in_charge: None
) -> None:
    # A real dist-info of an old Odibi, found first on sys.path.
    site.distribution("odibi", "2.3.0", entry_points={})
    before = {name: getattr(odibi.plugins, name) for name in ODIBI_SEAMS}

    with pytest.raises(OdibiExtError) as caught:
        integration.install(ConnectionRegistry(policy=Policy()))

    message = str(caught.value)
    assert "odibi 2.3.0" in message
    assert integration.SUPPORTED in message
    assert not integration.is_installed()
    assert {name: getattr(odibi.plugins, name) for name in ODIBI_SEAMS} == before


def test_an_odibi_whose_seams_were_replaced_by_other_code_is_refused_untouched(
    monkeypatch: pytest.MonkeyPatch, in_charge: None
) -> None:
    import odibi.pipeline

    # What another library patching Odibi would leave behind.
    monkeypatch.setattr(odibi.pipeline, "get_connection_factory", lambda type_name: None)
    before = {name: getattr(odibi.plugins, name) for name in ODIBI_SEAMS}

    with pytest.raises(OdibiExtError) as caught:
        integration.install(ConnectionRegistry(policy=Policy()))

    assert "odibi.pipeline.get_connection_factory" in str(caught.value)
    assert "3.15.1" in str(caught.value)
    assert not integration.is_installed()
    assert {name: getattr(odibi.plugins, name) for name in ODIBI_SEAMS} == before


def test_without_odibi_install_says_what_to_install_and_the_cli_exits_2(tmp_path: Path) -> None:
    # -S: no site-packages, so neither Odibi nor its metadata can be found.
    script = f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from odibi_ext import odibi as integration
        from odibi_ext import OdibiExtError
        try:
            integration.install()
        except OdibiExtError as error:
            print("refused:", error)
        from odibi_ext.cli import main
        sys.exit(main(["odibi", "run", "project.yaml"]))
        """
    result = subprocess.run(
        [sys.executable, "-S", "-c", textwrap.dedent(script)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2, result.stderr
    assert "refused: Odibi is not installed" in result.stdout
    assert "pip install 'odibi-ext[odibi]'" in result.stdout
    assert "pip install 'odibi-ext[odibi]'" in result.stderr
    assert "Traceback" not in result.stderr


# == lazy and contained =======================================================================


def test_load_plugins_imports_nothing_and_a_project_loads_only_what_it_uses(
    site: FakeSite, tmp_path: Path, in_charge: None
) -> None:
    for name in ("used", "unused"):
        site.distribution(
            f"odibi-{name}",
            entry_points={name: f"{name}_driver:create"},
            modules={f"{name}_driver": GOOD_FACTORY},
        )
    integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))

    odibi.plugins.load_plugins()
    assert site.imports("used_driver") == site.imports("unused_driver") == 0

    built = build(
        {
            "mine": {"type": "used", "setting": 1},
            "files": {"type": "local", "base_path": str(tmp_path)},
        }
    )

    assert type(built["files"]).__name__ == "LocalConnection"  # Odibi's own built-in
    assert built["mine"].config["setting"] == 1
    assert site.imports("used_driver") == 1
    assert site.imports("unused_driver") == 0


def test_stock_odibi_dies_of_odibi_faulty_and_the_integration_survives_it(
    faulty_target: Path, tmp_path: Path
) -> None:
    build_local = """
        from odibi.pipeline import PipelineManager
        configs = {"files": {"type": "local", "base_path": "."}}
        built = PipelineManager._build_connections(configs)
        import json, sys
        print(json.dumps([
            type(built["files"]).__name__,
            sorted(m for m in sys.modules if m.startswith("odibi_faulty")),
        ]))
        """
    stock = child(build_local, cwd=tmp_path, paths=[faulty_target])
    managed = child(
        """
        from odibi_ext import ConnectionRegistry, Policy
        from odibi_ext import odibi as integration
        integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))
        """
        + build_local,
        cwd=tmp_path,
        paths=[faulty_target],
    )

    assert stock.returncode == 3  # odibi-faulty's sys.exit(3) ends stock Odibi
    assert managed.returncode == 0, managed.stderr
    assert last_json(managed.stdout) == ["LocalConnection", []]  # no faulty module imported


def test_each_fault_of_odibi_faulty_fails_its_project_with_odibi_ext_s_message(
    faulty_target: Path, tmp_path: Path
) -> None:
    result = child(
        f"""
        import json
        from odibi_ext import ConnectionRegistry, Policy
        from odibi_ext import odibi as integration
        integration.install(ConnectionRegistry(policy=Policy(pins={{"local": "odibi"}})))
        from odibi.pipeline import PipelineManager
        report = {{}}
        for type_name in {sorted(set(FAULTS) - {"faulty-bad-connection"})!r}:
            try:
                PipelineManager._build_connections({{"c": {{"type": type_name}}}})
                report[type_name] = "built"
            except BaseException as error:
                report[type_name] = type(error).__name__ + ": " + str(error)
        print(json.dumps(report))
        """,
        cwd=tmp_path,
        paths=[faulty_target],
    )

    assert result.returncode == 0, result.stderr  # the process survived every fault
    report = last_json(result.stdout)
    # faulty-bad-connection returns a dict: Odibi uses it, so the integration does too
    # (test_odibi_seams.py covers that); the standalone contract refuses it.
    for type_name, symptom in FAULTS.items():
        if type_name == "faulty-bad-connection":
            continue
        message = report[type_name]
        assert symptom in message, (type_name, message)
        assert repr(type_name) in message, message
        assert "odibi-faulty 0.1.0" in message, message
        assert "Unsupported connection type" not in message


# == Odibi's built-ins are drivers, conflicts like any other ==================================


def test_a_plugin_claiming_local_is_a_conflict_naming_both_providers_and_the_pin(
    site: FakeSite, tmp_path: Path, in_charge: None
) -> None:
    hijacker(site)
    integration.install(ConnectionRegistry(policy=Policy()))

    with pytest.raises(DriverConflictError) as caught:
        build({"files": {"type": "local", "base_path": str(tmp_path)}})

    message = str(caught.value)
    assert "odibi 3.15.1 (built-in odibi.connections.factory:create_local_connection)" in message
    assert "odibi-hijack 6.6.6 (hijack_local:create)" in message
    assert 'local = "odibi" keeps Odibi\'s built-in' in message
    assert site.imports("hijack_local") == 0


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"pins": {"local": "odibi"}}, "LocalConnection"),
        ({"pins": {"local": "odibi-hijack"}}, "HijackConnection"),
        ({"on_conflict": "last"}, "HijackConnection"),  # stock Odibi: the plugin wins
        ({"on_conflict": "first"}, "LocalConnection"),
    ],
    ids=["pin-builtin", "pin-plugin", "last", "first"],
)
def test_the_policy_settles_local_either_way(
    site: FakeSite, tmp_path: Path, in_charge: None, rules: dict[str, Any], expected: str
) -> None:
    hijacker(site)
    # Only the hijacker's plugins are allowed: built-ins are never hidden by this.
    policy = Policy(allowed_distributions=frozenset({"odibi-hijack"}), **rules)
    integration.install(ConnectionRegistry(policy=policy))

    built = build({"files": {"type": "local", "base_path": str(tmp_path)}})

    assert type(built["files"]).__name__ == expected


def test_builtins_show_with_odibi_s_provenance_and_the_enum_means_its_value(
    in_charge: None,
) -> None:
    from odibi.config import ConnectionType

    registry = integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))
    info = registry.info(ConnectionType.LOCAL)  # type: ignore[arg-type]

    assert (info.name, info.origin, info.distribution) == ("local", "builtin", "odibi")
    assert info.version == odibi.__version__
    assert info.target == "odibi.connections.factory:create_local_connection"
    assert set(ODIBI_BUILTINS) >= {"local", "http", "delta", "sql_server", "postgres"}
    assert set(ODIBI_BUILTINS) <= set(registry.names())
    factory = odibi.plugins.get_connection_factory(ConnectionType.LOCAL)
    assert factory.__wrapped__ is registry.get("local")
    assert registry.get(ConnectionType.LOCAL) is registry.get("local")  # type: ignore[arg-type]


def test_odibi_s_builtins_are_exactly_what_register_builtins_registers() -> None:
    # Run Odibi's own register_builtins into a fresh dict and compare.
    import odibi.connections.factory

    registered: dict[str, Any] = {}
    saved = odibi.connections.factory.register_connection_factory
    odibi.connections.factory.register_connection_factory = registered.__setitem__
    try:
        odibi.connections.factory.register_builtins()
    finally:
        odibi.connections.factory.register_connection_factory = saved

    registry = ConnectionRegistry(policy=Policy(pins={"local": "odibi"}))
    assert sorted(registered) == sorted(ODIBI_BUILTINS)
    for type_name, factory in registered.items():
        info = registry.info(type_name)
        builtin = next(c for c in info.candidates if c.origin == "builtin")
        assert builtin.target == f"{factory.__module__}:{factory.__qualname__}"


def test_a_factory_the_user_registers_is_never_replaced_by_odibi_s_builtins(
    tmp_path: Path, in_charge: None
) -> None:
    class Mine:
        def __init__(self, config: Any) -> None:
            self.config = config

        def get_path(self, relative_path: str) -> str:
            return relative_path

        def validate(self) -> None:
            pass

    def mine(name: str, config: Any) -> Mine:
        return Mine(config)

    integration.install(ConnectionRegistry(policy=Policy()))
    odibi.plugins.register_connection_factory("local", mine)

    # _build_connections registers Odibi's built-ins again before building.
    built = build({"files": {"type": "local", "base_path": str(tmp_path)}})
    again = build({"files": {"type": "local", "base_path": str(tmp_path)}})

    assert isinstance(built["files"], Mine)
    assert isinstance(again["files"], Mine)
    assert odibi.plugins._CONNECTION_FACTORIES["local"] is mine


# == unknown, disabled ========================================================================


def test_a_typo_is_still_odibi_s_value_error_with_a_did_you_mean_and_what_exists(
    site: FakeSite, in_charge: None
) -> None:
    site.distribution(
        "odibi-warehouse",
        entry_points={"warehouse": "warehouse_driver:create"},
        modules={"warehouse_driver": GOOD_FACTORY},
    )
    integration.install(ConnectionRegistry(policy=Policy()))

    with pytest.raises(ValueError, match=r"^Unsupported connection type: warehous") as caught:
        build({"dw": {"type": "warehous"}})

    message = str(caught.value)
    assert isinstance(caught.value, DriverNotFoundError)
    assert "did you mean 'warehouse'?" in message
    assert "local" in message  # built-ins and plugins alike
    assert "warehouse" in message.split("Available drivers:")[1]


def test_a_disabled_builtin_fails_the_project_with_the_policy_s_reason(
    tmp_path: Path, in_charge: None
) -> None:
    integration.install(ConnectionRegistry(policy=Policy(disabled=frozenset({"http"}))))

    with pytest.raises(DriverNotFoundError) as caught:
        build({"api": {"type": "http", "base_url": "http://127.0.0.1:9"}})

    assert "'http' cannot be used: disabled" in str(caught.value)
    assert "Unsupported connection type" not in str(caught.value)


# == Odibi's CLI and odibi-ext's, with Odibi installed ========================================


def test_odibi_list_connections_under_the_integration_shows_plugins_unimported(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    site.distribution(
        "odibi-warehouse",
        entry_points={"warehouse": "warehouse_driver:create"},
        modules={"warehouse_driver": GOOD_FACTORY},
    )

    managed = subprocess.run(
        [sys.executable, "-m", "odibi_ext", "odibi", "list", "connections", "--format", "json"],
        check=False,
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert managed.returncode == 0, managed.stderr
    listed = {entry["name"] for entry in json.loads(managed.stdout)}
    assert {"warehouse", "local", "sqlite"} <= listed
    assert site.imports("warehouse_driver") == 0


def test_odibi_ext_list_shows_builtins_and_a_hijack_without_importing_odibi_s_factories(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    hijacker(site)

    result = child(
        """
        import json, sys
        from odibi_ext.cli import main
        code = main(["list", "--format", "json"])
        heavy = sorted(m for m in ("pandas", "odibi.connections.factory") if m in sys.modules)
        print(json.dumps(heavy), file=sys.stderr)
        sys.exit(code)
        """,
        cwd=tmp_path,
        env=cli_env,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
    drivers = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert drivers["http"]["origin"] == "builtin"
    assert drivers["http"]["distribution"] == "odibi"
    assert drivers["local"]["status"] == "conflict"
    assert "odibi-hijack" in drivers["local"]["error"]
    assert site.imports("hijack_local") == 0


def test_after_a_hand_over_odibi_s_connections_come_from_the_new_registry(
    tmp_path: Path, in_charge: None
) -> None:
    first = ConnectionRegistry(policy=Policy(pins={"local": "odibi"}))
    second = ConnectionRegistry(policy=Policy(pins={"local": "odibi"}))
    integration.install(first)
    build({"files": {"type": "local", "base_path": str(tmp_path)}})

    integration.install(second)
    build({"files": {"type": "local", "base_path": str(tmp_path)}})

    # The same built-in function, but created (and so loaded) by the registry in charge.
    assert second.info("local").status == "loaded"
