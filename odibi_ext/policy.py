"""Which drivers may load and how conflicts resolve: :class:`Policy`.

A policy is decided before any plugin module is imported: an excluded
candidate's code never runs. Operators write it as TOML::

    [odibi_ext]
    on_conflict = "error"            # or "first" / "last", by sys.path order
    disabled = ["legacy"]
    allowed_distributions = ["odibi-sqlite", "odibi-localfs"]

    [odibi_ext.pins]
    sqlite = "odibi-sqlite"
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Final

from odibi_ext.discovery import Candidate
from odibi_ext.discovery import normalize_distribution
from odibi_ext.environment import CONFIG_ENV
from odibi_ext.resolution import ON_CONFLICT_CHOICES
from odibi_ext.resolution import OnConflict

#: The TOML table holding the policy.
TABLE: Final = "odibi_ext"


@dataclass(frozen=True)
class Policy:
    """Which drivers may load and how conflicts between distributions resolve.

    ``on_conflict``: ``"error"`` (a type name offered by several distributions
    is not loaded), ``"first"`` or ``"last"`` (by ``sys.path`` order, the order
    Python's own imports follow). ``pins`` maps a type name to the only
    distribution that may provide it. ``disabled`` type names are never loaded.
    ``allowed_distributions``, when not ``None``, are the only distributions
    whose drivers are offered at all. ``source`` names where the policy came
    from (a file path), for messages.
    """

    on_conflict: OnConflict = "error"
    pins: Mapping[str, str] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()
    allowed_distributions: frozenset[str] | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.on_conflict not in ON_CONFLICT_CHOICES:
            raise ValueError(
                f"on_conflict must be one of {', '.join(ON_CONFLICT_CHOICES)}, "
                f"not {self.on_conflict!r}"
            )
        if not isinstance(self.pins, Mapping):
            raise TypeError(f"pins must be a mapping, not {type(self.pins).__qualname__}")
        for type_name, distribution in self.pins.items():
            if not isinstance(type_name, str) or not isinstance(distribution, str):
                raise TypeError(f"pins must map type names to distribution names: {type_name!r}")
        # Frozen means frozen: keep private copies, not the caller's objects.
        object.__setattr__(self, "pins", dict(self.pins))
        object.__setattr__(self, "disabled", _frozen_names("disabled", self.disabled))
        if self.allowed_distributions is not None:
            allowed = _frozen_names("allowed_distributions", self.allowed_distributions)
            object.__setattr__(self, "allowed_distributions", allowed)

    def __hash__(self) -> int:
        return hash(
            (
                self.on_conflict,
                tuple(sorted(self.pins.items())),
                self.disabled,
                self.allowed_distributions,
            )
        )

    def allows(self, distribution: str | None) -> bool:
        """Whether drivers of ``distribution`` are offered at all."""
        if self.allowed_distributions is None:
            return True
        if distribution is None:
            return False
        wanted = normalize_distribution(distribution)
        return any(normalize_distribution(d) == wanted for d in self.allowed_distributions)

    def pin_for(self, type_name: str) -> str | None:
        """The distribution ``type_name`` is pinned to, or ``None``."""
        return self.pins.get(type_name)

    def unmatched(self, candidates: Iterable[Candidate]) -> list[str]:
        """Warnings for names in the policy that match nothing among ``candidates``.

        A type name in ``pins`` or ``disabled`` that no entry point offers, a
        distribution in ``allowed_distributions`` or a pin's value that offers
        no driver: most likely a typo, which would otherwise silently leave a
        driver unpinned, enabled, or hidden. Each warning says where and
        suggests the closest installed name.
        """
        from odibi_ext.errors import close_match

        found = list(candidates)
        type_names = sorted({candidate.name for candidate in found})
        distributions = {
            normalize_distribution(c.distribution): c.distribution
            for c in found
            if c.distribution is not None
        }
        warnings = []

        def warn(key: str, name: str, known: Sequence[str], what: str) -> None:
            message = f"{self.describe()}: {key} names {name!r}, but {what}"
            suggestion = close_match(name, known)
            if suggestion is not None:
                message += f"; did you mean {suggestion!r}?"
            warnings.append(message)

        no_type = "no installed distribution offers a driver of that type name"
        no_dist = "no installed distribution of that name offers a driver"
        for type_name in sorted({*self.pins, *self.disabled}):
            if type_name not in type_names:
                key = "pins" if type_name in self.pins else "disabled"
                warn(key, type_name, type_names, no_type)
        known = sorted(distributions.values())
        for distribution in sorted({*self.pins.values(), *(self.allowed_distributions or ())}):
            if normalize_distribution(distribution) not in distributions:
                key = "allowed_distributions" if distribution not in self.pins.values() else "pins"
                warn(key, distribution, known, no_dist)
        return warnings

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready data; ``Policy(**policy.to_dict())`` rebuilds it."""
        allowed = self.allowed_distributions
        return {
            "on_conflict": self.on_conflict,
            "pins": dict(self.pins),
            "disabled": sorted(self.disabled),
            "allowed_distributions": None if allowed is None else sorted(allowed),
            "source": self.source,
        }

    def describe(self) -> str:
        """Where this policy came from, for messages: ``"policy file /etc/odibi.toml"``."""
        return f"policy file {self.source}" if self.source else "the registry's policy"

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Policy:
        """Read the ``[odibi_ext]`` table of a TOML file.

        Raises :class:`ValueError` naming the file and the offending key for a
        missing or unreadable file, invalid TOML, an unknown key, a wrong type
        or an ``on_conflict`` outside ``error|first|last``.
        """
        source = os.path.abspath(os.fspath(path))
        if "\0" in source:
            raise ValueError(f"policy file {source!r} cannot be read: its name holds a NUL byte")
        return cls(**_read_table(source), source=source)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Policy:
        """The policy in the file named by ``ODIBI_EXT_CONFIG``; the default policy when unset."""
        env = os.environ if environ is None else environ
        path = env.get(CONFIG_ENV, "")
        return cls.from_file(path) if path else cls()


def _frozen_names(key: str, value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{key} must be a collection of names, not {type(value).__qualname__}")
    names = frozenset(value)
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"{key} must hold only strings")
    return names


_KEYS: Final = ("on_conflict", "pins", "disabled", "allowed_distributions")


def _read_table(path: str) -> dict[str, Any]:
    """The ``[odibi_ext]`` table of ``path``, checked key by key, as ``Policy`` arguments."""
    from odibi_ext.textfile import parse_toml
    from odibi_ext.textfile import read_text

    where = f"policy file {path}"
    text = read_text(path, what="policy file")
    try:
        document = parse_toml(text)
    except ValueError as exc:  # TOMLDecodeError, an integer too long
        raise ValueError(f"{where} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ValueError(f"{where} is not valid TOML: nested too deeply") from None

    table = document.get(TABLE)
    if table is None:
        if not document:
            return {}  # an empty file is the default policy
        found = ", ".join(
            f"[{key}]" if isinstance(v, dict) else key for key, v in document.items()
        )
        raise ValueError(
            f"{where} has no [{TABLE}] table (found {found}); put the policy keys under [{TABLE}]"
        )
    if not isinstance(table, dict):
        raise ValueError(f"{where}: key {TABLE!r} must be a table, not {_toml_type(table)}")

    arguments: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise ValueError(
                f"{where}: unknown key {key!r} in [{TABLE}]; expected one of {', '.join(_KEYS)}"
            )
        arguments[key] = _CHECKS[key](where, key, value)
    return arguments


def _check_on_conflict(where: str, key: str, value: Any) -> str:
    if value not in ON_CONFLICT_CHOICES:
        raise ValueError(
            f"{where}: key {key!r} in [{TABLE}] must be one of "
            f"{', '.join(ON_CONFLICT_CHOICES)}, not {value!r}"
        )
    return str(value)


def _check_names(where: str, key: str, value: Any) -> frozenset[str]:
    expected = f"{where}: key {key!r} in [{TABLE}] must be an array of strings"
    if not isinstance(value, list):
        raise ValueError(f"{expected}, not {_toml_type(value)}")
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise ValueError(
                f"{expected}, but item {position} is {_toml_type(item)}: write it in quotes"
            )
    return frozenset(value)


def _check_pins(where: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(
            f"{where}: key {key!r} in [{TABLE}] must be a table of type name = "
            f'"distribution", not {_toml_type(value)}'
        )
    for type_name, distribution in value.items():
        if not isinstance(distribution, str):
            raise ValueError(
                f"{where}: key {key}.{type_name} in [{TABLE}] must be a string (a distribution "
                f"name), not {_toml_type(distribution)}"
            )
    return dict(value)


_CHECKS: Final = {
    "on_conflict": _check_on_conflict,
    "pins": _check_pins,
    "disabled": _check_names,
    "allowed_distributions": _check_names,
}


def _toml_type(value: Any) -> str:
    """What a value read from TOML is, in TOML's words: ``"an integer (5)"``."""
    import datetime

    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (datetime.datetime, "a date-time"),
        (datetime.date, "a date"),
        (datetime.time, "a time"),
        (list, "an array"),
        (dict, "a table"),
    )
    kind = next((name for cls, name in kinds if isinstance(value, cls)), "a value")
    if isinstance(value, (bool, int, float, datetime.date, datetime.time)):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        return f"{kind} ({shown[:40]})"
    return kind
