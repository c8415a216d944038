"""The command line's words: the argument parser, its help, and where Odibi's words begin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any
from typing import NoReturn

from odibi_ext._version import __version__
from odibi_ext.cli.output import PROG
from odibi_ext.environment import CONFIG_ENV
from odibi_ext.registry import NAMESPACE


class UsageError(Exception):
    """Bad input from the command line: reported as one line, exit 2."""


class BadArguments(Exception):
    """The command line does not parse; the message is argparse's."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors reach :func:`~odibi_ext.cli.main`, which answers
    them as any other."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise BadArguments(message)


def split_odibi_command(
    parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[list[str], list[str] | None]:
    """``(our arguments, Odibi's)`` when the command is ``odibi``; else ``(argv, None)``.

    Everything after ``odibi`` belongs to Odibi's own parser, options and
    ``--help`` included, so it never reaches ours. The global options before
    it are read as ``parser`` reads them, abbreviations (``--conf``) included.
    """
    position = 0
    while position < len(argv):
        word = argv[position]
        if word == "odibi":
            return argv[: position + 1], argv[position + 1 :]
        if not word.startswith("-") or word == "--":
            break
        position += 2 if _takes_a_separate_value(parser, word) else 1
    return argv, None


def _takes_a_separate_value(parser: argparse.ArgumentParser, word: str) -> bool:
    """Whether the global option ``word`` (maybe abbreviated) is followed by its value."""
    if "=" in word or not word.startswith("--"):
        return False  # --config=PATH, or short flags (-v, -q, -h), which take none
    options = parser._option_string_actions
    action = options.get(word)
    if action is None:  # argparse accepts any unambiguous prefix of a long option
        matches = {options[name] for name in options if name.startswith(word)}
        if len(matches) != 1:
            return False  # unknown or ambiguous: the parser says so
        [action] = matches
    return action.nargs != 0  # a flag (--verbose, --version, --help) takes none


def wants_json(argv: Sequence[str]) -> bool:
    """Whether a command line that does not parse asked for JSON output all the same."""
    words = list(argv)
    after_format = (words[i + 1] for i in range(len(words) - 1) if words[i] == "--format")
    return "--format=json" in words or "json" in after_format


def _versions() -> str:
    import importlib.metadata
    import platform

    try:
        stevedore = importlib.metadata.version("stevedore")
    except importlib.metadata.PackageNotFoundError:
        stevedore = "not installed"
    return f"{PROG} {__version__} (stevedore {stevedore}, Python {platform.python_version()})"


class _VersionAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(_versions())
        parser.exit()


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps description and epilog lines to the terminal's width.

    An indented line (an example command) is kept as written.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        lines: list[str] = []
        for line in text.splitlines():
            if not line.strip() or line.startswith(" "):
                lines.append(indent + line if line.strip() else "")
            else:
                lines += textwrap.wrap(
                    line, width, initial_indent=indent, subsequent_indent=indent
                )
        return "\n".join(lines)


def build() -> argparse.ArgumentParser:
    """The parser of ``odibi-ext``'s command line; ``command`` names the command given."""
    formatter = _HelpFormatter
    parser = _Parser(
        prog=PROG,
        description=(
            f"Inspect and check the Odibi connection drivers installed in the "
            f"{NAMESPACE!r} entry-point group."
        ),
        epilog=(
            "examples:\n"
            "  odibi-ext list                      what is installed (imports no plugin)\n"
            "  odibi-ext show sqlite               one driver in detail\n"
            "  odibi-ext check --isolate           load each driver in its own process\n"
            "  odibi-ext connect sqlite --set path=demo.db\n"
            "  odibi-ext odibi run project.yaml    Odibi's CLI, drivers loaded by odibi-ext\n\n"
            "exit codes: 0 fine, 1 what was checked failed, 2 usage or input error"
        ),
        formatter_class=formatter,
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"policy file (TOML, [odibi_ext] table); default: the file named by ${CONFIG_ENV}",
    )
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log at DEBUG to stderr, with tracebacks of plugin failures",
    )
    noise.add_argument("-q", "--quiet", action="store_true", help="log nothing to stderr")
    parser.add_argument(
        "--format",
        dest="global_format",
        choices=("table", "json"),
        default=None,
        help="the same as the command's --format, given before the command",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        nargs=0,
        help="print the versions of odibi-ext, stevedore and Python, and exit",
    )

    shared = _Parser(add_help=False)
    shared.add_argument(
        "--format",
        choices=("table", "json"),
        default=None,
        help="output for people (table, the default) or for scripts (json)",
    )
    commands = parser.add_subparsers(
        title="commands", metavar="COMMAND", dest="command", required=True
    )

    def command(name: str, summary: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=[shared],
            help=summary,
            description=summary,
            epilog=f"example:\n  {example}",
            formatter_class=formatter,
        )

    listing = command(
        "list",
        "List every driver: name, status, distribution, version, target. "
        "Imports no plugin unless --load is given.",
        "odibi-ext list --load",
    )
    listing.add_argument(
        "--load",
        action="store_true",
        help="load every driver first; adds LOAD MS and ERROR columns",
    )

    show = command(
        "show",
        "Show one driver in detail: provenance, module file, status, every candidate "
        "and why it was selected or excluded.",
        "odibi-ext show sqlite --load",
    )
    show.add_argument("name", metavar="NAME", help="the driver's type name")
    show.add_argument(
        "--load",
        action="store_true",
        help="load the driver first, to report its signature, docstring and load time",
    )

    check = command(
        "check",
        "Load every driver and report; exit 1 if any fails or conflicts.",
        "odibi-ext check --isolate --timeout 10",
    )
    check.add_argument(
        "--isolate",
        action="store_true",
        help="load each driver in its own subprocess, so one that hangs, aborts "
        "or exits is reported instead of stopping the check",
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="with --isolate: seconds each driver may take to load (default 30)",
    )
    check.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="with --isolate: drivers loaded at once (default: the CPU count)",
    )

    connect = command(
        "connect",
        "Create a connection and validate it; prints the config with secrets "
        "masked. --set values that parse as JSON scalars (numbers, true/false, null, "
        '"quoted") become them; anything else is a string.',
        "odibi-ext connect sqlite --set path=demo.db --set timeout=2.5",
    )
    connect.add_argument("type", metavar="TYPE", help="the driver's type name, e.g. sqlite")
    connect.add_argument("--name", help="the connection's name (default: TYPE)")
    connect.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a config value; repeat for more; overrides --config-file",
    )
    connect.add_argument(
        "--config-file", metavar="F", help="a TOML or JSON file holding the config mapping"
    )

    commands.add_parser(
        "odibi",
        help="run Odibi's own command line (odibi ARGS...) with odibi-ext in charge of its "
        "connection drivers and the policy applied; exits with Odibi's status",
        description="Everything after 'odibi' goes to Odibi's command line, e.g. "
        "odibi-ext --config policy.toml odibi run project.yaml",
    )
    return parser
