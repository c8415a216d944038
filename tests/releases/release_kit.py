"""The Odibi release these tests run against, what it has, and Odibi's command line run both ways.

The release tests run in the main suite (the Odibi the ``test`` extra pins)
and in ``nox -s odibi_releases``, once per release, each in a virtual
environment of its own. What a release has is written down here from the
releases' wheels; every test reads the installed release and expects that.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import Final

from plugin_kit import odibi_ext_command
from plugin_kit import run_process

#: The installed Odibi (a missing one fails every release test at collection).
VERSION: Final = importlib.metadata.version("odibi")
RELEASE: Final = tuple(int(part) for part in VERSION.split(".")[:3])

#: ``odibi list`` and ``odibi explain``: 2.8.0 to 2.18.0, and from 3.4.2 on.
HAS_LIST_COMMAND: Final = (2, 8) <= RELEASE < (2, 20) or RELEASE >= (3, 4, 2)
#: ``odibi.cli.list_cmd`` (binding ``_CONNECTION_FACTORIES`` at import) exists from 2.8.0.
HAS_LIST_MODULE: Final = RELEASE >= (2, 8)
#: The README example needs ``format: simulation`` (2.20.0), ``connection: null``
#: (2.20.1) and ``options.filter`` on SQL reads (2.15.0; older engines ignore it).
RUNS_THE_EXAMPLE: Final = RELEASE >= (2, 20, 1)

#: Odibi's own ``odibi`` command, returning main()'s status: the console script
#: may abort at interpreter shutdown after a good run (see ODIBI.md).
_STOCK_ODIBI: Final = (
    "import sys\nfrom odibi.cli.main import main\nsys.argv[0] = 'odibi'\nsys.exit(main())"
)
#: An Odibi run of a small project loads pandas, pyarrow and deltalake.
TIMEOUT_S: Final = 300


def expected_builtins() -> set[str]:
    """The type names ``register_builtins()`` registers in this release."""
    names = {"local", "http", "azure_blob", "azure_adls", "delta", "sql_server", "azure_sql"}
    if RELEASE >= (3, 4, 4):
        names |= {"postgres", "postgresql"}
    if RELEASE >= (3, 12):
        names.add("unity_catalog")
    return names


def child_env(cache: Path, paths: Sequence[Path] = ()) -> dict[str, str]:
    """A child environment with no odibi-ext settings, its own index cache, ``paths`` first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODIBI_EXT")}
    env["ODIBI_EXT_CACHE_DIR"] = str(cache)
    env["COLUMNS"] = "200"
    inherited = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), *([inherited] if inherited else [])])
    return env


def stock_odibi(args: Sequence[str], *, cwd: Path, env: dict[str, str]) -> Any:
    """``odibi ARGS...``: stock Odibi's command line in a child process."""
    return run_process(
        [sys.executable, "-c", _STOCK_ODIBI, *args], env, cwd=cwd, timeout=TIMEOUT_S
    )


def odibi_ext_odibi(
    args: Sequence[str], *, cwd: Path, env: dict[str, str], policy: Path | None = None
) -> Any:
    """``odibi-ext [--config POLICY] odibi ARGS...`` in a child process."""
    config = ["--config", str(policy)] if policy is not None else []
    return run_process(
        [*odibi_ext_command(), *config, "odibi", *args], env, cwd=cwd, timeout=TIMEOUT_S
    )


def table_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a SQLite file with its rows, sorted."""
    db = sqlite3.connect(database)
    try:
        names = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }
    finally:
        db.close()


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


#: The seeded table of the copy project: (id, shop, amount).
ORDERS = [(1, "north", 120.0), (2, "south", 310.5), (3, "north", 42.0), (4, "east", 980.0)]


def copy_project(home: Path) -> Path:
    """A project every release accepts: orders -> orders_copy (SQLite) -> orders.csv."""
    home.mkdir(parents=True)
    db = sqlite3.connect(home / "wh.db")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, shop TEXT, amount REAL)")
    db.executemany("INSERT INTO orders VALUES (?, ?, ?)", ORDERS)
    db.commit()
    db.close()
    project = {
        "project": "copy",
        "engine": "pandas",
        "retry": {"enabled": False},
        "connections": {
            "wh": {"type": "sqlite", "path": str(home / "wh.db"), "validation_mode": "eager"},
            "exports": {"type": "localfs", "base_path": str(home / "exports"), "create": True},
            "meta": {"type": "local", "base_path": str(home / "odibi")},
        },
        "story": {"connection": "meta", "path": "stories"},
        "system": {"connection": "meta", "path": "_system", "async_derived_updates": False},
        "pipelines": [
            {
                "pipeline": "copy",
                "nodes": [
                    {
                        "name": "copy",
                        "read": {"connection": "wh", "format": "sql", "table": "orders"},
                        "write": {
                            "connection": "wh",
                            "format": "sql",
                            "table": "orders_copy",
                            "mode": "overwrite",
                        },
                    },
                    {
                        "name": "export",
                        "depends_on": ["copy"],
                        "read": {"connection": "wh", "format": "sql", "table": "orders_copy"},
                        "write": {
                            "connection": "exports",
                            "format": "csv",
                            "path": "orders.csv",
                            "mode": "overwrite",
                        },
                    },
                ],
            }
        ],
    }
    path = home / "project.yaml"
    path.write_text(json.dumps(project, indent=2))  # JSON is YAML
    return path
