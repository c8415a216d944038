"""The config of a SQLite connection, checked once, when the connection is created."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Final

#: Prefix of every message, so an operator knows which driver complained.
DRIVER: Final = "odibi-sqlite"
MEMORY: Final = ":memory:"
DEFAULT_TIMEOUT: Final = 5.0
KEYS: Final = ("path", "timeout", "read_only")
#: Keys Odibi puts in every connection block it hands a factory.
HOST_KEYS: Final = ("type", "validation_mode")
VALIDATION_MODES: Final = ("lazy", "eager")

_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class SQLiteConfig:
    """What a SQLite connection opens, and how."""

    path: str
    timeout: float = DEFAULT_TIMEOUT
    read_only: bool = False
    #: ``"eager"``: the connection is validated when it is created.
    validation_mode: str = "lazy"

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SQLiteConfig:
        """Check ``config`` and build the settings from it.

        Raises ``ValueError`` for an unknown or missing key or a value that
        does not parse, ``TypeError`` for a value of the wrong type; both name
        the key. Strings are accepted for ``timeout`` and ``read_only``,
        because config files often hold nothing else. Odibi's own keys,
        ``type`` and ``validation_mode`` (``lazy`` or ``eager``, a str or
        Odibi's enum), are accepted too.
        """
        unknown = sorted(str(key) for key in config if key not in KEYS + HOST_KEYS)
        if unknown:
            raise ValueError(
                f"{DRIVER}: unknown config key {unknown[0]!r}; expected {', '.join(KEYS)} "
                f"(and Odibi's {', '.join(HOST_KEYS)})"
            )
        if "type" in config and not isinstance(config["type"], str):
            raise TypeError(
                f"{DRIVER}: config key 'type' must be a str, not {type(config['type']).__name__}"
            )
        if "path" not in config:
            raise ValueError(
                f"{DRIVER}: config key 'path' is required (a file path or ':memory:')"
            )
        settings = cls(
            path=_path(config["path"]),
            timeout=_timeout(config.get("timeout", DEFAULT_TIMEOUT)),
            read_only=_flag("read_only", config.get("read_only", False)),
            validation_mode=validation_mode(config.get("validation_mode", "lazy")),
        )
        if settings.read_only and settings.path == MEMORY:
            raise ValueError(f"{DRIVER}: config key 'read_only' cannot be true for ':memory:'")
        return settings


def validation_mode(value: object) -> str:
    """``"lazy"`` or ``"eager"``, from a str or Odibi's ``ValidationMode`` (a str enum)."""
    # str() of Odibi's enum is "ValidationMode.EAGER"; its value is the word.
    text = getattr(value, "value", value)
    if not isinstance(text, str):
        raise TypeError(
            f"{DRIVER}: config key 'validation_mode' must be lazy or eager, "
            f"not {type(value).__name__}"
        )
    mode = text.strip().lower()
    if mode not in VALIDATION_MODES:
        raise ValueError(
            f"{DRIVER}: config key 'validation_mode' must be lazy or eager, not {text!r}"
        )
    return mode


def _path(value: object) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise TypeError(f"{DRIVER}: config key 'path' must be a str, not {type(value).__name__}")
    # sqlite3 would open an anonymous temporary database for "", hiding a typo.
    if not value.strip():
        raise ValueError(f"{DRIVER}: config key 'path' must not be empty")
    if "\x00" in value:
        raise ValueError(f"{DRIVER}: config key 'path' must not contain a NUL character")
    return value


def _timeout(value: object) -> float:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(
                f"{DRIVER}: config key 'timeout' must be a number of seconds, not {value!r}"
            ) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise TypeError(
            f"{DRIVER}: config key 'timeout' must be a number of seconds, "
            f"not {type(value).__name__}"
        )
    if not math.isfinite(number) or number < 0:
        raise ValueError(
            f"{DRIVER}: config key 'timeout' must be a finite number >= 0, not {value!r}"
        )
    return number


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
