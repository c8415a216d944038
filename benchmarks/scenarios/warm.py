"""A warm lookup in one process: a cached ``registry.get`` against ``dict.get``.

``python -m pyperf timeit`` in the environment's interpreter (pyperf is
installed into it for this scenario alone, after the fresh-process scenarios
ran there), pyperf calibrating the loops. Also ``get = registry.get`` bound
once and ``registry.create`` (informative). The type name is interned, as a
literal in application code is.
"""

from __future__ import annotations

from typing import Any

from benchmarks.environments import Env
from benchmarks.environments import pip_install
from benchmarks.runs import Approach
from benchmarks.runs import measure
from benchmarks.settings import Settings
from benchmarks.settings import Shape

SCENARIO = "warm"
REGISTRY_GET = "registry.get"
DICT_GET = "dict.get"
BOUND_GET = "get = registry.get; get"
CREATE = "registry.create"
STATEMENTS = {
    REGISTRY_GET: ("registry-get", "registry.get(target)"),
    DICT_GET: ("dict-get", "d.get(target)"),
    BOUND_GET: ("bound-get", "get(target)"),
    CREATE: ("registry-create", 'registry.create(target, "w", {})'),
}
SETUP = """\
import sys
from odibi_ext import ConnectionRegistry
target = sys.intern({target!r})
registry = ConnectionRegistry()
factory = registry.get(target)
assert registry.get(target) is factory
get = registry.get
d = {{target: factory}}
"""
BENCHMARK = "warm lookup"


def approaches(settings: Settings, env: Env) -> list[Approach]:
    setup = SETUP.format(target=settings.target)
    return [
        Approach(name, slug, (setup, statement), kind="timeit", python=env.python)
        for name, (slug, statement) in STATEMENTS.items()
    ]


def run_scenario(settings: Settings, env: Env) -> dict[str, Any]:
    pip_install(env, "pyperf")
    shape = settings.shape
    if not settings.quick:  # pyperf's defaults want several processes for an in-process figure
        shape = Shape(shape.rounds, max(2, shape.processes), 3, 1)
    measure(settings, SCENARIO, BENCHMARK, approaches(settings, env), shape)
    return {"environment": env.name}
