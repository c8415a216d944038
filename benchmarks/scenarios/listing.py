"""Listing every driver with its provenance, as JSON, in a fresh process.

``odibi-ext list --format json`` (the console script) against the listing an
operator would write by hand with ``importlib.metadata``. Both must print the
same plugins; with Odibi installed, ``odibi-ext list`` also shows Odibi's
built-ins and must import neither pandas, nor Odibi, nor a plugin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.environments import Env
from benchmarks.environments import child_env
from benchmarks.environments import run
from benchmarks.runs import Approach
from benchmarks.runs import measure
from benchmarks.settings import NAMESPACE
from benchmarks.settings import Settings

SCENARIO = "listing"
LIST_CLI = "odibi-ext list --format json"
LIST_HAND = "hand-written importlib.metadata listing"
SLUGS = {LIST_CLI: "odibi-ext-list", LIST_HAND: "hand-written"}
ODIBI_BUILTINS = 10  # what register_builtins() registers in Odibi 3.15.1

HAND_LISTING = """\
import json
from importlib.metadata import entry_points
rows = [
    {{"name": ep.name, "target": ep.value, "distribution": ep.dist.name,
      "version": ep.dist.version}}
    for ep in entry_points(group={namespace!r})
]
print(json.dumps(rows, indent=2))
"""


def approaches(env: Env) -> list[Approach]:
    code = HAND_LISTING.format(namespace=NAMESPACE)
    return [
        Approach(LIST_CLI, SLUGS[LIST_CLI], (str(env.console_script), "list", "--format", "json")),
        Approach(LIST_HAND, SLUGS[LIST_HAND], (str(env.python), "-c", code)),
    ]


def imported_by(settings: Settings, env: Env, argv: Sequence[str], cwd: Path) -> set[str]:
    """Every module a command imports (``python -X importtime``), run once."""
    result = subprocess.run(
        [str(env.python), "-X", "importtime", *argv],
        capture_output=True,
        text=True,
        env=child_env(settings),
        cwd=cwd,
        check=False,
    )
    return imported_modules(result.stderr)


def imported_modules(importtime: str) -> set[str]:
    """The modules named in ``python -X importtime`` output."""
    modules = set()
    for line in importtime.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            modules.add(parts[2].strip())
    return modules


def warm_up(settings: Settings, env: Env, plugins: int, odibi: bool) -> dict[str, Any]:
    """Both listings once: the same plugins; with Odibi, its built-ins and no heavy import."""
    rows = {}
    for approach in approaches(env):
        result = run(approach.argv, what=approach.name, env=child_env(settings), cwd=settings.cwd)
        rows[approach.name] = json.loads(result.stdout)
    builtins = [r for r in rows[LIST_CLI] if r.get("origin") == "builtin"]
    ours = sorted(
        (r["name"], r["target"], r["distribution"], r["version"])
        for r in rows[LIST_CLI]
        if r.get("origin") != "builtin"
    )
    hand = sorted(
        (r["name"], r["target"], r["distribution"], r["version"]) for r in rows[LIST_HAND]
    )
    if ours != hand or len(hand) != plugins or len(builtins) != (ODIBI_BUILTINS if odibi else 0):
        sys.exit(
            f"bench: the listings in {env.name} differ: {len(builtins)} built-ins, "
            f"plugins {ours} vs hand-written {hand}"
        )
    checks: dict[str, Any] = {"builtins": len(builtins), "plugins": len(ours)}
    if odibi:
        script = (str(env.console_script), "list", "--format", "json")
        modules = imported_by(settings, env, script, settings.cwd)
        heavy = sorted(
            m
            for m in modules
            if m.partition(".")[0] in {"pandas", "odibi"} or m.startswith("odibi_bench_")
        )
        if heavy:
            sys.exit(f"bench: odibi-ext list imported {heavy}")
        checks["pandas_imported"] = False
    return checks


def prepare(
    settings: Settings, env: Env, plugins: int, odibi: bool = False
) -> tuple[list[Approach], dict[str, Any]]:
    """The two listings, run once and compared (``plugins`` drivers expected)."""
    return approaches(env), warm_up(settings, env, plugins, odibi)


def run_scenario(
    settings: Settings, env: Env, *, plugins: int, benchmark: str, odibi: bool = False
) -> dict[str, Any]:
    chosen, checks = prepare(settings, env, plugins, odibi)
    measure(settings, SCENARIO, benchmark, chosen, settings.shape)
    return checks
