"""``DriverContract``: the conformance suite a driver's own tests subclass.

A driver author writes, in ``tests/test_contract.py``::

    from odibi_ext.testing import DriverContract

    class TestContract(DriverContract):
        type_name = "sqlite"
        config = {"path": ":memory:"}

and pytest runs every rule below against the *installed* driver, loaded the
way a host loads it. Each test is named for the rule it checks; a failure
starts ``rule <name> broke for driver ...`` and ends with what to change.

Nothing heavy is imported here: odibi-ext's registry parts, Odibi and pandas
are imported by the tests that need them, because this module is loaded into
every pytest session of an environment where odibi-ext is installed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Final
from typing import NoReturn

import pytest

from odibi_ext.testing import sql_rules
from odibi_ext.testing.subject import DEFAULT_IMPORT_TIMEOUT
from odibi_ext.testing.subject import DriverUnderTest
from odibi_ext.testing.subject import discover
from odibi_ext.testing.subject import exception_text
from odibi_ext.testing.subject import shown_keys
from odibi_ext.testing.subject import validation_mode_enum

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: A key no driver knows: the factory must refuse it, naming it.
UNKNOWN_KEY: Final = "odibi_ext_contract_unknown_key"
#: A secret-looking unknown key and its value: the refusal may name the key, never the value.
SECRET_KEY: Final = "odibi_ext_contract_password"  # noqa: S105  # a key name, not a secret
SECRET_VALUE: Final = "contract-canary-S3cr3t-9b1f"  # noqa: S105  # a canary, searched for
#: The connection name every rule uses.
CONNECTION_NAME: Final = "contract"


class DriverContract:
    """Subclass it, set :attr:`type_name` and :attr:`config`, and pytest checks the driver.

    Optional attributes: :attr:`invalid_config` (a config that creates a
    connection whose ``validate()`` fails, e.g. a missing read-only file;
    without it the two validation-mode rules are skipped, saying so),
    :attr:`distribution` (which distribution is under test when several
    offer the type name) and :attr:`import_timeout`. Configs that need a
    temporary directory: override the ``driver_config`` / ``invalid_driver_config``
    fixtures instead (they receive ``tmp_path``).
    """

    #: The driver's type name, as published in the ``odibi.connections`` entry-point group.
    type_name: ClassVar[str]
    #: A config that creates a working connection (Odibi's own keys are added by the rules).
    config: ClassVar[Mapping[str, Any]]
    #: A config that creates a connection whose ``validate()`` raises; None skips two rules.
    invalid_config: ClassVar[Mapping[str, Any] | None] = None
    #: The distribution under test, when another one also offers :attr:`type_name`.
    distribution: ClassVar[str | None] = None
    #: Seconds a fresh process may spend importing the driver.
    import_timeout: ClassVar[float] = DEFAULT_IMPORT_TIMEOUT

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

    # -- rules: where the driver comes from ----------------------------------------------

    def test_published_by_a_distribution(self, contract_driver: DriverUnderTest) -> None:
        """The type name is an entry point of an installed distribution, with a version."""
        info = contract_driver.info
        if info is None:
            self._broken(
                "published_by_a_distribution",
                f"no installed distribution publishes {self.type_name!r} in the "
                f"'odibi.connections' entry-point group",
                'add `[project.entry-points."odibi.connections"]` '
                f'`{self.type_name} = "your_module:create"` to pyproject.toml and install '
                "the project (pip install -e .)",
            )
        if contract_driver.distribution is not None and not contract_driver.version:
            self._broken(
                "published_by_a_distribution",
                f"distribution {contract_driver.distribution} has no version in its metadata",
                "set `version` in pyproject.toml and reinstall",
            )

    def test_type_name_is_unique(self, contract_driver: DriverUnderTest) -> None:
        """No other distribution, and no Odibi built-in, offers the same type name."""
        self._require_found(contract_driver)
        if contract_driver.unique_problem is not None:
            self._broken(
                "type_name_is_unique",
                contract_driver.unique_problem,
                "give the driver a type name of its own (e.g. prefixed with your "
                "distribution's name) in its entry point",
            )

    def test_imports_in_a_fresh_process(self, contract_driver: DriverUnderTest) -> None:
        """Importing the driver in a fresh process neither hangs nor ends the process."""
        self._require_found(contract_driver)
        if contract_driver.import_problem is not None:
            self._broken(
                "imports_in_a_fresh_process",
                contract_driver.import_problem,
                "do no network, lock or other blocking work and never exit at import time: "
                "move it into the factory or the connection's methods",
            )

    def test_loads_through_odibi_ext(
        self, contract_registry: ConnectionRegistry, contract_driver: DriverUnderTest
    ) -> None:
        """odibi-ext loads the driver: importable, and a ``factory(name, config)``."""
        from odibi_ext.errors import OdibiExtError

        try:
            contract_registry.get(self.type_name)
        except OdibiExtError as error:
            self._broken(
                "loads_through_odibi_ext",
                str(error),
                "make `import <module>` work with only the declared dependencies installed, "
                "and make the entry point's target a callable accepting (name, config)",
            )
        info = contract_registry.info(self.type_name)
        assert info.status == "loaded", info
        assert info.distribution == contract_driver.distribution, info

    # -- rules: creating connections -----------------------------------------------------

    def test_creates_a_connection(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``factory(name, config)`` returns an object with callable ``get_path``, ``validate``."""
        with self._created(contract_registry, driver_config, "creates_a_connection"):
            pass

    @pytest.mark.parametrize("mode_form", ["enum", "str"])
    def test_accepts_odibi_calling_convention(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any], mode_form: str
    ) -> None:
        """The factory accepts Odibi's added keys: ``type``, ``validation_mode`` (enum or str)."""
        lazy = validation_mode_enum()("lazy")
        config = {
            **driver_config,
            "type": self.type_name,
            "validation_mode": lazy if mode_form == "enum" else "lazy",
        }
        with self._created(contract_registry, config, "accepts_odibi_calling_convention"):
            pass

    def test_refuses_unknown_keys(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """A key the driver does not know is refused at creation, with a message naming it."""
        config = {**driver_config, UNKNOWN_KEY: "x"}
        error = self._creation_error(contract_registry, config)
        if error is None:
            self._broken(
                "refuses_unknown_keys",
                f"creating a connection with the unknown key {UNKNOWN_KEY!r} succeeded; "
                f"a misspelt key would be ignored silently",
                "compare the config's keys with the ones the driver knows (plus Odibi's "
                "'type' and 'validation_mode') and raise ValueError naming the unknown ones",
            )
        if UNKNOWN_KEY not in exception_text(error):
            self._broken(
                "refuses_unknown_keys",
                f"the error does not name the unknown key {UNKNOWN_KEY!r}: "
                f"{exception_text(error)!r}",
                "name every unknown key in the message (and list the known ones)",
            )

    @pytest.mark.parametrize("mode_form", ["enum", "str"])
    def test_eager_mode_validates_at_creation(
        self,
        contract_registry: ConnectionRegistry,
        invalid_driver_config: dict[str, Any] | None,
        mode_form: str,
    ) -> None:
        """With ``validation_mode: eager`` a bad config fails when the connection is created."""
        invalid = self._require_invalid(invalid_driver_config)
        lazy = {**invalid, "type": self.type_name, "validation_mode": "lazy"}
        refused = self._creation_error(contract_registry, lazy)
        if refused is not None:
            self._broken(
                "eager_mode_validates_at_creation",
                f"invalid_config fails at creation even with validation_mode 'lazy' "
                f"({exception_text(refused)}), so eager validation cannot be told apart",
                "check only the config's shape in the factory and leave I/O to validate(); "
                "or set invalid_config to a config whose validate() fails",
            )
        eager = validation_mode_enum()("eager")
        config = {**lazy, "validation_mode": eager if mode_form == "enum" else "eager"}
        if self._creation_error(contract_registry, config) is None:
            self._broken(
                "eager_mode_validates_at_creation",
                f"creating a connection from invalid_config with validation_mode "
                f"{config['validation_mode']!r} succeeded; Odibi never calls validate() "
                f"itself, so an eager project would start with a broken connection",
                "in the factory, call connection.validate() when "
                "config.get('validation_mode') == 'eager' (works for Odibi's enum and for str)",
            )

    def test_lazy_mode_defers_validation(
        self,
        contract_registry: ConnectionRegistry,
        invalid_driver_config: dict[str, Any] | None,
    ) -> None:
        """With ``validation_mode: lazy`` a bad config creates; ``validate()`` then raises."""
        invalid = self._require_invalid(invalid_driver_config)
        config = {**invalid, "type": self.type_name, "validation_mode": "lazy"}
        with self._created(contract_registry, config, "lazy_mode_defers_validation") as conn:
            try:
                conn.validate()
            except Exception as exc:
                if not str(exc).strip():
                    self._broken(
                        "lazy_mode_defers_validation",
                        f"validate() raised {type(exc).__name__} with an empty message",
                        "say what was tried (path, host) and why it failed",
                    )
            else:
                self._broken(
                    "lazy_mode_defers_validation",
                    "validate() returned for invalid_config instead of raising",
                    "make validate() check the configuration (open the file, reach the "
                    "host) and raise a clear exception when it is unusable",
                )

    # -- rules: the connection -----------------------------------------------------------

    def test_validate_accepts_the_config(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``validate()`` returns ``None`` for the working config."""
        with self._created(contract_registry, driver_config, "validate_accepts_the_config") as c:
            try:
                result = c.validate()
            except Exception as exc:
                self._broken(
                    "validate_accepts_the_config",
                    f"validate() raised for config: {exception_text(exc)}",
                    "set `config` to a config that works, or fix validate()",
                )
            if result is not None:
                self._broken(
                    "validate_accepts_the_config",
                    f"validate() returned {result!r}; Odibi ignores return values, so a "
                    f"failure reported that way goes unnoticed",
                    "return None when valid and raise when not",
                )

    def test_get_path_returns_a_path(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``get_path`` returns a str; a SQL connection returns table names unchanged."""
        with self._created(contract_registry, driver_config, "get_path_returns_a_path") as c:
            for name in ("orders", "main.orders"):
                path = c.get_path(name)
                if not isinstance(path, str) or not path:
                    self._broken(
                        "get_path_returns_a_path",
                        f"get_path({name!r}) returned {path!r}",
                        "return the full path (files) or the table name (SQL) as a str",
                    )
                if sql_rules.speaks_sql(c) and path != name:
                    self._broken(
                        "get_path_returns_a_path",
                        f"get_path({name!r}) returned {path!r} on a SQL connection; Odibi's "
                        f"pandas engine splits the result on '.' into schema and table and "
                        f"passes them to read_table/write_table",
                        "return the table name unchanged and quote it in read_table/write_table",
                    )

    def test_secrets_stay_hidden(
        self,
        contract_registry: ConnectionRegistry,
        driver_config: dict[str, Any],
        invalid_driver_config: dict[str, Any] | None,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Secret-looking config values appear in no repr, str, log record or error message."""
        from odibi_ext.redaction import secret_values

        secrets = {SECRET_VALUE}
        for config in (driver_config, invalid_driver_config or {}):
            secrets |= secret_values(config)
        shown: list[tuple[str, str]] = []
        caplog.set_level(logging.DEBUG)
        refused = self._creation_error(
            contract_registry, {**driver_config, SECRET_KEY: SECRET_VALUE}
        )
        if refused is not None:
            shown.append(
                ("the error refusing an unknown key", exception_text(refused, causes=True))
            )
        with self._created(contract_registry, driver_config, "secrets_stay_hidden") as c:
            shown += [("repr(connection)", repr(c)), ("str(connection)", str(c))]
            for call in (lambda: c.get_path("orders"), c.validate):
                try:
                    call()
                except Exception as exc:
                    shown.append(
                        ("an error of the working connection", exception_text(exc, causes=True))
                    )
        if invalid_driver_config is not None:
            for mode in ("lazy", "eager"):
                config = {**invalid_driver_config, "type": self.type_name, "validation_mode": mode}
                error = self._creation_error(contract_registry, config)
                if error is not None:
                    shown.append(
                        (f"the {mode} creation error", exception_text(error, causes=True))
                    )
                    continue
                with self._created(contract_registry, config, "secrets_stay_hidden") as c:
                    shown.append(("repr(connection)", repr(c)))
                    try:
                        c.validate()
                    except Exception as exc:
                        shown.append(("the validate() error", exception_text(exc, causes=True)))
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        shown += [(f"log record of {r.name!r}", formatter.format(r)) for r in caplog.records]
        for where, text in shown:
            leaked = sorted(secret for secret in secrets if secret in text)
            if leaked:
                self._broken(
                    "secrets_stay_hidden",
                    f"a secret config value appears in {where} (value not shown here)",
                    "never put config values in messages, reprs or logs; name the key "
                    "instead, or mask the value with odibi_ext.redaction.redact(config)",
                )

    def test_close_and_with_work(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``close()`` may be called twice; ``with`` gives the connection, lets errors through."""
        connection = self._create(contract_registry, driver_config, "close_and_with_work")
        missing = [
            f"{name}()"
            for name in ("close", "__enter__", "__exit__")
            if not callable(getattr(connection, name, None))
        ]
        if missing:
            self._broken(
                "close_and_with_work",
                f"{type(connection).__qualname__} has no {', '.join(missing)}: odibi-ext "
                f"applications close connections and use them in `with` blocks",
                "subclass odibi_ext.Connection (or odibi's BaseConnection and add close(), "
                "__enter__ returning self and __exit__ calling close())",
            )
        try:
            connection.close()
            connection.close()
        except Exception as exc:
            self._broken(
                "close_and_with_work",
                f"a second close() raised {exception_text(exc)}",
                "make close() idempotent",
            )
        second = self._create(contract_registry, driver_config, "close_and_with_work")
        try:
            with second as entered:
                if entered is not second:
                    self._broken(
                        "close_and_with_work",
                        f"`with connection as c` gave {entered!r}, not the connection",
                        "return self from __enter__",
                    )
                raise LookupError("raised inside the with block by the contract")
        except LookupError:
            pass
        else:
            self._broken(
                "close_and_with_work",
                "an exception raised inside `with connection:` was swallowed by __exit__",
                "return None from __exit__ (after calling close())",
            )

    # -- rules: SQL connections ----------------------------------------------------------

    def test_sql_replace_and_append(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """A DataFrame written with ``replace`` and ``append`` reads back as written."""
        self._sql_rule(contract_registry, driver_config, "sql_replace_and_append")

    def test_sql_schema_qualified_table(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``default_schema`` names a schema the connection serves, as Odibi qualifies tables."""
        self._sql_rule(contract_registry, driver_config, "sql_schema_qualified_table")

    def test_sql_hostile_identifiers(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """Table and column names with quotes, spaces and SQL in them round-trip safely."""
        self._sql_rule(contract_registry, driver_config, "sql_hostile_identifiers")

    # -- helpers -------------------------------------------------------------------------

    def _sql_rule(self, registry: ConnectionRegistry, config: dict[str, Any], rule: str) -> None:
        with self._created(registry, config, rule) as connection:
            if not sql_rules.speaks_sql(connection):
                pytest.skip(
                    f"{type(connection).__qualname__} has no read_table/write_table: "
                    f"not a SQL connection, the SQL rules do not apply"
                )
            pd = sql_rules.import_pandas()
            try:
                problem = getattr(sql_rules, rule)(connection, pd)
            except Exception as exc:
                problem = (
                    f"the round trip raised {exception_text(exc)}",
                    "accept Odibi's calls: write_table(df=, table_name=, schema=, "
                    "if_exists='replace'|'append'|'fail', chunksize=) and "
                    "read_table(table_name=, schema=) returning a DataFrame",
                )
        if problem is not None:
            self._broken(rule, *problem)

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

    def _provider(self) -> str:
        driver = type(self).__dict__.get("_contract_driver")
        if driver is None or driver.distribution is None:
            return ""
        version = f" {driver.version}" if driver.version else ""
        return f" ({driver.distribution}{version})"

    def _require_found(self, driver: DriverUnderTest) -> None:
        if driver.info is None:
            pytest.fail(
                f"not checked: rule published_by_a_distribution broke for {self.type_name!r}",
                pytrace=False,
            )

    def _require_invalid(self, invalid: dict[str, Any] | None) -> dict[str, Any]:
        if invalid is None:
            pytest.skip(
                f"{type(self).__qualname__}.invalid_config is not set: set it to a config that "
                f"creates a connection whose validate() raises, to check validation_mode"
            )
        return invalid

    def _create(self, registry: ConnectionRegistry, config: dict[str, Any], rule: str) -> Any:
        """A connection from ``config``, or the rule broken saying why there is none."""
        self._require_loaded(registry)
        try:
            connection = registry.create(self.type_name, CONNECTION_NAME, config)
        except Exception as exc:
            self._require_connection(exc, rule)
            self._broken(
                rule,
                f"creating a connection from {shown_keys(config)} raised {exception_text(exc)}",
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
            connection = registry.create(self.type_name, CONNECTION_NAME, config)
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
