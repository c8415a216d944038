"""Test sessions beyond the main virtual environment: ``nox -s odibi_releases``.

``odibi_releases`` builds one virtual environment per Odibi release, from the
package index, with odibi-ext and the sample drivers, and runs the release
tests (``tests/releases/``) against that release. The same tests run in the
main suite against the Odibi the ``test`` extra pins.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import nox

nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
#: The releases the matrix runs: the oldest supported; the first with
#: ``odibi list``; the last 2.x; the last with the ``dbo`` pandas engine and
#: seven built-ins; the newest.
ODIBI_RELEASES = ("2.4.0", "2.8.0", "2.23.0", "3.4.3", "3.15.1")


def test_tools() -> list[str]:
    """The ``test`` extra of setup.cfg, less its Odibi pin (each session installs a release)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options.extras_require"]["test"].splitlines()
    found = [line.split("#")[0].strip() for line in lines]
    return [line for line in found if line and not line.startswith("odibi")]


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
