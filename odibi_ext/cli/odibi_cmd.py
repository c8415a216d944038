"""``odibi-ext odibi ARGS...``: Odibi's own command line, with odibi-ext in charge of its
connection drivers and the policy applied."""

from __future__ import annotations

import argparse

from odibi_ext.cli.logs import odibi_run_logging
from odibi_ext.cli.output import error
from odibi_ext.cli.status_codes import EXIT_INTERRUPTED
from odibi_ext.cli.status_codes import EXIT_USAGE
from odibi_ext.errors import OdibiExtError
from odibi_ext.registry import ConnectionRegistry


def run_odibi(args: argparse.Namespace, odibi_args: list[str]) -> int:
    """Run Odibi's command line with ``odibi_args``; Odibi's exit status, or 2 when there is
    no usable Odibi or the policy file is bad."""
    with odibi_run_logging(args.verbose, args.quiet):
        try:
            from odibi_ext import odibi

            if args.config:
                from odibi_ext.policy import Policy

                registry = ConnectionRegistry(policy=Policy.from_file(args.config))
            else:
                registry = ConnectionRegistry()  # the operator's policy: $ODIBI_EXT_CONFIG
            return odibi.run(odibi_args, registry)
        except (OdibiExtError, ValueError) as exc:  # no usable Odibi, or a bad policy file
            error(str(exc))
            return EXIT_USAGE
        except KeyboardInterrupt:
            error("interrupted")
            return EXIT_INTERRUPTED
