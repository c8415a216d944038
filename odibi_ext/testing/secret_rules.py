"""The rule about secrets: no secret config value in any text a user or a log may see."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Final
from urllib.parse import urlsplit

import pytest

from odibi_ext.testing import sql_checks
from odibi_ext.testing.base import ContractBase
from odibi_ext.testing.subject import exception_text

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: A secret-looking unknown key and its value: the refusal may name the key, never the value.
SECRET_KEY: Final = "odibi_ext_contract_password"  # noqa: S105  # a key name, not a secret
SECRET_VALUE: Final = "contract-canary-S3cr3t-9b1f"  # noqa: S105  # a canary, searched for
#: Values under a secret-looking key that say how to authenticate, not with what.
PUBLIC_VALUES: Final = frozenset({"none", "null", "true", "false", "yes", "no", "on", "off"})


def judged_secrets(config: Mapping[str, Any], where: str = "") -> dict[str, str]:
    """Every secret value in ``config`` -> the key it is under and why it was judged secret.

    Values under a secret-looking key (``password``, ``token``, ``auth_...``),
    the password of a URL (``postgresql://user:pw@host``) and ``password=...``
    pairs inside a value.
    """
    from odibi_ext.redaction import MIN_SCRUB_LENGTH
    from odibi_ext.redaction import embedded_secrets
    from odibi_ext.redaction import is_secret_key

    found: dict[str, str] = {}
    for key, value in config.items():
        path = f"{where}.{key}" if where else str(key)
        if isinstance(value, Mapping):
            found.update(judged_secrets(value, path))
            continue
        if value is None or isinstance(value, bool):
            continue
        text = str(value)
        if is_secret_key(key) and text.lower() not in PUBLIC_VALUES:
            found[text] = f"key {path!r} (its name looks secret)"
            continue
        if not isinstance(value, str):
            continue
        with contextlib.suppress(ValueError):
            password = urlsplit(value).password
            if password:
                found[password] = f"key {path!r} (the password in its URL)"
        for secret in embedded_secrets(value):
            found[secret] = f"key {path!r} (a secret-named pair inside its value)"
    return {secret: why for secret, why in found.items() if len(secret) >= MIN_SCRUB_LENGTH}


class SecretRules(ContractBase):
    """secrets_stay_hidden."""

    def test_secrets_stay_hidden(
        self,
        contract_registry: ConnectionRegistry,
        driver_config: dict[str, Any],
        invalid_driver_config: dict[str, Any] | None,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Secret config values appear in no repr, str, log record or error message: of
        creation, ``validate()``, and failing reads and writes."""
        rule = "secrets_stay_hidden"
        secrets = {SECRET_VALUE: f"the unknown key {SECRET_KEY!r} the contract added"}
        for config in (driver_config, invalid_driver_config or {}):
            secrets.update(judged_secrets(config))
        shown: list[tuple[str, str]] = []
        caplog.set_level(logging.DEBUG)
        refused = self._creation_error(
            contract_registry, {**driver_config, SECRET_KEY: SECRET_VALUE}
        )
        if refused is not None:
            shown.append(
                ("the error refusing an unknown key", exception_text(refused, causes=True))
            )
        with self._created(contract_registry, driver_config, rule) as c:
            shown += [("repr(connection)", repr(c)), ("str(connection)", str(c))]
            shown += _errors(_failing_calls(c))
        if invalid_driver_config is not None:
            for mode in ("lazy", "eager"):
                config = {**invalid_driver_config, "type": self.type_name, "validation_mode": mode}
                error = self._creation_error(contract_registry, config)
                if error is not None:
                    shown.append(
                        (f"the {mode} creation error", exception_text(error, causes=True))
                    )
                    continue
                with self._created(contract_registry, config, rule) as c:
                    shown.append(("repr(connection) of invalid_config", repr(c)))
                    shown += _errors(_failing_calls(c))
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        shown += [(f"log record of {r.name!r}", formatter.format(r)) for r in caplog.records]
        for where, text in shown:
            for secret, why in secrets.items():
                if secret in text:
                    self._broken(
                        rule,
                        f"the value of {why} appears in {where} (the value is not shown here)",
                        "never put config values in messages, reprs or logs; name the key "
                        "instead, or mask the value with odibi_ext.redaction.redact(config) "
                        "(URLs: odibi_ext.redaction.redact_text); a key that is not secret "
                        "may be renamed so its name does not look secret",
                    )


def _failing_calls(connection: Any) -> Iterator[tuple[str, Callable[[], object]]]:
    """The calls whose errors Odibi prints in its ERROR log: validate, reads, writes."""
    yield "validate()", connection.validate
    yield "get_path()", lambda: connection.get_path("orders")
    missing = sql_checks.TABLE_PREFIX + "missing"
    schema = sql_checks.odibi_schema(connection)
    if callable(getattr(connection, "read_table", None)):
        yield (
            f"read_table of the missing table {missing!r}",
            lambda: connection.read_table(table_name=missing, schema=schema),
        )
    if callable(getattr(connection, "read_sql_query", None)):
        yield "read_sql_query of bad SQL", lambda: connection.read_sql_query("SELEKT 1 FROM")
    if sql_checks.writes_sql(connection):
        yield (
            "write_table(if_exists='fail') onto an existing table",
            lambda: _failing_write(connection),
        )


def _failing_write(connection: Any) -> None:
    pandas = sql_checks.import_pandas()
    frame = pandas.DataFrame({"id": [1]})
    table = sql_checks.TABLE_PREFIX + "secrets"
    for _ in range(2):  # the second one meets an existing table
        connection.write_table(
            df=frame,
            table_name=table,
            schema=sql_checks.odibi_schema(connection),
            if_exists="fail",
            chunksize=1000,
        )


def _errors(calls: Iterator[tuple[str, Callable[[], object]]]) -> list[tuple[str, str]]:
    shown = []
    for what, call in calls:
        try:
            call()
        except Exception as exc:
            shown.append((f"the error of {what}", exception_text(exc, causes=True)))
    return shown
