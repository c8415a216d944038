"""A fresh process loads one driver and creates a connection, per approach.

The approaches: odibi-ext's ``ConnectionRegistry().create``; stevedore's
``DriverManager(...).driver``, with its on-disk cache and without; the floor
(``DriverManager`` handed the entry point: the least a wrapper keeping
``DriverManager`` can cost); ``importlib.metadata`` + ``load()``; eager loading
of every entry point (Odibi's ``load_plugins``); ``python -c pass``. Whole
processes, timed by ``pyperf command`` (wall).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from benchmarks.environments import Env
from benchmarks.environments import child_env
from benchmarks.environments import run
from benchmarks.runs import Approach
from benchmarks.settings import NAMESPACE
from benchmarks.settings import Settings

SCENARIO = "cold"
FLOOR = "python -c pass"
ODIBI_EXT = "odibi-ext"
STEVEDORE = "stevedore"
#: stevedore as it runs when its on-disk cache is off: an interpreter under
#: /tmp (CI, tox, ansible) or a ``.disable`` file in its cache directory.
STEVEDORE_NO_CACHE = "stevedore, its cache off"
DRIVER_FLOOR = "DriverManager handed the entry point (floor)"
IMPORTLIB = "importlib.metadata"
EAGER = "eager (Odibi load_plugins)"
SLUGS = {
    FLOOR: "python-c-pass",
    ODIBI_EXT: "odibi-ext",
    STEVEDORE: "stevedore",
    STEVEDORE_NO_CACHE: "stevedore-cache-off",
    DRIVER_FLOOR: "driver-floor",
    IMPORTLIB: "importlib-metadata",
    EAGER: "eager",
}

#: Loading one driver, per approach: each leaves the connection in ``connection``.
SNIPPETS = {
    ODIBI_EXT: """\
from odibi_ext import ConnectionRegistry
connection = ConnectionRegistry().create({target!r}, "w", {{}})
""",
    STEVEDORE: """\
from stevedore.driver import DriverManager
connection = DriverManager({namespace!r}, {target!r}).driver("w", {{}})
""",
    DRIVER_FLOOR: """\
from importlib.metadata import EntryPoint
from stevedore.driver import DriverManager
class Given(DriverManager):
    def list_entry_points(self):
        return [EntryPoint({target!r}, {target_value!r}, {namespace!r})]
connection = Given({namespace!r}, {target!r}).driver("w", {{}})
""",
    IMPORTLIB: """\
from importlib.metadata import entry_points
[ep] = entry_points(group={namespace!r}, name={target!r})
connection = ep.load()("w", {{}})
""",
    EAGER: """\
import logging
from importlib.metadata import entry_points
factories = {{}}
for ep in entry_points(group={namespace!r}):
    try:
        factories[ep.name] = ep.load()
    except Exception as exc:
        logging.getLogger("odibi.plugins").warning("failed to load %s: %s", ep.name, exc)
connection = factories[{target!r}]("w", {{}})
""",
}

#: Appended to a snippet for its warm-up run: what was imported and called.
VERIFY_SUFFIX = """\
import json as _json, sys as _sys
_module = _sys.modules[{module!r}]
assert _module.CREATED == 1, _module.CREATED
assert connection.get_path("x") == "bench://w/x"
_loaded = sorted(m for m in _sys.modules if m.startswith("odibi_bench_"))
print(_json.dumps(_loaded))
"""


def snippet(settings: Settings, name: str) -> str:
    return SNIPPETS[name].format(
        namespace=NAMESPACE,
        target=settings.target,
        target_value=f"{settings.target_module}:create",
    )


def approaches(settings: Settings, env: Env, names: Any = None) -> list[Approach]:
    """The approaches (all, or those ``names``) loading driver ``settings.target``."""
    found = [Approach(FLOOR, SLUGS[FLOOR], (str(env.python), "-c", "pass"))]
    for name in SNIPPETS:
        argv = (str(env.python), "-c", snippet(settings, name))
        found.append(Approach(name, SLUGS[name], argv))
        if name == STEVEDORE:
            # stevedore's documented switch: a .disable file where it would cache.
            off = settings.home / "stevedore-cache-off"
            (off / "python-entrypoints").mkdir(parents=True, exist_ok=True)
            (off / "python-entrypoints" / ".disable").touch()
            env_off = {"XDG_CACHE_HOME": str(off)}
            found.append(
                Approach(STEVEDORE_NO_CACHE, SLUGS[STEVEDORE_NO_CACHE], argv, env=env_off)
            )
    return [a for a in found if names is None or a.name in names]


def warm_up(settings: Settings, env: Env, chosen: list[Approach]) -> dict[str, Any]:
    """Run each approach once (populating every cache); check it imported what it claims."""
    checks: dict[str, Any] = {}
    for approach in chosen:
        argv = list(approach.argv)
        if approach.name != FLOOR:
            argv[-1] += VERIFY_SUFFIX.format(module=settings.target_module)
        result = run(
            argv,
            what=f"warm-up of {approach.name} ({env.name})",
            env={**child_env(settings), **approach.env},
            cwd=settings.cwd,
        )
        if approach.name == FLOOR:
            continue
        loaded = json.loads(result.stdout)
        expected = settings.k + 1 if approach.name == EAGER else 1  # + the instant driver
        if len(loaded) != expected or settings.target_module not in loaded:
            sys.exit(f"bench: {approach.name} imported {loaded}, expected {expected} plugin(s)")
        checks[approach.name] = {"plugin_modules_imported": len(loaded)}
    return checks


def prepare(settings: Settings, env: Env, names: Any = None) -> tuple[list[Approach], Any]:
    """The approaches, warmed up and checked, and what the checks found."""
    chosen = approaches(settings, env, names)
    return chosen, warm_up(settings, env, chosen)
