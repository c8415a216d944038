"""The driver under test: found among the installed distributions, its import probed.

What the contract learns once per test class, before any rule runs in-process:
which distribution provides the type name, whether the name clashes, and
whether importing the driver in a fresh process hangs or ends the process
(then no rule imports it in the test process).
"""

from __future__ import annotations

import enum
import sys
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

if TYPE_CHECKING:
    from odibi_ext.info import DriverInfo

#: Seconds a fresh process may take to import the driver before it counts as hanging.
DEFAULT_IMPORT_TIMEOUT: Final = 30.0


class ValidationMode(str, enum.Enum):  # as Odibi's: a StrEnum's str() differs
    """A stand-in for Odibi's ``ValidationMode``, for environments without Odibi.

    Defined as Odibi defines its own (``class ValidationMode(str, Enum)``), so
    it equals ``"eager"`` but its ``str()`` and f-strings give
    ``ValidationMode.EAGER``, as Odibi's do: a factory testing
    ``str(mode) == "eager"`` breaks here as it breaks under Odibi.
    """

    LAZY = "lazy"
    EAGER = "eager"


def validation_mode_enum() -> type[enum.Enum]:
    """Odibi's own ``ValidationMode`` when Odibi is installed, else a stand-in with its values.

    The contract passes the enum member, as Odibi does, so a factory that
    compares with ``==`` or reads ``.value`` is checked against the real thing.
    """
    from odibi_ext.odibi import validation_mode_enum as odibi_s

    return odibi_s() or ValidationMode


class DriverUnderTest:
    """What the contract found out about the driver under test, once per test class."""

    __slots__ = (
        "blocked",
        "distribution",
        "import_problem",
        "info",
        "suggestion",
        "unique_problem",
        "version",
    )

    def __init__(self, info: DriverInfo | None, distribution: str | None) -> None:
        self.info = info
        self.distribution = distribution
        self.version: str | None = None
        #: The installed type name closest to a type name no distribution publishes.
        self.suggestion: str | None = None
        #: Why the in-process rules cannot run (an earlier rule broke), or None.
        self.blocked: str | None = None
        #: What broke the rules type_name_is_unique and imports_in_a_fresh_process, or None.
        self.unique_problem: str | None = None
        self.import_problem: str | None = None


def discover(
    owner: str, type_name: object, distribution: str | None, import_timeout: float
) -> DriverUnderTest:
    """Find the driver in the environment and probe its import in a fresh process.

    ``owner`` is the contract class, named in messages; the other arguments
    are its attributes.
    """
    from odibi_ext.isolation import load_isolated
    from odibi_ext.policy import Policy
    from odibi_ext.registry import ConnectionRegistry
    from odibi_ext.testing.registries import ODIBI_BUILTIN_TYPE_NAMES
    from odibi_ext.testing.registries import installed_registry

    if not isinstance(type_name, str) or not type_name:
        pytest.fail(
            f"{owner} sets no type_name: set `type_name = '...'` to the name "
            f"your distribution publishes in the 'odibi.connections' entry-point group",
            pytrace=False,
        )
    everything = ConnectionRegistry(policy=Policy())
    if type_name not in everything:
        from odibi_ext.errors import close_match

        driver = DriverUnderTest(None, None)
        suggestion = close_match(type_name, everything.names())
        driver.suggestion = suggestion
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        driver.blocked = (
            f"not checked: no installed distribution publishes {type_name!r}{hint} "
            f"(rule published_by_a_distribution)"
        )
        return driver
    info = everything.info(type_name)
    offered = [c for c in info.candidates if c.distribution]
    chosen = distribution or (offered[0].distribution if len(offered) == 1 else None)
    driver = DriverUnderTest(info, chosen)
    others = sorted({f"{c.distribution} {c.version}" for c in offered if c.distribution != chosen})
    if type_name in ODIBI_BUILTIN_TYPE_NAMES:
        driver.unique_problem = (
            f"{type_name!r} is one of Odibi's built-in connection types; installed beside "
            f"Odibi the plugin silently replaces the built-in in every project using it"
        )
    elif others:
        driver.unique_problem = (
            f"{type_name!r} is {'also ' if chosen else ''}offered by {', '.join(others)}: "
            f"with both installed odibi-ext loads none until an operator pins one, and "
            f"stock Odibi takes whichever it imports last"
        )
    if chosen is None:
        driver.blocked = (
            f"not checked: several distributions offer {type_name!r}; set "
            f"`distribution = '...'` on {owner} to say which one is under test"
        )
        return driver
    driver.version = next((c.version for c in offered if c.distribution == chosen), None)
    probed, finished = load_isolated(installed_registry(chosen), type_name, timeout=import_timeout)
    if not finished:
        driver.import_problem = f"importing it in a fresh process: {probed.error}"
        driver.blocked = (
            f"not checked in-process: rule imports_in_a_fresh_process broke ({probed.error})"
        )
    return driver


def exception_text(exc: BaseException, *, causes: bool = False) -> str:
    """What a user could see of ``exc``, on one line: type, message and notes.

    With ``causes``, the exceptions it was raised from or while handling too.
    """
    lines = (
        traceback.format_exception(type(exc), exc, exc.__traceback__, limit=0)
        if causes
        else traceback.format_exception_only(type(exc), exc)
    )
    if sys.version_info < (3, 11):  # traceback shows notes from 3.11 on
        lines.extend(_notes(exc, causes=causes))
    return " ".join(" ".join(line for line in lines if not line.startswith("Traceback")).split())


def _notes(exc: BaseException | None, *, causes: bool) -> list[str]:
    notes: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        notes.extend(str(note) for note in getattr(exc, "__notes__", ()))
        if not causes:
            break
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return notes


def shown_keys(config: Mapping[str, Any]) -> str:
    if not config:
        return "an empty config"
    return "a config with keys " + ", ".join(repr(key) for key in config)
