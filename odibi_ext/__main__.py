"""``python -m odibi_ext``: the same as the ``odibi-ext`` command."""

from odibi_ext.cli import run

run()
