"""The contract catches what breaks real Odibi runs, and passes every driver that works.

Each driver of :mod:`contract_drivers` is a real distribution (``*.dist-info``
with ``METADATA`` and ``entry_points.txt``) in a directory put on the child's
``PYTHONPATH``; pytest runs, in a child process, one ``DriverContract``
subclass per driver, as a driver author's project would, and the JUnit
report says which rules failed and why. Broken drivers must fail the rule
named for their breakage with a message naming the fix; correct ones, the
unusual among them, must keep every rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from contract_drivers import BROKEN_VARIANTS
from contract_drivers import CORRECT_VARIANTS
from contract_drivers import ON_ODIBI_BASE
from contract_drivers import READ_ONLY_SQL
from contract_drivers import REFERENCE_SQL
from contract_drivers import RELATIVE_FILES
from contract_drivers import UNDECLARED_IMPORT
from plugin_kit import run_author_suite

from odibi_ext.testing import TemporarySite
from odibi_ext.testing.subject import ValidationMode

#: The kit holds a driver on Odibi's own BaseConnection, and the correct drivers must
#: pass the real Odibi round trip: without Odibi these fail, never skip.
pytestmark = pytest.mark.odibi

Outcomes = dict[str, dict[str, "str | None"]]

PANDAS_EXTRA = "Provides-Extra: pandas\nRequires-Dist: pandas>=1.5; extra == 'pandas'\n"

KIT = """
import sqlite3

import pytest
from odibi_ext.testing import DriverContract


class KitSQL(DriverContract):
    invalid_config = {"path": "/nonexistent/odibi-kit/x.db"}

    @pytest.fixture
    def driver_config(self, tmp_path):
        return {
            "path": str(tmp_path / "kit.db"),
            "password": "hunter2-very-secret",
            "url": "sqlite://kit:url-S3cret-pw@localhost/kit",
            "auth_mode": "none",
        }


class TestReadOnlyIgnoresSchema(KitSQL):
    type_name = "kit-read-only"
    readable_table = "people"

    @pytest.fixture
    def driver_config(self, tmp_path):
        db = sqlite3.connect(tmp_path / "ro.db")
        db.execute("CREATE TABLE people (id INTEGER, name TEXT)")
        db.execute("INSERT INTO people VALUES (1, 'ada')")
        db.commit()
        db.close()
        return {"path": str(tmp_path / "ro.db")}


class TestRelativeFiles(DriverContract):
    type_name = "kit-relative-files"
    no_invalid_config = "validate() checks nothing: the directory is made on write"

    @pytest.fixture
    def driver_config(self, tmp_path):
        return {"root": str(tmp_path)}


class TestMistyped(KitSQL):
    type_name = "kit-sqll"


class TestNoInvalidConfig(KitSQL):
    type_name = "kit-sql"
    invalid_config = None


class TestDocumentedNoInvalidConfig(KitSQL):
    type_name = "kit-sql"
    invalid_config = None
    no_invalid_config = "the kit's reason: any path opens"
"""


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def classes() -> dict[str, str]:
    """Child test class -> the type name it checks (beside those written out in KIT)."""
    found = {"TestReference": "kit-sql", "TestOnOdibiBase": "kit-odibi-base"}
    found["TestUndeclaredImport"] = "kit-undeclared"
    found.update({f"TestCorrect{camel(v)}": f"kit-{v}" for v in CORRECT_VARIANTS})
    found.update({f"TestBroken{camel(v)}": f"kit-{v}" for v in BROKEN_VARIANTS})
    return found


def install(site: TemporarySite, type_name: str, source: str, metadata: str = "") -> None:
    module = type_name.replace("-", "_")
    dist_info = site.distribution(
        f"odibi-{type_name}",
        entry_points={type_name: f"{module}:create"},
        modules={module: source},
    )
    with (dist_info / "METADATA").open("a", encoding="utf-8") as file:
        file.write(metadata)


@pytest.fixture(scope="module")
def kit_drivers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding every kit driver, to put on a child's PYTHONPATH."""
    target = tmp_path_factory.mktemp("contract-kit")
    site = TemporarySite(target, tmp_path_factory.mktemp("markers"))
    install(site, "kit-sql", REFERENCE_SQL, PANDAS_EXTRA)
    install(site, "kit-odibi-base", ON_ODIBI_BASE, "Requires-Dist: odibi\n" + PANDAS_EXTRA)
    install(site, "kit-undeclared", UNDECLARED_IMPORT)
    install(site, "kit-read-only", READ_ONLY_SQL, PANDAS_EXTRA)
    install(site, "kit-relative-files", RELATIVE_FILES)
    for variant, lines in CORRECT_VARIANTS.items():
        install(site, f"kit-{variant}", REFERENCE_SQL + lines, PANDAS_EXTRA)
    for variant, (lines, _rule, _words) in BROKEN_VARIANTS.items():
        install(site, f"kit-{variant}", REFERENCE_SQL + lines, PANDAS_EXTRA)
    return target


def run_contracts(
    project: Path, kit: Path, source: str, *pytest_args: str
) -> dict[str, dict[str, str | None]]:
    """Run ``source`` as an author's test module; {class: {test: message or None}}."""
    (project / "test_contract.py").write_text(source, encoding="utf-8")
    return run_author_suite(project, [kit], *pytest_args)


@pytest.fixture(scope="module")
def outcomes(kit_drivers: Path, tmp_path_factory: pytest.TempPathFactory) -> Outcomes:
    project = tmp_path_factory.mktemp("author-project")
    source = KIT + "".join(
        f"\n\nclass {cls}(KitSQL):\n    type_name = {type_name!r}\n"
        for cls, type_name in classes().items()
    )
    # A real Odibi run costs seconds: the correct drivers and the breakage it must catch.
    round_trips = "TestReference or TestCorrect or TestOnOdibiBase or TestBrokenNoReadSqlQuery"
    return run_contracts(
        project, kit_drivers, source, "-k", f"not odibi_pipeline_round_trip or {round_trips}"
    )


def failures(outcome: dict[str, str | None]) -> dict[str, str]:
    return {t: m for t, m in outcome.items() if m and not m.startswith("skipped")}


@pytest.mark.parametrize("variant", sorted(BROKEN_VARIANTS))
def test_each_breakage_fails_the_rule_named_for_it(outcomes: Outcomes, variant: str) -> None:
    _lines, rule, words = BROKEN_VARIANTS[variant]
    outcome = outcomes[f"TestBroken{camel(variant)}"]
    message = next(
        (m for test, m in outcome.items() if test.split("[")[0] == f"test_{rule}" and m), None
    )

    assert message is not None, f"kit-{variant}: rule {rule} passed"
    assert f"rule {rule} broke for driver 'kit-{variant}' (odibi-kit-{variant} 1.0.0)" in message
    assert "To fix: " in message
    for word in words:
        assert word in message, message
    assert "hunter2" not in message
    assert "url-S3cret-pw" not in message


@pytest.mark.parametrize(
    "cls",
    ["TestReference", "TestOnOdibiBase", *(f"TestCorrect{camel(v)}" for v in CORRECT_VARIANTS)],
)
def test_correct_drivers_keep_every_rule(outcomes: Outcomes, cls: str) -> None:
    outcome = outcomes[cls]

    assert failures(outcome) == {}
    skipped = {t: m for t, m in outcome.items() if m}
    if cls == "TestOnOdibiBase":  # no close(), no with: said so, not failed
        assert list(skipped) == ["test_close_and_with_work"]
        assert "Odibi never closes connections" in str(skipped["test_close_and_with_work"])
    else:
        assert skipped == {}
    assert outcome["test_odibi_pipeline_round_trip"] is None
    assert len(outcome) == 28  # every rule


def test_the_documented_example_failure_is_real_output(outcomes: Outcomes) -> None:
    page = Path(__file__).resolve().parents[1] / "docs" / "driver-authors.md"
    text = page.read_text(encoding="utf-8")
    example = text.split("real output for a")[1].split("```text\n")[1].split("```")[0]
    message = outcomes["TestBrokenReplaceKeepsColumns"]["test_sql_replace_takes_new_columns"]

    assert example.strip().splitlines()[0].startswith("rule sql_replace_takes_new_columns")
    assert example.strip() in str(message)


def test_a_clear_refusal_of_a_name_is_not_a_failure(outcomes: Outcomes) -> None:
    outcome = outcomes["TestCorrectRefusesQuotes"]

    assert outcome["test_sql_quoted_identifiers"] is None
    assert outcome["test_sql_filtered_read"] is None


def test_odibis_own_run_catches_a_dropped_filter(outcomes: Outcomes) -> None:
    message = outcomes["TestBrokenNoReadSqlQuery"]["test_odibi_pipeline_round_trip"]

    assert message is not None
    assert "rule odibi_pipeline_round_trip broke for driver 'kit-no-read-sql-query'" in message
    assert "with the filter 'id >= 2'" in message
    assert "(1, 'north')" in message


def test_a_read_only_source_ignoring_schema_is_checked_not_skipped(outcomes: Outcomes) -> None:
    outcome = outcomes["TestReadOnlyIgnoresSchema"]
    message = outcome["test_sql_honours_schema"]

    assert message is not None
    assert "rule sql_honours_schema broke for driver 'kit-read-only'" in message
    assert "returned the table of the default schema" in message
    assert outcome["test_sql_filtered_read"] is None  # its filter works
    for test in ("test_sql_replace_and_append", "test_sql_data_shapes"):
        assert "a read-only SQL source (no write_table)" in str(outcome[test])


def test_a_file_driver_ignoring_its_base_path_breaks_get_path(outcomes: Outcomes) -> None:
    outcome = outcomes["TestRelativeFiles"]
    message = outcome["test_get_path_returns_a_path"]

    assert message is not None
    assert "returned the relative path 'odibi_ext_contract/orders.csv'" in message
    assert "join relative_path to the connection's base path" in message
    assert "does not apply" in str(outcome["test_sql_data_shapes"])
    assert "no_invalid_config says" in str(outcome["test_lazy_mode_defers_validation"])


def test_an_undeclared_import_breaks_declares_its_imports(outcomes: Outcomes) -> None:
    message = outcomes["TestUndeclaredImport"]["test_declares_its_imports"]

    assert message is not None
    assert "imports pandas (from distribution pandas)" in message
    assert "odibi-kit-undeclared does not declare" in message


def test_a_mistyped_type_name_gets_a_did_you_mean(outcomes: Outcomes) -> None:
    outcome = outcomes["TestMistyped"]
    message = outcome["test_published_by_a_distribution"]

    assert message is not None
    assert "did you mean 'kit-sql'? set `type_name = 'kit-sql'`" in message
    for test, other in failures(outcome).items():
        assert "did you mean 'kit-sql'?" in other, test


def test_the_validation_rules_need_invalid_config_or_a_reason(outcomes: Outcomes) -> None:
    missing = outcomes["TestNoInvalidConfig"]["test_lazy_mode_defers_validation"]
    documented = outcomes["TestDocumentedNoInvalidConfig"]["test_lazy_mode_defers_validation"]

    assert missing is not None
    assert "invalid_config is not set" in missing
    assert "no_invalid_config = '<why>'" in missing
    assert documented == (
        "skipped: rule lazy_mode_defers_validation does not apply to driver "
        "'kit-sql': no_invalid_config says: the kit's reason: any path opens"
    )


def test_without_pandas_the_data_rules_fail_saying_why(kit_drivers: Path, tmp_path: Path) -> None:
    # sys.modules[name] = None is how Python spells "this module cannot be imported".
    (tmp_path / "conftest.py").write_text("import sys\nsys.modules['pandas'] = None\n")
    source = KIT + "\n\nclass TestReference(KitSQL):\n    type_name = 'kit-sql'\n"

    outcome = run_contracts(tmp_path, kit_drivers, source, "-k", "TestReference and sql_")

    messages = outcome["TestReference"]
    assert len(messages) == 9
    for test, message in messages.items():
        assert message is not None, test
        assert not message.startswith("skipped"), test
        assert "pandas is not installed" in message


def test_the_stand_in_validation_mode_prints_as_odibis_does() -> None:
    from odibi.config import ValidationMode as OdibiMode

    for value in ("lazy", "eager"):
        stand_in, odibi_s = ValidationMode(value), OdibiMode(value)
        assert stand_in == odibi_s == value
        assert str(stand_in) == str(odibi_s) == f"ValidationMode.{value.upper()}"
        assert f"{stand_in}" == f"{odibi_s}"
        assert stand_in.value == value
