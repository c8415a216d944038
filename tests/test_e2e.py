"""End to end: the sample distributions built and pip-installed into a fresh virtual environment.

Everything runs through the installed ``odibi-ext`` command and the installed
package, in processes of their own, exactly as an operator or an application
would use them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_plugins"
FAULTS = {
    "faulty-missing-dependency": "ModuleNotFoundError: No module named 'odibi_faulty_",
    "faulty-signature": "InvalidFactoryError",
    "faulty-not-callable": "which is not callable",
    "faulty-missing-attribute": "AttributeError",
    "faulty-exit": "SystemExit: 3",
    "faulty-assert": "AssertionError",
}


@dataclass
class Venv:
    """A virtual environment with odibi-ext, odibi-sqlite and odibi-localfs installed."""

    root: Path
    home: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def command(self) -> Path:
        return self.root / "bin" / "odibi-ext"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ODIBI_", "PYTHON", "VIRTUAL_ENV"))
        }
        env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.home / ".cache"))
        env.update(extra)
        return env

    def run(
        self, *args: str | Path, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=timeout,
            check=False,
            cwd=self.home,
        )

    def pip(self, *args: str | Path) -> None:
        result = self.run(self.python, "-m", "pip", "--disable-pip-version-check", "-q", *args)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("e2e") / "venv"
    home = root.parent / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    environment = Venv(root, home)
    # Copies, so that builds never write into the checkout.
    source = root.parent / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(".*", "*.egg-info", "build", "out", "__pycache__"),
    )
    environment.pip(
        "install",
        source,
        source / "sample_plugins" / "odibi-sqlite",
        source / "sample_plugins" / "odibi-localfs",
    )
    return environment


def drivers(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    data = json.loads(result.stdout)
    rows = data["drivers"] if isinstance(data, dict) else data
    return {row["name"]: row for row in rows}


def test_list_shows_both_samples_with_their_versions(venv: Venv) -> None:
    result = venv.run(venv.command, "list", "--format", "json")

    assert result.returncode == 0, result.stderr
    found = drivers(result)
    assert (found["sqlite"]["distribution"], found["sqlite"]["version"]) == (
        "odibi-sqlite",
        "1.0.0",
    )
    assert (found["localfs"]["distribution"], found["localfs"]["version"]) == (
        "odibi-localfs",
        "1.0.0",
    )
    assert {found["sqlite"]["status"], found["localfs"]["status"]} == {"available"}
    assert "local" not in found  # Odibi's built-in name: no working sample claims it

    table = venv.run(venv.command, "list", "--load")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == [
        "NAME",
        "STATUS",
        "DISTRIBUTION",
        "VERSION",
        "TARGET",
        "LOAD",
        "MS",
        "ERROR",
    ]


def test_connect_sqlite_creates_a_real_database(venv: Venv) -> None:
    database = venv.home / "demo.db"

    result = venv.run(venv.command, "connect", "sqlite", "--set", f"path={database}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "result:  ok" in result.stdout
    assert "odibi-sqlite 1.0.0" in result.stdout
    assert database.exists()
    sqlite3.connect(database).execute("select 1").close()


def test_the_python_api_creates_connections_from_the_installed_samples(venv: Venv) -> None:
    (venv.home / "data").mkdir(exist_ok=True)
    (venv.home / "data" / "people.csv").write_text("id,name\n1,ada\n2,grace\n")
    script = f"""
import json
from odibi_ext import ConnectionRegistry
registry = ConnectionRegistry()
with registry.create("sqlite", "warehouse", {{"path": {str(venv.home / "api.db")!r}}}) as db:
    db.validate()
local = registry.create("localfs", "files", {{"base_path": {str(venv.home / "data")!r}}})
local.validate()
print(json.dumps({{
    "sqlite": registry.info("sqlite").distribution,
    "same": registry.get("sqlite") is registry.get("sqlite"),
    "schema": local.get_schema("people.csv"),
}}))
"""
    result = venv.run(venv.python, "-c", script)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["sqlite"] == "odibi-sqlite"
    assert answer["same"] is True
    assert [c["name"] for c in answer["schema"]["columns"]] == ["id", "name"]


@pytest.fixture
def faulty(venv: Venv, tmp_path: Path) -> Path:
    """odibi-faulty pip-installed into a directory of its own, to put on PYTHONPATH."""
    target = venv.root / f"faulty-{tmp_path.name}"
    venv.pip("install", "--no-deps", "--target", target, SAMPLES / "odibi-faulty")
    return target


def test_with_faulty_installed_check_names_each_fault_and_sqlite_still_loads(
    venv: Venv, faulty: Path
) -> None:
    env = venv.env(PYTHONPATH=str(faulty))

    listed = venv.run(venv.command, "list", env=env)
    checked = venv.run(venv.command, "check", "--format", "json", env=env)

    assert listed.returncode == 0, listed.stderr
    assert "faulty-exit" in listed.stdout
    assert checked.returncode == 1
    report = json.loads(checked.stdout)
    assert report["ok"] is False
    found = {row["name"]: row for row in report["drivers"]}
    for name, words in FAULTS.items():
        assert found[name]["status"] == "failed", name
        assert words in found[name]["error"], (name, found[name]["error"])
    # No Odibi in this environment: odibi-faulty's `local` has no rival and loads.
    assert (found["local"]["status"], found["local"]["distribution"]) == ("loaded", "odibi-faulty")
    assert found["localfs"]["status"] == "loaded"
    assert found["sqlite"]["status"] == "loaded"
    assert found["faulty-hang"]["status"] == "loaded"  # hangs only when asked to
    assert "Traceback" not in checked.stderr

    created = venv.run(
        venv.command, "connect", "faulty-bad-connection", "--format", "json", env=env
    )
    assert created.returncode == 1
    assert "which is not a connection" in json.loads(created.stdout)["error"]


def test_check_isolate_reports_a_hanging_plugin_and_carries_on(venv: Venv, faulty: Path) -> None:
    env = venv.env(PYTHONPATH=str(faulty), ODIBI_FAULTY_HANG="1")

    result = venv.run(
        venv.command,
        "check",
        "--isolate",
        "--timeout",
        "3",
        "--format",
        "json",
        env=env,
        timeout=100,
    )

    assert result.returncode == 1, result.stderr
    found = drivers(result)
    assert "timed out after 3 s" in str(found["faulty-hang"]["error"])
    assert found["faulty-exit"]["status"] == "failed"
    assert "SystemExit: 3" in str(found["faulty-exit"]["error"])
    assert found["sqlite"]["status"] == "loaded"
    assert found["localfs"]["status"] == "loaded"


def test_a_pin_in_a_policy_file_keeps_the_hijacker_of_local_out(venv: Venv, faulty: Path) -> None:
    # The policy an operator writes to keep Odibi's built-in `local`; Odibi is not
    # installed here, so nothing may provide the name, and odibi-faulty's code never runs.
    policy = venv.home / "policy.toml"
    policy.write_text('[odibi_ext]\n[odibi_ext.pins]\nlocal = "odibi"\n')
    env = venv.env(PYTHONPATH=str(faulty))

    by_flag = venv.run(venv.command, "--config", policy, "show", "local", env=env)
    by_env = venv.run(
        venv.command,
        "show",
        "local",
        env=venv.env(PYTHONPATH=str(faulty), ODIBI_EXT_CONFIG=str(policy)),
    )
    localfs = venv.run(venv.command, "--config", policy, "show", "localfs", "--load", env=env)

    assert by_flag.returncode == 0, by_flag.stderr
    assert by_flag.stdout == by_env.stdout
    assert by_flag.stdout.split("status:")[1].split()[0] == "failed"
    words = " ".join(by_flag.stdout.split())  # long lines are wrapped
    assert "excluded: the name is pinned to odibi (policy file" in words
    assert "install odibi or change the pin" in words
    assert "loaded" in localfs.stdout.split("status:")[1].splitlines()[0]
    assert "odibi-localfs 1.0.0" in localfs.stdout


def test_install_and_uninstall_are_seen_by_the_next_process(venv: Venv, tmp_path: Path) -> None:
    target = venv.root / f"plugins-{tmp_path.name}"
    target.mkdir()
    env = venv.env(PYTHONPATH=str(target))

    def names() -> set[str]:
        result = venv.run(venv.command, "list", "--format", "json", env=env)
        assert result.returncode == 0, result.stderr
        return set(drivers(result))

    def settle() -> None:
        # Past the index's racy window, so the next run writes (and the one
        # after it trusts) the on-disk index.
        then = time.time() - 60
        for path in [target, *target.iterdir(), *target.glob("*/METADATA")]:
            os.utime(path, (then, then))

    assert "faulty-exit" not in names()

    venv.pip("install", "--no-deps", "--target", target, SAMPLES / "odibi-faulty")
    assert "faulty-exit" in names()
    settle()
    assert "faulty-exit" in names()  # writes the index
    assert "faulty-exit" in names()  # served from it

    uninstall = venv.run(
        venv.python, "-m", "pip", "uninstall", "-y", "-q", "odibi-faulty", env=env
    )
    assert uninstall.returncode == 0, uninstall.stderr
    assert "faulty-exit" not in names()
    assert "sqlite" in names()


def quick_start_blocks() -> list[str]:
    """The ``bash`` blocks of the README's Quick start, as written there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```bash\n(.*?)^```", section, flags=re.DOTALL | re.MULTILINE)


def test_the_quick_start(tmp_path: Path) -> None:
    """The Quick start's first block, verbatim, in a fresh copy of the checkout.

    Its second block (``pip install -e '.[test]'``, ``python -m pytest``) is
    what ``.ci/run`` does; every other command in the docs runs through the
    top-level ``conftest.py``.
    """
    first, second = quick_start_blocks()
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate\n")
    assert second.splitlines() == ["pip install -e '.[test]'", "python -m pytest"]
    checkout = tmp_path / "odibi-ext"
    shutil.copytree(
        REPO,
        checkout,
        ignore=shutil.ignore_patterns(".*", "*.egg-info", "build", "out", "site", "__pycache__"),
    )
    suite_bin = Path(sys.executable).parent
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ODIBI_", "PYTHON", "VIRTUAL_ENV"))
    }
    # python3 is the machine's, not this suite's; pip keeps its cache (HOME untouched).
    env["PATH"] = os.pathsep.join(
        entry for entry in env["PATH"].split(os.pathsep) if Path(entry) != suite_bin
    )
    env.update(ODIBI_EXT_CACHE_DIR=str(tmp_path / "cache"), PIP_DISABLE_PIP_VERSION_CHECK="1")

    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", first],
            cwd=checkout,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=1800,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the Quick start did not finish within 30 minutes")

    assert result.returncode == 0, result.stdout[-5000:]
    assert (checkout / ".venv" / "bin" / "odibi-ext").exists()
    assert re.search(r"^sqlite +available +odibi-sqlite +1\.0\.0 ", result.stdout, re.MULTILINE)
    assert re.search(r"^local +available +odibi +\d", result.stdout, re.MULTILINE)
    assert "connection type 'sqlite': driver odibi-sqlite 1.0.0" in result.stdout
    assert "Pipeline 'orders' completed successfully" in result.stdout
    out = checkout / "examples" / "orders" / "out"
    with contextlib.closing(sqlite3.connect(out / "warehouse.db")) as database:
        assert database.execute("select count(*) from orders").fetchone() == (48,)
    assert (out / "exports" / "large_orders.csv").read_text(encoding="utf-8").count("\n") > 1
