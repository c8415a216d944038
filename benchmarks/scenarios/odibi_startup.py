"""What ``odibi-ext odibi run`` adds to ``odibi run`` start-up, no plugin installed.

Two measures, both stock against the integration:

- the work around Odibi's command line, timed inside (CPU): a fresh process
  imports Odibi's CLI and what it builds its parser from, untimed, then runs
  ``odibi --version`` through Odibi's ``main`` or through
  ``odibi_ext.cli.main(["odibi", "--version"])`` (the command's import, its
  parser, the policy, ``install()``, Odibi's ``main``, ``uninstall()``);
- whole fresh ``odibi run project-k0.yaml --pipeline startup-only`` against
  ``odibi-ext odibi run ...`` (``pyperf command``, wall). The project has no
  such pipeline: both stop with Odibi's "not found" (exit 1) right after
  start-up (imports, configuration, connections, system catalog); a shell
  turns that exit into success for pyperf, on both sides alike.

The start-up figure adds the connection building difference at K=0
(:mod:`benchmarks.scenarios.odibi_build`) to the first.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from benchmarks.environments import Env
from benchmarks.environments import child_env
from benchmarks.environments import run
from benchmarks.runs import Approach
from benchmarks.runs import measure
from benchmarks.scenarios.listing import imported_modules
from benchmarks.scenarios.odibi_build import IN_CHARGE
from benchmarks.scenarios.odibi_build import SLUGS
from benchmarks.scenarios.odibi_build import STOCK
from benchmarks.settings import Settings

WORK_SCENARIO = "odibi-startup-work"
RUN_SCENARIO = "odibi-run"
BENCHMARK = "K=0"
#: A pipeline the project does not have: ``odibi run --pipeline`` stops with
#: "not found" right after start-up, before any pipeline work.
STARTUP_PIPELINE = "startup-only"
EXIT_ONE = '"$0" "$@"; test $? -eq 1'

STARTUP_SCRIPT = """\
import json
import os
import sys
import time

approach = sys.argv[1]
report = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the version Odibi prints

import odibi.cli.list_cmd
import odibi.pipeline
from odibi.cli.main import main as odibi_main

started, cpu = time.perf_counter(), time.process_time()
if approach == "stock":
    sys.argv = ["odibi", "--version"]
    try:
        status = odibi_main()
    except SystemExit as exc:
        status = exc.code
else:
    from odibi_ext.cli import main

    status = main(["odibi", "--version"])
out = {
    "seconds": time.process_time() - cpu,
    "wall_seconds": time.perf_counter() - started,
    "status": status or 0,
    "odibi_ext": any(m.partition(".")[0] == "odibi_ext" for m in sys.modules),
}
report.write(json.dumps(out) + "\\n")
report.close()
"""


def work_approaches(settings: Settings, env: Env) -> list[Approach]:
    script = settings.out / "scripts" / "odibi_startup.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(STARTUP_SCRIPT, encoding="utf-8")
    return [
        Approach(
            name,
            SLUGS[name],
            (str(env.python), str(script), SLUGS[name]),
            kind="inside",
            cwd=settings.odibi_project,
            expect={"status": 0, "odibi_ext": name == IN_CHARGE},
        )
        for name in (STOCK, IN_CHARGE)
    ]


def run_commands(settings: Settings, env: Env) -> dict[str, list[str]]:
    tail = ["run", "project-k0.yaml", "--pipeline", STARTUP_PIPELINE]
    return {
        STOCK: [str(env.root / "bin" / "odibi"), *tail],
        IN_CHARGE: [str(env.console_script), "odibi", *tail],
    }


def run_approaches(settings: Settings, env: Env) -> list[Approach]:
    return [
        Approach(name, SLUGS[name], ("/bin/sh", "-c", EXIT_ONE, *argv), cwd=settings.odibi_project)
        for name, argv in run_commands(settings, env).items()
    ]


def check_startup(settings: Settings, env: Env) -> dict[str, Any]:
    """Both commands stop after start-up; only the integration imports ``odibi_ext.odibi``.

    One run of each under ``python -X importtime``: its exit status and
    output, and every module it imported.
    """
    checks = {}
    for name, argv in run_commands(settings, env).items():
        result = subprocess.run(
            [str(env.python), "-X", "importtime", *argv],
            capture_output=True,
            text=True,
            env=child_env(settings),
            cwd=settings.odibi_project,
            check=False,
        )
        said = result.stdout + result.stderr
        if result.returncode != 1 or f"'{STARTUP_PIPELINE}' not found" not in said:
            sys.exit(f"bench: {name} did not stop after start-up:\n{said[-3000:]}")
        modules = imported_modules(result.stderr)
        in_charge = "odibi_ext.odibi" in modules
        if in_charge != (name == IN_CHARGE) or "odibi.connections.factory" not in modules:
            sys.exit(f"bench: {name}: odibi_ext.odibi imported: {in_charge}")
        checks[name] = {"modules_imported": len(modules), "odibi_ext": in_charge}
    return checks


def run_scenario(settings: Settings, env: Env) -> dict[str, Any]:
    work = work_approaches(settings, env)
    for approach in [] if settings.quick else work:  # a quick run's children check themselves
        run(approach.argv, what=approach.name, env=child_env(settings), cwd=approach.cwd)
    measure(settings, WORK_SCENARIO, BENCHMARK, work, settings.odibi_shape)
    checks = check_startup(settings, env)
    measure(settings, RUN_SCENARIO, BENCHMARK, run_approaches(settings, env), settings.odibi_shape)
    return checks
