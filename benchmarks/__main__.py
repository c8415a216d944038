"""Run every benchmark: ``python -m benchmarks [--quick] [options]`` (see benchmarks/README.md).

Builds the environments (:mod:`benchmarks.environments`), runs each scenario
(:mod:`benchmarks.scenarios`) under pyperf, then computes every figure from
pyperf's JSON results (:mod:`benchmarks.figures`) and writes
``<out>/results.md``, ``<out>/summary.json`` and, with ``--chart``, the charts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import charts
from benchmarks import figures
from benchmarks.environments import BACKDATE_S
from benchmarks.environments import Env
from benchmarks.environments import build_env
from benchmarks.environments import build_odibi_env
from benchmarks.environments import build_wheel
from benchmarks.environments import install_odibi_plugins
from benchmarks.environments import progress
from benchmarks.environments import run
from benchmarks.report import report
from benchmarks.runs import measure
from benchmarks.scenarios import cold
from benchmarks.scenarios import listing
from benchmarks.scenarios import odibi_build
from benchmarks.scenarios import odibi_startup
from benchmarks.scenarios import pythons
from benchmarks.scenarios import started
from benchmarks.scenarios import warm
from benchmarks.settings import REPO
from benchmarks.settings import Settings
from benchmarks.settings import Shape

#: ``--quick``: the smallest setting of everything, one pyperf process per value.
QUICK_SHAPE = Shape(rounds=1, processes=1, values=1, warmups=0, timeit_loops=10000)


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: N=0, K=3, Odibi K=0 and 2 (Odibi borrowed from this environment), "
        "this interpreter only, one pyperf process per value; not figures",
    )
    parser.add_argument("--n", type=int, nargs="+", default=[0, 500, 2000], metavar="N")
    parser.add_argument("--k", type=int, default=20, help="plugins installed (default 20)")
    parser.add_argument("--import-ms", type=float, default=20.0, help="each plugin's import time")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--processes", type=int, default=1, help="pyperf processes per round")
    parser.add_argument("--values", type=int, default=3, help="pyperf values per process")
    parser.add_argument("--warmups", type=int, default=1, help="pyperf warm-ups per process")
    parser.add_argument(
        "--odibi-k",
        type=int,
        nargs="*",
        default=[0, 5, 20, 50],
        metavar="K",
        help="plugins installed beside real Odibi, per point (none: skip Odibi)",
    )
    parser.add_argument("--odibi-rounds", type=int, default=9, help="rounds inside Odibi")
    parser.add_argument("--odibi-version", default="3.15.1")
    parser.add_argument(
        "--python",
        type=Path,
        nargs="*",
        default=None,
        metavar="INTERPRETER",
        help="interpreters of the per-Python table (default: every pyenv 3.9-3.13; none: skip)",
    )
    parser.add_argument("--pythons-n", type=int, default=500, help="N of the per-Python table")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--chart", action="store_true", help="write odibi.png and cold.png")
    parser.add_argument("--chart-dir", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args(argv)
    if min(args.k, args.rounds, args.processes, args.values, args.odibi_rounds) < 1:
        parser.error("--k, --rounds, --processes, --values and --odibi-rounds must be positive")
    if (
        min(args.n) < 0
        or min(args.odibi_k, default=0) < 0
        or min(args.import_ms, args.warmups) < 0
    ):
        parser.error("--n, --odibi-k, --import-ms and --warmups must not be negative")
    shape = Shape(args.rounds, args.processes, args.values, args.warmups)
    odibi_shape = Shape(args.odibi_rounds, 1, 1, 0)
    chosen = pythons.default_pythons() if args.python is None else list(args.python)
    ns, k, odibi_ks, pythons_n = (
        sorted(set(args.n)),
        args.k,
        sorted(set(args.odibi_k)),
        args.pythons_n,
    )
    if args.quick:
        shape = odibi_shape = QUICK_SHAPE
        ns, k, odibi_ks, pythons_n = [0], 3, [0, 2] if args.odibi_k else [], 0
        chosen = [Path(sys.executable)] if args.python is None else chosen
    return Settings(
        ns=ns,
        k=k,
        import_ms=args.import_ms,
        out=args.out.resolve(),
        shape=shape,
        odibi_shape=odibi_shape,
        odibi_ks=odibi_ks,
        odibi_version=args.odibi_version,
        pythons=chosen,
        pythons_n=pythons_n,
        chart_dir=args.chart_dir.resolve() if args.chart else None,
        quick=args.quick,
    )


def cache_snapshot(settings: Settings) -> dict[str, int]:
    """Every cache file's modification time: a rewrite while measuring shows as a change."""
    base = settings.home / ".cache"
    return {str(p.relative_to(base)): p.stat().st_mtime_ns for p in base.rglob("*") if p.is_file()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(env: Env) -> dict[str, Any]:
    import pyperf  # type: ignore[import-untyped]

    stevedore = run(
        [env.python, "-c", "import importlib.metadata as m; print(m.version('stevedore'))"],
        what="reading stevedore's version",
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": env.python_version,
        "stevedore": stevedore,
        "pyperf": pyperf.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def measure_ns(settings: Settings, wheel: Path, meta: dict[str, Any]) -> dict[str, Env]:
    """Fresh-process, started-process and listing scenarios per N; the environments built."""
    envs: dict[str, Env] = {}
    for n in settings.ns:
        progress(f"building the N={n} environment")
        env = build_env(settings, n, wheel, Path(sys.executable))
        meta["build_s"][f"N={n}"] = round(env.build_s, 1)
        progress(f"N={n}: warm-up and checks")
        prepared = {
            cold.SCENARIO: cold.prepare(settings, env),
            started.SCENARIO: started.prepare(settings, env),
            listing.SCENARIO: listing.prepare(settings, env, settings.k + 1),
        }
        before = cache_snapshot(settings)
        for scenario, (approaches, checks) in prepared.items():
            meta["checks"][f"{scenario} N={n}"] = checks
            progress(f"N={n}: {scenario}")
            measure(settings, scenario, f"N={n}", approaches, settings.shape)
        if cache_snapshot(settings) != before:
            meta["caches_rewritten"].append(n)
            progress(f"N={n}: WARNING: a cache file was written while measuring")
        envs[f"N={n}"] = env
    return envs


def measure_odibi(settings: Settings, wheel: Path, meta: dict[str, Any]) -> None:
    """Every scenario inside Odibi: connection building per K, start-up, listing."""
    progress("building the Odibi environment" + ("" if settings.quick else " (a minute or two)"))
    env = build_odibi_env(settings, wheel)
    meta["build_s"]["odibi"] = round(env.build_s, 1)
    meta["odibi_version"] = run(
        [env.python, "-c", "import importlib.metadata as m; print(m.version('odibi'))"],
        what="reading Odibi's version",
    ).stdout.strip()
    k_listing = figures.closest(settings.odibi_ks, settings.k)
    for k in settings.odibi_ks:
        install_odibi_plugins(settings, env, k)
        progress(f"Odibi, K={k}: connection building")
        odibi_build.run_scenario(settings, env, k)
        if k == 0:
            progress("Odibi, K=0: start-up")
            meta["checks"]["odibi start-up"] = odibi_startup.run_scenario(settings, env)
        if k == k_listing:
            progress(f"Odibi, K={k}: listings")
            meta["odibi_listing_k"] = k
            meta["checks"]["odibi listing"] = listing.run_scenario(
                settings, env, plugins=k, benchmark=f"Odibi K={k}", odibi=True
            )


def same_interpreter(interpreter: Path, env: Env) -> bool:
    """Whether ``interpreter`` is the one ``env`` was made from (the running one)."""
    probe = run(
        [interpreter, "-c", "import sys; print(getattr(sys, '_base_executable', sys.executable))"],
        what=f"asking {interpreter} where it lives",
    ).stdout.strip()
    return Path(probe).resolve() == Path(sys._base_executable).resolve()  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    started_at = time.perf_counter()
    settings.out.mkdir(parents=True, exist_ok=True)
    for scratch in (settings.home, settings.cwd, settings.results, settings.out / "specs"):
        shutil.rmtree(scratch, ignore_errors=True)
    settings.home.mkdir()
    settings.cwd.mkdir()
    os.utime(settings.cwd, (time.time() - BACKDATE_S,) * 2)  # on sys.path ('') of -c children
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    meta: dict[str, Any] = {"command": command.strip(), "build_s": {}, "checks": {}}
    meta["caches_rewritten"] = []

    progress("building the odibi-ext wheel")
    wheel = build_wheel(settings)
    envs = measure_ns(settings, wheel, meta)
    last = envs[f"N={settings.ns[-1]}"]
    meta["machine"] = machine(last)
    progress(f"warm lookups (N={last.n} environment)")
    meta["checks"]["warm"] = warm.run_scenario(settings, last)
    if settings.odibi_ks:
        measure_odibi(settings, wheel, meta)
    reusable = {}
    if settings.pythons_n in settings.ns:  # the running interpreter's environments
        env = envs[f"N={settings.pythons_n}"]
        for interpreter in settings.pythons:
            if same_interpreter(interpreter, env):
                reusable[str(interpreter)] = env
    python_runs = pythons.run_scenario(settings, wheel, reusable)

    found = figures.compute(settings, meta)
    python_rows = figures.pythons_table(settings, python_runs)
    odibi_rows = figures.odibi_context(settings) if settings.odibi_ks else []
    meta["elapsed_s"] = round(time.perf_counter() - started_at)
    meta["footer"] = footer(meta)
    text = report(settings, meta, found, python_rows, odibi_rows)
    sys.stdout.write(text)
    (settings.out / "results.md").write_text(text, encoding="utf-8")
    summary = {
        "meta": meta,
        "figures": figures.as_json(found),
        "pythons": python_rows,
        "odibi": odibi_rows,
    }
    (settings.out / "summary.json").write_text(
        json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8"
    )
    if settings.chart_dir is not None:
        progress(charts.draw(settings, meta.get("odibi_version", "")))
    progress(f"wrote {settings.out / 'results.md'}, summary.json and results/ (pyperf JSON)")
    return 0


def footer(meta: dict[str, Any]) -> str:
    builds = ", ".join(f"{name}: {s:.0f} s" for name, s in meta["build_s"].items())
    rewritten: list[int] = meta["caches_rewritten"]
    return f"Environments built in {builds}; whole run {meta['elapsed_s']} s. " + (
        f"WARNING: cache files were rewritten while measuring (N={rewritten}): not a steady state."
        if rewritten
        else "No cache file was rewritten while measuring (steady state)."
    )


if __name__ == "__main__":
    raise SystemExit(main())
