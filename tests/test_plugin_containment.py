"""What a plugin does at run time never becomes odibi-ext's exit, hang or race (issue 12).

A factory that exits while its contract is checked, a factory or ``validate()``
that exits or raises a ``BaseException`` of its own, a plugin whose import
resolves another driver from a worker thread, a plugin that hangs while
``load_all()`` runs, and a ``refresh()`` racing the first import of stevedore.
Real fake distributions on a temp ``sys.path``; the hang-prone cases run in a
subprocess with a deadline, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import ODIBI_BUILTINS
from conftest import FakeSite
from plugin_kit import allow_only
from plugin_kit import install
from plugin_kit import odibi_ext_command
from plugin_kit import plugins_only
from plugin_kit import run_process

import odibi_ext.plugins
from odibi_ext import ConnectionRegistry
from odibi_ext import InvalidFactoryError
from odibi_ext import OdibiExtError
from odibi_ext import Policy
from odibi_ext.cli import main
from odibi_ext.errors import ConnectionFailedError

#: A factory that is a lazy proxy: calling works, but any attribute lookup exits.
LAZY_PROXY_EXITS = """
class _LazyFactory:
    def __call__(self, name, config):
        raise RuntimeError("never called")

    def __getattr__(self, attribute):
        raise SystemExit(4)


create = _LazyFactory()
"""

FACTORY_EXITS = "import sys\n\n\ndef create(name, config):\n    sys.exit(0)\n"

VALIDATE_EXITS = GOOD_FACTORY.replace(
    'if self.config.get("fail"):', "import sys\n        sys.exit(0)\n        if False:"
)


#: validate() raises a BaseException of its own, with the password in its message.
VALIDATE_RAISES_ITS_OWN = (
    GOOD_FACTORY
    + """

class PluginAbort(BaseException):
    pass


def _validate(self):
    raise PluginAbort("cannot log in with " + str(self.config["password"]))


FakeConnection.validate = _validate
"""
)

PASSWORD = "hunter2-very-secret"


def only(*dists: str) -> Policy:
    return Policy(allowed_distributions=frozenset(dists), disabled=frozenset(ODIBI_BUILTINS))


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- SystemExit while the contract is checked ----------------------------------------------------


def test_a_factory_that_exits_when_inspected_is_a_failed_driver(site: FakeSite) -> None:
    dist = install(site, "lazy", LAZY_PROXY_EXITS)
    registry = ConnectionRegistry(policy=only(dist))

    with pytest.raises(InvalidFactoryError, match="whose inspection raised SystemExit: 4"):
        registry.get("lazy")
    with pytest.raises(InvalidFactoryError):  # remembered
        registry.get("lazy")

    [info] = [i for i in ConnectionRegistry(policy=only(dist)).load_all() if i.name == "lazy"]
    assert info.status == "failed"
    assert "SystemExit: 4" in (info.error or "")


def test_load_plugins_survives_a_factory_that_exits_when_inspected(
    site: FakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "ODIBI_EXT_CONFIG", allow_only(tmp_path, install(site, "lazy", LAZY_PROXY_EXITS))
    )

    [info] = [i for i in odibi_ext.plugins.load_plugins() if i.name not in ODIBI_BUILTINS]

    assert info.status == "failed"


def test_every_command_reports_a_factory_that_exits_when_inspected(
    site: FakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = allow_only(tmp_path, install(site, "lazy", LAZY_PROXY_EXITS))

    code, out, _ = cli(capsys, "--config", policy, "list", "--load", "--format", "json")
    assert code == 0
    assert plugins_only(json.loads(out))["lazy"]["status"] == "failed"
    code, out, _ = cli(capsys, "--config", policy, "check", "--format", "json")
    assert code == 1
    assert "SystemExit: 4" in str(plugins_only(json.loads(out)["drivers"])["lazy"]["error"])
    code, out, _ = cli(capsys, "--config", policy, "show", "lazy", "--load", "--format", "json")
    assert code == 0
    assert json.loads(out)["status"] == "failed"
    code, out, err = cli(capsys, "--config", policy, "connect", "lazy", "--format", "json")
    assert code == 1
    assert "SystemExit: 4" in json.loads(out)["error"]
    assert "Traceback" not in err


# -- SystemExit and BaseException from the factory or validate() ---------------------------------


def test_create_turns_a_factory_exit_into_a_failed_connection(site: FakeSite) -> None:
    registry = ConnectionRegistry(policy=only(install(site, "quitter", FACTORY_EXITS)))

    with pytest.raises(
        ConnectionFailedError, match="raised SystemExit: 0 while creating"
    ) as caught:
        registry.create("quitter", "w", {})

    assert isinstance(caught.value, OdibiExtError)
    assert isinstance(caught.value.__cause__, SystemExit)
    assert caught.value.distribution == "odibi-quitter"


def test_create_lets_a_keyboard_interrupt_through(site: FakeSite) -> None:
    source = "def create(name, config):\n    raise KeyboardInterrupt\n"
    registry = ConnectionRegistry(policy=only(install(site, "interrupted", source)))

    with pytest.raises(KeyboardInterrupt):
        registry.create("interrupted", "w", {})


@pytest.mark.parametrize(
    ("type_name", "source", "expected"),
    [
        ("quitter", FACTORY_EXITS, "SystemExit: 0"),
        ("validate-quits", VALIDATE_EXITS, "SystemExit: 0"),
        ("validate-aborts", VALIDATE_RAISES_ITS_OWN, "PluginAbort: cannot log in with ***"),
    ],
)
def test_connect_reports_an_exit_or_base_exception_as_a_failed_connection(
    site: FakeSite,
    capsys: pytest.CaptureFixture[str],
    type_name: str,
    source: str,
    expected: str,
) -> None:
    install(site, type_name, source)

    code, out, err = cli(capsys, "connect", type_name, "--set", f"password={PASSWORD}")

    assert code == 1
    assert out.splitlines()[-1].startswith("result:  failed: ")
    assert expected in out
    assert PASSWORD not in out + err
    assert "Traceback" not in err


def test_connect_in_a_process_exits_1_without_a_traceback_when_validate_aborts(
    site: FakeSite, cli_env: dict[str, str]
) -> None:
    install(site, "validate-aborts", VALIDATE_RAISES_ITS_OWN)

    command = ["connect", "validate-aborts", "--set", f"password={PASSWORD}"]
    done = run_process([*odibi_ext_command("module"), *command], cli_env)

    assert done.returncode == 1, done.stderr
    assert "result:  failed: PluginAbort: cannot log in with ***" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# -- load_all() holds one name's lock at a time ------------------------------------------------


def test_load_plugins_does_not_deadlock_when_an_import_resolves_a_driver_from_a_thread(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    resolver = textwrap.dedent(
        """
        import threading

        import odibi_ext.plugins

        resolved = []
        worker = threading.Thread(
            target=lambda: resolved.append(odibi_ext.plugins.get_connection_factory("b-target"))
        )
        worker.start()
        worker.join()
        assert resolved[0] is not None, "b-target did not resolve"
        """
    )
    dists = [
        install(site, "a-resolver", resolver + GOOD_FACTORY),
        install(site, "b-target", GOOD_FACTORY),
    ]
    env = dict(cli_env, ODIBI_EXT_CONFIG=allow_only(tmp_path, *dists))
    script = (
        "import json, odibi_ext.plugins\n"
        "infos = odibi_ext.plugins.load_plugins()\n"
        "print(json.dumps({i.name: i.status for i in infos if i.status != 'disabled'}))\n"
    )

    done = run_process([sys.executable, "-c", script], env)  # a deadlock fails it at 60 s

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"a-resolver": "loaded", "b-target": "loaded"}


GATE = """
import threading

entered = threading.Event()
release = threading.Event()
"""

WAITS_AT_THE_GATE = "import gate\ngate.entered.set()\ngate.release.wait(60)\n" + GOOD_FACTORY


def test_a_load_all_stuck_on_one_plugin_does_not_block_get_of_another(site: FakeSite) -> None:
    site.module("gate", GATE)
    import gate  # type: ignore[import-not-found]  # written just above

    dists = [install(site, "a-stuck", WAITS_AT_THE_GATE), install(site, "z-free", GOOD_FACTORY)]
    registry = ConnectionRegistry(policy=only(*dists))
    loading_all = threading.Thread(target=registry.load_all, daemon=True)
    try:
        loading_all.start()
        assert gate.entered.wait(30), "load_all() never reached the stuck plugin"
        got: list[object] = []
        asking = threading.Thread(target=lambda: got.append(registry.get("z-free")), daemon=True)
        asking.start()
        asking.join(10)

        assert got, "get() of an unrelated driver waited for a stuck load_all()"
        assert registry.info("z-free").status == "loaded"
    finally:
        gate.release.set()
        loading_all.join(30)
    assert registry.info("a-stuck").status == "loaded"


# -- refresh() racing the first import of stevedore ----------------------------------------------


def test_refresh_racing_a_first_load_raises_only_documented_errors(
    site: FakeSite, cli_env: dict[str, str], tmp_path: Path
) -> None:
    dist = install(site, "good", GOOD_FACTORY)
    env = dict(cli_env, ODIBI_EXT_CONFIG=allow_only(tmp_path, dist))
    # Each round forgets stevedore, so its first import races the refresher again.
    script = textwrap.dedent(
        """
        import json, sys, threading
        import odibi_ext
        from odibi_ext import ConnectionRegistry, OdibiExtError

        unexpected = []
        for _ in range(40):
            for name in list(sys.modules):
                if name.partition(".")[0] == "stevedore" or name == "odibi_ext.loader":
                    del sys.modules[name]
            vars(odibi_ext).pop("loader", None)
            registry = ConnectionRegistry()
            stop = threading.Event()

            def refresher():
                while not stop.is_set():
                    try:
                        registry.refresh()
                    except Exception as exc:
                        unexpected.append(repr(exc))

            thread = threading.Thread(target=refresher)
            thread.start()
            try:
                registry.get("good")
            except OdibiExtError:
                pass
            except Exception as exc:
                unexpected.append(repr(exc))
            finally:
                stop.set()
                thread.join()
        print(json.dumps(unexpected))
        """
    )

    done = run_process([sys.executable, "-c", script], env, timeout=120)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
