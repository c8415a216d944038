"""Odibi's Spark engine (local mode) with odibi-ext in charge of its connections.

Real Odibi, real PySpark (a JVM per scenario), real project files. Each
scenario is one child process, started once per module and shared by the
tests that look at it, so the suite starts as few SparkSessions as it can:

- ``examples/spark_orders`` run by stock ``odibi run``, and by
  ``odibi-ext odibi run`` with odibi-faulty installed beside the samples (and
  the pin ``local = "odibi"``);
- a notebook: a process that already holds a SparkSession calls
  :func:`odibi_ext.odibi.install`, runs a project with
  ``PipelineManager.from_yaml(...).run()``, then :func:`~odibi_ext.odibi.uninstall`.

PySpark is imported at the top: without it these tests fail, they do not skip.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import sqlite3
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pyspark
import pytest
from plugin_kit import odibi_ext_command
from plugin_kit import run_process

from odibi_ext.testing import TemporarySite

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "spark_orders"
#: The datasets the example writes under out/lake/.
DATASETS = ("orders", "orders_by_shop", "large_orders")
#: A Spark scenario starts a JVM and runs a project: generous, yet a hang fails the test.
SPARK_TIMEOUT = 600
#: Spark's part files carry a random id per write: replaced to compare two runs' files.
PART_ID = re.compile(r"part-(\d+)-[0-9a-f-]{36}")

#: A plugin that records, in a marker file named with the process id, every
#: process that imports it; its connections are odibi-localfs's, under a class
#: of its own (so a connection pickled for Spark's workers would import it there).
MARKED_DRIVER = """
import os

from odibi_localfs import LocalConnection

with open(os.path.join({markers!r}, "imported-by-" + str(os.getpid())), "w") as marker:
    marker.write("markedfs")


class MarkedConnection(LocalConnection):
    pass


def create(name, config):
    return MarkedConnection(name, config)
"""

#: A Databricks notebook, in one process: the session exists before odibi-ext does.
NOTEBOOK = """
import json, os, sys

from pyspark.sql import SparkSession

spark = (
    SparkSession.builder.master("local[2]")
    .appName("notebook")
    .config("spark.ui.enabled", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")

import odibi.pipeline
import odibi.plugins

SEAMS = ("register_connection_factory", "get_connection_factory", "load_plugins")
stock = {{name: getattr(odibi.plugins, name) for name in SEAMS}}
stock["pipeline.get_connection_factory"] = odibi.pipeline.get_connection_factory

# The notebook's first cell after the session: odibi-ext takes Odibi's plugins.
import odibi_ext.odibi

registry = odibi_ext.odibi.install()

from odibi.pipeline import PipelineManager

manager = PipelineManager.from_yaml({project!r})
results = manager.run()
engine = manager.get_pipeline("orders").engine
connections = {{name: type(c).__module__ + "." + type(c).__name__
               for name, c in manager.connections.items()}}


def worker_view(_):
    import importlib.util, os, sys
    plugins = ("markedfs", "odibi_localfs", "odibi_ext")
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in plugins)
    return os.getpid(), loaded, importlib.util.find_spec("markedfs") is not None


# odibi-sqlite on Spark: the connection is made; the engine wants get_spark_options.
on_spark = PipelineManager.from_yaml({sqlite_project!r}).run()

# Python code on Spark's workers, in the session the run used.
workers = spark.sparkContext.parallelize(range(4), 2).map(worker_view).collect()

odibi_ext.odibi.uninstall()
restored = {{name: getattr(odibi.plugins, name) is seam for name, seam in stock.items()
             if "." not in name}}
restored["pipeline.get_connection_factory"] = (
    odibi.pipeline.get_connection_factory is stock["pipeline.get_connection_factory"]
)
print(json.dumps({{
    "driver_pid": os.getpid(),
    "failed": list(results.failed),
    "completed": list(results.completed),
    "same_session": engine.spark is spark,
    "active_session": SparkSession.getActiveSession() is spark,
    "connections": connections,
    "drivers": {{name: [registry.info(name).origin, registry.info(name).status,
                       registry.info(name).distribution]
                for name in ("markedfs", "local")}},
    "workers": workers,
    "sqlite_failed": list(on_spark.failed),
    "sqlite_error": str(on_spark.node_results["read_orders"].error),
    "installed_after_uninstall": odibi_ext.odibi.is_installed(),
    "restored": restored,
}}))
"""


def spark_environment(
    tmp_path: Path, *, pythonpath: tuple[Path, ...] | list[Path] = ()
) -> dict[str, str]:
    """A child's environment: Spark local on two cores, no web UI, workers on this Python."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODIBI_EXT")}
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["PYSPARK_SUBMIT_ARGS"] = "--master local[2] --conf spark.ui.enabled=false pyspark-shell"
    env["ODIBI_EXT_CACHE_DIR"] = str(tmp_path / "odibi-ext-cache")
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return env


def copy_of_the_example(where: Path) -> Path:
    """A copy of examples/spark_orders without its outputs: the checkout is never written."""
    shutil.copytree(EXAMPLE, where, ignore=shutil.ignore_patterns("out", "__pycache__"))
    return where


def outputs(home: Path) -> dict[str, Any]:
    """What a run wrote to out/lake/: each dataset's files (part ids blanked) and rows."""
    lake = home / "out" / "lake"
    found: dict[str, Any] = {}
    for name in DATASETS:
        files = sorted(
            PART_ID.sub(r"part-\1-ID", path.relative_to(lake / name).as_posix())
            for path in (lake / name).rglob("*")
            if path.is_file()
        )
        rows = pq.read_table(lake / name).to_pylist()
        for row in rows:
            row["shop"] = str(row["shop"])  # a partition column reads back as a dictionary
        found[name] = {"files": files, "rows": sorted(rows, key=lambda row: row["order_id"])}
    return found


def csv_orders() -> list[dict[str, Any]]:
    """The example's input, typed as Spark's inferSchema types it."""
    with (EXAMPLE / "data" / "orders.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    return [
        {"order_id": int(r["order_id"]), "shop": r["shop"], "amount": float(r["amount"])}
        for r in rows
    ]


def odibi_run(home: Path, env: dict[str, str], *, managed: bool) -> Any:
    """``odibi run`` (stock) or ``odibi-ext odibi run`` of the project in ``home``."""
    if managed:
        argv = [*odibi_ext_command(), "odibi", "run", str(home / "project.yaml")]
    else:
        # main() returns Odibi's status; the console script may abort at shutdown.
        script = "import sys\nfrom odibi.cli.main import main\nsys.argv[0] = 'odibi'\n"
        argv = [sys.executable, "-c", script + "sys.exit(main())", "run"]
        argv.append(str(home / "project.yaml"))
    result = run_process(argv, env, timeout=SPARK_TIMEOUT, cwd=home.parent)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = copy_of_the_example(tmp_path_factory.mktemp("stock") / "spark_orders")
    odibi_run(home, spark_environment(home.parent), managed=False)
    return outputs(home)


@pytest.fixture(scope="module")
def managed(
    tmp_path_factory: pytest.TempPathFactory, faulty_target: Path
) -> tuple[dict[str, Any], str]:
    """``odibi-ext odibi run`` with odibi-faulty installed beside the samples, ``local`` pinned.

    One run for both claims (it costs a JVM): what stock writes, and nothing
    lost to a faulty plugin; the pin is the only difference from a plain run.
    """
    home = copy_of_the_example(tmp_path_factory.mktemp("managed") / "spark_orders")
    policy = home.parent / "policy.toml"
    policy.write_text('[odibi_ext.pins]\nlocal = "odibi"\n', encoding="utf-8")
    env = spark_environment(home.parent, pythonpath=[faulty_target])
    env["ODIBI_EXT_CONFIG"] = str(policy)
    listed = run_process([*odibi_ext_command(), "list", "--format", "json"], env)
    assert listed.returncode == 0, listed.stderr
    seen = {driver["name"]: driver["distribution"] for driver in json.loads(listed.stdout)}
    assert seen["faulty-exit"] == "odibi-faulty"  # the run below has it beside the samples
    result = odibi_run(home, env, managed=True)
    return outputs(home), result.stdout + result.stderr


def test_pyspark_is_installed_in_a_version_odibi_s_spark_extra_accepts() -> None:
    major, minor = (int(part) for part in pyspark.__version__.split(".")[:2])
    assert (major, minor) >= (3, 4)


def test_the_spark_example_writes_what_it_should(stock: dict[str, Any]) -> None:
    orders = csv_orders()
    large = [row for row in orders if row["amount"] >= 250]

    assert [(r["order_id"], r["shop"], r["amount"]) for r in stock["orders"]["rows"]] == [
        (r["order_id"], r["shop"], r["amount"]) for r in orders
    ]
    assert [r["order_id"] for r in stock["large_orders"]["rows"]] == [r["order_id"] for r in large]
    partitions = {f.split("/")[0] for f in stock["orders_by_shop"]["files"] if "/" in f}
    assert partitions == {f"shop={shop}" for shop in {r["shop"] for r in orders}}
    assert stock["orders_by_shop"]["rows"] == stock["orders"]["rows"]


def test_odibi_ext_odibi_run_writes_what_stock_odibi_run_writes(
    stock: dict[str, Any], managed: tuple[dict[str, Any], str]
) -> None:
    written, log = managed

    assert written == stock  # the same files, the same rows
    # The plugin's connections came from odibi-ext, and Odibi's built-in `local` too.
    assert "connection type 'localfs': driver odibi-localfs" in log
    assert "loaded by odibi-ext" in log


def test_odibi_faulty_beside_it_costs_the_spark_run_nothing(
    managed: tuple[dict[str, Any], str],
) -> None:
    _, log = managed

    # Pinned, `local` is Odibi's own; odibi-faulty's clash is never imported,
    # nor its sys.exit(3), which ends stock Odibi before any project runs.
    assert "connection type 'local': driver odibi 3.15.1 (built-in" in log
    assert "SystemExit" not in log


# == a notebook: the SparkSession is there first =============================================


def sqlite_project(root: Path) -> Path:
    """A project on Spark reading a table of a real SQLite database through odibi-sqlite."""
    database = root / "wh.db"
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, shop TEXT)")
        db.execute("INSERT INTO orders VALUES (1, 'north')")
        db.commit()
    meta = {"type": "local", "base_path": str(root / "sqlite-odibi")}
    project = {
        "project": "sqlite-on-spark",
        "engine": "spark",
        "retry": {"enabled": False},
        "performance": {"skip_catalog_writes": True, "skip_run_logging": True},
        "connections": {"wh": {"type": "sqlite", "path": str(database)}, "meta": meta},
        "story": {"connection": "meta", "path": "stories"},
        "system": {"connection": "meta", "path": "_system", "async_derived_updates": False},
        "pipelines": [
            {
                "pipeline": "p",
                "nodes": [
                    {
                        "name": "read_orders",
                        "read": {"connection": "wh", "format": "sql", "table": "orders"},
                        "write": {"connection": "meta", "format": "parquet", "path": "copy"},
                    }
                ],
            }
        ],
    }
    path = root / "sqlite_on_spark.yaml"
    path.write_text(json.dumps(project, indent=2))  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The notebook's report, with the marker files its plugin left and the project's outputs."""
    root = tmp_path_factory.mktemp("notebook")
    markers = root / "markers"
    markers.mkdir()
    site = TemporarySite(root / "site", root / "site-markers")
    (root / "site").mkdir()
    (root / "site-markers").mkdir()
    site.distribution(
        "odibi-markedfs",
        entry_points={"markedfs": "markedfs:create"},
        modules={"markedfs": MARKED_DRIVER.format(markers=str(markers))},
    )
    # The example, its files served by the marking plugin instead of odibi-localfs.
    home = copy_of_the_example(root / "spark_orders")
    project = home / "project.yaml"
    project.write_text(project.read_text().replace("type: localfs", "type: markedfs"))
    assert "type: markedfs" in project.read_text()
    script = NOTEBOOK.format(project=str(project), sqlite_project=str(sqlite_project(root)))

    env = spark_environment(root, pythonpath=[root / "site"])
    result = run_process(
        [sys.executable, "-c", textwrap.dedent(script)], env, timeout=SPARK_TIMEOUT, cwd=root
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["importers"] = sorted(int(m.name.split("-")[-1]) for m in markers.iterdir())
    report["outputs"] = outputs(home)
    return report


def test_in_a_notebook_odibi_reuses_the_session_and_odibi_ext_serves_the_connections(
    notebook: dict[str, Any],
) -> None:
    assert notebook["failed"] == []
    assert notebook["completed"] == ["load_orders", "orders_by_shop", "large_orders"]
    assert notebook["same_session"] is True
    assert notebook["active_session"] is True
    assert notebook["connections"]["lake"] == "markedfs.MarkedConnection"
    assert notebook["connections"]["meta"] == "odibi.connections.local.LocalConnection"
    assert notebook["drivers"]["markedfs"] == ["entry_point", "loaded", "odibi-markedfs"]
    assert notebook["drivers"]["local"] == ["builtin", "loaded", "odibi"]
    orders = csv_orders()
    assert [r["order_id"] for r in notebook["outputs"]["orders"]["rows"]] == [
        r["order_id"] for r in orders
    ]


def test_in_a_notebook_uninstall_gives_odibi_back_its_own_functions(
    notebook: dict[str, Any],
) -> None:
    assert notebook["installed_after_uninstall"] is False
    assert notebook["restored"] == dict.fromkeys(notebook["restored"], True)
    assert "pipeline.get_connection_factory" in notebook["restored"]


def test_plugins_load_on_the_driver_only(notebook: dict[str, Any]) -> None:
    worker_pids = {pid for pid, _, _ in notebook["workers"]}

    # Spark ran Python workers in the session the project used, which could
    # have imported the plugin (it is on their path)...
    assert worker_pids
    assert notebook["driver_pid"] not in worker_pids
    assert all(importable for _, _, importable in notebook["workers"])
    # ...and it was imported once, by the driver: no worker imported it, nor
    # odibi-localfs or odibi-ext.
    assert notebook["importers"] == [notebook["driver_pid"]]
    assert [loaded for _, loaded, _ in notebook["workers"]] == [[]] * len(notebook["workers"])


def test_odibi_sqlite_on_spark_fails_with_the_engine_s_own_message(
    notebook: dict[str, Any],
) -> None:
    # No get_spark_options (a SQLite JDBC jar cannot be had here): see its README.
    assert notebook["sqlite_failed"] == ["read_orders"]
    assert (
        "Connection type 'SQLiteConnection' does not support Spark SQL read"
        in (notebook["sqlite_error"])
    )
