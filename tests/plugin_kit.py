"""Helpers shared by the containment tests: one-driver distributions, an allow-list
policy file, and real processes run with a deadline (a hang fails the test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import GOOD_FACTORY
from conftest import ODIBI_BUILTINS
from conftest import FakeSite


def install(site: FakeSite, type_name: str, source: str = GOOD_FACTORY) -> str:
    """Install ``odibi-TYPE_NAME`` offering ``type_name`` from ``module:create``; its name."""
    dist = f"odibi-{type_name}"
    module = type_name.replace("-", "_")
    site.distribution(dist, entry_points={type_name: f"{module}:create"}, modules={module: source})
    return dist


def allow_only(directory: Path, *dists: str) -> str:
    """A policy file letting only ``dists`` be seen and loaded: the venv's own drivers stay
    out, and Odibi's built-ins (which an allow-list does not hide) are disabled."""
    path = directory / "policy.toml"
    path.write_text(
        f"[odibi_ext]\nallowed_distributions = {json.dumps(sorted(dists))}\n"
        f"disabled = {json.dumps(list(ODIBI_BUILTINS))}\n"
    )
    return str(path)


def plugins_only(drivers: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Drivers from JSON output by name, without the names of Odibi's built-ins."""
    return {str(d["name"]): d for d in drivers if d["name"] not in ODIBI_BUILTINS}


def odibi_ext_command(launcher: str = "script") -> list[str]:
    """``python -m odibi_ext`` (``"module"``) or the installed console script."""
    if launcher == "module":
        return [sys.executable, "-m", "odibi_ext"]
    script = Path(sys.executable).parent / "odibi-ext"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    return [str(script)]


def run_process(
    argv: Sequence[str], env: dict[str, str], *, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion, capturing text output; fail the test after ``timeout`` s."""
    try:
        return subprocess.run(
            list(argv),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} did not finish within {timeout} s")


def run_author_suite(
    project: Path,
    pythonpath: Sequence[Path],
    *pytest_args: str,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> dict[str, dict[str, str | None]]:
    """Run pytest in ``project`` as a driver author would (a child process, ``pythonpath``
    first on its path): ``{class: {test: failure or error message, "skipped: ..." when
    skipped, None when it passed}}``, read from its JUnit report."""
    report = project / "report.xml"
    options = ["-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    subprocess.run(
        [sys.executable, "-m", "pytest", *options, *pytest_args],
        cwd=project,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(str(path) for path in pythonpath),
            "ODIBI_EXT_CACHE_DIR": str(project / "cache"),
            **(env or {}),
        },
        capture_output=True,
        check=False,
        timeout=timeout,
    )
    results: dict[str, dict[str, str | None]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")  # a fixture refused: "not checked ..."
        skipped = case.find("skipped")
        message = None
        if failure is not None:
            message = (failure.get("message") or "") + (failure.text or "")
        elif skipped is not None:
            message = "skipped: " + (skipped.get("message") or "")
        results.setdefault(cls, {})[case.get("name", "")] = message
    return results
