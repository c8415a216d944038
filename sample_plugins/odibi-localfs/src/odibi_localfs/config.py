"""The config of a local file system connection, checked when the connection is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Final

#: Prefix of every message, so an operator knows which driver complained.
DRIVER: Final = "odibi-localfs"
KEYS: Final = ("base_path", "create")

_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True, slots=True)
class LocalConfig:
    """Where a local connection's files live, as configured."""

    base_path: str
    create: bool = False

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> LocalConfig:
        """Check ``config`` and build the settings from it.

        Raises ``ValueError`` for an unknown or missing key or a value that
        does not parse, ``TypeError`` for a value of the wrong type; both name
        the key. ``create`` also accepts ``"true"`` and ``"false"``.
        """
        unknown = sorted(str(key) for key in config if key not in KEYS)
        if unknown:
            raise ValueError(
                f"{DRIVER}: unknown config key {unknown[0]!r}; expected {', '.join(KEYS)}"
            )
        if "base_path" not in config:
            raise ValueError(f"{DRIVER}: config key 'base_path' is required (a directory)")
        return cls(
            base_path=_base_path(config["base_path"]),
            create=_flag("create", config.get("create", False)),
        )


def _base_path(value: object) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(
            f"{DRIVER}: config key 'base_path' must be a str, not {type(value).__name__}"
        )
    if not value.strip():
        raise ValueError(f"{DRIVER}: config key 'base_path' must not be empty")
    if "\x00" in value:
        raise ValueError(f"{DRIVER}: config key 'base_path' must not contain a NUL character")
    return value


def _flag(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{DRIVER}: config key {key!r} must be true or false, not {value!r}")
    raise TypeError(f"{DRIVER}: config key {key!r} must be a bool, not {type(value).__name__}")
