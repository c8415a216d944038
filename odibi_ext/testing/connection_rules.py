"""Rules about one connection's life: paths, closing, isolation from others, other threads."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from odibi_ext.testing import sql_checks
from odibi_ext.testing.base import ContractBase
from odibi_ext.testing.base import RuleBroken
from odibi_ext.testing.subject import exception_text

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

#: The file path the rules ask a file connection for.
FILE_PATH: Final = "odibi_ext_contract/orders.csv"
#: Seconds a call from another thread may take before it counts as hanging.
THREAD_TIMEOUT: Final = 60.0
_URI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class ConnectionRules(ContractBase):
    """get_path_returns_a_path, close_and_with_work, connections_are_isolated,
    usable_from_another_thread."""

    def test_get_path_returns_a_path(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """``get_path`` returns a str; a file connection's path is absolute (or a URI) under
        its base location, never one pandas would resolve against the working directory."""
        rule = "get_path_returns_a_path"
        with self._created(contract_registry, driver_config, rule) as connection:
            sql = sql_checks.reads_sql(connection)
            name = "orders" if sql else FILE_PATH
            path = connection.get_path(name)
        if not isinstance(path, str) or not path:
            self._broken(
                rule,
                f"get_path({name!r}) returned {path!r}",
                "return the full path (files) or the table name (SQL) as a str",
            )
        if sql:
            return  # which table the name leads to: sql_reads_through_get_path
        if not os.path.isabs(path) and not _URI.match(path):
            self._broken(
                rule,
                f"get_path({name!r}) returned the relative path {path!r}: Odibi's engines "
                f"hand it to pandas as it is, so files are read from and written to the "
                f"directory odibi runs in, not the connection's",
                "join relative_path to the connection's base path and return the absolute "
                "path (or the full URI)",
            )

    def test_close_and_with_work(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """Where the driver offers them: ``close()`` may be called twice; ``with`` gives the
        connection and lets errors through."""
        rule = "close_and_with_work"
        connection = self._create(contract_registry, driver_config, rule)
        has_close = callable(getattr(connection, "close", None))
        has_with = callable(getattr(connection, "__enter__", None))
        if not has_close and not has_with:
            self._not_applicable(
                rule,
                f"{type(connection).__qualname__} has neither close() nor __enter__ (as "
                f"Odibi's BaseConnection); Odibi never closes connections, and odibi-ext "
                f"closes only those that offer close()",
            )
        if has_close:
            try:
                connection.close()
                connection.close()
            except Exception as exc:
                self._broken(
                    rule,
                    f"a second close() raised {exception_text(exc)}",
                    ("make close() idempotent"),
                )
        if not has_with:
            return
        if not callable(getattr(connection, "__exit__", None)):
            self._broken(
                rule,
                "__enter__ is defined but __exit__ is not",
                ("add __exit__ calling close() and returning None"),
            )
        second = self._create(contract_registry, driver_config, rule)
        try:
            with second as entered:
                if entered is not second:
                    self._broken(
                        rule,
                        f"`with connection as c` gave {entered!r}, not the connection",
                        "return self from __enter__",
                    )
                raise LookupError("raised inside the with block by the contract")
        except LookupError:
            pass
        else:
            self._broken(
                rule,
                "an exception raised inside `with connection:` was swallowed by __exit__",
                "return None from __exit__ (after calling close())",
            )

    def test_connections_are_isolated(
        self,
        contract_registry: ConnectionRegistry,
        driver_config: dict[str, Any],
        other_driver_config: dict[str, Any] | None,
    ) -> None:
        """Two connections whose configs point at different places share no data."""
        rule = "connections_are_isolated"
        if other_driver_config is None:
            self._not_applicable(
                rule,
                "driver_config holds no path under tmp_path, so the contract cannot make a "
                "config pointing elsewhere: override the other_driver_config fixture",
            )
        with (
            self._created(contract_registry, driver_config, rule) as first,
            self._created(contract_registry, other_driver_config, rule) as second,
            self._rule(rule),
        ):
            if sql_checks.writes_sql(first):
                sql_checks.isolated(first, second)
            elif sql_checks.reads_sql(first):
                self._not_applicable(rule, "a read-only SQL source: the contract writes no data")
            else:
                paths = [c.get_path(FILE_PATH) for c in (first, second)]
                if paths[0] == paths[1]:
                    raise RuleBroken(
                        f"get_path({FILE_PATH!r}) returned {paths[0]!r} for two configs "
                        f"pointing at different places: both connections read and write "
                        f"the same file",
                        "build paths from the connection's own config, never from module "
                        "or class state",
                    )

    def test_usable_from_another_thread(
        self, contract_registry: ConnectionRegistry, driver_config: dict[str, Any]
    ) -> None:
        """A connection created in one thread works in another, as ``odibi run --parallel``
        uses it."""
        rule = "usable_from_another_thread"
        with self._created(contract_registry, driver_config, rule) as connection:
            try:  # first used here: whatever it opens, it opens in this thread
                connection.validate()
            except Exception as exc:
                pytest.fail(
                    f"not checked: validate() raised {exception_text(exc)} "
                    f"(rule validate_accepts_the_config)",
                    pytrace=False,
                )
            calls: list[tuple[str, Callable[[], object]]] = [
                ("validate()", connection.validate),
            ]
            if sql_checks.writes_sql(connection):
                round_trip = lambda: sql_checks.thread_round_trip(connection)  # noqa: E731
                calls.append(("write_table and read_table", round_trip))
            elif not sql_checks.reads_sql(connection):
                calls.append((f"get_path({FILE_PATH!r})", lambda: connection.get_path(FILE_PATH)))
            for what, call in calls:
                problem = _in_another_thread(call)
                if problem is not None:
                    self._broken(
                        rule,
                        f"{what} from another thread than the one that created the "
                        f"connection {problem}; `odibi run --parallel` runs nodes in "
                        f"worker threads",
                        "make the connection usable from any thread: open resources with "
                        "thread checks off (sqlite3: check_same_thread=False) behind a lock, "
                        "or open one per thread",
                    )


def _in_another_thread(call: Callable[[], object]) -> str | None:
    """Run ``call`` in a new thread: None when it returned, else what went wrong."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # reported to the test's thread
            errors.append(exc)

    worker = threading.Thread(target=run, name="odibi-ext-contract", daemon=True)
    worker.start()
    worker.join(THREAD_TIMEOUT)
    if worker.is_alive():
        return f"did not return within {THREAD_TIMEOUT:.0f} s"
    if errors:
        error = errors[0]
        if isinstance(error, RuleBroken):
            return f"gave wrong data: {error.problem}"
        return f"raised {exception_text(error)}"
    return None
