"""odibi-faulty on this Odibi release: its exit at import contained, its ``local`` a conflict.

odibi-faulty is pip-installed into a directory of its own, put on the
``PYTHONPATH`` of the runs (never into the environment: it would end every
stock Odibi command there). The project is the copy project every release
accepts; it uses ``local`` for its stories.
"""

from __future__ import annotations

from pathlib import Path

from release_kit import ORDERS
from release_kit import VERSION
from release_kit import child_env
from release_kit import copy_project
from release_kit import odibi_ext_odibi
from release_kit import stock_odibi
from release_kit import table_rows

CONFLICT = (
    f"type name 'local' is offered by 2 providers: odibi {VERSION} "
    "(built-in odibi.connections.factory:create_local_connection), "
    "odibi-faulty 0.1.0 (odibi_faulty.clash:create)"
)


def test_a_plugin_exiting_at_import_ends_stock_odibi_and_odibi_ext_contains_it(
    faulty_target: Path, tmp_path: Path
) -> None:
    stock_project = copy_project(tmp_path / "stock")
    managed_project = copy_project(tmp_path / "managed")
    env = child_env(tmp_path / "cache", [faulty_target])
    policy = tmp_path / "policy.toml"
    policy.write_text('[odibi_ext.pins]\nlocal = "odibi"\n')

    stock = stock_odibi(["run", str(stock_project)], cwd=tmp_path, env=env)
    managed = odibi_ext_odibi(["run", str(managed_project)], cwd=tmp_path, env=env, policy=policy)

    assert stock.returncode == 3  # odibi-faulty's sys.exit(3), before any row is read
    assert "orders_copy" not in table_rows(stock_project.parent / "wh.db")
    assert managed.returncode == 0, managed.stdout[-3000:] + managed.stderr[-3000:]
    assert "Traceback" not in managed.stdout + managed.stderr
    assert sorted(table_rows(managed_project.parent / "wh.db")["orders_copy"]) == sorted(ORDERS)


def test_a_plugin_claiming_local_is_reported_as_a_conflict_and_fails_the_project(
    faulty_target: Path, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "project")
    env = child_env(tmp_path / "cache", [faulty_target])

    result = odibi_ext_odibi(["run", str(project)], cwd=tmp_path, env=env)

    assert result.returncode != 0
    assert CONFLICT in result.stderr
    assert 'local = "odibi" keeps Odibi\'s built-in' in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "orders_copy" not in table_rows(project.parent / "wh.db")
