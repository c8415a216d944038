"""A real project run by stock ``odibi run`` and by ``odibi-ext odibi run``: the same outputs.

The README example (examples/orders) where the release has what it uses;
otherwise a project that release accepts: a seeded SQLite table copied
through odibi-sqlite and exported to CSV through odibi-localfs. Each run gets
its own copy of the project, so the outputs of the two are compared whole.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from release_kit import ORDERS
from release_kit import RUNS_THE_EXAMPLE
from release_kit import VERSION
from release_kit import child_env
from release_kit import copy_project
from release_kit import files_under
from release_kit import odibi_ext_odibi
from release_kit import stock_odibi
from release_kit import table_rows

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "orders"


def example_project(home: Path) -> Path:
    """A copy of the README example; it writes to ``out/`` beside its own project.yaml."""
    shutil.copytree(EXAMPLE, home, ignore=shutil.ignore_patterns("out", "__pycache__"))
    return home / "project.yaml"


def outputs(project: Path) -> dict[str, Any]:
    """What a run wrote: the SQLite tables (rows) and the exported files (bytes)."""
    home = project.parent
    if RUNS_THE_EXAMPLE:
        database, exports = home / "out" / "warehouse.db", home / "out" / "exports"
    else:
        database, exports = home / "wh.db", home / "exports"
    assert database.is_file(), f"no database at {database}"
    return {"tables": table_rows(database), "files": files_under(exports)}


def check_what_was_written(written: dict[str, Any]) -> None:
    """The outputs are the project's, not just equal: rows, filter and export."""
    tables, files = written["tables"], written["files"]
    if RUNS_THE_EXAMPLE:
        orders = tables["orders"]
        assert len(orders) == 48  # 24 steps x 2 shops
        large = [row for row in orders if row[3] >= 250]
        lines = files["large_orders.csv"].decode().strip().splitlines()
        assert lines[0] == "order_id,shop,ordered_at,amount"
        assert 0 < len(lines) - 1 == len(large) < len(orders)  # the filter ran in SQLite
    else:
        assert sorted(tables["orders_copy"]) == sorted(ORDERS)
        lines = files["orders.csv"].decode().strip().splitlines()
        assert lines[0] == "id,shop,amount"
        assert len(lines) == 1 + len(ORDERS)


@pytest.fixture
def project_maker() -> Any:
    return example_project if RUNS_THE_EXAMPLE else copy_project


def test_stock_odibi_and_odibi_ext_write_the_same(tmp_path: Path, project_maker: Any) -> None:
    stock_project = project_maker(tmp_path / "stock")
    managed_project = project_maker(tmp_path / "managed")
    env = child_env(tmp_path / "cache")

    stock = stock_odibi(["run", str(stock_project)], cwd=tmp_path, env=env)
    managed = odibi_ext_odibi(["run", str(managed_project)], cwd=tmp_path, env=env)

    assert stock.returncode == 0, stock.stdout[-3000:] + stock.stderr[-3000:]
    assert managed.returncode == 0, managed.stdout[-3000:] + managed.stderr[-3000:]
    for run in (stock, managed):
        assert "Traceback" not in run.stdout + run.stderr
    # odibi-ext was in charge: it names the driver of every connection type used.
    assert "connection type 'sqlite': driver odibi-sqlite 1.0.0" in managed.stderr
    assert "connection type 'localfs': driver odibi-localfs 1.0.0" in managed.stderr
    assert f"connection type 'local': driver odibi {VERSION} (built-in" in managed.stderr
    written = outputs(stock_project)
    check_what_was_written(written)
    assert outputs(managed_project) == written
