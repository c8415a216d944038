"""The ``odibi-ext`` command: inspect installed drivers, check them, try a connection.

Argument parsing and printing only; the work is done by the library. Exit
codes (:mod:`odibi_ext.cli.status_codes`): 0 fine, 1 what was checked failed,
2 usage or input error. No traceback reaches the user unless ``-v`` is given.

One module per command (:mod:`~odibi_ext.cli.list_cmd` for ``list`` and
``show``, :mod:`~odibi_ext.cli.check`, :mod:`~odibi_ext.cli.connect`,
:mod:`~odibi_ext.cli.odibi_cmd`), imported when its command runs; the
parser, the output plumbing and the logging set-up have theirs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import logging
import os
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Final
from typing import TextIO
from typing import cast

from odibi_ext.cli import output
from odibi_ext.cli import parser
from odibi_ext.cli.logs import command_logging
from odibi_ext.cli.parser import UsageError
from odibi_ext.cli.status_codes import EXIT_BROKEN_PIPE
from odibi_ext.cli.status_codes import EXIT_FAILED
from odibi_ext.cli.status_codes import EXIT_INTERRUPTED
from odibi_ext.cli.status_codes import EXIT_OK
from odibi_ext.cli.status_codes import EXIT_USAGE
from odibi_ext.errors import describe_exception
from odibi_ext.redaction import mask_text
from odibi_ext.redaction import scrub
from odibi_ext.registry import ConnectionRegistry

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "main",
    "run",
]

# Policy and DriverInfo are dataclasses, imported where a command needs them:
# building them costs `odibi-ext odibi` start-up 2-3 ms for nothing.

#: The module (in this package) and function that carry out each command.
_COMMANDS: Final = {
    "list": ("list_cmd", "list_drivers"),
    "show": ("list_cmd", "show_driver"),
    "check": ("check", "check"),
    "connect": ("connect", "connect"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    return _main(argv)[0]


def run() -> None:
    """The ``odibi-ext`` program: :func:`main`, then exit with its status.

    A plugin may have started a thread that never ends: once the command has
    its answer, the process exits without waiting for it. Not so for
    ``odibi-ext odibi ...``: Odibi's own threads (its executors) finish their
    writes at interpreter shutdown, as under ``odibi`` itself.
    """
    code, odibi_ran = _main(None)
    if odibi_ran:
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    import threading

    current = threading.current_thread()
    if any(t is not current and not t.daemon and t.is_alive() for t in threading.enumerate()):
        logging.shutdown()  # what atexit would have flushed
        os._exit(code)
    raise SystemExit(code)


def _main(argv: Sequence[str] | None) -> tuple[int, bool]:
    """The exit code, and whether the command was ``odibi``."""
    restore = output.tolerate_unencodable_output()
    out = output.Output(sys.stdout)
    words = list(sys.argv[1:] if argv is None else argv)
    odibi_args = None
    try:
        command_line = parser.build()
        ours, odibi_args = parser.split_odibi_command(command_line, words)
        code = _run(command_line, ours, odibi_args, cast(TextIO, out))
        out.flush()
        return code, odibi_args is not None
    except output.OutputError as exc:
        output.discard_stdout()
        if isinstance(exc.__cause__, BrokenPipeError):
            # The reader went away (``odibi-ext list | head``): stop quietly.
            return EXIT_BROKEN_PIPE, odibi_args is not None
        output.error(f"cannot write to standard output: {exc}")
        return EXIT_FAILED, odibi_args is not None
    except KeyboardInterrupt:  # before a command began (the commands answer their own)
        output.error("interrupted")
        return EXIT_INTERRUPTED, odibi_args is not None
    finally:
        restore()


def _run(
    command_line: argparse.ArgumentParser,
    ours: list[str],
    odibi_args: list[str] | None,
    out: TextIO,
) -> int:
    try:
        args = command_line.parse_args(ours)
    except parser.BadArguments as exc:  # argparse has printed the usage
        fmt = "json" if parser.wants_json(ours) else "table"
        return output.fail(str(exc), EXIT_USAGE, fmt, out)
    except SystemExit as exc:  # argparse has printed help or the version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except OSError as exc:  # writing the help, usage or version failed
        raise output.OutputError(exc.strerror or str(exc)) from exc
    if odibi_args is not None:
        from odibi_ext.cli.odibi_cmd import run_odibi

        return run_odibi(args, odibi_args)
    args.format = args.format or args.global_format or "table"
    secrets: set[str] = set()
    with command_logging(args.verbose, args.quiet, secrets):
        try:
            from odibi_ext.policy import Policy

            policy = Policy.from_file(args.config) if args.config else Policy.from_env()
            registry = ConnectionRegistry(policy=policy)
            module, function = _COMMANDS[args.command]
            command: Callable[..., int] = getattr(
                importlib.import_module(f"{__name__}.{module}"), function
            )
            # The command writes its answer to a buffer while plugin code may run;
            # whatever plugins print meanwhile goes to stderr, so stdout holds the
            # answer (the JSON a script parses) and nothing else.
            answer = io.StringIO()
            with output.plugin_output_to_stderr():
                code = command(registry, args, answer, secrets)
            out.write(answer.getvalue())
            return code
        except output.OutputError:
            raise
        except (UsageError, ValueError) as exc:
            return output.fail(scrub(str(exc), secrets), EXIT_USAGE, args.format, out)
        except KeyboardInterrupt:
            output.error("interrupted")
            return EXIT_INTERRUPTED
        except BaseException as exc:  # never a traceback for a plugin's fault, unless asked
            # A plugin's SystemExit (or a BaseException of its own) is a failure
            # of the command, never its exit status.
            if args.verbose:
                output.print_traceback(secrets)
            return output.fail(
                mask_text(describe_exception(exc), secrets), EXIT_FAILED, args.format, out
            )
