"""Every example in README.md and docs/ runs in the test suite (through sybil).

- ``python`` blocks run as they are, each in a fresh interpreter whose working
  directory holds a copy of ``examples/``; a block whose first line is
  ``# tests/test_NAME.py`` is a test module and runs under pytest.
- ``bash`` blocks run line by line in one shell (``set -euo pipefail``), except
  the lines that install or build an environment: those are run, verbatim, by
  the test named in :data:`RUN_ELSEWHERE` (or by ``.ci/run``).
- ``console`` blocks are sessions: each ``$ command`` runs in a shell and its
  output (stderr and stdout, as a terminal shows them) is compared with the
  lines below it (:func:`matches`).

The commands find the suite's interpreter first on ``PATH``, so ``odibi-ext``,
``odibi`` and ``python`` are the ones of the environment running the tests,
which has odibi-ext, Odibi and the two working samples installed (``.ci/run``).
A block right after the comment :data:`WITH_FAULTY` also sees odibi-faulty.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Example
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser
from sybil.parsers.markdown import SkipParser

ROOT = Path(__file__).resolve().parent

#: Put before a block whose commands need odibi-faulty installed too.
WITH_FAULTY = "<!-- example environment: odibi-faulty installed -->"

#: Lines of ``bash`` blocks (their comments left out) that install or build an
#: environment or run the suite itself: run verbatim elsewhere, not per block.
RUN_ELSEWHERE: dict[str, str] = {
    "python3 -m venv .venv && . .venv/bin/activate": "tests/test_e2e.py::test_the_quick_start",
    "pip install -e . odibi './sample_plugins/odibi-sqlite[pandas]' "
    "./sample_plugins/odibi-localfs": "tests/test_e2e.py::test_the_quick_start",
    "pip install -e '.[test]'": ".ci/run (installs '.[test,lint,docs]')",
    "pip install -e '.[test,lint]'": ".ci/run (installs '.[test,lint,docs]')",
    "python -m pytest": ".ci/run (this suite)",
    "ruff check . && ruff format --check . && mypy --strict odibi_ext": ".ci/run",
    "python -m benchmarks --quick": "tests/test_benchmarks.py (the quick run, end to end)",
    "pip install -e '.[docs]'": ".ci/run (installs '.[test,lint,docs]')",
    "mkdocs build --strict": ".ci/run",
    "pip install nox": ".ci/run (installs 'nox>=2024.4')",
    "nox -s odibi_releases": ".ci/run",
    "pip install -e . pytest && pytest": (
        "the '# tests/test_contract.py' blocks above it, run under pytest here"
    ),
}

#: Stand-ins for the paths of this machine, as the pages write them.
DOCS_HOME = "/home/me"
DOCS_CHECKOUT = "/home/me/odibi-ext"
DOCS_FAULTY = "/tmp/ft"  # noqa: S108 - a path as printed on the pages, never used
TIMEOUT = 600


@pytest.fixture(scope="session")
def faulty_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """odibi-faulty pip-installed into a directory of its own (put it on PYTHONPATH)."""
    target = tmp_path_factory.mktemp("faulty")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            str(ROOT / "sample_plugins" / "odibi-faulty"),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    return target


def _start_document(namespace: dict[str, Any]) -> None:
    home = Path(tempfile.mkdtemp(prefix="odibi-ext-docs-"))
    shutil.copytree(
        ROOT / "examples", home / "examples", ignore=shutil.ignore_patterns("out", "__pycache__")
    )
    namespace["home"] = home


def _end_document(namespace: dict[str, Any]) -> None:
    shutil.rmtree(namespace["home"], ignore_errors=True)


def _environment(example: Example) -> dict[str, str]:
    home: Path = example.namespace["home"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ODIBI_", "PYTHON", "VIRTUAL_ENV", "COLUMNS", "LINES"))
    }
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",  # stderr and stdout interleave as on a terminal
        COLUMNS="100",
        NO_COLOR="1",
        TERM="dumb",
    )
    before = example.document.text[: example.region.start].rstrip()
    if before.endswith(WITH_FAULTY):
        env["PYTHONPATH"] = str(example.namespace["faulty_target"])
    return env


def _run(argv: list[str], example: Example) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            cwd=example.namespace["home"],
            env=_environment(example),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv[-1]!r} did not finish within {TIMEOUT} s")


def run_python(example: Example) -> None:
    """Run a ``python`` block in a fresh interpreter (a test module under pytest)."""
    source: str = example.parsed
    home: Path = example.namespace["home"]
    test_module = re.match(r"# (tests/test_\w+\.py)\n", source)
    if test_module:
        path = home / test_module.group(1)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
    else:
        path = home / f"example_line_{example.line}.py"
        argv = [sys.executable, str(path)]
    path.parent.mkdir(exist_ok=True)
    path.write_text(source, encoding="utf-8")
    result = _run(argv, example)
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout}"


def _commands(source: str) -> Iterator[str]:
    """The block's commands, a line ending in a backslash joined with the next."""
    pending = ""
    for line in source.splitlines():
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        if (pending + line).strip():
            yield pending + line
        pending = ""


def run_bash(example: Example) -> None:
    """Run a ``bash`` block's commands, except the ones :data:`RUN_ELSEWHERE` runs."""
    script = [
        line
        for line in _commands(example.parsed)
        if re.sub(r"\s+# .*$", "", line) not in RUN_ELSEWHERE
    ]
    if not script:
        return
    result = _run(["bash", "-c", "set -euo pipefail\n" + "\n".join(script)], example)
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout}"


def run_console(example: Example) -> None:
    """Run each ``$ command`` of a session and compare its output with the one shown."""
    sessions: list[tuple[str, list[str]]] = []
    for line in example.parsed.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        else:
            assert sessions, f"a console block starts with a command ('$ '), not {line!r}"
            sessions[-1][1].append(line)
    for command, shown in sessions:
        result = _run(["bash", "-c", command], example)
        if not shown:
            assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout}"
            continue
        actual = _as_documented(result.stdout, example)
        assert matches(shown, actual), (
            f"$ {command}\n--- shown ---\n" + "\n".join(shown) + "\n--- got ---\n" + actual
        )


def _as_documented(output: str, example: Example) -> str:
    """The output with this machine's paths written as the pages write them."""
    replacements = [
        (sys.prefix, DOCS_CHECKOUT + "/.venv"),
        (str(ROOT), DOCS_CHECKOUT),
        (str(example.namespace["home"]), DOCS_HOME),
    ]
    if "faulty_target" in example.namespace:
        replacements.insert(0, (str(example.namespace["faulty_target"]), DOCS_FAULTY))
    for real, documented in replacements:
        output = output.replace(real, documented)
    return re.sub(r"python3\.\d+", "python3.11", output)


def _normal(line: str) -> str:
    """A line with timings as ``N``, runs of blanks as one, cells cut at 6 characters."""
    line = re.sub(r"^\[\d\d:\d\d:\d\d\]", "", line)  # Odibi's log time, when it changed
    line = re.sub(r"(?<![\w.])\d+\.\d+(?![\d.])", "N", line)
    line = re.sub(r"(\S{1,6})\S*…", r"\1…", line)
    return " ".join(line.split())


def _line_matches(shown: str, actual: str) -> bool:
    parts = (re.escape(part).replace("…", r"\S*") for part in _normal(shown).split("..."))
    pattern = ".*".join(parts)
    return re.fullmatch(pattern, _normal(actual)) is not None


def matches(shown: list[str], actual: str) -> bool:
    """Whether ``actual`` is the output ``shown``, as doctest's ELLIPSIS reads it.

    A line ``...`` stands for any number of lines, ``...`` inside a line for
    any text; numbers with a decimal point (timings) are any number, and a
    table cell cut with ``…`` may be cut at another width, or not at all.
    """
    return _match(_strip_blank_ends(shown), _strip_blank_ends(actual.splitlines()))


def _strip_blank_ends(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _match(shown: list[str], actual: list[str]) -> bool:
    if not shown:
        return not actual
    if shown[0].strip() == "...":
        rest = shown[1:]
        return any(_match(rest, actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and _line_matches(shown[0], actual[0]) and _match(shown[1:], actual[1:])


pytest_collect_file = Sybil(
    parsers=[
        SkipParser(),
        CodeBlockParser("python", run_python),
        CodeBlockParser("bash", run_bash),
        CodeBlockParser("console", run_console),
    ],
    patterns=["README.md", "docs/*.md", "docs/**/*.md"],
    setup=_start_document,
    teardown=_end_document,
    fixtures=["faulty_target"],
).pytest()
