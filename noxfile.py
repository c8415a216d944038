"""Test sessions beyond the main virtual environment: ``nox -s tests``, ``nox -s odibi_releases``.

``tests`` runs the suite in one virtual environment per Python, each with
odibi-ext, Odibi 3.15.1 and the two working sample drivers. Python 3.11, the
default (``.ci/run``'s main environment), runs everything, ``python -m
pytest``; the others leave out the ``heavy`` tests (Odibi's own suite, the
Odibi release matrix, Spark) and the ``e2e`` builds, which test no
Python-specific code of ours and cost the most. Odibi 3.15.1 cannot install on
Python 3.13 (it pins ``pyarrow<17``, which has no 3.13 wheels): there the tests
that need no Odibi run (not those marked ``odibi``; those fail, never skip,
where Odibi is missing).

``odibi_releases`` builds one virtual environment per Odibi release, from the
package index, with odibi-ext and the sample drivers, and runs the release
tests (``tests/releases/``) against that release. The same tests run in the
main suite against the Odibi the ``test`` extra pins.
"""

from __future__ import annotations

import configparser
import glob
import os
from pathlib import Path

import nox

nox.options.error_on_missing_interpreters = True

# The interpreters live in pyenv's versions directory, here and on CI's
# machine; its shims on PATH fail unless told which version to run.
os.environ["PATH"] = os.pathsep.join(
    [*sorted(glob.glob("/root/.pyenv/versions/3.*/bin")), os.environ.get("PATH", "")]
)

ROOT = Path(__file__).resolve().parent
DEFAULT_PYTHON = "3.11"
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
#: Pythons Odibi 3.15.1 does not install on.
WITHOUT_ODIBI = ("3.13",)
#: Left out on the Pythons other than the default: modules that import Odibi or
#: Spark when collected, and the release matrix (its own session).
HEAVY_PATHS = (
    "tests/test_odibi_own_suite.py",
    "tests/test_spark.py",
    "tests/releases",
    "tests/test_benchmarks.py",
)
#: What only those heavy parts need (Odibi's engines, its tests' clients, the
#: benchmark harness): left out of every session but the default one.
HEAVY_TOOLS = ("pyspark", "polars", "azure-", "pyperf", "wheel")
#: Modules that import Odibi when collected.
IMPORT_ODIBI = ("tests/test_odibi_integration.py", "tests/test_odibi_seams.py")
SAMPLES = ("./sample_plugins/odibi-sqlite[pandas]", "./sample_plugins/odibi-localfs")
#: The releases the matrix runs: the oldest supported; the first with
#: ``odibi list``; the last 2.x; the last with the ``dbo`` pandas engine and
#: seven built-ins; the newest.
ODIBI_RELEASES = ("2.4.0", "2.8.0", "2.23.0", "3.4.3", "3.15.1")


def test_tools() -> list[str]:
    """The ``test`` extra of setup.cfg, less its Odibi pin (each session installs its own
    Odibi) and what only the heavy parts need."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options.extras_require"]["test"].splitlines()
    found = [line.split("#")[0].strip() for line in lines]
    return [line for line in found if line and not line.startswith(("odibi", *HEAVY_TOOLS))]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The suite on one Python (all of it on the default, less the heaviest parts elsewhere)."""
    python = session.python
    if python == DEFAULT_PYTHON:
        session.install("-e", ".[test]", *SAMPLES)
        session.run("python", "-m", "pytest", "-q", *session.posargs)
        return
    ignored = [f"--ignore={path}" for path in HEAVY_PATHS]
    if python in WITHOUT_ODIBI:
        session.install("-e", ".", *SAMPLES, *test_tools())
        ignored += [f"--ignore={module}" for module in IMPORT_ODIBI]
        # README.md and docs/ show an environment with Odibi: only tests/ runs here.
        arguments = ["tests", "-m", "not heavy and not e2e and not odibi", *ignored]
    else:
        session.install("-e", ".", "odibi==3.15.1", *SAMPLES, *test_tools())
        # The docs' examples are the default run's (one of them runs Spark).
        arguments = ["tests", "-m", "not heavy and not e2e", *ignored]
    session.run("python", "-m", "pytest", "-q", *arguments, *session.posargs)


@nox.session(python="3.11")
@nox.parametrize("odibi", ODIBI_RELEASES)
def odibi_releases(session: nox.Session, odibi: str) -> None:
    """The release tests against one Odibi release, in a virtual environment of its own."""
    session.install(
        f"odibi=={odibi}",
        "-e",
        ".",
        "./sample_plugins/odibi-sqlite[pandas]",
        "./sample_plugins/odibi-localfs",
        *test_tools(),
    )
    session.run("python", "-m", "pytest", "tests/releases", "-q", "-p", "no:cacheprovider")
