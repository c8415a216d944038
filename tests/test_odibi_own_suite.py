"""Odibi's own test suite, from its sdist, with and without odibi-ext in charge.

The sdist of the installed Odibi is downloaded from the package index (as CI
can) and only its ``tests/`` unpacked (the sdist's ``odibi/`` would shadow the
installed package). pytest runs it in child processes, as a user's would:
stock, and with a ``conftest.py`` that calls :func:`odibi_ext.odibi.install`
first. The whole suite must end the same both ways; Odibi's connection tests
pass with the working samples installed, and show what odibi-faulty does to
stock Odibi and what the integration makes of it.

The suite runs with Odibi's engines and clients installed (the test extra:
pyspark, polars, the Azure client libraries), so its Spark, polars and Azure
tests run instead of skipping; they are imported here, so a missing one fails
these tests rather than quietly shrinking the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import azure.identity
import odibi
import polars
import pyspark
import pytest

pytestmark = [pytest.mark.odibi, pytest.mark.heavy]

CONNECTION_TESTS = "tests/test_pipeline_manager_connections.py"
#: Odibi's test modules that skip themselves without an engine or client library.
ENGINE_TESTS = {
    "test_extras_imports": pyspark,
    "test_polars_engine": polars,
    "test_azure_adls_auth": azure.identity,
    "test_setup_helpers": azure.identity,
}
#: Spark for any session a test starts: local, no web UI (Odibi's tests mock theirs today).
SPARK_SUBMIT_ARGS = "--master local[1] --conf spark.ui.enabled=false pyspark-shell"
INSTALL_FIRST = "import odibi_ext.odibi\n\nodibi_ext.odibi.install()\n"


@pytest.fixture(scope="module")
def odibi_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``tests/`` of the installed Odibi's sdist, and nothing else."""
    downloads = tmp_path_factory.mktemp("odibi-sdist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"odibi=={odibi.__version__}",
            "-d",
            str(downloads),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [sdist] = downloads.glob("odibi-*.tar.gz")
    suite = tmp_path_factory.mktemp("odibi-suite")
    prefix = f"{sdist.name.removesuffix('.tar.gz')}/"
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(f"{prefix}tests/")]
        for member in members:
            member.name = member.name.removeprefix(prefix)
        archive.extractall(suite, members=members, filter="data")
    assert (suite / CONNECTION_TESTS).is_file()
    assert not (suite / "odibi").exists()
    return suite


def run_pytest(
    suite: Path,
    *args: str,
    integration: bool,
    pythonpath: Path | None = None,
    policy: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """pytest on ``suite``, stock or with the integration (and the operator's ``policy``)."""
    conftest = suite / "conftest.py"
    if integration:
        conftest.write_text(INSTALL_FIRST, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "ODIBI_EXT_CONFIG"}
    environment["PYSPARK_SUBMIT_ARGS"] = SPARK_SUBMIT_ARGS
    environment["PYSPARK_PYTHON"] = sys.executable
    if pythonpath is not None:
        environment["PYTHONPATH"] = str(pythonpath)
    if policy is not None:
        environment["ODIBI_EXT_CONFIG"] = str(policy)
    try:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            check=False,
            cwd=suite,
            env=environment,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    finally:
        conftest.unlink(missing_ok=True)


def outcomes(report: Path) -> dict[str, str]:
    """Each test's outcome in a JUnit XML report, by test id."""
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        ended = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[test_id] = ended[0] if ended else "passed"
    return found


def test_odibi_s_whole_suite_ends_the_same_with_the_integration_installed(
    odibi_suite: Path, tmp_path: Path
) -> None:
    run_pytest(odibi_suite, f"--junitxml={tmp_path / 'stock.xml'}", "tests", integration=False)
    run_pytest(odibi_suite, f"--junitxml={tmp_path / 'odibi-ext.xml'}", "tests", integration=True)
    stock = outcomes(tmp_path / "stock.xml")
    managed = outcomes(tmp_path / "odibi-ext.xml")

    assert len(stock) > 700  # the whole suite ran, not an import error
    assert managed == stock
    for module, library in ENGINE_TESTS.items():  # Spark, polars and Azure tests ran, and passed
        ran = {k: v for k, v in stock.items() if f".{module}" in k}
        assert ran, f"none of Odibi's {module} tests ran ({library.__name__} installed)"
        assert set(ran.values()) == {"passed"}, ran
    connection_tests = {k: v for k, v in managed.items() if "pipeline_manager_connections" in k}
    assert len(connection_tests) == 8
    assert set(connection_tests.values()) == {"passed"}, connection_tests


@pytest.mark.parametrize("integration", [False, True], ids=["stock", "odibi-ext"])
def test_odibi_s_connection_tests_pass_with_the_working_samples(
    odibi_suite: Path, integration: bool
) -> None:
    result = run_pytest(odibi_suite, CONNECTION_TESTS, integration=integration)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "8 passed" in result.stdout


def test_odibi_faulty_ends_stock_odibi_s_connection_tests(
    odibi_suite: Path, faulty_target: Path
) -> None:
    result = run_pytest(odibi_suite, CONNECTION_TESTS, integration=False, pythonpath=faulty_target)

    # Stock Odibi imports every plugin: odibi-faulty's sys.exit(3) ends the run.
    assert result.returncode != 0
    assert "SystemExit: 3" in result.stdout
    assert "passed" not in result.stdout


def test_under_the_integration_odibi_faulty_is_reported_and_costs_nothing_else(
    odibi_suite: Path, faulty_target: Path
) -> None:
    result = run_pytest(odibi_suite, CONNECTION_TESTS, integration=True, pythonpath=faulty_target)

    # Only the test using `local` meets odibi-faulty: its hijack is a conflict, named.
    assert "1 failed, 7 passed" in result.stdout, result.stdout[-4000:]
    assert "test_build_local_connection" in result.stdout
    assert "DriverConflictError: type name 'local'" in result.stdout
    assert 'local = "odibi" keeps Odibi\'s built-in' in result.stdout
    assert "SystemExit" not in result.stdout


def test_under_the_integration_a_pin_to_the_builtin_settles_the_hijack(
    odibi_suite: Path, faulty_target: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[odibi_ext.pins]\nlocal = "odibi"\n', encoding="utf-8")

    result = run_pytest(
        odibi_suite, CONNECTION_TESTS, integration=True, pythonpath=faulty_target, policy=policy
    )

    assert result.returncode == 0, result.stdout[-4000:]
    assert "8 passed" in result.stdout
