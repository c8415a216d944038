"""What odibi-ext expects of the installed Odibi's plugin seams, and the checks.

:func:`plugins_module` and :func:`check_bindings` run before anything is
changed: an Odibi shaped otherwise is refused with an error saying so.
"""

from __future__ import annotations

import enum
import sys
import types
from typing import Any
from typing import Final

from odibi_ext.errors import OdibiExtError
from odibi_ext.odibi.versions import SUPPORTED

PLUGINS_MODULE: Final = "odibi.plugins"
TABLE: Final = "_CONNECTION_FACTORIES"
FUNCTIONS: Final = ("register_connection_factory", "get_connection_factory", "load_plugins")
#: Modules known to bind the seams at import time: each must hold Odibi's own
#: object when it is already imported, or the Odibi is not shaped as expected.
_KNOWN_BINDINGS: Final = (
    ("odibi.pipeline", "get_connection_factory"),
    ("odibi.pipeline", "load_plugins"),
    ("odibi.connections.factory", "register_connection_factory"),
    ("odibi.cli.list_cmd", TABLE),
)
#: Where bindings are looked for: Odibi and its MCP server.
HOST_PACKAGES: Final = ("odibi", "odibi_mcp")


def validation_mode_enum() -> type[enum.Enum] | None:
    """Odibi's ``ValidationMode`` (what it passes as ``validation_mode``); None without Odibi.

    ``odibi.config`` loads pydantic, not pandas, and leaves logging alone.
    """
    import importlib.util

    if importlib.util.find_spec("odibi") is None:
        return None
    from odibi.config import ValidationMode  # type: ignore[import-untyped]

    mode: type[enum.Enum] = ValidationMode
    return mode


def plugins_module(version: str) -> types.ModuleType:
    """``odibi.plugins``, imported, once its table and functions are as expected."""
    import importlib

    try:
        plugins = importlib.import_module(PLUGINS_MODULE)
    except Exception as exc:
        raise _unexpected(version, f"{PLUGINS_MODULE} cannot be imported ({exc})") from exc
    table = getattr(plugins, TABLE, None)
    if type(table) is not dict:
        raise _unexpected(version, f"{PLUGINS_MODULE}.{TABLE} is not Odibi's dict")
    for name in FUNCTIONS:
        if not isinstance(getattr(plugins, name, None), types.FunctionType):
            raise _unexpected(version, f"{PLUGINS_MODULE}.{name} is not a function")
    return plugins


def check_bindings(originals: dict[str, Any], version: str, stale: dict[str, Any]) -> None:
    """Every known binder already imported must hold Odibi's own object (or, after a
    reload of ``odibi.plugins``, the replacement installed before it: ``stale``)."""
    for module_name, name in _KNOWN_BINDINGS:
        module = sys.modules.get(module_name)
        if module is None:
            continue  # it will bind the replacement when Odibi imports it
        bound = getattr(module, name, None)
        if bound is None and _initializing(module):
            continue  # being imported by another thread: it binds from odibi.plugins
        if bound is not originals[name] and (name not in stale or bound is not stale[name]):
            raise _unexpected(
                version,
                f"{module_name}.{name} is not odibi.plugins.{name} (replaced by other code?)",
            )


def _initializing(module: types.ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def _unexpected(version: str, what: str) -> OdibiExtError:
    return OdibiExtError(
        f"odibi {version} is not shaped as odibi-ext expects: {what}; nothing was changed. "
        f"odibi-ext supports odibi {SUPPORTED}: install one of those, or report this to "
        f"odibi-ext with the Odibi version"
    )
