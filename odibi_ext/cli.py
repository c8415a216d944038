"""The ``odibi-ext`` command: inspect installed drivers, check them, try a connection.

Argument parsing and printing only; the work is done by the library. Exit
codes: 0 fine, 1 what was checked failed, 2 usage or input error. No
traceback reaches the user unless ``-v`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from typing import NoReturn
from typing import TextIO
from typing import cast

from odibi_ext import render
from odibi_ext._version import __version__
from odibi_ext.environment import CONFIG_ENV
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import OdibiExtError
from odibi_ext.errors import add_note
from odibi_ext.errors import describe_exception
from odibi_ext.errors import describe_provider
from odibi_ext.redaction import SECRET_WORDS
from odibi_ext.redaction import mask_text
from odibi_ext.redaction import redact
from odibi_ext.redaction import redact_text
from odibi_ext.redaction import scrub
from odibi_ext.redaction import secret_values
from odibi_ext.registry import NAMESPACE
from odibi_ext.registry import ConnectionRegistry

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo

# Policy and DriverInfo are dataclasses, imported where a command needs them:
# building them costs `odibi-ext odibi` start-up 2-3 ms for nothing.

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130
EXIT_BROKEN_PIPE: Final = 141  # 128 + SIGPIPE, as shells report it

_PROG: Final = "odibi-ext"
_LOG_FORMAT: Final = "odibi-ext: %(levelname)s: %(name)s: %(message)s"


class UsageError(Exception):
    """Bad input from the command line: reported as one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    restore = _tolerate_unencodable_output()
    out = _Output(sys.stdout)
    try:
        code = _run(argv, cast(TextIO, out))
        out.flush()
        return code
    except OutputError as exc:
        _discard_stdout()
        if isinstance(exc.__cause__, BrokenPipeError):
            # The reader went away (``odibi-ext list | head``): stop quietly.
            return EXIT_BROKEN_PIPE
        _error(f"cannot write to standard output: {exc}")
        return EXIT_FAILED
    finally:
        restore()


def _run(argv: Sequence[str] | None, out: TextIO) -> int:
    parser = _parser()
    ours, odibi_args = _split_odibi_command(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(ours)
    except _BadArguments as exc:  # argparse has printed the usage
        return _fail(str(exc), EXIT_USAGE, "json" if _wants_json(ours) else "table", out)
    except SystemExit as exc:  # argparse has printed help or the version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except OSError as exc:  # writing the help, usage or version failed
        raise OutputError(exc.strerror or str(exc)) from exc
    if odibi_args is not None:
        return _odibi(args, odibi_args)
    args.format = args.format or args.global_format or "table"
    secrets: set[str] = set()
    root = logging.getLogger()
    level = root.level
    handler = _configure_logging(args.verbose, args.quiet, secrets)
    try:
        from odibi_ext.policy import Policy

        policy = Policy.from_file(args.config) if args.config else Policy.from_env()
        registry = ConnectionRegistry(policy=policy)
        command: Callable[[ConnectionRegistry, argparse.Namespace, TextIO, set[str]], int]
        command = args.command
        # The command writes its answer to a buffer while plugin code may run;
        # whatever plugins print meanwhile goes to stderr, so stdout holds the
        # answer (the JSON a script parses) and nothing else.
        answer = io.StringIO()
        with _plugin_output_to_stderr():
            code = command(registry, args, answer, secrets)
        out.write(answer.getvalue())
        return code
    except OutputError:
        raise
    except (UsageError, ValueError) as exc:
        return _fail(scrub(str(exc), secrets), EXIT_USAGE, args.format, out)
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BaseException as exc:  # never a traceback for a plugin's fault, unless asked
        # A plugin's SystemExit (or a BaseException of its own) is a failure
        # of the command, never its exit status.
        if args.verbose:
            _print_traceback(secrets)
        return _fail(mask_text(describe_exception(exc), secrets), EXIT_FAILED, args.format, out)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def run() -> None:
    """The ``odibi-ext`` program: :func:`main`, then exit with its status.

    A plugin may have started a thread that never ends: once the command has
    its answer, the process exits without waiting for it. Not so for
    ``odibi-ext odibi ...``: Odibi's own threads (its executors) finish their
    writes at interpreter shutdown, as under ``odibi`` itself.
    """
    code = main()
    if _split_odibi_command(sys.argv[1:])[1] is not None:
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


@contextlib.contextmanager
def _plugin_output_to_stderr() -> Iterator[None]:
    """Send what is printed meanwhile, by ``print`` or straight to file descriptor 1, to stderr."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    try:
        saved: int | None = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptor 1 or 2 (a closed stream): Python-level redirection only
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 1)
            os.close(saved)


# -- commands ------------------------------------------------------------------------------


def _odibi(args: argparse.Namespace, odibi_args: list[str]) -> int:
    """``odibi-ext odibi ARGS...``: Odibi's own command line, with odibi-ext in charge.

    Odibi configures the root logger itself, so odibi-ext's own records get a
    handler of their own (stderr) for the run instead of the root handler the
    other commands use.
    """
    logger = logging.getLogger("odibi_ext")
    saved = (logger.level, logger.propagate)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ScrubbingFormatter(set()))
    # INFO: which driver serves each connection type the project uses.
    handler.setLevel(logging.CRITICAL if args.quiet else logging.INFO)
    logger.setLevel(logging.INFO)
    if args.verbose:
        handler.setLevel(logging.DEBUG)
        logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        from odibi_ext import odibi

        if args.config:
            from odibi_ext.policy import Policy

            registry = ConnectionRegistry(policy=Policy.from_file(args.config))
        else:
            registry = ConnectionRegistry()  # the operator's policy: $ODIBI_EXT_CONFIG
        return odibi.run(odibi_args, registry)
    except (OdibiExtError, ValueError) as exc:  # no usable Odibi, or a bad policy file
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


#: Global options that take a value, as the parser below defines them.
_VALUED_OPTIONS: Final = frozenset({"--config", "--format"})


def _split_odibi_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``(our arguments, Odibi's)`` when the command is ``odibi``; else ``(argv, None)``.

    Everything after ``odibi`` belongs to Odibi's own parser, options and
    ``--help`` included, so it never reaches ours.
    """
    position = 0
    while position < len(argv):
        word = argv[position]
        if word == "odibi":
            return argv[: position + 1], argv[position + 1 :]
        if not word.startswith("-") or word == "--":
            break
        position += 2 if word in _VALUED_OPTIONS else 1
    return argv, None


def _list(registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, _: set[str]) -> int:
    infos = registry.load_all() if args.load else [registry.info(n) for n in registry.names()]
    infos = _for_output(infos)
    if args.format == "json":
        _dump([info.to_dict() for info in infos], out)
    elif not infos:
        print(f"No drivers found in entry-point group {registry.namespace!r}.", file=out)
    else:
        columns = render.LOADED_COLUMNS if args.load else render.LIST_COLUMNS
        print(render.table(columns, render.driver_rows(infos, loaded=args.load)), file=out)
        _print_problems(infos, out)
    return EXIT_OK


def _show(registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, _: set[str]) -> int:
    try:
        if args.load:
            with contextlib.suppress(OdibiExtError):  # a failure is part of what show reports
                registry.get(args.name)
        info = registry.info(args.name)
    except DriverNotFoundError as exc:
        return _fail(str(exc), EXIT_FAILED, args.format, out)
    if info.origin == "entry_point":
        from odibi_ext.discovery import module_file

        info = dataclasses.replace(info, module_file=module_file(info.target))
    [info] = _for_output([info])
    if args.format == "json":
        _dump(info.to_dict(), out)
    else:
        print(render.detail(info), file=out)
    return EXIT_OK


def _check(
    registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, _: set[str]
) -> int:
    if args.isolate:
        from odibi_ext import isolation

        timeout = isolation.DEFAULT_TIMEOUT if args.timeout is None else args.timeout
        if not 0 < timeout <= isolation.MAX_TIMEOUT:  # also refuses nan
            raise UsageError(
                f"--timeout must be a number of seconds above 0 and at most "
                f"{isolation.MAX_TIMEOUT:g}, not {args.timeout}"
            )
        if args.jobs is not None and not 1 <= args.jobs <= isolation.MAX_JOBS:
            raise UsageError(
                f"--jobs must be a whole number from 1 to {isolation.MAX_JOBS}, not {args.jobs}"
            )
        infos = isolation.check_isolated(registry, timeout=timeout, jobs=args.jobs)
    elif args.timeout is not None or args.jobs is not None:
        raise UsageError(
            "--timeout and --jobs apply to 'check --isolate' only: add --isolate, or drop them"
        )
    else:
        infos = registry.load_all()
    infos = _for_output(infos)
    broken = registry.broken_distributions()
    ok = not broken and not any(info.status in ("failed", "conflict") for info in infos)
    nothing = _nothing_checked(registry, infos)
    if args.format == "json":
        report: dict[str, Any] = {
            "ok": ok and not nothing,
            "drivers": [i.to_dict() for i in infos],
        }
        if broken:  # only then: scripts see the documented shape otherwise
            report["broken_distributions"] = [b._asdict() for b in broken]
        if nothing:
            report["error"] = nothing
        _dump(report, out)
    else:
        if infos:
            print(
                render.table(render.LOADED_COLUMNS, render.driver_rows(infos, loaded=True)),
                file=out,
            )
            _print_problems(infos, out)
        for distribution in broken:
            print(f"broken: {redact_text(distribution.describe())}", file=out)
        print(render.summary(infos), file=out)
    if nothing:
        _error(nothing)
    return EXIT_OK if ok and not nothing else EXIT_FAILED


def _nothing_checked(registry: ConnectionRegistry, infos: Sequence[DriverInfo]) -> str | None:
    """Why ``check`` checked no plugin although plugins are installed: the policy left none.

    Odibi's built-ins do not count: they ship with the host, and
    ``allowed_distributions`` does not hide them, so a typo there would
    otherwise still pass as "every driver loaded".
    """
    from odibi_ext.policy import Policy

    if registry.policy == Policy():
        return None
    if any(info.status != "disabled" and info.origin != "builtin" for info in infos):
        return None
    everything = ConnectionRegistry(registry.namespace, policy=Policy())
    plugins = [
        name
        for name in everything.names()
        if any(c.origin != "builtin" for c in everything.info(name).candidates)
    ]
    if not plugins:
        return None
    statuses = {info.name: info.status for info in infos}
    disabled = sum(1 for name in plugins if statuses.get(name) == "disabled")
    return (
        f"nothing to check: {registry.policy.describe()} leaves none of the {len(plugins)} "
        f"drivers installed distributions offer ({len(plugins) - disabled} hidden by "
        f"allowed_distributions or pins, {disabled} disabled); check the names in "
        f"allowed_distributions, pins and disabled"
    )


def _connect(
    registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, secrets: set[str]
) -> int:
    config = _read_config_file(args.config_file) if args.config_file else {}
    for item in args.set or ():
        key, value = _parse_set_item(item)
        config[key] = value
    secrets.update(secret_values(config))  # from here on, every line printed is scrubbed
    name = args.name or args.type
    report: dict[str, Any] = {
        "driver": args.type,
        "name": name,
        "distribution": None,
        "version": None,
        "config": redact(config),
        "ok": False,
        "error": None,
    }
    try:
        info = registry.info(args.type)
        report["distribution"], report["version"] = info.distribution, info.version
        connection = registry.create(args.type, name, config)
        try:
            connection.validate()
        except BaseException as exc:
            try:
                _close(connection)
            except Exception as close_error:  # the validate() error is the one to report
                add_note(exc, f"close() failed too: {describe_exception(close_error)}")
            raise
        _close(connection)
        report["ok"] = True
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # validate() calling sys.exit() is a failed validation
        if args.verbose:
            _print_traceback(secrets)
        report["error"] = mask_text(_describe(exc), secrets)
    _print_connect(report, args.format, out)
    return EXIT_OK if report["ok"] else EXIT_FAILED


# -- helpers -------------------------------------------------------------------------------


def _close(connection: Any) -> None:
    close = getattr(connection, "close", None)
    if callable(close):
        close()


def _parse_set_item(item: str) -> tuple[str, Any]:
    """``KEY=VALUE``: a value that parses as a JSON scalar becomes it, else a string."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(
            f"malformed --set item {_shown_item(item)}: expected KEY=VALUE, e.g. path=demo.db"
        )
    try:
        # NaN and Infinity are not JSON: they stay text, as any other word would.
        value = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return key, text
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise UsageError(
            f"--set {key}={text[:40]}: the number is too large for a float; give a smaller "
            f"number, or quote it to pass it as text ({key}='\"{text[:40]}\"')"
        )
    if value is None or isinstance(value, (str, int, float, bool)):
        return key, value
    return key, text  # JSON arrays and objects stay text: --set takes scalars


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _shown_item(item: str) -> str:
    """A malformed ``--set`` item as an error may show it: cut after a secret-looking key."""
    lowered = item.lower()
    ends = [lowered.find(word) + len(word) for word in SECRET_WORDS if word in lowered]
    if ends:
        return repr(item[: min(ends)] + "…")
    return repr(item) if len(item) <= 80 else repr(item[:77] + "…")


def _read_config_file(path: str) -> dict[str, Any]:
    """A mapping from a TOML or JSON file, the parser chosen by the file's extension.

    ``.toml`` is TOML and ``.json`` JSON; any other name is read as JSON when
    its text starts with ``{``, else as TOML. A UTF-8 byte-order mark is fine.
    """
    from odibi_ext.textfile import read_text

    try:
        text = read_text(path, what="config file")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    lowered = path.lower()
    if lowered.endswith((".toml", ".json")):
        kind, guessed = ("TOML" if lowered.endswith(".toml") else "JSON"), ""
    else:
        kind = "JSON" if text.lstrip().startswith("{") else "TOML"
        guessed = f" (read as {kind}: name it .toml or .json to choose)"
    try:
        config = _parse_config(text, kind)
    except RecursionError:
        raise UsageError(f"config file {path} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError say where
        raise UsageError(f"config file {path} is not valid {kind}{guessed}: {exc}") from None
    if not isinstance(config, dict):
        raise UsageError(
            f"config file {path} must hold a JSON object (KEY: VALUE pairs), not "
            f"{_json_type(config)}"
        )
    return config


def _parse_config(text: str, kind: str) -> Any:
    if kind == "JSON":
        return json.loads(text)
    from odibi_ext.textfile import parse_toml

    return parse_toml(text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def _print_connect(report: Mapping[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        _dump(report, out)
        return
    driver = report["driver"]
    if report["distribution"]:
        driver += f" ({describe_provider(report['distribution'], report['version'])})"
    result = "ok" if report["ok"] else "failed: " + str(report["error"])
    print(f"driver:  {render.escape(driver)}", file=out)
    print(f"name:    {render.escape(report['name'])}", file=out)
    print(f"config:  {_json_text(report['config'], sort_keys=True)}", file=out)
    print(f"result:  {render.escape(result, lines=True)}", file=out)


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, OdibiExtError) else describe_exception(exc)


def _dump(data: Any, out: TextIO) -> None:
    out.write(_json_text(data, indent=2) + "\n")


def _json_text(data: Any, **options: Any) -> str:
    """Valid JSON, always: a NaN or infinity (TOML has them) is written as text, e.g. "nan"."""
    try:
        return json.dumps(data, allow_nan=False, default=str, **options)
    except ValueError:
        return json.dumps(_finite(data), allow_nan=False, default=str, **options)


def _finite(data: Any) -> Any:
    import math

    if isinstance(data, float) and not math.isfinite(data):
        return repr(data)
    if isinstance(data, Mapping):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(item) for item in data]
    return data


def _for_output(infos: Sequence[DriverInfo]) -> list[DriverInfo]:
    """Driver information fit to print: credentials in plugins' messages masked by shape."""
    return [
        dataclasses.replace(
            info,
            error=redact_text(info.error) if info.error else None,
            reason=redact_text(info.reason) if info.reason else None,
        )
        for info in infos
    ]


def _print_problems(infos: Sequence[DriverInfo], out: TextIO) -> None:
    text = render.problems(infos)
    if text:
        print(f"\n{text}\n", file=out)


def _print_traceback(secrets: set[str]) -> None:
    sys.stderr.write(mask_text(traceback.format_exc(), secrets))


def _error(message: str) -> None:
    print(f"{_PROG}: error: {render.escape(message, lines=True)}", file=sys.stderr)


def _fail(message: str, code: int, fmt: str, out: TextIO) -> int:
    """Report an error on stderr and, for ``--format json``, as a JSON object on stdout."""
    _error(message)
    if fmt == "json":
        _dump({"ok": False, "error": message}, out)
    return code


class OutputError(Exception):
    """Standard output cannot be written (a closed pipe, a full disk)."""


class _Output:
    """Standard output whose write failures become :class:`OutputError`.

    Tells a failing stdout apart from every other ``OSError`` a command may
    meet, and catches the failure of the final flush, which would otherwise
    surface as a traceback while the interpreter exits.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc


def _discard_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (captured, replaced): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _tolerate_unencodable_output() -> Callable[[], None]:
    """Let stdout print what its encoding cannot (``PYTHONIOENCODING=ascii``, the C locale).

    Such characters are written as backslash escapes instead of failing the
    command. Returns the function that puts the stream back as it was.
    """
    stream = sys.stdout
    errors = getattr(stream, "errors", None)
    if not isinstance(stream, io.TextIOWrapper) or errors not in ("strict", "surrogateescape"):
        return lambda: None
    stream.reconfigure(errors="backslashreplace")
    return lambda: stream.reconfigure(errors=errors)


class _ScrubbingFormatter(logging.Formatter):
    """Formats log records with every known secret value masked, tracebacks included."""

    def __init__(self, secrets: set[str]) -> None:
        super().__init__(_LOG_FORMAT)
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        # A plugin's own log messages may carry terminal escapes too.
        return render.escape(mask_text(super().format(record), self._secrets), lines=True)


class _AlreadyReported(logging.Filter):
    """Drops per-driver failure and conflict records: the command's output reports them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "odibi_ext_driver_report", False)


def _configure_logging(verbose: bool, quiet: bool, secrets: set[str]) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ScrubbingFormatter(secrets))
    root = logging.getLogger()
    if verbose:
        handler.setLevel(logging.DEBUG)
        root.setLevel(logging.DEBUG)
    else:
        handler.setLevel(logging.CRITICAL if quiet else logging.WARNING)
        handler.addFilter(_AlreadyReported())
    root.addHandler(handler)
    return handler


def _versions() -> str:
    import importlib.metadata
    import platform

    try:
        stevedore = importlib.metadata.version("stevedore")
    except importlib.metadata.PackageNotFoundError:
        stevedore = "not installed"
    return f"{_PROG} {__version__} (stevedore {stevedore}, Python {platform.python_version()})"


class _VersionAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(_versions())
        parser.exit()


class _BadArguments(Exception):
    """The command line does not parse; the message is argparse's."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors reach :func:`main`, which answers them as any other."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise _BadArguments(message)


def _wants_json(argv: Sequence[str] | None) -> bool:
    """Whether a command line that does not parse asked for JSON output all the same."""
    words = list(sys.argv[1:] if argv is None else argv)
    pairs = zip(words, words[1:])
    return "--format=json" in words or any(pair == ("--format", "json") for pair in pairs)


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


def _parser() -> argparse.ArgumentParser:
    formatter = _HelpFormatter
    parser = _Parser(
        prog=_PROG,
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
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def command(
        name: str, summary: str, example: str, handler: Callable[..., int]
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[shared],
            help=summary,
            description=summary,
            epilog=f"example:\n  {example}",
            formatter_class=formatter,
        )
        sub.set_defaults(command=handler)
        return sub

    listing = command(
        "list",
        "List every driver: name, status, distribution, version, target. "
        "Imports no plugin unless --load is given.",
        "odibi-ext list --load",
        _list,
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
        _show,
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
        _check,
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
        _connect,
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
