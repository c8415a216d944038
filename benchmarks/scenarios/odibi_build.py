"""Inside Odibi: ``PipelineManager.from_yaml`` building a project's connections, per K.

A fresh process imports ``odibi.pipeline``, (for the integration) runs
``odibi_ext.odibi.install()``, then loads ``project-kK.yaml`` (Odibi's
``local`` and, for K > 0, one plugin driver) with K plugins installed. Timed
inside, in CPU time: Odibi's ``_build_connections`` as ``from_yaml`` calls it
(built-ins registered, plugins loaded, connections created). Each child
reports what it imported and built, and is checked: stock Odibi imports every
plugin and no odibi-ext; the integration exactly the one the project uses.
``install()`` and ``from_yaml`` whole are kept beside (context).
"""

from __future__ import annotations

from typing import Any

from benchmarks.environments import Env
from benchmarks.environments import child_env
from benchmarks.environments import odibi_target
from benchmarks.environments import run
from benchmarks.runs import Approach
from benchmarks.runs import measure
from benchmarks.settings import Settings

SCENARIO = "odibi-build"
STOCK = "stock Odibi"
IN_CHARGE = "Odibi under odibi_ext.odibi.install()"
#: The integration with odibi-ext's loggers at WARNING (K=0 only): what the
#: INFO line naming each connection type's driver costs.
QUIET = "the same, odibi-ext's INFO lines off"
SLUGS = {STOCK: "stock", IN_CHARGE: "odibi-ext", QUIET: "odibi-ext-quiet"}

BUILD_SCRIPT = """\
import json
import os
import sys
import time

project, approach = sys.argv[1], sys.argv[2]
report = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Odibi logs to stdout through Rich

started = time.perf_counter()
from odibi.pipeline import PipelineManager

out = {"approach": approach, "project": project}
out["import_odibi_ms"] = (time.perf_counter() - started) * 1000.0
if approach.startswith("odibi-ext"):
    started = time.perf_counter()
    import odibi_ext.odibi

    odibi_ext.odibi.install()
    out["install_ms"] = (time.perf_counter() - started) * 1000.0
    if approach == "odibi-ext-quiet":
        import logging

        logging.getLogger("odibi_ext").setLevel(logging.WARNING)
build = PipelineManager._build_connections


def timed(configs):  # from_yaml calls cls._build_connections(project_config.connections)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        return build(configs)
    finally:
        out["wall_seconds"] = time.perf_counter() - started
        out["seconds"] = time.process_time() - cpu


PipelineManager._build_connections = staticmethod(timed)
started = time.perf_counter()
manager = PipelineManager.from_yaml(project)
out["from_yaml_ms"] = (time.perf_counter() - started) * 1000.0
out["plugins"] = sorted(m for m in sys.modules if m.startswith("odibi_bench_"))
out["connections"] = {n: type(c).__name__ for n, c in manager.connections.items()}
out["odibi_ext_imported"] = any(m.partition(".")[0] == "odibi_ext" for m in sys.modules)
ours = sys.modules.get("odibi_ext.odibi")
out["in_charge"] = bool(ours and ours.is_installed())
report.write(json.dumps(out) + "\\n")
report.close()
"""


def approaches(settings: Settings, env: Env, k: int) -> list[Approach]:
    """Stock and under the integration (and, at K=0, the integration with INFO lines off)."""
    script = settings.out / "scripts" / "odibi_build.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(BUILD_SCRIPT, encoding="utf-8")
    connections = {"data": "LocalConnection"}
    if k:
        connections["db"] = "BenchConnection"
    found = []
    for name in (STOCK, IN_CHARGE, QUIET) if k == 0 else (STOCK, IN_CHARGE):
        stock = name == STOCK
        expect: dict[str, Any] = {
            "plugins": [f"odibi_bench_{i:02d}" for i in range(k)]
            if stock
            else [odibi_target(k)[1]][:k],
            "connections": connections,
        }
        expect["odibi_ext_imported" if stock else "in_charge"] = not stock
        argv = (str(env.python), str(script), f"project-k{k}.yaml", SLUGS[name])
        found.append(
            Approach(
                name,
                SLUGS[name],
                argv,
                kind="inside",
                cwd=settings.odibi_project,
                expect=expect,
                samples=True,
            )
        )
    return found


def run_scenario(settings: Settings, env: Env, k: int) -> dict[str, Any]:
    """One unrecorded build of each approach (it writes odibi-ext's index), then the rounds."""
    chosen = approaches(settings, env, k)
    for approach in [] if settings.quick else chosen:  # a quick run's children check themselves
        run(
            approach.argv,
            what=f"building the K={k} project's connections ({approach.name})",
            env=child_env(settings),
            cwd=settings.odibi_project,
        )
    measure(settings, SCENARIO, f"K={k}", chosen, settings.odibi_shape)
    return {"approaches": [a.name for a in chosen]}
