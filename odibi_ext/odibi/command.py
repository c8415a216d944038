"""Running Odibi's command line with odibi-ext in charge (``odibi-ext odibi``)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from typing import Final

from odibi_ext import index
from odibi_ext.odibi.installation import active
from odibi_ext.odibi.installation import install
from odibi_ext.odibi.installation import is_installed
from odibi_ext.odibi.installation import uninstall
from odibi_ext.registry import ConnectionRegistry

LOG = logging.getLogger("odibi_ext.odibi")


def run(argv: Sequence[str], registry: ConnectionRegistry | None = None) -> int:
    """Run Odibi's command line (``odibi ARGV...``) with ``registry`` in charge; its exit status.

    The integration is installed for the run and removed after it. Before
    returning, Odibi's background writers (its ``DerivedUpdater`` thread) are
    given time to finish: an interpreter that shuts down while they are in
    deltalake's native code aborts, and their writes would be lost.
    Raises :class:`~odibi_ext.OdibiExtError` when Odibi cannot be used.
    """
    index.cache_dir()  # a relative ODIBI_EXT_CACHE_DIR means the directory we start in
    installed = active()
    previous = installed.registry if is_installed() and installed is not None else None
    install(registry)
    integration = active()
    assert integration is not None  # installed just above
    saved_level, integration.announce_level = integration.announce_level, logging.INFO
    saved_argv = sys.argv
    sys.argv = ["odibi", *argv]
    try:
        from odibi.cli.main import main as odibi_main  # type: ignore[import-untyped]

        try:
            status: object = odibi_main()
        except SystemExit as exc:  # argparse's --help, usage errors
            status = exc.code
        _join_background_writers()
        return _exit_status(status)
    finally:
        sys.argv = saved_argv
        integration.announce_level = saved_level
        if previous is None:
            uninstall()
        else:
            install(previous)


#: Threads Odibi starts after a run whose work must not be cut off.
_BACKGROUND_WRITERS: Final = frozenset({"DerivedUpdater"})
#: How long to wait for them; they write a few small Delta tables.
_BACKGROUND_TIMEOUT_S: Final = 120.0


def _join_background_writers() -> None:
    for thread in threading.enumerate():
        if thread.name in _BACKGROUND_WRITERS and thread is not threading.current_thread():
            LOG.debug("waiting for Odibi's %s thread to finish its writes", thread.name)
            thread.join(_BACKGROUND_TIMEOUT_S)


def _exit_status(status: object) -> int:
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1
