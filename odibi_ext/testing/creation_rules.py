"""Rules about creating connections: Odibi's calling convention, unknown keys, validation modes."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from odibi_ext.testing.base import CONNECTION_NAME
from odibi_ext.testing.base import ContractBase
from odibi_ext.testing.subject import exception_text
from odibi_ext.testing.subject import validation_mode_enum

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: A key no driver knows: the factory must refuse it, naming it.
UNKNOWN_KEY: Final = "odibi_ext_contract_unknown_key"


class CreationRules(ContractBase):
    """creates_a_connection, accepts_odibi_calling_convention, refuses_unknown_keys,
    eager_mode_validates_at_creation, lazy_mode_defers_validation, validate_accepts_the_config."""

    def test_creates_a_connection(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``factory(name, config)`` returns an object with callable ``get_path``, ``validate``,
        and leaves the config it was given as it was."""
        rule = "creates_a_connection"
        self._require_loaded(contract_registry)
        factory = contract_registry.get(self.type_name)
        given = copy.deepcopy(driver_config)
        with self._created(contract_registry, driver_config, rule):
            pass
        try:
            connection = factory(CONNECTION_NAME, given)
        except Exception as exc:
            self._broken(
                rule,
                f"the factory, called directly, raised {exception_text(exc)}",
                "accept the config odibi-ext accepted",
            )
        close = getattr(connection, "close", None)
        if callable(close):
            close()
        if given != driver_config:
            changed = sorted(
                str(key)
                for key in set(given) | set(driver_config)
                if given.get(key, ...) != driver_config.get(key, ...)
            )
            self._broken(
                rule,
                f"the factory changed the config dict it was given (keys {', '.join(changed)}); "
                f"Odibi and applications reuse that dict",
                "work on a copy: `config = dict(config)` before popping or setting keys",
            )

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
        """A key the driver does not know is refused at creation, with a message naming it.

        Odibi's models refuse unknown keys of its built-in types before their
        factories run; a plugin's block is passed through whole
        (``extra="allow"``), so only the driver can catch a misspelt key.
        """
        config = {**driver_config, UNKNOWN_KEY: "x"}
        error = self._creation_error(contract_registry, config)
        if error is None:
            self._broken(
                "refuses_unknown_keys",
                f"creating a connection with the unknown key {UNKNOWN_KEY!r} succeeded; "
                f"Odibi passes a plugin's connection block through unchecked, so a misspelt "
                f"key would be ignored silently",
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
        rule = "eager_mode_validates_at_creation"
        invalid = self._require_invalid(rule, invalid_driver_config)
        lazy = {**invalid, "type": self.type_name, "validation_mode": "lazy"}
        refused = self._creation_error(contract_registry, lazy)
        if refused is not None:
            self._broken(
                rule,
                f"invalid_config fails at creation even with validation_mode 'lazy' "
                f"({exception_text(refused)}), so eager validation cannot be told apart",
                "check only the config's shape in the factory and leave I/O to validate(); "
                "or set invalid_config to a config whose validate() fails",
            )
        eager = validation_mode_enum()("eager")
        config = {**lazy, "validation_mode": eager if mode_form == "enum" else "eager"}
        if self._creation_error(contract_registry, config) is None:
            shown = "ValidationMode.EAGER (Odibi's enum)" if mode_form == "enum" else "'eager'"
            self._broken(
                rule,
                f"creating a connection from invalid_config with validation_mode {shown} "
                f"succeeded; Odibi never calls validate() itself, so an eager project would "
                f"start with a broken connection",
                "in the factory, call connection.validate() when "
                "config.get('validation_mode') == 'eager' (== works for Odibi's str enum; "
                "str(mode) gives 'ValidationMode.EAGER', use getattr(mode, 'value', mode))",
            )

    def test_lazy_mode_defers_validation(
        self,
        contract_registry: ConnectionRegistry,
        invalid_driver_config: dict[str, Any] | None,
    ) -> None:
        """With ``validation_mode: lazy`` a bad config creates; ``validate()`` then raises."""
        rule = "lazy_mode_defers_validation"
        invalid = self._require_invalid(rule, invalid_driver_config)
        config = {**invalid, "type": self.type_name, "validation_mode": "lazy"}
        with self._created(contract_registry, config, rule) as conn:
            try:
                conn.validate()
            except Exception as exc:
                if not str(exc).strip():
                    self._broken(
                        rule,
                        f"validate() raised {type(exc).__name__} with an empty message",
                        "say what was tried (path, host) and why it failed",
                    )
            else:
                self._broken(
                    rule,
                    "validate() returned for invalid_config instead of raising",
                    "make validate() check the configuration (open the file, reach the "
                    "host) and raise a clear exception when it is unusable",
                )

    def test_validate_accepts_the_config(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``validate()`` does not raise for the working config (its return value is ignored,
        as Odibi ignores it)."""
        with self._created(contract_registry, driver_config, "validate_accepts_the_config") as c:
            try:
                c.validate()
            except Exception as exc:
                self._broken(
                    "validate_accepts_the_config",
                    f"validate() raised for config: {exception_text(exc)}",
                    "set `config` to a config that works, or fix validate()",
                )
