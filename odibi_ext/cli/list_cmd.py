"""``odibi-ext list`` and ``odibi-ext show``: what is installed, and one driver in detail."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from typing import TextIO

from odibi_ext import render
from odibi_ext.cli.output import dump
from odibi_ext.cli.output import fail
from odibi_ext.cli.output import for_output
from odibi_ext.cli.output import print_problems
from odibi_ext.cli.status_codes import EXIT_FAILED
from odibi_ext.cli.status_codes import EXIT_OK
from odibi_ext.errors import DriverNotFoundError
from odibi_ext.errors import OdibiExtError
from odibi_ext.registry import ConnectionRegistry


def list_drivers(
    registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, _: set[str]
) -> int:
    """Every driver, one row each; with ``--load``, each loaded first."""
    infos = registry.load_all() if args.load else [registry.info(n) for n in registry.names()]
    infos = for_output(infos)
    if args.format == "json":
        dump([info.to_dict() for info in infos], out)
    elif not infos:
        print(f"No drivers found in entry-point group {registry.namespace!r}.", file=out)
    else:
        columns = render.LOADED_COLUMNS if args.load else render.LIST_COLUMNS
        print(render.table(columns, render.driver_rows(infos, loaded=args.load)), file=out)
        print_problems(infos, out)
    return EXIT_OK


def show_driver(
    registry: ConnectionRegistry, args: argparse.Namespace, out: TextIO, _: set[str]
) -> int:
    """One driver: provenance, module file, status, every candidate; exit 1 if unknown."""
    try:
        if args.load:
            with contextlib.suppress(OdibiExtError):  # a failure is part of what show reports
                registry.get(args.name)
        info = registry.info(args.name)
    except DriverNotFoundError as exc:
        return fail(str(exc), EXIT_FAILED, args.format, out)
    if info.origin == "entry_point":
        from odibi_ext.discovery import module_file

        info = dataclasses.replace(info, module_file=module_file(info.target))
    [info] = for_output([info])
    if args.format == "json":
        dump(info.to_dict(), out)
    else:
        print(render.detail(info), file=out)
    return EXIT_OK
