"""The exit statuses of the ``odibi-ext`` command, as scripts and shells read them."""

from __future__ import annotations

from typing import Final

#: Everything asked for was done, and every driver checked is fine.
EXIT_OK: Final = 0
#: What was checked failed: a driver failed to load, conflicts, or a connection failed.
EXIT_FAILED: Final = 1
#: Bad usage or input: an unknown option, a malformed ``--set``, an unreadable file.
EXIT_USAGE: Final = 2
#: Stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED: Final = 130
#: The reader of standard output went away (``odibi-ext list | head``): 128 + SIGPIPE.
EXIT_BROKEN_PIPE: Final = 141
