"""Odibi's own test suite, from its sdist: it passes under the integration exactly as without it.

The sdist of the installed Odibi is downloaded from the package index (as CI
can), its ``tests/`` copied out (the sdist's ``odibi/`` would shadow the
installed package) and run twice by pytest in subprocesses: stock, and with a
``conftest.py`` that calls :func:`odibi_ext.odibi.install` first. Every test
must end the same way both times; the connection-building tests must pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import odibi
import pytest

#: The file whose tests build connections through Odibi's plugin seams.
CONNECTION_TESTS = "test_pipeline_manager_connections.py"
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
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.split("/")[1:2] == ["tests"]]
        archive.extractall(downloads, members=members, filter="data")
    [unpacked] = downloads.glob("odibi-*/tests")
    shutil.copytree(unpacked, suite / "tests")
    return suite


def outcomes(suite: Path, report: Path) -> dict[str, str]:
    """Run pytest on ``suite`` and return each test's outcome, by test id."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "tests",
        ],
        check=False,
        cwd=suite,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        ended = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        found[test_id] = ended[0] if ended else "passed"
    return found


def test_odibi_s_own_suite_ends_the_same_with_the_integration_installed(
    odibi_suite: Path, tmp_path: Path
) -> None:
    stock = outcomes(odibi_suite, tmp_path / "stock.xml")
    (odibi_suite / "conftest.py").write_text(INSTALL_FIRST, encoding="utf-8")
    try:
        managed = outcomes(odibi_suite, tmp_path / "managed.xml")
    finally:
        (odibi_suite / "conftest.py").unlink()

    assert len(stock) > 500  # the whole suite ran, not an import error
    assert managed == stock
    connection_tests = {k: v for k, v in managed.items() if "pipeline_manager_connections" in k}
    assert len(connection_tests) == 8
    assert set(connection_tests.values()) == {"passed"}, connection_tests
    passed = sum(outcome == "passed" for outcome in managed.values())
    print(f"Odibi's suite: {passed} of {len(managed)} passed, stock and under the integration")
