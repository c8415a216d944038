"""Putting odibi-ext in charge of the installed Odibi's connection plugins.

Odibi keeps its connection factories in ``odibi.plugins``: a dict
``_CONNECTION_FACTORIES`` and the functions ``register_connection_factory``,
``get_connection_factory`` and ``load_plugins``. Other Odibi modules bind
those names when they are imported (``odibi.pipeline``,
``odibi.connections.factory``, ``odibi.cli.list_cmd``, ...), so replacing
them in ``odibi.plugins`` alone would split Odibi in two. :func:`install`
replaces each name in ``odibi.plugins`` and in every Odibi module that has
already bound it; modules Odibi imports later bind the replacements by
themselves. :func:`uninstall` puts Odibi's own objects back wherever a
replacement is bound, whenever that module was imported.

Under the integration, every lookup goes to a :class:`ConnectionRegistry`:
drivers load when a project first uses them, Odibi's built-ins are drivers of
origin ``"builtin"`` (conflicts with plugins are reported, the policy
settles them), and a type name that is conflicting, failing or disabled fails
the project with the registry's error. This is the only package of odibi_ext
that imports Odibi. Its modules: :mod:`~odibi_ext.odibi.versions` (the
Odibi versions supported), :mod:`~odibi_ext.odibi.shape` (the seams
expected, checked before anything changes), :mod:`~odibi_ext.odibi.seams`
and :mod:`~odibi_ext.odibi.table` (their replacements),
:mod:`~odibi_ext.odibi.providers` (the distribution of a registering module),
:mod:`~odibi_ext.odibi.installation` (install, uninstall, the binding swaps)
and :mod:`~odibi_ext.odibi.command` (``odibi-ext odibi``).
"""

from __future__ import annotations

from odibi_ext.odibi.command import run
from odibi_ext.odibi.installation import install
from odibi_ext.odibi.installation import is_installed
from odibi_ext.odibi.installation import uninstall
from odibi_ext.odibi.installation import watching
from odibi_ext.odibi.seams import CheckedFactory
from odibi_ext.odibi.seams import UnsupportedConnectionTypeError
from odibi_ext.odibi.shape import validation_mode_enum
from odibi_ext.odibi.table import FactoryTable
from odibi_ext.odibi.versions import SUPPORTED

# Its public name, as tracebacks and pickles have always spelt it.
UnsupportedConnectionTypeError.__module__ = __name__

__all__ = [
    "SUPPORTED",
    "CheckedFactory",
    "FactoryTable",
    "UnsupportedConnectionTypeError",
    "install",
    "is_installed",
    "run",
    "uninstall",
    "validation_mode_enum",
    "watching",
]
