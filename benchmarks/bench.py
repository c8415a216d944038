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
from collections.abc import Callable
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
#: The driver whose module imports in no time: what a first connection costs
#: beyond the plugin's own import (the marginal figure).
INSTANT: Final = "instant"
INSTANT_MODULE: Final = "odibi_bench_instant"


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

#: The marginal figure: a started process (stdlib and stevedore imported), timed
#: from inside around the first connection of driver ``instant``.
MARGINAL_PRELUDE: Final = """\
import importlib.metadata, json, sys, time
import stevedore, stevedore.driver
"""

#: Per approach: what the application has imported before (untimed), and the timed work.
MARGINAL: Final = {
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
}

#: odibi-ext's discovery alone with a warm index (checking and reading it), in
#: the same started process: what of the first connection grows with N.
INDEX_READ: Final = """\
import importlib.metadata, json, sys, time
import stevedore, stevedore.driver
from odibi_ext import ConnectionRegistry
_started, _cpu = time.perf_counter(), time.process_time()
names = ConnectionRegistry().names()
_elapsed, _cpu = time.perf_counter() - _started, time.process_time() - _cpu
assert {target!r} in names, names
print(json.dumps({{
    "ms": _elapsed * 1000.0,
    "cpu_ms": _cpu * 1000.0,
    "plugins": sorted(m for m in sys.modules if m.startswith("odibi_bench_")),
}}))
"""
INDEX_READ_NAME: Final = "odibi-ext discovery alone (warm index: checked, read)"

MARGINAL_TIMED: Final = """\
_started, _cpu = time.perf_counter(), time.process_time()
{work}_elapsed, _cpu = time.perf_counter() - _started, time.process_time() - _cpu
_module = sys.modules[{module!r}]
assert _module.CREATED == 1 and connection.get_path("x") == "bench://w/x"
print(json.dumps({{
    "ms": _elapsed * 1000.0,
    "cpu_ms": _cpu * 1000.0,
    "plugins": sorted(m for m in sys.modules if m.startswith("odibi_bench_")),
}}))
"""

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

# Interned, as a type name written as a literal in application code is.
target = sys.intern(sys.argv[1])
number, repeat = int(sys.argv[2]), int(sys.argv[3])
registry = ConnectionRegistry()
factory = registry.get(target)
assert registry.get(target) is factory
get = registry.get
d = {target: factory}
timers = {
    "registry.get": (timeit.Timer("registry.get(target)", globals=globals()), number),
    "dict.get": (timeit.Timer("d.get(target)", globals=globals()), number),
    "get = registry.get; get": (timeit.Timer("get(target)", globals=globals()), number),
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


# -- inside Odibi --------------------------------------------------------------------------

ODIBI_STOCK: Final = "stock Odibi"
ODIBI_IN_CHARGE: Final = "Odibi under odibi_ext.odibi.install()"
#: How the build script names the two.
ODIBI_APPROACHES: Final = {ODIBI_STOCK: "stock", ODIBI_IN_CHARGE: "odibi-ext"}
#: The integration with odibi-ext's loggers at WARNING: without the INFO line
#: it logs per connection type (which driver serves it), which Odibi's own
#: log handler renders. Measured at K=0, to show what that line costs.
ODIBI_QUIET: Final = "the same, odibi-ext's INFO lines off"
ODIBI_QUIET_SCRIPT_NAME: Final = "odibi-ext-quiet"
#: A pipeline the project does not have: ``odibi run --pipeline`` stops with
#: "not found" right after start-up (imports, configuration, connections,
#: system catalog), before any pipeline work.
STARTUP_PIPELINE: Final = "startup-only"
ODIBI_BUILTINS: Final = 10  # what register_builtins() registers in Odibi 3.15.1

PROJECT_YAML: Final = """\
project: bench
engine: pandas
connections:
  data:
    type: local
    base_path: ./data
{plugin}story:
  connection: data
  path: stories
system:
  connection: data
pipelines: []
"""

PROJECT_PLUGIN: Final = """\
  db:
    type: {type_name}
    dsn: bench://db
"""

#: Run in the Odibi environment, one fresh process per sample: builds the
#: project's connections with real Odibi (``PipelineManager.from_yaml``), stock
#: or under the integration, and prints what it took and imported as JSON.
ODIBI_BUILD_SCRIPT: Final = """\
import json
import os
import sys
import time

project, approach = sys.argv[1], sys.argv[2]
report = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Odibi logs to stdout through Rich

started = time.perf_counter()
from odibi.pipeline import PipelineManager

out = {"approach": approach, "import_odibi_ms": (time.perf_counter() - started) * 1000.0}
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
        out["build_ms"] = (time.perf_counter() - started) * 1000.0
        out["build_cpu_ms"] = (time.process_time() - cpu) * 1000.0


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


#: Run in the Odibi environment, one fresh process per sample: the work the
#: integration adds around Odibi's command line, timed inside. Odibi's own
#: imports (its CLI builds its parser from ``odibi.pipeline``) come first,
#: untimed; then ``odibi --version`` through Odibi's ``main`` or through
#: ``odibi-ext odibi`` (import of the command, its parser, the policy,
#: ``install()``, Odibi's ``main``, ``uninstall()``).
ODIBI_STARTUP_SCRIPT: Final = """\
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
    "ms": (time.perf_counter() - started) * 1000.0,
    "cpu_ms": (time.process_time() - cpu) * 1000.0,
    "status": status or 0,
    "odibi_ext": any(m.partition(".")[0] == "odibi_ext" for m in sys.modules),
}
report.write(json.dumps(out) + "\\n")
report.close()
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
    odibi_ks: list[int]
    odibi_version: str
    odibi_repeat: int
    chart_dir: Path
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
    def odibi_project(self) -> Path:
        return self.out / "odibi-project"

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


def create_venv(settings: Settings, n: int | str) -> Env:
    """A fresh virtual environment (with pip): ``env-nN`` for N fillers, or ``env-NAME``."""
    root = settings.out / (f"env-n{n}" if isinstance(n, int) else f"env-{n}")
    shutil.rmtree(root, ignore_errors=True)
    run([sys.executable, "-m", "venv", root], what=f"creating {root}")
    python = root / "bin" / "python"
    if str(python)[:4] == "/tmp":  # stevedore disables its cache there
        sys.exit(f"bench: {python} is under /tmp, where stevedore turns its cache off")
    found = run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        what="locating site-packages",
    )
    return Env(
        n=n if isinstance(n, int) else 0,
        root=root,
        python=python,
        site_packages=Path(found.stdout.strip()),
    )


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
        written += write_plugin(site, f"bench{i:02d}", f"{i:02d}", import_ms)
    return written


def write_plugin(site: Path, type_name: str, suffix: str, import_ms: float) -> list[Path]:
    """Driver ``type_name``: distribution ``odibi-bench-SUFFIX``, module ``odibi_bench_SUFFIX``."""
    distribution = f"odibi-bench-{suffix}"
    package = f"odibi_bench_{suffix}"
    entry_points = f"[{NAMESPACE}]\n{type_name} = {package}:create\n"
    summary = f"Odibi benchmark connection driver {type_name}."
    files = metadata_files(distribution, "1.0.0", package, summary, entry_points)
    files[f"{package}/__init__.py"] = PLUGIN_MODULE.format(
        type_name=type_name, import_s=import_ms / 1000.0
    )
    return dist_info(site, "1.0.0", package, files)


def settled_tree(root: Path) -> list[Path]:
    """Every directory and file under ``root`` but the ``.py`` sources.

    Backdated after installing, they look installed a minute ago to every
    mtime-based cache (odibi-ext's index stamps each distribution's metadata);
    the sources keep their times, which their compiled files record.
    """
    paths = []
    for directory, _, files in os.walk(root):
        paths.append(Path(directory))
        paths += [Path(directory, f) for f in files if not f.endswith(".py")]
    return paths


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
    written += write_plugin(site, INSTANT, INSTANT_MODULE.removeprefix("odibi_bench_"), 0.0)
    # Sources first (the .pyc files record their mtimes), then compile, then
    # everything else: no approach pays compilation, every cache sees a settled tree.
    backdate(written, when)
    run([env.python, "-m", "compileall", "-q", "-j", "0", site], what="compileall")
    backdate([env.root, env.root / "bin", *settled_tree(site)], when)
    env.build_s = time.perf_counter() - started
    return env


# -- approaches ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Approach:
    """A command timed in fresh processes, with environment variables of its own."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    status: int = 0  # the exit status it must end with
    cwd: Path | None = None  # default: the neutral working directory


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
        expected = settings.k + 1 if approach.name == EAGER else 1  # + the instant driver
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
    if cli != hand or len(cli) != settings.k + 1:
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
    settings: Settings, approaches: Sequence[Approach], repeat: int | None = None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU milliseconds of ``repeat`` fresh processes per approach, rotating the order.

    CPU time (user + system of the child) is what the process cost; on a shared
    machine it moves far less than wall time, which also counts waiting for a core.
    """
    environ = child_env(settings)
    samples: dict[str, list[float]] = {a.name: [] for a in approaches}
    cpu: dict[str, list[float]] = {a.name: [] for a in approaches}
    for rep in range(settings.repeat if repeat is None else repeat):
        shift = rep % len(approaches)
        for approach in [*approaches[shift:], *approaches[:shift]]:
            argv = list(approach.argv)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            result = subprocess.run(
                argv,
                capture_output=True,
                env={**environ, **approach.env},
                cwd=approach.cwd or settings.cwd,
                check=False,
            )
            elapsed = (time.perf_counter() - started) * 1000.0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if result.returncode != approach.status:
                sys.exit(
                    f"bench: {approach.name} failed (exit {result.returncode}):\n"
                    f"{result.stderr.decode(errors='replace')}"
                )
            samples[approach.name].append(elapsed)
            spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            cpu[approach.name].append(spent * 1000.0)
    return samples, cpu


def marginal_approaches(settings: Settings, env: Env) -> list[Approach]:
    """The first connection of driver ``instant`` in a started process, timed from inside."""
    fields = {
        "namespace": NAMESPACE,
        "target": INSTANT,
        "target_value": f"{INSTANT_MODULE}:create",
    }
    approaches = []
    for name, (setup, work) in MARGINAL.items():
        code = MARGINAL_PRELUDE + setup.format(**fields)
        code += MARGINAL_TIMED.format(work=work.format(**fields), module=INSTANT_MODULE)
        approaches.append(Approach(name, (str(env.python), "-c", code)))
    return approaches


def measure_inside(
    settings: Settings, approaches: Sequence[Approach], expected_plugins: Sequence[str]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU milliseconds each child reports on its last line (JSON).

    One unrecorded run per approach first; every run must have imported
    exactly ``expected_plugins`` of the benchmark's plugin modules.
    """
    environ = child_env(settings)
    samples: dict[str, list[float]] = {a.name: [] for a in approaches}
    cpu: dict[str, list[float]] = {a.name: [] for a in approaches}
    for rep in range(-1, settings.repeat):
        shift = rep % len(approaches)
        for approach in [*approaches[shift:], *approaches[:shift]]:
            result = run(
                approach.argv,
                what=f"{approach.name} (timed inside)",
                env={**environ, **approach.env},
                cwd=settings.cwd,
            )
            report_ = json.loads(result.stdout.splitlines()[-1])
            if report_["plugins"] != list(expected_plugins):
                sys.exit(
                    f"bench: {approach.name} imported {report_['plugins']}, "
                    f"expected {list(expected_plugins)}"
                )
            if rep >= 0:
                samples[approach.name].append(report_["ms"])
                cpu[approach.name].append(report_["cpu_ms"])
    return samples, cpu


# -- inside Odibi: environment and measuring -----------------------------------------------


def build_odibi_env(settings: Settings, wheel: Path) -> Env:
    """A venv with real Odibi and odibi-ext (pip), its K plugins kept in a store beside it.

    The plugins are written once to ``odibi-plugins/`` and moved into
    site-packages as each K needs them (:func:`install_odibi_plugins`).
    pip compiled what it installed; the plugins are compiled here.
    """
    started = time.perf_counter()
    env = create_venv(settings, "odibi")
    run(
        [env.python, *PIP, "install", f"odibi=={settings.odibi_version}", wheel],
        what=f"installing odibi {settings.odibi_version} and odibi-ext into {env.root}",
    )
    store = settings.out / "odibi-plugins"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir()
    written = write_plugins(store, max(settings.odibi_ks), settings.import_ms)
    when = time.time() - BACKDATE_S
    backdate(written, when)
    run([env.python, "-m", "compileall", "-q", store], what="compileall of the plugins")
    project = settings.odibi_project
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir()
    for k in settings.odibi_ks:
        plugin = PROJECT_PLUGIN.format(type_name=odibi_target(k)[0]) if k else ""
        (project / f"project-k{k}.yaml").write_text(PROJECT_YAML.format(plugin=plugin))
    scripts = settings.out / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "odibi_build.py").write_text(ODIBI_BUILD_SCRIPT, encoding="utf-8")
    (scripts / "odibi_startup.py").write_text(ODIBI_STARTUP_SCRIPT, encoding="utf-8")
    settled = [
        env.root,
        env.root / "bin",
        scripts,
        *scripts.iterdir(),
        project,
        *project.iterdir(),
    ]
    backdate([*settled, *settled_tree(store), *settled_tree(env.site_packages)], when)
    env.build_s = time.perf_counter() - started
    return env


def odibi_target(k: int) -> tuple[str, str]:
    """The plugin driver the K-plugin project uses: ``(type name, module)``."""
    suffix = f"{min(7, k - 1):02d}"
    return f"bench{suffix}", f"odibi_bench_{suffix}"


def install_odibi_plugins(settings: Settings, env: Env, k: int) -> None:
    """Exactly plugins ``bench00``..``bench{k-1}`` installed, as an installer would leave them.

    Distributions move between the store and site-packages (a rename keeps
    their compiled files valid); then every directory touched is backdated.
    """
    store, site = settings.out / "odibi-plugins", env.site_packages
    for i in range(max(settings.odibi_ks)):
        for name in (f"odibi_bench_{i:02d}", f"odibi_bench_{i:02d}-1.0.0.dist-info"):
            source, destination = (store, site) if i < k else (site, store)
            if (source / name).exists():
                (source / name).rename(destination / name)
    when = time.time() - BACKDATE_S
    backdate([site, store, *(path for path in site.glob("odibi_bench_*"))], when)


def check_odibi_sample(sample: Mapping[str, Any], k: int) -> None:
    """A build did what it claims: the right plugins imported, every connection built."""
    if "error" in sample:
        sys.exit(f"bench: building the K={k} project failed: {sample['error']}")
    stock = sample["approach"] == ODIBI_APPROACHES[ODIBI_STOCK]
    module = odibi_target(k)[1]
    wanted_plugins = [f"odibi_bench_{i:02d}" for i in range(k)] if stock else [module][:k]
    wanted_connections = {"data": "LocalConnection"}
    if k:
        wanted_connections["db"] = "BenchConnection"
    problems = []
    if sample["plugins"] != wanted_plugins:
        problems.append(f"imported plugins {sample['plugins']}, expected {wanted_plugins}")
    if sample["connections"] != wanted_connections:
        problems.append(f"built {sample['connections']}, expected {wanted_connections}")
    if stock and sample["odibi_ext_imported"]:
        problems.append("stock Odibi imported odibi_ext")
    if not stock and not sample["in_charge"]:
        problems.append("odibi-ext was not in charge")
    if problems:
        sys.exit(f"bench: K={k}, {sample['approach']}: " + "; ".join(problems))


def measure_odibi_builds(
    settings: Settings, env: Env, k: int, approaches: Mapping[str, str] = ODIBI_APPROACHES
) -> dict[str, list[dict[str, Any]]]:
    """Connection building of the K-plugin project, one fresh process per sample.

    One unrecorded sample of each approach first (it writes odibi-ext's
    index); every sample is checked for what it imported and built. Then
    ``odibi_repeat`` of each, alternating.
    """
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in approaches}
    names = list(approaches.items())
    settled: dict[str, int] = {}
    for rep in range(-1, settings.odibi_repeat):
        for name, script_name in names if rep % 2 else names[::-1]:
            result = run(
                [
                    env.python,
                    settings.out / "scripts" / "odibi_build.py",
                    f"project-k{k}.yaml",
                    script_name,
                ],
                what=f"building the K={k} project's connections ({name})",
                env=child_env(settings),
                cwd=settings.odibi_project,
            )
            sample = json.loads(result.stdout.splitlines()[-1])
            check_odibi_sample(sample, k)
            if rep >= 0:
                samples[name].append(sample)
        if rep == -1:
            settled = cache_snapshot(settings)
    if cache_snapshot(settings) != settled:
        sys.exit(f"bench: K={k}: odibi-ext's index was rewritten while measuring (not settled)")
    return samples


def measure_odibi_startup_work(
    settings: Settings, env: Env
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU ms of the work around Odibi's command line, stock and under odibi-ext."""
    wall: dict[str, list[float]] = {name: [] for name in ODIBI_APPROACHES}
    cpu: dict[str, list[float]] = {name: [] for name in ODIBI_APPROACHES}
    names = list(ODIBI_APPROACHES.items())
    for rep in range(-1, settings.odibi_repeat):
        for name, script_name in names if rep % 2 else names[::-1]:
            result = run(
                [env.python, settings.out / "scripts" / "odibi_startup.py", script_name],
                what=f"Odibi's command line around --version ({name})",
                env=child_env(settings),
                cwd=settings.odibi_project,
            )
            sample = json.loads(result.stdout.splitlines()[-1])
            if sample["status"] != 0 or sample["odibi_ext"] != (name == ODIBI_IN_CHARGE):
                sys.exit(f"bench: odibi --version ({name}) did not run as expected: {sample}")
            if rep >= 0:
                wall[name].append(sample["ms"])
                cpu[name].append(sample["cpu_ms"])
    return wall, cpu


def startup_approaches(settings: Settings, env: Env) -> list[Approach]:
    """``odibi run`` of the plugin-free project, stopping right after start-up, both ways."""
    tail = ("run", "project-k0.yaml", "--pipeline", STARTUP_PIPELINE)
    return [
        Approach(
            ODIBI_STOCK,
            (str(env.root / "bin" / "odibi"), *tail),
            status=1,
            cwd=settings.odibi_project,
        ),
        Approach(
            ODIBI_IN_CHARGE,
            (str(env.console_script), "odibi", *tail),
            status=1,
            cwd=settings.odibi_project,
        ),
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
    modules = set()
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            modules.add(parts[2].strip())
    return modules


def check_startup(settings: Settings, env: Env) -> dict[str, Any]:
    """Both start-up commands stop after start-up; only the integration imports odibi-ext."""
    checks = {}
    for approach in startup_approaches(settings, env):
        result = subprocess.run(
            approach.argv,
            capture_output=True,
            text=True,
            env=child_env(settings),
            cwd=settings.odibi_project,
            check=False,
        )
        said = result.stdout + result.stderr
        if result.returncode != 1 or f"'{STARTUP_PIPELINE}' not found" not in said:
            sys.exit(f"bench: {approach.name} did not stop after start-up:\n{said[-3000:]}")
        modules = imported_by(settings, env, approach.argv, settings.odibi_project)
        in_charge = "odibi_ext.odibi" in modules
        if (
            in_charge != (approach.name == ODIBI_IN_CHARGE)
            or "odibi.connections.factory" not in modules
        ):
            sys.exit(f"bench: {approach.name}: odibi_ext.odibi imported: {in_charge}")
        checks[approach.name] = {"modules_imported": len(modules), "odibi_ext": in_charge}
    return checks


def check_odibi_listing(settings: Settings, env: Env, k: int) -> dict[str, Any]:
    """``odibi-ext list`` shows Odibi's built-ins and every plugin, and imports neither."""
    rows = {}
    for approach in list_approaches(settings, env):
        result = run(approach.argv, what=approach.name, env=child_env(settings), cwd=settings.cwd)
        rows[approach.name] = json.loads(result.stdout)
    builtins = [r for r in rows[LIST_CLI] if r.get("origin") == "builtin"]
    plugins = sorted(
        (r["name"], r["target"], r["distribution"], r["version"])
        for r in rows[LIST_CLI]
        if r.get("origin") != "builtin"
    )
    hand = sorted(
        (r["name"], r["target"], r["distribution"], r["version"]) for r in rows[LIST_HAND]
    )
    if len(builtins) != ODIBI_BUILTINS or plugins != hand or len(hand) != k:
        sys.exit(
            f"bench: odibi-ext list in the Odibi env: {len(builtins)} built-ins, "
            f"plugins {plugins} vs hand-written {hand}"
        )
    modules = imported_by(settings, env, list_approaches(settings, env)[0].argv, settings.cwd)
    heavy = sorted(
        m
        for m in modules
        if m.partition(".")[0] in {"pandas", "odibi", "stevedore"}
        or m.startswith("odibi_bench_")
        or m == "importlib.metadata"
    )
    if any(
        m.partition(".")[0] in {"pandas", "odibi"} or m.startswith("odibi_bench_") for m in heavy
    ):
        sys.exit(f"bench: odibi-ext list imported {heavy}")
    return {"builtins": len(builtins), "plugins": len(plugins), "heavy_modules": heavy}


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


#: What the integration adds to an Odibi process, as ``-X importtime`` sees it:
#: ``(code run, the top-level module whose cumulative time is read)``.
ODIBI_IMPORT_CASES: Final = {
    "stevedore (the loader's engine)": (
        "import odibi.pipeline, odibi.connections.factory; import stevedore.driver",
        "stevedore.driver",
    ),
    "odibi_ext.odibi (install's module)": (
        "import odibi.pipeline; import odibi_ext.odibi",
        "odibi_ext.odibi",
    ),
    "odibi_ext.cli (the odibi-ext command)": (
        "import odibi.pipeline; import odibi_ext.cli",
        "odibi_ext.cli",
    ),
}


def measure_odibi_imports(settings: Settings, env: Env, rounds: int = 3) -> dict[str, list[float]]:
    """Cumulative import µs of each :data:`ODIBI_IMPORT_CASES` module after Odibi's own imports."""
    samples: dict[str, list[float]] = {case: [] for case in ODIBI_IMPORT_CASES}
    for _ in range(rounds):
        for case, (code, module) in ODIBI_IMPORT_CASES.items():
            result = run(
                [env.python, "-X", "importtime", "-c", code],
                what=f"importtime {case}",
                env=child_env(settings),
                cwd=settings.cwd,
            )
            samples[case].append(parse_importtime(result.stderr, (module,))[module])
    return samples


def measure_odibi(settings: Settings, wheel: Path) -> dict[str, Any]:
    """Every figure inside Odibi: connection building per K, start-up, listing."""
    progress("building the Odibi environment (pip installs odibi: a minute or two)")
    env = build_odibi_env(settings, wheel)
    found: dict[str, Any] = {"build_s": env.build_s, "builds": {}, "checks": {}}
    k_listing = closest(settings.odibi_ks, settings.k)
    for k in settings.odibi_ks:
        install_odibi_plugins(settings, env, k)
        progress(f"Odibi, K={k}: connection building ({settings.odibi_repeat} rounds)")
        approaches = dict(ODIBI_APPROACHES)
        if k == 0:
            approaches[ODIBI_QUIET] = ODIBI_QUIET_SCRIPT_NAME
        found["builds"][k] = measure_odibi_builds(settings, env, k, approaches)
        if k == k_listing:
            progress(f"Odibi, K={k}: listings")
            found["listing_k"] = k
            found["checks"]["listing"] = check_odibi_listing(settings, env, k)
            found["listing"], found["listing_cpu"] = measure(
                settings, list_approaches(settings, env)
            )
        if k == 0:
            progress("Odibi, K=0: import costs inside an Odibi process (3 rounds)")
            found["imports"] = measure_odibi_imports(settings, env)
            progress(f"Odibi, K=0: start-up work, timed inside ({settings.odibi_repeat} rounds)")
            found["startup_work"], found["startup_work_cpu"] = measure_odibi_startup_work(
                settings, env
            )
            progress(f"Odibi, K=0: odibi run start-up ({settings.odibi_repeat} rounds)")
            found["checks"]["startup"] = check_startup(settings, env)
            found["startup"], found["startup_cpu"] = measure(
                settings, startup_approaches(settings, env), settings.odibi_repeat
            )
    found["versions"] = run(
        [env.python, "-c", "import importlib.metadata as m; print(m.version('odibi'))"],
        what="reading Odibi's version",
    ).stdout.strip()
    return found


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

    marginal: dict[int, dict[str, list[float]]] = results["marginal"]
    mwall = {n: {a: median(v) for a, v in marginal[n].items()} for n in ns}
    mcpu = {n: {a: median(v) for a, v in results["marginal_cpu"][n].items()} for n in ns}
    parts += [
        "## First connection in a started process (CPU ms, median; wall in brackets)",
        "",
        "Timed inside the process, stdlib and stevedore already imported (and `odibi_ext` "
        f"for its row); driver `{INSTANT}` imports in no time, so this is each library's own "
        "work: discovery, load, checks, creating the connection. One fresh process per "
        "sample.",
        "",
        table(
            ["approach", *(f"N={n}" for n in ns), f"CPU ÷ stevedore ({sequence})"],
            [
                [
                    name,
                    *(f"{mcpu[n][name]:.2f} ({mwall[n][name]:.2f})" for n in ns),
                    " / ".join(ratio(mcpu[n][name], mcpu[n][STEVEDORE]) for n in ns),
                ]
                for name in marginal[ns[0]]
            ]
            + [
                [
                    INDEX_READ_NAME,
                    *(
                        f"{median(results['index_read_cpu'][n][INDEX_READ_NAME]):.2f} "
                        f"({median(results['index_read'][n][INDEX_READ_NAME]):.2f})"
                        for n in ns
                    ),
                    "",
                ]
            ],
        ),
        "",
    ]
    if "odibi" in results:
        parts += odibi_report(results["odibi"], settings)
    parts += [
        "## Targets",
        "",
        table(["figure", "result", "target", "", "reproduce with"], targets(results, settings)),
        "",
    ]
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


def odibi_report(odibi: dict[str, Any], settings: Settings) -> list[str]:
    """The Odibi sections of the report."""
    ks = settings.odibi_ks
    builds = odibi["builds"]

    def med(k: int, name: str, key: str) -> float:
        return median([sample[key] for sample in builds[k][name]])

    def cell(k: int, name: str) -> str:
        return f"{med(k, name, 'build_cpu_ms'):.1f} ({med(k, name, 'build_ms'):.1f})"

    odibi_import = median(
        [sample["import_odibi_ms"] for k in ks for name in builds[k] for sample in builds[k][name]]
    )
    rows = []
    for k in ks:
        stock = med(k, ODIBI_STOCK, "build_cpu_ms")
        ours = med(k, ODIBI_IN_CHARGE, "build_cpu_ms")
        rows.append(
            [
                str(k),
                cell(k, ODIBI_STOCK),
                cell(k, ODIBI_IN_CHARGE),
                f"{stock / ours:.1f}x",
                f"{med(k, ODIBI_STOCK, 'from_yaml_ms'):.0f} / "
                f"{med(k, ODIBI_IN_CHARGE, 'from_yaml_ms'):.0f}",
                f"{med(k, ODIBI_IN_CHARGE, 'install_ms'):.1f}",
            ]
        )
    parts = [
        f"## Inside Odibi {odibi['versions']}: `PipelineManager.from_yaml` building a project's "
        "connections (CPU ms, median; wall in brackets)",
        "",
        f"The project uses Odibi's `local` and one plugin driver (none at K=0); K plugins of "
        f"{settings.import_ms:g} ms import installed as distributions. Timed: Odibi's "
        "`_build_connections` as `from_yaml` calls it (built-ins registered, plugins loaded, "
        "each connection created). `from_yaml` in all (configuration, system catalog) for "
        f"context. One fresh process per sample ({settings.odibi_repeat} per cell, "
        f"alternating), timed inside after `import odibi.pipeline` (median "
        f"{odibi_import:.0f} ms). `install()` (importing `odibi_ext.odibi` included) is paid "
        "once at start-up, before, and is not in the build time.",
        "",
        table(
            [
                "K plugins",
                "stock Odibi",
                "under the integration",
                "stock ÷ integration",
                "whole from_yaml (stock / ours)",
                "install()",
            ],
            rows,
        ),
        "",
    ]
    if 0 in builds and ODIBI_QUIET in builds[0]:
        quiet = med(0, ODIBI_QUIET, "build_cpu_ms")
        announcing = med(0, ODIBI_IN_CHARGE, "build_cpu_ms")
        parts += [
            f"At K=0 with odibi-ext's loggers at WARNING ({ODIBI_QUIET}): "
            f"{cell(0, ODIBI_QUIET)} ms: the INFO line the integration logs per connection "
            "type (which driver serves it; built from a `DriverInfo`, rendered by Odibi's "
            f"log handler) costs {announcing - quiet:.1f} ms of the "
            f"{announcing:.1f}.",
            "",
        ]
    if "imports" in odibi:
        parts += [
            "Imports the integration adds to a process that has imported Odibi "
            "(`-X importtime`, cumulative, median of 3): "
            + "; ".join(
                f"{case}: {median(values) / 1000:.1f} ms"
                for case, values in odibi["imports"].items()
            )
            + ".",
            "",
        ]
    if "startup_work" in odibi:
        work, work_cpu = odibi["startup_work"], odibi["startup_work_cpu"]
        parts += [
            "### Start-up work around Odibi's command line (CPU ms, median; wall in brackets)",
            "",
            "A fresh process imports Odibi's CLI and what it builds its parser from, "
            "untimed; then runs `odibi --version` through Odibi's `main`, or through "
            '`odibi_ext.cli.main(["odibi", "--version"])` (import of the command, its '
            "parser, the policy, `install()`, Odibi's `main`, `uninstall()`). "
            f"{settings.odibi_repeat} each.",
            "",
            table(
                ["command", "CPU (wall)"],
                [
                    [name, f"{median(work_cpu[name]):.1f} ({median(work[name]):.1f})"]
                    for name in work
                ],
            ),
            "",
        ]
    if "startup" in odibi:
        wall, cpu = odibi["startup"], odibi["startup_cpu"]
        parts += [
            "### `odibi run` start-up, no plugin installed (fresh processes, "
            f"{settings.odibi_repeat} each)",
            "",
            f"`odibi run project.yaml --pipeline {STARTUP_PIPELINE}` versus `odibi-ext odibi "
            'run ...`: both stop with Odibi\'s "not found" right after start-up (imports, '
            "configuration, connections, system catalog).",
            "",
            table(
                ["command", "wall median (IQR)", "CPU median", "CPU min"],
                [
                    [
                        name,
                        f"{median(wall[name]):.0f} ({_iqr(wall[name])})",
                        f"{median(cpu[name]):.0f}",
                        f"{min(cpu[name]):.0f}",
                    ]
                    for name in wall
                ],
            ),
            "",
        ]
    if "listing" in odibi:
        listing = odibi["listing"]
        check = odibi["checks"]["listing"]
        parts += [
            f"### Listing with Odibi installed (K={odibi['listing_k']}, median ms)",
            "",
            f"`odibi-ext list` shows {check['builtins']} built-ins and {check['plugins']} "
            "plugins; the hand-written listing shows the plugins only (built-ins are not "
            f"entry points). Modules of note `odibi-ext list` imported: "
            f"{', '.join(check['heavy_modules']) or 'none'} (no pandas, no Odibi).",
            "",
            table(
                ["command", "median ms"],
                [[name, f"{median(values):.1f}"] for name, values in listing.items()],
            ),
            "",
        ]
    return parts


Row = Callable[[str, float, str, str, bool, str], None]

#: The smallest run that reproduces each kind of figure (add ``--repeat 21``).
COLD_RUN: Final = "python benchmarks/bench.py --n 500 2000 --odibi-k"
MARGINAL_RUN: Final = "python benchmarks/bench.py --odibi-k"
ODIBI_RUN: Final = "python benchmarks/bench.py --n 0 --odibi-k 0 20"
WARM_RUN: Final = "python benchmarks/bench.py --n 0 --odibi-k"


def odibi_targets(odibi: dict[str, Any], settings: Settings, row: Row) -> None:
    """The targets measured inside Odibi, added through ``row``."""
    builds = odibi["builds"]

    def build(k: int, name: str, key: str = "build_cpu_ms") -> float:
        return median([sample[key] for sample in builds[k][name]])

    k = closest(settings.odibi_ks, settings.k)
    value = build(k, ODIBI_STOCK) / build(k, ODIBI_IN_CHARGE)
    wall = build(k, ODIBI_STOCK, "build_ms") / build(k, ODIBI_IN_CHARGE, "build_ms")
    row(
        f"inside Odibi, K={k} plugins: stock connection building ÷ under the integration",
        value,
        f"{{:.1f}}x ({build(k, ODIBI_STOCK):.0f} ÷ {build(k, ODIBI_IN_CHARGE):.1f} ms CPU; "
        f"wall {wall:.1f}x)",
        "≥ 10x",
        value >= 10,
        ODIBI_RUN,
    )
    if 0 in builds:
        quiet = ""
        if ODIBI_QUIET in builds[0]:
            quiet = f"; INFO lines off {build(0, ODIBI_QUIET) / build(0, ODIBI_STOCK) - 1:+.1%}"
        value = build(0, ODIBI_IN_CHARGE) / build(0, ODIBI_STOCK) - 1
        wall = build(0, ODIBI_IN_CHARGE, "build_ms") / build(0, ODIBI_STOCK, "build_ms") - 1
        row(
            "no plugin installed: the integration's connection building over stock Odibi's",
            value * 100,
            f"{{:+.1f}} % ({build(0, ODIBI_IN_CHARGE):.2f} vs {build(0, ODIBI_STOCK):.2f} ms "
            f"CPU; wall {wall:+.1%}{quiet})",
            "≤ +5 %",
            value <= 0.05,
            ODIBI_RUN,
        )
    if "startup_work" in odibi and 0 in builds:
        work = odibi["startup_work_cpu"]
        around = median(work[ODIBI_IN_CHARGE]) - median(work[ODIBI_STOCK])
        building = build(0, ODIBI_IN_CHARGE) - build(0, ODIBI_STOCK)
        value = around + building
        end_to_end = ""
        if "startup" in odibi:
            wall, cpu = odibi["startup"], odibi["startup_cpu"]
            whole_wall = median(wall[ODIBI_IN_CHARGE]) - median(wall[ODIBI_STOCK])
            whole_cpu = median(cpu[ODIBI_IN_CHARGE]) - median(cpu[ODIBI_STOCK])
            end_to_end = (
                f"; whole fresh `odibi run`s: {whole_wall:+.0f} ms wall, {whole_cpu:+.0f} "
                "ms CPU (medians, within their noise)"
            )
        row(
            "no plugin installed: what `odibi-ext odibi run` adds to `odibi run` start-up "
            "(CPU medians)",
            value,
            f"{{:+.1f}} ms = {around:+.1f} around Odibi's command line {building:+.1f} "
            f"connection building{end_to_end}",
            "≤ +20 ms",
            value <= 20,
            ODIBI_RUN,
        )
    if "listing" in odibi:
        listing = odibi["listing"]
        value = median(listing[LIST_CLI]) / median(listing[LIST_HAND])
        row(
            f"`odibi-ext list` with Odibi installed (built-ins shown), "
            f"K={odibi['listing_k']}: ÷ hand-written listing; pandas never imported",
            value,
            "{:.2f}, pandas not imported",
            "≤ 1.2",
            value <= 1.2,
            ODIBI_RUN,
        )


def targets(results: dict[str, Any], settings: Settings) -> list[list[str]]:
    """Every target of the issue: figure, result, target, met."""
    ns = settings.ns
    sequence = "/".join(map(str, ns))
    rows: list[list[str]] = []

    def row(  # noqa: PLR0917  # one call per table row, its cells in column order
        figure: str, value: float, shown: str, target: str, met: bool, command: str
    ) -> None:
        verdict = "met" if met else "**not met**"
        rows.append([figure, shown.format(value), target, verdict, f"`{command}`"])

    cold = {n: {a: median(v) for a, v in results["cold"][n].items()} for n in ns}
    cpu_min = {n: {a: min(v) for a, v in results["cold_cpu"][n].items()} for n in ns}
    for n in sorted({closest(ns, 500), closest(ns, 2000)}):
        value = cold[n][ODIBI_EXT] / cold[n][DRIVER_FLOOR]
        row(
            f"fresh process, create one connection, N={n}: odibi-ext ÷ the DriverManager floor",
            value,
            f"{{:.3f}} (CPU minima {cpu_min[n][ODIBI_EXT] / cpu_min[n][DRIVER_FLOOR]:.3f})",
            "≤ 1.05",
            value <= 1.05,
            COLD_RUN,
        )
    n2000 = closest(ns, 2000)
    value = cold[n2000][ODIBI_EXT] / cold[n2000][STEVEDORE]
    row(
        f"the same, N={n2000}: odibi-ext ÷ bare stevedore",
        value,
        f"{{:.2f}} (CPU minima {cpu_min[n2000][ODIBI_EXT] / cpu_min[n2000][STEVEDORE]:.2f})",
        "≤ 0.9",
        value <= 0.9,
        COLD_RUN,
    )
    marginal = {n: {a: median(v) for a, v in results["marginal_cpu"][n].items()} for n in ns}
    wall = {n: {a: median(v) for a, v in results["marginal"][n].items()} for n in ns}
    for n, limit in ((closest(ns, 500), 0.25), (n2000, 0.1)):
        value = marginal[n][ODIBI_EXT] / marginal[n][STEVEDORE]
        row(
            f"started process, first connection, N={n}: odibi-ext ÷ stevedore DriverManager "
            "(CPU medians)",
            value,
            f"{{:.3f}} ({marginal[n][ODIBI_EXT]:.2f} ÷ {marginal[n][STEVEDORE]:.2f} ms; wall "
            f"{wall[n][ODIBI_EXT] / wall[n][STEVEDORE]:.3f})",
            f"≤ {limit}",
            value <= limit,
            MARGINAL_RUN,
        )
    spread = [marginal[n][ODIBI_EXT] for n in ns]
    value = max(spread) / min(spread)
    row(
        f"the same, odibi-ext flat in N ({' / '.join(f'{v:.2f}' for v in spread)} ms at "
        f"N={sequence})",
        value,
        "max ÷ min {:.2f}",
        "flat: ≤ 1.25",
        value <= 1.25,
        MARGINAL_RUN,
    )
    if "odibi" in results:
        odibi_targets(results["odibi"], settings, row)
    best = {name: min(values) for name, values in results["warm"].items()}
    value = best["registry.get"] / best["dict.get"]
    row(
        "warm `registry.get` ÷ `dict.get`",
        value,
        f"{{:.2f}} ({best['registry.get']:.1f} ÷ {best['dict.get']:.1f} ns)",
        "≤ 1.5",
        value <= 1.5,
        WARM_RUN,
    )
    return rows


def _iqr(values: Sequence[float]) -> str:
    low, high = quartiles(values)
    return f"{low:.1f} to {high:.1f}"


def chart(results: dict[str, Any], settings: Settings) -> str:
    """``odibi.png`` and ``cold.png`` in ``--chart-dir``, if matplotlib is importable."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import ScalarFormatter
    except ImportError:
        return "--chart: matplotlib is not installed (pip install -e '.[bench]'); no chart."
    settings.chart_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "odibi" in results:
        written.append(odibi_chart(plt, results["odibi"], settings))
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
    path = settings.chart_dir / "cold.png"
    figure.savefig(path, dpi=120)
    written.append(path)
    return "charts written: " + ", ".join(map(str, written))


def odibi_chart(plt: Any, odibi: dict[str, Any], settings: Settings) -> Path:
    """Connection building inside Odibi against the number of plugins installed."""
    ks = settings.odibi_ks
    builds = odibi["builds"]
    lines = {}
    for name in ODIBI_APPROACHES:
        values = [[sample["build_cpu_ms"] for sample in builds[k][name]] for k in ks]
        lines[name] = [median(v) for v in values], [quartiles(v) for v in values]
    figure, axes = plt.subplots(figsize=(9, 4.8))
    for (name, (medians, spreads)), color in zip(
        lines.items(), ("tab:red", "tab:blue"), strict=True
    ):
        label = (
            "stock Odibi (imports every plugin)"
            if name == ODIBI_STOCK
            else ("under odibi_ext.odibi.install() (imports the one it uses)")
        )
        axes.plot(ks, medians, marker="o", color=color, label=label)
        axes.fill_between(
            ks, [q[0] for q in spreads], [q[1] for q in spreads], color=color, alpha=0.15
        )
    stock, ours = lines[ODIBI_STOCK][0], lines[ODIBI_IN_CHARGE][0]
    for k, high, low in zip(ks, stock, ours, strict=True):
        axes.annotate(
            f"{high / low:.1f}x faster" if k else f"stock {high:.1f}, ours {low:.1f} ms",
            (k, high),
            textcoords="offset points",
            xytext=(4, 8),
            ha="left" if k == ks[0] else "center",
            fontsize="small",
        )
    axes.set_xticks(ks)
    axes.margins(x=0.08)
    axes.set_xlabel(f"plugins installed (each imports in {settings.import_ms:g} ms)")
    axes.set_ylabel("CPU ms, median (band: interquartile)")
    axes.set_title(
        f"Odibi {odibi['versions']}: PipelineManager.from_yaml building a project's "
        "connections\n(_build_connections; the project uses Odibi's local and one plugin "
        "driver)",
        fontsize="medium",
    )
    axes.set_ylim(bottom=0)
    axes.grid(visible=True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    path = settings.chart_dir / "odibi.png"
    figure.savefig(path, dpi=110)
    return path


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[0, 500, 2000], metavar="N")
    parser.add_argument("--k", type=int, default=20, help="plugins installed (default 20)")
    parser.add_argument("--import-ms", type=float, default=20.0, help="each plugin's import time")
    parser.add_argument("--repeat", type=int, default=15, help="fresh processes per median")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument(
        "--chart", action="store_true", help="write odibi.png and cold.png (matplotlib)"
    )
    parser.add_argument(
        "--chart-dir", type=Path, default=REPO / "benchmarks", help="where --chart writes"
    )
    parser.add_argument(
        "--odibi-k",
        type=int,
        nargs="*",
        default=[0, 5, 20, 50],
        metavar="K",
        help="plugins installed beside real Odibi, per point (none: skip the Odibi section)",
    )
    parser.add_argument("--odibi-version", default="3.15.1")
    parser.add_argument(
        "--odibi-repeat", type=int, default=9, help="Odibi builds per approach and K (default 9)"
    )
    args = parser.parse_args(argv)
    if min(args.k, args.repeat, args.odibi_repeat) < 1:
        parser.error("--k and the repeat counts must be positive")
    if min(args.n) < 0 or min(args.odibi_k, default=0) < 0 or args.import_ms < 0:
        parser.error("--n, --odibi-k and --import-ms must not be negative")
    return Settings(
        ns=sorted(set(args.n)),
        k=args.k,
        import_ms=args.import_ms,
        repeat=args.repeat,
        out=args.out.resolve(),
        chart=args.chart,
        odibi_ks=sorted(set(args.odibi_k)),
        odibi_version=args.odibi_version,
        odibi_repeat=args.odibi_repeat,
        chart_dir=args.chart_dir.resolve(),
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
    results["cold"], results["listing"], results["marginal"] = {}, {}, {}
    results["index_read"], results["index_read_cpu"] = {}, {}
    results["cold_cpu"], results["listing_cpu"], results["marginal_cpu"] = {}, {}, {}
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
        progress(f"N={n}: first connection in a started process ({settings.repeat} rounds)")
        results["marginal"][n], results["marginal_cpu"][n] = measure_inside(
            settings, marginal_approaches(settings, env), [INSTANT_MODULE]
        )
        code = INDEX_READ.format(target=INSTANT)
        results["index_read"][n], results["index_read_cpu"][n] = measure_inside(
            settings, [Approach(INDEX_READ_NAME, (str(env.python), "-c", code))], []
        )
        progress(f"N={n}: listings")
        results["listing"][n], results["listing_cpu"][n] = measure(
            settings, list_approaches(settings, env)
        )
        if cache_snapshot(settings) != before:
            results["caches_rewritten"].append(n)
            progress(f"N={n}: WARNING: a cache file was written while measuring")
    assert env is not None
    if settings.odibi_ks:
        results["odibi"] = measure_odibi(settings, wheel)
        results["build_s"]["odibi"] = results["odibi"].pop("build_s")
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
