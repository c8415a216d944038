"""The sample drivers keep the contract: the suite a driver's author runs, run on ours.

These classes are what a driver package's ``tests/test_contract.py`` holds;
the drivers under test are the installed odibi-sqlite and odibi-localfs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from typing import ClassVar

import pytest

from odibi_ext.testing import DriverContract


class TestSQLiteContract(DriverContract):
    type_name = "sqlite"
    # Read-only needs the file to exist: creating works, validate() fails.
    invalid_config: ClassVar[dict[str, Any]] = {
        "path": "/nonexistent/odibi-contract/missing.db",
        "read_only": True,
    }

    @pytest.fixture
    def driver_config(self, tmp_path: Path) -> dict[str, Any]:
        return {"path": str(tmp_path / "contract.db")}


class TestLocalfsContract(DriverContract):
    type_name = "localfs"
    invalid_config: ClassVar[dict[str, Any]] = {"base_path": "/nonexistent/odibi-contract"}

    @pytest.fixture
    def driver_config(self, tmp_path: Path) -> dict[str, Any]:
        return {"base_path": str(tmp_path)}


def test_pandas_is_here_so_the_sql_rules_run_on_sqlite() -> None:
    # Without pandas the SQL rules fail saying why; here they must run for real.
    import pandas

    assert pandas.DataFrame({"a": [1]}).shape == (1, 1)
