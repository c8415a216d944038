"""Logging for the command's run: records on stderr, secrets masked, nothing said twice."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Final

from odibi_ext import render
from odibi_ext.redaction import mask_text

_FORMAT: Final = "odibi-ext: %(levelname)s: %(name)s: %(message)s"


class ScrubbingFormatter(logging.Formatter):
    """Formats log records with every known secret value masked, tracebacks included."""

    def __init__(self, secrets: set[str]) -> None:
        super().__init__(_FORMAT)
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        # A plugin's own log messages may carry terminal escapes too.
        return render.escape(mask_text(super().format(record), self._secrets), lines=True)


class _AlreadyReported(logging.Filter):
    """Drops per-driver failure and conflict records: the command's output reports them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "odibi_ext_driver_report", False)


@contextlib.contextmanager
def command_logging(verbose: bool, quiet: bool, secrets: set[str]) -> Iterator[None]:
    """Log to stderr through the root logger while a command runs, then put it back.

    WARNING and above by default, nothing with ``quiet``, DEBUG (plugins'
    records too) with ``verbose``. ``secrets`` may grow meanwhile: every value
    in it is masked from then on.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ScrubbingFormatter(secrets))
    root = logging.getLogger()
    level = root.level
    if verbose:
        handler.setLevel(logging.DEBUG)
        root.setLevel(logging.DEBUG)
    else:
        handler.setLevel(logging.CRITICAL if quiet else logging.WARNING)
        handler.addFilter(_AlreadyReported())
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@contextlib.contextmanager
def odibi_run_logging(verbose: bool, quiet: bool) -> Iterator[None]:
    """Log odibi-ext's own records to stderr while Odibi's command line runs.

    Odibi configures the root logger itself, so odibi-ext's records get a
    handler of their own for the run instead of the root handler the other
    commands use: INFO by default (which driver serves each connection type
    the project uses), nothing with ``quiet``, DEBUG with ``verbose``.
    """
    logger = logging.getLogger("odibi_ext")
    saved = (logger.level, logger.propagate)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ScrubbingFormatter(set()))
    handler.setLevel(logging.CRITICAL if quiet else logging.INFO)
    logger.setLevel(logging.INFO)
    if verbose:
        handler.setLevel(logging.DEBUG)
        logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
