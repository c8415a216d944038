"""``odibi-ext check``: load every driver (each in its own process with ``--isolate``) and
report; exit 1 if any fails or conflicts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import TextIO

from odibi_ext import render
from odibi_ext.cli.output import dump
from odibi_ext.cli.output import error
from odibi_ext.cli.output import for_output
from odibi_ext.cli.output import print_problems
from odibi_ext.cli.parser import UsageError
from odibi_ext.cli.status_codes import EXIT_FAILED
from odibi_ext.cli.status_codes import EXIT_OK
from odibi_ext.redaction import redact_text
from odibi_ext.registry import ConnectionRegistry

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo


def check(registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, _: set[str]) -> int:
    """Load every driver and report each, broken distributions too."""
    if args.isolate:
        infos = _check_isolated(registry, args)
    elif args.timeout is not None or args.jobs is not None:
        raise UsageError(
            "--timeout and --jobs apply to 'check --isolate' only: add --isolate, or drop them"
        )
    else:
        infos = registry.load_all()
    infos = for_output(infos)
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
        dump(report, out)
    else:
        if infos:
            print(
                render.table(render.LOADED_COLUMNS, render.driver_rows(infos, loaded=True)),
                file=out,
            )
            print_problems(infos, out)
        for distribution in broken:
            print(f"broken: {redact_text(distribution.describe())}", file=out)
        print(render.summary(infos), file=out)
    if nothing:
        error(nothing)
    return EXIT_OK if ok and not nothing else EXIT_FAILED


def _check_isolated(registry: ConnectionRegistry, args: argparse.Namespace) -> list[DriverInfo]:
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
    if args.format == "json" or args.quiet:  # a script reads it, or the operator asked for quiet
        return isolation.check_isolated(registry, timeout=timeout, jobs=args.jobs)
    from odibi_ext.cli.progress import progress_line

    with progress_line(sys.stderr) as progress:  # None unless stderr is a terminal
        return isolation.check_isolated(
            registry, timeout=timeout, jobs=args.jobs, progress=progress
        )


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
