"""``show`` names the module file of a driver installed in editable mode (PEP 660).

setuptools installs a flat-layout project in editable mode as a finder on
``sys.meta_path`` (``__editable___*_finder.py``, run by a ``.pth`` file): no
``sys.path`` entry leads to the module, so a search of ``sys.path`` alone finds
nothing. The project here is really pip-installed (``pip install -e``, which
builds with setuptools from the package index, as test_e2e does) into a
directory Python's own ``site`` machinery then processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PYPROJECT = """
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "odibi-edit"
version = "0.3.0"

[project.entry-points."odibi.connections"]
edit = "odibi_edit.driver:create"

[tool.setuptools]
packages = ["odibi_edit"]
"""

#: Runs the CLI after processing the install directory as a site directory (its .pth files).
RUN_CLI = """
import site, sys
site.addsitedir(sys.argv[1])
from odibi_ext.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the install directory, the project's driver module), installed with pip install -e."""
    root = tmp_path_factory.mktemp("editable")
    project = root / "project"
    (project / "odibi_edit").mkdir(parents=True)
    (project / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT), encoding="utf-8")
    (project / "odibi_edit" / "__init__.py").write_text("", encoding="utf-8")
    driver = project / "odibi_edit" / "driver.py"
    driver.write_text("def create(name, config):\n    return None\n", encoding="utf-8")
    (project / "NOTES.txt").write_text("not a package\n", encoding="utf-8")
    target = root / "site"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"),
            *("--no-deps", "-e", str(project), "--target", str(target)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    finders = list(target.glob("__editable___odibi_edit*_finder.py"))
    assert finders, f"pip did not install a PEP 660 finder: {sorted(os.listdir(target))}"
    return target, driver


def show(target: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ODIBI_EXT")}
    env["ODIBI_EXT_NO_CACHE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, str(target), "show", "edit", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_show_gives_the_module_file_of_an_editable_install(
    editable: tuple[Path, Path], tmp_path: Path
) -> None:
    target, driver = editable

    as_json = show(target, tmp_path, "--format", "json")
    as_table = show(target, tmp_path)

    assert as_json.returncode == 0, as_json.stderr
    info = json.loads(as_json.stdout)
    assert info["distribution"] == "odibi-edit"
    assert info["module_file"] == str(driver)
    assert f"module file:  {driver}" in as_table.stdout
