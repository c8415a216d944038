"""The environments the benchmarks run in: virtual environments, filler distributions, plugins.

Everything lives under the run's ``--out`` directory (never under ``/tmp``:
stevedore turns its on-disk cache off for an interpreter there). Each
environment is a fresh ``python -m venv`` of a given interpreter with the
odibi-ext wheel of the working tree installed (stevedore from the index) and,
written straight into site-packages as an installer leaves them, N filler
distributions and K connection plugins. Then everything is compiled and
backdated, so no approach pays compilation and mtime-based caches see a
settled installation.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.settings import NAMESPACE
from benchmarks.settings import REPO
from benchmarks.settings import Settings

#: Files of the repository a wheel is built from (copied: the build leaves no trace).
SOURCE_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE")
#: Distributions and their files look this old to mtime-based caches.
BACKDATE_S = 60.0
PIP = ("-m", "pip", "--disable-pip-version-check", "--no-input", "-q")
#: The driver whose module imports in no time: what a first connection costs
#: beyond the plugin's own import.
INSTANT = "instant"
INSTANT_MODULE = "odibi_bench_instant"
#: Variables of the caller's environment that would change what a child imports or caches.
UNSET = (
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

PLUGIN_MODULE = '''\
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

FILLER_MODULE = '''\
"""{name}: an ordinary installed package that has nothing to do with Odibi."""

__version__ = "{version}"


def main():
    return 0


def hook(*args, **kwargs):
    return None
'''


@dataclass
class Env:
    """One throwaway virtual environment of one interpreter."""

    name: str
    n: int
    root: Path
    python: Path
    site_packages: Path
    python_version: str
    build_s: float = 0.0

    @property
    def console_script(self) -> Path:
        return self.root / "bin" / "odibi-ext"


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
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def progress(message: str) -> None:
    print(f"bench {time.strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


def build_wheel(settings: Settings) -> Path:
    """A wheel of the working tree, built from a copy of the sources.

    With the running interpreter when it has setuptools and wheel, else in a
    build venv of its own (both from the index). The wheel is pure Python: one
    serves every interpreter.
    """
    source, wheels, build = (settings.out / name for name in ("src", "wheels", "build-venv"))
    for path in (source, wheels):
        shutil.rmtree(path, ignore_errors=True)
    source.mkdir(parents=True)
    for name in SOURCE_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "odibi_ext", source / "odibi_ext", ignore=shutil.ignore_patterns("__pycache__")
    )
    python = Path(sys.executable)
    probe = subprocess.run(
        [sys.executable, "-c", "import setuptools, wheel"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        if not (build / "bin" / "python").exists():
            run([sys.executable, "-m", "venv", build], what="creating the build venv")
            run(
                [build / "bin" / "python", *PIP, "install", "setuptools>=64", "wheel"],
                what="installing setuptools and wheel",
            )
        python = build / "bin" / "python"
    run(
        [python, *PIP, "wheel", "--no-build-isolation", "--no-deps", "-w", wheels, source],
        what="building the odibi-ext wheel",
    )
    [wheel] = wheels.glob("odibi_ext-*.whl")
    return wheel


def create_venv(settings: Settings, name: str, interpreter: Path) -> Env:
    """A fresh virtual environment ``env-NAME`` of ``interpreter`` (pip installs into it from
    outside, with the running pip's ``--python``)."""
    root = settings.out / f"env-{name}"
    shutil.rmtree(root, ignore_errors=True)
    run([interpreter, "-m", "venv", "--without-pip", root], what=f"creating {root}")
    python = root / "bin" / "python"
    if str(python).startswith("/tmp/") and not settings.quick:
        sys.exit(f"bench: {python} is under /tmp, where stevedore turns its cache off")
    found = run(
        [
            python,
            "-c",
            "import platform, sysconfig; "
            "print(sysconfig.get_paths()['purelib']); print(platform.python_version())",
        ],
        what="locating site-packages",
    ).stdout.split()
    return Env(
        name=name,
        n=0,
        root=root,
        python=python,
        site_packages=Path(found[0]),
        python_version=found[1],
    )


def pip_install(env: Env, *requirements: str | Path) -> None:
    """``pip install`` into ``env`` with the running interpreter's pip."""
    run(
        [sys.executable, *PIP, "--python", env.python, "install", *requirements],
        what=f"installing {' '.join(map(str, requirements))} into {env.root}",
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
    mtime-based cache; the sources keep their times, which their compiled
    files record.
    """
    paths = []
    for directory, _, files in os.walk(root):
        paths.append(Path(directory))
        paths += [Path(directory, f) for f in files if not f.endswith(".py")]
    return paths


def backdate(paths: Sequence[Path], when: float) -> None:
    for path in paths:
        os.utime(path, (when, when), follow_symlinks=False)


def build_env(settings: Settings, n: int, wheel: Path, interpreter: Path, name: str = "") -> Env:
    """An environment of ``interpreter``: odibi-ext (wheel) + stevedore (index), N fillers,
    ``settings.k`` plugins and driver ``instant``, compiled and backdated."""
    started = time.perf_counter()
    env = create_venv(settings, name or f"n{n}", interpreter)
    env.n = n
    pip_install(env, wheel)
    site = env.site_packages
    when = time.time() - BACKDATE_S
    written = write_fillers(site, n) + write_plugins(site, settings.k, settings.import_ms)
    written += write_plugin(site, INSTANT, INSTANT_MODULE[len("odibi_bench_") :], 0.0)
    # Sources first (the .pyc files record their mtimes), then compile, then
    # everything else: no approach pays compilation, every cache sees a settled tree.
    backdate(written, when)
    run([env.python, "-m", "compileall", "-q", "-j", "0", site], what="compileall")
    backdate([env.root, env.root / "bin", *settled_tree(site)], when)
    env.build_s = time.perf_counter() - started
    return env


def odibi_target(k: int) -> tuple[str, str]:
    """The plugin driver the K-plugin Odibi project uses: ``(type name, module)``."""
    suffix = f"{min(7, k - 1):02d}"
    return f"bench{suffix}", f"odibi_bench_{suffix}"


#: Entries of the running environment's site-packages a quick Odibi environment
#: must not borrow: odibi-ext itself, the sample plugins, path hooks.
NOT_BORROWED = ("odibi_ext", "odibi_sqlite", "odibi_localfs", "__editable__", "_odibi_ext")


def borrow_odibi(settings: Settings, env: Env) -> None:
    """Quick mode: Odibi and its dependencies from the running environment, without pip.

    A directory of symbolic links to the running site-packages (less
    odibi-ext, the sample plugins and ``.pth`` files) goes on the
    environment's path through a ``.pth`` file: seconds instead of the minute
    or two of installing Odibi. For smoke tests; figures come from real installs.
    """
    import sysconfig

    view = settings.out / "odibi-borrowed"
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        normalized = entry.name.lower().replace("-", "_")
        if entry.suffix == ".pth" or normalized.startswith(NOT_BORROWED):
            continue
        (view / entry.name).symlink_to(entry)
    (env.site_packages / "zz_odibi_borrowed.pth").write_text(f"{view}\n", encoding="utf-8")
    script = env.root / "bin" / "odibi"
    script.write_text(
        f"#!{env.python}\nimport sys\nfrom odibi.cli import main\nsys.exit(main())\n",
        encoding="utf-8",
    )
    script.chmod(0o755)


PROJECT_YAML = """\
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

PROJECT_PLUGIN = """\
  db:
    type: {type_name}
    dsn: bench://db
"""


def odibi_store(settings: Settings) -> Path:
    """Where the Odibi environment's plugins wait while a K does not need them."""
    return settings.out / "odibi-plugins"


def build_odibi_env(settings: Settings, wheel: Path) -> Env:
    """A venv with real Odibi and odibi-ext, its K plugins kept in a store beside it.

    The largest K's plugins are written and compiled once into
    :func:`odibi_store` and moved into site-packages as each K needs them
    (:func:`install_odibi_plugins`). One project file per K:
    ``odibi-project/project-kK.yaml`` uses Odibi's ``local`` and, for K > 0,
    one plugin driver (:func:`odibi_target`).
    """
    started = time.perf_counter()
    env = create_venv(settings, "odibi", Path(sys.executable))
    if settings.quick:
        pip_install(env, wheel)
        borrow_odibi(settings, env)
    else:
        pip_install(env, f"odibi=={settings.odibi_version}", wheel)
    store = odibi_store(settings)
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
    settled = [env.root, env.root / "bin", project, *project.iterdir()]
    backdate([*settled, *settled_tree(store), *settled_tree(env.site_packages)], when)
    env.build_s = time.perf_counter() - started
    return env


def install_odibi_plugins(settings: Settings, env: Env, k: int) -> None:
    """Exactly plugins ``bench00``..``bench{k-1}`` installed, as an installer would leave them.

    Distributions move between the store and site-packages (a rename keeps
    their compiled files valid); then every directory touched is backdated.
    """
    store, site = odibi_store(settings), env.site_packages
    for i in range(max(settings.odibi_ks)):
        for name in (f"odibi_bench_{i:02d}", f"odibi_bench_{i:02d}-1.0.0.dist-info"):
            source, destination = (store, site) if i < k else (site, store)
            if (source / name).exists():
                (source / name).rename(destination / name)
    when = time.time() - BACKDATE_S
    backdate([site, store, *site.glob("odibi_bench_*")], when)
