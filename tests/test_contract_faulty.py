"""The contract suite tested: each odibi-faulty driver fails the rule it is built to break.

odibi-faulty is pip-installed into a directory of its own (conftest's
``faulty_target``); pytest runs, in a child process, a test module with one
``DriverContract`` subclass per faulty driver (plus a correct, a leaking and
a naive SQL throwaway driver), exactly as a driver author's project would;
the JUnit report says which rules failed and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_kit import run_author_suite

from odibi_ext.testing import TemporarySite

#: class name -> (type name, the rule its driver is built to break, words its message holds)
FAULTS = {
    "TestMissingDependency": (
        "faulty-missing-dependency",
        "loads_through_odibi_ext",
        ["ModuleNotFoundError", "odibi_faulty_nonexistent_client_lib", "odibi-faulty 0.1.0"],
    ),
    "TestSignature": ("faulty-signature", "loads_through_odibi_ext", ["(config", "name, config"]),
    "TestNotCallable": ("faulty-not-callable", "loads_through_odibi_ext", ["not callable"]),
    "TestMissingAttribute": (
        "faulty-missing-attribute",
        "loads_through_odibi_ext",
        ["AttributeError", "create"],
    ),
    "TestBadConnection": (
        "faulty-bad-connection",
        "creates_a_connection",
        ["dict", "get_path", "validate"],
    ),
    "TestExit": ("faulty-exit", "loads_through_odibi_ext", ["SystemExit"]),
    "TestAssert": ("faulty-assert", "loads_through_odibi_ext", ["AssertionError"]),
    "TestHang": ("faulty-hang", "imports_in_a_fresh_process", ["timed out after 5 s"]),
    "TestClash": ("local", "type_name_is_unique", ["built-in", "'local'"]),
}

GOOD_DRIVER = """
import os

KNOWN = {"root", "password", "type", "validation_mode"}


class Conn:
    def __init__(self, name, config):
        unknown = sorted(set(config) - KNOWN)
        if unknown:
            raise ValueError(f"kit-good: unknown config keys {unknown}; expected root, password")
        self.name = name
        self._root = config["root"]
        self._password = config.get("password")
        if config.get("validation_mode") == "eager":
            self.validate()

    def __repr__(self):
        return f"<Conn {self.name!r} root={self._root!r}>"

    def get_path(self, relative_path):
        return os.path.join(self._root, relative_path)

    def validate(self):
        if not os.path.isdir(self._root):
            raise FileNotFoundError(f"kit-good: root {self._root!r} is not a directory")

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def create(name, config):
    return Conn(name, config)
"""

#: The same driver, showing its password in repr.
LEAKY_DRIVER = GOOD_DRIVER.replace(
    'return f"<Conn {self.name!r} root={self._root!r}>"',
    'return f"<Conn {self.name!r} password={self._password!r}>"',
)

#: A SQL connection that formats names and values into SQL, and has no default_schema.
NAIVE_SQL_DRIVER = """
import sqlite3


class NaiveSQL:
    def __init__(self, name, config):
        unknown = sorted(set(config) - {"path", "type", "validation_mode"})
        if unknown:
            raise ValueError(f"kit-naive-sql: unknown config keys {unknown}")
        self.db = sqlite3.connect(config["path"])

    def get_path(self, relative_path):
        return relative_path

    def validate(self):
        self.db.execute("SELECT 1")

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def write_table(self, df, table_name, schema=None, if_exists="fail", chunksize=None):
        if if_exists == "replace":
            self.db.execute(f"DROP TABLE IF EXISTS {table_name}")
        self.db.execute(f"CREATE TABLE IF NOT EXISTS {table_name} ({', '.join(df.columns)})")
        for row in df.itertuples(index=False):
            values = ", ".join(repr(value) for value in row)
            self.db.execute(f"INSERT INTO {table_name} VALUES ({values})")

    def read_table(self, table_name, schema=None):
        import pandas

        return pandas.read_sql_query(f"SELECT * FROM {table_name}", self.db)


def create(name, config):
    return NaiveSQL(name, config)
"""

CONTRACTS = """
import pytest
from odibi_ext.testing import DriverContract

{faulty}


class TestGood(DriverContract):
    type_name = "kit-good"
    invalid_config = {{"root": "/nonexistent/kit", "password": "hunter2-very-secret"}}

    @pytest.fixture
    def driver_config(self, tmp_path):
        return {{"root": str(tmp_path), "password": "hunter2-very-secret"}}


class TestLeaky(TestGood):
    type_name = "kit-leaky"


class TestNaiveSql(DriverContract):
    type_name = "kit-naive-sql"

    @pytest.fixture
    def driver_config(self, tmp_path):
        return {{"path": str(tmp_path / "naive.db")}}
"""


@pytest.fixture(scope="module")
def kit_drivers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the throwaway drivers, to put on PYTHONPATH beside odibi-faulty."""
    target = tmp_path_factory.mktemp("kit-drivers")
    site = TemporarySite(target, tmp_path_factory.mktemp("markers"))
    site.distribution(
        "odibi-kit-good",
        entry_points={"kit-good": "kit_good:create"},
        modules={"kit_good": GOOD_DRIVER},
    )
    site.distribution(
        "odibi-kit-leaky",
        entry_points={"kit-leaky": "kit_leaky:create"},
        modules={"kit_leaky": LEAKY_DRIVER},
    )
    site.distribution(
        "odibi-kit-naive-sql",
        entry_points={"kit-naive-sql": "kit_naive_sql:create"},
        modules={"kit_naive_sql": NAIVE_SQL_DRIVER},
    )
    return target


@pytest.fixture(scope="module")
def outcomes(
    faulty_target: Path, kit_drivers: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, str | None]]:
    """``{class: {test: failure message, or None when it passed, "skipped" when skipped}}``."""
    project = tmp_path_factory.mktemp("author-project")
    classes = []
    for name, (type_name, _rule, _words) in FAULTS.items():
        extra = ""
        if name == "TestHang":
            extra = "    import_timeout = 5\n"
        if name == "TestClash":
            extra = '    distribution = "odibi-faulty"\n'
        classes.append(
            f"class {name}(DriverContract):\n    type_name = {type_name!r}\n"
            f"    config = {{}}\n{extra}"
        )
    (project / "test_contract.py").write_text(
        CONTRACTS.format(faulty="\n\n".join(classes)), encoding="utf-8"
    )
    return run_author_suite(
        project,
        [faulty_target, kit_drivers],
        # Stock Odibi imports every installed plugin, odibi-faulty's exiting and
        # hanging ones too: no real Odibi run can work in this environment.
        "-k",
        "not odibi_pipeline_round_trip",
        "test_contract.py",
        env={"ODIBI_FAULTY_HANG": "1"},
        timeout=600,
    )


@pytest.mark.parametrize("cls", sorted(FAULTS))
def test_each_faulty_driver_breaks_its_rule(
    outcomes: dict[str, dict[str, str | None]], cls: str
) -> None:
    type_name, rule, words = FAULTS[cls]
    message = outcomes[cls][f"test_{rule}"]

    assert message is not None, f"{cls}: rule {rule} passed for {type_name}"
    assert f"rule {rule} broke for driver {type_name!r}" in message
    assert "To fix: " in message
    for word in words:
        assert word in message
    assert outcomes[cls]["test_published_by_a_distribution"] is None


@pytest.mark.parametrize("cls", ["TestMissingDependency", "TestExit", "TestAssert"])
def test_a_driver_failing_to_import_still_imports_safely_in_a_fresh_process(
    outcomes: dict[str, dict[str, str | None]], cls: str
) -> None:
    # The import raised (even SystemExit): odibi-ext reports it, no process ended.
    assert outcomes[cls]["test_imports_in_a_fresh_process"] is None
    assert outcomes[cls]["test_type_name_is_unique"] is None


def test_a_hanging_import_blocks_the_in_process_rules_with_a_reason(
    outcomes: dict[str, dict[str, str | None]],
) -> None:
    message = outcomes["TestHang"]["test_loads_through_odibi_ext"]

    assert message is not None
    assert "not checked in-process: rule imports_in_a_fresh_process broke" in message


def test_drivers_accepting_anything_break_refuses_unknown_keys(
    outcomes: dict[str, dict[str, str | None]],
) -> None:
    message = outcomes["TestClash"]["test_refuses_unknown_keys"]

    assert message is not None
    assert "odibi_ext_contract_unknown_key" in message
    assert "raise ValueError naming the unknown ones" in message


def test_a_correct_driver_keeps_every_rule(outcomes: dict[str, dict[str, str | None]]) -> None:
    good = outcomes["TestGood"]

    failed = {
        test: message
        for test, message in good.items()
        if message and not message.startswith("skipped")
    }
    assert failed == {}
    skipped = sorted(test for test, message in good.items() if message)
    assert skipped == sorted(test for test in good if test.startswith("test_sql_"))
    assert len(skipped) == 9
    assert "Odibi's engine does not use it for format: sql" in (
        good["test_sql_replace_and_append"] or ""
    )
    assert len(good) == 27  # every rule but the Odibi run, deselected here


def test_a_driver_showing_its_password_breaks_secrets_stay_hidden(
    outcomes: dict[str, dict[str, str | None]],
) -> None:
    message = outcomes["TestLeaky"]["test_secrets_stay_hidden"]

    assert message is not None
    assert (
        "rule secrets_stay_hidden broke for driver 'kit-leaky' (odibi-kit-leaky 1.0.0)" in message
    )
    assert "repr(connection)" in message
    assert "hunter2" not in message
    others = {t: m for t, m in outcomes["TestLeaky"].items() if m and not m.startswith("skipped")}
    assert set(others) == {"test_secrets_stay_hidden"}


@pytest.mark.parametrize(
    "cls", sorted(c for c, fault in FAULTS.items() if fault[1] == "loads_through_odibi_ext")
)
def test_rules_after_a_failed_load_say_they_were_not_checked(
    outcomes: dict[str, dict[str, str | None]], cls: str
) -> None:
    for test in (
        "test_refuses_unknown_keys",
        "test_secrets_stay_hidden",
        "test_close_and_with_work",
    ):
        message = outcomes[cls][test]
        assert message is not None
        assert "not checked: rule loads_through_odibi_ext broke (driver " in message


def test_rules_after_a_non_connection_say_they_were_not_checked(
    outcomes: dict[str, dict[str, str | None]],
) -> None:
    message = outcomes["TestBadConnection"]["test_get_path_returns_a_path"]

    assert message is not None
    assert "not checked: rule creates_a_connection broke (" in message


def test_a_sql_connection_formatting_names_into_sql_breaks_the_sql_rules(
    outcomes: dict[str, dict[str, str | None]],
) -> None:
    naive = outcomes["TestNaiveSql"]

    assert naive["test_sql_append_creates_the_table"] is None
    hostile = naive["test_sql_quoted_identifiers"]
    assert hostile is not None
    assert "rule sql_quoted_identifiers broke for driver 'kit-naive-sql'" in hostile
    assert "bind values as parameters" in hostile
    # No default_schema: Odibi passes 'dbo', which the driver ignores, reading main's table.
    schema = naive["test_sql_honours_schema"]
    assert schema is not None
    assert "schema='odibi_ext_contract_no_such_schema'" in schema
    assert "a staging write must never overwrite the default schema's table" in schema
    replace = naive["test_sql_replace_and_append"]
    assert replace is not None
    assert "write_table(if_exists='fail') on an existing table returned" in replace
