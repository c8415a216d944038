"""The sample drivers serving real Odibi projects: real Odibi, real SQLite files, real files.

Projects are written to a temporary folder and run by Odibi's own
``PipelineManager`` (in this process), or by Odibi's command line in a child
process; the results are checked in the database and the files afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

pytestmark = [pytest.mark.odibi, pytest.mark.usefixtures("odibi_host")]

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders"

#: Rows of the seeded ``orders`` table: (id, shop, qty, price).
ORDERS = [(1, "north", 1, 2.5), (2, "south", 3, 4.0), (3, "north", 5, 1.0), (4, "east", 2, 8.0)]


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def seed(path: Path) -> Path:
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, shop TEXT, qty INT, price REAL)")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", ORDERS)
        db.commit()
    finally:
        db.close()
    return path


class Project:
    """An Odibi project in a folder: its own database, files, stories and system catalog."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.db = home / "wh.db"
        self.files = home / "files"
        self.files.mkdir(parents=True, exist_ok=True)

    def write(self, nodes: list[dict[str, Any]], **connections: dict[str, Any]) -> Path:
        project = {
            "project": "test",
            "engine": "pandas",
            "retry": {"enabled": False},  # a failing node fails at once
            "connections": {
                "wh": {"type": "sqlite", "path": str(self.db)},
                "files": {"type": "localfs", "base_path": str(self.files)},
                "meta": {"type": "local", "base_path": str(self.home / "odibi")},
                **connections,
            },
            "story": {"connection": "meta", "path": "stories"},
            # Synchronous: no thread left writing Delta tables when the test ends.
            "system": {"connection": "meta", "path": "_system", "async_derived_updates": False},
            "pipelines": [{"pipeline": "p", "nodes": nodes}],
        }
        path = self.home / "project.yaml"
        path.write_text(json.dumps(project, indent=2))  # JSON is YAML
        return path

    def run(self, nodes: list[dict[str, Any]], **connections: dict[str, Any]) -> Any:
        from odibi.pipeline import PipelineManager

        manager = PipelineManager.from_yaml(str(self.write(nodes, **connections)))
        return manager.run()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    home = Project(tmp_path / "project")
    seed(home.db)
    return home


def copy_node(mode: str, *, table: str = "copy", **read_options: Any) -> dict[str, Any]:
    read: dict[str, Any] = {"connection": "wh", "format": "sql", "table": "orders"}
    if read_options:
        read["options"] = read_options
    return {
        "name": "copy",
        "read": read,
        "write": {"connection": "wh", "format": "sql", "table": table, "mode": mode},
    }


def succeeded(results: Any) -> None:
    errors = {name: str(result.error) for name, result in results.node_results.items()}
    assert results.failed == [], errors


# -- reading and writing SQLite ---------------------------------------------------------------


def test_a_table_is_read_and_written_whole(project: Project) -> None:
    results = project.run([copy_node("overwrite")])

    succeeded(results)
    assert rows(project.db, "SELECT * FROM copy ORDER BY id") == ORDERS
    assert results.node_results["copy"].rows_written == 4


def test_the_filter_is_a_where_clause_run_by_sqlite(project: Project) -> None:
    results = project.run([copy_node("overwrite", filter="qty >= 2 AND shop <> 'east'")])

    succeeded(results)
    assert rows(project.db, "SELECT id FROM copy ORDER BY id") == [(2,), (3,)]


def test_overwrite_replaces_the_table_each_run(project: Project) -> None:
    for _ in range(2):
        succeeded(project.run([copy_node("overwrite")]))

    assert rows(project.db, "SELECT count(*), sum(id), sum(qty * price) FROM copy") == [
        (4, 10, 2.5 + 12.0 + 5.0 + 16.0)
    ]


def test_append_adds_the_rows_again_each_run(project: Project) -> None:
    for _ in range(2):
        succeeded(project.run([copy_node("append")]))

    assert rows(project.db, "SELECT id, count(*) FROM copy GROUP BY id ORDER BY id") == [
        (1, 2),
        (2, 2),
        (3, 2),
        (4, 2),
    ]


def test_merge_fails_clearly_and_leaves_the_table(project: Project) -> None:
    succeeded(project.run([copy_node("overwrite")]))
    node = copy_node("merge")
    node["write"]["merge_keys"] = ["id"]

    results = project.run([node])

    assert results.failed == ["copy"]
    error = str(results.node_results["copy"].error)
    assert "MERGE" in error
    assert "'sqlite'" in error
    assert "mode='append' or mode='overwrite'" in error
    assert rows(project.db, "SELECT count(*) FROM copy") == [(4,)]


def test_odibi_simulation_rows_land_in_sqlite_with_their_types(project: Project) -> None:
    node = {
        "name": "make",
        "read": {
            "connection": None,
            "format": "simulation",
            "options": {
                "simulation": {
                    "scope": {
                        "start_time": "2026-01-01T00:00:00Z",
                        "timestep": "1h",
                        "row_count": 5,
                        "seed": 1,
                    },
                    "entities": {"names": ["a"]},
                    "columns": [
                        {
                            "name": "n",
                            "data_type": "int",
                            "generator": {"type": "sequential", "start": 10},
                        },
                        {
                            "name": "at",
                            "data_type": "timestamp",
                            "generator": {"type": "timestamp"},
                        },
                    ],
                }
            },
        },
        "write": {"connection": "wh", "format": "sql", "table": "made", "mode": "overwrite"},
    }

    succeeded(project.run([node]))

    assert rows(project.db, "SELECT n FROM made ORDER BY n") == [(n,) for n in range(10, 15)]
    assert rows(project.db, "SELECT min(at) FROM made")[0][0].startswith("2026-01-01")


# -- files through odibi-localfs --------------------------------------------------------------


def test_localfs_serves_csv_and_parquet_to_odibi(project: Project) -> None:
    (project.files / "in").mkdir()
    (project.files / "in" / "people.csv").write_text("id,name\n1,ada\n2,grace\n3,linus\n")
    nodes = [
        {
            "name": "to_parquet",
            "read": {"connection": "files", "format": "csv", "path": "in/people.csv"},
            "write": {
                "connection": "files",
                "format": "parquet",
                "path": "out/people.parquet",
                "mode": "overwrite",
            },
        },
        {
            "name": "to_sqlite",
            "depends_on": ["to_parquet"],
            "read": {"connection": "files", "format": "parquet", "path": "out/people.parquet"},
            "write": {"connection": "wh", "format": "sql", "table": "people", "mode": "overwrite"},
        },
    ]

    succeeded(project.run(nodes))

    parquet = pd.read_parquet(project.files / "out" / "people.parquet")
    assert parquet["name"].tolist() == ["ada", "grace", "linus"]
    assert rows(project.db, "SELECT id, name FROM people ORDER BY id") == [
        (1, "ada"),
        (2, "grace"),
        (3, "linus"),
    ]


def test_localfs_refuses_a_path_leaving_its_base_in_a_project(project: Project) -> None:
    node = copy_node("overwrite")
    node["write"] = {
        "connection": "files",
        "format": "csv",
        "path": "../escaped.csv",
        "mode": "overwrite",
    }

    results = project.run([node])

    assert results.failed == ["copy"]
    assert "resolves outside base_path" in str(results.node_results["copy"].error)
    assert not (project.home / "escaped.csv").exists()


# -- the calling convention -------------------------------------------------------------------


@pytest.mark.parametrize("as_enum", [True, False])
def test_eager_validation_of_a_bad_path_fails_at_creation(tmp_path: Path, as_enum: bool) -> None:
    from odibi.config import ValidationMode
    from odibi.pipeline import PipelineManager

    missing = tmp_path / "no" / "such" / "dir"
    mode = ValidationMode.EAGER if as_enum else "eager"
    configs = {
        "wh": {"type": "sqlite", "validation_mode": mode, "path": str(missing / "w.db")},
    }
    with pytest.raises(ValueError, match="Failed to create connection 'wh'") as raised:
        PipelineManager._build_connections(configs)
    assert "does not exist" in str(raised.value)
    assert str(missing) in str(raised.value)

    files = {"files": {"type": "localfs", "validation_mode": mode, "base_path": str(missing)}}
    with pytest.raises(ValueError, match="does not exist; create it, or set create: true"):
        PipelineManager._build_connections(files)


@pytest.mark.parametrize("as_enum", [True, False])
def test_lazy_creation_touches_nothing_until_used(tmp_path: Path, as_enum: bool) -> None:
    from odibi.config import ValidationMode
    from odibi.pipeline import PipelineManager

    missing = tmp_path / "no" / "such" / "dir"
    mode = ValidationMode.LAZY if as_enum else "lazy"
    connections = PipelineManager._build_connections(
        {
            "wh": {"type": "sqlite", "validation_mode": mode, "path": str(missing / "w.db")},
            "files": {"type": "localfs", "validation_mode": mode, "base_path": str(missing)},
        }
    )

    assert connections["wh"].settings.validation_mode == "lazy"
    with pytest.raises(ConnectionError, match="does not exist"):
        connections["wh"].validate()
    with pytest.raises(FileNotFoundError):
        connections["files"].validate()
    assert not (tmp_path / "no").exists()


def test_the_yaml_calling_convention_reaches_the_driver(project: Project) -> None:
    from odibi.pipeline import PipelineManager

    path = project.write(
        [copy_node("overwrite")],
        wh={"type": "sqlite", "path": str(project.db), "validation_mode": "eager", "timeout": 2},
    )
    connection = PipelineManager.from_yaml(str(path)).connections["wh"]

    assert connection.settings.validation_mode == "eager"
    assert connection.settings.timeout == 2.0


def test_an_unknown_key_fails_the_project_naming_the_allowed_ones(project: Project) -> None:
    from odibi.pipeline import PipelineManager

    path = project.write([], wh={"type": "sqlite", "path": str(project.db), "hots": "x"})
    with pytest.raises(ValueError, match="unknown config key 'hots'") as raised:
        PipelineManager.from_yaml(str(path))
    assert "expected path, timeout, read_only (and Odibi's type, validation_mode)" in str(
        raised.value
    )


def test_odibis_built_in_local_is_still_odibis(tmp_path: Path) -> None:
    from odibi.connections.local import LocalConnection
    from odibi.pipeline import PipelineManager

    connections = PipelineManager._build_connections(
        {"mine": {"type": "local", "base_path": str(tmp_path)}}
    )

    assert type(connections["mine"]) is LocalConnection


# -- discovery --------------------------------------------------------------------------------


def test_discovery_answers_in_odibis_models(project: Project) -> None:
    from odibi.discovery.types import CatalogSummary
    from odibi.discovery.types import PreviewResult
    from odibi.discovery.types import Schema
    from odibi.pipeline import PipelineManager

    sqlite3.connect(project.db).execute("CREATE VIEW big AS SELECT * FROM orders WHERE qty > 2")
    manager = PipelineManager.from_yaml(str(project.write([copy_node("overwrite")])))

    catalog = manager.discover("wh", include_stats=True)
    table = manager.discover("wh", dataset="orders")
    preview = manager.preview("wh", "orders", rows=2, columns=["shop", "id"])
    everywhere = manager.discover(pattern="b*")

    summary = CatalogSummary.model_validate(catalog)
    assert set(catalog) == set(CatalogSummary.model_fields)
    assert [(t.name, t.kind, t.row_count) for t in summary.tables or []] == [
        ("big", "view", 2),
        ("orders", "table", 4),
    ]
    schema = Schema.model_validate(table)
    assert [(c.name, c.dtype) for c in schema.columns] == [
        ("id", "INTEGER"),
        ("shop", "TEXT"),
        ("qty", "INT"),
        ("price", "REAL"),
    ]
    assert schema.primary_key == ["id"]
    assert PreviewResult.model_validate(preview).rows == [
        {"shop": "north", "id": 1},
        {"shop": "south", "id": 2},
    ]
    assert [t["name"] for t in everywhere["results"]["wh"]["tables"]] == ["big"]
    assert manager.freshness("wh", "orders", timestamp_column="id")["latest"] == 4


@pytest.fixture
def odibi_cli(tmp_path: Path) -> Any:
    """Odibi's command line in a child process, from a neutral working directory."""
    neutral = tmp_path / "neutral"
    neutral.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # main() returns Odibi's status; the console script may abort at shutdown.
        script = (
            "import sys\nfrom odibi.cli.main import main\nsys.argv[0] = 'odibi'\nsys.exit(main())"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("ODIBI_EXT")}
        env["COLUMNS"] = "200"
        return subprocess.run(
            [sys.executable, "-c", script, *args],
            capture_output=True,
            text=True,
            cwd=neutral,
            env=env,
            timeout=300,
            check=False,
        )

    run.cwd = neutral  # type: ignore[attr-defined]
    return run


def test_odibi_discover_on_the_command_line(project: Project, odibi_cli: Any) -> None:
    config = str(project.write([copy_node("overwrite")]))

    catalog = odibi_cli("discover", "wh", "--config", config, "--format", "json")
    table = odibi_cli("discover", "wh", "orders", "--config", config, "--format", "json")

    assert catalog.returncode == 0, catalog.stdout + catalog.stderr
    assert table.returncode == 0, table.stdout + table.stderr
    # Odibi's logs share stdout: the JSON is the block that starts at a line "{".
    answer = json.loads(catalog.stdout[catalog.stdout.index("\n{") :])
    assert answer["connection_type"] == "sqlite"
    assert [t["name"] for t in answer["tables"]] == ["orders"]
    info = json.loads(table.stdout[table.stdout.index("\n{") :])
    assert [c["name"] for c in info["columns"]] == ["id", "shop", "qty", "price"]


# -- the example project ----------------------------------------------------------------------


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of examples/orders without its outputs, so the checkout is never written."""
    copy = tmp_path / "orders"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("out", "__pycache__"))
    return copy


def check_example_outputs(home: Path) -> None:
    database = home / "out" / "warehouse.db"
    assert rows(database, "SELECT count(*), count(DISTINCT shop) FROM orders") == [(48, 2)]
    large = dict(rows(database, "SELECT order_id, amount FROM orders WHERE amount >= 250"))
    exported = pd.read_csv(home / "out" / "exports" / "large_orders.csv")
    assert 0 < len(exported) < 48
    assert sorted(exported["order_id"]) == sorted(large)
    for order_id, amount in zip(exported["order_id"], exported["amount"]):
        assert amount == pytest.approx(large[order_id], rel=1e-12)  # through CSV text
    assert (home / "out" / "odibi" / "stories").is_dir()


def test_the_example_runs_through_pipeline_manager(example: Path, odibi_host: ModuleType) -> None:
    from odibi.pipeline import PipelineManager

    manager = PipelineManager.from_yaml(str(example / "project.yaml"))
    results = manager.run()

    succeeded(results)
    assert results.completed == ["load_orders", "large_orders"]
    check_example_outputs(example)


def test_the_example_runs_with_odibi_run_from_anywhere(example: Path, odibi_cli: Any) -> None:
    result = odibi_cli("run", str(example / "project.yaml"))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    check_example_outputs(example)
    assert list(odibi_cli.cwd.iterdir()) == []  # nothing lands in the working directory
