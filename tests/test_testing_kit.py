"""The test kit's fixtures and helpers: odibi_registry, odibi_site, installed_registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import ODIBI_BUILTINS
from conftest import FakeSite

import odibi_ext.plugins
from odibi_ext import ConnectionRegistry
from odibi_ext import DriverNotFoundError
from odibi_ext.testing import installed_registry
from odibi_ext.testing import temporary_site
from odibi_ext.testing.registries import ODIBI_BUILTIN_TYPE_NAMES
from odibi_ext.testing.registries import empty_registry

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_plugin_imports_neither_odibi_nor_pandas_nor_stevedore() -> None:
    code = (
        "import json, sys\n"
        "import odibi_ext.testing\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('odibi', 'pandas', 'stevedore', 'pydantic'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout) == []


def test_pytest_lists_the_fixtures_with_one_line_docs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    lines = result.stdout.splitlines()
    assert result.returncode in (0, 5), result.stderr
    for fixture in ("odibi_registry", "odibi_site"):
        header = next(i for i, line in enumerate(lines) if line.startswith(fixture))
        assert "odibi_ext/testing/__init__.py" in lines[header]
        assert lines[header + 1].strip().startswith("odibi-ext: ")


def test_the_plugin_adds_no_autouse_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(
        "def test_probe(request):\n    print('FIXTURES', sorted(request.fixturenames))\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", "test_probe.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "odibi_ext"
        in subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--trace-config",
                "--co",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        ).stdout
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("FIXTURES"))
    assert line == "FIXTURES ['request']"


def test_odibi_registry_sees_no_installed_distribution(
    odibi_registry: ConnectionRegistry, site: FakeSite
) -> None:
    site.distribution(
        "odibi-installed",
        entry_points={"installed": "kit_installed:create"},
        modules={"kit_installed": GOOD_FACTORY},
    )
    assert "installed" in ConnectionRegistry()

    assert odibi_registry.names() == []
    namespace: dict[str, object] = {}
    exec(GOOD_FACTORY, namespace)  # the factory's source, as a plugin would hold it
    odibi_registry.register("app", namespace["create"])  # type: ignore[arg-type]
    assert odibi_registry.names() == ["app"]
    assert odibi_registry.create("app", "n", {}).get_path("x") == "x"
    assert site.imports("kit_installed") == 0


def test_installed_registry_sees_one_distribution_and_wins_its_clashes(site: FakeSite) -> None:
    site.distribution(
        "odibi-alpha",
        entry_points={"alpha": "kit_alpha:create", "shared": "kit_alpha:create"},
        modules={"kit_alpha": GOOD_FACTORY},
    )
    site.distribution(
        "odibi-beta",
        entry_points={"beta": "kit_beta:create", "shared": "kit_beta:create"},
        modules={"kit_beta": GOOD_FACTORY},
    )
    assert ConnectionRegistry().info("shared").status == "conflict"

    registry = installed_registry("odibi-alpha")

    usable = [name for name in registry.names() if registry.info(name).status != "disabled"]
    assert usable == ["alpha", "shared"]
    assert set(registry.names()) - set(usable) == set(ODIBI_BUILTINS)  # the host's, disabled
    registry.get("shared")
    assert registry.info("shared").distribution == "odibi-alpha"
    assert site.imports("kit_beta") == 0
    with pytest.raises(DriverNotFoundError, match="beta"):
        registry.get("beta")


def test_empty_registry_holds_only_the_factories_given(site: FakeSite) -> None:
    site.distribution(
        "odibi-x", entry_points={"x": "kit_x:create"}, modules={"kit_x": GOOD_FACTORY}
    )
    namespace: dict[str, object] = {}
    exec(GOOD_FACTORY, namespace)

    registry = empty_registry({"mine": namespace["create"]})  # type: ignore[dict-item]

    assert registry.names() == ["mine"]


def test_temporary_site_leaves_sys_path_even_when_a_test_swapped_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # test_index narrows sys.path with monkeypatch.setattr inside the site's lifetime;
    # the list put back afterwards must not keep the site (its broken metadata
    # would reach every later test).
    original = sys.path
    with (
        monkeypatch.context() as patch,
        temporary_site(tmp_path / "s", tmp_path / "m") as site,
    ):
        patch.setattr(sys, "path", [str(site.root)])
    assert sys.path is original
    assert str(tmp_path / "s") not in sys.path


def test_temporary_site_is_seen_while_open_and_forgotten_after(tmp_path: Path) -> None:
    pytest.importorskip("stevedore", reason="stevedore is odibi-ext's one dependency")
    from stevedore.extension import ExtensionManager

    with temporary_site(tmp_path / "s", tmp_path / "m") as site:
        site.distribution(
            "odibi-throwaway",
            entry_points={"throwaway": "kit_throwaway.drivers:create"},
            modules={"kit_throwaway.drivers": GOOD_FACTORY},
        )
        default = odibi_ext.plugins.default_registry()
        assert default.get("throwaway") is not None
        ExtensionManager("odibi.connections")  # fills stevedore's process-wide cache
        assert "odibi.connections" in ExtensionManager.ENTRY_POINT_CACHE
        assert "kit_throwaway.drivers" in sys.modules
        assert site.imports("kit_throwaway.drivers") == 1

    assert str(tmp_path / "s") not in sys.path
    assert "kit_throwaway" not in sys.modules
    assert "kit_throwaway.drivers" not in sys.modules
    assert "odibi.connections" not in ExtensionManager.ENTRY_POINT_CACHE
    assert "throwaway" not in ConnectionRegistry()
    assert "throwaway" not in default  # the default registry was refreshed
    assert "throwaway" not in [e.name for e in ExtensionManager("odibi.connections")]
    # The files stay for the test to inspect.
    assert (tmp_path / "s" / "odibi_throwaway-1.0.0.dist-info" / "entry_points.txt").is_file()


def test_odibi_site_is_first_on_sys_path_in_the_tests_directory(
    odibi_site: FakeSite, tmp_path: Path
) -> None:
    odibi_site.distribution(
        "odibi-indexed",
        entry_points={"indexed": "kit_indexed:create"},
        modules={"kit_indexed": GOOD_FACTORY},
    )

    assert "indexed" in ConnectionRegistry()
    assert os.environ["ODIBI_EXT_CACHE_DIR"] == str(tmp_path / "odibi-ext-cache")
    assert odibi_site.root == tmp_path / "site"
    assert str(odibi_site.root) == sys.path[0]
    assert repr(odibi_site) == f"<TemporarySite root={str(odibi_site.root)!r}>"


DOCUMENTED_CONTRACT = """\
import pytest
from odibi_ext.testing import DriverContract

class TestContract(DriverContract):
    type_name = "sqlite"
    # A config whose validate() fails: the validation-mode rules need one.
    invalid_config = {"path": "/nonexistent/odibi-contract/missing.db", "read_only": True}

    @pytest.fixture
    def driver_config(self, tmp_path):
        # A temporary database: the rules leave nothing behind in yours.
        return {"path": str(tmp_path / "contract.db")}
"""


@pytest.mark.odibi  # every rule applies, the round trip through a real Odibi run too
def test_the_documented_contract_runs_the_whole_suite_under_plain_pytest(tmp_path: Path) -> None:
    assert DOCUMENTED_CONTRACT in (ROOT / "docs" / "driver-authors.md").read_text(encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_contract.py").write_text(DOCUMENTED_CONTRACT, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "ODIBI_EXT_CACHE_DIR": str(tmp_path / "cache")},
        check=False,
    )

    assert result.returncode == 0, result.stdout
    summary = result.stdout.splitlines()[-1]
    # Every rule ran: the SQL round trips, the validation modes, Odibi's own pipeline.
    assert "28 passed in" in summary, result.stdout
    assert "skipped" not in summary
    assert "28 passed: every rule ran" in (ROOT / "docs" / "driver-authors.md").read_text(
        encoding="utf-8"
    )


def test_the_documented_registry_example(
    odibi_registry: ConnectionRegistry, tmp_path: Path
) -> None:
    import odibi_sqlite

    odibi_registry.register("sqlite", odibi_sqlite.create)
    connection = odibi_registry.create("sqlite", "t", {"path": str(tmp_path / "t.db")})
    connection.validate()

    assert (tmp_path / "t.db").exists()


@pytest.mark.odibi
def test_the_kits_list_of_odibi_built_ins_matches_the_installed_odibi() -> None:
    # The kit keeps its own list for authors testing without Odibi; this catches drift.
    assert set(ODIBI_BUILTINS) == ODIBI_BUILTIN_TYPE_NAMES
