"""The headline ratios per Python interpreter: one environment per interpreter.

For each interpreter given (``--python``, default every 3.9-3.13 found under
pyenv), an environment of N fillers (``--pythons-n``) is built with that
interpreter, and two comparisons run in it: a fresh process creating one
connection, odibi-ext against the ``DriverManager`` floor and stevedore
(:mod:`benchmarks.scenarios.cold`), and the first connection in a started
process, odibi-ext against stevedore's ``DriverManager``
(:mod:`benchmarks.scenarios.started`). pyperf itself runs under the running
interpreter; only the measured children run the interpreter of the row. An
interpreter odibi-ext does not install on gets a row saying why. The running
interpreter's row reads the main comparisons at that N when they ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.environments import Env
from benchmarks.environments import build_env
from benchmarks.environments import progress
from benchmarks.runs import measure
from benchmarks.scenarios import cold
from benchmarks.scenarios import started
from benchmarks.settings import Settings

COLD_SCENARIO = "pythons-cold"
STARTED_SCENARIO = "pythons-started"
COLD_NAMES = (cold.ODIBI_EXT, cold.DRIVER_FLOOR, cold.STEVEDORE)
STARTED_NAMES = (started.ODIBI_EXT, started.STEVEDORE)


def default_pythons() -> list[Path]:
    """Every pyenv CPython 3.9-3.13 on this machine."""
    found = []
    for minor in range(9, 14):
        candidates = sorted(Path("/root/.pyenv/versions").glob(f"3.{minor}.*/bin/python3.{minor}"))
        if candidates:
            found.append(candidates[-1])
    return found


def benchmark_name(env: Env) -> str:
    return f"Python {env.python_version}"


def run_scenario(
    settings: Settings, wheel: Path, reusable: dict[str, Env]
) -> list[dict[str, Any]]:
    """One row per interpreter: where its results are, or why it has none.

    ``reusable``: environments already measured by the main scenarios, by interpreter.
    """
    rows: list[dict[str, Any]] = []
    for interpreter in settings.pythons:
        label = interpreter.name
        measured = reusable.get(str(interpreter))
        if measured is not None:  # the main comparisons already ran in this environment
            rows.append(
                {
                    "python": label,
                    "version": measured.python_version,
                    "benchmark": f"N={measured.n}",
                    "cold_scenario": cold.SCENARIO,
                    "started_scenario": started.SCENARIO,
                }
            )
            continue
        progress(f"{label}: environment of N={settings.pythons_n} and headline ratios")
        try:
            env = build_env(
                settings,
                settings.pythons_n,
                wheel,
                interpreter,
                name=f"{label}-n{settings.pythons_n}",
            )
        except SystemExit as exc:  # run() explains a failed install: keep the others going
            said = str(exc.code).splitlines()
            errors = [line for line in said if line.startswith("ERROR")]
            reason = errors[-1] if errors else said[0]
            rows.append({"python": label, "error": reason})
            progress(f"{label}: skipped: {reason}")
            continue
        name = benchmark_name(env)
        for scenario, module, names in (
            (COLD_SCENARIO, cold, COLD_NAMES),
            (STARTED_SCENARIO, started, STARTED_NAMES),
        ):
            chosen, _checks = module.prepare(settings, env, names)
            measure(settings, scenario, name, chosen, settings.shape)
        rows.append(
            {
                "python": label,
                "version": env.python_version,
                "benchmark": name,
                "cold_scenario": COLD_SCENARIO,
                "started_scenario": STARTED_SCENARIO,
            }
        )
    return rows
