"""Odibi's own tests/test_pipeline_manager_connections.py, with the sample drivers installed.

The file comes from Odibi's source distribution (``ODIBI_SDIST``, else the
copy beside this checkout, else ``pip download``); only its ``tests/`` folder
is unpacked, so the sdist's ``odibi/`` sources never shadow the installed
Odibi. Each run is a child process, as a user's ``pytest`` would be: stock,
and with a ``conftest.py`` that installs odibi-ext's Odibi integration first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VERSION = "3.15.1"
TEST_FILE = "tests/test_pipeline_manager_connections.py"
#: Where the lead keeps the sdist on the shared machine.
SHARED_SDIST = Path("/work/odibi-sdist") / f"odibi-{VERSION}.tar.gz"
INSTALL_FIRST = "import odibi_ext.odibi\n\nodibi_ext.odibi.install()\n"


def sdist(download_to: Path) -> Path:
    configured = os.environ.get("ODIBI_SDIST")
    if configured:
        return Path(configured)
    if SHARED_SDIST.is_file():
        return SHARED_SDIST
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"odibi=={VERSION}",
            "-d",
            str(download_to),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"cannot download Odibi's sdist: {result.stderr}"
    return next(download_to.glob("odibi-*.tar.gz"))


@pytest.fixture(scope="module", params=["stock", "integration"])
def odibi_tests(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the sdist's ``tests/`` (and, for the integration, a conftest)."""
    root = tmp_path_factory.mktemp("odibi-tests")
    prefix = f"odibi-{VERSION}/tests/"
    with tarfile.open(sdist(root)) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        for member in members:
            member.name = member.name.removeprefix(f"odibi-{VERSION}/")
        archive.extractall(root / "run", members=members, filter="data")
    assert (root / "run" / TEST_FILE).is_file()
    assert not (root / "run" / "odibi").exists()
    if request.param == "integration":
        (root / "run" / "tests" / "conftest.py").write_text(INSTALL_FIRST)
    return root / "run"


def integrated(folder: Path) -> bool:
    return (folder / "tests" / "conftest.py").is_file()


def run_odibis_test(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ODIBI_EXT")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST_FILE],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=300,
        check=False,
    )


def installed_drivers() -> set[str]:
    from importlib.metadata import entry_points

    return {ep.name for ep in entry_points(group="odibi.connections")}


def test_odibis_connection_tests_pass_with_the_working_samples(odibi_tests: Path) -> None:
    # The two working samples are what this environment has installed: no faulty one.
    assert {"sqlite", "localfs"} <= installed_drivers()
    assert "local" not in installed_drivers()

    result = run_odibis_test(odibi_tests)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "8 passed" in result.stdout


def test_with_odibi_faulty_stock_odibi_breaks_and_the_integration_reports_it(
    odibi_tests: Path, tmp_path: Path
) -> None:
    # odibi-faulty exists to break things: a plugin exiting at import and one hijacking `local`.
    target = tmp_path / "faulty"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(REPO / "sample_plugins" / "odibi-faulty"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stderr

    result = run_odibis_test(odibi_tests, PYTHONPATH=str(target))

    assert result.returncode != 0
    if not integrated(odibi_tests):
        # Stock Odibi imports every plugin; odibi-faulty's `faulty-exit` ends the run.
        assert "SystemExit: 3" in result.stdout
        assert "passed" not in result.stdout
        return
    # The integration imports only what a project uses; `local` is the built-in's
    # and odibi-faulty's: a conflict, reported, and nothing else fails.
    assert "1 failed, 7 passed" in result.stdout
    assert "test_build_local_connection" in result.stdout
    assert "DriverConflictError: type name 'local'" in result.stdout
    assert 'local = "odibi" keeps Odibi\'s built-in' in result.stdout
    assert "SystemExit" not in result.stdout
