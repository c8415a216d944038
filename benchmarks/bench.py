"""Side-by-side timings: odibi-ext vs stevedore, importlib.metadata and eager loading.

Builds one throwaway virtual environment per N under ``--out`` (odibi-ext
installed from a wheel, stevedore from the index, N filler distributions and K
slow-importing connection plugins written straight into site-packages), then
times fresh processes that load one driver, list the drivers, and import the
libraries. Every on-disk cache (stevedore's ``python-entrypoints``, odibi-ext's
index) is populated by a warm-up run first: the numbers are the steady state an
application sees. See benchmarks/README.md.

    python benchmarks/bench.py [--n 0 500 2000] [--k 20] [--import-ms 20]
                               [--repeat 15] [--out benchmarks/out] [--chart]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Final

REPO: Final = Path(__file__).resolve().parent.parent
NAMESPACE: Final = "odibi.connections"
#: Files of the repository a wheel is built from (copied, so the build leaves no trace).
SOURCE_FILES: Final = ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE")
#: Distributions and their files look this old to mtime-based caches.
BACKDATE_S: Final = 60.0
PIP: Final = ("-m", "pip", "--disable-pip-version-check", "--no-input", "-q")
FLOOR: Final = "python -c pass"
ODIBI_EXT: Final = "odibi-ext"
STEVEDORE: Final = "stevedore"
#: stevedore as it runs when its on-disk cache is off: an interpreter under
#: /tmp (CI, tox, ansible) or a ``.disable`` file in its cache directory.
STEVEDORE_NO_CACHE: Final = "stevedore, its cache off"
#: The least any wrapper that keeps stevedore's DriverManager as the loader can
#: cost: DriverManager handed the one entry point, with no discovery at all.
DRIVER_FLOOR: Final = "DriverManager handed the entry point (floor)"
IMPORTLIB: Final = "importlib.metadata"
EAGER: Final = "eager (Odibi load_plugins)"
LIST_CLI: Final = "odibi-ext list --format json"
LIST_HAND: Final = "hand-written importlib.metadata listing"


# -- the code under test -------------------------------------------------------------------

PLUGIN_MODULE: Final = '''\
"""Benchmark driver {type_name}: importing it busy-waits like a client library would."""

import time

_started = time.perf_counter()
while time.perf_counter() - _started < {import_s!r}:
    pass

#: Connections created, so the benchmark can check what was loaded and called.
CREATED = 0


class BenchConnection:
    """A connection that needs nothing."""

    def __init__(self, name, config):
        self.name = name
        self.config = dict(config)

    def get_path(self, relative_path):
        return "bench://" + self.name + "/" + relative_path

    def validate(self):
        return None


def create(name, config):
    """Create a benchmark connection."""
    global CREATED
    CREATED += 1
    return BenchConnection(name, config)
'''

FILLER_MODULE: Final = '''\
"""{name}: an ordinary installed package that has nothing to do with Odibi."""

__version__ = "{version}"


def main():
    return 0


def hook(*args, **kwargs):
    return None
'''

#: Loading one driver, per approach: each leaves the connection in ``connection``.
SNIPPETS: Final = {
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
VERIFY_SUFFIX: Final = """\
import json as _json, sys as _sys
_module = _sys.modules[{module!r}]
assert _module.CREATED == 1, _module.CREATED
assert connection.get_path("x") == "bench://w/x"
_loaded = sorted(m for m in _sys.modules if m.startswith("odibi_bench_"))
print(_json.dumps(_loaded))
"""

#: The listing an operator would write by hand.
HAND_LISTING: Final = """\
import json
from importlib.metadata import entry_points
rows = [
    {{"name": ep.name, "target": ep.value, "distribution": ep.dist.name,
      "version": ep.dist.version}}
    for ep in entry_points(group={namespace!r})
]
print(json.dumps(rows, indent=2))
"""

WARM_SCRIPT: Final = """\
import json
import sys
import timeit

from odibi_ext import ConnectionRegistry

target, number, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
registry = ConnectionRegistry()
factory = registry.get(target)
assert registry.get(target) is factory
d = {target: factory}
timers = {
    "registry.get": (timeit.Timer("registry.get(target)", globals=globals()), number),
    "dict.get": (timeit.Timer("d.get(target)", globals=globals()), number),
    "registry.create": (
        timeit.Timer('registry.create(target, "w", {})', globals=globals()),
        max(1, number // 20),
    ),
}
samples = {name: [] for name in timers}
for round_ in range(repeat):
    names = list(timers)
    if round_ % 2:
        names.reverse()
    for name in names:
        timer, calls = timers[name]
        samples[name].append(timer.timeit(calls) / calls * 1e9)
print(json.dumps(samples))
"""


# -- environments --------------------------------------------------------------------------


@dataclass
class Env:
    """One throwaway virtual environment with N fillers and K plugins."""

    n: int
    root: Path
    python: Path
    site_packages: Path
    build_s: float = 0.0

    @property
    def console_script(self) -> Path:
        return self.root / "bin" / "odibi-ext"


@dataclass
class Settings:
    """The command line, resolved."""

    ns: list[int]
    k: int
    import_ms: float
    repeat: int
    out: Path
    chart: bool
    target: str = field(init=False)

    def __post_init__(self) -> None:
        self.target = f"bench{min(7, self.k - 1):02d}"

    @property
    def home(self) -> Path:
        return self.out / "home"

    @property
    def cwd(self) -> Path:
        return self.out / "cwd"

    @property
    def target_module(self) -> str:
        return f"odibi_bench_{self.target.removeprefix('bench')}"


#: Variables of the caller's environment that would change what a child imports or caches.
UNSET: Final = (
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONSAFEPATH",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONNOUSERSITE",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "PIP_TARGET",
    "PIP_PREFIX",
    "ODIBI_EXT_CONFIG",
    "ODIBI_EXT_CACHE_DIR",
    "ODIBI_EXT_NO_CACHE",
)


def clean_env() -> dict[str, str]:
    """The caller's environment without :data:`UNSET`: for every child, built or measured."""
    return {name: value for name, value in os.environ.items() if name not in UNSET}


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of every measured child: caches under the out dir, bytecode allowed."""
    env = clean_env()
    env["HOME"] = str(settings.home)
    env["XDG_CACHE_HOME"] = str(settings.home / ".cache")
    return env


def run(
    argv: Sequence[str | Path], *, what: str, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a command (by default in :func:`clean_env`); abort with its output when it fails."""
    kwargs.setdefault("env", clean_env())
    result = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, **kwargs
    )
    if result.returncode != 0:
        sys.exit(
            f"bench: {what} failed (exit {result.returncode}): {' '.join(map(str, argv))}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def build_wheel(settings: Settings) -> Path:
    """A wheel of the working tree.

    Built from a copy of the sources, in a build venv of its own (setuptools and
    wheel from the index), so neither the repository nor a measured
    environment is touched.
    """
    source, wheels, build = (settings.out / name for name in ("src", "wheels", "build-venv"))
    for path in (source, wheels, build):
        shutil.rmtree(path, ignore_errors=True)
    source.mkdir(parents=True)
    for name in SOURCE_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "odibi_ext", source / "odibi_ext", ignore=shutil.ignore_patterns("__pycache__")
    )
    run([sys.executable, "-m", "venv", build], what="creating the build venv")
    pip = [build / "bin" / "python", *PIP]
    run([*pip, "install", "setuptools>=64", "wheel"], what="installing setuptools and wheel")
    run(
        [*pip, "wheel", "--no-build-isolation", "--no-deps", "-w", wheels, source],
        what="building the odibi-ext wheel",
    )
    [wheel] = wheels.glob("odibi_ext-*.whl")
    return wheel


def create_venv(settings: Settings, n: int) -> Env:
    """A fresh virtual environment (with pip) for N fillers."""
    root = settings.out / f"env-n{n}"
    shutil.rmtree(root, ignore_errors=True)
    run([sys.executable, "-m", "venv", root], what=f"creating {root}")
    python = root / "bin" / "python"
    if str(python)[:4] == "/tmp":  # stevedore disables its cache there
        sys.exit(f"bench: {python} is under /tmp, where stevedore turns its cache off")
    found = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        what="locating site-packages",
    )
    return Env(n=n, root=root, python=python, site_packages=Path(found.stdout.strip()))


def dist_info(site: Path, version: str, package: str, files: Mapping[str, str]) -> list[Path]:
    """Write a package and its ``*.dist-info`` as an installer would; return the files."""
    info_dir = site / f"{package}-{version}.dist-info"
    (site / package).mkdir()
    info_dir.mkdir()
    written: list[Path] = []
    records: list[str] = []
    for relative, text in files.items():
        path = site / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
        data = text.encode("utf-8")
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        records.append(f"{relative},sha256={digest},{len(data)}")
    records.append(f"{info_dir.name}/RECORD,,")
    (info_dir / "RECORD").write_text("\n".join(records) + "\n", encoding="utf-8")
    written.append(info_dir / "RECORD")
    return written


def metadata_files(
    distribution: str, version: str, package: str, summary: str, entry_points: str | None
) -> dict[str, str]:
    """``METADATA``, ``WHEEL``, ``INSTALLER``, ``top_level.txt`` (and ``entry_points.txt``)."""
    info = f"{package}-{version}.dist-info"
    files = {
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
            f"Summary: {summary}\nAuthor: Benchmark\nLicense: MIT\n"
            "Classifier: Programming Language :: Python :: 3\n"
            "Requires-Python: >=3.8\n\n"
            f"# {distribution}\n\n{summary}\n"
        ),
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.42.0)\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{info}/INSTALLER": "pip\n",
        f"{info}/top_level.txt": f"{package}\n",
    }
    if entry_points is not None:
        files[f"{info}/entry_points.txt"] = entry_points
    return files


def write_fillers(site: Path, n: int) -> list[Path]:
    """N unrelated distributions; every other one publishes ordinary entry points."""
    written = []
    for i in range(n):
        distribution = f"filler-pkg-{i:04d}"
        package = f"filler_pkg_{i:04d}"
        version = f"{1 + i % 7}.{i % 13}.{i % 3}"
        entry_points = None
        if i % 2 == 0:
            entry_points = (
                f"[console_scripts]\n{distribution} = {package}:main\n\n"
                f"[{package}.hooks]\ndefault = {package}:hook\n"
            )
        files = metadata_files(distribution, version, package, "Filler.", entry_points)
        files[f"{package}/__init__.py"] = FILLER_MODULE.format(name=distribution, version=version)
        written += dist_info(site, version, package, files)
    return written


def write_plugins(site: Path, k: int, import_ms: float) -> list[Path]:
    """K connection drivers ``bench00``.. in ``odibi.connections``, each slow to import."""
    written = []
    for i in range(k):
        type_name = f"bench{i:02d}"
        distribution = f"odibi-bench-{i:02d}"
        package = f"odibi_bench_{i:02d}"
        entry_points = f"[{NAMESPACE}]\n{type_name} = {package}:create\n"
        summary = f"Odibi benchmark connection driver {type_name}."
        files = metadata_files(distribution, "1.0.0", package, summary, entry_points)
        files[f"{package}/__init__.py"] = PLUGIN_MODULE.format(
            type_name=type_name, import_s=import_ms / 1000.0
        )
        written += dist_info(site, "1.0.0", package, files)
    return written


def backdate(paths: Sequence[Path], when: float) -> None:
    for path in paths:
        os.utime(path, (when, when))


def build_env(settings: Settings, n: int, wheel: Path) -> Env:
    """One environment: venv, odibi-ext (wheel) + stevedore (index), fillers, plugins."""
    started = time.perf_counter()
    env = create_venv(settings, n)
    run(
        [env.python, *PIP, "install", wheel],
        what=f"installing odibi-ext into {env.root}",
    )
    site = env.site_packages
    when = time.time() - BACKDATE_S
    written = write_fillers(site, n) + write_plugins(site, settings.k, settings.import_ms)
    # Sources first (the .pyc files record their mtimes), then compile, then every
    # directory and .pyc: no approach pays compilation, every cache sees a settled tree.
    backdate(written, when)
    run([env.python, "-m", "compileall", "-q", "-j", "0", site], what="compileall")
    settled = [env.root, env.root / "bin"]
    for directory, _, files in os.walk(site):
        settled.append(Path(directory))
        settled += [Path(directory, f) for f in files if f.endswith(".pyc")]
    backdate(settled, when)
    env.build_s = time.perf_counter() - started
    return env


# -- approaches ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Approach:
    """A command timed in fresh processes, with environment variables of its own."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


def load_approaches(settings: Settings, env: Env) -> list[Approach]:
    """Loading driver ``target`` in a fresh process, per approach, plus the interpreter floor."""
    approaches = [Approach(FLOOR, (str(env.python), "-c", "pass"))]
    for name, template in SNIPPETS.items():
        code = template.format(
            namespace=NAMESPACE,
            target=settings.target,
            target_value=f"{settings.target_module}:create",
        )
        approaches.append(Approach(name, (str(env.python), "-c", code)))
        if name == STEVEDORE:
            # stevedore's documented switch: a .disable file where it would cache.
            off = settings.home / "stevedore-cache-off"
            (off / "python-entrypoints").mkdir(parents=True, exist_ok=True)
            (off / "python-entrypoints" / ".disable").touch()
            approaches.append(
                Approach(
                    STEVEDORE_NO_CACHE, (str(env.python), "-c", code), {"XDG_CACHE_HOME": str(off)}
                )
            )
    return approaches


def verify_argv(settings: Settings, approach: Approach) -> tuple[str, ...]:
    """The approach's command with checks appended: the warm-up run."""
    python, flag, code = approach.argv
    return (python, flag, code + VERIFY_SUFFIX.format(module=settings.target_module))


def list_approaches(settings: Settings, env: Env) -> list[Approach]:
    """Listing every driver with its provenance, as JSON, in a fresh process."""
    code = HAND_LISTING.format(namespace=NAMESPACE)
    return [
        Approach(LIST_CLI, (str(env.console_script), "list", "--format", "json")),
        Approach(LIST_HAND, (str(env.python), "-c", code)),
    ]


def warm_up(settings: Settings, env: Env) -> dict[str, Any]:
    """Run everything once (populating every cache) and check it does what it claims."""
    environ = child_env(settings)
    checks: dict[str, Any] = {}
    for approach in load_approaches(settings, env):
        if approach.name == FLOOR:
            run(approach.argv, what=f"warm-up of {approach.name}", env=environ, cwd=settings.cwd)
            continue
        result = run(
            verify_argv(settings, approach),
            what=f"warm-up of {approach.name} (N={env.n})",
            env={**environ, **approach.env},
            cwd=settings.cwd,
        )
        loaded = json.loads(result.stdout)
        expected = settings.k if approach.name == EAGER else 1
        if len(loaded) != expected or settings.target_module not in loaded:
            sys.exit(f"bench: {approach.name} imported {loaded}, expected {expected} plugin(s)")
        checks[approach.name] = {"plugin_modules_imported": len(loaded)}
    listings = {}
    for approach in list_approaches(settings, env):
        result = run(
            approach.argv, what=f"warm-up of {approach.name}", env=environ, cwd=settings.cwd
        )
        rows = json.loads(result.stdout)
        listings[approach.name] = sorted(
            (r["name"], r["target"], r["distribution"], r["version"]) for r in rows
        )
    cli, hand = listings[LIST_CLI], listings[LIST_HAND]
    if cli != hand or len(cli) != settings.k:
        sys.exit(f"bench: the listings differ or miss drivers:\n{cli}\n{hand}")
    checks["listing_rows"] = len(cli)
    checks["caches"] = cache_files(settings)
    if not all(checks["caches"].values()):
        sys.exit(f"bench: a cache was not populated by the warm-up: {checks['caches']}")
    return checks


def cache_files(settings: Settings) -> dict[str, int]:
    """How many files each on-disk cache holds."""
    base = settings.home / ".cache"
    return {
        name: len(list((base / name).glob("*"))) if (base / name).is_dir() else 0
        for name in ("python-entrypoints", "odibi-ext")
    }


def cache_snapshot(settings: Settings) -> dict[str, int]:
    """Every cache file's modification time: a rewrite during measuring shows as a change."""
    base = settings.home / ".cache"
    return {str(p.relative_to(base)): p.stat().st_mtime_ns for p in base.rglob("*") if p.is_file()}


# -- measuring -----------------------------------------------------------------------------


def measure(
    settings: Settings, approaches: Sequence[Approach]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU milliseconds of ``repeat`` fresh processes per approach, rotating the order.

    CPU time (user + system of the child) is what the process cost; on a shared
    machine it moves far less than wall time, which also counts waiting for a core.
    """
    environ = child_env(settings)
    samples: dict[str, list[float]] = {a.name: [] for a in approaches}
    cpu: dict[str, list[float]] = {a.name: [] for a in approaches}
    for rep in range(settings.repeat):
        shift = rep % len(approaches)
        for approach in [*approaches[shift:], *approaches[:shift]]:
            argv = list(approach.argv)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            result = subprocess.run(
                argv,
                capture_output=True,
                env={**environ, **approach.env},
                cwd=settings.cwd,
                check=False,
            )
            elapsed = (time.perf_counter() - started) * 1000.0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if result.returncode != 0:
                sys.exit(
                    f"bench: {approach.name} failed (exit {result.returncode}):\n"
                    f"{result.stderr.decode(errors='replace')}"
                )
            samples[approach.name].append(elapsed)
            spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            cpu[approach.name].append(spent * 1000.0)
    return samples, cpu


def measure_warm(settings: Settings, env: Env) -> dict[str, list[float]]:
    """ns per call of a cached ``registry.get`` vs ``dict.get``, in one process."""
    script = settings.out / "scripts" / "warm.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(WARM_SCRIPT, encoding="utf-8")
    result = run(
        [env.python, script, settings.target, "1000000", "7"],
        what="the warm benchmark",
        env=child_env(settings),
        cwd=settings.cwd,
    )
    samples: dict[str, list[float]] = json.loads(result.stdout)
    return samples


IMPORT_CASES: Final = {
    "stevedore": ("import stevedore", ("stevedore",)),
    "odibi_ext": ("import odibi_ext", ("odibi_ext",)),
    "stevedore then odibi_ext": (
        "import stevedore; import odibi_ext",
        ("stevedore", "odibi_ext"),
    ),
}


def parse_importtime(stderr: str, modules: Sequence[str]) -> dict[str, float]:
    """Cumulative microseconds of top-level ``modules`` in ``-X importtime`` output."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2][1:]  # one space, then two per nesting level
        if name in modules:
            found[name] = float(parts[1])
    missing = set(modules) - set(found)
    if missing:
        sys.exit(f"bench: no importtime line for {sorted(missing)}:\n{stderr}")
    return found


def measure_imports(settings: Settings, env: Env) -> dict[str, dict[str, list[float]]]:
    """``-X importtime`` cumulative µs per module and case, ``repeat`` runs, alternating."""
    environ = child_env(settings)
    samples: dict[str, dict[str, list[float]]] = {
        case: {m: [] for m in modules} for case, (_, modules) in IMPORT_CASES.items()
    }
    cases = list(IMPORT_CASES.items())
    for rep in range(settings.repeat):
        shift = rep % len(cases)
        for case, (code, modules) in [*cases[shift:], *cases[:shift]]:
            result = run(
                [env.python, "-X", "importtime", "-c", code],
                what=f"importtime {case}",
                env=environ,
                cwd=settings.cwd,
            )
            for module, micros in parse_importtime(result.stderr, modules).items():
                samples[case][module].append(micros)
    return samples


# -- report --------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def closest(ns: Sequence[int], wanted: int) -> int:
    return min(ns, key=lambda n: (abs(n - wanted), n))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(settings: Settings, env: Env) -> dict[str, Any]:
    versions = run(
        [
            env.python,
            "-c",
            "import importlib.metadata as m, platform; "
            "print(platform.python_version(), m.version('stevedore'), m.version('odibi-ext'))",
        ],
        what="reading versions",
    ).stdout.split()
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": versions[0],
        "stevedore": versions[1],
        "odibi_ext": versions[2],
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def report(results: dict[str, Any], settings: Settings) -> str:
    """The Markdown report."""
    m = results["machine"]
    ns = settings.ns
    cold: dict[int, dict[str, list[float]]] = results["cold"]
    listing: dict[int, dict[str, list[float]]] = results["listing"]
    med = {n: {a: median(v) for a, v in cold[n].items()} for n in ns}
    parts = [
        "# odibi-ext benchmark",
        "",
        f"- machine: {m['platform']}, {m['cpu_count']} CPUs, {m['cpu_model']}",
        f"- Python {m['python']}, stevedore {m['stevedore']}, odibi-ext {m['odibi_ext']}",
        f"- date: {m['date']}",
        f"- setup: K={settings.k} drivers in `{NAMESPACE}`, each importing in "
        f"{settings.import_ms:g} ms; N filler distributions (half with entry points); "
        f"driver loaded: `{settings.target}`; median of {settings.repeat} fresh processes, "
        "approaches alternating; warm-up run first (caches populated, bytecode compiled)",
        "",
        "## Cold: load one driver and create a connection, fresh process (median ms)",
        "",
        "Ratios are this approach's time over the other's (below 1: faster).",
        "",
    ]
    headers = ["approach", *(f"N={n}" for n in ns)]
    headers += [f"÷ stevedore ({'/'.join(map(str, ns))})", f"÷ eager ({'/'.join(map(str, ns))})"]
    rows = []
    for name in cold[ns[0]]:
        row = [name, *(f"{med[n][name]:.1f}" for n in ns)]
        for other in (STEVEDORE, EAGER):
            row.append(" / ".join(ratio(med[n][name], med[n][other]) for n in ns))
        rows.append(row)
    parts += [table(headers, rows), ""]
    spread = [[name, *(_iqr(cold[n][name]) for n in ns)] for name in cold[ns[0]]]
    parts += [
        "<details><summary>interquartile ranges (ms)</summary>",
        "",
        table(["approach", *(f"N={n}" for n in ns)], spread),
        "",
        "</details>",
        "",
    ]

    cold_cpu: dict[int, dict[str, list[float]]] = results["cold_cpu"]
    cpu_med = {n: {a: median(v) for a, v in cold_cpu[n].items()} for n in ns}
    cpu_min = {n: {a: min(v) for a, v in cold_cpu[n].items()} for n in ns}
    cpu_rows = []
    for name in cold_cpu[ns[0]]:
        row = [name, *(f"{cpu_med[n][name]:.1f} ({cpu_min[n][name]:.1f})" for n in ns)]
        row.append(" / ".join(ratio(cpu_med[n][name], cpu_med[n][STEVEDORE]) for n in ns))
        row.append(" / ".join(ratio(cpu_min[n][name], cpu_min[n][STEVEDORE]) for n in ns))
        cpu_rows.append(row)
    sequence = "/".join(map(str, ns))
    parts += [
        "### The same, CPU time of each process (user + system: median, and minimum, ms)",
        "",
        "What each process cost the machine, without time spent waiting for a core. On a "
        "shared machine the minimum is the steadiest estimate of what a run costs.",
        "",
        table(
            [
                "approach",
                *(f"N={n}" for n in ns),
                f"medians ÷ stevedore ({sequence})",
                f"minima ÷ stevedore ({sequence})",
            ],
            cpu_rows,
        ),
        "",
    ]

    warm = results["warm"]
    best = {name: min(values) for name, values in warm.items()}
    parts += [
        f"## Warm: a cached lookup in one process (ns per call, best of {len(warm['dict.get'])})",
        "",
        table(
            ["call", "ns/call", "÷ dict.get"],
            [
                [f"`{name}`", f"{ns_:.1f}", ratio(ns_, best["dict.get"])]
                for name, ns_ in best.items()
            ],
        ),
        "",
        "## Listing every driver with distribution and version, fresh process (median ms)",
        "",
        table(
            ["command", *(f"N={n}" for n in ns)],
            [
                [name, *(f"{median(listing[n][name]):.1f}" for n in ns)]
                for name in (LIST_CLI, LIST_HAND)
            ]
            + [
                [
                    "ratio (odibi-ext ÷ hand-written)",
                    *(
                        ratio(median(listing[n][LIST_CLI]), median(listing[n][LIST_HAND]))
                        for n in ns
                    ),
                ]
            ],
        ),
        "",
    ]

    imports = results["imports"]
    st = median(imports["stevedore"]["stevedore"]) / 1000
    ox = median(imports["odibi_ext"]["odibi_ext"]) / 1000
    ox_after = median(imports["stevedore then odibi_ext"]["odibi_ext"]) / 1000
    st_first = median(imports["stevedore then odibi_ext"]["stevedore"]) / 1000
    parts += [
        "## Import cost (`python -X importtime`, cumulative, median ms)",
        "",
        table(
            ["process runs", "stevedore", "odibi_ext"],
            [
                ["`import stevedore`", f"{st:.2f}", "-"],
                ["`import odibi_ext`", "-", f"{ox:.2f}"],
                ["`import stevedore; import odibi_ext`", f"{st_first:.2f}", f"{ox_after:.2f}"],
            ],
        ),
        "",
    ]

    n500, n2000 = closest(ns, 500), closest(ns, 2000)
    lst = listing[n500]
    targets = [
        *(
            f"- cold odibi-ext ÷ stevedore at N={n}: "
            f"**{ratio(med[n][ODIBI_EXT], med[n][STEVEDORE])}** wall, "
            f"**{ratio(cpu_med[n][ODIBI_EXT], cpu_med[n][STEVEDORE])}** CPU (medians); "
            f"**{ratio(cpu_min[n][ODIBI_EXT], cpu_min[n][STEVEDORE])}** (CPU minima); the "
            f"floor: {ratio(cpu_min[n][DRIVER_FLOOR], cpu_min[n][STEVEDORE])}"
            for n in sorted({n500, n2000})
        ),
        f"- eager ÷ odibi-ext at N={n500} (times faster): "
        f"**{ratio(med[n500][EAGER], med[n500][ODIBI_EXT])}x**",
        f"- warm registry.get ÷ dict.get: **{ratio(best['registry.get'], best['dict.get'])}**",
        f"- list ÷ hand-written listing at N={n500}: "
        f"**{ratio(median(lst[LIST_CLI]), median(lst[LIST_HAND]))}**",
        f"- import cost over stevedore: (a) separate processes **{ox - st:+.2f} ms**; "
        f"(b) with stevedore already imported **{ox_after:.2f} ms**",
    ]
    parts += ["## Target ratios", "", *targets, ""]
    builds = ", ".join(f"N={n}: {s:.1f} s" for n, s in results["build_s"].items())
    parts += [
        f"Environments built in {builds}; whole run {results['elapsed_s']:.0f} s. "
        f"Warm and import measured in the N={results['single_process_n']} environment. "
        + (
            f"WARNING: cache files were rewritten while measuring "
            f"(N={results['caches_rewritten']}): not a steady state."
            if results["caches_rewritten"]
            else "No cache file was rewritten while measuring (steady state)."
        ),
    ]
    return "\n".join(parts) + "\n"


def _iqr(values: Sequence[float]) -> str:
    low, high = quartiles(values)
    return f"{low:.1f} to {high:.1f}"


def chart(results: dict[str, Any], settings: Settings) -> str:
    """``cold.png``, if matplotlib is importable."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import ScalarFormatter
    except ImportError:
        return "--chart: matplotlib is not installed (pip install -e '.[bench]'); no chart."
    cold = results["cold"]
    figure, axes = plt.subplots(figsize=(10, 4.5))
    for name in cold[settings.ns[0]]:
        axes.plot(
            settings.ns, [median(cold[n][name]) for n in settings.ns], marker="o", label=name
        )
    axes.set_xlabel("filler distributions installed (N)")
    axes.set_ylabel("median ms, fresh process")
    axes.set_title(f"Load {settings.target} and create a connection (K={settings.k})")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(ScalarFormatter())
    axes.grid(visible=True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    figure.tight_layout()
    path = settings.out / "cold.png"
    figure.savefig(path, dpi=120)
    return f"chart written to {path}"


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[0, 500, 2000], metavar="N")
    parser.add_argument("--k", type=int, default=20, help="plugins installed (default 20)")
    parser.add_argument("--import-ms", type=float, default=20.0, help="each plugin's import time")
    parser.add_argument("--repeat", type=int, default=15, help="fresh processes per median")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--chart", action="store_true", help="write cold.png (matplotlib)")
    args = parser.parse_args(argv)
    if args.k < 1 or args.repeat < 1 or min(args.n) < 0 or args.import_ms < 0:
        parser.error("--k and --repeat must be positive, --n and --import-ms not negative")
    return Settings(
        ns=sorted(set(args.n)),
        k=args.k,
        import_ms=args.import_ms,
        repeat=args.repeat,
        out=args.out.resolve(),
        chart=args.chart,
    )


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    started = time.perf_counter()
    settings.out.mkdir(parents=True, exist_ok=True)
    for scratch in (settings.home, settings.cwd):
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
    os.utime(settings.cwd, (time.time() - BACKDATE_S,) * 2)  # on sys.path ('') of -c children

    results: dict[str, Any] = {"settings": {}, "build_s": {}, "checks": {}}
    results["caches_rewritten"] = []
    results["cold"], results["listing"] = {}, {}
    results["cold_cpu"], results["listing_cpu"] = {}, {}
    progress("building the odibi-ext wheel")
    wheel = build_wheel(settings)
    env: Env | None = None
    for n in settings.ns:
        progress(f"building the N={n} environment")
        env = build_env(settings, n, wheel)
        results["build_s"][n] = env.build_s
        progress(f"N={n}: warm-up and checks")
        results["checks"][n] = warm_up(settings, env)
        progress(f"N={n}: cold loads ({settings.repeat} rounds)")
        before = cache_snapshot(settings)
        results["cold"][n], results["cold_cpu"][n] = measure(
            settings, load_approaches(settings, env)
        )
        progress(f"N={n}: listings")
        results["listing"][n], results["listing_cpu"][n] = measure(
            settings, list_approaches(settings, env)
        )
        if cache_snapshot(settings) != before:
            results["caches_rewritten"].append(n)
            progress(f"N={n}: WARNING: a cache file was written while measuring")
    assert env is not None
    progress(f"warm lookups and import cost (N={env.n} environment)")
    results["single_process_n"] = env.n
    results["warm"] = measure_warm(settings, env)
    results["imports"] = measure_imports(settings, env)
    results["machine"] = machine(settings, env)
    results["settings"] = {
        "n": settings.ns,
        "k": settings.k,
        "import_ms": settings.import_ms,
        "repeat": settings.repeat,
        "target": settings.target,
        "snippets": {
            name: template.format(
                namespace=NAMESPACE,
                target=settings.target,
                target_value=f"{settings.target_module}:create",
            )
            for name, template in SNIPPETS.items()
        },
    }
    results["elapsed_s"] = time.perf_counter() - started

    text = report(results, settings)
    print(text)
    (settings.out / "results.md").write_text(text, encoding="utf-8")
    (settings.out / "results.json").write_text(
        json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8"
    )
    if settings.chart:
        progress(chart(results, settings))
    progress(f"wrote {settings.out / 'results.md'} and results.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
