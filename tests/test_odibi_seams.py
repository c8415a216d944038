"""Every factory Odibi sees has a provider, obeys the policy, and answers as Odibi's seams do.

Each test is one way real Odibi code registers or looks up factories (issue 18):
plugin modules that call ``odibi.plugins.register_connection_factory`` while
they are imported, a project's ``plugins.py``, an application registering at
start-up, tests patching a built-in, plugin code asking whether a name
exists. Real plugins (dist-info dirs on a temp path), the real Odibi
(a missing Odibi fails these tests), real projects; what could hang or
touches a fresh interpreter's imports runs in a child process with a deadline.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import odibi.plugins
import pytest
from conftest import GOOD_FACTORY
from conftest import FakeSite
from plugin_kit import run_process

from odibi_ext import ConnectionRegistry
from odibi_ext import DriverConflictError
from odibi_ext import DriverLoadError
from odibi_ext import Policy
from odibi_ext import odibi as integration

#: A plugin module registering more than its entry point at import, Odibi's documented way.
REGISTERS_AT_IMPORT = (
    GOOD_FACTORY
    + """
from odibi.plugins import register_connection_factory


class {cls}:
    def __init__(self, name, config):
        self.config = dict(config)

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        pass


def {function}(name, config):
    return {cls}(name, config)


register_connection_factory({registered!r}, {function})
"""
)


def registering_plugin(
    site: FakeSite,
    dist: str,
    entry: str,
    module: str,
    registered: str,
    cls: str = "RegisteredConnection",
) -> None:
    """``dist`` offers ``entry`` (``module:create``); its module registers ``registered``."""
    site.distribution(
        dist,
        "2.0.0",
        entry_points={entry: f"{module}:create"},
        modules={
            module: REGISTERS_AT_IMPORT.format(
                cls=cls, function="create_registered", registered=registered
            )
        },
    )


@pytest.fixture(autouse=True)
def odibi_restored(odibi_host: Any) -> Iterator[None]:
    """The integration is removed and Odibi's own table emptied again after each test."""
    table = odibi.plugins._CONNECTION_FACTORIES
    before = dict(table) if isinstance(table, dict) else {}
    yield
    integration.uninstall()
    assert not integration.is_installed()
    odibi.plugins._CONNECTION_FACTORIES.clear()
    odibi.plugins._CONNECTION_FACTORIES.update(before)


def build(connections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from odibi.pipeline import PipelineManager

    built: dict[str, Any] = PipelineManager._build_connections(connections)
    return built


def child(
    script: str, *, cwd: Path, env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return run_process(
        [sys.executable, "-c", textwrap.dedent(script)], env, timeout=timeout, cwd=cwd
    )


def last_json(text: str) -> Any:
    return json.loads(text.strip().splitlines()[-1])


# == 1. registrations by a plugin's code are candidates of its distribution ===================


def test_a_plugin_registering_local_at_import_obeys_the_pin_to_odibi(
    site: FakeSite, tmp_path: Path
) -> None:
    registering_plugin(site, "odibi-acme", "acme", "acme_mod", "local", "HijackConnection")
    integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))

    build({"a": {"type": "acme"}})  # imports the plugin, which registers local
    built = build({"files": {"type": "local", "base_path": str(tmp_path)}})

    assert type(built["files"]).__name__ == "LocalConnection"
    registry = integration.install()
    registered = [c for c in registry.info("local").candidates if c.origin == "registered"]
    assert [(c.distribution, c.version, c.registered_by) for c in registered] == [
        ("odibi-acme", "2.0.0", "acme_mod")
    ]


def test_without_a_pin_the_registration_is_a_conflict_naming_both_and_last_is_stock(
    site: FakeSite, tmp_path: Path
) -> None:
    registering_plugin(site, "odibi-acme", "acme", "acme_mod", "local", "HijackConnection")
    integration.install(ConnectionRegistry(policy=Policy()))
    build({"a": {"type": "acme"}})

    with pytest.raises(DriverConflictError) as caught:
        build({"files": {"type": "local", "base_path": str(tmp_path)}})

    message = str(caught.value)
    assert "odibi 3.15.1 (built-in odibi.connections.factory:create_local_connection)" in message
    assert "odibi-acme 2.0.0 (registered by acme_mod)" in message
    assert 'local = "odibi"' in message


def test_on_conflict_last_gives_stock_s_answer_to_an_import_time_hijack(
    site: FakeSite, tmp_path: Path
) -> None:
    registering_plugin(site, "odibi-acme2", "acme2", "acme2_mod", "local", "HijackConnection")
    integration.install(ConnectionRegistry(policy=Policy(on_conflict="last")))

    build({"a": {"type": "acme2"}})
    built = build({"files": {"type": "local", "base_path": str(tmp_path)}})

    assert type(built["files"]).__name__ == "HijackConnection"  # as stock Odibi does


# == 2. patching a built-in and restoring it ==================================================


def test_a_patched_builtin_serves_while_patched_and_the_real_one_after(tmp_path: Path) -> None:
    import odibi.connections.factory

    class Fake:
        def get_path(self, relative_path: str) -> str:
            return relative_path

        def validate(self) -> None:
            pass

    def fake(name: str, config: Any) -> Fake:
        return Fake()

    integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))
    files = {"files": {"type": "local", "base_path": str(tmp_path)}}

    with mock.patch("odibi.connections.factory.create_local_connection", fake):
        assert isinstance(build(files)["files"], Fake)
    after = build(files)

    assert type(after["files"]).__name__ == "LocalConnection"
    assert odibi.connections.factory.create_local_connection is not fake


# == 3. an entry point wins over what its own module registers ================================


def test_an_entry_point_wins_over_its_own_module_s_registration_of_the_same_name(
    site: FakeSite,
) -> None:
    site.distribution(
        "odibi-dual",
        entry_points={"dual": "dual_mod:create_v2"},
        modules={
            "dual_mod": """
                from odibi.plugins import register_connection_factory

                class V1:
                    def get_path(self, p): return p
                    def validate(self): pass

                class V2(V1):
                    pass

                def create_v1(name, config): return V1()
                def create_v2(name, config): return V2()

                register_connection_factory("dual", create_v1)
                """
        },
    )
    registry = integration.install(ConnectionRegistry(policy=Policy()))

    built = build({"d": {"type": "dual"}, "again": {"type": "dual"}})

    assert type(built["d"]).__name__ == type(built["again"]).__name__ == "V2"
    assert registry.info("dual").target == "dual_mod:create_v2"
    assert registry.info("dual").status == "loaded"


# == 4. what Odibi's table holds when install() runs is adopted ===============================


def test_factories_registered_before_install_are_adopted_with_their_provider(
    site: FakeSite, tmp_path: Path
) -> None:
    registering_plugin(site, "odibi-early", "early", "early_mod", "early_extra")

    class Mine:
        def get_path(self, relative_path: str) -> str:
            return relative_path

        def validate(self) -> None:
            pass

    def mine(name: str, config: Any) -> Mine:
        return Mine()

    odibi.plugins.register_connection_factory("mytype", mine)  # the application, at start-up
    build({"e": {"type": "early"}})  # a stock load: Odibi imports every plugin
    assert "early_extra" in odibi.plugins._CONNECTION_FACTORIES

    registry = integration.install(ConnectionRegistry(policy=Policy()))
    built = build({"m": {"type": "mytype"}, "x": {"type": "early_extra"}})

    assert isinstance(built["m"], Mine)
    assert type(built["x"]).__name__ == "RegisteredConnection"
    assert registry.info("mytype").distribution is None
    extra = registry.info("early_extra")
    assert (extra.origin, extra.distribution, extra.version) == (
        "registered",
        "odibi-early",
        "2.0.0",
    )


# == 5. and 6. (threads) ======================================================================


SELF_LOOKUP_IN_A_THREAD = (
    GOOD_FACTORY
    + """
import threading
from odibi.plugins import get_connection_factory

answers = []
worker = threading.Thread(target=lambda: answers.append(get_connection_factory("selfish")))
worker.start()
worker.join()
"""
)


def test_a_plugin_whose_import_looks_itself_up_from_a_thread_it_joins_does_not_hang(
    site: FakeSite, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    site.distribution(
        "odibi-selfish",
        entry_points={"selfish": "selfish_mod:create"},
        modules={"selfish_mod": SELF_LOOKUP_IN_A_THREAD},
    )

    result = child(
        """
        import json, sys
        from odibi_ext import ConnectionRegistry, Policy
        from odibi_ext import odibi as integration
        integration.install(ConnectionRegistry(policy=Policy()))
        from odibi.pipeline import PipelineManager
        built = PipelineManager._build_connections({"s": {"type": "selfish"}})
        print(json.dumps([type(built["s"]).__name__, sys.modules["selfish_mod"].answers]))
        """,
        cwd=tmp_path,
        env=subprocess_env,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout) == ["FakeConnection", [None]]  # stock's answer


def test_uninstall_while_another_thread_builds_leaves_that_build_working(
    site: FakeSite, tmp_path: Path
) -> None:
    site.distribution(
        "odibi-slow",
        entry_points={"slowpoke": "slow_mod:create"},
        modules={
            "slow_mod": GOOD_FACTORY.replace("def create(", "def _create(")
            + """
import threading
entered = threading.Event()
release = threading.Event()

def create(name, config):
    entered.set()
    assert release.wait(60)
    return _create(name, config)
"""
        },
    )
    integration.install(ConnectionRegistry(policy=Policy(pins={"local": "odibi"})))
    outcome: dict[str, Any] = {}

    def building() -> None:
        try:
            outcome["built"] = build(
                {"slow": {"type": "slowpoke"}, "files": {"type": "local", "base_path": "."}}
            )
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=building)
    thread.start()
    slow_mod = sys.modules.get("slow_mod")
    for _ in range(600):  # the module appears once the build imports it
        slow_mod = sys.modules.get("slow_mod")
        if slow_mod is not None and hasattr(slow_mod, "entered"):
            break
        threading.Event().wait(0.1)
    assert slow_mod is not None
    assert slow_mod.entered.wait(60)
    integration.uninstall()
    slow_mod.release.set()
    thread.join(60)

    assert "error" not in outcome, outcome.get("error")
    assert type(outcome["built"]["files"]).__name__ == "LocalConnection"


def test_install_while_another_thread_imports_odibi_pipeline(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    result = child(
        """
        import json, sys, threading
        import odibi.plugins

        import importlib.machinery

        class Gate:
            # A real import hook holding odibi.pipeline's import half-way (while it
            # executes odibi.lineage), before it binds odibi.plugins' functions.
            arrived = threading.Event()
            release = threading.Event()

            def find_spec(self, name, path=None, target=None):
                if name != "odibi.lineage" or threading.current_thread().name != "importer":
                    return None
                spec = importlib.machinery.PathFinder.find_spec(name, path)
                real, gate = spec.loader, self

                class Held:
                    def create_module(self, spec):
                        return real.create_module(spec)

                    def exec_module(self, module):
                        gate.arrived.set()
                        assert gate.release.wait(120)
                        real.exec_module(module)

                spec.loader = Held()
                return spec

        gate = Gate()
        sys.meta_path.insert(0, gate)
        importer = threading.Thread(target=lambda: __import__("odibi.pipeline"), name="importer")
        importer.start()
        assert gate.arrived.wait(120)
        from odibi_ext import ConnectionRegistry, Policy
        from odibi_ext import odibi as integration
        integration.install(ConnectionRegistry(policy=Policy()))
        gate.release.set()
        importer.join(120)
        assert not importer.is_alive()
        import odibi.pipeline
        bound = odibi.pipeline.get_connection_factory is odibi.plugins.get_connection_factory
        built = odibi.pipeline.PipelineManager._build_connections(
            {"f": {"type": "local", "base_path": "."}}
        )
        print(json.dumps([bound, type(built["f"]).__name__]))
        """,
        cwd=tmp_path,
        env=subprocess_env,
    )

    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout) == [True, "LocalConnection"]


# == 6. extra names, whatever the order ======================================================


def test_an_extra_name_a_plugin_registers_works_in_either_order_and_next_time_lazily(
    site: FakeSite, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    registering_plugin(site, "odibi-acmesso", "acme", "acmesso_mod", "acme_sso")
    site.distribution(
        "odibi-bystander",
        entry_points={"bystander": "bystander_mod:create"},
        modules={"bystander_mod": GOOD_FACTORY},
    )
    script = """
        import json, sys
        from odibi_ext import ConnectionRegistry, Policy
        from odibi_ext import odibi as integration
        registry = integration.install(ConnectionRegistry(policy=Policy()))
        from odibi.pipeline import PipelineManager
        connections = {"b": {"type": "acme_sso"}, "a": {"type": "acme"}}
        built = PipelineManager._build_connections(connections)
        info = registry.info("acme_sso")
        print(json.dumps([
            sorted(type(c).__name__ for c in built.values()),
            [info.origin, info.distribution],
            "bystander_mod" in sys.modules,
        ]))
        """
    env = dict(subprocess_env, ODIBI_EXT_CACHE_DIR=str(tmp_path / "cache"))

    first = child(script, cwd=tmp_path, env=env)
    second = child(script, cwd=tmp_path, env=env)

    assert first.returncode == 0, first.stderr
    assert last_json(first.stdout) == [
        ["FakeConnection", "RegisteredConnection"],
        ["registered", "odibi-acmesso"],
        True,  # found as Odibi finds it: every plugin imported
    ]
    assert second.returncode == 0, second.stderr
    assert last_json(second.stdout)[2] is False  # remembered: only its driver imported


# == 7. get_connection_factory answers None ===================================================


def test_register_if_absent_works_and_an_unknown_name_is_none(site: FakeSite) -> None:
    site.distribution(
        "odibi-polite",
        entry_points={"polite": "polite_mod:create"},
        modules={
            "polite_mod": GOOD_FACTORY
            + """
from odibi.plugins import get_connection_factory, register_connection_factory

if get_connection_factory("polite_alias") is None:
    register_connection_factory("polite_alias", create)
"""
        },
    )
    integration.install(ConnectionRegistry(policy=Policy()))

    assert odibi.plugins.get_connection_factory("no-such-type") is None
    built = build({"p": {"type": "polite"}, "q": {"type": "polite_alias"}})

    assert type(built["p"]).__name__ == type(built["q"]).__name__ == "FakeConnection"


# == 8. register_connection_factory accepts what Odibi accepts ================================

PROJECT_PLUGINS = """
from odibi.plugins import register_connection_factory


class Good:
    def __init__(self, config):
        self.config = config

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        pass


def refused(config):  # one parameter: odibi-ext's contract refuses it, Odibi stores it
    return Good(config)


register_connection_factory("refused", refused)
register_connection_factory(" spaced ", refused)
register_connection_factory("nothing", None)
register_connection_factory("good", lambda name, config: Good(config))
"""


def project(home: Path, **connections: dict[str, Any]) -> Path:
    """A real Odibi project copying a CSV file, with a ``plugins.py`` beside it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "data").mkdir(exist_ok=True)
    (home / "data" / "in.csv").write_text("id,name\n1,a\n2,b\n")
    (home / "plugins.py").write_text(PROJECT_PLUGINS)
    spec = {
        "project": "seams",
        "engine": "pandas",
        "retry": {"enabled": False},
        "connections": {"data": {"type": "local", "base_path": str(home / "data")}, **connections},
        "story": {"connection": "data", "path": "stories"},
        "system": {"connection": "data", "path": "_system", "async_derived_updates": False},
        "pipelines": [
            {
                "pipeline": "p",
                "nodes": [
                    {
                        "name": "copy",
                        "read": {"connection": "data", "format": "csv", "path": "in.csv"},
                        "write": {
                            "connection": "data",
                            "format": "csv",
                            "path": "out.csv",
                            "mode": "overwrite",
                        },
                    }
                ],
            }
        ],
    }
    path = home / "project.yaml"
    path.write_text(json.dumps(spec, indent=2))
    return path


def test_a_project_s_plugins_py_registers_as_under_stock_odibi(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    path = project(tmp_path / "proj", mine={"type": "good"})
    odibi_script = Path(sys.executable).parent / "odibi"

    stock = run_process([str(odibi_script), "run", str(path)], subprocess_env, cwd=tmp_path)
    managed = run_process(
        [sys.executable, "-m", "odibi_ext", "odibi", "run", str(path)],
        subprocess_env,
        cwd=tmp_path,
    )

    assert stock.returncode == 0, stock.stdout + stock.stderr
    assert managed.returncode == 0, managed.stdout + managed.stderr
    assert "entry point" not in managed.stderr


def test_a_refused_factory_becomes_a_failing_driver_that_names_the_call(tmp_path: Path) -> None:
    def refused(config: Any) -> None:  # one parameter
        raise AssertionError("never called")

    registry = integration.install(ConnectionRegistry(policy=Policy()))
    odibi.plugins.register_connection_factory("refused", refused)  # no exception, as in Odibi
    odibi.plugins.register_connection_factory(" spaced ", refused)
    odibi.plugins.register_connection_factory("nothing", None)  # type: ignore[arg-type]

    with pytest.raises(DriverLoadError) as caught:
        build({"r": {"type": "refused"}})

    message = str(caught.value)
    assert "expected a callable accepting (name, config), got function" in message
    assert "register_connection_factory" in message
    assert "entry point" not in message
    assert set(registry.failures()) >= {"refused", " spaced ", "nothing"}


# == 9. connections Odibi would use ===========================================================


def test_a_connection_without_validate_is_used_with_one_warning(
    site: FakeSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site.distribution(
        "odibi-wrapper",
        entry_points={"wrapper": "wrapper_mod:create"},
        modules={
            "wrapper_mod": """
                class Wrapper:  # as Odibi's docs show: no validate()
                    def __init__(self, config):
                        self.config = config

                    def get_path(self, relative_path):
                        return relative_path

                def create(name, config):
                    return Wrapper(config)
                """
        },
    )
    registry = integration.install(ConnectionRegistry(policy=Policy()))

    with caplog.at_level(logging.WARNING, logger="odibi_ext"):
        built = build({"w": {"type": "wrapper"}, "w2": {"type": "wrapper"}})

    assert type(built["w"]).__name__ == type(built["w2"]).__name__ == "Wrapper"
    warnings = [r.getMessage() for r in caplog.records if "'wrapper'" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "odibi-wrapper 1.0.0" in warnings[0]
    assert "validate" in warnings[0]
    with pytest.raises(Exception, match="not a connection"):  # the standalone contract
        registry.create("wrapper", "w", {})


# == 12. Odibi's table, as a dict =============================================================


def test_odibi_s_table_behaves_as_a_dict_of_the_usable_names(
    site: FakeSite, tmp_path: Path
) -> None:
    site.distribution(
        "odibi-hijack",
        entry_points={"local": "hijack_local:create"},
        modules={"hijack_local": GOOD_FACTORY},
    )
    site.distribution(
        "odibi-broken",
        entry_points={"broken": "broken_mod:create"},
        modules={"broken_mod": "raise ImportError('no such thing')"},
    )
    integration.install(
        ConnectionRegistry(policy=Policy(disabled=frozenset({"http"}), pins={"delta": "odibi"}))
    )
    table = odibi.plugins._CONNECTION_FACTORIES
    with pytest.raises(DriverLoadError):
        build({"b": {"type": "broken"}})

    assert "local" not in table  # conflicting
    assert "http" not in table  # disabled
    assert "broken" not in table  # failing
    assert table.get("local") is None
    assert table.get("broken") is None
    assert table.get(None) is None
    assert "delta" in table
    assert "delta" in list(table)
    assert len(table) == len(list(table))
    assert site.imports("hijack_local") == 0
    copied = table.copy()
    assert type(copied) is dict
    assert "delta" in copied
    assert "local" not in copied
    del table["delta"]  # forgets: offered again on next use
    assert "delta" in table


# == 13. what Odibi's CLI and the did-you-mean offer ==========================================


def test_odibi_s_cli_and_the_did_you_mean_leave_out_disabled_and_conflicting_types(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    site.distribution(
        "odibi-hijack",
        entry_points={"local": "hijack_local:create"},
        modules={"hijack_local": GOOD_FACTORY},
    )
    policy = tmp_path / "policy.toml"
    policy.write_text('[odibi_ext]\ndisabled = ["sqlite", "http"]\n')
    base = [sys.executable, "-m", "odibi_ext", "--config", str(policy), "odibi"]

    listed = run_process([*base, "list", "connections", "--format", "json"], cli_env, cwd=tmp_path)
    explained = run_process([*base, "explain", "sqlite"], cli_env, cwd=tmp_path)

    assert listed.returncode == 0, listed.stderr
    names = {entry["name"] for entry in json.loads(listed.stdout)}
    assert "delta" in names
    assert not names & {"sqlite", "http", "local"}
    assert "Connection: sqlite" not in explained.stdout

    integration.install(ConnectionRegistry(policy=Policy.from_file(policy)))
    with pytest.raises(ValueError, match=r"^Unsupported connection type: sqlit") as caught:
        build({"x": {"type": "sqlit"}})
    available = str(caught.value).split("Available drivers:")[1]
    assert "delta" in available
    assert "sqlite" not in available
    assert "http" not in available


# == 14. secrets in a plugin's exception text =================================================


def test_a_password_in_a_factory_s_system_exit_is_masked(
    site: FakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site.distribution(
        "odibi-login",
        entry_points={"login": "login_mod:create"},
        modules={
            "login_mod": """
                def create(name, config):
                    raise SystemExit(
                        f"login failed for {config['user']} with {config['password']}"
                    )
                """
        },
    )
    integration.install(ConnectionRegistry(policy=Policy()))
    secret = "Tr0ub4dor-and-3"

    with pytest.raises(ValueError, match="Failed to create connection 'db'") as caught:
        build({"db": {"type": "login", "user": "ana", "password": secret}})

    message = str(caught.value)
    assert "login failed for ana with ***" in message
    assert secret not in message
    assert secret not in str(caught.value.__cause__)


# == LOW ======================================================================================


def test_reloading_odibi_plugins_is_repaired_by_install_and_undone_by_uninstall() -> None:
    import importlib

    import odibi.pipeline

    integration.install(ConnectionRegistry(policy=Policy()))
    importlib.reload(odibi.plugins)

    assert not integration.is_installed()
    integration.install(ConnectionRegistry(policy=Policy()))
    assert integration.is_installed()
    assert odibi.pipeline.get_connection_factory is odibi.plugins.get_connection_factory
    integration.uninstall()
    assert odibi.pipeline.get_connection_factory is odibi.plugins.get_connection_factory
    assert odibi.pipeline.load_plugins is odibi.plugins.load_plugins


def test_run_with_another_registry_gives_the_one_in_charge_back(tmp_path: Path) -> None:
    first = integration.install(ConnectionRegistry(policy=Policy()))
    second = ConnectionRegistry(policy=Policy())

    assert integration.run(["--help"], registry=second) == 0

    assert integration.install() is first


def test_a_relative_cache_dir_means_the_directory_odibi_ext_starts_in(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    # A plugin connection makes odibi-ext discover, and write its index.
    site.distribution(
        "odibi-relcache",
        entry_points={"relcache": "relcache_mod:create"},
        modules={"relcache_mod": GOOD_FACTORY},
    )
    path = project(tmp_path / "proj", extra={"type": "relcache"})
    # Odibi puts the project's folder on sys.path (for its plugins.py): its data
    # moves out, so that the run's writes change no sys.path entry.
    data = tmp_path / "data"
    (path.parent / "data").rename(data)
    path.write_text(path.read_text().replace(str(path.parent / "data"), str(data)))
    start = tmp_path / "start"
    start.mkdir()
    env = dict(cli_env, ODIBI_EXT_CACHE_DIR="rel-cache", PYTHONDONTWRITEBYTECODE="1")
    # The index is written only when no sys.path entry changed in the last seconds
    # (index.RACY_WINDOW_NS): the start directory (sys.path[0] under -m), the site
    # and the project were just written, so they are backdated, as if installed a
    # minute ago.
    then = time.time() - 60
    for folder in [start, site.root, path.parent]:
        for entry in [folder, *folder.rglob("*")]:
            os.utime(entry, (then, then))

    result = run_process(
        [sys.executable, "-m", "odibi_ext", "-v", "odibi", "run", str(path)], env, cwd=start
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (start / "rel-cache").is_dir(), result.stderr[-3000:]
    assert not (path.parent / "rel-cache").exists()


def test_a_plugin_looking_itself_up_at_import_gets_none_and_no_error_line(
    site: FakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.distribution(
        "odibi-early-lookup",
        entry_points={"lookup": "lookup_mod:create"},
        modules={
            "lookup_mod": "from odibi.plugins import get_connection_factory\n"
            'ALREADY = get_connection_factory("lookup")\n' + GOOD_FACTORY
        },
    )
    integration.install(ConnectionRegistry(policy=Policy()))

    with caplog.at_level(logging.DEBUG, logger="odibi_ext"):
        built = build({"l": {"type": "lookup"}})

    assert type(built["l"]).__name__ == "FakeConnection"
    assert sys.modules["lookup_mod"].ALREADY is None
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# == what check shows ========================================================================


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "isolated"])
def test_check_shows_what_plugins_register_at_import_with_their_provider(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path, isolate: bool
) -> None:
    registering_plugin(site, "odibi-acme", "acme", "acme_mod", "local", "HijackConnection")
    registering_plugin(site, "odibi-acmesso", "acmesso", "acmesso_mod", "acme_sso")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[odibi_ext]\nallowed_distributions = ["odibi-acme", "odibi-acmesso"]\n'
        '[odibi_ext.pins]\nlocal = "odibi"\n'
    )
    command = ["check", "--format", "json", *(["--isolate"] if isolate else [])]

    pinned = run_process(
        [sys.executable, "-m", "odibi_ext", "--config", str(policy), *command], cli_env
    )
    unpinned = run_process([sys.executable, "-m", "odibi_ext", *command], cli_env)

    drivers = {d["name"]: d for d in json.loads(pinned.stdout)["drivers"]}
    local = drivers["local"]
    assert (local["origin"], local["distribution"]) == ("builtin", "odibi")
    assert [
        (c["distribution"], c["registered_by"], c["selected"])
        for c in local["candidates"]
        if c["origin"] == "registered"
    ] == [("odibi-acme", "acme_mod", False)]
    extra = drivers["acme_sso"]
    assert (extra["origin"], extra["distribution"]) == ("registered", "odibi-acmesso")
    conflicts = {d["name"]: d for d in json.loads(unpinned.stdout)["drivers"]}
    assert unpinned.returncode == 1
    assert conflicts["local"]["status"] == "conflict"
    assert "odibi-acme 2.0.0 (registered by acme_mod)" in conflicts["local"]["error"]
