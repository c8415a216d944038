"""The rule that settles it: a small Odibi pipeline (pandas engine) runs through the driver.

When Odibi is installed, a project in ``tmp_path`` gets a connection of the
driver's type with the working config, and two nodes: one writes three rows
to it (a SQL table, or a CSV file for a file connection), the next reads them
back, filtered for SQL, into a CSV of Odibi's own ``local`` connection. Odibi
loads the driver its own way (entry points), so what passes here passes a
real ``odibi run``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

import pytest

from odibi_ext.testing import sql_checks
from odibi_ext.testing.base import ContractBase
from odibi_ext.testing.data_shapes import UNICODE_TEXT
from odibi_ext.testing.subject import DriverUnderTest

if TYPE_CHECKING:
    from odibi_ext.registry import ConnectionRegistry

RULE: Final = "odibi_pipeline_round_trip"
#: The rows the pipeline writes, and those the filtered read keeps.
SOURCE: Final = [(1, "north"), (2, UNICODE_TEXT), (3, "south")]
FILTER: Final = "id >= 2"


class OdibiRules(ContractBase):
    """odibi_pipeline_round_trip."""

    def test_odibi_pipeline_round_trip(
        self,
        contract_registry: ConnectionRegistry,
        contract_driver: DriverUnderTest,
        driver_config: dict[str, Any],
        tmp_path: Path,
    ) -> None:
        """Odibi writes rows through the driver and reads them back (filtered, for SQL)."""
        if importlib.util.find_spec("odibi") is None:
            self._not_applicable(
                RULE, "Odibi is not installed (pip install odibi to run a real pipeline)"
            )
        if contract_driver.unique_problem is not None:
            self._not_applicable(RULE, "rule type_name_is_unique broke: Odibi may pick another")
        with self._created(contract_registry, driver_config, RULE) as connection:
            kind = (
                "sql"
                if sql_checks.writes_sql(connection)
                else "read-only"
                if sql_checks.reads_sql(connection)
                else "files"
            )
        if kind == "read-only" and not self.readable_table:
            self._not_applicable(RULE, "a read-only SQL source and readable_table is not set")
        pd = sql_checks.import_pandas()
        home = tmp_path / "odibi-round-trip"
        (home / "files").mkdir(parents=True)
        pd.DataFrame(SOURCE, columns=["id", "name"]).to_csv(home / "files" / "in.csv", index=False)
        try:
            results = _run(home, self.type_name, driver_config, _nodes(kind, self.readable_table))
        except SystemExit as exc:
            pytest.fail(
                f"not checked: Odibi's run ended with SystemExit({exc.code!r}); stock Odibi "
                f"imports every installed plugin, and one ends the process "
                f"(`odibi-ext check --isolate` names it)",
                pytrace=False,
            )
        errors = {
            name: str(result.error)
            for name, result in results.node_results.items()
            if result.error is not None
        }
        if results.failed or errors:
            self._broken(
                RULE,
                f"Odibi's pipeline failed in node(s) {', '.join(results.failed or errors)}: "
                f"{'; '.join(f'{n}: {e}' for n, e in errors.items())}",
                "make the driver serve the calls Odibi makes (the sql_* and get_path rules "
                "say which one is wrong)",
            )
        back = pd.read_csv(home / "files" / "out.csv")
        if kind == "read-only":
            if back.empty:
                self._broken(
                    RULE, f"Odibi read no row of {self.readable_table!r}", "return the rows"
                )
            return
        wanted = [row for row in SOURCE if kind == "files" or row[0] >= 2]
        got = sorted((int(i), str(n)) for i, n in back[["id", "name"]].itertuples(index=False))
        if got != wanted:
            what = f"with the filter {FILTER!r} " if kind == "sql" else ""
            self._broken(
                RULE,
                f"Odibi wrote {SOURCE} through the driver and read back {what}{got}, "
                f"expected {wanted}",
                "apply the filter in read_sql_query(build_select_query(..., where=)) and "
                "store the rows as given",
            )


def _nodes(kind: str, readable_table: str | None) -> list[dict[str, Any]]:
    target: dict[str, Any]
    if kind == "files":
        target = {"connection": "contract", "format": "csv", "path": "odibi_ext_contract/o.csv"}
    else:
        target = {
            "connection": "contract",
            "format": "sql",
            "table": readable_table or sql_checks.TABLE_PREFIX + "odibi",
        }
    out = {"connection": "files", "format": "csv", "path": "out.csv", "mode": "overwrite"}
    if kind == "read-only":
        return [{"name": "read_back", "read": target, "write": out}]
    source = {"connection": "files", "format": "csv", "path": "in.csv"}
    read_back = dict(target, options={"filter": FILTER}) if kind == "sql" else target
    return [
        {"name": "write_through", "read": source, "write": {**target, "mode": "overwrite"}},
        {"name": "read_back", "depends_on": ["write_through"], "read": read_back, "write": out},
    ]


def _run(home: Path, type_name: str, config: dict[str, Any], nodes: list[dict[str, Any]]) -> Any:
    """Run the project in this process; the root logger Odibi reconfigures is put back."""
    project = {
        "project": "odibi-ext-contract",
        "engine": "pandas",
        "retry": {"enabled": False},
        "connections": {
            "contract": {**config, "type": type_name},
            "files": {"type": "local", "base_path": str(home / "files")},
            "meta": {"type": "local", "base_path": str(home / "odibi")},
        },
        "story": {"connection": "meta", "path": "stories"},
        # Synchronous: no thread left writing Odibi's own tables when the test ends.
        "system": {"connection": "meta", "path": "_system", "async_derived_updates": False},
        "pipelines": [{"pipeline": "contract", "nodes": nodes}],
    }
    path = home / "project.yaml"
    path.write_text(json.dumps(project, indent=2, default=str), encoding="utf-8")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        from odibi.pipeline import PipelineManager  # type: ignore[import-untyped]

        return PipelineManager.from_yaml(str(path)).run()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
