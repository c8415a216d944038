"""Odibi's built-ins read from source equal what ``register_builtins()`` registers.

Read from ``odibi/connections/factory.py`` without importing it (odibi_ext/builtins.py)
on one side; Odibi's own ``register_builtins()`` run in a fresh interpreter
on the other: the same type names, the same factories, in this release.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from plugin_kit import run_process
from release_kit import VERSION
from release_kit import child_env
from release_kit import expected_builtins

from odibi_ext import NAMESPACE
from odibi_ext import ConnectionRegistry
from odibi_ext import Policy
from odibi_ext import discovery

#: Odibi registering its built-ins into its own table, nothing else loaded.
REGISTER_BUILTINS = """
import json
import odibi.plugins
from odibi.connections.factory import register_builtins
register_builtins()
table = odibi.plugins._CONNECTION_FACTORIES
print(json.dumps({name: f"{f.__module__}:{f.__qualname__}" for name, f in table.items()}))
"""


def test_builtins_read_from_source_are_what_register_builtins_registers(tmp_path: Path) -> None:
    result = run_process(
        [sys.executable, "-c", REGISTER_BUILTINS],
        child_env(tmp_path / "cache"),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    at_run_time = json.loads(result.stdout.strip().splitlines()[-1])

    found = [c for c in discovery.scan(NAMESPACE)[0] if c.origin == "builtin"]
    from_source = {c.name: c.target for c in found}

    assert from_source == at_run_time
    assert set(from_source) == expected_builtins()
    assert {(c.distribution, c.version) for c in found} == {("odibi", VERSION)}


def test_every_builtin_is_a_driver_of_the_registry_with_odibi_s_provenance() -> None:
    registry = ConnectionRegistry(policy=Policy(pins={"local": "odibi"}))

    for name in expected_builtins():
        info = registry.info(name)
        builtin = [c for c in info.candidates if c.origin == "builtin"]
        assert [(c.distribution, c.version) for c in builtin] == [("odibi", VERSION)], name
        assert builtin[0].target.startswith("odibi.connections.factory:create_"), name
