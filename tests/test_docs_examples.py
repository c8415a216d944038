"""The machinery that runs the docs' examples (the top-level ``conftest.py``) checks what it says.

The examples themselves are collected from README.md and docs/ by sybil and
run with the rest of the suite; these tests make sure no example can slip past
that run: an output that changed fails, every fenced block is of a kind that
runs (or is plainly data), and what is left to other tests is still there.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^ *```(\S*)\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
#: Fence languages the suite runs, and those that hold data, not commands.
RUN = {"python", "bash", "console"}
DATA = {"toml", "text"}


@pytest.fixture(scope="module")
def machinery() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_examples_conftest", ROOT / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks() -> list[tuple[Path, str, str]]:
    return [
        (page, match.group(1), match.group(2))
        for page in PAGES
        for match in FENCE.finditer(page.read_text(encoding="utf-8"))
    ]


def test_output_is_compared_as_doctest_ellipsis_reads_it(machinery: ModuleType) -> None:
    matches = machinery.matches
    shown = ["NAME  STATUS", "...", "sqlite  loaded  odibi-sqlite  1.0.0  odibi_sqlite:…  3.0  -"]

    assert matches(
        shown, "NAME STATUS\nx\ny\nsqlite loaded odibi-sqlite 1.0.0 odibi_sqlite:create 8.25 -"
    )
    assert matches(shown, "NAME STATUS\nsqlite loaded odibi-sqlite 1.0.0 odibi_sqli… 12.5 -\n")
    assert matches(["error: no ... here"], "error: no driver named 'x' here")
    # Versions are compared (only timings are any number), and nothing extra may follow.
    assert not matches(shown, "NAME STATUS\nsqlite loaded odibi-sqlite 1.0.1 odibi_sqlite:… 3.0 -")
    assert not matches(shown, "NAME STATUS\nsqlite loaded odibi-sqlite 1.0.0 odibi_sqlite:… 3 -")
    assert not matches(["result: ok"], "result: ok\nresult: failed")
    assert not matches(["result: ok", "..."], "result: failed\nresult: ok")
    assert not matches(["exit 0"], "exit 1")


def test_every_fenced_block_runs_or_is_data() -> None:
    kinds = {(page.relative_to(ROOT).as_posix(), kind) for page, kind, _ in blocks()}

    assert {kind for _, kind in kinds} <= RUN | DATA, sorted(kinds)
    assert {kind for _, kind in kinds} >= RUN  # the patterns below still find blocks


def test_no_data_block_is_a_command_session() -> None:
    sessions = [
        (page.name, source.splitlines()[0])
        for page, kind, source in blocks()
        if kind in DATA and source.lstrip().startswith("$ ")
    ]

    assert sessions == [], "show commands with their output as ```console blocks"


def test_each_command_left_to_other_tests_is_still_in_a_bash_block(machinery: ModuleType) -> None:
    lines = {
        re.sub(r"\s+# .*$", "", line.strip())
        for _, kind, source in blocks()
        if kind == "bash"
        for line in source.splitlines()
    }

    assert set(machinery.RUN_ELSEWHERE) <= lines, set(machinery.RUN_ELSEWHERE) - lines


def test_the_readme_quick_start_is_the_one_ci_and_the_e2e_test_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert (
        "pip install -e . odibi './sample_plugins/odibi-sqlite[pandas]' "
        "./sample_plugins/odibi-localfs\nodibi-ext list\n"
        "odibi-ext odibi run examples/orders/project.yaml\n```" in readme
    )
    assert (
        "pip install -q -e . odibi './sample_plugins/odibi-sqlite[pandas]' "
        "./sample_plugins/odibi-localfs\n" in ci
    )
    assert "mkdocs build --strict" in ci
