"""What every rule family of :class:`~odibi_ext.testing.DriverContract` stands on.

The class attributes an author sets, the fixtures giving the configs and the
driver under test, and the helpers a rule uses to create connections and to
say it broke: :meth:`ContractBase._broken` fails the test with ``rule <name>
broke for driver ...``, the problem and ``To fix: ...``; a rule's own code
may raise :class:`RuleBroken` instead, deep inside a check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Final
from typing import NoReturn

import pytest

from odibi_ext.testing.subject import DEFAULT_IMPORT_TIMEOUT
from odibi_ext.testing.subject import DriverUnderTest
from odibi_ext.testing.subject import discover
from odibi_ext.testing.subject import exception_text
from odibi_ext.testing.subject import shown_keys

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: The connection name every rule uses.
CONNECTION_NAME: Final = "contract"
#: Where :meth:`ContractBase.other_driver_config` moves the paths of ``driver_config``.
OTHER_PLACE: Final = "odibi-ext-other"


class RuleBroken(Exception):
    """Raised by a check deep inside a rule: what broke and what to change."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


class ContractBase:
    """The attributes, fixtures and helpers the rule families share."""

    #: The driver's type name, as published in the ``odibi.connections`` entry-point group.
    type_name: ClassVar[str]
    #: A config that creates a working connection (Odibi's own keys are added by the rules).
    config: ClassVar[Mapping[str, Any]]
    #: A config that creates a connection whose ``validate()`` raises.
    invalid_config: ClassVar[Mapping[str, Any] | None] = None
    #: Why no config can make ``validate()`` fail, when that is so: the two
    #: validation-mode rules then skip with this reason instead of failing.
    no_invalid_config: ClassVar[str | None] = None
    #: The distribution under test, when another one also offers :attr:`type_name`.
    distribution: ClassVar[str | None] = None
    #: Seconds a fresh process may spend importing the driver.
    import_timeout: ClassVar[float] = DEFAULT_IMPORT_TIMEOUT
    #: A second schema the connection serves besides ``default_schema`` (a scratch
    #: schema the rules may fill), to check that ``schema=`` picks the table.
    other_schema: ClassVar[str | None] = None
    #: For a read-only SQL source: a table of at least one row the read rules may read.
    readable_table: ClassVar[str | None] = None

    # -- fixtures a subclass may override ------------------------------------------------

    @pytest.fixture
    def driver_config(self) -> dict[str, Any]:
        """The working config; override to build it from ``tmp_path`` and the like."""
        config = getattr(self, "config", None)
        if not isinstance(config, Mapping):
            pytest.fail(
                f"{type(self).__qualname__} sets no config: set `config = {{...}}` to a "
                f"mapping that creates a working connection, or override the "
                f"`driver_config` fixture",
                pytrace=False,
            )
        return dict(config)

    @pytest.fixture
    def invalid_driver_config(self) -> dict[str, Any] | None:
        """A config whose connection fails ``validate()``; override like ``driver_config``."""
        config = self.invalid_config
        return None if config is None else dict(config)

    @pytest.fixture
    def other_driver_config(
        self, driver_config: dict[str, Any], tmp_path: Path
    ) -> dict[str, Any] | None:
        """A working config pointing at another place than ``driver_config``, or None.

        By default every value of ``driver_config`` under ``tmp_path`` is moved
        to ``tmp_path / "odibi-ext-other"`` (directories made as the original
        has them); a config holding no such path gives None. Override it when
        the place is named otherwise (a database name, a bucket).
        """
        other_root = tmp_path / OTHER_PLACE
        moved = {key: _moved(value, tmp_path, other_root) for key, value in driver_config.items()}
        return moved if moved != driver_config else None

    # -- the contract's own fixtures -----------------------------------------------------

    @pytest.fixture
    def contract_driver(self) -> DriverUnderTest:
        """The driver under test: found, its import probed in a fresh process, once per class."""
        cls = type(self)
        driver = cls.__dict__.get("_contract_driver")
        if driver is None:
            driver = discover(
                cls.__qualname__,
                getattr(cls, "type_name", None),
                cls.distribution,
                cls.import_timeout,
            )
            cls._contract_driver = driver  # type: ignore[attr-defined]
        return driver

    @pytest.fixture
    def contract_registry(self, contract_driver: DriverUnderTest) -> ConnectionRegistry:
        """A registry seeing the distribution under test only, with its drivers pinned to it."""
        if contract_driver.blocked is not None:
            pytest.fail(contract_driver.blocked, pytrace=False)
        from odibi_ext.testing.registries import installed_registry

        assert contract_driver.distribution is not None  # not blocked: found
        return installed_registry(contract_driver.distribution)

    # -- helpers -------------------------------------------------------------------------

    def _broken(self, rule: str, problem: str, fix: str) -> NoReturn:
        message = (
            f"rule {rule} broke for driver {self.type_name!r}{self._provider()}:\n"
            f"  {problem}\n"
            f"  To fix: {fix}"
        )
        try:
            pytest.fail(message, pytrace=False)
        except pytest.fail.Exception as failed:
            # The message says what broke; the exception being handled when a rule
            # broke would only repeat it as "During handling of the above exception".
            raise failed from None

    @contextlib.contextmanager
    def _rule(self, rule: str) -> Iterator[None]:
        """Turn a :class:`RuleBroken` raised in the block into rule ``rule`` broken."""
        try:
            yield
        except RuleBroken as broken:
            self._broken(rule, broken.problem, broken.fix)

    def _not_applicable(self, rule: str, reason: str) -> NoReturn:
        """Skip ``rule``, saying why it does not apply to this driver."""
        pytest.skip(f"rule {rule} does not apply to driver {self.type_name!r}: {reason}")

    def _provider(self) -> str:
        driver = type(self).__dict__.get("_contract_driver")
        if driver is None or driver.distribution is None:
            return ""
        version = f" {driver.version}" if driver.version else ""
        return f" ({driver.distribution}{version})"

    def _require_found(self, driver: DriverUnderTest) -> None:
        if driver.info is None:
            pytest.fail(driver.blocked or "not checked: no driver found", pytrace=False)

    def _require_invalid(  # noqa: RET503  # the rule broke or skipped
        self, rule: str, invalid: dict[str, Any] | None
    ) -> dict[str, Any]:
        if invalid is not None:
            return invalid
        if self.no_invalid_config:
            self._not_applicable(rule, f"no_invalid_config says: {self.no_invalid_config}")
        self._broken(
            rule,
            f"{type(self).__qualname__}.invalid_config is not set, so nothing checks that "
            f"validation_mode 'eager' fails at creation and 'lazy' defers to validate()",
            "set `invalid_config = {...}` to a config that creates a connection whose "
            "validate() raises (a missing directory, an unreachable host); if no config can "
            "fail, set `no_invalid_config = '<why>'` and the two rules skip with that reason",
        )

    def _create(self, registry: ConnectionRegistry, config: dict[str, Any], rule: str) -> Any:
        """A connection from ``config``, or the rule broken saying why there is none."""
        self._require_loaded(registry)
        keys = shown_keys(config)  # before the call: a factory may empty the dict
        try:
            connection = registry.create(self.type_name, CONNECTION_NAME, dict(config))
        except Exception as exc:
            self._require_connection(exc, rule)
            self._broken(
                rule,
                f"creating a connection from {keys} raised {exception_text(exc)}",
                "accept this config (Odibi passes every key of the connection block, 'type' "
                "and 'validation_mode' included); refuse only keys the driver does not know",
            )
        return connection

    @contextlib.contextmanager
    def _created(
        self, registry: ConnectionRegistry, config: dict[str, Any], rule: str
    ) -> Iterator[Any]:
        connection = self._create(registry, config, rule)
        try:
            yield connection
        finally:
            close = getattr(connection, "close", None)
            if callable(close):
                close()

    def _creation_error(
        self, registry: ConnectionRegistry, config: dict[str, Any]
    ) -> Exception | None:
        """The exception creating a connection from ``config`` raised, or None (closed again)."""
        self._require_loaded(registry)
        try:
            connection = registry.create(self.type_name, CONNECTION_NAME, dict(config))
        except Exception as exc:
            self._require_connection(exc, "")
            return exc
        close = getattr(connection, "close", None)
        if callable(close):
            close()
        return None

    def _require_loaded(self, registry: ConnectionRegistry) -> None:
        """Rules about connections are not checked when the driver does not load."""
        from odibi_ext.errors import OdibiExtError

        try:
            registry.get(self.type_name)
        except OdibiExtError as error:
            message = f"not checked: rule loads_through_odibi_ext broke ({error})"
        else:
            return
        pytest.fail(message, pytrace=False)

    def _require_connection(self, exc: Exception, rule: str) -> None:
        """A factory returning no connection breaks creates_a_connection, whichever rule ran."""
        from odibi_ext.errors import InvalidConnectionError

        if not isinstance(exc, InvalidConnectionError):
            return
        if rule == "creates_a_connection":
            self._broken(
                rule,
                str(exc),
                "return an object with callable get_path(relative_path) and validate() "
                "(subclass odibi_ext.Connection)",
            )
        message = f"not checked: rule creates_a_connection broke ({exc})"
        pytest.fail(message, pytrace=False)


def _moved(value: Any, root: Path, other_root: Path) -> Any:
    """``value`` with ``root`` in it replaced by ``other_root``, whose tree mirrors ``root``'s."""
    if not isinstance(value, str) or str(root) not in value:
        return value
    other_root.mkdir(exist_ok=True)
    for directory in sorted(root.rglob("*")):
        if directory.is_dir() and other_root not in (directory, *directory.parents):
            (other_root / directory.relative_to(root)).mkdir(parents=True, exist_ok=True)
    return value.replace(str(root), str(other_root))
