"""The test suite on every supported Python: ``nox -s tests``.

``tests`` runs in one virtual environment per Python, each with odibi-ext,
Odibi 3.15.1 and the two working sample drivers. Python 3.11, the default
(``.ci/run``'s main environment), runs everything, ``python -m pytest``; the
others leave out the ``heavy`` tests (Odibi's own suite, the Odibi release
matrix, Spark) and the ``e2e`` builds, which test no Python-specific code of
ours and cost the most. Odibi 3.15.1 cannot install on Python 3.13 (it pins
``pyarrow<17``, which has no 3.13 wheels): there the tests that need no Odibi
run (not those marked ``odibi``; those fail, never skip, where Odibi is missing).
"""

from __future__ import annotations

import glob
import os

import nox

nox.options.error_on_missing_interpreters = True

# The interpreters live in pyenv's versions directory, here and on CI's
# machine; its shims on PATH fail unless told which version to run.
os.environ["PATH"] = os.pathsep.join(
    [*sorted(glob.glob("/root/.pyenv/versions/3.*/bin")), os.environ.get("PATH", "")]
)

DEFAULT_PYTHON = "3.11"
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
#: Pythons Odibi 3.15.1 does not install on.
WITHOUT_ODIBI = ("3.13",)
#: Test modules that import Odibi when collected.
IMPORT_ODIBI = ("tests/test_odibi_integration.py", "tests/test_odibi_own_suite.py")
SAMPLES = ("./sample_plugins/odibi-sqlite[pandas]", "./sample_plugins/odibi-localfs")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The suite on one Python (all of it on the default, less the heaviest parts elsewhere)."""
    python = session.python
    if python in WITHOUT_ODIBI:
        # Not the `test` extra: it pins Odibi.
        session.install("-e", ".", *SAMPLES, "pytest>=8", "hypothesis>=6.100", "sybil>=9")
        ignored = [f"--ignore={module}" for module in IMPORT_ODIBI]
        # README.md and docs/ show an environment with Odibi: only tests/ runs here.
        arguments = ["tests", "-m", "not heavy and not e2e and not odibi", *ignored]
    else:
        session.install("-e", ".[test]", *SAMPLES)
        arguments = [] if python == DEFAULT_PYTHON else ["-m", "not heavy and not e2e"]
    session.run("python", "-m", "pytest", "-q", *arguments, *session.posargs)
