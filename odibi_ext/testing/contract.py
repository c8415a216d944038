"""``DriverContract``: the conformance suite a driver's own tests subclass.

A driver author writes, in ``tests/test_contract.py``::

    import pytest
    from odibi_ext.testing import DriverContract

    class TestContract(DriverContract):
        type_name = "sqlite"
        invalid_config = {"path": "/nonexistent/dir/x.db", "read_only": True}

        @pytest.fixture
        def driver_config(self, tmp_path):
            return {"path": str(tmp_path / "contract.db")}

and pytest runs every rule against the *installed* driver, loaded the way a
host loads it, with the calls and the data Odibi's pandas engine really
makes. Each test is named for the rule it checks; a failure starts
``rule <name> broke for driver ...`` and ends with what to change; a rule
that does not apply skips, saying why.

The rules come in families, one module each: where the driver comes from
(:mod:`~odibi_ext.testing.origin_rules`), creating connections
(:mod:`~odibi_ext.testing.creation_rules`), one connection's life
(:mod:`~odibi_ext.testing.connection_rules`), secrets
(:mod:`~odibi_ext.testing.secret_rules`), SQL
(:mod:`~odibi_ext.testing.sql_rules`) and a real Odibi pipeline
(:mod:`~odibi_ext.testing.odibi_rules`). Nothing heavy is imported here:
Odibi and pandas are imported by the rules that need them, because this
module is loaded into every pytest session of an environment where
odibi-ext is installed.
"""

from __future__ import annotations

from odibi_ext.testing.connection_rules import ConnectionRules
from odibi_ext.testing.creation_rules import CreationRules
from odibi_ext.testing.odibi_rules import OdibiRules
from odibi_ext.testing.origin_rules import OriginRules
from odibi_ext.testing.secret_rules import SecretRules
from odibi_ext.testing.sql_rules import SQLRules


class DriverContract(
    OriginRules, CreationRules, ConnectionRules, SecretRules, SQLRules, OdibiRules
):
    """Subclass it, set :attr:`type_name` and :attr:`config` (or override the
    ``driver_config`` fixture), and pytest checks the driver.

    Set :attr:`invalid_config` (a config that creates a connection whose
    ``validate()`` fails) or, when none can, :attr:`no_invalid_config` (why).
    Optional: :attr:`distribution` (which distribution is under test when
    several offer the type name), :attr:`import_timeout`, :attr:`other_schema`
    (a second schema the SQL rules may write), :attr:`readable_table` (for a
    read-only SQL source) and the ``other_driver_config`` fixture (a config
    pointing elsewhere, when it cannot be derived from ``tmp_path``).
    """
