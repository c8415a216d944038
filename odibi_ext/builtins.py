"""Odibi's built-in connection factories, found by reading Odibi's source, not by importing it.

Odibi registers its own factories (``local``, ``http``, ``delta``, ...) in
``odibi.connections.factory.register_builtins()``. Importing that module
imports pandas and configures the root logger, which an operator's ``list``
must not pay for or suffer, so the function's source is read instead: each
``register_connection_factory("type_name", function)`` call in it is one
built-in driver, offered by the distribution ``odibi`` at Odibi's version and
loaded (when a project uses it) like any entry point, through stevedore.
"""

from __future__ import annotations

import logging
from typing import Final

from odibi_ext.candidates import HOST_DISTRIBUTION
from odibi_ext.candidates import Candidate
from odibi_ext.candidates import module_file

LOG = logging.getLogger(__name__)

#: The module holding the built-in factories and the function registering them.
FACTORY_MODULE: Final = "odibi.connections.factory"
REGISTER_FUNCTION: Final = "register_builtins"
#: The function the built-ins are registered with.
REGISTER_CALL: Final = "register_connection_factory"


def scan(version: str | None, location: str | None) -> tuple[list[Candidate], str | None]:
    """Odibi's built-ins as candidates (origin ``"builtin"``), and the source file read.

    ``version`` and ``location`` are those of the installed ``odibi``
    distribution. Returns no candidates when the factory module cannot be
    found or read, or does not register anything the way this reader
    understands (logged at WARNING: the operator then sees plugins only).
    """
    path = module_file(f"{FACTORY_MODULE}:{REGISTER_FUNCTION}")
    if path is None:
        return [], None
    try:
        with open(path, encoding="utf-8") as file:
            source = file.read()
        registrations = read_registrations(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
        LOG.warning("Odibi's built-in connection types could not be read from %s: %s", path, exc)
        return [], path
    if not registrations:
        LOG.warning(
            "no built-in connection types found in %s (%s() not found or empty): "
            "this Odibi is shaped differently from the versions odibi-ext knows",
            path,
            REGISTER_FUNCTION,
        )
    found = [
        Candidate(
            name=type_name,
            target=f"{FACTORY_MODULE}:{function}",
            distribution=HOST_DISTRIBUTION,
            version=version,
            location=location,
            origin="builtin",
        )
        for type_name, function in registrations
    ]
    return found, path


def read_registrations(source: str) -> list[tuple[str, str]]:
    """``(type_name, function_name)`` for each built-in ``register_builtins`` registers, in order.

    Only literal calls ``register_connection_factory("name", function)`` count;
    a name registered twice keeps its last function, as Odibi's dict would.
    """
    import ast

    tree = ast.parse(source)
    found: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name == REGISTER_FUNCTION):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == REGISTER_CALL
                and len(call.args) == 2
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
                and isinstance(call.args[1], ast.Name)
            ):
                found.pop(call.args[0].value, None)
                found[call.args[0].value] = call.args[1].id
    return list(found.items())
