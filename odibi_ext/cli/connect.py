"""``odibi-ext connect``: create a connection from the config given and validate it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any
from typing import TextIO

from odibi_ext import render
from odibi_ext.cli.output import dump
from odibi_ext.cli.output import json_text
from odibi_ext.cli.output import print_traceback
from odibi_ext.cli.parser import UsageError
from odibi_ext.cli.status_codes import EXIT_FAILED
from odibi_ext.cli.status_codes import EXIT_OK
from odibi_ext.errors import OdibiExtError
from odibi_ext.errors import add_note
from odibi_ext.errors import describe_exception
from odibi_ext.errors import describe_provider
from odibi_ext.redaction import SECRET_WORDS
from odibi_ext.redaction import mask_text
from odibi_ext.redaction import redact
from odibi_ext.redaction import secret_values
from odibi_ext.registry import ConnectionRegistry


def connect(
    registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, secrets: set[str]
) -> int:
    """Create the connection, validate and close it; exit 1 if any of that fails.

    Every secret value of the config joins ``secrets``, so no line printed
    from then on shows it.
    """
    if args.config_file:
        from odibi_ext.textfile import read_config

        config = read_config(args.config_file)
    else:
        config = {}
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
            print_traceback(secrets)
        report["error"] = mask_text(_describe(exc), secrets)
    _print_report(report, args.format, out)
    return EXIT_OK if report["ok"] else EXIT_FAILED


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


def _close(connection: Any) -> None:
    close = getattr(connection, "close", None)
    if callable(close):
        close()


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, OdibiExtError) else describe_exception(exc)


def _print_report(report: Mapping[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        dump(report, out)
        return
    driver = report["driver"]
    if report["distribution"]:
        driver += f" ({describe_provider(report['distribution'], report['version'])})"
    result = "ok" if report["ok"] else "failed: " + str(report["error"])
    print(f"driver:  {render.escape(driver)}", file=out)
    print(f"name:    {render.escape(report['name'])}", file=out)
    print(f"config:  {json_text(report['config'], sort_keys=True)}", file=out)
    print(f"result:  {render.escape(result, lines=True)}", file=out)
