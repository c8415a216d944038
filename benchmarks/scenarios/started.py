"""The first connection in a started process, timed inside it (CPU time).

The process has imported the standard library and stevedore (and
``odibi_ext`` for its row) before the clock starts; driver ``instant``
imports in no time, so what is timed is each library's own work: discovery,
load, checks, creating the connection. Also odibi-ext's discovery alone
(``ConnectionRegistry().names()`` with a warm index): the part that could
grow with N.
"""

from __future__ import annotations

from typing import Any

from benchmarks.environments import INSTANT
from benchmarks.environments import INSTANT_MODULE
from benchmarks.environments import Env
from benchmarks.environments import child_env
from benchmarks.environments import run
from benchmarks.runs import Approach
from benchmarks.scenarios.cold import DRIVER_FLOOR
from benchmarks.scenarios.cold import ODIBI_EXT
from benchmarks.scenarios.cold import STEVEDORE
from benchmarks.settings import NAMESPACE
from benchmarks.settings import Settings

__all__ = ["DISCOVERY", "DRIVER_FLOOR", "ODIBI_EXT", "SCENARIO", "SLUGS", "STEVEDORE"]

SCENARIO = "started"
DISCOVERY = "odibi-ext discovery alone (warm index)"
SLUGS = {
    ODIBI_EXT: "odibi-ext",
    STEVEDORE: "stevedore",
    DRIVER_FLOOR: "driver-floor",
    DISCOVERY: "odibi-ext-discovery",
}

PRELUDE = """\
import importlib.metadata, json, sys, time
import stevedore, stevedore.driver
"""

#: Per approach: what the application has imported before (untimed), and the timed work.
WORK = {
    ODIBI_EXT: (
        "from odibi_ext import ConnectionRegistry\n",
        'connection = ConnectionRegistry().create({target!r}, "w", {{}})\n',
    ),
    STEVEDORE: (
        "from stevedore.driver import DriverManager\n",
        'connection = DriverManager({namespace!r}, {target!r}).driver("w", {{}})\n',
    ),
    DRIVER_FLOOR: (
        """\
from importlib.metadata import EntryPoint
from stevedore.driver import DriverManager
class Given(DriverManager):
    def list_entry_points(self):
        return [EntryPoint({target!r}, {target_value!r}, {namespace!r})]
""",
        'connection = Given({namespace!r}, {target!r}).driver("w", {{}})\n',
    ),
    DISCOVERY: (
        "from odibi_ext import ConnectionRegistry\n",
        "names = ConnectionRegistry().names()\n",
    ),
}

TIMED = """\
_started, _cpu = time.perf_counter(), time.process_time()
{work}_elapsed, _cpu = time.perf_counter() - _started, time.process_time() - _cpu
{check}
print(json.dumps({{
    "seconds": _cpu,
    "wall_seconds": _elapsed,
    "plugins": sorted(m for m in sys.modules if m.startswith("odibi_bench_")),
}}))
"""

CHECK_CREATED = """\
assert sys.modules[{module!r}].CREATED == 1 and connection.get_path("x") == "bench://w/x"
"""
CHECK_LISTED = "assert {target!r} in names, names\n"


def approaches(env: Env, names: Any = None) -> list[Approach]:
    """Each approach's child: prelude, setup, then the timed first connection."""
    fields = {
        "namespace": NAMESPACE,
        "target": INSTANT,
        "target_value": f"{INSTANT_MODULE}:create",
    }
    found = []
    for name, (setup, work) in WORK.items():
        if names is not None and name not in names:
            continue
        check = CHECK_LISTED if name == DISCOVERY else CHECK_CREATED
        code = PRELUDE + setup.format(**fields)
        code += TIMED.format(
            work=work.format(**fields),
            check=check.format(module=INSTANT_MODULE, target=INSTANT),
        )
        plugins = [] if name == DISCOVERY else [INSTANT_MODULE]
        found.append(
            Approach(
                name,
                SLUGS[name],
                (str(env.python), "-c", code),
                kind="inside",
                expect={"plugins": plugins},
            )
        )
    return found


def prepare(settings: Settings, env: Env, names: Any = None) -> tuple[list[Approach], Any]:
    """The approaches, each run once unrecorded (every child checks itself)."""
    chosen = approaches(env, names)
    for approach in chosen:
        run(
            approach.argv,
            what=f"warm-up of {approach.name} ({env.name})",
            env=child_env(settings),
            cwd=settings.cwd,
        )
    return chosen, {"approaches": [a.name for a in chosen]}
